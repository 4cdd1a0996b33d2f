import Foundation

/// Publication and key files are written whole or not at all: temp file, fsync, rename, fsync dir.
public enum AtomicFile {
    /// `durable: false` skips the fsyncs (still atomic to readers): for copies of what the database
    /// already holds durably, such as the per-certificate files of a batch.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644, durable: Bool = true, replace: Bool = true) throws {
        let dir = FilePath.directory(of: path)
        let tmp = dir + "/." + FilePath.lastComponent(of: path) + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw ETrustError.environment("\(path): cannot create file: \(String(cString: strerror(errno)))")
        }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        var written = 0
        try bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    let e = String(cString: strerror(errno))
                    close(fd)
                    throw ETrustError.environment("\(path): write failed: \(e)")
                }
                written += n
            }
        }
        fchmod(fd, mode)
        guard !durable || fsync(fd) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw ETrustError.environment("\(path): fsync failed: \(e)")
        }
        close(fd)
        if replace {
            guard rename(tmp, path) == 0 else {
                throw ETrustError.environment("\(path): rename failed: \(String(cString: strerror(errno)))")
            }
        } else {
            // link() fails if the name exists: never replaces a file created meanwhile.
            guard link(tmp, path) == 0 else {
                let exists = errno == EEXIST
                throw ETrustError.environment("\(path): \(exists ? "already exists; refusing to overwrite it" : String(cString: strerror(errno)))",
                                              code: exists ? .alreadyExists : .io)
            }
            unlink(tmp)
        }
        ok = true
        guard durable else { return }
        let dfd = open(dir, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644, durable: Bool = true) throws {
        try write(Array(text.utf8), to: path, mode: mode, durable: durable)
    }

    /// A plain create-and-write, for copies of what the database already holds durably (the
    /// per-certificate files of a batch): no temp file, so no inode churn on large batches.
    public static func writeCopy(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ETrustError.environment("\(path): cannot create file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw ETrustError.environment("\(path): write failed: \(String(cString: strerror(errno)))") }
    }
}

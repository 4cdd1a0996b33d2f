import Foundation

/// PEM armour (RFC 7468). Only the text framing lives here; the DER inside is OpenSSL's or swift-asn1's.
public enum PEM {
    public static func encode(_ der: [UInt8], label: String) -> String {
        let b64 = Data(der).base64EncodedString()
        var out = "-----BEGIN \(label)-----\n"
        var index = b64.startIndex
        while index < b64.endIndex {
            let end = b64.index(index, offsetBy: 64, limitedBy: b64.endIndex) ?? b64.endIndex
            out += b64[index..<end]
            out += "\n"
            index = end
        }
        out += "-----END \(label)-----\n"
        return out
    }

    /// All PEM blocks of `text` with the given labels, in order. Text outside blocks (as openssl
    /// writes before a certificate) and RFC 1421 headers inside are ignored.
    public static func decodeAll(_ text: String, labels: Set<String>) throws -> [(label: String, der: [UInt8])] {
        var result: [(String, [UInt8])] = []
        var current: String? = nil
        var body: [UInt8] = []
        let begin = Array("-----BEGIN ".utf8), end = Array("-----END ".utf8), dashes = Array("-----".utf8)
        var utf8 = text.utf8.makeIterator()
        var line: [UInt8] = []
        var done = false
        while !done {
            line.removeAll(keepingCapacity: true)
            while true {
                guard let b = utf8.next() else { done = true; break }
                if b == 0x0a { break }
                line.append(b)
            }
            // Trim blanks and CR.
            var lo = 0, hi = line.count
            while lo < hi, line[lo] == 0x20 || line[lo] == 0x09 || line[lo] == 0x0d { lo += 1 }
            while hi > lo, line[hi - 1] == 0x20 || line[hi - 1] == 0x09 || line[hi - 1] == 0x0d { hi -= 1 }
            let l = line[lo..<hi]
            if current == nil {
                if l.starts(with: begin), l.count > begin.count + dashes.count, l.suffix(5).elementsEqual(dashes) {
                    current = String(decoding: l.dropFirst(begin.count).dropLast(dashes.count), as: UTF8.self)
                    body.removeAll(keepingCapacity: true)
                }
            } else if l.starts(with: end) {
                let label = current!
                current = nil
                guard String(decoding: l, as: UTF8.self) == "-----END \(label)-----" else {
                    throw ETrustError.badInput("PEM block \(label) has a mismatched END line")
                }
                guard labels.contains(label) else { continue }
                guard let data = Data(base64Encoded: Data(body)), !data.isEmpty else {
                    throw ETrustError.badInput("PEM block \(label) is not valid base64")
                }
                result.append((label, [UInt8](data)))
            } else if !l.contains(UInt8(ascii: ":")) {
                body.append(contentsOf: l)
            }
        }
        if let current { throw ETrustError.badInput("PEM block \(current) is truncated (no END line)") }
        return result
    }

    public static func looksLikePEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN ".utf8)
        guard bytes.count >= marker.count else { return false }
        // Allow leading whitespace or explanatory text before the block (as openssl writes).
        return bytes.withUnsafeBufferPointer { buf in
            var i = 0
            while i + marker.count <= buf.count {
                if buf[i] == marker[0], Array(buf[i..<i + marker.count]) == marker { return true }
                i += 1
                if i > 4096 { break }
            }
            return false
        }
    }
}

/// Reads an input object that may be PEM or DER and returns its DER blocks.
public enum InputFile {
    /// Inputs larger than this are refused before parsing (a CSR or certificate is a few KiB).
    public static let maximumSize = 1 << 20

    public static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw ETrustError.badInput("\(path): no such file", code: .notFound) }
            throw ETrustError.badInput("\(path): cannot be read: \(String(cString: strerror(errno)))", code: .io)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw ETrustError.badInput("\(path): not a regular file", code: .io)
        }
        if st.st_size > maximumSize {
            throw ETrustError.badInput("\(path): file is \(st.st_size) bytes, over the 1 MiB limit", code: .inputTooLarge)
        }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var total = 0
        while total < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + total, $0.count - total) }
            if n < 0 { if errno == EINTR { continue }; throw ETrustError.badInput("\(path): read failed", code: .io) }
            if n == 0 { break }
            total += n
        }
        if total > maximumSize {
            throw ETrustError.badInput("\(path): file is over the 1 MiB limit", code: .inputTooLarge)
        }
        bytes.removeSubrange(total...)
        return bytes
    }

    /// DER blocks of the given PEM labels, or the whole file as one DER block.
    public static func derBlocks(_ bytes: [UInt8], labels: Set<String>, what: String) throws -> [[UInt8]] {
        if PEM.looksLikePEM(bytes) {
            guard let text = String(bytes: bytes, encoding: .utf8) else {
                throw ETrustError.badInput("\(what): PEM is not valid text")
            }
            let blocks: [(label: String, der: [UInt8])]
            do { blocks = try PEM.decodeAll(text, labels: labels) } catch let e as ETrustError {
                throw ETrustError(e.code, "\(what): \(e.reason)", category: e.category)
            }
            guard !blocks.isEmpty else {
                throw ETrustError.badInput("\(what): no PEM block labelled \(labels.sorted().joined(separator: " or "))")
            }
            return blocks.map(\.der)
        }
        guard let first = bytes.first, first == 0x30 else {
            throw ETrustError.badInput("\(what): neither PEM nor DER")
        }
        return [bytes]
    }
}

extension InputFile {
    /// A batch file (CSV) may be larger than one object; it is still bounded (64 MiB).
    public static func readLarge(_ path: String) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw ETrustError.badInput("\(path): no such file", code: .notFound)
        }
        if let size = attributes[.size] as? NSNumber, size.intValue > 64 << 20 {
            throw ETrustError.badInput("\(path): file is over the 64 MiB limit", code: .inputTooLarge)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ETrustError.badInput("\(path): cannot be read", code: .io) }
        return [UInt8](data)
    }
}

import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

/// `etrust backup` and `etrust restore`. SQLite: `VACUUM INTO` (a consistent copy while others
/// keep working), restored by replacing the database file after an integrity check. PostgreSQL:
/// `pg_dump --format=custom` (one consistent snapshot) and `pg_restore --clean --single-transaction`
/// (all or nothing), with the password passed in the tool's environment, never its arguments.
/// A restore ends with the audit log verified.
public enum DatabaseBackup {
    public struct Written: Sendable {
        public var path: String
        public var bytes: Int
        public var sha256: String
    }

    public static func backup(home: Home, to out: String) throws -> Written {
        guard !FileManager.default.fileExists(atPath: out) else {
            throw ETrustError.refused("\(out) already exists; refusing to overwrite it", code: .alreadyExists)
        }
        let dir = FilePath.directory(of: out)
        let tmp = (dir.isEmpty ? "." : dir) + "/." + FilePath.lastComponent(of: out) + ".tmp-\(getpid())"
        defer { unlink(tmp) }
        switch home.config.databaseEngine {
        case .sqlite:
            try SQLiteStore(path: home.existingDatabasePath()).backup(to: tmp)
        case .postgres:
            let url = try postgresURL(home)
            try PostgresTool.run("pg_dump", ["--format=custom", "--no-owner", "--file", tmp] + PostgresTool.connection(url),
                                 password: try home.databasePassword())
        }
        chmod(tmp, 0o600)
        guard let data = FileManager.default.contents(atPath: tmp) else { throw ETrustError.environment("\(tmp): the backup was not written") }
        guard link(tmp, out) == 0 else {
            throw ETrustError.environment("\(out): cannot write the backup: \(String(cString: strerror(errno)))")
        }
        return Written(path: out, bytes: data.count, sha256: Hex.encode(Digest.sha256(Array(data))))
    }

    /// What a restore left: the restored log's verification, and the size of the checkpoint the
    /// home had published before when it covered more entries than the backup holds (those
    /// entries were appended after the backup and are gone).
    public struct Restored: Sendable {
        public var verification: AuditVerifier.Report
        public var publishedSizeBefore: Int?
    }

    /// Replaces the home's database with the backup in `file`, verifies the audit log and
    /// publishes the restored log's newest checkpoint. Stop every process using the database first.
    public static func restore(home: Home, from file: String) throws -> Restored {
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw ETrustError.badInput("\(file): cannot read the backup", code: .notFound)
        }
        switch home.config.databaseEngine {
        case .sqlite: try restoreSQLite(home: home, from: file)
        case .postgres:
            try PostgresTool.run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
                                 + PostgresTool.connection(try postgresURL(home)) + [file], password: try home.databasePassword())
        }
        let authority = try Authority(home: home, passphrase: {
            throw ETrustError.badInput("restore needs no key passphrase", code: .invalidArgument)
        })
        let report = try authority.verifyAudit(pinPublished: false)
        return Restored(verification: report, publishedSizeBefore: report.ok ? try authority.env.audit.republishAfterRestore() : nil)
    }

    private static func restoreSQLite(home: Home, from file: String) throws {
        let db = home.databasePath
        let staging = db + ".restore-\(getpid())"
        defer { unlink(staging) }
        guard let data = FileManager.default.contents(atPath: file) else { throw ETrustError.badInput("\(file): cannot read the backup", code: .notFound) }
        guard data.starts(with: Array("SQLite format 3\0".utf8)) else {
            throw ETrustError.badInput("\(file) is not a SQLite backup of an etrust home", code: .malformedInput)
        }
        try AtomicFile.write(Array(data), to: staging, mode: 0o640)
        do {
            let store = try SQLiteStore(path: staging)
            if let problem = try store.integrityProblem() {
                throw ETrustError.badInput("\(file): the backup is damaged: \(problem)", code: .malformedInput)
            }
            _ = try store.rowCounts()
        }
        // The old database's write-ahead log must not be replayed onto the restored file.
        for suffix in ["-wal", "-shm"] { unlink(db + suffix) }
        for suffix in ["-wal", "-shm"] { unlink(staging + suffix) }
        guard rename(staging, db) == 0 else {
            throw ETrustError.environment("\(db): cannot put the restored database in place: \(String(cString: strerror(errno)))")
        }
    }

    private static func postgresURL(_ home: Home) throws -> DatabaseURL {
        guard let url = home.config.databaseURL else {
            throw ETrustError.badInput("\(home.join(HomeConfig.fileName)): engine postgres needs database.url", code: .invalidArgument)
        }
        return url
    }
}

/// PostgreSQL's own client tools (pg_dump, pg_restore), found on PATH or in Debian's
/// /usr/lib/postgresql/VERSION/bin.
enum PostgresTool {
    static func connection(_ url: DatabaseURL) -> [String] {
        ["--host", url.host, "--port", String(url.port), "--username", url.user, "--dbname", url.database, "--no-password"]
    }

    static func find(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        let debian = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }.map { "/usr/lib/postgresql/\($0)/bin" }
        for dir in path + debian where FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
        throw ETrustError.environment("\(name) not found: install PostgreSQL's client tools (Debian: postgresql-client)")
    }

    /// Runs the tool; a failure is exit 3 with the tool's first line of complaint.
    static func run(_ name: String, _ arguments: [String], password: String?) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try find(name))
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["PGPASSWORD"] = password
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let line = message.split(separator: "\n").first.map(String.init) ?? "exit status \(p.terminationStatus)"
            throw ETrustError.environment("\(name) failed: \(line)", code: .database)
        }
    }
}

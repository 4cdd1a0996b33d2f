import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

/// `etrust db migrate`: a SQLite home's database copied into PostgreSQL, and the proof that the
/// copy is the same database — row counts per table, the audit log's root at its size on both,
/// and the whole log (its newest signed checkpoint among them) verified against the copy with the
/// home's audit key. Only when the proof holds does etrust.yaml switch to PostgreSQL.
public enum DatabaseMigration {
    public struct Proof: Sendable {
        /// Rows per table: (in SQLite, in PostgreSQL).
        public var counts: [String: (source: Int, copy: Int)]
        public var auditSize: Int
        public var sourceRoot: [UInt8]
        public var copyRoot: [UInt8]
        public var verification: AuditVerifier.Report
        public var holds: Bool {
            counts.values.allSatisfy { $0.source == $0.copy } && sourceRoot == copyRoot && verification.ok
        }
        /// Why it does not hold, in one line.
        public var failure: String? {
            if let (table, c) = counts.sorted(by: { $0.key < $1.key }).first(where: { $0.value.source != $0.value.copy }) {
                return "table \(table): \(c.source) rows in SQLite, \(c.copy) in the copy"
            }
            if sourceRoot != copyRoot { return "the audit log's root at size \(auditSize) differs in the copy" }
            return verification.failure.map { "the copy's audit log does not verify: \($0.message)" }
        }
    }

    /// Copies the home's SQLite database into the empty PostgreSQL database at `url` and proves
    /// the copy. `passwordFile` (or ETRUST_DB_PASSWORD) holds the password.
    public static func migrate(home: Home, to url: DatabaseURL, passwordFile: String?) throws -> Proof {
        guard home.config.databaseEngine == .sqlite else {
            throw ETrustError.badInput("\(home.path) already keeps its store in \(home.databaseDescription); db migrate copies a SQLite home",
                                       code: .invalidArgument)
        }
        let target = home.using(database: url, passwordFile: passwordFile)
        let source = try SQLiteStore(path: home.existingDatabasePath())
        guard let copy = try target.openStore() as? PostgresStore else { throw ETrustError.environment("not a PostgreSQL store") }
        try StoreCopy.copy(from: source, to: copy)
        return try prove(home: target, source: source, copy: copy)
    }

    /// The proof, on a copy already made (also after the fact, or of a tampered copy).
    public static func prove(home target: Home, source: SQLiteStore, copy: PostgresStore) throws -> Proof {
        let sourceCounts = try source.rowCounts(), copyCounts = try copy.rowCounts()
        var counts: [String: (source: Int, copy: Int)] = [:]
        for (table, n) in sourceCounts { counts[table] = (n, copyCounts[table] ?? 0) }
        let sourceLog = AuditLog(storage: source), copyLog = AuditLog(storage: copy)
        let size = try sourceLog.size
        let authority = try Authority(home: target, passphrase: {
            throw ETrustError.badInput("db migrate needs no key passphrase", code: .invalidArgument)
        })
        return Proof(counts: counts, auditSize: size, sourceRoot: try sourceLog.root(size: size),
                     copyRoot: try copyLog.size >= size ? copyLog.root(size: size) : [],
                     verification: try authority.verifyAudit())
    }

    /// Points etrust.yaml at the copy (the SQLite file stays where it is, untouched).
    public static func switchConfiguration(home: Home, to url: DatabaseURL, passwordFile: String?) throws {
        let path = home.join(HomeConfig.fileName)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try AtomicFile.write(HomeConfig.settingDatabase(in: text, url: url, passwordFile: passwordFile), to: path, mode: 0o640)
    }
}

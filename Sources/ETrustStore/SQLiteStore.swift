import ETrustCore
import Foundation

/// The embedded default store: one SQLite file in the CA home (`etrust.db`). It persists rows;
/// what they mean belongs to the modules that declare the storage protocols it satisfies
/// (certificate records and revocations for ETrustCA, the audit log for ETrustAudit, OCSP
/// responses for ETrustOCSP). Files are split by concern: `+Certificates`, `+Issuance`,
/// `+Revocation`, `+OCSP`, `+AuditLog`, `+Migrations`. Every value reaches SQL as a bound parameter.
public final class SQLiteStore {
    let db: SQLiteConnection

    public init(path: String) throws {
        // The database holds every record of the CA: readable by its owner and group only.
        let fresh = !FileManager.default.fileExists(atPath: path)
        db = try SQLiteConnection(path: path)
        if fresh { chmod(path, 0o640) }
        try migrate()
    }

    /// Runs `body` in one durable transaction (BEGIN IMMEDIATE ... COMMIT, synchronous=FULL);
    /// writes inside it, from any of the store's files, commit or roll back together. Nested calls
    /// join the outer transaction.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try db.transaction(body)
    }

    /// Reads the database once (the file is there and readable).
    public func ping() throws {
        _ = try db.prepare("SELECT COUNT(*) AS n FROM schema_migrations").query()
    }

    func caID(_ name: String) throws -> Int64 {
        guard let id = try db.cached("SELECT id FROM cas WHERE name = ?").query([.text(name)]).first?.int("id") else {
            throw ETrustError.refused("unknown CA '\(name)'", code: .notFound)
        }
        return id
    }
}

extension Date {
    /// Unix seconds, as the store keeps times.
    var unixSeconds: Int64 { Int64(timeIntervalSince1970) }
    init(unixSeconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(unixSeconds)) }
}

extension SQLValue {
    static func time(_ d: Date) -> SQLValue { .int(d.unixSeconds) }
    static func maybeTime(_ d: Date?) -> SQLValue { d.map { .int($0.unixSeconds) } ?? .null }
    static func maybeText(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func integer(_ i: Int) -> SQLValue { .int(Int64(i)) }
    static func maybeInteger(_ i: Int?) -> SQLValue { i.map { .int(Int64($0)) } ?? .null }
}

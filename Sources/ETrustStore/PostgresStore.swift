import ETrustCore
import Foundation

/// The store on PostgreSQL, for several issuing hosts and responders sharing one database. The
/// same tables as SQLite's (one migration list, `StoreSchema`) and the same rows; what differs is
/// how several processes stay correct together:
/// - serials are unique per CA by constraint (a collision fails the insert, nothing half-written);
/// - CRL numbers come from one atomic upsert, so they only grow whoever asks;
/// - audit appends are serialised by a transaction-level advisory lock taken when an append reads
///   the log's size, and its Merkle nodes are written in the same transaction, so the log has no
///   gaps and no forks;
/// - a revocation NOTIFYs `etrust_revocations` on commit (`RevocationListener`), for responders.
/// Files: `+Certificates`, `+Revocation`, `+AuditLog`.
public final class PostgresStore {
    let db: PostgresSession
    /// CA ids by name (they never change), shared by the threads that use the store.
    private var caIDs: [String: Int64] = [:]
    private let caIDLock = NSLock()

    /// The advisory lock of audit appends (and of migrations), one per database.
    static let auditLockKey: Int64 = 0x6574_7275_7374_0001
    static let migrationLockKey: Int64 = 0x6574_7275_7374_0002
    /// The channel a revocation or released hold is announced on (payload "CA SERIAL").
    public static let revocationChannel = "etrust_revocations"

    /// Kept for the connection of a revocation listener; never logged.
    private let password: String?

    public init(url: DatabaseURL, password: String?) throws {
        db = try PostgresSession(url: url, password: password)
        self.password = password
        try migrate()
    }

    /// Calls `handler(ca, serialHex)` after each revocation or released hold that any process
    /// commits on this database (LISTEN on a connection of its own).
    public func subscribeToRevocations(_ handler: @escaping @Sendable (String, String) -> Void) throws -> RevocationSubscription {
        let session = try PostgresSession(url: db.url, password: password)
        let context = try session.listen(PostgresStore.revocationChannel) { payload in
            let parts = payload.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { handler(parts[0], parts[1]) }
        }
        return RevocationSubscription(session: session, context: context)
    }

    public var url: DatabaseURL { db.url }

    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try db.transaction(body)
    }

    func caID(_ name: String) throws -> Int64 {
        if let id = caIDLock.withLock({ caIDs[name] }) { return id }
        guard let id = try db.query("SELECT id FROM cas WHERE name = ?", [.text(name)]).first?.int("id") else {
            throw ETrustError.refused("unknown CA '\(name)'", code: .notFound)
        }
        caIDLock.withLock { caIDs[name] = id }
        return id
    }

    /// Applies the migrations this database lacks, each in its own transaction, under an advisory
    /// lock so that processes starting together do not race.
    func migrate() throws {
        for (i, sql) in StoreSchema.migrations.enumerated() {
            let version = Int64(i + 1)
            try db.transaction {
                try db.run("SELECT pg_advisory_xact_lock(?)", [.int(PostgresStore.migrationLockKey)])
                try db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
                let applied = try db.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").first?.int("v") ?? 0
                guard version > applied else { return }
                try db.exec(StoreSchema.postgres(sql))
                try db.run("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", [.int(version), .time(Date())])
            }
        }
    }

    /// A round trip to the server (reconnecting first if the server dropped the connection).
    public func ping() throws {
        try db.run("SELECT 1")
    }

    /// The schema version of the database (the number of migrations applied).
    public func schemaVersion() throws -> Int {
        Int(try db.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").first?.int("v") ?? 0)
    }

    /// Creates an empty database on the server of `url` (for tests and `db migrate`): connects to
    /// the server's `postgres` database to do it.
    public static func createDatabase(_ name: String, on url: DatabaseURL, password: String?) throws {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw ETrustError.badInput("database name '\(name)': letters, digits and _ only", code: .invalidArgument)
        }
        let admin = try PostgresSession(url: url.with(database: "postgres"), password: password)
        try admin.exec("CREATE DATABASE \(name)")
    }
}

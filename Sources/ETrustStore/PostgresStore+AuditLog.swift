import ETrustCore
import Foundation

/// The audit log's rows. Appends from several processes are serialised: the size an append
/// starts from is read under a transaction-level advisory lock, held until the append's
/// transaction (with its Merkle nodes and the act it records) commits or rolls back.
extension PostgresStore {
    func lockAuditLog() throws {
        guard db.inTransaction else { return }
        try db.run("SELECT pg_advisory_xact_lock(?)", [.int(PostgresStore.auditLockKey)])
    }

    /// The log's size; inside a transaction (an append), taken under the audit lock.
    public func auditLogSize() throws -> Int {
        try lockAuditLog()
        return Int(try db.query("SELECT COALESCE(MAX(id), 0) AS n FROM events").first?.int("n") ?? 0)
    }

    public func insertAuditEntry(index: Int, time: Date, type: String, ca: String?, serial: String?, profile: String?,
                                 payload: String, leafHash: [UInt8]) throws {
        try db.insertSoon("events", columns: ["id", "time", "type", "ca", "serial", "profile", "payload", "leaf_hash"],
                          [.integer(index + 1), .time(time), .text(type), .maybeText(ca), .maybeText(serial), .maybeText(profile),
                           .text(payload), .blob(leafHash)])
    }

    public func insertAuditNode(level: Int, index: Int, hash: [UInt8]) throws {
        try db.insertSoon("audit_nodes", columns: ["level", "idx", "hash"], [.integer(level), .integer(index), .blob(hash)])
    }

    public func subtreeHash(level: Int, index: Int) throws -> [UInt8] {
        guard let h = try db.query("SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?", [.integer(level), .integer(index)])
            .first?.blob("hash") else {
            throw ETrustError.environment("audit log: subtree (\(level), \(index)) is missing from the database", code: .database)
        }
        return h
    }

    public func auditLeafHash(index: Int) throws -> [UInt8]? {
        try db.query("SELECT leaf_hash FROM events WHERE id = ?", [.integer(index + 1)]).first?.blob("leaf_hash")
    }

    public func insertAuditCheckpoint(size: Int, root: [UInt8], note: String, createdAt: Date) throws {
        try db.run("INSERT INTO checkpoints(size, root, note, created_at) VALUES (?,?,?,?)",
                   [.integer(size), .blob(root), .text(note), .time(createdAt)])
    }

    public func latestAuditCheckpointSize() throws -> Int {
        Int(try db.query("SELECT size FROM checkpoints ORDER BY id DESC LIMIT 1").first?.int("size") ?? 0)
    }

    public func forEachAuditCheckpoint(_ body: (Int, [UInt8], String, Date) throws -> Void) throws {
        for r in try db.query("SELECT size, root, note, created_at FROM checkpoints ORDER BY id") {
            try body(Int(r.int("size") ?? 0), r.blob("root") ?? [], r.text("note") ?? "", Date(unixSeconds: r.int("created_at") ?? 0))
        }
    }

    /// Every entry in log order, in pages: (id, payload, stored leaf hash, stored level-0 node).
    public func forEachAuditEntry(_ body: (Int, String, [UInt8], [UInt8]?) throws -> Void) throws {
        try forEachPage(select: """
            SELECT e.id AS id, e.payload AS payload, e.leaf_hash AS leaf_hash, n.hash AS node
            FROM events e LEFT JOIN audit_nodes n ON n.level = 0 AND n.idx = e.id - 1
            """, where: "TRUE", [], idColumn: "e.id") { r in
            try body(Int(r.int("id") ?? 0), r.text("payload") ?? "", r.blob("leaf_hash") ?? [], r.blob("node"))
        }
    }

    public func forEachAuditEvent(since: Date?, until: Date?, type: String?, serial: String?, ca: String?, profile: String?,
                                  _ body: (Int, Date, String, String?, String?, String?, String) throws -> Void) throws {
        var condition = "TRUE"
        var args: [SQLValue] = []
        func add(_ fragment: String, _ value: SQLValue?) {
            guard let value else { return }
            condition += " AND " + fragment
            args.append(value)
        }
        add("time >= ?", since.map { .time($0) })
        add("time <= ?", until.map { .time($0) })
        add("type = ?", type.map { .text($0) })
        add("serial = ?", serial.map { .text($0.lowercased()) })
        add("ca = ?", ca.map { .text($0) })
        add("profile = ?", profile.map { .text($0) })
        try forEachPage(select: "SELECT id, time, type, ca, serial, profile, payload FROM events", where: condition, args) { r in
            try body(Int(r.int("id") ?? 0) - 1, Date(unixSeconds: r.int("time") ?? 0), r.text("type") ?? "", r.text("ca"), r.text("serial"),
                     r.text("profile"), r.text("payload") ?? "")
        }
    }
}

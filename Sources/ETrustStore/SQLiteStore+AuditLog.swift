import ETrustCore
import Foundation

/// The audit log's rows: entries (payload and leaf hash), the hashes of perfect subtrees, and
/// signed checkpoints. What they mean (canonical payloads, RFC 6962 hashing, which subtrees an
/// append completes) is ETrustAudit's; these functions only store and read them.
extension SQLiteStore {
    public func auditLogSize() throws -> Int {
        Int(try db.cached("SELECT COALESCE(MAX(id), 0) AS n FROM events").query().first?.int("n") ?? 0)
    }

    public func insertAuditEntry(index: Int, time: Date, type: String, ca: String?, serial: String?, profile: String?,
                                 payload: String, leafHash: [UInt8]) throws {
        try db.cached("INSERT INTO events(id, time, type, ca, serial, profile, payload, leaf_hash) VALUES (?,?,?,?,?,?,?,?)")
            .run([.integer(index + 1), .time(time), .text(type), .maybeText(ca), .maybeText(serial), .maybeText(profile),
                  .text(payload), .blob(leafHash)])
    }

    public func insertAuditNode(level: Int, index: Int, hash: [UInt8]) throws {
        try db.cached("INSERT INTO audit_nodes(level, idx, hash) VALUES (?,?,?)").run([.integer(level), .integer(index), .blob(hash)])
    }

    public func subtreeHash(level: Int, index: Int) throws -> [UInt8] {
        guard let h = try db.cached("SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?")
            .query([.integer(level), .integer(index)]).first?.blob("hash") else {
            throw ETrustError.environment("audit log: subtree (\(level), \(index)) is missing from the database", code: .database)
        }
        return h
    }

    public func auditLeafHash(index: Int) throws -> [UInt8]? {
        try db.prepare("SELECT leaf_hash FROM events WHERE id = ?").query([.integer(index + 1)]).first?.blob("leaf_hash")
    }

    public func insertAuditCheckpoint(size: Int, root: [UInt8], note: String, createdAt: Date) throws {
        try db.transaction {
            try db.prepare("INSERT INTO checkpoints(size, root, note, created_at) VALUES (?,?,?,?)")
                .run([.integer(size), .blob(root), .text(note), .time(createdAt)])
        }
    }

    public func latestAuditCheckpointSize() throws -> Int {
        Int(try db.cached("SELECT size FROM checkpoints ORDER BY id DESC LIMIT 1").query().first?.int("size") ?? 0)
    }

    /// Checkpoints in the order they were signed: (size, root, note, createdAt).
    public func forEachAuditCheckpoint(_ body: (Int, [UInt8], String, Date) throws -> Void) throws {
        try db.prepare("SELECT size, root, note, created_at FROM checkpoints ORDER BY id").forEachColumns { c in
            try body(Int(c.int(0)), c.blob(1) ?? [], c.text(2), Date(unixSeconds: c.int(3)))
        }
    }

    /// Streams every entry in log order, as (id, payload, stored leaf hash, stored level-0 node).
    /// The verifier reads a million rows without building them all in memory.
    public func forEachAuditEntry(_ body: (Int, String, [UInt8], [UInt8]?) throws -> Void) throws {
        let stmt = try db.prepare("""
            SELECT e.id AS id, e.payload AS payload, e.leaf_hash AS leaf_hash, n.hash AS node
            FROM events e LEFT JOIN audit_nodes n ON n.level = 0 AND n.idx = e.id - 1 ORDER BY e.id
            """)
        try stmt.forEachColumns { c in
            try body(Int(c.int(0)), c.text(1), c.blob(2) ?? [], c.blob(3))
        }
    }

    /// Entries matching a filter, in log order: (index, time, type, ca, serial, profile, payload).
    /// A nil criterion matches everything; all criteria are bound parameters.
    public func forEachAuditEvent(since: Date?, until: Date?, type: String?, serial: String?, ca: String?, profile: String?,
                                  _ body: (Int, Date, String, String?, String?, String?, String) throws -> Void) throws {
        let stmt = try db.prepare("""
            SELECT id, time, type, ca, serial, profile, payload FROM events
            WHERE (?1 IS NULL OR time >= ?1) AND (?2 IS NULL OR time <= ?2) AND (?3 IS NULL OR type = ?3)
              AND (?4 IS NULL OR serial = ?4) AND (?5 IS NULL OR ca = ?5) AND (?6 IS NULL OR profile = ?6)
            ORDER BY id
            """)
        try stmt.forEachColumns([.maybeTime(since), .maybeTime(until), .maybeText(type), .maybeText(serial?.lowercased()),
                                 .maybeText(ca), .maybeText(profile)]) { c in
            func optional(_ i: Int32) -> String? { c.isNull(i) ? nil : c.text(i) }
            try body(Int(c.int(0)) - 1, Date(unixSeconds: c.int(1)), c.text(2), optional(3), optional(4), optional(5), c.text(6))
        }
    }
}

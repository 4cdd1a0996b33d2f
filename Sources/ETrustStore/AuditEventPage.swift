import ETrustCore
import Foundation

/// One page of the audit log for a reader (the console), newest first: keyset pagination on the
/// log index (`before`), so that page 1,000 costs what page 1 costs, and only the criteria given
/// appear in the WHERE clause, so that each can use its index (migration 7). Every value is a
/// bound parameter; the SQL text is made of fixed fragments only. Both engines run this text.
enum AuditEventPage {
    typealias Columns = (Int, Date, String, String?, String?, String?, String)

    static func query(before: Int?, limit: Int, since: Date?, until: Date?, type: String?, serial: String?, ca: String?,
                      profile: String?) -> (sql: String, args: [SQLValue]) {
        var conditions: [String] = []
        var args: [SQLValue] = []
        func add(_ fragment: String, _ value: SQLValue?) {
            guard let value else { return }
            conditions.append(fragment)
            args.append(value)
        }
        add("id <= ?", before.map { .int(Int64($0)) })          // ids are index + 1: id <= before means index < before
        add("time >= ?", since.map { .int($0.unixSeconds) })
        add("time <= ?", until.map { .int($0.unixSeconds) })
        add("type = ?", type.map { .text($0) })
        add("serial = ?", serial.map { .text($0.lowercased()) })
        add("ca = ?", ca.map { .text($0) })
        add("profile = ?", profile.map { .text($0) })
        let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        args.append(.int(Int64(max(0, limit))))
        return ("SELECT id, time, type, ca, serial, profile, payload FROM events\(condition) ORDER BY id DESC LIMIT ?", args)
    }

    static func columns(_ r: Row) -> Columns {
        (Int(r.int("id") ?? 0) - 1, Date(unixSeconds: r.int("time") ?? 0), r.text("type") ?? "", r.text("ca"), r.text("serial"),
         r.text("profile"), r.text("payload") ?? "")
    }
}

extension SQLiteStore {
    /// Events matching the criteria with index < `before` (nil: from the newest), newest first, at most `limit`.
    public func forEachAuditEvent(before: Int?, limit: Int, since: Date?, until: Date?, type: String?, serial: String?, ca: String?,
                                  profile: String?, _ body: (Int, Date, String, String?, String?, String?, String) throws -> Void) throws {
        let q = AuditEventPage.query(before: before, limit: limit, since: since, until: until, type: type, serial: serial, ca: ca, profile: profile)
        for r in try db.prepare(q.sql).query(q.args) {
            let c = AuditEventPage.columns(r)
            try body(c.0, c.1, c.2, c.3, c.4, c.5, c.6)
        }
    }
}

extension PostgresStore {
    /// Events matching the criteria with index < `before` (nil: from the newest), newest first, at most `limit`.
    public func forEachAuditEvent(before: Int?, limit: Int, since: Date?, until: Date?, type: String?, serial: String?, ca: String?,
                                  profile: String?, _ body: (Int, Date, String, String?, String?, String?, String) throws -> Void) throws {
        let q = AuditEventPage.query(before: before, limit: limit, since: since, until: until, type: type, serial: serial, ca: ca, profile: profile)
        for r in try db.query(q.sql, q.args) {
            let c = AuditEventPage.columns(r)
            try body(c.0, c.1, c.2, c.3, c.4, c.5, c.6)
        }
    }
}

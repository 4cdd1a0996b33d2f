import ETrustCore
import Foundation

/// Revocation rows, CRL numbers and CRL records.
extension PostgresStore {
    /// Marks a certificate revoked (or on hold), drops its pre-signed response in the same
    /// transaction, and announces it to listening responders when it commits.
    public func revoke(ca: String, serialHex: String, reason: Int, revokedAt: Date, invalidityDate: Date?, recordedAt: Date) throws {
        try db.transaction {
            let id = try caID(ca)
            let changed = try db.run("""
                UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, invalidity_date = ?,
                changed_at = ?, hold_released_at = NULL WHERE ca_id = ? AND serial = ?
                """, [.time(revokedAt), .integer(reason), .maybeTime(invalidityDate), .time(recordedAt), .int(id), .text(serialHex)])
            guard changed == 1 else { throw ETrustError.refused("no certificate \(serialHex) of CA \(ca)", code: .notFound) }
            try statusChanged(caID: id, ca: ca, serialHex: serialHex)
        }
    }

    public func releaseHold(ca: String, serialHex: String, at date: Date) throws {
        try db.transaction {
            let id = try caID(ca)
            let changed = try db.run("""
                UPDATE certificates SET status = 'valid', hold_released_at = ?, changed_at = ?
                WHERE ca_id = ? AND serial = ? AND status = 'revoked' AND revocation_reason = 6
                """, [.time(date), .time(date), .int(id), .text(serialHex)])
            guard changed == 1 else { throw ETrustError.refused("certificate \(serialHex) is not on hold", code: .notFound) }
            try statusChanged(caID: id, ca: ca, serialHex: serialHex)
        }
    }

    private func statusChanged(caID id: Int64, ca: String, serialHex: String) throws {
        try db.run("DELETE FROM ocsp_responses WHERE ca_id = ? AND serial = ?", [.int(id), .text(serialHex)])
        try db.run("SELECT pg_notify(?, ?)", [.text(PostgresStore.revocationChannel), .text("\(ca) \(serialHex)")])
    }

    /// The CA's next CRL number: one atomic upsert, committed on its own before anything is
    /// signed, so numbers only grow whichever process asks.
    public func allocateCRLNumber(ca: String) throws -> Int {
        let id = try caID(ca)
        guard let n = try db.query("""
            INSERT INTO crl_numbers(ca_id, last_number) VALUES (?, 1)
            ON CONFLICT (ca_id) DO UPDATE SET last_number = crl_numbers.last_number + 1 RETURNING last_number
            """, [.int(id)]).first?.int("last_number") else {
            throw ETrustError.environment("database \(db.url): no CRL number returned", code: .database)
        }
        return Int(n)
    }

    public func insert(crl c: CRLRecord) throws {
        try db.run("""
            INSERT INTO crls(ca_id, number, kind, shard, base_number, this_update, next_update, entries, sha256, path)
            VALUES (?,?,?,?,?,?,?,?,?,?)
            """, [.int(try caID(c.ca)), .integer(c.number), .text(c.kind.rawValue), .maybeInteger(c.shard), .maybeInteger(c.baseNumber),
                  .time(c.thisUpdate), .time(c.nextUpdate), .integer(c.entries), .text(c.sha256), .text(c.path)])
    }

    public func markPublished(ca: String, number: Int, at date: Date) throws {
        try db.run("UPDATE crls SET published_at = ? WHERE ca_id = ? AND number = ?", [.time(date), .int(try caID(ca)), .integer(number)])
    }

    public func latestCRL(ca: String, kinds: [CRLRecord.Kind], publishedOnly: Bool = false) throws -> CRLRecord? {
        try db.query("""
            SELECT * FROM crls WHERE ca_id = ? AND kind = ANY(string_to_array(?, ',')) AND (? = 0 OR published_at IS NOT NULL)
            ORDER BY number DESC LIMIT 1
            """, [.int(try caID(ca)), .text(kinds.map(\.rawValue).joined(separator: ",")), .int(publishedOnly ? 1 : 0)])
            .first.map { CRLRecord(row: $0, ca: ca) }
    }

    /// Revoked certificates that a full CRL lists, in pages of 10,000 by id (a million-entry CRL
    /// is never one result in memory).
    public func forEachRevokedRaw(ca: String, shard: Int?, expiredBefore: Date,
                                  _ body: (UnsafeBufferPointer<UInt8>, Int64, Int, Int64?) throws -> Void) throws {
        var condition = "ca_id = ? AND status = 'revoked' AND not_after >= ?"
        var args: [SQLValue] = [.int(try caID(ca)), .time(expiredBefore)]
        if let shard { condition += " AND shard = ?"; args.append(.integer(shard)) }
        try forEachPage(select: "SELECT id, serial, revoked_at, revocation_reason, invalidity_date FROM certificates",
                        where: condition, args) { r in
            var serial = r.text("serial") ?? ""
            let inv = r.int("invalidity_date") ?? 0
            try serial.withUTF8 { try body($0, r.int("revoked_at") ?? 0, Int(r.int("revocation_reason") ?? 0), inv == 0 ? nil : inv) }
        }
    }

    public func forEachChange(ca: String, since: Date, expiredBefore: Date, _ body: (RevokedEntry) throws -> Void) throws {
        try forEachPage(select: "SELECT id, serial, status, revoked_at, revocation_reason, invalidity_date, hold_released_at FROM certificates",
                        where: "ca_id = ? AND changed_at >= ? AND not_after >= ?",
                        [.int(try caID(ca)), .time(since), .time(expiredBefore)]) { try body(RevokedEntry(change: $0)) }
    }

    /// Rows of `select` (which must return `id`) matching `condition`, in id order, fetched
    /// `page` at a time by keyset.
    func forEachPage(select: String, where condition: String, _ args: [SQLValue], idColumn: String = "id", page: Int = 10_000,
                     _ body: (Row) throws -> Void) throws {
        var last = Int64.min
        while true {
            let rows = try db.query("\(select) WHERE \(condition) AND \(idColumn) > ? ORDER BY \(idColumn) LIMIT \(page)", args + [.int(last)])
            for r in rows { try body(r) }
            guard rows.count == page, let next = rows.last?.int("id") else { return }
            last = next
        }
    }
}

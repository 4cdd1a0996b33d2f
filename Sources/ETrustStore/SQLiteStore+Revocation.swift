import ETrustCore
import Foundation

public struct CRLRecord: Sendable {
    public enum Kind: String, Sendable { case full, shard, delta }
    public var ca: String
    public var number: Int
    public var kind: Kind
    public var shard: Int?
    public var baseNumber: Int?
    public var thisUpdate: Date
    public var nextUpdate: Date
    public var entries: Int
    public var sha256: String
    public var path: String
    public init(ca: String, number: Int, kind: Kind, shard: Int?, baseNumber: Int?, thisUpdate: Date, nextUpdate: Date,
                entries: Int, sha256: String, path: String) {
        self.ca = ca; self.number = number; self.kind = kind; self.shard = shard; self.baseNumber = baseNumber
        self.thisUpdate = thisUpdate; self.nextUpdate = nextUpdate; self.entries = entries; self.sha256 = sha256; self.path = path
    }
}

/// One entry of a CRL as the store streams it.
public struct RevokedEntry: Sendable {
    public var serialHex: String
    public var revokedAt: Date
    /// RFC 5280 5.3.1 CRLReason code; 8 (removeFromCRL) for a released hold in a delta.
    public var reason: Int
    public var invalidityDate: Date?
}

/// Revocation rows, CRL numbers and CRL records.
extension SQLiteStore {
    /// Marks a certificate revoked (or on hold). A pre-signed "good" must not outlive the
    /// revocation, even across a responder restart, so it goes in the same transaction.
    public func revoke(ca: String, serialHex: String, reason: Int, revokedAt: Date, invalidityDate: Date?, recordedAt: Date) throws {
        try db.transaction {
            let id = try caID(ca)
            try db.prepare("""
                UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, invalidity_date = ?,
                changed_at = ?, hold_released_at = NULL WHERE ca_id = ? AND serial = ?
                """).run([.time(revokedAt), .integer(reason), .maybeTime(invalidityDate), .time(recordedAt), .int(id), .text(serialHex)])
            guard db.changes == 1 else { throw ETrustError.refused("no certificate \(serialHex) of CA \(ca)", code: .notFound) }
            try db.prepare("DELETE FROM ocsp_responses WHERE ca_id = ? AND serial = ?").run([.int(id), .text(serialHex)])
        }
    }

    /// Releases a certificateHold: valid again, listed as removeFromCRL on the next delta.
    public func releaseHold(ca: String, serialHex: String, at date: Date) throws {
        try db.transaction {
            let id = try caID(ca)
            try db.prepare("""
                UPDATE certificates SET status = 'valid', hold_released_at = ?, changed_at = ?
                WHERE ca_id = ? AND serial = ? AND status = 'revoked' AND revocation_reason = 6
                """).run([.time(date), .time(date), .int(id), .text(serialHex)])
            guard db.changes == 1 else { throw ETrustError.refused("certificate \(serialHex) is not on hold", code: .notFound) }
            try db.prepare("DELETE FROM ocsp_responses WHERE ca_id = ? AND serial = ?").run([.int(id), .text(serialHex)])
        }
    }

    /// Takes the CA's next CRL number in its own committed transaction, before anything is signed.
    public func allocateCRLNumber(ca: String) throws -> Int {
        try db.transaction {
            let id = try caID(ca)
            let last = try db.prepare("SELECT last_number FROM crl_numbers WHERE ca_id = ?").query([.int(id)]).first?.int("last_number") ?? 0
            try db.prepare("INSERT INTO crl_numbers(ca_id, last_number) VALUES (?, ?) ON CONFLICT(ca_id) DO UPDATE SET last_number = excluded.last_number")
                .run([.int(id), .int(last + 1)])
            return Int(last + 1)
        }
    }

    /// Records a signed CRL (before it is published).
    public func insert(crl c: CRLRecord) throws {
        try db.transaction {
            let id = try caID(c.ca)
            try db.prepare("""
                INSERT INTO crls(ca_id, number, kind, shard, base_number, this_update, next_update, entries, sha256, path)
                VALUES (?,?,?,?,?,?,?,?,?,?)
                """).run([.int(id), .integer(c.number), .text(c.kind.rawValue), .maybeInteger(c.shard), .maybeInteger(c.baseNumber),
                          .time(c.thisUpdate), .time(c.nextUpdate), .integer(c.entries), .text(c.sha256), .text(c.path)])
        }
    }

    /// Marks a recorded CRL as published (its file written and renamed into place).
    public func markPublished(ca: String, number: Int, at date: Date) throws {
        let id = try caID(ca)
        try db.prepare("UPDATE crls SET published_at = ? WHERE ca_id = ? AND number = ?").run([.time(date), .int(id), .integer(number)])
    }

    public func latestCRL(ca: String, kinds: [CRLRecord.Kind], publishedOnly: Bool = false) throws -> CRLRecord? {
        let id = try caID(ca)
        // The kinds are bound as one comma-separated parameter, matched with instr.
        let list = "," + kinds.map(\.rawValue).joined(separator: ",") + ","
        return try db.prepare("""
            SELECT * FROM crls WHERE ca_id = ? AND instr(?, ',' || kind || ',') > 0 AND (? = 0 OR published_at IS NOT NULL)
            ORDER BY number DESC LIMIT 1
            """).query([.int(id), .text(list), .int(publishedOnly ? 1 : 0)]).first.map { CRLRecord(row: $0, ca: ca) }
    }

    /// Revoked certificates of a CA (optionally one shard) that a full CRL lists: revoked, and
    /// not expired before `expiredBefore` (the grace after expiry). Two fixed statements, so that
    /// the (ca_id, status, shard) index serves both.
    private func forEachRevokedRow(ca: String, shard: Int?, expiredBefore: Date,
                                   _ body: (SQLiteConnection.Statement.Columns) throws -> Void) throws {
        let select = "SELECT serial, revoked_at, revocation_reason, invalidity_date FROM certificates"
        if let shard {
            try db.prepare(select + " WHERE ca_id = ? AND status = 'revoked' AND shard = ? AND not_after >= ? ORDER BY id")
                .forEachColumns([.int(try caID(ca)), .integer(shard), .time(expiredBefore)], body)
        } else {
            try db.prepare(select + " WHERE ca_id = ? AND status = 'revoked' AND not_after >= ? ORDER BY id")
                .forEachColumns([.int(try caID(ca)), .time(expiredBefore)], body)
        }
    }

    public func forEachRevoked(ca: String, shard: Int?, expiredBefore: Date, _ body: (RevokedEntry) throws -> Void) throws {
        try forEachRevokedRow(ca: ca, shard: shard, expiredBefore: expiredBefore) { c in
            let inv = c.int(3)
            try body(RevokedEntry(serialHex: c.text(0), revokedAt: Date(unixSeconds: c.int(1)), reason: Int(c.int(2)),
                                  invalidityDate: inv == 0 ? nil : Date(unixSeconds: inv)))
        }
    }

    /// The same rows as `forEachRevoked`, without a String or Date per row: the hex serial as
    /// the database's bytes and times as Unix seconds (the path of million-entry CRLs).
    public func forEachRevokedRaw(ca: String, shard: Int?, expiredBefore: Date,
                                  _ body: (UnsafeBufferPointer<UInt8>, Int64, Int, Int64?) throws -> Void) throws {
        try forEachRevokedRow(ca: ca, shard: shard, expiredBefore: expiredBefore) { c in
            let inv = c.int(3)
            try c.withTextBytes(0) { serial in
                try body(serial, c.int(1), Int(c.int(2)), inv == 0 ? nil : inv)
            }
        }
    }

    /// What changed since `since` (recorded time): new revocations, and holds released (as
    /// removeFromCRL) — the content of a delta CRL (RFC 5280 5.2.4).
    public func forEachChange(ca: String, since: Date, expiredBefore: Date, _ body: (RevokedEntry) throws -> Void) throws {
        try db.prepare("""
            SELECT serial, status, revoked_at, revocation_reason, invalidity_date, hold_released_at FROM certificates
            WHERE ca_id = ? AND changed_at >= ? AND not_after >= ? ORDER BY id
            """).forEachColumns([.int(try caID(ca)), .time(since), .time(expiredBefore)]) { c in
            let inv = c.int(4)
            if c.text(1) == "revoked" {
                try body(RevokedEntry(serialHex: c.text(0), revokedAt: Date(unixSeconds: c.int(2)), reason: Int(c.int(3)),
                                      invalidityDate: inv == 0 ? nil : Date(unixSeconds: inv)))
            } else {
                try body(RevokedEntry(serialHex: c.text(0), revokedAt: Date(unixSeconds: c.int(5)), reason: 8, invalidityDate: nil))
            }
        }
    }
}

import ETrustCore
import Foundation

/// Issuance intents: committed before signing, closed after (Boulder's order).
extension SQLiteStore {
    /// Records the serials and to-be-signed certificates about to be signed; returns the row ids.
    public func insert(intents: [IssuanceIntent]) throws -> [Int64] {
        guard !intents.isEmpty else { return [] }
        return try db.transaction {
            var caIDs: [String: Int64] = [:]
            let stmt = try db.prepare("""
                INSERT INTO issuance_intents(ca_id, serial, profile, subject, tbs, created_at, owner, state) VALUES (?,?,?,?,?,?,?,'pending')
                """)
            var ids: [Int64] = []
            ids.reserveCapacity(intents.count)
            for i in intents {
                let caID: Int64
                if let id = caIDs[i.ca] { caID = id } else { caID = try self.caID(i.ca); caIDs[i.ca] = caID }
                try stmt.run([.int(caID), .text(i.serialHex), .text(i.profile), .text(i.subject), .blob(i.tbsDER), .time(i.createdAt), .text(i.owner)])
                ids.append(db.lastInsertRowID)
            }
            return ids
        }
    }

    /// Closes intents: a completed one is deleted (its certificate row is the record), an
    /// abandoned one stays, marked, for the auditors.
    public func close(intents ids: [Int64], state: IssuanceIntent.State, at date: Date) throws {
        guard !ids.isEmpty else { return }
        // One statement per run of consecutive ids (a batch's intents are inserted together).
        var runs: [(Int64, Int64)] = []
        for id in ids.sorted() {
            if let last = runs.last, last.1 + 1 == id { runs[runs.count - 1].1 = id } else { runs.append((id, id)) }
        }
        try db.transaction {
            for (first, last) in runs {
                switch state {
                case .completed:
                    try db.cached("DELETE FROM issuance_intents WHERE id BETWEEN ? AND ? AND state = 'pending'").run([.int(first), .int(last)])
                case .abandoned, .pending:
                    try db.cached("UPDATE issuance_intents SET state = ?, closed_at = ? WHERE id BETWEEN ? AND ? AND state = 'pending'")
                        .run([.text(state.rawValue), .time(date), .int(first), .int(last)])
                }
            }
        }
    }

    /// Intents still pending: left by a process that stopped between recording and completing.
    public func pendingIntents() throws -> [IssuanceIntent] {
        try db.prepare("""
            SELECT i.id, a.name AS ca_name, i.serial, i.profile, i.subject, i.tbs, i.created_at, i.owner
            FROM issuance_intents i JOIN cas a ON a.id = i.ca_id WHERE i.state = 'pending' ORDER BY i.id
            """).query().map(IssuanceIntent.init(row:))
    }
}

/// A serial and to-be-signed certificate committed before the signature.
public struct IssuanceIntent: Sendable {
    public enum State: String, Sendable { case pending, completed, abandoned }
    public var id: Int64?
    public var ca: String
    public var serialHex: String
    public var profile: String
    public var subject: String
    public var tbsDER: [UInt8]
    public var createdAt: Date
    /// "host:pid" of the process that recorded it: recovery leaves a live process's intents alone.
    public var owner: String
    public init(id: Int64? = nil, ca: String, serialHex: String, profile: String, subject: String, tbsDER: [UInt8], createdAt: Date,
                owner: String) {
        self.id = id; self.ca = ca; self.serialHex = serialHex; self.profile = profile; self.subject = subject
        self.tbsDER = tbsDER; self.createdAt = createdAt; self.owner = owner
    }
}

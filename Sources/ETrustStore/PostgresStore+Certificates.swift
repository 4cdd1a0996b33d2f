import ETrustCore
import Foundation

/// CA, certificate and issuance-intent rows, and delegated OCSP signers and pre-signed responses.
extension PostgresStore {
    public func insert(ca: CARecord, issued: CertificateRecord?) throws {
        try db.transaction {
            do {
                try db.run("INSERT INTO cas(name, subject, certificate, key_ref, parent, profile, created_at) VALUES (?,?,?,?,?,?,?)", [
                    .text(ca.name), .text(ca.certificate.subject.description), .blob(ca.certificate.der), .text(ca.keyReference),
                    .maybeText(ca.parent), .text(ca.profile), .time(ca.createdAt),
                ])
            } catch {
                if db.isUniqueViolation { throw ETrustError.refused("a CA named '\(ca.name)' already exists", code: .alreadyExists) }
                throw error
            }
            if let issued { try insert(certificates: [issued]) }
        }
    }

    /// Certificate rows, several per statement; the database enforces serial uniqueness per CA
    /// across every process that shares it. The rows take their ids under the audit lock (which
    /// the issuance's audit append takes anyway), so ids are in commit order: a responder that
    /// reads "certificates after id N" never misses one committed late with a smaller id.
    public func insert(certificates: [CertificateRecord]) throws {
        guard !certificates.isEmpty else { return }
        try db.transaction {
            try lockAuditLog()
            for chunk in stride(from: 0, to: certificates.count, by: 400).map({ certificates[$0..<min($0 + 400, certificates.count)] }) {
                var values: [SQLValue] = []
                for c in chunk { values += c.insertValues(caID: try caID(c.ca)) }
                let rows = Array(repeating: "(?,?,?,?,?,?,?,?,?,?,?,?)", count: chunk.count).joined(separator: ",")
                do {
                    try db.run("""
                        INSERT INTO certificates(ca_id, serial, subject, sans, profile, not_before, not_after, status, shard, der, requester, issued_at)
                        VALUES \(rows)
                        """, values)
                } catch {
                    if db.isUniqueViolation, let c = chunk.first {
                        throw ETrustError.environment("a serial of this batch already exists for CA \(c.ca): \(error)", code: .alreadyExists)
                    }
                    throw error
                }
            }
        }
    }

    public func ca(named name: String) throws -> CARecord? {
        try db.query("SELECT * FROM cas WHERE name = ?", [.text(name)]).first.map(CARecord.init(row:))
    }

    public func cas() throws -> [CARecord] {
        try db.query("SELECT * FROM cas ORDER BY id").map(CARecord.init(row:))
    }

    public func certificates(serialHex: String) throws -> [CertificateRecord] {
        try db.query("SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE c.serial = ?",
                     [.text(serialHex.lowercased())]).map(CertificateRecord.init(row:))
    }

    public func certificate(ca: String, serialHex: String) throws -> CertificateRecord? {
        try db.query("SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE a.name = ? AND c.serial = ?",
                     [.text(ca), .text(serialHex)]).first.map(CertificateRecord.init(row:))
    }

    /// The filter becomes a WHERE clause of fixed fragments; every value is a bound parameter.
    public func certificates(matching f: CertificateFilter, at date: Date) throws -> [CertificateRecord] {
        var sql = "SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE 1=1"
        var args: [SQLValue] = []
        if let ca = f.ca { sql += " AND a.name = ?"; args.append(.text(ca)) }
        if let p = f.profile { sql += " AND c.profile = ?"; args.append(.text(p)) }
        if let s = f.subjectContains { sql += " AND strpos(lower(c.subject), lower(?)) > 0"; args.append(.text(s)) }
        if let s = f.since { sql += " AND c.issued_at >= ?"; args.append(.time(s)) }
        if let u = f.until { sql += " AND c.issued_at <= ?"; args.append(.time(u)) }
        switch f.status {
        case .valid?: sql += " AND c.status = 'valid' AND c.not_after >= ?"; args.append(.time(date))
        case .expired?: sql += " AND c.status = 'valid' AND c.not_after < ?"; args.append(.time(date))
        case .revoked?: sql += " AND c.status = 'revoked'"
        case nil: break
        }
        sql += " ORDER BY c.id LIMIT ?"
        args.append(f.limit.map { .integer($0) } ?? .null)
        return try db.query(sql, args).map(CertificateRecord.init(row:))
    }

    // MARK: CAs signed elsewhere

    public func insert(pendingCA p: PendingCARecord) throws {
        try db.transaction {
            do {
                try db.run("INSERT INTO pending_cas(name, subject, key_ref, profile, csr, created_at) VALUES (?,?,?,?,?,?)",
                           [.text(p.name), .text(p.csr.subject.description), .text(p.keyReference), .text(p.profile), .blob(p.csr.der),
                            .time(p.createdAt)])
            } catch {
                if db.isUniqueViolation { throw ETrustError.refused("a CA named '\(p.name)' is already waiting for its certificate", code: .alreadyExists) }
                throw error
            }
        }
    }

    public func pendingCA(named name: String) throws -> PendingCARecord? {
        try db.query("SELECT * FROM pending_cas WHERE name = ?", [.text(name)]).first.map(PendingCARecord.init(row:))
    }

    public func deletePendingCA(named name: String) throws {
        try db.run("DELETE FROM pending_cas WHERE name = ?", [.text(name)])
    }

    // MARK: Issuance intents

    /// Records the serials and to-be-signed certificates about to be signed; returns the row ids,
    /// in the order of `intents` (matched by CA and serial, unique within a batch).
    public func insert(intents: [IssuanceIntent]) throws -> [Int64] {
        guard !intents.isEmpty else { return [] }
        return try db.transaction {
            var ids: [String: Int64] = [:]
            for chunk in stride(from: 0, to: intents.count, by: 500).map({ intents[$0..<min($0 + 500, intents.count)] }) {
                var values: [SQLValue] = []
                for i in chunk {
                    values += [.int(try caID(i.ca)), .text(i.serialHex), .text(i.profile), .text(i.subject), .blob(i.tbsDER),
                               .time(i.createdAt), .text(i.owner)]
                }
                let rows = Array(repeating: "(?,?,?,?,?,?,?,'pending')", count: chunk.count).joined(separator: ",")
                for r in try db.query("""
                    INSERT INTO issuance_intents(ca_id, serial, profile, subject, tbs, created_at, owner, state) VALUES \(rows)
                    RETURNING id, ca_id, serial
                    """, values) {
                    ids["\(r.int("ca_id") ?? 0) \(r.text("serial") ?? "")"] = r.int("id")
                }
            }
            return try intents.map { i in
                guard let id = ids["\(try caID(i.ca)) \(i.serialHex)"] else {
                    throw ETrustError.environment("database \(db.url): an intent of serial \(i.serialHex) was not recorded", code: .database)
                }
                return id
            }
        }
    }

    public func close(intents ids: [Int64], state: IssuanceIntent.State, at date: Date) throws {
        guard !ids.isEmpty else { return }
        let list = ids.map(String.init).joined(separator: ",")   // integers only
        switch state {
        case .completed:
            try db.run("DELETE FROM issuance_intents WHERE id = ANY(string_to_array(?, ',')::bigint[]) AND state = 'pending'", [.text(list)])
        case .abandoned, .pending:
            try db.run("""
                UPDATE issuance_intents SET state = ?, closed_at = ? WHERE id = ANY(string_to_array(?, ',')::bigint[]) AND state = 'pending'
                """, [.text(state.rawValue), .time(date), .text(list)])
        }
    }

    public func pendingIntents() throws -> [IssuanceIntent] {
        try db.query("""
            SELECT i.id, a.name AS ca_name, i.serial, i.profile, i.subject, i.tbs, i.created_at, i.owner
            FROM issuance_intents i JOIN cas a ON a.id = i.ca_id WHERE i.state = 'pending' ORDER BY i.id
            """).map(IssuanceIntent.init(row:))
    }

    // MARK: OCSP

    public func insert(ocspSigner s: OCSPSignerRecord, at date: Date) throws {
        try db.run("INSERT INTO ocsp_signers(ca_id, serial, certificate, key_ref, not_after, created_at) VALUES (?,?,?,?,?,?)",
                   [.int(try caID(s.ca)), .text(s.certificate.serialHex), .blob(s.certificate.der), .text(s.keyReference),
                    .time(s.certificate.notAfter), .time(date)])
    }

    public func currentOCSPSigner(ca: String) throws -> OCSPSignerRecord? {
        guard let r = try db.query("SELECT certificate, key_ref FROM ocsp_signers WHERE ca_id = ? ORDER BY id DESC LIMIT 1",
                                   [.int(try caID(ca))]).first else { return nil }
        return OCSPSignerRecord(ca: ca, certificate: try Certificate(der: r.blob("certificate") ?? []), keyReference: r.text("key_ref") ?? "")
    }

    /// Pre-signed responses, shared by every responder of the database.
    public func save(presigned responses: [PresignedResponse], ca: String) throws {
        // One row per serial (the last wins, as with SQLite's INSERT OR REPLACE): an upsert may
        // not touch a row twice in one statement.
        var last: [String: Int] = [:]
        for (i, r) in responses.enumerated() { last[r.serialHex] = i }
        let responses = responses.enumerated().filter { last[$0.element.serialHex] == $0.offset }.map(\.element)
        guard !responses.isEmpty else { return }
        let id = try caID(ca)
        try db.transaction {
            for chunk in stride(from: 0, to: responses.count, by: 1000).map({ responses[$0..<min($0 + 1000, responses.count)] }) {
                var values: [SQLValue] = []
                for r in chunk { values += [.int(id), .text(r.serialHex), .blob(r.der), .time(r.thisUpdate), .time(r.nextUpdate)] }
                try db.run("""
                    INSERT INTO ocsp_responses(ca_id, serial, der, this_update, next_update)
                    VALUES \(Array(repeating: "(?,?,?,?,?)", count: chunk.count).joined(separator: ","))
                    ON CONFLICT (ca_id, serial) DO UPDATE SET der = excluded.der, this_update = excluded.this_update, next_update = excluded.next_update
                    """, values)
            }
        }
    }

    public func forEachPresigned(ca: String, _ body: (PresignedResponse) throws -> Void) throws {
        for r in try db.query("SELECT serial, der, this_update, next_update FROM ocsp_responses WHERE ca_id = ?", [.int(try caID(ca))]) {
            try body(PresignedResponse(serialHex: r.text("serial") ?? "", der: r.blob("der") ?? [],
                                       thisUpdate: Date(unixSeconds: r.int("this_update") ?? 0), nextUpdate: Date(unixSeconds: r.int("next_update") ?? 0)))
        }
    }

    public func presigned(ca: String, serialHex: String) throws -> PresignedResponse? {
        try db.query("SELECT der, this_update, next_update FROM ocsp_responses WHERE ca_id = ? AND serial = ?",
                     [.int(try caID(ca)), .text(serialHex)]).first.map { r in
            PresignedResponse(serialHex: serialHex, der: r.blob("der") ?? [], thisUpdate: Date(unixSeconds: r.int("this_update") ?? 0),
                              nextUpdate: Date(unixSeconds: r.int("next_update") ?? 0))
        }
    }

    public func ocspStatus(ca: String, serialHex: String) throws -> (revoked: Bool, revokedAt: Date?, reason: Int?)? {
        guard let r = try db.query("SELECT status, revoked_at, revocation_reason FROM certificates WHERE ca_id = ? AND serial = ?",
                                   [.int(try caID(ca)), .text(serialHex)]).first else { return nil }
        return (r.text("status") == "revoked", r.int("revoked_at").map { Date(unixSeconds: $0) }, r.int("revocation_reason").map { Int($0) })
    }

    public func certificatesIssued(ca: String, afterID: Int64, limit: Int = 10_000) throws -> [(id: Int64, serial: String)] {
        try db.query("SELECT id, serial FROM certificates WHERE ca_id = ? AND id > ? ORDER BY id LIMIT ?",
                     [.int(try caID(ca)), .int(afterID), .integer(limit)])
            .compactMap { r in r.int("id").flatMap { i in r.text("serial").map { (i, $0) } } }
    }

    public func changedSerials(ca: String, since: Date) throws -> [String] {
        try db.query("SELECT serial FROM certificates WHERE ca_id = ? AND changed_at >= ?", [.int(try caID(ca)), .time(since)])
            .compactMap { $0.text("serial") }
    }
}

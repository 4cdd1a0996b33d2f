import ETrustCore
import Foundation

/// CA and certificate rows.
extension SQLiteStore {
    /// A new CA row; for a subordinate, `issued` is its certificate as a record of the parent.
    public func insert(ca: CARecord, issued: CertificateRecord?) throws {
        try db.transaction {
            do {
                try db.prepare("INSERT INTO cas(name, subject, certificate, key_ref, parent, profile, created_at) VALUES (?,?,?,?,?,?,?)").run([
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

    /// Certificate rows; the database enforces serial uniqueness per CA.
    public func insert(certificates: [CertificateRecord]) throws {
        guard !certificates.isEmpty else { return }
        try db.transaction {
            var caIDs: [String: Int64] = [:]
            let insert = try db.prepare("""
                INSERT INTO certificates(ca_id, serial, subject, sans, profile, not_before, not_after, status, shard, der, requester, issued_at)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """)
            for c in certificates {
                let caID: Int64
                if let id = caIDs[c.ca] { caID = id } else {
                    caID = try self.caID(c.ca)
                    caIDs[c.ca] = caID
                }
                do {
                    try insert.run(c.insertValues(caID: caID))
                } catch {
                    if db.isUniqueViolation { throw ETrustError.environment("serial \(c.serialHex) already exists for CA \(c.ca)", code: .alreadyExists) }
                    throw error
                }
            }
        }
    }

    public func ca(named name: String) throws -> CARecord? {
        try db.prepare("SELECT * FROM cas WHERE name = ?").query([.text(name)]).first.map(CARecord.init(row:))
    }

    public func cas() throws -> [CARecord] {
        try db.prepare("SELECT * FROM cas ORDER BY id").query().map(CARecord.init(row:))
    }

    public func certificates(serialHex: String) throws -> [CertificateRecord] {
        try db.prepare("SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE c.serial = ?")
            .query([.text(serialHex.lowercased())]).map(CertificateRecord.init(row:))
    }

    public func certificate(ca: String, serialHex: String) throws -> CertificateRecord? {
        try db.prepare("SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE a.name = ? AND c.serial = ?")
            .query([.text(ca), .text(serialHex)]).first.map(CertificateRecord.init(row:))
    }

    /// The filter becomes a WHERE clause of fixed fragments; every value is a bound parameter.
    public func certificates(matching f: CertificateFilter, at date: Date) throws -> [CertificateRecord] {
        var sql = "SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE 1=1"
        var args: [SQLValue] = []
        if let ca = f.ca { sql += " AND a.name = ?"; args.append(.text(ca)) }
        if let p = f.profile { sql += " AND c.profile = ?"; args.append(.text(p)) }
        if let s = f.subjectContains { sql += " AND instr(lower(c.subject), lower(?)) > 0"; args.append(.text(s)) }
        if let s = f.since { sql += " AND c.issued_at >= ?"; args.append(.time(s)) }
        if let u = f.until { sql += " AND c.issued_at <= ?"; args.append(.time(u)) }
        switch f.status {
        case .valid?: sql += " AND c.status = 'valid' AND c.not_after >= ?"; args.append(.time(date))
        case .expired?: sql += " AND c.status = 'valid' AND c.not_after < ?"; args.append(.time(date))
        case .revoked?: sql += " AND c.status = 'revoked'"
        case nil: break
        }
        sql += " ORDER BY c.id LIMIT ?"
        args.append(.integer(f.limit ?? -1))
        return try db.prepare(sql).query(args).map(CertificateRecord.init(row:))
    }

    // MARK: CAs signed elsewhere

    public func insert(pendingCA p: PendingCARecord) throws {
        try db.transaction {
            do {
                try db.prepare("INSERT INTO pending_cas(name, subject, key_ref, profile, csr, created_at) VALUES (?,?,?,?,?,?)")
                    .run([.text(p.name), .text(p.csr.subject.description), .text(p.keyReference), .text(p.profile), .blob(p.csr.der),
                          .time(p.createdAt)])
            } catch {
                if db.isUniqueViolation { throw ETrustError.refused("a CA named '\(p.name)' is already waiting for its certificate", code: .alreadyExists) }
                throw error
            }
        }
    }

    public func pendingCA(named name: String) throws -> PendingCARecord? {
        try db.prepare("SELECT * FROM pending_cas WHERE name = ?").query([.text(name)]).first.map(PendingCARecord.init(row:))
    }

    public func deletePendingCA(named name: String) throws {
        try db.transaction { try db.prepare("DELETE FROM pending_cas WHERE name = ?").run([.text(name)]) }
    }
}

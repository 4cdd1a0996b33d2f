import ETrustAudit
import ETrustCore
import Foundation

/// The embedded default store: one SQLite file in the CA home (`etrust.db`).
public final class SQLiteStore: CertificateStore {
    let db: SQLiteConnection
    let hasher = MerkleHasher()
    /// Off only for the benchmark that measures the log's cost (etrust.yaml `audit.enabled`).
    public var auditEnabled = true

    /// Versioned migrations, applied in order, each in its own transaction.
    static let migrations: [String] = [
        """
        CREATE TABLE cas (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL,
            certificate BLOB NOT NULL,
            key_ref TEXT NOT NULL,
            parent TEXT REFERENCES cas(name),
            profile TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE certificates (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            subject TEXT NOT NULL,
            sans TEXT NOT NULL,
            profile TEXT NOT NULL,
            not_before INTEGER NOT NULL,
            not_after INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
            shard INTEGER NOT NULL DEFAULT 0,
            der BLOB NOT NULL,
            requester TEXT NOT NULL,
            issued_at INTEGER NOT NULL,
            revoked_at INTEGER,
            revocation_reason INTEGER,
            UNIQUE (ca_id, serial)
        );
        CREATE INDEX certificates_serial ON certificates(serial);
        CREATE INDEX certificates_status_shard ON certificates(ca_id, status, shard);
        CREATE INDEX certificates_not_after ON certificates(not_after);
        CREATE INDEX certificates_issued_at ON certificates(issued_at);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,          -- log index + 1, contiguous
            time INTEGER NOT NULL,
            type TEXT NOT NULL,
            ca TEXT,
            serial TEXT,
            profile TEXT,
            payload TEXT NOT NULL,           -- the leaf: canonical JSON with its index
            leaf_hash BLOB NOT NULL          -- SHA-256(0x00 || payload), RFC 6962
        );
        CREATE INDEX events_serial ON events(serial);
        CREATE INDEX events_time ON events(time);
        -- Hashes of every perfect subtree of the Merkle log (level 0 = leaves): appends and
        -- proofs read O(log n) of them.
        CREATE TABLE audit_nodes (
            level INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (level, idx)
        ) WITHOUT ROWID;
        CREATE TABLE checkpoints (
            id INTEGER PRIMARY KEY,
            size INTEGER NOT NULL,
            root BLOB NOT NULL,
            note TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        """,
        // 2: revocation details and CRLs.
        """
        ALTER TABLE certificates ADD COLUMN invalidity_date INTEGER;
        ALTER TABLE certificates ADD COLUMN hold_released_at INTEGER;
        -- When the status last changed (recorded time, not the stated revocation time): what a
        -- delta CRL lists.
        ALTER TABLE certificates ADD COLUMN changed_at INTEGER;
        CREATE INDEX certificates_changed ON certificates(ca_id, changed_at);
        -- One CRL number sequence per CA, shared by its full, shard and delta CRLs (RFC 5280
        -- 5.2.3, 5.2.4). A number is committed before the CRL is signed, so never reused.
        CREATE TABLE crl_numbers (
            ca_id INTEGER PRIMARY KEY REFERENCES cas(id),
            last_number INTEGER NOT NULL
        );
        CREATE TABLE crls (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            number INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('full', 'shard', 'delta')),
            shard INTEGER,
            base_number INTEGER,
            this_update INTEGER NOT NULL,
            next_update INTEGER NOT NULL,
            entries INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            path TEXT NOT NULL,
            UNIQUE (ca_id, number)
        );
        """,
        // 3: a CRL counts as a delta base only once its file is in place.
        """
        ALTER TABLE crls ADD COLUMN published_at INTEGER;
        UPDATE crls SET published_at = this_update;
        """,
        // 4: delegated OCSP signers and pre-signed OCSP responses (RFC 5019).
        """
        CREATE TABLE ocsp_signers (
            id INTEGER PRIMARY KEY,
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            certificate BLOB NOT NULL,
            key_ref TEXT NOT NULL,
            not_after INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE ocsp_responses (
            ca_id INTEGER NOT NULL REFERENCES cas(id),
            serial TEXT NOT NULL,
            der BLOB NOT NULL,
            this_update INTEGER NOT NULL,
            next_update INTEGER NOT NULL,
            PRIMARY KEY (ca_id, serial)
        ) WITHOUT ROWID;
        """,
    ]

    public init(path: String) throws {
        // The database holds every record of the CA: readable by its owner and group only.
        let fresh = !FileManager.default.fileExists(atPath: path)
        db = try SQLiteConnection(path: path)
        if fresh { chmod(path, 0o640) }
        try migrate()
    }

    private func migrate() throws {
        try db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        let applied = try db.prepare("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").query().first?.int("v") ?? 0
        for (i, sql) in SQLiteStore.migrations.enumerated() where Int64(i + 1) > applied {
            try db.transaction {
                try db.exec(sql)
                try db.prepare("INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)")
                    .run([.int(Int64(i + 1)), .int(Int64(Date().timeIntervalSince1970))])
            }
        }
    }

    // MARK: Writes

    public func insert(ca: CARecord, issued: CertificateRecord?, events: [AuditEvent]) throws {
        try db.transaction {
            do {
                try db.prepare("INSERT INTO cas(name, subject, certificate, key_ref, parent, profile, created_at) VALUES (?,?,?,?,?,?,?)").run([
                    .text(ca.name), .text(ca.certificate.subject.description), .blob(ca.certificate.der), .text(ca.keyReference),
                    ca.parent.map { .text($0) } ?? .null, .text(ca.profile), .int(Int64(ca.createdAt.timeIntervalSince1970)),
                ])
            } catch {
                if db.isUniqueViolation { throw ETrustError.refused("a CA named '\(ca.name)' already exists", code: .alreadyExists) }
                throw error
            }
            if let issued { try insertCertificates([issued]) }
            try insertEvents(events)
        }
    }

    public func insert(certificates: [CertificateRecord], events: [AuditEvent]) throws {
        try db.transaction {
            try insertCertificates(certificates)
            try insertEvents(events)
        }
    }

    private func insertCertificates(_ certificates: [CertificateRecord]) throws {
        do {
            var caIDs: [String: Int64] = [:]
            let insert = try db.prepare("""
                INSERT INTO certificates(ca_id, serial, subject, sans, profile, not_before, not_after, status, shard, der, requester, issued_at)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
                """)
            for c in certificates {
                let caID: Int64
                if let id = caIDs[c.ca] { caID = id } else {
                    guard let id = try db.prepare("SELECT id FROM cas WHERE name = ?").query([.text(c.ca)]).first?.int("id") else {
                        throw ETrustError.refused("unknown CA '\(c.ca)'", code: .notFound)
                    }
                    caIDs[c.ca] = id
                    caID = id
                }
                do {
                    try insert.run([
                        .int(caID), .text(c.serialHex), .text(c.subject), .text(c.subjectAltNames.joined(separator: ",")), .text(c.profile),
                        .int(Int64(c.notBefore.timeIntervalSince1970)), .int(Int64(c.notAfter.timeIntervalSince1970)),
                        .text(c.status == .revoked ? "revoked" : "valid"), .int(Int64(c.shard)), .blob(c.der), .text(c.requester),
                        .int(Int64(c.issuedAt.timeIntervalSince1970)),
                    ])
                } catch {
                    // The database enforces serial uniqueness per CA.
                    if db.isUniqueViolation { throw ETrustError.environment("serial \(c.serialHex) already exists for CA \(c.ca)", code: .alreadyExists) }
                    throw error
                }
            }
        }
    }

    public func append(events: [AuditEvent]) throws {
        try db.transaction { try insertEvents(events) }
    }

    /// Appends events to the Merkle log inside the caller's transaction: each row carries its
    /// index in the payload and its leaf hash, and every perfect subtree it completes is stored.
    func insertEvents(_ events: [AuditEvent]) throws {
        guard !events.isEmpty, auditEnabled else { return }
        let size = Int(try db.prepare("SELECT COALESCE(MAX(id), 0) AS n FROM events").query().first?.int("n") ?? 0)
        var range = try CompactRange(hasher: hasher, size: size, source: self)
        let stmt = try db.prepare("INSERT INTO events(id, time, type, ca, serial, profile, payload, leaf_hash) VALUES (?,?,?,?,?,?,?,?)")
        let node = try db.prepare("INSERT INTO audit_nodes(level, idx, hash) VALUES (?,?,?)")
        for (i, e) in events.enumerated() {
            let index = size + i
            let payload = e.payload(index: index)
            let leaf = hasher.leafHash(payload)
            try stmt.run([.int(Int64(index + 1)), .int(Int64(e.time.timeIntervalSince1970)), .text(e.type), e.ca.map { .text($0) } ?? .null,
                          e.serialHex.map { .text($0) } ?? .null, e.profile.map { .text($0) } ?? .null, .text(payload), .blob(leaf)])
            for c in range.append(leaf) {
                try node.run([.int(Int64(c.level)), .int(Int64(c.index)), .blob(c.hash)])
            }
        }
    }

    // MARK: Reads

    private func caRecord(_ r: Row) throws -> CARecord {
        CARecord(name: r.text("name") ?? "", certificate: try Certificate(der: r.blob("certificate") ?? []),
                 keyReference: r.text("key_ref") ?? "", parent: r.text("parent"), profile: r.text("profile") ?? "",
                 createdAt: Date(timeIntervalSince1970: TimeInterval(r.int("created_at") ?? 0)))
    }

    public func ca(named name: String) throws -> CARecord? {
        try db.prepare("SELECT * FROM cas WHERE name = ?").query([.text(name)]).first.map(caRecord)
    }

    public func cas() throws -> [CARecord] {
        try db.prepare("SELECT * FROM cas ORDER BY id").query().map(caRecord)
    }

    func certificateRecord(_ r: Row) -> CertificateRecord {
        let sans = r.text("sans") ?? ""
        return CertificateRecord(
            ca: r.text("ca_name") ?? "", serialHex: r.text("serial") ?? "", subject: r.text("subject") ?? "",
            subjectAltNames: sans.isEmpty ? [] : sans.split(separator: ",").map(String.init), profile: r.text("profile") ?? "",
            notBefore: Date(timeIntervalSince1970: TimeInterval(r.int("not_before") ?? 0)),
            notAfter: Date(timeIntervalSince1970: TimeInterval(r.int("not_after") ?? 0)),
            status: r.text("status") == "revoked" ? .revoked : .valid, shard: Int(r.int("shard") ?? 0), der: r.blob("der") ?? [],
            requester: r.text("requester") ?? "", issuedAt: Date(timeIntervalSince1970: TimeInterval(r.int("issued_at") ?? 0)),
            revokedAt: r.int("revoked_at").map { Date(timeIntervalSince1970: TimeInterval($0)) },
            revocationReason: r.int("revocation_reason").map { Int($0) },
            invalidityDate: r.int("invalidity_date").map { Date(timeIntervalSince1970: TimeInterval($0)) })
    }

    public func certificates(serialHex: String) throws -> [CertificateRecord] {
        try db.prepare("SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE c.serial = ?")
            .query([.text(serialHex.lowercased())]).map(certificateRecord)
    }

    public func certificates(matching f: CertificateFilter, at date: Date) throws -> [CertificateRecord] {
        var sql = "SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE 1=1"
        var args: [SQLValue] = []
        if let ca = f.ca { sql += " AND a.name = ?"; args.append(.text(ca)) }
        if let p = f.profile { sql += " AND c.profile = ?"; args.append(.text(p)) }
        if let s = f.subjectContains { sql += " AND instr(lower(c.subject), lower(?)) > 0"; args.append(.text(s)) }
        if let s = f.since { sql += " AND c.issued_at >= ?"; args.append(.int(Int64(s.timeIntervalSince1970))) }
        if let u = f.until { sql += " AND c.issued_at <= ?"; args.append(.int(Int64(u.timeIntervalSince1970))) }
        let now = Int64(date.timeIntervalSince1970)
        switch f.status {
        case .valid?: sql += " AND c.status = 'valid' AND c.not_after >= ?"; args.append(.int(now))
        case .expired?: sql += " AND c.status = 'valid' AND c.not_after < ?"; args.append(.int(now))
        case .revoked?: sql += " AND c.status = 'revoked'"
        case nil: break
        }
        sql += " ORDER BY c.id"
        if let l = f.limit { sql += " LIMIT \(l)" }
        return try db.prepare(sql).query(args).map(certificateRecord)
    }

    public func events() throws -> [AuditEvent] {
        try events(matching: EventFilter())
    }

    private func event(_ r: Row) -> AuditEvent {
        var e = AuditEvent(type: r.text("type") ?? "", time: Date(timeIntervalSince1970: TimeInterval(r.int("time") ?? 0)),
                           ca: r.text("ca"), serialHex: r.text("serial"), profile: r.text("profile"), fields: [:])
        e.payload = r.text("payload") ?? ""
        e.index = r.int("id").map { Int($0) - 1 }
        return e
    }

    public func events(matching f: EventFilter) throws -> [AuditEvent] {
        var sql = "SELECT id, time, type, ca, serial, profile, payload FROM events WHERE 1=1"
        var args: [SQLValue] = []
        if let s = f.since { sql += " AND time >= ?"; args.append(.int(Int64(s.timeIntervalSince1970))) }
        if let u = f.until { sql += " AND time <= ?"; args.append(.int(Int64(u.timeIntervalSince1970))) }
        if let t = f.type { sql += " AND type = ?"; args.append(.text(t)) }
        if let s = f.serialHex { sql += " AND serial = ?"; args.append(.text(s.lowercased())) }
        if let c = f.ca { sql += " AND ca = ?"; args.append(.text(c)) }
        if let p = f.profile { sql += " AND profile = ?"; args.append(.text(p)) }
        sql += " ORDER BY id"
        return try db.prepare(sql).query(args).map(event)
    }

    // MARK: Audit log

    public var auditSize: Int {
        get throws { Int(try db.prepare("SELECT COALESCE(MAX(id), 0) AS n FROM events").query().first?.int("n") ?? 0) }
    }

    /// The Merkle root of the first `size` entries, from stored subtrees (O(log n)).
    public func auditRoot(size: Int) throws -> [UInt8] {
        try MerkleProofs.root(self, hasher: hasher, size: size)
    }

    public func inclusionProof(index: Int, size: Int) throws -> [[UInt8]] {
        try MerkleProofs.inclusionProof(self, hasher: hasher, index: index, size: size)
    }

    public func consistencyProof(from m: Int, to n: Int) throws -> [[UInt8]] {
        try MerkleProofs.consistencyProof(self, hasher: hasher, from: m, to: n)
    }

    public func leafHash(index: Int) throws -> [UInt8]? {
        try db.prepare("SELECT leaf_hash FROM events WHERE id = ?").query([.int(Int64(index + 1))]).first?.blob("leaf_hash")
    }

    public func insert(checkpoint c: StoredCheckpoint) throws {
        try db.transaction {
            try db.prepare("INSERT INTO checkpoints(size, root, note, created_at) VALUES (?,?,?,?)")
                .run([.int(Int64(c.size)), .blob(c.root), .text(c.note), .int(Int64(c.createdAt.timeIntervalSince1970))])
        }
    }

    public func checkpoints() throws -> [StoredCheckpoint] {
        try db.prepare("SELECT size, root, note, created_at FROM checkpoints ORDER BY id").query().map { r in
            StoredCheckpoint(size: Int(r.int("size") ?? 0), root: r.blob("root") ?? [], note: r.text("note") ?? "",
                             createdAt: Date(timeIntervalSince1970: TimeInterval(r.int("created_at") ?? 0)))
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
}

// MARK: Revocation and CRLs

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

extension SQLiteStore {
    func caID(_ name: String) throws -> Int64 {
        guard let id = try db.prepare("SELECT id FROM cas WHERE name = ?").query([.text(name)]).first?.int("id") else {
            throw ETrustError.refused("unknown CA '\(name)'", code: .notFound)
        }
        return id
    }

    /// Marks a certificate revoked (or on hold) and appends its audit event, in one transaction.
    public func revoke(ca: String, serialHex: String, reason: Int, revokedAt: Date, invalidityDate: Date?, recordedAt: Date,
                       event: AuditEvent) throws {
        try db.transaction {
            let id = try caID(ca)
            try db.prepare("""
                UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, invalidity_date = ?,
                changed_at = ?, hold_released_at = NULL WHERE ca_id = ? AND serial = ?
                """).run([.int(Int64(revokedAt.timeIntervalSince1970)), .int(Int64(reason)),
                          invalidityDate.map { .int(Int64($0.timeIntervalSince1970)) } ?? .null,
                          .int(Int64(recordedAt.timeIntervalSince1970)), .int(id), .text(serialHex)])
            guard db.changes == 1 else { throw ETrustError.refused("no certificate \(serialHex) of CA \(ca)", code: .notFound) }
            // A pre-signed "good" must not outlive the revocation, even across a responder restart.
            try db.prepare("DELETE FROM ocsp_responses WHERE ca_id = ? AND serial = ?").run([.int(id), .text(serialHex)])
            try insertEvents([event])
        }
    }

    /// Releases a certificateHold: valid again, listed as removeFromCRL on the next delta.
    public func releaseHold(ca: String, serialHex: String, at date: Date, event: AuditEvent) throws {
        try db.transaction {
            let id = try caID(ca)
            try db.prepare("""
                UPDATE certificates SET status = 'valid', hold_released_at = ?, changed_at = ?
                WHERE ca_id = ? AND serial = ? AND status = 'revoked' AND revocation_reason = 6
                """).run([.int(Int64(date.timeIntervalSince1970)), .int(Int64(date.timeIntervalSince1970)), .int(id), .text(serialHex)])
            guard db.changes == 1 else { throw ETrustError.refused("certificate \(serialHex) is not on hold", code: .notFound) }
            try db.prepare("DELETE FROM ocsp_responses WHERE ca_id = ? AND serial = ?").run([.int(id), .text(serialHex)])
            try insertEvents([event])
        }
    }

    public func certificate(ca: String, serialHex: String) throws -> CertificateRecord? {
        try db.prepare("SELECT c.*, a.name AS ca_name FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE a.name = ? AND c.serial = ?")
            .query([.text(ca), .text(serialHex)]).first.map(certificateRecord)
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

    /// Records a signed CRL and its audit event together (before it is published).
    public func insert(crl c: CRLRecord, event: AuditEvent) throws {
        try db.transaction {
            let id = try caID(c.ca)
            try db.prepare("""
                INSERT INTO crls(ca_id, number, kind, shard, base_number, this_update, next_update, entries, sha256, path)
                VALUES (?,?,?,?,?,?,?,?,?,?)
                """).run([.int(id), .int(Int64(c.number)), .text(c.kind.rawValue), c.shard.map { .int(Int64($0)) } ?? .null,
                          c.baseNumber.map { .int(Int64($0)) } ?? .null, .int(Int64(c.thisUpdate.timeIntervalSince1970)),
                          .int(Int64(c.nextUpdate.timeIntervalSince1970)), .int(Int64(c.entries)), .text(c.sha256), .text(c.path)])
            try insertEvents([event])
        }
    }

    /// Marks a recorded CRL as published (its file written and renamed into place).
    public func markPublished(ca: String, number: Int, at date: Date) throws {
        let id = try caID(ca)
        try db.prepare("UPDATE crls SET published_at = ? WHERE ca_id = ? AND number = ?")
            .run([.int(Int64(date.timeIntervalSince1970)), .int(id), .int(Int64(number))])
    }

    public func latestCRL(ca: String, kinds: [CRLRecord.Kind], publishedOnly: Bool = false) throws -> CRLRecord? {
        let id = try caID(ca)
        let list = kinds.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let published = publishedOnly ? " AND published_at IS NOT NULL" : ""
        return try db.prepare("SELECT * FROM crls WHERE ca_id = ? AND kind IN (\(list))\(published) ORDER BY number DESC LIMIT 1").query([.int(id)]).first.map { r in
            CRLRecord(ca: ca, number: Int(r.int("number") ?? 0), kind: CRLRecord.Kind(rawValue: r.text("kind") ?? "full") ?? .full,
                      shard: r.int("shard").map { Int($0) }, baseNumber: r.int("base_number").map { Int($0) },
                      thisUpdate: Date(timeIntervalSince1970: TimeInterval(r.int("this_update") ?? 0)),
                      nextUpdate: Date(timeIntervalSince1970: TimeInterval(r.int("next_update") ?? 0)),
                      entries: Int(r.int("entries") ?? 0), sha256: r.text("sha256") ?? "", path: r.text("path") ?? "")
        }
    }

    /// Streams the revoked certificates of a CA (optionally one shard) that a full CRL lists:
    /// revoked, and not expired before `expiredBefore` (the grace after expiry).
    public func forEachRevoked(ca: String, shard: Int?, expiredBefore: Date, _ body: (RevokedEntry) throws -> Void) throws {
        let id = try caID(ca)
        var sql = """
            SELECT serial, revoked_at, revocation_reason, invalidity_date FROM certificates
            WHERE ca_id = \(id) AND status = 'revoked' AND not_after >= \(Int64(expiredBefore.timeIntervalSince1970))
            """
        if let shard { sql += " AND shard = \(shard)" }
        sql += " ORDER BY id"
        try db.prepare(sql).forEachColumns { c in
            let inv = c.int(3)
            try body(RevokedEntry(serialHex: c.text(0), revokedAt: Date(timeIntervalSince1970: TimeInterval(c.int(1))),
                                  reason: Int(c.int(2)), invalidityDate: inv == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(inv))))
        }
    }

    /// The same rows as `forEachRevoked`, without a String or Date per row: the hex serial as
    /// the database's bytes and times as Unix seconds (the path of million-entry CRLs).
    public func forEachRevokedRaw(ca: String, shard: Int?, expiredBefore: Date,
                                  _ body: (UnsafeBufferPointer<UInt8>, Int64, Int, Int64?) throws -> Void) throws {
        let id = try caID(ca)
        var sql = """
            SELECT serial, revoked_at, revocation_reason, invalidity_date FROM certificates
            WHERE ca_id = \(id) AND status = 'revoked' AND not_after >= \(Int64(expiredBefore.timeIntervalSince1970))
            """
        if let shard { sql += " AND shard = \(shard)" }
        sql += " ORDER BY id"
        try db.prepare(sql).forEachColumns { c in
            let inv = c.int(3)
            try c.withTextBytes(0) { serial in
                try body(serial, c.int(1), Int(c.int(2)), inv == 0 ? nil : inv)
            }
        }
    }

    /// What changed since `since` (recorded time): new revocations, and holds released (as
    /// removeFromCRL) — the content of a delta CRL (RFC 5280 5.2.4).
    public func forEachChange(ca: String, since: Date, expiredBefore: Date, _ body: (RevokedEntry) throws -> Void) throws {
        let id = try caID(ca)
        let t = Int64(since.timeIntervalSince1970)
        try db.prepare("""
            SELECT serial, status, revoked_at, revocation_reason, invalidity_date, hold_released_at FROM certificates
            WHERE ca_id = \(id) AND changed_at >= \(t) AND not_after >= \(Int64(expiredBefore.timeIntervalSince1970)) ORDER BY id
            """).forEachColumns { c in
            let inv = c.int(4)
            if c.text(1) == "revoked" {
                try body(RevokedEntry(serialHex: c.text(0), revokedAt: Date(timeIntervalSince1970: TimeInterval(c.int(2))),
                                      reason: Int(c.int(3)), invalidityDate: inv == 0 ? nil : Date(timeIntervalSince1970: TimeInterval(inv))))
            } else {
                try body(RevokedEntry(serialHex: c.text(0), revokedAt: Date(timeIntervalSince1970: TimeInterval(c.int(5))),
                                      reason: 8, invalidityDate: nil))
            }
        }
    }
}

// MARK: OCSP

public struct OCSPSignerRecord: Sendable {
    public var ca: String
    public var certificate: Certificate
    public var keyReference: String
    public init(ca: String, certificate: Certificate, keyReference: String) {
        self.ca = ca; self.certificate = certificate; self.keyReference = keyReference
    }
}

public struct PresignedResponse: Sendable {
    public var serialHex: String
    public var der: [UInt8]
    public var thisUpdate: Date
    public var nextUpdate: Date
    public init(serialHex: String, der: [UInt8], thisUpdate: Date, nextUpdate: Date) {
        self.serialHex = serialHex; self.der = der; self.thisUpdate = thisUpdate; self.nextUpdate = nextUpdate
    }
}

extension SQLiteStore {
    public func insert(ocspSigner s: OCSPSignerRecord, event: AuditEvent) throws {
        try db.transaction {
            let id = try caID(s.ca)
            try db.prepare("INSERT INTO ocsp_signers(ca_id, serial, certificate, key_ref, not_after, created_at) VALUES (?,?,?,?,?,?)")
                .run([.int(id), .text(s.certificate.serialHex), .blob(s.certificate.der), .text(s.keyReference),
                      .int(Int64(s.certificate.notAfter.timeIntervalSince1970)), .int(Int64(Date().timeIntervalSince1970))])
            try insertEvents([event])
        }
    }

    /// The newest delegated OCSP signer of a CA.
    public func currentOCSPSigner(ca: String) throws -> OCSPSignerRecord? {
        let id = try caID(ca)
        guard let r = try db.prepare("SELECT certificate, key_ref FROM ocsp_signers WHERE ca_id = ? ORDER BY id DESC LIMIT 1")
            .query([.int(id)]).first else { return nil }
        return OCSPSignerRecord(ca: ca, certificate: try Certificate(der: r.blob("certificate") ?? []), keyReference: r.text("key_ref") ?? "")
    }

    public func save(presigned responses: [PresignedResponse], ca: String) throws {
        guard !responses.isEmpty else { return }
        try db.transaction {
            let id = try caID(ca)
            let stmt = try db.prepare("INSERT OR REPLACE INTO ocsp_responses(ca_id, serial, der, this_update, next_update) VALUES (?,?,?,?,?)")
            for r in responses {
                try stmt.run([.int(id), .text(r.serialHex), .blob(r.der), .int(Int64(r.thisUpdate.timeIntervalSince1970)),
                              .int(Int64(r.nextUpdate.timeIntervalSince1970))])
            }
        }
    }

    public func forEachPresigned(ca: String, _ body: (PresignedResponse) throws -> Void) throws {
        let id = try caID(ca)
        try db.prepare("SELECT serial, der, this_update, next_update FROM ocsp_responses WHERE ca_id = \(id)").forEachColumns { c in
            try body(PresignedResponse(serialHex: c.text(0), der: c.blob(1) ?? [], thisUpdate: Date(timeIntervalSince1970: TimeInterval(c.int(2))),
                                       nextUpdate: Date(timeIntervalSince1970: TimeInterval(c.int(3)))))
        }
    }

    /// Status of one certificate of a CA as OCSP answers it: nil when the CA never issued it.
    public func ocspStatus(ca: String, serialHex: String) throws -> (revoked: Bool, revokedAt: Date?, reason: Int?)? {
        let id = try caID(ca)
        guard let r = try db.prepare("SELECT status, revoked_at, revocation_reason FROM certificates WHERE ca_id = ? AND serial = ?")
            .query([.int(id), .text(serialHex)]).first else { return nil }
        let revoked = r.text("status") == "revoked"
        return (revoked, r.int("revoked_at").map { Date(timeIntervalSince1970: TimeInterval($0)) }, r.int("revocation_reason").map { Int($0) })
    }

    /// Certificates of a CA recorded after row `afterID`: (row id, serial), oldest first.
    public func certificatesIssued(ca: String, afterID: Int64, limit: Int = 10_000) throws -> [(id: Int64, serial: String)] {
        let id = try caID(ca)
        return try db.prepare("SELECT id, serial FROM certificates WHERE ca_id = ? AND id > ? ORDER BY id LIMIT \(limit)")
            .query([.int(id), .int(afterID)]).compactMap { r in r.int("id").flatMap { i in r.text("serial").map { (i, $0) } } }
    }

    /// Serials of a CA whose status changed at or after `since` (recorded time).
    public func changedSerials(ca: String, since: Date) throws -> [String] {
        let id = try caID(ca)
        return try db.prepare("SELECT serial FROM certificates WHERE ca_id = ? AND changed_at >= ?")
            .query([.int(id), .int(Int64(since.timeIntervalSince1970))]).compactMap { $0.text("serial") }
    }
}

extension SQLiteStore: SubtreeHashSource {
    public func subtreeHash(level: Int, index: Int) throws -> [UInt8] {
        guard let h = try db.prepare("SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?")
            .query([.int(Int64(level)), .int(Int64(index))]).first?.blob("hash") else {
            throw ETrustError.environment("audit log: subtree (\(level), \(index)) is missing from the database", code: .database)
        }
        return h
    }
}

import ETrustCore
import Foundation

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

/// Delegated OCSP signers and pre-signed responses.
extension SQLiteStore {
    public func insert(ocspSigner s: OCSPSignerRecord, at date: Date) throws {
        try db.transaction {
            let id = try caID(s.ca)
            try db.prepare("INSERT INTO ocsp_signers(ca_id, serial, certificate, key_ref, not_after, created_at) VALUES (?,?,?,?,?,?)")
                .run([.int(id), .text(s.certificate.serialHex), .blob(s.certificate.der), .text(s.keyReference),
                      .time(s.certificate.notAfter), .time(date)])
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
                try stmt.run([.int(id), .text(r.serialHex), .blob(r.der), .time(r.thisUpdate), .time(r.nextUpdate)])
            }
        }
    }

    public func forEachPresigned(ca: String, _ body: (PresignedResponse) throws -> Void) throws {
        try db.prepare("SELECT serial, der, this_update, next_update FROM ocsp_responses WHERE ca_id = ?")
            .forEachColumns([.int(try caID(ca))]) { c in
                try body(PresignedResponse(serialHex: c.text(0), der: c.blob(1) ?? [], thisUpdate: Date(unixSeconds: c.int(2)),
                                           nextUpdate: Date(unixSeconds: c.int(3))))
            }
    }

    public func presigned(ca: String, serialHex: String) throws -> PresignedResponse? {
        try db.cached("SELECT der, this_update, next_update FROM ocsp_responses WHERE ca_id = ? AND serial = ?")
            .query([.int(try caID(ca)), .text(serialHex)]).first.map { r in
                PresignedResponse(serialHex: serialHex, der: r.blob("der") ?? [], thisUpdate: Date(unixSeconds: r.int("this_update") ?? 0),
                                  nextUpdate: Date(unixSeconds: r.int("next_update") ?? 0))
            }
    }

    /// Status of one certificate of a CA as OCSP answers it: nil when the CA never issued it.
    public func ocspStatus(ca: String, serialHex: String) throws -> (revoked: Bool, revokedAt: Date?, reason: Int?)? {
        let id = try caID(ca)
        guard let r = try db.prepare("SELECT status, revoked_at, revocation_reason FROM certificates WHERE ca_id = ? AND serial = ?")
            .query([.int(id), .text(serialHex)]).first else { return nil }
        let revoked = r.text("status") == "revoked"
        return (revoked, r.int("revoked_at").map { Date(unixSeconds: $0) }, r.int("revocation_reason").map { Int($0) })
    }

    /// Certificates of a CA recorded after row `afterID`: (row id, serial), oldest first.
    public func certificatesIssued(ca: String, afterID: Int64, limit: Int = 10_000) throws -> [(id: Int64, serial: String)] {
        let id = try caID(ca)
        return try db.prepare("SELECT id, serial FROM certificates WHERE ca_id = ? AND id > ? ORDER BY id LIMIT ?")
            .query([.int(id), .int(afterID), .integer(limit)]).compactMap { r in r.int("id").flatMap { i in r.text("serial").map { (i, $0) } } }
    }

    /// Serials of a CA whose status changed at or after `since` (recorded time).
    public func changedSerials(ca: String, since: Date) throws -> [String] {
        let id = try caID(ca)
        return try db.prepare("SELECT serial FROM certificates WHERE ca_id = ? AND changed_at >= ?")
            .query([.int(id), .time(since)]).compactMap { $0.text("serial") }
    }
}

import ETrustCore
import Foundation

// Records from rows, shared by every engine: the columns are the schema's (StoreSchema), whatever
// the engine that read them.

extension CARecord {
    init(row r: Row) throws {
        self.init(name: r.text("name") ?? "", certificate: try Certificate(der: r.blob("certificate") ?? []),
                  keyReference: r.text("key_ref") ?? "", parent: r.text("parent"), profile: r.text("profile") ?? "",
                  createdAt: Date(unixSeconds: r.int("created_at") ?? 0))
    }
}

extension CertificateRecord {
    /// A row of `certificates` joined with its CA's name as `ca_name`.
    init(row r: Row) {
        let sans = r.text("sans") ?? ""
        self.init(
            ca: r.text("ca_name") ?? "", serialHex: r.text("serial") ?? "", subject: r.text("subject") ?? "",
            subjectAltNames: sans.isEmpty ? [] : sans.split(separator: ",").map(String.init), profile: r.text("profile") ?? "",
            notBefore: Date(unixSeconds: r.int("not_before") ?? 0), notAfter: Date(unixSeconds: r.int("not_after") ?? 0),
            status: r.text("status") == "revoked" ? .revoked : .valid, shard: Int(r.int("shard") ?? 0), der: r.blob("der") ?? [],
            requester: r.text("requester") ?? "", issuedAt: Date(unixSeconds: r.int("issued_at") ?? 0),
            revokedAt: r.int("revoked_at").map { Date(unixSeconds: $0) },
            revocationReason: r.int("revocation_reason").map { Int($0) },
            invalidityDate: r.int("invalidity_date").map { Date(unixSeconds: $0) })
    }

    /// The values of an INSERT INTO certificates(ca_id, serial, subject, sans, profile, not_before,
    /// not_after, status, shard, der, requester, issued_at).
    func insertValues(caID: Int64) -> [SQLValue] {
        [.int(caID), .text(serialHex), .text(subject), .text(subjectAltNames.joined(separator: ",")), .text(profile),
         .time(notBefore), .time(notAfter), .text(status == .revoked ? "revoked" : "valid"), .integer(shard),
         .blob(der), .text(requester), .time(issuedAt)]
    }
}

extension CRLRecord {
    init(row r: Row, ca: String) {
        self.init(ca: ca, number: Int(r.int("number") ?? 0), kind: CRLRecord.Kind(rawValue: r.text("kind") ?? "full") ?? .full,
                  shard: r.int("shard").map { Int($0) }, baseNumber: r.int("base_number").map { Int($0) },
                  thisUpdate: Date(unixSeconds: r.int("this_update") ?? 0), nextUpdate: Date(unixSeconds: r.int("next_update") ?? 0),
                  entries: Int(r.int("entries") ?? 0), sha256: r.text("sha256") ?? "", path: r.text("path") ?? "")
    }
}

extension PendingCARecord {
    init(row r: Row) throws {
        self.init(name: r.text("name") ?? "", csr: try CertificateSigningRequest(der: r.blob("csr") ?? []),
                  keyReference: r.text("key_ref") ?? "", profile: r.text("profile") ?? "",
                  createdAt: Date(unixSeconds: r.int("created_at") ?? 0))
    }
}

extension IssuanceIntent {
    /// A row of `issuance_intents` joined with its CA's name as `ca_name`.
    init(row r: Row) {
        self.init(id: r.int("id"), ca: r.text("ca_name") ?? "", serialHex: r.text("serial") ?? "", profile: r.text("profile") ?? "",
                  subject: r.text("subject") ?? "", tbsDER: r.blob("tbs") ?? [], createdAt: Date(unixSeconds: r.int("created_at") ?? 0),
                  owner: r.text("owner") ?? "")
    }
}

extension RevokedEntry {
    /// A row of (serial, status, revoked_at, revocation_reason, invalidity_date, hold_released_at):
    /// a revocation, or a released hold listed as removeFromCRL (8).
    init(change r: Row) {
        let inv = r.int("invalidity_date") ?? 0
        if r.text("status") == "revoked" {
            self.init(serialHex: r.text("serial") ?? "", revokedAt: Date(unixSeconds: r.int("revoked_at") ?? 0),
                      reason: Int(r.int("revocation_reason") ?? 0), invalidityDate: inv == 0 ? nil : Date(unixSeconds: inv))
        } else {
            self.init(serialHex: r.text("serial") ?? "", revokedAt: Date(unixSeconds: r.int("hold_released_at") ?? 0), reason: 8,
                      invalidityDate: nil)
        }
    }
}

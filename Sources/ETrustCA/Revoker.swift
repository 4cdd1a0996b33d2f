import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// Revocation and hold release: the status change and its audit event in one transaction, under
/// the revocation reasons each profile allows.
public final class Revoker {
    let env: CAEnvironment

    init(env: CAEnvironment) { self.env = env }

    /// Normalised hex serial (lower case, no leading zeros), or bad input.
    public static func serialHex(parsing text: String) throws -> String {
        guard let bytes = Hex.decode(text), !bytes.isEmpty, bytes.count <= 21 else {
            throw ETrustError.badInput("'\(text)' is not a hexadecimal serial number", code: .invalidArgument)
        }
        let trimmed = Array(bytes.drop(while: { $0 == 0 }))
        return Hex.encode(trimmed.isEmpty ? [0] : trimmed)
    }

    /// Revokes a certificate of `caName`, durably, with its audit event. A certificate already
    /// revoked is refused, except that keyCompromise supersedes another reason and a hold may
    /// become a permanent revocation.
    @discardableResult
    public func revoke(ca caName: String, serial: String, reason: RevocationReason, at: Date? = nil,
                       invalidityDate: Date? = nil) throws -> CertificateRecord {
        let serialHex = try Revoker.serialHex(parsing: serial)
        guard reason != .removeFromCRL else {
            throw ETrustError.badInput("removeFromCRL is not a revocation reason; release a hold with 'etrust unhold'", code: .invalidArgument)
        }
        let now = env.clock.now()
        let revokedAt = at ?? now
        if revokedAt > now.addingTimeInterval(60) {
            throw ETrustError.badInput("revocation time \(RFC3339.format(revokedAt)) is in the future", code: .invalidArgument)
        }
        if let inv = invalidityDate, inv > now.addingTimeInterval(60) {
            throw ETrustError.badInput("invalidity date \(RFC3339.format(inv)) is in the future", code: .invalidArgument)
        }
        _ = try env.ca(caName)
        guard let record = try env.store.certificate(ca: caName, serialHex: serialHex) else {
            throw ETrustError.refused("CA '\(caName)' has issued no certificate with serial \(serialHex)", code: .notFound)
        }
        if let allowed = env.profiles[record.profile]?.revocationReasons, !allowed.contains(reason) {
            throw ETrustError.refused(PolicyRefusal(profile: record.profile, rule: "revocation.reasons",
                                                    reason: "\(reason.name) is not allowed for its certificates"))
        }
        if record.status == .revoked, let old = record.revocationReason.flatMap(RevocationReason.init(rawValue:)) {
            let supersedes = (reason == .keyCompromise && old != .keyCompromise) || (old == .certificateHold && reason != .certificateHold)
            guard supersedes else {
                throw ETrustError.refused("certificate \(serialHex) is already revoked (\(old.name)); only keyCompromise supersedes, and a hold may become permanent",
                                          code: .alreadyExists)
            }
        }
        var fields = ["reason": reason.name, "revokedAt": RFC3339.format(revokedAt), "requester": env.requester,
                      "subject": record.subject]
        if let inv = invalidityDate { fields["invalidityDate"] = RFC3339.format(inv) }
        if let old = record.revocationReason, record.status == .revoked {
            fields["supersedes"] = RevocationReason(rawValue: old)?.name ?? String(old)
        }
        let event = AuditEvent(type: "revoke", time: now, ca: caName, serialHex: serialHex, profile: record.profile, fields: fields)
        try env.store.transaction {
            try env.store.revoke(ca: caName, serialHex: serialHex, reason: reason.rawValue, revokedAt: revokedAt, invalidityDate: invalidityDate,
                                 recordedAt: now)
            try env.audit.log.append([event])
        }
        return try env.store.certificate(ca: caName, serialHex: serialHex)!
    }

    /// Releases a certificateHold (RFC 5280 5.3.1): valid again, removeFromCRL on the next delta.
    public func unhold(ca caName: String, serial: String) throws {
        let serialHex = try Revoker.serialHex(parsing: serial)
        _ = try env.ca(caName)
        guard let record = try env.store.certificate(ca: caName, serialHex: serialHex) else {
            throw ETrustError.refused("CA '\(caName)' has issued no certificate with serial \(serialHex)", code: .notFound)
        }
        guard record.status == .revoked, record.revocationReason == RevocationReason.certificateHold.rawValue else {
            throw ETrustError.refused("certificate \(serialHex) is not on hold", code: .policyRefused)
        }
        let now = env.clock.now()
        let event = AuditEvent(type: "unhold", time: now, ca: caName, serialHex: serialHex, profile: record.profile,
                               fields: ["requester": env.requester, "subject": record.subject])
        try env.store.transaction {
            try env.store.releaseHold(ca: caName, serialHex: serialHex, at: now)
            try env.audit.log.append([event])
        }
    }
}

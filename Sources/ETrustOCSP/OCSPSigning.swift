import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

/// Each CA's delegated OCSP responder (profile ocsp-signing: id-kp-OCSPSigning, ocspNoCheck,
/// short-lived) and the RFC 5019 responses pre-signed with it.
/// - On the CA host, `provision` issues or rotates the responder certificate with the CA key
///   (`etrust ocsp provision`), stores the responder key encrypted under the *signer*
///   passphrase, and pre-signs responses.
/// - In the responder, `signer` only loads the current responder certificate and key: it never
///   issues one, so `etrust-ocspd` needs no CA key and no CA passphrase.
/// Not thread-safe: callers serialize.
public final class OCSPSigning {
    /// How long a pre-signed OCSP response is valid (RFC 5019 2.2.4: thisUpdate..nextUpdate);
    /// responders renew at half of it.
    public static let responseValidity: TimeInterval = 86_400

    public let authority: Authority

    public init(authority: Authority) { self.authority = authority }

    /// The CA's current responder certificate and its key (decrypted with this process's
    /// passphrase, once). Missing or expired: an environment error naming the command that fixes it.
    public func signer(ca caName: String) throws -> (certificate: Certificate, key: PrivateKey) {
        guard let current = try authority.store.currentOCSPSigner(ca: caName) else {
            throw ETrustError.environment("CA '\(caName)' has no OCSP responder certificate; run 'etrust ocsp provision --ca \(caName)' on the CA host",
                                          code: .notFound)
        }
        let c = current.certificate
        guard c.notAfter > authority.clock.now() else {
            throw ETrustError.environment("the OCSP responder certificate of CA '\(caName)' expired at \(RFC3339.format(c.notAfter)); run 'etrust ocsp provision --ca \(caName)'",
                                          code: .notFound)
        }
        return (c, try authority.keys.privateKey(current.keyReference, owner: "the OCSP responder of \(caName)"))
    }

    /// The result of `provision`.
    public struct Provisioned: Sendable {
        public var certificate: Certificate
        /// false when the current certificate was kept (less than half of its validity used).
        public var issued: Bool
        public var presigned: Int
    }

    /// Issues the CA's responder certificate if it has none, if the current one is past half its
    /// validity, or if `rotate`; the new key is encrypted under `signerPassphrase` (the
    /// responders' secret, not the CA's), or generated in the token `keyStore` names. Then
    /// pre-signs a response for every certificate the CA issued. Each issuance is an
    /// "ocsp-signer" audit event.
    public func provision(ca caName: String, validity: ValidityDuration? = nil, rotate: Bool = false, keyStore: String = "file",
                          signerPassphrase: [UInt8]?) throws -> Provisioned {
        _ = try authority.ca(caName)
        let now = authority.clock.now()
        let current = try authority.store.currentOCSPSigner(ca: caName)
        if let c = current?.certificate, !rotate, now < c.notBefore.addingTimeInterval(c.notAfter.timeIntervalSince(c.notBefore) / 2) {
            return Provisioned(certificate: c, issued: false, presigned: 0)
        }
        // The responder key: a file under the responders' passphrase, or generated in a token
        // (`keyStore` pkcs11:token=LABEL; the responder then needs only the token's PIN).
        let certificate = try authority.issueServiceSigner(
            ca: caName, ServiceSignerRequest(slug: "ocsp", role: "OCSP Responder", profile: "ocsp-signing", eventType: "ocsp-signer",
                                             validity: validity, keyStore: keyStore, signerPassphrase: signerPassphrase, rotating: current != nil)
        ) { certificate, reference in
            try authority.store.insert(ocspSigner: OCSPSignerRecord(ca: caName, certificate: certificate, keyReference: reference), at: now)
        }
        return Provisioned(certificate: certificate, issued: true, presigned: try presignAll(ca: caName))
    }

    /// Pre-signs a response for every certificate the CA issued (a page of 10,000 at a time).
    @discardableResult
    public func presignAll(ca caName: String) throws -> Int {
        var afterID: Int64 = 0
        var count = 0
        while true {
            let page = try authority.store.certificatesIssued(ca: caName, afterID: afterID, limit: 10_000)
            guard let last = page.last else { return count }
            afterID = last.id
            count += try presign(ca: caName, serials: page.map(\.serial)).count
        }
    }

    /// Signs and stores the RFC 5019 responses (SHA-1 CertID, no nonce) for `serials` of a CA,
    /// so that a responder serves them as bytes. Certificates the CA never issued are skipped.
    @discardableResult
    public func presign(ca caName: String, serials: [String]) throws -> [PresignedResponse] {
        guard !serials.isEmpty else { return [] }
        let caRecord = try authority.ca(caName)
        let (signerCert, signerKey) = try signer(ca: caName)
        let statuses = try serials.compactMap { s in try authority.store.ocspStatus(ca: caName, serialHex: s).map { (s, $0) } }
        let out = try OCSPSigning.sign(statuses: statuses, caCertificate: caRecord.certificate, signerCertificate: signerCert,
                                       signerKey: signerKey, now: authority.clock.now()).map(\.response)
        try authority.store.save(presigned: out, ca: caName)
        return out
    }

    /// One RFC 5019 response per (serial, status from the store), signed at `now` for
    /// `responseValidity` (less if the responder certificate ends sooner). No store access.
    public static func sign(statuses: [(String, (revoked: Bool, revokedAt: Date?, reason: Int?))], caCertificate: Certificate,
                            signerCertificate: Certificate, signerKey: PrivateKey, now: Date) throws -> [(response: PresignedResponse, revoked: Bool)] {
        let validity = min(responseValidity, signerCertificate.notAfter.timeIntervalSince(now))
        return try statuses.map { serial, status in
            let query = try OCSPResponder.Query(issuer: caCertificate, serialHex: serial)
            let answer: OCSPCertificateStatus = status.revoked
                ? .revoked(time: status.revokedAt ?? now, reason: status.reason.flatMap(RevocationReason.init(rawValue:)))
                : .good
            let der = try OCSPResponder.sign(answers: [.init(query: query, status: answer)], signerCertificate: signerCertificate, signer: signerKey,
                                             includeCertificate: true, now: now, validity: validity, nonceFrom: nil)
            return (PresignedResponse(serialHex: serial, der: der, thisUpdate: now, nextUpdate: now.addingTimeInterval(validity)), status.revoked)
        }
    }
}

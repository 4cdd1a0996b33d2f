import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import Foundation

/// The OCSP signing service of a home: each CA's delegated responder (profile ocsp-signing:
/// id-kp-OCSPSigning, ocspNoCheck, short-lived), and RFC 5019 responses pre-signed with it.
/// Not thread-safe: callers serialize (the answer source holds its lock around it).
public final class OCSPSigning {
    /// How long a pre-signed OCSP response is valid (RFC 5019 2.2.4: thisUpdate..nextUpdate);
    /// responders renew at half of it.
    public static let responseValidity: TimeInterval = 86_400

    public let authority: Authority

    public init(authority: Authority) { self.authority = authority }

    /// The CA's delegated OCSP responder, issued on first use and rotated when less than half
    /// its validity remains. Each rotation is an issuance plus an "ocsp-signer" audit event.
    public func signer(ca caName: String) throws -> (certificate: Certificate, key: PrivateKey) {
        let caRecord = try authority.ca(caName)
        let now = authority.clock.now()
        if let current = try authority.store.currentOCSPSigner(ca: caName) {
            let c = current.certificate
            let half = c.notBefore.addingTimeInterval(c.notAfter.timeIntervalSince(c.notBefore) / 2)
            if now < half {
                return (c, try authority.keys.privateKey(current.keyReference, owner: "the OCSP responder of \(caName)"))
            }
        }
        let key = try PrivateKey.generate(.ecP256)
        let csr = try CertificateSigningRequest.create(subject: try CAManager.serviceSubject(caRecord, role: "OCSP Responder"), key: key)
        let (certificate, _) = try authority.issue(IssuanceRequest(source: .csr(csr), profile: "ocsp-signing", label: "ocsp signer"), ca: caName)
        let reference = try authority.keys.store(key, name: "\(caName)-ocsp-\(certificate.serialHex)")
        let event = AuditEvent(type: "ocsp-signer", time: now, ca: caName, serialHex: certificate.serialHex, profile: "ocsp-signing",
                               fields: ["action": "rotated", "notAfter": RFC3339.format(certificate.notAfter),
                                        "certificateSHA256": Hex.encode(certificate.sha256Fingerprint)])
        try authority.store.transaction {
            try authority.store.insert(ocspSigner: OCSPSignerRecord(ca: caName, certificate: certificate, keyReference: reference), at: now)
            try authority.auditLog.append([event])
        }
        return (certificate, key)
    }

    /// Signs and stores the RFC 5019 responses (SHA-1 CertID, no nonce) for `serials` of a CA,
    /// so that a responder serves them as bytes. Certificates the CA never issued are skipped.
    @discardableResult
    public func presign(ca caName: String, serials: [String]) throws -> [PresignedResponse] {
        guard !serials.isEmpty else { return [] }
        let caRecord = try authority.ca(caName)
        let (signerCert, signerKey) = try signer(ca: caName)
        let now = authority.clock.now()
        let validity = min(OCSPSigning.responseValidity, signerCert.notAfter.timeIntervalSince(now))
        var out: [PresignedResponse] = []
        for serial in serials {
            guard let status = try authority.store.ocspStatus(ca: caName, serialHex: serial) else { continue }
            let query = try OCSPResponder.Query(issuer: caRecord.certificate, serialHex: serial)
            let answer: OCSPCertificateStatus = status.revoked
                ? .revoked(time: status.revokedAt ?? now, reason: status.reason.flatMap(RevocationReason.init(rawValue:)))
                : .good
            let der = try OCSPResponder.sign(answers: [.init(query: query, status: answer)], signerCertificate: signerCert, signer: signerKey,
                                             includeCertificate: true, now: now, validity: validity, nonceFrom: nil)
            out.append(PresignedResponse(serialHex: serial, der: der, thisUpdate: now, nextUpdate: now.addingTimeInterval(validity)))
        }
        try authority.store.save(presigned: out, ca: caName)
        return out
    }
}

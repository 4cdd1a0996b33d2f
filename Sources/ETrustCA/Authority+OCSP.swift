import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

extension Authority {
    /// How long a pre-signed OCSP response is valid (RFC 5019 2.2.4: thisUpdate..nextUpdate);
    /// responders renew at half of it.
    public static let ocspResponseValidity: TimeInterval = 86_400

    /// The CA's delegated OCSP responder (profile ocsp-signing: id-kp-OCSPSigning, ocspNoCheck,
    /// short-lived), issued on first use and rotated when less than half its validity remains.
    /// Each rotation is an issuance plus an "ocsp-signer" audit event.
    public func ocspSigner(ca caName: String) throws -> (certificate: Certificate, key: PrivateKey) {
        let caRecord = try ca(caName)
        let now = clock.now()
        if let current = try store.currentOCSPSigner(ca: caName) {
            let c = current.certificate
            let half = c.notBefore.addingTimeInterval(c.notAfter.timeIntervalSince(c.notBefore) / 2)
            if now < half, current.keyReference.hasPrefix("file:") {
                // The key is decrypted once per process (PBKDF2 is deliberately slow).
                if let cached = ocspSignerKeys[c.serialHex] { return (c, cached) }
                let key = try PrivateKey.load(fromFile: home.join(String(current.keyReference.dropFirst(5))), passphrase: try passphrase())
                ocspSignerKeys[c.serialHex] = key
                return (c, key)
            }
        }
        let key = try PrivateKey.generate(.ecP256)
        var subject = "CN=\(caName) OCSP Responder"
        for name in ["O", "C"] {
            if let v = caRecord.certificate.subject.values(ofName: name).first {
                subject += ",\(name)=\(v.replacingOccurrences(of: ",", with: "\\,").replacingOccurrences(of: "+", with: "\\+"))"
            }
        }
        let csr = try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: subject), key: key)
        let (certificate, _) = try issue(IssuanceRequest(source: .csr(csr), profile: "ocsp-signing", label: "ocsp signer"), ca: caName)
        let keyRelative = "keys/\(caName)-ocsp-\(certificate.serialHex).key.pem"
        try key.write(toFile: home.join(keyRelative), passphrase: try passphrase(), iterations: home.config.keyIterations)
        let event = AuditEvent(type: "ocsp-signer", time: now, ca: caName, serialHex: certificate.serialHex, profile: "ocsp-signing",
                               fields: ["action": "rotated", "notAfter": RFC3339.format(certificate.notAfter),
                                        "certificateSHA256": Hex.encode(certificate.sha256Fingerprint)])
        try store.insert(ocspSigner: OCSPSignerRecord(ca: caName, certificate: certificate, keyReference: "file:" + keyRelative), event: event)
        ocspSignerKeys[certificate.serialHex] = key
        return (certificate, key)
    }

    /// Signs and stores the RFC 5019 responses (SHA-1 CertID, no nonce) for `serials` of a CA,
    /// so that a responder serves them as bytes. Certificates the CA never issued are skipped.
    @discardableResult
    public func presignOCSP(ca caName: String, serials: [String]) throws -> [PresignedResponse] {
        guard !serials.isEmpty else { return [] }
        let caRecord = try ca(caName)
        let (signerCert, signerKey) = try ocspSigner(ca: caName)
        let now = clock.now()
        let validity = min(Authority.ocspResponseValidity, signerCert.notAfter.timeIntervalSince(now))
        var out: [PresignedResponse] = []
        for serial in serials {
            guard let status = try store.ocspStatus(ca: caName, serialHex: serial) else { continue }
            let query = try OCSPResponder.Query(issuer: caRecord.certificate, serialHex: serial)
            let answer: OCSPCertificateStatus = status.revoked
                ? .revoked(time: status.revokedAt ?? now, reason: status.reason.flatMap(RevocationReason.init(rawValue:)))
                : .good
            let der = try OCSPResponder.sign(answers: [.init(query: query, status: answer)], signerCertificate: signerCert, signer: signerKey,
                                             includeCertificate: true, now: now, validity: validity, nonceFrom: nil)
            out.append(PresignedResponse(serialHex: serial, der: der, thisUpdate: now, nextUpdate: now.addingTimeInterval(validity)))
        }
        try store.save(presigned: out, ca: caName)
        return out
    }

    /// Logs that the CA generated a subscriber's key and delivered it (PKCS#12), keeping no copy.
    public func recordSubscriberKey(ca: String, serialHex: String, profile: String, key: PrivateKey) throws {
        try store.append(events: [AuditEvent(type: "key", time: clock.now(), ca: ca, serialHex: serialHex, profile: profile,
                                             fields: ["action": "generated", "purpose": "subscriber", "delivery": "pkcs12",
                                                      "spkiSHA256": Hex.encode(try key.publicKey.spkiSHA256), "requester": requester])])
    }

    /// The framework operator's trust-list signer issued by `ca` (profile trust-list-signing),
    /// created on first use; its key is kept encrypted in the home.
    public func trustListSigner(ca caName: String) throws -> (Certificate, PrivateKey) {
        let path = home.join("keys/\(caName)-trust-list.key.pem")
        let certPath = home.join("certs/\(caName)-trust-list.pem")
        if FileManager.default.fileExists(atPath: path), let pem = FileManager.default.contents(atPath: certPath) {
            let cert = try Certificate(bytes: [UInt8](pem), what: certPath)
            if cert.notAfter > clock.now() {
                return (cert, try PrivateKey.load(fromFile: path, passphrase: try passphrase()))
            }
        }
        let caRecord = try ca(caName)
        let key = try PrivateKey.generate(.ecP256)
        var subject = "CN=\(caName) Trust List Signer"
        for name in ["O", "C"] {
            if let v = caRecord.certificate.subject.values(ofName: name).first {
                subject += ",\(name)=\(v.replacingOccurrences(of: ",", with: "\\,").replacingOccurrences(of: "+", with: "\\+"))"
            }
        }
        let csr = try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: subject), key: key)
        // A root issues CA and OCSP certificates only: the signer is issued through the normal
        // pipeline with the issuing restriction lifted for this one operator certificate.
        let (certificate, _) = try issue(IssuanceRequest(source: .csr(csr), profile: "trust-list-signing", label: "trust list signer"),
                                         ca: caName, allowFromRoot: true)
        if FileManager.default.fileExists(atPath: path) { unlink(path) }
        try key.write(toFile: path, passphrase: try passphrase(), iterations: home.config.keyIterations)
        try AtomicFile.write(certificate.pem, to: certPath)
        try store.append(events: [AuditEvent(type: "key", time: clock.now(), ca: caName, serialHex: certificate.serialHex, profile: "trust-list-signing",
                                             fields: ["action": "generated", "purpose": "trust-list-signing", "spkiSHA256": Hex.encode(try key.publicKey.spkiSHA256)])])
        return (certificate, key)
    }
}

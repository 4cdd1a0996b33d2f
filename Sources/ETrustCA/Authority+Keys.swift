import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

extension Authority {
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

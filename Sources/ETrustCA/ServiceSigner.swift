import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

/// A CA's service signers (the OCSP responder, the time-stamping unit): a certificate under the
/// service's profile with a key of its own, encrypted under the *signer* passphrase (the
/// services' secret, never the CA's) or generated in a token, recorded with an audit event in
/// one transaction.
public struct ServiceSignerRequest: Sendable {
    /// Short name in key file names and labels ("ocsp", "tsa").
    public var slug: String
    /// Appended to the CA's name in the subject's CN ("OCSP Responder").
    public var role: String
    public var profile: String
    /// The audit event's type ("ocsp-signer", "tsa-signer").
    public var eventType: String
    public var validity: ValidityDuration?
    public var keyStore: String
    public var signerPassphrase: [UInt8]?
    /// Whether this replaces a previous signer (the audit event's action).
    public var rotating: Bool
    public init(slug: String, role: String, profile: String, eventType: String, validity: ValidityDuration?, keyStore: String,
                signerPassphrase: [UInt8]?, rotating: Bool) {
        self.slug = slug; self.role = role; self.profile = profile; self.eventType = eventType; self.validity = validity
        self.keyStore = keyStore; self.signerPassphrase = signerPassphrase; self.rotating = rotating
    }
}

extension Authority {
    /// Issues the signer `r` describes under CA `caName`; `record(certificate, keyReference)` writes
    /// its row, in the transaction of its audit event.
    public func issueServiceSigner(ca caName: String, _ r: ServiceSignerRequest,
                                   record: (Certificate, String) throws -> Void) throws -> Certificate {
        let caRecord = try ca(caName)
        guard r.keyStore != "file" || r.signerPassphrase != nil else {
            throw ETrustError.badInput("the \(r.role) key is a file and needs a passphrase: --signer-passphrase-file FILE or ETRUST_SIGNER_PASSPHRASE",
                                       code: .missingPassphrase)
        }
        let label = "\(caName)-\(r.slug)-\(Hex.encode(try CSPRNG.bytes(4)))"
        try keys.checkKeyStore(r.keyStore, algorithm: .ecP256, name: label)
        let key = try keys.generateKey(.ecP256, keyStore: r.keyStore, name: label)
        defer { keys.abandonPendingKeys() }   // a token key whose certificate was not recorded
        let csr = try CertificateSigningRequest.create(subject: try CAManager.serviceSubject(caRecord, role: r.role), key: key)
        let (certificate, _) = try issue(IssuanceRequest(source: .csr(csr), profile: r.profile, validity: r.validity,
                                                         label: "\(r.slug) signer"), ca: caName)
        let reference = try keys.store(key, name: "\(caName)-\(r.slug)-\(certificate.serialHex)", passphrase: r.signerPassphrase)
        let event = AuditEvent(type: r.eventType, time: clock.now(), ca: caName, serialHex: certificate.serialHex, profile: r.profile,
                               fields: ["action": r.rotating ? "rotated" : "issued", "notAfter": RFC3339.format(certificate.notAfter),
                                        "certificateSHA256": Hex.encode(certificate.sha256Fingerprint)]
                                   .merging(KeyStore.location(of: reference)) { $1 })
        try store.transaction {
            try record(certificate, reference)
            try auditLog.append([event])
        }
        return certificate
    }
}

/// Each CA's time-stamping unit (profile `timestamping`: critical EKU id-kp-timeStamping).
/// `provision` issues it on the CA host (`etrust tsa provision`); `signer` loads it in the
/// server, which never issues one.
public struct TSASigning {
    public let authority: Authority
    public init(authority: Authority) { self.authority = authority }

    /// The profile a unit is issued under, and whose first policy OID its tokens carry.
    public static let profile = "timestamping"

    /// Issues a new unit for `caName` (a previous one is replaced: tokens name their unit's
    /// certificate, so old tokens stay verifiable).
    public func provision(ca caName: String, validity: ValidityDuration? = nil, keyStore: String = "file",
                          signerPassphrase: [UInt8]?) throws -> TSASignerRecord {
        _ = try authority.ca(caName)   // an unknown CA is a usage error, as for `ocsp provision`
        let profile = try authority.profile(Self.profile)
        guard let policy = profile.policies.first?.info.oid else {
            throw ETrustError.badInput("profile \(Self.profile) names no policy OID for the tokens", code: .invalidArgument)
        }
        let previous = try authority.store.currentTSASigner(ca: caName)
        var record: TSASignerRecord?
        _ = try authority.issueServiceSigner(
            ca: caName, ServiceSignerRequest(slug: "tsa", role: "Time-Stamping Unit", profile: Self.profile, eventType: "tsa-signer",
                                             validity: validity, keyStore: keyStore, signerPassphrase: signerPassphrase, rotating: previous != nil)
        ) { certificate, reference in
            var r = TSASignerRecord(ca: caName, certificate: certificate, keyReference: reference, policy: policy)
            r.id = try authority.store.insert(tsaSigner: r, at: authority.clock.now())
            record = r
        }
        return record!
    }

    /// The current unit (of `ca`, or the newest of any CA) with its key and its CA's chain.
    /// Missing or expired: an environment error naming the command that fixes it.
    public func signer(ca: String?) throws -> (record: TSASignerRecord, authority: TimeStamp.Authority) {
        guard let r = try authority.store.currentTSASigner(ca: ca) else {
            throw ETrustError.environment("no time-stamping unit\(ca.map { " for CA '\($0)'" } ?? ""); run 'etrust tsa provision --ca NAME' on the CA host",
                                          code: .notFound)
        }
        guard r.certificate.notAfter > authority.clock.now() else {
            throw ETrustError.environment("the time-stamping unit of CA '\(r.ca)' expired at \(RFC3339.format(r.certificate.notAfter)); run 'etrust tsa provision --ca \(r.ca)'",
                                          code: .notFound)
        }
        let key = try authority.keys.privateKey(r.keyReference, owner: "the time-stamping unit of \(r.ca)")
        let chain = try authority.chain(of: r.ca)
        return (r, TimeStamp.Authority(certificate: r.certificate, key: key, chain: chain, policy: r.policy))
    }
}

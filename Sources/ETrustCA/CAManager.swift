import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// The CAs of a home: roots and subordinates, cross-certificates with other framework members,
/// the trust-list signer, and keys the CA generates for subscribers.
public final class CAManager {
    let env: CAEnvironment
    let issuer: Issuer

    init(env: CAEnvironment, issuer: Issuer) { self.env = env; self.issuer = issuer }

    /// The subject of a certificate the CA issues to one of its own services ("CN=NAME ROLE"),
    /// with the CA's O and C.
    public static func serviceSubject(_ ca: CARecord, role: String) throws -> DistinguishedName {
        var subject = "CN=\(ca.name) \(role)"
        for name in ["O", "C"] {
            if let v = ca.certificate.subject.values(ofName: name).first {
                subject += ",\(name)=\(v.replacingOccurrences(of: ",", with: "\\,").replacingOccurrences(of: "+", with: "\\+"))"
            }
        }
        return try DistinguishedName(parsing: subject)
    }

    static func validateCAName(_ name: String) throws {
        guard name.range(of: "^[a-z0-9][a-z0-9_-]{0,62}$", options: .regularExpression) != nil else {
            throw ETrustError.badInput("CA name '\(name)' must be 1-63 lower-case letters, digits, '-' or '_'", code: .invalidArgument)
        }
    }

    public struct CACreation: Sendable {
        public var name: String
        public var subject: String
        public var key: KeyAlgorithm = .ecP256
        public var parent: String?
        public var profile: String?
        public var validity: ValidityDuration?
        public var keyStore: String = "file"
        /// Split control of the (file) key among custodians, M-of-N; nil: the home's passphrase.
        public var custody: CustodySplit?
        public init(name: String, subject: String) { self.name = name; self.subject = subject }
    }

    /// Creates a self-signed root or a subordinate signed by `parent`. The key file, the record
    /// and the audit event are all in place before the certificate is published; on failure
    /// nothing is left behind. A subordinate's certificate is an issuance of its parent, with its
    /// intent committed before the parent signs.
    @discardableResult
    public func createCA(_ r: CACreation) throws -> (record: CARecord, certificatePath: String) {
        let (subject, parentRecord, profile) = try checkCreation(r)
        let now = env.clock.now()
        let parentSigner: Signer? = try parentRecord.map { try env.keys.signer(for: $0) }
        let key = try env.keys.generateKey(r.key, keyStore: r.keyStore, name: r.name)
        defer { env.keys.abandonPendingKeys() }   // a token key whose CA was not recorded
        let publicKey = try key.publicKey
        let facts = RequestFacts(subject: subject, subjectAltNames: [], publicKey: publicKey.kind, requestedExtensions: [],
                                 requestedValidity: r.validity, issuedAt: now)
        if case .refused(let rule, let reason) = profile.evaluate(facts) {
            let refusal = PolicyRefusal(profile: profile.name, rule: rule, reason: reason)
            try env.audit.log.append([.refusal(refusal, ca: r.parent ?? r.name, subject: subject, requester: env.requester, at: now)])
            throw ETrustError.refused(refusal)
        }
        let selfSigner = try Signer(key: key)
        let signer: Signer = parentSigner ?? selfSigner
        let validity = profile.validity(requested: r.validity, at: now)
        let issuerCert = parentRecord?.certificate
        let plan = try ExtensionPlan(profile: profile, issuerName: parentRecord?.name ?? r.name,
                                     issuerKeyID: issuerCert?.subjectKeyIdentifier ?? publicKey.keyIdentifier,
                                     issuerCRL: parentRecord.map { env.crlSettings(of: $0) } ?? .defaults, urls: env.urls)
        let tbs = TBSCertificate(
            serial: try CAEnvironment.randomSerial(), signatureAlgorithm: signer.algorithm, issuer: issuerCert?.subject ?? subject,
            notBefore: now, notAfter: now.addingTimeInterval(TimeInterval(validity.seconds - 1)), subject: subject,
            subjectPublicKeyInfo: publicKey.subjectPublicKeyInfo,
            extensions: plan.extensions(ski: .subjectKeyIdentifier(publicKey.keyIdentifier), san: nil, shard: 0))
        let findings = Linter.check(tbs, profile: profile, issuerNotBefore: issuerCert?.notBefore,
                                    issuerNotAfter: issuerCert?.notAfter, issuerIsCA: true)
        if !findings.isEmpty {
            throw ETrustError.refused("pre-issuance lint failed: \(findings.map { $0.description }.joined(separator: "; "))", code: .lintFailed)
        }
        let intents = try parentRecord.map { parent in
            try issuer.recordIntents([ToBeSigned(caName: parent.name, tbs: tbs, tbsDER: try tbs.encode(), profile: profile.name,
                                                 subject: subject, subjectAltNames: [], shard: 0, serialHex: Hex.encode(tbs.serial))], at: now)
        } ?? []
        let certificate = try tbs.sign(with: signer)
        let record = try commitCA(r, certificate: certificate, key: key, profile: profile, parent: parentRecord, intents: intents, at: now)
        env.keys.remember(selfSigner, for: record.keyReference)
        let pemPath = FilePath.join(env.home.certsDirectory, "\(r.name).pem")
        try AtomicFile.write(certificate.pem, to: pemPath)
        try AtomicFile.write(certificate.der, to: env.home.pubDirectory + "/ca/\(r.name).crt")
        return (record, pemPath)
    }

    /// What `createCA` checks before it generates a key: the name, the key store, the profile's
    /// kind against the parent, and the parent's path length and validity.
    private func checkCreation(_ r: CACreation) throws -> (DistinguishedName, CARecord?, Profile) {
        try CAManager.validateCAName(r.name)
        try r.custody?.validate(ca: r.name, keyStore: r.keyStore)
        guard r.keyStore == "file" || r.keyStore.hasPrefix("pkcs11:") else {
            throw ETrustError.badInput("unknown key store '\(r.keyStore)' (file or pkcs11:URI)", code: .invalidArgument)
        }
        if try env.store.ca(named: r.name) != nil {
            throw ETrustError.refused("a CA named '\(r.name)' already exists", code: .alreadyExists)
        }
        let subject = try DistinguishedName(parsing: r.subject)
        let parentRecord = try r.parent.map { try env.ca($0) }
        let profileName = r.profile ?? (r.parent == nil ? "root-ca" : "sub-ca")
        let profile = try env.profile(profileName)
        switch (profile.kind, parentRecord) {
        case (.endEntity, _):
            throw ETrustError.badInput("profile '\(profileName)' is not a CA profile", code: .invalidArgument)
        case (.rootCA, .some):
            throw ETrustError.badInput("profile '\(profileName)' is for self-signed roots; drop --parent or use a sub-CA profile", code: .invalidArgument)
        case (.subCA, nil):
            throw ETrustError.badInput("profile '\(profileName)' needs --parent", code: .invalidArgument)
        default: break
        }
        if let parentRecord {
            if let bc = parentRecord.certificate.basicConstraints, let len = bc.pathLength, len == 0 {
                throw ETrustError.refused("CA '\(parentRecord.name)' has pathLength 0 and cannot certify another CA", code: .policyRefused)
            }
            if parentRecord.certificate.notAfter < env.clock.now() {
                throw ETrustError.refused("CA '\(parentRecord.name)' has expired", code: .policyRefused)
            }
        }
        // A token: the URI, the key type, the module, the token, the PIN, before any key exists.
        try env.keys.checkKeyStore(r.keyStore, algorithm: r.key, name: r.name)
        return (subject, parentRecord, profile)
    }

    /// The new CA's key stored, then its record, its certificate as an issuance of the parent,
    /// the audit events and the parent's intent completed, in one transaction; the key file is
    /// removed again if that fails.
    private func commitCA(_ r: CACreation, certificate: Certificate, key: PrivateKey, profile: Profile, parent: CARecord?,
                          intents: [Int64], at now: Date) throws -> CARecord {
        let (keyReference, shareIDs) = try r.custody.map { try env.keys.storeSplit(key, name: r.name, split: $0) }
            ?? (reference: env.keys.store(key, name: r.name), shareIDs: [])
        let record = CARecord(name: r.name, certificate: certificate, keyReference: keyReference, parent: r.parent,
                              profile: profile.name, createdAt: now)
        let events = [
            AuditEvent(type: "key", time: now, ca: r.name, serialHex: nil, profile: nil,
                       fields: ["action": "generated", "algorithm": r.key.rawValue,
                                "spkiSHA256": Hex.encode(try key.publicKey.spkiSHA256)].merging(KeyStore.location(of: keyReference)) { $1 }),
            AuditEvent(type: "ca", time: now, ca: r.name, serialHex: certificate.serialHex, profile: profile.name,
                       fields: ["action": "created", "subject": certificate.subject.description, "parent": r.parent ?? "",
                                "certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "requester": env.requester]),
        ]
        let ceremony = KeyCeremony(ca: r.name, subject: certificate.subject.description, parent: r.parent, date: now,
                                   operatorName: env.requester, algorithm: r.key.rawValue, keyReference: keyReference, shareIDs: shareIDs,
                                   spkiSHA256: try key.publicKey.spkiSHA256, certificateSHA256: certificate.sha256Fingerprint,
                                   serialHex: certificate.serialHex)
        var ceremonyPath: String?
        do {
            ceremonyPath = try ceremony.write(home: env.home)
            let issued = parent.map { parent in
                CertificateRecord(ca: parent.name, serialHex: certificate.serialHex, subject: certificate.subject.description,
                                  subjectAltNames: [], profile: profile.name, notBefore: certificate.notBefore,
                                  notAfter: certificate.notAfter, der: certificate.der, requester: env.requester, issuedAt: now)
            }
            try env.store.transaction {
                try env.store.insert(ca: record, issued: issued)
                try env.audit.log.append(events + [ceremony.auditEvent])
                try env.store.close(intents: intents, state: .completed, at: now)
            }
        } catch {
            if let ceremonyPath { unlink(ceremonyPath) }
            env.keys.discard(keyReference)
            throw error
        }
        return record
    }

    /// The CA's certificate first, then its issuers up to the root.
    public func chain(of name: String) throws -> [Certificate] {
        var result: [Certificate] = []
        var current: String? = name
        var seen = Set<String>()
        while let n = current, seen.insert(n).inserted {
            let record = try env.ca(n)
            result.append(record.certificate)
            current = record.parent
        }
        return result
    }

    public struct CrossCertification: Sendable {
        public var subjectCA: Certificate
        /// (ours, theirs): issuerDomainPolicy = ours, subjectDomainPolicy = theirs (RFC 5280 4.2.1.5).
        public var policyMappings: [(ours: String, theirs: String)] = []
        public var permitted: [GeneralSubtree] = []
        public var excluded: [GeneralSubtree] = []
        public var requireExplicitPolicy: Int?
        public var inhibitPolicyMapping: Int?
        public var pathLength: Int?
        public var validity: ValidityDuration?
        public var profile = "cross-ca"
        public init(subjectCA: Certificate) { self.subjectCA = subjectCA }
    }

    /// Certifies another framework member's CA with our CA: their name and key, our constraints.
    /// Recorded and logged like any issuance.
    public func crossCertify(ca caName: String, _ r: CrossCertification) throws -> Certificate {
        let caRecord = try env.ca(caName)
        let profile = try env.profile(r.profile)
        guard profile.isCA else { throw ETrustError.badInput("profile '\(r.profile)' is not a CA profile", code: .invalidArgument) }
        let theirs = r.subjectCA
        guard theirs.basicConstraints?.ca == true else {
            throw ETrustError.refused("\(theirs.subject) is not a CA certificate; only CAs are cross-certified", code: .policyRefused)
        }
        guard try theirs.isSigned(by: try theirs.publicKey) || !theirs.isSelfIssued else {
            throw ETrustError.refused("the self-signed certificate of \(theirs.subject) does not verify (proof of possession)", code: .badSignature)
        }
        let now = env.clock.now()
        let publicKey = try theirs.publicKey
        let facts = RequestFacts(subject: theirs.subject, subjectAltNames: [], publicKey: publicKey.kind, requestedExtensions: [],
                                 requestedValidity: r.validity, issuedAt: now)
        if case .refused(let rule, let reason) = profile.evaluate(facts) {
            let refusal = PolicyRefusal(profile: profile.name, rule: rule, reason: reason)
            try env.audit.log.append([.refusal(refusal, ca: caName, subject: theirs.subject, requester: env.requester, at: now)])
            throw ETrustError.refused(refusal)
        }
        let signer = try env.keys.signer(for: caRecord)
        let issuerCert = caRecord.certificate
        let plan = try ExtensionPlan(profile: profile, issuerName: caName, issuerKeyID: issuerCert.subjectKeyIdentifier,
                                     issuerCRL: env.crlSettings(of: caRecord), urls: env.urls)
        // Their own key identifier, so that what they issued still chains (AKI = SKI).
        let ski = theirs.subjectKeyIdentifier ?? publicKey.keyIdentifier
        var extensions: [Extension] = [.basicConstraints(ca: true, pathLength: r.pathLength ?? profile.pathLength), .keyUsage(profile.keyUsage),
                                       .subjectKeyIdentifier(ski)]
        if let aki = plan.aki { extensions.append(aki) }
        // RFC 5280 6.1.4: mapped policies must be in the certificate's policies; without mappings,
        // anyPolicy lets the subject CA's own policies through.
        let ours = r.policyMappings.map(\.ours)
        extensions.append(try .certificatePolicies((ours.isEmpty ? ["2.5.29.32.0"] : Array(Set(ours)).sorted()).map { PolicyInformation(oid: $0) }))
        if let cdp = plan.cdpByShard[0] { extensions.append(cdp) }
        extensions += plan.tail.filter { $0.oid == ExtensionOID.authorityInfoAccess }
        if !r.permitted.isEmpty || !r.excluded.isEmpty { extensions.append(try .nameConstraints(permitted: r.permitted, excluded: r.excluded)) }
        if r.requireExplicitPolicy != nil || r.inhibitPolicyMapping != nil {
            extensions.append(try .policyConstraints(requireExplicitPolicy: r.requireExplicitPolicy, inhibitPolicyMapping: r.inhibitPolicyMapping))
        }
        if !r.policyMappings.isEmpty {
            extensions.append(try .policyMappings(r.policyMappings.map { (issuerDomain: $0.ours, subjectDomain: $0.theirs) }))
        }
        let validity = profile.validity(requested: r.validity, at: now)
        let notAfter = min(now.addingTimeInterval(TimeInterval(validity.seconds - 1)), issuerCert.notAfter)
        let tbs = TBSCertificate(serial: try CAEnvironment.randomSerial(), signatureAlgorithm: signer.algorithm, issuer: issuerCert.subject,
                                 notBefore: max(now, issuerCert.notBefore), notAfter: notAfter, subject: theirs.subject,
                                 subjectPublicKeyInfo: theirs.subjectPublicKeyInfo, extensions: extensions)
        let findings = Linter.check(tbs, profile: profile, issuerNotBefore: issuerCert.notBefore, issuerNotAfter: issuerCert.notAfter, issuerIsCA: true)
        if !findings.isEmpty {
            throw ETrustError.refused("pre-issuance lint failed: \(findings.map { $0.description }.joined(separator: "; "))", code: .lintFailed)
        }
        let intents = try issuer.recordIntents([ToBeSigned(caName: caName, tbs: tbs, tbsDER: try tbs.encode(), profile: profile.name,
                                                           subject: theirs.subject, subjectAltNames: [], shard: 0, serialHex: Hex.encode(tbs.serial))],
                                               at: now)
        let certificate = try tbs.sign(with: signer)
        let record = CertificateRecord(ca: caName, serialHex: certificate.serialHex, subject: theirs.subject.description, subjectAltNames: [],
                                       profile: profile.name, notBefore: certificate.notBefore, notAfter: certificate.notAfter,
                                       der: certificate.der, requester: env.requester, issuedAt: now)
        var fields = ["certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "subject": theirs.subject.description,
                      "requester": env.requester, "crossCertifies": Hex.encode(theirs.sha256Fingerprint)]
        if !r.policyMappings.isEmpty { fields["policyMappings"] = r.policyMappings.map { "\($0.ours)=\($0.theirs)" }.joined(separator: " ") }
        try issuer.complete([.issued(certificate, record)], events: [AuditEvent(type: "issue", time: now, ca: caName, serialHex: certificate.serialHex,
                                                                            profile: profile.name, fields: fields)], intents: intents, at: now)
        return certificate
    }

    /// Logs that the CA generated a subscriber's key and delivered it (PKCS#12), keeping no copy.
    public func recordSubscriberKey(ca: String, serialHex: String, profile: String, key: PrivateKey) throws {
        try env.audit.log.append([AuditEvent(type: "key", time: env.clock.now(), ca: ca, serialHex: serialHex, profile: profile,
                                             fields: ["action": "generated", "purpose": "subscriber", "delivery": "pkcs12",
                                                      "spkiSHA256": Hex.encode(try key.publicKey.spkiSHA256), "requester": env.requester])])
    }

    /// The framework operator's trust-list signer issued by `ca` (profile trust-list-signing),
    /// created on first use; its key is kept encrypted in the home.
    public func trustListSigner(ca caName: String) throws -> (Certificate, PrivateKey) {
        let keyName = "\(caName)-trust-list"
        let path = env.home.join("keys/\(keyName).key.pem")
        let certPath = env.home.join("certs/\(caName)-trust-list.pem")
        if FileManager.default.fileExists(atPath: path), let pem = FileManager.default.contents(atPath: certPath) {
            let cert = try Certificate(bytes: [UInt8](pem), what: certPath)
            if cert.notAfter > env.clock.now() {
                return (cert, try env.keys.privateKey("file:keys/\(keyName).key.pem", owner: "the trust-list signer of \(caName)"))
            }
        }
        let caRecord = try env.ca(caName)
        let key = try PrivateKey.generate(.ecP256)
        let csr = try CertificateSigningRequest.create(subject: try CAManager.serviceSubject(caRecord, role: "Trust List Signer"), key: key)
        // A root issues CA and OCSP certificates only: the signer is issued through the normal
        // pipeline with the issuing restriction lifted for this one operator certificate.
        let (certificate, _) = try issuer.issue(IssuanceRequest(source: .csr(csr), profile: "trust-list-signing", label: "trust list signer"),
                                         ca: caName, allowFromRoot: true)
        if FileManager.default.fileExists(atPath: path) { env.keys.discard("file:keys/\(keyName).key.pem") }
        _ = try env.keys.store(key, name: keyName)
        try AtomicFile.write(certificate.pem, to: certPath)
        try env.audit.log.append([AuditEvent(type: "key", time: env.clock.now(), ca: caName, serialHex: certificate.serialHex, profile: "trust-list-signing",
                                             fields: ["action": "generated", "purpose": "trust-list-signing", "spkiSHA256": Hex.encode(try key.publicKey.spkiSHA256)])])
        return (certificate, key)
    }
}

import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

extension Authority {
    public struct CACreation: Sendable {
        public var name: String
        public var subject: String
        public var key: KeyAlgorithm = .ecP256
        public var parent: String?
        public var profile: String?
        public var validity: ValidityDuration?
        public var keyStore: String = "file"
        public init(name: String, subject: String) { self.name = name; self.subject = subject }
    }

    /// Creates a self-signed root or a subordinate signed by `parent`. The key file, the record
    /// and the audit event are all in place before the certificate is published; on failure
    /// nothing is left behind.
    @discardableResult
    public func createCA(_ r: CACreation) throws -> (record: CARecord, certificatePath: String) {
        try Authority.validateCAName(r.name)
        guard r.keyStore == "file" else {
            if r.keyStore.hasPrefix("pkcs11:") {
                throw ETrustError.badInput("--key-store pkcs11: HSM keys are not supported by this build yet; use --key-store file", code: .unsupportedAlgorithm)
            }
            throw ETrustError.badInput("unknown key store '\(r.keyStore)' (file or pkcs11:URI)", code: .invalidArgument)
        }
        if try store.ca(named: r.name) != nil {
            throw ETrustError.refused("a CA named '\(r.name)' already exists", code: .alreadyExists)
        }
        let subject = try DistinguishedName(parsing: r.subject)
        let parentRecord = try r.parent.map { try ca($0) }
        let profileName = r.profile ?? (r.parent == nil ? "root-ca" : "sub-ca")
        let profile = try self.profile(profileName)
        switch (profile.kind, parentRecord) {
        case (.endEntity, _):
            throw ETrustError.badInput("profile '\(profileName)' is not a CA profile", code: .invalidArgument)
        case (.rootCA, .some):
            throw ETrustError.badInput("profile '\(profileName)' is for self-signed roots; drop --parent or use a sub-CA profile", code: .invalidArgument)
        case (.subCA, nil):
            throw ETrustError.badInput("profile '\(profileName)' needs --parent", code: .invalidArgument)
        default: break
        }
        let now = clock.now()
        if let parentRecord {
            if let bc = parentRecord.certificate.basicConstraints, let len = bc.pathLength, len == 0 {
                throw ETrustError.refused("CA '\(parentRecord.name)' has pathLength 0 and cannot certify another CA", code: .policyRefused)
            }
            if parentRecord.certificate.notAfter < now {
                throw ETrustError.refused("CA '\(parentRecord.name)' has expired", code: .policyRefused)
            }
        }
        let parentSigner: Signer? = try parentRecord.map { try self.signer(for: $0) }
        let passphrase = try self.passphraseBytes()

        let key = try PrivateKey.generate(r.key)
        let publicKey = try key.publicKey
        let facts = RequestFacts(subject: subject, subjectAltNames: [], publicKey: publicKey.kind, requestedExtensions: [],
                                 requestedValidity: r.validity, issuedAt: now)
        if case .refused(let rule, let reason) = profile.evaluate(facts) {
            let event = AuditEvent(type: "refuse", time: now, ca: r.parent ?? r.name, serialHex: nil, profile: profile.name,
                                   fields: ["rule": rule, "reason": reason, "subject": subject.description, "requester": requester])
            try store.append(events: [event])
            throw ETrustError.refused("profile '\(profile.name)' rule '\(rule)': \(reason)")
        }
        let selfSigner = try Signer(key: key)
        let signer: Signer = parentSigner ?? selfSigner
        let validity = profile.validity(requested: r.validity, at: now)
        let issuerCert = parentRecord?.certificate
        let plan = try extensionPlan(profile: profile, issuerName: parentRecord?.name ?? r.name,
                                     issuerKeyID: issuerCert?.subjectKeyIdentifier ?? publicKey.keyIdentifier,
                                     issuerCRL: parentRecord.map { crlSettings(of: $0) } ?? .defaults)
        let tbs = TBSCertificate(
            serial: try Authority.randomSerial(), signatureAlgorithm: signer.algorithm, issuer: issuerCert?.subject ?? subject,
            notBefore: now, notAfter: now.addingTimeInterval(TimeInterval(validity.seconds - 1)), subject: subject,
            subjectPublicKeyInfo: publicKey.subjectPublicKeyInfo,
            extensions: plan.extensions(ski: .subjectKeyIdentifier(publicKey.keyIdentifier), san: nil, shard: 0))
        let findings = Linter.check(tbs, profile: profile, issuerNotBefore: issuerCert?.notBefore,
                                    issuerNotAfter: issuerCert?.notAfter, issuerIsCA: true)
        if !findings.isEmpty {
            throw ETrustError.refused("pre-issuance lint failed: \(findings.map { $0.description }.joined(separator: "; "))", code: .lintFailed)
        }
        let certificate = try tbs.sign(with: signer)

        let keyRelative = "keys/\(r.name).key.pem"
        let keyPath = home.join(keyRelative)
        try key.write(toFile: keyPath, passphrase: passphrase, iterations: home.config.keyIterations)
        let record = CARecord(name: r.name, certificate: certificate, keyReference: "file:" + keyRelative, parent: r.parent,
                              profile: profile.name, createdAt: now)
        let events = [
            AuditEvent(type: "key", time: now, ca: r.name, serialHex: nil, profile: nil,
                       fields: ["action": "generated", "algorithm": r.key.rawValue, "store": "file",
                                "spkiSHA256": Hex.encode(publicKey.spkiSHA256)]),
            AuditEvent(type: "ca", time: now, ca: r.name, serialHex: certificate.serialHex, profile: profile.name,
                       fields: ["action": "created", "subject": subject.description, "parent": r.parent ?? "",
                                "certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "requester": requester]),
        ]
        do {
            let issued = parentRecord.map { parent in
                CertificateRecord(ca: parent.name, serialHex: certificate.serialHex, subject: subject.description,
                                  subjectAltNames: [], profile: profile.name, notBefore: certificate.notBefore,
                                  notAfter: certificate.notAfter, der: certificate.der, requester: requester, issuedAt: now)
            }
            try store.insert(ca: record, issued: issued, events: events)
        } catch {
            unlink(keyPath)
            throw error
        }
        signers[r.name] = selfSigner
        let pemPath = FilePath.join(home.certsDirectory, "\(r.name).pem")
        try AtomicFile.write(certificate.pem, to: pemPath)
        try AtomicFile.write(certificate.der, to: home.pubDirectory + "/ca/\(r.name).crt")
        return (record, pemPath)
    }

    func passphraseBytes() throws -> [UInt8] { try passphrase() }

    /// The CA's certificate first, then its issuers up to the root.
    public func chain(of name: String) throws -> [Certificate] {
        var result: [Certificate] = []
        var current: String? = name
        var seen = Set<String>()
        while let n = current, seen.insert(n).inserted {
            let record = try ca(n)
            result.append(record.certificate)
            current = record.parent
        }
        return result
    }
}

import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// A CA whose issuer is offline (a national root kept on a machine that is never online), in
/// three steps across two homes:
///   1. `requestExternal` (issuing host): the key is made and stored here, a CSR goes out;
///   2. `signSubordinate` (root host): the root signs it under a CA profile, recorded and audited there;
///   3. `activate` (issuing host): the certificate and its chain come back, the CA becomes usable.
extension CAManager {
    /// Step 1: the new CA's key, kept here, and its certificate request.
    public func requestExternal(_ r: CACreation) throws -> PendingCARecord {
        try CAManager.validateCAName(r.name)
        guard r.keyStore == "file" else {
            throw ETrustError.badInput("--external supports --key-store file only in this version", code: .invalidArgument)
        }
        if try env.store.ca(named: r.name) != nil {
            throw ETrustError.refused("a CA named '\(r.name)' already exists", code: .alreadyExists)
        }
        let subject = try DistinguishedName(parsing: r.subject)
        let profile = try env.profile(r.profile ?? "sub-ca")
        guard profile.kind == .subCA else {
            throw ETrustError.badInput("profile '\(profile.name)' is not a subordinate CA profile", code: .invalidArgument)
        }
        let now = env.clock.now()
        let key = try PrivateKey.generate(r.key)
        let facts = RequestFacts(subject: subject, subjectAltNames: [], publicKey: try key.publicKey.kind, requestedExtensions: [],
                                 requestedValidity: r.validity, issuedAt: now)
        if case .refused(let rule, let reason) = profile.evaluate(facts) {
            let refusal = PolicyRefusal(profile: profile.name, rule: rule, reason: reason)
            try env.audit.log.append([.refusal(refusal, ca: r.name, subject: subject, requester: env.requester, at: now)])
            throw ETrustError.refused(refusal)
        }
        let csr = try CertificateSigningRequest.create(subject: subject, key: key)
        let keyReference = try env.keys.store(key, name: r.name)
        let pending = PendingCARecord(name: r.name, csr: csr, keyReference: keyReference, profile: profile.name, createdAt: now)
        do {
            try env.store.transaction {
                try env.store.insert(pendingCA: pending)
                try env.audit.log.append([
                    AuditEvent(type: "key", time: now, ca: r.name, serialHex: nil, profile: nil,
                               fields: ["action": "generated", "algorithm": r.key.rawValue, "store": "file",
                                        "spkiSHA256": Hex.encode(try key.publicKey.spkiSHA256)]),
                    AuditEvent(type: "ca", time: now, ca: r.name, serialHex: nil, profile: profile.name,
                               fields: ["action": "requested", "subject": subject.description, "csrSHA256": Hex.encode(Digest.sha256(csr.der)),
                                        "requester": env.requester]),
                ])
            }
        } catch {
            env.keys.discard(keyReference)
            throw error
        }
        return pending
    }

    /// Step 2, on the issuer's home: certifies the subordinate CA of `csr` (proof of possession
    /// checked when it was read) under a CA profile, recorded and audited like any issuance.
    public func signSubordinate(ca issuerName: String, csr: CertificateSigningRequest, profile profileName: String = "sub-ca",
                                validity: ValidityDuration? = nil) throws -> Certificate {
        let parent = try env.ca(issuerName)
        let profile = try env.profile(profileName)
        guard profile.kind == .subCA else {
            throw ETrustError.badInput("profile '\(profileName)' is not a subordinate CA profile", code: .invalidArgument)
        }
        let now = env.clock.now()
        if let len = parent.certificate.basicConstraints?.pathLength, len == 0 {
            throw ETrustError.refused("CA '\(issuerName)' has pathLength 0 and cannot certify another CA", code: .policyRefused)
        }
        guard parent.certificate.notAfter > now else { throw ETrustError.refused("CA '\(issuerName)' has expired", code: .policyRefused) }
        // The request may ask for nothing: the issuer decides every extension of a CA certificate.
        let facts = RequestFacts(subject: csr.subject, subjectAltNames: [], publicKey: csr.publicKey.kind, requestedExtensions: [],
                                 requestedValidity: validity, issuedAt: now)
        if case .refused(let rule, let reason) = profile.evaluate(facts) {
            let refusal = PolicyRefusal(profile: profile.name, rule: rule, reason: reason)
            try env.audit.log.append([.refusal(refusal, ca: issuerName, subject: csr.subject, requester: env.requester, at: now)])
            throw ETrustError.refused(refusal)
        }
        let signer = try env.keys.signer(for: parent)
        let plan = try ExtensionPlan(profile: profile, issuerName: issuerName,
                                     issuerKeyID: parent.certificate.subjectKeyIdentifier ?? (try parent.certificate.publicKey.keyIdentifier),
                                     issuerCRL: env.crlSettings(of: parent), urls: env.urls)
        let lifetime = profile.validity(requested: validity, at: now)
        let tbs = TBSCertificate(
            serial: try CAEnvironment.randomSerial(), signatureAlgorithm: signer.algorithm, issuer: parent.certificate.subject,
            notBefore: max(now, parent.certificate.notBefore),
            notAfter: min(now.addingTimeInterval(TimeInterval(lifetime.seconds - 1)), parent.certificate.notAfter),
            subject: csr.subject, subjectPublicKeyInfo: csr.publicKey.subjectPublicKeyInfo,
            extensions: plan.extensions(ski: .subjectKeyIdentifier(csr.publicKey.keyIdentifier), san: nil, shard: 0))
        let findings = Linter.check(tbs, profile: profile, issuerNotBefore: parent.certificate.notBefore,
                                    issuerNotAfter: parent.certificate.notAfter, issuerIsCA: true)
        if !findings.isEmpty {
            throw ETrustError.refused("pre-issuance lint failed: \(findings.map { $0.description }.joined(separator: "; "))", code: .lintFailed)
        }
        let intents = try issuer.recordIntents([ToBeSigned(caName: issuerName, tbs: tbs, tbsDER: try tbs.encode(), profile: profile.name,
                                                           subject: csr.subject, subjectAltNames: [], shard: 0,
                                                           serialHex: Hex.encode(tbs.serial))], at: now)
        let certificate = try tbs.sign(with: signer)
        let record = CertificateRecord(ca: issuerName, serialHex: certificate.serialHex, subject: csr.subject.description, subjectAltNames: [],
                                       profile: profile.name, notBefore: certificate.notBefore, notAfter: certificate.notAfter,
                                       der: certificate.der, requester: env.requester, issuedAt: now)
        let event = AuditEvent(type: "issue", time: now, ca: issuerName, serialHex: certificate.serialHex, profile: profile.name,
                               fields: ["certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "subject": csr.subject.description,
                                        "requester": env.requester, "subordinateCA": "external"])
        try issuer.complete([.issued(certificate, record)], events: [event], intents: intents, at: now)
        return certificate
    }

    /// Step 3: the certificate signed elsewhere, checked against the key made here and against
    /// the chain given (each link's signature, up to a self-signed root); the chain's CAs are
    /// recorded as offline CAs of this home (certificates only), so that `ca export`, CRL
    /// distribution and validation see the whole hierarchy.
    public func activate(name: String, certificate: Certificate, chain: [Certificate]) throws -> CARecord {
        guard let pending = try env.store.pendingCA(named: name) else {
            throw ETrustError.refused("no CA named '\(name)' is waiting for its certificate (run 'etrust ca create \(name) --external' first)",
                                      code: .notFound)
        }
        guard certificate.subjectPublicKeyInfo == pending.csr.publicKey.subjectPublicKeyInfo else {
            throw ETrustError.refused("the certificate does not certify the key of CA '\(name)' (another request's certificate?)", code: .badSignature)
        }
        guard certificate.subject.der == pending.csr.subject.der else {
            throw ETrustError.refused("the certificate's subject \(certificate.subject) is not the requested \(pending.csr.subject)", code: .policyRefused)
        }
        guard certificate.basicConstraints?.ca == true, certificate.keyUsage?.contains(.keyCertSign) == true else {
            throw ETrustError.refused("the certificate of CA '\(name)' is not a CA certificate (basicConstraints cA, keyCertSign)", code: .policyRefused)
        }
        let issuers = try CAManager.orderedChain(above: certificate, from: chain)
        let now = env.clock.now()
        var imported: [CARecord] = []
        var events: [AuditEvent] = []
        var parentName: String?
        for c in issuers.reversed() {   // root first: a CA row names its parent
            if let existing = try env.store.cas().first(where: { $0.certificate == c }) { parentName = existing.name; continue }
            let record = CARecord(name: try uniqueName(for: c, taken: imported.map(\.name)), certificate: c,
                                  keyReference: KeyStore.offlinePrefix + Hex.encode(c.sha256Fingerprint), parent: parentName,
                                  profile: c.isSelfIssued ? "root-ca" : "sub-ca", createdAt: now)
            imported.append(record)
            events.append(AuditEvent(type: "ca", time: now, ca: record.name, serialHex: c.serialHex, profile: record.profile,
                                     fields: ["action": "imported", "subject": c.subject.description, "key": "offline",
                                              "certificateSHA256": Hex.encode(c.sha256Fingerprint), "requester": env.requester]))
            parentName = record.name
        }
        let record = CARecord(name: name, certificate: certificate, keyReference: pending.keyReference, parent: parentName,
                              profile: pending.profile, createdAt: now)
        events.append(AuditEvent(type: "ca", time: now, ca: name, serialHex: certificate.serialHex, profile: pending.profile,
                                 fields: ["action": "activated", "subject": certificate.subject.description, "parent": parentName ?? "",
                                          "certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "requester": env.requester]))
        // The key ceremony (made at `ca create --external`) is recorded once the certificate exists.
        let ceremony = KeyCeremony(ca: name, subject: certificate.subject.description, parent: parentName, date: pending.createdAt,
                                   operatorName: env.requester, algorithm: "\(pending.csr.publicKey.kind)", keyReference: pending.keyReference,
                                   shareIDs: [], spkiSHA256: pending.csr.publicKey.spkiSHA256,
                                   certificateSHA256: certificate.sha256Fingerprint, serialHex: certificate.serialHex)
        let ceremonyPath = try ceremony.write(home: env.home)
        do {
            try env.store.transaction {
                for r in imported { try env.store.insert(ca: r, issued: nil) }
                try env.store.insert(ca: record, issued: nil)
                try env.store.deletePendingCA(named: name)
                try env.audit.log.append(events + [ceremony.auditEvent])
            }
        } catch {
            unlink(ceremonyPath)
            throw error
        }
        for r in imported + [record] {
            try AtomicFile.write(r.certificate.pem, to: FilePath.join(env.home.certsDirectory, "\(r.name).pem"))
            try AtomicFile.write(r.certificate.der, to: env.home.pubDirectory + "/ca/\(r.name).crt")
        }
        return record
    }

    /// The issuers of `certificate` in `chain`, nearest first, each signature checked, ending in
    /// a self-signed root.
    static func orderedChain(above certificate: Certificate, from chain: [Certificate]) throws -> [Certificate] {
        var out: [Certificate] = []
        var current = certificate
        while !current.isSelfIssued {
            guard let issuer = chain.first(where: { $0.subject.der == current.issuer.der }) else {
                throw ETrustError.refused("the chain has no certificate of \(current.issuer), the issuer of \(current.subject)", code: .notFound)
            }
            guard try current.isSigned(by: try issuer.publicKey) else {
                throw ETrustError.refused("\(current.subject) is not signed by the key of \(issuer.subject)", code: .badSignature)
            }
            guard out.count < 8 else { throw ETrustError.refused("the chain is longer than 8 certificates", code: .policyRefused) }
            out.append(issuer)
            current = issuer
        }
        guard try current.isSigned(by: try current.publicKey) else {
            throw ETrustError.refused("the root \(current.subject) is not self-signed", code: .badSignature)
        }
        return out
    }

    /// A CA name for an imported certificate: its CN in lower case with '-' for anything else.
    private func uniqueName(for c: Certificate, taken: [String]) throws -> String {
        let cn = c.subject.values(ofName: "CN").first ?? "offline-ca"
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789")
        var base = String(cn.lowercased().map { allowed.contains($0) ? $0 : "-" })
        base = String(base.split(separator: "-").joined(separator: "-").prefix(50))
        if base.isEmpty { base = "offline-ca" }
        let existing = Set(try env.store.cas().map(\.name) + taken)
        var name = base
        var n = 2
        while existing.contains(name) { name = "\(base)-\(n)"; n += 1 }
        return name
    }
}

import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

extension Authority {
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
        let caRecord = try ca(caName)
        let profile = try self.profile(r.profile)
        guard profile.isCA else { throw ETrustError.badInput("profile '\(r.profile)' is not a CA profile", code: .invalidArgument) }
        let theirs = r.subjectCA
        guard theirs.basicConstraints?.ca == true else {
            throw ETrustError.refused("\(theirs.subject) is not a CA certificate; only CAs are cross-certified", code: .policyRefused)
        }
        guard try theirs.isSigned(by: try theirs.publicKey) || !theirs.isSelfIssued else {
            throw ETrustError.refused("the self-signed certificate of \(theirs.subject) does not verify (proof of possession)", code: .badSignature)
        }
        let now = clock.now()
        let publicKey = try theirs.publicKey
        let facts = RequestFacts(subject: theirs.subject, subjectAltNames: [], publicKey: publicKey.kind, requestedExtensions: [],
                                 requestedValidity: r.validity, issuedAt: now)
        if case .refused(let rule, let reason) = profile.evaluate(facts) {
            try store.append(events: [AuditEvent(type: "refuse", time: now, ca: caName, serialHex: nil, profile: profile.name,
                                                 fields: ["rule": rule, "reason": reason, "subject": theirs.subject.description, "requester": requester])])
            throw ETrustError.refused("profile '\(profile.name)' rule '\(rule)': \(reason)")
        }
        let signer = try self.signer(for: caRecord)
        let issuerCert = caRecord.certificate
        let plan = try extensionPlan(profile: profile, issuerName: caName, issuerKeyID: issuerCert.subjectKeyIdentifier,
                                     issuerCRL: crlSettings(of: caRecord))
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
        let tbs = TBSCertificate(serial: try Authority.randomSerial(), signatureAlgorithm: signer.algorithm, issuer: issuerCert.subject,
                                 notBefore: max(now, issuerCert.notBefore), notAfter: notAfter, subject: theirs.subject,
                                 subjectPublicKeyInfo: theirs.subjectPublicKeyInfo, extensions: extensions)
        let findings = Linter.check(tbs, profile: profile, issuerNotBefore: issuerCert.notBefore, issuerNotAfter: issuerCert.notAfter, issuerIsCA: true)
        if !findings.isEmpty {
            throw ETrustError.refused("pre-issuance lint failed: \(findings.map { $0.description }.joined(separator: "; "))", code: .lintFailed)
        }
        let certificate = try tbs.sign(with: signer)
        let record = CertificateRecord(ca: caName, serialHex: certificate.serialHex, subject: theirs.subject.description, subjectAltNames: [],
                                       profile: profile.name, notBefore: certificate.notBefore, notAfter: certificate.notAfter,
                                       der: certificate.der, requester: requester, issuedAt: now)
        var fields = ["certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "subject": theirs.subject.description,
                      "requester": requester, "crossCertifies": Hex.encode(theirs.sha256Fingerprint)]
        if !r.policyMappings.isEmpty { fields["policyMappings"] = r.policyMappings.map { "\($0.ours)=\($0.theirs)" }.joined(separator: " ") }
        try store.insert(certificates: [record], events: [AuditEvent(type: "issue", time: now, ca: caName, serialHex: certificate.serialHex,
                                                                     profile: profile.name, fields: fields)])
        return certificate
    }
}

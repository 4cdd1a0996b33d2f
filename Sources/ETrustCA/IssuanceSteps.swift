import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

public struct IssuanceRequest: Sendable {
    public enum Source: Sendable {
        case csr(CertificateSigningRequest)
        /// Read and parsed in the parallel part of a batch.
        case csrFile(String)
    }
    public var source: Source
    public var profile: String
    /// Operator overrides of what the CSR asks for.
    public var subject: DistinguishedName?
    public var subjectAltNames: [GeneralName]?
    public var validity: ValidityDuration?
    /// RFC 3739 biometricInfo entries (hashes of samples), judged by the profile.
    public var biometrics: [BiometricData] = []
    /// Where the request came from ("line 7"), for reports.
    public var label: String

    public init(source: Source, profile: String, subject: DistinguishedName? = nil, subjectAltNames: [GeneralName]? = nil,
                validity: ValidityDuration? = nil, label: String = "") {
        self.source = source; self.profile = profile; self.subject = subject
        self.subjectAltNames = subjectAltNames; self.validity = validity; self.label = label
    }
}

public enum IssuanceResult: Sendable {
    case issued(Certificate, CertificateRecord)
    /// Refused by the profile or by the pre-issuance lint; the refusal is in the audit log.
    case refused(profile: String, rule: String, reason: String)
    /// Unreadable or unusable input; nothing was recorded.
    case failed(ETrustError)

    public var certificate: Certificate? { if case .issued(let c, _) = self { return c }; return nil }
}

/// A request that passed its profile and the lint: the to-be-signed certificate, its serial
/// fixed, waiting for its intent to be committed and for the CA's signature.
struct ToBeSigned: Sendable {
    var caName: String
    var tbs: TBSCertificate
    /// Its DER, encoded once: recorded in the intent, then signed.
    var tbsDER: [UInt8]
    var profile: String
    var subject: DistinguishedName
    var subjectAltNames: [GeneralName]
    var shard: Int
    var serialHex: String
}

/// Where a request stands after the steps before signing.
enum Prepared: Sendable {
    case toSign(ToBeSigned)
    /// Refused (with its audit event) or failed (nothing recorded): it will not be signed.
    case finished(IssuanceResult, AuditEvent?)
}

/// The issuance pipeline as typed steps (Boulder's order), with the immutable inputs of one CA
/// and one moment, so that a batch runs the pure steps in parallel:
///   1. judge  — read the CSR (proof of possession), apply the operator's overrides, evaluate the profile
///   2. build  — the to-be-signed certificate: the CA's serial, SKI, AKI, CDP (shard), AIA, policies
///   3. lint   — RFC 5280 and profile checks on the TBS itself
///   4. intent — serial and TBS committed (`Issuer.recordIntents`)
///   5. sign
///   6. record — certificate row, audit event and intent completion in one transaction (`Issuer.complete`)
///   7. release — only then does the certificate leave the process
struct IssuanceSteps: Sendable {
    let caName: String
    let issuer: Certificate
    let signer: Signer
    let profiles: [String: Profile]
    let plans: [String: ExtensionPlan]
    let now: Date
    let requester: String
    /// A root issues CA and OCSP-signing certificates only (BR 6.1.7, root-ca.yaml).
    let issuerIsRoot: Bool

    /// Steps 1-3.
    func prepare(_ r: IssuanceRequest) -> Prepared {
        do {
            let judged = try judge(r)
            switch judged {
            case .refused(let refusal, let subject):
                return .finished(.refused(profile: refusal.profile, rule: refusal.rule, reason: refusal.reason), refusalEvent(refusal, subject))
            case .accepted(let j):
                let t = try build(j)
                if let refusal = lint(t, profile: j.profile) {
                    return .finished(.refused(profile: refusal.profile, rule: refusal.rule, reason: refusal.reason), refusalEvent(refusal, t.subject))
                }
                return .toSign(t)
            }
        } catch let e as ETrustError {
            // Unreadable input, or a request without proof of possession: nothing is recorded.
            return .finished(.failed(e), nil)
        } catch {
            return .finished(.failed(ETrustError.environment("\(error)")), nil)
        }
    }

    struct Judged {
        var profile: Profile
        var plan: ExtensionPlan
        var subject: DistinguishedName
        var subjectAltNames: [GeneralName]
        var publicKey: PublicKey
        var validity: ValidityDuration
        var biometrics: [BiometricData]
    }

    enum Judgement {
        case accepted(Judged)
        case refused(PolicyRefusal, subject: DistinguishedName)
    }

    /// Step 1.
    func judge(_ r: IssuanceRequest) throws -> Judgement {
        guard let profile = profiles[r.profile] else {
            throw ETrustError.badInput("unknown profile '\(r.profile)' (available: \(profiles.keys.sorted().joined(separator: ", ")))", code: .notFound)
        }
        guard let plan = plans[r.profile] else {
            throw ETrustError.badInput("profile '\(r.profile)' is a CA profile; use 'etrust ca create'", code: .invalidArgument)
        }
        if issuerIsRoot && !profile.extendedKeyUsage.elementsEqual(["1.3.6.1.5.5.7.3.9"]) {
            throw ETrustError.badInput("CA '\(caName)' is a root CA; it issues CA and OCSP-signing certificates only, not '\(r.profile)'",
                                       code: .invalidArgument)
        }
        let csr: CertificateSigningRequest
        switch r.source {
        case .csr(let c): csr = c
        case .csrFile(let path): csr = try CertificateSigningRequest(bytes: try InputFile.read(path), what: path)
        }
        let subject = r.subject ?? csr.subject
        var requested = csr.requestedExtensions
        let sans: [GeneralName]
        if let override = r.subjectAltNames {
            sans = override
            requested.removeAll { $0.oid == ExtensionOID.subjectAltName }
        } else {
            // A SAN the CSR asks for but that cannot be read is refused, never dropped.
            sans = try csr.requestedSubjectAltNames
        }
        var facts = RequestFacts(subject: subject, subjectAltNames: sans, publicKey: csr.publicKey.kind,
                                 requestedExtensions: requested, requestedValidity: r.validity, issuedAt: now)
        facts.biometricTypes = r.biometrics.map(\.kind.description)
        if case .refused(let rule, let reason) = profile.evaluate(facts) {
            return .refused(PolicyRefusal(profile: profile.name, rule: rule, reason: reason), subject: subject)
        }
        return .accepted(Judged(profile: profile, plan: plan, subject: subject, subjectAltNames: sans, publicKey: csr.publicKey,
                                validity: profile.validity(requested: r.validity, at: now), biometrics: r.biometrics))
    }

    /// Step 2.
    func build(_ j: Judged) throws -> ToBeSigned {
        // Backdated by the profile's allowance for clock skew, never before the issuer's own
        // notBefore; the whole period notBefore..notAfter, counted inclusively (RFC 5280
        // 4.1.2.5, BR 6.3.2), is the validity: the backdate is inside it, hence -1 s.
        let notBefore = max(now.addingTimeInterval(-TimeInterval(j.profile.maxBackdate.seconds)), issuer.notBefore)
        let notAfter = notBefore.addingTimeInterval(TimeInterval(j.validity.seconds - 1))
        let san = j.subjectAltNames.isEmpty ? nil : try Extension.subjectAltName(j.subjectAltNames, critical: j.subject.isEmpty)
        let serial = try CAEnvironment.randomSerial()
        // The CRL shard is fixed at issuance, from the serial (uniform: CSPRNG bytes).
        let shard = j.plan.shards > 1 ? Int(serial[serial.count - 1]) % j.plan.shards : 0
        var extensions = j.plan.extensions(ski: .subjectKeyIdentifier(j.publicKey.keyIdentifier), san: san, shard: shard)
        if !j.biometrics.isEmpty { extensions.append(try .biometricInfo(j.biometrics)) }
        let tbs = TBSCertificate(
            serial: serial, signatureAlgorithm: signer.algorithm, issuer: issuer.subject,
            notBefore: notBefore, notAfter: notAfter, subject: j.subject, subjectPublicKeyInfo: j.publicKey.subjectPublicKeyInfo,
            extensions: extensions)
        return ToBeSigned(caName: caName, tbs: tbs, tbsDER: try tbs.encode(), profile: j.profile.name, subject: j.subject, subjectAltNames: j.subjectAltNames, shard: shard,
                          serialHex: Hex.encode(serial))
    }

    /// Step 3.
    func lint(_ t: ToBeSigned, profile: Profile) -> PolicyRefusal? {
        let findings = Linter.check(t.tbs, profile: profile, issuerNotBefore: issuer.notBefore, issuerNotAfter: issuer.notAfter, issuerIsCA: true)
        guard let first = findings.first else { return nil }
        return PolicyRefusal(profile: profile.name, rule: "lint.\(first.rule)", reason: findings.map(\.message).joined(separator: "; "))
    }

    /// Step 5, with the record and audit event step 6 commits.
    func sign(_ t: ToBeSigned) -> (IssuanceResult, AuditEvent?) {
        do {
            if FaultInjection.fails("issue-sign-fails") { throw ETrustError.environment("signing failed (injected by the test)") }
            let certificate = try t.tbs.sign(encoded: t.tbsDER, with: signer)
            let record = CertificateRecord(
                ca: caName, serialHex: certificate.serialHex, subject: t.subject.description, subjectAltNames: t.subjectAltNames.map(\.description),
                profile: t.profile, notBefore: certificate.notBefore, notAfter: certificate.notAfter, shard: t.shard,
                der: certificate.der, requester: requester, issuedAt: now)
            let event = AuditEvent(type: "issue", time: now, ca: caName, serialHex: certificate.serialHex, profile: t.profile,
                                   fields: ["certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "subject": t.subject.description,
                                            "requester": requester])
            return (.issued(certificate, record), event)
        } catch let e as ETrustError {
            return (.failed(e), nil)
        } catch {
            return (.failed(ETrustError.environment("\(error)")), nil)
        }
    }

    private func refusalEvent(_ r: PolicyRefusal, _ subject: DistinguishedName) -> AuditEvent {
        AuditEvent.refusal(r, ca: caName, subject: subject, requester: requester, at: now)
    }
}

extension AuditEvent {
    /// The event of a refusal by a profile rule: the same profile, rule and words the requester sees.
    static func refusal(_ r: PolicyRefusal, ca: String, subject: DistinguishedName, requester: String, at now: Date) -> AuditEvent {
        AuditEvent(type: "refuse", time: now, ca: ca, serialHex: nil, profile: r.profile,
                   fields: ["rule": r.rule, "reason": r.reason, "subject": subject.description, "requester": requester])
    }
}

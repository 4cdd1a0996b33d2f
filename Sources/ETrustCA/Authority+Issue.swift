import Dispatch
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

/// Results written by index from the parallel part of a batch. Each slot has one writer, and the
/// storage is raw memory allocated once: concurrent writes through a Swift array would race on
/// its copy-on-write buffer even at distinct indices.
private final class ResultSlots: @unchecked Sendable {
    let count: Int
    private let results: UnsafeMutablePointer<IssuanceResult?>
    private let auditEvents: UnsafeMutablePointer<AuditEvent?>

    init(_ n: Int) {
        count = n
        results = .allocate(capacity: max(n, 1))
        results.initialize(repeating: nil, count: n)
        auditEvents = .allocate(capacity: max(n, 1))
        auditEvents.initialize(repeating: nil, count: n)
    }

    deinit {
        results.deinitialize(count: count)
        results.deallocate()
        auditEvents.deinitialize(count: count)
        auditEvents.deallocate()
    }

    func set(_ i: Int, _ result: IssuanceResult, _ event: AuditEvent?) {
        results[i] = result
        auditEvents[i] = event
    }

    var slots: [IssuanceResult] { (0..<count).map { results[$0]! } }
    var events: [AuditEvent] { (0..<count).compactMap { auditEvents[$0] } }
}

extension Authority {
    /// Issues one certificate; throws on refusal (category refused) or bad input.
    public func issue(_ request: IssuanceRequest, ca caName: String, allowFromRoot: Bool = false) throws -> (Certificate, CertificateRecord) {
        let result = try issue([request], ca: caName, allowFromRoot: allowFromRoot, release: { _ in })[0]
        switch result {
        case .issued(let c, let r): return (c, r)
        case .refused(let profile, let rule, let reason):
            throw ETrustError.refused("profile '\(profile)' rule '\(rule)': \(reason)")
        case .failed(let e): throw e
        }
    }

    /// Issues a batch. Requests are judged, built, linted and signed in parallel; each group of
    /// `batchCommitSize` results is committed (records and audit events in one transaction)
    /// before `release` sees it. Returns every result, in request order.
    public func issue(_ requests: [IssuanceRequest], ca caName: String, allowFromRoot: Bool = false,
                      release: ([(index: Int, result: IssuanceResult)]) throws -> Void) throws -> [IssuanceResult] {
        let caRecord = try ca(caName)
        let issuer = caRecord.certificate
        let now = clock.now()
        guard issuer.notAfter > now else { throw ETrustError.refused("CA '\(caName)' has expired", code: .policyRefused) }
        let signer = try signer(for: caRecord)
        let issuerKeyID = try issuer.subjectKeyIdentifier ?? issuer.publicKey.keyIdentifier

        // Everything per profile is prepared once, before the parallel part.
        var plans: [String: ExtensionPlan] = [:]
        for name in Set(requests.map(\.profile)) {
            guard let p = profiles[name] else { continue }
            if p.isCA { continue }
            plans[name] = try extensionPlan(profile: p, issuerName: caName, issuerKeyID: issuerKeyID, issuerCRL: crlSettings(of: caRecord))
        }
        let context = IssuanceContext(caName: caName, issuer: issuer, signer: signer, profiles: profiles, plans: plans,
                                      now: now, requester: requester, issuerIsRoot: !allowFromRoot && (profiles[caRecord.profile]?.kind == .rootCA || caRecord.parent == nil))

        // Groups are pipelined: while group N is committed and released on this thread, group
        // N+1 is already being judged and signed on the other cores.
        let groupSize = max(1, home.config.batchCommitSize)
        let groups = stride(from: 0, to: requests.count, by: groupSize).map { $0..<min($0 + groupSize, requests.count) }
        @Sendable func prepare(_ range: Range<Int>) -> ResultSlots {
            let slots = ResultSlots(range.count)
            DispatchQueue.concurrentPerform(iterations: range.count) { i in
                let (result, event) = context.prepare(requests[range.lowerBound + i])
                slots.set(i, result, event)
            }
            return slots
        }
        var all: [IssuanceResult] = []
        all.reserveCapacity(requests.count)
        guard let first = groups.first else { return [] }
        var current = prepare(first)
        for (g, range) in groups.enumerated() {
            let next = PendingSlots()
            let worker = DispatchGroup()
            if g + 1 < groups.count {
                let nextRange = groups[g + 1]
                DispatchQueue.global().async(group: worker) { next.value = prepare(nextRange) }
            }
            let results = current.slots
            let records = results.compactMap { r -> CertificateRecord? in if case .issued(_, let rec) = r { return rec }; return nil }
            let events = current.events
            do {
                if !records.isEmpty || !events.isEmpty {
                    try store.insert(certificates: records, events: events)
                }
                try release(results.enumerated().map { (range.lowerBound + $0.offset, $0.element) })
            } catch {
                worker.wait()   // never leave a signing thread running past a failure
                throw error
            }
            all += results
            worker.wait()
            if let n = next.value { current = n }
        }
        return all
    }
}

private final class PendingSlots: @unchecked Sendable {
    var value: ResultSlots?
}

/// Immutable inputs of the parallel part of issuance.
struct IssuanceContext: Sendable {
    let caName: String
    let issuer: Certificate
    let signer: Signer
    let profiles: [String: Profile]
    let plans: [String: Authority.ExtensionPlan]
    let now: Date
    let requester: String
    let issuerIsRoot: Bool

    func prepare(_ r: IssuanceRequest) -> (IssuanceResult, AuditEvent?) {
        do {
            guard let profile = profiles[r.profile] else {
                throw ETrustError.badInput("unknown profile '\(r.profile)' (available: \(profiles.keys.sorted().joined(separator: ", ")))", code: .notFound)
            }
            guard let plan = plans[r.profile] else {
                throw ETrustError.badInput("profile '\(r.profile)' is a CA profile; use 'etrust ca create'", code: .invalidArgument)
            }
            // A root certifies CAs (and its own OCSP responders) only: BR 6.1.7, root-ca.yaml.
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
            let facts = RequestFacts(subject: subject, subjectAltNames: sans, publicKey: csr.publicKey.kind,
                                     requestedExtensions: requested, requestedValidity: r.validity, issuedAt: now)
            if case .refused(let rule, let reason) = profile.evaluate(facts) {
                return refusal(profile: profile.name, rule: rule, reason: reason, subject: subject)
            }
            let validity = profile.validity(requested: r.validity, at: now)
            // Backdated by the profile's allowance for clock skew, never before the issuer's own
            // notBefore; the whole period notBefore..notAfter, counted inclusively (RFC 5280
            // 4.1.2.5, BR 6.3.2), is the validity: the backdate is inside it, hence -1 s.
            let notBefore = max(now.addingTimeInterval(-TimeInterval(profile.maxBackdate.seconds)), issuer.notBefore)
            let notAfter = notBefore.addingTimeInterval(TimeInterval(validity.seconds - 1))
            let san = sans.isEmpty ? nil : try Extension.subjectAltName(sans, critical: subject.isEmpty)
            let serial = try Authority.randomSerial()
            // The CRL shard is fixed at issuance, from the serial (uniform: CSPRNG bytes).
            let shard = plan.shards > 1 ? Int(serial[serial.count - 1]) % plan.shards : 0
            let tbs = TBSCertificate(
                serial: serial, signatureAlgorithm: signer.algorithm, issuer: issuer.subject,
                notBefore: notBefore, notAfter: notAfter, subject: subject, subjectPublicKeyInfo: csr.publicKey.subjectPublicKeyInfo,
                extensions: plan.extensions(ski: .subjectKeyIdentifier(csr.publicKey.keyIdentifier), san: san, shard: shard))
            let findings = Linter.check(tbs, profile: profile, issuerNotBefore: issuer.notBefore, issuerNotAfter: issuer.notAfter, issuerIsCA: true)
            if let first = findings.first {
                return refusal(profile: profile.name, rule: "lint.\(first.rule)", reason: findings.map(\.message).joined(separator: "; "), subject: subject)
            }
            let certificate = try tbs.sign(with: signer)
            let record = CertificateRecord(
                ca: caName, serialHex: certificate.serialHex, subject: subject.description, subjectAltNames: sans.map(\.description),
                profile: profile.name, notBefore: certificate.notBefore, notAfter: certificate.notAfter, shard: shard,
                der: certificate.der, requester: requester, issuedAt: now)
            let event = AuditEvent(type: "issue", time: now, ca: caName, serialHex: certificate.serialHex, profile: profile.name,
                                   fields: ["certificateSHA256": Hex.encode(certificate.sha256Fingerprint), "subject": subject.description,
                                            "requester": requester])
            return (.issued(certificate, record), event)
        } catch let e as ETrustError {
            // Unreadable input, or a request without proof of possession: nothing is recorded.
            return (.failed(e), nil)
        } catch {
            return (.failed(ETrustError.environment("\(error)")), nil)
        }
    }

    private func refusal(profile: String, rule: String, reason: String, subject: DistinguishedName) -> (IssuanceResult, AuditEvent?) {
        let event = AuditEvent(type: "refuse", time: now, ca: caName, serialHex: nil, profile: profile,
                               fields: ["rule": rule, "reason": reason, "subject": subject.description, "requester": requester])
        return (.refused(profile: profile, rule: rule, reason: reason), event)
    }
}

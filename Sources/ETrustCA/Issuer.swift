import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// Issues end-entity certificates of one home, one request at a time; `BatchIssuer` runs the
/// same steps over many. See `IssuanceSteps` for the order.
public final class Issuer {
    let env: CAEnvironment

    init(env: CAEnvironment) { self.env = env }

    /// The immutable inputs of the steps for `caName` and the named profiles, at this moment.
    func steps(ca caName: String, profiles names: Set<String>, allowFromRoot: Bool) throws -> IssuanceSteps {
        let caRecord = try env.ca(caName)
        let issuer = caRecord.certificate
        let now = env.clock.now()
        guard issuer.notAfter > now else { throw ETrustError.refused("CA '\(caName)' has expired", code: .policyRefused) }
        let signer = try env.keys.signer(for: caRecord)
        let issuerKeyID = try issuer.subjectKeyIdentifier ?? issuer.publicKey.keyIdentifier
        var plans: [String: ExtensionPlan] = [:]
        for name in names {
            guard let p = env.profiles[name], !p.isCA else { continue }
            plans[name] = try ExtensionPlan(profile: p, issuerName: caName, issuerKeyID: issuerKeyID,
                                            issuerCRL: env.crlSettings(of: caRecord), urls: env.urls)
        }
        let isRoot = env.profiles[caRecord.profile]?.kind == .rootCA || caRecord.parent == nil
        return IssuanceSteps(caName: caName, issuer: issuer, signer: signer, profiles: env.profiles, plans: plans, now: now,
                             requester: env.requester, issuerIsRoot: !allowFromRoot && isRoot)
    }

    /// Issues one certificate: judge, build, lint, commit the intent, sign, commit the record,
    /// its audit event and the intent's completion together, then return it. A refusal is
    /// logged and thrown as a refusal naming the profile and rule.
    public func issue(_ request: IssuanceRequest, ca caName: String, allowFromRoot: Bool = false) throws -> (Certificate, CertificateRecord) {
        let steps = try steps(ca: caName, profiles: [request.profile], allowFromRoot: allowFromRoot)
        let result: IssuanceResult
        switch steps.prepare(request) {
        case .finished(let r, let event):
            if let event { try env.audit.log.append([event]) }
            result = r
        case .toSign(let t):
            let intents = try recordIntents([t], at: steps.now)
            FaultInjection.point("issue-after-intent")
            let (r, event) = steps.sign(t)
            FaultInjection.point("issue-after-sign")
            if case .failed(let e) = r {
                try complete([], events: [abandonEvent(t, reason: e.reason, at: steps.now)], intents: [], abandoned: intents, at: steps.now)
            } else {
                try complete([r], events: event.map { [$0] } ?? [], intents: intents, at: steps.now)
            }
            result = r
        }
        switch result {
        case .issued(let c, let r): return (c, r)
        case .refused(let profile, let rule, let reason): throw ETrustError.refused(PolicyRefusal(profile: profile, rule: rule, reason: reason))
        case .failed(let e): throw e
        }
    }

    /// Step 4: the serials and to-be-signed certificates, committed (in their own transaction, or
    /// the caller's) before anything is signed.
    func recordIntents(_ items: [ToBeSigned], at now: Date) throws -> [Int64] {
        let ids = try env.store.insert(intents: items.map {
            IssuanceIntent(ca: $0.caName, serialHex: $0.serialHex, profile: $0.profile, subject: $0.subject.description,
                           tbsDER: $0.tbsDER, createdAt: now, owner: CAEnvironment.processOwner)
        })
        return ids
    }

    /// Step 6: the records of what was signed, the audit events (issues and refusals) and the
    /// intents' completion, in one durable transaction. Intents whose signing failed are
    /// abandoned in the same transaction.
    func complete(_ results: [IssuanceResult], events: [AuditEvent], intents: [Int64], abandoned: [Int64] = [], at now: Date) throws {
        let records = results.compactMap { r -> CertificateRecord? in if case .issued(_, let rec) = r { return rec }; return nil }
        guard !records.isEmpty || !events.isEmpty || !intents.isEmpty || !abandoned.isEmpty else { return }
        try env.store.transaction {
            try env.store.insert(certificates: records)
            try env.audit.log.append(events)
            try env.store.close(intents: intents, state: .completed, at: now)
            try env.store.close(intents: abandoned, state: .abandoned, at: now)
        }
    }

    /// The audit event of an intent given up because its signature failed (nothing was signed).
    func abandonEvent(_ t: ToBeSigned, reason: String, at now: Date) -> AuditEvent {
        AuditEvent(type: "abandon", time: now, ca: t.caName, serialHex: t.serialHex, profile: t.profile,
                   fields: ["subject": t.subject.description, "tbsSHA256": Hex.encode(Digest.sha256(t.tbsDER)), "reason": reason])
    }

    /// Pending intents of processes that are gone: completed if their certificate was recorded,
    /// otherwise abandoned — the certificate never left that process — and logged as such.
    /// Returns the intents abandoned.
    @discardableResult
    public func recoverIntents() throws -> [IssuanceIntent] {
        let now = env.clock.now()
        var abandoned: [IssuanceIntent] = []
        for intent in try env.store.pendingIntents() where !CAEnvironment.isLive(owner: intent.owner) {
            guard let id = intent.id else { continue }
            if try env.store.certificate(ca: intent.ca, serialHex: intent.serialHex) != nil {
                try env.store.close(intents: [id], state: .completed, at: now)
                continue
            }
            try env.store.transaction {
                try env.store.close(intents: [id], state: .abandoned, at: now)
                try env.audit.log.append([AuditEvent(
                    type: "abandon", time: now, ca: intent.ca, serialHex: intent.serialHex, profile: intent.profile,
                    fields: ["subject": intent.subject, "tbsSHA256": Hex.encode(Digest.sha256(intent.tbsDER)),
                             "intentCreated": RFC3339.format(intent.createdAt), "owner": intent.owner,
                             "reason": "the issuing process stopped after recording its intent; the certificate was never released"])])
            }
            abandoned.append(intent)
        }
        return abandoned
    }
}

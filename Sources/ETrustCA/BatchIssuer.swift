import Dispatch
import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

/// Issues many requests with the `Issuer`'s steps: the pure steps (judge, build, lint, sign) run
/// on every core, and each group of `issuance.batchCommitSize` requests goes through intent,
/// signature and record like a single request, committed before `release` sees it.
public final class BatchIssuer {
    let issuer: Issuer

    init(issuer: Issuer) { self.issuer = issuer }

    /// Returns every result, in request order. Groups are pipelined two deep: while group N is
    /// signed and its records committed — together with group N+1's intents, one fsync per
    /// group — group N+2 is judged, built and linted on another thread. Group N is released
    /// after that commit; group N+1 is signed only after its intents are durable.
    public func issue(_ requests: [IssuanceRequest], ca caName: String, allowFromRoot: Bool = false,
                      release: ([(index: Int, result: IssuanceResult)]) throws -> Void) throws -> [IssuanceResult] {
        let steps = try issuer.steps(ca: caName, profiles: Set(requests.map(\.profile)), allowFromRoot: allowFromRoot)
        let groupSize = max(1, issuer.env.home.config.batchCommitSize)
        let groups = stride(from: 0, to: requests.count, by: groupSize).map { $0..<min($0 + groupSize, requests.count) }
        let ahead = Lookahead(groups: groups, requests: requests, steps: steps)
        guard !groups.isEmpty else { return [] }
        var all: [IssuanceResult] = []
        all.reserveCapacity(requests.count)
        var current = ahead.prepare(0)
        ahead.start(1)
        var intents = try issuer.recordIntents(BatchIssuer.toSign(current), at: steps.now)
        FaultInjection.point("issue-after-intent")
        var next = ahead.wait()
        for (g, range) in groups.enumerated() {
            ahead.start(g + 2)
            // Never leave a preparing thread running past a failure.
            defer { _ = ahead.wait() }
            let (results, events, failed) = sign(current, steps: steps)
            FaultInjection.point("issue-after-sign")
            // An intent whose signature failed is abandoned (and logged), the others complete.
            let abandoned = Set(failed.map { intents[$0.index] })
            let abandonEvents = failed.map { issuer.abandonEvent($0.tbs, reason: $0.reason, at: steps.now) }
            var nextIntents: [Int64] = []
            try issuer.env.store.transaction {
                try issuer.complete(results, events: events + abandonEvents, intents: intents.filter { !abandoned.contains($0) },
                                    abandoned: Array(abandoned), at: steps.now)
                nextIntents = try issuer.recordIntents(BatchIssuer.toSign(next), at: steps.now)
            }
            FaultInjection.point("batch-after-group-commit")
            // Each committed group is signed before it is released: a batch killed at any point
            // leaves at most one group outside a checkpoint, and `audit verify` never sees a
            // long unsigned run while a batch is merely running.
            // Not fatal: the group is committed and must be released; a checkpoint that cannot be
            // signed now leaves an unsigned tail that the command's own checkpoint (or the next
            // command) reports and covers.
            _ = try? issuer.env.audit.checkpoint()
            try release(results.enumerated().map { (range.lowerBound + $0.offset, $0.element) })
            all += results
            (current, intents, next) = (next, nextIntents, ahead.wait())
        }
        return all
    }

    static func toSign(_ prepared: [Prepared]) -> [ToBeSigned] {
        prepared.compactMap { p -> ToBeSigned? in if case .toSign(let t) = p { return t }; return nil }
    }

    /// Signs a group on every core; returns each request's result and the audit events
    /// (issuances and refusals) in request order, and the to-be-signed items whose signature
    /// failed (by their position among those to sign).
    private func sign(_ prepared: [Prepared], steps: IssuanceSteps)
        -> ([IssuanceResult], [AuditEvent], [(index: Int, tbs: ToBeSigned, reason: String)]) {
        let toSign = BatchIssuer.toSign(prepared)
        let signed = parallelMap(toSign) { steps.sign($0) }
        let failed = signed.enumerated().compactMap { i, s -> (index: Int, tbs: ToBeSigned, reason: String)? in
            if case .failed(let e) = s.0 { return (i, toSign[i], e.reason) }
            return nil
        }
        var results: [IssuanceResult] = []
        var events: [AuditEvent] = []
        results.reserveCapacity(prepared.count)
        var s = 0
        for p in prepared {
            switch p {
            case .finished(let r, let e):
                results.append(r)
                if let e { events.append(e) }
            case .toSign:
                results.append(signed[s].0)
                if let e = signed[s].1 { events.append(e) }
                s += 1
            }
        }
        return (results, events, failed)
    }
}

/// Judges, builds and lints one group ahead on another thread; `wait` returns it (empty past
/// the last group).
private final class Lookahead: @unchecked Sendable {   // unchecked: `value` has one writer, read only after the worker group is waited on
    let groups: [Range<Int>]
    let requests: [IssuanceRequest]
    let steps: IssuanceSteps
    private let worker = DispatchGroup()
    private var value: [Prepared] = []

    init(groups: [Range<Int>], requests: [IssuanceRequest], steps: IssuanceSteps) {
        self.groups = groups; self.requests = requests; self.steps = steps
    }

    func prepare(_ g: Int) -> [Prepared] {
        guard g < groups.count else { return [] }
        let steps = self.steps
        return parallelMap(Array(requests[groups[g]])) { steps.prepare($0) }
    }

    func start(_ g: Int) {
        worker.wait()
        value = []
        guard g < groups.count else { return }
        DispatchQueue.global().async(group: worker) { self.value = self.prepare(g) }
    }

    func wait() -> [Prepared] {
        worker.wait()
        let v = value
        value = []
        return v
    }
}

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

    /// Returns every result, in request order. Groups are pipelined: while group N is signed,
    /// committed and released, group N+1 is already judged, built and linted on another thread.
    public func issue(_ requests: [IssuanceRequest], ca caName: String, allowFromRoot: Bool = false,
                      release: ([(index: Int, result: IssuanceResult)]) throws -> Void) throws -> [IssuanceResult] {
        let steps = try issuer.steps(ca: caName, profiles: Set(requests.map(\.profile)), allowFromRoot: allowFromRoot)
        let groupSize = max(1, issuer.env.home.config.batchCommitSize)
        let groups = stride(from: 0, to: requests.count, by: groupSize).map { $0..<min($0 + groupSize, requests.count) }
        @Sendable func prepare(_ range: Range<Int>) -> [Prepared] {
            parallelMap(Array(requests[range])) { steps.prepare($0) }
        }
        var all: [IssuanceResult] = []
        all.reserveCapacity(requests.count)
        guard let first = groups.first else { return [] }
        var current = prepare(first)
        for (g, range) in groups.enumerated() {
            var next: (@Sendable () -> [Prepared])?
            if g + 1 < groups.count {
                let nextRange = groups[g + 1]
                next = { prepare(nextRange) }
            }
            let group = try signAndRecord(current, steps: steps, whileCommitting: next) { results in
                try release(results.enumerated().map { (range.lowerBound + $0.offset, $0.element) })
            }
            all += group.results
            if let n = group.next { current = n }
        }
        return all
    }

    /// One group: intents committed, signatures made in parallel, records committed, then
    /// released. `nextGroup` runs on another thread while this group is signed and committed.
    private func signAndRecord(_ prepared: [Prepared], steps: IssuanceSteps, whileCommitting nextGroup: (@Sendable () -> [Prepared])?,
                               release: ([IssuanceResult]) throws -> Void) throws -> (results: [IssuanceResult], next: [Prepared]?) {
        let toSign = prepared.compactMap { p -> ToBeSigned? in if case .toSign(let t) = p { return t }; return nil }
        let intents = try issuer.recordIntents(toSign, at: steps.now)
        let pending = PendingGroup()
        let worker = DispatchGroup()
        if let nextGroup { DispatchQueue.global().async(group: worker) { pending.value = nextGroup() } }
        // Never leave a preparing thread running past a failure.
        defer { worker.wait() }
        let signed = parallelMap(toSign) { steps.sign($0) }
        FaultInjection.point("issue-after-sign")
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
        try issuer.complete(results, events: events, intents: intents, at: steps.now)
        try release(results)
        worker.wait()
        return (results, pending.value)
    }
}

/// The next group, prepared on another thread and read after `DispatchGroup.wait`.
private final class PendingGroup: @unchecked Sendable {   // unchecked: one writer, read only after the writer's group is waited on
    var value: [Prepared]?
}

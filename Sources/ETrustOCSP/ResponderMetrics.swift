import CoreMetrics
import ETrustCore
import Foundation
import NIOConcurrencyHelpers
import Prometheus
import Synchronization

/// The responder's metrics, made through swift-metrics and exported by swift-prometheus (text
/// format 0.0.4). Each server has its own registry (tests run several in one process); the daemon
/// also bootstraps the global MetricsSystem with it. Per-request metrics are made once and
/// updated with atomics; gauges that describe state are set when /metrics is read.
public final class ResponderMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let factory: PrometheusMetricsFactory
    private let ocspRequests: [String: CoreMetrics.Counter]
    private let ok: CoreMetrics.Counter
    private let httpResponses = NIOLockedValueBox<[Int: CoreMetrics.Counter]>([:])
    private let duration: CoreMetrics.Timer
    private let hits: CoreMetrics.Counter
    private let signatures: CoreMetrics.Counter
    private let rejected: CoreMetrics.Counter
    private let logDropped: CoreMetrics.Counter
    private let open = Atomic<Int>(0)
    private let reported = NIOLockedValueBox((hits: 0, signatures: 0, dropped: 0))

    static let outcomes = ["good", "revoked", "unknown", "malformed", "unauthorized", "internal_error", "too_large", "method"]

    public init(version: String = "unknown") {
        var f = PrometheusMetricsFactory(registry: registry)
        f.durationHistogramBuckets["etrust_ocsp_request_duration_seconds"] =
            [.microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
             .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]
        factory = f
        ocspRequests = Dictionary(uniqueKeysWithValues: ResponderMetrics.outcomes.map {
            ($0, CoreMetrics.Counter(label: "etrust_ocsp_requests_total", dimensions: [("outcome", $0)], factory: f))
        })
        duration = CoreMetrics.Timer(label: "etrust_ocsp_request_duration_seconds", factory: f)
        hits = CoreMetrics.Counter(label: "etrust_ocsp_presigned_hits_total", factory: f)
        signatures = CoreMetrics.Counter(label: "etrust_ocsp_signatures_total", factory: f)
        rejected = CoreMetrics.Counter(label: "etrust_rejected_connections_total", factory: f)
        logDropped = CoreMetrics.Counter(label: "etrust_access_log_dropped_total", factory: f)
        Gauge(label: "etrust_build_info", dimensions: [("version", version)], factory: f).record(1)
        ok = CoreMetrics.Counter(label: "etrust_http_responses_total", dimensions: [("status", "200")], factory: f)
        httpResponses.withLockedValue { $0[200] = ok }
        for s in [400, 404, 405, 413, 503] { _ = httpCounter(s) }
    }

    private func httpCounter(_ status: Int) -> CoreMetrics.Counter {
        httpResponses.withLockedValue { map in
            if let c = map[status] { return c }
            let c = CoreMetrics.Counter(label: "etrust_http_responses_total", dimensions: [("status", String(status))], factory: factory)
            map[status] = c
            return c
        }
    }

    /// One HTTP response; OCSP answers (`ocsp` true) also count by outcome and in the histogram.
    func record(ocsp: Bool, outcome: String, httpStatus: Int, nanoseconds: UInt64) {
        httpCounter(httpStatus).increment()
        guard ocsp else { return }
        (ocspRequests[outcome] ?? ocspRequests["internal_error"]!).increment()
        duration.recordNanoseconds(Int64(nanoseconds))
    }

    /// One OCSP answer with HTTP status 200 (the fast path: no lock, no lookup by status).
    func recordOCSP(outcome: OCSPAnswer.Outcome, nanoseconds: UInt64) {
        ok.increment()
        ocspRequests[outcome.rawValue]?.increment()
        duration.recordNanoseconds(Int64(nanoseconds))
    }

    /// Counts a new connection; false when over `limit` (the connection is then closed).
    func connectionOpened(limit: Int) -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        if now > limit {
            open.subtract(1, ordering: .relaxed)
            rejected.increment()
            return false
        }
        return true
    }

    func connectionClosed() { open.subtract(1, ordering: .relaxed) }
    func rejectedConnection() { rejected.increment() }
    public var openConnections: Int { open.load(ordering: .relaxed) }

    /// The exposition: state gauges set from the source, then everything the registry holds.
    public func text(source: OCSPAnswerSource, accessLogDropped: Int) -> String {
        reported.withLockedValue { r in
            hits.increment(by: max(0, source.cacheHits - r.hits))
            signatures.increment(by: max(0, source.signatures - r.signatures))
            logDropped.increment(by: max(0, accessLogDropped - r.dropped))
            r = (source.cacheHits, source.signatures, accessLogDropped)
        }
        gauge("etrust_ocsp_presigned_responses", [], Double(source.cachedResponses))
        gauge("etrust_open_connections", [], Double(openConnections))
        let signers = source.signerHealth()
        for s in signers {
            gauge("etrust_ocsp_signer_not_after_seconds", [("ca", s.ca)], s.notAfter?.timeIntervalSince1970 ?? 0)
            gauge("etrust_ocsp_signer_ready", [("ca", s.ca)], s.problem == nil && !s.expiringSoon ? 1 : 0)
        }
        for (ca, notAfter) in source.readiness.caNotAfter {
            gauge("etrust_ca_not_after_seconds", [("ca", ca)], notAfter.timeIntervalSince1970)
        }
        for c in source.readiness.crlStates {
            gauge("etrust_crl_next_update_seconds", [("ca", c.ca), ("crl", c.kind)], c.nextUpdate?.timeIntervalSince1970 ?? 0)
        }
        let report = source.readiness.report(signers: signers, now: source.clock.now())
        gauge("etrust_ready", [], report.ready ? 1 : 0)
        return registry.emitToString()
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)], _ value: Double) {
        Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }
}

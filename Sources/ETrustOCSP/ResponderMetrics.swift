import Foundation
import NIOConcurrencyHelpers

/// Counters for /metrics (Prometheus text format 0.0.4), kept under one lock.
// @unchecked Sendable: every counter is read and written under `lock`.
public final class ResponderMetrics: @unchecked Sendable {
    private let lock = NIOLock()
    private var requests: [String: Int] = [:]            // by outcome
    private var http: [Int: Int] = [:]                   // by HTTP status
    private let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]
    private var bucketCounts: [Int]
    private var latencySum = 0.0
    private var latencyCount = 0
    public private(set) var openConnections = 0
    private var rejectedConnections = 0

    public init() { bucketCounts = Array(repeating: 0, count: buckets.count) }

    func record(outcome: String, httpStatus: Int, seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        requests[outcome, default: 0] += 1
        http[httpStatus, default: 0] += 1
        latencySum += seconds
        latencyCount += 1
        for (i, b) in buckets.enumerated() where seconds <= b { bucketCounts[i] += 1 }
    }

    /// Counts a new connection; false when over `limit` (the connection is then closed).
    func connectionOpened(limit: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if openConnections >= limit { rejectedConnections += 1; return false }
        openConnections += 1
        return true
    }

    func connectionClosed() {
        lock.lock()
        openConnections -= 1
        lock.unlock()
    }

    public func text(cacheHits: Int, signatures: Int, cached: Int, signers: [OCSPAnswerSource.SignerHealth] = []) -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for s in samples { out += "\(name)\(s.labels) \(s.value)\n" }
        }
        metric("etrust_ocsp_requests_total", "counter", "OCSP requests by outcome.",
               requests.sorted(by: { $0.key < $1.key }).map { ("{outcome=\"\($0.key)\"}", "\($0.value)") })
        metric("etrust_http_responses_total", "counter", "HTTP responses by status.",
               http.sorted(by: { $0.key < $1.key }).map { ("{status=\"\($0.key)\"}", "\($0.value)") })
        out += "# HELP etrust_ocsp_request_duration_seconds Time to answer.\n# TYPE etrust_ocsp_request_duration_seconds histogram\n"
        for (i, b) in buckets.enumerated() { out += "etrust_ocsp_request_duration_seconds_bucket{le=\"\(b)\"} \(bucketCounts[i])\n" }
        out += "etrust_ocsp_request_duration_seconds_bucket{le=\"+Inf\"} \(latencyCount)\n"
        out += "etrust_ocsp_request_duration_seconds_sum \(latencySum)\netrust_ocsp_request_duration_seconds_count \(latencyCount)\n"
        metric("etrust_ocsp_presigned_hits_total", "counter", "Answers served from pre-signed bytes.", [("", "\(cacheHits)")])
        metric("etrust_ocsp_signatures_total", "counter", "Responses signed.", [("", "\(signatures)")])
        metric("etrust_ocsp_presigned_responses", "gauge", "Pre-signed responses held in memory.", [("", "\(cached)")])
        metric("etrust_open_connections", "gauge", "Open HTTP connections.", [("", "\(openConnections)")])
        metric("etrust_rejected_connections_total", "counter", "Connections closed over the limit.", [("", "\(rejectedConnections)")])
        metric("etrust_ocsp_signer_not_after_seconds", "gauge", "Unix time at which each CA's OCSP responder certificate expires (0: none).",
               signers.map { ("{ca=\"\($0.ca)\"}", "\(Int($0.notAfter?.timeIntervalSince1970 ?? 0))") })
        metric("etrust_ocsp_signer_ready", "gauge", "1 when the CA's responder certificate is present and unexpired.",
               signers.map { ("{ca=\"\($0.ca)\"}", $0.problem == nil ? "1" : "0") })
        return out
    }
}

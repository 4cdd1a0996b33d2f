import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// Bad input and limits of the in-process responder: malformed OCSP, oversized bodies, too many
/// certificates, slow and idle clients, bare connections, bad HTTP, path traversal, the
/// connection cap; and the other routes (/crl, /ca, /healthz, /metrics).
@Suite("etrust-ocspd limits and bad input")
struct ResponderLimitsTests {
    static let malformed: [UInt8] = [0x30, 0x03, 0x0a, 0x01, 0x01]

    /// The server still answers an OCSP request properly.
    func stillServes(_ port: Int, _ f: OT.Fixture) throws {
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true)
        let r = try HTTP.postOCSP(port: port, req.der)
        #expect(r.status == 200)
        let c = try OCSPClient.check(response: r.body, certificate: f.good, issuer: f.issuing,
                                     trust: try TrustStore(anchors: [f.root]), request: req, at: Date())
        #expect(c.status == .good)
    }

    @Test("empty body, random bytes, a truncated request, a bad GET: 200 with malformedRequest (30 03 0a 01 01)")
    func malformedBodies() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        var rng = SystemRandomNumberGenerator()
        let random = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let good = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der
        let bodies: [(String, [UInt8])] = [("empty", []), ("random", random), ("truncated", Array(good.dropLast(3))),
                                           ("trailing garbage", good + [0, 0]), ("a certificate", f.good.der)]
        for (label, body) in bodies {
            let r = try HTTP.postOCSP(port: port, body)
            #expect(r.status == 200, "\(label)")
            #expect(r.body == Self.malformed, "\(label): \(r.body)")
            #expect(r.header("Content-Type") == "application/ocsp-response", "\(label)")
        }
        for path in ["/ocsp/", "/ocsp/%%%%", "/ocsp/!!notbase64!!", "/ocsp/" + Data(random).base64EncodedString()] {
            let r = try HTTP.request(port: port, "GET", path)
            #expect(r.status == 200, "GET \(path)")
            #expect(r.body == Self.malformed, "GET \(path): \(r.body)")
        }
        let metrics = try HTTP.metrics(port: port)
        #expect(metrics.contains("etrust_ocsp_requests_total{outcome=\"malformed\"} 9"), "\(metrics)")
        try stillServes(port, f)
    }

    @Test("more than maxCertificatesPerRequest certificates: malformedRequest; exactly the limit is answered")
    func tooManyCertificates() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.maxCertificatesPerRequest = 3 }
        defer { server.shutdown(grace: 1) }
        func request(_ n: Int) throws -> [UInt8] {
            let path = f.work + "/req\(n).der"
            var args = ["ocsp", "-issuer", f.issuingPath, "-reqout", path, "-no_nonce"]
            for i in 0..<n { args += ["-serial", "0x\(String(0x1000 + i, radix: 16))"] }
            let r = try OT.openssl(args)
            try #require(FileManager.default.fileExists(atPath: path), "\(r.output)")
            return try OT.bytes(path)
        }
        let over = try HTTP.postOCSP(port: port, try request(4))
        #expect(over.status == 200)
        #expect(over.body == Self.malformed, "\(over.body)")
        let at = try HTTP.postOCSP(port: port, try request(3))
        #expect(at.status == 200)
        #expect(at.body.count > 5 && at.body != Self.malformed)
        let text = try OT.openssl(["ocsp", "-respin", try { let p = f.work + "/at.der"; try OT.write(at.body, to: p); return p }(),
                                   "-resp_text", "-noverify"])
        #expect(text.output.components(separatedBy: "Cert Status: unknown").count - 1 == 3, "\(text.output)")
    }

    @Test("a 10 MiB body: HTTP 413 and the connection closed; the next request is answered")
    func oversizedBody() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        let big = [UInt8](repeating: 0x41, count: 10 * 1024 * 1024)
        let c = try RawConnection(port: port)
        c.send("POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: \(big.count)\r\n\r\n")
        // The server may answer and close before the whole body is sent; a failed send is fine.
        _ = c.send(big)
        let r = try c.readResponse()
        #expect(r.status == 413)
        #expect(r.header("Connection")?.lowercased() == "close")
        #expect(c.closedByPeer(within: 3), "the connection stays open after 413")

        // Without Content-Length (chunked), the limit holds as well.
        let chunked = try RawConnection(port: port)
        chunked.send("POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = [UInt8](repeating: 0x42, count: 32 * 1024)
        for _ in 0..<4 { _ = chunked.send(Array("8000\r\n".utf8) + chunk + Array("\r\n".utf8)) }
        _ = chunked.send("0\r\n\r\n")
        let r2 = try chunked.readResponse()
        #expect(r2.status == 413)

        // 64 KiB exactly is not over the limit (it is then malformed OCSP).
        let edge = try HTTP.postOCSP(port: port, [UInt8](repeating: 0x30, count: 64 * 1024))
        #expect(edge.status == 200)
        #expect(edge.body == Self.malformed)
        try stillServes(port, f)
    }

    @Test("a client sending its request head one byte a second is closed after headerTimeout, while others are answered")
    func slowHeader() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        // idleTimeout stays at its default (30 s): only the header timeout may close this client.
        let (server, port) = try OT.startServer(f) { $0.headerTimeout = 2 }
        defer { server.shutdown(grace: 1) }
        let slow = try RawConnection(port: port)
        let text = Array("POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\n".utf8)
        let start = Date()
        var closedAfter: TimeInterval?
        var answeredMeanwhile = false
        for byte in text {
            guard slow.send([byte]) else { closedAfter = Date().timeIntervalSince(start); break }
            if !answeredMeanwhile { try stillServes(port, f); answeredMeanwhile = true }
            if slow.closedByPeer(within: 1) { closedAfter = Date().timeIntervalSince(start); break }
            if Date().timeIntervalSince(start) > 6 { break }
        }
        #expect(answeredMeanwhile)
        let closed = try #require(closedAfter, "a client still sending its request head one byte a second was not closed within 6 s (headerTimeout 2 s)")
        #expect(closed < 5, "closed after \(closed) s")
    }

    @Test("a client sending its body one byte a second is closed after headerTimeout, while others are answered")
    func slowBody() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.headerTimeout = 2 }
        defer { server.shutdown(grace: 1) }
        let slow = try RawConnection(port: port)
        slow.send("POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n")
        let start = Date()
        var closedAfter: TimeInterval?
        var answeredMeanwhile = false
        for _ in 0..<100 {
            guard slow.send([0x30]) else { closedAfter = Date().timeIntervalSince(start); break }
            if !answeredMeanwhile { try stillServes(port, f); answeredMeanwhile = true }
            if slow.closedByPeer(within: 1) { closedAfter = Date().timeIntervalSince(start); break }
            if Date().timeIntervalSince(start) > 6 { break }
        }
        #expect(answeredMeanwhile)
        let closed = try #require(closedAfter, "a slow body was not cut within 6 s (headerTimeout 2 s)")
        #expect(closed < 5, "closed after \(closed) s")
    }

    @Test("an idle keep-alive connection is closed after idleTimeout")
    func idleConnection() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.idleTimeout = 1 }
        defer { server.shutdown(grace: 1) }
        let c = try RawConnection(port: port)
        let r = try c.request("GET", "/healthz")
        #expect(r.status == 200)
        #expect(c.closedByPeer(within: 4), "an idle connection outlived idleTimeout (1 s)")
    }

    @Test("20 bare connect-and-close, a malformed request line, a header of garbage: the server keeps serving")
    func bareConnectionsAndBadHTTP() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }
        for _ in 0..<20 { _ = try RawConnection(port: port) }    // closed at once by deinit
        try stillServes(port, f)

        let bad = try RawConnection(port: port)
        bad.send("THIS IS NOT HTTP\r\n\r\n")
        switch bad.receive() {
        case .data(let d): #expect(String(decoding: d, as: UTF8.self).hasPrefix("HTTP/1.1 400"), "\(String(decoding: d, as: UTF8.self))")
        case .eof, .error: break
        case .timeout: Issue.record("no answer and no close after a malformed request line")
        }
        let binary = try RawConnection(port: port)
        binary.send([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])    // a TLS ClientHello start
        _ = binary.closedByPeer(within: 2)
        try stillServes(port, f)

        // Connections closed by clients are no longer counted as open.
        var open: Double?
        for _ in 0..<20 {
            open = OT.metric(try HTTP.metrics(port: port), "etrust_open_connections")
            if open == 1 { break }
            usleep(100_000)
        }
        #expect(open == 1, "etrust_open_connections \(String(describing: open)) (only the /metrics connection is open)")
    }

    @Test("/crl/<file> and /ca/<file> from HOME/pub; traversal and unknown paths are 404; /healthz; /metrics")
    func filesHealthAndMetrics() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let crl = try TestSupport.etrust(["crl", "--ca", "issuing", "--home", f.home])
        try #require(crl.status == 0, "etrust crl: \(crl.stderr)")
        let (server, port) = try OT.startServer(f)
        defer { server.shutdown(grace: 1) }

        let r = try HTTP.request(port: port, "GET", "/crl/issuing.crl")
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "application/pkix-crl")
        let onDisk = try OT.bytes(f.home + "/pub/crl/issuing.crl")
        #expect(r.body == onDisk)
        let crlPath = f.work + "/served.crl"
        try OT.write(r.body, to: crlPath)
        let parsed = try OT.openssl(["crl", "-inform", "DER", "-in", crlPath, "-noout", "-text"])
        #expect(parsed.status == 0, "\(parsed.output)")
        #expect(parsed.output.contains("Serial Number: \(f.revoked.serialHex.uppercased())") ||
                parsed.output.lowercased().contains(f.revoked.serialHex), "\(parsed.output)")

        // CA certificates published under pub/ca (whatever etrust put there).
        let caFiles = (try? FileManager.default.contentsOfDirectory(atPath: f.home + "/pub/ca")) ?? []
        for name in caFiles.prefix(3) {
            let c = try HTTP.request(port: port, "GET", "/ca/" + name)
            #expect(c.status == 200, "/ca/\(name)")
            #expect(c.body == (try OT.bytes(f.home + "/pub/ca/" + name)), "/ca/\(name)")
        }

        for path in ["/crl/../etrust.db", "/ca/%2e%2e", "/ca/%2e%2e/etrust.db", "/crl/%2e%2e%2fetrust.db", "/crl/.hidden",
                     "/crl/", "/crl/missing.crl", "/ca/../../etc/passwd", "/etrust.db", "/nothing"] {
            let n = try HTTP.request(port: port, "GET", path)
            #expect(n.status == 404, "GET \(path): \(n.status)")
            #expect(!OT.contains(n.body, Array("SQLite format".utf8)), "GET \(path) leaked the database")
        }

        let health = try HTTP.request(port: port, "GET", "/healthz")
        #expect(health.status == 200)
        let metrics = try HTTP.metrics(port: port)
        #expect(metrics.contains("etrust_ocsp_requests_total{"), "\(metrics)")
        #expect(metrics.contains("# TYPE etrust_ocsp_request_duration_seconds histogram"), "\(metrics)")
        #expect(metrics.contains("etrust_ocsp_request_duration_seconds_bucket{le=\"+Inf\"}"), "\(metrics)")
        #expect(metrics.contains("etrust_ocsp_request_duration_seconds_count"), "\(metrics)")
        #expect(metrics.contains("etrust_http_responses_total{status=\"404\"}"), "\(metrics)")
    }

    @Test("connection cap: with maxConnections = 2 a third connection is closed; after one closes, requests work again")
    func connectionCap() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try OT.startServer(f) { $0.maxConnections = 2 }
        defer { server.shutdown(grace: 1) }
        var first: RawConnection? = try RawConnection(port: port)
        let second = try RawConnection(port: port)
        // Both accepted and served (so counted), then idle.
        #expect(try first!.request("GET", "/healthz").status == 200)
        #expect(try second.request("GET", "/healthz").status == 200)

        let third = try RawConnection(port: port)
        third.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        var answered = false
        third.setTimeout(3)
        if case .data(let d) = third.receive() { answered = String(decoding: d, as: UTF8.self).hasPrefix("HTTP/1.1 200") }
        #expect(!answered, "a third connection was served over maxConnections = 2")
        #expect(third.closedByPeer(within: 3), "a third connection was not closed")

        first = nil    // closes one
        var worked = false
        for _ in 0..<20 {
            if let r = try? HTTP.request(port: port, "GET", "/healthz"), r.status == 200 { worked = true; break }
            usleep(100_000)
        }
        #expect(worked, "no request worked after a connection closed")
        let metrics = try second.request("GET", "/metrics")
        #expect(OT.metric(String(decoding: metrics.body, as: UTF8.self), "etrust_rejected_connections_total").map { $0 >= 1 } == true)
    }
}

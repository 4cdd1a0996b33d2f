import ETrustCA
import ETrustCore
@testable import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// The responder's fast HTTP path: the narrow request parser (what it takes, and everything it
/// leaves to the complete HTTP stack), the per-event-loop answer cache, and the handler on an
/// EmbeddedChannel (answers, pipelining, hand-over to the complete stack mid-connection).
@Suite("Responder fast path")
struct FastPathTests {
    static func parse(_ text: String, body: [UInt8] = [], maxBody: Int = 65_536) -> FastHTTPRequest.Parse {
        (Array(text.utf8) + body).withUnsafeBytes { FastHTTPRequest.parse($0, maxBody: maxBody) }
    }

    static func request(_ p: FastHTTPRequest.Parse) -> FastHTTPRequest? {
        if case .request(let r) = p { return r }
        return nil
    }

    @Test("requests the fast path takes: POST /ocsp and /, GET /ocsp/<b64>; keep-alive as HTTP/1.0 and 1.1 define it")
    func recognised() throws {
        let post = try #require(Self.request(Self.parse("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n", body: [1, 2, 3])))
        #expect(post.method == .post && post.target == Array("/ocsp".utf8) && post.contentLength == 3 && post.keepAlive && !post.http10)
        #expect(post.headLength == "POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n".utf8.count)
        let root = try #require(Self.request(Self.parse("POST / HTTP/1.0\r\ncontent-length:0\r\n\r\n")))
        #expect(root.http10 && !root.keepAlive && root.contentLength == 0)
        #expect(Self.request(Self.parse("POST / HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"))?.keepAlive == true)
        #expect(Self.request(Self.parse("POST / HTTP/1.1\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n"))?.keepAlive == false)
        #expect(Self.request(Self.parse("POST / HTTP/1.1\r\nConnection:\tCLOSE \r\nContent-Length: 0\r\n\r\n"))?.keepAlive == false)
        let get = try #require(Self.request(Self.parse("GET /ocsp/MEIwQDA%2B HTTP/1.1\r\nHost: x\r\n\r\n")))
        #expect(get.method == .get && get.path == "/ocsp/MEIwQDA%2B" && get.contentLength == 0)
        // Whatever follows one request (the next, pipelined) is not part of it.
        let first = try #require(Self.request(Self.parse("POST /ocsp HTTP/1.1\r\nContent-Length: 2\r\n\r\nabPOST /ocsp HTTP/1.1\r\n")))
        #expect(first.headLength + first.contentLength == "POST /ocsp HTTP/1.1\r\nContent-Length: 2\r\n\r\nab".utf8.count)
    }

    @Test("a head or body not complete yet waits for more bytes")
    func incomplete() {
        #expect(Self.parse("") == .incomplete)
        #expect(Self.parse("POST /ocsp HTTP/1.1\r\nContent-Len") == .incomplete)
        #expect(Self.parse("POST /ocsp HTTP/1.1\r\nContent-Length: 10\r\n\r\n", body: [1, 2, 3]) == .incomplete)
        #expect(Self.parse("POST /ocsp HTTP/1.1\r\nX: " + String(repeating: "a", count: 5000)) == .incomplete)
    }

    @Test("everything else goes to the complete HTTP stack: other routes and methods, chunked, Expect, Upgrade, odd or repeated Content-Length, obs-fold, bare LF, control bytes, large heads and bodies")
    func handedOver() {
        let others = [
            "GET /healthz HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1\r\n\r\n", "POST /tsa HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            "PUT /ocsp HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "post /ocsp HTTP/1.1\r\n\r\n", "GET /ocsp/ HTTP/1.1\r\n\r\n",
            "POST /ocsp?x=1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "POST /ocsp/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            "POST /ocsp HTTP/2.0\r\n\r\n", "POST /ocsp HTTP/1.1 \r\n\r\n", "POST  /ocsp HTTP/1.1\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nContent-Length: 3x\r\n\r\n", "POST /ocsp HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nContent-Length: 1234567890\r\n\r\n", "POST /ocsp HTTP/1.1\r\nContent-Length:\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nContent-Length : 3\r\n\r\n", "POST /ocsp HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
            "POST /ocsp HTTP/1.1\nContent-Length: 0\n\n\r\n\r\n", "POST /ocsp HTTP/1.1\r\nHost: a\rb\r\n\r\n",
            "POST /ocsp HTTP/1.1\r\nHost: a\u{01}b\r\n\r\n", "POST /ocsp HTTP/1.1\r\nHost: a\u{7f}\r\n\r\n",
            "GET /ocsp/MEIw HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            "POST /ocsp HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 70) + "\r\n",
            "POST /ocsp HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n",
        ]
        for text in others {
            #expect(Self.parse(text) == .other, "\(text.prefix(80).debugDescription)")
        }
        #expect(Self.parse("POST /ocsp HTTP/1.1\r\nContent-Length: 101\r\n\r\n", maxBody: 100) == .other)
    }

    @Test("the answer cache: a hit within its second and generation; stale after either moves, never past nextUpdate; bounded")
    func answerCache() throws {
        var a = OCSPAnswer(body: [0x30, 0x03, 0x0a, 0x01, 0x00], outcome: .good, thisUpdate: Date(), nextUpdate: Date().addingTimeInterval(3600),
                           etag: "\"e\"", fromCache: true, serials: ["01"])
        let answer = FastAnswer(a, http10: false)
        let text = String(buffer: answer.keepAliveBytes)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 5\r\nCache-Control: max-age="))
        #expect(text.contains("\r\nETag: \"e\"\r\n\r\n") && !text.contains("Connection"))
        #expect(String(buffer: answer.closingBytes).contains("\r\nConnection: close\r\n\r\n"))
        #expect(String(buffer: FastAnswer(a, http10: true).keepAliveBytes).hasPrefix("HTTP/1.0 200 OK") )
        #expect(String(buffer: FastAnswer(a, http10: true).keepAliveBytes).contains("Connection: keep-alive\r\n\r\n"))

        let cache = FastAnswerCache(capacity: 3)
        let t0: UInt64 = DispatchTime.now().uptimeNanoseconds
        cache.store([1], answer, now: t0, generation: 7)
        #expect(cache.lookup([1], now: t0 + 500_000_000, generation: 7) != nil)
        #expect(cache.lookup([2], now: t0, generation: 7) == nil)
        #expect(cache.lookup([1], now: t0 + 500_000_000, generation: 8) == nil, "an answer changed since: stale")
        cache.store([1], answer, now: t0, generation: 8)
        #expect(cache.lookup([1], now: t0 + FastAnswerCache.lifetime, generation: 8) == nil, "older than a second: stale")
        a.nextUpdate = Date().addingTimeInterval(0.2)
        cache.store([3], FastAnswer(a, http10: false), now: t0, generation: 8)
        #expect(cache.lookup([3], now: t0 + 400_000_000, generation: 8) == nil, "never past the answer's nextUpdate")
        for k in 10..<20 { cache.store([UInt8(k)], answer, now: t0, generation: 8) }
        #expect(cache.count <= 3)
    }

    /// An EmbeddedChannel with the daemon's per-connection handler; returns what it wrote for `input`.
    static func exchange(_ server: OCSPServer, _ input: [UInt8], keepOpen: Bool = false,
                         answers: FastAnswerCache = FastAnswerCache()) throws -> (output: String, channel: EmbeddedChannel) {
        let (bytes, channel) = try exchangeBytes(server, input, keepOpen: keepOpen, answers: answers)
        return (String(decoding: bytes, as: UTF8.self), channel)
    }

    static func exchangeBytes(_ server: OCSPServer, _ input: [UInt8], keepOpen: Bool = false,
                              answers: FastAnswerCache = FastAnswerCache()) throws -> (output: [UInt8], channel: EmbeddedChannel) {
        let channel = EmbeddedChannel()
        let handler = OCSPFastPathHandler(server: server, clock: ConnectionClock(headerTimeout: 10), answers: answers)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        try channel.writeInbound(ByteBuffer(bytes: input))
        var out: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let b) = part { out += Array(b.readableBytesView) }
        }
        if !keepOpen { _ = try? channel.finish() }
        return (out, channel)
    }

    /// A server over the fixture's home (not listening), the good certificate's RFC 5019 request, and that request POSTed.
    static func serverAndRequest(_ f: OT.Fixture) throws -> (OCSPAnswerSource, OCSPServer, [UInt8], [UInt8]) {
        let source = try OT.source(f)
        let server = OCSPServer(source: source, configuration: source.configuration, publicDirectory: f.home + "/pub",
                                logger: Logger(label: "test"), threads: 1)
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der
        return (source, server, req, Array("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: \(req.count)\r\n\r\n".utf8) + req)
    }

    static func count(_ s: String, _ needle: String) -> Int { s.components(separatedBy: needle).count - 1 }

    @Test("the handler: pipelined OCSP answers in order (the repeat from the cache), hand-over mid-connection to the complete stack (/healthz, chunked, 404), HTTP/1.0 and Connection: close")
    func embeddedHandler() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (source, server, req, post) = try Self.serverAndRequest(f)
        let hits = source.cacheHits
        let (twice, open) = try Self.exchange(server, post + post, keepOpen: true)
        #expect(Self.count(twice, "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response") == 2, "\(twice.prefix(400))")
        #expect(source.cacheHits == hits + 2, "both answered from pre-signed bytes")
        #expect(try open.pipeline.syncOperations.handler(type: OCSPFastPathHandler.self) is OCSPFastPathHandler, "still on the fast path")
        _ = try? open.finish()

        // OCSP, then /healthz (handed over), then OCSP again: answered in order by the complete stack.
        let mixed = post + Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + post
        let (three, after) = try Self.exchange(server, mixed, keepOpen: true)
        let okAt = try #require(three.range(of: "\r\n\r\nok\n"))
        #expect(Self.count(three, "application/ocsp-response") == 2 && three.components(separatedBy: "application/ocsp-response")[0].isEmpty == false)
        #expect(three.range(of: "application/ocsp-response")!.lowerBound < okAt.lowerBound
                && three.range(of: "application/ocsp-response", options: .backwards)!.lowerBound > okAt.lowerBound, "\(three)")
        #expect((try? after.pipeline.syncOperations.handler(type: OCSPFastPathHandler.self)) == nil, "handed over: the fast handler left")
        _ = try? after.finish()

        // A chunked body is the complete stack's: still answered.
        let chunked = Array("POST /ocsp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\(String(req.count, radix: 16))\r\n".utf8)
            + req + Array("\r\n0\r\n\r\n".utf8)
        let viaStack = try Self.exchange(server, chunked).output
        #expect(viaStack.hasPrefix("HTTP/1.1 200 OK") && viaStack.contains("application/ocsp-response"), "\(viaStack.prefix(300))")
        #expect(try Self.exchange(server, Array("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n".utf8)).output.hasPrefix("HTTP/1.1 404"))

        // HTTP/1.0 without keep-alive, and Connection: close: answered, then the connection closes.
        let old = Array("POST / HTTP/1.0\r\nContent-Length: \(req.count)\r\n\r\n".utf8) + req
        let (answer10, closed10) = try Self.exchange(server, old, keepOpen: true)
        #expect(answer10.hasPrefix("HTTP/1.0 200 OK") && answer10.contains("Connection: close\r\n"), "\(answer10.prefix(300))")
        #expect(!closed10.isActive)
        let close = Array("POST /ocsp HTTP/1.1\r\nConnection: close\r\nContent-Length: \(req.count)\r\n\r\n".utf8) + req
        let (answerClose, closed) = try Self.exchange(server, close, keepOpen: true)
        #expect(answerClose.contains("Connection: close\r\n") && !closed.isActive)
        // Not a request at all: malformedRequest from the fast path (an empty body is not an OCSP request).
        let empty = try Self.exchange(server, Array("POST /ocsp HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8)).output
        #expect(empty.hasSuffix("\r\n\r\n\u{30}\u{03}\u{0a}\u{01}\u{01}"), "\(empty.debugDescription)")
    }

    @Test("a revocation reaches the fast path at once: the same request bytes, asked again within the cache's second, get the new answer")
    func revocationInvalidatesCache() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (source, server, _, post) = try Self.serverAndRequest(f)
        let answers = FastAnswerCache()
        func outcome() throws -> OCSPCertificateStatus {
            let bytes = try Self.exchangeBytes(server, post, answers: answers).output
            let end = try #require((0..<max(0, bytes.count - 3)).first { bytes[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) })
            return try OCSPClient.check(response: Array(bytes[(end + 4)...]), certificate: f.good, issuer: f.issuing,
                                        trust: try TrustStore(anchors: [f.root]), request: nil, at: Date()).status
        }
        #expect(try outcome() == .good)
        #expect(answers.count == 1, "kept for the next asker")
        try OT.authority(f.home).revoke(ca: "issuing", serial: f.good.serialHex, reason: .keyCompromise)
        try source.refresh()
        guard case .revoked = try outcome() else { Issue.record("the cached good answer was served after the revocation"); return }
    }
}

import ETrustCA
import ETrustCore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import ETrustOCSP

/// A home made once per process under the temporary directory (root -> issuing CA, one leaf,
/// provisioned responders): the certificates and server the OCSP, CRL, trust-list and HTTP
/// harnesses check against. Its keys are random, but each input takes the same path every run.
final class Fixture: @unchecked Sendable {
    static let shared: Fixture = {
        do { return try Fixture() } catch { fatalError("fuzz fixture: \(error)") }
    }()

    let now = Date()
    let issuing: Certificate
    let good: Certificate
    let trust: TrustStore
    let request: OCSPClient.Request
    let server: OCSPServer
    /// One answer cache for every input, as an event loop keeps one for all its connections.
    let answers = FastAnswerCache()

    private init() throws {
        let pki = try TestSupport.makePKI()
        let a = pki.authority
        issuing = try a.ca("issuing").certificate
        let csr = try TestSupport.csr(subject: "CN=fuzz,O=etrust tests,C=TG")
        good = try a.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "issuing").0
        trust = try TrustStore(anchors: [try a.ca("root").certificate])
        request = try OCSPClient.request(for: good, issuer: issuing, nonce: true)
        for ca in ["root", "issuing"] {
            _ = try OCSPSigning(authority: a).provision(ca: ca, signerPassphrase: Array("test-passphrase".utf8))
        }
        var config = ResponderConfiguration()
        config.port = 0
        let authority = try Authority(home: try Home.open(pki.home), clock: SystemClock(), passphrase: { Array("test-passphrase".utf8) })
        let source = try OCSPAnswerSource(authority: authority, configuration: config)
        var logger = Logger(label: "etrust-fuzz")
        logger.logLevel = .critical
        server = OCSPServer(source: source, configuration: config, publicDirectory: try Home.open(pki.home).pubDirectory,
                            logger: logger, threads: 1)
    }
}

extension Harness {
    static func ocspRequest(_ bytes: [UInt8]) {
        _ = OCSPResponder.parse(bytes)
        _ = Fixture.shared.server.source.question(bytes)
    }

    /// The bytes as they arrive on a connection, through the daemon's own per-connection handler:
    /// the fast path's parser (FastHTTPRequest) and answer cache, and, from the first request it
    /// does not take, the hand-over to NIO's HTTP/1 decoder and the responder's router (routing,
    /// body limit, the GET path decoder, request parsing, answering). The bytes arrive in two
    /// reads, split where the first byte says, so that requests cut anywhere are covered too.
    static func http(_ bytes: [UInt8]) {
        let server = Fixture.shared.server
        let channel = EmbeddedChannel()
        defer {
            // finish() runs the pending timers, unless the handler closed the channel already:
            // shutting the loop down releases them then (a real loop fires them at their deadline).
            _ = try? channel.finish()
            try? channel.embeddedEventLoop.syncShutdownGracefully()
        }
        do {
            let handler = OCSPFastPathHandler(server: server, clock: ConnectionClock(headerTimeout: 10), answers: Fixture.shared.answers)
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<split]))
            try channel.writeInbound(ByteBuffer(bytes: bytes[split...]))
            while let _ = try channel.readOutbound(as: IOData.self) {}
        } catch {}
        _ = OCSPHTTPHandler.decodeGET(String(decoding: bytes, as: UTF8.self))
        _ = bytes.withUnsafeBytes { FastHTTPRequest.parse($0, maxBody: 65_536) }
    }
}

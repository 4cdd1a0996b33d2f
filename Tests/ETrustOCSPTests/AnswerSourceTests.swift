import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// OCSPAnswerSource without a socket: every outcome, the pre-signed path, and revocations made by
/// another Authority (another connection, as `etrust revoke` in another process) picked up by
/// refresh(), also across a restart of the responder.
@Suite("OCSPAnswerSource (no socket)")
struct AnswerSourceTests {
    func status(_ a: OCSPAnswer, _ f: OT.Fixture, _ cert: Certificate, request: OCSPClient.Request? = nil) throws -> OCSPCertificateStatus {
        try OCSPClient.check(response: a.body, certificate: cert, issuer: f.issuing, trust: try TrustStore(anchors: [f.root]),
                             request: request, at: Date()).status
    }

    @Test("answer(): good, revoked (time and reason), unknown, malformed, unauthorized")
    func outcomes() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)

        let goodReq = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true)
        let good = source.answer(goodReq.der)
        #expect(good.outcome == .good)
        #expect(good.serials == [f.good.serialHex])
        #expect(!good.fromCache)
        #expect(try status(good, f, f.good, request: goodReq) == .good)
        let next = try #require(good.nextUpdate)
        let this = try #require(good.thisUpdate)
        #expect(abs(next.timeIntervalSince(this) - OCSPSigning.responseValidity) < 2)

        let record = try #require(try f.authority.store.certificate(ca: "issuing", serialHex: f.revoked.serialHex))
        let revReq = try OCSPClient.request(for: f.revoked, issuer: f.issuing, nonce: true)
        let revoked = source.answer(revReq.der)
        #expect(revoked.outcome == .revoked)
        let st = try status(revoked, f, f.revoked, request: revReq)
        #expect(st == .revoked(time: Date(timeIntervalSince1970: floor(record.revokedAt!.timeIntervalSince1970)), reason: .keyCompromise), "\(st)")

        let never = try OCSPResponder.Query(issuer: f.issuing, serialHex: "7a11ce0000beef")
        let neverReq = try requestDER([never])
        let unknown = source.answer(neverReq)
        #expect(unknown.outcome == .unknown)
        #expect(unknown.body.count > 5)

        for bad: [UInt8] in [[], [0x30, 0x00], [0x30, 0x03, 0x0a, 0x01, 0x01], Array("GET / HTTP/1.1".utf8)] {
            let m = source.answer(bad)
            #expect(m.outcome == .malformed, "\(bad)")
            #expect(m.body == [0x30, 0x03, 0x0a, 0x01, 0x01])
        }

        // Another PKI's issuing CA: not served here.
        let other = try TestSupport.makePKI()
        defer { try? FileManager.default.removeItem(atPath: (other.home as NSString).deletingLastPathComponent) }
        let otherIssuing = try other.authority.ca("issuing").certificate
        let foreign = source.answer(try requestDER([try OCSPResponder.Query(issuer: otherIssuing, serialHex: f.good.serialHex)]))
        #expect(foreign.outcome == .unauthorized)
        #expect(foreign.body == [0x30, 0x03, 0x0a, 0x01, 0x06])
        // One of ours and one foreign in the same request: not signed for the foreign one either.
        let mixed = source.answer(try requestDER([try OCSPResponder.Query(issuer: f.issuing, serialHex: f.good.serialHex),
                                                  try OCSPResponder.Query(issuer: otherIssuing, serialHex: "01")]))
        #expect(mixed.outcome == .unauthorized)

        // The root's own certificates (issuing) are answered too: every CA of the home is served.
        let rootQuery = try OCSPResponder.Query(issuer: f.root, serialHex: f.issuing.serialHex)
        let issuingStatus = source.answer(try requestDER([rootQuery]))
        #expect(issuingStatus.outcome == .good)
        #expect(try OCSPClient.check(response: issuingStatus.body, certificate: f.issuing, issuer: f.root,
                                     trust: try TrustStore(anchors: [f.root]), request: nil, at: Date()).status == .good)
    }

    func requestDER(_ queries: [OCSPResponder.Query]) throws -> [UInt8] { OT.requestDER(queries) }

    @Test("a no-nonce SHA-1 request for a certificate not pre-signed yet is signed once, then served from the pre-signed bytes")
    func presigned() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        // Issued after the responder was provisioned (which pre-signed the others) and started.
        let csr = try TestSupport.csr(subject: "CN=after-provision,O=etrust tests,C=TG")
        let fresh = try f.authority.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "issuing").0
        let req = try OCSPClient.request(for: fresh, issuer: f.issuing, nonce: false)
        let first = source.answer(req.der)
        #expect(!first.fromCache)
        let second = source.answer(req.der)
        #expect(second.fromCache)
        #expect(second.body == first.body)
        #expect(second.etag == first.etag)
        #expect(source.cacheHits == 1)
        #expect(source.signatures == 1)
        // With a nonce: signed live, never from the cache.
        let withNonce = source.answer(try OCSPClient.request(for: fresh, issuer: f.issuing, nonce: true).der)
        #expect(!withNonce.fromCache)
        #expect(source.cacheHits == 1)
        // What provisioning pre-signed is served as bytes from the first question on.
        #expect(source.answer(try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der).fromCache)
    }

    @Test("refresh() picks up a revocation made through another Authority; the next answer is revoked")
    func refreshPicksUpRevocation() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false)
        #expect(source.answer(req.der).outcome == .good)
        #expect(source.answer(req.der).fromCache)

        let other = try OT.authority(f.home)
        try other.revoke(ca: "issuing", serial: f.good.serialHex, reason: .superseded)
        try source.refresh()
        let after = source.answer(req.der)
        #expect(after.outcome == .revoked)
        if case .revoked(_, let reason) = try status(after, f, f.good) {
            #expect(reason == .superseded)
        } else {
            Issue.record("after refresh(): \(try status(after, f, f.good))")
        }
        // A live answer (with a nonce) agrees.
        let live = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true)
        #expect(source.answer(live.der).outcome == .revoked)
    }

    @Test("a revocation made while the responder was down is answered after its restart (no stale pre-signed good)")
    func revocationWhileDown() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false)
        do {
            let first = try OT.source(f)
            #expect(first.answer(req.der).outcome == .good)    // signed and stored as pre-signed bytes
        }
        // The responder is down; `etrust revoke` runs.
        try OT.authority(f.home).revoke(ca: "issuing", serial: f.good.serialHex, reason: .keyCompromise)
        usleep(2_100_000)    // a restart takes a while: past the one-second overlap of changed_at
        let restarted = try OT.source(f)
        try restarted.refresh()
        let answer = restarted.answer(req.der)
        let st = try status(answer, f, f.good)
        if case .revoked = st {} else {
            Issue.record("after a restart the responder answers \(st) (fromCache \(answer.fromCache)) for a certificate revoked while it was down")
        }
    }

    @Test("pre-signed responses loaded at start keep their outcome (a revoked one is reported as revoked)")
    func loadedOutcome() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let req = try OCSPClient.request(for: f.revoked, issuer: f.issuing, nonce: false)
        do {
            let first = try OT.source(f)
            #expect(first.answer(req.der).outcome == .revoked)
        }
        let restarted = try OT.source(f)
        let a = restarted.answer(req.der)
        #expect(a.fromCache)
        if case .revoked = try status(a, f, f.revoked) {} else { Issue.record("the pre-signed bytes do not say revoked") }
        #expect(a.outcome == .revoked, "the outcome (metrics label, log) of a pre-signed revoked response loaded at start")
    }

    @Test("unknownSerial = .revoked: certificateHold, 1970-01-01, extended-revoke extension; never pre-signed")
    func unknownAsRevoked() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f) { $0.unknownSerial = .revoked }
        let req = try requestDER([try OCSPResponder.Query(issuer: f.issuing, serialHex: "7a11ce0000beef")])
        let a = source.answer(req)
        #expect(a.outcome == .revoked)
        #expect(OT.contains(a.body, [0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x09]), "no id-pkix-ocsp-extended-revoke OID")
        let b = source.answer(req)
        #expect(!b.fromCache)
        #expect(try f.authority.store.certificate(ca: "issuing", serialHex: "7a11ce0000beef") == nil)
        // Still good for an issued certificate.
        #expect(source.answer(try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der).outcome == .good)
    }

    @Test("refresh() with nothing to do is cheap at the production key cost (signer keys are not decrypted every second)")
    func refreshCost() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        // The signer keys are written at the home's key cost when first issued: the default 600000.
        let config = f.home + "/etrust.yaml"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try #require(text.contains("pbkdf2Iterations: 1000"))
        try text.replacingOccurrences(of: "pbkdf2Iterations: 1000", with: "pbkdf2Iterations: 600000")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let source = try OT.source(f)    // issues the signers of root and issuing (keys at 600000)
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true)
        var worst: TimeInterval = 0
        for _ in 0..<2 {
            let start = Date()
            try source.refresh()
            worst = max(worst, Date().timeIntervalSince(start))
        }
        // refresh() runs every second (refreshInterval 1) under the lock every answer() takes.
        #expect(worst < 0.1, "refresh() with no change took \(String(format: "%.3f", worst)) s; answers wait for it every second")
        let start = Date()
        #expect(source.answer(req.der).outcome == .good)
        #expect(Date().timeIntervalSince(start) < 0.1)
    }

    @Test("a certificate issued by another process is pre-signed by the next refresh(), before anyone asks")
    func newIssuancePresigned() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        try source.refresh()
        let other = try OT.authority(f.home)
        let csr = try TestSupport.csr(subject: "CN=issued-later,O=etrust tests,C=TG")
        let (later, _) = try other.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "issuing")
        try source.refresh()
        let a = source.answer(try OCSPClient.request(for: later, issuer: f.issuing, nonce: false).der)
        #expect(a.fromCache, "the first question about a new certificate was signed live")
        #expect(try status(a, f, later) == .good)
    }

    @Test("a SHA-256 CertID is answered (live) as well")
    func sha256CertID() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        let path = f.work + "/sha256.der"
        let r = try OT.openssl(["ocsp", "-sha256", "-issuer", f.issuingPath, "-cert", f.revokedPath, "-reqout", path, "-no_nonce"])
        try #require(FileManager.default.fileExists(atPath: path), "\(r.output)")
        let a = source.answer(try OT.bytes(path))
        #expect(a.outcome == .revoked)
        #expect(!a.fromCache)
    }
}

import ETrustCA
import ETrustCore
@testable import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Synchronization
import Testing

/// Each source of the responder's stack alone, and their composition, without a socket: fakes
/// stand in for the links that are not under test.
@Suite("OCSP source stack (no socket)")
struct SourceStackTests {
    /// Answers `answer` (or throws), counting its calls.
    final class FakeSource: OCSPSource {
        let result: OCSPAnswer?
        let fails: Bool
        let calls = Atomic<Int>(0)
        init(_ result: OCSPAnswer?, fails: Bool = false) { self.result = result; self.fails = fails }
        func answer(_ q: OCSPQuestion) throws -> OCSPAnswer? {
            calls.add(1, ordering: .relaxed)
            if fails { throw OT.Failure("fake failure") }
            return result
        }
        var count: Int { calls.load(ordering: .relaxed) }
    }

    static func answer(_ outcome: OCSPAnswer.Outcome, _ byte: UInt8) -> OCSPAnswer {
        OCSPAnswer(body: [byte], outcome: outcome, fromCache: false, serials: [])
    }

    func question(_ source: OCSPAnswerSource, _ cert: Certificate, issuer: Certificate, nonce: Bool) throws -> OCSPQuestion {
        try #require(source.question(try OCSPClient.request(for: cert, issuer: issuer, nonce: nonce).der))
    }

    @Test("composition: the first answer wins and later sources are not asked; nil passes on; a throwing source is internal_error; front never reaches back")
    func composition() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        let q = try question(source, f.good, issuer: f.issuing, nonce: false)
        let pass = FakeSource(nil), first = FakeSource(Self.answer(.good, 1)), second = FakeSource(Self.answer(.revoked, 2))
        let a = OCSPSourceStack.first([pass, first, second], q)
        #expect(a?.body == [1] && a?.outcome == .good)
        #expect(pass.count == 1 && first.count == 1 && second.count == 0)
        #expect(OCSPSourceStack.first([FakeSource(nil)], q) == nil)
        let failing = FakeSource(nil, fails: true), after = FakeSource(Self.answer(.good, 3))
        #expect(OCSPSourceStack.first([failing, after], q)?.outcome == .internalError)
        #expect(after.count == 0, "a source that failed is not papered over by the next")

        let front = FakeSource(Self.answer(.good, 4)), back = FakeSource(Self.answer(.good, 5))
        let stack = OCSPSourceStack(front: [front], back: [back])
        #expect(stack.answerWithoutBlocking(q)?.body == [4])
        #expect(back.count == 0)
        let empty = OCSPSourceStack(front: [FakeSource(nil)], back: [FakeSource(nil)])
        #expect(empty.answerWithoutBlocking(q) == nil)
        #expect(empty.answerBlocking(q).outcome == .internalError, "a stack whose sources all pass answers internalError, not nothing")
    }

    @Test("issuer filter: another PKI's CA is unauthorized, too many CertIDs malformed, ours passes on")
    func filter() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        let filter = IssuerFilterSource(maxCertificates: 1)
        #expect(try filter.answer(try question(source, f.good, issuer: f.issuing, nonce: false)) == nil)
        let other = try TestSupport.makePKI()
        defer { try? FileManager.default.removeItem(atPath: (other.home as NSString).deletingLastPathComponent) }
        let foreign = try #require(source.question(OT.requestDER([try OCSPResponder.Query(issuer: try other.authority.ca("issuing").certificate,
                                                                                           serialHex: f.good.serialHex)])))
        #expect(foreign.issuer == nil)
        #expect(try filter.answer(foreign)?.outcome == .unauthorized)
        let two = try #require(source.question(OT.requestDER([try OCSPResponder.Query(issuer: f.issuing, serialHex: f.good.serialHex),
                                                               try OCSPResponder.Query(issuer: f.issuing, serialHex: f.revoked.serialHex)])))
        #expect(try filter.answer(two)?.outcome == .malformed)
        #expect(source.question([0x30, 0x00]) == nil, "bytes that are not a request have no question")
    }

    @Test("memory source: only the RFC 5019 form, only fresh entries; store source: bytes another process pre-signed, then kept in memory")
    func memoryAndStore() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        let memory = PresignedMemorySource(cache: source.cache, counters: source.counters)
        let plain = try question(source, f.good, issuer: f.issuing, nonce: false)
        let hit = try #require(try memory.answer(plain))
        #expect(hit.fromCache && hit.outcome == .good)
        #expect(try memory.answer(try question(source, f.good, issuer: f.issuing, nonce: true)) == nil, "a nonce needs a live signature")
        let later = OCSPQuestion(der: plain.request.der, now: Date().addingTimeInterval(3 * 86_400), issuers: source.issuers.withLockedValue { $0 })!
        #expect(try memory.answer(later) == nil, "an entry past its nextUpdate is not served")

        // A certificate issued and pre-signed by another process (as `etrust issue` does): not in
        // memory yet; the store source finds it and keeps it.
        let other = try OT.authority(f.home)
        let csr = try TestSupport.csr(subject: "CN=store-source,O=etrust tests,C=TG")
        let fresh = try other.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "issuing").0
        try OCSPSigning(authority: other).presign(ca: "issuing", serials: [fresh.serialHex])
        let q = try question(source, fresh, issuer: f.issuing, nonce: false)
        #expect(try memory.answer(q) == nil)
        let stored = StoredResponseSource(gate: source.gate, cache: source.cache)
        let a = try #require(try stored.answer(q))
        #expect(a.outcome == .good)
        #expect(try memory.answer(q)?.body == a.body, "the stored answer is kept in memory")
        #expect(try stored.answer(try question(source, f.good, issuer: f.issuing, nonce: true)) == nil)
    }

    @Test("live signer: a nonce is answered and echoed, with the store's status; never cached")
    func live() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let source = try OT.source(f)
        let live = LiveSigningSource(gate: source.gate, cache: source.cache, counters: source.counters, unknownSerial: .unknown)
        let req = try OCSPClient.request(for: f.revoked, issuer: f.issuing, nonce: true)
        let q = try #require(source.question(req.der))
        let before = source.signatures
        let a = try #require(try live.answer(q))
        #expect(a.outcome == .revoked && !a.fromCache)
        #expect(source.signatures == before + 1)
        let status = try OCSPClient.check(response: a.body, certificate: f.revoked, issuer: f.issuing, trust: try TrustStore(anchors: [f.root]),
                                          request: req, at: Date()).status
        if case .revoked = status {} else { Issue.record("status \(status)") }
    }
}

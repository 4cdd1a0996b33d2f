import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// The delegated OCSP signer of each CA (OCSPSigning.signer): profile ocsp-signing, issued once,
/// audited, rotated past half its validity, and used by the responder after rotation.
@Suite("Delegated OCSP signers")
struct OCSPSignerTests {
    static let ocspSigning = "1.3.6.1.5.5.7.3.9"

    func signerEvents(_ a: Authority, ca: String) throws -> [AuditEvent] {
        try a.auditLog.events().filter { $0.type == "ocsp-signer" && $0.ca == ca }
    }

    /// openssl verifies a response at a time of the test's clock (-attime: the signer is not valid yet by the wall clock).
    func judgeAt(_ time: Date, _ body: [UInt8], _ f: OT.Fixture) throws {
        let path = f.work + "/judged-\(UUID().uuidString.prefix(6)).der"
        try OT.write(body, to: path)
        let r = try OT.openssl(["ocsp", "-respin", path, "-issuer", f.issuingPath, "-cert", f.goodPath, "-CAfile", f.rootPath,
                                "-no_nonce", "-attime", String(Int(time.timeIntervalSince1970)),
                                // thisUpdate is days ahead of the wall clock: tolerate it.
                                "-validity_period", String(Int(abs(time.timeIntervalSinceNow)) + 3_600)])
        #expect(r.output.contains("Response verify OK"), "\(r.output)")
        #expect(r.output.contains("\(f.goodPath): good"), "\(r.output)")
    }

    static let signerPassphrase = Array(OT.passphrase.utf8)

    @Test("ocsp provision issues an ocsp-signing certificate per CA (EKU OCSPSigning, ocspNoCheck), audited; a second provision keeps it")
    func issuedOncePerCA() throws {
        let f = try OT.fixture(revoke: false, provision: false)
        defer { OT.cleanUp(f) }
        let a = f.authority
        for (caName, caCert) in [("issuing", f.issuing), ("root", f.root)] {
            #expect(try signerEvents(a, ca: caName).isEmpty)
            let signing = OCSPSigning(authority: a)
            // A responder never issues one itself.
            #expect(throws: ETrustError.self) { try signing.signer(ca: caName) }
            let provisioned = try signing.provision(ca: caName, signerPassphrase: Self.signerPassphrase)
            #expect(provisioned.issued)
            let (cert, key) = try signing.signer(ca: caName)
            #expect(cert.der == provisioned.certificate.der)
            #expect(cert.issuer == caCert.subject, "\(caName)")
            #expect(try cert.isSigned(by: try caCert.publicKey), "\(caName)")
            #expect(try key.subjectPublicKeyInfo == cert.subjectPublicKeyInfo, "\(caName): the key is the certificate's")
            let eku = try #require(cert.extension(ExtensionOID.extendedKeyUsage), "\(caName): no extendedKeyUsage")
            #expect(Extension.decodeOIDSequence(eku.value) == [Self.ocspSigning], "\(caName)")
            let noCheck = try #require(cert.extension("1.3.6.1.5.5.7.48.1.5"), "\(caName): no ocspNoCheck")
            #expect(noCheck.value == [0x05, 0x00])
            #expect(cert.basicConstraints?.ca != true)
            #expect(cert.keyUsage == [.digitalSignature], "\(caName)")
            #expect(cert.subject.description.contains("\(caName) OCSP Responder"), "\(cert.subject)")
            #expect(cert.notAfter.timeIntervalSince(cert.notBefore) <= 31 * 86_400, "short-lived")
            // Recorded: a certificate of profile ocsp-signing and one "ocsp-signer" event.
            let record = try #require(try a.store.certificate(ca: caName, serialHex: cert.serialHex))
            #expect(record.profile == "ocsp-signing")
            let events = try signerEvents(a, ca: caName)
            #expect(events.count == 1, "\(events.map(\.payload))")
            #expect(events.first?.serialHex == cert.serialHex)
            let payload = try #require(try JSONSerialization.jsonObject(with: Data((events.first?.payload ?? "").utf8)) as? [String: Any])
            #expect(payload["certificateSHA256"] as? String == Hex.encode(cert.sha256Fingerprint), "\(payload)")
            #expect(payload["action"] as? String == "issued", "\(payload)")

            let again = try signing.provision(ca: caName, signerPassphrase: Self.signerPassphrase)
            #expect(!again.issued)
            #expect(again.certificate.der == cert.der, "\(caName): a second provision issued another signer")
            #expect(try signerEvents(a, ca: caName).count == 1)
            // Another process (another Authority, the responder's) sees the same signer.
            #expect(try OCSPSigning(authority: OT.authority(f.home)).signer(ca: caName).certificate.der == cert.der)
        }
        // openssl agrees on the purpose.
        let path = f.work + "/signer.pem"
        try OCSPSigning(authority: a).signer(ca: "issuing").certificate.pem.write(toFile: path, atomically: true, encoding: .utf8)
        let purpose = try OT.openssl(["verify", "-CAfile", f.rootPath, "-untrusted", f.issuingPath, "-purpose", "ocsphelper", path])
        #expect(purpose.status == 0, "\(purpose.output)")
        let text = try OT.openssl(["x509", "-in", path, "-noout", "-text"])
        #expect(text.output.contains("OCSP Signing"), "\(text.output)")
        #expect(text.output.contains("OCSP No Check"), "\(text.output)")
        _ = try a.checkpoint()
        let verify = try TestSupport.etrust(["audit", "verify", "--home", f.home])
        #expect(verify.status == 0, "etrust audit verify: \(verify.stdout) \(verify.stderr)")
    }

    @Test("provisioning past half the validity (or with rotate) issues a new signer, audited; the responder signs with it; the log verifies")
    func rotation() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let (old, _) = try OCSPSigning(authority: f.authority).signer(ca: "issuing")
        let lifetime = old.notAfter.timeIntervalSince(old.notBefore)
        let later = FixedClock(old.notBefore.addingTimeInterval(lifetime * 0.6))
        let future = try OT.authority(f.home, clock: later)
        // The responder at that time still has the old one: it never rotates by itself.
        #expect(try OCSPSigning(authority: future).signer(ca: "issuing").certificate.der == old.der)
        let rotated = try OCSPSigning(authority: future).provision(ca: "issuing", signerPassphrase: Self.signerPassphrase)
        let new = rotated.certificate
        #expect(rotated.issued && rotated.presigned >= 2, "\(rotated.presigned) responses pre-signed")
        #expect(new.der != old.der, "no rotation past half the validity")
        #expect(new.notAfter > old.notAfter)
        let events = try signerEvents(future, ca: "issuing")
        #expect(events.count == 2, "\(events.map(\.payload))")
        #expect(events.last?.serialHex == new.serialHex)
        // Stable again after the rotation, unless rotate is asked for.
        #expect(try !OCSPSigning(authority: future).provision(ca: "issuing", signerPassphrase: Self.signerPassphrase).issued)
        #expect(try OCSPSigning(authority: future).provision(ca: "issuing", rotate: true, signerPassphrase: Self.signerPassphrase).issued)
        #expect(try signerEvents(future, ca: "issuing").count == 3)
        let newest = try OCSPSigning(authority: future).signer(ca: "issuing").certificate

        // A responder running at that time signs with the newest signer.
        let source = try OT.source(f, clock: later)
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: true)
        let a = source.answer(req.der)
        #expect(a.outcome == .good)
        let embedded = OT.embeddedCertificates(a.body)
        #expect(embedded.map(\.der) == [newest.der], "the response carries \(embedded.map(\.serialHex)), expected \(newest.serialHex)")
        try judgeAt(later.now(), a.body, f)

        _ = try future.checkpoint()
        let verify = try TestSupport.etrust(["audit", "verify", "--home", f.home])
        #expect(verify.status == 0, "etrust audit verify: \(verify.stdout) \(verify.stderr)")
    }

    @Test("a running responder picks up a signer provisioned by the CA host on refresh() and drops the old one's bytes; it never issues one")
    func rotationOnRefresh() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let (old, _) = try OCSPSigning(authority: f.authority).signer(ca: "issuing")
        let lifetime = old.notAfter.timeIntervalSince(old.notBefore)
        // A clock that moves: now, then past half the signer's validity.
        let clock = MovableClock(Date())
        let source = try OT.source(f, clock: clock)
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false)
        let before = source.answer(req.der)
        #expect(OT.embeddedCertificates(before.body).map(\.der) == [old.der])
        #expect(source.answer(req.der).fromCache)

        clock.set(old.notBefore.addingTimeInterval(lifetime * 0.6))
        let eventsBefore = try signerEvents(f.authority, ca: "issuing").count
        try source.refresh()
        #expect(try signerEvents(f.authority, ca: "issuing").count == eventsBefore, "the responder issued a signer itself")
        #expect(OT.embeddedCertificates(source.answer(req.der).body).map(\.der) == [old.der])

        // The CA host provisions; the responder switches on its next refresh.
        let new = try OCSPSigning(authority: OT.authority(f.home, clock: FixedClock(clock.now())))
            .provision(ca: "issuing", signerPassphrase: Self.signerPassphrase).certificate
        try source.refresh()
        let after = source.answer(req.der)
        let signers = OT.embeddedCertificates(after.body)
        #expect(signers.map(\.der) == [new.der], "still signed by the old signer after the CA host rotated it")
        try judgeAt(clock.now(), after.body, f)
    }

    @Test("signerHealth: a responder certificate with less than a quarter of its validity left is flagged, an expired one is a problem")
    func expiringSigner() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let (cert, _) = try OCSPSigning(authority: f.authority).signer(ca: "issuing")
        let lifetime = cert.notAfter.timeIntervalSince(cert.notBefore)
        let clock = MovableClock(cert.notBefore.addingTimeInterval(lifetime * 0.5))
        let source = try OT.source(f, clock: clock)
        var issuing = try #require(source.signerHealth().first { $0.ca == "issuing" })
        #expect(!issuing.expiringSoon && issuing.problem == nil)
        clock.set(cert.notBefore.addingTimeInterval(lifetime * 0.8))
        issuing = try #require(source.signerHealth().first { $0.ca == "issuing" })
        #expect(issuing.expiringSoon && issuing.problem == nil, "\(issuing)")
        #expect(issuing.notAfter == cert.notAfter)
        clock.set(cert.notAfter.addingTimeInterval(60))
        issuing = try #require(source.signerHealth().first { $0.ca == "issuing" })
        #expect(issuing.problem?.contains("expired") == true, "\(issuing)")
    }

    @Test("a CA without a provisioned responder is answered unauthorized and reported by signerHealth, the others are served")
    func missingSigner() throws {
        let f = try OT.fixture(provision: false)
        defer { OT.cleanUp(f) }
        _ = try OCSPSigning(authority: f.authority).provision(ca: "root", signerPassphrase: Self.signerPassphrase)
        let source = try OT.source(f)
        let health = source.signerHealth()
        #expect(health.first { $0.ca == "root" }?.problem == nil)
        let issuing = try #require(health.first { $0.ca == "issuing" })
        #expect(issuing.problem?.contains("etrust ocsp provision --ca issuing") == true, "\(issuing)")
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false)
        #expect(source.answer(req.der).outcome == .unauthorized)
        let rootReq = try OCSPClient.request(for: f.issuing, issuer: f.root, nonce: false)
        #expect(source.answer(rootReq.der).outcome == .good)
        #expect(try signerEvents(f.authority, ca: "issuing").isEmpty)
    }
}

/// A clock a test moves forward.
final class MovableClock: ETrustClock, @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date
    init(_ date: Date) { self.date = date }
    func set(_ d: Date) { lock.lock(); date = d; lock.unlock() }
    func now() -> Date { lock.lock(); defer { lock.unlock() }; return date }
}

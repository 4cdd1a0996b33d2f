import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// CAdES-B-T (issue #16): `etrust sign --timestamp-url` adds a signature time-stamp from
/// etrust-ocspd's /tsa; `verify-signature` checks the token and judges the signer at its time,
/// with revocation from the responder.
@Suite("Signature time-stamps: sign --timestamp-url, verify-signature at the time-stamp")
struct SignatureTimeStampTests {
    struct Signer {
        let certificate: Certificate
        let key: PrivateKey
        let certPath: String
        let keyPath: String
    }

    /// A citizen's signing certificate from `issuing`, its key encrypted under the test passphrase.
    static func signer(_ f: OT.Fixture) throws -> Signer {
        let key = try PrivateKey.generate(.ecP256)
        let csr = try CertificateSigningRequest.create(
            subject: try DistinguishedName(parsing: "CN=Ama Mensah,GN=Ama,SN=Mensah,serialNumber=IDCTG-12345,C=TG"), key: key)
        let cert = try f.authority.issue(IssuanceRequest(source: .csr(csr), profile: "citizen-signing"), ca: "issuing").0
        let s = Signer(certificate: cert, key: key, certPath: f.work + "/citizen.pem", keyPath: f.work + "/citizen.key")
        try (cert.pem + f.issuing.pem).write(toFile: s.certPath, atomically: true, encoding: .utf8)
        try key.write(toFile: s.keyPath, passphrase: Array(OT.passphrase.utf8), iterations: 1000)
        return s
    }

    static func verify(_ f: OT.Fixture, _ signature: String, port: Int, extra: [String] = []) throws -> TestSupport.Result {
        try TestSupport.etrust(["verify-signature", "--signature", signature, "--content", f.work + "/doc.txt", "--anchor", f.rootPath,
                                "--ocsp-url", "http://127.0.0.1:\(port)/ocsp", "--json"] + extra)
    }

    static func write(_ der: [UInt8], _ path: String) throws -> String {
        try OT.write(der, to: path)
        return path
    }

    @Test("timestamped, then the signer revoked (keyCompromise, after the time-stamp): valid, judged at the time-stamp; the same signature without time-stamp: invalid")
    func revokedAfterTimeStamp() throws {
        let (f, _) = try TimeStampAuthorityTests.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try TimeStampAuthorityTests.server(f)
        defer { server.shutdown(grace: 1) }
        let s = try Self.signer(f)
        try "I agree to the terms.".write(toFile: f.work + "/doc.txt", atomically: true, encoding: .utf8)
        let stamped = f.work + "/stamped.p7s", plain = f.work + "/plain.p7s"
        let sign = try TestSupport.etrust(["sign", "--cert", s.certPath, "--key", s.keyPath, "--in", f.work + "/doc.txt", "--out", stamped,
                                           "--detached", "--timestamp-url", "http://127.0.0.1:\(port)/tsa", "--json"])
        #expect(sign.status == 0, "\(sign.stdout) \(sign.stderr)")
        let genTime = try #require((sign.json?["timestamp"] as? [String: Any])?["genTime"] as? String, "\(sign.stdout)")
        #expect(try TestSupport.etrust(["sign", "--cert", s.certPath, "--key", s.keyPath, "--in", f.work + "/doc.txt", "--out", plain,
                                        "--detached"]).status == 0)
        // The attribute is id-aa-signatureTimeStampToken, over the signature value.
        let der = try InputFile.derBlocks(try OT.bytes(stamped), labels: ["CMS"], what: "stamped")[0]
        let token = try #require(try CMSSignature.timeStampTokens(der).first)
        #expect(try TimeStamp.info(token: token).messageImprint == Digest.sha256(try CMSSignature.signatureValue(der)))

        let before = try Self.verify(f, stamped, port: port)
        #expect(before.status == 0, "\(before.stdout) \(before.stderr)")
        #expect(before.json?["judgedBy"] as? String == "timestamp")

        usleep(1_500_000)   // the revocation comes strictly after the time-stamp, at one-second precision
        _ = try f.authority.revoke(ca: "issuing", serial: s.certificate.serialHex, reason: .keyCompromise, at: Date())
        let plainRefused = try eventually(10) { try Self.verify(f, plain, port: port).status == 1 }
        #expect(plainRefused, "the responder never said revoked")
        let unstamped = try Self.verify(f, plain, port: port)
        #expect(unstamped.json?["errorCode"] as? String == "certificate_revoked", "\(unstamped.stdout)")
        #expect(unstamped.json?["judgedBy"] as? String == "signing-time")

        let after = try Self.verify(f, stamped, port: port)
        #expect(after.status == 0, "\(after.stdout) \(after.stderr)")
        let json = try #require(after.json)
        #expect(json["valid"] as? Bool == true)
        #expect(json["judgedBy"] as? String == "timestamp")
        let stamp = try #require(json["timestamp"] as? [String: Any], "\(after.stdout)")
        #expect(stamp["genTime"] as? String == genTime)
        #expect(stamp["policy"] as? String == "0.4.0.2023.1.1")
        #expect((stamp["tsa"] as? String)?.contains("Time-Stamping Unit") == true, "\(stamp)")
        #expect((json["judgedAt"] as? String).map { try? RFC3339.parse($0) } != nil)
        let revocation = try #require((json["revocation"] as? [String: Any])?["certificates"] as? [[String: Any]])
        #expect(revocation.first?["status"] as? String == "revoked" && revocation.first?["reason"] as? String == "keyCompromise", "\(revocation)")
        // The same with CRLs instead of OCSP: the CRL dates the revocation after the time-stamp.
        _ = try f.authority.publishCRL(ca: "issuing")
        _ = try f.authority.publishCRL(ca: "root")
        let crls = ["--revocation", "crl", "--crl", f.home + "/pub/crl/issuing.crl", "--crl", f.home + "/pub/crl/root.crl"]
        let byCRL = try Self.verify(f, stamped, port: port, extra: crls)
        #expect(byCRL.status == 0 && byCRL.json?["judgedBy"] as? String == "timestamp", "\(byCRL.stdout) \(byCRL.stderr)")
        let plainByCRL = try Self.verify(f, plain, port: port, extra: crls)
        #expect(plainByCRL.status == 1 && plainByCRL.json?["errorCode"] as? String == "certificate_revoked", "\(plainByCRL.stdout)")
        // Judged now instead (--at), the revocation counts.
        let now = try Self.verify(f, stamped, port: port, extra: ["--at", RFC3339.format(Date())])
        #expect(now.status == 1 && now.json?["errorCode"] as? String == "certificate_revoked", "\(now.stdout)")
    }

    @Test("a time-stamp over other bytes, from an untrusted TSA, or with its imprint altered: refused, each with its errorCode")
    func refusedTokens() throws {
        let (f, _) = try TimeStampAuthorityTests.fixture()
        defer { OT.cleanUp(f) }
        let (server, port) = try TimeStampAuthorityTests.server(f)
        defer { server.shutdown(grace: 1) }
        let s = try Self.signer(f)
        let doc = Array("I agree to the terms.".utf8)
        try OT.write(doc, to: f.work + "/doc.txt")
        func signature() throws -> [UInt8] {
            try CMSSignature.sign(doc, certificate: s.certificate, key: s.key, chain: [f.issuing], detached: true)
        }
        func stamp(_ sig: [UInt8]) throws -> [UInt8] {
            try TimeStamp.fetch(imprint: Digest.sha256(try CMSSignature.signatureValue(sig)), url: "http://127.0.0.1:\(port)/tsa").token
        }
        // A good one first: the cases below differ from it in one thing each.
        let good = try signature()
        let goodToken = try stamp(good)
        let ok = try Self.verify(f, try Self.write(try CMSSignature.addingTimeStamp(good, token: goodToken), f.work + "/good.p7s"), port: port)
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")

        // Over other bytes: another signature's token.
        let other = try CMSSignature.addingTimeStamp(try signature(), token: goodToken)
        let r1 = try Self.verify(f, try Self.write(other, f.work + "/other.p7s"), port: port)
        #expect(r1.status == 1 && r1.json?["errorCode"] as? String == "timestamp_imprint_mismatch", "\(r1.stdout) \(r1.stderr)")

        // From a TSA of another PKI (not under the anchors).
        let stranger = try TestSupport.makePKI()
        defer { try? FileManager.default.removeItem(atPath: (stranger.home as NSString).deletingLastPathComponent) }
        _ = try TSASigning(authority: stranger.authority).provision(ca: "issuing", signerPassphrase: Array(OT.passphrase.utf8))
        let unit = try TSASigning(authority: try OT.authority(stranger.home)).signer(ca: "issuing").authority
        let third = try signature()
        let (query, _) = try TimeStamp.request(imprint: Digest.sha256(try CMSSignature.signatureValue(third)))
        let foreign = try #require(try TimeStamp.respond(to: query, as: unit, serial: [0x42, 0x01], time: Date()).token)
        let r2 = try Self.verify(f, try Self.write(try CMSSignature.addingTimeStamp(third, token: foreign), f.work + "/foreign.p7s"), port: port)
        #expect(r2.status == 1 && r2.json?["errorCode"] as? String == "timestamp_tsa_untrusted", "\(r2.stdout) \(r2.stderr)")

        // Its imprint altered after the TSA signed it.
        let fourth = try signature()
        var tampered = try stamp(fourth)
        let imprint = try TimeStamp.info(token: tampered).messageImprint
        let at = try #require((0...(tampered.count - imprint.count)).first { Array(tampered[$0..<($0 + imprint.count)]) == imprint })
        tampered[at] ^= 0x01
        let r3 = try Self.verify(f, try Self.write(try CMSSignature.addingTimeStamp(fourth, token: tampered), f.work + "/tampered.p7s"), port: port)
        #expect(r3.status == 1 && r3.json?["errorCode"] as? String == "timestamp_invalid", "\(r3.stdout) \(r3.stderr)")
    }
}

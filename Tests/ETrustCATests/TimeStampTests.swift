import ETrustCA
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// RFC 3161 tokens made by etrust's TimeStamp.respond, judged by `openssl ts -verify`, and
/// tokens made by `openssl ts -reply` judged by TimeStamp.verify (issue #16).
@Suite("RFC 3161 time-stamping")
struct TimeStampTests {
    struct TSA {
        let dir: String
        let authority: TimeStamp.Authority
        let root: Certificate
        let issuing: Certificate
        let keyPath: String
        let certPath: String
        var chainPath: String { dir + "/chain.pem" }
    }

    /// A PKI with a TSA unit certified under the `timestamping` profile (critical EKU timeStamping).
    static func tsa() throws -> TSA {
        let pki = try TestSupport.makePKI()
        let dir = (pki.home as NSString).deletingLastPathComponent
        let key = try PrivateKey.generate(.ecP256)
        let csr = try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: "CN=Test TSA,O=etrust tests,C=TG"), key: key)
        let cert = try pki.authority.issue(IssuanceRequest(source: .csr(csr), profile: "timestamping"), ca: "issuing").0
        let root = try pki.authority.ca("root").certificate, issuing = try pki.authority.ca("issuing").certificate
        let t = TSA(dir: dir, authority: TimeStamp.Authority(certificate: cert, key: key, chain: [issuing], policy: "1.3.6.1.4.1.99999.1.1",
                                                            accuracy: (0, 500, 0)),
                    root: root, issuing: issuing, keyPath: dir + "/tsa.key", certPath: dir + "/tsa.pem")
        try cert.pem.write(toFile: t.certPath, atomically: true, encoding: .utf8)
        try key.encryptedPKCS8PEM(passphrase: Array("tsa-pass".utf8), iterations: 1000).write(toFile: t.keyPath, atomically: true, encoding: .utf8)
        try (issuing.pem + root.pem).write(toFile: t.chainPath, atomically: true, encoding: .utf8)
        try root.pem.write(toFile: dir + "/root.pem", atomically: true, encoding: .utf8)
        return t
    }

    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    @Test("a token from etrust: granted, fields as asked (policy, serial, nonce, accuracy, SHA-256 imprint, genTime with milliseconds); openssl ts -verify accepts it with -data and -digest; other data is refused")
    func etrustTokens() throws {
        let t = try Self.tsa()
        defer { try? FileManager.default.removeItem(atPath: t.dir) }
        let data = Array("a citizen's contract".utf8)
        let (req, nonce) = try TimeStamp.request(digestOf: data)
        let at = Date(timeIntervalSince1970: 1_800_000_000.25)
        let resp = try TimeStamp.respond(to: req, as: t.authority, serial: [0x0a, 0xbc], time: at)
        #expect(resp.granted, "\(resp.status) \(resp.statusText ?? "")")
        let info = try #require(resp.info)
        #expect(info.serialHex == "0abc" || info.serialHex == "abc")
        #expect(info.policy == "1.3.6.1.4.1.99999.1.1")
        #expect(info.nonceHex == nonce?.lowercased() || info.nonceHex?.trimmingPrefix("0") == nonce?.lowercased().trimmingPrefix("0"))
        #expect(abs(info.genTime.timeIntervalSince(at)) < 0.002, "\(info.genTime.timeIntervalSince1970)")
        #expect(info.accuracyMicroseconds == 500_000)
        #expect(info.hashAlgorithm == "2.16.840.1.101.3.4.2.1")
        #expect(info.messageImprint == Digest.sha256(data))
        #expect(info.tsaName?.contains("Test TSA") == true, "\(info.tsaName ?? "-")")

        try Self.write(resp.der, t.dir + "/resp.tsr")
        try Self.write(data, t.dir + "/data")
        try Self.write(req, t.dir + "/req.tsq")
        let withData = try TestSupport.openssl(["ts", "-verify", "-in", t.dir + "/resp.tsr", "-data", t.dir + "/data", "-CAfile", t.dir + "/root.pem",
                                                "-untrusted", t.chainPath])
        #expect(withData.stdout.contains("Verification: OK"), "\(withData.stdout)\(withData.stderr)")
        let withDigest = try TestSupport.openssl(["ts", "-verify", "-in", t.dir + "/resp.tsr", "-digest", Hex.encode(Digest.sha256(data)),
                                                  "-CAfile", t.dir + "/root.pem", "-untrusted", t.chainPath])
        #expect(withDigest.stdout.contains("Verification: OK"), "\(withDigest.stdout)\(withDigest.stderr)")
        let withQuery = try TestSupport.openssl(["ts", "-verify", "-in", t.dir + "/resp.tsr", "-queryfile", t.dir + "/req.tsq",
                                                 "-CAfile", t.dir + "/root.pem", "-untrusted", t.chainPath])
        #expect(withQuery.stdout.contains("Verification: OK"), "\(withQuery.stdout)\(withQuery.stderr)")
        try Self.write(Array("other bytes".utf8), t.dir + "/other")
        let other = try TestSupport.openssl(["ts", "-verify", "-in", t.dir + "/resp.tsr", "-data", t.dir + "/other", "-CAfile", t.dir + "/root.pem",
                                             "-untrusted", t.chainPath])
        #expect(!other.stdout.contains("Verification: OK"))

        // And etrust's own check.
        let token = try #require(resp.token)
        let checked = try TimeStamp.verify(token: token, .init(anchors: [t.root], intermediates: [t.issuing], data: data, nonceHex: nonce))
        #expect(checked == info)
        #expect(throws: ETrustError.self) { try TimeStamp.verify(token: token, .init(anchors: [t.root], intermediates: [t.issuing], data: Array("x".utf8))) }
        #expect(throws: ETrustError.self) { try TimeStamp.verify(token: token, .init(anchors: [t.root], intermediates: [t.issuing], imprint: Digest.sha256(Array("x".utf8)))) }
        let otherPKI = try TestSupport.makePKI()
        defer { try? FileManager.default.removeItem(atPath: (otherPKI.home as NSString).deletingLastPathComponent) }
        #expect(throws: ETrustError.self, "a TSA not under the given anchors") {
            try TimeStamp.verify(token: token, .init(anchors: [try otherPKI.authority.ca("root").certificate], data: data))
        }
    }

    @Test("requests from openssl ts -query are answered; a SHA-1 imprint and a foreign policy are rejected (badAlg, unacceptedPolicy)")
    func opensslRequests() throws {
        let t = try Self.tsa()
        defer { try? FileManager.default.removeItem(atPath: t.dir) }
        try Self.write(Array("document".utf8), t.dir + "/doc")
        let q = try TestSupport.openssl(["ts", "-query", "-data", t.dir + "/doc", "-sha256", "-cert", "-out", t.dir + "/q.tsq"])
        #expect(q.status == 0, "\(q.stderr)")
        let resp = try TimeStamp.respond(to: [UInt8](try Data(contentsOf: URL(fileURLWithPath: t.dir + "/q.tsq"))), as: t.authority,
                                         serial: [1], time: Date())
        #expect(resp.granted)
        try Self.write(resp.der, t.dir + "/q.tsr")
        let v = try TestSupport.openssl(["ts", "-verify", "-in", t.dir + "/q.tsr", "-queryfile", t.dir + "/q.tsq", "-CAfile", t.dir + "/root.pem",
                                         "-untrusted", t.chainPath])
        #expect(v.stdout.contains("Verification: OK"), "\(v.stdout)\(v.stderr)")

        let (sha1, _) = try TimeStamp.request(digestOf: Array("document".utf8), digest: "sha1")
        let badAlg = try TimeStamp.respond(to: sha1, as: t.authority, serial: [2], time: Date())
        #expect(badAlg.status == 2 && badAlg.token == nil, "\(badAlg.status) \(badAlg.statusText ?? "")")
        let (foreign, _) = try TimeStamp.request(digestOf: Array("document".utf8), policy: "1.2.3.4")
        #expect(try TimeStamp.respond(to: foreign, as: t.authority, serial: [3], time: Date()).status == 2)
        let garbage = try TimeStamp.respond(to: [0x30, 0x03, 0x02, 0x01, 0x01], as: t.authority, serial: [4], time: Date())
        #expect(garbage.status == 2)
    }

    @Test("a signature time-stamp (CAdES-B-T): the token over the signature value rides in id-aa-signatureTimeStampToken; the signature still verifies (etrust and openssl cms)")
    func signatureTimeStamp() throws {
        let t = try Self.tsa()
        defer { try? FileManager.default.removeItem(atPath: t.dir) }
        let content = Array("a contract".utf8)
        let signature = try CMSSignature.sign(content, certificate: t.authority.certificate, key: t.authority.key, chain: [t.issuing], detached: true)
        #expect(try CMSSignature.timeStampTokens(signature).isEmpty)
        let value = try CMSSignature.signatureValue(signature)
        let (req, _) = try TimeStamp.request(digestOf: value)
        let token = try #require(try TimeStamp.respond(to: req, as: t.authority, serial: [7], time: Date()).token)
        let stamped = try CMSSignature.addingTimeStamp(signature, token: token)
        #expect(try CMSSignature.timeStampTokens(stamped) == [token])
        #expect(try CMSSignature.signatureValue(stamped) == value)
        _ = try CMSSignature.verify(stamped, content: content)
        let info = try TimeStamp.verify(token: token, .init(anchors: [t.root], intermediates: [t.issuing], imprint: Digest.sha256(value)))
        #expect(info.serialHex.hasSuffix("7"))
        try Self.write(stamped, t.dir + "/sig.p7s")
        try Self.write(content, t.dir + "/content")
        let openssl = try TestSupport.openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", t.dir + "/sig.p7s", "-content", t.dir + "/content",
                                               "-CAfile", t.dir + "/root.pem", "-purpose", "any", "-out", "/dev/null"])
        #expect(openssl.stderr.contains("Verification successful"), "\(openssl.stderr)")
        let printed = try TestSupport.openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", t.dir + "/sig.p7s"])
        #expect(printed.stdout.contains("id-smime-aa-timeStampToken"), "\(printed.stdout.prefix(400))")
    }

    @Test("a token made by openssl ts -reply is accepted by TimeStamp.verify, with its fields read")
    func opensslTokens() throws {
        let t = try Self.tsa()
        defer { try? FileManager.default.removeItem(atPath: t.dir) }
        let conf = """
        [ tsa ]
        default_tsa = tsa_config
        [ tsa_config ]
        serial = \(t.dir)/serial
        signer_digest = sha256
        default_policy = 1.3.6.1.4.1.99999.1.2
        digests = sha256, sha384
        accuracy = secs:1
        ess_cert_id_alg = sha256
        """
        try conf.write(toFile: t.dir + "/ts.cnf", atomically: true, encoding: .utf8)
        try "01\n".write(toFile: t.dir + "/serial", atomically: true, encoding: .utf8)
        let data = Array("openssl's token".utf8)
        try Self.write(data, t.dir + "/data")
        let (req, nonce) = try TimeStamp.request(digestOf: data)
        try Self.write(req, t.dir + "/r.tsq")
        let r = try TestSupport.openssl(["ts", "-reply", "-config", t.dir + "/ts.cnf", "-queryfile", t.dir + "/r.tsq", "-signer", t.certPath,
                                         "-inkey", t.keyPath, "-passin", "pass:tsa-pass", "-chain", t.chainPath, "-out", t.dir + "/r.tsr"])
        #expect(r.status == 0, "\(r.stderr)")
        let resp = try TimeStamp.response([UInt8](try Data(contentsOf: URL(fileURLWithPath: t.dir + "/r.tsr"))))
        #expect(resp.granted)
        let info = try TimeStamp.verify(token: try #require(resp.token), .init(anchors: [t.root], data: data, nonceHex: nonce))
        #expect(info.policy == "1.3.6.1.4.1.99999.1.2" && info.accuracyMicroseconds == 1_000_000)
        #expect(throws: ETrustError.self) { try TimeStamp.verify(token: try #require(resp.token), .init(anchors: [t.root], data: data, nonceHex: "01")) }

        // The CLI: etrust timestamp verify, with the file, with its digest, and refusals.
        let ok = try TestSupport.etrust(["timestamp", "verify", t.dir + "/r.tsr", "--in", t.dir + "/data", "--anchor", t.dir + "/root.pem", "--json"])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.json?["policy"] as? String == "1.3.6.1.4.1.99999.1.2" && ok.json?["valid"] as? Bool == true, "\(ok.stdout)")
        let byDigest = try TestSupport.etrust(["timestamp", "verify", t.dir + "/r.tsr", "--digest", Hex.encode(Digest.sha256(data)),
                                               "--anchor", t.dir + "/root.pem"])
        #expect(byDigest.status == 0 && byDigest.stdout.contains("time-stamp valid"), "\(byDigest.stdout)\(byDigest.stderr)")
        try Self.write(Array("tampered".utf8), t.dir + "/other")
        let wrong = try TestSupport.etrust(["timestamp", "verify", t.dir + "/r.tsr", "--in", t.dir + "/other", "--anchor", t.dir + "/root.pem"])
        #expect(wrong.status == 1 && wrong.stderr.contains("does not verify"), "\(wrong.status) \(wrong.stderr)")
        let otherRoot = try TestSupport.makePKI()
        defer { try? FileManager.default.removeItem(atPath: (otherRoot.home as NSString).deletingLastPathComponent) }
        try (try otherRoot.authority.ca("root").certificate).pem.write(toFile: t.dir + "/other-root.pem", atomically: true, encoding: .utf8)
        let untrusted = try TestSupport.etrust(["timestamp", "verify", t.dir + "/r.tsr", "--in", t.dir + "/data", "--anchor", t.dir + "/other-root.pem"])
        #expect(untrusted.status == 1, "a TSA under another root: \(untrusted.status) \(untrusted.stderr)")
        let usage = try TestSupport.etrust(["timestamp", "verify", t.dir + "/r.tsr", "--anchor", t.dir + "/root.pem"])
        #expect(usage.status == 2, "neither --in nor --digest: \(usage.status)")
    }
}

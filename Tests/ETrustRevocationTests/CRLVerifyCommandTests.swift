import ETrustCA
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

@Suite("etrust crl verify")
struct CRLVerifyCommandTests {
    @Test("valid CRLs pass; wrong issuer, stale, and a flipped signature byte fail with exit 1")
    func verdicts() throws {
        let h = try Rev.home("crl-verify")
        let leaf = try h.issue(cn: "verify-me")
        try h.revoke(leaf, reason: "affiliationChanged")
        let row = try #require(try h.publish("issuing").first)
        let number = try #require(row["number"] as? Int)
        let nextUpdate = try RFC3339.parse(try #require(row["nextUpdate"] as? String))
        let full = h.crlPath("issuing.crl")

        // Human output: number, dates, scope, entry count.
        let text = try Rev.etrust(["crl", "verify", full, "--issuer", h.caPEM("issuing")])
        #expect(text.status == 0, "crl verify: \(text.output)")
        #expect(text.stdout.contains("CRL #\(number)"), "\(text.stdout)")
        #expect(text.stdout.contains("complete"), "\(text.stdout)")
        #expect(text.stdout.contains("1 entries") && text.stdout.contains("affiliationChanged 1"), "\(text.stdout)")
        #expect(text.stdout.contains("thisUpdate") && text.stdout.contains(RFC3339.format(nextUpdate)), "\(text.stdout)")

        // PEM input is accepted too.
        let pem = h.work + "/issuing.crl.pem"
        try Rev.write(Rev.pemCRL(try Rev.bytes(full)), to: pem)
        #expect(try Rev.etrust(["crl", "verify", pem, "--issuer", h.caPEM("issuing")]).status == 0)

        // Another CA's certificate: name and signature do not match.
        for other in ["root", "spare"] {
            let wrong = try Rev.etrust(["crl", "verify", full, "--issuer", h.caPEM(other)])
            #expect(wrong.status == 1, "checked against \(other): exit \(wrong.status) \(wrong.output)")
            #expect(wrong.stdout.contains("INVALID") && wrong.stdout.contains("signature"), "\(wrong.stdout)")
        }

        // Stale: judged after nextUpdate.
        let stale = try Rev.etrust(["crl", "verify", full, "--issuer", h.caPEM("issuing"),
                                    "--at", RFC3339.format(nextUpdate.addingTimeInterval(60))])
        #expect(stale.status == 1, "stale CRL: exit \(stale.status) \(stale.output)")
        #expect(stale.stdout.contains("INVALID") && stale.stdout.contains("stale"), "\(stale.stdout)")
        let fresh = try Rev.etrust(["crl", "verify", full, "--issuer", h.caPEM("issuing"),
                                    "--at", RFC3339.format(nextUpdate.addingTimeInterval(-60))])
        #expect(fresh.status == 0, "just before nextUpdate: \(fresh.output)")
        let early = try Rev.etrust(["crl", "verify", full, "--issuer", h.caPEM("issuing"), "--at", "2020-01-01T00:00:00Z"])
        #expect(early.status == 1, "thisUpdate in the future of --at: \(early.output)")

        // A flipped byte in the signature value (the last byte of the DER is the last of s).
        var bytes = try Rev.bytes(full)
        bytes[bytes.count - 1] ^= 0x01
        let tampered = h.work + "/tampered.crl"
        try Rev.write(bytes, to: tampered)
        let bad = try Rev.etrust(["crl", "verify", tampered, "--issuer", h.caPEM("issuing")])
        #expect(bad.status == 1, "flipped signature: exit \(bad.status) \(bad.output)")
        #expect(bad.stdout.contains("INVALID") && bad.stdout.contains("signature does not verify"), "\(bad.stdout)")
        let opensslBad = try Rev.openssl(["crl", "-inform", "DER", "-in", tampered, "-CAfile", h.caPEM("issuing"), "-noout", "-verify"])
        #expect(!opensslBad.output.contains("verify OK"), "openssl agrees the signature is bad: \(opensslBad.output)")

        // A changed digit inside the signed part (thisUpdate's seconds) breaks the signature too.
        var tbsBytes = try Rev.bytes(full)
        let crl = try CertificateRevocationList(der: tbsBytes)
        let tbs = crl.tbsDER
        let time = try #require(tbs.indices.first { $0 + 14 < tbs.endIndex && tbs[$0] == 0x17 && tbs[$0 + 1] == 0x0d },
                                "no UTCTime in the TBS")
        let digit = time + 2 + 11
        tbsBytes[digit] = tbsBytes[digit] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let altered = h.work + "/altered.crl"
        try Rev.write(tbsBytes, to: altered)
        #expect(try CertificateRevocationList(der: tbsBytes).thisUpdate != crl.thisUpdate, "the alteration hit thisUpdate")
        let alteredResult = try Rev.etrust(["crl", "verify", altered, "--issuer", h.caPEM("issuing")])
        #expect(alteredResult.status == 1, "altered TBS: \(alteredResult.output)")

        // Unreadable input is a usage error, not a verdict.
        try Rev.write("not a CRL", to: h.work + "/junk.crl")
        #expect(try Rev.etrust(["crl", "verify", h.work + "/junk.crl", "--issuer", h.caPEM("issuing")]).status == 2)
    }

    @Test("delta and shard CRLs: scope and base reported")
    func scopes() throws {
        let h = try Rev.home("crl-verify-scope")
        let base = try #require(try h.publish("issuing").first?["number"] as? Int)
        let deltaNumber = try #require(try h.publish("issuing", delta: true).first?["number"] as? Int)
        let delta = try Rev.etrust(["crl", "verify", h.crlPath("issuing-delta.crl"), "--issuer", h.caPEM("issuing")])
        #expect(delta.status == 0, "\(delta.output)")
        #expect(delta.stdout.contains("CRL #\(deltaNumber)") && delta.stdout.contains("(delta of #\(base))"), "\(delta.stdout)")
        #expect(delta.stdout.contains("scope: delta of CRL #\(base)"), "\(delta.stdout)")

        try h.publish("part")
        let shard = try Rev.etrust(["crl", "verify", h.crlPath("part-7.crl"), "--issuer", h.caPEM("part")])
        #expect(shard.status == 0, "\(shard.output)")
        #expect(shard.stdout.contains("scope: partition \(Rev.baseURL)/crl/part-7.crl"), "\(shard.stdout)")
        #expect(shard.stdout.contains("0 entries"), "\(shard.stdout)")
        // A shard of the partitioned CA checked against the issuing CA fails.
        #expect(try Rev.etrust(["crl", "verify", h.crlPath("part-7.crl"), "--issuer", h.caPEM("issuing")]).status == 1)

        // --out writes the same CRL elsewhere (a folder for a partitioned CA).
        let out = h.work + "/copy.crl"
        try h.ok(["crl", "--ca", "root", "--out", out, "--der"])
        #expect(try Rev.bytes(out) == Rev.bytes(h.crlPath("root.crl")))
        // PEM unless --der, as everywhere.
        try h.ok(["crl", "--ca", "root", "--out", out + ".pem"])
        #expect(try String(decoding: Rev.bytes(out + ".pem"), as: UTF8.self).hasPrefix("-----BEGIN X509 CRL-----"))
        let outDir = h.work + "/shards"
        try h.ok(["crl", "--ca", "part", "--out", outDir, "--der"])
        for k in [0, 15] {
            #expect(try Rev.bytes(outDir + "/part-\(k).crl") == Rev.bytes(h.crlPath("part-\(k).crl")))
        }
    }

    /// The contract: `etrust crl verify FILE --issuer CERT [--at T] [--json]`.
    @Test("--json prints one object with valid, number, entries, scope (and the reason when invalid)")
    func json() throws {
        let h = try Rev.home("crl-verify-json")
        let leaf = try h.issue(cn: "json")
        try h.revoke(leaf, reason: "privilegeWithdrawn")
        let row = try #require(try h.publish("issuing").first)
        let number = try #require(row["number"] as? Int)
        let full = h.crlPath("issuing.crl")

        let good = try Rev.etrust(["crl", "verify", full, "--issuer", h.caPEM("issuing"), "--json"])
        #expect(good.status == 0)
        let json = try #require(good.json, "crl verify --json printed no JSON object: \(good.stdout)")
        #expect(json["valid"] as? Bool == true)
        #expect(json["number"] as? Int == number)
        #expect(json["entries"] as? Int == 1)
        #expect(json["scope"] as? String == "complete")
        #expect(json["nextUpdate"] as? String == row["nextUpdate"] as? String)

        let stale = try Rev.etrust(["crl", "verify", full, "--issuer", h.caPEM("issuing"), "--json", "--at", "2099-01-01T00:00:00Z"])
        #expect(stale.status == 1)
        #expect(stale.json?["valid"] as? Bool == false, "\(stale.stdout)")
        #expect((stale.json?["reason"] as? String)?.contains("stale") == true, "\(stale.stdout)")

        try h.publish("issuing", delta: true)
        let delta = try Rev.etrust(["crl", "verify", h.crlPath("issuing-delta.crl"), "--issuer", h.caPEM("issuing"), "--json"])
        #expect(delta.json?["deltaBase"] as? Int == number, "\(delta.stdout)")
        #expect((delta.json?["scope"] as? String)?.hasPrefix("delta of CRL #\(number)") == true, "\(delta.stdout)")
    }

    /// CRLs made in code that break one rule each, judged by the CLI against a made-up issuer.
    @Test("crafted CRLs: issuer without cRLSign, unknown critical extension, no cRLNumber, delta base not older")
    func craftedCRLs() throws {
        let dir = try TestSupport.temporaryDirectory("etrust-rev-crafted")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = try DistinguishedName(parsing: "CN=Crafted CRL Issuer,O=etrust tests,C=TG")
        let key = try PrivateKey.generate(.ecP256)
        let signer = try Signer(key: key)
        func issuer(_ usage: Set<KeyUsageBit>, file: String) throws -> String {
            let tbs = TBSCertificate(serial: [0x01], signatureAlgorithm: signer.algorithm, issuer: name, notBefore: Rev.utc(2020, 1, 1),
                                     notAfter: Rev.utc(2040, 1, 1), subject: name, subjectPublicKeyInfo: try key.subjectPublicKeyInfo,
                                     extensions: [.basicConstraints(ca: true, pathLength: nil), .keyUsage(usage),
                                                  .subjectKeyIdentifier(try key.publicKey.keyIdentifier)])
            let path = dir + "/" + file
            try Rev.write(try tbs.sign(with: signer).pem, to: path)
            return path
        }
        let good = try issuer([.keyCertSign, .cRLSign], file: "good.pem")
        let noCRLSign = try issuer([.keyCertSign, .digitalSignature], file: "no-crlsign.pem")
        let thisUpdate = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970) - 60)
        func crl(_ extensions: [Extension], file: String) throws -> String {
            var b = CRLBuilder(issuer: name, signatureAlgorithm: signer.algorithm, thisUpdate: thisUpdate,
                               nextUpdate: thisUpdate.addingTimeInterval(86_400), extensions: extensions)
            b.add(serial: [0x42, 0x01], revocationDate: thisUpdate, reason: .cessationOfOperation, invalidityDate: nil)
            let path = dir + "/" + file
            try Rev.write(try b.sign(with: signer), to: path)
            return path
        }
        let aki = Extension.authorityKeyIdentifier(try key.publicKey.keyIdentifier)
        let fine = try crl([aki, .crlNumber(7)], file: "fine.crl")
        func verify(_ file: String, _ issuer: String) throws -> Rev.Result {
            try Rev.etrust(["crl", "verify", file, "--issuer", issuer])
        }

        let ok = try verify(fine, good)
        #expect(ok.status == 0, "a well-formed CRL: \(ok.output)")
        #expect(ok.stdout.contains("CRL #7") && ok.stdout.contains("cessationOfOperation 1"), "\(ok.stdout)")

        let cases: [(String, String, String)] = [
            (fine, noCRLSign, "cRLSign"),
            (try crl([aki, .crlNumber(8), Extension(oid: "1.3.6.1.4.1.99999.1", critical: true, value: [0x05, 0x00])], file: "critical.crl"),
             good, "1.3.6.1.4.1.99999.1"),
            (try crl([aki], file: "no-number.crl"), good, "cRLNumber"),
            (try crl([aki, .crlNumber(9), .deltaCRLIndicator(base: 9)], file: "delta-same.crl"), good, "base #9"),
            (try crl([aki, .crlNumber(9), .deltaCRLIndicator(base: 12)], file: "delta-newer.crl"), good, "base #12"),
        ]
        for (file, issuerFile, mention) in cases {
            let r = try verify(file, issuerFile)
            #expect(r.status == 1, "\(file) with \(issuerFile): exit \(r.status) \(r.output)")
            #expect(r.stdout.contains("INVALID") && r.stdout.contains(mention), "\(file): should name '\(mention)': \(r.stdout)")
        }
        // A non-critical unknown extension is fine.
        let tolerated = try crl([aki, .crlNumber(10), Extension(oid: "1.3.6.1.4.1.99999.2", critical: false, value: [0x05, 0x00])],
                                file: "noncritical.crl")
        #expect(try verify(tolerated, good).status == 0)
    }
}

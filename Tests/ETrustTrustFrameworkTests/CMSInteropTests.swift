import ETrustTestSupport
import Foundation
import Testing

/// `etrust sign` and `openssl cms` understand each other's signatures; tampering is refused.
@Suite("CMS document signatures: openssl interoperability")
struct CMSInteropTests {
    @Test("openssl cms -verify accepts etrust sign output: detached and enveloping, PEM and DER", arguments: [
        (false, false), (false, true), (true, false), (true, true),
    ])
    func opensslVerifiesEtrust(detached: Bool, der: Bool) throws {
        let n = try Nations.get()
        let work = try TestSupport.temporaryDirectory("etrust-tf-cms")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let sig = work + "/doc.p7s"
        var args = ["sign", "--p12", n.citizenP12, "--p12-password-file", n.pass, "--in", n.doc, "--out", sig]
        if detached { args.append("--detached") }
        if der { args.append("--der") }
        try TF.ok(args)
        let raw = try TF.bytes(sig)
        #expect(String(decoding: raw.prefix(20), as: UTF8.self).hasPrefix("-----BEGIN") == !der)
        var verify = ["cms", "-verify", "-binary", "-in", sig, "-inform", der ? "DER" : "PEM", "-CAfile", n.aRoot, "-purpose", "any",
                      "-out", work + "/out.txt"]
        if detached { verify += ["-content", n.doc] }
        let r = try TestSupport.openssl(verify)
        #expect(r.status == 0, "openssl cms -verify: \(r.stderr)")
        #expect(try TF.bytes(work + "/out.txt") == TF.bytes(n.doc))
        // signing-time is a signed attribute; the chain rides along.
        let print = try TF.openssl(["cms", "-cmsout", "-print", "-in", sig, "-inform", der ? "DER" : "PEM", "-noout"])
        #expect(print.stdout.contains("signingTime"), "\(print.stdout.prefix(400))")
        #expect(print.stdout.contains("A Issuing"), "the issuing CA is in the certificates")
        // And etrust verifies its own output.
        var own = ["verify-signature", "--revocation", "none", "--signature", sig, "--anchor", n.aRoot, "--json"]
        if detached { own += ["--content", n.doc] }
        let mine = try TF.etrust(own)
        #expect(mine.status == 0, "\(mine.stdout) \(mine.stderr)")
    }

    @Test("etrust verify-signature accepts openssl cms -sign output (detached and enveloping) and refuses one-byte changes")
    func etrustVerifiesOpenSSL() throws {
        let n = try Nations.get()
        let work = try TestSupport.temporaryDirectory("etrust-tf-cms2")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let detached = work + "/d.p7s", enveloping = work + "/e.p7s"
        let signArgs = ["cms", "-sign", "-binary", "-in", n.doc, "-signer", n.citizenCert, "-inkey", n.citizenKey,
                        "-certfile", n.citizenChain, "-md", "sha256", "-outform", "DER"]
        try TF.openssl(signArgs + ["-out", detached])
        try TF.openssl(signArgs + ["-nodetach", "-out", enveloping])

        let d = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", detached, "--content", n.doc, "--anchor", n.aRoot, "--json"])
        #expect(d.status == 0, "detached: \(d.stdout) \(d.stderr)")
        #expect((d.json?["signer"] as? String)?.contains("Kofi") == true, "\(d.stdout)")
        #expect((d.json?["signingTime"] as? String)?.isEmpty == false, "openssl adds signing-time: \(d.stdout)")
        let e = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", enveloping, "--anchor", n.aRoot, "--json"])
        #expect(e.status == 0, "enveloping: \(e.stdout) \(e.stderr)")

        // One byte of the content changed.
        var content = try TF.bytes(n.doc)
        content[3] ^= 0x01
        try TF.write(content, work + "/changed.txt")
        let changed = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", detached, "--content", work + "/changed.txt", "--anchor", n.aRoot, "--json"])
        #expect(changed.status == 1, "changed content: \(changed.stdout) \(changed.stderr)")
        #expect(changed.json?["valid"] as? Bool == false)

        // One byte of the signature value (the end of the SignerInfo) changed, detached and enveloping.
        for (sig, extra) in [(detached, ["--content", n.doc]), (enveloping, [])] {
            var der = try TF.bytes(sig)
            der[der.count - 3] ^= 0x01
            let bad = sig + ".bad"
            try TF.write(der, bad)
            let r = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", bad, "--anchor", n.aRoot, "--json"] + extra)
            #expect(r.status == 1, "tampered \(sig): \(r.stdout) \(r.stderr)")
            #expect(r.json?["valid"] as? Bool == false, "\(r.stdout)")
            // openssl agrees.
            var o = ["cms", "-verify", "-binary", "-inform", "DER", "-in", bad, "-CAfile", n.aRoot, "-purpose", "any", "-out", "/dev/null"]
            if !extra.isEmpty { o += ["-content", n.doc] }
            #expect(try TestSupport.openssl(o).status != 0)
        }

        // A detached signature without --content: a usage error.
        let missing = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", detached, "--anchor", n.aRoot])
        #expect(missing.status == 2, "\(missing.stdout) \(missing.stderr)")
        #expect(missing.stderr.contains("--content"), "\(missing.stderr)")
    }

    @Test("etrust-signed content changed by one byte is refused (etrust and openssl)")
    func etrustSignedTampered() throws {
        let n = try Nations.get()
        let work = try TestSupport.temporaryDirectory("etrust-tf-cms3")
        defer { try? FileManager.default.removeItem(atPath: work) }
        try TF.ok(["sign", "--p12", n.citizenP12, "--p12-password-file", n.pass, "--in", n.doc, "--out", work + "/d.p7s", "--detached", "--der"])
        var content = try TF.bytes(n.doc)
        content[content.count - 2] ^= 0x20
        try TF.write(content, work + "/changed.txt")
        let r = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", work + "/d.p7s", "--content", work + "/changed.txt", "--anchor", n.aRoot])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        let o = try TestSupport.openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", work + "/d.p7s", "-content", work + "/changed.txt",
                                         "-CAfile", n.aRoot, "-purpose", "any", "-out", "/dev/null"])
        #expect(o.status != 0)
    }
}

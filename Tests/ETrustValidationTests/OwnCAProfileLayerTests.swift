import ETrustTestSupport
import Foundation
import Testing

/// The profile layers and the relying-party options of `etrust verify` (issue #14) on
/// etrust-issued certificates: what the shipped profiles make passes the strictest layer that
/// fits its purpose, and the new options refuse bad input with exit 2.
@Suite("OwnCA: profile layers and relying-party options")
struct OwnCAProfileLayerTests {
    let pki: OwnCAPKI
    init() throws { pki = try OwnCAPKI.get() }

    var trust: [String] { ["--anchor", pki.root, "--intermediate", pki.issuing, "--intermediate", pki.citizens] }

    @Test("every shipped end-entity profile passes the default (strictest) layer for its purpose, and rfc5280 explicitly")
    func shippedProfilesPass() throws {
        let cases: [(String, [String])] = [
            (pki.auth.path, ["--purpose", "tls-client", "--purpose", "email", "--email", "ama.mensah@example.tg"]),
            (pki.tls.path, ["--purpose", "tls-server", "--hostname", "www.example.tg", "--eku", "serverAuth", "--key-usage", "digitalSignature"]),
            (pki.tls.path, ["--purpose", "tls-server", "--hostname", "8.8.8.8"]),
            (pki.signing.path, ["--purpose", "document-signing", "--key-usage", "nonRepudiation"]),
            (pki.responder.path, ["--purpose", "ocsp-signing"]),
            (pki.shardGood.path, ["--purpose", "tls-client"]),
        ]
        for (cert, args) in cases {
            for layer in [[], ["--profile-checks", "rfc5280"]] {
                let v = try OwnCA.verify(cert, trust + args + layer, in: pki.work)
                #expect(v.valid == true, "\(cert) \(args + layer): \(v)")
            }
        }
    }

    @Test("webpki: an IPv4 address in another spelling matches nothing; the SAN's address matches only as written")
    func hostnameSpellings() throws {
        for host in ["008.008.008.008", "0x8.8.8.8", "134744072"] {
            let v = try OwnCA.verify(pki.tls.path, trust + ["--purpose", "tls-server", "--hostname", host], in: pki.work)
            #expect(v.errorCode == "hostname_mismatch", "\(host): \(v)")
        }
        let ip = try OwnCA.verify(pki.tls.path, trust + ["--purpose", "tls-server", "--ip", "8.8.4.4"], in: pki.work)
        #expect(ip.errorCode == "ip_address_mismatch", "\(ip)")
    }

    @Test("bad option values are usage errors (exit 2): --ip with leading zeros, --profile-checks, --max-chain-depth, --key-usage, --eku")
    func usageErrors() throws {
        for extra in [["--ip", "008.8.8.8"], ["--profile-checks", "strict"], ["--max-chain-depth", "99"], ["--key-usage", "sign"],
                      ["--eku", "not-a-purpose"], ["--purpose", "banking"]] {
            let r = try OwnCA.etrust(["verify", pki.tls.path] + trust + extra, in: pki.work)
            #expect(r.status == 2, "\(extra): exit \(r.status) \(r.stdout) \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
    }

    @Test("verify-signature defaults to --revocation crl-or-ocsp: without CRLs the unreachable responder refuses; with them valid")
    func signatureRevocationDefault() throws {
        let doc = pki.work + "/profile-layer-doc.txt", sig = pki.work + "/profile-layer-doc.p7s"
        try "a contract".write(toFile: doc, atomically: true, encoding: .utf8)
        try OwnCA.mustEtrust(["sign", "--cert", pki.signing.path, "--key", pki.work + "/signing.key", "--in", doc, "--out", sig], in: pki.work)
        let base = ["verify-signature", "--signature", sig, "--anchor", pki.root, "--intermediate", pki.issuing, "--json"]
        let bare = try OwnCA.etrust(base, in: pki.work)
        #expect(bare.status == 1, "\(bare.stdout) \(bare.stderr)")
        #expect((bare.json?["revocation"] as? [String: Any])?["mode"] as? String == "crl-or-ocsp", "\(bare.stdout)")
        let withCRLs = try OwnCA.etrust(base + ["--crl", pki.issuingCRL, "--crl", pki.rootCRL], in: pki.work)
        #expect(withCRLs.status == 0, "\(withCRLs.stdout) \(withCRLs.stderr)")
        #expect(withCRLs.json?["status"] as? String == "good", "\(withCRLs.stdout)")
        let none = try OwnCA.etrust(base + ["--revocation", "none"], in: pki.work)
        #expect(none.status == 0, "\(none.stdout)")
        #expect((none.json?["revocation"] as? [String: Any])?["mode"] as? String == "none")
    }
}

import ETrustTestSupport
import Foundation
import Testing

/// Trust list files: show, verify against the right and the wrong signer, tampering, unknown
/// versions, unauthorized signers, expiry, and the documented JSON schema.
@Suite("Trust list files")
struct TrustListFileTests {
    @Test("show lists the authorities; verify: right signer 0, another CA 1, edited list 1, wrapper version 2 refused")
    func showAndVerify() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("tlf")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, signed) = try TF.signedList(n: n, work: work, homeB: homeB, level: "high")
        // A second authority: B's own root, at substantial.
        try TF.ok(["trustlist", "add", "--list", list, "--ca-cert", n.bRoot, "--country", "GH", "--level", "substantial",
                   "--policy", "2.16.288.1.1.1"])
        try TF.ok(["trustlist", "sign", "--list", list, "--out", signed, "--home", homeB])

        let show = try TF.ok(["trustlist", "show", signed])
        #expect(show.stdout.contains("[granted] TG") && show.stdout.contains("A Root"), "\(show.stdout)")
        #expect(show.stdout.contains("[granted] GH") && show.stdout.contains("B Root"), "\(show.stdout)")
        #expect(show.stdout.contains("high: \(Nations.qcpOID)"), "\(show.stdout)")
        let showPlain = try TF.ok(["trustlist", "show", list])
        #expect(showPlain.stdout == show.stdout)

        let good = try TF.etrust(["trustlist", "verify", signed, "--signer-cert", n.bRoot, "--json"])
        #expect(good.status == 0, "\(good.stdout) \(good.stderr)")
        #expect(good.json?["valid"] as? Bool == true)
        #expect(good.json?["authorities"] as? Int == 2)
        #expect((good.json?["signer"] as? String)?.contains("Trust List Signer") == true, "\(good.stdout)")
        // The signer certificate itself is accepted too.
        let signerCert = homeB + "/certs/root-trust-list.pem"
        #expect(FileManager.default.fileExists(atPath: signerCert))
        let bySigner = try TF.etrust(["trustlist", "verify", signed, "--signer-cert", signerCert])
        #expect(bySigner.status == 0, "\(bySigner.stdout) \(bySigner.stderr)")

        // Another CA's certificate.
        for other in [n.aRoot, n.bIssuing] {
            let wrong = try TF.etrust(["trustlist", "verify", signed, "--signer-cert", other, "--json"])
            #expect(wrong.status == 1, "\(other): \(wrong.stdout) \(wrong.stderr)")
            #expect(wrong.json?["valid"] as? Bool == false)
        }

        // The base64 'list' edited: the signature no longer matches.
        var wrapper = try TF.jsonObject(signed)
        let listB64 = try #require(wrapper["list"] as? String)
        var listBytes = [UInt8](try #require(Data(base64Encoded: listB64)))
        let text = String(decoding: listBytes, as: UTF8.self)
        let edited = text.replacingOccurrences(of: "B framework list", with: "B framework lisT")
        #expect(edited != text)
        listBytes = Array(edited.utf8)
        wrapper["list"] = Data(listBytes).base64EncodedString()
        try TF.writeJSON(wrapper, work + "/edited.signed")
        let broken = try TF.etrust(["trustlist", "verify", work + "/edited.signed", "--signer-cert", n.bRoot, "--json"])
        #expect(broken.status == 1, "\(broken.stdout) \(broken.stderr)")
        #expect(broken.json?["valid"] as? Bool == false)
        // ... and is no source of anchors for verify-signature.
        let vs = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--trust-list", work + "/edited.signed",
                                "--trust-list-signer", n.bRoot])
        #expect(vs.status == 1, "\(vs.stdout) \(vs.stderr)")

        // An unknown version of the signed wrapper.
        var v2 = try TF.jsonObject(signed)
        v2["version"] = 2
        try TF.writeJSON(v2, work + "/v2.signed")
        let unknown = try TF.etrust(["trustlist", "verify", work + "/v2.signed", "--signer-cert", n.bRoot, "--json"])
        #expect(unknown.status == 1 || unknown.status == 2, "\(unknown.stdout) \(unknown.stderr)")
        #expect((unknown.stdout + unknown.stderr).contains("version 2"), "a clear reason: \(unknown.stdout) \(unknown.stderr)")

        // An unknown version inside the list: `trustlist sign` refuses to sign it.
        let listText = try TF.text(list)
        try listText.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2").write(toFile: work + "/v2.json", atomically: true, encoding: .utf8)
        #expect(try TF.text(work + "/v2.json") != listText, "the list's version field was rewritten")
        let signV2 = try TF.etrust(["trustlist", "sign", "--list", work + "/v2.json", "--out", work + "/v2-list.signed", "--home", homeB])
        #expect(signV2.status == 1 || signV2.status == 2, "\(signV2.stdout) \(signV2.stderr)")
        #expect(signV2.stderr.contains("version 2"), "\(signV2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work + "/v2-list.signed"))
    }

    /// Signs `listFile` with openssl (detached CMS, DER) and wraps it like `trustlist sign`.
    private func craft(_ listFile: String, cert: String, key: String, out: String) throws {
        try TF.openssl(["cms", "-sign", "-binary", "-in", listFile, "-signer", cert, "-inkey", key, "-md", "sha256",
                        "-outform", "DER", "-out", out + ".p7s"])
        try TF.writeJSON(["format": "etrust-signed-trust-list", "version": 1,
                          "list": Data(try TF.bytes(listFile)).base64EncodedString(),
                          "signature": Data(try TF.bytes(out + ".p7s")).base64EncodedString()], out)
    }

    @Test("a list signed by a certificate of the same CA without id-tsl-kp-tslSigning is refused; the authorized signer is accepted")
    func unauthorizedSigner() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("unauth")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let list = work + "/list.json"
        try TF.ok(["trustlist", "create", "--out", list])
        try TF.ok(["trustlist", "add", "--list", list, "--ca-cert", n.aRoot, "--country", "TG", "--level", "high", "--policy", Nations.qcpOID])
        // B's issuing CA issues the trust-list signer (created on first use).
        try TF.ok(["trustlist", "sign", "--list", list, "--out", work + "/list.signed", "--signer", "issuing", "--home", homeB])
        let legit = try TF.etrust(["trustlist", "verify", work + "/list.signed", "--signer-cert", n.bIssuing])
        #expect(legit.status == 0, "\(legit.stdout) \(legit.stderr)")

        // Control: the same crafting with the authorized signer's key verifies.
        let tslKey = work + "/tsl.key"
        try TF.openssl(["pkey", "-in", homeB + "/keys/issuing-trust-list.key.pem", "-passin", "pass:test-passphrase", "-out", tslKey])
        try craft(list, cert: homeB + "/certs/issuing-trust-list.pem", key: tslKey, out: work + "/crafted-ok.signed")
        let control = try TF.etrust(["trustlist", "verify", work + "/crafted-ok.signed", "--signer-cert", n.bIssuing])
        #expect(control.status == 0, "openssl-crafted list with the authorized signer: \(control.stdout) \(control.stderr)")

        // A citizen-authentication certificate of the same CA: signature fine, signer not authorized.
        try craft(list, cert: n.bAuthCert, key: n.bAuthKey, out: work + "/crafted-auth.signed")
        let r = try TF.etrust(["trustlist", "verify", work + "/crafted-auth.signed", "--signer-cert", n.bIssuing, "--json"])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect((r.json?["reason"] as? String)?.contains("not authorized") == true, "\(r.stdout)")
        let vs = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--trust-list", work + "/crafted-auth.signed",
                                "--trust-list-signer", n.bIssuing])
        #expect(vs.status == 1, "\(vs.stdout) \(vs.stderr)")

        // A list of format version 2, signed by the authorized signer: refused with a clear reason.
        let v2 = work + "/v2.json"
        try TF.text(list).replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2").write(toFile: v2, atomically: true, encoding: .utf8)
        #expect(try TF.text(v2).contains("\"version\" : 2"))
        try craft(v2, cert: homeB + "/certs/issuing-trust-list.pem", key: tslKey, out: work + "/v2.signed")
        let unknown = try TF.etrust(["trustlist", "verify", work + "/v2.signed", "--signer-cert", n.bIssuing])
        #expect(unknown.status == 1 || unknown.status == 2, "\(unknown.stdout) \(unknown.stderr)")
        #expect((unknown.stdout + unknown.stderr).contains("version 2"), "\(unknown.stdout) \(unknown.stderr)")
    }

    @Test("an expired list (--next-update 1s) is refused, naming nextUpdate")
    func expired() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("exp")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let list = work + "/list.json"
        try TF.ok(["trustlist", "create", "--out", list, "--next-update", "1s"])
        try TF.ok(["trustlist", "add", "--list", list, "--ca-cert", n.aRoot, "--country", "TG", "--level", "high",
                   "--policy", Nations.qcpOID])
        Thread.sleep(forTimeInterval: 2)
        try TF.ok(["trustlist", "sign", "--list", list, "--out", work + "/list.signed", "--home", homeB])
        let r = try TF.etrust(["trustlist", "verify", work + "/list.signed", "--signer-cert", n.bRoot])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect((r.stdout + r.stderr).contains("nextUpdate"), "\(r.stdout) \(r.stderr)")
        let vs = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--trust-list", work + "/list.signed",
                                "--trust-list-signer", n.bRoot])
        #expect(vs.status == 1, "\(vs.stdout) \(vs.stderr)")
    }

    @Test("the list file follows Policies/trust-list.schema.json (required keys, types, patterns, no extra keys)")
    func schema() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("schema")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, signed) = try TF.signedList(n: n, work: work, homeB: homeB, level: "high")
        try TF.ok(["trustlist", "withdraw", "--list", list, "--ca-cert", n.aRoot, "--at", "2030-01-01T00:00:00Z"])
        let schemaObject = try TF.jsonObject(TestSupport.packageRoot + "/Policies/trust-list.schema.json")
        let required = try #require(schemaObject["required"] as? [String])
        let properties = try #require(schemaObject["properties"] as? [String: Any])
        let doc = try TF.jsonObject(list)
        #expect(Set(required).isSubset(of: Set(doc.keys)), "missing: \(Set(required).subtracting(doc.keys))")
        #expect(Set(doc.keys).isSubset(of: Set(properties.keys)), "extra: \(Set(doc.keys).subtracting(properties.keys))")
        #expect(doc["format"] as? String == "etrust-trust-list")
        #expect((doc["version"] as? NSNumber)?.intValue == 1)
        #expect(doc["name"] is String)
        let sequence = try #require((doc["sequence"] as? NSNumber)?.intValue)
        #expect(sequence >= 3, "create, add and withdraw each grow it: \(sequence)")
        for key in ["issued", "nextUpdate"] { #expect(isDateTime(doc[key]), "\(key): \(String(describing: doc[key]))") }

        let authoritySchema = try #require(((properties["authorities"] as? [String: Any])?["items"] as? [String: Any]))
        let aRequired = try #require(authoritySchema["required"] as? [String])
        let aProperties = try #require(authoritySchema["properties"] as? [String: Any])
        let authorities = try #require(doc["authorities"] as? [[String: Any]])
        #expect(authorities.count == 1)
        let statuses: Set<String> = ["granted", "suspended", "withdrawn"]
        for a in authorities {
            #expect(Set(aRequired).isSubset(of: Set(a.keys)), "missing: \(Set(aRequired).subtracting(a.keys))")
            #expect(Set(a.keys).isSubset(of: Set(aProperties.keys)), "extra: \(Set(a.keys).subtracting(aProperties.keys))")
            #expect(a["name"] is String)
            #expect(matches(a["country"], "^[A-Z]{2}$"))
            #expect(matches(a["sha256"], "^[0-9a-f]{64}$"), "\(String(describing: a["sha256"]))")
            #expect(statuses.contains(a["status"] as? String ?? ""))
            #expect(a["status"] as? String == "withdrawn")
            let certificate = try #require((a["certificate"] as? String).flatMap { Data(base64Encoded: $0) })
            try TF.write([UInt8](certificate), work + "/entry.der")
            let fp = try TF.openssl(["x509", "-inform", "DER", "-in", work + "/entry.der", "-noout", "-fingerprint", "-sha256"])
            let hex = fp.stdout.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").lowercased() }
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(hex == a["sha256"] as? String, "the sha256 is the certificate's")
            let history = try #require(a["history"] as? [[String: Any]])
            #expect(history.count == 2)
            for h in history {
                #expect(Set(h.keys) == ["status", "since"], "\(h)")
                #expect(statuses.contains(h["status"] as? String ?? ""))
                #expect(isDateTime(h["since"]), "\(h)")
            }
            #expect(history.last?["since"] as? String == "2030-01-01T00:00:00Z")
            let levels = try #require(a["levels"] as? [[String: Any]])
            #expect(!levels.isEmpty)
            for l in levels {
                #expect(Set(l.keys) == ["level", "policies"], "\(l)")
                #expect(["low", "substantial", "high"].contains(l["level"] as? String ?? ""))
                let policies = try #require(l["policies"] as? [String])
                #expect(policies.allSatisfy { matches($0, "^[0-9]+(\\.[0-9]+)+$") }, "\(policies)")
            }
            let services = try #require(a["services"] as? [String: Any])
            #expect(Set(services.keys).isSubset(of: ["crl", "ocsp"]), "\(services)")
            #expect((services["ocsp"] as? [String]) == ["http://ocsp.a.example/ocsp"])
            #expect((services["crl"] as? [String]) == ["http://a.example/crl/root.crl"])
        }
        // The signed wrapper: format, version, and base64 of the exact list bytes signed.
        let wrapper = try TF.jsonObject(signed)
        #expect(Set(wrapper.keys) == ["format", "version", "list", "signature"], "\(wrapper.keys)")
        #expect(wrapper["format"] as? String == "etrust-signed-trust-list")
        #expect((wrapper["version"] as? NSNumber)?.intValue == 1)
        #expect((wrapper["signature"] as? String).flatMap { Data(base64Encoded: $0) } != nil)
        // openssl verifies the detached signature over the decoded list bytes.
        let listBytes = try #require((wrapper["list"] as? String).flatMap { Data(base64Encoded: $0) })
        let sigBytes = try #require((wrapper["signature"] as? String).flatMap { Data(base64Encoded: $0) })
        try listBytes.write(to: URL(fileURLWithPath: work + "/signed-list.json"))
        try sigBytes.write(to: URL(fileURLWithPath: work + "/signed-list.p7s"))
        let o = try TestSupport.openssl(["cms", "-verify", "-binary", "-inform", "DER", "-in", work + "/signed-list.p7s",
                                         "-content", work + "/signed-list.json", "-CAfile", n.bRoot, "-purpose", "any", "-out", "/dev/null"])
        #expect(o.status == 0, "\(o.stderr)")
    }

    private func isDateTime(_ v: Any?) -> Bool {
        guard let s = v as? String else { return false }
        return ISO8601DateFormatter().date(from: s) != nil || {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return f.date(from: s) != nil
        }()
    }

    private func matches(_ v: Any?, _ pattern: String) -> Bool {
        guard let s = v as? String else { return false }
        return s.range(of: pattern, options: .regularExpression) != nil
    }
}

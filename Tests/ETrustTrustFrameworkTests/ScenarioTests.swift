import ETrustTestSupport
import Foundation
import Testing

/// Issue #7: B's relying party accepts the signature of A's citizen through a trust list signed
/// in B's home, or through a cross-certificate from B's root to A's root; and refuses it when A is
/// withdrawn, when the level is too low, outside name constraints, or with mapping inhibited.
@Suite("Two national PKIs: trust lists and cross-certification")
struct ScenarioTests {
    @Test("trust list at high: accepted with --min-assurance high; withdrawal refuses new signatures, keeps earlier ones")
    func trustListAcceptsThenWithdraws() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("tl")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, signed) = try TF.signedList(n: n, work: work, homeB: homeB, level: "high")
        let verifyArgs = ["--trust-list", signed, "--trust-list-signer", n.bRoot, "--home", homeB]

        let r = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--min-assurance", "high", "--json"] + verifyArgs)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        let json = try #require(r.json, "\(r.stdout)")
        #expect(json["valid"] as? Bool == true)
        #expect(json["level"] as? String == "high")
        #expect((json["signer"] as? String)?.contains("IDCTG-1") == true, "\(json)")
        #expect((json["signingTime"] as? String)?.isEmpty == false, "\(json)")
        let path = try #require(json["path"] as? [String])
        #expect(path.count == 3 && path.last?.contains("A Root") == true, "\(path)")
        #expect(json["status"] as? String == "not-checked")
        #expect((json["policies"] as? [String])?.contains(Nations.qcpOID) == true, "\(json)")

        // The same signer is not trusted by B's home alone (no list, no cross-certificate).
        let alone = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--home", homeB, "--json"])
        #expect(alone.status == 1, "\(alone.stdout) \(alone.stderr)")

        // Withdraw A (now), re-sign the list. A signature made before the withdrawal stays valid;
        // one made after it is refused.
        Thread.sleep(forTimeInterval: 1.1)
        try TF.ok(["trustlist", "withdraw", "--list", list, "--ca-cert", n.aRoot])
        try TF.ok(["trustlist", "sign", "--list", list, "--out", signed, "--home", homeB])
        try TF.ok(["sign", "--p12", n.citizenP12, "--p12-password-file", n.pass, "--in", n.doc, "--out", work + "/late.p7s"])
        let late = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", work + "/late.p7s", "--min-assurance", "high", "--json"] + verifyArgs)
        #expect(late.status == 1, "a signature made after the withdrawal: \(late.stdout) \(late.stderr)")
        #expect(late.json?["valid"] as? Bool != true)
        let early = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--min-assurance", "high", "--json"] + verifyArgs)
        #expect(early.status == 0, "a signature made before the withdrawal: \(early.stdout) \(early.stderr)")
        #expect(early.json?["level"] as? String == "high")
        let show = try TF.ok(["trustlist", "show", signed])
        #expect(show.stdout.contains("[withdrawn]"), "\(show.stdout)")
    }

    @Test("trust list maps the citizen's policy to low only: --min-assurance high is refused (assurance_too_low), low is accepted")
    func trustListLevelTooLow() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("low")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (_, signed) = try TF.signedList(n: n, work: work, homeB: homeB, level: "low")
        let base = ["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--trust-list", signed, "--trust-list-signer", n.bRoot, "--json"]
        let high = try TF.etrust(base + ["--min-assurance", "high"])
        #expect(high.status == 1, "\(high.stdout) \(high.stderr)")
        #expect(high.json?["errorCode"] as? String == "assurance_too_low", "\(high.stdout)")
        let substantial = try TF.etrust(base + ["--min-assurance", "substantial"])
        #expect(substantial.status == 1 && substantial.json?["errorCode"] as? String == "assurance_too_low", "\(substantial.stdout)")
        let low = try TF.etrust(base + ["--min-assurance", "low"])
        #expect(low.status == 0, "\(low.stdout) \(low.stderr)")
        #expect(low.json?["level"] as? String == "low")
    }

    @Test("cross-certificate with policy mapping B_OID=QCP-n-qscd: accepted under --policy B_OID --require-explicit-policy")
    func crossCertificateAccepts() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("cross")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let cross = work + "/cross.pem"
        // The early signature must predate the cross-certificate by at least a second.
        Thread.sleep(forTimeInterval: 1.1)
        try TF.crossCertify(n: n, homeB: homeB, out: cross, ["--policy-mapping", "\(Nations.bOID)=\(Nations.qcpOID)"])
        let signature = work + "/doc.p7s"
        try TF.citizenSigns(n: n, out: signature)
        let base = ["verify-signature", "--revocation", "none", "--signature", signature, "--anchor", n.bRoot, "--intermediate", cross,
                    "--intermediate", n.aIssuing, "--json"]
        let r = try TF.etrust(base + ["--policy", Nations.bOID, "--require-explicit-policy"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.json?["valid"] as? Bool == true)
        let path = r.json?["path"] as? [String] ?? []
        #expect(path.count == 4 && path.last?.contains("B Root") == true, "the path ends at B's root: \(path)")
        #expect((r.json?["policies"] as? [String])?.contains(Nations.bOID) == true, "\(r.stdout)")
        // A policy of B that was not mapped is not satisfied.
        let other = try TF.etrust(base + ["--policy", "2.16.288.1.1.9", "--require-explicit-policy"])
        #expect(other.status == 1, "\(other.stdout)")
        #expect(other.json?["errorCode"] as? String == "no_explicit_policy", "\(other.stdout)")
        // The relying party's initial-policy-mapping-inhibit on the mapped path: no acceptable policy.
        let inhibited = try TF.etrust(base + ["--policy", Nations.bOID, "--require-explicit-policy", "--inhibit-policy-mapping"])
        #expect(inhibited.status == 1, "\(inhibited.stdout) \(inhibited.stderr)")
        #expect(inhibited.json?["errorCode"] as? String == "no_explicit_policy", "\(inhibited.stdout)")
        // Without B's cross-certificate, B's root alone does not reach A's citizen.
        let without = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", signature, "--anchor", n.bRoot, "--json"])
        #expect(without.status == 1, "\(without.stdout)")
        // A signature made before the cross-certificate existed is judged at its signing time,
        // when B did not yet recognise A: refused.
        let before = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--anchor", n.bRoot, "--intermediate", cross,
                                    "--intermediate", n.aIssuing, "--json"])
        #expect(before.status == 1, "\(before.stdout)")
    }

    @Test("cross-certificate permitting dirname:C=GH only: A's certificates are refused with permitted_violation")
    func crossCertificateNameConstraints() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("nc")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let ghOnly = work + "/cross-gh.pem", tgOK = work + "/cross-tg.pem"
        try TF.crossCertify(n: n, homeB: homeB, out: ghOnly, ["--policy-mapping", "\(Nations.bOID)=\(Nations.qcpOID)", "--permitted", "dirname:C=GH"])
        try TF.crossCertify(n: n, homeB: homeB, out: tgOK, ["--policy-mapping", "\(Nations.bOID)=\(Nations.qcpOID)", "--permitted", "dirname:C=TG"])
        let signature = work + "/doc.p7s"
        try TF.citizenSigns(n: n, out: signature)
        func verify(_ cross: String) throws -> TestSupport.Result {
            try TF.etrust(["verify-signature", "--revocation", "none", "--signature", signature, "--anchor", n.bRoot, "--intermediate", cross,
                           "--intermediate", n.aIssuing, "--policy", Nations.bOID, "--require-explicit-policy", "--json"])
        }
        let refused = try verify(ghOnly)
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.json?["errorCode"] as? String == "permitted_violation", "\(refused.stdout)")
        let accepted = try verify(tgOK)
        #expect(accepted.status == 0, "C=TG is permitted: \(accepted.stdout) \(accepted.stderr)")
    }

    @Test("the cross-certificate's own inhibitPolicyMapping 0 still lets its own mapping apply (RFC 5280 6.1.4 (b) before (i))")
    func crossCertificateInhibitZero() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("inh")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let cross = work + "/cross.pem"
        try TF.crossCertify(n: n, homeB: homeB, out: cross, ["--policy-mapping", "\(Nations.bOID)=\(Nations.qcpOID)",
                                                             "--inhibit-policy-mapping", "0", "--require-explicit-policy", "0"])
        let signature = work + "/doc.p7s"
        try TF.citizenSigns(n: n, out: signature)
        let r = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", signature, "--anchor", n.bRoot, "--intermediate", cross,
                               "--intermediate", n.aIssuing, "--policy", Nations.bOID, "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect((r.json?["policies"] as? [String])?.contains(Nations.bOID) == true, "\(r.stdout)")
    }

    @Test("etrust verify (a certificate) with a trust list: levels from the list, withdrawal by time, --anchor refused alongside")
    func verifyCertificateWithTrustList() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("vcert")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, signed) = try TF.signedList(n: n, work: work, homeB: homeB, level: "substantial")
        let base = ["verify", n.citizenCert, "--intermediate", n.aIssuing, "--trust-list", signed, "--trust-list-signer", n.bRoot,
                    "--purpose", "document-signing", "--json"]
        let ok = try TF.etrust(base + ["--min-assurance", "substantial"])
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(ok.json?["assurance"] as? String == "substantial", "\(ok.stdout)")
        let high = try TF.etrust(base + ["--min-assurance", "high"])
        #expect(high.status == 1 && high.json?["errorCode"] as? String == "assurance_too_low", "\(high.stdout)")
        // The list is the only source of anchors: --anchor with it is a usage error, and so is a list without its signer.
        let both = try TF.etrust(base + ["--anchor", n.aRoot])
        #expect(both.status == 2, "\(both.stdout) \(both.stderr)")
        let noSigner = try TF.etrust(["verify", n.citizenCert, "--intermediate", n.aIssuing, "--trust-list", signed])
        #expect(noSigner.status == 2, "\(noSigner.stdout) \(noSigner.stderr)")
        // A list signed by the wrong authority is no source of anchors.
        let wrongSigner = try TF.etrust(["verify", n.citizenCert, "--intermediate", n.aIssuing, "--trust-list", signed,
                                         "--trust-list-signer", n.aRoot])
        #expect(wrongSigner.status == 1, "\(wrongSigner.stdout) \(wrongSigner.stderr)")

        // Withdrawn from a time W in the future: valid now and before W, not at or after W.
        let w = Date().addingTimeInterval(3600)
        let f = ISO8601DateFormatter()
        try TF.ok(["trustlist", "withdraw", "--list", list, "--ca-cert", n.aRoot, "--at", f.string(from: w)])
        try TF.ok(["trustlist", "sign", "--list", list, "--out", signed, "--home", homeB])
        let now = try TF.etrust(base)
        #expect(now.status == 0, "before the withdrawal time: \(now.stdout) \(now.stderr)")
        let after = try TF.etrust(base + ["--at", f.string(from: w.addingTimeInterval(60))])
        #expect(after.status == 1, "after the withdrawal time: \(after.stdout) \(after.stderr)")
        let at = try TF.etrust(base + ["--at", f.string(from: w)])
        #expect(at.status == 1, "at the withdrawal time: \(at.stdout) \(at.stderr)")
    }

    @Test("levels are per authority: a CA listed at low does not get high because another listed CA maps the same policy to high")
    func levelsArePerAuthority() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("perauth")
        defer { try? FileManager.default.removeItem(atPath: work) }
        // B's own citizen, with the same QCP-n-qscd policy as A's.
        try TF.ok(["issue", "--home", homeB, "--ca", "issuing", "--profile", "citizen-signing", "--generate-key",
                   "--subject", "CN=Ama Mensah,GN=Ama,SN=Mensah,serialNumber=IDCGH-7,C=GH",
                   "--p12", work + "/ama.p12", "--p12-password-file", n.pass])
        try TF.ok(["sign", "--p12", work + "/ama.p12", "--p12-password-file", n.pass, "--in", n.doc, "--out", work + "/ama.p7s"])
        let list = work + "/list.json", signed = work + "/list.signed"
        try TF.ok(["trustlist", "create", "--out", list])
        try TF.ok(["trustlist", "add", "--list", list, "--ca-cert", n.aRoot, "--country", "TG", "--level", "high", "--policy", Nations.qcpOID])
        try TF.ok(["trustlist", "add", "--list", list, "--ca-cert", n.bRoot, "--country", "GH", "--level", "low", "--policy", Nations.qcpOID])
        try TF.ok(["trustlist", "sign", "--list", list, "--out", signed, "--home", homeB])
        let trust = ["--trust-list", signed, "--trust-list-signer", n.bRoot, "--json"]
        let a = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--min-assurance", "high"] + trust)
        #expect(a.status == 0 && a.json?["level"] as? String == "high", "A is listed at high: \(a.stdout) \(a.stderr)")
        let b = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", work + "/ama.p7s"] + trust)
        #expect(b.status == 0, "\(b.stdout) \(b.stderr)")
        #expect(b.json?["level"] as? String == "low", "B is listed at low only: \(b.stdout)")
        let bHigh = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", work + "/ama.p7s", "--min-assurance", "high"] + trust)
        #expect(bHigh.status == 1, "B is listed at low only: \(bHigh.stdout)")
        #expect(bHigh.json?["errorCode"] as? String == "assurance_too_low", "\(bHigh.stdout)")
    }

    @Test("the signer is judged for document signing: a trust-list-signing certificate's signature is refused")
    func documentSigningPurpose() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("purpose")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let list = work + "/list.json"
        try TF.ok(["trustlist", "create", "--out", list])
        try TF.ok(["trustlist", "sign", "--list", list, "--out", work + "/list.signed", "--home", homeB])
        try TF.ok(["sign", "--cert", homeB + "/certs/root-trust-list.pem", "--key", homeB + "/keys/root-trust-list.key.pem",
                   "--in", n.doc, "--out", work + "/tsl.p7s"])
        let r = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", work + "/tsl.p7s", "--anchor", n.bRoot, "--json"])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect((r.json?["reason"] as? String)?.contains("document signing") == true, "\(r.stdout)")
        // The same certificate is a valid certificate as such (purpose any).
        let any = try TF.etrust(["verify", homeB + "/certs/root-trust-list.pem", "--anchor", n.bRoot])
        #expect(any.status == 0, "\(any.stdout) \(any.stderr)")
    }
}

import ETrustTestSupport
import Foundation
import Testing

/// `etrust verify` (issue #5) on paths issued by etrust's own CA: the good path, CRL revocation
/// (full, delta, partitioned), validity periods, purposes and names, policies and assurance.
@Suite("OwnCA: etrust verify on etrust-issued paths")
struct OwnCAVerifyTests {
    let pki: OwnCAPKI
    init() throws { pki = try OwnCAPKI.get() }

    /// --home (anchors and assurance levels) and --intermediate issuing.
    var trust: [String] { ["--home", pki.home, "--intermediate", pki.issuing] }

    // MARK: 1. The good path

    @Test("a citizen-authentication certificate: valid, exit 0, path leaf->issuing->root, its policy, assurance substantial")
    func goodPath() throws {
        let v = try OwnCA.verify(pki.auth.path, trust, in: pki.work)
        #expect(v.status == 0, "\(v)")
        #expect(v.valid == true)
        #expect(v.errorCode == "ok")
        let expected = [try OwnCA.subject(of: pki.auth.path), try OwnCA.subject(of: pki.issuing), try OwnCA.subject(of: pki.root)]
        #expect(v.path == expected)
        #expect(v.path == ["CN=Ama Mensah,C=TG", OwnCA.issuingSubject, OwnCA.rootSubject])
        #expect(v.policies.contains(OwnCA.authPolicy), "policies: \(v.policies)")
        #expect(!v.policies.contains("2.5.29.32.0"), "anyPolicy is not a policy of the leaf: \(v.policies)")
        #expect(v.assurance == "substantial")
        #expect(v.revocationMode == "none")
        // Every certificate of the path is reported, the anchor as the anchor.
        #expect(v.revocation.count == 3)
        #expect(v.revocation(of: OwnCA.rootSubject)?["source"] as? String == "trust anchor")
        #expect(v.revocation.first?["serial"] as? String == pki.auth.serial)
    }

    @Test("human output: exit 0 and 'valid' with the path; a failure exits 1 and names the error code")
    func humanOutput() throws {
        let ok = try OwnCA.etrust(["verify", pki.auth.path] + trust, in: pki.work)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.hasPrefix("valid"), "\(ok.stdout)")
        #expect(ok.stdout.contains(OwnCA.issuingSubject))
        #expect(ok.stdout.contains("assurance: substantial"))
        let bad = try OwnCA.etrust(["verify", pki.auth.path] + trust + ["--purpose", "tls-server"], in: pki.work)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("INVALID") && bad.stdout.contains("invalid_purpose"), "\(bad.stdout)")
    }

    @Test("citizen-signing: policy 0.4.0.194112.1.2 and assurance high; tls-server: its policy and no assurance level")
    func otherProfiles() throws {
        let s = try OwnCA.verify(pki.signing.path, trust, in: pki.work)
        #expect(s.valid == true, "\(s)")
        #expect(s.policies == [OwnCA.signingPolicy])
        #expect(s.assurance == "high")
        let t = try OwnCA.verify(pki.tls.path, trust, in: pki.work)
        #expect(t.valid == true, "\(t)")
        #expect(t.policies == [OwnCA.tlsPolicy])
        #expect(t.json["assurance"] is NSNull, "tls-server maps to no level: \(t)")
    }

    @Test("--anchor without a home: valid, and no assurance (levels come from a home's profiles)")
    func anchorWithoutHome() throws {
        let v = try OwnCA.verify(pki.auth.path, ["--anchor", pki.root, "--intermediate", pki.issuing], in: pki.work)
        #expect(v.valid == true, "\(v)")
        #expect(v.path.count == 3)
        #expect(v.policies == [OwnCA.authPolicy])
        #expect(v.json["assurance"] is NSNull)
        // --min-assurance then cannot be met.
        let m = try OwnCA.verify(pki.auth.path, ["--anchor", pki.root, "--intermediate", pki.issuing, "--min-assurance", "low"],
                                 in: pki.work)
        #expect(m.valid == false)
        #expect(m.errorCode == "assurance_too_low")
    }

    @Test("inside a home the home's sub-CAs are candidate issuers; --no-home-intermediates: unable_to_get_issuer_cert_locally")
    func homeIntermediates() throws {
        let v = try OwnCA.verify(pki.auth.path, ["--home", pki.home], in: pki.work)
        #expect(v.valid == true, "\(v)")
        #expect(v.path.count == 3)
        let without = try OwnCA.verify(pki.auth.path, ["--home", pki.home, "--no-home-intermediates"], in: pki.work)
        #expect(without.status == 1)
        #expect(without.errorCode == "unable_to_get_issuer_cert_locally")
    }

    // MARK: 2. Revocation by CRL

    var bothCRLs: [String] { ["--crl", pki.issuingCRL, "--crl", pki.rootCRL] }

    @Test("--revocation crl with both CRLs: the good leaf is valid and each certificate names the CRL that cleared it")
    func crlGood() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + bothCRLs + ["--revocation", "crl"], in: pki.work)
        #expect(v.status == 0, "\(v)")
        #expect(v.revocationMode == "crl")
        let leaf = try #require(v.revocation(of: "CN=Ama Mensah,C=TG"))
        #expect(leaf["status"] as? String == "good")
        #expect((leaf["source"] as? String)?.contains("CRL #1 of \(OwnCA.issuingSubject)") == true, "\(leaf)")
        let mid = try #require(v.revocation(of: OwnCA.issuingSubject))
        #expect(mid["status"] as? String == "good")
        #expect((mid["source"] as? String)?.contains(OwnCA.rootSubject) == true, "\(mid)")
    }

    @Test("--revocation crl with both CRLs: a revoked leaf is certificate_revoked, exit 1")
    func crlRevoked() throws {
        let v = try OwnCA.verify(pki.authRevoked.path, trust + bothCRLs + ["--revocation", "crl"], in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.valid == false)
        #expect(v.errorCode == "certificate_revoked")
        // crl-or-ocsp uses the CRL the same way.
        let w = try OwnCA.verify(pki.authRevoked.path, trust + bothCRLs + ["--revocation", "crl-or-ocsp"], in: pki.work)
        #expect(w.errorCode == "certificate_revoked", "\(w)")
        // Without revocation checking the same certificate is (documentedly) valid.
        let n = try OwnCA.verify(pki.authRevoked.path, trust + bothCRLs + ["--revocation", "none"], in: pki.work)
        #expect(n.valid == true, "\(n)")
        #expect(n.revocationMode == "none")
        #expect(n.revocation.first?["status"] as? String == "not-checked")
    }

    @Test("--revocation crl: a missing CRL is unable_to_get_crl, for the intermediate and for the leaf")
    func crlMissing() throws {
        let noRoot = try OwnCA.verify(pki.auth.path, trust + ["--crl", pki.issuingCRL, "--revocation", "crl"], in: pki.work)
        #expect(noRoot.status == 1, "\(noRoot)")
        #expect(noRoot.errorCode == "unable_to_get_crl")
        #expect(noRoot.reason.contains("OwnCA Issuing"), "the reason names the certificate without a CRL: \(noRoot.reason)")
        let noIssuing = try OwnCA.verify(pki.auth.path, trust + ["--crl", pki.rootCRL, "--revocation", "crl"], in: pki.work)
        #expect(noIssuing.status == 1, "\(noIssuing)")
        #expect(noIssuing.errorCode == "unable_to_get_crl")
        let none = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "crl"], in: pki.work)
        #expect(none.errorCode == "unable_to_get_crl", "\(none)")
    }

    @Test("--revocation crl at a time after the CRLs' nextUpdate: crl_has_expired, never valid")
    func staleCRL() throws {
        let later = OwnCA.rfc3339(Date().addingTimeInterval(8 * 86400))   // sub-ca: 7-day CRL period
        let v = try OwnCA.verify(pki.auth.path, trust + bothCRLs + ["--revocation", "crl", "--at", later], in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.errorCode == "crl_has_expired")
        // The same CRLs before their nextUpdate.
        let sooner = OwnCA.rfc3339(Date().addingTimeInterval(6 * 86400))
        let ok = try OwnCA.verify(pki.auth.path, trust + bothCRLs + ["--revocation", "crl", "--at", sooner], in: pki.work)
        #expect(ok.status == 0, "\(ok)")
    }

    @Test("crl-or-ocsp: the intermediate's missing CRL is replaced by an OCSP response from the root")
    func crlOrOCSP() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + ["--crl", pki.issuingCRL, "--revocation", "crl-or-ocsp",
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 0, "\(v)")
        #expect(v.revocationMode == "crl-or-ocsp")
        let mid = try #require(v.revocation(of: OwnCA.issuingSubject))
        #expect(mid["status"] as? String == "good")
        #expect((mid["source"] as? String)?.hasPrefix("OCSP") == true, "\(mid)")
        let leaf = try #require(v.revocation(of: "CN=Ama Mensah,C=TG"))
        #expect((leaf["source"] as? String)?.contains("CRL") == true, "\(leaf)")
    }

    @Test("delta CRLs (sub-ca): a certificate revoked after the full CRL is revoked with full+delta, not with the full CRL alone")
    func deltaCRL() throws {
        let withDelta = try OwnCA.verify(pki.authLate.path, trust + bothCRLs + ["--crl", pki.issuingDelta, "--revocation", "crl"],
                                         in: pki.work)
        #expect(withDelta.status == 1, "\(withDelta)")
        #expect(withDelta.errorCode == "certificate_revoked")
        let fullOnly = try OwnCA.verify(pki.authLate.path, trust + bothCRLs + ["--revocation", "crl"], in: pki.work)
        #expect(fullOnly.valid == true, "the full CRL does not list it: \(fullOnly)")
        // A good certificate with full+delta names both.
        let good = try OwnCA.verify(pki.auth.path, trust + bothCRLs + ["--crl", pki.issuingDelta, "--revocation", "crl"], in: pki.work)
        #expect(good.valid == true, "\(good)")
        let leaf = try #require(good.revocation(of: "CN=Ama Mensah,C=TG"))
        #expect((leaf["source"] as? String)?.contains("delta #2") == true, "\(leaf)")
        // The revoked-before-base certificate stays revoked with the delta too.
        let early = try OwnCA.verify(pki.authRevoked.path, trust + bothCRLs + ["--crl", pki.issuingDelta, "--revocation", "crl"],
                                     in: pki.work)
        #expect(early.errorCode == "certificate_revoked", "\(early)")
    }

    @Test("partitioned CRLs (16 shards): the right shard decides; the other 15 shards are not a CRL for the certificate")
    func shardedCRL() throws {
        let trust = ["--home", pki.home, "--intermediate", pki.citizens, "--crl", pki.rootCRL, "--revocation", "crl"]
        let all = pki.shardCRLs.flatMap { ["--crl", $0] }
        let good = try OwnCA.verify(pki.shardGood.path, trust + all, in: pki.work)
        #expect(good.status == 0, "\(good)")
        #expect(good.path.count == 3)
        let revoked = try OwnCA.verify(pki.shardRevoked.path, trust + all, in: pki.work)
        #expect(revoked.errorCode == "certificate_revoked", "\(revoked)")
        // Which shard covers the revoked certificate: its CRL distribution point says.
        let cdp = try OwnCA.mustOpenSSL(["x509", "-in", pki.shardRevoked.path, "-noout", "-ext", "crlDistributionPoints"]).stdout
        let shard = try #require(pki.shardCRLs.first { cdp.contains("/crl/" + ($0 as NSString).lastPathComponent) }, "CDP: \(cdp)")
        let others = pki.shardCRLs.filter { $0 != shard }.flatMap { ["--crl", $0] }
        let wrong = try OwnCA.verify(pki.shardRevoked.path, trust + others, in: pki.work)
        #expect(wrong.valid == false, "15 shard CRLs that do not cover it must not clear a revoked certificate: \(wrong)")
        // OpenSSL: CRLs of the issuer exist, but none whose issuingDistributionPoint covers the certificate.
        #expect(wrong.errorCode == "different_crl_scope" || wrong.errorCode == "unable_to_get_crl", "\(wrong)")
    }

    // MARK: 4. Validity period

    @Test("--at after notAfter: certificate_has_expired; before notBefore: certificate_not_yet_valid; inside: valid")
    func validityPeriod() throws {
        let expired = try OwnCA.verify(pki.auth.path, trust + ["--at", OwnCA.rfc3339(pki.auth.notAfter.addingTimeInterval(86400))],
                                       in: pki.work)
        #expect(expired.status == 1, "\(expired)")
        #expect(expired.errorCode == "certificate_has_expired")
        let early = try OwnCA.verify(pki.auth.path, trust + ["--at", OwnCA.rfc3339(pki.auth.notBefore.addingTimeInterval(-86400))],
                                     in: pki.work)
        #expect(early.status == 1, "\(early)")
        #expect(early.errorCode == "certificate_not_yet_valid")
        let inside = try OwnCA.verify(pki.auth.path, trust + ["--at", OwnCA.rfc3339(pki.auth.notAfter.addingTimeInterval(-86400))],
                                      in: pki.work)
        #expect(inside.valid == true, "\(inside)")
    }

    // MARK: 5. Purposes and names

    struct PurposeCase: Sendable, CustomTestStringConvertible {
        enum Which: Sendable { case auth, tls, signing, responder }
        let certificate: Which
        let label: String
        let arguments: [String]
        let expected: String   // "ok" or the errorCode
        var testDescription: String { "\(label) \(arguments.joined(separator: " ")) -> \(expected)" }
    }

    static let purposeCases: [PurposeCase] = [
        PurposeCase(certificate: .auth, label: "citizen-authentication", arguments: ["--purpose", "tls-server"], expected: "invalid_purpose"),
        PurposeCase(certificate: .auth, label: "citizen-authentication", arguments: ["--purpose", "tls-client"], expected: "ok"),
        PurposeCase(certificate: .auth, label: "citizen-authentication", arguments: ["--purpose", "email", "--email", "ama.mensah@example.tg"],
                    expected: "ok"),
        PurposeCase(certificate: .auth, label: "citizen-authentication", arguments: ["--email", "kofi@example.tg"], expected: "email_mismatch"),
        PurposeCase(certificate: .auth, label: "citizen-authentication", arguments: ["--purpose", "code-signing"], expected: "invalid_purpose"),
        PurposeCase(certificate: .tls, label: "tls-server", arguments: ["--purpose", "tls-server", "--hostname", "www.example.tg"], expected: "ok"),
        PurposeCase(certificate: .tls, label: "tls-server", arguments: ["--purpose", "tls-server", "--hostname", "mail.example.tg"],
                    expected: "hostname_mismatch"),
        PurposeCase(certificate: .tls, label: "tls-server", arguments: ["--purpose", "tls-server", "--ip", "8.8.8.8"], expected: "ok"),
        PurposeCase(certificate: .tls, label: "tls-server", arguments: ["--purpose", "tls-server", "--ip", "8.8.4.4"],
                    expected: "ip_address_mismatch"),
        PurposeCase(certificate: .tls, label: "tls-server", arguments: ["--purpose", "tls-client"], expected: "invalid_purpose"),
        PurposeCase(certificate: .tls, label: "tls-server", arguments: ["--purpose", "document-signing"], expected: "invalid_purpose"),
        PurposeCase(certificate: .signing, label: "citizen-signing", arguments: ["--purpose", "document-signing"], expected: "ok"),
        PurposeCase(certificate: .signing, label: "citizen-signing", arguments: ["--purpose", "tls-server"], expected: "invalid_purpose"),
        PurposeCase(certificate: .responder, label: "ocsp-signing", arguments: ["--purpose", "ocsp-signing"], expected: "ok"),
        PurposeCase(certificate: .auth, label: "citizen-authentication", arguments: ["--purpose", "ocsp-signing"], expected: "invalid_purpose"),
        PurposeCase(certificate: .responder, label: "ocsp-signing", arguments: ["--purpose", "timestamping"], expected: "invalid_purpose"),
    ]

    @Test("purpose, hostname, e-mail and IP checks", arguments: purposeCases)
    func purposes(_ c: PurposeCase) throws {
        let certificate = switch c.certificate {
        case .auth: pki.auth
        case .tls: pki.tls
        case .signing: pki.signing
        case .responder: pki.responder
        }
        let v = try OwnCA.verify(certificate.path, trust + c.arguments, in: pki.work)
        if c.expected == "ok" {
            #expect(v.status == 0, "\(v)")
            #expect(v.errorCode == "ok")
        } else {
            #expect(v.status == 1, "\(v)")
            #expect(v.errorCode == c.expected, "\(v)")
        }
    }

    // MARK: 7. Policies and assurance

    @Test("--policy not in the path with --require-explicit-policy: no_explicit_policy")
    func policyNotAcceptable() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + ["--policy", "2.5.29.32.99", "--require-explicit-policy"], in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.errorCode == "no_explicit_policy")
        // Without initial-explicit-policy (RFC 5280 6.1.5): valid, but no policy of the user set is valid.
        let lax = try OwnCA.verify(pki.auth.path, trust + ["--policy", "2.5.29.32.99"], in: pki.work)
        #expect(lax.valid == true, "\(lax)")
        #expect(lax.policies.isEmpty, "\(lax.policies)")
        #expect(lax.json["assurance"] is NSNull)
    }

    @Test("--policy with the certificate's OID: valid and the policy is listed; several OIDs keep only those of the path")
    func policyAcceptable() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + ["--policy", OwnCA.authPolicy, "--require-explicit-policy"], in: pki.work)
        #expect(v.status == 0, "\(v)")
        #expect(v.policies == [OwnCA.authPolicy])
        #expect(v.assurance == "substantial")
        let two = try OwnCA.verify(pki.auth.path, trust + ["--policy", "2.5.29.32.99", "--policy", OwnCA.authPolicy,
                                                           "--require-explicit-policy"], in: pki.work)
        #expect(two.valid == true, "\(two)")
        #expect(two.policies == [OwnCA.authPolicy])
        // RFC 5280 6.1.1 (c): no --policy is {anyPolicy}, so initial-explicit-policy alone is met by the leaf's policy.
        let any = try OwnCA.verify(pki.auth.path, trust + ["--require-explicit-policy"], in: pki.work)
        #expect(any.status == 0, "\(any)")
        #expect(any.policies == [OwnCA.authPolicy])
        // --inhibit-policy-mapping changes nothing on a path without mappings.
        let noMap = try OwnCA.verify(pki.auth.path, trust + ["--inhibit-policy-mapping", "--require-explicit-policy"], in: pki.work)
        #expect(noMap.status == 0, "\(noMap)")
        // --inhibit-any-policy: the issuing CA asserts anyPolicy only, so no policy survives to the leaf.
        let inhibit = try OwnCA.verify(pki.auth.path, trust + ["--inhibit-any-policy", "--require-explicit-policy"], in: pki.work)
        #expect(inhibit.valid == false, "\(inhibit)")
        #expect(inhibit.errorCode == "no_explicit_policy")
    }

    @Test("a certificate without certificatePolicies (ocsp-signing): valid with no policy; with --require-explicit-policy: no_explicit_policy")
    func noPolicies() throws {
        let v = try OwnCA.verify(pki.responder.path, trust, in: pki.work)
        #expect(v.status == 0, "\(v)")
        #expect(v.policies.isEmpty, "\(v.policies)")
        let e = try OwnCA.verify(pki.responder.path, trust + ["--require-explicit-policy"], in: pki.work)
        #expect(e.status == 1, "\(e)")
        #expect(e.errorCode == "no_explicit_policy")
    }

    @Test("--min-assurance: high on a substantial certificate is assurance_too_low; substantial and low are met; high on citizen-signing is met")
    func minimumAssurance() throws {
        let high = try OwnCA.verify(pki.auth.path, trust + ["--min-assurance", "high"], in: pki.work)
        #expect(high.status == 1, "\(high)")
        #expect(high.errorCode == "assurance_too_low")
        #expect(high.assurance == "substantial")
        for level in ["substantial", "low"] {
            let ok = try OwnCA.verify(pki.auth.path, trust + ["--min-assurance", level], in: pki.work)
            #expect(ok.status == 0, "\(level): \(ok)")
        }
        let signing = try OwnCA.verify(pki.signing.path, trust + ["--min-assurance", "high"], in: pki.work)
        #expect(signing.status == 0, "\(signing)")
        let tls = try OwnCA.verify(pki.tls.path, trust + ["--min-assurance", "low"], in: pki.work)
        #expect(tls.errorCode == "assurance_too_low", "\(tls)")
    }

    // MARK: 8. Bad input

    @Test("a garbage certificate file: exit 2 with a message naming the file")
    func garbageCertificate() throws {
        let dir = try TestSupport.temporaryDirectory("ownca-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let garbage = dir + "/garbage.pem"
        try "this is not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let r = try OwnCA.etrust(["verify", garbage] + trust + ["--json"], in: dir)
        #expect(r.status == 2, "\(r.status): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("garbage.pem"), "\(r.stderr)")
        #expect(!r.stdout.contains("\"valid\":true"))
        // Truncated DER of a real certificate: still bad input.
        let der = try OwnCA.mustOpenSSL(["x509", "-in", pki.auth.path, "-outform", "DER", "-out", dir + "/auth.der"])
        _ = der
        let full = try OwnCA.bytes(dir + "/auth.der")
        try Data(full.prefix(full.count / 2)).write(to: URL(fileURLWithPath: dir + "/truncated.der"))
        let t = try OwnCA.etrust(["verify", dir + "/truncated.der"] + trust, in: dir)
        #expect(t.status == 2, "\(t.status): \(t.stderr)")
        // Unreadable trust inputs: exit 2 and the file is named.
        for (flag, extra) in [("--crl", ["--revocation", "crl"]), ("--ocsp-response", ["--revocation", "ocsp"]), ("--intermediate", []),
                              ("--anchor", [])] {
            let b = try OwnCA.etrust(["verify", pki.auth.path, "--home", pki.home, flag, garbage] + extra, in: dir)
            #expect(b.status == 2, "\(flag) garbage: \(b.status) \(b.stdout) \(b.stderr)")
            #expect(b.stderr.contains("garbage.pem"), "\(flag): \(b.stderr)")
        }
        let missing = try OwnCA.etrust(["verify", dir + "/no-such-file.pem", "--home", pki.home], in: dir)
        #expect(missing.status == 2, "\(missing.status) \(missing.stderr)")
        // Unreadable options are bad input too.
        for bad in [["--purpose", "banking"], ["--revocation", "sometimes"], ["--at", "yesterday"], ["--policy", "not-an-oid"],
                    ["--min-assurance", "extreme"], ["--ip", "999.1.1.1"]] {
            let b = try OwnCA.etrust(["verify", pki.auth.path] + trust + bad, in: dir)
            #expect(b.status == 2, "\(bad): \(b.status) \(b.stdout) \(b.stderr)")
        }
    }

    @Test("a leaf given as --anchor: refused with a clear message, never valid")
    func leafAsAnchor() throws {
        let r = try OwnCA.etrust(["verify", pki.auth.path, "--anchor", pki.auth.path, "--json"], in: pki.work)
        #expect(r.status == 1 || r.status == 2, "\(r.status): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("not a CA"), "\(r.stderr)")
        #expect(r.json?["valid"] as? Bool != true)
        // Also when a real anchor is given next to it.
        let mixed = try OwnCA.etrust(["verify", pki.auth.path, "--anchor", pki.root, "--anchor", pki.tls.path,
                                      "--intermediate", pki.issuing, "--json"], in: pki.work)
        #expect(mixed.status != 0, "\(mixed.stdout)")
        #expect(mixed.json?["valid"] as? Bool != true)
    }

    @Test("no anchor and no home: exit 2")
    func noAnchorNoHome() throws {
        let dir = try TestSupport.temporaryDirectory("ownca-nohome")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try OwnCA.etrust(["verify", pki.auth.path, "--intermediate", pki.issuing, "--json"], in: dir)
        #expect(r.status == 2, "\(r.status): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("anchor"), "\(r.stderr)")
        #expect(r.json?["valid"] as? Bool != true)
        // A --home that is not a home, and no anchor: the same.
        let h = try OwnCA.etrust(["verify", pki.auth.path, "--home", dir + "/not-a-home", "--json"], in: dir)
        #expect(h.status == 2, "\(h.status): \(h.stdout) \(h.stderr)")
    }

    /// A CRL for the issuing CA's name signed by another key (openssl ca with a throwaway CA of the same subject).
    func forgedCRL(in dir: String, revoking serial: String? = nil) throws -> String {
        let index = dir + "/index.txt"
        try "".write(toFile: index, atomically: true, encoding: .utf8)
        try "01\n".write(toFile: dir + "/crlnumber", atomically: true, encoding: .utf8)
        try """
        [ ca ]
        default_ca = forged
        [ forged ]
        database = \(index)
        crlnumber = \(dir)/crlnumber
        default_md = sha256
        default_crl_days = 7

        """.write(toFile: dir + "/ca.cnf", atomically: true, encoding: .utf8)
        try OwnCA.mustOpenSSL(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                               "-subj", "/C=TG/O=etrust tests/CN=OwnCA Issuing", "-keyout", dir + "/forged-key.pem",
                               "-out", dir + "/forged-ca.pem", "-days", "30"])
        let out = dir + "/forged.crl"
        try OwnCA.mustOpenSSL(["ca", "-gencrl", "-config", dir + "/ca.cnf", "-keyfile", dir + "/forged-key.pem",
                               "-cert", dir + "/forged-ca.pem", "-out", out])
        // Same issuer name as the real CA (the forgery is only in the key).
        let issuer = try OwnCA.mustOpenSSL(["crl", "-in", out, "-noout", "-issuer", "-nameopt", "RFC2253"]).stdout
        #expect(issuer.contains(OwnCA.issuingSubject), "\(issuer)")
        return out
    }

    @Test("a CRL for the issuing CA's name signed by another key: never valid with --revocation crl; crl verify exits 1")
    func forgedCRLRefused() throws {
        let dir = try TestSupport.temporaryDirectory("ownca-forged")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forged = try forgedCRL(in: dir)
        let v = try OwnCA.verify(pki.auth.path, trust + ["--crl", forged, "--crl", pki.rootCRL, "--revocation", "crl"], in: pki.work)
        #expect(v.valid == false, "a forged CRL must not clear the certificate: \(v)")
        #expect(v.status == 1)
        #expect(v.errorCode != "ok")
        // The revoked certificate is not cleared by it either.
        let r = try OwnCA.verify(pki.authRevoked.path, trust + ["--crl", forged, "--crl", pki.rootCRL, "--revocation", "crl"], in: pki.work)
        #expect(r.valid == false, "\(r)")
        // etrust crl verify: the forged one fails against the real issuer, the real one passes.
        let bad = try OwnCA.etrust(["crl", "verify", forged, "--issuer", pki.issuing], in: pki.work)
        #expect(bad.status == 1, "\(bad.status): \(bad.stdout) \(bad.stderr)")
        #expect(bad.stdout.contains("INVALID") && bad.stdout.contains("signature"), "\(bad.stdout)")
        let good = try OwnCA.etrust(["crl", "verify", pki.issuingCRL, "--issuer", pki.issuing], in: pki.work)
        #expect(good.status == 0, "\(good.stdout) \(good.stderr)")
        // Judged at a time after its nextUpdate, the real CRL is stale.
        let late = try OwnCA.etrust(["crl", "verify", pki.issuingCRL, "--issuer", pki.issuing,
                                     "--at", OwnCA.rfc3339(Date().addingTimeInterval(30 * 86400))], in: pki.work)
        #expect(late.status == 1, "\(late.stdout) \(late.stderr)")
        // The wrong issuer certificate (the root) for the issuing CA's CRL.
        let wrongIssuer = try OwnCA.etrust(["crl", "verify", pki.issuingCRL, "--issuer", pki.root], in: pki.work)
        #expect(wrongIssuer.status == 1, "\(wrongIssuer.stdout) \(wrongIssuer.stderr)")
    }

    @Test("etrust crl verify --json prints one JSON object (valid false for the forged CRL)")
    func crlVerifyJSON() throws {
        let dir = try TestSupport.temporaryDirectory("ownca-forged-json")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let forged = try forgedCRL(in: dir)
        let bad = try OwnCA.etrust(["crl", "verify", forged, "--issuer", pki.issuing, "--json"], in: pki.work)
        #expect(bad.status == 1)
        let badJSON = try #require(bad.json, "crl verify --json printed no JSON: \(bad.stdout)")
        #expect(badJSON["valid"] as? Bool == false)
        let good = try OwnCA.etrust(["crl", "verify", pki.issuingCRL, "--issuer", pki.issuing, "--json"], in: pki.work)
        #expect(good.status == 0)
        let goodJSON = try #require(good.json, "crl verify --json printed no JSON: \(good.stdout)")
        #expect(goodJSON["valid"] as? Bool == true)
        #expect(goodJSON["entries"] as? Int == 1)
    }
}

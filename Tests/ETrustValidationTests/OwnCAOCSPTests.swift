import ETrustCore
import ETrustTestSupport
import ETrustValidation
import Foundation
import Testing

/// `etrust verify --revocation ocsp` against responses made by the openssl CLI acting as the
/// etrust CA's responder (index.txt from the etrust database), saved and live over loopback HTTP.
@Suite("OwnCA: OCSP on etrust-issued paths")
struct OwnCAOCSPTests {
    let pki: OwnCAPKI
    init() throws { pki = try OwnCAPKI.get() }

    var trust: [String] { ["--home", pki.home, "--intermediate", pki.issuing] }

    // Library handles for the checks of one response (OCSPClient.check), the judge of why a response fails.
    func cert(_ path: String) throws -> Certificate { try Certificate(bytes: try OwnCA.bytes(path), what: path) }

    func check(_ response: String, for certificate: String, issuer: String, at time: Date = Date()) throws -> OCSPCheck {
        let store = try TrustStore(anchors: [try cert(pki.root)])
        return try OCSPClient.check(response: try OwnCA.bytes(response), certificate: try cert(certificate), issuer: try cert(issuer),
                                    trust: store, request: nil, at: time)
    }

    func checkError(_ response: String, for certificate: String, issuer: String, at time: Date = Date()) -> ETrustError? {
        do {
            _ = try check(response, for: certificate, issuer: issuer, at: time)
            return nil
        } catch let e as ETrustError {
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("the openssl-made responses say what the etrust database says (good / revoked)")
    func responsesAsMade() throws {
        let good = try OwnCA.opensslStatus(response: pki.ocspAuthGood, certificate: pki.auth.path, issuer: pki.issuing)
        #expect(good.contains(": good"), "\(good)")
        let revoked = try OwnCA.opensslStatus(response: pki.ocspAuthRevoked, certificate: pki.authRevoked.path, issuer: pki.issuing)
        #expect(revoked.contains(": revoked"), "\(revoked)")
        #expect(revoked.contains("keyCompromise"), "\(revoked)")
        let mid = try OwnCA.opensslStatus(response: pki.ocspIssuing, certificate: pki.issuing, issuer: pki.root)
        #expect(mid.contains(": good"), "\(mid)")
    }

    @Test("saved responses, good: valid; the leaf's and the intermediate's status come from OCSP")
    func savedGood() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", pki.ocspAuthGood,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 0, "\(v)")
        #expect(v.revocationMode == "ocsp")
        for subject in ["CN=Ama Mensah,C=TG", OwnCA.issuingSubject] {
            let e = try #require(v.revocation(of: subject), "\(v)")
            #expect(e["status"] as? String == "good", "\(e)")
            #expect((e["source"] as? String)?.hasPrefix("OCSP") == true, "\(e)")
        }
        // The intermediate's status from the root's CRL instead (crl-or-ocsp).
        let mixed = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "crl-or-ocsp", "--crl", pki.rootCRL,
                                                             "--ocsp-response", pki.ocspAuthGood], in: pki.work)
        #expect(mixed.status == 0, "\(mixed)")
        #expect((mixed.revocation(of: OwnCA.issuingSubject)?["source"] as? String)?.contains("CRL") == true, "\(mixed)")
        #expect((mixed.revocation(of: "CN=Ama Mensah,C=TG")?["source"] as? String)?.hasPrefix("OCSP") == true, "\(mixed)")
    }

    @Test("a delegated responder (ocsp-signing profile) is accepted and named as the source")
    func delegatedResponder() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", pki.ocspAuthDelegated,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 0, "\(v)")
        let leaf = try #require(v.revocation(of: "CN=Ama Mensah,C=TG"))
        #expect((leaf["source"] as? String)?.contains("OwnCA OCSP Responder") == true, "\(leaf)")
        #expect(try check(pki.ocspAuthDelegated, for: pki.auth.path, issuer: pki.issuing).status == .good)
    }

    @Test("saved response, revoked: certificate_revoked with the reason, exit 1")
    func savedRevoked() throws {
        let v = try OwnCA.verify(pki.authRevoked.path, trust + ["--revocation", "ocsp", "--ocsp-response", pki.ocspAuthRevoked,
                                                                "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.errorCode == "certificate_revoked")
        let e = try #require(v.revocation(of: "CN=Kofi Revoked,C=TG"), "\(v)")
        #expect(e["status"] as? String == "revoked")
        #expect(e["reason"] as? String == "keyCompromise", "\(e)")
        #expect(e["revokedAt"] is String, "\(e)")
    }

    @Test("a response about another certificate: invalid with an OCSP error, never valid")
    func responseForAnotherCertificate() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", pki.ocspTLSGood,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.valid == false)
        #expect(v.errorCode?.hasPrefix("ocsp_") == true, "\(v)")
        #expect(checkError(pki.ocspTLSGood, for: pki.auth.path, issuer: pki.issuing)?.code == .notFound)
        // The intermediate has no status at all: the leaf's response is not about it.
        let w = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", pki.ocspAuthGood], in: pki.work)
        #expect(w.valid == false, "\(w)")
        #expect(w.errorCode?.hasPrefix("ocsp_") == true, "\(w)")
    }

    @Test("a stale response (validated after its nextUpdate): invalid; the same response is good before")
    func staleResponse() throws {
        let later = Date().addingTimeInterval(3 * 86400)
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "crl-or-ocsp", "--crl", pki.rootCRL,
                                                         "--ocsp-response", pki.ocspAuthGood, "--at", OwnCA.rfc3339(later)],
                                 in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.errorCode == "ocsp_verify_failed", "\(v)")
        let e = checkError(pki.ocspAuthGood, for: pki.auth.path, issuer: pki.issuing, at: later)
        #expect(e?.code == .badSignature)
        #expect(e?.reason.contains("stale") == true, "\(String(describing: e))")
        #expect(try check(pki.ocspAuthGood, for: pki.auth.path, issuer: pki.issuing, at: Date().addingTimeInterval(3600)).status == .good)
        // Before its thisUpdate it is not yet valid.
        let earlier = Date().addingTimeInterval(-2 * 86400)
        #expect(checkError(pki.ocspAuthGood, for: pki.auth.path, issuer: pki.issuing, at: earlier)?.reason.contains("not yet valid") == true)
    }

    /// The contract: errors are "one clear line that names the cause". When the response given
    /// with --ocsp-response is what is wrong (stale, or signed by an unrelated key), the reason
    /// must say so, even though verify then also tried the certificate's AIA responder (here the
    /// loopback sink, which answers 404) and that failed too.
    @Test("a bad saved response: the reason names what is wrong with it, not only the failed AIA fallback")
    func badResponseIsNamed() throws {
        let later = Date().addingTimeInterval(3 * 86400)
        let stale = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "crl-or-ocsp", "--crl", pki.rootCRL,
                                                             "--ocsp-response", pki.ocspAuthGood, "--at", OwnCA.rfc3339(later)],
                                     in: pki.work)
        #expect(stale.valid == false)
        #expect(stale.reason.contains("stale"), "reason: \(stale.reason)")
        let rogue = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", pki.ocspAuthRogue,
                                                             "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(rogue.valid == false)
        #expect(rogue.reason.contains("does not verify"), "reason: \(rogue.reason)")
    }

    @Test("a response that says unknown (the responder's database lacks the certificate): ocsp_cert_unknown")
    func unknownStatus() throws {
        let dir = try TestSupport.temporaryDirectory("ownca-ocsp-unknown")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let serial = try OwnCA.opensslSerial(of: pki.auth.path)
        let lines = try String(contentsOfFile: pki.issuingIndex, encoding: .utf8).split(separator: "\n").filter { !$0.contains(serial) }
        #expect(lines.count >= 1)
        let index = dir + "/index.txt"
        try (lines.joined(separator: "\n") + "\n").write(toFile: index, atomically: true, encoding: .utf8)
        let response = dir + "/unknown.der"
        try OwnCA.ocspResponse(certificate: pki.auth.path, issuer: pki.issuing, index: index, signer: pki.issuing,
                               signerKey: pki.issuingKey, ca: pki.issuing, out: response)
        #expect(try OwnCA.opensslStatus(response: response, certificate: pki.auth.path, issuer: pki.issuing).contains(": unknown"))
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", response,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.errorCode == "ocsp_cert_unknown", "\(v)")
        #expect(v.revocation(of: "CN=Ama Mensah,C=TG")?["status"] as? String == "unknown")
    }

    @Test("a response signed by an unrelated key: ocsp_verify_failed")
    func rogueSigner() throws {
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", pki.ocspAuthRogue,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 1, "\(v)")
        #expect(v.errorCode == "ocsp_verify_failed")
        let e = checkError(pki.ocspAuthRogue, for: pki.auth.path, issuer: pki.issuing)
        #expect(e?.code == .badSignature, "\(String(describing: e))")
        #expect(e?.reason.contains("does not verify") == true, "\(String(describing: e))")
    }

    @Test("responses signed by the root (not the issuer) or by a sibling end-entity (no OCSPSigning) are refused", arguments: [
        "by-root", "by-sibling",
    ])
    func unauthorizedSigners(_ which: String) throws {
        let response = which == "by-root" ? pki.ocspAuthByRoot : pki.ocspAuthBySibling
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-response", response,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.valid == false, "a response from an unauthorized signer must not make the path valid: \(v)")
        #expect(v.errorCode == "ocsp_verify_failed", "\(v)")
        #expect(checkError(response, for: pki.auth.path, issuer: pki.issuing)?.code == .badSignature)
    }

    // MARK: Live responder over loopback HTTP

    /// A loopback HTTP front end whose POST answers are made by `openssl ocsp -index ... -reqin
    /// -respout` (the openssl CLI as the CA's responder, nonce copied). OpenSSL 3.0's `ocsp -port`
    /// takes a port number only and listens on every interface, so it is not used here.
    func liveResponder() throws -> LoopbackServer {
        let dir = try TestSupport.temporaryDirectory("ownca-ocspd")
        let index = pki.issuingIndex, signer = pki.issuing, key = pki.issuingKey
        return try LoopbackServer(lifetime: 120) { method, _, body in
            guard method == "POST" else { return nil }
            let id = UUID().uuidString
            let req = dir + "/\(id).req", resp = dir + "/\(id).resp"
            guard (try? Data(body).write(to: URL(fileURLWithPath: req))) != nil,
                  let r = try? TestSupport.openssl(["ocsp", "-index", index, "-rsigner", signer, "-rkey", key, "-CA", signer,
                                                    "-reqin", req, "-respout", resp, "-ndays", "1"]),
                  r.status == 0, let der = FileManager.default.contents(atPath: resp) else {
                return (500, "text/plain", Array("openssl ocsp failed\n".utf8))
            }
            return (200, "application/ocsp-response", [UInt8](der))
        }
    }

    @Test("live OCSP at --ocsp-url: good leaf valid, revoked leaf certificate_revoked; one POST each, nonce echoed")
    func liveOCSP() throws {
        let server = try liveResponder()
        defer { server.stop() }
        let v = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-url", server.url,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(v.status == 0, "\(v)")
        let leaf = try #require(v.revocation(of: "CN=Ama Mensah,C=TG"), "\(v)")
        #expect(leaf["status"] as? String == "good")
        #expect((leaf["source"] as? String)?.hasPrefix("OCSP") == true)
        #expect(server.requests == ["POST /"], "\(server.requests)")

        let r = try OwnCA.verify(pki.authRevoked.path, trust + ["--revocation", "ocsp", "--ocsp-url", server.url,
                                                                "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(r.status == 1, "\(r)")
        #expect(r.errorCode == "certificate_revoked")
        #expect(server.requests == ["POST /", "POST /"], "\(server.requests)")

        // crl-or-ocsp: the root's CRL covers the intermediate, the responder the leaf.
        let m = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "crl-or-ocsp", "--crl", pki.rootCRL,
                                                         "--ocsp-url", server.url + "/ocsp"], in: pki.work)
        #expect(m.status == 0, "\(m)")
        #expect(server.requests.last == "POST /ocsp", "\(server.requests)")
        // The library's request carries a nonce, and the responder's answer echoes it (checked by OCSPClient).
        let request = try OCSPClient.request(for: try cert(pki.auth.path), issuer: try cert(pki.issuing))
        #expect(request.hasNonce)
        let answer = try OCSPClient.send(request, to: server.url)
        let saved = pki.work + "/live-\(UUID().uuidString).der"
        try Data(answer).write(to: URL(fileURLWithPath: saved))
        let text = try OwnCA.openssl(["ocsp", "-respin", saved, "-resp_text", "-noverify"]).stdout
        #expect(text.contains("OCSP Nonce"), "the responder's answer carries the request's nonce: \(text)")
        let checked = try OCSPClient.check(response: answer, certificate: try cert(pki.auth.path), issuer: try cert(pki.issuing),
                                           trust: try TrustStore(anchors: [try cert(pki.root)]), request: request, at: Date())
        #expect(checked.status == .good)
    }

    @Test("a responder that answers garbage or an error: ocsp_verify_failed, never valid")
    func brokenResponder() throws {
        let garbage = try LoopbackServer(lifetime: 60) { method, _, _ in
            method == "POST" ? (200, "application/ocsp-response", Array("not DER at all".utf8)) : nil
        }
        defer { garbage.stop() }
        let g = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-url", garbage.url,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(g.valid == false, "\(g)")
        #expect(g.errorCode?.hasPrefix("ocsp_") == true, "\(g)")
        #expect(garbage.requests == ["POST /"], "\(garbage.requests)")

        let unauthorized = try LoopbackServer(lifetime: 60) { method, _, _ in
            // OCSPResponse { responseStatus unauthorized(6) }
            method == "POST" ? (200, "application/ocsp-response", [0x30, 0x03, 0x0A, 0x01, 0x06]) : nil
        }
        defer { unauthorized.stop() }
        let u = try OwnCA.verify(pki.auth.path, trust + ["--revocation", "ocsp", "--ocsp-url", unauthorized.url,
                                                         "--ocsp-response", pki.ocspIssuing], in: pki.work)
        #expect(u.valid == false, "\(u)")
        #expect(u.errorCode == "ocsp_verify_failed", "\(u)")
        #expect(u.reason.contains("unauthorized"), "\(u.reason)")
    }
}

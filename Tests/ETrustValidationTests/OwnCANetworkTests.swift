import ETrustTestSupport
import Foundation
import Testing

/// `etrust verify` fetches nothing except OCSP when asked, and AIA issuers only with
/// --fetch-issuers. The home's publicBaseURL points at a loopback server of the test that
/// records every request, so every CDP and AIA URL of the certificates leads there.
@Suite("OwnCA: etrust verify and the network")
struct OwnCANetworkTests {
    struct NetworkPKI {
        let server: LoopbackServer
        let dir: String, home: String, work: String
        let leaf: String
        var issuing: String { home + "/certs/issuing.pem" }
    }

    /// A home whose CDP/AIA URLs are http://127.0.0.1:PORT/..., served from HOME/pub by `server`.
    static func build(_ label: String) throws -> NetworkPKI {
        let dir = try TestSupport.temporaryDirectory(label)
        let home = dir + "/home", work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let server = try LoopbackServer(root: home + "/pub", lifetime: 180)
        do {
            try OwnCA.initHome(home, publicBaseURL: server.url, in: work)
            try OwnCA.createRootAndIssuing(home, in: work)
            let leaf = try OwnCA.issue(home, work: work, name: "citizen", ca: "issuing", profile: "citizen-authentication",
                                       subject: "/C=TG/CN=Afi Network").path
            try OwnCA.mustEtrust(["crl", "--home", home, "--ca", "issuing"], in: work)
            let aia = try OwnCA.mustOpenSSL(["x509", "-in", leaf, "-noout", "-ext", "authorityInfoAccess,crlDistributionPoints"]).stdout
            guard aia.contains(server.url + "/ca/issuing.crt"), aia.contains(server.url + "/ocsp"),
                  aia.contains(server.url + "/crl/issuing.crl") else { throw OwnCA.Failure("unexpected AIA/CDP: \(aia)") }
            return NetworkPKI(server: server, dir: dir, home: home, work: work, leaf: leaf)
        } catch {
            server.stop()
            throw error
        }
    }

    @Test("--revocation none, crl and a missing issuer: no connection at all to the CDP/AIA host")
    func noFetching() throws {
        let p = try Self.build("ownca-net-none")
        defer { p.server.stop(); try? FileManager.default.removeItem(atPath: p.dir) }
        #expect(p.server.requests.isEmpty)

        let ok = try OwnCA.verify(p.leaf, ["--home", p.home, "--intermediate", p.issuing, "--revocation", "none"], in: p.work)
        #expect(ok.status == 0, "\(ok)")
        // The issuer is only at its AIA URL: not fetched without --fetch-issuers.
        let noIssuer = try OwnCA.verify(p.leaf, ["--home", p.home, "--no-home-intermediates", "--revocation", "none"], in: p.work)
        #expect(noIssuer.errorCode == "unable_to_get_issuer_cert_locally", "\(noIssuer)")
        // The CRL is only at its CDP URL (and the delta at freshestCRL): not fetched.
        let noCRL = try OwnCA.verify(p.leaf, ["--home", p.home, "--intermediate", p.issuing, "--revocation", "crl"], in: p.work)
        #expect(noCRL.errorCode == "unable_to_get_crl", "\(noCRL)")
        // Purpose and policy failures do not fetch either.
        _ = try OwnCA.verify(p.leaf, ["--home", p.home, "--intermediate", p.issuing, "--purpose", "tls-server"], in: p.work)
        // Human output too.
        _ = try OwnCA.etrust(["verify", p.leaf, "--home", p.home], in: p.work)
        // Give a moment for a stray connection to be accepted and recorded.
        Thread.sleep(forTimeInterval: 0.3)
        #expect(p.server.requests.isEmpty, "etrust verify connected to the certificate's URLs: \(p.server.requests)")
    }

    @Test("--fetch-issuers without --intermediate: GETs the caIssuers URL once and validates")
    func fetchIssuers() throws {
        let p = try Self.build("ownca-net-aia")
        defer { p.server.stop(); try? FileManager.default.removeItem(atPath: p.dir) }
        let v = try OwnCA.verify(p.leaf, ["--home", p.home, "--no-home-intermediates", "--fetch-issuers"], in: p.work)
        #expect(v.status == 0, "\(v)")
        #expect(v.path == ["CN=Afi Network,C=TG", OwnCA.issuingSubject, OwnCA.rootSubject])
        #expect(v.assurance == "substantial")
        #expect(p.server.requests == ["GET /ca/issuing.crt"], "\(p.server.requests)")
        // With the intermediate given, --fetch-issuers has nothing to fetch.
        let given = try OwnCA.verify(p.leaf, ["--home", p.home, "--intermediate", p.issuing, "--fetch-issuers"], in: p.work)
        #expect(given.status == 0, "\(given)")
        #expect(p.server.requests == ["GET /ca/issuing.crt"], "\(p.server.requests)")
        // With CRL checking on the fetched path: the CRL is still never fetched.
        let crl = try OwnCA.verify(p.leaf, ["--home", p.home, "--no-home-intermediates", "--fetch-issuers", "--revocation", "crl"], in: p.work)
        #expect(crl.errorCode == "unable_to_get_crl", "\(crl)")
        #expect(p.server.requests.allSatisfy { $0 == "GET /ca/issuing.crt" }, "\(p.server.requests)")
    }

    @Test("--fetch-issuers when the caIssuers URL answers 404 or garbage: the path stays unbuilt, never valid")
    func fetchIssuersFails() throws {
        let p = try Self.build("ownca-net-aia-bad")
        defer { p.server.stop(); try? FileManager.default.removeItem(atPath: p.dir) }
        let published = p.home + "/pub/ca/issuing.crt"
        try FileManager.default.removeItem(atPath: published)
        let missing = try OwnCA.verify(p.leaf, ["--home", p.home, "--no-home-intermediates", "--fetch-issuers"], in: p.work)
        #expect(missing.valid == false, "\(missing)")
        #expect(missing.errorCode == "unable_to_get_issuer_cert_locally", "\(missing)")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: published))
        let garbage = try OwnCA.verify(p.leaf, ["--home", p.home, "--no-home-intermediates", "--fetch-issuers"], in: p.work)
        #expect(garbage.valid == false, "\(garbage)")
        // A certificate that is not the issuer (the root, published under the issuer's name).
        try FileManager.default.copyItem(atPath: p.home + "/pub/ca/root.crt", toPath: published + ".tmp")
        try FileManager.default.removeItem(atPath: published)
        try FileManager.default.moveItem(atPath: published + ".tmp", toPath: published)
        let wrong = try OwnCA.verify(p.leaf, ["--home", p.home, "--no-home-intermediates", "--fetch-issuers"], in: p.work)
        #expect(wrong.valid == false, "\(wrong)")
        #expect(p.server.requests.count == 3 && p.server.requests.allSatisfy { $0 == "GET /ca/issuing.crt" }, "\(p.server.requests)")
    }

    @Test("--revocation ocsp: the only request is the OCSP POST to the certificate's responder URL")
    func ocspOnlyWhenAsked() throws {
        let p = try Self.build("ownca-net-ocsp")
        defer { p.server.stop(); try? FileManager.default.removeItem(atPath: p.dir) }
        let v = try OwnCA.verify(p.leaf, ["--home", p.home, "--intermediate", p.issuing, "--revocation", "ocsp"], in: p.work)
        // The loopback server is no OCSP responder (404): an OCSP failure, never valid.
        #expect(v.valid == false, "\(v)")
        #expect(v.errorCode == "ocsp_verify_failed", "\(v)")
        #expect(!p.server.requests.isEmpty)
        #expect(p.server.requests.allSatisfy { $0 == "POST /ocsp" }, "\(p.server.requests)")
    }
}

import ETrustTestSupport
import Foundation
import Testing

/// Name constraints put into a CA certificate by an etrust CA profile, enforced by `etrust verify`.
/// The issuing profile (tls-server) does not look at the CA's constraints, so the CA issues names
/// outside them; the relying party must refuse those.
@Suite("OwnCA: name constraints from a constrained CA profile")
struct OwnCANameConstraintsTests {
    @Test("permitted dns:.example.tg, excluded dns:.bad.example.tg: inside valid, outside permitted_violation, excluded excluded_violation")
    func nameConstraints() throws {
        let dir = try TestSupport.temporaryDirectory("ownca-nc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let home = dir + "/home", work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try OwnCA.initHome(home, publicBaseURL: "http://127.0.0.1:9", in: work)
        try OwnCA.mustEtrust(["ca", "create", "root", "--home", home, "--subject", OwnCA.rootSubject, "--key", "ec-p256"], in: work)

        // constrained-ca: sub-ca.yaml with another name, name constraints and no delta CRLs.
        let subCA = try String(contentsOfFile: home + "/policies/sub-ca.yaml", encoding: .utf8)
        #expect(subCA.contains("profile: sub-ca\n") && subCA.contains("deltaPeriod"))
        var profile = subCA.replacingOccurrences(of: "profile: sub-ca\n", with: "profile: constrained-ca\n")
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("deltaPeriod") }.joined(separator: "\n")
        profile += "\nnameConstraints:\n  permitted: ['dns:.example.tg']\n  excluded: ['dns:.bad.example.tg']\n"
        try profile.write(toFile: home + "/policies/constrained-ca.yaml", atomically: true, encoding: .utf8)
        let check = try OwnCA.etrust(["policy", "check", "--home", home], in: work)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")

        try OwnCA.mustEtrust(["ca", "create", "constrained", "--home", home, "--parent", "root", "--profile", "constrained-ca",
                              "--subject", "CN=OwnCA Constrained,O=etrust tests,C=TG", "--key", "ec-p256"], in: work)
        let ca = home + "/certs/constrained.pem"
        let nc = try OwnCA.mustOpenSSL(["x509", "-in", ca, "-noout", "-ext", "nameConstraints"]).stdout
        #expect(nc.contains("critical") && nc.contains("DNS:example.tg") && nc.contains("DNS:bad.example.tg"), "\(nc)")

        func issue(_ name: String) throws -> String {
            try OwnCA.issue(home, work: work, name: name, ca: "constrained", profile: "tls-server", subject: "/CN=\(name)",
                            san: ["dns:\(name)"]).path
        }
        let trust = ["--home", home, "--intermediate", ca]

        let inside = try OwnCA.verify(try issue("www.example.tg"), trust + ["--purpose", "tls-server", "--hostname", "www.example.tg"],
                                      in: work)
        #expect(inside.status == 0, "\(inside)")
        #expect(inside.path.count == 3)

        let outside = try OwnCA.verify(try issue("www.example.org"), trust + ["--purpose", "tls-server"], in: work)
        #expect(outside.status == 1, "\(outside)")
        #expect(outside.valid == false)
        #expect(outside.errorCode == "permitted_violation", "\(outside)")

        let excluded = try OwnCA.verify(try issue("www.bad.example.tg"), trust, in: work)
        #expect(excluded.status == 1, "\(excluded)")
        #expect(excluded.errorCode == "excluded_violation", "\(excluded)")

        // The apex of the permitted subtree is inside it too (RFC 5280 4.2.1.10: adding labels).
        let apex = try OwnCA.verify(try issue("example.tg"), trust, in: work)
        #expect(apex.status == 0, "\(apex)")
        // A name that only ends with the same letters is not in the subtree.
        let lookalike = try OwnCA.verify(try issue("notexample.tg"), trust, in: work)
        #expect(lookalike.errorCode == "permitted_violation", "\(lookalike)")

        // The CN of a certificate without SAN is not how etrust certifies names: the tls-server
        // profile always writes the SAN, so the constraint is judged on it.
        let san = try OwnCA.mustOpenSSL(["x509", "-in", work + "/www.example.org.pem", "-noout", "-ext", "subjectAltName"]).stdout
        #expect(san.contains("DNS:www.example.org"), "\(san)")
    }
}

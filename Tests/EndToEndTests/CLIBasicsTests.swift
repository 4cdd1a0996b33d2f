import ETrustTestSupport
import Foundation
import Testing

/// The contract's basics: `--version` on both executables, bare `etrust`, one-line usage errors.
@Suite("CLI basics")
struct CLIBasicsTests {
    var ocspd: String { ((TestSupport.etrustBinary as NSString).deletingLastPathComponent as NSString).appendingPathComponent("etrust-ocspd") }

    @Test("--version prints the version and exits 0, on both executables")
    func version() throws {
        for bin in [TestSupport.etrustBinary, ocspd] {
            let r = try TestSupport.run(bin, ["--version"])
            #expect(r.status == 0, "\(bin): \(r.stderr)")
            #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil,
                    "\(bin): '\(r.stdout)'")
        }
    }

    @Test("bare etrust prints its help and exits 2; a usage error is one line with one prefix, exit 2")
    func bareAndUsage() throws {
        let bare = try TestSupport.run(TestSupport.etrustBinary, [])
        #expect(bare.status == 2)
        #expect(bare.stdout.contains("USAGE: etrust <subcommand>"), "\(bare.stdout)")
        let usage = try TestSupport.run(TestSupport.etrustBinary, ["issue", "--profile", "tls-server"])
        #expect(usage.status == 2)
        #expect(usage.stderr.hasPrefix("etrust: ") && !usage.stderr.contains("Error:"), "\(usage.stderr)")
        #expect(usage.stderr.split(separator: "\n").count == 1, "\(usage.stderr)")
    }

    @Test("init --public-url / --documents-url: the home's certificates point there; a non-http URL is refused before anything is written")
    func initURLs() throws {
        let dir = try TestSupport.temporaryDirectory("init-urls")
        defer { E2E.cleanUp(dir + "/home") }
        let home = dir + "/home"
        let r = try E2E.etrust(["init", "--home", home, "--public-url", "http://pki.gov.tg/", "--documents-url", "https://docs.pki.gov.tg"])
        try #require(r.status == 0, "\(r.stderr)")
        try E2E.cheapKeys(home)
        _ = try E2E.etrust(["ca", "create", "root", "--home", home, "--subject", "CN=URL Root,O=Test,C=TG"])
        let sub = try E2E.etrust(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", "CN=URL Issuing,O=Test,C=TG"])
        try #require(sub.status == 0, "\(sub.stderr)")
        let text = try E2E.openssl(["x509", "-in", home + "/certs/issuing.pem", "-noout", "-text"]).stdout
        #expect(text.contains("http://pki.gov.tg/crl/root.crl"), "\(text)")
        #expect(!text.contains("pki.example.org"), "\(text)")
        let bad = try E2E.etrust(["init", "--home", dir + "/other", "--public-url", "https://pki.gov.tg"])
        #expect(bad.status == 2 && bad.stderr.contains("--public-url"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/other"))
    }

    @Test("audit log --event with an unknown kind: exit 2 naming the kinds; the batch summary's seconds is a number")
    func eventKindsAndNumbers() throws {
        let (home, work) = try E2E.pki("cli-basics")
        defer { E2E.cleanUp(home) }
        let bogus = try E2E.etrust(["audit", "log", "--home", home, "--event", "bogus"])
        #expect(bogus.status == 2 && bogus.stderr.contains("issue"), "\(bogus.status) \(bogus.stderr)")
        let csr = try E2E.makeCSR(in: work, name: "b1", subject: "/CN=Batch One/C=TG")
        try E2E.write("csr\n\(csr)\n", to: work + "/batch.csv")
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-client", "--batch", work + "/batch.csv", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.json?["seconds"] is Double || r.json?["seconds"] is Int, "\(r.stdout)")
    }
}

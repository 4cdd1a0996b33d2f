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

/// The first day: init's organisation, country, wizard and next steps; the example URL refused;
/// refusals that say what would be accepted.
@Suite("First run")
struct FirstRunTests {
    @Test("init --organisation --country: next steps with CA names that ca create accepts; a bad country writes nothing")
    func organisationAndCountry() throws {
        let dir = try TestSupport.temporaryDirectory("e2e-first-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let home = dir + "/home"
        let r = try E2E.etrust(["init", "--home", home, "--public-url", "http://pki.gov.tg", "--organisation", "Agence, Nationale", "--country", "TG", "--json"])
        try #require(r.status == 0, "\(r.stderr)")
        let steps = try #require(r.json?["nextSteps"] as? [String])
        let create = try #require(steps.first { $0.contains("ca create root") })
        #expect(create.contains("CN=Agence\\, Nationale Root CA,O=Agence\\, Nationale,C=TG"), "\(create)")
        try E2E.cheapKeys(home)
        // The suggested subject is one ca create takes as it is.
        let subject = try #require(create.components(separatedBy: "--subject '").last?.dropLast())
        let ca = try E2E.etrust(["ca", "create", "root", "--home", home, "--subject", String(subject)])
        #expect(ca.status == 0, "\(ca.stderr)")
        let text = try E2E.etrust(["init", "--home", dir + "/text", "--public-url", "http://pki.gov.tg"])
        #expect(text.stdout.contains("next steps:") && text.stdout.contains("etrust ca create issuing"), "\(text.stdout)")
        let bad = try E2E.etrust(["init", "--home", dir + "/bad", "--country", "tg"])
        #expect(bad.status == 2 && bad.stderr.contains("--country"), "\(bad.stderr)")
        #expect(!E2E.exists(dir + "/bad"))
    }

    @Test("on a terminal without flags, init asks for organisation, country and URLs")
    func wizard() throws {
        let dir = try TestSupport.temporaryDirectory("e2e-wizard")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let home = dir + "/home"
        // script(1) gives etrust a terminal; the answers come on its input.
        let command = "printf 'Ministere du Numerique\\nbj\\nhttp://pki.numerique.bj\\n\\n' | script -qec \"\(TestSupport.etrustBinary) init --home \(home)\" /dev/null"
        let r = try TestSupport.run("/bin/sh", ["-c", command])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("Organisation") && r.stdout.contains("Public base URL"), "\(r.stdout)")
        let config = try E2E.read(home + "/etrust.yaml")
        #expect(config.contains("publicBaseURL: http://pki.numerique.bj"), "\(config)")
        #expect(config.contains("documentsBaseURL: https://pki.numerique.bj"), "\(config)")
        #expect(r.stdout.contains("O=Ministere du Numerique,C=BJ"), "\(r.stdout)")
    }

    @Test("ca create and issue refuse a home on the example URL (exit 2, naming the fix) unless --allow-example-url")
    func exampleURL() throws {
        let dir = try TestSupport.temporaryDirectory("e2e-example-url")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let home = dir + "/home"
        try #require(E2E.etrust(["init", "--home", home]).status == 0)
        try E2E.cheapKeys(home)
        let refused = try E2E.etrust(["ca", "create", "root", "--home", home, "--subject", "CN=R,O=Test,C=TG", "--json"])
        #expect(refused.status == 2 && refused.stderr.contains("--allow-example-url") && refused.stderr.contains("publicBaseURL"), "\(refused.stderr)")
        #expect(refused.json?["category"] as? String == "usage")
        #expect(try E2E.sqlCount(home, "cas") == 0)
        let allowed = try E2E.etrust(["ca", "create", "root", "--home", home, "--subject", "CN=R,O=Test,C=TG", "--allow-example-url"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let csr = try E2E.makeCSR(in: dir, name: "c", subject: "/CN=c.example.tg/O=Test/C=TG", extra: ["-addext", "subjectAltName=DNS:c.example.tg"])
        let issue = try E2E.etrust(["issue", "--home", home, "--ca", "root", "--profile", "tls-client", "--csr", csr])
        #expect(issue.status == 2 && issue.stderr.contains("--allow-example-url"), "\(issue.stderr)")
    }

    @Test("a refusal says what would be accepted: allowed attributes, maximum validity, allowed key types")
    func refusalsSayWhatIsAllowed() throws {
        let (home, work) = try E2E.pki("e2e-refusals")
        defer { E2E.cleanUp(home) }
        let withO = try E2E.makeCSR(in: work, name: "o", subject: "/CN=shop.example.tg/O=Shop/C=TG")
        let o = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", withO, "--san", "dns:shop.example.tg"])
        #expect(o.status == 1 && o.stderr.contains("attribute O is not allowed by this profile (allowed: CN)"), "\(o.stderr)")
        let ov = try E2E.makeCSR(in: work, name: "ov", subject: "/C=TG/O=Shop/CN=shop.example.tg")
        let tooLong = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server-ov", "--csr", ov,
                                         "--san", "dns:shop.example.tg", "--validity", "1000d"])
        #expect(tooLong.status == 1 && tooLong.stderr.contains("exceeds the maximum of") && tooLong.stderr.contains("or less"),
                "\(tooLong.stderr)")
        let rsa = try E2E.makeCSR(in: work, name: "rsa", subject: "/CN=shop.example.tg", keyArgs: ["-newkey", "rsa:1024"])
        let key = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", rsa, "--san", "dns:shop.example.tg"])
        #expect(key.status == 1 && key.stderr.contains("allowed: EC P-256/P-384, RSA 2048-8192"), "\(key.stderr)")
    }
}

@Suite("issue --out --chain --format")
struct IssueOutputTests {
    @Test("--chain: the leaf then its issuers; --format der: the leaf alone; --format p12 with --generate-key; bad combinations exit 2")
    func formats() throws {
        let (home, work) = try E2E.pki("e2e-issue-out")
        defer { E2E.cleanUp(home) }
        let csr = try E2E.makeCSR(in: work, name: "w", subject: "/CN=w.example.tg")
        let base = ["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", csr, "--san", "dns:w.example.tg"]
        let chained = try E2E.etrust(base + ["--out", work + "/chain.pem", "--chain", "--json"])
        try #require(chained.status == 0, "\(chained.stderr)")
        let blocks = E2E.pemCertificates(try E2E.read(work + "/chain.pem"))
        #expect(blocks.count == 3)
        #expect((chained.json?["chain"] as? [String])?.count == 2)
        for (i, b) in blocks.enumerated() { try E2E.write(b, to: work + "/c\(i).pem") }
        #expect(try E2E.subject(ofCertificate: work + "/c1.pem") == E2E.issuingSubject)
        #expect(try E2E.subject(ofCertificate: work + "/c2.pem") == E2E.rootSubject)
        let verify = try E2E.openssl(["verify", "-CAfile", work + "/c2.pem", "-untrusted", work + "/c1.pem", work + "/c0.pem"])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")

        let der = try E2E.etrust(base + ["--out", work + "/leaf.der", "--format", "der"])
        #expect(der.status == 0, "\(der.stderr)")
        #expect(try E2E.openssl(["x509", "-inform", "DER", "-in", work + "/leaf.der", "-noout"]).status == 0)

        try E2E.write("card-pass\n", to: work + "/pass")
        let p12 = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-client", "--generate-key",
                                  "--subject", "CN=card.example.tg,O=Test,C=TG", "--out", work + "/card.p12", "--format", "p12",
                                  "--p12-password-file", work + "/pass"])
        #expect(p12.status == 0, "\(p12.stderr)")
        let certs = try E2E.openssl(["pkcs12", "-in", work + "/card.p12", "-nokeys", "-passin", "file:" + work + "/pass"])
        #expect(E2E.pemCertificates(certs.stdout).count == 3, "\(certs.stdout) \(certs.stderr)")

        for bad in [["--out", work + "/x.pem", "--format", "p12"], ["--out", work + "/x.der", "--format", "der", "--chain"],
                    ["--out", work + "/x", "--format", "jpeg"]] {
            let r = try E2E.etrust(base + bad)
            #expect(r.status == 2, "\(bad): \(r.status) \(r.stderr)")
            #expect(!E2E.exists(work + "/x.pem") && !E2E.exists(work + "/x.der"))
        }
    }
}

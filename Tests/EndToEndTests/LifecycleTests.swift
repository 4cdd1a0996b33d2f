import ETrustTestSupport
import Foundation
import Testing

/// `etrust init`, `ca create`, `ca list`, `ca show`, `ca export` through the built binary.
@Suite struct LifecycleTests {
    @Test func initCreateListShowExport() throws {
        let dir = try TestSupport.temporaryDirectory("e2e-lifecycle")
        defer { E2E.cleanUp(dir + "/home") }
        let home = dir + "/home"

        // init prints the home it created.
        let initialised = try E2E.etrust(["init", "--home", home, "--public-url", "http://pki.test.tg"])
        #expect(initialised.status == 0, "init: \(initialised.stderr)")
        #expect(initialised.stdout.contains(home))
        for file in ["etrust.yaml", "etrust.db", "policies/tls-server.yaml", "keys", "certs"] {
            #expect(E2E.exists(home + "/" + file), "init did not create \(file)")
        }
        try E2E.cheapKeys(home)

        // init --json names home, config, policies and database.
        let jsonHome = dir + "/home-json"
        let j = try E2E.etrust(["init", "--home", jsonHome, "--json", "--public-url", "http://pki.test.tg"])
        #expect(j.status == 0, "init --json: \(j.stderr)")
        let initJSON = try #require(j.json, "init --json printed no JSON object: \(j.stdout)")
        #expect(initJSON["home"] as? String == jsonHome)
        #expect((initJSON["config"] as? String).map { E2E.exists($0) && $0.hasSuffix("etrust.yaml") } == true)
        #expect((initJSON["policies"] as? String).map { E2E.exists($0 + "/citizen-signing.yaml") } == true)
        #expect((initJSON["database"] as? String).map(E2E.exists) == true)

        // A self-signed root with an EC P-384 key.
        let root = try E2E.etrust(["ca", "create", "root", "--home", home, "--subject", E2E.rootSubject, "--key", "ec-p384"])
        #expect(root.status == 0, "ca create root: \(root.stderr)")
        let rootPath = root.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(E2E.exists(rootPath), "ca create root printed '\(rootPath)', which does not exist")
        let rootKey = try E2E.openssl(["x509", "-in", rootPath, "-noout", "-text"])
        #expect(rootKey.status == 0)
        #expect(rootKey.stdout.contains("384 bit") || rootKey.stdout.contains("P-384") || rootKey.stdout.contains("secp384r1"),
                "root key is not P-384: \(rootKey.stdout)")
        #expect(try E2E.subject(ofCertificate: rootPath) == "CN=E2E Root,O=Test,C=TG")

        // The issuing CA below it.
        let issuing = try E2E.etrust(["ca", "create", "issuing", "--home", home, "--parent", "root",
                                      "--subject", E2E.issuingSubject])
        #expect(issuing.status == 0, "ca create issuing: \(issuing.stderr)")
        let issuingPath = issuing.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(E2E.exists(issuingPath), "ca create issuing printed '\(issuingPath)', which does not exist")
        let chainOK = try E2E.openssl(["verify", "-CAfile", rootPath, issuingPath])
        #expect(chainOK.status == 0 && chainOK.stdout.contains("OK"), "openssl verify issuing: \(chainOK.stdout) \(chainOK.stderr)")

        // ca list --json lists both.
        let list = try E2E.etrust(["ca", "list", "--home", home, "--json"])
        #expect(list.status == 0, "ca list: \(list.stderr)")
        let cas = try #require(list.json?["cas"] as? [[String: Any]], "ca list --json: \(list.stdout)")
        #expect(Set(cas.compactMap { $0["name"] as? String }) == ["root", "issuing"])
        let listedIssuing = cas.first { $0["name"] as? String == "issuing" }
        #expect(listedIssuing?["parent"] as? String == "root")

        // ca show issuing --json: name, parent, certificate.
        let show = try E2E.etrust(["ca", "show", "issuing", "--home", home, "--json"])
        #expect(show.status == 0, "ca show: \(show.stderr)")
        let shown = try #require(show.json, "ca show --json: \(show.stdout)")
        #expect(shown["name"] as? String == "issuing")
        #expect(shown["parent"] as? String == "root")
        let shownPEM = try #require(shown["certificate"] as? String)
        #expect(E2E.pemCertificates(shownPEM) == E2E.pemCertificates(try E2E.read(issuingPath)))

        // ca export: the issuing CA first, then the root.
        let export = try E2E.etrust(["ca", "export", "issuing", "--home", home])
        #expect(export.status == 0, "ca export: \(export.stderr)")
        let blocks = E2E.pemCertificates(export.stdout)
        #expect(blocks.count == 2, "ca export printed \(blocks.count) certificates")
        let exported = dir + "/exported-stdout.pem"
        try E2E.write(export.stdout, to: exported)
        let pyca = try E2E.pycaSubjects(exported)
        #expect(pyca.status == 0, "pyca could not load the exported chain: \(pyca.stderr)")
        #expect(E2E.lines(pyca.stdout) == ["CN=E2E Issuing,O=Test,C=TG", "CN=E2E Root,O=Test,C=TG"])
        if blocks.count == 2 {
            for (i, expected) in ["CN=E2E Issuing,O=Test,C=TG", "CN=E2E Root,O=Test,C=TG"].enumerated() {
                let file = dir + "/block\(i).pem"
                try E2E.write(blocks[i], to: file)
                #expect(try E2E.subject(ofCertificate: file) == expected)
            }
        }

        // --out FILE writes the same chain and prints no PEM.
        let outFile = dir + "/chain.pem"
        let exportOut = try E2E.etrust(["ca", "export", "issuing", "--home", home, "--out", outFile])
        #expect(exportOut.status == 0, "ca export --out: \(exportOut.stderr)")
        #expect(!exportOut.stdout.contains("BEGIN CERTIFICATE"))
        #expect(E2E.pemCertificates(try E2E.read(outFile)) == blocks)
    }

    /// Inputs may be PEM or DER; --out FILE receives PEM, or DER with --der; --passphrase-file
    /// unlocks the keys without ETRUST_PASSPHRASE.
    @Test func issueOutputsAndInputs() throws {
        let (home, work) = try E2E.pki("e2e-outputs")
        defer { E2E.cleanUp(home) }
        let csr = try E2E.makeCSR(in: work, name: "tls", subject: "/CN=www.example.tg")
        let der = work + "/tls.csr.der"
        try E2E.pemToDER(csr, to: der)
        let passphraseFile = work + "/passphrase"
        try E2E.writeSecret("test-passphrase\n", to: passphraseFile)
        let base = ["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--san", "dns:www.example.tg"]

        // PEM request, certificate on stdout.
        let stdout = try E2E.etrust(base + ["--csr", csr])
        #expect(stdout.status == 0, "\(stdout.stderr)")
        #expect(E2E.pemCertificates(stdout.stdout).count == 1)

        // DER request, --out FILE (PEM), key unlocked by --passphrase-file only.
        let pemOut = work + "/leaf.pem"
        let fromDER = try E2E.etrust(base + ["--csr", der, "--out", pemOut, "--passphrase-file", passphraseFile], passphrase: nil)
        #expect(fromDER.status == 0, "DER request with --passphrase-file: \(fromDER.stderr)")
        #expect(E2E.pemCertificates(try E2E.read(pemOut)).count == 1)
        #expect(try E2E.subject(ofCertificate: pemOut) == "CN=www.example.tg")

        // --der --out FILE.
        let derOut = work + "/leaf.der"
        let derRun = try E2E.etrust(base + ["--csr", csr, "--der", "--out", derOut])
        #expect(derRun.status == 0, "\(derRun.stderr)")
        #expect(try E2E.bytes(derOut).first == 0x30)
        let parsed = try E2E.openssl(["x509", "-inform", "DER", "-in", derOut, "-noout", "-subject"])
        #expect(parsed.status == 0, "openssl could not read the DER certificate: \(parsed.stderr)")

        #expect(try E2E.sqlCount(home, "certificates", where: "profile = 'tls-server'") == 3)
    }

    /// An --out path that cannot be written is found before anything is issued: the contract says
    /// nothing is written half-way, so no certificate may be recorded that the caller never got.
    @Test func issueToAnUnwritableOutPathWritesNothing() throws {
        let (home, work) = try E2E.pki("e2e-badout")
        defer { E2E.cleanUp(home) }
        let csr = try E2E.makeCSR(in: work, name: "tls", subject: "/CN=www.example.tg")
        let before = try E2E.snapshot(home)
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--san", "dns:www.example.tg",
                                "--csr", csr, "--out", work + "/no-such-folder/leaf.pem"])
        #expect(r.status != 0, "issue to a missing folder succeeded")
        #expect(r.stderr.hasPrefix("etrust: ") && r.stderr.contains("no-such-folder"), "stderr: \(r.stderr)")
        let after = try E2E.snapshot(home)
        #expect(after.certificates == before.certificates,
                "a certificate was recorded (and audited) although it could not be delivered: \(before.certificates) -> \(after.certificates)")
        #expect(after.events == before.events)
    }

    /// The CA keys are stored encrypted with mode 0600, in a folder only the owner can enter.
    @Test func caKeyFilesArePrivate() throws {
        let (home, _) = try E2E.pki("e2e-keymode")
        defer { E2E.cleanUp(home) }
        let keys = try FileManager.default.contentsOfDirectory(atPath: home + "/keys").filter { $0.hasSuffix(".key.pem") }.sorted()
        // One key per CA (the home may hold others, e.g. the audit log's signing key).
        #expect(Set(keys).isSuperset(of: ["issuing.key.pem", "root.key.pem"]), "\(keys)")
        let folderMode = try #require(try FileManager.default.attributesOfItem(atPath: home + "/keys")[.posixPermissions] as? NSNumber).intValue
        #expect(folderMode & 0o077 == 0, "keys/ has mode \(String(folderMode, radix: 8))")
        for k in keys {
            let path = home + "/keys/" + k
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue
            #expect(mode & 0o777 == 0o600, "\(k) has mode \(String(mode, radix: 8))")
            let text = try E2E.read(path)
            #expect(text.contains("BEGIN ENCRYPTED PRIVATE KEY"), "\(k) is not an encrypted PKCS#8 key")
            // openssl opens it with the home's passphrase and not without.
            let good = try E2E.openssl(["pkey", "-in", path, "-passin", "pass:test-passphrase", "-noout"])
            #expect(good.status == 0, "openssl could not decrypt \(k): \(good.stderr)")
            let bad = try E2E.openssl(["pkey", "-in", path, "-passin", "pass:wrong", "-noout"])
            #expect(bad.status != 0)
        }
    }

    /// A key file others may read is refused: exit 1 naming the mode, and nothing is written.
    @Test func issueRefusesAGroupReadableKey() throws {
        let (home, work) = try E2E.pki("e2e-chmod")
        defer { E2E.cleanUp(home) }
        let csr = try E2E.makeCSR(in: work, name: "tls", subject: "/CN=www.example.tg")
        let keyPath = home + "/keys/issuing.key.pem"
        #expect(chmod(keyPath, 0o644) == 0)
        let before = try E2E.snapshot(home)
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", csr,
                                "--san", "dns:www.example.tg", "--json"])
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("mode") && r.stderr.contains("644"), "stderr does not name the key file's mode: \(r.stderr)")
        #expect(E2E.lines(r.stderr).count == 1 && r.stderr.hasPrefix("etrust: "), "stderr: \(r.stderr)")
        #expect(!r.stdout.contains("BEGIN CERTIFICATE"))
        #expect(try E2E.snapshot(home) == before)
    }

    @Test func policyCheckOnTheHomeIsClean() throws {
        let (home, _) = try E2E.pki("e2e-policy")
        defer { E2E.cleanUp(home) }
        let r = try E2E.etrust(["policy", "check", "--home", home])
        #expect(r.status == 0, "policy check: \(r.stdout) \(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: home + "/policies").filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 9)
        #expect(r.stdout.contains("\(files.count) profile(s) valid, 0 error(s)"), "policy check: \(r.stdout)")
        let j = try E2E.etrust(["policy", "check", "--home", home, "--json"])
        #expect(j.status == 0)
        #expect(j.json?["valid"] as? Bool == true)
        #expect((j.json?["errors"] as? [String])?.isEmpty == true)
        let profiles = Set(j.json?["profiles"] as? [String] ?? [])
        #expect(profiles.isSuperset(of: ["root-ca", "sub-ca", "tls-server", "citizen-signing"]))
        #expect(profiles.count == files.count)
    }

    /// An unknown key in one profile: exit 1, and the report names the file, the line and the key.
    @Test func policyCheckReportsAnUnknownKey() throws {
        let (home, work) = try E2E.pki("e2e-policy-bad")
        defer { E2E.cleanUp(home) }
        let copy = work + "/policies"
        try FileManager.default.copyItem(atPath: home + "/policies", toPath: copy)
        let file = copy + "/tls-client.yaml"
        var lines = try E2E.read(file).components(separatedBy: "\n")
        let kindLine = try #require(lines.firstIndex { $0.hasPrefix("kind:") })
        lines.insert("colour: blue", at: kindLine + 1)
        try E2E.write(lines.joined(separator: "\n"), to: file)
        let badLine = kindLine + 2 // 1-based line of the inserted key

        let r = try E2E.etrust(["policy", "check", copy])
        #expect(r.status == 1, "policy check on a broken folder: exit \(r.status) \(r.stdout) \(r.stderr)")
        let report = r.stdout + r.stderr
        #expect(report.contains("tls-client.yaml:\(badLine)"), "report does not name file and line \(badLine): \(report)")
        #expect(report.contains("colour"), "report does not name the key: \(report)")
        #expect(report.contains("1 error(s)"), "\(report)")

        let j = try E2E.etrust(["policy", "check", copy, "--json"])
        #expect(j.status == 1)
        let errors = try #require(j.json?["errors"] as? [String], "policy check --json: \(j.stdout)")
        #expect(errors.count == 1)
        #expect(errors.first.map { $0.contains("tls-client.yaml:\(badLine)") && $0.contains("colour") } == true, "\(errors)")
        #expect(j.json?["valid"] as? Bool == false)
    }

    /// `etrust init` over a home that has content refuses (exit 1) and changes nothing.
    @Test func initRefusesANonEmptyHome() throws {
        let (home, _) = try E2E.pki("e2e-reinit")
        defer { E2E.cleanUp(home) }
        let before = try E2E.snapshot(home)
        let config = try E2E.read(home + "/etrust.yaml")
        let r = try E2E.etrust(["init", "--home", home])
        #expect(r.status == 1, "init over a home: exit \(r.status) \(r.stderr)")
        #expect(E2E.lines(r.stderr).count == 1 && r.stderr.hasPrefix("etrust: "), "stderr: \(r.stderr)")
        #expect(try E2E.snapshot(home) == before)
        #expect(try E2E.read(home + "/etrust.yaml") == config, "init rewrote etrust.yaml")
        // No staging folder is left beside the home.
        let parent = (home as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.hasPrefix(".etrust-init") }
        #expect(leftovers.isEmpty, "init left \(leftovers)")
    }
}

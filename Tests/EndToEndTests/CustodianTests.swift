import ETrustTestSupport
import Foundation
import Testing

/// M-of-N custodians and the key ceremony record, through the built binary: a root split 2-of-3
/// with each share sealed under its custodian's passphrase, and an issuing CA below it split
/// 3-of-5 in clear. Judged by openssl (verify, SPKI and certificate hashes) and sqlite3.
@Suite struct CustodianTests {
    struct Fixture {
        var dir: String
        var home: String { dir + "/home" }
        var work: String { dir + "/work" }
        func rootShare(_ i: Int) -> String { dir + "/root-shares/root-\(i).share.json" }
        func rootPassphrase(_ i: Int) -> String { dir + "/root-pass-\(i)" }
        func share(_ i: Int) -> String { dir + "/issuing-shares/issuing-\(i).share.json" }
        var rootPEM: String { home + "/certs/root.pem" }
        var issuingPEM: String { home + "/certs/issuing.pem" }
    }

    /// Built once with the CLI, copied (whole folder: home and share files) for each test.
    private static let template: Swift.Result<String, any Error> = Swift.Result {
        let dir = try TestSupport.temporaryDirectory("e2e-custody-template")
        let home = dir + "/home"
        try E2E.etrust(["init", "--home", home, "--public-url", "http://pki.test.tg"])
        try E2E.cheapKeys(home)
        var passArgs: [String] = []
        for i in 1...3 {
            try E2E.writeSecret("root custodian \(i) passphrase\n", to: dir + "/root-pass-\(i)")
            passArgs += ["--custodian-passphrase-file", dir + "/root-pass-\(i)"]
        }
        let root = try E2E.etrust(["ca", "create", "root", "--home", home, "--subject", E2E.rootSubject, "--key", "ec-p384",
                                   "--custodians", "3", "--threshold", "2", "--shares-out", dir + "/root-shares"] + passArgs)
        guard root.status == 0 else { throw E2E.FixtureError("ca create root: \(root.status) \(root.stderr)") }
        // The sub-CA is signed by the root: two of its three custodians, passphrases in any order.
        let issuing = try E2E.etrust(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", E2E.issuingSubject,
                                      "--custodians", "5", "--threshold", "3", "--shares-out", dir + "/issuing-shares",
                                      "--share", dir + "/root-shares/root-3.share.json", "--share", dir + "/root-shares/root-1.share.json",
                                      "--share-passphrase-file", dir + "/root-pass-1", "--share-passphrase-file", dir + "/root-pass-3"])
        guard issuing.status == 0 else { throw E2E.FixtureError("ca create issuing: \(issuing.status) \(issuing.stderr)") }
        return dir
    }

    static func fixture(_ label: String) throws -> Fixture {
        let template = try template.get()
        let dir = try TestSupport.temporaryDirectory(label)
        try FileManager.default.removeItem(atPath: dir)
        let cp = try TestSupport.run("/bin/cp", ["-a", template, dir])
        try #require(cp.status == 0, "cp -a failed: \(cp.stderr)")
        try FileManager.default.createDirectory(atPath: dir + "/work", withIntermediateDirectories: true)
        return Fixture(dir: dir)
    }

    static func cleanUp(_ f: Fixture) { try? FileManager.default.removeItem(atPath: f.dir) }

    func issue(_ f: Fixture, shares: [String], name: String, extra: [String] = []) throws -> (TestSupport.Result, String) {
        let csr = try E2E.makeCSR(in: f.work, name: name, subject: "/CN=\(name).example.tg")
        let out = f.work + "/\(name).pem"
        let r = try E2E.etrust(["issue", "--home", f.home, "--ca", "issuing", "--profile", "tls-server", "--csr", csr,
                                "--san", "dns:\(name).example.tg", "--out", out, "--json"] + shares.flatMap { ["--share", $0] } + extra)
        return (r, out)
    }

    // MARK: Creation

    @Test("ca create --custodians writes N share files (0600), a share-protected key reference, and no secret")
    func creation() throws {
        let f = try Self.fixture("e2e-custody-create")
        defer { Self.cleanUp(f) }
        for i in 1...5 {
            let path = f.share(i)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(path)")
            let o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            #expect(o["id"] as? String == "issuing-\(i)")
            #expect(o["threshold"] as? Int == 3 && o["total"] as? Int == 5 && o["x"] as? Int == i)
            #expect(o["y"] is String && o["sealed"] == nil)
            #expect(o["spkiSHA256"] as? String == (try spkiSHA256(f.issuingPEM)))
        }
        // The root's shares are sealed: no value in clear.
        for i in 1...3 {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.rootShare(i)))) as? [String: Any])
            #expect(o["y"] == nil && o["sealed"] is [String: Any], "\(o)")
        }
        let show = try E2E.etrust(["ca", "show", "issuing", "--home", f.home])
        #expect(show.stdout.contains("file:keys/issuing.key.pem#shares=3of5"), "\(show.stdout)")
        // The key file is encrypted PKCS#8 and the home's passphrase does not open it.
        let key = f.home + "/keys/issuing.key.pem"
        #expect(try E2E.read(key).hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        let pass = f.work + "/home-pass"
        try E2E.write("test-passphrase", to: pass)
        let opened = try E2E.openssl(["pkey", "-in", key, "-passin", "file:" + pass, "-noout"])
        #expect(opened.status != 0, "the home's passphrase opened a custodians' key")
    }

    @Test("bad --custodians/--threshold combinations are usage errors and create nothing")
    func creationUsage() throws {
        let f = try Self.fixture("e2e-custody-usage")
        defer { Self.cleanUp(f) }
        let taken = f.work + "/taken"
        try FileManager.default.createDirectory(atPath: taken, withIntermediateDirectories: true)
        try E2E.write("a custodian's share\n", to: taken + "/third-2.share.json")
        let before = try E2E.snapshot(f.home)
        let base = ["ca", "create", "third", "--home", f.home, "--subject", "CN=Third,O=Test,C=TG"]
        let cases: [([String], Int32)] = [
            (["--custodians", "5", "--threshold", "1", "--shares-out", f.work + "/s"], 2),
            (["--custodians", "3", "--threshold", "4", "--shares-out", f.work + "/s"], 2),
            (["--custodians", "17", "--threshold", "3", "--shares-out", f.work + "/s"], 2),
            (["--custodians", "3", "--threshold", "2"], 2),
            (["--threshold", "2", "--shares-out", f.work + "/s"], 2),
            // Never over an existing share file.
            (["--custodians", "5", "--threshold", "3", "--shares-out", taken], 1),
        ]
        for (extra, exit) in cases {
            let r = try E2E.etrust(base + extra)
            #expect(r.status == exit, "\(extra): exit \(r.status) \(r.stderr)")
            #expect(E2E.lines(r.stderr).count == 1, "\(r.stderr)")
        }
        #expect(try E2E.snapshot(f.home) == before)
        #expect(!E2E.exists(f.work + "/s"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: taken) == ["third-2.share.json"])
        #expect(try E2E.read(taken + "/third-2.share.json") == "a custodian's share\n")
    }

    // MARK: Use

    @Test("3-of-5: every combination of 3 shares issues a certificate openssl verifies; the audit log names the shares")
    func everyThreeOfFive() throws {
        let f = try Self.fixture("e2e-custody-10")
        defer { Self.cleanUp(f) }
        var combinations: [[Int]] = []
        for i in 1...3 { for j in (i + 1)...4 { for k in (j + 1)...5 { combinations.append([i, j, k]) } } }
        #expect(combinations.count == 10)
        let chain = f.work + "/chain.pem"
        try E2E.write(try E2E.read(f.issuingPEM), to: chain)
        for c in combinations {
            let name = "leaf\(c.map(String.init).joined())"
            let (r, out) = try issue(f, shares: c.map(f.share), name: name)
            #expect(r.status == 0, "\(c): \(r.stderr)")
            let v = try E2E.openssl(["verify", "-CAfile", f.rootPEM, "-untrusted", chain, out])
            #expect(v.status == 0 && v.stdout.contains("OK"), "\(c): \(v.stdout) \(v.stderr)")
        }
        #expect(try E2E.sqlCount(f.home, "certificates", where: "ca_id = (SELECT id FROM cas WHERE name = 'issuing')") == 10)
        let log = try E2E.etrust(["audit", "log", "--home", f.home, "--json", "--event", "key", "--ca", "issuing"])
        #expect(log.status == 0, "\(log.stderr)")
        let unlocks = TestSupport.auditEvents(log.stdout)
            .filter { $0["action"] as? String == "unlocked" }
        #expect(unlocks.map { $0["shares"] as? String ?? "" } == combinations.map { $0.map { "issuing-\($0)" }.joined(separator: ",") })
        #expect(unlocks.allSatisfy { $0["custody"] as? String == "3of5" })
        // Share contents never reach the log.
        let everything = try E2E.etrust(["audit", "log", "--home", f.home, "--json"])
        for i in 1...5 {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.share(i)))) as? [String: Any])
            let y = try #require(o["y"] as? String)
            #expect(!everything.stdout.contains(y))
        }
        // The root's unlock (to sign the sub-CA) named the two sealed shares used.
        let rootLog = try E2E.etrust(["audit", "log", "--home", f.home, "--json", "--event", "key", "--ca", "root"])
        #expect(rootLog.stdout.contains("\"shares\":\"root-3,root-1\""), "\(rootLog.stdout)")
        let verify = try E2E.etrust(["audit", "verify", "--home", f.home])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    /// Each refusal: exit 1, one line, no certificate, no certificate row, no file.
    @Test("too few, duplicated, foreign, corrupted or missing shares are refused and nothing is signed",
          arguments: ["two", "duplicate", "same-file", "foreign", "corrupted-value", "corrupted-json", "forged", "none"])
    func refusals(_ kind: String) throws {
        let f = try Self.fixture("e2e-custody-refuse")
        defer { Self.cleanUp(f) }
        var shares = [f.share(1), f.share(2), f.share(4)]
        var expected = ""
        switch kind {
        case "two":
            shares = [f.share(1), f.share(4)]
            expected = "needs 3 of its 5"
        case "duplicate":
            // A copy of share 2 under another name.
            let copy = f.work + "/copy.share.json"
            try E2E.write(try E2E.read(f.share(2)), to: copy)
            shares = [f.share(1), f.share(2), copy]
            expected = "given twice"
        case "same-file":
            shares = [f.share(1), f.share(1), f.share(4)]
            expected = "given twice"
        case "foreign":
            shares = [f.share(1), f.share(2), f.rootShare(1)]
            expected = "another key"
        case "corrupted-value":
            try corrupt(f.share(2)) { o in
                var y = [UInt8](Data(base64Encoded: o["y"] as! String)!)
                y[0] ^= 0x01
                o["y"] = Data(y).base64EncodedString()
            }
            expected = "checksum"
        case "corrupted-json":
            try E2E.write(String(try E2E.read(f.share(2)).dropLast(20)), to: f.share(2))
            expected = "not a valid custodian share"
        case "forged":
            // A consistent-looking share (checksum recomputed by a forger) with a wrong value.
            try forge(f.share(4))
            expected = "corrupted or forged"
        case "none":
            shares = []
            expected = "give --share FILE 3 times"
        default: Issue.record("unknown case \(kind)")
        }
        let before = try E2E.sqlCount(f.home, "certificates")
        let (r, out) = try issue(f, shares: shares, name: "refused")
        #expect(r.status == 1, "\(kind): exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains(expected), "\(kind): \(r.stderr)")
        #expect(E2E.lines(r.stderr).count == 1, "\(r.stderr)")
        #expect(!E2E.exists(out))
        #expect(try E2E.sqlCount(f.home, "certificates") == before)
        // The attempt is in the audit log, without share contents.
        let log = try E2E.etrust(["audit", "log", "--home", f.home, "--json", "--event", "key", "--ca", "issuing"])
        #expect(log.stdout.contains("\"action\":\"unlock-refused\""), "\(log.stdout)")
        // And the right three still work afterwards (except where this test damaged one).
        let (ok, _) = try issue(f, shares: [f.share(3), f.share(5), kind.hasPrefix("corrupted") ? f.share(1) : f.share(2)], name: "after")
        #expect(ok.status == 0, "\(kind): \(ok.stderr)")
    }

    @Test("sealed shares need their custodians' passphrases")
    func sealedShares() throws {
        let f = try Self.fixture("e2e-custody-sealed")
        defer { Self.cleanUp(f) }
        let crl = ["crl", "--home", f.home, "--ca", "root", "--share", f.rootShare(1), "--share", f.rootShare(2)]
        let missing = try E2E.etrust(crl)
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("--share-passphrase-file"), "\(missing.stderr)")
        let wrong = try E2E.etrust(crl + ["--share-passphrase-file", f.rootPassphrase(1), "--share-passphrase-file", f.rootPassphrase(3)])
        #expect(wrong.status == 2, "\(wrong.stderr)")
        let ok = try E2E.etrust(crl + ["--share-passphrase-file", f.rootPassphrase(2), "--share-passphrase-file", f.rootPassphrase(1)])
        #expect(ok.status == 0, "\(ok.stderr)")
        let published = f.home + "/pub/crl/root.crl"
        #expect(E2E.exists(published))
        let v = try E2E.openssl(["crl", "-inform", "DER", "-in", published, "-CAfile", f.rootPEM, "-noout", "-verify"])
        #expect(v.status == 0 && (v.stdout + v.stderr).contains("verify OK"), "\(v.stdout) \(v.stderr)")
    }

    // MARK: Ceremony

    @Test("creating a CA writes a ceremony record (file and audit event) with the right SPKI and certificate hashes")
    func ceremony() throws {
        let f = try Self.fixture("e2e-custody-ceremony")
        defer { Self.cleanUp(f) }
        // A third CA with a key under the home's passphrase, for the plain file case.
        let plain = try E2E.etrust(["ca", "create", "plain", "--home", f.home, "--parent", "root", "--subject", "CN=Plain,O=Test,C=TG",
                                    "--share", f.rootShare(2), "--share", f.rootShare(3),
                                    "--share-passphrase-file", f.rootPassphrase(2), "--share-passphrase-file", f.rootPassphrase(3), "--json"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect((plain.json?["ceremony"] as? String).map(E2E.exists) == true, "\(plain.stdout)")
        let files = try FileManager.default.contentsOfDirectory(atPath: f.home + "/ceremonies").sorted()
        #expect(files.count == 3, "\(files)")
        for (name, store) in [("root", "shares=2of3"), ("issuing", "shares=3of5"), ("plain", "under the home's passphrase")] {
            let file = try #require(files.first { $0.hasPrefix(name + "-") && $0.hasSuffix(".txt") }, "\(files)")
            #expect(file.count == name.count + 1 + 10 + 4, "\(file): NAME-YYYY-MM-DD.txt")
            let text = try E2E.read(f.home + "/ceremonies/" + file)
            let cert = f.home + "/certs/\(name).pem"
            let spki = try spkiSHA256(cert)
            let fingerprint = try certificateSHA256(cert)
            #expect(text.contains("Key SPKI SHA-256:     \(spki)"), "\(text)")
            #expect(text.contains("Certificate SHA-256:  \(fingerprint)"), "\(text)")
            #expect(text.contains(store), "\(text)")
            #expect(text.contains("Operator:"), "\(text)")
            #expect(text.contains("Witnesses:") && text.contains("Signature: ____"), "\(text)")
            #expect(text.contains(name == "root" ? "ec-p384" : "ec-p256"))
            let log = try E2E.etrust(["audit", "log", "--home", f.home, "--json", "--event", "ceremony", "--ca", name])
            let events = TestSupport.auditEvents(log.stdout)
            #expect(events.count == 1, "\(log.stdout)")
            #expect(events.first?["spkiSHA256"] as? String == spki)
            #expect(events.first?["certificateSHA256"] as? String == fingerprint)
            #expect((events.first?["operator"] as? String)?.isEmpty == false)
        }
        #expect(try E2E.read(f.home + "/ceremonies/" + files.first { $0.hasPrefix("issuing-") }!)
            .contains("issuing-1, issuing-2, issuing-3, issuing-4, issuing-5"))
    }

    // MARK: Helpers

    /// SHA-256 of the certificate's DER SubjectPublicKeyInfo, computed by openssl.
    func spkiSHA256(_ certificate: String) throws -> String {
        let dir = try TestSupport.temporaryDirectory("e2e-custody-spki")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pub = try E2E.openssl(["x509", "-in", certificate, "-noout", "-pubkey", "-out", dir + "/pub.pem"])
        try #require(pub.status == 0, "\(pub.stderr)")
        let der = try E2E.openssl(["pkey", "-pubin", "-in", dir + "/pub.pem", "-outform", "DER", "-out", dir + "/pub.der"])
        try #require(der.status == 0, "\(der.stderr)")
        let digest = try E2E.openssl(["dgst", "-sha256", "-r", dir + "/pub.der"])
        return String(digest.stdout.prefix(64))
    }

    func certificateSHA256(_ certificate: String) throws -> String {
        let r = try E2E.openssl(["x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"])
        let hex = r.stdout.split(separator: "=").last.map(String.init) ?? ""
        return hex.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Changes a share file's JSON without fixing its checksum.
    func corrupt(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        var o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        change(&o)
        try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }

    /// Changes a share's value and recomputes its checksum as the format documents it.
    func forge(_ path: String) throws {
        var o = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        var y = [UInt8](Data(base64Encoded: o["y"] as! String)!)
        y[5] ^= 0x40
        o["y"] = Data(y).base64EncodedString()
        let header = ["etrust-custodian-share/1", o["id"] as! String, o["ca"] as! String, o["spkiSHA256"] as! String,
                      String(o["threshold"] as! Int), String(o["total"] as! Int), String(o["x"] as! Int)].joined(separator: "\n")
        let input = header + "\ny " + (o["y"] as! String) + "\n"
        let file = path + ".input"
        try E2E.write(input, to: file)
        let digest = try E2E.openssl(["dgst", "-sha256", "-r", file])
        o["checksum"] = String(digest.stdout.prefix(64))
        try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
}

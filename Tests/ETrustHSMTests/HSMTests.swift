import ETrustTestSupport
import Foundation
import Testing

/// CA keys in a PKCS#11 token (SoftHSM2), end to end through the built `etrust`: the keys are made
/// inside the token and never leave it, every signature of those CAs is the token's, and the
/// independent judges (openssl, pkcs11-tool) accept what comes out.
@Suite struct HSMLifecycleTests {
    @Test("root and issuing CA in the token: issue, revoke, CRL; openssl and pkcs11-tool judge")
    func lifecycle() throws {
        let token = try SoftHSM(label: "etrust-ca")
        defer { token.cleanUp() }
        let home = try HSMRun.home(in: token.directory)
        let work = token.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let store = "pkcs11:token=etrust-ca"

        // The root with the PIN from ETRUST_PKCS11_PIN, the issuing CA (P-384) with --pin-file.
        let root = try HSMRun.etrust(["ca", "create", "root", "--home", home, "--subject", HSMRun.rootSubject, "--key-store", store, "--json"],
                                     token: token)
        try #require(root.status == 0, "ca create root: \(root.stderr)")
        let pinFile = work + "/pin"
        try "\(SoftHSM.pin)\n".write(toFile: pinFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pinFile)
        let issuing = try HSMRun.etrust(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", HSMRun.issuingSubject,
                                         "--key", "ec-p384", "--key-store", store, "--pin-file", pinFile], token: token, pin: nil)
        try #require(issuing.status == 0, "ca create issuing: \(issuing.stderr)")
        let rootPEM = home + "/certs/root.pem", issuingPEM = home + "/certs/issuing.pem"
        let chainOK = try TestSupport.openssl(["verify", "-CAfile", rootPEM, issuingPEM])
        #expect(chainOK.status == 0, "openssl verify issuing: \(chainOK.stdout) \(chainOK.stderr)")

        // The records name the token objects (RFC 7512), and the audit log says where the keys live.
        for name in ["root", "issuing"] {
            let show = try HSMRun.etrust(["ca", "show", name, "--home", home, "--json"], token: token)
            let keyStore = show.json?["keyStore"] as? String ?? ""
            #expect(keyStore.hasPrefix("pkcs11:token=etrust-ca;object=\(name);id=%") && keyStore.hasSuffix(";type=private"), "\(name): \(keyStore)")
        }
        let keyEvents = try HSMRun.etrust(["audit", "log", "--home", home, "--event", "key", "--json"], token: token)
        let payloads = TestSupport.auditEvents(keyEvents.stdout)
        for name in ["root", "issuing"] {
            let event = payloads.first { $0["ca"] as? String == name && $0["action"] as? String == "generated" }
            #expect(event?["store"] as? String == "pkcs11", "key event of \(name): \(String(describing: event))")
            #expect((event?["uri"] as? String)?.hasPrefix("pkcs11:token=etrust-ca;object=\(name);") == true)
        }

        // Issue two certificates, revoke one, publish a CRL: all signed by the token.
        var serials: [String] = []
        for name in ["good", "bad"] {
            let csr = work + "/\(name).csr"
            let req = try TestSupport.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/",
                                               "-keyout", work + "/\(name).key", "-out", csr])
            try #require(req.status == 0, "openssl req: \(req.stderr)")
            let issued = try HSMRun.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", csr,
                                            "--san", "dns:\(name).example.tg", "--out", work + "/\(name).pem", "--json"], token: token)
            try #require(issued.status == 0, "issue \(name): \(issued.stderr)")
            serials.append(try #require(issued.json?["serial"] as? String))
        }
        // A batch: the token signs on every core at once (libp11 serialises the C_Sign calls).
        var csv = "csr,san\n"
        for i in 0..<24 {
            let req = try TestSupport.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/",
                                               "-keyout", work + "/b\(i).key", "-out", work + "/b\(i).csr"])
            try #require(req.status == 0, "openssl req: \(req.stderr)")
            csv += "b\(i).csr,dns:b\(i).example.tg\n"
        }
        try csv.write(toFile: work + "/batch.csv", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: work + "/batch", withIntermediateDirectories: true)
        let batch = try HSMRun.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--batch", work + "/batch.csv",
                                       "--out", work + "/batch"], token: token)
        #expect(batch.status == 0, "issue --batch: \(batch.stdout) \(batch.stderr)")
        let batchFiles = HSMRun.files(work + "/batch")
        #expect(batchFiles.count == 24, "\(batchFiles)")
        for file in batchFiles {
            let v = try TestSupport.openssl(["verify", "-CAfile", rootPEM, "-untrusted", issuingPEM, work + "/batch/" + file])
            #expect(v.status == 0, "openssl verify \(file): \(v.stdout) \(v.stderr)")
        }

        let revoked = try HSMRun.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", serials[1], "--reason", "keyCompromise"], token: token)
        #expect(revoked.status == 0, "revoke: \(revoked.stderr)")
        let crl = try HSMRun.etrust(["crl", "--home", home, "--ca", "issuing", "--out", work + "/issuing.crl"], token: token)
        try #require(crl.status == 0, "crl: \(crl.stderr)")
        let rootCRL = try HSMRun.etrust(["crl", "--home", home, "--ca", "root", "--out", work + "/root.crl"], token: token)
        try #require(rootCRL.status == 0, "crl root: \(rootCRL.stderr)")

        let crlOK = try TestSupport.openssl(["crl", "-in", work + "/issuing.crl", "-noout", "-verify", "-CAfile", issuingPEM])
        #expect(crlOK.status == 0 && (crlOK.stderr + crlOK.stdout).contains("verify OK"), "openssl crl -verify: \(crlOK.stdout) \(crlOK.stderr)")
        let rootCRLOK = try TestSupport.openssl(["crl", "-in", work + "/root.crl", "-noout", "-verify", "-CAfile", rootPEM])
        #expect(rootCRLOK.status == 0 && (rootCRLOK.stderr + rootCRLOK.stdout).contains("verify OK"), "openssl crl -verify root: \(rootCRLOK.stderr)")
        let crls = work + "/crls.pem"
        try (String(contentsOfFile: work + "/issuing.crl", encoding: .utf8) + String(contentsOfFile: work + "/root.crl", encoding: .utf8))
            .write(toFile: crls, atomically: true, encoding: .utf8)
        let good = try TestSupport.openssl(["verify", "-crl_check_all", "-CAfile", rootPEM, "-untrusted", issuingPEM, "-CRLfile", crls, work + "/good.pem"])
        #expect(good.status == 0 && good.stdout.contains("OK"), "openssl verify good: \(good.stdout) \(good.stderr)")
        let bad = try TestSupport.openssl(["verify", "-crl_check_all", "-CAfile", rootPEM, "-untrusted", issuingPEM, "-CRLfile", crls, work + "/bad.pem"])
        #expect(bad.status != 0 && (bad.stdout + bad.stderr).contains("revoked"), "openssl verify bad: \(bad.stdout) \(bad.stderr)")

        // A trust list: its signer's certificate is issued by the token's root.
        let trustList = work + "/list.json", signedList = work + "/list.signed"
        for args in [["trustlist", "create", "--out", trustList],
                     ["trustlist", "add", "--list", trustList, "--ca-cert", rootPEM, "--country", "TG", "--level", "high", "--policy", "1.3.6.1.4.1.99999.1"],
                     ["trustlist", "sign", "--list", trustList, "--out", signedList, "--signer", "root", "--home", home],
                     ["trustlist", "verify", signedList, "--signer-cert", rootPEM]] {
            let r = try HSMRun.etrust(args, token: token)
            #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.stdout) \(r.stderr)")
        }

        // pkcs11-tool: both private keys sensitive, never extractable, generated in the token.
        for name in ["root", "issuing"] {
            let objects = try token.objects()
            let object = try #require(try token.privateKeyObject(labelled: name), "no private key labelled \(name): \(objects)")
            let access = SoftHSM.field("Access", of: object) ?? ""
            let flags = Set(access.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(flags.isSuperset(of: ["sensitive", "always sensitive", "never extractable", "local"]), "\(name): Access: \(access)")
            #expect(!flags.contains("extractable"), "\(name): Access: \(access)")
        }

        // No file of the home holds a private key of those CAs: keys/ holds the audit key and the
        // trust-list signer's key only, and no key file's public key is a CA's.
        let keyFiles = HSMRun.files(home + "/keys")
        #expect(keyFiles == ["audit.key.pem", "root-trust-list.key.pem"], "keys/: \(keyFiles)")
        var caKeys: Set<String> = []
        for pem in [rootPEM, issuingPEM] {
            caKeys.insert(try TestSupport.openssl(["x509", "-in", pem, "-noout", "-pubkey"]).stdout)
        }
        for file in HSMRun.files(home) where file.hasSuffix(".pem") || file.hasSuffix(".key") {
            let pub = try TestSupport.openssl(["pkey", "-in", home + "/" + file, "-passin", "pass:test-passphrase", "-pubout"])
            #expect(pub.status != 0 || !caKeys.contains(pub.stdout), "\(file) holds a CA's private key")
        }

        // hsm list: the token, both key pairs, and which CA uses each.
        let list = try HSMRun.etrust(["hsm", "list", "--home", home, "--json"], token: token)
        try #require(list.status == 0, "hsm list: \(list.stderr)")
        let tokens = list.json?["tokens"] as? [[String: Any]] ?? []
        let listed = try #require(tokens.first { $0["label"] as? String == "etrust-ca" }, "hsm list: \(list.stdout)")
        let keys = listed["keys"] as? [[String: Any]] ?? []
        for name in ["root", "issuing"] {
            let priv = keys.first { $0["label"] as? String == name && $0["class"] as? String == "private" }
            #expect(priv?["ca"] as? String == name, "hsm list \(name): \(String(describing: priv))")
            #expect(priv?["type"] as? String == "ec")
            #expect(priv?["sensitive"] as? Bool == true && priv?["extractable"] as? Bool == false && priv?["neverExtractable"] as? Bool == true)
            #expect(keys.contains { $0["label"] as? String == name && $0["class"] as? String == "public" })
        }
        let text = try HSMRun.etrust(["hsm", "list", "--home", home], token: token)
        #expect(text.status == 0 && text.stdout.contains("token etrust-ca") && text.stdout.contains("CA issuing"), "hsm list: \(text.stdout)")

        // A new key may not take the label of one already on the token (refused, nothing made).
        let clash = try HSMRun.etrust(["ca", "create", "again", "--home", home, "--subject", "CN=Again,O=etrust tests,C=TG",
                                       "--key-store", "pkcs11:token=etrust-ca;object=root"], token: token)
        #expect(clash.status == 1 && clash.stderr.contains("already holds a key object labelled 'root'"), "\(clash.status) \(clash.stderr)")
        #expect(try token.objects().filter { $0.hasPrefix("Private Key Object") }.count == 2)

        // A CA with a file key in the same home; hsm check signs with all three.
        let fileCA = try HSMRun.etrust(["ca", "create", "filed", "--home", home, "--parent", "root", "--subject", "CN=HSM Test File CA,O=etrust tests,C=TG"],
                                       token: token)
        try #require(fileCA.status == 0, "ca create filed: \(fileCA.stderr)")
        let check = try HSMRun.etrust(["hsm", "check", "--home", home, "--json"], token: token)
        #expect(check.status == 0, "hsm check: \(check.stdout) \(check.stderr)")
        let checked = check.json?["cas"] as? [[String: Any]] ?? []
        #expect(Set(checked.compactMap { $0["name"] as? String }) == ["root", "issuing", "filed"])
        #expect(checked.allSatisfy { $0["ok"] as? Bool == true }, "\(checked)")
        #expect(checked.first { $0["name"] as? String == "filed" }?["store"] as? String == "file")
        #expect(checked.first { $0["name"] as? String == "issuing" }?["store"] as? String == "pkcs11")

        // With a wrong PIN the token keys fail the check (exit 1), the file key still passes.
        let wrong = try HSMRun.etrust(["hsm", "check", "--home", home, "--json"], token: token, pin: "0000")
        #expect(wrong.status == 1, "hsm check, wrong PIN: \(wrong.status) \(wrong.stderr)")
        let wrongChecks = wrong.json?["cas"] as? [[String: Any]] ?? []
        #expect(wrongChecks.first { $0["name"] as? String == "filed" }?["ok"] as? Bool == true)
        #expect(wrongChecks.first { $0["name"] as? String == "root" }?["ok"] as? Bool == false)

        let audit = try HSMRun.etrust(["audit", "verify", "--home", home], token: token)
        #expect(audit.status == 0, "audit verify: \(audit.stdout) \(audit.stderr)")
    }

    @Test("OCSP for a CA whose key is in the token, the responder key as a file or in the token; etrust-ocspd has no CA passphrase (and, for a file responder key, no PIN); openssl ocsp accepts good and revoked, live and pre-signed",
          arguments: [false, true])
    func ocspAnswer(responderInToken: Bool) throws {
        let token = try SoftHSM(label: "etrust-ocsp")
        defer { token.cleanUp() }
        let (home, work) = try HSMRun.homeWithTokenCAs(token)
        var leaves: [String: String] = [:]
        for name in ["good", "bad"] {
            let csr = work + "/\(name).csr"
            let req = try TestSupport.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=\(name)",
                                               "-keyout", work + "/\(name).key", "-out", csr])
            try #require(req.status == 0, "\(req.stderr)")
            let issued = try HSMRun.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-client", "--csr", csr,
                                            "--out", work + "/\(name).pem", "--json"], token: token)
            try #require(issued.status == 0, "\(issued.stderr)")
            leaves[name] = try #require(issued.json?["serial"] as? String)
        }
        let revoke = try HSMRun.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", leaves["bad"]!, "--reason", "keyCompromise"], token: token)
        try #require(revoke.status == 0, "\(revoke.stderr)")
        // The responder certificate is signed by the token; its own key is a file under the responders' passphrase.
        let provision = try HSMRun.etrust(["ocsp", "provision", "--home", home, "--ca", "issuing", "--json"]
                                          + (responderInToken ? ["--key-store", "pkcs11:token=etrust-ocsp"] : []), token: token,
                                          environment: responderInToken ? [:] : ["ETRUST_SIGNER_PASSPHRASE": "responder-secret"])
        try #require(provision.status == 0, "ocsp provision: \(provision.stderr)")
        #expect(provision.json?["issued"] as? Bool == true)
        if responderInToken {
            // Only the CA keys and the responder's are private keys on the token; no responder key file.
            #expect(try token.objects().filter { $0.contains("Private Key Object") }.count == 3)
            let keyFiles = try FileManager.default.contentsOfDirectory(atPath: home + "/keys").filter { $0.contains("ocsp") }
            #expect(keyFiles.isEmpty, "\(keyFiles)")
        }

        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: ((TestSupport.etrustBinary as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("etrust-ocspd"))
        let port = Int.random(in: 20_000...60_000)
        daemon.arguments = ["--home", home, "--listen", "127.0.0.1:\(port)", "--log-level", "error"]
        var env = ProcessInfo.processInfo.environment
        for k in ["ETRUST_PASSPHRASE", "ETRUST_PKCS11_PIN", "ETRUST_HOME", "ETRUST_SIGNER_PASSPHRASE"] { env.removeValue(forKey: k) }
        for (k, v) in token.environment { env[k] = v }
        if responderInToken { env["ETRUST_PKCS11_PIN"] = SoftHSM.pin } else { env["ETRUST_SIGNER_PASSPHRASE"] = "responder-secret" }
        daemon.environment = env
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { daemon.terminate(); daemon.waitUntilExit() }
        func ask(_ name: String, nonce: Bool = true) throws -> String {
            let r = try TestSupport.openssl(["ocsp", "-issuer", home + "/certs/issuing.pem", "-cert", work + "/\(name).pem",
                                             "-url", "http://127.0.0.1:\(port)/ocsp", "-CAfile", home + "/certs/root.pem", "-timeout", "3"]
                                            + (nonce ? [] : ["-no_nonce"]))
            return r.stdout + r.stderr
        }
        var good = ""
        for _ in 0..<50 where !good.contains("Response verify OK") {
            good = try ask("good")
            if !good.contains("Response verify OK") { usleep(200_000) }
        }
        #expect(good.contains("Response verify OK") && good.contains("good.pem: good"), "\(good)")
        let bad = try ask("bad")
        #expect(bad.contains("Response verify OK") && bad.contains("bad.pem: revoked"), "\(bad)")
        let presigned = try ask("good", nonce: false)
        #expect(presigned.contains("Response verify OK") && presigned.contains("good.pem: good"), "\(presigned)")
    }

    @Test("an RSA CA key in the token, labelled by object= in the URI, signs certificates openssl accepts")
    func rsaKey() throws {
        let token = try SoftHSM(label: "etrust-rsa")
        defer { token.cleanUp() }
        let home = try HSMRun.home(in: token.directory)
        // The root-ca profile refuses RSA-2048 after the key was generated: the token key goes again.
        let refused = try HSMRun.etrust(["ca", "create", "root", "--home", home, "--subject", HSMRun.rootSubject, "--key", "rsa-2048",
                                         "--key-store", "pkcs11:token=etrust-rsa;object=Root%20Key%202026"], token: token)
        #expect(refused.status == 1 && refused.stderr.contains("RSA-2048"), "ca create root (RSA-2048): \(refused.status) \(refused.stderr)")
        let left = try token.objects()
        #expect(left.filter { $0.contains("Key Object") }.isEmpty, "key objects left after a refusal: \(left)")
        #expect(try HSMRun.caNames(home).isEmpty)

        let root = try HSMRun.etrust(["ca", "create", "root", "--home", home, "--subject", HSMRun.rootSubject, "--key", "rsa-3072",
                                      "--key-store", "pkcs11:token=etrust-rsa;object=Root%20Key%202026"], token: token)
        try #require(root.status == 0, "ca create root (RSA): \(root.stderr)")
        let show = try HSMRun.etrust(["ca", "show", "root", "--home", home, "--json"], token: token)
        #expect((show.json?["keyStore"] as? String)?.hasPrefix("pkcs11:token=etrust-rsa;object=Root%20Key%202026;id=%") == true, "\(show.stdout)")
        let sub = try HSMRun.etrust(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", HSMRun.issuingSubject,
                                     "--key-store", "pkcs11:token=etrust-rsa"], token: token)
        try #require(sub.status == 0, "ca create issuing: \(sub.stderr)")
        let verify = try TestSupport.openssl(["verify", "-CAfile", home + "/certs/root.pem", home + "/certs/issuing.pem"])
        #expect(verify.status == 0, "openssl verify: \(verify.stdout) \(verify.stderr)")
        let objects = try token.objects()
        let object = try #require(try token.privateKeyObject(labelled: "Root Key 2026"), "\(objects)")
        #expect(object.hasPrefix("Private Key Object; RSA"), "\(object)")
        #expect(SoftHSM.field("Access", of: object)?.contains("never extractable") == true, "\(object)")
    }
}

/// Wrong PIN, missing token, missing module, a URI naming no object: exit 3 (environment) with one
/// line on stderr, and no CA record, certificate or key object left behind.
@Suite struct HSMBadInputTests {
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let keyStore: String
        let pin: String?
        let module: String?
        let exit: Int32
        let says: String
    }

    static let cases: [Case] = [
        Case(description: "wrong PIN", keyStore: "pkcs11:token=etrust-bad", pin: "9999", module: nil, exit: 3, says: "login"),
        Case(description: "missing token", keyStore: "pkcs11:token=no-such-token", pin: SoftHSM.pin, module: nil, exit: 3, says: "no-such-token"),
        Case(description: "missing module", keyStore: "pkcs11:token=etrust-bad", pin: SoftHSM.pin, module: "/nonexistent/libpkcs11.so", exit: 3,
             says: "/nonexistent/libpkcs11.so"),
        Case(description: "no PIN at all", keyStore: "pkcs11:token=etrust-bad", pin: nil, module: nil, exit: 2, says: "ETRUST_PKCS11_PIN"),
        Case(description: "an id in the key store", keyStore: "pkcs11:token=etrust-bad;id=%01%02", pin: SoftHSM.pin, module: nil, exit: 2,
             says: "random id"),
        Case(description: "a PIN in the URI", keyStore: "pkcs11:token=etrust-bad?pin-value=1234", pin: SoftHSM.pin, module: nil, exit: 2,
             says: "--pin-file"),
        Case(description: "ed25519 in a token", keyStore: "pkcs11:token=etrust-bad", pin: SoftHSM.pin, module: nil, exit: 2, says: "ed25519"),
    ]

    @Test(arguments: cases)
    func caCreationFails(_ c: Case) throws {
        let token = try SoftHSM(label: "etrust-bad")
        defer { token.cleanUp() }
        let home = try HSMRun.home(in: token.directory)
        if let module = c.module {
            let path = home + "/etrust.yaml"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "module: /usr/lib/softhsm/libsofthsm2.so", with: "module: \(module)").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let before = HSMRun.files(home).filter { !$0.hasPrefix("etrust.db") }
        let args = ["ca", "create", "root", "--home", home, "--subject", HSMRun.rootSubject, "--key-store", c.keyStore]
            + (c.description.hasPrefix("ed25519") ? ["--key", "ed25519"] : [])
        let r = try HSMRun.etrust(args + ["--json"], token: token, pin: c.pin)
        #expect(r.status == c.exit, "\(c): exit \(r.status): \(r.stderr)")
        #expect(HSMRun.lines(r.stderr).count == 1 && r.stderr.hasPrefix("etrust: "), "\(c): stderr: \(r.stderr)")
        #expect(r.stderr.contains(c.says), "\(c): stderr: \(r.stderr)")
        #expect(r.json?["code"] as? Int == Int(c.exit), "\(c): \(r.stdout)")
        #expect(!r.stderr.contains("9999") && !r.stdout.contains("9999"), "the PIN was printed")
        #expect(try HSMRun.caNames(home).isEmpty)
        #expect(HSMRun.files(home).filter { !$0.hasPrefix("etrust.db") } == before, "\(c): files changed")
        let objects = try token.objects()
        #expect(objects.filter { $0.contains("Key Object") }.isEmpty, "\(c): key objects left: \(objects)")
    }

    @Test("a key reference whose object is gone from the token: exit 3, nothing signed")
    func objectGone() throws {
        let token = try SoftHSM(label: "etrust-gone")
        defer { token.cleanUp() }
        let home = try HSMRun.home(in: token.directory)
        let root = try HSMRun.etrust(["ca", "create", "root", "--home", home, "--subject", HSMRun.rootSubject, "--key-store", "pkcs11:token=etrust-gone"],
                                     token: token)
        try #require(root.status == 0, "ca create root: \(root.stderr)")
        try token.deleteKeys(labelled: "root")
        let crl = try HSMRun.etrust(["crl", "--home", home, "--ca", "root"], token: token)
        #expect(crl.status == 3, "crl with the key gone: \(crl.status) \(crl.stderr)")
        #expect(HSMRun.lines(crl.stderr).count == 1 && crl.stderr.contains("no private key on the token matches"), "stderr: \(crl.stderr)")
        #expect(HSMRun.files(home + "/pub/crl").isEmpty)
        let sub = try HSMRun.etrust(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", HSMRun.issuingSubject,
                                     "--key-store", "pkcs11:token=etrust-gone"], token: token)
        #expect(sub.status == 3, "sub-CA under a root whose key is gone: \(sub.status) \(sub.stderr)")
        #expect(try HSMRun.caNames(home) == ["root"])
        let objects = try token.objects()
        #expect(objects.filter { $0.contains("Key Object") }.isEmpty, "key objects left: \(objects)")
    }
}

/// `hsm list` and `hsm check` on a broken token set-up: exit 3 (environment) with one line.
@Suite struct HSMCommandErrorTests {
    @Test func listErrors() throws {
        let token = try SoftHSM(label: "etrust-list")
        defer { token.cleanUp() }
        let home = try HSMRun.home(in: token.directory)
        let empty = try HSMRun.etrust(["hsm", "list", "--home", home, "--json"], token: token)
        #expect(empty.status == 0, "hsm list: \(empty.stderr)")
        let tokens = empty.json?["tokens"] as? [[String: Any]] ?? []
        #expect(tokens.map { $0["label"] as? String } == ["etrust-list"], "\(empty.stdout)")
        #expect((tokens.first?["keys"] as? [Any])?.isEmpty == true)

        for (what, pin, args) in [("wrong PIN", "0000", [String]()), ("unknown token", SoftHSM.pin, ["--token", "no-such-token"])] {
            let r = try HSMRun.etrust(["hsm", "list", "--home", home] + args, token: token, pin: pin)
            #expect(r.status == 3, "hsm list, \(what): \(r.status) \(r.stderr)")
            #expect(HSMRun.lines(r.stderr).count == 1 && r.stderr.hasPrefix("etrust: "), "hsm list, \(what): \(r.stderr)")
            #expect(!r.stderr.contains("0000"))
        }
        let config = home + "/etrust.yaml"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: "module: /usr/lib/softhsm/libsofthsm2.so", with: "module: /nonexistent/libpkcs11.so")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let noModule = try HSMRun.etrust(["hsm", "list", "--home", home, "--json"], token: token)
        #expect(noModule.status == 3 && noModule.stderr.contains("/nonexistent/libpkcs11.so"), "hsm list, no module: \(noModule.stderr)")
        #expect(noModule.json?["category"] as? String == "environment")
        // A home without CAs has nothing to check, module or not.
        let check = try HSMRun.etrust(["hsm", "check", "--home", home], token: token)
        #expect(check.status == 0, "hsm check: \(check.stderr)")
    }
}

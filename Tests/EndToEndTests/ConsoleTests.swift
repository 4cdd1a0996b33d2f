import ETrustAudit
import ETrustCA
import ETrustTestSupport
import Foundation
import Testing

/// `etrust console`: the auditors' read-only web console, as an auditor opens it. The browser
/// checks run in real headless Chromium (Tools/console-test.py, Selenium); the TLS checks with
/// curl and client certificates.
@Suite("etrust console", .serialized)
struct ConsoleTests {
    /// A running console; stopped (SIGTERM, then SIGKILL) by `stop()`.
    final class Console {
        let process: Process
        let logPath: String

        init(_ arguments: [String], logPath: String) throws {
            self.logPath = logPath
            // No ETRUST_PASSPHRASE: a read-only command needs no CA key.
            process = try TestSupport.launch(TestSupport.etrustBinary, ["console", "--listen", "127.0.0.1:0"] + arguments, logPath: logPath)
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        /// The URL the console prints once it listens.
        func url(seconds: TimeInterval = 20) throws -> String {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline && process.isRunning {
                if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("console serving ") }) {
                    return String(line.split(separator: " ")[2])
                }
                usleep(100_000)
            }
            throw ConsoleError(message: "the console did not start: \(log)")
        }

        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    struct ConsoleError: Error { let message: String }

    static func privateFile(_ text: String, _ path: String) throws {
        try E2E.write(text, to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// Issues one certificate from a fresh key and CSR; returns (certificate file, key file, serial).
    static func issue(_ home: String, _ work: String, name: String, subject: String, profile: String,
                      extra: [String] = []) throws -> (String, String, String) {
        let csr = try E2E.makeCSR(in: work, name: name, subject: subject)
        let out = work + "/\(name).pem"
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", profile, "--csr", csr, "--out", out, "--json"] + extra)
        try #require(r.status == 0, "issue \(profile): \(r.stderr)")
        let serial = try #require(r.json?["serial"] as? String, "issue printed no serial: \(r.stdout)")
        return (out, work + "/\(name).key", serial)
    }

    @Test("in headless Chromium: charts equal the report, a serial found among 100,000+ events in < 1 s, the browser verifies the proof and sees tampering; 401/403, traversal and injection change nothing")
    func browser() throws {
        let (home, work) = try E2E.pki("e2e-console")
        defer { E2E.cleanUp(home) }
        // 10,000 real certificates (one batch), a refusal, a revocation and a CRL: real events of every kind the
        // charts show; then 90,000 console visits appended through the library, for a log of 100,000+ events.
        try E2E.write("csr\n" + String(repeating: "citizen.csr.pem\n", count: 10_000), to: work + "/many.csv", creatingFolder: false)
        _ = try E2E.makeCSR(in: work, name: "citizen", subject: "/CN=Citizen/C=TG")
        let batchStarted = Date()
        let batch = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-authentication", "--batch", work + "/many.csv"])
        try #require(batch.status == 0, "batch: \(batch.stderr)")
        print("console test: 10,000 certificates issued in \(Int(Date().timeIntervalSince(batchStarted))) s")
        let serial = try E2E.sql(home, "SELECT serial FROM certificates WHERE profile = 'citizen-authentication' ORDER BY id LIMIT 1 OFFSET 5000")
        let revoked = try E2E.sql(home, "SELECT serial FROM certificates WHERE profile = 'citizen-authentication' ORDER BY id LIMIT 1 OFFSET 7")
        #expect(try E2E.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", revoked, "--reason", "keyCompromise"]).status == 0)
        #expect(try E2E.etrust(["crl", "--home", home, "--ca", "issuing"]).status == 0)
        let refused = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", work + "/citizen.csr.pem"])
        #expect(refused.status == 1, "a refusal for the charts: \(refused.stderr)")
        try Self.appendVisits(home, count: 90_000)
        #expect(try E2E.sqlCount(home, "events") > 100_000)
        // The version of etrust is in each event's canonical payload.
        let version = try E2E.etrust(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let events = try E2E.etrust(["audit", "log", "--home", home, "--serial", serial, "--json"])
        #expect(events.stdout.contains("\"etrustVersion\":\"\(version)\""), "\(version): \(events.stdout)")

        try Self.privateFile("console-token-\(UUID().uuidString)\n", work + "/token")
        let console = try Console(["--home", home, "--token-file", work + "/token"], logPath: work + "/console.log")
        defer { console.stop() }
        let url = try console.url()
        let python = try E2E.venvTool("python")
        let shots = TestSupport.packageRoot + "/.build/console-screenshots"
        let r = try TestSupport.run(python, [TestSupport.packageRoot + "/Tools/console-test.py", "--etrust", TestSupport.etrustBinary,
                                             "--home", home, "--url", url, "--token-file", work + "/token", "--serial", serial, "--ca", "issuing",
                                             "--shots", shots])
        print(r.stdout)
        #expect(r.status == 0, "console-test.py:\n\(r.stdout)\n\(r.stderr)\nconsole log:\n\(console.log)")
        #expect(r.stdout.contains("all console browser checks passed"), "\(r.stdout)")
        for shot in ["1-overview", "2-events-filtered", "3-certificate-verified", "4-certificate-tampered", "5-cas", "6-crls", "7-report"] {
            #expect(E2E.exists(shots + "/\(shot).png"), "no screenshot \(shot)")
        }
        // Every login and page view is an audit event, and the log still verifies.
        let views = try E2E.sqlCount(home, "events", where: "type = 'console' AND payload LIKE '%\"action\":\"view\"%'")
        let logins = try E2E.sqlCount(home, "events", where: "type = 'console' AND payload LIKE '%\"action\":\"login\"%'")
        #expect(views >= 10 && logins >= 2, "views \(views), logins \(logins)")
        // The console holds no key: its events are covered by the next checkpoint the CA host signs.
        #expect(try E2E.etrust(["crl", "--home", home, "--ca", "issuing"]).status == 0)
        let verify = try E2E.etrust(["audit", "verify", "--home", home])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    /// `count` console visits of a synthetic auditor, appended as the console appends them (the
    /// library's AuditLog: canonical payloads, RFC 6962 leaves and subtrees), then a checkpoint
    /// signed with the home's audit key, as the CA host's next command signs one.
    static func appendVisits(_ home: String, count: Int) throws {
        let started = Date()
        let authority = try Authority(home: try Home.open(home), passphrase: { Array("test-passphrase".utf8) })
        let now = Date()
        let events = (0..<count).map { i in
            AuditEvent(type: "console", time: now, ca: nil, serialHex: nil, profile: nil,
                       fields: ["action": "view", "auditor": "load-test (synthetic)", "path": "/events?before=\(i)", "status": "200"])
        }
        try authority.auditLog.append(events)
        try #require(try authority.checkpoint() != nil)
        print("console test: \(count) events appended and a checkpoint signed in \(Int(Date().timeIntervalSince(started))) s")
    }

    @Test("TLS: no client certificate 401, another CA's or a non-auditor certificate 403, this home's auditor certificate gets in until revoked")
    func clientCertificates() throws {
        let (home, work) = try E2E.pki("e2e-console-tls")
        defer { E2E.cleanUp(home) }
        let host = "console.pki.test.tg"
        let (server, serverKey, _) = try Self.issue(home, work, name: "server", subject: "/CN=\(host)", profile: "tls-server",
                                                    extra: ["--san", "dns:\(host)", "--chain"])
        let (auditor, auditorKey, auditorSerial) = try Self.issue(home, work, name: "auditor", subject: "/CN=Ada Auditor/O=Court of Audit/C=TG",
                                                                  profile: "auditor")
        let (client, clientKey, _) = try Self.issue(home, work, name: "client", subject: "/CN=service.test.tg", profile: "tls-client")
        let stranger = try E2E.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=Ada Auditor",
                                        "-keyout", work + "/stranger.key", "-out", work + "/stranger.pem", "-days", "2",
                                        "-addext", "extendedKeyUsage=clientAuth"])
        try #require(stranger.status == 0, "\(stranger.stderr)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: serverKey)
        let console = try Console(["--home", home, "--tls-cert", server, "--tls-key", serverKey], logPath: work + "/console.log")
        defer { console.stop() }
        let url = try console.url()
        let port = try #require(url.split(separator: ":").last.map { String($0.dropLast()) })
        func curl(_ cert: (String, String)?, _ path: String = "/") throws -> (Int, String) {
            let args = ["-s", "-o", work + "/body", "-w", "%{http_code}", "--cacert", home + "/certs/root.pem",
                        "--resolve", "\(host):\(port):127.0.0.1", "https://\(host):\(port)\(path)"] + (cert.map { ["--cert", $0.0, "--key", $0.1] } ?? [])
            let r = try TestSupport.run("/usr/bin/curl", args)
            return (Int(r.stdout) ?? -1, (try? E2E.read(work + "/body")) ?? "")
        }
        let none = try curl(nil)
        #expect(none.0 == 401 && !none.1.contains("issuing"), "no certificate: \(none)")
        #expect(try curl((work + "/stranger.pem", work + "/stranger.key")) == (403, "forbidden\n"))
        #expect(try curl((client, clientKey), "/events") == (403, "forbidden\n"))
        let ok = try curl((auditor, auditorKey))
        #expect(ok.0 == 200 && ok.1.contains("data-chart=\"issued-by-ca\""), "auditor: \(ok.0)")
        #expect(try curl((auditor, auditorKey), "/certificate/issuing/\(auditorSerial)").0 == 200)
        #expect(try E2E.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", auditorSerial, "--reason", "cessationOfOperation"]).status == 0)
        #expect(try curl((auditor, auditorKey)) == (403, "forbidden\n"))
        let log = try E2E.etrust(["audit", "log", "--home", home, "--event", "console"]).stdout
        let ada = "C=TG,O=Court of Audit,CN=Ada Auditor"
        #expect(log.contains("login \(ada) /") && log.contains("view \(ada) /certificate/issuing/") && log.contains("refused - /events"), "\(log)")
    }

    @Test("bad configurations are refused before anything is served")
    func refusals() throws {
        let (home, work) = try E2E.pki("e2e-console-bad")
        defer { E2E.cleanUp(home) }
        try E2E.write("a-token-long-enough-1234\n", to: work + "/open-token")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: work + "/open-token")
        try Self.privateFile("a-token-long-enough-1234\n", work + "/token")
        try Self.privateFile("short\n", work + "/short")
        // A token file others can read: refused by the policy for every secret (exit 1, as a key's).
        let open = try E2E.etrust(["console", "--home", home, "--token-file", work + "/open-token", "--check"])
        #expect(open.status == 1 && open.stderr.contains("token file mode 644 is group- or world-accessible; chmod 600 it"),
                "\(open.status) \(open.stderr)")
        let cases: [([String], String)] = [
            (["--token-file", work + "/short"], "shorter than 16"),
            (["--token-file", work + "/token", "--listen", "0.0.0.0:0"], "loopback"),
            (["--listen", "127.0.0.1:0"], "either --token-file"),
            (["--token-file", work + "/token", "--listen", "nowhere"], "HOST:PORT"),
        ]
        for (args, message) in cases {
            let r = try E2E.etrust(["console", "--home", home] + args + ["--check"])
            #expect(r.status == 2 && r.stderr.contains(message), "\(args): \(r.status) \(r.stderr)")
        }
        let ok = try E2E.etrust(["console", "--home", home, "--token-file", work + "/token", "--listen", "127.0.0.1:0", "--check"])
        #expect(ok.status == 0 && ok.stdout.contains("would serve http://127.0.0.1:"), "\(ok.stdout) \(ok.stderr)")
    }
}

extension E2E {
    /// One value of a query on a home's SQLite database.
    static func sql(_ home: String, _ query: String) throws -> String {
        let r = try TestSupport.run("/usr/bin/sqlite3", [home + "/etrust.db", query])
        try #require(r.status == 0, "sqlite3 failed: \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

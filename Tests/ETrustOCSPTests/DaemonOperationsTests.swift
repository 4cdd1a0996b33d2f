import ETrustCA
import ETrustCore
import ETrustOCSP
import ETrustTestSupport
import ETrustValidation
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The daemon and the CRL timer as an operator runs them: SIGHUP picks up a rotated responder key
/// without a client noticing, a port in use or a missing home exits 3 with one line, JSON logs,
/// `etrust crl --all --if-due`, and the systemd units.
@Suite("etrust-ocspd and the CRL timer in operation")
struct DaemonOperationsTests {
    typealias Daemon = DaemonTests.Daemon

    @Test("SIGHUP after 'ocsp provision --rotate': the next answers carry the new responder certificate; a client looping meanwhile sees no error")
    func reloadRotatedKey() throws {
        let f = try OT.fixture()
        defer { OT.cleanUp(f) }
        let port = try HTTP.freePort()
        // A long refresh interval: only the reload can pick the new key up within the test.
        let daemon = try Daemon(home: f.home, port: port, logPath: f.work + "/ocspd.log", extra: ["--refresh-interval", "1h", "--log-level", "notice"])
        defer { daemon.stop() }
        try #require(daemon.waitReady(), "\(daemon.log)")
        let req = try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der
        let old = try #require(OT.embeddedCertificates(try HTTP.postOCSP(port: port, req).body).first)

        // A client on one keep-alive connection, asking in a loop.
        let errors = Mutex<[String]>([])
        let answered = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
        let client = Thread {
            defer { finished.signal() }
            do {
                var c = try RawConnection(port: port)
                while !stop.load(ordering: .relaxed) {
                    let r = try c.request("POST", "/ocsp", body: req, contentType: "application/ocsp-request", keepAlive: true)
                    if r.status != 200 || r.body.count < 100 { errors.withLock { $0.append("status \(r.status)") } }
                    answered.add(1, ordering: .relaxed)
                    // As any HTTP/1.1 client: a connection the server closes (request cap) is replaced.
                    if r.header("Connection")?.lowercased() == "close" { c = try RawConnection(port: port) }
                }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        client.start()
        let rotate = try TestSupport.etrust(["ocsp", "provision", "--home", f.home, "--ca", "issuing", "--rotate"],
                                            environment: ["ETRUST_SIGNER_PASSPHRASE": OT.passphrase])
        try #require(rotate.status == 0, "\(rotate.stderr)")
        let before = answered.load(ordering: .relaxed)
        kill(daemon.process.processIdentifier, SIGHUP)
        var fresh: Certificate?
        let picked = eventually(5) {
            fresh = (try? HTTP.postOCSP(port: port, req)).flatMap { OT.embeddedCertificates($0.body).first }
            return fresh.map { $0.der != old.der } ?? false
        }
        usleep(300_000)
        stop.store(true, ordering: .relaxed)
        _ = finished.wait(timeout: .now() + 5)
        #expect(picked, "the answer still carries the old responder certificate after SIGHUP: \(daemon.log)")
        #expect(daemon.process.isRunning, "SIGHUP must not stop the daemon")
        #expect(errors.withLock { $0 }.isEmpty, "\(errors.withLock { $0 })")
        #expect(answered.load(ordering: .relaxed) > before, "the looping client kept being answered across the reload")
        #expect(daemon.log.contains("reloaded"), "\(daemon.log)")
        let verified = try OT.opensslQuery(port: port, issuer: f.issuingPath, certs: [f.goodPath], caFile: f.rootPath, extra: ["-no_nonce"])
        #expect(verified.output.contains("Response verify OK") && verified.output.contains(": good"), "\(verified.output)")
    }

    @Test("a port in use and a missing home: exit 3 and one line naming the cause")
    func environmentFailures() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let port = try HTTP.freePort()
        let daemon = try Daemon(home: f.home, port: port, logPath: f.work + "/ocspd.log")
        defer { daemon.stop() }
        try #require(daemon.waitReady(), "\(daemon.log)")
        let env = ["ETRUST_SIGNER_PASSPHRASE": OT.passphrase]
        let busy = try TestSupport.run(OT.ocspdBinary, ["--home", f.home, "--listen", "127.0.0.1:\(port)"], environment: env)
        #expect(busy.status == 3, "exit \(busy.status): \(busy.stderr)")
        #expect(busy.stderr.contains("127.0.0.1:\(port)") && busy.stderr.contains("already in use"), "\(busy.stderr)")
        #expect(busy.stderr.split(separator: "\n").count == 1, "\(busy.stderr)")
        let missing = try TestSupport.run(OT.ocspdBinary, ["--home", f.work + "/nowhere", "--listen", "127.0.0.1:0"], environment: env)
        #expect(missing.status == 3, "exit \(missing.status): \(missing.stderr)")
        #expect(missing.stderr.contains("nowhere") && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
    }

    @Test("--log-format json: every line on stderr is one JSON object, access lines included")
    func jsonLogs() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let port = try HTTP.freePort()
        let daemon = try Daemon(home: f.home, port: port, logPath: f.work + "/ocspd.log", extra: ["--log-level", "info", "--log-format", "json"])
        try #require(daemon.waitReady(), "\(daemon.log)")
        _ = try HTTP.postOCSP(port: port, try OCSPClient.request(for: f.good, issuer: f.issuing, nonce: false).der)
        daemon.stop()
        let lines = daemon.log.split(separator: "\n")
        #expect(lines.count >= 3, "\(daemon.log)")
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not one JSON object: \(line)")
        }
        #expect(lines.contains { $0.contains("\"msg\":\"access\"") && $0.contains("\"path\":\"/ocsp\"") }, "\(daemon.log)")
        #expect(lines.contains { $0.contains("listening on") }, "\(daemon.log)")
    }

    @Test("etrust crl --all --if-due: publishes every due CA once, then nothing until the overlap; usage errors exit 2")
    func crlAll() throws {
        let f = try OT.fixture(revoke: false)
        defer { OT.cleanUp(f) }
        let first = try TestSupport.etrust(["crl", "--all", "--if-due", "--home", f.home, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let cas = try #require(first.json?["cas"] as? [[String: Any]], "\(first.stdout)")
        #expect(Set(cas.compactMap { $0["ca"] as? String }) == ["root", "issuing"])
        #expect(cas.allSatisfy { ($0["crls"] as? [Any])?.isEmpty == false }, "\(first.stdout)")
        #expect(FileManager.default.fileExists(atPath: f.home + "/pub/crl/issuing.crl"))
        let again = try TestSupport.etrust(["crl", "--all", "--if-due", "--home", f.home, "--json"])
        let second = try #require(again.json?["cas"] as? [[String: Any]], "\(again.stdout)")
        #expect(second.allSatisfy { ($0["crls"] as? [Any])?.isEmpty == true && $0["skipped"] as? String == "not due" }, "\(again.stdout)")
        let forced = try TestSupport.etrust(["crl", "--all", "--home", f.home])
        #expect(forced.status == 0 && forced.stdout.contains("issuing: published CRL #"), "\(forced.stdout)\(forced.stderr)")
        for args in [["crl", "--if-due"], ["crl", "--all", "--ca", "issuing"], ["crl"]] {
            let r = try TestSupport.etrust(args + ["--home", f.home])
            #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.status) \(r.stderr)")
        }
    }

    @Test("systemd-analyze verify accepts Tools/systemd (units pointing at the built binaries)")
    func systemdUnits() throws {
        let dir = TestSupport.packageRoot + "/Tools/systemd"
        let units = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(units == ["etrust-crl.service", "etrust-crl.timer", "etrust-ocspd.service"])
        let tmp = try TestSupport.temporaryDirectory("systemd")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let bin = (OT.ocspdBinary as NSString).deletingLastPathComponent + "/"
        for u in units {
            let text = try String(contentsOfFile: dir + "/" + u, encoding: .utf8)
            #expect(!text.contains("--passphrase ") && !text.contains("PASSPHRASE="), "no secret on a command line or in the unit: \(u)")
            try text.replacingOccurrences(of: "/usr/local/bin/", with: bin).write(toFile: tmp + "/" + u, atomically: true, encoding: .utf8)
        }
        let r = try TestSupport.run("/usr/bin/systemd-analyze", ["verify"] + units.map { tmp + "/" + $0 })
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }
}

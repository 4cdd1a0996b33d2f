import ETrustCA
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// Helpers of the revocation suite: homes built with the `etrust` binary (so that the commands
/// under test are the ones operators run), and the independent judges (openssl, sqlite3,
/// pyca/cryptography, pkilint).
enum Rev {
    typealias Result = TestSupport.Result

    static let rootSubject = "CN=Revocation Test Root,O=etrust tests,C=TG"
    static let issuingSubject = "CN=Revocation Test Issuing,O=etrust tests,C=TG"
    static let partSubject = "CN=Revocation Test Partitioned,O=etrust tests,C=TG"
    static let spareSubject = "CN=Revocation Test Spare,O=etrust tests,C=TG"
    static let baseURL = "http://pki.test.tg"

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    // MARK: Running tools

    @discardableResult
    static func etrust(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try TestSupport.etrust(arguments, environment: environment)
    }

    @discardableResult
    static func openssl(_ arguments: [String]) throws -> Result {
        try TestSupport.openssl(arguments)
    }

    /// How a process ended: exit status or the signal that killed it.
    struct Termination: CustomStringConvertible {
        let reason: Process.TerminationReason
        let status: Int32
        let stderr: String
        var killedBySIGKILL: Bool { reason == .uncaughtSignal && status == SIGKILL }
        var description: String { "\(reason == .exit ? "exit" : "signal") \(status): \(stderr)" }
    }

    /// Runs `etrust` and reports whether it exited or was killed (TestSupport.run hides that).
    static func etrustTermination(_ arguments: [String], environment: [String: String]) throws -> Termination {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.etrustBinary)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "ETRUST_HOME")
        env.removeValue(forKey: "ETRUST_FAULT_INJECTION")
        env["ETRUST_PASSPHRASE"] = "test-passphrase"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let errFile = NSTemporaryDirectory() + "etrust-rev-stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errFile) }
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try err.close()
        let text = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        return Termination(reason: p.terminationReason, status: p.terminationStatus, stderr: text)
    }

    /// A tool of the test venv; a missing tool is a failure, never a skip.
    static func venvTool(_ name: String) throws -> String {
        let path = TestSupport.venv + "/bin/" + name
        try #require(FileManager.default.isExecutableFile(atPath: path),
                     "\(path) is missing: install pkilint and cryptography into \(TestSupport.venv) (Tools/test.sh does)")
        return path
    }

    // MARK: Files

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func pemCRL(_ der: [UInt8]) -> String { PEM.encode(der, label: "X509 CRL") }

    /// A UTC date from components.
    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
        UTCFields(year: y, month: mo, day: d, hour: h, minute: mi, second: s).date
    }

    // MARK: The shared template home

    /// `etrust init`, cheap key encryption, then `root`, `issuing` (sub-ca: deltas) and `part`
    /// (sub-ca-partitioned: 16 shards), all with the CLI. Built once, copied per test.
    private static let template: Swift.Result<String, any Error> = Swift.Result {
        let home = try TestSupport.temporaryDirectory("etrust-rev-template") + "/home"
        let initialised = try etrust(["init", "--home", home, "--public-url", "http://pki.test.tg"])
        guard initialised.status == 0 else { throw Failure("etrust init: \(initialised.stderr)") }
        let configPath = home + "/etrust.yaml"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        guard config.contains("pbkdf2Iterations: 600000") else { throw Failure("etrust.yaml has no pbkdf2Iterations: 600000") }
        let mode = try FileManager.default.attributesOfItem(atPath: configPath)[.posixPermissions]
        try config.replacingOccurrences(of: "pbkdf2Iterations: 600000", with: "pbkdf2Iterations: 1000")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: configPath) }
        for args in [["ca", "create", "root", "--subject", rootSubject],
                     ["ca", "create", "issuing", "--parent", "root", "--subject", issuingSubject],
                     ["ca", "create", "part", "--parent", "root", "--profile", "sub-ca-partitioned", "--subject", partSubject],
                     ["ca", "create", "spare", "--parent", "root", "--subject", spareSubject]] {
            let r = try etrust(args + ["--home", home])
            guard r.status == 0 else { throw Failure("\(args.joined(separator: " ")): \(r.status) \(r.stderr)") }
        }
        return home
    }

    /// A private copy of the template home.
    static func home(_ label: String) throws -> TestHome {
        let template = try template.get()
        let dir = try TestSupport.temporaryDirectory("etrust-rev-\(label)")
        let home = dir + "/home"
        let cp = try TestSupport.run("/bin/cp", ["-a", template, home])
        try #require(cp.status == 0, "cp -a failed: \(cp.stderr)")
        return TestHome(folder: dir, home: home)
    }
}

/// One issued certificate: its serial (lower-case hex, as etrust prints it) and PEM file.
struct Leaf: Sendable {
    let serial: String
    let pem: String
    let ca: String
}

/// A private home (a copy of the template) and a work folder; removed when it goes away.
final class TestHome: @unchecked Sendable {
    let folder: String
    let home: String
    let work: String

    init(folder: String, home: String) {
        self.folder = folder
        self.home = home
        self.work = folder + "/work"
        try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    /// `etrust ARGS --home HOME`.
    @discardableResult
    func etrust(_ arguments: [String], environment: [String: String] = [:]) throws -> Rev.Result {
        try Rev.etrust(arguments + ["--home", home], environment: environment)
    }

    /// Runs `etrust` and requires exit 0.
    @discardableResult
    func ok(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Rev.Result {
        let r = try etrust(arguments)
        try #require(r.status == 0, "etrust \(arguments.joined(separator: " ")) exited \(r.status): \(r.stderr)",
                     sourceLocation: sourceLocation)
        return r
    }

    /// Writes a CSR (a new P-256 key) for `cn` into the work folder; returns its path.
    func csrFile(_ cn: String) throws -> String {
        let path = work + "/\(cn).csr.pem"
        try Rev.write(PEM.encode(try TestSupport.csr(subject: "CN=\(cn)").der, label: "CERTIFICATE REQUEST"), to: path)
        return path
    }

    func caPEM(_ name: String) -> String { home + "/certs/\(name).pem" }
    func crlPath(_ file: String) -> String { home + "/pub/crl/" + file }

    /// Issues a certificate from a CSR made in code; `tls-client` needs only a CN.
    func issue(ca: String = "issuing", profile: String = "tls-client", cn: String, san: String? = nil,
               sourceLocation: SourceLocation = #_sourceLocation) throws -> Leaf {
        let csr = try TestSupport.csr(subject: "CN=\(cn)")
        let csrPath = work + "/\(UUID().uuidString).csr.pem"
        try Rev.write(PEM.encode(csr.der, label: "CERTIFICATE REQUEST"), to: csrPath)
        let out = work + "/\(cn)-\(UUID().uuidString.prefix(6)).pem"
        var args = ["issue", "--ca", ca, "--profile", profile, "--csr", csrPath, "--out", out, "--json"]
        if let san { args += ["--san", san] }
        let r = try ok(args, sourceLocation: sourceLocation)
        let json = try #require(r.json, "issue --json printed no object: \(r.stdout)", sourceLocation: sourceLocation)
        let serial = try #require(json["serial"] as? String, sourceLocation: sourceLocation)
        return Leaf(serial: serial, pem: out, ca: ca)
    }

    @discardableResult
    func revoke(_ leaf: Leaf, reason: String, extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> Rev.Result {
        try ok(["revoke", "--ca", leaf.ca, "--serial", leaf.serial, "--reason", reason] + extra, sourceLocation: sourceLocation)
    }

    /// `etrust crl --ca CA [--delta] --json`: the published CRLs as (number, kind, path) rows.
    @discardableResult
    func publish(_ ca: String, delta: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let r = try ok(["crl", "--ca", ca, "--json"] + (delta ? ["--delta"] : []), sourceLocation: sourceLocation)
        let json = try #require(r.json, "crl --json printed no object: \(r.stdout)", sourceLocation: sourceLocation)
        return try #require(json["crls"] as? [[String: Any]], sourceLocation: sourceLocation)
    }

    func crl(_ file: String) throws -> CertificateRevocationList {
        try CertificateRevocationList(der: try Rev.bytes(crlPath(file)), what: file)
    }

    /// A CRL of pub/crl as a PEM file in the work folder (openssl verify -CRLfile takes PEM).
    func pemCopy(of files: [String], name: String) throws -> String {
        let path = work + "/\(name).crls.pem"
        try Rev.write(try files.map { Rev.pemCRL(try Rev.bytes(crlPath($0))) }.joined(), to: path)
        return path
    }

    // MARK: The database, as sqlite3 sees it

    func sql(_ query: String) throws -> String {
        // A busy timeout: parallel readers of one home may meet while SQLite recovers its WAL index.
        let r = try TestSupport.run("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", home + "/etrust.db", query])
        try #require(r.status == 0, "sqlite3 '\(query)' failed: \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func count(_ table: String, where condition: String? = nil) throws -> Int {
        let text = try sql("SELECT count(*) FROM \(table)" + (condition.map { " WHERE \($0)" } ?? ""))
        return try #require(Int(text), "sqlite3 printed '\(text)'")
    }

    struct State: Equatable, CustomStringConvertible {
        var certificates: String
        var events: Int
        var crls: Int
        var crlNumbers: String
        var description: String { "events=\(events) crls=\(crls) numbers=[\(crlNumbers)] certificates:\n\(certificates)" }
    }

    /// What a refused command must not change.
    func state() throws -> State {
        State(certificates: try sql("SELECT serial, status, revocation_reason, revoked_at, invalidity_date, hold_released_at FROM certificates ORDER BY id"),
              events: try count("events"), crls: try count("crls"),
              crlNumbers: try sql("SELECT ca_id, last_number FROM crl_numbers ORDER BY ca_id"))
    }

    func status(of leaf: Leaf) throws -> String {
        let r = try ok(["show", leaf.serial, "--ca", leaf.ca, "--json"])
        return try #require(r.json?["status"] as? String, "show --json: \(r.stdout)")
    }

    /// `openssl verify` of a leaf of `ca` (below root) against the given PEM CRL file.
    func opensslVerify(_ leaf: Leaf, crls: String, flags: [String] = ["-crl_check_all"]) throws -> Rev.Result {
        try Rev.openssl(["verify"] + flags + ["-CAfile", caPEM("root"), "-untrusted", caPEM(leaf.ca), "-CRLfile", crls, leaf.pem])
    }
}

extension Rev.Result {
    /// stdout and stderr together (openssl prints verdicts on either).
    var output: String { stdout + stderr }
}

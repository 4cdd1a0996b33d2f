import ETrustTestSupport
import Foundation
import Testing

/// Helpers of the end-to-end suite: every test drives the built `etrust` binary and judges the
/// results with independent tools (openssl, sqlite3, pyca/cryptography, pkilint).
enum E2E {
    typealias Result = TestSupport.Result

    static let rootSubject = "CN=E2E Root,O=Test,C=TG"
    static let issuingSubject = "CN=E2E Issuing,O=Test,C=TG"

    // MARK: Running tools

    @discardableResult
    static func etrust(_ arguments: [String], passphrase: String? = "test-passphrase",
                       environment: [String: String] = [:]) throws -> Result {
        try TestSupport.etrust(arguments, passphrase: passphrase, environment: environment)
    }

    @discardableResult
    static func openssl(_ arguments: [String]) throws -> Result {
        try TestSupport.openssl(arguments)
    }

    /// A tool of the test venv; a missing tool is a failure, never a skip.
    static func venvTool(_ name: String) throws -> String {
        let path = TestSupport.venv + "/bin/" + name
        try #require(FileManager.default.isExecutableFile(atPath: path),
                     "\(path) is missing: install pkilint and cryptography into \(TestSupport.venv) (Tools/test.sh does)")
        return path
    }

    /// Parses a PEM certificate with pyca/cryptography and prints its subject (RFC 4514).
    static func pycaSubjects(_ pemFile: String) throws -> Result {
        let python = try venvTool("python")
        let script = """
        import sys
        from cryptography import x509
        data = open(sys.argv[1], 'rb').read()
        for c in x509.load_pem_x509_certificates(data):
            print(c.subject.rfc4514_string())
        """
        return try TestSupport.run(python, ["-c", script, pemFile])
    }

    // MARK: Files

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A passphrase or PIN file as operators keep them: mode 0600 (etrust refuses wider).
    static func writeSecret(_ text: String, to path: String) throws {
        try write(text, to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// PEM CERTIFICATE blocks of a text, in order.
    static func pemCertificates(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "-----BEGIN CERTIFICATE-----" { current = String(line) + "\n"; continue }
            if current != nil {
                current! += line + "\n"
                if line == "-----END CERTIFICATE-----" { blocks.append(current!); current = nil }
            }
        }
        return blocks
    }

    /// `openssl x509 -noout -subject` of a PEM certificate file.
    static func subject(ofCertificate path: String) throws -> String {
        let r = try openssl(["x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253"])
        #expect(r.status == 0, "openssl x509 failed on \(path): \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "subject=", with: "")
    }

    // MARK: Requests

    /// A CSR made by the openssl CLI; returns the PEM path. `keyArgs` defaults to a P-256 key.
    @discardableResult
    static func makeCSR(in dir: String, name: String, subject: String,
                        keyArgs: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                        extra: [String] = []) throws -> String {
        let csr = dir + "/\(name).csr.pem"
        let r = try openssl(["req", "-new"] + keyArgs + ["-nodes", "-subj", subject, "-keyout", dir + "/\(name).key",
                                                        "-out", csr] + extra)
        try #require(r.status == 0, "openssl req failed for \(subject): \(r.stderr)")
        return csr
    }

    static func pemToDER(_ pemPath: String, to derPath: String) throws {
        let r = try openssl(["req", "-in", pemPath, "-outform", "DER", "-out", derPath])
        try #require(r.status == 0, "openssl req -outform DER failed: \(r.stderr)")
    }

    static func pem(_ der: [UInt8], label: String) -> String {
        let b64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(b64)\n-----END \(label)-----\n"
    }

    // MARK: Homes

    /// `etrust init` into a new temporary folder, then cheap key encryption for the tests.
    static func initHome(_ label: String = "e2e") throws -> String {
        let home = try TestSupport.temporaryDirectory(label) + "/home"
        let r = try etrust(["init", "--home", home, "--public-url", "http://pki.test.tg"])
        try #require(r.status == 0, "etrust init failed: \(r.stderr)")
        try cheapKeys(home)
        return home
    }

    static func cheapKeys(_ home: String) throws {
        let path = home + "/etrust.yaml"
        let text = try read(path)
        try #require(text.contains("pbkdf2Iterations: 600000"), "etrust.yaml no longer holds pbkdf2Iterations: 600000")
        // Keep the file's mode: init makes the config 0640.
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        try write(text.replacingOccurrences(of: "pbkdf2Iterations: 600000", with: "pbkdf2Iterations: 1000"), to: path)
        if let mode = attributes[.posixPermissions] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }
    }

    /// A home with `root` (EC P-384) and `issuing` (EC P-256, below root), built once with the CLI
    /// and then copied for each test that uses it, so that parallel tests never share state.
    private static let template: Swift.Result<String, any Error> = Swift.Result {
        let home = try initHome("e2e-template")
        let root = try etrust(["ca", "create", "root", "--home", home, "--subject", rootSubject, "--key", "ec-p384"])
        guard root.status == 0 else { throw FixtureError("ca create root: \(root.status) \(root.stderr)") }
        let issuing = try etrust(["ca", "create", "issuing", "--home", home, "--parent", "root", "--subject", issuingSubject,
                                  "--key", "ec-p256"])
        guard issuing.status == 0 else { throw FixtureError("ca create issuing: \(issuing.status) \(issuing.stderr)") }
        return home
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// A private copy of the shared two-level PKI: (home, work folder for requests and outputs).
    static func pki(_ label: String = "e2e") throws -> (home: String, work: String) {
        let template = try template.get()
        let dir = try TestSupport.temporaryDirectory(label)
        let home = dir + "/home"
        let cp = try TestSupport.run("/bin/cp", ["-a", template, home])
        try #require(cp.status == 0, "cp -a failed: \(cp.stderr)")
        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return (home, work)
    }

    /// Removes the temporary folder that holds `path` (a home or a file made by `pki()`).
    static func cleanUp(_ path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        guard dir.hasPrefix(NSTemporaryDirectory()), (dir as NSString).lastPathComponent.hasPrefix("e2e") else { return }
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: Observing a home

    static func sqlCount(_ home: String, _ table: String, where condition: String? = nil) throws -> Int {
        let sql = "SELECT count(*) FROM \(table)" + (condition.map { " WHERE \($0)" } ?? "") + ";"
        let r = try TestSupport.run("/usr/bin/sqlite3", [home + "/etrust.db", sql])
        try #require(r.status == 0, "sqlite3 failed: \(r.stderr)")
        return try #require(Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "sqlite3 printed '\(r.stdout)'")
    }

    /// Every regular file of the home (relative path, size, mode), except SQLite's transient
    /// -wal/-shm files; the database's content is judged by the counts.
    static func files(_ home: String) throws -> [String] {
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: home) else { return [] }
        var out: [String] = []
        for case let rel as String in e {
            if rel.hasSuffix("-wal") || rel.hasSuffix("-shm") { continue }
            let attributes = try fm.attributesOfItem(atPath: home + "/" + rel)
            let type = attributes[.type] as? FileAttributeType
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            if type == .typeDirectory { out.append("\(rel)/ \(String(mode, radix: 8))"); continue }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
            let name = rel == "etrust.db" ? rel : "\(rel) \(size)"
            out.append("\(name) \(String(mode, radix: 8))")
        }
        return out.sorted()
    }

    struct Snapshot: Equatable, CustomStringConvertible {
        var certificates: Int
        var events: Int
        var refusals: Int
        var files: [String]
        var description: String { "certificates=\(certificates) events=\(events) refuse-events=\(refusals) files=\(files)" }
    }

    static func snapshot(_ home: String) throws -> Snapshot {
        Snapshot(certificates: try sqlCount(home, "certificates"), events: try sqlCount(home, "events"),
                 refusals: try sqlCount(home, "events", where: "type = 'refuse'"), files: try files(home))
    }

    /// The non-empty lines of a stream.
    static func lines(_ s: String) -> [String] {
        s.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }
}

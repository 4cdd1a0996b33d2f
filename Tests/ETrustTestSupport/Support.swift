import ETrustCA
import ETrustCore
import ETrustPolicy
import Foundation

/// Shared helpers for the test targets: temporary folders, throwaway homes and PKIs built in code,
/// and the external judges (the built `etrust` binary, `openssl`, pkilint in the test venv).
public enum TestSupport {
    /// The package root (this file is Tests/ETrustTestSupport/Support.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built CLI: $ETRUST_BIN (set by Tools/test.sh) or .build/debug/etrust.
    public static var etrustBinary: String {
        ProcessInfo.processInfo.environment["ETRUST_BIN"] ?? packageRoot + "/.build/debug/etrust"
    }

    /// The virtual environment with pkilint and cryptography: $ETRUST_VENV or .build/venv.
    public static var venv: String {
        ProcessInfo.processInfo.environment["ETRUST_VENV"] ?? packageRoot + "/.build/venv"
    }

    public static func temporaryDirectory(_ label: String = "etrust-test") throws -> String {
        let path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public var json: [String: Any]? {
            guard let d = stdout.data(using: .utf8) else { return nil }
            return (try? JSONSerialization.jsonObject(with: d)) as? [String: Any]
        }
    }

    /// This process's environment without ETRUST_PASSPHRASE and ETRUST_HOME, plus `extra`.
    static func childEnvironment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "ETRUST_PASSPHRASE")
        env.removeValue(forKey: "ETRUST_HOME")
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// Runs a program and waits for it; stdin is empty.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                           currentDirectory: String? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = childEnvironment(environment)
        if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes before waiting, so that a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Starts a long-running program (a daemon, the console) in the background, its stdout and
    /// stderr into `logPath`, stdin empty, without ETRUST_HOME or ETRUST_PASSPHRASE unless
    /// `environment` sets them. The caller stops it.
    public static func launch(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                              logPath: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = childEnvironment(environment)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The entries of `etrust audit log --json` (`{"count": N, "events": [...]}`).
    public static func auditEvents(_ stdout: String) -> [[String: Any]] {
        let object = (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
        return object?["events"] as? [[String: Any]] ?? []
    }

    /// Runs `etrust` with ETRUST_PASSPHRASE set unless `passphrase` is nil.
    @discardableResult
    public static func etrust(_ arguments: [String], passphrase: String? = "test-passphrase", environment: [String: String] = [:]) throws -> Result {
        var env = environment
        if let passphrase { env["ETRUST_PASSPHRASE"] = passphrase }
        return try run(etrustBinary, arguments, environment: env)
    }

    @discardableResult
    public static func openssl(_ arguments: [String]) throws -> Result {
        try run("/usr/bin/openssl", arguments)
    }

    /// A new home with a root and an issuing CA (EC P-256), built through the library with low
    /// key-encryption cost so that tests stay fast. Returns (home path, authority).
    public static func makePKI(clock: ETrustClock = SystemClock(), rootKey: KeyAlgorithm = .ecP256,
                               issuingKey: KeyAlgorithm = .ecP256) throws -> (home: String, authority: Authority) {
        let dir = try temporaryDirectory("etrust-pki")
        let homePath = dir + "/home"
        _ = try Home.initialize(homePath, clock: clock)
        // Cheaper key encryption for tests; production homes keep the default.
        let configPath = homePath + "/etrust.yaml"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
            .replacingOccurrences(of: "pbkdf2Iterations: 600000", with: "pbkdf2Iterations: 1000")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let authority = try Authority(home: try Home.open(homePath), clock: clock, passphrase: { Array("test-passphrase".utf8) })
        var root = Authority.CACreation(name: "root", subject: "CN=Test Root CA,O=etrust tests,C=TG")
        root.key = rootKey
        try authority.createCA(root)
        var issuing = Authority.CACreation(name: "issuing", subject: "CN=Test Issuing CA,O=etrust tests,C=TG")
        issuing.key = issuingKey
        issuing.parent = "root"
        try authority.createCA(issuing)
        return (homePath, authority)
    }

    /// A CSR made in code (EC P-256 unless told otherwise).
    public static func csr(subject: String, key: KeyAlgorithm = .ecP256, extensions: [Extension] = []) throws -> CertificateSigningRequest {
        try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: subject), key: try PrivateKey.generate(key),
                                             extensions: extensions)
    }
}

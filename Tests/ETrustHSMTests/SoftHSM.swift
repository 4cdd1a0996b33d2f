import ETrustTestSupport
import Foundation
import Testing

/// A throwaway SoftHSM2 token for one test: its own `SOFTHSM2_CONF` and token folder under a
/// temporary directory, initialised with `softhsm2-util`. The judges are `pkcs11-tool` (OpenSC)
/// and the `openssl` CLI. A missing tool is a failure, never a skip (Tools/test.sh installs them).
struct SoftHSM {
    static let module = "/usr/lib/softhsm/libsofthsm2.so"
    static let softhsmUtil = "/usr/bin/softhsm2-util"
    static let pkcs11Tool = "/usr/bin/pkcs11-tool"
    static let pin = "1234"
    static let soPIN = "5678"

    let directory: String
    let label: String
    var conf: String { directory + "/softhsm2.conf" }
    var environment: [String: String] { ["SOFTHSM2_CONF": conf] }

    init(label: String = "etrust-test") throws {
        for tool in [SoftHSM.module, SoftHSM.softhsmUtil, SoftHSM.pkcs11Tool] {
            try #require(FileManager.default.fileExists(atPath: tool), "\(tool) is missing: install softhsm2 and opensc (Tools/test.sh does)")
        }
        directory = try TestSupport.temporaryDirectory("etrust-hsm")
        self.label = label
        try FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
        try "directories.tokendir = \(directory)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let r = try TestSupport.run(SoftHSM.softhsmUtil, ["--init-token", "--free", "--label", label, "--pin", SoftHSM.pin, "--so-pin", SoftHSM.soPIN],
                                    environment: environment)
        try #require(r.status == 0, "softhsm2-util --init-token: \(r.stdout) \(r.stderr)")
    }

    /// `pkcs11-tool --list-objects --login`: one block of text per object.
    func objects() throws -> [String] {
        let r = try TestSupport.run(SoftHSM.pkcs11Tool, ["--module", SoftHSM.module, "--token-label", label, "--list-objects",
                                                         "--login", "--pin", SoftHSM.pin], environment: environment)
        try #require(r.status == 0, "pkcs11-tool --list-objects: \(r.stderr)")
        var blocks: [String] = []
        for line in r.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, !first.isWhitespace { blocks.append(String(line)) } else if !blocks.isEmpty { blocks[blocks.count - 1] += "\n" + line }
        }
        return blocks
    }

    /// The `pkcs11-tool` block of the private key labelled `label`.
    func privateKeyObject(labelled name: String) throws -> String? {
        try objects().first { block in
            block.hasPrefix("Private Key Object") && SoftHSM.field("label", of: block) == name
        }
    }

    /// The value of `name:` in a pkcs11-tool object block.
    static func field(_ name: String, of block: String) -> String? {
        for line in block.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix(name + ":") { return t.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// Removes the key objects labelled `name` (a key lost from the token).
    func deleteKeys(labelled name: String) throws {
        for type in ["privkey", "pubkey"] {
            let r = try TestSupport.run(SoftHSM.pkcs11Tool, ["--module", SoftHSM.module, "--token-label", label, "--login", "--pin", SoftHSM.pin,
                                                             "--delete-object", "--type", type, "--label", name], environment: environment)
            try #require(r.status == 0, "pkcs11-tool --delete-object: \(r.stderr)")
        }
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }
}

/// The `etrust` binary with a token: SOFTHSM2_CONF, the home passphrase (audit key) and, unless
/// told otherwise, the PIN in ETRUST_PKCS11_PIN.
enum HSMRun {
    static let rootSubject = "CN=HSM Test Root,O=etrust tests,C=TG"
    static let issuingSubject = "CN=HSM Test Issuing,O=etrust tests,C=TG"

    @discardableResult
    static func etrust(_ arguments: [String], token: SoftHSM, pin: String? = SoftHSM.pin,
                       environment: [String: String] = [:]) throws -> TestSupport.Result {
        var env = token.environment
        if let pin { env["ETRUST_PKCS11_PIN"] = pin }
        for (k, v) in environment { env[k] = v }
        return try TestSupport.etrust(arguments, environment: env)
    }

    /// `etrust init` and cheap key encryption for the home's file keys (the audit key).
    static func home(in directory: String) throws -> String {
        let home = directory + "/home"
        let r = try TestSupport.etrust(["init", "--home", home, "--public-url", "http://pki.test.tg"])
        try #require(r.status == 0, "etrust init: \(r.stderr)")
        let path = home + "/etrust.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "pbkdf2Iterations: 600000", with: "pbkdf2Iterations: 1000").write(toFile: path, atomically: true, encoding: .utf8)
        return home
    }

    /// A home (with a work folder beside it) whose root and issuing CA keys are made in `token`.
    static func homeWithTokenCAs(_ token: SoftHSM) throws -> (home: String, work: String) {
        let home = try HSMRun.home(in: token.directory)
        let work = token.directory + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        for args in [["ca", "create", "root", "--subject", HSMRun.rootSubject],
                     ["ca", "create", "issuing", "--parent", "root", "--subject", HSMRun.issuingSubject]] {
            let r = try HSMRun.etrust(args + ["--home", home, "--key-store", "pkcs11:token=\(token.label)"], token: token)
            try #require(r.status == 0, "\(args): \(r.stderr)")
        }
        return (home, work)
    }

    static func lines(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    /// The names of the home's CAs (`ca list --json`).
    static func caNames(_ home: String) throws -> Set<String> {
        let r = try TestSupport.etrust(["ca", "list", "--home", home, "--json"])
        try #require(r.status == 0, "ca list: \(r.stderr)")
        return Set((r.json?["cas"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
    }

    /// Every file under a folder, relative, sorted.
    static func files(_ directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
    }
}

import ETrustTestSupport
import Foundation
import Testing

/// Issue 15, defect 7: one permission policy for every secret of a home, applied by every command
/// and by the daemon. Before, an audit key at 0644 let issuance succeed with a warning, the daemon
/// started with a 0644 CA key, and a 0644 passphrase file and a 0755 keys/ were accepted.
@Suite("One permission policy for every secret")
struct SecretPermissionTests {
    var ocspd: String { ((TestSupport.etrustBinary as NSString).deletingLastPathComponent as NSString).appendingPathComponent("etrust-ocspd") }

    func chmod(_ path: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// Issues one tls-server certificate; returns the result.
    func issue(_ home: String, _ work: String, extra: [String] = [], passphrase: String? = "test-passphrase") throws -> TestSupport.Result {
        try E2E.makeCSR(in: work, name: "perm-\(UUID().uuidString.prefix(6))", subject: "/CN=perm.example.tg")
        let csr = try FileManager.default.contentsOfDirectory(atPath: work).first { $0.hasPrefix("perm-") && $0.hasSuffix(".csr.pem") }!
        defer { try? FileManager.default.removeItem(atPath: work + "/" + csr) }
        return try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", work + "/" + csr,
                               "--san", "dns:perm.example.tg"] + extra, passphrase: passphrase)
    }

    @Test("a group- or world-readable key (audit or CA) or keys/ folder: every command and the daemon refuse, naming the file and the chmod",
          arguments: [("keys/audit.key.pem", 0o644, "600"), ("keys/issuing.key.pem", 0o640, "600"), ("keys", 0o755, "700")])
    func weakenedHome(path: String, mode: Int, fix: String) throws {
        let (home, work) = try E2E.pki("e2e-perm")
        defer { E2E.cleanUp(home) }
        let certificatesBefore = try E2E.etrust(["list", "--home", home, "--json"]).stdout
        try chmod(home + "/" + path, mode)
        let refused = try issue(home, work)
        #expect(refused.status == 1, "\(refused.status) \(refused.stderr)")
        #expect(refused.stderr.contains(path) && refused.stderr.contains("group- or world-accessible") && refused.stderr.contains("chmod \(fix)"),
                "\(refused.stderr)")
        #expect(E2E.lines(refused.stderr).count == 1, "\(refused.stderr)")
        // Nothing was issued, and read-only commands say the same at once.
        let list = try E2E.etrust(["list", "--home", home, "--json"])
        #expect(list.status == 1 && list.stderr.contains("chmod \(fix)"), "\(list.stderr)")
        // The daemon does not start on a weakened home.
        let daemon = try TestSupport.run(ocspd, ["--home", home, "--listen", "127.0.0.1:0"],
                                         environment: ["ETRUST_SIGNER_PASSPHRASE": "test-passphrase"])
        #expect(daemon.status != 0 && daemon.stderr.contains("chmod \(fix)"), "\(daemon.status) \(daemon.stderr)")
        try chmod(home + "/" + path, Int(fix, radix: 8)!)
        #expect(try E2E.etrust(["list", "--home", home, "--json"]).stdout == certificatesBefore)
        #expect(try issue(home, work).status == 0)
    }

    @Test("a passphrase file others can read is refused; at 0600 it opens the key")
    func passphraseFile() throws {
        let (home, work) = try E2E.pki("e2e-perm-pass")
        defer { E2E.cleanUp(home) }
        let file = work + "/passphrase"
        try E2E.write("test-passphrase\n", to: file)
        try chmod(file, 0o644)
        let refused = try issue(home, work, extra: ["--passphrase-file", file], passphrase: nil)
        #expect(refused.status == 1 && refused.stderr.contains("passphrase file mode 644") && refused.stderr.contains("chmod 600"),
                "\(refused.status) \(refused.stderr)")
        try chmod(file, 0o600)
        let ok = try issue(home, work, extra: ["--passphrase-file", file], passphrase: nil)
        #expect(ok.status == 0, "\(ok.stderr)")
    }
}

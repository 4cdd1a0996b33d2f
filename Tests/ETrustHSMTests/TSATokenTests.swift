import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// A time-stamping unit whose key is generated in a PKCS#11 token (issue #16): `tsa provision
/// --key-store pkcs11:token=...`, then etrust-ocspd --tsa with the token's PIN only signs tokens
/// that `openssl ts -verify` accepts.
@Suite("Time-stamping unit key in a token")
struct TSATokenTests {
    @Test("tsa provision --key-store pkcs11: no key file; etrust-ocspd --tsa with the PIN only; openssl ts -verify accepts its tokens")
    func unitKeyInToken() throws {
        let token = try SoftHSM(label: "etrust-tsa")
        defer { token.cleanUp() }
        let (home, work) = try HSMRun.homeWithTokenCAs(token)
        let provision = try HSMRun.etrust(["tsa", "provision", "--home", home, "--ca", "issuing", "--key-store", "pkcs11:token=etrust-tsa", "--json"],
                                          token: token)
        try #require(provision.status == 0, "tsa provision: \(provision.stderr)")
        #expect(try token.objects().filter { $0.contains("Private Key Object") }.count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: home + "/keys").filter { $0.contains("tsa") }.isEmpty)
        try (try #require(provision.json?["certificate"] as? String)).write(toFile: work + "/unit.pem", atomically: true, encoding: .utf8)

        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: ((TestSupport.etrustBinary as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("etrust-ocspd"))
        let port = Int.random(in: 20_000...60_000)
        daemon.arguments = ["--home", home, "--listen", "127.0.0.1:\(port)", "--log-level", "error", "--tsa"]
        var env = ProcessInfo.processInfo.environment
        for k in ["ETRUST_PASSPHRASE", "ETRUST_HOME", "ETRUST_SIGNER_PASSPHRASE"] { env.removeValue(forKey: k) }
        for (k, v) in token.environment { env[k] = v }
        env["ETRUST_PKCS11_PIN"] = SoftHSM.pin
        daemon.environment = env
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { daemon.terminate(); daemon.waitUntilExit() }

        try "a deed".write(toFile: work + "/deed.txt", atomically: true, encoding: .utf8)
        let query = try TestSupport.openssl(["ts", "-query", "-data", work + "/deed.txt", "-sha256", "-cert", "-out", work + "/q.tsq"])
        try #require(query.status == 0, "\(query.stderr)")
        var status = ""
        for _ in 0..<50 where status != "200" {
            status = try TestSupport.run("/usr/bin/curl", ["-s", "-o", work + "/r.tsr", "-w", "%{http_code}", "-H", "Content-Type: application/timestamp-query",
                                                           "--data-binary", "@" + work + "/q.tsq", "http://127.0.0.1:\(port)/tsa"]).stdout
            if status != "200" { usleep(200_000) }
        }
        #expect(status == "200")
        let verified = try TestSupport.openssl(["ts", "-verify", "-in", work + "/r.tsr", "-queryfile", work + "/q.tsq",
                                                "-CAfile", home + "/certs/root.pem", "-untrusted", home + "/certs/issuing.pem"])
        #expect((verified.stdout + verified.stderr).contains("Verification: OK"), "\(verified.stdout)\(verified.stderr)")
    }
}

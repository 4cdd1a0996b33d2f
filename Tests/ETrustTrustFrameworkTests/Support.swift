import ETrustTestSupport
import Foundation
import Testing

/// Two national PKIs built once with the `etrust` CLI (country A: Togo, country B: Ghana), copied
/// by the tests that change a home, so that parallel tests never share state.
struct Nations: Sendable {
    let dir: String
    let homeA: String
    let homeB: String
    let aRoot: String, aIssuing: String, bRoot: String, bIssuing: String
    /// A's citizen: a PKCS#12 made by `issue --generate-key` and its password file.
    let citizenP12: String, pass: String
    /// The same citizen's certificate, chain and key, extracted with openssl.
    let citizenCert: String, citizenChain: String, citizenKey: String
    /// B's citizen-authentication certificate and key (not a trust-list signer).
    let bAuthCert: String, bAuthKey: String
    /// A document and A's citizen's enveloping signature of it, made at fixture time.
    let doc: String, earlySignature: String

    static let aRootSubject = "CN=A Root,O=A,C=TG"
    static let bRootSubject = "CN=B Root,O=B,C=GH"
    static let qcpOID = "0.4.0.194112.1.2"
    static let bOID = "2.16.288.1.1.2"

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    private static let shared: Swift.Result<Nations, any Error> = Swift.Result { try Nations.build() }

    static func get() throws -> Nations { try shared.get() }

    @discardableResult
    static func check(_ r: TestSupport.Result, _ what: String) throws -> TestSupport.Result {
        guard r.status == 0 else { throw FixtureError("\(what): exit \(r.status): \(r.stderr) \(r.stdout)") }
        return r
    }

    static func initHome(_ path: String) throws {
        try check(TestSupport.etrust(["init", "--home", path, "--public-url", "http://pki.test.tg"]), "init \(path)")
        let config = path + "/etrust.yaml"
        let text = try String(contentsOfFile: config, encoding: .utf8)
        guard text.contains("pbkdf2Iterations: 600000") else { throw FixtureError("etrust.yaml holds no pbkdf2Iterations: 600000") }
        let mode = try FileManager.default.attributesOfItem(atPath: config)[.posixPermissions]
        try text.replacingOccurrences(of: "pbkdf2Iterations: 600000", with: "pbkdf2Iterations: 1000")
            .write(toFile: config, atomically: true, encoding: .utf8)
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: config) }
    }

    /// `ca create`, returning the CA certificate's PEM path copied to `out`.
    static func createCA(_ home: String, _ name: String, subject: String, parent: String?, out: String) throws {
        var args = ["ca", "create", name, "--home", home, "--subject", subject, "--key", "ec-p256", "--json"]
        if let parent { args += ["--parent", parent] }
        let r = try check(TestSupport.etrust(args), "ca create \(name)")
        guard let pem = r.json?["certificate"] as? String else { throw FixtureError("ca create --json: no certificate: \(r.stdout)") }
        try pem.write(toFile: out, atomically: true, encoding: .utf8)
    }

    static func build() throws -> Nations {
        let dir = try TestSupport.temporaryDirectory("etrust-tf")
        let homeA = dir + "/homeA", homeB = dir + "/homeB"
        try initHome(homeA)
        try initHome(homeB)
        try createCA(homeA, "root", subject: aRootSubject, parent: nil, out: dir + "/A-root.pem")
        try createCA(homeA, "issuing", subject: "CN=A Issuing,O=A,C=TG", parent: "root", out: dir + "/A-issuing.pem")
        try createCA(homeB, "root", subject: bRootSubject, parent: nil, out: dir + "/B-root.pem")
        try createCA(homeB, "issuing", subject: "CN=B Issuing,O=B,C=GH", parent: "root", out: dir + "/B-issuing.pem")
        try "card-secret\n".write(toFile: dir + "/pass", atomically: true, encoding: .utf8)
        try check(TestSupport.etrust(["issue", "--home", homeA, "--ca", "issuing", "--profile", "citizen-signing", "--generate-key",
                                      "--subject", "CN=Kofi Agbeko,GN=Kofi,SN=Agbeko,serialNumber=IDCTG-1,C=TG",
                                      "--p12", dir + "/citizen.p12", "--p12-password-file", dir + "/pass"]), "issue citizen-signing")
        try check(TestSupport.etrust(["issue", "--home", homeB, "--ca", "issuing", "--profile", "citizen-authentication", "--generate-key",
                                      "--subject", "CN=Yaw Boateng,C=GH",
                                      "--p12", dir + "/bauth.p12", "--p12-password-file", dir + "/pass"]), "issue citizen-authentication")
        for (p12, name) in [(dir + "/citizen.p12", "citizen"), (dir + "/bauth.p12", "bauth")] {
            try check(TestSupport.openssl(["pkcs12", "-in", p12, "-passin", "file:" + dir + "/pass", "-nocerts", "-nodes",
                                           "-out", dir + "/\(name).key"]), "pkcs12 -nocerts \(name)")
            try check(TestSupport.openssl(["pkcs12", "-in", p12, "-passin", "file:" + dir + "/pass", "-nokeys", "-clcerts",
                                           "-out", dir + "/\(name).pem"]), "pkcs12 -clcerts \(name)")
            try check(TestSupport.openssl(["pkcs12", "-in", p12, "-passin", "file:" + dir + "/pass", "-nokeys", "-cacerts",
                                           "-out", dir + "/\(name)-chain.pem"]), "pkcs12 -cacerts \(name)")
        }
        try "Agreement between A and B, version 1.\n".write(toFile: dir + "/doc.txt", atomically: true, encoding: .utf8)
        try check(TestSupport.etrust(["sign", "--p12", dir + "/citizen.p12", "--p12-password-file", dir + "/pass",
                                      "--in", dir + "/doc.txt", "--out", dir + "/early.p7s"], passphrase: nil), "sign early")
        return Nations(dir: dir, homeA: homeA, homeB: homeB, aRoot: dir + "/A-root.pem", aIssuing: dir + "/A-issuing.pem",
                       bRoot: dir + "/B-root.pem", bIssuing: dir + "/B-issuing.pem", citizenP12: dir + "/citizen.p12", pass: dir + "/pass",
                       citizenCert: dir + "/citizen.pem", citizenChain: dir + "/citizen-chain.pem", citizenKey: dir + "/citizen.key",
                       bAuthCert: dir + "/bauth.pem", bAuthKey: dir + "/bauth.key", doc: dir + "/doc.txt", earlySignature: dir + "/early.p7s")
    }

    /// A private work folder with a copy of B's home (at WORK/homeB).
    func workWithHomeB(_ label: String) throws -> (work: String, homeB: String) {
        let work = try TestSupport.temporaryDirectory("etrust-tf-" + label)
        let cp = try TestSupport.run("/bin/cp", ["-a", homeB, work + "/homeB"])
        try #require(cp.status == 0, "cp -a: \(cp.stderr)")
        return (work, work + "/homeB")
    }
}

enum TF {
    @discardableResult
    static func etrust(_ args: [String], passphrase: String? = "test-passphrase") throws -> TestSupport.Result {
        try TestSupport.etrust(args, passphrase: passphrase)
    }

    /// Runs and requires exit 0.
    @discardableResult
    static func ok(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> TestSupport.Result {
        let r = try etrust(args)
        try #require(r.status == 0, "etrust \(args.joined(separator: " ")) exited \(r.status): \(r.stderr) \(r.stdout)",
                     sourceLocation: sourceLocation)
        return r
    }

    @discardableResult
    static func openssl(_ args: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> TestSupport.Result {
        let r = try TestSupport.openssl(args)
        try #require(r.status == 0, "openssl \(args.joined(separator: " ")) exited \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        return r
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
    static func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    static func jsonObject(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any], "\(path) is not a JSON object")
    }

    static func writeJSON(_ object: [String: Any], _ path: String) throws {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }

    /// A signed trust list in B's home recognising A's root at `level` for the QCP-n-qscd policy.
    static func signedList(n: Nations, work: String, homeB: String, level: String, name: String = "list") throws -> (list: String, signed: String) {
        let list = work + "/\(name).json", signed = work + "/\(name).signed"
        try ok(["trustlist", "create", "--out", list, "--name", "B framework list"])
        try ok(["trustlist", "add", "--list", list, "--ca-cert", n.aRoot, "--country", "TG", "--level", level,
                "--policy", Nations.qcpOID, "--ocsp", "http://ocsp.a.example/ocsp", "--crl", "http://a.example/crl/root.crl"])
        try ok(["trustlist", "sign", "--list", list, "--out", signed, "--home", homeB])
        return (list, signed)
    }

    /// A cross-certificate from B's root to A's root.
    static func crossCertify(n: Nations, homeB: String, out: String, _ extra: [String]) throws {
        try ok(["ca", "cross-certify", "--home", homeB, "--ca", "root", "--subject-ca-cert", n.aRoot, "--out", out] + extra)
    }

    /// A's citizen signs the document now (enveloping, PEM): the signer is judged at this signing
    /// time, so a path through a cross-certificate needs a signature made after it was issued.
    static func citizenSigns(n: Nations, out: String) throws {
        try ok(["sign", "--p12", n.citizenP12, "--p12-password-file", n.pass, "--in", n.doc, "--out", out])
    }
}

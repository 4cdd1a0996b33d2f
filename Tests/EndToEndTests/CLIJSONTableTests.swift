import ETrustTestSupport
import Foundation
import Testing

/// The contract's `--json`: every command prints exactly one JSON value on one line on stdout,
/// on success and on every kind of failure; an error is `{error, code, category[, profile, rule]}`
/// with `code` the exit code, and one line on stderr. The table runs each command of `etrust
/// --help` with `--json`, for its success and for each error category it can meet.
@Suite("CLI --json table")
struct CLIJSONTableTests {
    enum Outcome: CustomStringConvertible {
        /// Exit 0.
        case ok
        /// A verdict, not an error: exit 1 and the command's own JSON (`valid: false`, a batch summary).
        case verdict(key: String)
        /// An error of this category; `policy`: a profile's refusal, naming profile and rule.
        case error(String, policy: Bool = false)

        var exit: Int32 {
            switch self {
            case .ok: 0
            case .verdict: 1
            case .error(let category, _): category == "refused" ? 1 : category == "usage" ? 2 : 3
            }
        }

        var description: String {
            switch self {
            case .ok: "ok"
            case .verdict(let key): "verdict(\(key))"
            case .error(let c, _): c
            }
        }
    }

    struct Row {
        let command: String
        let arguments: [String]
        let outcome: Outcome
    }

    /// The fixture: a home with root and issuing, a broken copy (unreadable database), requests,
    /// an issued leaf with its key, a signed document, a trust list.
    struct Fixture {
        let home: String, broken: String, work: String
        var leaf: String { work + "/leaf.pem" }
        var leafKey: String { work + "/leaf.key" }
        var root: String { home + "/certs/root.pem" }
        var issuing: String { home + "/certs/issuing.pem" }
        var serial = ""
        var holdSerial = ""
        var notAFolder: String { work + "/plain-file" }
        var softHSMConf: String { work + "/softhsm2.conf" }
        var consoleToken: String { work + "/console.token" }

        static func make() throws -> Fixture {
            let (home, work) = try E2E.pki("e2e-json-table")
            let (broken, _) = try E2E.pki("e2e-json-table-broken")
            try Data("not a database at all, just bytes SQLite refuses to read".utf8).write(to: URL(fileURLWithPath: broken + "/etrust.db"))
            var f = Fixture(home: home, broken: broken, work: work)
            try E2E.write("a file where a folder is expected\n", to: f.notAFolder)
            try E2E.write("the document\n", to: work + "/doc.txt")
            try E2E.makeCSR(in: work, name: "leaf", subject: "/CN=leaf.example.tg")
            try E2E.makeCSR(in: work, name: "nosan", subject: "/CN=nosan.example.tg")
            try E2E.makeCSR(in: work, name: "client", subject: "/CN=client.example.tg/O=Test/C=TG",
                            extra: ["-addext", "subjectAltName=DNS:client.example.tg"])
            try E2E.makeCSR(in: work, name: "batch", subject: "/CN=batch.example.tg/O=Test/C=TG",
                            extra: ["-addext", "subjectAltName=DNS:batch.example.tg"])
            try E2E.write("csr\nbatch.csr.pem\n", to: work + "/ok.csv")
            try E2E.write("csr,profile\nbatch.csr.pem,tls-client\nleaf.csr.pem,tls-server\n", to: work + "/refused.csv")
            let issued = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", work + "/leaf.csr.pem",
                                         "--san", "dns:leaf.example.tg", "--out", f.leaf, "--json"])
            try #require(issued.status == 0, "\(issued.stderr)")
            f.serial = try #require(issued.json?["serial"] as? String)
            let held = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-client", "--csr", work + "/client.csr.pem", "--json"])
            f.holdSerial = try #require(held.json?["serial"] as? String, "\(held.stderr)")
            try #require(E2E.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", f.holdSerial, "--reason", "certificateHold"]).status == 0)
            try #require(E2E.etrust(["crl", "--home", home, "--ca", "issuing"]).status == 0)
            let signed = try E2E.etrust(["sign", "--cert", f.leaf, "--key", f.leafKey, "--in", work + "/doc.txt", "--out", work + "/doc.p7s"])
            try #require(signed.status == 0, "\(signed.stderr)")
            try E2E.write("the document, changed\n", to: work + "/changed.txt")
            let other = try E2E.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                                         work + "/other.key", "-out", work + "/other-ca.pem", "-subj", "/CN=Other Root/O=Other/C=BJ", "-days", "30",
                                         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            try #require(other.status == 0, "\(other.stderr)")
            try E2E.write("profile: [broken\n", to: work + "/badpolicies/broken.yaml", creatingFolder: true)
            try makeTimeStamp(work)
            try E2E.write("table-console-token-0123456789\n", to: f.consoleToken)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: f.consoleToken)
            // The hsm rows use a token folder of their own, never the machine's SoftHSM2 set-up.
            try FileManager.default.createDirectory(atPath: work + "/tokens", withIntermediateDirectories: true)
            try E2E.write("directories.tokendir = \(work)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n", to: f.softHSMConf)
            return f
        }
    }

    /// A TSA made with openssl (critical EKU timeStamping) and its reply over doc.txt, for the
    /// `timestamp verify` rows.
    static func makeTimeStamp(_ work: String) throws {
        let tsa = try E2E.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", work + "/tsa.key",
                                   "-out", work + "/tsa.pem", "-subj", "/CN=Table TSA/O=Test/C=TG", "-days", "30",
                                   "-addext", "extendedKeyUsage=critical,timeStamping", "-addext", "keyUsage=critical,digitalSignature"])
        try #require(tsa.status == 0, "\(tsa.stderr)")
        try E2E.write("[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = \(work)/tsa-serial\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n"
                      + "digests = sha256\ness_cert_id_alg = sha256\n", to: work + "/ts.cnf")
        try E2E.write("01\n", to: work + "/tsa-serial")
        let query = try E2E.openssl(["ts", "-query", "-data", work + "/doc.txt", "-sha256", "-cert", "-out", work + "/doc.tsq"])
        try #require(query.status == 0, "\(query.stderr)")
        let reply = try E2E.openssl(["ts", "-reply", "-config", work + "/ts.cnf", "-queryfile", work + "/doc.tsq", "-signer", work + "/tsa.pem",
                                     "-inkey", work + "/tsa.key", "-out", work + "/doc.tsr"])
        try #require(reply.status == 0, "\(reply.stderr)")
    }

    static func rows(_ f: Fixture) -> [Row] {
        let h = ["--home", f.home], b = ["--home", f.broken], w = f.work
        let list = w + "/tl.json"
        return [
            Row(command: "init", arguments: ["init", "--home", w + "/new", "--public-url", "http://pki.json.tg"], outcome: .ok),
            Row(command: "init", arguments: ["init"] + h, outcome: .error("refused")),
            Row(command: "init", arguments: ["init", "--home", w + "/bad", "--public-url", "https://pki.json.tg"], outcome: .error("usage")),
            Row(command: "init", arguments: ["init", "--home", f.notAFolder + "/home", "--public-url", "http://pki.json.tg"], outcome: .error("environment")),

            Row(command: "ca create", arguments: ["ca", "create", "sub2", "--parent", "root", "--subject", "CN=Sub Two,O=Test,C=TG"] + h, outcome: .ok),
            Row(command: "ca create", arguments: ["ca", "create", "sub3", "--parent", "root", "--subject", "CN=Sub Three"] + h,
                outcome: .error("refused", policy: true)),
            Row(command: "ca create", arguments: ["ca", "create", "sub4", "--key", "rsa-1", "--subject", "CN=X,O=Test,C=TG"] + h, outcome: .error("usage")),
            Row(command: "ca create", arguments: ["ca", "create", "sub5", "--parent", "root", "--subject", "CN=X,O=Test,C=TG"] + b, outcome: .error("environment")),
            Row(command: "ca create --external", arguments: ["ca", "create", "off", "--external", "--csr-out", w + "/off.csr", "--subject", "CN=Offline Sub,O=Test,C=TG"] + h,
                outcome: .ok),
            Row(command: "ca sign-subordinate", arguments: ["ca", "sign-subordinate", "--ca", "root", "--csr", w + "/off.csr", "--out", w + "/off.pem"] + h, outcome: .ok),
            Row(command: "ca sign-subordinate", arguments: ["ca", "sign-subordinate", "--ca", "root", "--csr", w + "/missing.csr", "--out", w + "/x.pem"] + h,
                outcome: .error("usage")),
            Row(command: "ca activate", arguments: ["ca", "activate", "off", "--cert", w + "/off.pem", "--chain", f.root] + h, outcome: .ok),
            Row(command: "ca activate", arguments: ["ca", "activate", "sub2", "--cert", f.leaf, "--chain", f.root] + h, outcome: .error("refused")),
            Row(command: "ca list", arguments: ["ca", "list"] + h, outcome: .ok),
            Row(command: "ca list", arguments: ["ca", "list", "--home", w + "/no-home"], outcome: .error("usage")),
            Row(command: "ca list", arguments: ["ca", "list"] + b, outcome: .error("environment")),
            Row(command: "ca show", arguments: ["ca", "show", "root"] + h, outcome: .ok),
            Row(command: "ca show", arguments: ["ca", "show", "nope"] + h, outcome: .error("usage")),
            Row(command: "ca show", arguments: ["ca", "show", "root"] + b, outcome: .error("environment")),
            Row(command: "ca export", arguments: ["ca", "export", "issuing"] + h, outcome: .ok),
            Row(command: "ca export", arguments: ["ca", "export", "nope"] + h, outcome: .error("usage")),
            Row(command: "ca export", arguments: ["ca", "export", "issuing"] + b, outcome: .error("environment")),
            Row(command: "ca cross-certify", arguments: ["ca", "cross-certify", "--ca", "root", "--subject-ca-cert", w + "/other-ca.pem"] + h, outcome: .ok),
            Row(command: "ca cross-certify", arguments: ["ca", "cross-certify", "--ca", "root", "--subject-ca-cert", w + "/missing.pem"] + h,
                outcome: .error("usage")),
            Row(command: "ca cross-certify", arguments: ["ca", "cross-certify", "--ca", "root", "--subject-ca-cert", w + "/other-ca.pem"] + b,
                outcome: .error("environment")),

            Row(command: "issue", arguments: ["issue", "--ca", "issuing", "--profile", "tls-server", "--csr", w + "/leaf.csr.pem", "--san", "dns:leaf.example.tg"] + h,
                outcome: .ok),
            Row(command: "issue", arguments: ["issue", "--ca", "issuing", "--profile", "tls-server", "--csr", w + "/nosan.csr.pem"] + h,
                outcome: .error("refused", policy: true)),
            Row(command: "issue", arguments: ["issue", "--ca", "issuing", "--profile", "tls-server", "--csr", w + "/missing.csr"] + h, outcome: .error("usage")),
            Row(command: "issue", arguments: ["issue", "--ca", "issuing", "--profile", "tls-server"] + h, outcome: .error("usage")),
            Row(command: "issue", arguments: ["issue", "--ca", "issuing", "--profile", "tls-client", "--csr", w + "/client.csr.pem"] + b, outcome: .error("environment")),
            Row(command: "issue --batch", arguments: ["issue", "--ca", "issuing", "--profile", "tls-client", "--batch", w + "/ok.csv"] + h, outcome: .ok),
            Row(command: "issue --batch", arguments: ["issue", "--ca", "issuing", "--batch", w + "/refused.csv"] + h, outcome: .verdict(key: "refused")),

            Row(command: "revoke", arguments: ["revoke", "--ca", "issuing", "--serial", f.serial, "--reason", "keyCompromise"] + h, outcome: .ok),
            Row(command: "revoke", arguments: ["revoke", "--ca", "issuing", "--serial", f.serial, "--reason", "superseded"] + h, outcome: .error("refused")),
            Row(command: "revoke", arguments: ["revoke", "--ca", "issuing", "--serial", f.serial, "--reason", "bogus"] + h, outcome: .error("usage")),
            Row(command: "revoke", arguments: ["revoke", "--ca", "issuing", "--serial", f.serial] + b, outcome: .error("environment")),
            Row(command: "unhold", arguments: ["unhold", "--ca", "issuing", "--serial", f.holdSerial] + h, outcome: .ok),
            Row(command: "unhold", arguments: ["unhold", "--ca", "issuing", "--serial", f.holdSerial] + h, outcome: .error("refused")),
            Row(command: "unhold", arguments: ["unhold", "--ca", "issuing", "--serial", "xyz"] + h, outcome: .error("usage")),
            Row(command: "unhold", arguments: ["unhold", "--ca", "issuing", "--serial", f.holdSerial] + b, outcome: .error("environment")),
            Row(command: "crl publish", arguments: ["crl", "--ca", "issuing", "--out", w + "/issuing.crl"] + h, outcome: .ok),
            Row(command: "crl publish", arguments: ["crl", "--ca", "root", "--delta"] + h, outcome: .error("refused")),
            Row(command: "crl publish", arguments: ["crl", "--ca", "nope"] + h, outcome: .error("usage")),
            Row(command: "crl publish", arguments: ["crl"] + h, outcome: .error("usage")),
            Row(command: "crl publish", arguments: ["crl", "--ca", "issuing"] + b, outcome: .error("environment")),
            Row(command: "crl verify", arguments: ["crl", "verify", w + "/issuing.crl", "--issuer", f.issuing], outcome: .ok),
            Row(command: "crl verify", arguments: ["crl", "verify", w + "/issuing.crl", "--issuer", f.root], outcome: .verdict(key: "valid")),
            Row(command: "crl verify", arguments: ["crl", "verify", w + "/missing.crl", "--issuer", f.root], outcome: .error("usage")),
            Row(command: "crl import", arguments: ["crl", "import", w + "/issuing.crl", "--ca", "issuing"] + h, outcome: .error("refused")),
            Row(command: "crl import", arguments: ["crl", "import", w + "/missing.crl", "--ca", "issuing"] + h, outcome: .error("usage")),
            Row(command: "crl import", arguments: ["crl", "import", w + "/issuing.crl", "--ca", "issuing"] + b, outcome: .error("environment")),

            Row(command: "verify", arguments: ["verify", f.leaf, "--anchor", f.root, "--intermediate", f.issuing], outcome: .ok),
            Row(command: "verify", arguments: ["verify", f.leaf, "--anchor", f.root], outcome: .verdict(key: "valid")),
            Row(command: "verify", arguments: ["verify", w + "/missing.pem", "--anchor", f.root], outcome: .error("usage")),
            Row(command: "sign", arguments: ["sign", "--cert", f.leaf, "--key", f.leafKey, "--in", w + "/doc.txt", "--out", w + "/doc2.p7s", "--der"], outcome: .ok),
            Row(command: "sign", arguments: ["sign", "--cert", f.leaf, "--key", f.leafKey, "--in", w + "/doc.txt", "--out", w + "/doc4.p7s",
                                             "--timestamp-url", "http://127.0.0.1:9/tsa"], outcome: .error("environment")),
            Row(command: "sign", arguments: ["sign", "--cert", f.leaf, "--key", w + "/missing.key", "--in", w + "/doc.txt", "--out", w + "/doc3.p7s"],
                outcome: .error("usage")),
            Row(command: "verify-signature", arguments: ["verify-signature", "--signature", w + "/doc.p7s", "--anchor", f.root, "--intermediate", f.issuing],
                outcome: .verdict(key: "valid")),
            Row(command: "verify-signature", arguments: ["verify-signature", "--signature", w + "/missing.p7s", "--anchor", f.root], outcome: .error("usage")),

            Row(command: "list", arguments: ["list"] + h, outcome: .ok),
            Row(command: "list", arguments: ["list", "--status", "bogus"] + h, outcome: .error("usage")),
            Row(command: "list", arguments: ["list"] + b, outcome: .error("environment")),
            Row(command: "show", arguments: ["show", f.serial] + h, outcome: .ok),
            Row(command: "show", arguments: ["show", "ffff"] + h, outcome: .error("usage")),
            Row(command: "show", arguments: ["show", f.serial] + b, outcome: .error("environment")),
            Row(command: "policy check", arguments: ["policy", "check"] + h, outcome: .ok),
            Row(command: "policy check", arguments: ["policy", "check", w + "/badpolicies"], outcome: .verdict(key: "valid")),
            Row(command: "policy check", arguments: ["policy", "check", w + "/no-such-folder"], outcome: .error("usage")),
            Row(command: "policy document", arguments: ["policy", "document", "--out", w + "/cps.md"] + h, outcome: .ok),
            Row(command: "policy document", arguments: ["policy", "document", "--format", "pdf"] + h, outcome: .error("usage")),
            Row(command: "policy document", arguments: ["policy", "document", "--format", "html"] + b, outcome: .error("environment")),

            Row(command: "audit log", arguments: ["audit", "log"] + h, outcome: .ok),
            Row(command: "audit log", arguments: ["audit", "log", "--event", "bogus"] + h, outcome: .error("usage")),
            Row(command: "audit log", arguments: ["audit", "log"] + b, outcome: .error("environment")),
            Row(command: "audit verify", arguments: ["audit", "verify"] + h, outcome: .ok),
            Row(command: "audit verify", arguments: ["audit", "verify", "--against", w + "/missing"] + h, outcome: .error("usage")),
            Row(command: "audit verify", arguments: ["audit", "verify"] + b, outcome: .error("environment")),
            Row(command: "audit prove", arguments: ["audit", "prove", "--serial", f.serial] + h, outcome: .ok),
            Row(command: "audit prove", arguments: ["audit", "prove", "--serial", "xyz"] + h, outcome: .error("usage")),
            Row(command: "audit prove", arguments: ["audit", "prove", "--serial", f.serial] + b, outcome: .error("environment")),
            Row(command: "audit consistency", arguments: ["audit", "consistency", "--from", "1", "--to", "2"] + h, outcome: .ok),
            Row(command: "audit consistency", arguments: ["audit", "consistency", "--from", "0", "--to", "2"] + h, outcome: .error("usage")),
            Row(command: "audit consistency", arguments: ["audit", "consistency", "--from", "1", "--to", "2"] + b, outcome: .error("environment")),
            Row(command: "audit export", arguments: ["audit", "export", "--out", w + "/audit.bundle"] + h, outcome: .ok),
            Row(command: "audit export", arguments: ["audit", "export", "--out", w + "/audit2.bundle"] + b, outcome: .error("environment")),
            Row(command: "audit report", arguments: ["audit", "report"] + h, outcome: .ok),
            Row(command: "audit report", arguments: ["audit", "report", "--since", "yesterday"] + h, outcome: .error("usage")),
            Row(command: "audit report", arguments: ["audit", "report"] + b, outcome: .error("environment")),

            Row(command: "trustlist create", arguments: ["trustlist", "create", "--out", list], outcome: .ok),
            Row(command: "trustlist create", arguments: ["trustlist", "create", "--out", w + "/tl2.json", "--next-update", "soon"], outcome: .error("usage")),
            Row(command: "trustlist add", arguments: ["trustlist", "add", "--list", list, "--ca-cert", f.root, "--country", "TG", "--level", "high",
                                                      "--policy", "1.2.3.4"], outcome: .ok),
            Row(command: "trustlist add", arguments: ["trustlist", "add", "--list", list, "--ca-cert", f.leaf, "--country", "TG", "--level", "high"],
                outcome: .error("refused")),
            Row(command: "trustlist add", arguments: ["trustlist", "add", "--list", list, "--ca-cert", f.root, "--country", "TG", "--level", "bogus"],
                outcome: .error("usage")),
            Row(command: "trustlist sign", arguments: ["trustlist", "sign", "--list", list, "--out", w + "/tl.signed"] + h, outcome: .ok),
            Row(command: "trustlist sign", arguments: ["trustlist", "sign", "--list", w + "/missing.json", "--out", w + "/x.signed"] + h, outcome: .error("usage")),
            Row(command: "trustlist sign", arguments: ["trustlist", "sign", "--list", list, "--out", w + "/tl3.signed"] + b, outcome: .error("environment")),
            Row(command: "trustlist export-etsi", arguments: ["trustlist", "export-etsi", "--list", list, "--out", w + "/tl.xml"] + h, outcome: .ok),
            Row(command: "trustlist export-etsi", arguments: ["trustlist", "export-etsi", "--list", list, "--out", w + "/tl2.xml", "--territory", "Togo"] + h,
                outcome: .error("usage")),
            Row(command: "trustlist export-etsi", arguments: ["trustlist", "export-etsi", "--list", list, "--out", w + "/tl3.xml"] + b, outcome: .error("environment")),
            Row(command: "trustlist import-etsi", arguments: ["trustlist", "import-etsi", w + "/tl.xml", "--signer-cert", f.root, "--out", w + "/imported.json"],
                outcome: .ok),
            Row(command: "trustlist import-etsi", arguments: ["trustlist", "import-etsi", w + "/tl.xml", "--signer-cert", w + "/other-ca.pem",
                                                              "--out", w + "/imported2.json"], outcome: .error("refused")),
            Row(command: "trustlist import-etsi", arguments: ["trustlist", "import-etsi", w + "/missing.xml", "--signer-cert", f.root, "--out", w + "/i3.json"],
                outcome: .error("usage")),
            Row(command: "trustlist verify", arguments: ["trustlist", "verify", w + "/tl.signed", "--signer-cert", f.root], outcome: .ok),
            Row(command: "trustlist verify", arguments: ["trustlist", "verify", w + "/tl.signed", "--signer-cert", w + "/other-ca.pem"],
                outcome: .verdict(key: "valid")),
            Row(command: "trustlist verify", arguments: ["trustlist", "verify", w + "/missing.signed", "--signer-cert", f.root], outcome: .error("usage")),
            Row(command: "trustlist show", arguments: ["trustlist", "show", w + "/tl.signed"], outcome: .ok),
            Row(command: "trustlist show", arguments: ["trustlist", "show", w + "/missing.json"], outcome: .error("usage")),
            Row(command: "trustlist withdraw", arguments: ["trustlist", "withdraw", "--list", list, "--ca-cert", f.root], outcome: .ok),
            Row(command: "trustlist withdraw", arguments: ["trustlist", "withdraw", "--list", list, "--ca-cert", w + "/other-ca.pem"], outcome: .error("refused")),
            Row(command: "trustlist withdraw", arguments: ["trustlist", "withdraw", "--list", list, "--ca-cert", f.root, "--at", "now"], outcome: .error("usage")),

            Row(command: "crl publish", arguments: ["crl", "--all", "--if-due"] + h, outcome: .ok),
            Row(command: "crl publish", arguments: ["crl", "--if-due"] + h, outcome: .error("usage")),
            Row(command: "crl publish", arguments: ["crl", "--all"] + b, outcome: .error("environment")),
            Row(command: "ca tree", arguments: ["ca", "tree"] + h, outcome: .ok),
            Row(command: "ca tree", arguments: ["ca", "tree", "--format", "png"] + h, outcome: .error("usage")),
            Row(command: "ca tree", arguments: ["ca", "tree"] + b, outcome: .error("environment")),
            Row(command: "audit report", arguments: ["audit", "report", "--format", "html", "--out", w + "/report.html"] + h, outcome: .ok),
            Row(command: "timestamp request", arguments: ["timestamp", "--in", w + "/doc.txt", "--url", "http://127.0.0.1:9/tsa", "--out", w + "/x.tsr",
                                                          "--anchor", w + "/tsa.pem"], outcome: .error("environment")),
            Row(command: "timestamp request", arguments: ["timestamp", "--in", w + "/doc.txt", "--out", w + "/x.tsr"], outcome: .error("usage")),
            Row(command: "timestamp verify", arguments: ["timestamp", "verify", w + "/doc.tsr", "--in", w + "/doc.txt", "--anchor", w + "/tsa.pem"],
                outcome: .ok),
            Row(command: "timestamp verify", arguments: ["timestamp", "verify", w + "/doc.tsr", "--in", w + "/changed.txt", "--anchor", w + "/tsa.pem"],
                outcome: .error("refused")),
            Row(command: "timestamp verify", arguments: ["timestamp", "verify", w + "/doc.txt", "--in", w + "/doc.txt", "--anchor", w + "/tsa.pem"],
                outcome: .error("usage")),
            Row(command: "db status", arguments: ["db", "status"] + h, outcome: .ok),
            Row(command: "db status", arguments: ["db", "status"] + b, outcome: .error("environment")),
            Row(command: "db migrate", arguments: ["db", "migrate", "--to", "mysql://x@127.0.0.1/db"] + h, outcome: .error("usage")),
            Row(command: "db migrate", arguments: ["db", "migrate", "--to", "postgres://etrust@127.0.0.1:9/etrust"] + h, outcome: .error("environment")),
            Row(command: "backup", arguments: ["backup", "--out", w + "/home.backup"] + h, outcome: .ok),
            Row(command: "backup", arguments: ["backup", "--out", w + "/home.backup"] + h, outcome: .error("refused")),
            Row(command: "backup", arguments: ["backup", "--out", w + "/b2.backup"] + b, outcome: .error("environment")),
            Row(command: "restore", arguments: ["restore", "--from", w + "/missing.backup"] + h, outcome: .error("usage")),
            Row(command: "ocsp provision", arguments: ["ocsp", "provision", "--ca", "issuing"] + h, outcome: .ok),
            Row(command: "ocsp provision", arguments: ["ocsp", "provision", "--ca", "nope"] + h, outcome: .error("usage")),
            Row(command: "ocsp provision", arguments: ["ocsp", "provision", "--ca", "issuing"] + b, outcome: .error("environment")),
            Row(command: "tsa provision", arguments: ["tsa", "provision", "--ca", "issuing"] + h, outcome: .ok),
            Row(command: "tsa provision", arguments: ["tsa", "provision", "--ca", "nope"] + h, outcome: .error("usage")),
            Row(command: "tsa provision", arguments: ["tsa", "provision", "--ca", "issuing", "--validity", "soon"] + h, outcome: .error("usage")),
            Row(command: "tsa provision", arguments: ["tsa", "provision", "--ca", "issuing"] + b, outcome: .error("environment")),
            Row(command: "hsm check", arguments: ["hsm", "check"] + h, outcome: .ok),
            Row(command: "hsm check", arguments: ["hsm", "check", "--repeat", "0"] + h, outcome: .error("usage")),
            Row(command: "hsm check", arguments: ["hsm", "check"] + b, outcome: .error("environment")),
            Row(command: "hsm list", arguments: ["hsm", "list"] + h, outcome: .ok),
            Row(command: "hsm list", arguments: ["hsm", "list"] + b, outcome: .error("environment")),
            Row(command: "console", arguments: ["console", "--token-file", f.consoleToken, "--listen", "127.0.0.1:0", "--check"] + h, outcome: .ok),
            Row(command: "console", arguments: ["console", "--listen", "127.0.0.1:0", "--check"] + h, outcome: .error("usage")),
            Row(command: "console", arguments: ["console", "--token-file", f.consoleToken, "--listen", "0.0.0.0:0", "--check"] + h,
                outcome: .error("usage")),
            Row(command: "console", arguments: ["console", "--token-file", f.consoleToken, "--listen", "127.0.0.1:0", "--check"] + b,
                outcome: .error("environment")),
        ] + inspectRows(f)
    }

    static func inspectRows(_ f: Fixture) -> [Row] {
        [
            Row(command: "inspect", arguments: ["inspect", f.leaf], outcome: .ok),
            Row(command: "inspect", arguments: ["inspect", f.work + "/doc.txt"], outcome: .error("usage")),
            Row(command: "inspect", arguments: ["inspect", f.work + "/missing.pem"], outcome: .error("usage")),
        ]
    }

    @Test("every command with --json: one JSON value on one line; errors carry error, code = exit code, category")
    func table() throws {
        let f = try Fixture.make()
        defer { E2E.cleanUp(f.home); E2E.cleanUp(f.broken) }
        for row in Self.rows(f) {
            let r = try E2E.etrust(row.arguments + ["--json"], environment: ["ETRUST_SIGNER_PASSPHRASE": "signer-passphrase",
                                                                                  "SOFTHSM2_CONF": f.softHSMConf])
            let label = "\(row.command) [\(row.outcome)] \(row.arguments.joined(separator: " "))"
            #expect(r.status == row.outcome.exit, "\(label): exit \(r.status)\nstdout: \(r.stdout)\nstderr: \(r.stderr)")
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 2 && lines[1].isEmpty, "\(label): stdout is not one line: \(r.stdout)")
            let value = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8), options: [.fragmentsAllowed])
            #expect(value != nil, "\(label): stdout is not JSON: \(r.stdout)")
            let object = value as? [String: Any] ?? [:]
            switch row.outcome {
            case .ok:
                #expect(object["error"] == nil, "\(label): \(r.stdout)")
            case .verdict(let key):
                #expect(object[key] != nil && object["error"] == nil, "\(label): \(r.stdout)")
            case .error(let category, let policy):
                #expect(object["code"] as? Int == Int(r.status), "\(label): \(r.stdout)")
                #expect(object["category"] as? String == category, "\(label): \(r.stdout)")
                let error = object["error"] as? String ?? ""
                #expect(!error.isEmpty && r.stderr.contains(error), "\(label): stderr '\(r.stderr)' lacks the error")
                #expect(E2E.lines(r.stderr).count == 1, "\(label): stderr is not one line: \(r.stderr)")
                if policy {
                    #expect(object["profile"] is String && object["rule"] is String, "\(label): \(r.stdout)")
                }
            }
        }
    }

    @Test("the table covers every subcommand that etrust --help lists")
    func coverage() throws {
        let f = Fixture(home: "/h", broken: "/b", work: "/w")
        let covered = Set(Self.rows(f).map { $0.command.split(separator: " ").prefix(2).joined(separator: " ")
            .replacingOccurrences(of: " --batch", with: "").replacingOccurrences(of: " --external", with: "") })
        for command in try CLIReference.subcommands() where !["help", "completion"].contains(command) {
            #expect(covered.contains(command), "no --json row for 'etrust \(command)'")
        }
    }
}

extension E2E {
    static func write(_ text: String, to path: String, creatingFolder: Bool) throws {
        if creatingFolder {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        try write(text, to: path)
    }
}

/// The leaf subcommands as `etrust --help` lists them (recursively): "ca create", "audit log", ...
enum CLIReference {
    static func subcommands(_ path: [String] = []) throws -> [String] {
        let r = try E2E.etrust(path + ["--help"])
        guard r.status == 0, path.count < 3 else { return [] }
        var found: [String] = []
        var inSection = false
        for line in r.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") { inSection = true; continue }
            guard inSection else { continue }
            // The section ends at its first blank line; a name is two spaces in, lower-case.
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            guard line.hasPrefix("  "), !line.hasPrefix("   "),
                  let name = line.dropFirst(2).split(separator: " ").first, name.first?.isLowercase == true else { continue }
            let sub = path + [String(name)]
            let children = try subcommands(sub)
            found += children.isEmpty ? [sub.joined(separator: " ")] : children
        }
        return found
    }
}

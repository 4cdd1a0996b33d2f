import ETrustTestSupport
import Foundation
import Testing

/// A national root kept offline: two homes, the three steps of a subordinate CA's creation
/// (`ca create --external`, `ca sign-subordinate` on the root's home, `ca activate`), then the
/// issuing CA at work; openssl judges the chain, each home's audit log verifies.
@Suite("Offline root")
struct OfflineRootTests {
    static let rootSubject = "CN=Offline National Root,O=Test,C=TG"
    static let issuingSubject = "CN=Online Issuing CA,O=Test,C=TG"

    /// A root home with its root CA, an empty issuing home, and a work folder.
    func homes(_ label: String) throws -> (root: String, issuing: String, work: String) {
        let rootHome = try E2E.initHome("\(label)-root")
        let issuingHome = try E2E.initHome("\(label)-issuing")
        let work = (issuingHome as NSString).deletingLastPathComponent + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        _ = try ok(["ca", "create", "root", "--home", rootHome, "--subject", Self.rootSubject, "--key", "ec-p384"], "root")
        return (rootHome, issuingHome, work)
    }

    func ok(_ args: [String], _ what: String) throws -> E2E.Result {
        let r = try E2E.etrust(args)
        try #require(r.status == 0, "\(what): exit \(r.status): \(r.stderr)")
        return r
    }

    @Test("root home and issuing home: request, sign-subordinate, activate; the issuing CA issues; openssl verify; both logs verify")
    func threeSteps() throws {
        let (rootHome, issuingHome, work) = try homes("offline")
        defer { E2E.cleanUp(rootHome); E2E.cleanUp(issuingHome) }

        // 1. On the issuing host: the key stays here, the request goes out.
        let req = work + "/issuing.csr.pem"
        let requested = try ok(["ca", "create", "issuing", "--home", issuingHome, "--external", "--subject", Self.issuingSubject,
                                "--csr-out", req, "--json"], "create --external")
        #expect(requested.json?["status"] as? String == "waiting for its certificate")
        #expect(try E2E.read(req).contains("BEGIN CERTIFICATE REQUEST"))
        // Not usable before activation.
        let early = try E2E.etrust(["issue", "--home", issuingHome, "--ca", "issuing", "--profile", "tls-client",
                                    "--csr", try E2E.makeCSR(in: work, name: "early", subject: "/CN=early")])
        #expect(early.status == 2, "\(early.stderr)")

        // 2. On the offline root's host: certified, recorded and audited there.
        let cert = work + "/issuing.pem"
        _ = try ok(["ca", "sign-subordinate", "--home", rootHome, "--ca", "root", "--csr", req, "--out", cert], "sign-subordinate")
        let listed = try ok(["list", "--home", rootHome, "--profile", "sub-ca", "--json"], "list on the root home")
        #expect(listed.json?["count"] as? Int == 1, "\(listed.stdout)")

        // 3. Back on the issuing host.
        let activated = try ok(["ca", "activate", "issuing", "--home", issuingHome, "--cert", cert, "--chain", rootHome + "/certs/root.pem",
                                "--json"], "activate")
        let parent = try #require(activated.json?["parent"] as? String, "\(activated.stdout)")
        #expect(parent == "offline-national-root")
        // The key ceremony of the CA whose key was made here, recorded once its certificate exists.
        let ceremonies = try FileManager.default.contentsOfDirectory(atPath: issuingHome + "/ceremonies")
        #expect(ceremonies.contains { $0.hasPrefix("issuing-") }, "\(ceremonies)")
        let exported = try ok(["ca", "export", "issuing", "--home", issuingHome], "export")
        #expect(E2E.pemCertificates(exported.stdout).count == 2)

        // The issuing CA at work; openssl judges the chain with the root's certificate only.
        let leafCSR = try E2E.makeCSR(in: work, name: "leaf", subject: "/CN=Ama Mensah/C=TG")
        let leaf = work + "/leaf.pem"
        _ = try ok(["issue", "--home", issuingHome, "--ca", "issuing", "--profile", "tls-client", "--csr", leafCSR, "--out", leaf], "issue")
        let verify = try E2E.openssl(["verify", "-CAfile", rootHome + "/certs/root.pem", "-untrusted", cert, leaf])
        #expect(verify.status == 0 && verify.stdout.contains(": OK"), "\(verify.stdout)\(verify.stderr)")
        _ = try ok(["crl", "--home", issuingHome, "--ca", "issuing"], "crl of the issuing CA")
        // The root's key is not in the issuing home.
        let rootCRL = try E2E.etrust(["crl", "--home", issuingHome, "--ca", parent])
        #expect(rootCRL.status == 3 && rootCRL.stderr.contains("offline"), "\(rootCRL.status) \(rootCRL.stderr)")
        // The root's CRL is signed on the root's host and carried over; the issuing home checks it
        // against the root's certificate and publishes it where the responder serves it.
        _ = try ok(["crl", "--home", rootHome, "--ca", "root"], "root CRL on the root's host")
        let carried = work + "/root.crl"
        try FileManager.default.copyItem(atPath: rootHome + "/pub/crl/root.crl", toPath: carried)
        _ = try ok(["crl", "import", carried, "--home", issuingHome, "--ca", parent], "crl import")
        #expect(try E2E.bytes(issuingHome + "/pub/crl/\(parent).crl") == E2E.bytes(carried))
        let again = try E2E.etrust(["crl", "import", carried, "--home", issuingHome, "--ca", parent])
        #expect(again.status == 1 && again.stderr.contains("not newer"), "\(again.status) \(again.stderr)")
        let foreign = try E2E.etrust(["crl", "import", issuingHome + "/pub/crl/issuing.crl", "--home", issuingHome, "--ca", parent])
        #expect(foreign.status == 1, "a CRL of another CA was imported: \(foreign.stderr)")

        for home in [rootHome, issuingHome] {
            let audit = try E2E.etrust(["audit", "verify", "--home", home])
            #expect(audit.status == 0, "\(home): \(audit.stdout)\(audit.stderr)")
        }
        let ceremonyEvents = try ok(["audit", "log", "--home", issuingHome, "--event", "ceremony", "--json"], "audit log").stdout
        #expect(ceremonyEvents.contains("\"ca\":\"issuing\""), "\(ceremonyEvents)")
        let events = try ok(["audit", "log", "--home", issuingHome, "--event", "ca", "--json"], "audit log").stdout
        #expect(events.contains("\"action\":\"requested\"") && events.contains("\"action\":\"activated\"") && events.contains("\"action\":\"imported\""),
                "\(events)")
    }

    @Test("activate refuses a certificate of another key, a chain without the issuer, an unknown name: exit 1, nothing recorded")
    func badActivation() throws {
        let (rootHome, issuingHome, work) = try homes("offline-bad")
        defer { E2E.cleanUp(rootHome); E2E.cleanUp(issuingHome) }
        _ = try ok(["ca", "create", "other", "--home", rootHome, "--parent", "root", "--subject", "CN=Other CA,O=Test,C=TG"], "other")
        let req = work + "/issuing.csr.pem"
        _ = try ok(["ca", "create", "issuing", "--home", issuingHome, "--external", "--subject", Self.issuingSubject, "--csr-out", req], "request")
        let cert = work + "/issuing.pem"
        _ = try ok(["ca", "sign-subordinate", "--home", rootHome, "--ca", "root", "--csr", req, "--out", cert], "sign")
        let before = try E2E.snapshot(issuingHome)
        let wrongKey = try E2E.etrust(["ca", "activate", "issuing", "--home", issuingHome, "--cert", rootHome + "/certs/other.pem",
                                       "--chain", rootHome + "/certs/root.pem"])
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("key"), "\(wrongKey.status) \(wrongKey.stderr)")
        let noIssuer = try E2E.etrust(["ca", "activate", "issuing", "--home", issuingHome, "--cert", cert, "--chain", rootHome + "/certs/other.pem"])
        #expect(noIssuer.status == 1, "\(noIssuer.status) \(noIssuer.stderr)")
        let unknown = try E2E.etrust(["ca", "activate", "nobody", "--home", issuingHome, "--cert", cert, "--chain", rootHome + "/certs/root.pem"])
        #expect(unknown.status == 1, "\(unknown.status) \(unknown.stderr)")
        #expect(try E2E.sqlCount(issuingHome, "cas") == 0)
        #expect(try E2E.sqlCount(issuingHome, "pending_cas") == 1)
        #expect(try E2E.snapshot(issuingHome) == before, "a refused activation changed the home")
    }
}

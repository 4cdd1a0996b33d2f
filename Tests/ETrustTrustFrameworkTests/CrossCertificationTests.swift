import ETrustTestSupport
import Foundation
import Testing

/// `etrust ca cross-certify`: recorded and audited like any issuance, the certificate carries
/// their name and key identifier with our constraints, and bad input is refused.
@Suite("Cross-certification record")
struct CrossCertificationTests {
    @Test("listed under cross-ca, audited with crossCertifies; B's issuer, A's subject and SKI; critical mappings and constraints; pkilint clean")
    func record() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("xrec")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let cross = work + "/cross.pem"
        let r = try TF.ok(["ca", "cross-certify", "--home", homeB, "--ca", "root", "--subject-ca-cert", n.aRoot, "--out", cross, "--json",
                           "--policy-mapping", "\(Nations.bOID)=\(Nations.qcpOID)", "--permitted", "dirname:C=TG",
                           "--excluded", "dns:bad.example", "--require-explicit-policy", "0", "--inhibit-policy-mapping", "1",
                           "--path-length", "1"])
        let serial = try #require(r.json?["serial"] as? String, "\(r.stdout)")

        // The database knows it.
        let list = try TF.ok(["list", "--home", homeB, "--ca", "root", "--profile", "cross-ca", "--json"])
        let certificates = try #require(list.json?["certificates"] as? [[String: Any]], "\(list.stdout)")
        #expect(certificates.count == 1)
        #expect(certificates.first?["serial"] as? String == serial)
        #expect((certificates.first?["subject"] as? String)?.contains("A Root") == true, "\(certificates)")

        // The audit log has its issue event, naming the certified CA by fingerprint.
        let fp = try TF.openssl(["x509", "-in", n.aRoot, "-noout", "-fingerprint", "-sha256"]).stdout
        let aRootSHA = fp.split(separator: "=").last!.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        let log = try TF.ok(["audit", "log", "--home", homeB, "--event", "issue", "--json"])
        let events = TestSupport.auditEvents(log.stdout)
        let crossEvents = events.filter { $0["crossCertifies"] != nil }
        #expect(crossEvents.count == 1, "\(log.stdout)")
        #expect((crossEvents.first?["crossCertifies"] as? String)?.lowercased() == aRootSHA.lowercased(), "\(crossEvents)")
        #expect(crossEvents.first?["policyMappings"] as? String == "\(Nations.bOID)=\(Nations.qcpOID)", "\(crossEvents)")
        let verifyLog = try TF.etrust(["audit", "verify", "--home", homeB])
        #expect(verifyLog.status == 0, "\(verifyLog.stdout) \(verifyLog.stderr)")

        // The certificate: B's issuer, A's subject and key identifier, critical mappings and constraints.
        let issuer = try TF.openssl(["x509", "-in", cross, "-noout", "-issuer", "-nameopt", "RFC2253"]).stdout
        let subject = try TF.openssl(["x509", "-in", cross, "-noout", "-subject", "-nameopt", "RFC2253"]).stdout
        #expect(issuer.contains("CN=B Root,O=B,C=GH"), "\(issuer)")
        #expect(subject.contains("CN=A Root,O=A,C=TG"), "\(subject)")
        let skiCross = try TF.openssl(["x509", "-in", cross, "-noout", "-ext", "subjectKeyIdentifier"]).stdout
        let skiA = try TF.openssl(["x509", "-in", n.aRoot, "-noout", "-ext", "subjectKeyIdentifier"]).stdout
        #expect(skiCross.split(separator: "\n").last == skiA.split(separator: "\n").last, "\(skiCross) vs \(skiA)")
        let spkiCross = try TF.openssl(["x509", "-in", cross, "-noout", "-pubkey"]).stdout
        let spkiA = try TF.openssl(["x509", "-in", n.aRoot, "-noout", "-pubkey"]).stdout
        #expect(spkiCross == spkiA)
        let text = try TF.openssl(["x509", "-in", cross, "-noout", "-text"]).stdout
        #expect(text.contains("X509v3 Policy Mappings: critical"), "\(text)")
        #expect(text.contains("X509v3 Name Constraints: critical"), "\(text)")
        #expect(text.contains("X509v3 Policy Constraints: critical"), "\(text)")
        #expect(text.contains("X509v3 Basic Constraints: critical") && text.contains("pathlen:1"), "\(text)")
        #expect(text.contains(Nations.bOID) && text.contains(Nations.qcpOID), "\(text)")
        #expect(text.contains("DirName:C = TG") || text.contains("DirName:C=TG"), "\(text)")
        #expect(text.contains("DNS:bad.example"), "\(text)")

        // pkilint (RFC 5280): no ERROR or FATAL finding.
        let lint = TestSupport.venv + "/bin/lint_pkix_cert"
        try #require(FileManager.default.isExecutableFile(atPath: lint), "\(lint) is missing")
        let l = try TestSupport.run(lint, ["lint", "-s", "ERROR", cross])
        let output = l.stdout + l.stderr
        #expect(!output.contains("(ERROR)") && !output.contains("(FATAL)"), "\(output)")
        #expect(l.status == 0, "\(output)")
    }

    @Test("bad input: a leaf as --subject-ca-cert exit 1 (nothing issued), --policy-mapping bad exit 2")
    func badInput() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("xbad")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let leaf = try TF.etrust(["ca", "cross-certify", "--home", homeB, "--ca", "root", "--subject-ca-cert", n.citizenCert, "--out", work + "/x.pem"])
        #expect(leaf.status == 1, "\(leaf.stdout) \(leaf.stderr)")
        #expect(leaf.stderr.contains("not a CA"), "\(leaf.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work + "/x.pem"))
        for mapping in ["bad", "1.2.3", "1.2.3=", "=1.2.3", "1.2.3=x.y"] {
            let bad = try TF.etrust(["ca", "cross-certify", "--home", homeB, "--ca", "root", "--subject-ca-cert", n.aRoot,
                                     "--policy-mapping", mapping, "--out", work + "/x.pem"])
            #expect(bad.status == 2, "\(mapping): \(bad.stdout) \(bad.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: work + "/x.pem"))
        let list = try TF.ok(["list", "--home", homeB, "--profile", "cross-ca", "--json"])
        #expect(list.json?["count"] as? Int == 0, "\(list.stdout)")
    }
}

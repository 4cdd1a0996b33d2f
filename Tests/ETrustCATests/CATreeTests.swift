import ETrustCA
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// `etrust ca tree` (issue #17): the hierarchy with status and custody, in text, JSON, DOT (read
/// by Graphviz) and SVG (well-formed XML, no script, no external reference).
@Suite("CA tree")
struct CATreeTests {
    @Test("roots, sub-CAs, a revoked sub-CA, responder and time-stamping unit certificates, a cross-certificate; dot parses with Graphviz; svg is self-contained XML")
    func tree() throws {
        let pki = try TestSupport.makePKI()
        let dir = (pki.home as NSString).deletingLastPathComponent
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = pki.authority
        var old = Authority.CACreation(name: "retired", subject: "CN=Retired CA,O=etrust tests,C=TG")
        old.parent = "root"
        let (oldRecord, _) = try a.createCA(old)
        try a.revoke(ca: "root", serial: oldRecord.certificate.serialHex, reason: .cessationOfOperation)
        _ = try OCSPSigning_provision(a)
        let tsa = try TestSupport.etrust(["tsa", "provision", "--home", a.home.path, "--ca", "issuing"],
                                         environment: ["ETRUST_SIGNER_PASSPHRASE": "responder-passphrase"])
        #expect(tsa.status == 0, "\(tsa.stderr)")
        let other = try TestSupport.makePKI()
        defer { try? FileManager.default.removeItem(atPath: (other.home as NSString).deletingLastPathComponent) }
        _ = try a.crossCertify(ca: "root", Authority.CrossCertification(subjectCA: try other.authority.ca("root").certificate))

        let text = try TestSupport.etrust(["ca", "tree", "--home", pki.home])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("root  [valid, file key, root-ca]") == true, "\(text.stdout)")
        #expect(lines.contains { $0.contains("issuing  [valid") && $0.contains("── ") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("retired  [revoked") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("cross-certificate") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("ocsp responder") }, "\(text.stdout)")
        #expect(lines.contains { $0.contains("tsa unit") && $0.contains("[valid]") }, "\(text.stdout)")

        let json = try TestSupport.etrust(["ca", "tree", "--home", pki.home, "--json"])
        let roots = try #require(json.json?["roots"] as? [[String: Any]], "\(json.stdout)")
        #expect(roots.map { $0["name"] as? String } == ["root"])
        let children = (roots.first?["children"] as? [[String: Any]]) ?? []
        #expect(Set(children.compactMap { $0["name"] as? String }) == ["issuing", "retired"])
        #expect(children.first { $0["name"] as? String == "retired" }?["status"] as? String == "revoked")

        let dotFile = dir + "/tree.dot"
        let dot = try TestSupport.etrust(["ca", "tree", "--home", pki.home, "--format", "dot", "--out", dotFile])
        #expect(dot.status == 0, "\(dot.stderr)")
        let graphviz = try TestSupport.run("/usr/bin/dot", ["-Tsvg", dotFile, "-o", dir + "/graphviz.svg"])
        #expect(graphviz.status == 0, "Graphviz refused the DOT: \(graphviz.stderr)")
        let rendered = try String(contentsOfFile: dir + "/graphviz.svg", encoding: .utf8)
        #expect(rendered.contains("retired") && rendered.contains("issuing"))

        let svg = try TestSupport.etrust(["ca", "tree", "--home", pki.home, "--format", "svg"])
        #expect(svg.status == 0)
        try svg.stdout.write(toFile: dir + "/tree.svg", atomically: true, encoding: .utf8)
        // Python's XML parser judges the SVG: well-formed, an <svg> root, a box per CA and certificate.
        let parsed = try TestSupport.run("/usr/bin/python3", ["-c", """
            import sys, xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            print(root.tag.split('}')[-1], len(root.findall('.//{http://www.w3.org/2000/svg}rect')))
            """, dir + "/tree.svg"])
        let fields = parsed.stdout.split(separator: " ")
        #expect(fields.first == "svg" && (Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0) >= 5, "\(parsed.stdout)\(parsed.stderr)")
        #expect(!svg.stdout.contains("<script") && !svg.stdout.contains("href="))
        #expect(try TestSupport.etrust(["ca", "tree", "--home", pki.home, "--format", "png"]).status == 2)
    }

    private func OCSPSigning_provision(_ a: Authority) throws -> Bool {
        // The responder certificate of `issuing`, as `etrust ocsp provision` makes it.
        let r = try TestSupport.etrust(["ocsp", "provision", "--home", a.home.path, "--ca", "issuing"],
                                       environment: ["ETRUST_SIGNER_PASSPHRASE": "responder-passphrase"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.status == 0
    }
}

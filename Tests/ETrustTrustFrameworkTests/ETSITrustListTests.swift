import ETrustTestSupport
import Foundation
import Testing

/// Issue #19: ETSI TS 119 612 XML trusted lists, judged by xmlsec1, signxml's XAdES verifier and
/// lxml (element by element); round trips; refusals; and the two-country scenario over XML.
@Suite("ETSI TS 119 612 trusted lists")
struct ETSITrustListTests {
    static let idAttr = ["--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties"]
    static let serviceInfo = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSignatures"

    /// B's list recognising A's root at `level`, exported as XML signed in B's home.
    static func xmlList(n: Nations, work: String, homeB: String, level: String, name: String = "tl") throws -> (list: String, xml: String) {
        let (list, _) = try TF.signedList(n: n, work: work, homeB: homeB, level: level, name: name)
        try TF.ok(["trustlist", "add", "--list", list, "--ca-cert", n.aRoot, "--country", "TG", "--level", level,
                   "--policy", Nations.qcpOID, "--service-info", serviceInfo])
        let xml = work + "/\(name).xml"
        try TF.ok(["trustlist", "export-etsi", "--list", list, "--out", xml, "--home", homeB])
        return (list, xml)
    }

    static let structure = #"""
import base64, hashlib, json, sys
from lxml import etree
from signxml.xades import XAdESVerifier
data = open(sys.argv[1], 'rb').read()
cert = open(sys.argv[2]).read()
results = XAdESVerifier().verify(data, x509_cert=cert, expect_references=2)
ns = {'tsl': 'http://uri.etsi.org/02231/v2#', 'ds': 'http://www.w3.org/2000/09/xmldsig#',
      'xades': 'http://uri.etsi.org/01903/v1.3.2#', 'ecc': 'http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#'}
root = etree.fromstring(data)
def t(path, node=root): return [e.text for e in node.xpath(path, namespaces=ns)]
svc = root.xpath('tsl:TrustServiceProviderList/tsl:TrustServiceProvider/tsl:TSPServices/tsl:TSPService', namespaces=ns)
si = 'tsl:ServiceInformation/'
out = {
  'verified_references': len(results),
  'root': etree.QName(root).localname, 'tag': root.get('TSLTag'),
  'scheme_children': [etree.QName(e).localname for e in root.xpath('tsl:SchemeInformation/*', namespaces=ns)],
  'version': t('tsl:SchemeInformation/tsl:TSLVersionIdentifier'), 'sequence': t('tsl:SchemeInformation/tsl:TSLSequenceNumber'),
  'operator': t('tsl:SchemeInformation/tsl:SchemeOperatorName/tsl:Name'), 'territory': t('tsl:SchemeInformation/tsl:SchemeTerritory'),
  'next': t('tsl:SchemeInformation/tsl:NextUpdate/tsl:dateTime'),
  'providers': len(root.xpath('tsl:TrustServiceProviderList/tsl:TrustServiceProvider', namespaces=ns)),
  'services': len(svc),
  'type': t(si + 'tsl:ServiceTypeIdentifier', svc[0]), 'status': t(si + 'tsl:ServiceStatus', svc[0]),
  'starting': t(si + 'tsl:StatusStartingTime', svc[0]),
  'certificate': t(si + 'tsl:ServiceDigitalIdentity/tsl:DigitalId/tsl:X509Certificate', svc[0]),
  'supply': [[e.get('type'), e.text] for e in svc[0].xpath(si + 'tsl:ServiceSupplyPoints/tsl:ServiceSupplyPoint', namespaces=ns)],
  'info': t(si + 'tsl:ServiceInformationExtensions/tsl:Extension/tsl:AdditionalServiceInformation/tsl:URI', svc[0]),
  'qualifiers': [e.get('uri') for e in svc[0].xpath(si + 'tsl:ServiceInformationExtensions/tsl:Extension/ecc:Qualifications//ecc:Qualifier', namespaces=ns)],
  'policies': t(si + 'tsl:ServiceInformationExtensions/tsl:Extension/ecc:Qualifications//xades:Identifier', svc[0]),
  'history': t('tsl:ServiceHistory/tsl:ServiceHistoryInstance/tsl:ServiceStatus', svc[0]),
  'signatures': len(root.xpath('ds:Signature', namespaces=ns)),
  'signing_time': t('ds:Signature/ds:Object/xades:QualifyingProperties/xades:SignedProperties/xades:SignedSignatureProperties/xades:SigningTime'),
  'cert_digest': t('ds:Signature/ds:Object/xades:QualifyingProperties/xades:SignedProperties//xades:SigningCertificateV2/xades:Cert/xades:CertDigest/ds:DigestValue'),
}
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
signer = x509.load_pem_x509_certificate(cert.encode())
out['signer_digest'] = base64.b64encode(hashlib.sha256(signer.public_bytes(Encoding.DER)).digest()).decode()
print(json.dumps(out))
"""#

    @Test("export-etsi: xmlsec1 --verify and signxml's XAdES verifier accept it; lxml finds every element in place")
    func exportIsJudgedByIndependentTools() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("etsi-export")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, xml) = try Self.xmlList(n: n, work: work, homeB: homeB, level: "high")
        let signer = homeB + "/certs/root-trust-list.pem"
        let xmlsec = try TestSupport.run("/usr/bin/xmlsec1", ["--verify", "--pubkey-cert-pem", signer] + Self.idAttr + [xml])
        #expect(xmlsec.status == 0 && xmlsec.stderr.contains("SignedInfo References (ok/all): 2/2"), "xmlsec1: \(xmlsec.stderr)")
        let other = try TestSupport.run("/usr/bin/xmlsec1", ["--verify", "--pubkey-cert-pem", n.aRoot] + Self.idAttr + [xml])
        #expect(other.status != 0, "xmlsec1 accepted the list with another key")

        let py = try TestSupport.run(TestSupport.venv + "/bin/python", ["-c", Self.structure, xml, signer])
        try #require(py.status == 0, "signxml/lxml: \(py.stderr)")
        let s = try #require(try JSONSerialization.jsonObject(with: Data(py.stdout.utf8)) as? [String: Any])
        let json = try TF.jsonObject(list)
        let authority = try #require((json["authorities"] as? [[String: Any]])?.first)
        #expect(s["verified_references"] as? Int == 2)
        #expect(s["root"] as? String == "TrustServiceStatusList" && s["tag"] as? String == "http://uri.etsi.org/19612/TSLTag")
        #expect(s["scheme_children"] as? [String] == ["TSLVersionIdentifier", "TSLSequenceNumber", "TSLType", "SchemeOperatorName", "SchemeName",
                                                     "StatusDeterminationApproach", "SchemeTerritory", "HistoricalInformationPeriod",
                                                     "ListIssueDateTime", "NextUpdate"], "\(s["scheme_children"] ?? "")")
        #expect(s["version"] as? [String] == ["5"] && s["sequence"] as? [String] == ["\(json["sequence"] as? Int ?? -1)"])
        #expect(s["operator"] as? [String] == ["B"] && s["territory"] as? [String] == ["GH"], "the signer's O and C")
        #expect(s["next"] as? [String] == [json["nextUpdate"] as? String ?? "?"])
        #expect(s["providers"] as? Int == 1 && s["services"] as? Int == 1)
        #expect(s["type"] as? [String] == ["http://uri.etsi.org/TrstSvc/Svctype/CA/QC"])
        #expect(s["status"] as? [String] == ["http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"])
        #expect(s["certificate"] as? [String] == [authority["certificate"] as? String ?? "?"])
        #expect(s["supply"] as? [[String]] == [["http://uri.etsi.org/TrstSvc/Svctype/Certstatus/OCSP", "http://ocsp.a.example/ocsp"],
                                               ["http://uri.etsi.org/TrstSvc/Svctype/Certstatus/CRL", "http://a.example/crl/root.crl"]])
        #expect(s["info"] as? [String] == [Self.serviceInfo])
        #expect(s["qualifiers"] as? [String] == ["http://eidas.europa.eu/LoA/high"])
        #expect(s["policies"] as? [String] == ["urn:oid:\(Nations.qcpOID)"])
        #expect(s["signatures"] as? Int == 1 && (s["signing_time"] as? [String])?.count == 1)
        #expect(s["cert_digest"] as? [String] == [s["signer_digest"] as? String ?? "?"], "SigningCertificateV2 names the signer")
    }

    @Test("import -> export -> import round-trips; the import keeps what the JSON list said")
    func roundTrip() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("etsi-rt")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, xml) = try Self.xmlList(n: n, work: work, homeB: homeB, level: "substantial")
        try TF.ok(["trustlist", "withdraw", "--list", list, "--ca-cert", n.aRoot, "--at", "2030-01-01T00:00:00Z"])
        try TF.ok(["trustlist", "export-etsi", "--list", list, "--out", xml, "--home", homeB])
        let first = work + "/first.json", again = work + "/again.xml", second = work + "/second.json"
        let r = try TF.ok(["trustlist", "import-etsi", xml, "--signer-cert", n.bRoot, "--out", first, "--json"])
        #expect(r.json?["authorities"] as? Int == 1 && r.json?["territory"] as? String == "GH", "\(r.stdout)")
        try TF.ok(["trustlist", "export-etsi", "--list", first, "--out", again, "--home", homeB])
        try TF.ok(["trustlist", "import-etsi", again, "--signer-cert", n.bRoot, "--out", second])
        let a = try TF.jsonObject(first), b = try TF.jsonObject(second), original = try TF.jsonObject(list)
        #expect(NSDictionary(dictionary: a).isEqual(to: b), "import -> export -> import changed the list:\n\(a)\n\(b)")
        for key in ["name", "sequence", "issued", "nextUpdate"] {
            #expect((a[key] as? NSObject)?.isEqual(original[key]) == true, "\(key): \(a[key] ?? "nil") != \(original[key] ?? "nil")")
        }
        let imported = try #require((a["authorities"] as? [[String: Any]])?.first), source = try #require((original["authorities"] as? [[String: Any]])?.first)
        for key in ["name", "country", "certificate", "sha256", "status", "history", "levels", "services", "additionalInformation"] {
            #expect((imported[key] as? NSObject)?.isEqual(source[key]) == true, "\(key): \(imported[key] ?? "nil") != \(source[key] ?? "nil")")
        }
        #expect(imported["status"] as? String == "withdrawn" && (imported["history"] as? [Any])?.count == 2)
    }

    @Test("refused with a clear reason: one byte changed, an expired list, a list signed by an unauthorised key, not XML")
    func refusals() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("etsi-bad")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, xml) = try Self.xmlList(n: n, work: work, homeB: homeB, level: "high")
        func importing(_ file: String, signer: String = n.bRoot) throws -> TestSupport.Result {
            try TF.etrust(["trustlist", "import-etsi", file, "--signer-cert", signer, "--out", work + "/out.json", "--json"])
        }
        // One byte changed: A's country in the TSP address.
        let text = try TF.text(xml)
        let changed = work + "/changed.xml"
        try text.replacingOccurrences(of: "<tsl:CountryName>TG</tsl:CountryName>", with: "<tsl:CountryName>TH</tsl:CountryName>")
            .write(toFile: changed, atomically: true, encoding: .utf8)
        #expect(try TF.bytes(changed).count == (try TF.bytes(xml)).count)
        let c = try importing(changed)
        #expect(c.status == 1 && (c.json?["error"] as? String)?.contains("does not verify") == true, "\(c.stdout)")
        #expect(!FileManager.default.fileExists(atPath: work + "/out.json"), "nothing is written for a refused list")
        let v = try TF.etrust(["verify", n.citizenCert, "--intermediate", n.aIssuing, "--trust-list", changed, "--trust-list-signer", n.bRoot])
        #expect(v.status == 1 && v.stderr.contains("does not verify"), "\(v.stdout) \(v.stderr)")

        // Expired: the list's nextUpdate has passed.
        var object = try TF.jsonObject(list)
        object["nextUpdate"] = "2020-01-01T00:00:00Z"
        try TF.writeJSON(object, work + "/old.json")
        try TF.ok(["trustlist", "export-etsi", "--list", work + "/old.json", "--out", work + "/old.xml", "--home", homeB])
        let e = try importing(work + "/old.xml")
        #expect(e.status == 1 && (e.json?["error"] as? String)?.contains("expired at 2020-01-01T00:00:00Z") == true, "\(e.stdout)")

        // Signed in (a copy of) A's home: a valid signature by a key B does not authorise.
        let cp = try TestSupport.run("/bin/cp", ["-a", n.homeA, work + "/homeA"])
        try #require(cp.status == 0, "\(cp.stderr)")
        try TF.ok(["trustlist", "export-etsi", "--list", list, "--out", work + "/by-a.xml", "--home", work + "/homeA"])
        let u = try importing(work + "/by-a.xml")
        #expect(u.status == 1 && (u.json?["error"] as? String)?.contains("not by the given signer") == true, "\(u.stdout)")
        let asA = try importing(work + "/by-a.xml", signer: n.aRoot)
        #expect(asA.status == 0, "the same list with A as its signer: \(asA.stdout)")

        // A second signature (wrapping): xmlsec1 checks the first it meets, so only one is allowed.
        let start = try #require(text.range(of: "<ds:Signature ")), end = try #require(text.range(of: "</ds:Signature>"))
        let copy = String(text[start.lowerBound..<end.upperBound])
        try text.replacingOccurrences(of: "</tsl:SchemeInformation>", with: copy + "</tsl:SchemeInformation>")
            .write(toFile: work + "/wrapped.xml", atomically: true, encoding: .utf8)
        let wrapped = try importing(work + "/wrapped.xml")
        #expect(wrapped.status == 2 && (wrapped.json?["error"] as? String)?.contains("2 ds:Signature elements") == true, "\(wrapped.stdout)")

        // Not XML, and a DOCTYPE (no entity is ever expanded).
        try "<tsl:TrustServiceStatusList".write(toFile: work + "/cut.xml", atomically: true, encoding: .utf8)
        let cut = try importing(work + "/cut.xml")
        #expect(cut.status == 2 && (cut.json?["error"] as? String)?.contains("not well-formed XML") == true, "\(cut.stdout)")
        try text.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>")
            .write(toFile: work + "/dtd.xml", atomically: true, encoding: .utf8)
        let dtd = try importing(work + "/dtd.xml")
        #expect(dtd.status == 2 && (dtd.json?["error"] as? String)?.contains("DOCTYPE") == true, "\(dtd.stdout)")
    }

    @Test("the two-country scenario with the XML list: accepted at high; a withdrawal refuses later signatures, keeps earlier ones")
    func scenarioWithXMLList() throws {
        let n = try Nations.get()
        let (work, homeB) = try n.workWithHomeB("etsi-scenario")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (list, xml) = try Self.xmlList(n: n, work: work, homeB: homeB, level: "high")
        let trust = ["--trust-list", xml, "--trust-list-signer", n.bRoot, "--home", homeB]
        let r = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--min-assurance", "high", "--json"] + trust)
        #expect(r.status == 0 && r.json?["level"] as? String == "high", "\(r.stdout) \(r.stderr)")
        #expect((r.json?["path"] as? [String])?.last?.contains("A Root") == true)
        let cert = try TF.etrust(["verify", n.citizenCert, "--intermediate", n.aIssuing, "--purpose", "document-signing", "--min-assurance", "high", "--json"] + trust)
        #expect(cert.status == 0 && cert.json?["assurance"] as? String == "high", "\(cert.stdout) \(cert.stderr)")
        let listVerify = try TF.etrust(["trustlist", "verify", xml, "--signer-cert", n.bRoot, "--json"])
        #expect(listVerify.status == 0 && listVerify.json?["valid"] as? Bool == true, "\(listVerify.stdout)")

        Thread.sleep(forTimeInterval: 1.1)
        try TF.ok(["trustlist", "withdraw", "--list", list, "--ca-cert", n.aRoot])
        try TF.ok(["trustlist", "export-etsi", "--list", list, "--out", xml, "--home", homeB])
        try TF.ok(["sign", "--p12", n.citizenP12, "--p12-password-file", n.pass, "--in", n.doc, "--out", work + "/late.p7s"])
        let late = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", work + "/late.p7s", "--min-assurance", "high", "--json"] + trust)
        #expect(late.status == 1, "a signature made after the withdrawal: \(late.stdout) \(late.stderr)")
        let early = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--min-assurance", "high", "--json"] + trust)
        #expect(early.status == 0 && early.json?["level"] as? String == "high", "\(early.stdout) \(early.stderr)")
        // A low level in the XML list is still too low for high.
        let (_, lowXML) = try Self.xmlList(n: n, work: work, homeB: homeB, level: "low", name: "low")
        let low = try TF.etrust(["verify-signature", "--revocation", "none", "--signature", n.earlySignature, "--min-assurance", "high", "--json",
                                 "--trust-list", lowXML, "--trust-list-signer", n.bRoot])
        #expect(low.status == 1 && low.json?["errorCode"] as? String == "assurance_too_low", "\(low.stdout)")
    }
}

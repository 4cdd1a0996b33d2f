import ETrustTestSupport
import Foundation
import Testing

/// RFC 3739 3.2.2 biometricInfo: `issue --biometric` binds the hash of a sample, `verify
/// --biometric` matches a presented one; judged by openssl, pyca + pyasn1's RFC 3739 module and pkilint.
@Suite struct BiometricTests {
    static let decoder = #"""
import json, sys
from cryptography import x509
from pyasn1.codec.der.decoder import decode
from pyasn1_alt_modules import rfc3739
c = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
ext = c.extensions.get_extension_for_oid(x509.ObjectIdentifier('1.3.6.1.5.5.7.1.2'))
open(sys.argv[2], 'wb').write(ext.value.value)
syntax, rest = decode(ext.value.value, asn1Spec=rfc3739.BiometricSyntax())
out = []
for d in syntax:
    t = d['typeOfBiometricData']
    kind = int(t['predefinedBiometricType']) if t.getName() == 'predefinedBiometricType' else str(t['biometricDataOid'])
    uri = str(d['sourceDataUri']) if d['sourceDataUri'].isValue else None
    out.append({'type': kind, 'alg': str(d['hashAlgorithm']['algorithm']), 'hash': bytes(d['biometricDataHash']).hex(), 'uri': uri})
print(json.dumps({'critical': ext.critical, 'rest': len(rest), 'entries': out}))
"""#

    static func sha256Hex(_ path: String) throws -> String {
        let r = try E2E.openssl(["dgst", "-sha256", "-r", path])
        return String(r.stdout.prefix(64))
    }

    @Test func issueBindsTheHashesAndVerifyMatchesSamples() throws {
        let (home, work) = try E2E.pki("e2e-biometric")
        defer { E2E.cleanUp(home) }
        let photo = work + "/photo.jpg", signature = work + "/signature.png", other = work + "/other.jpg"
        try Data((0..<5000).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: photo))
        try Data("handwritten".utf8).write(to: URL(fileURLWithPath: signature))
        try Data((0..<5000).map { UInt8(($0 + 1) % 251) }).write(to: URL(fileURLWithPath: other))
        let csr = try E2E.makeCSR(in: work, name: "ama", subject: "/CN=Ama Mensah/GN=Ama/SN=Mensah/serialNumber=IDCTG-12345/C=TG")
        let leaf = work + "/ama.pem"
        let issued = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-authentication", "--csr", csr,
                                     "--biometric", "picture=\(photo),uri=https://id.gov.tg/photo/12345",
                                     "--biometric", "handwritten-signature=\(signature)", "--out", leaf])
        try #require(issued.status == 0, "issue --biometric: \(issued.stderr)")

        // pyca parses the certificate; pyasn1's RFC 3739 module decodes the extension.
        let py = try TestSupport.run(try E2E.venvTool("python"), ["-c", Self.decoder, leaf, work + "/ext.der"])
        try #require(py.status == 0, "pyca/pyasn1: \(py.stderr)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(py.stdout.utf8)) as? [String: Any])
        #expect(decoded["critical"] as? Bool == false)
        #expect(decoded["rest"] as? Int == 0)
        let entries = try #require(decoded["entries"] as? [[String: Any]])
        try #require(entries.count == 2, "\(entries)")
        #expect(entries[0]["type"] as? Int == 0 && entries[1]["type"] as? Int == 1)
        #expect(entries.allSatisfy { $0["alg"] as? String == "2.16.840.1.101.3.4.2.1" })
        #expect(entries[0]["hash"] as? String == (try Self.sha256Hex(photo)))
        #expect(entries[1]["hash"] as? String == (try Self.sha256Hex(signature)))
        #expect(entries[0]["uri"] as? String == "https://id.gov.tg/photo/12345")
        #expect(entries[1]["uri"] is NSNull)

        // openssl names the extension and parses its value as the same structure.
        let text = try E2E.openssl(["x509", "-in", leaf, "-noout", "-text"])
        #expect(text.stdout.contains("Biometric Info"), "\(text.stdout)")
        let parsed = try E2E.openssl(["asn1parse", "-inform", "DER", "-in", work + "/ext.der", "-i"])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        #expect(parsed.stdout.contains("INTEGER           :00") && parsed.stdout.contains("INTEGER           :01"), "\(parsed.stdout)")
        #expect(parsed.stdout.contains(":sha256") && parsed.stdout.contains("IA5STRING         :https://id.gov.tg/photo/12345"), "\(parsed.stdout)")
        #expect(!parsed.stdout.contains("0001020304"), "the sample itself must not be in the certificate")

        // pkilint: clean for RFC 5280 and ETSI EN 319 412.
        for (tool, extra) in [("lint_pkix_cert", [String]()), ("lint_etsi_cert", ["-d"])] {
            let lint = try TestSupport.run(try E2E.venvTool(tool), ["lint"] + extra + ["-s", "ERROR", leaf])
            #expect(lint.status == 0 && !lint.stdout.contains("(ERROR)") && !lint.stdout.contains("(FATAL)"), "\(tool): \(lint.stdout)\(lint.stderr)")
        }

        // The right sample matches; a wrong one does not (exit 1), and says so.
        let anchor = home + "/certs/root.pem"
        let good = try E2E.etrust(["verify", leaf, "--home", home, "--anchor", anchor, "--biometric", "picture=\(photo)",
                                   "--biometric", "handwritten-signature=\(signature)", "--json"])
        #expect(good.status == 0, "\(good.stdout) \(good.stderr)")
        #expect(good.json?["biometricMatch"] as? Bool == true)
        let bad = try E2E.etrust(["verify", leaf, "--home", home, "--anchor", anchor, "--biometric", "picture=\(other)", "--json"])
        #expect(bad.status == 1)
        #expect(bad.json?["valid"] as? Bool == true && bad.json?["biometricMatch"] as? Bool == false, "\(bad.stdout)")
        let sample = (bad.json?["biometric"] as? [[String: Any]])?.first
        #expect(sample?["matches"] as? Bool == false && sample?["present"] as? Bool == true)
        let badText = try E2E.etrust(["verify", leaf, "--home", home, "--anchor", anchor, "--biometric", "picture=\(other)"])
        #expect(badText.status == 1 && badText.stdout.contains("biometric picture: DOES NOT MATCH"), "\(badText.stdout)")
    }

    @Test func profilesDecideWhichTypesAreAllowedOrRequired() throws {
        let (home, work) = try E2E.pki("e2e-biometric-rules")
        defer { E2E.cleanUp(home) }
        let photo = work + "/photo.jpg"
        try Data("photo".utf8).write(to: URL(fileURLWithPath: photo))
        var yaml = try E2E.read(TestSupport.packageRoot + "/Policies/citizen-authentication.yaml")
        yaml = yaml.replacingOccurrences(of: "profile: citizen-authentication", with: "profile: citizen-photo-id")
            .replacingOccurrences(of: "allowed: [picture, handwritten-signature]", with: "allowed: [picture, 1.0.19794.2]\n  required: [picture]")
        try E2E.write(yaml, to: home + "/policies/citizen-photo-id.yaml")
        let csr = try E2E.makeCSR(in: work, name: "kofi", subject: "/CN=Kofi/C=TG")
        func issue(_ profile: String, _ extra: [String]) throws -> TestSupport.Result {
            try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", profile, "--csr", csr, "--json"] + extra)
        }
        let missing = try issue("citizen-photo-id", [])
        #expect(missing.status == 1, "\(missing.stdout)")
        #expect(missing.json?["profile"] as? String == "citizen-photo-id" && missing.json?["rule"] as? String == "biometricInfo.required",
                "\(missing.stdout)")
        let wrongType = try issue("citizen-photo-id", ["--biometric", "picture=\(photo)", "--biometric", "handwritten-signature=\(photo)"])
        #expect(wrongType.status == 1 && wrongType.json?["rule"] as? String == "biometricInfo.allowed", "\(wrongType.stdout)")
        let fingerprint = try issue("citizen-photo-id", ["--biometric", "picture=\(photo)", "--biometric", "1.0.19794.2=\(photo)"])
        #expect(fingerprint.status == 0, "\(fingerprint.stdout + fingerprint.stderr)")
        let notAllowed = try issue("tls-client", ["--biometric", "picture=\(photo)", "--san", "dns:svc.example.tg"])
        #expect(notAllowed.status == 1 && notAllowed.json?["rule"] as? String == "biometricInfo", "\(notAllowed.stdout)")
        let badType = try issue("citizen-photo-id", ["--biometric", "iris=\(photo)"])
        #expect(badType.status == 2 && badType.stderr.contains("iris"), "\(badType.stderr)")
        let noFile = try issue("citizen-photo-id", ["--biometric", "picture=\(work)/absent.jpg"])
        #expect(noFile.status == 2, "\(noFile.stderr)")
    }
}

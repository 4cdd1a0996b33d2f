import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// `etrust issue --generate-key --p12`: the CA makes the subscriber's key and delivers it in a
/// PKCS#12 with AES-256-CBC and PBKDF2 (never RC2/3DES), keeping no copy.
@Suite("PKCS#12 delivery of CA-generated keys")
struct PKCS12Tests {
    @Test("single issuance: openssl and pyca read the PKCS#12 with its password, AES-256; the key matches; no key kept")
    func single() throws {
        let (home, _) = try TestSupport.makePKI()
        let dir = try TestSupport.temporaryDirectory("p12")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "card-secret\n".write(toFile: dir + "/pass", atomically: true, encoding: .utf8)
        let keysBefore = try FileManager.default.contentsOfDirectory(atPath: home + "/keys").sorted()
        let r = try TestSupport.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-signing", "--allow-example-url", "--generate-key",
                                        "--subject", "CN=Ama Mensah,GN=Ama,SN=Mensah,serialNumber=IDCTG-42,C=TG",
                                        "--p12", dir + "/ama.p12", "--p12-password-file", dir + "/pass", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(r.json)
        #expect(json["p12"] as? String == dir + "/ama.p12")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/ama.p12")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let info = try TestSupport.openssl(["pkcs12", "-info", "-in", dir + "/ama.p12", "-passin", "file:" + dir + "/pass", "-noout"])
        #expect(info.status == 0, "\(info.stderr)")
        let text = info.stdout + info.stderr
        #expect(text.contains("AES-256-CBC") && text.contains("PBKDF2"), "\(text)")
        #expect(!text.contains("RC2") && !text.contains("3DES") && !text.contains("pbeWithSHA1"), "\(text)")
        let wrong = try TestSupport.openssl(["pkcs12", "-info", "-in", dir + "/ama.p12", "-passin", "pass:wrong", "-noout"])
        #expect(wrong.status != 0)
        // pyca/cryptography opens it and the key is the certificate's.
        let script = """
        import sys
        from cryptography.hazmat.primitives.serialization import pkcs12, Encoding, PublicFormat
        key, cert, extra = pkcs12.load_key_and_certificates(open(sys.argv[1], 'rb').read(), b'card-secret')
        assert key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        print(cert.serial_number, len(extra))
        """
        let py = try TestSupport.run(TestSupport.venv + "/bin/python", ["-c", script, dir + "/ama.p12"])
        #expect(py.status == 0, "\(py.stderr)")
        let serial = try #require(json["serial"] as? String)
        #expect(py.stdout.contains(" 2"), "the issuing CA and the root ride along: \(py.stdout)")
        // Library round trip with the same password.
        let opened = try PKCS12.open([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/ama.p12"))), password: Array("card-secret".utf8))
        #expect(opened.certificate.serialHex == serial)
        #expect(try opened.key.subjectPublicKeyInfo == opened.certificate.subjectPublicKeyInfo)
        #expect(throws: ETrustError.self) { try PKCS12.open([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/ama.p12"))), password: Array("x".utf8)) }
        // The CA kept no copy of the key, and logged its generation.
        // (The home's audit key may appear: this was its first signed checkpoint.)
        let added = Set(try FileManager.default.contentsOfDirectory(atPath: home + "/keys")).subtracting(keysBefore).subtracting(["audit.key.pem"])
        #expect(added.isEmpty, "new key files: \(added)")
        let log = try TestSupport.etrust(["audit", "log", "--home", home, "--event", "key", "--serial", serial, "--json"])
        #expect(log.stdout.contains("\"purpose\":\"subscriber\"") && log.stdout.contains("\"delivery\":\"pkcs12\""), "\(log.stdout)")
    }

    @Test("batch with --generate-key: one PEM and one PKCS#12 per row; usage errors exit 2")
    func batchAndUsage() throws {
        let (home, _) = try TestSupport.makePKI()
        let dir = try TestSupport.temporaryDirectory("p12b")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "card-secret\n".write(toFile: dir + "/pass", atomically: true, encoding: .utf8)
        try "subject\n\"CN=A B,GN=A,SN=B,serialNumber=IDCTG-1,C=TG\"\n\"CN=C D,GN=C,SN=D,serialNumber=IDCTG-2,C=TG\"\n"
            .write(toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
        let r = try TestSupport.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-signing", "--allow-example-url", "--generate-key",
                                        "--batch", dir + "/rows.csv", "--out", dir + "/out", "--p12-password-file", dir + "/pass"])
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        #expect(files.filter { $0.hasSuffix(".p12") }.count == 2)
        #expect(files.filter { $0.hasSuffix(".pem") }.count == 2)
        // --generate-key without --subject, or without --p12, or without a password source: exit 2.
        for args in [["--p12", dir + "/x.p12", "--p12-password-file", dir + "/pass"],
                     ["--subject", "CN=X,GN=X,SN=Y,serialNumber=IDCTG-3,C=TG", "--p12-password-file", dir + "/pass"],
                     ["--subject", "CN=X,GN=X,SN=Y,serialNumber=IDCTG-3,C=TG", "--p12", dir + "/x.p12"]] {
            let bad = try TestSupport.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-signing", "--allow-example-url", "--generate-key"] + args)
            #expect(bad.status == 2, "\(args): \(bad.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.p12"))
        }
    }
}

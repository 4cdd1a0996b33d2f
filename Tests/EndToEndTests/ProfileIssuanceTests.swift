import ETrustTestSupport
import Foundation
import Testing

/// One request per shipped end-entity profile, with a subject the profile accepts.
struct ProfileCase: Sendable, CustomTestStringConvertible {
    let profile: String
    /// openssl -subj syntax.
    let subject: String
    /// --san values given to etrust.
    var san: [String] = []
    /// -addext values given to openssl req (SANs the profile copies from the request).
    var requestExtensions: [String] = []
    /// What the certificate's subject must be (RFC 2253 order, as openssl prints it).
    let expectedSubject: String
    /// A SAN that must appear in `openssl x509 -text`.
    var expectedSAN: String?
    /// Also judged by the CA/Browser Forum TLS server linter; the type it must detect (nil: any).
    var serverAuth = false
    var serverAuthType: String?

    /// Also judged by pkilint's ETSI linter; the certificate type it must detect (nil: any).
    var etsi = false
    var etsiType: String?
    /// Distinguishes two cases of one profile.
    var variant: String?

    var testDescription: String { variant.map { "\(profile) (\($0))" } ?? profile }

    static let all: [ProfileCase] = [
        ProfileCase(profile: "citizen-authentication",
                    subject: "/CN=Ama Mensah/GN=Ama/SN=Mensah/serialNumber=IDCTG-12345/C=TG",
                    san: ["email:ama.mensah@example.tg"],
                    expectedSubject: "C=TG,serialNumber=IDCTG-12345,SN=Mensah,GN=Ama,CN=Ama Mensah",
                    expectedSAN: "email:ama.mensah@example.tg", etsi: true, etsiType: "NCP-NATURAL-PERSON"),
        ProfileCase(profile: "citizen-signing",
                    subject: "/GN=Kofi/SN=Agbeko/CN=Kofi Agbeko/serialNumber=IDCTG-12345/C=TG",
                    expectedSubject: "C=TG,serialNumber=IDCTG-12345,CN=Kofi Agbeko,SN=Agbeko,GN=Kofi",
                    etsi: true, etsiType: "QCP-N-QSCD"),
        ProfileCase(profile: "organisation-seal",
                    subject: "/CN=Example Shop Seal/O=Example Shop/organizationIdentifier=VATTG-123/C=TG",
                    expectedSubject: "C=TG,organizationIdentifier=VATTG-123,O=Example Shop,CN=Example Shop Seal",
                    etsi: true, etsiType: "LEGAL-PERSON"),
        ProfileCase(profile: "tls-server", subject: "/CN=www.example.tg", san: ["dns:www.example.tg"],
                    expectedSubject: "CN=www.example.tg", expectedSAN: "DNS:www.example.tg", serverAuth: true),
        // BR 7.1.4.3: the subject may be empty; the SAN is then critical (RFC 5280 4.2.1.6).
        ProfileCase(profile: "tls-server", subject: "/", san: ["dns:api.example.tg", "ip:41.207.160.10"],
                    expectedSubject: "", expectedSAN: "DNS:api.example.tg, IP Address:41.207.160.10", serverAuth: true,
                    variant: "empty subject"),
        // BR 7.1.4.2 / 7.1.2.7.4: organization validated, attributes in the BR's order (C, ST, L, O, CN);
        // pkilint must detect the OV type from the policy OID.
        ProfileCase(profile: "tls-server-ov", subject: "/C=TG/ST=Maritime/L=Lome/O=Example Shop SARL/CN=shop.example.tg",
                    san: ["dns:shop.example.tg"],
                    expectedSubject: "CN=shop.example.tg,O=Example Shop SARL,L=Lome,ST=Maritime,C=TG",
                    expectedSAN: "DNS:shop.example.tg", serverAuth: true, serverAuthType: "OV-FINAL-CERTIFICATE"),
        ProfileCase(profile: "tls-client", subject: "/CN=service.example.tg/O=Ministry of Digital Economy/C=TG",
                    requestExtensions: ["subjectAltName=DNS:service.example.tg"],
                    expectedSubject: "C=TG,O=Ministry of Digital Economy,CN=service.example.tg",
                    expectedSAN: "DNS:service.example.tg"),
        ProfileCase(profile: "auditor", subject: "/CN=Ada Auditor/O=Court of Audit/C=TG",
                    requestExtensions: ["subjectAltName=email:ada.auditor@audit.example.tg"],
                    expectedSubject: "C=TG,O=Court of Audit,CN=Ada Auditor",
                    expectedSAN: "email:ada.auditor@audit.example.tg"),
        ProfileCase(profile: "ocsp-signing", subject: "/CN=E2E OCSP Responder/O=Test/C=TG",
                    expectedSubject: "C=TG,O=Test,CN=E2E OCSP Responder"),
        ProfileCase(profile: "timestamping", subject: "/CN=E2E Time-Stamping Unit/O=Test/C=TG",
                    expectedSubject: "C=TG,O=Test,CN=E2E Time-Stamping Unit"),
        ProfileCase(profile: "trust-list-signing", subject: "/CN=E2E Trust List Signer/O=Test/C=TG",
                    expectedSubject: "C=TG,O=Test,CN=E2E Trust List Signer"),
    ]
}

@Suite struct ProfileIssuanceTests {
    /// Every shipped end-entity profile is covered by a case.
    @Test func everyEndEntityProfileIsCovered() throws {
        let dir = TestSupport.packageRoot + "/Policies"
        var endEntity: Set<String> = []
        for f in try FileManager.default.contentsOfDirectory(atPath: dir) where f.hasSuffix(".yaml") {
            let text = try E2E.read(dir + "/" + f)
            if text.components(separatedBy: "\n").contains("kind: end-entity") {
                endEntity.insert(String(f.dropLast(5)))
            }
        }
        #expect(endEntity == Set(ProfileCase.all.map(\.profile)))
    }

    @Test(arguments: ProfileCase.all)
    func issueUnderProfile(_ c: ProfileCase) throws {
        let (home, work) = try E2E.pki("e2e-\(c.profile)")
        defer { E2E.cleanUp(home) }
        let rootPEM = home + "/certs/root.pem", issuingPEM = home + "/certs/issuing.pem"
        let csr = try E2E.makeCSR(in: work, name: c.profile, subject: c.subject,
                                  extra: c.requestExtensions.flatMap { ["-addext", $0] })
        let reqVerify = try E2E.openssl(["req", "-verify", "-in", csr, "-noout"])
        #expect(reqVerify.status == 0, "openssl req -verify: \(reqVerify.stderr)")

        let issued = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", c.profile, "--csr", csr, "--json"]
                                    + c.san.flatMap { ["--san", $0] })
        try #require(issued.status == 0, "etrust issue --profile \(c.profile): exit \(issued.status): \(issued.stderr)")
        let json = try #require(issued.json, "issue --json printed no JSON object: \(issued.stdout)")
        for key in ["serial", "subject", "notBefore", "notAfter", "profile", "certificate"] {
            #expect(json[key] is String, "issue --json lacks '\(key)': \(json.keys.sorted())")
        }
        #expect(json["profile"] as? String == c.profile)
        let serial = try #require(json["serial"] as? String)
        #expect(serial.range(of: "^[0-9a-fA-F]+$", options: .regularExpression) != nil, "serial '\(serial)' is not hex")
        let formatter = ISO8601DateFormatter()
        let notBefore = try #require((json["notBefore"] as? String).flatMap(formatter.date(from:)), "notBefore is not RFC 3339")
        let notAfter = try #require((json["notAfter"] as? String).flatMap(formatter.date(from:)), "notAfter is not RFC 3339")
        #expect(notBefore < Date() && Date() < notAfter)

        let pem = try #require(json["certificate"] as? String)
        #expect(E2E.pemCertificates(pem).count == 1)
        let leaf = work + "/\(c.profile).pem"
        try E2E.write(pem, to: leaf)

        // openssl: the chain verifies, the certificate parses, serial and subject are as announced.
        let verify = try E2E.openssl(["verify", "-CAfile", rootPEM, "-untrusted", issuingPEM, leaf])
        #expect(verify.status == 0 && verify.stdout.contains("\(leaf): OK"), "openssl verify: \(verify.stdout) \(verify.stderr)")
        let text = try E2E.openssl(["x509", "-in", leaf, "-noout", "-text"])
        #expect(text.status == 0, "openssl x509 -text: \(text.stderr)")
        let serialOut = try E2E.openssl(["x509", "-in", leaf, "-noout", "-serial"])
        #expect(serialOut.stdout.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == "serial=\(serial.lowercased())")
        #expect(try E2E.subject(ofCertificate: leaf) == c.expectedSubject)
        if let san = c.expectedSAN {
            #expect(text.stdout.contains(san), "the certificate lacks \(san):\n\(text.stdout)")
        }
        if c.expectedSubject.isEmpty {
            #expect(text.stdout.contains("Subject Alternative Name: critical"), "an empty subject needs a critical SAN")
        }

        // pyca/cryptography parses it and sees the same serial and issuer.
        let python = try E2E.venvTool("python")
        let script = """
        import sys
        from cryptography import x509
        c = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
        print(format(c.serial_number, 'x'))
        print(c.issuer.rfc4514_string())
        c.extensions  # every extension decodes
        """
        let py = try TestSupport.run(python, ["-c", script, leaf])
        #expect(py.status == 0, "pyca/cryptography: \(py.stderr)")
        let pyLines = E2E.lines(py.stdout)
        #expect(pyLines.first == serial.lowercased().drop { $0 == "0" }.description)
        #expect(pyLines.dropFirst().first == "CN=E2E Issuing,O=Test,C=TG")

        // pkilint: no ERROR or FATAL finding (RFC 5280), and the CA/B Forum BR for TLS servers.
        try expectLintClean("lint_pkix_cert", [], leaf)
        if c.serverAuth {
            let r = try expectLintClean("lint_cabf_serverauth_cert", ["-d", "-o"], leaf)
            if let type = c.serverAuthType {
                #expect(r.stderr.contains(type), "lint_cabf_serverauth_cert detected '\(r.stderr)', expected \(type)")
            }
        }
        if c.etsi {
            // ETSI EN 319 412: -o prints the detected certificate type on stderr.
            let r = try expectLintClean("lint_etsi_cert", ["-d", "-o"], leaf)
            if let type = c.etsiType {
                #expect(r.stderr.contains(type), "lint_etsi_cert detected '\(r.stderr)', expected \(type)")
            }
        }

        // The database knows it.
        let show = try E2E.etrust(["show", serial, "--home", home, "--json"])
        #expect(show.status == 0, "etrust show: \(show.stderr)")
        #expect(show.json?["status"] as? String == "valid")
        #expect(show.json?["profile"] as? String == c.profile)
        #expect(show.json?["serial"] as? String == serial)
        #expect((show.json?["certificate"] as? String).map(E2E.pemCertificates) == E2E.pemCertificates(pem))

        let list = try E2E.etrust(["list", "--home", home, "--json", "--profile", c.profile])
        #expect(list.status == 0, "etrust list: \(list.stderr)")
        let listed = try #require(list.json?["certificates"] as? [[String: Any]], "list --json: \(list.stdout)")
        #expect(listed.compactMap { $0["serial"] as? String } == [serial])
        #expect(list.json?["count"] as? Int == 1)
        // And a list for another profile does not.
        let other = c.profile == "tls-server" ? "tls-client" : "tls-server"
        let otherList = try E2E.etrust(["list", "--home", home, "--json", "--profile", other])
        #expect(otherList.json?["count"] as? Int == 0)
    }

    /// The CA certificates the CLI made are clean for pkilint too.
    @Test(arguments: ["root", "issuing"])
    func caCertificateLintsClean(_ name: String) throws {
        let (home, _) = try E2E.pki("e2e-lint-\(name)")
        defer { E2E.cleanUp(home) }
        let path = home + "/certs/\(name).pem"
        let text = try E2E.openssl(["x509", "-in", path, "-noout", "-text"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("CA:TRUE"))
        try expectLintClean("lint_pkix_cert", [], path)
    }

    /// The judge itself works: a certificate with a known RFC 5280 error is flagged.
    @Test func pkilintFlagsABrokenCertificate() throws {
        let dir = try TestSupport.temporaryDirectory("e2e-pkilint")
        defer { E2E.cleanUp(dir + "/c.pem") }
        // keyCertSign in a certificate whose basicConstraints say cA FALSE (RFC 5280 4.2.1.3).
        let r = try E2E.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                 "-subj", "/CN=broken", "-keyout", dir + "/k", "-out", dir + "/c.pem", "-days", "1",
                                 "-addext", "keyUsage=critical,keyCertSign", "-addext", "basicConstraints=critical,CA:FALSE"])
        try #require(r.status == 0, "\(r.stderr)")
        let lint = try TestSupport.run(try E2E.venvTool("lint_pkix_cert"), ["lint", "-s", "ERROR", dir + "/c.pem"])
        #expect(lint.stdout.contains("(ERROR)"), "pkilint did not flag keyCertSign on a non-CA certificate: \(lint.stdout) \(lint.stderr)")
        #expect(lint.status != 0)
    }

    @discardableResult
    private func expectLintClean(_ tool: String, _ extra: [String], _ file: String) throws -> TestSupport.Result {
        let path = try E2E.venvTool(tool)
        let r = try TestSupport.run(path, ["lint"] + extra + ["-s", "ERROR", file])
        let output = r.stdout + r.stderr
        #expect(!output.contains("(ERROR)") && !output.contains("(FATAL)"), "\(tool) on \(file):\n\(output)")
        #expect(r.status == 0, "\(tool) exited \(r.status) on \(file):\n\(output)")
        return r
    }
}

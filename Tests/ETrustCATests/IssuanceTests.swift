import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// What a certificate of each end-entity profile must carry (from Policies/*.yaml).
struct LeafCase: Sendable, CustomTestStringConvertible {
    let profile: String
    let subject: String
    /// Operator-given SANs (override) and SANs asked for in the CSR.
    var sans: [String]? = nil
    var csrSANs: [String] = []
    let keyUsage: Set<KeyUsageBit>
    let eku: [String]
    var ekuCritical = false
    let policies: [String]
    /// OpenSSL's -purpose for `openssl verify`, where one fits.
    var purpose: String? = nil
    var qcStatements = false
    var ocspNoCheck = false
    var key: KeyAlgorithm = .ecP256
    var testDescription: String { profile }
}

@Suite("Issuance")
struct IssuanceTests {
    static let cases: [LeafCase] = [
        LeafCase(profile: "citizen-authentication", subject: "CN=Ama Mensah,GN=Ama,SN=Mensah,C=TG", sans: ["email:ama@example.tg"],
                 keyUsage: [.digitalSignature], eku: ["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4"],
                 policies: ["0.4.0.2042.1.1"], purpose: "sslclient"),
        LeafCase(profile: "citizen-signing", subject: "CN=Ama Mensah,GN=Ama,SN=Mensah,serialNumber=IDCTG-12345,C=TG",
                 keyUsage: [.nonRepudiation], eku: [], policies: ["0.4.0.194112.1.2"], qcStatements: true),
        LeafCase(profile: "organisation-seal", subject: "CN=Shop Seal,O=Shop SARL,organizationIdentifier=VATTG-123,C=TG",
                 keyUsage: [.digitalSignature, .nonRepudiation], eku: ["1.3.6.1.5.5.7.3.36"], policies: ["0.4.0.194112.1.1"],
                 qcStatements: true, key: .rsa2048),
        LeafCase(profile: "tls-server", subject: "CN=www.example.tg", csrSANs: ["dns:www.example.tg", "dns:example.tg", "ip:1.1.1.1"],
                 keyUsage: [.digitalSignature], eku: ["1.3.6.1.5.5.7.3.1"], policies: ["2.23.140.1.2.1"], purpose: "sslserver"),
        LeafCase(profile: "tls-client", subject: "CN=service-a,O=Gov,C=TG", sans: ["dns:service-a.gov.tg"],
                 keyUsage: [.digitalSignature], eku: ["1.3.6.1.5.5.7.3.2"], policies: ["0.4.0.2042.1.3"], purpose: "sslclient",
                 key: .ed25519),
        LeafCase(profile: "ocsp-signing", subject: "CN=OCSP Responder,O=Gov,C=TG", keyUsage: [.digitalSignature],
                 eku: ["1.3.6.1.5.5.7.3.9"], policies: [], purpose: "ocsphelper", ocspNoCheck: true),
        LeafCase(profile: "timestamping", subject: "CN=TSU 1,O=Gov,C=TG", keyUsage: [.digitalSignature],
                 eku: ["1.3.6.1.5.5.7.3.8"], ekuCritical: true, policies: ["0.4.0.2023.1.1"], purpose: "timestampsign",
                 key: .ecP384),
    ]

    @Test("one certificate of every end-entity profile: verified by OpenSSL, carrying the profile's extensions, recorded and audited",
          arguments: IssuanceTests.cases)
    func issueEveryProfile(_ c: LeafCase) throws {
        let pki = try PKI()
        let request = try Fixtures.request(c.profile, subject: c.subject, sans: c.sans, csrSANs: c.csrSANs, key: c.key)
        let (cert, record) = try pki.authority.issue(request, ca: "issuing")

        // OpenSSL verifies the chain root -> issuing -> leaf (strict RFC 5280 checks, and the purpose).
        let verify = try pki.opensslVerify(cert, purpose: c.purpose)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.hasSuffix(": OK\n"), "\(verify.stdout)")

        let issuing = try pki.caCertificate("issuing")
        #expect(cert.issuer == issuing.subject)
        #expect(cert.subject == (try Fixtures.dn(c.subject)))
        #expect(try cert.isSigned(by: issuing.publicKey))
        #expect(cert.basicConstraints?.ca == false)
        #expect(cert.keyUsage == c.keyUsage)
        if c.eku.isEmpty {
            #expect(cert.extension(ExtensionOID.extendedKeyUsage) == nil)
        } else {
            let eku = try #require(cert.extension(ExtensionOID.extendedKeyUsage))
            #expect(eku == (try Extension.extendedKeyUsage(c.eku, critical: c.ekuCritical)))
        }
        let text = try pki.opensslText(cert)
        for oid in c.policies {
            #expect(text.contains("Policy: \(oid)"), "\(oid) missing from\n\(text)")
        }
        if c.policies.isEmpty { #expect(cert.extension(ExtensionOID.certificatePolicies) == nil) }
        #expect((cert.extension(ExtensionOID.qcStatements) != nil) == c.qcStatements)
        #expect((cert.extension(ExtensionOID.ocspNoCheck) != nil) == c.ocspNoCheck)
        #expect(cert.extension(ExtensionOID.authorityKeyIdentifier) != nil)
        #expect(cert.subjectKeyIdentifier == (try cert.publicKey.keyIdentifier))
        #expect(text.contains("http://pki.example.org/ca/issuing.crt"))
        let expectedSANs = try (c.sans ?? c.csrSANs).map { try GeneralName(parsing: $0) }
        #expect(cert.subjectAltNames == expectedSANs)

        // RFC 5280 4.1.2.2 and CA/B BR 7.1: 16 octets, positive.
        #expect(cert.serial.count == 16)
        #expect(cert.serial[0] & 0x80 == 0)

        // The record is in the store when issue() returns.
        let stored = try pki.authority.store.certificates(serialHex: cert.serialHex)
        #expect(stored.count == 1)
        #expect(stored.first?.der == cert.der)
        #expect(stored.first?.ca == "issuing")
        #expect(stored.first?.profile == c.profile)
        #expect(stored.first?.status == .valid)
        #expect(record.serialHex == cert.serialHex)
        #expect(record.der == cert.der)

        // With an issue event that names the certificate by its SHA-256 (computed by OpenSSL here).
        let fingerprint = try pki.opensslFingerprint(cert)
        #expect(fingerprint.count == 64)
        let issueEvents = try pki.events(ofType: "issue").filter { $0.serialHex == cert.serialHex }
        #expect(issueEvents.count == 1)
        #expect(issueEvents.first?.payload.contains(fingerprint) == true, "\(issueEvents.first?.payload ?? "")")
        #expect(issueEvents.first?.profile == c.profile)
        #expect(issueEvents.first?.ca == "issuing")
    }

    @Test("a tls-server certificate with an empty subject gets a critical subjectAltName (RFC 5280 4.2.1.6)")
    func emptySubject() throws {
        let pki = try PKI()
        let csr = try TestSupport.csr(subject: "CN=ignored.example.tg")
        let request = IssuanceRequest(source: .csr(csr), profile: "tls-server", subject: Fixtures.emptyDN,
                                      subjectAltNames: [.dns("www.example.tg")])
        let (cert, _) = try pki.authority.issue(request, ca: "issuing")
        #expect(cert.subject.isEmpty)
        #expect(cert.extension(ExtensionOID.subjectAltName)?.critical == true)
        let verify = try pki.opensslVerify(cert, purpose: "sslserver")
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test("a refusal throws .refused naming profile and rule, audits one refuse event and records no certificate")
    func refusal() throws {
        let pki = try PKI()
        let eventsBefore = try pki.authority.auditLog.events()
        let recordsBefore = try pki.allCertificateRecords()
        let request = try Fixtures.request("tls-server", subject: "CN=www.example.tg")   // no SAN at all
        let error = try #require(throws: ETrustError.self) { try pki.authority.issue(request, ca: "issuing") }
        #expect(error.category == .refused)
        #expect(error.reason.contains("tls-server"), "\(error.reason)")
        #expect(error.reason.contains("san.presence"), "\(error.reason)")

        let eventsAfter = try pki.authority.auditLog.events()
        #expect(eventsAfter.count == eventsBefore.count + 1)
        let refuse = try #require(eventsAfter.last)
        #expect(refuse.type == "refuse")
        #expect(refuse.profile == "tls-server")
        #expect(refuse.ca == "issuing")
        #expect(refuse.serialHex == nil)
        #expect(refuse.payload.contains("\"rule\":\"san.presence\""), "\(refuse.payload)")
        #expect(try pki.allCertificateRecords().count == recordsBefore.count)
    }

    @Test("a lint failure is a refusal too: CN not among the SANs (CA/B BR 7.1.4.3)")
    func lintRefusal() throws {
        let pki = try PKI()
        let recordsBefore = try pki.allCertificateRecords().count
        let request = try Fixtures.request("tls-server", subject: "CN=other.example.tg", sans: ["dns:www.example.tg"])
        let error = try #require(throws: ETrustError.self) { try pki.authority.issue(request, ca: "issuing") }
        #expect(error.category == .refused)
        #expect(error.reason.contains("lint.cabf.commonName"), "\(error.reason)")
        #expect(try pki.events(ofType: "refuse").last?.payload.contains("lint.cabf.commonName") == true)
        #expect(try pki.allCertificateRecords().count == recordsBefore)
    }

    @Test("unreadable input is .badInput and leaves no audit event")
    func unreadableInput() throws {
        let garbage = Array("this is not a certificate request".utf8)
        let parse = try #require(throws: ETrustError.self) { try CertificateSigningRequest(bytes: garbage) }
        #expect(parse.category == .badInput)
        let pem = try #require(throws: ETrustError.self) {
            try CertificateSigningRequest(bytes: Array("-----BEGIN CERTIFICATE REQUEST-----\n@@@@\n-----END CERTIFICATE REQUEST-----\n".utf8))
        }
        #expect(pem.category == .badInput)

        let pki = try PKI()
        let eventsBefore = try pki.authority.auditLog.events().count
        let recordsBefore = try pki.allCertificateRecords().count
        let dir = pki.folder
        let path = dir + "/garbage.csr"
        try Data(garbage).write(to: URL(fileURLWithPath: path))
        for source in [IssuanceRequest.Source.csrFile(path), .csrFile(dir + "/missing.csr")] {
            let error = try #require(throws: ETrustError.self) {
                try pki.authority.issue(IssuanceRequest(source: source, profile: "tls-client"), ca: "issuing")
            }
            #expect(error.category == .badInput, "\(error.reason)")
        }
        // An unknown profile or CA is bad input as well.
        let csr = try TestSupport.csr(subject: "CN=device")
        let unknownProfile = try #require(throws: ETrustError.self) {
            try pki.authority.issue(IssuanceRequest(source: .csr(csr), profile: "no-such-profile"), ca: "issuing")
        }
        #expect(unknownProfile.category == .badInput)
        let unknownCA = try #require(throws: ETrustError.self) {
            try pki.authority.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "no-such-ca")
        }
        #expect(unknownCA.category == .badInput)
        let caProfile = try #require(throws: ETrustError.self) {
            try pki.authority.issue(IssuanceRequest(source: .csr(csr), profile: "sub-ca"), ca: "issuing")
        }
        #expect(caProfile.category == .badInput)

        #expect(try pki.authority.auditLog.events().count == eventsBefore)
        #expect(try pki.allCertificateRecords().count == recordsBefore)
    }

    @Test("a CSR read from a PEM or DER file is issued")
    func csrFiles() throws {
        let pki = try PKI()
        let csr = try TestSupport.csr(subject: "CN=device-7,O=Gov,C=TG")
        let dir = pki.folder
        try csr.pem.write(toFile: dir + "/a.csr", atomically: true, encoding: .utf8)
        try Data(csr.der).write(to: URL(fileURLWithPath: dir + "/b.der"))
        for path in [dir + "/a.csr", dir + "/b.der"] {
            let (cert, _) = try pki.authority.issue(IssuanceRequest(source: .csrFile(path), profile: "tls-client"), ca: "issuing")
            #expect(cert.subject == csr.subject)
            #expect(cert.subjectPublicKeyInfo == csr.publicKey.subjectPublicKeyInfo)
        }
    }

    @Test("a CSR asking for CA=true is refused by rule copyFromRequest")
    func csrAsksCA() throws {
        let pki = try PKI()
        let csr = try TestSupport.csr(subject: "CN=sneaky", extensions: [.basicConstraints(ca: true, pathLength: nil)])
        let error = try #require(throws: ETrustError.self) {
            try pki.authority.issue(IssuanceRequest(source: .csr(csr), profile: "tls-client"), ca: "issuing")
        }
        #expect(error.category == .refused)
        #expect(error.reason.contains("copyFromRequest"))
    }

    @Test("a CSR whose subjectAltName cannot be parsed is not issued without it")
    func malformedRequestedSAN() throws {
        let pki = try PKI()
        let recordsBefore = try pki.allCertificateRecords().count
        // An OCTET STRING where GeneralNames (a SEQUENCE) belongs.
        let bad = Extension(oid: ExtensionOID.subjectAltName, critical: false, value: [0x04, 0x03, 0x61, 0x62, 0x63])
        let csr = try TestSupport.csr(subject: "CN=device", extensions: [bad])
        let request = IssuanceRequest(source: .csr(csr), profile: "tls-client")
        let outcome = Result(catching: { try pki.authority.issue(request, ca: "issuing") })
        if case .success(let (cert, _)) = outcome {
            Issue.record("issued \(cert.serialHex) without the subjectAltName the request asked for")
        }
        #expect(try pki.allCertificateRecords().count == recordsBefore)
    }

    // MARK: Validity with a fixed clock

    @Test("tls-server on 2026-06-01: notAfter - notBefore + 1s = requested validity (backdate inside it); above 200d refused")
    func validityFixedClock() throws {
        let now = Fixtures.utc("2026-06-01T00:00:00Z")
        let pki = try PKI(clock: FixedClock(now))
        let backdate: TimeInterval = 3600   // tls-server.yaml: backdate 1h

        for (requested, seconds) in [("200d", 200 * 86_400), ("30d", 30 * 86_400), (nil, 90 * 86_400)] as [(String?, Int)] {
            let request = try Fixtures.request("tls-server", subject: "CN=www.example.tg", sans: ["dns:www.example.tg"],
                                               validity: requested)
            let (cert, record) = try pki.authority.issue(request, ca: "issuing")
            // Backdated by 1h, but never before the issuing CA's own notBefore (created at `now` here).
            let issuerNotBefore = try pki.caCertificate("issuing").notBefore
            #expect(cert.notBefore == max(now.addingTimeInterval(-backdate), issuerNotBefore))
            // BR 6.3.2 counts the validity period from notBefore, inclusive: the backdate is inside it.
            #expect(cert.notAfter.timeIntervalSince(cert.notBefore) + 1 == TimeInterval(seconds),
                    "requested \(requested ?? "default")")
            #expect(record.notAfter == cert.notAfter)
            #expect(record.issuedAt == now)
            let verify = try pki.opensslVerify(cert, purpose: "sslserver", at: now)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }

        let recordsBefore = try pki.allCertificateRecords().count
        for requested in ["201d", "398d", "17280001s"] {
            let request = try Fixtures.request("tls-server", subject: "CN=www.example.tg", sans: ["dns:www.example.tg"],
                                               validity: requested)
            let error = try #require(throws: ETrustError.self) { try pki.authority.issue(request, ca: "issuing") }
            #expect(error.category == .refused)
            #expect(error.reason.contains("validity.max"), "\(error.reason)")
        }
        #expect(try pki.allCertificateRecords().count == recordsBefore)
    }

    @Test("tls-server on 2027-04-01: 100d issued, 101d refused")
    func validity2027() throws {
        let now = Fixtures.utc("2027-04-01T00:00:00Z")
        let pki = try PKI(clock: FixedClock(now))
        let ok = try Fixtures.request("tls-server", subject: "CN=www.example.tg", sans: ["dns:www.example.tg"], validity: "100d")
        let (cert, _) = try pki.authority.issue(ok, ca: "issuing")
        #expect(cert.notAfter.timeIntervalSince(cert.notBefore) + 1 == 100 * 86_400)
        let tooLong = try Fixtures.request("tls-server", subject: "CN=www.example.tg", sans: ["dns:www.example.tg"], validity: "101d")
        let error = try #require(throws: ETrustError.self) { try pki.authority.issue(tooLong, ca: "issuing") }
        #expect(error.reason.contains("validity.max"), "\(error.reason)")
    }

    @Test("the root signs CA certificates only (root-ca.yaml; CA/B BR 6.1.7): no subscriber certificate from it")
    func rootIssuesNoSubscriberCertificate() throws {
        let pki = try PKI()
        let recordsBefore = try pki.allCertificateRecords().count
        let request = try Fixtures.request("tls-server", subject: "CN=www.example.tg", sans: ["dns:www.example.tg"])
        let outcome = Result(catching: { try pki.authority.issue(request, ca: "root") })
        if case .success(let (cert, _)) = outcome {
            Issue.record("the root issued the subscriber certificate \(cert.serialHex)")
        }
        #expect(try pki.allCertificateRecords().count == recordsBefore)
    }

    @Test("an expired CA issues nothing")
    func expiredCA() throws {
        // A root and issuing CA made in 2000 have expired by 2026 (sub-ca: 10y).
        let made = try PKI(clock: FixedClock(Fixtures.utc("2000-01-01T00:00:00Z")))
        let later = try Authority(home: try Home.open(made.home), clock: FixedClock(Fixtures.utc("2026-06-01T00:00:00Z")),
                                  passphrase: { Array(PKI.passphrase.utf8) })
        let request = try Fixtures.request("tls-client", subject: "CN=device")
        let error = try #require(throws: ETrustError.self) { try later.issue(request, ca: "issuing") }
        #expect(error.category == .refused)
        #expect(error.reason.contains("expired"))
    }
}

import ETrustCA
import ETrustCore
import ETrustPolicy
import ETrustTestSupport
import Foundation
import Testing

/// Linter.check on to-be-signed certificates built here, one defect at a time.
@Suite("Linter")
struct LinterTests {
    struct Fixture {
        let pki: PKI
        let issuer: Certificate
        let profile: Profile
        let now: Date
        let subjectKey: PublicKey

        init(profile name: String = "tls-server") throws {
            now = Fixtures.utc("2026-06-01T00:00:00Z")
            pki = try PKI(clock: FixedClock(now))
            issuer = try pki.caCertificate("issuing")
            profile = try pki.authority.profile(name)
            subjectKey = try PrivateKey.generate(.ecP256).publicKey
        }

        /// A TBS the linter accepts: what Authority builds for a tls-server certificate.
        func tbs(subject: String? = "CN=www.example.tg", sans: [GeneralName] = [.dns("www.example.tg")],
                 sanCritical: Bool = false) throws -> TBSCertificate {
            var extensions: [Extension] = [
                .basicConstraints(ca: false, pathLength: nil),
                .keyUsage([.digitalSignature]),
                try .extendedKeyUsage(["1.3.6.1.5.5.7.3.1"]),
                .subjectKeyIdentifier(subjectKey.keyIdentifier),
                .authorityKeyIdentifier(try #require(issuer.subjectKeyIdentifier)),
            ]
            if !sans.isEmpty { extensions.append(try .subjectAltName(sans, critical: sanCritical)) }
            extensions.append(try .certificatePolicies([PolicyInformation(oid: "2.23.140.1.2.1")]))
            return TBSCertificate(
                serial: [0x4a] + Array(repeating: 0x11, count: 15), signatureAlgorithm: .ecdsaWithSHA256, issuer: issuer.subject,
                // As Authority does: backdated, but never before the issuer's own notBefore.
                notBefore: max(now.addingTimeInterval(-3600), issuer.notBefore),
                notAfter: max(now.addingTimeInterval(-3600), issuer.notBefore).addingTimeInterval(90 * 86_400 - 1),
                subject: try subject.map { try Fixtures.dn($0) } ?? Fixtures.emptyDN,
                subjectPublicKeyInfo: subjectKey.subjectPublicKeyInfo, extensions: extensions)
        }

        func check(_ tbs: TBSCertificate, issuerIsCA: Bool = true) -> [String] {
            Linter.check(tbs, profile: profile, issuerNotBefore: issuer.notBefore, issuerNotAfter: issuer.notAfter,
                         issuerIsCA: issuerIsCA).map(\.rule)
        }
    }

    @Test("the baseline tls-server TBS has no finding, and signs into a certificate OpenSSL verifies")
    func baseline() throws {
        let f = try Fixture()
        #expect(f.check(try f.tbs()) == [])
        #expect(f.check(try f.tbs(subject: nil, sanCritical: true)) == [])
        // The baseline is a real certificate: signed with the issuing CA's key, OpenSSL accepts it.
        let key = try PrivateKey.load(fromFile: f.pki.keysDirectory + "/issuing.key.pem", passphrase: Array(PKI.passphrase.utf8))
        for tbs in [try f.tbs(), try f.tbs(subject: nil, sanCritical: true)] {
            let cert = try tbs.sign(with: try Signer(key: key))
            let verify = try f.pki.opensslVerify(cert, purpose: "sslserver", at: f.now)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }
        // CN may be any of the SANs, in any case.
        #expect(f.check(try f.tbs(subject: "CN=WWW.Example.TG", sans: [.dns("a.example.tg"), .dns("www.example.tg")])) == [])
    }

    @Test("empty subject with a non-critical SAN -> rfc5280.subjectAltName")
    func emptySubjectNonCriticalSAN() throws {
        let f = try Fixture()
        let rules = f.check(try f.tbs(subject: nil, sanCritical: false))
        #expect(rules.contains("rfc5280.subjectAltName"), "\(rules)")
    }

    @Test("notBefore before the issuer's notBefore -> rfc5280.validity")
    func beforeIssuer() throws {
        let f = try Fixture()
        var tbs = try f.tbs()
        tbs.notBefore = f.issuer.notBefore.addingTimeInterval(-1)
        #expect(f.check(tbs).contains("rfc5280.validity"))
    }

    @Test("notAfter beyond the issuer's notAfter -> rfc5280.validity")
    func beyondIssuer() throws {
        let f = try Fixture()
        var tbs = try f.tbs()
        tbs.notAfter = f.issuer.notAfter.addingTimeInterval(1)
        let rules = f.check(tbs)
        #expect(rules.contains("rfc5280.validity"), "\(rules)")
        tbs.notAfter = f.issuer.notAfter
        #expect(!f.check(tbs).contains("rfc5280.validity"))
    }

    @Test("notAfter not after notBefore -> rfc5280.validity")
    func inverted() throws {
        let f = try Fixture()
        var tbs = try f.tbs()
        tbs.notAfter = tbs.notBefore
        #expect(f.check(tbs).contains("rfc5280.validity"))
    }

    @Test("a tls-server CN that is not one of the SANs -> cabf.commonName")
    func commonNameNotInSAN() throws {
        let f = try Fixture()
        let rules = f.check(try f.tbs(subject: "CN=other.example.tg"))
        #expect(rules == ["cabf.commonName"], "\(rules)")
    }

    @Test("a tls-server TBS without SAN -> cabf.subjectAltName")
    func noSAN() throws {
        let f = try Fixture()
        #expect(f.check(try f.tbs(sans: [])).contains("cabf.subjectAltName"))
    }

    @Test("validity beyond the profile's maximum (the backdate counts against it) -> profile.validity")
    func profileValidity() throws {
        let f = try Fixture()
        var tbs = try f.tbs()
        // 200 days, notBefore to notAfter inclusive, is the most on 2026-06-01 (BR 6.3.2).
        tbs.notAfter = tbs.notBefore.addingTimeInterval(200 * 86_400 - 1)
        #expect(!f.check(tbs).contains("profile.validity"))
        tbs.notAfter = tbs.notAfter.addingTimeInterval(1)
        #expect(f.check(tbs).contains("profile.validity"))
    }

    @Test("serial defects -> rfc5280.serial / cabf.serial")
    func serials() throws {
        let f = try Fixture()
        var tbs = try f.tbs()
        tbs.serial = [0x00]
        #expect(f.check(tbs).contains("rfc5280.serial"))
        tbs.serial = [0x01, 0x02, 0x03, 0x04]
        #expect(f.check(tbs).contains("cabf.serial"))
        tbs.serial = Array(repeating: 0x01, count: 21)
        #expect(f.check(tbs).contains("rfc5280.serial"))
    }

    @Test("structural defects: duplicate extension, missing AKI, non-CA issuer, critical AIA")
    func structure() throws {
        let f = try Fixture()
        var tbs = try f.tbs()
        tbs.extensions.append(.keyUsage([.digitalSignature]))
        #expect(f.check(tbs).contains("rfc5280.extensions"))

        tbs = try f.tbs()
        tbs.extensions.removeAll { $0.oid == ExtensionOID.authorityKeyIdentifier }
        #expect(f.check(tbs).contains("rfc5280.authorityKeyIdentifier"))

        tbs = try f.tbs()
        tbs.extensions.removeAll { $0.oid == ExtensionOID.keyUsage }
        #expect(f.check(tbs).contains("rfc5280.keyUsage"))

        #expect(f.check(try f.tbs(), issuerIsCA: false).contains("rfc5280.issuer"))

        tbs = try f.tbs()
        let aia = try Extension.authorityInfoAccess(ocsp: ["http://ocsp.example.org"], caIssuers: [])
        tbs.extensions.append(Extension(oid: aia.oid, critical: true, value: aia.value))
        #expect(f.check(tbs).contains("rfc5280.criticality"))

        tbs = try f.tbs()
        tbs.signatureAlgorithm = .ecdsaWithSHA1
        #expect(f.check(tbs).contains("signature"))
    }

    @Test("the linter judges the TBS's own keyUsage and basicConstraints, not only the profile's")
    func judgesTheTBS() throws {
        let f = try Fixture()
        var tbs = try f.tbs()
        tbs.extensions = tbs.extensions.map { $0.oid == ExtensionOID.keyUsage ? .keyUsage([.digitalSignature, .keyCertSign]) : $0 }
        // RFC 5280 4.2.1.3: keyCertSign only where basicConstraints cA is true.
        #expect(f.check(tbs).contains("rfc5280.keyUsage"), "an end-entity TBS asserting keyCertSign passed the lint")

        tbs = try f.tbs()
        tbs.extensions = tbs.extensions.map { $0.oid == ExtensionOID.basicConstraints ? .basicConstraints(ca: true, pathLength: nil) : $0 }
        #expect(f.check(tbs).contains("profile.basicConstraints"), "an end-entity profile's TBS with cA=true passed the lint")
    }
}

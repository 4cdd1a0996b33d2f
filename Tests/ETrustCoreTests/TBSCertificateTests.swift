import ETrustCore
import Foundation
import Testing

struct TBSCase: Sendable, CustomTestStringConvertible {
    let label: String
    let issuerKey: KeyAlgorithm
    let serial: [UInt8]
    let notAfter: Date
    var testDescription: String { label }
}

@Suite("TBSCertificate is byte-identical with OpenSSL's")
struct TBSCertificateTests {
    static let passphrase = "tbs test passphrase"
    static let serial16: [UInt8] = [0x7a, 0x01, 0xfe, 0x33, 0x10, 0x00, 0x9c, 0x42, 0x55, 0xaa, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06]
    static let notBefore = utc(2026, 1, 1)

    static let cases: [TBSCase] = [
        TBSCase(label: "P-256, UTCTime notAfter 2049-12-31", issuerKey: .ecP256, serial: serial16, notAfter: utc(2049, 12, 31, 23, 59, 59)),
        TBSCase(label: "P-256, GeneralizedTime notAfter 2050-06-01", issuerKey: .ecP256, serial: serial16, notAfter: utc(2050, 6, 1)),
        TBSCase(label: "P-256, serial with top bit set", issuerKey: .ecP256,
                serial: [0x80] + serial16.dropFirst(), notAfter: utc(2030, 1, 1)),
        TBSCase(label: "P-256, serial with leading zero bytes", issuerKey: .ecP256,
                serial: [0x00, 0x00, 0x01, 0x02], notAfter: utc(2030, 1, 1)),
        TBSCase(label: "P-384 signer", issuerKey: .ecP384, serial: serial16, notAfter: utc(2050, 1, 1)),
        TBSCase(label: "RSA-2048 signer", issuerKey: .rsa2048, serial: serial16, notAfter: utc(2049, 12, 31, 23, 59, 59)),
        TBSCase(label: "Ed25519 signer", issuerKey: .ed25519, serial: serial16, notAfter: utc(2060, 2, 29, 12, 0, 0)),
    ]

    static func extensions(subjectKey: PublicKey, issuerKey: PublicKey) throws -> [Extension] {
        [
            .basicConstraints(ca: false, pathLength: nil),
            .keyUsage([.digitalSignature]),
            try .extendedKeyUsage([ExtendedKeyUsage.oid("serverAuth")!, ExtendedKeyUsage.oid("clientAuth")!]),
            try .subjectAltName([.dns("leaf.example.org"), try GeneralName(parsing: "ip:192.0.2.10")], critical: false),
            .subjectKeyIdentifier(subjectKey.keyIdentifier),
            .authorityKeyIdentifier(issuerKey.keyIdentifier),
            try .cRLDistributionPoints(["http://crl.example.org/ca.crl"]),
            try .authorityInfoAccess(ocsp: ["http://ocsp.example.org"], caIssuers: ["http://ca.example.org/ca.crt"]),
            try .certificatePolicies([PolicyInformation(oid: "2.23.140.1.2.1")]),
        ]
    }

    static func digest(for algorithm: KeyAlgorithm) -> String? {
        switch algorithm {
        case .ecP384: "SHA384"
        case .ed25519: nil
        default: "SHA256"
        }
    }

    @Test("encode() equals i2d_re_X509_tbs of the same certificate built with OpenSSL", arguments: cases)
    func matchesOpenSSL(_ c: TBSCase) throws {
        let issuerKey = try PrivateKey.generate(c.issuerKey)
        let signer = try Signer(key: issuerKey)
        let subjectKey = try PrivateKey.generate(.ecP256)
        let issuer = try DistinguishedName(parsing: "CN=Test Issuing CA,O=Gov,C=TG")
        let subject = try DistinguishedName(parsing: "CN=leaf.example.org+serialNumber=42,O=Ama Kɔfi Ltd,C=GH")
        let exts = try Self.extensions(subjectKey: try subjectKey.publicKey, issuerKey: try issuerKey.publicKey)
        let tbs = TBSCertificate(serial: c.serial, signatureAlgorithm: signer.algorithm, issuer: issuer, notBefore: Self.notBefore,
                                 notAfter: c.notAfter, subject: subject, subjectPublicKeyInfo: try subjectKey.subjectPublicKeyInfo,
                                 extensions: exts)
        let ours = try tbs.encode()

        // The same certificate through OpenSSL's object model.
        let x = try OpenSSLCert()
        try x.setVersion3()
        try x.setSerial(c.serial)
        try x.setIssuer(issuer)
        try x.setSubject(subject)
        try x.setPublicKey(try OpenSSLKey.fromSPKI(try subjectKey.subjectPublicKeyInfo))
        try x.setValidity(notBefore: Self.notBefore, notAfter: c.notAfter)
        for e in exts { try x.add(e) }
        let pem = try issuerKey.encryptedPKCS8PEM(passphrase: Array(Self.passphrase.utf8), iterations: 1000)
        let osslIssuerKey = try OpenSSLKey.fromEncryptedPEM(pem, passphrase: Self.passphrase)
        try x.sign(with: osslIssuerKey, digest: Self.digest(for: c.issuerKey))

        let theirs = try x.tbsDER
        #expect(Hex.encode(ours) == Hex.encode(theirs))

        // Time types: UTCTime (0x17) through 2049, GeneralizedTime (0x18) from 2050 (RFC 5280 4.1.2.5).
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: c.notAfter).year!
        let tag: UInt8 = year < 2050 ? 0x17 : 0x18
        let len: UInt8 = year < 2050 ? 13 : 15
        #expect(contains(ours, [tag, len]))

        // OpenSSL's full certificate parses with our Certificate and its signature verifies under our key.
        let certDER = try x.der
        let cert = try Certificate(der: certDER)
        #expect(Array(cert.tbsDER) == ours)
        #expect(cert.signatureAlgorithm == signer.algorithm)
        #expect(try cert.isSigned(by: try issuerKey.publicKey))
        #expect(cert.version == 3)
        #expect(Array(cert.serial.drop(while: { $0 == 0 })) == Array(c.serial.drop(while: { $0 == 0 })))
        #expect(cert.issuer == issuer)
        #expect(cert.subject == subject)
        #expect(cert.notBefore == Self.notBefore)
        #expect(cert.notAfter == c.notAfter)
        #expect(cert.extensions == exts)

        // Our own signature over our TBS verifies with OpenSSL.
        let signed = try tbs.sign(with: signer)
        #expect(Array(signed.tbsDER) == ours)
        let ourX509 = try OpenSSLCertificate(der: signed.der)
        #expect(ourX509.verifySignature(with: osslIssuerKey.handle) == 1)
    }

    @Test("serial is encoded as a positive minimal INTEGER", arguments: [
        ([0x01] as [UInt8], [0x02, 0x01, 0x01] as [UInt8]),
        ([0x80], [0x02, 0x02, 0x00, 0x80]),
        ([0x00, 0x00, 0x7f], [0x02, 0x01, 0x7f]),
        ([0x00, 0xff], [0x02, 0x02, 0x00, 0xff]),
    ])
    func serialEncoding(_ serial: [UInt8], _ expected: [UInt8]) throws {
        let key = try PrivateKey.generate(.ed25519)
        let dn = try DistinguishedName(parsing: "CN=x")
        let tbs = TBSCertificate(serial: serial, signatureAlgorithm: .ed25519, issuer: dn, notBefore: utc(2026, 1, 1),
                                 notAfter: utc(2027, 1, 1), subject: dn, subjectPublicKeyInfo: try key.subjectPublicKeyInfo, extensions: [])
        let der = try tbs.encode()
        // SEQUENCE, [0] { INTEGER 2 }, then the serial.
        let versionEnd = der[1] & 0x80 == 0 ? 2 + 5 : 2 + Int(der[1] & 0x7f) + 5
        #expect(Array(der[versionEnd..<versionEnd + expected.count]) == expected)
        // No extensions: no [3] at the end, and the SPKI is the last element.
        #expect(Array(der.suffix(try key.subjectPublicKeyInfo.count)) == (try key.subjectPublicKeyInfo))
    }

    @Test("signature AlgorithmIdentifiers match OpenSSL's", arguments: [
        (SignatureAlgorithm.ecdsaWithSHA256, "300a06082a8648ce3d040302"),
        (.ecdsaWithSHA384, "300a06082a8648ce3d040303"),
        (.ecdsaWithSHA512, "300a06082a8648ce3d040304"),
        (.sha256WithRSA, "300d06092a864886f70d01010b0500"),
        (.sha384WithRSA, "300d06092a864886f70d01010c0500"),
        (.sha512WithRSA, "300d06092a864886f70d01010d0500"),
        (.ed25519, "300506032b6570"),
    ])
    func algorithmIdentifiers(_ algorithm: SignatureAlgorithm, _ hex: String) throws {
        #expect(Hex.encode(algorithm.algorithmIdentifierDER) == hex)
        #expect(try SignatureAlgorithm(oid: algorithm.oid) == algorithm)
        #expect(!algorithm.isWeak)
    }

    @Test("SHA-1 algorithms are parsed but weak; curves without a hash pairing are refused")
    func weakAndUnsupported() throws {
        #expect(SignatureAlgorithm.sha1WithRSA.isWeak)
        #expect(SignatureAlgorithm.ecdsaWithSHA1.isWeak)
        #expect(try SignatureAlgorithm.forSigning(with: .ec(curve: "P-384", bits: 384)) == .ecdsaWithSHA384)
        #expect(try SignatureAlgorithm.forSigning(with: .rsa(bits: 3072)) == .sha256WithRSA)
        expectETrustError(code: .unsupportedAlgorithm, category: .badInput) {
            _ = try SignatureAlgorithm.forSigning(with: .ec(curve: "P-192", bits: 192))
        }
        expectETrustError(code: .unsupportedAlgorithm, category: .badInput) {
            _ = try SignatureAlgorithm.forSigning(with: .ed448)
        }
    }

    // MARK: Self-signed CA and leaf, checked by the openssl CLI

    @Test("a self-signed CA and a leaf built from TBSCertificate pass `openssl verify`",
          arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func opensslVerifies(_ algorithm: KeyAlgorithm) throws {
        let dir = try TempDir()
        let caKey = try PrivateKey.generate(algorithm)
        let caSigner = try Signer(key: caKey)
        let caPub = try caKey.publicKey
        let caName = try DistinguishedName(parsing: "CN=eTrust Test Root \(algorithm.rawValue),O=Gov,C=TG")
        let now = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 3600).rounded(.down))
        let caTBS = TBSCertificate(
            serial: [0x01] + (0..<15).map { _ in UInt8.random(in: 0...255) }, signatureAlgorithm: caSigner.algorithm,
            issuer: caName, notBefore: now, notAfter: utc(2050, 6, 1), subject: caName,
            subjectPublicKeyInfo: caPub.subjectPublicKeyInfo,
            extensions: [
                .basicConstraints(ca: true, pathLength: 0),
                .keyUsage([.keyCertSign, .cRLSign]),
                .subjectKeyIdentifier(caPub.keyIdentifier),
                .authorityKeyIdentifier(caPub.keyIdentifier),
            ])
        let ca = try caTBS.sign(with: caSigner)
        #expect(ca.isSelfIssued)
        #expect(try ca.isSigned(by: caPub))
        #expect(ca.basicConstraints?.ca == true)
        #expect(ca.basicConstraints?.pathLength == 0)
        #expect(ca.keyUsage == [.keyCertSign, .cRLSign])
        #expect(ca.subjectKeyIdentifier == caPub.keyIdentifier)
        try dir.write("ca.pem", ca.pem)

        let leafKey = try PrivateKey.generate(.ecP256)
        let leafPub = try leafKey.publicKey
        let leafTBS = TBSCertificate(
            serial: [0x42, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07], signatureAlgorithm: caSigner.algorithm,
            issuer: caName, notBefore: now, notAfter: now.addingTimeInterval(90 * 86_400),
            subject: try DistinguishedName(parsing: "CN=leaf.example.org,O=Gov,C=TG"),
            subjectPublicKeyInfo: leafPub.subjectPublicKeyInfo,
            extensions: [
                .basicConstraints(ca: false, pathLength: nil),
                .keyUsage([.digitalSignature]),
                try .extendedKeyUsage([ExtendedKeyUsage.oid("serverAuth")!]),
                try .subjectAltName([.dns("leaf.example.org")], critical: false),
                .subjectKeyIdentifier(leafPub.keyIdentifier),
                .authorityKeyIdentifier(caPub.keyIdentifier),
            ])
        let leaf = try leafTBS.sign(with: caSigner)
        #expect(try leaf.isSigned(by: caPub))
        #expect(try !leaf.isSigned(by: leafPub))
        #expect(leaf.subjectAltNames == [.dns("leaf.example.org")])
        #expect(leaf.basicConstraints?.ca == false)
        try dir.write("leaf.pem", leaf.pem)

        let text = try runOpenSSLOK(["x509", "-in", "ca.pem", "-noout", "-text"], in: dir).stdout
        #expect(text.contains("CA:TRUE, pathlen:0"))
        #expect(text.contains("Certificate Sign, CRL Sign"))
        #expect(text.contains("Version: 3 (0x2)"))
        #expect(text.contains("Signature Algorithm: \(caSigner.algorithm.description)") || algorithm == .ed25519 && text.contains("ED25519"))
        #expect(try ca.text.contains("CA:TRUE"))

        let selfCheck = try runOpenSSL(["verify", "-x509_strict", "-CAfile", "ca.pem", "ca.pem"], in: dir)
        #expect(selfCheck.status == 0, "\(selfCheck.output)")
        #expect(selfCheck.stdout.contains("ca.pem: OK"))

        let leafCheck = try runOpenSSL(["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "ca.pem", "leaf.pem"], in: dir)
        #expect(leafCheck.status == 0, "\(leafCheck.output)")
        #expect(leafCheck.stdout.contains("leaf.pem: OK"))

        // A certificate whose signature is damaged is rejected by OpenSSL.
        var broken = leaf.der
        broken[broken.count - 3] ^= 0x01
        try dir.write("broken.pem", PEM.encode(broken, label: "CERTIFICATE"))
        let brokenCheck = try runOpenSSL(["verify", "-CAfile", "ca.pem", "broken.pem"], in: dir)
        #expect(brokenCheck.status != 0)
        #expect(try Certificate(der: broken).isSigned(by: caPub) == false)
    }
}

@Suite("Signed certificates")
struct SignedCertificateTests {
    /// TBSCertificate.sign builds the Certificate from the fields it encoded instead of parsing the
    /// DER back; this proves the two agree, for short and long (multi-byte length) signatures.
    @Test("sign() returns the same values a parse of its DER gives", arguments: [KeyAlgorithm.ecP256, .ecP384, .rsa2048, .ed25519])
    func signMatchesParse(_ algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let signer = try Signer(key: key)
        let name = try DistinguishedName(parsing: "CN=Signed,O=etrust,C=TG")
        let spki = try key.subjectPublicKeyInfo
        let tbs = TBSCertificate(serial: [0x00, 0x7f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07], signatureAlgorithm: signer.algorithm,
                                 issuer: name, notBefore: Date(timeIntervalSince1970: 1_780_000_000.75),
                                 notAfter: Date(timeIntervalSince1970: 2_600_000_000), subject: name, subjectPublicKeyInfo: spki,
                                 extensions: [.basicConstraints(ca: true, pathLength: 0), .keyUsage([.keyCertSign, .cRLSign])])
        let signed = try tbs.sign(with: signer)
        let parsed = try Certificate(der: signed.der)
        #expect(signed.tbsDER.elementsEqual(parsed.tbsDER))
        #expect(signed.serial == parsed.serial)
        #expect(signed.serialHex == parsed.serialHex)
        #expect(signed.issuer == parsed.issuer)
        #expect(signed.subject == parsed.subject)
        #expect(signed.notBefore == parsed.notBefore)
        #expect(signed.notAfter == parsed.notAfter)
        #expect(signed.subjectPublicKeyInfo == parsed.subjectPublicKeyInfo)
        #expect(signed.extensions == parsed.extensions)
        #expect(signed.signatureAlgorithm == parsed.signatureAlgorithm)
        #expect(signed.signature == parsed.signature)
        #expect(try parsed.isSigned(by: try key.publicKey))
    }
}

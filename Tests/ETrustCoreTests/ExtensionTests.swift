import ETrustCore
import Foundation
import Testing

/// One extension built by our builder and by OpenSSL's config syntax.
struct ExtensionCase: Sendable, CustomTestStringConvertible {
    let label: String
    let opensslName: String
    let opensslValue: String
    var config: String? = nil
    let ours: @Sendable () throws -> Extension
    var testDescription: String { label }
}

@Suite("Extensions are byte-identical with OpenSSL's")
struct ExtensionTests {
    static let cases: [ExtensionCase] = [
        ExtensionCase(label: "basicConstraints CA pathlen 0", opensslName: "basicConstraints",
                      opensslValue: "critical,CA:TRUE,pathlen:0") { .basicConstraints(ca: true, pathLength: 0) },
        ExtensionCase(label: "basicConstraints CA pathlen 3", opensslName: "basicConstraints",
                      opensslValue: "critical,CA:TRUE,pathlen:3") { .basicConstraints(ca: true, pathLength: 3) },
        ExtensionCase(label: "basicConstraints CA no pathlen", opensslName: "basicConstraints",
                      opensslValue: "critical,CA:TRUE") { .basicConstraints(ca: true, pathLength: nil) },
        ExtensionCase(label: "basicConstraints end entity", opensslName: "basicConstraints",
                      opensslValue: "critical,CA:FALSE") { .basicConstraints(ca: false, pathLength: nil) },
        ExtensionCase(label: "basicConstraints end entity ignores pathLength", opensslName: "basicConstraints",
                      opensslValue: "critical,CA:FALSE") { .basicConstraints(ca: false, pathLength: 2) },
        ExtensionCase(label: "keyUsage digitalSignature", opensslName: "keyUsage",
                      opensslValue: "critical,digitalSignature") { .keyUsage([.digitalSignature]) },
        ExtensionCase(label: "keyUsage keyCertSign cRLSign", opensslName: "keyUsage",
                      opensslValue: "critical,keyCertSign,cRLSign") { .keyUsage([.keyCertSign, .cRLSign]) },
        ExtensionCase(label: "keyUsage digitalSignature nonRepudiation", opensslName: "keyUsage",
                      opensslValue: "critical,digitalSignature,nonRepudiation") { .keyUsage([.digitalSignature, .nonRepudiation]) },
        ExtensionCase(label: "keyUsage keyEncipherment keyAgreement", opensslName: "keyUsage",
                      opensslValue: "critical,keyEncipherment,keyAgreement") { .keyUsage([.keyEncipherment, .keyAgreement]) },
        ExtensionCase(label: "keyUsage decipherOnly (second byte)", opensslName: "keyUsage",
                      opensslValue: "critical,keyAgreement,decipherOnly") { .keyUsage([.keyAgreement, .decipherOnly]) },
        ExtensionCase(label: "keyUsage digitalSignature keyCertSign cRLSign", opensslName: "keyUsage",
                      opensslValue: "critical,digitalSignature,keyCertSign,cRLSign") { .keyUsage([.cRLSign, .digitalSignature, .keyCertSign]) },
        ExtensionCase(label: "extendedKeyUsage serverAuth clientAuth", opensslName: "extendedKeyUsage",
                      opensslValue: "serverAuth,clientAuth") {
            try .extendedKeyUsage([ExtendedKeyUsage.oid("serverAuth")!, ExtendedKeyUsage.oid("clientAuth")!])
        },
        ExtensionCase(label: "extendedKeyUsage critical OCSPSigning", opensslName: "extendedKeyUsage",
                      opensslValue: "critical,OCSPSigning") { try .extendedKeyUsage([ExtendedKeyUsage.oid("OCSPSigning")!], critical: true) },
        ExtensionCase(label: "extendedKeyUsage by OID", opensslName: "extendedKeyUsage",
                      opensslValue: "1.3.6.1.5.5.7.3.36,emailProtection") {
            try .extendedKeyUsage([ExtendedKeyUsage.oid("documentSigning")!, ExtendedKeyUsage.oid("1.3.6.1.5.5.7.3.4")!])
        },
        ExtensionCase(label: "subjectAltName DNS email IPv4 IPv6 URI", opensslName: "subjectAltName",
                      opensslValue: "DNS:a.example,email:a@example.org,IP:192.0.2.1,IP:2001:db8::1,URI:https://example.org/x") {
            try .subjectAltName([
                try GeneralName(parsing: "dns:a.example"), try GeneralName(parsing: "email:a@example.org"),
                try GeneralName(parsing: "ip:192.0.2.1"), try GeneralName(parsing: "ip:2001:db8::1"),
                try GeneralName(parsing: "uri:https://example.org/x"),
            ], critical: false)
        },
        ExtensionCase(label: "subjectAltName critical", opensslName: "subjectAltName",
                      opensslValue: "critical,DNS:only.example") { try .subjectAltName([.dns("only.example")], critical: true) },
        ExtensionCase(label: "subjectAltName dirName", opensslName: "subjectAltName",
                      opensslValue: "dirName:dir_sect", config: "[dir_sect]\nC=TG\nO=Gov\nCN=Alice\n") {
            try .subjectAltName([try GeneralName(parsing: "dirname:CN=Alice,O=Gov,C=TG")], critical: false)
        },
        ExtensionCase(label: "cRLDistributionPoints one URI", opensslName: "crlDistributionPoints",
                      opensslValue: "URI:http://crl.example.org/ca.crl") { try .cRLDistributionPoints(["http://crl.example.org/ca.crl"]) },
        ExtensionCase(label: "cRLDistributionPoints two DPs", opensslName: "crlDistributionPoints",
                      opensslValue: "URI:http://a.example/1.crl,URI:http://b.example/2.crl") {
            // One DistributionPoint per URI, as OpenSSL's short syntax makes them.
            try .cRLDistributionPoints(["http://a.example/1.crl", "http://b.example/2.crl"])
        },
        ExtensionCase(label: "freshestCRL", opensslName: "freshestCRL",
                      opensslValue: "URI:http://crl.example.org/delta.crl") { try .freshestCRL(["http://crl.example.org/delta.crl"]) },
        ExtensionCase(label: "authorityInfoAccess OCSP + caIssuers", opensslName: "authorityInfoAccess",
                      opensslValue: "OCSP;URI:http://ocsp.example.org,caIssuers;URI:http://ca.example.org/ca.crt") {
            try .authorityInfoAccess(ocsp: ["http://ocsp.example.org"], caIssuers: ["http://ca.example.org/ca.crt"])
        },
        ExtensionCase(label: "certificatePolicies OID only", opensslName: "certificatePolicies",
                      opensslValue: "2.23.140.1.2.1") { try .certificatePolicies([PolicyInformation(oid: "2.23.140.1.2.1")]) },
        ExtensionCase(label: "certificatePolicies two OIDs", opensslName: "certificatePolicies",
                      opensslValue: "1.3.6.1.4.1.99999.1.2,2.23.140.1.2.2") {
            try .certificatePolicies([PolicyInformation(oid: "1.3.6.1.4.1.99999.1.2"), PolicyInformation(oid: "2.23.140.1.2.2")])
        },
        ExtensionCase(label: "certificatePolicies CPS + UTF-8 notice", opensslName: "certificatePolicies",
                      opensslValue: "@pol",
                      config: "[pol]\npolicyIdentifier=1.3.6.1.4.1.99999.1\nCPS.1=\"https://cps.example.org/cps\"\nuserNotice.1=@notice\n[notice]\nexplicitText=\"UTF8:Politique de certification\"\n") {
            try .certificatePolicies([PolicyInformation(oid: "1.3.6.1.4.1.99999.1", cpsURI: "https://cps.example.org/cps",
                                                        userNotice: "Politique de certification")])
        },
        ExtensionCase(label: "nameConstraints permitted DNS, excluded email", opensslName: "nameConstraints",
                      opensslValue: "critical,permitted;DNS:example.gov,excluded;email:example.com") {
            try .nameConstraints(permitted: [try GeneralSubtree(parsing: "dns:.example.gov")],
                                 excluded: [try GeneralSubtree(parsing: "email:example.com")])
        },
        ExtensionCase(label: "nameConstraints IP ranges", opensslName: "nameConstraints",
                      opensslValue: "critical,permitted;IP:10.0.0.0/255.0.0.0,permitted;IP:2001:db8::/ffff:ffff::") {
            try .nameConstraints(permitted: [try GeneralSubtree(parsing: "ip:10.0.0.0/8"), try GeneralSubtree(parsing: "ip:2001:db8::/32")],
                                 excluded: [])
        },
        ExtensionCase(label: "nameConstraints dirName, excluded only", opensslName: "nameConstraints",
                      opensslValue: "critical,permitted;dirName:dn,excluded;DNS:bad.example", config: "[dn]\nC=TG\nO=Gov\n") {
            try .nameConstraints(permitted: [try GeneralSubtree(parsing: "dirname:O=Gov,C=TG")],
                                 excluded: [try GeneralSubtree(parsing: "dns:bad.example")])
        },
        ExtensionCase(label: "policyConstraints both", opensslName: "policyConstraints",
                      opensslValue: "critical,requireExplicitPolicy:0,inhibitPolicyMapping:1") {
            try .policyConstraints(requireExplicitPolicy: 0, inhibitPolicyMapping: 1)
        },
        ExtensionCase(label: "policyConstraints requireExplicitPolicy only", opensslName: "policyConstraints",
                      opensslValue: "critical,requireExplicitPolicy:2") { try .policyConstraints(requireExplicitPolicy: 2, inhibitPolicyMapping: nil) },
        ExtensionCase(label: "policyMappings", opensslName: "policyMappings",
                      opensslValue: "critical,1.3.6.1.4.1.99999.1:2.23.140.1.2.1") {
            try .policyMappings([(issuerDomain: "1.3.6.1.4.1.99999.1", subjectDomain: "2.23.140.1.2.1")])
        },
        ExtensionCase(label: "inhibitAnyPolicy 0", opensslName: "inhibitAnyPolicy", opensslValue: "critical,0") { .inhibitAnyPolicy(0) },
        ExtensionCase(label: "inhibitAnyPolicy 1", opensslName: "inhibitAnyPolicy", opensslValue: "critical,1") { .inhibitAnyPolicy(1) },
        ExtensionCase(label: "ocspNoCheck", opensslName: "noCheck", opensslValue: "ignored") { .ocspNoCheck },
    ]

    @Test("value, criticality and full DER match X509V3_EXT_nconf", arguments: cases)
    func matchesOpenSSL(_ c: ExtensionCase) throws {
        let ours = try c.ours()
        let theirs = try opensslExtension(c.opensslName, c.opensslValue, config: c.config)
        #expect(Hex.encode(ours.value) == Hex.encode(theirs.value))
        #expect(ours.critical == theirs.critical)
        #expect(Hex.encode(ours.der) == Hex.encode(theirs.der))
        // The OID agrees with OpenSSL's name for it.
        #expect(ours.oid == Self.oid(ofExtensionNamed: c.opensslName))
    }

    static func oid(ofExtensionNamed name: String) -> String { OpenSSLReference.oid(ofExtensionNamed: name) }

    @Test("subjectKeyIdentifier equals OpenSSL's 'hash' (SHA-1 of the key BIT STRING)",
          arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func subjectKeyIdentifier(_ algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let pub = try key.publicKey
        let cert = try OpenSSLCert()
        try cert.setPublicKey(try OpenSSLKey.fromSPKI(pub.subjectPublicKeyInfo))
        let theirs = try opensslExtension("subjectKeyIdentifier", "hash", subject: cert)
        let ours = Extension.subjectKeyIdentifier(pub.keyIdentifier)
        #expect(pub.keyIdentifier.count == 20)
        #expect(ours.value == theirs.value)
        #expect(ours.critical == theirs.critical)
        #expect(ours.der == theirs.der)
        #expect(ours.value == [0x04, 0x14] + pub.keyIdentifier)
    }

    @Test("authorityKeyIdentifier (keyid only) equals OpenSSL's 'keyid:always' and the known structure")
    func authorityKeyIdentifier() throws {
        let caKey = try PrivateKey.generate(.ecP256)
        let kid = try caKey.publicKey.keyIdentifier
        let issuer = try OpenSSLCert()
        try issuer.setPublicKey(try OpenSSLKey.fromSPKI(try caKey.subjectPublicKeyInfo))
        try issuer.add(.subjectKeyIdentifier(kid))
        let subject = try OpenSSLCert()
        try subject.setPublicKey(try OpenSSLKey.fromSPKI(try PrivateKey.generate(.ecP256).subjectPublicKeyInfo))

        let ours = Extension.authorityKeyIdentifier(kid)
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
        #expect(ours.value == [0x30, 0x16, 0x80, 0x14] + kid)
        #expect(!ours.critical)
        let theirs = try opensslExtension("authorityKeyIdentifier", "keyid:always", subject: subject, issuer: issuer)
        #expect(ours.value == theirs.value)
        #expect(ours.der == theirs.der)
    }

    @Test("Extension.der omits a FALSE critical flag and encodes TRUE as 0xFF")
    func extensionDER() {
        let e = Extension(oid: "2.5.29.54", critical: true, value: [0x02, 0x01, 0x00])
        #expect(e.der == [0x30, 0x0d, 0x06, 0x03, 0x55, 0x1d, 0x36, 0x01, 0x01, 0xff, 0x04, 0x03, 0x02, 0x01, 0x00])
        let f = Extension(oid: "2.5.29.54", critical: false, value: [0x02, 0x01, 0x00])
        #expect(f.der == [0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x36, 0x04, 0x03, 0x02, 0x01, 0x00])
        #expect(e.name == "inhibitAnyPolicy")
        #expect(Extension(oid: "1.2.3.4", critical: false, value: [0x05, 0x00]).name == "1.2.3.4")
        #expect(ExtensionOID.oid(named: "SubjectAltName") == "2.5.29.17")
        #expect(ExtensionOID.oid(named: "noSuchExtension") == nil)
    }

    @Test("KeyUsageBit names and the contentCommitment alias")
    func keyUsageNames() {
        #expect(KeyUsageBit(name: "contentCommitment") == .nonRepudiation)
        #expect(KeyUsageBit(name: "cRLSign") == .cRLSign)
        #expect(KeyUsageBit(name: "crlsign") == nil)
        for bit in KeyUsageBit.allCases { #expect(KeyUsageBit(name: bit.name) == bit) }
        #expect(ExtendedKeyUsage.oid("serverAuth") == "1.3.6.1.5.5.7.3.1")
        #expect(ExtendedKeyUsage.oid("1.2.3") == "1.2.3")
        #expect(ExtendedKeyUsage.oid("notAnEKU") == nil)
    }

    @Test("GeneralName text parsing and rendering")
    func generalNames() throws {
        #expect(try GeneralName(parsing: "DNS:a.example") == .dns("a.example"))
        #expect(try GeneralName(parsing: "ip:10.0.0.1") == .ip([10, 0, 0, 1]))
        #expect(try GeneralName(parsing: "ip:2001:db8::1").value == "2001:db8::1")
        #expect(try GeneralName(parsing: "email:a@b.org").description == "email:a@b.org")
        #expect(try GeneralName(parsing: "dirname:CN=X,C=TG").value == "CN=X,C=TG")
        for bad in ["a.example", "dns:", "ip:300.1.1.1", "ftp:x", "dns:bücher.example"] {
            expectETrustError(code: .invalidArgument, category: .badInput) { _ = try GeneralName(parsing: bad) }
        }
    }

    @Test("GeneralSubtree parses IP prefixes into address + mask")
    func generalSubtree() throws {
        #expect(try GeneralSubtree(parsing: "ip:10.0.0.0/8").base == .ip([10, 0, 0, 0, 255, 0, 0, 0]))
        #expect(try GeneralSubtree(parsing: "ip:192.168.1.0/23").base == .ip([192, 168, 1, 0, 255, 255, 254, 0]))
        #expect(try GeneralSubtree(parsing: "dns:.example.gov").base == .dns("example.gov"))
        for bad in ["ip:10.0.0.0/33", "ip:10.0.0.0/x", "ip:nope/8"] {
            expectETrustError(code: .invalidArgument, category: .badInput) { _ = try GeneralSubtree(parsing: bad) }
        }
    }
}

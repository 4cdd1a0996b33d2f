import ETrustCore
import Foundation
import Testing

@Suite("Certificate signing requests")
struct CSRTests {
    @Test("create(...) round-trips through PEM and DER, and openssl verifies it",
          arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func createRoundTrip(_ algorithm: KeyAlgorithm) throws {
        let dir = try TempDir()
        let key = try PrivateKey.generate(algorithm)
        let subject = try DistinguishedName(parsing: "CN=Ama Kɔfi+serialNumber=PNOTG-1234,O=Gov,C=TG")
        let sans: [GeneralName] = [.dns("a.example"), .email("ama@example.org"), try GeneralName(parsing: "ip:2001:db8::7")]
        let csr = try CertificateSigningRequest.create(
            subject: subject, key: key,
            extensions: [try .subjectAltName(sans, critical: false), .keyUsage([.digitalSignature])])
        #expect(csr.subject == subject)
        #expect(csr.publicKey.subjectPublicKeyInfo == (try key.subjectPublicKeyInfo))
        #expect(csr.publicKey.kind == (try key.kind))
        #expect(csr.signatureAlgorithm == (try Signer(key: key)).algorithm)
        #expect(try csr.requestedSubjectAltNames == sans)
        #expect(csr.requestedExtensions.map(\.oid) == [ExtensionOID.subjectAltName, ExtensionOID.keyUsage])

        let fromPEM = try CertificateSigningRequest(bytes: Array(csr.pem.utf8))
        #expect(fromPEM.der == csr.der)
        #expect(fromPEM.subject == subject)
        #expect(try fromPEM.requestedSubjectAltNames == sans)
        let fromDER = try CertificateSigningRequest(bytes: csr.der)
        #expect(fromDER.der == csr.der)

        try dir.write("ours.pem", csr.pem)
        let r = try runOpenSSLOK(["req", "-in", "ours.pem", "-verify", "-noout", "-text"], in: dir)
        #expect(r.output.contains("verify OK"))
        #expect(r.stdout.contains("DNS:a.example"))
        #expect(r.stdout.contains("IP Address:2001:DB8:0:0:0:0:0:7"))
    }

    @Test("a request without extensions has no requested SANs")
    func noExtensions() throws {
        let key = try PrivateKey.generate(.ecP256)
        let csr = try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: "CN=plain"), key: key)
        #expect(csr.requestedExtensions.isEmpty)
        #expect(try csr.requestedSubjectAltNames.isEmpty)
        #expect(try CertificateSigningRequest(der: csr.der).subject.description == "CN=plain")
    }

    @Test("an openssl P-256 CSR with SANs parses as PEM and DER")
    func opensslCSR() throws {
        let dir = try TempDir()
        try runOpenSSLOK(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/C=TG/O=Gov/CN=x",
                          "-addext", "subjectAltName=DNS:a.example,IP:10.0.0.1", "-keyout", "k.pem", "-out", "r.pem"], in: dir)
        try runOpenSSLOK(["req", "-in", "r.pem", "-outform", "DER", "-out", "r.der"], in: dir)
        try runOpenSSLOK(["pkey", "-in", "k.pem", "-pubout", "-outform", "DER", "-out", "pub.der"], in: dir)

        let pem = try CertificateSigningRequest(bytes: try dir.read("r.pem"))
        let der = try CertificateSigningRequest(bytes: try dir.read("r.der"))
        #expect(pem.der == der.der)
        #expect(der.der == (try dir.read("r.der")))
        for csr in [pem, der] {
            #expect(csr.subject.description == "CN=x,O=Gov,C=TG")
            #expect(csr.publicKey.kind == .ec(curve: "P-256", bits: 256))
            #expect(csr.publicKey.subjectPublicKeyInfo == (try dir.read("pub.der")))
            #expect(csr.signatureAlgorithm == .ecdsaWithSHA256)
            #expect(try csr.requestedSubjectAltNames == [.dns("a.example"), .ip([10, 0, 0, 1])])
        }
    }

    @Test("a flipped signature byte is refused as .badSignature / .refused")
    func badSignature() throws {
        let dir = try TempDir()
        try runOpenSSLOK(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=x",
                          "-keyout", "k.pem", "-out", "r.der", "-outform", "DER"], in: dir)
        var der = try dir.read("r.der")
        #expect(try CertificateSigningRequest(der: der).subject.description == "CN=x")
        der[der.count - 2] ^= 0x40
        expectETrustError(code: .badSignature, category: .refused) { _ = try CertificateSigningRequest(der: der) }

        // Also for a request we made, and when the signed content (the subject) is altered instead.
        let key = try PrivateKey.generate(.ed25519)
        let csr = try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: "CN=Alice,C=TG"), key: key)
        var sig = csr.der
        sig[sig.count - 1] ^= 0x01
        expectETrustError(code: .badSignature, category: .refused) { _ = try CertificateSigningRequest(der: sig) }
        var body = csr.der
        let alice = Array("Alice".utf8)
        let at = (0...(body.count - alice.count)).first { Array(body[$0..<$0 + alice.count]) == alice }!
        body[at] = UInt8(ascii: "M")
        expectETrustError(code: .badSignature, category: .refused) { _ = try CertificateSigningRequest(der: body) }
    }

    @Test("truncated, trailing and garbage inputs are bad input")
    func malformed() throws {
        let key = try PrivateKey.generate(.ecP256)
        let csr = try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: "CN=x"), key: key)
        for cut in [1, 10, csr.der.count / 2, csr.der.count - 2] {
            let truncated = Array(csr.der.prefix(cut))
            expectETrustError(code: .malformedInput, category: .badInput) { _ = try CertificateSigningRequest(der: truncated) }
            expectETrustError(code: .malformedInput, category: .badInput) { _ = try CertificateSigningRequest(bytes: truncated) }
        }
        expectETrustError(code: .malformedInput, category: .badInput) { _ = try CertificateSigningRequest(der: csr.der + [0x00]) }
        expectETrustError(code: .malformedInput, category: .badInput) {
            _ = try CertificateSigningRequest(bytes: Array("this is not a CSR at all".utf8))
        }
        expectETrustError(code: .malformedInput, category: .badInput) { _ = try CertificateSigningRequest(bytes: []) }
        expectETrustError(code: .malformedInput, category: .badInput) {
            _ = try CertificateSigningRequest(bytes: [0x30, 0x82, 0xff, 0xff, 0x01, 0x02, 0x03])
        }
        var rng = SystemRandomNumberGenerator()
        let random = [0x30] + (0..<200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        expectETrustError(code: .malformedInput, category: .badInput) { _ = try CertificateSigningRequest(bytes: random) }
        // A PEM file with no request block, and a certificate-request label with broken base64.
        expectETrustError(code: .malformedInput, category: .badInput) {
            _ = try CertificateSigningRequest(bytes: Array("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n".utf8))
        }
        expectETrustError(code: .malformedInput, category: .badInput) {
            _ = try CertificateSigningRequest(bytes: Array("-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n".utf8))
        }
    }

    @Test("openssl CSRs with other key types report their PublicKeyKind", arguments: [
        (["-newkey", "rsa:2048"], PublicKeyKind.rsa(bits: 2048), SignatureAlgorithm.sha256WithRSA),
        (["-newkey", "ed25519"], .ed25519, .ed25519),
        (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime192v1"], .ec(curve: "P-192", bits: 192), .ecdsaWithSHA256),
        (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-sha384"], .ec(curve: "P-384", bits: 384), .ecdsaWithSHA384),
        (["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521", "-sha512"], .ec(curve: "P-521", bits: 521), .ecdsaWithSHA512),
    ])
    func keyKinds(_ keyArgs: [String], _ kind: PublicKeyKind, _ algorithm: SignatureAlgorithm) throws {
        let dir = try TempDir()
        try runOpenSSLOK(["req", "-new"] + keyArgs + ["-nodes", "-subj", "/CN=kind", "-keyout", "k.pem", "-out", "r.pem"], in: dir)
        let csr = try CertificateSigningRequest(bytes: try dir.read("r.pem"))
        #expect(csr.publicKey.kind == kind)
        #expect(csr.publicKey.kind.bits == kind.bits)
        #expect(csr.publicKey.kind.family == kind.family)
        #expect(csr.signatureAlgorithm == algorithm)
        #expect(csr.subject.description == "CN=kind")
    }

    @Test("PublicKeyKind descriptions and families")
    func kindText() {
        #expect(PublicKeyKind.ec(curve: "P-256", bits: 256).description == "EC P-256")
        #expect(PublicKeyKind.rsa(bits: 3072).description == "RSA-3072")
        #expect(PublicKeyKind.rsa(bits: 3072).family == "rsa")
        #expect(PublicKeyKind.ed25519.bits == 256)
        #expect(PublicKeyKind.other(oid: "1.2.3").family == "1.2.3")
    }
}

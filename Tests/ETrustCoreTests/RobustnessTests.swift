import ETrustCore
import Foundation
import Testing

/// Hostile or malformed inputs: every one must end in an ETrustError, never a crash or silent acceptance.
@Suite("Malformed inputs")
struct RobustnessTests {
    @Test("a SubjectPublicKeyInfo that is an empty SEQUENCE is bad input, not a crash")
    func emptySPKI() async {
        await #expect(processExitsWith: .success) {
            do {
                _ = try PublicKey(subjectPublicKeyInfo: [0x30, 0x00])
                exit(1)
            } catch let e as ETrustError {
                exit(e.category == .badInput ? 0 : 2)
            } catch {
                exit(3)
            }
        }
    }

    @Test("a CSR whose SubjectPublicKeyInfo is an empty SEQUENCE is bad input, not a crash")
    func csrWithEmptySPKI() async {
        // An unauthenticated request: the key is decoded before the proof of possession can be checked.
        await #expect(processExitsWith: .success) {
            let info: [UInt8] = [0x30, 0x09, 0x02, 0x01, 0x00, 0x30, 0x00, 0x30, 0x00, 0xa0, 0x00]
            let alg: [UInt8] = [0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
            let sig: [UInt8] = [0x03, 0x01, 0x00]
            let body = info + alg + sig
            let der: [UInt8] = [0x30, UInt8(body.count)] + body
            do {
                _ = try CertificateSigningRequest(der: der)
                exit(1)
            } catch let e as ETrustError {
                exit(e.category == .badInput ? 0 : 2)
            } catch {
                exit(3)
            }
        }
    }

    @Test("other malformed SubjectPublicKeyInfos are bad input")
    func malformedSPKI() throws {
        let good = try PrivateKey.generate(.ecP256).subjectPublicKeyInfo
        let cases: [[UInt8]] = [
            [],
            [0x30, 0x02, 0x30, 0x00],                                  // AlgorithmIdentifier without OID
            Array(good.dropLast()),                                    // truncated
            good + [0x00],                                             // trailing data
            tlv(0x30, tlv(0x30, [0x06, 0x03, 0x2b, 0x65, 0x70]) + [0x03, 0x02, 0x00, 0x01]),  // Ed25519 with a 1-byte key
        ]
        for spki in cases {
            let e = #expect(throws: ETrustError.self) { _ = try PublicKey(subjectPublicKeyInfo: spki) }
            #expect(e?.category == .badInput, "\(Hex.encode(spki))")
        }
        // A P-256 point that is not on the curve.
        var offCurve = good
        offCurve[offCurve.count - 1] ^= 0x01
        let e = #expect(throws: ETrustError.self) { _ = try PublicKey(subjectPublicKeyInfo: offCurve) }
        #expect(e?.category == .badInput)
    }

    @Test("a certificate whose inner and outer signature algorithms differ is refused (RFC 5280 4.1.1.2)")
    func signatureAlgorithmMismatch() throws {
        let dir = try TempDir()
        let key = try PrivateKey.generate(.ecP256)
        let signer = try Signer(key: key)
        let name = try DistinguishedName(parsing: "CN=mismatch")
        // TBS claims ecdsa-with-SHA384; the outer field and the actual signature are ecdsa-with-SHA256.
        let tbs = try TBSCertificate(serial: [0x01], signatureAlgorithm: .ecdsaWithSHA384, issuer: name, notBefore: utc(2026, 1, 1),
                                     notAfter: utc(2027, 1, 1), subject: name, subjectPublicKeyInfo: key.subjectPublicKeyInfo,
                                     extensions: []).encode()
        let signature = try signer.sign(tbs)
        let der = tlv(0x30, tbs + SignatureAlgorithm.ecdsaWithSHA256.algorithmIdentifierDER + tlv(0x03, [0x00] + signature))
        // OpenSSL refuses it.
        try dir.write("mismatch.pem", PEM.encode(der, label: "CERTIFICATE"))
        let r = try runOpenSSL(["verify", "-check_ss_sig", "-CAfile", "mismatch.pem", "mismatch.pem"], in: dir)
        #expect(r.status != 0)
        #expect(r.output.contains("signature algorithm mismatch") || r.output.contains("signature failure"), "\(r.output)")
        // So must we: either at parse time or when checking the signature.
        let accepted: Bool
        do {
            let cert = try Certificate(der: der)
            accepted = try cert.isSigned(by: key.publicKey)
        } catch is ETrustError {
            accepted = false
        }
        #expect(!accepted, "a certificate with tbsCertificate.signature != signatureAlgorithm was accepted as validly signed")
    }

    @Test("DistinguishedName(der:) refuses trailing bytes instead of keeping them in .der")
    func nameTrailingData() throws {
        let dn = try DistinguishedName(parsing: "CN=Alice,C=TG")
        let padded = dn.der + [0x00, 0x00]
        do {
            let parsed = try DistinguishedName(der: padded)
            #expect(parsed.der == dn.der, "DistinguishedName(der:) accepted trailing bytes and kept them in .der")
        } catch let e as ETrustError {
            #expect(e.category == .badInput)
        }
    }

    @Test("certificates: truncated, trailing and garbage DER are bad input")
    func malformedCertificates() throws {
        let key = try PrivateKey.generate(.ed25519)
        let name = try DistinguishedName(parsing: "CN=c")
        let cert = try TBSCertificate(serial: [0x05], signatureAlgorithm: .ed25519, issuer: name, notBefore: utc(2026, 1, 1),
                                      notAfter: utc(2027, 1, 1), subject: name, subjectPublicKeyInfo: key.subjectPublicKeyInfo,
                                      extensions: [.basicConstraints(ca: true, pathLength: nil)]).sign(with: try Signer(key: key))
        #expect(try Certificate(der: cert.der) == cert)
        #expect(try Certificate(bytes: Array(cert.pem.utf8)) == cert)
        #expect(try Certificate.all(bytes: Array((cert.pem + cert.pem).utf8)).count == 2)
        for bad in [Array(cert.der.prefix(20)), cert.der + [0x00], [0x30, 0x00], [0x30, 0x03, 0x02, 0x01, 0x00]] {
            expectETrustError(code: .malformedInput, category: .badInput) { _ = try Certificate(der: bad) }
        }
        expectETrustError(code: .malformedInput, category: .badInput) { _ = try Certificate(bytes: Array("garbage".utf8)) }
    }

    @Test("an unsupported signature algorithm OID is named in the error")
    func unsupportedAlgorithm() {
        let e = expectETrustError(code: .unsupportedAlgorithm, category: .badInput) {
            _ = try SignatureAlgorithm(oid: [1, 2, 840, 113549, 1, 1, 4])  // md5WithRSAEncryption
        }
        #expect(e?.reason.contains("1.2.840.113549.1.1.4") == true)
    }
}

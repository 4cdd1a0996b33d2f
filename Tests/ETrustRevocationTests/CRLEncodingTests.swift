import ETrustCA
import ETrustCore
import Foundation
import Testing

// MARK: OpenSSL's own object model and config machinery (independent of ETrustCore's DER writer),
// reached through ETrustCore's package OpenSSLReference (only ETrustCore imports C)

/// An X509_CRL assembled field by field with OpenSSL's setters.
typealias SSLCRL = OpenSSLReference.CRLBuilder

/// An EVP_PKEY made from one of our keys (through an encrypted PKCS#8 PEM OpenSSL decrypts).
func sslKey(_ key: PrivateKey) throws -> OpenSSLReference.Key {
    let pem = try key.encryptedPKCS8PEM(passphrase: Array("pw".utf8), iterations: 1000)
    return try OpenSSLReference.Key.fromEncryptedPEM(pem, passphrase: "pw")
}

/// The digest OpenSSL signs with for `algorithm` (nil for Ed25519).
func sslDigest(_ algorithm: SignatureAlgorithm) throws -> String? {
    switch algorithm {
    case .ecdsaWithSHA256, .sha256WithRSA: "SHA256"
    case .ecdsaWithSHA384, .sha384WithRSA: "SHA384"
    case .ecdsaWithSHA512, .sha512WithRSA: "SHA512"
    case .ed25519: nil
    default: throw Rev.Failure("no digest for \(algorithm) in this test")
    }
}

/// `X509V3_EXT_nconf(conf, ctx, name, value)`: (full extension DER, extnValue content, critical).
func opensslConfExtension(_ name: String, _ value: String) throws -> (der: [UInt8], value: [UInt8], critical: Bool) {
    let e = try OpenSSLReference.confExtension(name, value)
    return (e.der, e.value, e.critical)
}

// MARK: The CRLs compared

struct RevokedSpec {
    var serial: [UInt8]
    var date: Date
    var reason: RevocationReason
    var invalidity: Date?
}

enum CRLShape: String, CaseIterable, CustomTestStringConvertible {
    case empty, threeEntries, allReasons, delta, shard, large
    var testDescription: String { rawValue }

    var thisUpdate: Date {
        switch self {
        case .empty: Rev.utc(2026, 3, 1, 12, 0, 0)
        case .threeEntries: Rev.utc(2049, 12, 31, 23, 59, 59)   // UTCTime, then GeneralizedTime for nextUpdate
        case .allReasons: Rev.utc(2030, 6, 15, 8, 30, 5)
        case .delta: Rev.utc(2051, 2, 28, 1, 2, 3)               // GeneralizedTime throughout
        case .shard: Rev.utc(2035, 1, 1)
        case .large: Rev.utc(2050, 1, 1)                         // first GeneralizedTime second
        }
    }

    var nextUpdate: Date {
        switch self {
        case .delta: thisUpdate.addingTimeInterval(86_400)
        case .threeEntries: Rev.utc(2050, 1, 7, 23, 59, 59)
        default: thisUpdate.addingTimeInterval(7 * 86_400)
        }
    }

    var entries: [RevokedSpec] {
        let t = thisUpdate
        switch self {
        case .empty:
            return []
        case .threeEntries:
            return [
                // High bit set: a sign byte must be added; invalidityDate before 2050.
                RevokedSpec(serial: [0x80] + Array(repeating: 0x11, count: 15), date: Rev.utc(2049, 6, 1, 10, 0, 0),
                            reason: .keyCompromise, invalidity: Rev.utc(2049, 5, 30)),
                // Unspecified: no reasonCode, but an invalidityDate after 2050 (still GeneralizedTime).
                RevokedSpec(serial: [0x00, 0x00, 0x05, 0x39], date: Rev.utc(2049, 12, 31, 23, 59, 58),
                            reason: .unspecified, invalidity: Rev.utc(2050, 1, 2, 3, 4, 5)),
                // Revocation date after 2050: GeneralizedTime.
                RevokedSpec(serial: Array(repeating: 0x7f, count: 20), date: Rev.utc(2050, 1, 1, 0, 0, 0),
                            reason: .certificateHold, invalidity: nil),
            ]
        case .allReasons:
            return RevocationReason.allCases.enumerated().map { i, r in
                RevokedSpec(serial: [0x40, UInt8(i), 0xaa, 0x55], date: t.addingTimeInterval(-Double(i) * 3_600), reason: r,
                            invalidity: i % 3 == 0 ? t.addingTimeInterval(-Double(i + 1) * 86_400) : nil)
            }
        case .delta:
            return [
                RevokedSpec(serial: [0x01, 0x02, 0x03], date: t.addingTimeInterval(-60), reason: .superseded, invalidity: nil),
                RevokedSpec(serial: [0xff, 0xee], date: t.addingTimeInterval(-30), reason: .removeFromCRL, invalidity: nil),
                RevokedSpec(serial: [0x00], date: t.addingTimeInterval(-10), reason: .unspecified, invalidity: nil),
            ]
        case .shard:
            return [
                RevokedSpec(serial: [0x52, 0x03], date: t.addingTimeInterval(-100), reason: .cessationOfOperation, invalidity: nil),
                RevokedSpec(serial: [0x62, 0x13], date: t.addingTimeInterval(-50), reason: .affiliationChanged,
                            invalidity: t.addingTimeInterval(-3_000)),
            ]
        case .large:
            // About 100 kB of entries: three-byte DER lengths for revokedCertificates and the TBS.
            let reasons = RevocationReason.allCases
            return (0..<2_000).map { i in
                let serial: [UInt8] = [UInt8(0x40 | (i % 64)), UInt8(i >> 8), UInt8(i & 0xff)] + Array(repeating: UInt8(i % 251), count: 13)
                return RevokedSpec(serial: serial, date: t.addingTimeInterval(-Double(i)), reason: reasons[i % reasons.count],
                                   invalidity: i % 7 == 0 ? Rev.utc(2049, 12, 1).addingTimeInterval(Double(i)) : nil)
            }
        }
    }

    func extensions(keyID: [UInt8]) throws -> [Extension] {
        var list: [Extension] = [.authorityKeyIdentifier(keyID)]
        switch self {
        case .empty: list.append(.crlNumber(1))
        case .threeEntries: list += [.crlNumber(128), try .freshestCRL(["http://x/crl/a-delta.crl"])]
        case .allReasons: list.append(.crlNumber(65_535))
        case .delta: list += [.crlNumber(42), .deltaCRLIndicator(base: 41)]
        case .shard: list += [.crlNumber(300), try .issuingDistributionPoint(["http://x/crl/a-3.crl"])]
        case .large: list.append(.crlNumber(1 << 40))
        }
        return list
    }
}

@Suite("CRL encoding against OpenSSL's own")
struct CRLEncodingTests {
    static let issuer = try! DistinguishedName(parsing: "CN=CRL Encoding Test CA,O=etrust tests,C=TG")

    /// Every shape with every signature family; the large CRL exercises lengths, not algorithms,
    /// so one key type is enough for it.
    static let cases: [(CRLShape, KeyAlgorithm)] = CRLShape.allCases.flatMap { shape in
        (shape == .large ? [KeyAlgorithm.ecP256] : [.ecP256, .ecP384, .rsa2048, .ed25519]).map { (shape, $0) }
    }

    @Test("CRLBuilder's TBSCertList equals OpenSSL's i2d_re_X509_CRL_tbs byte for byte", arguments: cases)
    func tbsMatchesOpenSSL(shape: CRLShape, key algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let signer = try Signer(key: key)
        let keyID = try key.publicKey.keyIdentifier
        let extensions = try shape.extensions(keyID: keyID)
        let entries = shape.entries

        var builder = CRLBuilder(issuer: Self.issuer, signatureAlgorithm: signer.algorithm, thisUpdate: shape.thisUpdate,
                                 nextUpdate: shape.nextUpdate, extensions: extensions, expectedEntries: entries.count)
        for e in entries { builder.add(serial: e.serial, revocationDate: e.date, reason: e.reason, invalidityDate: e.invalidity) }
        #expect(builder.count == entries.count)

        let reference = try SSLCRL(issuer: Self.issuer, thisUpdate: shape.thisUpdate, nextUpdate: shape.nextUpdate)
        for e in entries {
            // RFC 5280 5.3.1: unspecified is expressed by leaving the reasonCode out.
            try reference.addRevoked(serial: e.serial, date: e.date, reason: e.reason == .unspecified ? nil : e.reason,
                                     invalidity: e.invalidity)
        }
        for ext in extensions { try reference.add(ext) }
        try reference.sign(with: try sslKey(key), digest: try sslDigest(signer.algorithm))
        let expected = try reference.tbsDER
        let ours = builder.tbsDER()
        #expect(ours.count == expected.count, "TBS length: ours \(ours.count), OpenSSL \(expected.count)")
        if ours != expected {
            let first = zip(ours, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ours.count, expected.count)
            Issue.record("""
                TBSCertList differs from OpenSSL's at byte \(first) (\(shape), \(algorithm)):
                ours    \(Hex.encode(ours[max(0, first - 8)..<min(ours.count, first + 24)]))
                OpenSSL \(Hex.encode(expected[max(0, first - 8)..<min(expected.count, first + 24)]))
                """)
        }

        // The signed CRL: OpenSSL parses it, re-encodes it identically and verifies the signature.
        let signed = try builder.sign(with: signer)
        let crl = try OpenSSLCRL(der: signed)
        #expect(try crl.der == signed)
        let verified = crl.verifySignature(with: try sslKey(key).handle)
        #expect(verified == 1, "X509_CRL_verify returned \(verified)")
        #expect(crl.version == 1)

        // And our own parser reads back what was written.
        let back = try CertificateRevocationList(der: signed)
        #expect(back.entries.count == entries.count)
        #expect(back.thisUpdate == shape.thisUpdate)
        #expect(back.nextUpdate == shape.nextUpdate)
        for (e, b) in zip(entries, back.entries) {
            let trimmed = Array(e.serial.drop { $0 == 0 })
            #expect(b.serialHex == Hex.encode(trimmed.isEmpty ? [0] : trimmed))
            #expect(b.revocationDate == e.date)
            #expect(b.reason == (e.reason == .unspecified ? nil : e.reason))
            #expect(b.invalidityDate == e.invalidity)
        }
        #expect(back.verify(issuer: try selfSigned(key: key, signer: signer), at: shape.thisUpdate).problems.isEmpty)
    }

    /// A throwaway certificate of the CRL issuer's key (cRLSign), for CertificateRevocationList.verify.
    func selfSigned(key: PrivateKey, signer: Signer) throws -> Certificate {
        let tbs = TBSCertificate(serial: [0x01], signatureAlgorithm: signer.algorithm, issuer: Self.issuer,
                                 notBefore: Rev.utc(2020, 1, 1), notAfter: Rev.utc(2060, 1, 1), subject: Self.issuer,
                                 subjectPublicKeyInfo: try key.subjectPublicKeyInfo,
                                 extensions: [.basicConstraints(ca: true, pathLength: nil), .keyUsage([.keyCertSign, .cRLSign])])
        return try tbs.sign(with: signer)
    }

    @Test("cRLNumber and deltaCRLIndicator carry the same INTEGER as OpenSSL's i2d_ASN1_INTEGER",
          arguments: [0, 1, 127, 128, 255, 256, 32_767, 32_768, 65_535, 1 << 31, (1 << 32) - 1, 1 << 40, Int.max])
    func integerExtensions(value: Int) throws {
        let expected = try OpenSSLReference.integerDER(Int64(value))
        let number = Extension.crlNumber(value)
        #expect(number.value == expected)
        #expect(number.oid == "2.5.29.20" && !number.critical)
        let delta = Extension.deltaCRLIndicator(base: value)
        #expect(delta.value == expected)
        #expect(delta.oid == "2.5.29.27" && delta.critical, "RFC 5280 5.2.4: the delta CRL indicator is critical")
    }

    @Test("issuingDistributionPoint equals X509V3_EXT_nconf's")
    func issuingDistributionPoint() throws {
        let ours = try Extension.issuingDistributionPoint(["http://x/crl/a-3.crl"])
        let reference = try opensslConfExtension("issuingDistributionPoint", "critical,fullname:URI:http://x/crl/a-3.crl")
        #expect(ours.value == reference.value, "ours \(Hex.encode(ours.value)), OpenSSL \(Hex.encode(reference.value))")
        #expect(ours.critical && reference.critical)
        #expect(ours.der == reference.der)

        // A long URL (long-form lengths inside the IDP).
        let long = "http://pki.example.org/crl/" + String(repeating: "x", count: 200) + "-15.crl"
        let longOurs = try Extension.issuingDistributionPoint([long])
        let longReference = try opensslConfExtension("issuingDistributionPoint", "critical,fullname:URI:\(long)")
        #expect(longOurs.der == longReference.der)

        // Our parser finds the URI again (short form).
        let crlDER = try CRLBuilder(issuer: Self.issuer, signatureAlgorithm: .ed25519, thisUpdate: Rev.utc(2030, 1, 1),
                                    nextUpdate: Rev.utc(2030, 1, 8), extensions: [.crlNumber(1), ours])
            .sign(with: try Signer(key: try PrivateKey.generate(.ed25519)))
        let parsed = try CertificateRevocationList(der: crlDER)
        #expect(parsed.issuingDistributionPointURIs == ["http://x/crl/a-3.crl"])
        #expect(parsed.scopeDescription.contains("http://x/crl/a-3.crl"))
    }

    @Test("freshestCRL equals X509V3_EXT_nconf's")
    func freshestCRL() throws {
        let ours = try Extension.freshestCRL(["http://x/crl/a-delta.crl"])
        let reference = try opensslConfExtension("freshestCRL", "URI:http://x/crl/a-delta.crl")
        #expect(ours.der == reference.der, "ours \(Hex.encode(ours.der)), OpenSSL \(Hex.encode(reference.der))")
        #expect(!ours.critical, "RFC 5280 5.2.6: freshestCRL MUST be non-critical")
    }
}

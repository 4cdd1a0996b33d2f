import ETrustCore
import Foundation
import SwiftASN1

/// A certificate made by TestPKI with its private key.
public struct TestCertificate: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey
    public var subject: DistinguishedName { certificate.subject }
}

/// Small PKIs built in code for the validation rule tables: every field and extension of a
/// certificate can be changed before it is signed, so that each rule gets a positive and a
/// negative case that differ only in what the rule looks at.
public enum TestPKI {
    public static let serverAuth = "1.3.6.1.5.5.7.3.1", clientAuth = "1.3.6.1.5.5.7.3.2"

    /// A certificate for `subject` signed by `issuer` (self-signed when nil): CA extensions
    /// (basicConstraints critical, keyCertSign and cRLSign, key identifiers) when `ca`, otherwise
    /// a TLS server leaf (keyUsage digitalSignature, extKeyUsage serverAuth, the SAN names).
    /// `edit` changes the fields before signing.
    public static func make(_ subject: String, issuer: TestCertificate? = nil, ca: Bool, key: PrivateKey? = nil,
                            san: [GeneralName] = [.dns("www.example.com")], validFrom: Date = Date().addingTimeInterval(-3600),
                            validTo: Date = Date().addingTimeInterval(30 * 86400),
                            edit: (inout TBSCertificate) throws -> Void = { _ in }) throws -> TestCertificate {
        let key = try key ?? PrivateKey.generate(.ecP256)
        let subjectName = try DistinguishedName(parsing: subject)
        let signingKey = issuer?.key ?? key
        let signer = try Signer(key: signingKey)
        let ski = try key.publicKey.keyIdentifier
        var extensions = [Extension.subjectKeyIdentifier(ski), Extension.authorityKeyIdentifier(try signingKey.publicKey.keyIdentifier)]
        if ca {
            extensions += [Extension.basicConstraints(ca: true, pathLength: nil), Extension.keyUsage([.keyCertSign, .cRLSign])]
        } else {
            extensions += [Extension.keyUsage([.digitalSignature]), try Extension.extendedKeyUsage([serverAuth, clientAuth])]
            if !san.isEmpty { extensions.append(try Extension.subjectAltName(san, critical: false)) }
        }
        var tbs = TBSCertificate(serial: try CSPRNG.bytes(16).enumerated().map { $0.offset == 0 ? $0.element & 0x7f | 0x01 : $0.element },
                                 signatureAlgorithm: signer.algorithm, issuer: issuer?.subject ?? subjectName,
                                 notBefore: validFrom, notAfter: validTo, subject: subjectName,
                                 subjectPublicKeyInfo: try key.subjectPublicKeyInfo, extensions: extensions)
        try edit(&tbs)
        return TestCertificate(certificate: try tbs.sign(with: signer), key: key)
    }

    /// A root, an intermediate and a TLS server leaf (www.example.com), all P-256.
    public static func chain(leafSAN: [GeneralName] = [.dns("www.example.com")], editLeaf: (inout TBSCertificate) throws -> Void = { _ in },
                             editIntermediate: (inout TBSCertificate) throws -> Void = { _ in },
                             editRoot: (inout TBSCertificate) throws -> Void = { _ in }) throws
        -> (root: TestCertificate, intermediate: TestCertificate, leaf: TestCertificate) {
        let root = try make("CN=Rule Root,O=etrust tests,C=TG", ca: true, edit: editRoot)
        let intermediate = try make("CN=Rule Intermediate,O=etrust tests,C=TG", issuer: root, ca: true, edit: editIntermediate)
        let leaf = try make("CN=www.example.com,O=etrust tests,C=TG", issuer: intermediate, ca: false, san: leafSAN, edit: editLeaf)
        return (root, intermediate, leaf)
    }

    /// Signs TBSCertificate bytes as given (for encodings TBSCertificate does not produce).
    public static func sign(tbs: [UInt8], with key: PrivateKey) throws -> Certificate {
        let signer = try Signer(key: key)
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            s.serializeRawBytes(tbs)
            s.serializeRawBytes(signer.algorithm.algorithmIdentifierDER)
            try s.serialize(ASN1BitString(bytes: ArraySlice(try signer.sign(tbs))))
        }
        return try Certificate(der: s.serializedBytes)
    }

    /// `tbs` (an encoded TBSCertificate) with its top-level fields passed through `transform`.
    public static func rewrite(tbs: [UInt8], _ transform: ([ArraySlice<UInt8>]) throws -> [[UInt8]]) throws -> [UInt8] {
        guard case .constructed(let fields) = try DER.parse(tbs).content else { throw ETrustError.badInput("not a SEQUENCE") }
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for f in try transform(fields.map(\.encodedBytes)) { s.serializeRawBytes(f) }
        }
        return s.serializedBytes
    }

    /// A version 1 certificate: no version field, no extensions.
    public static func version1(_ subject: String, issuer: TestCertificate, key: PrivateKey? = nil) throws -> TestCertificate {
        let key = try key ?? PrivateKey.generate(.ecP256)
        let plain = try make(subject, issuer: issuer, ca: true, key: key) { $0.extensions = [] }
        let tbs = try rewrite(tbs: Array(plain.certificate.tbsDER)) { fields in fields.dropFirst().map { Array($0) } }
        return TestCertificate(certificate: try sign(tbs: tbs, with: issuer.key), key: key)
    }

    /// A GeneralizedTime notAfter with fractional seconds (".5"), re-signed by `issuer`.
    public static func fractionalNotAfter(_ cert: TestCertificate, issuer: TestCertificate) throws -> TestCertificate {
        let tbs = try rewrite(tbs: Array(cert.certificate.tbsDER)) { fields in
            var out = fields.map { Array($0) }
            var s = DER.Serializer()
            let nb = UTCFields(cert.certificate.notBefore), na = UTCFields(cert.certificate.notAfter)
            try s.appendConstructedNode(identifier: .sequence) { s in
                try s.serialize(try UTCTime(year: nb.year, month: nb.month, day: nb.day, hours: nb.hour, minutes: nb.minute, seconds: nb.second))
                try s.serialize(try GeneralizedTime(year: na.year, month: na.month, day: na.day, hours: na.hour, minutes: na.minute,
                                                    seconds: na.second, fractionalSeconds: 0.5))
            }
            out[4] = s.serializedBytes
            return out
        }
        return TestCertificate(certificate: try sign(tbs: tbs, with: issuer.key), key: cert.key)
    }

    /// The SubjectPublicKeyInfo of a key `openssl genpkey` makes with `options` (for keys etrust
    /// does not generate: RSA-1024, odd RSA sizes, P-192, DSA).
    public static func opensslSPKI(_ options: [String], dsa: Bool = false) throws -> [UInt8] {
        let dir = try TestSupport.temporaryDirectory("etrust-key")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var args = ["genpkey"] + options + ["-out", dir + "/k.pem"]
        if dsa {
            let p = try TestSupport.openssl(["genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024", "-out", dir + "/p.pem"])
            guard p.status == 0 else { throw ETrustError.badInput("openssl genpkey -genparam: \(p.stderr)") }
            args = ["genpkey", "-paramfile", dir + "/p.pem", "-out", dir + "/k.pem"]
        }
        let g = try TestSupport.openssl(args)
        guard g.status == 0 else { throw ETrustError.badInput("openssl genpkey: \(g.stderr)") }
        let o = try TestSupport.openssl(["pkey", "-in", dir + "/k.pem", "-pubout", "-outform", "DER", "-out", dir + "/k.der"])
        guard o.status == 0 else { throw ETrustError.badInput("openssl pkey: \(o.stderr)") }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/k.der")))
    }
}

extension TBSCertificate {
    /// Replaces (or, with nil, removes) the extension with `oid`; appends when absent.
    public mutating func set(_ oid: String, _ e: Extension?) {
        if let i = extensions.firstIndex(where: { $0.oid == oid }) {
            if let e { extensions[i] = e } else { extensions.remove(at: i) }
        } else if let e {
            extensions.append(e)
        }
    }
}

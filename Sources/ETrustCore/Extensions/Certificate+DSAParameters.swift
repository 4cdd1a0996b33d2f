import Foundation
import SwiftASN1

/// DSA domain parameter inheritance (RFC 5280 6.1.4 (e)-(f), RFC 3279 2.3.2): a DSA key whose
/// AlgorithmIdentifier has no parameters uses its issuer's p, q and g. OpenSSL 3.0 cannot decode
/// such a key, so the validation layer gives it a copy of the certificate whose key carries the
/// inherited parameters (its signature, over the original TBSCertificate, is checked in Swift).
extension Certificate {
    static let dsaOID: ASN1ObjectIdentifier = [1, 2, 840, 10040, 4, 1]

    /// The DER of the DSA domain parameters of this certificate's key; nil when the key is not
    /// DSA or has none.
    public var dsaParameters: [UInt8]? {
        guard let (oid, params, _) = Certificate.spkiParts(subjectPublicKeyInfo), oid == Certificate.dsaOID else { return nil }
        return params
    }

    /// A DSA key whose AlgorithmIdentifier has no parameters.
    public var hasDSAKeyWithoutParameters: Bool {
        guard let (oid, params, _) = Certificate.spkiParts(subjectPublicKeyInfo) else { return false }
        return oid == Certificate.dsaOID && params == nil
    }

    /// This certificate with `parameters` put into its key's AlgorithmIdentifier. Its signature no
    /// longer matches the changed TBSCertificate: check the original's signature separately.
    public func completingDSAParameters(_ parameters: [UInt8]) throws -> Certificate {
        guard let (_, _, key) = Certificate.spkiParts(subjectPublicKeyInfo) else {
            throw ETrustError.badInput("malformed SubjectPublicKeyInfo")
        }
        var spki = DER.Serializer()
        try spki.appendConstructedNode(identifier: .sequence) { s in
            try s.appendConstructedNode(identifier: .sequence) { s in
                try s.serialize(Certificate.dsaOID)
                s.serializeRawBytes(parameters)
            }
            s.serializeRawBytes(key)
        }
        let root = try DER.parse(der)
        guard case .constructed(let parts) = root.content, case .constructed(let tbsFields) = try DER.parse(tbsDER).content else {
            throw ETrustError.badInput("malformed certificate")
        }
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { s in
            for field in tbsFields {
                s.serializeRawBytes(field.encodedBytes == ArraySlice(subjectPublicKeyInfo) ? ArraySlice(spki.serializedBytes) : field.encodedBytes)
            }
        }
        var out = DER.Serializer()
        try out.appendConstructedNode(identifier: .sequence) { s in
            s.serializeRawBytes(tbs.serializedBytes)
            for part in parts.dropFirst() { s.serializeRawBytes(part.encodedBytes) }
        }
        return try Certificate(der: out.serializedBytes, what: "certificate with inherited DSA parameters")
    }

    /// (algorithm OID, parameters DER or nil, subjectPublicKey BIT STRING DER).
    static func spkiParts(_ spki: [UInt8]) -> (ASN1ObjectIdentifier, [UInt8]?, ArraySlice<UInt8>)? {
        guard let node = try? DER.parse(spki), case .constructed(let parts) = node.content else { return nil }
        var it = parts.makeIterator()
        guard let alg = it.next(), let key = it.next(), case .constructed(let algParts) = alg.content else { return nil }
        var a = algParts.makeIterator()
        guard let oidNode = a.next(), let oid = try? ASN1ObjectIdentifier(derEncoded: oidNode) else { return nil }
        let params = a.next().flatMap { $0.identifier == .null ? nil : Array($0.encodedBytes) }
        return (oid, params, key.encodedBytes)
    }
}

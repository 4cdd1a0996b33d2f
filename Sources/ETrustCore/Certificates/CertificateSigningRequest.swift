import SwiftASN1

/// A PKCS#10 request (RFC 2986). Parsed with swift-asn1 so that the subject and the
/// SubjectPublicKeyInfo are kept as the requester's exact bytes; the self-signature (proof of
/// possession) is checked by OpenSSL before the request is used for anything.
public struct CertificateSigningRequest: Sendable {
    public let der: [UInt8]
    public let subject: DistinguishedName
    public let publicKey: PublicKey
    public let signatureAlgorithm: SignatureAlgorithm
    /// Extensions asked for in the extensionRequest attribute (PKCS#9 1.2.840.113549.1.9.14).
    public let requestedExtensions: [Extension]

    static let extensionRequestOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 14]

    /// Parses one PEM or DER request and verifies its signature.
    public init(bytes: [UInt8], what: String = "CSR") throws {
        let blocks = try InputFile.derBlocks(bytes, labels: ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"], what: what)
        try self.init(der: blocks[0], what: what)
    }

    public init(der: [UInt8], what: String = "CSR") throws {
        let info: ArraySlice<UInt8>
        let subjectDER: ArraySlice<UInt8>
        let spki: ArraySlice<UInt8>
        let algorithmOID: ASN1ObjectIdentifier
        let signature: [UInt8]
        var extensions: [Extension] = []
        do {
            let root = try DER.parse(der)
            guard root.encodedBytes.count == der.count else { throw ETrustError.badInput("\(what): trailing data after the request") }
            (info, subjectDER, spki, extensions, algorithmOID, signature) = try DER.sequence(root, identifier: .sequence) { nodes in
                guard let infoNode = nodes.next() else { throw ETrustError.badInput("\(what): empty request") }
                let (subject, spki, exts): (ArraySlice<UInt8>, ArraySlice<UInt8>, [Extension]) =
                    try DER.sequence(infoNode, identifier: .sequence) { inner in
                        let version = try Int(derEncoded: &inner)
                        guard version == 0 else { throw ETrustError.badInput("\(what): unsupported version \(version)") }
                        guard let subject = inner.next(), subject.identifier == .sequence,
                              let spki = inner.next(), spki.identifier == .sequence else {
                            throw ETrustError.badInput("\(what): missing subject or public key")
                        }
                        var exts: [Extension] = []
                        if let attrs = inner.next() {
                            guard attrs.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                                  case .constructed(let list) = attrs.content else {
                                throw ETrustError.badInput("\(what): malformed attributes")
                            }
                            for attr in list {
                                try DER.sequence(attr, identifier: .sequence) { a in
                                    let type = try ASN1ObjectIdentifier(derEncoded: &a)
                                    guard let values = a.next(), case .constructed(let vs) = values.content else {
                                        throw ETrustError.badInput("\(what): malformed attribute \(type)")
                                    }
                                    if type == CertificateSigningRequest.extensionRequestOID {
                                        for v in vs { exts += try Certificate.parseExtensions(v) }
                                    }
                                }
                            }
                        }
                        return (subject.encodedBytes, spki.encodedBytes, exts)
                    }
                let alg: ASN1ObjectIdentifier = try DER.sequence(nodes.next() ?? infoNode, identifier: .sequence) { a in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &a)
                    _ = a.next()
                    return oid
                }
                let sig = try ASN1BitString(derEncoded: &nodes)
                return (infoNode.encodedBytes, subject, spki, exts, alg, Array(sig.bytes))
            }
        } catch {
            throw ASN1Errors.invalid(error, what: what, kind: "PKCS#10 request")
        }
        self.der = der
        self.signatureAlgorithm = try SignatureAlgorithm(oid: algorithmOID)
        self.publicKey = try PublicKey(subjectPublicKeyInfo: Array(spki))
        // Proof of possession first: nothing else of the request is trusted before it verifies.
        guard try publicKey.verify(signature: signature, data: info, algorithm: signatureAlgorithm) else {
            throw ETrustError.refused("\(what): the request's signature does not verify (no proof of possession)", code: .badSignature)
        }
        self.subject = try DistinguishedName(der: Array(subjectDER))
        self.requestedExtensions = extensions
    }

    public var requestedSubjectAltNames: [GeneralName] {
        get throws {
            guard let san = requestedExtensions.first(where: { $0.oid == ExtensionOID.subjectAltName }) else { return [] }
            return try GeneralName.parseSequence(ArraySlice(san.value))
        }
    }

    /// Builds and signs a request (for tests, demos and `--generate-key`).
    public static func create(subject: DistinguishedName, key: PrivateKey, extensions: [Extension] = []) throws -> CertificateSigningRequest {
        let signer = try Signer(key: key)
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(0)
            s.serializeRawBytes(subject.der)
            s.serializeRawBytes(try key.subjectPublicKeyInfo)
            try s.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { s in
                if !extensions.isEmpty {
                    try s.appendConstructedNode(identifier: .sequence) { s in
                        try s.serialize(extensionRequestOID)
                        try s.appendConstructedNode(identifier: .set) { s in
                            try s.appendConstructedNode(identifier: .sequence) { s in
                                for e in extensions { s.serializeRawBytes(e.der) }
                            }
                        }
                    }
                }
            }
        }
        let info = s.serializedBytes
        let signature = try signer.sign(info)
        var out = DER.Serializer()
        try out.appendConstructedNode(identifier: .sequence) { o in
            o.serializeRawBytes(info)
            o.serializeRawBytes(signer.algorithm.algorithmIdentifierDER)
            try o.serialize(ASN1BitString(bytes: ArraySlice(signature)))
        }
        return try CertificateSigningRequest(der: out.serializedBytes)
    }

    public var pem: String { PEM.encode(der, label: "CERTIFICATE REQUEST") }
}

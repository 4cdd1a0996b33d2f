import SwiftASN1

/// RFC 3739 3.2.2 biometricInfo: a hash of a biometric sample (never the sample itself).
///
///     BiometricData ::= SEQUENCE {
///       typeOfBiometricData  TypeOfBiometricData,   -- CHOICE { INTEGER picture(0) | handwritten-signature(1), OID }
///       hashAlgorithm        AlgorithmIdentifier,
///       biometricDataHash    OCTET STRING,
///       sourceDataUri        IA5String OPTIONAL }
public struct BiometricData: Sendable, Hashable {
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        case picture, handwrittenSignature
        case oid(String)

        /// `picture`, `handwritten-signature` or a dotted OID (e.g. a fingerprint template format).
        public init(parsing text: String) throws {
            switch text.lowercased() {
            case "picture": self = .picture
            case "handwritten-signature": self = .handwrittenSignature
            default:
                guard text.split(separator: ".").count >= 2, (try? ASN1ObjectIdentifier(dotRepresentation: text)) != nil else {
                    throw ETrustError.badInput("biometric type '\(text)' is not picture, handwritten-signature or an OID", code: .invalidArgument)
                }
                self = .oid(text)
            }
        }

        public var description: String {
            switch self {
            case .picture: "picture"
            case .handwrittenSignature: "handwritten-signature"
            case .oid(let o): o
            }
        }
    }

    public static let sha256OID = "2.16.840.1.101.3.4.2.1"

    public var kind: Kind
    public var hashAlgorithm: String
    public var hash: [UInt8]
    public var sourceDataURI: String?

    public init(kind: Kind, hashAlgorithm: String = BiometricData.sha256OID, hash: [UInt8], sourceDataURI: String? = nil) {
        self.kind = kind; self.hashAlgorithm = hashAlgorithm; self.hash = hash; self.sourceDataURI = sourceDataURI
    }

    /// The SHA-256 entry for a sample.
    public init(kind: Kind, sample: [UInt8], sourceDataURI: String? = nil) {
        self.init(kind: kind, hash: Digest.sha256(sample), sourceDataURI: sourceDataURI)
    }

    /// Whether `sample` hashes to this entry's hash (SHA-256 only).
    public func matches(_ sample: [UInt8]) -> Bool {
        hashAlgorithm == BiometricData.sha256OID && Digest.sha256(sample) == hash
    }

    fileprivate func serialize(into s: inout DER.Serializer) throws {
        try s.appendConstructedNode(identifier: .sequence) { s in
            switch kind {
            case .picture: try s.serialize(0)
            case .handwrittenSignature: try s.serialize(1)
            case .oid(let o): try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: o))
            }
            try s.appendConstructedNode(identifier: .sequence) { s in
                try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: hashAlgorithm))
            }
            try s.serialize(ASN1OctetString(contentBytes: ArraySlice(hash)))
            if let uri = sourceDataURI { try s.serialize(try ASN1IA5String(uri)) }
        }
    }

    fileprivate init(node: ASN1Node) throws {
        guard case .constructed(let parts) = node.content else { throw ASN1Error.unexpectedFieldType(node.identifier) }
        var it = parts.makeIterator()
        guard let type = it.next(), let alg = it.next(), let hashNode = it.next() else {
            throw ASN1Error.invalidASN1Object(reason: "BiometricData needs type, hashAlgorithm and hash")
        }
        if type.identifier == .integer {
            let n = try Int(derEncoded: type)
            guard n == 0 || n == 1 else { throw ASN1Error.invalidASN1Object(reason: "predefinedBiometricType \(n)") }
            kind = n == 0 ? .picture : .handwrittenSignature
        } else {
            kind = .oid(try ASN1ObjectIdentifier(derEncoded: type).description)
        }
        guard case .constructed(let algParts) = alg.content, let algOID = algParts.first(where: { _ in true }) else {
            throw ASN1Error.invalidASN1Object(reason: "hashAlgorithm")
        }
        hashAlgorithm = try ASN1ObjectIdentifier(derEncoded: algOID).description
        hash = Array(try ASN1OctetString(derEncoded: hashNode).bytes)
        sourceDataURI = try it.next().map { try String(ASN1IA5String(derEncoded: $0)) }
        guard it.next() == nil else { throw ASN1Error.invalidASN1Object(reason: "BiometricData has extra fields") }
    }
}

extension ExtensionOID {
    public static let biometricInfo = "1.3.6.1.5.5.7.1.2"
}

extension Extension {
    /// RFC 3739 3.2.2: BiometricSyntax ::= SEQUENCE OF BiometricData (non-critical).
    public static func biometricInfo(_ entries: [BiometricData]) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for e in entries { try e.serialize(into: &s) }
        }
        return Extension(oid: ExtensionOID.biometricInfo, critical: false, value: s.serializedBytes)
    }

    /// The entries of a biometricInfo value; throws when it is not the RFC 3739 structure.
    public static func decodeBiometricInfo(_ value: [UInt8]) throws -> [BiometricData] {
        do {
            let node = try DER.parse(value)
            guard case .constructed(let list) = node.content else { throw ASN1Error.unexpectedFieldType(node.identifier) }
            return try list.map { try BiometricData(node: $0) }
        } catch {
            throw ETrustError.badInput("biometricInfo is not the RFC 3739 structure (\(error))", code: .malformedInput)
        }
    }
}

extension Certificate {
    /// The biometricInfo entries, nil when the extension is absent.
    public func biometricInfo() throws -> [BiometricData]? {
        guard let e = `extension`(ExtensionOID.biometricInfo) else { return nil }
        return try Extension.decodeBiometricInfo(e.value)
    }
}

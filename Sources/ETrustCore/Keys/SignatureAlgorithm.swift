import SwiftASN1

extension ASN1ObjectIdentifier {
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
    static let ed448: ASN1ObjectIdentifier = [1, 3, 101, 113]
    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    static let ecdsaWithSHA384: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 3]
    static let ecdsaWithSHA512: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 4]
    static let sha1WithRSAEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 5]
    static let ecdsaWithSHA1: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 1]
    static let dsaWithSHA1: ASN1ObjectIdentifier = [1, 2, 840, 10040, 4, 3]
    static let dsaWithSHA256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 3, 2]
}

/// A signature algorithm as it appears in certificates and CSRs.
public enum SignatureAlgorithm: Sendable, Hashable, CustomStringConvertible {
    case ecdsaWithSHA256, ecdsaWithSHA384, ecdsaWithSHA512
    case sha256WithRSA, sha384WithRSA, sha512WithRSA
    case rsaPSS
    case ed25519
    /// SHA-1 based: parsed so that the refusal can name it, never used to sign.
    case sha1WithRSA, ecdsaWithSHA1
    /// DSA: parsed and verified (relying parties meet it, PKITS has it), never used to sign.
    case dsaWithSHA1, dsaWithSHA256

    public init(oid: ASN1ObjectIdentifier) throws {
        switch oid {
        case .ecdsaWithSHA256: self = .ecdsaWithSHA256
        case .ecdsaWithSHA384: self = .ecdsaWithSHA384
        case .ecdsaWithSHA512: self = .ecdsaWithSHA512
        case .AlgorithmIdentifier.sha256WithRSAEncryption: self = .sha256WithRSA
        case .AlgorithmIdentifier.sha384WithRSAEncryption: self = .sha384WithRSA
        case .AlgorithmIdentifier.sha512WithRSAEncryption: self = .sha512WithRSA
        case .AlgorithmIdentifier.rsaPSS: self = .rsaPSS
        case .ed25519: self = .ed25519
        case .sha1WithRSAEncryption: self = .sha1WithRSA
        case .ecdsaWithSHA1: self = .ecdsaWithSHA1
        case .dsaWithSHA1: self = .dsaWithSHA1
        case .dsaWithSHA256: self = .dsaWithSHA256
        default:
            throw ETrustError.badInput("unsupported signature algorithm \(oid)", code: .unsupportedAlgorithm)
        }
    }

    public var oid: ASN1ObjectIdentifier {
        switch self {
        case .ecdsaWithSHA256: .ecdsaWithSHA256
        case .ecdsaWithSHA384: .ecdsaWithSHA384
        case .ecdsaWithSHA512: .ecdsaWithSHA512
        case .sha256WithRSA: .AlgorithmIdentifier.sha256WithRSAEncryption
        case .sha384WithRSA: .AlgorithmIdentifier.sha384WithRSAEncryption
        case .sha512WithRSA: .AlgorithmIdentifier.sha512WithRSAEncryption
        case .rsaPSS: .AlgorithmIdentifier.rsaPSS
        case .ed25519: .ed25519
        case .sha1WithRSA: .sha1WithRSAEncryption
        case .ecdsaWithSHA1: .ecdsaWithSHA1
        case .dsaWithSHA1: .dsaWithSHA1
        case .dsaWithSHA256: .dsaWithSHA256
        }
    }

    /// OpenSSL digest name for EVP_DigestSignInit_ex, nil for Ed25519 (pure EdDSA).
    var digestName: String? {
        switch self {
        case .ecdsaWithSHA256, .sha256WithRSA: "SHA256"
        case .ecdsaWithSHA384, .sha384WithRSA: "SHA384"
        case .ecdsaWithSHA512, .sha512WithRSA: "SHA512"
        case .rsaPSS: "SHA256"
        case .ed25519: nil
        case .sha1WithRSA, .ecdsaWithSHA1, .dsaWithSHA1: "SHA1"
        case .dsaWithSHA256: "SHA256"
        }
    }

    var isRSAPSS: Bool { self == .rsaPSS }
    public var isWeak: Bool { self == .sha1WithRSA || self == .ecdsaWithSHA1 || self == .dsaWithSHA1 }

    /// DER AlgorithmIdentifier. RFC 5754 / RFC 8410: ECDSA and EdDSA omit parameters; RSA
    /// PKCS#1 v1.5 carries NULL (RFC 4055 section 5).
    public var algorithmIdentifierDER: [UInt8] {
        var s = DER.Serializer()
        try! s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(oid)
            switch self {
            case .sha256WithRSA, .sha384WithRSA, .sha512WithRSA, .sha1WithRSA: try s.serialize(ASN1Null())
            default: break
            }
        }
        return s.serializedBytes
    }

    public var description: String {
        switch self {
        case .ecdsaWithSHA256: "ecdsa-with-SHA256"
        case .ecdsaWithSHA384: "ecdsa-with-SHA384"
        case .ecdsaWithSHA512: "ecdsa-with-SHA512"
        case .sha256WithRSA: "sha256WithRSAEncryption"
        case .sha384WithRSA: "sha384WithRSAEncryption"
        case .sha512WithRSA: "sha512WithRSAEncryption"
        case .rsaPSS: "RSASSA-PSS"
        case .ed25519: "Ed25519"
        case .sha1WithRSA: "sha1WithRSAEncryption"
        case .ecdsaWithSHA1: "ecdsa-with-SHA1"
        case .dsaWithSHA1: "dsa-with-SHA1"
        case .dsaWithSHA256: "dsa-with-SHA256"
        }
    }

    /// The algorithm a CA signs with for its key (RFC 5480 matches hash strength to the curve).
    public static func forSigning(with kind: PublicKeyKind) throws -> SignatureAlgorithm {
        switch kind {
        case .ec(let curve, _):
            switch curve {
            case "P-256": return .ecdsaWithSHA256
            case "P-384": return .ecdsaWithSHA384
            case "P-521": return .ecdsaWithSHA512
            default: throw ETrustError.badInput("cannot sign with curve \(curve)", code: .unsupportedAlgorithm)
            }
        case .rsa: return .sha256WithRSA
        case .ed25519: return .ed25519
        default: throw ETrustError.badInput("cannot sign with \(kind)", code: .unsupportedAlgorithm)
        }
    }
}

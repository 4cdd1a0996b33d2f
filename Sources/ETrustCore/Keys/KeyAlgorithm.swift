/// The key types etrust generates (CLI `--key`).
public enum KeyAlgorithm: String, Sendable, CaseIterable, Codable {
    case ecP256 = "ec-p256"
    case ecP384 = "ec-p384"
    case rsa2048 = "rsa-2048"
    case rsa3072 = "rsa-3072"
    case rsa4096 = "rsa-4096"
    case ed25519 = "ed25519"

    public init(parsing text: String) throws {
        guard let v = KeyAlgorithm(rawValue: text.lowercased()) else {
            throw ETrustError.badInput(
                "unknown key type '\(text)' (use \(KeyAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))",
                code: .invalidArgument)
        }
        self = v
    }
}

/// What a public key is, as policy rules see it.
public enum PublicKeyKind: Sendable, Hashable, CustomStringConvertible {
    case ec(curve: String, bits: Int)   // curve: "P-256", "P-384", "P-521", or an OID for others
    case rsa(bits: Int)
    case ed25519
    case ed448
    case other(oid: String)

    /// The family name used in profiles: "ec", "rsa", "ed25519", "ed448".
    public var family: String {
        switch self {
        case .ec: "ec"
        case .rsa: "rsa"
        case .ed25519: "ed25519"
        case .ed448: "ed448"
        case .other(let oid): oid
        }
    }

    public var bits: Int {
        switch self {
        case .ec(_, let bits): bits
        case .rsa(let bits): bits
        case .ed25519: 256
        case .ed448: 456
        case .other: 0
        }
    }

    public var description: String {
        switch self {
        case .ec(let curve, _): "EC \(curve)"
        case .rsa(let bits): "RSA-\(bits)"
        case .ed25519: "Ed25519"
        case .ed448: "Ed448"
        case .other(let oid): "key algorithm \(oid)"
        }
    }
}

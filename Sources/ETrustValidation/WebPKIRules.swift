import ETrustCore
import Foundation

/// The CA/Browser Forum Baseline Requirements (TLS, version 2) on top of RFC5280Rules, for the
/// tls-server purpose (and, where they are not about server names, tls-client). One rule a
/// function, each naming its BR section.
enum WebPKIRules {
    /// For tls-server paths: the BR's key list.
    static let serverCertificateRules: [CertificateRule] = [
        { keyAllowed($0, $1, edDSA: false) }, rootWithoutExtendedKeyUsage, leafExtendedKeyUsageNotCritical,
    ]
    /// For tls-client paths, which the BR do not govern: the same floor against weak keys, and
    /// EdDSA (RFC 8410) accepted besides.
    static let clientCertificateRules: [CertificateRule] = [
        { keyAllowed($0, $1, edDSA: true) }, rootWithoutExtendedKeyUsage, leafExtendedKeyUsageNotCritical,
    ]
    static let pathRules: [PathRule] = [leafExtendedKeyUsage, serverSubjectAltName, serverWildcards, hostnameIsDNSName]

    static let serverAuth = "1.3.6.1.5.5.7.3.1", clientAuth = "1.3.6.1.5.5.7.3.2", anyExtendedKeyUsage = "2.5.29.37.0"

    /// 6.1.5 / 7.1.3.1: RSA with a modulus of at least 2048 bits and a multiple of 8, or ECDSA on
    /// P-256, P-384 or P-521, in every certificate of the path (DSA, P-192 and the rest refused;
    /// Ed25519 and Ed448 too unless `edDSA`).
    static func keyAllowed(_ c: Certificate, _ role: PathRole, edDSA: Bool) -> ProfileViolation? {
        let small = role == .leaf ? "ee_key_too_small" : "ca_key_too_small"
        guard let kind = try? c.publicKey.kind else {
            return ProfileViolation("key_algorithm_not_allowed", "a public key OpenSSL cannot decode (BR 6.1.5)")
        }
        switch kind {
        case .rsa(let bits) where bits < 2048: return ProfileViolation(small, "an RSA key of \(bits) bits, below 2048 (BR 6.1.5)")
        case .rsa(let bits) where bits % 8 != 0:
            return ProfileViolation("key_algorithm_not_allowed", "an RSA modulus of \(bits) bits, not a multiple of 8 (BR 6.1.5)")
        case .rsa: return nil
        case .ec(let curve, _) where ["P-256", "P-384", "P-521"].contains(curve): return nil
        case .ed25519 where edDSA, .ed448 where edDSA: return nil
        default: return ProfileViolation("key_algorithm_not_allowed", "a \(kind) key; the BR allow RSA and ECDSA P-256/P-384/P-521 (BR 6.1.5, 7.1.3.1)")
        }
    }

    /// 7.1.2.1.2: a root CA certificate has no extKeyUsage.
    static func rootWithoutExtendedKeyUsage(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role == .anchor, c.isSelfIssued, c.extension(ExtensionOID.extendedKeyUsage) != nil else { return nil }
        return ProfileViolation("extended_key_usage_in_root", "the root CA certificate has an extKeyUsage (BR 7.1.2.1.2)")
    }

    /// 7.1.2.7.6: the subscriber certificate's extKeyUsage is not critical.
    static func leafExtendedKeyUsageNotCritical(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role == .leaf, c.extension(ExtensionOID.extendedKeyUsage)?.critical == true else { return nil }
        return ProfileViolation("extended_key_usage_critical", "a critical extKeyUsage in the subscriber certificate (BR 7.1.2.7.6)")
    }

    /// 7.1.2.7.10: extKeyUsage present with id-kp-serverAuth (tls-server) / id-kp-clientAuth
    /// (tls-client), and without anyExtendedKeyUsage.
    static func leafExtendedKeyUsage(_ v: PathView) -> ProfileViolation? {
        guard v.chain.count > 1 else { return nil }
        let eku = v.leaf.extendedKeyUsage
        for (purpose, oid) in [(Purpose.tlsServer, serverAuth), (.tlsClient, clientAuth)] where v.parameters.purposes.contains(purpose) {
            guard let eku, eku.contains(oid) else {
                return ProfileViolation("invalid_purpose", "no extKeyUsage \(oid) for \(purpose.rawValue) in the subscriber certificate (BR 7.1.2.7.10)")
            }
            if eku.contains(anyExtendedKeyUsage) {
                return ProfileViolation("invalid_purpose", "anyExtendedKeyUsage in the subscriber certificate (BR 7.1.2.7.10)")
            }
        }
        return nil
    }

    /// 7.1.2.7.12: a TLS server certificate has a subjectAltName.
    static func serverSubjectAltName(_ v: PathView) -> ProfileViolation? {
        guard isServer(v), v.leaf.extension(ExtensionOID.subjectAltName) == nil else { return nil }
        return ProfileViolation("missing_subject_alt_name", "a TLS server certificate without subjectAltName (BR 7.1.2.7.12)")
    }

    /// 3.2.2.6 / 7.1.2.7.12: a wildcard is the whole left-most label and never directly over a
    /// public suffix (the ICANN section of the Public Suffix List).
    static func serverWildcards(_ v: PathView) -> ProfileViolation? {
        guard isServer(v) else { return nil }
        for case .dns(let name) in v.leaf.subjectAltNames where name.contains("*") {
            guard name.hasPrefix("*."), DNSName.isValid(name, wildcard: true) else {
                return ProfileViolation("unsupported_name_syntax", "wildcard '\(name)' is not a whole left-most label (BR 7.1.2.7.12)")
            }
            if PublicSuffixes.isPublicSuffix(String(name.dropFirst(2))) {
                return ProfileViolation("wildcard_over_public_suffix", "wildcard '\(name)' is directly over a public suffix (BR 3.2.2.6)")
            }
        }
        return nil
    }

    /// 7.1.4.2 / RFC 6125 6.4: the name asked for is a DNS name (or an IP address, matched as
    /// one); anything else, such as an IPv4 address in another spelling, matches nothing.
    static func hostnameIsDNSName(_ v: PathView) -> ProfileViolation? {
        guard let h = v.parameters.hostname, GeneralName.parseIP(h) == nil, !DNSName.isValid(h, wildcard: false) else { return nil }
        return ProfileViolation("hostname_mismatch", "'\(h)' is neither a DNS name nor an IP address, so no certificate matches it (BR 7.1.4.2)")
    }

    private static func isServer(_ v: PathView) -> Bool { v.chain.count > 1 && v.parameters.purposes.contains(.tlsServer) }
}

/// What the relying party asked of the leaf itself (`--key-usage`, `--eku`), whatever the layer.
enum Requirements {
    static let rules: [PathRule] = [keyUsage, extendedKeyUsage]

    /// RFC 5280 4.2.1.3: every bit asked for is asserted (an absent keyUsage restricts nothing).
    static func keyUsage(_ v: PathView) -> ProfileViolation? {
        guard !v.parameters.requiredKeyUsage.isEmpty, let ku = v.leaf.keyUsage else { return nil }
        let missing = v.parameters.requiredKeyUsage.subtracting(ku)
        guard !missing.isEmpty else { return nil }
        return ProfileViolation("key_usage_mismatch",
                                "keyUsage does not allow \(missing.map(\.name).sorted().joined(separator: ", ")) (RFC 5280 4.2.1.3)")
    }

    /// RFC 5280 4.2.1.12: every purpose asked for is listed (anyExtendedKeyUsage alone does not
    /// name it, as the section lets applications require).
    static func extendedKeyUsage(_ v: PathView) -> ProfileViolation? {
        for oid in v.parameters.requiredExtendedKeyUsages where !(v.leaf.extendedKeyUsage ?? []).contains(oid) {
            return ProfileViolation("invalid_purpose", "extendedKeyUsage does not list \(oid) (RFC 5280 4.2.1.12)")
        }
        return nil
    }
}

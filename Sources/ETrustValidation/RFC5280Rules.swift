import ETrustCore
import Foundation

/// The certificate profile of RFC 5280 section 4, checked on every certificate of a path but the
/// trust anchor (whose properties RFC 5280 6.1.1 (d) leaves to the relying party). One rule a
/// function, each naming its section; nil means the certificate passes.
enum RFC5280Rules {
    static let certificateRules: [CertificateRule] = [
        serialNumber, validityTimes, wellFormedExtensions, authorityKeyIdentifier, subjectKeyIdentifierInCA,
        caBasicConstraintsCritical, caVersion, caSubject, keyCertSignOnlyInCA, emptySubjectNeedsCriticalSAN,
        policyConstraintsCritical, nameConstraintsOnlyInCA, nameConstraintsWellFormed, dnsNameSyntax,
    ]
    static let pathRules: [PathRule] = [leafNotCA, wildcardsAgainstExcludedSubtrees]

    /// 4.1.2.2: a positive integer of at most 20 octets (negative serials are handled
    /// gracefully, as the section's note asks and PKITS 4.4.14 expects).
    static func serialNumber(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor else { return nil }
        if c.serial.allSatisfy({ $0 == 0 }) { return ProfileViolation("invalid_serial_number", "the serial number is zero (RFC 5280 4.1.2.2)") }
        if c.serial.count > 20 {
            return ProfileViolation("invalid_serial_number", "the serial number is \(c.serial.count) octets long, over 20 (RFC 5280 4.1.2.2)")
        }
        return nil
    }

    /// 4.1.2.5.2: GeneralizedTime values MUST NOT include fractional seconds.
    static func validityTimes(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        let f = c.validityFractionalSeconds
        if f.notBefore { return ProfileViolation("error_in_cert_not_before_field", "notBefore has fractional seconds (RFC 5280 4.1.2.5.2)") }
        if f.notAfter { return ProfileViolation("error_in_cert_not_after_field", "notAfter has fractional seconds (RFC 5280 4.1.2.5.2)") }
        return nil
    }

    /// 4.2.1 and 4.2.2: each extension RFC 5280 defines decodes as its ASN.1 says (e.g. an
    /// authorityInfoAccess that parses, an extendedKeyUsage with at least one purpose).
    static func wellFormedExtensions(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor, let bad = c.extensions.first(where: { !$0.isWellFormed }) else { return nil }
        return ProfileViolation("invalid_extension", "the \(bad.name) extension does not decode as RFC 5280 4.2 defines it (empty or malformed)")
    }

    /// 4.2.1.1: authorityKeyIdentifier MUST be in every certificate but a self-signed one.
    static func authorityKeyIdentifier(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor, !c.isSelfIssued, c.authorityKeyIdentifier == nil else { return nil }
        return ProfileViolation("missing_authority_key_identifier", "no authorityKeyIdentifier keyIdentifier (RFC 5280 4.2.1.1)")
    }

    /// 4.2.1.2: subjectKeyIdentifier MUST appear in all CA certificates.
    static func subjectKeyIdentifierInCA(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role == .intermediate, c.subjectKeyIdentifier == nil else { return nil }
        return ProfileViolation("missing_subject_key_identifier", "a CA certificate without subjectKeyIdentifier (RFC 5280 4.2.1.2)")
    }

    /// 4.2.1.9: basicConstraints MUST be critical in CA certificates.
    static func caBasicConstraintsCritical(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role == .intermediate, let bc = c.extension(ExtensionOID.basicConstraints), !bc.critical else { return nil }
        return ProfileViolation("ca_bcons_not_critical", "a CA certificate whose basicConstraints is not critical (RFC 5280 4.2.1.9)")
    }

    /// 6.1.4 (k): a version 1 or 2 certificate is no CA unless known out of band (as an anchor).
    static func caVersion(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role == .intermediate, c.version < 3 else { return nil }
        return ProfileViolation("invalid_ca", "a version \(c.version) certificate used as an intermediate CA (RFC 5280 6.1.4 (k))")
    }

    /// 4.1.2.6: a CA's subject MUST be a non-empty distinguished name.
    static func caSubject(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role == .intermediate, c.subject.isEmpty else { return nil }
        return ProfileViolation("subject_name_empty", "a CA certificate with an empty subject (RFC 5280 4.1.2.6)")
    }

    /// 4.2.1.3 / 4.2.1.9: keyCertSign only with basicConstraints cA TRUE.
    static func keyCertSignOnlyInCA(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor, c.keyUsage?.contains(.keyCertSign) == true, c.basicConstraints?.ca != true else { return nil }
        return ProfileViolation("ku_key_cert_sign_invalid_for_non_ca", "keyCertSign asserted without basicConstraints cA (RFC 5280 4.2.1.3)")
    }

    /// 4.1.2.6 / 4.2.1.6: an empty subject needs a subjectAltName, and it MUST be critical.
    static func emptySubjectNeedsCriticalSAN(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor, c.subject.isEmpty else { return nil }
        guard let san = c.extension(ExtensionOID.subjectAltName) else {
            return ProfileViolation("subject_name_empty", "an empty subject and no subjectAltName (RFC 5280 4.1.2.6)")
        }
        return san.critical ? nil : ProfileViolation("empty_subject_san_not_critical",
                                                     "an empty subject with a non-critical subjectAltName (RFC 5280 4.2.1.6)")
    }

    /// 4.2.1.11: policyConstraints MUST be critical.
    static func policyConstraintsCritical(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor, let pc = c.extension(ExtensionOID.policyConstraints), !pc.critical else { return nil }
        return ProfileViolation("invalid_policy_extension", "a non-critical policyConstraints (RFC 5280 4.2.1.11)")
    }

    /// 4.2.1.10: nameConstraints MUST be used only in a CA certificate.
    static func nameConstraintsOnlyInCA(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor, c.extension(ExtensionOID.nameConstraints) != nil, c.basicConstraints?.ca != true else { return nil }
        return ProfileViolation("name_constraints_in_non_ca", "nameConstraints in a certificate that is not a CA (RFC 5280 4.2.1.10)")
    }

    /// 4.2.1.10: critical; permittedSubtrees or excludedSubtrees present, none empty; a dNSName
    /// base is a DNS name (no leading period).
    static func nameConstraintsWellFormed(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor, let e = c.extension(ExtensionOID.nameConstraints) else { return nil }
        guard e.critical, let nc = e.nameConstraints, nc.permitted != nil || nc.excluded != nil,
              nc.permitted?.isEmpty != true, nc.excluded?.isEmpty != true else {
            return ProfileViolation("invalid_name_constraints",
                                    "nameConstraints not critical, empty, or with an empty subtree list (RFC 5280 4.2.1.10)")
        }
        for case .dns(let base) in (nc.permitted ?? []) + (nc.excluded ?? []) where !DNSName.isValidConstraint(base) {
            return ProfileViolation("unsupported_constraint_syntax", "dNSName constraint '\(base)' is not a DNS name (RFC 5280 4.2.1.10)")
        }
        return nil
    }

    /// 4.2.1.6: a dNSName is in the preferred name syntax (RFC 1034 3.5, RFC 1123 2.1): no
    /// underscores, empty labels or spaces; a leaf may use "*" as its whole left-most label.
    static func dnsNameSyntax(_ c: Certificate, _ role: PathRole) -> ProfileViolation? {
        guard role != .anchor else { return nil }
        for case .dns(let name) in c.subjectAltNames where !DNSName.isValid(name, wildcard: role == .leaf) {
            return ProfileViolation("unsupported_name_syntax", "subjectAltName dNSName '\(name)' is not a valid DNS name (RFC 5280 4.2.1.6)")
        }
        return nil
    }

    /// 4.2.1.9: a certificate used as an end entity (any purpose but `any`) is no CA.
    static func leafNotCA(_ v: PathView) -> ProfileViolation? {
        guard v.chain.count > 1, v.parameters.purposes.contains(where: { $0 != .any }), v.leaf.basicConstraints?.ca == true else { return nil }
        return ProfileViolation("invalid_non_ca", "a CA certificate (basicConstraints cA TRUE) presented as the end entity (RFC 5280 4.2.1.9)")
    }

    /// 4.2.1.10 / 6.1.3 (b): a wildcard dNSName ("*.example.com") stands for every name one label
    /// under its base, so an excluded subtree holding such a name excludes the wildcard too.
    static func wildcardsAgainstExcludedSubtrees(_ v: PathView) -> ProfileViolation? {
        for depth in stride(from: v.chain.count - 1, to: 0, by: -1) {
            guard let excluded = v.chain[depth].extension(ExtensionOID.nameConstraints)?.nameConstraints?.excluded else { continue }
            for below in 0..<depth where below == 0 || !v.chain[below].isSelfIssued {
                for case .dns(let name) in v.chain[below].subjectAltNames where name.hasPrefix("*.") {
                    let base = String(name.dropFirst(2))
                    for case .dns(let subtree) in excluded where DNSName.isOneLabelUnder(subtree, base) {
                        return ProfileViolation("excluded_violation", "wildcard '\(name)' covers '\(subtree)', which an excluded subtree "
                                                + "of \(v.chain[depth].subject) names (RFC 5280 4.2.1.10)", depth: below)
                    }
                }
            }
        }
        return nil
    }

    /// 5.2.3: conforming CRL issuers MUST include cRLNumber in all CRLs (checked on the CRLs
    /// of the path's issuers, when CRLs are used).
    static func crlNumbers(_ chain: [Certificate], crls: [CertificateRevocationList]) -> ProfileViolation? {
        let issuers = Set(chain.dropFirst().map(\.subject.der))
        guard let crl = crls.first(where: { $0.number == nil && issuers.contains($0.issuer.der) }) else { return nil }
        return ProfileViolation("missing_crl_number", "the CRL of \(crl.issuer) has no cRLNumber (RFC 5280 5.2.3)")
    }
}

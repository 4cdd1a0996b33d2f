import ETrustCore
import ETrustPolicy
import ETrustStore

/// RFC 3647 7: the certificate, CRL and OCSP profiles as the home's profiles fix them.
extension Facts {
    func certificateProfiles(_ s: inout [String: [String]]) {
        s["7.1.1"] = ["X.509 version 3 (RFC 5280 4.1.2.1); serial numbers are positive, at most 20 octets, with at least 64 bits from a CSPRNG (CA/B Forum BR 7.1)."]
        s["7.1.2"] = profiles.map { p in "- \(p.name): " + Self.extensionNames(p).joined(separator: ", ") }
        let algorithms = Set(cas.map { "\($0.certificate.signatureAlgorithm)" }).sorted()
        s["7.1.3"] = algorithms.isEmpty ? [] : ["Signature algorithms of the CA certificates: \(algorithms.joined(separator: ", ")); subscriber certificates are signed with their issuing CA's algorithm."]
        s["7.1.4"] = ["Distinguished names are encoded as UTF8String (PrintableString for C and serialNumber), attributes in the order of the request as the profile allows them (3.1.1)."]
        s["7.1.5"] = profiles.filter { !$0.permittedSubtrees.isEmpty || !$0.excludedSubtrees.isEmpty }.map { p in
            "- \(p.name): permitted \(p.permittedSubtrees.map { "\($0.base)" }.joined(separator: ", ")); excluded \(p.excludedSubtrees.map { "\($0.base)" }.joined(separator: ", "))"
        }
        s["7.1.6"] = policyOIDs().map { oid, uses in "- \(oid): \(uses.joined(separator: "; "))" }
        s["7.1.7"] = profiles.filter { $0.requireExplicitPolicy != nil || $0.inhibitPolicyMapping != nil || $0.inhibitAnyPolicy != nil }.map { p in
            "- \(p.name): requireExplicitPolicy \(p.requireExplicitPolicy.map(String.init) ?? "absent"), inhibitPolicyMapping "
                + "\(p.inhibitPolicyMapping.map(String.init) ?? "absent"), inhibitAnyPolicy \(p.inhibitAnyPolicy.map(String.init) ?? "absent")"
        }
        s["7.1.8"] = profiles.flatMap { p in
            p.policies.compactMap { policy in
                policy.info.cpsURI.map { "- \(p.name), \(policy.info.oid): CPS pointer \($0.replacingOccurrences(of: "{documents}", with: config.documentsBaseURL))" }
            }
        }
        s["7.1.9"] = ["The certificatePolicies extension is not marked critical."]
    }

    /// The extensions a certificate of profile `p` carries, with the values the profile fixes.
    static func extensionNames(_ p: Profile) -> [String] {
        var names = ["basicConstraints (critical, cA \(p.isCA)\(p.pathLength.map { ", pathLen \($0)" } ?? ""))", "keyUsage (critical: \(keyUsage(p)))"]
        if !p.extendedKeyUsage.isEmpty { names.append("extendedKeyUsage (\(p.extendedKeyUsage.map(ekuName).joined(separator: ", ")))") }
        names += ["subjectKeyIdentifier", "authorityKeyIdentifier"]
        if p.sanPresence != .forbidden { names.append("subjectAltName (\(p.sanPresence.rawValue))") }
        if !p.policies.isEmpty { names.append("certificatePolicies (\(p.policies.map(\.info.oid).joined(separator: ", ")))") }
        if !p.crlDistributionPoints.isEmpty { names.append("cRLDistributionPoints") }
        if !p.ocspURLs.isEmpty || !p.caIssuersURLs.isEmpty { names.append("authorityInfoAccess") }
        if !p.permittedSubtrees.isEmpty || !p.excludedSubtrees.isEmpty { names.append("nameConstraints (critical)") }
        if p.requireExplicitPolicy != nil || p.inhibitPolicyMapping != nil { names.append("policyConstraints (critical)") }
        if p.inhibitAnyPolicy != nil { names.append("inhibitAnyPolicy (critical)") }
        if let q = p.qcStatements { names.append("qcStatements (ETSI EN 319 412-5\(q.type.map { ", type \($0.rawValue)" } ?? "")\(q.sscd ? ", QSCD" : ""))") }
        if p.ocspNoCheck { names.append("ocspNoCheck") }
        if let b = p.biometrics { names.append("biometricInfo (RFC 3739: \(b.allowed.joined(separator: ", ")))") }
        return names
    }

    func crlAndOCSP(_ s: inout [String: [String]]) {
        s["7.2.1"] = ["X.509 CRL version 2 (RFC 5280 5.1.2.1)."]
        var crlExtensions = ["authorityKeyIdentifier", "cRLNumber (monotonic per CA)"]
        if profiles.contains(where: { ($0.crl?.shards ?? 1) > 1 }) { crlExtensions.append("issuingDistributionPoint (critical, partitioned CRLs)") }
        if profiles.contains(where: { $0.crl?.deltaPeriod != nil }) { crlExtensions.append("deltaCRLIndicator (critical, delta CRLs)") }
        s["7.2.2"] = ["CRL extensions: \(crlExtensions.joined(separator: ", ")). Entry extension: reasonCode (omitted for unspecified)."]
        s["7.3.1"] = ["OCSP responses are version 1 (RFC 6960 4.2.1), signed by the issuing CA or by a delegated responder certificate"
                      + (profiles.contains(where: \.ocspNoCheck) ? " (profile \(profiles.filter(\.ocspNoCheck).map(\.name).joined(separator: ", ")), with id-pkix-ocsp-nocheck)." : ".")]
        s["7.3.2"] = ["The nonce extension (RFC 8954) is echoed when the request carries one; RFC 5019 pre-produced responses carry none."]
    }
}

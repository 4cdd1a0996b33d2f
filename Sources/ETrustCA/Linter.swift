import ETrustCore
import ETrustPolicy
import Foundation

/// Pre-issuance checks of the to-be-signed certificate against RFC 5280 and its profile. Nothing is
/// signed unless every check passes (Boulder's lint-then-sign).
public enum Linter {
    public struct Finding: Sendable, CustomStringConvertible {
        public let rule: String
        public let message: String
        public var description: String { "\(rule): \(message)" }
    }

    // One piece: a flat list of independent checks, each one line with its RFC or BR reference,
    // read top to bottom like the lint rules of Boulder's linter.
    public static func check(_ tbs: TBSCertificate, profile: Profile, issuerNotBefore: Date?, issuerNotAfter: Date?, issuerIsCA: Bool) -> [Finding] {
        var f: [Finding] = []
        func fail(_ rule: String, _ message: String) { f.append(Finding(rule: rule, message: message)) }

        // RFC 5280 4.1.2.2: positive, at most 20 octets; CA/B BR 7.1: at least 64 bits of CSPRNG output.
        if tbs.serial.isEmpty || tbs.serial.count > 20 { fail("rfc5280.serial", "serial must be 1 to 20 octets") }
        if tbs.serial.allSatisfy({ $0 == 0 }) { fail("rfc5280.serial", "serial must be positive") }
        if tbs.serial.count < 8 { fail("cabf.serial", "serial carries fewer than 64 bits") }
        if tbs.signatureAlgorithm.isWeak { fail("signature", "\(tbs.signatureAlgorithm) is not allowed") }

        // RFC 5280 4.1.2.5
        if tbs.notAfter <= tbs.notBefore { fail("rfc5280.validity", "notAfter is not after notBefore") }
        if let nb = issuerNotBefore, tbs.notBefore < nb {
            fail("rfc5280.validity", "notBefore precedes the issuer's notBefore")
        }
        if let na = issuerNotAfter, tbs.notAfter > na {
            fail("rfc5280.validity", "notAfter \(RFC3339.format(tbs.notAfter)) is beyond the issuer's notAfter \(RFC3339.format(na))")
        }
        // The whole period, inclusive, within the profile's maximum at issuance (the backdate
        // counts against it: BR 6.3.2 measures from notBefore).
        let maxValidity = profile.maximumValidity(at: tbs.notBefore.addingTimeInterval(TimeInterval(profile.maxBackdate.seconds)))
        if tbs.notAfter.timeIntervalSince(tbs.notBefore) + 1 > Double(maxValidity.seconds) {
            fail("profile.validity", "validity exceeds the profile maximum \(maxValidity)")
        }
        if !issuerIsCA { fail("rfc5280.issuer", "the issuer is not a CA") }

        var seen = Set<String>()
        for e in tbs.extensions where !seen.insert(e.oid).inserted { fail("rfc5280.extensions", "extension \(e.name) appears twice") }
        let byOID = Dictionary(tbs.extensions.map { ($0.oid, $0) }, uniquingKeysWith: { a, _ in a })

        // RFC 5280 4.2.1.9 / 4.2.1.3, judged on the certificate being built, not on the profile.
        let bc = byOID[ExtensionOID.basicConstraints]
        let ku = byOID[ExtensionOID.keyUsage]
        let isCA = bc?.basicConstraints?.ca ?? false
        let bits = ku?.keyUsage ?? []
        if profile.isCA != isCA { fail("profile.basicConstraints", "cA is \(isCA) but the profile is \(profile.kind.rawValue)") }
        if isCA {
            if bc == nil || !bc!.critical { fail("rfc5280.basicConstraints", "a CA certificate needs a critical basicConstraints") }
            if !bits.contains(.keyCertSign) { fail("rfc5280.keyUsage", "a CA certificate needs keyCertSign") }
        } else if bits.contains(.keyCertSign) || bits.contains(.cRLSign) {
            fail("rfc5280.keyUsage", "an end-entity certificate must not assert keyCertSign or cRLSign")
        }
        if ku == nil || bits.isEmpty { fail("rfc5280.keyUsage", "keyUsage must be present and assert at least one bit") }
        if ku.map({ !$0.critical }) ?? false { fail("rfc5280.keyUsage", "keyUsage should be critical") }

        // RFC 5280 4.2.1.2 / 4.2.1.1
        if byOID[ExtensionOID.subjectKeyIdentifier] == nil && isCA { fail("rfc5280.subjectKeyIdentifier", "a CA certificate needs a subjectKeyIdentifier") }
        if byOID[ExtensionOID.authorityKeyIdentifier] == nil && tbs.issuer.der != tbs.subject.der {
            fail("rfc5280.authorityKeyIdentifier", "authorityKeyIdentifier is required")
        }

        // RFC 5280 4.1.2.6 / 4.2.1.6: an empty subject needs a critical subjectAltName.
        let san = byOID[ExtensionOID.subjectAltName]
        if tbs.subject.isEmpty {
            if isCA { fail("rfc5280.subject", "a CA certificate needs a subject") }
            if san == nil || !san!.critical { fail("rfc5280.subjectAltName", "an empty subject needs a critical subjectAltName") }
        }
        if let san, san.subjectAltNames?.isEmpty ?? true {
            fail("rfc5280.subjectAltName", "subjectAltName must hold at least one name")
        }

        // CA/B Forum BR 7.1.4.3: a subject CN of a TLS server certificate is one of its SANs.
        if profile.extendedKeyUsage.contains("1.3.6.1.5.5.7.3.1") {
            let names = san?.subjectAltNames ?? []
            if names.isEmpty { fail("cabf.subjectAltName", "a TLS server certificate needs a subjectAltName") }
            for cn in tbs.subject.values(ofName: "CN") where !names.contains(where: { $0.value.lowercased() == cn.lowercased() }) {
                fail("cabf.commonName", "CN=\(cn) is not one of the subjectAltName values")
            }
        }

        // RFC 5280 4.2: critical extensions etrust emits must be ones relying parties process.
        let known: Set<String> = [
            ExtensionOID.basicConstraints, ExtensionOID.keyUsage, ExtensionOID.extendedKeyUsage, ExtensionOID.subjectAltName,
            ExtensionOID.nameConstraints, ExtensionOID.policyConstraints, ExtensionOID.policyMappings, ExtensionOID.inhibitAnyPolicy,
            ExtensionOID.certificatePolicies,
        ]
        for e in tbs.extensions where e.critical && !known.contains(e.oid) {
            fail("rfc5280.criticality", "extension \(e.name) must not be critical")
        }
        return f
    }
}

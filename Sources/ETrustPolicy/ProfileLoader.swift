import ETrustCore
import Foundation

/// Loads profiles from YAML, strictly: an unknown key, a wrong type or an impossible combination
/// fails with the file, the line and the key.
public enum ProfileLoader {
    static let attributeOIDs: [String: String] = [
        "CN": "2.5.4.3", "C": "2.5.4.6", "O": "2.5.4.10", "OU": "2.5.4.11", "L": "2.5.4.7", "ST": "2.5.4.8",
        "serialNumber": "2.5.4.5", "GN": "2.5.4.42", "SN": "2.5.4.4", "emailAddress": "1.2.840.113549.1.9.1",
        "organizationIdentifier": "2.5.4.97", "title": "2.5.4.12", "pseudonym": "2.5.4.65",
        "DC": "0.9.2342.19200300.100.1.25", "UID": "0.9.2342.19200300.100.1.1", "STREET": "2.5.4.9",
        "postalCode": "2.5.4.17",
    ]
    static let semantics: [String: String] = [
        "natural-person": "0.4.0.194121.1.1", "legal-person": "0.4.0.194121.1.2",
    ]

    public static func load(file path: String) throws -> Profile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ETrustError.environment("\(path): cannot read profile")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ETrustError(.invalidProfile, "\(path): not UTF-8 text", category: .refused)
        }
        return try load(text: text, file: path)
    }

    /// Every `*.yaml` of a folder, keyed by profile name; all errors are collected.
    public static func loadDirectory(_ dir: String) -> (profiles: [String: Profile], errors: [ETrustError]) {
        var profiles: [String: Profile] = [:]
        var errors: [ETrustError] = []
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        for f in files {
            do {
                let p = try load(file: FilePath.join(dir, f))
                if profiles[p.name] != nil {
                    errors.append(ETrustError(.invalidProfile, "\(f): profile '\(p.name)' is defined twice", category: .refused))
                }
                profiles[p.name] = p
            } catch let e as ETrustError {
                errors.append(e)
            } catch {
                errors.append(ETrustError(.invalidProfile, "\(f): \(error)", category: .refused))
            }
        }
        return (profiles, errors)
    }

    public static func load(text: String, file: String) throws -> Profile {
        let root = try StrictYAML.load(text, file: file)
        let top = try root.mapping(allowed: [
            "profile", "description", "kind", "keys", "validity", "subject", "san", "copyFromRequest", "keyUsage",
            "extendedKeyUsage", "pathLength", "policies", "crlDistributionPoints", "authorityInfoAccess",
            "nameConstraints", "policyConstraints", "inhibitAnyPolicy", "qcStatements", "ocspNoCheck", "crl", "revocation",
            "biometricInfo",
        ])
        func required(_ key: String) throws -> StrictYAML {
            guard let v = top[key] else { throw root.fail("missing required key '\(key)'") }
            return v
        }
        let name = try required("profile").string()
        guard name.range(of: "^[a-z0-9][a-z0-9-]*$", options: .regularExpression) != nil else {
            throw try required("profile").fail("profile name must be lower-case letters, digits and '-'")
        }
        let kindNode = try required("kind")
        guard let kind = Profile.Kind(rawValue: try kindNode.string()) else {
            throw kindNode.fail("kind must be root-ca, sub-ca or end-entity")
        }
        let keyRules = try keyRules(try required("keys"))
        let (defaultValidity, maxValidity, backdate, schedule) = try validity(try required("validity"))
        let (subjectRules, mayBeEmpty) = try subject(top["subject"])
        let (sanPresence, sanTypes, sanMax, sanPublicNames) = try san(top["san"])
        let copy = try copyFromRequest(top["copyFromRequest"])
        let (keyUsage, eku, ekuCritical) = try usages(try required("keyUsage"), top["extendedKeyUsage"])
        let pathLength = try top["pathLength"]?.int(min: 0, max: 10)
        let policies = try policies(top["policies"])
        let (cdp, ocsp, caIssuers) = try urls(top)
        let (permitted, excluded) = try nameConstraints(top["nameConstraints"])
        let (requireExplicit, inhibitMapping) = try policyConstraints(top["policyConstraints"])
        let inhibitAny = try top["inhibitAnyPolicy"]?.int(min: 0, max: 10)
        let qc = try qcStatements(top["qcStatements"])
        let ocspNoCheck = try top["ocspNoCheck"]?.bool() ?? false
        let crl = try crl(top["crl"])
        let revocationReasons = try revocationReasons(top["revocation"])

        // Cross-field rules (RFC 5280 4.2.1.3, 4.2.1.9).
        switch kind {
        case .rootCA, .subCA:
            guard keyUsage.contains(.keyCertSign) else { throw try required("keyUsage").fail("a CA profile needs keyCertSign") }
            if crl != nil && !keyUsage.contains(.cRLSign) { throw try required("keyUsage").fail("a CA that publishes CRLs needs cRLSign") }
        case .endEntity:
            if keyUsage.contains(.keyCertSign) || keyUsage.contains(.cRLSign) {
                throw try required("keyUsage").fail("keyCertSign and cRLSign are for CA profiles only")
            }
            if pathLength != nil { throw top["pathLength"]!.fail("pathLength is for CA profiles only") }
            if !permitted.isEmpty || !excluded.isEmpty { throw top["nameConstraints"]!.fail("nameConstraints are for CA profiles only") }
        }
        if kind == .endEntity && !mayBeEmpty && !subjectRules.contains(where: { $0.presence == .required }) && sanPresence != .required {
            throw root.fail("an end-entity profile must require a subject attribute or a subjectAltName")
        }

        var profile = Profile(
            name: name, description: try top["description"]?.string() ?? "", file: file,
            sha256: Digest.sha256(Array(text.utf8)), kind: kind, keyRules: keyRules,
            defaultValidity: defaultValidity, maxValidity: maxValidity, validitySchedule: schedule, maxBackdate: backdate,
            subjectRules: subjectRules, subjectMayBeEmpty: mayBeEmpty, sanPresence: sanPresence, sanTypes: sanTypes,
            sanMaxCount: sanMax, sanPublicNames: sanPublicNames, copyRequestedExtensions: copy, keyUsage: keyUsage, extendedKeyUsage: eku,
            extendedKeyUsageCritical: ekuCritical, pathLength: pathLength, policies: policies,
            crlDistributionPoints: cdp, ocspURLs: ocsp, caIssuersURLs: caIssuers, permittedSubtrees: permitted,
            excludedSubtrees: excluded, requireExplicitPolicy: requireExplicit, inhibitPolicyMapping: inhibitMapping,
            inhibitAnyPolicy: inhibitAny, qcStatements: qc, ocspNoCheck: ocspNoCheck, crl: crl,
            revocationReasons: revocationReasons)
        profile.biometrics = try biometricInfo(top["biometricInfo"], kind: kind)
        return profile
    }
}

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

        // Keys
        var keyRules: [Profile.KeyRule] = []
        for k in try required("keys").sequence() {
            let m = try k.mapping(allowed: ["family", "curves", "minBits", "maxBits"])
            guard let famNode = m["family"] else { throw k.fail("missing 'family'") }
            let family = try famNode.string()
            switch family {
            case "ec":
                let curves = try m["curves"]?.strings() ?? ["P-256", "P-384"]
                for c in curves where !["P-256", "P-384", "P-521"].contains(c) {
                    throw (m["curves"] ?? k).fail("unsupported curve '\(c)' (P-256, P-384, P-521)")
                }
                keyRules.append(.init(family: family, curves: curves, minBits: 256, maxBits: 521))
            case "rsa":
                let minBits = try m["minBits"]?.int(min: 2048, max: 16384) ?? 2048
                let maxBits = try m["maxBits"]?.int(min: minBits, max: 16384) ?? 8192
                keyRules.append(.init(family: family, curves: [], minBits: minBits, maxBits: maxBits))
            case "ed25519":
                keyRules.append(.init(family: family, curves: [], minBits: 256, maxBits: 256))
            default:
                throw famNode.fail("unknown key family '\(family)' (ec, rsa, ed25519)")
            }
        }
        guard !keyRules.isEmpty else { throw try required("keys").fail("at least one key rule is needed") }

        // Validity
        let vm = try required("validity").mapping(allowed: ["default", "max", "backdate", "schedule"])
        guard let defNode = vm["default"], let maxNode = vm["max"] else {
            throw try required("validity").fail("'default' and 'max' are required")
        }
        let defaultValidity = try defNode.duration()
        let maxValidity = try maxNode.duration()
        guard defaultValidity.seconds <= maxValidity.seconds else { throw defNode.fail("default exceeds max") }
        let backdate = try vm["backdate"]?.duration() ?? ValidityDuration(seconds: 0)
        guard backdate.seconds <= 2 * 86_400 else { throw vm["backdate"]!.fail("backdating is limited to 2d") }
        var schedule: [Profile.ValidityStep] = []
        for step in try vm["schedule"]?.sequence() ?? [] {
            let sm = try step.mapping(allowed: ["from", "max"])
            guard let f = sm["from"], let mx = sm["max"] else { throw step.fail("'from' and 'max' are required") }
            schedule.append(.init(from: try f.date(), max: try mx.duration()))
        }

        // Subject
        var subjectRules: [Profile.AttributeRule] = []
        var mayBeEmpty = false
        if let s = top["subject"] {
            let sm = try s.mapping(allowed: ["attributes", "mayBeEmpty"])
            mayBeEmpty = try sm["mayBeEmpty"]?.bool() ?? false
            for (attr, rule) in try sm["attributes"]?.entries() ?? [] {
                guard let oid = attributeOIDs[attr] else {
                    throw rule.fail("unknown subject attribute '\(attr)' (\(attributeOIDs.keys.sorted().joined(separator: ", ")))")
                }
                let rm = try rule.mapping(allowed: ["presence", "pattern", "allowed", "maxCount"])
                let presenceNode = rm["presence"]
                let presence = try presenceNode.map { n -> Profile.Presence in
                    guard let p = Profile.Presence(rawValue: try n.string()) else { throw n.fail("presence must be required, optional or forbidden") }
                    return p
                } ?? .optional
                subjectRules.append(.init(name: attr, oid: oid, presence: presence, pattern: try rm["pattern"]?.regex(),
                                          allowed: try rm["allowed"]?.strings() ?? [], maxCount: try rm["maxCount"]?.int(min: 1, max: 16) ?? 1))
            }
        }

        // SAN
        var sanPresence = Profile.Presence.forbidden
        var sanTypes: [Profile.SANTypeRule] = []
        var sanMax = 0
        var sanPublicNames = false
        if let s = top["san"] {
            let sm = try s.mapping(allowed: ["presence", "types", "maxCount", "publicNames"])
            sanPublicNames = try sm["publicNames"]?.bool() ?? false
            if let p = sm["presence"] {
                guard let v = Profile.Presence(rawValue: try p.string()) else { throw p.fail("presence must be required, optional or forbidden") }
                sanPresence = v
            } else { sanPresence = .optional }
            sanMax = try sm["maxCount"]?.int(min: 1, max: 1000) ?? 10
            for (t, rule) in try sm["types"]?.entries() ?? [] {
                guard ["dns", "email", "ip", "uri", "dirname"].contains(t) else { throw rule.fail("unknown SAN type '\(t)'") }
                var pattern: NSRegularExpression? = nil
                if case .mapping = rule.node {
                    pattern = try rule.mapping(allowed: ["pattern"])["pattern"]?.regex()
                }
                sanTypes.append(.init(type: t, pattern: pattern))
            }
            if sanPresence != .forbidden && sanTypes.isEmpty { throw s.fail("'types' must list the SAN types allowed") }
        }

        // Requested extensions that may be copied from the CSR.
        var copy = Set<String>()
        for n in try top["copyFromRequest"]?.sequence() ?? [] {
            let v = try n.string()
            guard let oid = ExtensionOID.oid(named: v) else { throw n.fail("unknown extension '\(v)'") }
            guard oid == ExtensionOID.subjectAltName else {
                throw n.fail("only subjectAltName may be copied from a request; the CA decides '\(v)'")
            }
            copy.insert(oid)
        }

        // Key usage and EKU
        var keyUsage = Set<KeyUsageBit>()
        for n in try required("keyUsage").sequence() {
            let v = try n.string()
            guard let b = KeyUsageBit(name: v) else { throw n.fail("unknown key usage '\(v)'") }
            keyUsage.insert(b)
        }
        var eku: [String] = []
        var ekuCritical = false
        if let e = top["extendedKeyUsage"] {
            var list = e
            if case .mapping = e.node {
                let em = try e.mapping(allowed: ["purposes", "critical"])
                ekuCritical = try em["critical"]?.bool() ?? false
                guard let p = em["purposes"] else { throw e.fail("missing 'purposes'") }
                list = p
            }
            for n in try list.sequence() {
                let v = try n.string()
                guard let oid = ExtendedKeyUsage.oid(v) else { throw n.fail("unknown extended key usage '\(v)'") }
                eku.append(oid)
            }
        }
        let pathLength = try top["pathLength"]?.int(min: 0, max: 10)

        // Policies
        var policies: [Profile.Policy] = []
        for p in try top["policies"]?.sequence() ?? [] {
            let pm = try p.mapping(allowed: ["oid", "cps", "notice", "level"])
            guard let o = pm["oid"] else { throw p.fail("missing 'oid'") }
            var level: Profile.AssuranceLevel? = nil
            if let l = pm["level"] {
                guard let v = Profile.AssuranceLevel(rawValue: try l.string()) else { throw l.fail("level must be low, substantial or high") }
                level = v
            }
            policies.append(.init(info: PolicyInformation(oid: try o.oid(), cpsURI: try pm["cps"]?.string(), userNotice: try pm["notice"]?.string()), level: level))
        }

        let cdp = try top["crlDistributionPoints"]?.strings() ?? []
        var ocsp: [String] = []
        var caIssuers: [String] = []
        if let a = top["authorityInfoAccess"] {
            let am = try a.mapping(allowed: ["ocsp", "caIssuers"])
            ocsp = try am["ocsp"]?.strings() ?? []
            caIssuers = try am["caIssuers"]?.strings() ?? []
        }
        // RFC 5280 4.2.1.13 / BR 7.1.2: CRL, OCSP and CA-issuer URLs are plain HTTP.
        for url in cdp where url.contains("{issuer}.crl") {
            throw top["crlDistributionPoints"]!.fail("use {crl} for the CRL file name ('{base}/crl/{crl}'): it names the issuer's shard")
        }
        for (node, urls) in [(top["crlDistributionPoints"], cdp), (top["authorityInfoAccess"], ocsp + caIssuers)] {
            for url in urls where !(url.hasPrefix("http://") || url.hasPrefix("{base}")) {
                throw node!.fail("URL '\(url)' must be http:// or start with {base}")
            }
        }

        var permitted: [GeneralSubtree] = []
        var excluded: [GeneralSubtree] = []
        if let nc = top["nameConstraints"] {
            let m = try nc.mapping(allowed: ["permitted", "excluded"])
            for n in try m["permitted"]?.sequence() ?? [] {
                do { permitted.append(try GeneralSubtree(parsing: try n.string())) } catch let e as ETrustError { throw n.fail(e.reason) }
            }
            for n in try m["excluded"]?.sequence() ?? [] {
                do { excluded.append(try GeneralSubtree(parsing: try n.string())) } catch let e as ETrustError { throw n.fail(e.reason) }
            }
        }
        var requireExplicit: Int? = nil
        var inhibitMapping: Int? = nil
        if let pc = top["policyConstraints"] {
            let m = try pc.mapping(allowed: ["requireExplicitPolicy", "inhibitPolicyMapping"])
            requireExplicit = try m["requireExplicitPolicy"]?.int(min: 0, max: 10)
            inhibitMapping = try m["inhibitPolicyMapping"]?.int(min: 0, max: 10)
            if requireExplicit == nil && inhibitMapping == nil { throw pc.fail("state requireExplicitPolicy or inhibitPolicyMapping") }
        }
        let inhibitAny = try top["inhibitAnyPolicy"]?.int(min: 0, max: 10)

        var qc: QualifiedStatements? = nil
        if let q = top["qcStatements"] {
            let m = try q.mapping(allowed: ["compliance", "sscd", "type", "pds", "retentionPeriod", "semantics"])
            var v = QualifiedStatements()
            v.compliance = try m["compliance"]?.bool() ?? true
            v.sscd = try m["sscd"]?.bool() ?? false
            if let t = m["type"] {
                guard let tv = QualifiedStatements.QCType(rawValue: try t.string()) else { throw t.fail("type must be esign, eseal or web") }
                v.type = tv
            }
            for p in try m["pds"]?.sequence() ?? [] {
                let pm = try p.mapping(allowed: ["url", "language"])
                guard let u = pm["url"], let l = pm["language"] else { throw p.fail("'url' and 'language' are required") }
                let lang = try l.string()
                guard lang.count == 2 else { throw l.fail("language must be an ISO 639-1 two-letter code") }
                let url = try u.string()
                guard url.hasPrefix("https://") || url.hasPrefix("{documents}") else {
                    throw u.fail("ETSI EN 319 412-5 requires an https PDS URL (or {documents}/...)")
                }
                v.pds.append((url, lang))
            }
            v.retentionPeriodYears = try m["retentionPeriod"]?.int(min: 1, max: 100)
            if let s = m["semantics"] {
                let sv = try s.string()
                if let known = semantics[sv] { v.semanticsIdentifier = known } else { v.semanticsIdentifier = try s.oid() }
            }
            qc = v
        }
        let ocspNoCheck = try top["ocspNoCheck"]?.bool() ?? false

        var crl: Profile.CRLSettings? = nil
        if let c = top["crl"] {
            let m = try c.mapping(allowed: ["period", "overlap", "shards", "deltaPeriod", "expiredGrace"])
            let period = try m["period"]?.duration() ?? ValidityDuration(seconds: 7 * 86_400)
            crl = .init(period: period,
                        overlap: try m["overlap"]?.duration() ?? ValidityDuration(seconds: 86_400),
                        shards: try m["shards"]?.int(min: 1, max: 1024) ?? 1,
                        deltaPeriod: try m["deltaPeriod"]?.duration(),
                        expiredGrace: try m["expiredGrace"]?.duration() ?? period)
            if crl!.shards > 1 && crl!.deltaPeriod != nil {
                throw c.fail("a CA publishes either shards or delta CRLs, not both (one delta cannot match several scopes)")
            }
            if crl!.overlap.seconds >= period.seconds { throw m["overlap"]!.fail("overlap must be shorter than the period") }
        }

        var revocationReasons: Set<RevocationReason>? = nil
        if let r = top["revocation"] {
            let m = try r.mapping(allowed: ["reasons"])
            if let list = m["reasons"] {
                var set = Set<RevocationReason>()
                for n in try list.sequence() {
                    do { set.insert(try RevocationReason(parsing: try n.string())) } catch let e as ETrustError { throw n.fail(e.reason) }
                }
                revocationReasons = set
            }
        }

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

        return Profile(
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
    }
}

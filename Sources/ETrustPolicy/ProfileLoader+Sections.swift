import ETrustCore
import Foundation

/// The sections of a profile document, one function each; `ProfileLoader.load` assembles them.
extension ProfileLoader {
    typealias Top = [String: StrictYAML]

    static func keyRules(_ node: StrictYAML) throws -> [Profile.KeyRule] {
        var keyRules: [Profile.KeyRule] = []
        for k in try node.sequence() {
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
        guard !keyRules.isEmpty else { throw node.fail("at least one key rule is needed") }
        return keyRules
    }

    static func validity(_ node: StrictYAML) throws -> (ValidityDuration, ValidityDuration, ValidityDuration, [Profile.ValidityStep]) {
        let vm = try node.mapping(allowed: ["default", "max", "backdate", "schedule"])
        guard let defNode = vm["default"], let maxNode = vm["max"] else {
            throw node.fail("'default' and 'max' are required")
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
        return (defaultValidity, maxValidity, backdate, schedule)
    }

    static func subject(_ node: StrictYAML?) throws -> ([Profile.AttributeRule], Bool) {
        var subjectRules: [Profile.AttributeRule] = []
        var mayBeEmpty = false
        if let s = node {
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
        return (subjectRules, mayBeEmpty)
    }

    static func san(_ node: StrictYAML?) throws -> (Profile.Presence, [Profile.SANTypeRule], Int, Bool) {
        var sanPresence = Profile.Presence.forbidden
        var sanTypes: [Profile.SANTypeRule] = []
        var sanMax = 0
        var sanPublicNames = false
        if let s = node {
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
        return (sanPresence, sanTypes, sanMax, sanPublicNames)
    }

    static func copyFromRequest(_ node: StrictYAML?) throws -> Set<String> {
        // Requested extensions that may be copied from the CSR.
        var copy = Set<String>()
        for n in try node?.sequence() ?? [] {
            let v = try n.string()
            guard let oid = ExtensionOID.oid(named: v) else { throw n.fail("unknown extension '\(v)'") }
            guard oid == ExtensionOID.subjectAltName else {
                throw n.fail("only subjectAltName may be copied from a request; the CA decides '\(v)'")
            }
            copy.insert(oid)
        }
        return copy
    }

    static func usages(_ keyUsageNode: StrictYAML, _ ekuNode: StrictYAML?) throws -> (Set<KeyUsageBit>, [String], Bool) {
        var keyUsage = Set<KeyUsageBit>()
        for n in try keyUsageNode.sequence() {
            let v = try n.string()
            guard let b = KeyUsageBit(name: v) else { throw n.fail("unknown key usage '\(v)'") }
            keyUsage.insert(b)
        }
        var eku: [String] = []
        var ekuCritical = false
        if let e = ekuNode {
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
        return (keyUsage, eku, ekuCritical)
    }

    static func policies(_ node: StrictYAML?) throws -> [Profile.Policy] {
        var policies: [Profile.Policy] = []
        for p in try node?.sequence() ?? [] {
            let pm = try p.mapping(allowed: ["oid", "cps", "notice", "level"])
            guard let o = pm["oid"] else { throw p.fail("missing 'oid'") }
            var level: Profile.AssuranceLevel? = nil
            if let l = pm["level"] {
                guard let v = Profile.AssuranceLevel(rawValue: try l.string()) else { throw l.fail("level must be low, substantial or high") }
                level = v
            }
            policies.append(.init(info: PolicyInformation(oid: try o.oid(), cpsURI: try pm["cps"]?.string(), userNotice: try pm["notice"]?.string()), level: level))
        }
        return policies
    }

    static func urls(_ top: Top) throws -> (cdp: [String], ocsp: [String], caIssuers: [String]) {
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
        return (cdp, ocsp, caIssuers)
    }

    static func nameConstraints(_ node: StrictYAML?) throws -> ([GeneralSubtree], [GeneralSubtree]) {
        var permitted: [GeneralSubtree] = []
        var excluded: [GeneralSubtree] = []
        if let nc = node {
            let m = try nc.mapping(allowed: ["permitted", "excluded"])
            for n in try m["permitted"]?.sequence() ?? [] {
                do { permitted.append(try GeneralSubtree(parsing: try n.string())) } catch let e as ETrustError { throw n.fail(e.reason) }
            }
            for n in try m["excluded"]?.sequence() ?? [] {
                do { excluded.append(try GeneralSubtree(parsing: try n.string())) } catch let e as ETrustError { throw n.fail(e.reason) }
            }
        }
        return (permitted, excluded)
    }

    static func policyConstraints(_ node: StrictYAML?) throws -> (Int?, Int?) {
        var requireExplicit: Int? = nil
        var inhibitMapping: Int? = nil
        if let pc = node {
            let m = try pc.mapping(allowed: ["requireExplicitPolicy", "inhibitPolicyMapping"])
            requireExplicit = try m["requireExplicitPolicy"]?.int(min: 0, max: 10)
            inhibitMapping = try m["inhibitPolicyMapping"]?.int(min: 0, max: 10)
            if requireExplicit == nil && inhibitMapping == nil { throw pc.fail("state requireExplicitPolicy or inhibitPolicyMapping") }
        }
        return (requireExplicit, inhibitMapping)
    }

    static func qcStatements(_ node: StrictYAML?) throws -> QualifiedStatements? {
        var qc: QualifiedStatements? = nil
        if let q = node {
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
        return qc
    }

    static func crl(_ node: StrictYAML?) throws -> Profile.CRLSettings? {
        var crl: Profile.CRLSettings? = nil
        if let c = node {
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
        return crl
    }

    static func revocationReasons(_ node: StrictYAML?) throws -> Set<RevocationReason>? {
        var revocationReasons: Set<RevocationReason>? = nil
        if let r = node {
            let m = try r.mapping(allowed: ["reasons"])
            if let list = m["reasons"] {
                var set = Set<RevocationReason>()
                for n in try list.sequence() {
                    do { set.insert(try RevocationReason(parsing: try n.string())) } catch let e as ETrustError { throw n.fail(e.reason) }
                }
                revocationReasons = set
            }
        }
        return revocationReasons
    }

    /// `biometricInfo: { allowed: [picture, handwritten-signature, 1.2.3...], required: [picture] }`.
    static func biometricInfo(_ node: StrictYAML?, kind: Profile.Kind) throws -> Profile.BiometricRule? {
        guard let node else { return nil }
        guard kind == .endEntity else { throw node.fail("biometricInfo is for end-entity profiles only") }
        let m = try node.mapping(allowed: ["allowed", "required"])
        func types(_ n: StrictYAML?) throws -> [String] {
            try (n?.sequence() ?? []).map { t in
                do { return try BiometricData.Kind(parsing: try t.string()).description } catch let e as ETrustError { throw t.fail(e.reason) }
            }
        }
        let required = try types(m["required"])
        let allowed = try types(m["allowed"])
        if let missing = required.first(where: { !allowed.contains($0) }), m["allowed"] != nil {
            throw node.fail("required type \(missing) is not in allowed")
        }
        let all = allowed.isEmpty ? required : allowed
        guard !all.isEmpty else { throw node.fail("state the allowed (or required) biometric types") }
        return Profile.BiometricRule(allowed: all, required: required)
    }
}

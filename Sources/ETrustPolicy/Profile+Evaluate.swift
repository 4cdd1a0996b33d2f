import ETrustCore
import Foundation

/// What the requester asked for, as the profile judges it.
public struct RequestFacts: Sendable {
    public var subject: DistinguishedName
    public var subjectAltNames: [GeneralName]
    public var publicKey: PublicKeyKind
    public var requestedExtensions: [Extension]
    public var requestedValidity: ValidityDuration?
    public var issuedAt: Date
    /// The biometricInfo types asked for (`picture`, `handwritten-signature` or OIDs).
    public var biometricTypes: [String] = []

    public init(subject: DistinguishedName, subjectAltNames: [GeneralName], publicKey: PublicKeyKind,
                requestedExtensions: [Extension], requestedValidity: ValidityDuration?, issuedAt: Date) {
        self.subject = subject; self.subjectAltNames = subjectAltNames; self.publicKey = publicKey
        self.requestedExtensions = requestedExtensions; self.requestedValidity = requestedValidity; self.issuedAt = issuedAt
    }
}

extension Profile {
    /// Judges a request. The first rule that fails is returned, named as `section.key`.
    public func evaluate(_ r: RequestFacts) -> Decision {
        if let refusal = checkKey(r.publicKey) ?? checkRequestedExtensions(r) ?? checkSubject(r.subject)
            ?? checkSAN(r.subjectAltNames, subjectEmpty: r.subject.isEmpty) ?? checkValidity(r) ?? checkBiometrics(r.biometricTypes) {
            return refusal
        }
        return .accepted
    }

    /// The subject attributes a request may carry, for refusals ("CN, O (required), C").
    var allowedAttributeList: String {
        let names = subjectRules.filter { $0.presence != .forbidden }.map { $0.presence == .required ? "\($0.name) (required)" : $0.name }
        return names.isEmpty ? "none" : names.joined(separator: ", ")
    }

    /// The request extensions the profile copies, for refusals.
    var copiedExtensionList: String {
        copyRequestedExtensions.isEmpty ? "none" : copyRequestedExtensions.map { ExtensionOID.name(of: $0) }.sorted().joined(separator: ", ")
    }

    private func checkBiometrics(_ types: [String]) -> Decision? {
        guard let rule = biometrics else {
            return types.isEmpty ? nil : .refused(rule: "biometricInfo", reason: "the profile allows no biometricInfo")
        }
        if let t = types.first(where: { !rule.allowed.contains($0) }) {
            return .refused(rule: "biometricInfo.allowed", reason: "biometric type \(t) is not allowed (allowed: \(rule.allowed.joined(separator: ", ")))")
        }
        if let t = rule.required.first(where: { !types.contains($0) }) {
            return .refused(rule: "biometricInfo.required", reason: "the profile requires a biometric \(t) (--biometric \(t)=FILE)")
        }
        if Set(types).count != types.count { return .refused(rule: "biometricInfo", reason: "a biometric type is given twice") }
        return nil
    }

    private func checkKey(_ key: PublicKeyKind) -> Decision? {
        let allowed = keyRules.contains { rule in
            guard rule.family == key.family else { return false }
            switch key {
            case .ec(let curve, _): return rule.curves.contains(curve)
            case .rsa(let bits): return bits >= rule.minBits && bits <= rule.maxBits
            case .ed25519: return true
            default: return false
            }
        }
        guard allowed else {
            let list = keyRules.map { r in
                r.family == "ec" ? "EC \(r.curves.joined(separator: "/"))" : r.family == "rsa" ? "RSA \(r.minBits)-\(r.maxBits)" : r.family
            }.joined(separator: ", ")
            return .refused(rule: "keys", reason: "\(key) is not allowed (allowed: \(list))")
        }
        return nil
    }

    private func checkRequestedExtensions(_ r: RequestFacts) -> Decision? {
        for e in r.requestedExtensions where !copyRequestedExtensions.contains(e.oid) {
            if e.oid == ExtensionOID.basicConstraints {
                let asksCA = e.basicConstraints?.ca ?? false
                if asksCA {
                    return .refused(rule: "copyFromRequest", reason: "the request asks for basicConstraints CA=true; the CA decides basicConstraints")
                }
                // An end-entity's request for CA=false agrees with what the CA sets anyway.
                if !isCA { continue }
            }
            // Extensions the CA sets itself and a request may repeat harmlessly are still refused:
            // a request must not silently lose what it asked for.
            return .refused(rule: "copyFromRequest", reason: "the request asks for \(e.name)\(e.critical ? " (critical)" : ""), which this profile does not take from requests (taken: \(copiedExtensionList))")
        }
        return nil
    }

    private func checkSubject(_ subject: DistinguishedName) -> Decision? {
        if subject.isEmpty {
            let requiresAttribute = subjectRules.contains { $0.presence == .required }
            if subjectMayBeEmpty || kind == .endEntity && sanPresence == .required && !requiresAttribute {
                // RFC 5280 4.2.1.6: an empty subject needs a critical SAN; the CA marks it so.
            } else {
                return .refused(rule: "subject", reason: "the subject is empty")
            }
        }
        var counts: [String: Int] = [:]
        for a in subject.attributes {
            guard let rule = subjectRules.first(where: { $0.oid == a.oid }) else {
                return .refused(rule: "subject.attributes", reason: "attribute \(a.name) is not allowed by this profile (allowed: \(allowedAttributeList))")
            }
            counts[a.oid, default: 0] += 1
            if rule.presence == .forbidden {
                return .refused(rule: "subject.attributes.\(rule.name)", reason: "attribute \(rule.name) is forbidden (allowed: \(allowedAttributeList))")
            }
            if !rule.allowed.isEmpty && !rule.allowed.contains(a.value) {
                return .refused(rule: "subject.attributes.\(rule.name).allowed", reason: "\(rule.name)=\(a.value) is not one of \(rule.allowed.joined(separator: ", "))")
            }
            if let p = rule.pattern, !Profile.matches(p, a.value) {
                return .refused(rule: "subject.attributes.\(rule.name).pattern", reason: "\(rule.name)=\(a.value) does not match \(p.pattern)")
            }
        }
        for rule in subjectRules {
            let n = counts[rule.oid] ?? 0
            if rule.presence == .required && n == 0 {
                let required = subjectRules.filter { $0.presence == .required }.map(\.name).joined(separator: ", ")
                return .refused(rule: "subject.attributes.\(rule.name)", reason: "attribute \(rule.name) is required (required: \(required))")
            }
            if n > rule.maxCount {
                return .refused(rule: "subject.attributes.\(rule.name).maxCount", reason: "attribute \(rule.name) appears \(n) times (max \(rule.maxCount))")
            }
        }
        return nil
    }

    private func checkSAN(_ names: [GeneralName], subjectEmpty: Bool) -> Decision? {
        if names.isEmpty {
            if sanPresence == .required {
                return .refused(rule: "san.presence", reason: "a subjectAltName is required (types: \(sanTypes.map(\.type).joined(separator: ", ")); give --san)")
            }
            return nil
        }
        if sanPresence == .forbidden { return .refused(rule: "san.presence", reason: "subjectAltName is not allowed by this profile (the subject names the holder)") }
        if names.count > sanMaxCount { return .refused(rule: "san.maxCount", reason: "\(names.count) names exceed the maximum of \(sanMaxCount)") }
        var seen = Set<GeneralName>()
        for n in names {
            guard seen.insert(n).inserted else { return .refused(rule: "san", reason: "\(n) appears twice") }
            guard let rule = sanTypes.first(where: { $0.type == n.typeName }) else {
                return .refused(rule: "san.types", reason: "SAN type \(n.typeName) is not allowed (allowed: \(sanTypes.map(\.type).joined(separator: ", ")))")
            }
            if case .dns(let host) = n, let problem = Profile.dnsNameProblem(host) {
                return .refused(rule: "san.types.dns", reason: "\(host): \(problem)")
            }
            if case .email(let addr) = n, Profile.emailProblem(addr) {
                return .refused(rule: "san.types.email", reason: "\(addr) is not an e-mail address")
            }
            if sanPublicNames, let problem = Profile.publicNameProblem(n) {
                return .refused(rule: "san.publicNames", reason: "\(n): \(problem)")
            }
            if let p = rule.pattern, !Profile.matches(p, n.value) {
                return .refused(rule: "san.types.\(rule.type).pattern", reason: "\(n) does not match \(p.pattern)")
            }
        }
        return nil
    }

    private func checkValidity(_ r: RequestFacts) -> Decision? {
        let limit = maximumValidity(at: r.issuedAt)
        let asked = r.requestedValidity ?? (defaultValidity.seconds <= limit.seconds ? defaultValidity : limit)
        if asked.seconds > limit.seconds {
            return .refused(rule: "validity.max", reason: "validity \(asked) exceeds the maximum of \(limit) for certificates issued on this date (ask for \(limit) or less)")
        }
        return nil
    }

    /// The validity used when the request states none: the default, capped by the schedule.
    public func validity(requested: ValidityDuration?, at date: Date) -> ValidityDuration {
        let limit = maximumValidity(at: date)
        return requested ?? (defaultValidity.seconds <= limit.seconds ? defaultValidity : limit)
    }

    static func matches(_ re: NSRegularExpression, _ s: String) -> Bool {
        let range = NSRange(s.startIndex..., in: s)
        guard let m = re.firstMatch(in: s, range: range) else { return false }
        return m.range == range
    }

    /// RFC 5280 4.2.1.6 / RFC 1034 preferred syntax (LDH labels, A-labels), with a leading
    /// wildcard label allowed.
    static func dnsNameProblem(_ host: String) -> String? {
        guard !host.isEmpty, host.count <= 253 else { return "invalid length" }
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" { labels.removeFirst() }
        guard labels.count >= 2 else { return "needs at least two labels" }
        // An all-numeric last label is an IP address literal, not a DNS name.
        if let last = labels.last, last.allSatisfy(\.isNumber) { return "is an IP address literal, not a DNS name" }
        for l in labels {
            guard !l.isEmpty, l.count <= 63 else { return "empty or over-long label" }
            guard l.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return "label '\(l)' has characters outside LDH" }
            guard l.first != "-", l.last != "-" else { return "label '\(l)' starts or ends with '-'" }
        }
        return nil
    }

    /// One '@', a non-empty local part, and a domain of at least two LDH labels.
    static func emailProblem(_ addr: String) -> Bool {
        let parts = addr.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return true }
        return dnsNameProblem(String(parts[1])) != nil
    }

    /// CA/B Forum BR 4.2.2 and 7.1.2.7.12: no internal names and no reserved IP addresses.
    static func publicNameProblem(_ name: GeneralName) -> String? {
        switch name {
        case .dns(let host):
            let tld = host.lowercased().split(separator: ".").last.map(String.init) ?? ""
            guard TopLevelDomains.all.contains(tld) else { return "'\(tld)' is not a public top-level domain (internal name)" }
            return nil
        case .ip(let bytes):
            return ReservedAddresses.contains(bytes) ? "reserved IP address (RFC 6890)" : nil
        default:
            return nil
        }
    }
}

/// RFC 6890 special-purpose ranges (and multicast) that a publicly trusted certificate must not name.
enum ReservedAddresses {
    struct V4 { let net: UInt32; let length: Int }
    struct V6 { let prefix: [UInt8]; let length: Int }
    static let v4: [V4] = [
        V4(net: 0x0000_0000, length: 8), V4(net: 0x0a00_0000, length: 8), V4(net: 0x6440_0000, length: 10),
        V4(net: 0x7f00_0000, length: 8), V4(net: 0xa9fe_0000, length: 16), V4(net: 0xac10_0000, length: 12),
        V4(net: 0xc000_0000, length: 24), V4(net: 0xc000_0200, length: 24), V4(net: 0xc058_6300, length: 24),
        V4(net: 0xc0a8_0000, length: 16), V4(net: 0xc612_0000, length: 15), V4(net: 0xc633_6400, length: 24),
        V4(net: 0xcb00_7100, length: 24), V4(net: 0xe000_0000, length: 4), V4(net: 0xf000_0000, length: 4),
    ]
    static let v6: [V6] = [
        V6(prefix: [0], length: 127),                                   // ::, ::1
        V6(prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], length: 96), // IPv4-mapped
        V6(prefix: [0x01, 0x00], length: 64),                           // discard-only
        V6(prefix: [0x20, 0x01, 0x0d, 0xb8], length: 32),               // documentation
        V6(prefix: [0x20, 0x01], length: 23),                           // IETF protocol assignments
        V6(prefix: [0xfc], length: 7),                                  // unique local
        V6(prefix: [0xfe, 0x80], length: 10),                           // link local
        V6(prefix: [0xff], length: 8),                                  // multicast
    ]

    static func contains(_ b: [UInt8]) -> Bool {
        if b.count == 4 {
            let a = UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
            return v4.contains { r in a >> UInt32(32 - r.length) == r.net >> UInt32(32 - r.length) }
        }
        guard b.count == 16 else { return true }
        return v6.contains { r in
            let p: [UInt8] = r.prefix + [UInt8](repeating: 0, count: 16 - r.prefix.count)
            for i in 0..<r.length {
                let bit: UInt8 = UInt8(0x80) >> UInt8(i % 8)
                let x: UInt8 = b[i / 8] & bit
                let y: UInt8 = p[i / 8] & bit
                if x != y { return false }
            }
            return true
        }
    }
}

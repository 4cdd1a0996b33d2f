import SwiftASN1

/// One X.509 v3 extension: OID, criticality and the DER of its value (the OCTET STRING contents).
public struct Extension: Sendable, Hashable {
    public let oid: String
    public let critical: Bool
    public let value: [UInt8]

    public init(oid: String, critical: Bool, value: [UInt8]) {
        self.oid = oid
        self.critical = critical
        self.value = value
    }

    /// DER of the Extension SEQUENCE (critical omitted when false: DEFAULT FALSE in DER).
    public var der: [UInt8] {
        var s = DER.Serializer()
        try! s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: oid))
            if critical { try s.serialize(true) }
            try s.serialize(ASN1OctetString(contentBytes: ArraySlice(value)))
        }
        return s.serializedBytes
    }

    public var name: String { ExtensionOID.name(of: oid) }
}

public enum ExtensionOID {
    public static let subjectKeyIdentifier = "2.5.29.14"
    public static let keyUsage = "2.5.29.15"
    public static let subjectAltName = "2.5.29.17"
    public static let basicConstraints = "2.5.29.19"
    public static let nameConstraints = "2.5.29.30"
    public static let cRLDistributionPoints = "2.5.29.31"
    public static let certificatePolicies = "2.5.29.32"
    public static let policyMappings = "2.5.29.33"
    public static let authorityKeyIdentifier = "2.5.29.35"
    public static let policyConstraints = "2.5.29.36"
    public static let extendedKeyUsage = "2.5.29.37"
    public static let freshestCRL = "2.5.29.46"
    public static let inhibitAnyPolicy = "2.5.29.54"
    public static let authorityInfoAccess = "1.3.6.1.5.5.7.1.1"
    public static let qcStatements = "1.3.6.1.5.5.7.1.3"
    public static let ocspNoCheck = "1.3.6.1.5.5.7.48.1.5"

    static let names: [String: String] = [
        subjectKeyIdentifier: "subjectKeyIdentifier", keyUsage: "keyUsage", subjectAltName: "subjectAltName",
        basicConstraints: "basicConstraints", nameConstraints: "nameConstraints",
        cRLDistributionPoints: "cRLDistributionPoints", certificatePolicies: "certificatePolicies",
        policyMappings: "policyMappings", authorityKeyIdentifier: "authorityKeyIdentifier",
        policyConstraints: "policyConstraints", extendedKeyUsage: "extendedKeyUsage", freshestCRL: "freshestCRL",
        inhibitAnyPolicy: "inhibitAnyPolicy", authorityInfoAccess: "authorityInfoAccess",
        qcStatements: "qcStatements", ocspNoCheck: "ocspNoCheck", biometricInfo: "biometricInfo",
    ]

    public static func name(of oid: String) -> String { names[oid] ?? oid }
    public static func oid(named name: String) -> String? {
        names.first(where: { $0.value.caseInsensitiveCompare(name) == .orderedSame })?.key
    }
}

/// RFC 5280 4.2.1.3 KeyUsage bits.
public enum KeyUsageBit: Int, Sendable, CaseIterable, Codable {
    case digitalSignature = 0, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement
    case keyCertSign, cRLSign, encipherOnly, decipherOnly

    public var name: String {
        switch self {
        case .digitalSignature: "digitalSignature"
        case .nonRepudiation: "nonRepudiation"
        case .keyEncipherment: "keyEncipherment"
        case .dataEncipherment: "dataEncipherment"
        case .keyAgreement: "keyAgreement"
        case .keyCertSign: "keyCertSign"
        case .cRLSign: "cRLSign"
        case .encipherOnly: "encipherOnly"
        case .decipherOnly: "decipherOnly"
        }
    }

    public init?(name: String) {
        let n = name == "contentCommitment" ? "nonRepudiation" : name
        guard let v = KeyUsageBit.allCases.first(where: { $0.name == n }) else { return nil }
        self = v
    }
}

/// Well-known extended key usage purposes (RFC 5280 4.2.1.12, RFC 9336 document signing).
public enum ExtendedKeyUsage {
    public static let byName: [String: String] = [
        "serverAuth": "1.3.6.1.5.5.7.3.1", "clientAuth": "1.3.6.1.5.5.7.3.2", "codeSigning": "1.3.6.1.5.5.7.3.3",
        "emailProtection": "1.3.6.1.5.5.7.3.4", "timeStamping": "1.3.6.1.5.5.7.3.8", "OCSPSigning": "1.3.6.1.5.5.7.3.9",
        "documentSigning": "1.3.6.1.5.5.7.3.36", "anyExtendedKeyUsage": "2.5.29.37.0",
    ]
    public static func oid(_ nameOrOID: String) -> String? {
        if let v = byName[nameOrOID] { return v }
        return (try? ASN1ObjectIdentifier(dotRepresentation: nameOrOID)) != nil ? nameOrOID : nil
    }
}

/// A certificate policy as a profile states it (RFC 5280 4.2.1.4).
public struct PolicyInformation: Sendable, Hashable {
    public var oid: String
    public var cpsURI: String?
    public var userNotice: String?
    public init(oid: String, cpsURI: String? = nil, userNotice: String? = nil) {
        self.oid = oid; self.cpsURI = cpsURI; self.userNotice = userNotice
    }
}

/// ETSI EN 319 412-5 QCStatements for qualified certificates.
public struct QualifiedStatements: Sendable, Hashable {
    public enum QCType: String, Sendable, Hashable { case esign, eseal, web }
    public var compliance: Bool = true
    public var sscd: Bool = false
    public var type: QCType? = nil
    /// (URL, ISO 639-1 language) pairs for QcPDS.
    public var pds: [(url: String, language: String)] = []
    public var retentionPeriodYears: Int? = nil
    /// RFC 3739 semantics identifier (e.g. ETSI natural person 0.4.0.194121.1.1).
    public var semanticsIdentifier: String? = nil
    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.compliance == b.compliance && a.sscd == b.sscd && a.type == b.type && a.retentionPeriodYears == b.retentionPeriodYears
            && a.semanticsIdentifier == b.semanticsIdentifier && a.pds.map { $0.url + $0.language } == b.pds.map { $0.url + $0.language }
    }
    public func hash(into h: inout Hasher) { h.combine(compliance); h.combine(sscd); h.combine(type); h.combine(semanticsIdentifier) }
}

public struct GeneralSubtree: Sendable, Hashable {
    public var base: GeneralName
    public init(_ base: GeneralName) { self.base = base }

    /// `dns:.example.gov`, `email:example.gov`, `dirname:C=TG`, `ip:10.0.0.0/8`.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        if lower.hasPrefix("ip:"), let slash = text.lastIndex(of: "/") {
            let addr = String(text[text.index(text.startIndex, offsetBy: 3)..<slash])
            guard let bytes = GeneralName.parseIP(addr), let prefix = Int(text[text.index(after: slash)...]),
                  prefix >= 0, prefix <= bytes.count * 8 else {
                throw ETrustError.badInput("name constraint '\(text)' is not ADDRESS/PREFIX", code: .invalidArgument)
            }
            var mask = [UInt8](repeating: 0, count: bytes.count)
            for i in 0..<prefix { mask[i / 8] |= 0x80 >> UInt8(i % 8) }
            base = .ip(bytes + mask)
            return
        }
        // A DNS constraint is written without a leading dot in RFC 5280 (any subdomain matches).
        if lower.hasPrefix("dns:.") {
            base = .dns(String(text.dropFirst(5)))
            return
        }
        base = try GeneralName(parsing: text)
    }
}

extension Extension {
    /// Decodes a basicConstraints value: (cA, pathLenConstraint).
    public static func decodeBasicConstraints(_ value: [UInt8]) -> (ca: Bool, pathLength: Int?)? {
        guard let node = try? DER.parse(value) else { return nil }
        return try? DER.sequence(node, identifier: .sequence) { n in
            var ca = false
            var path: Int? = nil
            var next = n.next()
            if let b = next, b.identifier == .boolean { ca = try Bool(derEncoded: b); next = n.next() }
            if let p = next { path = try Int(derEncoded: p) }
            return (ca, path)
        }
    }

    /// Decodes a SEQUENCE OF OBJECT IDENTIFIER (extendedKeyUsage) into dotted OIDs.
    public static func decodeOIDSequence(_ value: [UInt8]) -> [String]? {
        guard let node = try? DER.parse(value), node.identifier == .sequence, case .constructed(let list) = node.content else { return nil }
        return list.compactMap { try? ASN1ObjectIdentifier(derEncoded: $0).description }
    }

    /// The policy OIDs of a certificatePolicies value.
    public static func decodePolicyOIDs(_ value: [UInt8]) -> [String] {
        guard let node = try? DER.parse(value), case .constructed(let list) = node.content else { return [] }
        return list.compactMap { info in
            guard case .constructed(let parts) = info.content, let first = parts.first(where: { _ in true }) else { return nil }
            return try? ASN1ObjectIdentifier(derEncoded: first).description
        }
    }

    /// Decodes a keyUsage value into its bits.
    public static func decodeKeyUsage(_ value: [UInt8]) -> Set<KeyUsageBit>? {
        guard let node = try? DER.parse(value), let bits = try? ASN1BitString(derEncoded: node) else { return nil }
        var set = Set<KeyUsageBit>()
        for (i, byte) in bits.bytes.enumerated() {
            for b in 0..<8 where byte & (0x80 >> UInt8(b)) != 0 {
                if let k = KeyUsageBit(rawValue: i * 8 + b) { set.insert(k) }
            }
        }
        return set
    }

    public static func basicConstraints(ca: Bool, pathLength: Int?) -> Extension {
        var s = DER.Serializer()
        try! s.appendConstructedNode(identifier: .sequence) { s in
            if ca { try s.serialize(true) }
            if ca, let pathLength { try s.serialize(pathLength) }
        }
        // RFC 5280 4.2.1.9: critical in CA certificates; also critical for end entities here, as the
        // CA/B Forum and most national profiles allow and pkilint accepts.
        return Extension(oid: ExtensionOID.basicConstraints, critical: true, value: s.serializedBytes)
    }

    public static func keyUsage(_ bits: Set<KeyUsageBit>) -> Extension {
        guard !bits.isEmpty else {
            // An empty named bit list is the zero-length BIT STRING (X.690 11.2.2).
            return Extension(oid: ExtensionOID.keyUsage, critical: true, value: [0x03, 0x01, 0x00])
        }
        let highest = bits.map(\.rawValue).max() ?? 0
        let byteCount = highest / 8 + 1
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for b in bits { bytes[b.rawValue / 8] |= 0x80 >> UInt8(b.rawValue % 8) }
        // DER: trailing zero bits of a named bit list are removed (X.690 11.2.2).
        let padding = 7 - (highest % 8)
        var s = DER.Serializer()
        try! s.serialize(ASN1BitString(bytes: ArraySlice(bytes), paddingBits: padding))
        return Extension(oid: ExtensionOID.keyUsage, critical: true, value: s.serializedBytes)
    }

    public static func extendedKeyUsage(_ oids: [String], critical: Bool = false) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for oid in oids { try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: oid)) }
        }
        return Extension(oid: ExtensionOID.extendedKeyUsage, critical: critical, value: s.serializedBytes)
    }

    public static func generalNames(_ names: [GeneralName]) throws -> [UInt8] {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for n in names { try n.serialize(into: &s) }
        }
        return s.serializedBytes
    }

    /// RFC 5280 4.2.1.6: critical when the subject is empty.
    public static func subjectAltName(_ names: [GeneralName], critical: Bool) throws -> Extension {
        Extension(oid: ExtensionOID.subjectAltName, critical: critical, value: try generalNames(names))
    }

    public static func subjectKeyIdentifier(_ id: [UInt8]) -> Extension {
        var s = DER.Serializer()
        try! s.serialize(ASN1OctetString(contentBytes: ArraySlice(id)))
        return Extension(oid: ExtensionOID.subjectKeyIdentifier, critical: false, value: s.serializedBytes)
    }

    public static func authorityKeyIdentifier(_ id: [UInt8]) -> Extension {
        var s = DER.Serializer()
        try! s.appendConstructedNode(identifier: .sequence) { s in
            try ASN1OctetString(contentBytes: ArraySlice(id)).serialize(into: &s, withIdentifier: .init(tagWithNumber: 0, tagClass: .contextSpecific))
        }
        return Extension(oid: ExtensionOID.authorityKeyIdentifier, critical: false, value: s.serializedBytes)
    }

    public static func certificatePolicies(_ policies: [PolicyInformation]) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for p in policies {
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: p.oid))
                    if p.cpsURI != nil || p.userNotice != nil {
                        try s.appendConstructedNode(identifier: .sequence) { s in
                            if let cps = p.cpsURI {
                                try s.appendConstructedNode(identifier: .sequence) { s in
                                    try s.serialize(ASN1ObjectIdentifier("1.3.6.1.5.5.7.2.1"))
                                    try s.serialize(try ASN1IA5String(cps))
                                }
                            }
                            if let notice = p.userNotice {
                                try s.appendConstructedNode(identifier: .sequence) { s in
                                    try s.serialize(ASN1ObjectIdentifier("1.3.6.1.5.5.7.2.2"))
                                    try s.appendConstructedNode(identifier: .sequence) { s in
                                        try s.serialize(ASN1UTF8String(notice))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Extension(oid: ExtensionOID.certificatePolicies, critical: false, value: s.serializedBytes)
    }

    /// DistributionPoint with a fullName of URIs (RFC 5280 4.2.1.13).
    static func distributionPoints(_ urls: [String]) throws -> [UInt8] {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for url in urls {
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try s.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { s in
                        try s.appendConstructedNode(identifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) { s in
                            try GeneralName.uri(url).serialize(into: &s)
                        }
                    }
                }
            }
        }
        return s.serializedBytes
    }

    public static func cRLDistributionPoints(_ urls: [String]) throws -> Extension {
        Extension(oid: ExtensionOID.cRLDistributionPoints, critical: false, value: try distributionPoints(urls))
    }

    public static func freshestCRL(_ urls: [String]) throws -> Extension {
        Extension(oid: ExtensionOID.freshestCRL, critical: false, value: try distributionPoints(urls))
    }

    public static func authorityInfoAccess(ocsp: [String], caIssuers: [String]) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for (method, urls) in [("1.3.6.1.5.5.7.48.1", ocsp), ("1.3.6.1.5.5.7.48.2", caIssuers)] {
                for url in urls {
                    try s.appendConstructedNode(identifier: .sequence) { s in
                        try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: method))
                        try GeneralName.uri(url).serialize(into: &s)
                    }
                }
            }
        }
        return Extension(oid: ExtensionOID.authorityInfoAccess, critical: false, value: s.serializedBytes)
    }

    /// RFC 5280 4.2.1.10: MUST be critical.
    public static func nameConstraints(permitted: [GeneralSubtree], excluded: [GeneralSubtree]) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for (tag, subtrees) in [(UInt(0), permitted), (UInt(1), excluded)] where !subtrees.isEmpty {
                try s.appendConstructedNode(identifier: .init(tagWithNumber: tag, tagClass: .contextSpecific)) { s in
                    for st in subtrees {
                        try s.appendConstructedNode(identifier: .sequence) { s in try st.base.serialize(into: &s) }
                    }
                }
            }
        }
        return Extension(oid: ExtensionOID.nameConstraints, critical: true, value: s.serializedBytes)
    }

    /// RFC 5280 4.2.1.11: MUST be critical.
    public static func policyConstraints(requireExplicitPolicy: Int?, inhibitPolicyMapping: Int?) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            if let r = requireExplicitPolicy { try r.serialize(into: &s, withIdentifier: .init(tagWithNumber: 0, tagClass: .contextSpecific)) }
            if let i = inhibitPolicyMapping { try i.serialize(into: &s, withIdentifier: .init(tagWithNumber: 1, tagClass: .contextSpecific)) }
        }
        return Extension(oid: ExtensionOID.policyConstraints, critical: true, value: s.serializedBytes)
    }

    /// RFC 5280 4.2.1.5: SHOULD be critical.
    public static func policyMappings(_ mappings: [(issuerDomain: String, subjectDomain: String)]) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            for m in mappings {
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: m.issuerDomain))
                    try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: m.subjectDomain))
                }
            }
        }
        return Extension(oid: ExtensionOID.policyMappings, critical: true, value: s.serializedBytes)
    }

    /// RFC 5280 4.2.1.14: MUST be critical.
    public static func inhibitAnyPolicy(_ skipCerts: Int) -> Extension {
        var s = DER.Serializer()
        try! s.serialize(skipCerts)
        return Extension(oid: ExtensionOID.inhibitAnyPolicy, critical: true, value: s.serializedBytes)
    }

    /// RFC 6960 4.2.2.2.1: id-pkix-ocsp-nocheck, value NULL.
    public static var ocspNoCheck: Extension {
        Extension(oid: ExtensionOID.ocspNoCheck, critical: false, value: [0x05, 0x00])
    }

    /// ETSI EN 319 412-5 4.2 / RFC 3739 3.2.6.
    public static func qcStatements(_ q: QualifiedStatements) throws -> Extension {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            if let semantics = q.semanticsIdentifier {
                // id-qcs-pkixQCSyntax-v2 with SemanticsInformation { semanticsIdentifier }
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try s.serialize(ASN1ObjectIdentifier("1.3.6.1.5.5.7.11.2"))
                    try s.appendConstructedNode(identifier: .sequence) { s in
                        try s.serialize(try ASN1ObjectIdentifier(dotRepresentation: semantics))
                    }
                }
            }
            if q.compliance {
                try s.appendConstructedNode(identifier: .sequence) { s in try s.serialize(ASN1ObjectIdentifier("0.4.0.1862.1.1")) }
            }
            if let years = q.retentionPeriodYears {
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try s.serialize(ASN1ObjectIdentifier("0.4.0.1862.1.3"))
                    try s.serialize(years)
                }
            }
            if q.sscd {
                try s.appendConstructedNode(identifier: .sequence) { s in try s.serialize(ASN1ObjectIdentifier("0.4.0.1862.1.4")) }
            }
            if !q.pds.isEmpty {
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try s.serialize(ASN1ObjectIdentifier("0.4.0.1862.1.5"))
                    try s.appendConstructedNode(identifier: .sequence) { s in
                        for pds in q.pds {
                            try s.appendConstructedNode(identifier: .sequence) { s in
                                try s.serialize(try ASN1IA5String(pds.url))
                                try s.serialize(try ASN1PrintableString(pds.language))
                            }
                        }
                    }
                }
            }
            if let type = q.type {
                let oid: ASN1ObjectIdentifier = switch type {
                case .esign: "0.4.0.1862.1.6.1"
                case .eseal: "0.4.0.1862.1.6.2"
                case .web: "0.4.0.1862.1.6.3"
                }
                try s.appendConstructedNode(identifier: .sequence) { s in
                    try s.serialize(ASN1ObjectIdentifier("0.4.0.1862.1.6"))
                    try s.appendConstructedNode(identifier: .sequence) { s in try s.serialize(oid) }
                }
            }
        }
        return Extension(oid: ExtensionOID.qcStatements, critical: false, value: s.serializedBytes)
    }
}

import Foundation
import SwiftASN1

/// nameConstraints (RFC 5280 4.2.1.10): each field nil when absent, [] when present but empty.
public struct NameConstraints: Sendable, Hashable {
    public var permitted: [GeneralName]?
    public var excluded: [GeneralName]?
}

/// Readings the relying party's profile checks need (ETrustValidation), decoded strictly: a value
/// that does not follow the ASN.1 of its RFC section reads as malformed.
extension Extension {
    /// nameConstraints, nil when the value does not decode.
    public var nameConstraints: NameConstraints? {
        guard oid == ExtensionOID.nameConstraints, let node = try? DER.parse(value),
              node.identifier == .sequence, case .constructed(let fields) = node.content else { return nil }
        var result = NameConstraints()
        for field in fields {
            guard field.identifier.tagClass == .contextSpecific, case .constructed(let subtrees) = field.content else { return nil }
            var bases: [GeneralName] = []
            for subtree in subtrees {
                // GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0, maximum [1] OPTIONAL }
                guard subtree.identifier == .sequence, case .constructed(let parts) = subtree.content,
                      let base = parts.first(where: { _ in true }), let name = try? GeneralName(node: base) else { return nil }
                bases.append(name)
            }
            switch field.identifier.tagNumber {
            case 0 where result.permitted == nil: result.permitted = bases
            case 1 where result.excluded == nil: result.excluded = bases
            default: return nil
            }
        }
        return result
    }

    /// False when the value of a extension RFC 5280 defines does not decode as its ASN.1 says
    /// (SEQUENCE SIZE (1..MAX) included); true for extensions it does not know.
    public var isWellFormed: Bool {
        switch oid {
        case ExtensionOID.authorityInfoAccess: return Extension.isAccessDescriptions(value)
        case ExtensionOID.subjectAltName: return (subjectAltNames.map { !$0.isEmpty }) ?? false
        case ExtensionOID.extendedKeyUsage:
            guard let list = extendedKeyUsage, let node = try? DER.parse(value), case .constructed(let items) = node.content else { return false }
            return !list.isEmpty && list.count == Array(items).count
        case ExtensionOID.basicConstraints: return basicConstraints != nil
        case ExtensionOID.keyUsage: return keyUsage != nil
        case ExtensionOID.subjectKeyIdentifier:
            guard let node = try? DER.parse(value), let o = try? ASN1OctetString(derEncoded: node) else { return false }
            return !o.bytes.isEmpty
        case ExtensionOID.authorityKeyIdentifier:
            guard let node = try? DER.parse(value), node.identifier == .sequence else { return false }
            return true
        case ExtensionOID.nameConstraints: return nameConstraints != nil
        default: return true
        }
    }

    /// AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription (RFC 5280 4.2.2.1).
    static func isAccessDescriptions(_ value: [UInt8]) -> Bool {
        guard let node = try? DER.parse(value), node.identifier == .sequence, case .constructed(let list) = node.content else { return false }
        var count = 0
        for ad in list {
            guard ad.identifier == .sequence, case .constructed(let parts) = ad.content else { return false }
            var it = parts.makeIterator()
            guard let m = it.next(), (try? ASN1ObjectIdentifier(derEncoded: m)) != nil,
                  let loc = it.next(), (try? GeneralName(node: loc)) != nil, it.next() == nil else { return false }
            count += 1
        }
        return count > 0
    }
}

extension Certificate {
    /// Whether notBefore / notAfter is a GeneralizedTime with fractional seconds, which RFC 5280
    /// 4.1.2.5.2 forbids ("MUST NOT include fractional seconds").
    public var validityFractionalSeconds: (notBefore: Bool, notAfter: Bool) {
        guard let validity = Certificate.tbsField(tbsDER, index: 3), case .constructed(let times) = validity.content else {
            return (false, false)
        }
        let fractional = times.map { t -> Bool in
            guard t.identifier == .generalizedTime, let g = try? GeneralizedTime(derEncoded: t) else { return false }
            return g.fractionalSeconds != 0
        }
        return (fractional.first ?? false, fractional.dropFirst().first ?? false)
    }

    /// The TBSCertificate's field at `index` counted without the optional [0] version.
    static func tbsField(_ tbs: ArraySlice<UInt8>, index: Int) -> ASN1Node? {
        guard let node = try? DER.parse(tbs), case .constructed(let fields) = node.content else { return nil }
        let list = Array(fields)
        let offset = list.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) ? 1 : 0
        return index + offset < list.count ? list[index + offset] : nil
    }
}

extension Certificate {
    /// The keyIdentifier of authorityKeyIdentifier (RFC 5280 4.2.1.1), nil when absent.
    public var authorityKeyIdentifier: [UInt8]? {
        guard let e = `extension`(ExtensionOID.authorityKeyIdentifier), let node = try? DER.parse(e.value),
              case .constructed(let fields) = node.content else { return nil }
        for f in fields where f.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            if case .primitive(let bytes) = f.content { return Array(bytes) }
        }
        return nil
    }
}

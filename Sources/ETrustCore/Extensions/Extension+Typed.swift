import Foundation
import SwiftASN1

/// basicConstraints (RFC 5280 4.2.1.9) as a value.
public struct BasicConstraints: Sendable, Hashable {
    public var ca: Bool
    public var pathLength: Int?
}

/// One AccessDescription of authorityInfoAccess (RFC 5280 4.2.2.1).
public struct AccessDescription: Sendable, Hashable {
    public static let ocsp = "1.3.6.1.5.5.7.48.1"
    public static let caIssuers = "1.3.6.1.5.5.7.48.2"
    /// accessMethod, dotted.
    public var method: String
    public var location: GeneralName
}

extension [AccessDescription] {
    /// The URIs of the descriptions with `method`.
    public func uris(method: String) -> [String] {
        compactMap { d in
            guard d.method == method, case .uri(let u) = d.location else { return nil }
            return u
        }
    }
}

/// Typed readings of an extension's value, so that policy and lint code never decode DER. Each is
/// nil when the extension is another one or its value does not decode.
extension Extension {
    /// basicConstraints. The cA BOOLEAN is read as BER does (any non-zero octet is TRUE), so that
    /// a request asking for a CA in a non-DER encoding is still seen asking.
    public var basicConstraints: BasicConstraints? {
        guard oid == ExtensionOID.basicConstraints, let node = try? DER.parse(value) else { return nil }
        return try? DER.sequence(node, identifier: .sequence) { n in
            var ca = false
            var path: Int? = nil
            var next = n.next()
            if let b = next, b.identifier == .boolean {
                guard case .primitive(let octets) = b.content, octets.count == 1 else { throw ETrustError.badInput("malformed BOOLEAN") }
                ca = octets.first != 0
                next = n.next()
            }
            if let p = next { path = try Int(derEncoded: p) }
            return BasicConstraints(ca: ca, pathLength: path)
        }
    }

    /// keyUsage bits.
    public var keyUsage: Set<KeyUsageBit>? {
        guard oid == ExtensionOID.keyUsage else { return nil }
        return Extension.decodeKeyUsage(value)
    }

    /// extendedKeyUsage purposes, dotted OIDs.
    public var extendedKeyUsage: [String]? {
        guard oid == ExtensionOID.extendedKeyUsage else { return nil }
        return Extension.decodeOIDSequence(value)
    }

    /// subjectAltName names (empty when the SEQUENCE is empty).
    public var subjectAltNames: [GeneralName]? {
        guard oid == ExtensionOID.subjectAltName else { return nil }
        return try? GeneralName.parseSequence(ArraySlice(value))
    }

    /// certificatePolicies policy OIDs.
    public var policyOIDs: [String]? {
        guard oid == ExtensionOID.certificatePolicies else { return nil }
        return Extension.decodePolicyOIDs(value)
    }

    /// authorityInfoAccess descriptions (those that do not decode are left out).
    public var authorityInfoAccess: [AccessDescription] {
        guard oid == ExtensionOID.authorityInfoAccess, let node = try? DER.parse(value), case .constructed(let list) = node.content else {
            return []
        }
        var result: [AccessDescription] = []
        for ad in list {
            guard case .constructed(let parts) = ad.content else { continue }
            var it = parts.makeIterator()
            guard let m = it.next(), let oid = try? ASN1ObjectIdentifier(derEncoded: m),
                  let loc = it.next(), let name = try? GeneralName(node: loc) else { continue }
            result.append(AccessDescription(method: oid.description, location: name))
        }
        return result
    }
}

extension Certificate {
    /// The extended key usage OIDs, nil when the extension is absent.
    public var extendedKeyUsage: [String]? {
        guard let e = `extension`(ExtensionOID.extendedKeyUsage) else { return nil }
        return Extension.decodeOIDSequence(e.value)
    }
}

import Foundation
import SwiftASN1

/// RFC 5280 4.2.1.6 GeneralName, for the types etrust issues and checks.
public enum GeneralName: Sendable, Hashable, CustomStringConvertible {
    case dns(String)
    case email(String)
    case ip([UInt8])
    case uri(String)
    case directoryName(DistinguishedName)
    case other(tag: UInt, der: [UInt8])

    /// `dns:example.org`, `email:a@b.org`, `ip:192.0.2.1`, `uri:https://...`, `dirname:CN=..`.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw ETrustError.badInput("SAN '\(text)' must be TYPE:value (dns, email, ip, uri, dirname)", code: .invalidArgument)
        }
        let type = text[..<colon].lowercased()
        let value = String(text[text.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else { throw ETrustError.badInput("SAN '\(text)' has an empty value", code: .invalidArgument) }
        guard value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) || type == "dirname" else {
            throw ETrustError.badInput("SAN '\(text)' must be ASCII (IA5String); use A-labels for internationalised names", code: .invalidArgument)
        }
        switch type {
        case "dns": self = .dns(value)
        case "email": self = .email(value)
        case "uri": self = .uri(value)
        case "ip":
            guard let bytes = GeneralName.parseIP(value) else {
                throw ETrustError.badInput("SAN '\(text)': '\(value)' is not an IPv4 or IPv6 address", code: .invalidArgument)
            }
            self = .ip(bytes)
        case "dirname": self = .directoryName(try DistinguishedName(parsing: value))
        default:
            throw ETrustError.badInput("SAN type '\(type)' is not supported (dns, email, ip, uri, dirname)", code: .invalidArgument)
        }
    }

    public static func parseIP(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    public var typeName: String {
        switch self {
        case .dns: "dns"
        case .email: "email"
        case .ip: "ip"
        case .uri: "uri"
        case .directoryName: "dirname"
        case .other: "other"
        }
    }

    public var value: String {
        switch self {
        case .dns(let v), .email(let v), .uri(let v): v
        case .ip(let b): GeneralName.formatIP(b)
        case .directoryName(let dn): dn.description
        case .other(let tag, _): "[\(tag)]"
        }
    }

    static func formatIP(_ b: [UInt8]) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        if b.count == 16 {
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var addr = in6_addr()
            withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: b) }
            if inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count)) != nil { return String(cString: buf) }
        }
        return Hex.encode(b)
    }

    public var description: String { "\(typeName):\(value)" }

    // MARK: DER

    func serialize(into s: inout DER.Serializer) throws {
        switch self {
        case .email(let v): try ASN1IA5String(v).serialize(into: &s, withIdentifier: .init(tagWithNumber: 1, tagClass: .contextSpecific))
        case .dns(let v): try ASN1IA5String(v).serialize(into: &s, withIdentifier: .init(tagWithNumber: 2, tagClass: .contextSpecific))
        case .uri(let v): try ASN1IA5String(v).serialize(into: &s, withIdentifier: .init(tagWithNumber: 6, tagClass: .contextSpecific))
        case .ip(let b): try ASN1OctetString(contentBytes: ArraySlice(b)).serialize(into: &s, withIdentifier: .init(tagWithNumber: 7, tagClass: .contextSpecific))
        case .directoryName(let dn):
            // Name is a CHOICE, so the [4] tag is explicit (RFC 5280 appendix A.2 note).
            try s.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 4, tagClass: .contextSpecific)) { s in
                s.serializeRawBytes(dn.der)
            }
        case .other(_, let der): s.serializeRawBytes(der)
        }
    }

    init(node: ASN1Node) throws {
        guard node.identifier.tagClass == .contextSpecific else {
            throw ETrustError.badInput("malformed GeneralName")
        }
        func ia5() throws -> String {
            guard case .primitive(let bytes) = node.content else { throw ETrustError.badInput("malformed GeneralName") }
            guard bytes.allSatisfy({ $0 < 0x80 }) else { throw ETrustError.badInput("GeneralName is not IA5 text") }
            return String(decoding: bytes, as: UTF8.self)
        }
        switch node.identifier.tagNumber {
        case 1: self = .email(try ia5())
        case 2: self = .dns(try ia5())
        case 6: self = .uri(try ia5())
        case 7:
            guard case .primitive(let bytes) = node.content, bytes.count == 4 || bytes.count == 16 || bytes.count == 8 || bytes.count == 32 else {
                throw ETrustError.badInput("malformed iPAddress GeneralName")
            }
            self = .ip(Array(bytes))
        case 4:
            guard case .constructed(let children) = node.content, let inner = children.first(where: { _ in true }) else {
                throw ETrustError.badInput("malformed directoryName GeneralName")
            }
            self = .directoryName(try DistinguishedName(der: Array(inner.encodedBytes)))
        default:
            self = .other(tag: node.identifier.tagNumber, der: Array(node.encodedBytes))
        }
    }

    public static func parseSequence(_ der: ArraySlice<UInt8>) throws -> [GeneralName] {
        let node = try DER.parse(der)
        guard node.identifier == .sequence, case .constructed(let children) = node.content else {
            throw ETrustError.badInput("malformed GeneralNames")
        }
        return try children.map { try GeneralName(node: $0) }
    }
}

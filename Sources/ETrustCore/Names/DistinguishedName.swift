import Foundation
internal import COpenSSL

/// An X.501 Name: RFC 4514 text on the outside, DER (encoded by OpenSSL) on the inside.
/// RFC 4514 writes the most specific RDN first ("CN=Alice,O=Gov,C=TG"); the DER sequence runs the
/// other way (C, O, CN).
public struct DistinguishedName: Sendable, Hashable, CustomStringConvertible {
    public struct Attribute: Sendable, Hashable {
        /// Dotted OID.
        public let oid: String
        /// Short name as RFC 4514 / OpenSSL know it ("CN", "O", "serialNumber"), or the dotted OID.
        public let name: String
        public let value: String
    }

    /// RDNs in DER order (least specific first); each RDN holds one or more attributes.
    public let rdns: [[Attribute]]
    public let der: [UInt8]

    public var attributes: [Attribute] { rdns.flatMap { $0 } }
    public var isEmpty: Bool { rdns.isEmpty }

    public func values(ofName name: String) -> [String] {
        attributes.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    // MARK: From RFC 4514 text

    public init(parsing text: String) throws {
        let parsed = try RFC4514.parse(text)
        clearOpenSSLErrors()
        guard let name = X509_NAME_new() else { throw ETrustError.openSSL("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        // RFC 4514 2.1: the string's RDNs are in reverse order of the sequence.
        for rdn in parsed.reversed() {
            for (index, ava) in rdn.enumerated() {
                guard let obj = OBJ_txt2obj(ava.type, 0) else {
                    clearOpenSSLErrors()
                    throw ETrustError.badInput("unknown attribute type '\(ava.type)' in DN '\(text)'", code: .invalidName)
                }
                defer { ASN1_OBJECT_free(obj) }
                let rc = ava.value.withCString { v in
                    X509_NAME_add_entry_by_OBJ(name, obj, MBSTRING_UTF8, UnsafeMutablePointer(mutating: UnsafeRawPointer(v).assumingMemoryBound(to: UInt8.self)), -1, -1, index == 0 ? 0 : -1)
                }
                guard rc == 1 else {
                    let why = drainOpenSSLErrors()
                    throw ETrustError.badInput("invalid value for \(ava.type) in DN '\(text)': \(why)", code: .invalidName)
                }
            }
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_X509_NAME(name, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_X509_NAME") }
        defer { etrust_openssl_free(out) }
        try self.init(der: Array(UnsafeBufferPointer(start: out, count: Int(n))))
    }

    // MARK: From DER

    public init(der: [UInt8]) throws {
        clearOpenSSLErrors()
        var consumed = 0
        let name: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            let n = d2i_X509_NAME(nil, &p, buf.count)
            if let p, let base = buf.baseAddress { consumed = p - base }
            return n
        }
        guard let name else { throw ETrustError.openSSL("d2i_X509_NAME", category: .badInput, code: .invalidName) }
        guard consumed == der.count else {
            X509_NAME_free(name)
            throw ETrustError.badInput("distinguished name has trailing data", code: .invalidName)
        }
        defer { X509_NAME_free(name) }
        self.der = der
        self.rdns = try DistinguishedName.read(name)
    }

    /// Reads the entries of an X509_NAME that the caller still owns.
    init(borrowing name: OpaquePointer) throws {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_X509_NAME(name, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_X509_NAME") }
        defer { etrust_openssl_free(out) }
        self.der = Array(UnsafeBufferPointer(start: out, count: Int(n)))
        self.rdns = try DistinguishedName.read(name)
    }

    private static func read(_ name: OpaquePointer) throws -> [[Attribute]] {
        var rdns: [[Attribute]] = []
        var lastSet: Int32 = -1
        for i in 0..<X509_NAME_entry_count(name) {
            guard let entry = X509_NAME_get_entry(name, i) else { continue }
            let obj = X509_NAME_ENTRY_get_object(entry)
            let nid = OBJ_obj2nid(obj)
            let oid = objectText(obj, numeric: true)
            let short: String
            if let sn = RFC4514.preferredName[oid] { short = sn }
            else if nid != NID_undef, let sn = OBJ_nid2sn(nid) { short = String(cString: sn) }
            else { short = oid }
            var utf8: UnsafeMutablePointer<UInt8>? = nil
            let len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry))
            guard len >= 0, let utf8 else {
                throw ETrustError.openSSL("ASN1_STRING_to_UTF8", category: .badInput, code: .invalidName)
            }
            let value = String(decoding: UnsafeBufferPointer(start: utf8, count: Int(len)), as: UTF8.self)
            etrust_openssl_free(utf8)
            let set = X509_NAME_ENTRY_set(entry)
            let attribute = Attribute(oid: oid, name: short, value: value)
            if set == lastSet, !rdns.isEmpty { rdns[rdns.count - 1].append(attribute) } else { rdns.append([attribute]) }
            lastSet = set
        }
        return rdns
    }

    /// RFC 4514 text, most specific RDN first.
    public var description: String {
        rdns.reversed().map { rdn in
            rdn.map { "\($0.name)=\(RFC4514.escape($0.value))" }.joined(separator: "+")
        }.joined(separator: ",")
    }
}

func objectText(_ obj: OpaquePointer?, numeric: Bool) -> String {
    var buf = [CChar](repeating: 0, count: 128)
    let n = OBJ_obj2txt(&buf, Int32(buf.count), obj, numeric ? 1 : 0)
    guard n > 0 else { return "" }
    return String(cString: buf)
}

/// RFC 4514 string syntax.
enum RFC4514 {
    struct AVA { var type: String; var value: String }

    /// Names RFC 4514 3 requires, plus the OpenSSL short names for the other attributes etrust uses.
    static let preferredName: [String: String] = [
        "2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
        "2.5.4.6": "C", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
        "0.9.2342.19200300.100.1.1": "UID", "2.5.4.5": "serialNumber", "2.5.4.4": "SN", "2.5.4.42": "GN",
        "2.5.4.97": "organizationIdentifier", "1.2.840.113549.1.9.1": "emailAddress", "2.5.4.12": "title",
        "2.5.4.65": "pseudonym", "2.5.4.46": "dnQualifier", "2.5.4.17": "postalCode",
    ]

    static func parse(_ text: String) throws -> [[AVA]] {
        // Only leading blanks are insignificant here: a trailing "\ " is an escaped space.
        let trimmed = String(text.drop(while: { $0 == " " }))
        guard !trimmed.isEmpty else { throw ETrustError.badInput("empty distinguished name", code: .invalidName) }
        var rdns: [[AVA]] = [[]]
        var type = ""
        var value: [UInt8] = []
        var inValue = false
        var sawAny = false
        var protectedLength = 0   // value bytes up to the last escaped one, never trimmed
        let chars = Array(trimmed.utf8)
        var i = 0
        func finishAVA() throws {
            let t = type.trimmingCharacters(in: .whitespaces)
            guard inValue, !t.isEmpty else {
                throw ETrustError.badInput("malformed DN '\(text)': expected TYPE=value", code: .invalidName)
            }
            // Unescaped trailing spaces are not part of the value (RFC 4514 3).
            while value.count > protectedLength, let last = value.last, last == UInt8(ascii: " ") { value.removeLast() }
            guard let v = String(bytes: value, encoding: .utf8) else {
                throw ETrustError.badInput("malformed DN '\(text)': value is not UTF-8", code: .invalidName)
            }
            guard !v.isEmpty else {
                throw ETrustError.badInput("malformed DN '\(text)': empty value for \(t)", code: .invalidName)
            }
            rdns[rdns.count - 1].append(AVA(type: t, value: v))
            type = ""; value = []; inValue = false; sawAny = true; protectedLength = 0
        }
        while i < chars.count {
            let c = chars[i]
            if !inValue {
                if c == UInt8(ascii: "=") { inValue = true; i += 1
                    while i < chars.count, chars[i] == UInt8(ascii: " ") { i += 1 }
                    if i < chars.count, chars[i] == UInt8(ascii: "#") {
                        throw ETrustError.badInput("DN '\(text)': hex-encoded (#) values are not accepted", code: .invalidName)
                    }
                    continue
                }
                if c == UInt8(ascii: ",") || c == UInt8(ascii: "+") {
                    throw ETrustError.badInput("malformed DN '\(text)': attribute without '='", code: .invalidName)
                }
                type.append(Character(UnicodeScalar(c))); i += 1; continue
            }
            switch c {
            case UInt8(ascii: "\\"):
                guard i + 1 < chars.count else {
                    throw ETrustError.badInput("malformed DN '\(text)': trailing backslash", code: .invalidName)
                }
                let n = chars[i + 1]
                if let h = hexValue(n), i + 2 < chars.count, let l = hexValue(chars[i + 2]) {
                    value.append(h << 4 | l); i += 3; protectedLength = value.count
                } else if "\\,+\"<>;= #".utf8.contains(n) {
                    value.append(n); i += 2; protectedLength = value.count
                } else {
                    throw ETrustError.badInput("malformed DN '\(text)': invalid escape", code: .invalidName)
                }
            case UInt8(ascii: ","):
                try finishAVA(); rdns.append([]); i += 1
                while i < chars.count, chars[i] == UInt8(ascii: " ") { i += 1 }
            case UInt8(ascii: "+"):
                try finishAVA(); i += 1
                while i < chars.count, chars[i] == UInt8(ascii: " ") { i += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: ";"), UInt8(ascii: "<"), UInt8(ascii: ">"):
                throw ETrustError.badInput("malformed DN '\(text)': character '\(Character(UnicodeScalar(c)))' must be escaped", code: .invalidName)
            default:
                value.append(c); i += 1
            }
        }
        try finishAVA()
        _ = sawAny
        if rdns.contains(where: { $0.isEmpty }) {
            throw ETrustError.badInput("malformed DN '\(text)': empty RDN", code: .invalidName)
        }
        return rdns
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - 55
        default: nil
        }
    }

    static func escape(_ value: String) -> String {
        var out = ""
        let scalars = Array(value.unicodeScalars)
        for (i, s) in scalars.enumerated() {
            switch s {
            case ",", "+", "\"", "\\", "<", ">", ";", "=":
                out += "\\\(s)"
            case "#" where i == 0:
                out += "\\#"
            case " " where i == 0 || i == scalars.count - 1:
                out += "\\ "
            case "\u{0}":
                out += "\\00"
            default:
                out.unicodeScalars.append(s)
            }
        }
        return out
    }
}

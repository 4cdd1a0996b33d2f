/// An RFC 7512 PKCS#11 URI naming a token and, optionally, one object on it:
/// `pkcs11:token=LABEL;object=LABEL;id=%01%02;type=private`. Only the path attributes etrust
/// uses are kept; a PIN in the URI (`pin-value`, `pin-source`) is refused, since a PIN comes from
/// `--pin-file` or `ETRUST_PKCS11_PIN` only and a URI is stored in the database and logged.
public struct PKCS11URI: Sendable, Hashable, CustomStringConvertible {
    /// CKA_LABEL of the token (CK_TOKEN_INFO.label, trailing blanks removed).
    public var token: String?
    public var manufacturer: String?
    public var model: String?
    public var serial: String?
    /// CKA_LABEL of the object.
    public var object: String?
    /// CKA_ID of the object.
    public var id: [UInt8]?
    /// "private", "public", "cert", "secret-key", "data".
    public var type: String?

    public init(token: String? = nil, object: String? = nil, id: [UInt8]? = nil, type: String? = nil) {
        self.token = token; self.object = object; self.id = id; self.type = type
    }

    /// RFC 7512 section 2.3: path attributes separated by ';', values percent-encoded.
    public init(parsing text: String) throws {
        guard text.lowercased().hasPrefix("pkcs11:") else {
            throw ETrustError.badInput("'\(text)' is not a PKCS#11 URI (RFC 7512: pkcs11:token=LABEL;...)", code: .invalidArgument)
        }
        var rest = Substring(text.dropFirst(7))
        if let q = rest.firstIndex(of: "?") {
            // Query attributes (RFC 7512 2.3): pin-value and pin-source would put a PIN where
            // etrust stores and logs the URI; module-name/module-path duplicate etrust.yaml.
            for part in rest[rest.index(after: q)...].split(separator: "&") {
                let name = part.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                throw ETrustError.badInput("PKCS#11 URI query attribute '\(name)' is not accepted: the PIN comes from --pin-file or ETRUST_PKCS11_PIN, the module from pkcs11.module in etrust.yaml",
                                           code: .invalidArgument)
            }
            rest = rest[..<q]
        }
        for part in rest.split(separator: ";", omittingEmptySubsequences: true) {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, !pair[0].isEmpty else {
                throw ETrustError.badInput("PKCS#11 URI attribute '\(part)' must be NAME=VALUE", code: .invalidArgument)
            }
            let value = try PKCS11URI.percentDecode(pair[1], in: text)
            let string = { () throws -> String in
                guard let s = String(bytes: value, encoding: .utf8) else {
                    throw ETrustError.badInput("PKCS#11 URI attribute '\(pair[0])' is not UTF-8", code: .invalidArgument)
                }
                return s
            }
            switch pair[0] {
            case "token": token = try string()
            case "manufacturer": manufacturer = try string()
            case "model": model = try string()
            case "serial": serial = try string()
            case "object": object = try string()
            case "id": id = value
            case "type":
                let t = try string()
                guard ["private", "public", "cert", "secret-key", "data"].contains(t) else {
                    throw ETrustError.badInput("PKCS#11 URI type '\(t)' is not one of private, public, cert, secret-key, data", code: .invalidArgument)
                }
                type = t
            case "pin-value", "pin-source":
                throw ETrustError.badInput("a PIN in the PKCS#11 URI is not accepted: use --pin-file FILE or ETRUST_PKCS11_PIN", code: .invalidArgument)
            default:
                throw ETrustError.badInput("PKCS#11 URI attribute '\(pair[0])' is not supported (token, manufacturer, model, serial, object, id, type)",
                                           code: .invalidArgument)
            }
        }
    }

    /// The canonical text: attributes in a fixed order, values percent-encoded except the RFC 7512
    /// `pk11-pchar` characters; `id` always fully percent-encoded.
    public var description: String {
        var parts: [String] = []
        if let token { parts.append("token=" + PKCS11URI.percentEncode(Array(token.utf8))) }
        if let manufacturer { parts.append("manufacturer=" + PKCS11URI.percentEncode(Array(manufacturer.utf8))) }
        if let model { parts.append("model=" + PKCS11URI.percentEncode(Array(model.utf8))) }
        if let serial { parts.append("serial=" + PKCS11URI.percentEncode(Array(serial.utf8))) }
        if let object { parts.append("object=" + PKCS11URI.percentEncode(Array(object.utf8))) }
        if let id { parts.append("id=" + id.map { "%" + Hex.encode([$0]) }.joined()) }
        if let type { parts.append("type=" + type) }
        return "pkcs11:" + parts.joined(separator: ";")
    }

    /// The same URI without the object part: the token alone.
    public var tokenOnly: PKCS11URI {
        var u = self
        u.object = nil; u.id = nil; u.type = nil
        return u
    }

    /// Whether a token's identity matches what the URI says of it (absent attributes match any).
    public func matchesToken(label: String, manufacturer m: String, model mo: String, serial s: String) -> Bool {
        (token == nil || token == label) && (manufacturer == nil || manufacturer == m)
            && (model == nil || model == mo) && (serial == nil || serial == s)
    }

    // RFC 3986 unreserved plus the RFC 7512 pk11-res-avail characters allowed unencoded in a path value.
    private static let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]@!$'()*+,=&".utf8)

    static func percentEncode(_ bytes: [UInt8]) -> String {
        var s = ""
        for b in bytes {
            if plain.contains(b) { s.unicodeScalars.append(Unicode.Scalar(b)) } else { s += "%" + Hex.encode([b]).uppercased() }
        }
        return s
    }

    static func percentDecode(_ text: Substring, in uri: String) throws -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let v = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) else {
                    throw ETrustError.badInput("PKCS#11 URI '\(uri)': bad percent-encoding", code: .invalidArgument)
                }
                out.append(v)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}

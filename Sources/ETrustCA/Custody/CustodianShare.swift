import ETrustCore
import Foundation

/// One custodian's share of the secret that protects a CA's key file, as a small JSON file
/// (`DIR/NAME-i.share.json`, mode 0600):
///
/// ```
/// {"format": "etrust-custodian-share/1", "id": "root-3", "ca": "root",
///  "spkiSHA256": HEX,  // the key's SubjectPublicKeyInfo SHA-256: a share of another key is recognised
///  "threshold": 3, "total": 5, "x": 3,
///  "y": BASE64,        // f(x) for the 32 bytes of the secret (Shamir over GF(256), ETrustCore)
///  "sealed": {...},    // instead of "y" when the custodian's own passphrase protects it:
///                      // {"scheme": "pbkdf2-hmac-sha256/aes-256-gcm", "iterations", "salt", "nonce", "box"}
///  "checksum": HEX}    // SHA-256 of the lines of `checksumInput`: a corrupted file is refused
/// ```
/// The checksum catches accidents; a forged share (checksum recomputed) still cannot unlock the
/// key: the interpolated secret then fails to decrypt the PKCS#8 file.
public struct CustodianShare: Sendable, Equatable {
    public static let format = "etrust-custodian-share/1"
    public var id: String
    public var ca: String
    public var spkiSHA256: [UInt8]
    public var threshold: Int
    public var total: Int
    public var x: UInt8
    /// Exactly one of these: the share's value in clear, or sealed under the custodian's passphrase.
    public var y: [UInt8]?
    public var sealed: PassphraseSeal?

    public static func id(ca: String, index: Int) -> String { "\(ca)-\(index)" }
    public static func fileName(ca: String, index: Int) -> String { "\(id(ca: ca, index: index)).share.json" }

    /// What the checksum and the seal's associated data cover: every field but the value itself.
    var header: String {
        [CustodianShare.format, id, ca, Hex.encode(spkiSHA256), String(threshold), String(total), String(x)].joined(separator: "\n")
    }

    var checksumInput: String {
        var lines = [header]
        if let y { lines.append("y " + Data(y).base64EncodedString()) }
        if let s = sealed {
            lines.append(["sealed", PassphraseSeal.scheme, String(s.iterations), Data(s.salt).base64EncodedString(),
                          Data(s.nonce).base64EncodedString(), Data(s.sealed).base64EncodedString()].joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var checksum: String { Hex.encode(Digest.sha256(Array(checksumInput.utf8))) }

    /// The share in clear, opening a sealed one with `passphrase`.
    func value(passphrase: [UInt8]?) throws -> [UInt8] {
        if let y { return y }
        guard let sealed else { throw CustodianShare.corrupted(id, "it holds no value") }
        guard let passphrase else {
            throw ETrustError.badInput("share \(id) is sealed under its custodian's passphrase: give --share-passphrase-file FILE",
                                       code: .missingPassphrase)
        }
        return try sealed.open(passphrase: passphrase, associatedData: Array(header.utf8))
    }

    var isSealed: Bool { sealed != nil }

    func json() throws -> [UInt8] {
        var o: [String: Any] = ["format": CustodianShare.format, "id": id, "ca": ca, "spkiSHA256": Hex.encode(spkiSHA256),
                                "threshold": threshold, "total": total, "x": Int(x), "checksum": checksum]
        if let y { o["y"] = Data(y).base64EncodedString() }
        if let s = sealed {
            o["sealed"] = ["scheme": PassphraseSeal.scheme, "iterations": s.iterations, "salt": Data(s.salt).base64EncodedString(),
                           "nonce": Data(s.nonce).base64EncodedString(), "box": Data(s.sealed).base64EncodedString()] as [String: Any]
        }
        let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        return [UInt8](data) + [0x0a]
    }

    /// Parses a share file; anything but a well-formed share with a matching checksum is refused
    /// (exit 1) as a corrupted share, naming the file.
    public init(parsing bytes: [UInt8], file: String) throws {
        guard let o = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw CustodianShare.corrupted(file, "not a JSON share file")
        }
        guard o["format"] as? String == CustodianShare.format else {
            throw CustodianShare.corrupted(file, "format is not \(CustodianShare.format)")
        }
        func string(_ k: String) throws -> String {
            guard let v = o[k] as? String, !v.isEmpty else { throw CustodianShare.corrupted(file, "no '\(k)'") }
            return v
        }
        func int(_ k: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let v = o[k] as? Int, range.contains(v) else { throw CustodianShare.corrupted(file, "'\(k)' is missing or out of range") }
            return v
        }
        func base64(_ v: Any?, _ k: String) throws -> [UInt8] {
            guard let s = v as? String, let d = Data(base64Encoded: s), !d.isEmpty else { throw CustodianShare.corrupted(file, "'\(k)' is not base64") }
            return [UInt8](d)
        }
        id = try string("id")
        ca = try string("ca")
        guard let spki = Hex.decode(try string("spkiSHA256")), spki.count == 32 else {
            throw CustodianShare.corrupted(file, "'spkiSHA256' is not 32 bytes of hex")
        }
        spkiSHA256 = spki
        total = try int("total", 2...255)
        threshold = try int("threshold", 2...total)
        x = UInt8(try int("x", 1...255))
        if o["y"] != nil { y = try base64(o["y"], "y") }
        if let s = o["sealed"] as? [String: Any] {
            guard s["scheme"] as? String == PassphraseSeal.scheme, let iterations = s["iterations"] as? Int, iterations > 0 else {
                throw CustodianShare.corrupted(file, "'sealed' names no known scheme")
            }
            sealed = PassphraseSeal(iterations: iterations, salt: try base64(s["salt"], "salt"), nonce: try base64(s["nonce"], "nonce"),
                                    sealed: try base64(s["box"], "box"))
        }
        guard (y == nil) != (sealed == nil) else { throw CustodianShare.corrupted(file, "it must hold exactly one of 'y' and 'sealed'") }
        guard try string("checksum").lowercased() == checksum else {
            throw CustodianShare.corrupted(file, "its checksum does not match its content")
        }
    }

    init(id: String, ca: String, spkiSHA256: [UInt8], threshold: Int, total: Int, x: UInt8, y: [UInt8]?, sealed: PassphraseSeal?) {
        self.id = id; self.ca = ca; self.spkiSHA256 = spkiSHA256; self.threshold = threshold; self.total = total
        self.x = x; self.y = y; self.sealed = sealed
    }

    static func corrupted(_ what: String, _ why: String) -> ETrustError {
        ETrustError.refused("\(what): not a valid custodian share (\(why)); it may be corrupted", code: .malformedInput)
    }
}

public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode<S: Sequence>(_ bytes: S, uppercase: Bool = false) -> String where S.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        let s = String(decoding: out, as: UTF8.self)
        return uppercase ? s.uppercased() : s
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var s = Substring(text)
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s = s.dropFirst(2) }
        let chars = s.filter { $0 != ":" }
        guard !chars.isEmpty else { return nil }
        var nibbles: [UInt8] = []
        nibbles.reserveCapacity(chars.count + 1)
        if chars.count % 2 == 1 { nibbles.append(0) }
        for c in chars.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibbles.append(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibbles.append(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibbles.append(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(nibbles.count / 2)
        var i = 0
        while i < nibbles.count { out.append(nibbles[i] << 4 | nibbles[i + 1]); i += 2 }
        return out
    }
}

import ETrustCore
import Foundation

/// A C2SP tlog-checkpoint: origin line, tree size, base64 root hash, each ending in a newline.
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int
    public var root: [UInt8]

    public init(origin: String, size: Int, root: [UInt8]) {
        self.origin = origin; self.size = size; self.root = root
    }

    public var body: String { "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n" }

    public init(body: String) throws {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "", let size = Int(lines[1]), size >= 0,
              let root = Data(base64Encoded: String(lines[2])), root.count == 32, !lines[0].isEmpty else {
            throw ETrustError.badInput("not a tlog checkpoint (origin, size, base64 root hash)")
        }
        self.origin = String(lines[0]); self.size = size; self.root = [UInt8](root)
    }
}

/// A C2SP signed note with an Ed25519 signature: the text, a blank line, and
/// "— NAME base64(keyID[4] || signature)" lines, where keyID is the first four bytes of
/// SHA-256(NAME || "\n" || 0x01 || public key).
public struct SignedNote: Sendable {
    public let text: String
    public let signatures: [(name: String, keyID: [UInt8], signature: [UInt8])]

    public static let ed25519Algorithm: UInt8 = 0x01

    public static func keyID(name: String, publicKey: [UInt8]) -> [UInt8] {
        Array(Digest.sha256(Array(name.utf8) + [0x0a, ed25519Algorithm] + publicKey).prefix(4))
    }

    /// The C2SP note verifier key: NAME+HEX(keyID)+base64(0x01 || public key).
    public static func verifierKey(name: String, publicKey: [UInt8]) -> String {
        "\(name)+\(Hex.encode(keyID(name: name, publicKey: publicKey)))+\(Data([ed25519Algorithm] + publicKey).base64EncodedString())"
    }

    public static func parseVerifierKey(_ text: String) throws -> (name: String, publicKey: [UInt8]) {
        // NAME+HEX+BASE64, and base64 itself may contain '+': split at the first two only.
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let id = Hex.decode(String(parts[1])), id.count == 4,
              let raw = Data(base64Encoded: String(parts[2])), raw.count == 33, raw.first == ed25519Algorithm else {
            throw ETrustError.badInput("not a note verifier key (NAME+KEYID+BASE64)")
        }
        let key = [UInt8](raw.dropFirst())
        guard keyID(name: String(parts[0]), publicKey: key) == id else {
            throw ETrustError.badInput("verifier key: key ID does not match the key")
        }
        return (String(parts[0]), key)
    }

    public static func sign(text: String, name: String, signer: Signer, publicKey: [UInt8]) throws -> String {
        precondition(text.hasSuffix("\n"))
        let signature = try signer.sign(Array(text.utf8))
        let blob = keyID(name: name, publicKey: publicKey) + signature
        return text + "\n\u{2014} \(name) \(Data(blob).base64EncodedString())\n"
    }

    public init(parsing note: String) throws {
        guard let split = note.range(of: "\n\n", options: .backwards) else {
            throw ETrustError.badInput("not a signed note (no blank line before the signatures)")
        }
        text = String(note[..<split.lowerBound]) + "\n"
        var sigs: [(String, [UInt8], [UInt8])] = []
        for line in note[split.upperBound...].split(separator: "\n") {
            guard line.hasPrefix("\u{2014} ") else { throw ETrustError.badInput("malformed signature line in note") }
            let fields = line.dropFirst(2).split(separator: " ")
            guard fields.count == 2, let blob = Data(base64Encoded: String(fields[1])), blob.count > 4 else {
                throw ETrustError.badInput("malformed signature line in note")
            }
            sigs.append((String(fields[0]), [UInt8](blob.prefix(4)), [UInt8](blob.dropFirst(4))))
        }
        guard !sigs.isEmpty else { throw ETrustError.badInput("the note has no signature") }
        signatures = sigs
    }

    /// True when a signature by (name, key) verifies over the text.
    public func isSigned(name: String, publicKey: [UInt8]) throws -> Bool {
        let id = SignedNote.keyID(name: name, publicKey: publicKey)
        let key = try PublicKey(ed25519Raw: publicKey)
        for s in signatures where s.name == name && s.keyID == id {
            if try key.verify(signature: s.signature, data: ArraySlice(Array(text.utf8)), algorithm: .ed25519) { return true }
        }
        return false
    }
}

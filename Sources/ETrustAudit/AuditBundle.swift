import ETrustCore
import Foundation

/// The exported audit log: one line per item, so that a million entries stream.
///   etrust-audit-bundle 1
///   vkey NAME+KEYID+BASE64
///   entry {canonical JSON}        (in log order)
///   checkpoint BASE64(signed note)
public enum AuditBundle {
    public static let magic = "etrust-audit-bundle 1"

    /// Verifies a bundle with no database and no CA key. `verifierKey` pins the log's key (else
    /// the bundle's own is used; a kept checkpoint still pins history).
    public static func verify(path: String, kept: [String] = [], verifierKey: String? = nil) throws -> AuditVerifier.Report {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ETrustError.badInput("\(path): cannot read the bundle", code: .notFound)
        }
        let bytes = [UInt8](data)
        // Line ranges over the raw bytes: a million entries without a million substrings.
        var lines: [Range<Int>] = []
        lines.reserveCapacity(bytes.count / 200)
        var start = 0
        for i in bytes.indices where bytes[i] == 0x0a {
            lines.append(start..<i)
            start = i + 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
        func text(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }
        func hasPrefix(_ r: Range<Int>, _ p: [UInt8]) -> Bool { r.count >= p.count && bytes[r.lowerBound..<r.lowerBound + p.count].elementsEqual(p) }
        guard let first = lines.first, text(first) == magic else {
            throw ETrustError.badInput("\(path): not an etrust audit bundle (first line must be '\(magic)')")
        }
        let vkeyPrefix = Array("vkey ".utf8), entryPrefix = Array("entry ".utf8), checkpointPrefix = Array("checkpoint ".utf8)
        guard lines.count >= 2, hasPrefix(lines[1], vkeyPrefix) else { throw ETrustError.badInput("\(path): no vkey line") }
        let key = try SignedNote.parseVerifierKey(verifierKey ?? text(lines[1].dropFirst(5)))
        var checkpoints: [String] = []
        for r in lines.dropFirst(2) where hasPrefix(r, checkpointPrefix) {
            guard let d = Data(base64Encoded: text(r.dropFirst(11))) else { throw ETrustError.badInput("\(path): malformed checkpoint line") }
            checkpoints.append(String(decoding: d, as: UTF8.self))
        }
        var verifier = try AuditVerifier(origin: key.name, publicKey: key.publicKey, checkpoints: checkpoints, pinned: kept)
        var index = 0
        for (n, r) in lines.enumerated().dropFirst(2) {
            if hasPrefix(r, entryPrefix) {
                verifier.add(index: index, payload: text(r.dropFirst(6)), storedLeafHash: nil, storedNode: nil)
                index += 1
            } else if !hasPrefix(r, checkpointPrefix) && !r.isEmpty {
                throw ETrustError.badInput("\(path): unexpected content on line \(n + 1)")
            }
        }
        return verifier.finish()
    }
}

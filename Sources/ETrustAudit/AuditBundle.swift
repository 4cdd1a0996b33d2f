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
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard lines.first.map(String.init) == magic else {
            throw ETrustError.badInput("\(path): not an etrust audit bundle (first line must be '\(magic)')")
        }
        guard lines.count >= 2, lines[1].hasPrefix("vkey ") else { throw ETrustError.badInput("\(path): no vkey line") }
        let key = try SignedNote.parseVerifierKey(verifierKey ?? String(lines[1].dropFirst(5)))
        var checkpoints: [String] = []
        for line in lines.dropFirst(2) where line.hasPrefix("checkpoint ") {
            guard let d = Data(base64Encoded: String(line.dropFirst(11))) else { throw ETrustError.badInput("\(path): malformed checkpoint line") }
            checkpoints.append(String(decoding: d, as: UTF8.self))
        }
        var verifier = try AuditVerifier(origin: key.name, publicKey: key.publicKey, checkpoints: checkpoints, pinned: kept)
        var index = 0
        for line in lines.dropFirst(2) {
            if line.hasPrefix("entry ") {
                verifier.add(index: index, payload: String(line.dropFirst(6)), storedLeafHash: nil, storedNode: nil)
                index += 1
            } else if !line.hasPrefix("checkpoint ") {
                throw ETrustError.badInput("\(path): unexpected line \(index + 3)")
            }
        }
        return verifier.finish()
    }
}

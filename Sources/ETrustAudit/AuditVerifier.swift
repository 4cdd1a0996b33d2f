import ETrustCore
import Foundation

/// Verifies a log of entries against its signed checkpoints, with nothing but the entries, the
/// checkpoints and the log's public key: every leaf is recomputed, the tree is rebuilt, every
/// checkpoint's signature and root are checked, and each checkpoint is proven consistent with
/// the one before. The first failure is named by entry.
public struct AuditVerifier {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The first entry (0-based) that does not verify, when it can be pinned to one.
        public var entry: Int?
        public var message: String
        /// True when the only fault is entries appended after the newest checkpoint (the next
        /// signed checkpoint covers them): everything up to that checkpoint verified.
        public var uncoveredTail = false
        public var description: String { message }
        public init(entry: Int?, message: String) { self.entry = entry; self.message = message }
    }

    public struct Report: Sendable {
        public var entries: Int
        public var checkpoints: Int
        public var latest: Checkpoint?
        public var failure: Failure?
        /// Entries after the newest signed (or kept) checkpoint: committed by a command that was
        /// interrupted or is still running, and not yet signed. Not tampering, but not proven
        /// either; `audit verify --strict` and every bundle treat it as a failure.
        public var unsignedTail: Range<Int>?
        public var ok: Bool { failure == nil }
    }

    static let auditKeyPrefix = Array("{\"action\":\"generated\",\"algorithm\":\"ed25519\",".utf8)
    let hasher = MerkleHasher()
    let origin: String
    let publicKey: [UInt8]
    var notes: [(checkpoint: Checkpoint, note: String)] = []
    var range: CompactRange
    /// Roots of the rebuilt tree at each checkpoint size (for consistency proofs).
    var rootsAtCheckpoints: [Int: [UInt8]] = [:]
    var checkpointIndex = 0
    var failure: Failure?
    var sawAuditKey = false
    var lastGoodCheckpointSize = 0
    let pinned: [Checkpoint]

    /// `checkpoints` are signed notes in any order; `pinned` are checkpoints the auditor kept from
    /// earlier visits (already signature-checked by the caller or checked here).
    public init(origin: String, publicKey: [UInt8], checkpoints: [String], pinned: [String] = []) throws {
        self.origin = origin
        self.publicKey = publicKey
        self.range = CompactRange(hasher: hasher)
        var parsed: [(Checkpoint, String)] = []
        for note in checkpoints {
            let n = try SignedNote(parsing: note)
            let c = try Checkpoint(body: n.text)
            parsed.append((c, note))
        }
        notes = parsed.sorted { $0.0.size < $1.0.size }
        // Two checkpoints at one size are a fork (different roots) or padding (the same note
        // again): neither verifies, and neither costs a signature check per copy.
        if let (a, b) = zip(notes, notes.dropFirst()).first(where: { $0.0.checkpoint.size == $0.1.checkpoint.size }) {
            failure = Failure(entry: nil, message: a.checkpoint.root == b.checkpoint.root
                ? "the checkpoint at size \(a.checkpoint.size) appears more than once"
                : "two checkpoints at size \(a.checkpoint.size) have different roots: the log was forked")
        }
        var pins: [Checkpoint] = []
        for note in pinned {
            let n = try SignedNote(parsing: note)
            guard try n.isSigned(name: origin, publicKey: publicKey) else {
                throw ETrustError.refused("the kept checkpoint is not signed by this log's key (\(origin))", code: .badSignature)
            }
            pins.append(try Checkpoint(body: n.text))
        }
        self.pinned = pins
        // Every signature first: a forged or replaced checkpoint fails before any entry is read.
        for (c, note) in notes where failure == nil {
            let n = try SignedNote(parsing: note)
            guard c.origin == origin else {
                failure = Failure(entry: nil, message: "checkpoint at size \(c.size) names origin '\(c.origin)', not '\(origin)'")
                break
            }
            guard try n.isSigned(name: origin, publicKey: publicKey) else {
                failure = Failure(entry: c.size > 0 ? c.size - 1 : nil, message: "checkpoint at size \(c.size): signature does not verify")
                break
            }
        }
    }

    /// Feeds entry `index` (0-based). `storedLeafHash` and `storedNode` are what the database
    /// claims; the payload is what the leaf must hash to.
    public mutating func add(index: Int, payload: String, storedLeafHash: [UInt8]?, storedNode: [UInt8]?) {
        guard failure == nil else { return }
        guard index == range.size else {
            failure = Failure(entry: range.size, message: "entry \(range.size) is missing (the next stored entry is \(index))")
            return
        }
        guard AuditVerifier.payloadIndex(payload) == index else {
            failure = Failure(entry: index, message: "entry \(index) was altered or moved (its payload states another position)")
            return
        }
        let leaf = hasher.leafHash(payload)
        if let storedLeafHash, storedLeafHash != leaf {
            failure = Failure(entry: index, message: "entry \(index) was altered (its payload does not hash to its stored leaf hash)")
            return
        }
        if let storedNode, storedNode != leaf {
            failure = Failure(entry: index, message: "entry \(index) was altered (its leaf differs from the tree's)")
            return
        }
        // The log records its own audit key when it is created: a log signed by another key
        // (the key replaced and every checkpoint re-signed) is caught here.
        // Sorted keys: the audit key's "generated" event starts with this prefix.
        let isAuditKey = payload.utf8.starts(with: AuditVerifier.auditKeyPrefix) && payload.contains("\"purpose\":\"audit\"")
        if isAuditKey,
           let data = payload.data(using: .utf8),
           let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
           let recorded = object["verifierKey"] as? String,
           let key = try? SignedNote.parseVerifierKey(recorded),
           key.publicKey != publicKey || key.name != origin {
            if object["action"] as? String == "generated" && !sawAuditKey {
                failure = Failure(entry: index, message: "entry \(index) records audit key \(recorded), but the log is verified with another key: checkpoints were re-signed")
                return
            }
        }
        if isAuditKey { sawAuditKey = true }
        range.append(leaf)
        checkCheckpoints()
    }

    private mutating func checkCheckpoints() {
        while checkpointIndex < notes.count, notes[checkpointIndex].checkpoint.size <= range.size, failure == nil {
            let c = notes[checkpointIndex].checkpoint
            if c.size == range.size {
                let root = range.root
                if root != c.root {
                    failure = Failure(entry: lastGoodCheckpointSize,
                                      message: "the signed checkpoint at size \(c.size) does not match the log: an entry somewhere in \(lastGoodCheckpointSize)..\(c.size - 1) was altered, inserted or removed (entries before \(lastGoodCheckpointSize) verify)")
                    return
                }
                rootsAtCheckpoints[c.size] = root
                lastGoodCheckpointSize = c.size
            } else if c.size == 0 {
                lastGoodCheckpointSize = 0
            }
            checkpointIndex += 1
        }
        for p in pinned where p.size == range.size && failure == nil {
            if range.root != p.root {
                failure = Failure(entry: nil, message: "the log does not extend the kept checkpoint at size \(p.size): history was rewritten")
            }
        }
    }

    /// Finishes: entries not covered by any checkpoint, truncation below a checkpoint, and the
    /// consistency of each checkpoint with the previous one. With `requireCoverage` (bundles,
    /// `--strict`) entries after the newest checkpoint fail; else they are reported as the
    /// unsigned tail.
    public func finish(requireCoverage: Bool = true) -> Report {
        var failure = self.failure
        let size = range.size
        if failure == nil, let last = notes.last, last.checkpoint.size > size {
            failure = Failure(entry: size, message: "the log was truncated: the checkpoint at size \(last.checkpoint.size) covers entries \(size)..\(last.checkpoint.size - 1), which are missing")
        }
        if failure == nil, let p = pinned.first(where: { $0.size > size }) {
            failure = Failure(entry: size, message: "the log has \(size) entries but the kept checkpoint covers \(p.size): history was truncated")
        }
        let covered = max(notes.last?.checkpoint.size ?? 0, pinned.map(\.size).max() ?? 0)
        var tail: Range<Int>? = nil
        if failure == nil, covered < size {
            if requireCoverage {
                failure = Failure(entry: covered, message: "entries \(covered)..\(size - 1) are not covered by any signed checkpoint")
            } else {
                tail = covered..<size
            }
        }
        return Report(entries: size, checkpoints: notes.count, latest: notes.last?.checkpoint, failure: failure, unsignedTail: tail)
    }

    /// The integer member "index" of a canonical payload. A quote inside a JSON string is always
    /// escaped, so `,"index":` or `{"index":` can only be the top-level member.
    static func payloadIndex(_ payload: String) -> Int? {
        var p = payload
        return p.withUTF8 { buf -> Int? in
            let key = Array("\"index\":".utf8)
            var i = 1
            outer: while i + key.count < buf.count {
                guard buf[i - 1] == UInt8(ascii: ",") || buf[i - 1] == UInt8(ascii: "{") else { i += 1; continue }
                for j in 0..<key.count where buf[i + j] != key[j] { i += 1; continue outer }
                var v = 0, k = i + key.count, digits = 0
                while k < buf.count, buf[k] >= 48, buf[k] <= 57, digits < 18 { v = v * 10 + Int(buf[k] - 48); k += 1; digits += 1 }
                return digits > 0 ? v : nil
            }
            return nil
        }
    }
}

import ETrustCore
import Foundation

/// What the audit log needs from a database, declared here by its only user. Rows only: the
/// meaning of payloads, leaves and subtrees stays in this module. Appends happen inside the
/// transaction of the act they record (the caller's `transaction`).
public protocol AuditLogStorage: SubtreeHashSource {
    /// One durable transaction; a call inside another joins it.
    func transaction<R>(_ body: () throws -> R) throws -> R
    func auditLogSize() throws -> Int
    func insertAuditEntry(index: Int, time: Date, type: String, ca: String?, serial: String?, profile: String?,
                          payload: String, leafHash: [UInt8]) throws
    func insertAuditNode(level: Int, index: Int, hash: [UInt8]) throws
    func auditLeafHash(index: Int) throws -> [UInt8]?
    func insertAuditCheckpoint(size: Int, root: [UInt8], note: String, createdAt: Date) throws
    /// The size of the newest checkpoint (0 without one).
    func latestAuditCheckpointSize() throws -> Int
    func forEachAuditCheckpoint(_ body: (Int, [UInt8], String, Date) throws -> Void) throws
    func forEachAuditEntry(_ body: (Int, String, [UInt8], [UInt8]?) throws -> Void) throws
    func forEachAuditEvent(since: Date?, until: Date?, type: String?, serial: String?, ca: String?, profile: String?,
                           _ body: (Int, Date, String, String?, String?, String?, String) throws -> Void) throws
    /// Matching entries with index < `before` (nil: from the newest), newest first, at most `limit`.
    func forEachAuditEvent(before: Int?, limit: Int, since: Date?, until: Date?, type: String?, serial: String?, ca: String?,
                           profile: String?, _ body: (Int, Date, String, String?, String?, String?, String) throws -> Void) throws
}

/// The tamper-evident log of one home: RFC 6962 leaves and subtrees, signed C2SP checkpoints,
/// proofs, verification and export.
public struct AuditLog: @unchecked Sendable {   // unchecked: the storage is one connection used by one thread at a time
    public let storage: any AuditLogStorage
    /// Off only for the benchmark that measures the log's cost (etrust.yaml `audit.enabled`).
    public let enabled: Bool
    let hasher = MerkleHasher()

    public init(storage: any AuditLogStorage, enabled: Bool = true) {
        self.storage = storage
        self.enabled = enabled
    }

    /// Appends events, inside the caller's transaction if there is one (the act they record
    /// commits with them): each entry carries its index in the payload and its leaf hash, and
    /// every perfect subtree it completes is stored.
    public func append(_ events: [AuditEvent]) throws {
        guard !events.isEmpty, enabled else { return }
        try storage.transaction { try appendRows(events) }
    }

    private func appendRows(_ events: [AuditEvent]) throws {
        let size = try storage.auditLogSize()
        var range = try CompactRange(hasher: hasher, size: size, source: storage)
        for (i, e) in events.enumerated() {
            let index = size + i
            let payload = e.payload(index: index)
            let leaf = hasher.leafHash(payload)
            try storage.insertAuditEntry(index: index, time: e.time, type: e.type, ca: e.ca, serial: e.serialHex, profile: e.profile,
                                         payload: payload, leafHash: leaf)
            for c in range.append(leaf) {
                try storage.insertAuditNode(level: c.level, index: c.index, hash: c.hash)
            }
        }
    }

    public var size: Int { get throws { try storage.auditLogSize() } }

    /// The Merkle root of the first `size` entries, from stored subtrees (O(log n)).
    public func root(size: Int) throws -> [UInt8] {
        try MerkleProofs.root(storage, hasher: hasher, size: size)
    }

    public func events(matching f: EventFilter = EventFilter()) throws -> [AuditEvent] {
        var out: [AuditEvent] = []
        try storage.forEachAuditEvent(since: f.since, until: f.until, type: f.type, serial: f.serialHex, ca: f.ca, profile: f.profile) {
            index, time, type, ca, serial, profile, payload in
            out.append(AuditEvent(stored: payload, index: index, type: type, time: time, ca: ca, serialHex: serial, profile: profile))
        }
        return out
    }

    /// One page of matching events, newest first: those with index < `before` (nil: the newest).
    public func page(matching f: EventFilter, before: Int?, limit: Int) throws -> [AuditEvent] {
        var out: [AuditEvent] = []
        try storage.forEachAuditEvent(before: before, limit: limit, since: f.since, until: f.until, type: f.type, serial: f.serialHex,
                                      ca: f.ca, profile: f.profile) { index, time, type, ca, serial, profile, payload in
            out.append(AuditEvent(stored: payload, index: index, type: type, time: time, ca: ca, serialHex: serial, profile: profile))
        }
        return out
    }

    public func checkpoints() throws -> [StoredCheckpoint] {
        var out: [StoredCheckpoint] = []
        try storage.forEachAuditCheckpoint { out.append(StoredCheckpoint(size: $0, root: $1, note: $2, createdAt: $3)) }
        return out
    }

    /// Signs and stores a checkpoint of the whole log if it grew since the last one. One
    /// transaction (on PostgreSQL under the log's lock): checkpoints of several processes are
    /// stored in the order of their sizes.
    public func signCheckpoint(origin: String, signer: Signer, publicKey: [UInt8], at now: Date) throws -> (Checkpoint, note: String)? {
        try storage.transaction {
            let size = try self.size
            if try storage.latestAuditCheckpointSize() >= size { return nil }
            let checkpoint = Checkpoint(origin: origin, size: size, root: try root(size: size))
            let note = try SignedNote.sign(text: checkpoint.body, name: origin, signer: signer, publicKey: publicKey)
            try storage.insertAuditCheckpoint(size: size, root: checkpoint.root, note: note, createdAt: now)
            return (checkpoint, note)
        }
    }

    /// Verifies every entry against the stored checkpoints (and `kept` ones).
    public func verify(origin: String, publicKey: [UInt8], kept: [String] = [], requireCoverage: Bool = true) throws -> AuditVerifier.Report {
        var verifier = try AuditVerifier(origin: origin, publicKey: publicKey, checkpoints: try checkpoints().map(\.note), pinned: kept)
        try storage.forEachAuditEntry { id, payload, leaf, node in
            verifier.add(index: id - 1, payload: payload, storedLeafHash: leaf, storedNode: node)
        }
        return verifier.finish(requireCoverage: requireCoverage)
    }

    /// A self-contained bundle: the verifier key, every entry and every checkpoint.
    public func export(verifierKey: String, to path: String) throws -> Int {
        var out = "\(AuditBundle.magic)\nvkey \(verifierKey)\n"
        var count = 0
        try storage.forEachAuditEntry { _, payload, _, _ in
            out += "entry "
            out += payload
            out += "\n"
            count += 1
        }
        for c in try checkpoints() {
            out += "checkpoint \(Data(c.note.utf8).base64EncodedString())\n"
        }
        try AtomicFile.write(out, to: path)
        return count
    }

    /// An inclusion proof of entry `index` (whose payload is given) in the log of
    /// `checkpoint.size` entries, checked against the checkpoint's root.
    public func proveInclusion(of payload: String, index: Int, in checkpoint: Checkpoint) throws -> InclusionProof {
        let leaf = hasher.leafHash(payload)
        let proof = try MerkleProofs.inclusionProof(storage, hasher: hasher, index: index, size: checkpoint.size)
        let ok = MerkleProofs.verifyInclusion(hasher: hasher, index: index, size: checkpoint.size, leafHash: leaf, proof: proof,
                                              root: checkpoint.root)
        return InclusionProof(index: index, size: checkpoint.size, root: checkpoint.root, leafHash: leaf, hashes: proof, verified: ok)
    }

    /// A consistency proof between two sizes of the log, checked against the two roots.
    public func proveConsistency(from m: Int, to n: Int) throws -> ConsistencyProof {
        let proof = try MerkleProofs.consistencyProof(storage, hasher: hasher, from: m, to: n)
        let r1 = try root(size: m), r2 = try root(size: n)
        let ok = MerkleProofs.verifyConsistency(hasher: hasher, from: m, to: n, proof: proof, root1: r1, root2: r2)
        return ConsistencyProof(from: m, to: n, root1: r1, root2: r2, hashes: proof, verified: ok)
    }
}

public struct InclusionProof: Sendable {
    public var index: Int
    public var size: Int
    public var root: [UInt8]
    public var leafHash: [UInt8]
    public var hashes: [[UInt8]]
    public var verified: Bool
}

public struct ConsistencyProof: Sendable {
    public var from: Int
    public var to: Int
    public var root1: [UInt8]
    public var root2: [UInt8]
    public var hashes: [[UInt8]]
    public var verified: Bool
}

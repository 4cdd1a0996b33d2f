import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// The home's side of the audit log: its Ed25519 key, the checkpoints it signs and publishes
/// (pub/audit/checkpoint, pub/audit/audit.vkey), and the questions auditors ask of it.
public final class AuditTrail {
    public let log: AuditLog
    let home: Home
    let keys: KeyStore
    let clock: ETrustClock
    private var cachedSigner: (Signer, [UInt8])?

    init(log: AuditLog, home: Home, keys: KeyStore, clock: ETrustClock) {
        self.log = log; self.home = home; self.keys = keys; self.clock = clock
    }

    static let keyReference = "file:keys/audit.key.pem"
    public var verifierKeyPath: String { home.pubDirectory + "/audit/audit.vkey" }
    public var checkpointPath: String { home.pubDirectory + "/audit/checkpoint" }
    var keyExists: Bool { FileManager.default.fileExists(atPath: home.join("keys/audit.key.pem")) }

    /// The home's Ed25519 audit key, created (and logged) on first use.
    func signer() throws -> (Signer, [UInt8]) {
        if let cachedSigner { return cachedSigner }
        let key: PrivateKey
        if keyExists {
            key = try keys.privateKey(AuditTrail.keyReference, owner: "the audit log")
        } else {
            key = try PrivateKey.generate(.ed25519)
            _ = try keys.store(key, name: "audit")
            let raw = try key.publicKey.ed25519Raw!
            try log.append([AuditEvent(type: "key", time: clock.now(), ca: nil, serialHex: nil, profile: nil,
                                       fields: ["action": "generated", "algorithm": "ed25519", "purpose": "audit",
                                                "verifierKey": SignedNote.verifierKey(name: home.config.auditOrigin, publicKey: raw)])])
        }
        guard let raw = try key.publicKey.ed25519Raw else { throw ETrustError.environment("the audit key is not Ed25519") }
        cachedSigner = (try Signer(key: key), raw)
        return cachedSigner!
    }

    /// Signs a checkpoint of the log if it grew since the last one, stores it and publishes it.
    @discardableResult
    public func checkpoint() throws -> Checkpoint? {
        guard home.config.auditEnabled else { return nil }
        let (signer, publicKey) = try signer()
        guard let (checkpoint, note) = try log.signCheckpoint(origin: home.config.auditOrigin, signer: signer, publicKey: publicKey,
                                                              at: clock.now()) else { return nil }
        try FileManager.default.createDirectory(atPath: home.pubDirectory + "/audit", withIntermediateDirectories: true)
        try AtomicFile.write(SignedNote.verifierKey(name: home.config.auditOrigin, publicKey: publicKey) + "\n", to: verifierKeyPath)
        try AtomicFile.write(note, to: checkpointPath)
        return checkpoint
    }

    /// Logs every profile whose file is new or changed since the log last recorded it (its
    /// SHA-256), so that the log shows under which rules each later act was taken.
    func recordPolicyChanges(_ profiles: [String: Profile]) throws {
        var latest: [String: String] = [:]
        for e in try log.events(matching: EventFilter(type: "policy")) {
            if let p = e.profile, let object = try? JSONSerialization.jsonObject(with: Data(e.payload.utf8)) as? [String: Any],
               let sha = object["sha256"] as? String {
                latest[p] = sha
            }
        }
        let now = clock.now()
        var events: [AuditEvent] = []
        for (name, profile) in profiles.sorted(by: { $0.key < $1.key }) {
            let sha = Hex.encode(profile.sha256)
            guard latest[name] != sha else { continue }
            events.append(AuditEvent(type: "policy", time: now, ca: nil, serialHex: nil, profile: name,
                                     fields: ["action": latest[name] == nil ? "loaded" : "changed",
                                              "file": FilePath.lastComponent(of: profile.file), "sha256": sha]))
        }
        try log.append(events)
    }


    /// The public verifier key: from `pinned` (a vkey the auditor kept) or the home's pub/audit.
    public func verifierKey(pinned: String? = nil) throws -> (name: String, publicKey: [UInt8]) {
        if let pinned { return try SignedNote.parseVerifierKey(pinned) }
        guard let text = try? String(contentsOfFile: verifierKeyPath, encoding: .utf8) else {
            throw ETrustError.refused("this home has no signed checkpoint yet (no \(verifierKeyPath))", code: .notFound)
        }
        return try SignedNote.parseVerifierKey(text)
    }

    /// Verifies the home's whole log against its stored checkpoints, the checkpoint it published
    /// (a database replaced, emptied or rolled back cannot go below it) and `kept` checkpoints.
    /// Entries after the newest checkpoint are the report's unsigned tail, or a failure when
    /// `strict`.
    public func verify(kept: [String] = [], verifierKey: String? = nil, strict: Bool = false,
                       pinPublished: Bool = true) throws -> AuditVerifier.Report {
        let key = try self.verifierKey(pinned: verifierKey)
        let published = pinPublished ? publishedCheckpoint() : nil
        var report = try log.verify(origin: key.name, publicKey: key.publicKey, kept: kept + (published.map { [$0] } ?? []),
                                    requireCoverage: strict)
        // What the home published is one of the database's checkpoints, unless checkpoints were
        // deleted or the database was replaced, emptied or rolled back behind the home's back.
        if report.failure == nil, let published, let c = try? Checkpoint(body: SignedNote(parsing: published).text),
           try !log.checkpoints().contains(where: { $0.size == c.size && $0.root == c.root }) {
            report.failure = AuditVerifier.Failure(entry: nil, message: "the checkpoint this home published (\(checkpointPath), size \(c.size)) is not among the database's checkpoints: checkpoints were deleted or the database was replaced or rolled back")
        }
        return report
    }

    /// pub/audit/checkpoint, when the home has published one.
    func publishedCheckpoint() -> String? { try? String(contentsOfFile: checkpointPath, encoding: .utf8) }

    /// After a restore: publishes the restored database's newest checkpoint in place of the one
    /// published before, and returns the size that one covered (when it covered more).
    func republishAfterRestore() throws -> Int? {
        let before = publishedCheckpoint().flatMap { try? Checkpoint(body: SignedNote(parsing: $0).text).size }
        guard let (latest, note) = try? latestSignedCheckpoint() else { return nil }
        try AtomicFile.write(note, to: checkpointPath)
        return before.flatMap { $0 > latest.size ? $0 : nil }
    }

    /// The size of the newest stored checkpoint (0 without one).
    public func signedSize() throws -> Int { try log.storage.latestAuditCheckpointSize() }

    /// Called before a command changes the home: entries that an earlier command committed but
    /// never covered by a checkpoint (it was killed, or is still running) are covered now, after a
    /// `recovered` event that names them. Nothing happens when the log is fully signed.
    public func recoverUnsignedTail() throws {
        guard home.config.auditEnabled, keyExists else { return }
        let size = try log.size, signed = try signedSize()
        guard size > signed else { return }
        try log.append([AuditEvent(type: "recovered", time: clock.now(), ca: nil, serialHex: nil, profile: nil,
                                   fields: ["action": "checkpoint", "uncoveredFrom": String(signed), "uncoveredTo": String(size - 1),
                                            "cause": "appended without a checkpoint: an interrupted or concurrently running command, or console visits (the console holds no audit key)"])])
        try checkpoint()
    }

    /// A self-contained bundle: the verifier key, every entry and every checkpoint.
    public func export(to path: String) throws -> Int {
        let key = try verifierKey()
        return try log.export(verifierKey: SignedNote.verifierKey(name: key.name, publicKey: key.publicKey), to: path)
    }

    /// The newest checkpoint, as its signature covers it (not the stored columns).
    public func latestSignedCheckpoint() throws -> (checkpoint: Checkpoint, note: String) {
        guard let stored = try log.checkpoints().last else {
            throw ETrustError.refused("the log has no signed checkpoint yet", code: .notFound)
        }
        let key = try verifierKey()
        let note = try SignedNote(parsing: stored.note)
        guard try note.isSigned(name: key.name, publicKey: key.publicKey) else {
            throw ETrustError.refused("the newest checkpoint's signature does not verify with the log's key", code: .badSignature)
        }
        return (try Checkpoint(body: note.text), stored.note)
    }

    /// An inclusion proof of the issuance entry of `serial` against the newest signed checkpoint.
    public func proveIssuance(serial: String) throws -> (entry: AuditEvent, proof: InclusionProof, note: String) {
        guard let entry = try log.events(matching: EventFilter(type: "issue", serialHex: serial)).first, let index = entry.index else {
            throw ETrustError.refused("no issuance entry for serial \(serial) in the log", code: .notFound)
        }
        let (latest, note) = try latestSignedCheckpoint()
        guard latest.size > index else {
            throw ETrustError.refused("entry \(index) is not yet covered by a signed checkpoint", code: .notFound)
        }
        return (entry, try log.proveInclusion(of: entry.payload, index: index, in: latest), note)
    }
}

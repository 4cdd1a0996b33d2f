import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

extension Authority {
    var auditKeyPath: String { home.join("keys/audit.key.pem") }
    public var auditVerifierKeyPath: String { home.pubDirectory + "/audit/audit.vkey" }
    public var auditCheckpointPath: String { home.pubDirectory + "/audit/checkpoint" }

    /// The home's Ed25519 audit key, created (and logged) on first use.
    func auditSigner() throws -> (Signer, [UInt8]) {
        if let cached = cachedAuditSigner { return cached }
        if FileManager.default.fileExists(atPath: auditKeyPath) {
            let key = try PrivateKey.load(fromFile: auditKeyPath, passphrase: try passphrase())
            guard let raw = try key.publicKey.ed25519Raw else { throw ETrustError.environment("the audit key is not Ed25519") }
            cachedAuditSigner = (try Signer(key: key), raw)
            return cachedAuditSigner!
        }
        let key = try PrivateKey.generate(.ed25519)
        let raw = try key.publicKey.ed25519Raw!
        try key.write(toFile: auditKeyPath, passphrase: try passphrase(), iterations: home.config.keyIterations)
        try store.append(events: [AuditEvent(type: "key", time: clock.now(), ca: nil, serialHex: nil, profile: nil,
                                             fields: ["action": "generated", "algorithm": "ed25519", "purpose": "audit",
                                                      "verifierKey": SignedNote.verifierKey(name: home.config.auditOrigin, publicKey: raw)])])
        return (try Signer(key: key), raw)
    }

    /// Logs every profile whose file is new or changed since the log last recorded it (its
    /// SHA-256), so that the log shows under which rules each later act was taken.
    public func recordPolicyChanges() throws {
        var latest: [String: String] = [:]
        for e in try store.events(matching: EventFilter(type: "policy")) {
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
        if !events.isEmpty { try store.append(events: events) }
    }

    /// Signs a checkpoint of the log if it grew since the last one, stores it and publishes it
    /// (pub/audit/checkpoint, pub/audit/audit.vkey). Called after each command.
    @discardableResult
    public func checkpoint() throws -> Checkpoint? {
        guard home.config.auditEnabled else { return nil }
        let (signer, publicKey) = try auditSigner()
        let size = try store.auditSize
        if let last = try store.checkpoints().last, last.size == size { return nil }
        let root = try store.auditRoot(size: size)
        let checkpoint = Checkpoint(origin: home.config.auditOrigin, size: size, root: root)
        let note = try SignedNote.sign(text: checkpoint.body, name: home.config.auditOrigin, signer: signer, publicKey: publicKey)
        try store.insert(checkpoint: StoredCheckpoint(size: size, root: root, note: note, createdAt: clock.now()))
        try FileManager.default.createDirectory(atPath: home.pubDirectory + "/audit", withIntermediateDirectories: true)
        try AtomicFile.write(SignedNote.verifierKey(name: home.config.auditOrigin, publicKey: publicKey) + "\n", to: auditVerifierKeyPath)
        try AtomicFile.write(note, to: auditCheckpointPath)
        return checkpoint
    }

    /// The public verifier key: from `pinnedKey` (a vkey the auditor kept) or the home's pub/audit.
    public func auditVerifierKey(pinned: String? = nil) throws -> (name: String, publicKey: [UInt8]) {
        if let pinned { return try SignedNote.parseVerifierKey(pinned) }
        guard let text = try? String(contentsOfFile: auditVerifierKeyPath, encoding: .utf8) else {
            throw ETrustError.refused("this home has no signed checkpoint yet (no \(auditVerifierKeyPath))", code: .notFound)
        }
        return try SignedNote.parseVerifierKey(text)
    }

    /// Verifies the home's whole log against its stored checkpoints (and `kept` checkpoints).
    public func verifyAudit(kept: [String] = [], verifierKey: String? = nil) throws -> AuditVerifier.Report {
        let key = try auditVerifierKey(pinned: verifierKey)
        var verifier = try AuditVerifier(origin: key.name, publicKey: key.publicKey,
                                         checkpoints: try store.checkpoints().map(\.note), pinned: kept)
        try store.forEachAuditEntry { id, payload, leaf, node in
            verifier.add(index: id - 1, payload: payload, storedLeafHash: leaf, storedNode: node)
        }
        return verifier.finish()
    }

    /// A self-contained bundle: the verifier key, every entry and every checkpoint.
    public func exportAudit(to path: String) throws -> Int {
        let key = try auditVerifierKey()
        var out = "\(AuditBundle.magic)\nvkey \(SignedNote.verifierKey(name: key.name, publicKey: key.publicKey))\n"
        var count = 0
        try store.forEachAuditEntry { _, payload, _, _ in
            out += "entry "
            out += payload
            out += "\n"
            count += 1
        }
        for c in try store.checkpoints() {
            out += "checkpoint \(Data(c.note.utf8).base64EncodedString())\n"
        }
        try AtomicFile.write(out, to: path)
        return count
    }
}

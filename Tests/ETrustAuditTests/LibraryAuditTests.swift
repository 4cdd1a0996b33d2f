import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

@Suite("The audit log through the library")
struct LibraryAuditTests {
    @Test("issuances, a refusal and checkpoints: the log verifies, each payload states its index, every kind of change is logged")
    func logThroughLibrary() throws {
        let a = try AuditHome.make()
        let report = try a.authority.verifyAudit()
        #expect(report.ok, "\(report.failure?.message ?? "")")
        #expect(report.entries == a.size)
        #expect(report.checkpoints == 3)
        #expect(report.latest?.size == a.size)

        let events = try a.authority.auditLog.events()
        #expect(events.count == a.size)
        #expect(try a.authority.auditLog.size == a.size)
        let hasher = MerkleHasher()
        var leaves: [[UInt8]] = []
        for (i, e) in events.enumerated() {
            #expect(e.index == i)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(e.payload.utf8)) as? [String: Any], "\(e.payload)")
            #expect(object["index"] as? Int == i, "\(e.payload)")
            #expect(object["type"] as? String == e.type)
            // The stored leaf hash is SHA-256(0x00 || payload).
            let leaf = try #require(try a.authority.store.auditLeafHash(index: i))
            #expect(leaf == hasher.leafHash(e.payload))
            #expect(leaf == ReferenceMTH.leaf(Array(e.payload.utf8)))
            leaves.append(leaf)
        }
        let types = Set(events.map(\.type))
        for t in ["policy", "key", "ca", "issue", "refuse"] { #expect(types.contains(t), "no '\(t)' event in \(types)") }
        #expect(events.filter { $0.type == "issue" }.count == 5)
        #expect(events.filter { $0.type == "refuse" }.count == 1)
        #expect(events.filter { $0.type == "ca" }.count == 2)
        // The audit key's creation is logged with its verifier key.
        let auditKey = try #require(events.first { $0.type == "key" && $0.payload.contains("\"purpose\":\"audit\"") })
        let vkey = try String(contentsOfFile: a.vkeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(auditKey.payload.contains(CanonicalJSON.string(vkey)), "\(auditKey.payload)")
        // Each issuance's entry names its serial.
        for serial in a.serials {
            #expect(events.contains { $0.type == "issue" && $0.serialHex == serial && $0.payload.contains("\"serial\":\"\(serial)\"") })
        }

        // The stored checkpoints are signed notes over the roots of the log at their sizes.
        let key = try SignedNote.parseVerifierKey(vkey)
        let stored = try a.authority.auditLog.checkpoints()
        #expect(stored.map(\.size) == a.checkpointSizes)
        for c in stored {
            let note = try SignedNote(parsing: c.note)
            #expect(try note.isSigned(name: key.name, publicKey: key.publicKey))
            let cp = try Checkpoint(body: note.text)
            #expect(cp.size == c.size)
            #expect(cp.root == c.root)
            #expect(cp.root == ReferenceMTH.root(leaves[..<c.size]), "checkpoint at \(c.size)")
            #expect(cp.origin == a.authority.home.config.auditOrigin)
        }
        // The published checkpoint is the newest one.
        #expect(try String(contentsOfFile: a.checkpointFile, encoding: .utf8) == stored.last?.note)
        // No change since the last checkpoint: no new checkpoint.
        #expect(try a.authority.checkpoint() == nil)
        #expect(try a.authority.auditLog.checkpoints().count == 3)
    }

    @Test("the store's proofs verify against the signed checkpoints")
    func storeProofs() throws {
        let a = try AuditHome.make()
        let hasher = MerkleHasher()
        let stored = try a.authority.auditLog.checkpoints()
        for c in stored {
            #expect(try a.authority.auditLog.root(size: c.size) == c.root)
            for index in stride(from: 0, to: c.size, by: 3) {
                let leaf = try #require(try a.authority.store.auditLeafHash(index: index))
                let proof = try MerkleProofs.inclusionProof(a.authority.store, hasher: hasher, index: index, size: c.size)
                #expect(MerkleProofs.verifyInclusion(hasher: hasher, index: index, size: c.size, leafHash: leaf, proof: proof, root: c.root))
            }
        }
        for (i, old) in stored.enumerated() {
            for new in stored[i...] {
                let proof = try MerkleProofs.consistencyProof(a.authority.store, hasher: hasher, from: old.size, to: new.size)
                #expect(MerkleProofs.verifyConsistency(hasher: hasher, from: old.size, to: new.size, proof: proof, root1: old.root, root2: new.root))
            }
        }
    }

    @Test("a refusal adds exactly one entry, which verifies only once a checkpoint covers it")
    func refusalIsOneEntry() throws {
        let a = try AuditHome.make()
        let before = try a.authority.auditLog.size
        #expect(throws: ETrustError.self) { try a.authority.issue(try AuditHome.request("nosan.example.tg", san: false), ca: "issuing") }
        #expect(try a.authority.auditLog.size == before + 1)
        let last = try #require(try a.authority.auditLog.events().last)
        #expect(last.type == "refuse")
        #expect(last.index == before)
        // Uncovered until the next checkpoint, then verified again.
        let uncovered = try a.authority.verifyAudit(strict: true)
        #expect(!uncovered.ok)
        #expect(uncovered.failure?.entry == a.size)
        // Not strict: the same entry is the report's unsigned tail, not a failure.
        let tail = try a.authority.verifyAudit()
        #expect(tail.ok && tail.unsignedTail == a.size..<(a.size + 1))
        #expect(try a.authority.checkpoint()?.size == before + 1)
        #expect(try a.authority.verifyAudit().ok)
    }
}

@Suite("Canonical event payloads")
struct CanonicalPayloadTests {
    /// The store splices the index into text prepared in advance; it must be exactly the
    /// canonical object of the fields plus the integer member "index".
    @Test("payload(index:) equals the canonical JSON of the fields with the index", arguments: [0, 7, 1_000_000])
    func spliceEqualsCanonical(_ index: Int) throws {
        let event = AuditEvent(type: "issue", time: Date(timeIntervalSince1970: 1_800_000_000), ca: "issuing", serialHex: "4a01",
                               profile: "tls-server", fields: ["requester": "ops\"team", "certificateSHA256": "ab", "a": "first", "z": "last"])
        let spliced = event.payload(index: index)
        #expect(spliced == CanonicalJSON.object(event.fields, integers: ["index": index]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(spliced.utf8)) as? [String: Any])
        #expect(object["index"] as? Int == index)
        #expect(object["requester"] as? String == "ops\"team")
        #expect(Array(spliced.utf8.prefix(5)) == Array("{\"a\":".utf8))
    }
}

@Suite("Policy changes in the log")
struct PolicyChangeTests {
    @Test("a changed profile file is logged once with its new SHA-256; an unchanged one is not")
    func changedProfileIsLogged() throws {
        let (home, _) = try TestSupport.makePKI()
        let file = home + "/policies/tls-server.yaml"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "default: 90d", with: "default: 60d").write(toFile: file, atomically: true, encoding: .utf8)
        let authority = try Authority(home: try Home.open(home), passphrase: { Array("test-passphrase".utf8) })
        let before = try authority.auditLog.events(matching: EventFilter(type: "policy")).count
        try authority.recordPolicyChanges()
        let policy = try authority.auditLog.events(matching: EventFilter(type: "policy"))
        #expect(policy.count == before + 1)
        let last = try #require(policy.last)
        #expect(last.profile == "tls-server")
        #expect(last.payload.contains("\"action\":\"changed\""))
        let sha = Hex.encode(Digest.sha256(Array(try String(contentsOfFile: file, encoding: .utf8).utf8)))
        #expect(last.payload.contains(sha))
        try authority.recordPolicyChanges()
        #expect(try authority.auditLog.events(matching: EventFilter(type: "policy")).count == before + 1)
    }
}

import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// Checks that `etrust audit verify` (text and --json) exits 1, names `entry` as the first
/// failing entry and says each of `mentions`.
func expectVerifyFails(_ a: AuditHome, entry: Int?, mentions: [String], extra: [String] = [],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    let text = try a.verify(extra)
    #expect(text.status == 1, "exit \(text.status): \(text.stdout)\(text.stderr)", sourceLocation: sourceLocation)
    #expect(text.stdout.contains("does NOT verify"), "\(text.stdout)\(text.stderr)", sourceLocation: sourceLocation)
    for m in mentions {
        #expect(text.stdout.contains(m), "'\(m)' not in: \(text.stdout)", sourceLocation: sourceLocation)
    }
    let (r, json) = try a.verifyJSON(extra)
    #expect(r.status == 1, sourceLocation: sourceLocation)
    #expect(json["valid"] as? Bool == false, sourceLocation: sourceLocation)
    if let entry {
        #expect(json["firstFailingEntry"] as? Int == entry, "\(json)", sourceLocation: sourceLocation)
    }
}

@Suite("Tampering with the database is caught by etrust audit verify")
struct TamperTests {
    @Test("an untouched home verifies (the baseline of every tampering test)")
    func baseline() throws {
        let a = try AuditHome.make()
        let r = try a.verify()
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("audit log verifies: \(a.size) entries, 3 signed checkpoint(s)"), "\(r.stdout)")
        let (j, json) = try a.verifyJSON()
        #expect(j.status == 0)
        #expect(json["valid"] as? Bool == true)
        #expect(json["entries"] as? Int == a.size)
        #expect(json["checkpoints"] as? Int == 3)
        #expect(json["treeSize"] as? Int == a.size)
        let root = try a.authority.auditLog.root(size: a.size)
        #expect(json["rootHash"] as? String == b64(root))
    }

    @Test("one event's payload changed: the entry is named")
    func payloadChanged() throws {
        let a = try AuditHome.make()
        let id = try a.eventID(type: "issue", 1)
        try a.sql("UPDATE events SET payload = replace(payload, 'tls-server', 'tls-client') WHERE id = \(id)")
        #expect(try a.sql("SELECT payload FROM events WHERE id = \(id)").contains("tls-client"))
        try expectVerifyFails(a, entry: id - 1, mentions: ["entry \(id - 1) was altered"])
    }

    @Test("one event's leaf hash changed (payload intact): the entry is named")
    func leafHashChanged() throws {
        let a = try AuditHome.make()
        let id = try a.eventID(type: "refuse", 0)
        try a.sql("UPDATE events SET leaf_hash = zeroblob(32) WHERE id = \(id)")
        try expectVerifyFails(a, entry: id - 1, mentions: ["entry \(id - 1) was altered"])
    }

    /// offset: the rewritten entry, counted from the first checkpoint's size. 2 is the last entry
    /// before checkpoint 2 (the range cp1..cp2-1 fails); 3 is the first entry after it (pinned exactly).
    @Test("a payload, its leaf hash and its tree node rewritten consistently: the signed checkpoint catches it",
          arguments: [2, 3])
    func consistentRewrite(offset: Int) throws {
        let a = try AuditHome.make()
        let index = a.checkpointSizes[0] + offset
        let script = #"""
        import hashlib, sqlite3, sys
        db, row = sys.argv[1], int(sys.argv[2])
        c = sqlite3.connect(db)
        p = c.execute("SELECT payload FROM events WHERE id = ?", (row,)).fetchone()[0]
        q = p.replace("tls-server", "tls-client")
        assert q != p, p
        leaf = hashlib.sha256(b"\x00" + q.encode("utf-8")).digest()
        c.execute("UPDATE events SET payload = ?, leaf_hash = ? WHERE id = ?", (q, leaf, row))
        n = c.execute("UPDATE audit_nodes SET hash = ? WHERE level = 0 AND idx = ?", (leaf, row - 1)).rowcount
        assert n == 1
        c.commit()
        print(leaf.hex())
        """#
        let r = try python(script, [a.db, String(index + 1)])
        try #require(r.status == 0, "\(r.stderr)")
        // The database is now self-consistent for that entry...
        let stored = try #require(try a.authority.store.auditLeafHash(index: index))
        #expect(Hex.encode(stored) == r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // ...but the signed checkpoint covering it no longer matches.
        let (start, end) = offset < 3 ? (a.checkpointSizes[0], a.checkpointSizes[1]) : (a.checkpointSizes[1], a.checkpointSizes[2])
        #expect(start <= index && index < end)
        try expectVerifyFails(a, entry: start, mentions: ["somewhere in \(start)..\(end - 1)", "checkpoint at size \(end)",
                                                          "entries before \(start) verify"])
    }

    @Test("one event deleted in the middle: the missing entry is named")
    func deletedInTheMiddle() throws {
        let a = try AuditHome.make()
        let id = try a.eventID(type: "issue", 2)
        try a.sql("DELETE FROM events WHERE id = \(id)")
        try expectVerifyFails(a, entry: id - 1, mentions: ["entry \(id - 1) is missing"])
    }

    @Test("one well-formed event appended at the end, with its leaf and node: reported as the unsigned tail, a failure with --strict")
    func insertedAtTheEnd() throws {
        let a = try AuditHome.make()
        let size = a.size
        let last = try #require(try a.authority.auditLog.events().last)
        let forged = last.payload.replacingOccurrences(of: "\"index\":\(size - 1)", with: "\"index\":\(size)")
        #expect(forged != last.payload)
        let leaf = Hex.encode(ReferenceMTH.leaf(Array(forged.utf8)))
        let quoted = forged.replacingOccurrences(of: "'", with: "''")
        try a.sql("""
            INSERT INTO events(id, time, type, ca, serial, profile, payload, leaf_hash)
              VALUES (\(size + 1), strftime('%s','now'), 'issue', 'issuing', NULL, 'tls-server', '\(quoted)', X'\(leaf)');
            INSERT INTO audit_nodes(level, idx, hash) VALUES (0, \(size), X'\(leaf)');
            """)
        #expect(try a.authority.auditLog.size == size + 1)
        // Indistinguishable from an entry whose command was killed before its checkpoint: a
        // warning naming the range, and the JSON report's unsignedTail.
        let plain = try a.verify()
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stderr.contains("warning: entries \(size)..\(size) are not yet covered by a signed checkpoint"), "\(plain.stderr)")
        let (_, json) = try a.verifyJSON()
        #expect(json["unsignedTail"] as? [String: Int] == ["from": size, "to": size], "\(json)")
        try expectVerifyFails(a, entry: size, mentions: ["\(size)..\(size)", "not covered by any signed checkpoint"], extra: ["--strict"])
    }

    @Test("two events' payloads and leaf hashes swapped: the first of them is named")
    func swapped() throws {
        let a = try AuditHome.make()
        let x = try a.eventID(type: "issue", 0), y = try a.eventID(type: "issue", 1)
        try a.sql("""
            CREATE TEMP TABLE saved AS SELECT id, payload, leaf_hash FROM events WHERE id IN (\(x), \(y));
            UPDATE events SET payload = (SELECT payload FROM saved WHERE saved.id = \(x + y) - events.id),
                              leaf_hash = (SELECT leaf_hash FROM saved WHERE saved.id = \(x + y) - events.id)
              WHERE id IN (\(x), \(y));
            """)
        #expect(try a.sql("SELECT payload FROM events WHERE id = \(x)").contains("\"index\":\(y - 1)"))
        try expectVerifyFails(a, entry: x - 1, mentions: ["entry \(x - 1) was altered or moved"])
    }

    @Test("the last three events deleted: truncation below the newest checkpoint is named")
    func truncatedTail() throws {
        let a = try AuditHome.make()
        try a.sql("DELETE FROM events WHERE id > \(a.size - 3)")
        try expectVerifyFails(a, entry: a.size - 3, mentions: ["truncated", "\(a.size - 3)..\(a.size - 1)"])
    }

    @Test("a checkpoint re-signed by another Ed25519 key is refused")
    func checkpointSignedByAnotherKey() throws {
        let a = try AuditHome.make()
        let size = a.checkpointSizes[1]
        let original = String(try a.sql("SELECT note FROM checkpoints WHERE size = \(size)").dropLast())   // sqlite3 adds a newline
        let body = try SignedNote(parsing: original).text
        let other = try PrivateKey.generate(.ed25519)
        let raw = try #require(try other.publicKey.ed25519Raw)
        let origin = a.authority.home.config.auditOrigin
        let forged = try SignedNote.sign(text: body, name: origin, signer: try Signer(key: other), publicKey: raw)
        #expect(try SignedNote(parsing: forged).isSigned(name: origin, publicKey: raw))
        try a.sql("UPDATE checkpoints SET note = '\(forged.replacingOccurrences(of: "'", with: "''"))' WHERE size = \(size)")
        #expect(try a.sql("SELECT note FROM checkpoints WHERE size = \(size)").hasPrefix(forged))
        try expectVerifyFails(a, entry: nil, mentions: ["checkpoint at size \(size)", "signature does not verify"])
    }

    @Test("the newest checkpoint row deleted: the checkpoint the home published is missing from the database")
    func lastCheckpointDeleted() throws {
        let a = try AuditHome.make()
        try a.sql("DELETE FROM checkpoints WHERE id = (SELECT MAX(id) FROM checkpoints)")
        try expectVerifyFails(a, entry: nil, mentions: ["published", "size \(a.size)", "not among the database's checkpoints"])
        // Without the published file, the entries it covered are named as uncovered (--strict).
        try FileManager.default.removeItem(atPath: a.checkpointFile)
        let from = a.checkpointSizes[1]
        try expectVerifyFails(a, entry: from, mentions: ["\(from)..\(a.size - 1)", "not covered by any signed checkpoint"], extra: ["--strict"])
    }

    @Test("the database emptied (every event and checkpoint deleted): the published checkpoint names the loss")
    func databaseEmptied() throws {
        let a = try AuditHome.make()
        try a.sql("DELETE FROM events; DELETE FROM checkpoints; DELETE FROM audit_nodes;")
        try expectVerifyFails(a, entry: 0, mentions: ["kept checkpoint covers \(a.size)", "truncated"])
    }

    /// Truncates the log to the second checkpoint as an attacker would: the events, the
    /// checkpoints above it and the tree nodes they needed, and the published checkpoint.
    func truncateToSecondCheckpoint(_ a: AuditHome) throws {
        let keep = a.checkpointSizes[1]
        try a.sql("""
            DELETE FROM events WHERE id > \(keep);
            DELETE FROM checkpoints WHERE size > \(keep);
            DELETE FROM audit_nodes WHERE ((idx + 1) << level) > \(keep);
            """)
        let note = try a.sql("SELECT note FROM checkpoints WHERE size = \(keep)")
        try String(note.dropLast()).write(toFile: a.checkpointFile, atomically: true, encoding: .utf8)
    }

    /// A copy of the newest published checkpoint, as an auditor keeps it.
    func keepCheckpoint(_ a: AuditHome, _ name: String = "kept-checkpoint") throws -> String {
        let path = try TestSupport.temporaryDirectory("etrust-auditor") + "/" + name
        try FileManager.default.copyItem(atPath: a.checkpointFile, toPath: path)
        return path
    }

    @Test("truncated history with the checkpoints rewritten to match: only --against the kept checkpoint catches it")
    func truncatedAndCheckpointsRewritten() throws {
        let a = try AuditHome.make()
        let kept = try keepCheckpoint(a)
        #expect(try Checkpoint(body: SignedNote(parsing: String(contentsOfFile: kept, encoding: .utf8)).text).size == a.size)
        let older = try TestSupport.temporaryDirectory("etrust-auditor") + "/older"
        try a.sql("SELECT note FROM checkpoints WHERE size = \(a.checkpointSizes[0])").dropLast()
            .write(toFile: older, atomically: true, encoding: .utf8)
        // Before: the log extends the kept checkpoint.
        #expect(try a.verify(["--against", kept]).status == 0)

        try truncateToSecondCheckpoint(a)
        // The truncated log is self-consistent: plain verification cannot see what is gone.
        let plain = try a.verify()
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("\(a.checkpointSizes[1]) entries, 2 signed checkpoint(s)"), "\(plain.stdout)")
        // The auditor's kept checkpoint names the truncation.
        try expectVerifyFails(a, entry: a.checkpointSizes[1], mentions: ["truncated", "covers \(a.size)"], extra: ["--against", kept])
        // A kept checkpoint the log still extends passes.
        #expect(try a.verify(["--against", older]).status == 0)
    }

    @Test("history rewritten after a truncation and re-signed with the real key: --against the kept checkpoint catches it")
    func rewrittenAndResigned() throws {
        let a = try AuditHome.make()
        let kept = try keepCheckpoint(a)
        try truncateToSecondCheckpoint(a)
        // The attacker (who holds the audit key) writes another history, longer than the kept one.
        let authority = try a.reopen()
        for i in 1...4 { _ = try authority.issue(try AuditHome.request("other\(i).example.tg"), ca: "issuing") }
        let resigned = try #require(try authority.checkpoint())
        #expect(resigned.size == a.checkpointSizes[1] + 4)
        #expect(resigned.size > a.size)
        let plain = try a.verify()
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        try expectVerifyFails(a, entry: nil, mentions: ["does not extend the kept checkpoint at size \(a.size)", "rewritten"],
                              extra: ["--against", kept])
    }

    @Test("every checkpoint re-signed with a new key and the published verifier key replaced: the kept key or checkpoint catches it")
    func newKeyEverywhere() throws {
        let a = try AuditHome.make()
        let keptKey = try TestSupport.temporaryDirectory("etrust-auditor") + "/audit.vkey"
        try FileManager.default.copyItem(atPath: a.vkeyFile, toPath: keptKey)
        let kept = try keepCheckpoint(a)
        // Rewrite entry 0's payload consistently (leaf, node, every checkpoint) under a new key.
        let origin = a.authority.home.config.auditOrigin
        let (signer, raw) = try ed25519KeyWithoutPlus()
        let events = try a.authority.auditLog.events()
        var leaves = events.map { ReferenceMTH.leaf(Array($0.payload.utf8)) }
        let altered = events[0].payload.replacingOccurrences(of: "\"action\":\"loaded\"", with: "\"action\":\"LOADED\"")
        #expect(altered != events[0].payload)
        leaves[0] = ReferenceMTH.leaf(Array(altered.utf8))
        var statements = "UPDATE events SET payload = '\(altered)', leaf_hash = X'\(Hex.encode(leaves[0]))' WHERE id = 1;\n"
        statements += "UPDATE audit_nodes SET hash = X'\(Hex.encode(leaves[0]))' WHERE level = 0 AND idx = 0;\n"
        for size in a.checkpointSizes {
            let body = Checkpoint(origin: origin, size: size, root: ReferenceMTH.root(leaves[..<size])).body
            let note = try SignedNote.sign(text: body, name: origin, signer: signer, publicKey: raw)
            statements += "UPDATE checkpoints SET note = '\(note)' WHERE size = \(size);\n"
        }
        try a.sql(statements)
        try (SignedNote.verifierKey(name: origin, publicKey: raw) + "\n").write(toFile: a.vkeyFile, atomically: true, encoding: .utf8)

        // Pinning the key the auditor kept: the first checkpoint's signature fails.
        try expectVerifyFails(a, entry: nil, mentions: ["signature does not verify"], extra: ["--key", keptKey])
        // Pinning the kept checkpoint: it is not signed by the (new) key the home now publishes.
        let r = try a.verify(["--against", kept])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect((r.stdout + r.stderr).contains("not signed by this log's key"), "\(r.stdout)\(r.stderr)")
        // With both the kept key and checkpoint, nothing the attacker wrote is trusted.
        let both = try a.verify(["--key", keptKey, "--against", kept])
        #expect(both.status == 1, "\(both.stdout)\(both.stderr)")
    }

    @Test("an entry rewritten and every checkpoint re-signed with the real audit key: --against a kept checkpoint of the same size catches it")
    func rewrittenSameSizeResigned() throws {
        let a = try AuditHome.make()
        let kept = try keepCheckpoint(a)
        let id = try a.eventID(type: "issue", 3)
        let r = try python(pythonFullRewrite, [a.db, String(id)])
        try #require(r.status == 0, "\(r.stderr)")
        // The attacker holds the audit key and re-signs every checkpoint over the new roots.
        let key = try PrivateKey.load(fromFile: a.home + "/keys/audit.key.pem", passphrase: Array("test-passphrase".utf8))
        let raw = try #require(try key.publicKey.ed25519Raw)
        let signer = try Signer(key: key)
        let origin = a.authority.home.config.auditOrigin
        var statements = ""
        for line in r.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            let size = try #require(Int(parts[0])), root = try #require(Hex.decode(String(parts[1])))
            let note = try SignedNote.sign(text: Checkpoint(origin: origin, size: size, root: root).body, name: origin,
                                           signer: signer, publicKey: raw)
            statements += "UPDATE checkpoints SET note = '\(note)' WHERE size = \(size);\n"
        }
        try a.sql(statements)
        // The checkpoint the home published still holds the old root.
        try expectVerifyFails(a, entry: nil, mentions: ["does not extend the kept checkpoint at size \(a.size)", "rewritten"])
        // The attacker publishes the re-signed newest checkpoint too: only the auditor's copy catches it.
        let resigned = try a.sql("SELECT note FROM checkpoints WHERE size = \(a.size)").dropLast()
        try String(resigned).write(toFile: a.checkpointFile, atomically: true, encoding: .utf8)
        let plain = try a.verify()
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        try expectVerifyFails(a, entry: nil, mentions: ["does not extend the kept checkpoint at size \(a.size)", "rewritten"],
                              extra: ["--against", kept])
    }
}

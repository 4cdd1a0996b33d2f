import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

func decode64(_ value: Any?) throws -> [UInt8] {
    let s = try #require(value as? String, "not a string: \(String(describing: value))")
    return try #require(Data(base64Encoded: s).map { [UInt8]($0) }, "not base64: \(s)")
}

@Suite("audit prove, consistency, log and report")
struct CommandTests {
    @Test("audit prove --serial: verified, and the proof checks out independently against the signed checkpoint")
    func prove() throws {
        let a = try AuditHome.make()
        let vkey = try SignedNote.parseVerifierKey(try String(contentsOfFile: a.vkeyFile, encoding: .utf8))
        let events = try a.authority.auditLog.events()
        let hasher = MerkleHasher()
        for serial in [a.serials[0], a.serials[4]] {
            let r = try TestSupport.etrust(["audit", "prove", "--home", a.home, "--serial", serial, "--json"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let json = try #require(r.json, "\(r.stdout)")
            #expect(json["verified"] as? Bool == true)
            let index = try #require(json["leafIndex"] as? Int)
            let size = try #require(json["treeSize"] as? Int)
            #expect(size == a.size)
            let expected = try #require(events.first { $0.type == "issue" && $0.serialHex == serial })
            #expect(index == expected.index)
            let entry = try #require(json["entry"] as? String)
            #expect(entry == expected.payload)
            #expect(entry.contains("\"serial\":\"\(serial)\"") && entry.contains("\"type\":\"issue\""))

            // Independent check: the leaf from the entry text, the root from the signed note.
            let leaf = try decode64(json["leafHash"])
            #expect(leaf == ReferenceMTH.leaf(Array(entry.utf8)))
            let proof = try (try #require(json["proof"] as? [Any])).map(decode64)
            let root = try decode64(json["rootHash"])
            let note = try SignedNote(parsing: try #require(json["checkpoint"] as? String))
            #expect(try note.isSigned(name: vkey.name, publicKey: vkey.publicKey))
            let checkpoint = try Checkpoint(body: note.text)
            #expect(checkpoint.root == root)
            #expect(checkpoint.size == size)
            #expect(MerkleProofs.verifyInclusion(hasher: hasher, index: index, size: size, leafHash: leaf, proof: proof, root: root))
            // ...and the same proof does not prove another entry.
            let other = ReferenceMTH.leaf(Array(events[index - 1].payload.utf8))
            #expect(!MerkleProofs.verifyInclusion(hasher: hasher, index: index, size: size, leafHash: other, proof: proof, root: root))
        }
        // An upper-case serial finds the same entry; an unknown one is refused.
        let upper = try TestSupport.etrust(["audit", "prove", "--home", a.home, "--serial", a.serials[1].uppercased(), "--json"])
        #expect(upper.json?["verified"] as? Bool == true)
        #expect(upper.json?["leafIndex"] as? Int == events.first { $0.serialHex == a.serials[1] }?.index)
        let unknown = try TestSupport.etrust(["audit", "prove", "--home", a.home, "--serial", "7fffffffffffffffffffffffffffff01"])
        #expect(unknown.status == 1, "\(unknown.stdout)\(unknown.stderr)")
    }

    @Test("audit prove after the database was rewritten to agree with itself: not verified against the signed checkpoint")
    func proveAfterRewrite() throws {
        let a = try AuditHome.make()
        let serial = a.serials[3]
        let id = try #require(try a.authority.auditLog.events().first { $0.type == "issue" && $0.serialHex == serial }?.index) + 1
        let signedRoot = try Checkpoint(body: SignedNote(parsing: String(contentsOfFile: a.checkpointFile, encoding: .utf8)).text).root
        let r = try python(pythonFullRewrite, [a.db, String(id)])
        try #require(r.status == 0, "\(r.stderr)")
        // The stored tree and the checkpoints' root column now agree with the rewritten entry...
        let storedRoot = try #require(try a.authority.auditLog.checkpoints().last?.root)
        #expect(storedRoot != signedRoot)
        #expect(try a.authority.auditLog.root(size: a.size) == storedRoot)
        // ...but not with the signed notes: audit verify sees it,
        try expectVerifyFails(a, entry: a.checkpointSizes[1], mentions: ["somewhere in \(a.checkpointSizes[1])..\(a.size - 1)"])
        // and so must audit prove: its proof is only worth something against the signed root.
        let prove = try TestSupport.etrust(["audit", "prove", "--home", a.home, "--serial", serial, "--json"])
        let json = prove.json
        #expect(prove.status != 0, "audit prove exits \(prove.status) with \(prove.stdout)")
        #expect(json?["verified"] as? Bool != true, "audit prove says verified, against rootHash \(json?["rootHash"] ?? "-") while the signed checkpoint's root is \(b64(signedRoot))")
    }

    @Test("audit consistency --from --to: verified, and the proof checks out independently between two signed checkpoints")
    func consistency() throws {
        let a = try AuditHome.make()
        let stored = try a.authority.auditLog.checkpoints()
        let hasher = MerkleHasher()
        for (from, to) in [(a.checkpointSizes[0], a.checkpointSizes[2]), (a.checkpointSizes[1], a.checkpointSizes[2]),
                           (a.checkpointSizes[0], a.checkpointSizes[1])] {
            let r = try TestSupport.etrust(["audit", "consistency", "--home", a.home, "--from", "\(from)", "--to", "\(to)", "--json"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let json = try #require(r.json, "\(r.stdout)")
            #expect(json["verified"] as? Bool == true)
            #expect(json["from"] as? Int == from && json["to"] as? Int == to)
            let r1 = try decode64(json["rootFrom"]), r2 = try decode64(json["rootTo"])
            // The roots are the ones the signed checkpoints carry.
            #expect(r1 == stored.first { $0.size == from }?.root)
            #expect(r2 == stored.first { $0.size == to }?.root)
            let proof = try (try #require(json["proof"] as? [Any])).map(decode64)
            #expect(!proof.isEmpty)
            #expect(MerkleProofs.verifyConsistency(hasher: hasher, from: from, to: to, proof: proof, root1: r1, root2: r2))
            #expect(!MerkleProofs.verifyConsistency(hasher: hasher, from: from, to: to, proof: proof, root1: r2, root2: r1))
        }
        // Sizes outside the log are bad input.
        for (from, to) in [(0, 3), (5, 3), (1, a.size + 1)] {
            let r = try TestSupport.etrust(["audit", "consistency", "--home", a.home, "--from", "\(from)", "--to", "\(to)"])
            #expect(r.status == 2, "--from \(from) --to \(to): exit \(r.status) \(r.stdout)\(r.stderr)")
        }
    }

    @Test("audit log --json prints one JSON value on one line, {count, events}; --event issue selects exactly the issuances")
    func log() throws {
        let a = try AuditHome.make()
        let all = try TestSupport.etrust(["audit", "log", "--home", a.home, "--json"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.split(separator: "\n").count == 1)
        let allEvents = TestSupport.auditEvents(all.stdout)
        #expect(allEvents.count == a.size)
        #expect(all.json?["count"] as? Int == a.size)
        for (i, o) in allEvents.enumerated() {
            #expect(o["index"] as? Int == i)
        }
        let r = try TestSupport.etrust(["audit", "log", "--home", a.home, "--json", "--event", "issue"])
        #expect(r.status == 0, "\(r.stderr)")
        let events = TestSupport.auditEvents(r.stdout)
        #expect(events.count == 5)
        var serials: [String] = []
        for o in events {
            #expect(o["type"] as? String == "issue")
            #expect(o["index"] is Int)
            if let s = o["serial"] as? String { serials.append(s) }
        }
        #expect(serials == a.serials)
        // By serial: exactly that issuance.
        let one = try TestSupport.etrust(["audit", "log", "--home", a.home, "--json", "--serial", a.serials[2]])
        #expect(TestSupport.auditEvents(one.stdout).count == 1)
        #expect(one.stdout.contains("\"serial\":\"\(a.serials[2])\""))
    }

    @Test("audit log without --json: a header, then one readable line per event (time, type, CA, serial, subject or rule)")
    func logText() throws {
        let a = try AuditHome.make()
        let r = try TestSupport.etrust(["audit", "log", "--home", a.home])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == a.size + 1, "\(r.stdout)")
        #expect(lines.first?.hasPrefix("index") == true)
        for line in lines.dropFirst() {
            #expect(!line.contains("{"), "a raw payload in the text output: \(line)")
        }
        let events = try a.authority.auditLog.events()
        for (e, line) in zip(events, lines.dropFirst()) {
            #expect(line.hasPrefix("\(e.index!) ") && line.contains(RFC3339.format(e.time)) && line.contains(" \(e.type) "), "\(line)")
        }
        for serial in a.serials {
            let issue = lines.filter { $0.contains(serial) && $0.contains(" issue ") }
            #expect(issue.count == 1 && issue[0].contains("CN="), "\(issue)")
        }
        let refusal = lines.filter { $0.contains(" refuse ") }
        #expect(refusal.count == 1 && refusal[0].contains("rule san.presence"), "\(refusal)")
    }

    @Test("audit report --json counts the events, the refusals by rule, and says the log verifies; a tampered log does not")
    func report() throws {
        let a = try AuditHome.make()
        let r = try TestSupport.etrust(["audit", "report", "--home", a.home, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(r.json, "\(r.stdout)")
        #expect(json["verifies"] as? Bool == true)
        let counts = try #require(json["events"] as? [String: Int])
        var expected: [String: Int] = [:]
        for e in try a.authority.auditLog.events() { expected[e.type, default: 0] += 1 }
        #expect(counts == expected)
        #expect(counts["issue"] == 5 && counts["refuse"] == 1 && counts["ca"] == 2)
        #expect((json["refusalsByRule"] as? [String: Int])?["tls-server/san.presence"] == 1, "\(json)")
        var byCA: [String: Int] = [:]
        for e in try a.authority.auditLog.events() { if let ca = e.ca { byCA[ca, default: 0] += 1 } }
        #expect(json["byCA"] as? [String: Int] == byCA)
        #expect(byCA["issuing"] == 3 + 6)   // its key, creation and key ceremony, 5 issuances and a refusal

        let id = try a.eventID(type: "issue", 0)
        try a.sql("UPDATE events SET payload = replace(payload, 'tls-server', 'tls-client') WHERE id = \(id)")
        let after = try #require(try TestSupport.etrust(["audit", "report", "--home", a.home, "--json"]).json)
        #expect(after["verifies"] as? Bool == false)
        #expect((after["verificationFailure"] as? String)?.contains("entry \(id - 1)") == true, "\(after)")
    }

    @Test("the published checkpoint verifies with pyca/cryptography against the published verifier key")
    func publishedCheckpointIndependently() throws {
        let a = try AuditHome.make()
        let vkey = try String(contentsOfFile: a.vkeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let note = try String(contentsOfFile: a.checkpointFile, encoding: .utf8)
        let origin = a.authority.home.config.auditOrigin
        let result = try #require(try pythonVerifyNotes(vkey: vkey, origin: origin, notes: [note]).first)
        #expect(result["originMatches"] as? Bool == true)
        #expect(result["size"] as? String == "\(a.size)")
        #expect(result["root"] as? String == b64(try a.authority.auditLog.root(size: a.size)))
        #expect(result["keyID"] as? String == result["vkeyID"] as? String)
        let sigs = try #require(result["signatures"] as? [[String: Any]])
        #expect(sigs.count == 1)
        #expect(sigs.first?["verifies"] as? Bool == true)
        #expect(sigs.first?["keyID"] as? String == result["keyID"] as? String)
    }

    /// About half of all Ed25519 keys have a '+' in the base64 of their verifier key (the
    /// standard base64 alphabet); such a home must verify like any other.
    @Test("a home whose audit verifier key has a '+' in its base64 verifies, exports and its bundle verifies")
    func verifierKeyWithPlus() throws {
        let a = try AuditHome.make(plusInKey: true)
        let vkey = try AuditHome.verifierKey(a.authority)
        #expect(vkey.split(separator: "+", maxSplits: 2).last?.contains("+") == true, "\(vkey)")
        // The key and the checkpoint are sound: pyca/cryptography verifies the published checkpoint.
        let note = try String(contentsOfFile: a.checkpointFile, encoding: .utf8)
        let py = try #require(try pythonVerifyNotes(vkey: vkey, origin: a.authority.home.config.auditOrigin, notes: [note]).first)
        #expect((py["signatures"] as? [[String: Any]])?.first?["verifies"] as? Bool == true)
        #expect(py["keyID"] as? String == py["vkeyID"] as? String)

        let library = Result { try a.authority.verifyAudit() }
        #expect((try? library.get())?.ok == true, "verifyAudit: \(library)")
        let r = try a.verify()
        #expect(r.status == 0, "etrust audit verify: exit \(r.status) \(r.stdout)\(r.stderr)")
        let bundle = try TestSupport.temporaryDirectory("etrust-bundle") + "/audit.bundle"
        let export = try TestSupport.etrust(["audit", "export", "--home", a.home, "--out", bundle])
        #expect(export.status == 0, "etrust audit export: exit \(export.status) \(export.stderr)")
        if export.status == 0 {
            let b = try verifyBundle(bundle)
            #expect(b.status == 0, "etrust audit verify --bundle: exit \(b.status) \(b.stdout)\(b.stderr)")
        }
    }
}

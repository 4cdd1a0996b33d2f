import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// `etrust audit verify --bundle` run in a fresh empty directory, with no ETRUST_HOME and no
/// passphrase: the bundle alone must be enough.
func verifyBundle(_ bundle: String, _ extra: [String] = [], json: Bool = false) throws -> TestSupport.Result {
    let empty = try TestSupport.temporaryDirectory("etrust-auditor-cwd")
    let r = try TestSupport.run(TestSupport.etrustBinary, ["audit", "verify", "--bundle", bundle] + extra + (json ? ["--json"] : []),
                                currentDirectory: empty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: empty).isEmpty, "the bundle verifier wrote into its directory")
    return r
}

@Suite("Exported audit bundles")
struct BundleTests {
    struct Exported {
        let a: AuditHome
        let bundle: String
        let lines: [String]

        /// Writes a copy of the bundle with its lines transformed; returns its path.
        func variant(_ name: String, _ transform: ([String]) -> [String]) throws -> String {
            let path = (bundle as NSString).deletingLastPathComponent + "/" + name
            try (transform(lines).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Index in `lines` of entry `n`.
        func line(ofEntry n: Int) -> Int { 2 + n }
    }

    func export() throws -> Exported {
        let a = try AuditHome.make()
        let dir = try TestSupport.temporaryDirectory("etrust-bundle")
        let bundle = dir + "/audit.bundle"
        let r = try TestSupport.etrust(["audit", "export", "--home", a.home, "--out", bundle, "--json"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.json?["entries"] as? Int == a.size)
        let text = try String(contentsOfFile: bundle, encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        #expect(lines.last == "")
        lines.removeLast()
        return Exported(a: a, bundle: bundle, lines: lines)
    }

    @Test("the bundle holds the verifier key, every entry in order and every checkpoint")
    func bundleFormat() throws {
        let e = try export()
        #expect(e.lines.first == AuditBundle.magic)
        let vkey = try String(contentsOfFile: e.a.vkeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(e.lines[1] == "vkey \(vkey)")
        let payloads = try e.a.authority.auditLog.events().map(\.payload)
        #expect(Array(e.lines[2..<(2 + payloads.count)]) == payloads.map { "entry \($0)" })
        let notes = e.lines.filter { $0.hasPrefix("checkpoint ") }.map {
            String(decoding: Data(base64Encoded: String($0.dropFirst(11))) ?? Data(), as: UTF8.self)
        }
        #expect(notes == (try e.a.authority.auditLog.checkpoints().map(\.note)))
        #expect(e.lines.count == 2 + payloads.count + 3)
    }

    @Test("a bundle verifies in an empty directory with no home, with the right counts")
    func verifiesWithoutHome() throws {
        let e = try export()
        let text = try verifyBundle(e.bundle)
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("audit log verifies: \(e.a.size) entries, 3 signed checkpoint(s)"), "\(text.stdout)")
        let r = try verifyBundle(e.bundle, json: true)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let json = try #require(r.json, "\(r.stdout)")
        #expect(json["valid"] as? Bool == true)
        #expect(json["entries"] as? Int == e.a.size)
        #expect(json["checkpoints"] as? Int == 3)
        #expect(json["treeSize"] as? Int == e.a.size)
        #expect(json["rootHash"] as? String == b64(try e.a.authority.auditLog.root(size: e.a.size)))
        // And through the library, directly.
        #expect(try AuditBundle.verify(path: e.bundle).ok)
    }

    @Test("a bundle with its checkpoints removed and an entry forged never verifies")
    func checkpointsRemoved() throws {
        let e = try export()
        let stripped = try e.variant("no-checkpoints") { lines in
            var l = lines.filter { !$0.hasPrefix("checkpoint ") }
            l[e.line(ofEntry: 3)] = l[e.line(ofEntry: 3)].replacingOccurrences(of: "tls-server", with: "tls-client")
            return l
        }
        let r = try verifyBundle(stripped, json: true)
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.json?["valid"] as? Bool == false)
        #expect((r.json?["reason"] as? String ?? "").contains("entries 0..\(e.a.size - 1) are not covered by any signed checkpoint"), "\(r.stdout)")
        // Even untouched entries without a checkpoint prove nothing.
        let bare = try e.variant("bare") { $0.filter { !$0.hasPrefix("checkpoint ") } }
        #expect(try verifyBundle(bare).status == 1)
    }

    @Test("a duplicated checkpoint, or two at one size with different roots, never verify; 100,001 copies fail fast")
    func duplicatedCheckpoints() throws {
        let e = try export()
        let checkpoint = try #require(e.lines.last { $0.hasPrefix("checkpoint ") })
        let twice = try e.variant("twice") { $0 + [checkpoint] }
        let r = try verifyBundle(twice)
        #expect(r.status == 1 && r.stdout.contains("appears more than once"), "\(r.stdout)\(r.stderr)")
        // A second checkpoint at the newest size over another root (signed by the real key): a fork.
        let key = try PrivateKey.load(fromFile: e.a.home + "/keys/audit.key.pem", passphrase: Array("test-passphrase".utf8))
        let raw = try #require(try key.publicKey.ed25519Raw)
        let origin = e.a.authority.home.config.auditOrigin
        let forkNote = try SignedNote.sign(text: Checkpoint(origin: origin, size: e.a.size, root: [UInt8](repeating: 7, count: 32)).body,
                                           name: origin, signer: try Signer(key: key), publicKey: raw)
        let fork = try e.variant("fork") { $0 + ["checkpoint " + Data(forkNote.utf8).base64EncodedString()] }
        let f = try verifyBundle(fork)
        #expect(f.status == 1 && f.stdout.contains("different roots") && f.stdout.contains("forked"), "\(f.stdout)\(f.stderr)")
        // Padding a bundle with copies costs no signature check per copy.
        let padded = try e.variant("padded") { $0 + Array(repeating: checkpoint, count: 100_000) }
        let report = try AuditBundle.verify(path: padded)
        #expect(!report.ok && report.failure?.message.contains("appears more than once") == true)
    }

    @Test("an edited entry line fails, naming the entry (exactly when it opens a checkpoint range)")
    func editedEntry() throws {
        let e = try export()
        let cp = e.a.checkpointSizes
        // The first entry after checkpoint 2 (the refusal): pinned exactly.
        let first = try e.variant("edited-first") { lines in
            var l = lines
            l[e.line(ofEntry: cp[1])] = l[e.line(ofEntry: cp[1])].replacingOccurrences(of: "tls-server", with: "tls-client")
            return l
        }
        #expect(try String(contentsOfFile: first, encoding: .utf8) != String(contentsOfFile: e.bundle, encoding: .utf8))
        let r1 = try verifyBundle(first)
        #expect(r1.status == 1, "\(r1.stdout)\(r1.stderr)")
        #expect(r1.stdout.contains("entries before \(cp[1]) verify"), "\(r1.stdout)")
        let j1 = try #require(try verifyBundle(first, json: true).json)
        #expect(j1["valid"] as? Bool == false)
        #expect(j1["firstFailingEntry"] as? Int == cp[1])

        // An entry in the middle of a range: the range that holds it is named.
        let middle = cp[1] + 1
        let second = try e.variant("edited-middle") { lines in
            var l = lines
            l[e.line(ofEntry: middle)] = l[e.line(ofEntry: middle)].replacingOccurrences(of: "tls-server", with: "tls-client")
            return l
        }
        let r2 = try verifyBundle(second)
        #expect(r2.status == 1, "\(r2.stdout)\(r2.stderr)")
        #expect(r2.stdout.contains("somewhere in \(cp[1])..\(cp[2] - 1)"), "\(r2.stdout)")

        // An entry moved (two lines swapped): the first is named by its stated position.
        let swapped = try e.variant("swapped") { lines in
            var l = lines
            l.swapAt(e.line(ofEntry: 3), e.line(ofEntry: 4))
            return l
        }
        let j3 = try #require(try verifyBundle(swapped, json: true).json)
        #expect(j3["valid"] as? Bool == false)
        #expect(j3["firstFailingEntry"] as? Int == 3)
        #expect((j3["reason"] as? String)?.contains("entry 3 was altered or moved") == true, "\(j3)")

        // An entry line deleted: the missing position is named.
        let deleted = try e.variant("deleted") { lines in
            var l = lines
            l.remove(at: e.line(ofEntry: 5))
            return l
        }
        let j4 = try #require(try verifyBundle(deleted, json: true).json)
        #expect(j4["valid"] as? Bool == false)
        #expect(j4["firstFailingEntry"] as? Int == 5)
    }

    @Test("--against a kept checkpoint works on bundles: it passes on the full bundle and catches a truncated one")
    func againstOnBundles() throws {
        let e = try export()
        let kept = try TestSupport.temporaryDirectory("etrust-auditor") + "/kept-checkpoint"
        try FileManager.default.copyItem(atPath: e.a.checkpointFile, toPath: kept)
        let ok = try verifyBundle(e.bundle, ["--against", kept])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")

        // The last three entries and the newest checkpoint dropped: self-consistent, but shorter than what was kept.
        let keep = e.a.checkpointSizes[1]
        let truncated = try e.variant("truncated") { lines in
            let checkpoints = lines.filter { $0.hasPrefix("checkpoint ") }
            return Array(lines[0..<(2 + keep)]) + checkpoints.dropLast()
        }
        let plain = try verifyBundle(truncated, json: true)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.json?["entries"] as? Int == keep)
        let r = try verifyBundle(truncated, ["--against", kept])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("truncated"), "\(r.stdout)")
        let j = try #require(try verifyBundle(truncated, ["--against", kept], json: true).json)
        #expect(j["firstFailingEntry"] as? Int == keep)
    }

    @Test("--key pins the log's key: a bundle verified against another key fails")
    func pinnedKey() throws {
        let e = try export()
        let kept = try TestSupport.temporaryDirectory("etrust-auditor") + "/audit.vkey"
        try FileManager.default.copyItem(atPath: e.a.vkeyFile, toPath: kept)
        #expect(try verifyBundle(e.bundle, ["--key", kept]).status == 0)
        let (_, otherRaw) = try ed25519KeyWithoutPlus()
        let otherKey = try TestSupport.temporaryDirectory("etrust-auditor") + "/other.vkey"
        try SignedNote.verifierKey(name: e.a.authority.home.config.auditOrigin, publicKey: otherRaw)
            .write(toFile: otherKey, atomically: true, encoding: .utf8)
        let r = try verifyBundle(e.bundle, ["--key", otherKey])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("signature does not verify"), "\(r.stdout)")
    }
}

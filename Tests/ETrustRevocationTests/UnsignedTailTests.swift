import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// A command killed after its commit but before its checkpoint leaves an unsigned tail: committed
/// entries no checkpoint covers yet. `audit verify` tells it from tampering (exit 0 with a warning
/// naming the range; `--strict` exits 1), the next changing command covers it after a `recovered`
/// event, and a batch signs each commit group so that its tail is at most one group.
@Suite("Unsigned tails after interrupted commands")
struct UnsignedTailTests {
    func csr(_ h: TestHome, _ cn: String) throws -> String { try h.csrFile(cn) }

    /// A batch CSV of `n` new CSRs named PREFIX0...; returns its path.
    func batchCSV(_ h: TestHome, _ prefix: String, _ n: Int) throws -> String {
        var csv = "csr\n"
        for i in 0..<n { csv += try csr(h, "\(prefix)\(i)") + "\n" }
        let path = h.work + "/\(prefix).csv"
        try Rev.write(csv, to: path)
        return path
    }

    /// Batches commit (and sign) every two requests.
    func smallGroups(_ h: TestHome) throws {
        let config = h.home + "/etrust.yaml"
        try Rev.write(try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "batchCommitSize: 500", with: "batchCommitSize: 2"),
                      to: config)
    }

    func size(_ h: TestHome) throws -> Int { Int(try h.sql("SELECT COALESCE(MAX(id), 0) FROM events")) ?? -1 }
    func signed(_ h: TestHome) throws -> Int { Int(try h.sql("SELECT COALESCE(MAX(size), 0) FROM checkpoints")) ?? -1 }

    @Test("killed between commit and checkpoint: a warning, not a tamper alarm; --strict fails; the next command recovers")
    func killedBeforeCheckpoint() throws {
        let h = try Rev.home("tail-single")
        let before = try size(h)
        #expect(try signed(h) == before)
        let out = h.work + "/committed.pem"
        let t = try Rev.etrustTermination(["issue", "--ca", "issuing", "--profile", "tls-client", "--csr", try csr(h, "committed"),
                                           "--out", out, "--home", h.home], environment: ["ETRUST_FAULT_INJECTION": "command-before-checkpoint"])
        #expect(t.killedBySIGKILL, "expected SIGKILL, got \(t)")
        // Committed, not yet written out: a certificate leaves the process only after its commit.
        #expect(!FileManager.default.fileExists(atPath: out))
        let after = try size(h), signedAfter = try signed(h)
        #expect(after > before && signedAfter == before)
        // It is in the database, and `show --out` writes it (nothing is issued twice).
        let serial = try h.sql("SELECT serial FROM certificates WHERE subject LIKE '%committed%'")
        #expect(!serial.isEmpty)
        let shown = try h.ok(["show", serial, "--ca", "issuing", "--out", out, "--json"])
        #expect(shown.json?["out"] as? String == out)
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("-----BEGIN CERTIFICATE-----"))

        let plain = try h.etrust(["audit", "verify"])
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stderr.contains("warning: entries \(before)..\(after - 1) are not yet covered by a signed checkpoint"), "\(plain.stderr)")
        let json = try h.etrust(["audit", "verify", "--json"])
        #expect(json.status == 0 && json.json?["valid"] as? Bool == true, "\(json.stdout)")
        #expect(json.json?["unsignedTail"] as? [String: Int] == ["from": before, "to": after - 1], "\(json.stdout)")
        let strict = try h.etrust(["audit", "verify", "--strict"])
        #expect(strict.status == 1 && strict.stdout.contains("\(before)..\(after - 1) are not covered by any signed checkpoint"), "\(strict.stdout)")

        // The next changing command names the interruption and signs over it.
        try h.ok(["crl", "--ca", "issuing"])
        let log = try h.ok(["audit", "log", "--event", "recovered", "--json"])
        let events = TestSupport.auditEvents(log.stdout)
        #expect(events.count == 1, "\(log.stdout)")
        #expect(events.first?["uncoveredFrom"] as? String == String(before) && events.first?["uncoveredTo"] as? String == String(after - 1),
                "\(log.stdout)")
        let clean = try h.etrust(["audit", "verify", "--strict"])
        #expect(clean.status == 0 && !clean.stderr.contains("warning"), "\(clean.stdout)\(clean.stderr)")
        // Recovery happens once: a later command finds nothing to recover.
        try h.ok(["crl", "--ca", "issuing"])
        #expect(TestSupport.auditEvents(try h.ok(["audit", "log", "--event", "recovered", "--json"]).stdout).count == 1)
    }

    @Test("a batch signs a checkpoint after each commit group; killed after a group's commit, its tail is that group")
    func batchGroups() throws {
        let h = try Rev.home("tail-batch")
        try smallGroups(h)
        let six = try batchCSV(h, "group", 6)
        let checkpointsBefore = try h.count("checkpoints")
        try h.ok(["issue", "--ca", "issuing", "--profile", "tls-client", "--batch", six, "--out", h.work + "/six"])
        // Three groups, three checkpoints (the command's own final one has nothing left to cover).
        #expect(try h.count("checkpoints") - checkpointsBefore >= 3)
        #expect(try signed(h) == size(h))

        let four = try batchCSV(h, "killed", 4)
        let before = try size(h)
        let t = try Rev.etrustTermination(["issue", "--ca", "issuing", "--profile", "tls-client", "--batch", four,
                                           "--out", h.work + "/four", "--home", h.home],
                                          environment: ["ETRUST_FAULT_INJECTION": "batch-after-group-commit"])
        #expect(t.killedBySIGKILL, "expected SIGKILL, got \(t)")
        #expect(try h.count("certificates", where: "subject LIKE '%killed0%' OR subject LIKE '%killed1%'") == 2)
        let total = try size(h), covered = try signed(h)
        let tail = total - covered
        #expect(tail > 0 && tail <= 2 + 1, "the unsigned tail is one group's events (two issue events), found \(tail)")
        #expect(covered >= before)
        #expect(try h.etrust(["audit", "verify"]).status == 0)
    }

    @Test("writing --out fails after the commit: exit 3 naming the serial (stderr and JSON); show --out gets it")
    func outFailsAfterCommit() throws {
        let h = try Rev.home("tail-out-fails")
        let out = h.work + "/unwritten.pem"
        let r = try h.etrust(["issue", "--ca", "issuing", "--profile", "tls-client", "--csr", try csr(h, "unwritten"), "--out", out, "--json"],
                             environment: ["ETRUST_FAULT_INJECTION": "issue-write-out"])
        #expect(r.status == 3, "\(r.status) \(r.stderr)")
        let serial = try h.sql("SELECT serial FROM certificates WHERE subject LIKE '%unwritten%'")
        #expect(!serial.isEmpty)
        #expect(r.json?["serial"] as? String == serial, "\(r.stdout)")
        #expect(r.stderr.contains("certificate \(serial) was issued and recorded") && r.stderr.contains("do not issue again"), "\(r.stderr)")
        #expect(r.stderr.contains("etrust show \(serial) --ca issuing --out FILE"), "\(r.stderr)")
        #expect(E2ELines.count(r.stderr) == 1, "\(r.stderr)")
        try h.ok(["show", serial, "--ca", "issuing", "--out", out])
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try h.ok(["audit", "verify", "--strict"]).status == 0)
    }

    @Test("a batch killed after a group's commit: --resume writes the committed certificates' files and issues only the rest")
    func batchResume() throws {
        let h = try Rev.home("tail-resume")
        try smallGroups(h)
        let csvPath = try batchCSV(h, "resumed", 4), outDir = h.work + "/four"
        let args = ["issue", "--ca", "issuing", "--profile", "tls-client", "--batch", csvPath, "--out", outDir]
        let t = try Rev.etrustTermination(args + ["--home", h.home], environment: ["ETRUST_FAULT_INJECTION": "batch-after-group-commit"])
        #expect(t.killedBySIGKILL, "expected SIGKILL, got \(t)")
        let files = { ((try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? []).filter { $0.hasSuffix(".pem") } }
        #expect(files().isEmpty)
        #expect(try h.count("certificates", where: "subject LIKE '%resumed%'") == 2)

        let r = try h.ok(args + ["--resume", "--json"])
        #expect(r.json?["resumed"] as? Int == 2 && r.json?["issued"] as? Int == 2, "\(r.stdout)")
        #expect(try h.count("certificates", where: "subject LIKE '%resumed%'") == 4, "a committed row was issued twice")
        #expect(files().count == 4)
        // Idempotent: once more, nothing new.
        let again = try h.ok(args + ["--resume", "--json"])
        #expect(again.json?["resumed"] as? Int == 4 && again.json?["issued"] as? Int == 0, "\(again.stdout)")
        #expect(try h.count("certificates", where: "subject LIKE '%resumed%'") == 4)
        #expect(try h.ok(["audit", "verify", "--strict"]).status == 0)
        // --resume cannot bring back keys that lived only in a killed process.
        let refused = try h.etrust(args + ["--resume", "--generate-key"])
        #expect(refused.status == 2 && refused.stderr.contains("--generate-key"), "\(refused.stderr)")
    }
}

/// Lines of a command's stderr.
enum E2ELines {
    static func count(_ text: String) -> Int { text.split(separator: "\n", omittingEmptySubsequences: true).count }
}

/// Issue 15, defect 3: a deleted database was silently recreated empty, and `audit verify` then
/// passed. Only `etrust init` creates a database.
@Suite("A missing database is never recreated")
struct MissingDatabaseTests {
    @Test("after rm etrust.db*, every command exits 3 naming the missing database and creates nothing",
          arguments: [["list"], ["audit", "verify"], ["show", "01"], ["crl", "--ca", "issuing"], ["backup", "--out", "/tmp/never-written.backup"]])
    func missing(arguments: [String]) throws {
        let h = try Rev.home("missing-db")
        for file in try FileManager.default.contentsOfDirectory(atPath: h.home) where file.hasPrefix("etrust.db") {
            try FileManager.default.removeItem(atPath: h.home + "/" + file)
        }
        let r = try h.etrust(arguments)
        #expect(r.status == 3, "\(arguments): \(r.status) \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("the database of this home is missing") && r.stderr.contains("restore"), "\(r.stderr)")
        #expect(E2ELines.count(r.stderr) == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: h.home + "/etrust.db"), "\(arguments) recreated the database")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.backup"))
    }
}

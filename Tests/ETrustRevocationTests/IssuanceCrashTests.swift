import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// Issuance is recorded before it is signed (an intent: serial and to-be-signed certificate),
/// so that a process killed between recording and completing leaves a trace that the next
/// command closes: completed if the certificate was recorded, otherwise abandoned and logged.
/// A completed intent is deleted in the transaction that records its certificate.
/// The kill comes from the test builds' fault-injection points.
@Suite("Issuance intents survive crashes")
struct IssuanceCrashTests {
    func csr(_ h: TestHome, _ cn: String) throws -> String { try h.csrFile(cn) }

    @Test("killed after the intent or after the signature: nothing released, the intent is abandoned and logged, the log verifies",
          arguments: ["issue-after-intent", "issue-after-sign"])
    func single(point: String) throws {
        let h = try Rev.home("intent-\(point)")
        let certificatesBefore = try h.count("certificates")
        let out = h.work + "/crashed.pem"
        let t = try Rev.etrustTermination(["issue", "--ca", "issuing", "--profile", "tls-client", "--csr", try csr(h, "crashed"),
                                           "--out", out, "--home", h.home], environment: ["ETRUST_FAULT_INJECTION": point])
        #expect(t.killedBySIGKILL, "ETRUST_FAULT_INJECTION=\(point): expected SIGKILL, got \(t)")
        #expect(!FileManager.default.fileExists(atPath: out), "a certificate left the process before its record was committed")
        // The intent was committed before signing: serial and TBS are known, nothing else is.
        let pending = try h.sql("SELECT serial || ' ' || length(tbs) FROM issuance_intents WHERE state = 'pending'")
        let parts = pending.split(separator: " ")
        try #require(parts.count == 2, "expected one pending intent, found '\(pending)'")
        let serial = String(parts[0])
        #expect(Int(parts[1]) ?? 0 > 100, "the intent holds no to-be-signed certificate")
        #expect(try h.count("certificates") == certificatesBefore)
        #expect(try h.count("certificates", where: "serial = '\(serial)'") == 0)

        // The next changing command closes it: abandoned, with its own audit event.
        let next = try h.issue(cn: "after-crash")
        #expect(try h.sql("SELECT state FROM issuance_intents WHERE serial = '\(serial)'") == "abandoned")
        #expect(try h.count("issuance_intents", where: "state = 'pending'") == 0)
        let log = try h.ok(["audit", "log", "--serial", serial, "--json"])
        let events = TestSupport.auditEvents(log.stdout)
        #expect(events.count == 1, "\(log.stdout)")
        #expect(events.first?["type"] as? String == "abandon")
        #expect((events.first?["tbsSHA256"] as? String)?.count == 64)
        // A completed intent is gone with the transaction that recorded its certificate; what
        // stays is abandoned, and no abandoned serial has a certificate.
        #expect(try h.count("issuance_intents", where: "serial = '\(next.serial)'") == 0)
        #expect(try h.count("certificates", where: "serial = '\(next.serial)'") == 1)
        #expect(try h.count("issuance_intents", where: "state <> 'abandoned'") == 0)
        #expect(try h.count("issuance_intents i", where: "EXISTS (SELECT 1 FROM certificates c WHERE c.serial = i.serial AND c.ca_id = i.ca_id)") == 0)
        #expect(try h.ok(["audit", "verify"]).status == 0)
    }

    @Test("a batch killed after signing a group: no certificate of the group is recorded or written, every intent is abandoned")
    func batch() throws {
        let h = try Rev.home("intent-batch")
        var csv = "csr\n"
        for i in 0..<5 { csv += try csr(h, "batch\(i)") + "\n" }
        let csvPath = h.work + "/batch.csv"
        try Rev.write(csv, to: csvPath)
        let outDir = h.work + "/issued"
        let t = try Rev.etrustTermination(["issue", "--ca", "issuing", "--profile", "tls-client", "--batch", csvPath, "--out", outDir,
                                           "--home", h.home], environment: ["ETRUST_FAULT_INJECTION": "issue-after-sign"])
        #expect(t.killedBySIGKILL, "expected SIGKILL, got \(t)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: outDir)) ?? []).isEmpty)
        #expect(try h.count("issuance_intents", where: "state = 'pending'") == 5)
        try h.ok(["crl", "--ca", "issuing"])
        #expect(try h.count("issuance_intents", where: "state = 'abandoned'") == 5)
        #expect(try h.count("events", where: "type = 'abandon'") == 5)
        #expect(try h.count("certificates c", where: "EXISTS (SELECT 1 FROM issuance_intents i WHERE i.serial = c.serial AND i.state = 'abandoned')") == 0)
        #expect(try h.ok(["audit", "verify"]).status == 0)
    }

    @Test("a signature that fails: exit 3, nothing recorded, the intent abandoned and logged at once")
    func signingFails() throws {
        let h = try Rev.home("intent-sign-fails")
        let certificatesBefore = try h.count("certificates")
        let out = h.work + "/failed.pem"
        let r = try Rev.etrust(["issue", "--ca", "issuing", "--profile", "tls-client", "--csr", try csr(h, "failed"), "--out", out,
                                "--home", h.home], environment: ["ETRUST_FAULT_INJECTION": "issue-sign-fails"])
        #expect(r.status == 3, "\(r.status) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try h.count("certificates") == certificatesBefore)
        #expect(try h.count("issuance_intents", where: "state = 'pending'") == 0)
        #expect(try h.count("issuance_intents", where: "state = 'abandoned'") == 1)
        #expect(try h.count("events", where: "type = 'abandon'") == 1)
        #expect(try h.ok(["audit", "verify"]).status == 0)
    }
}

import ETrustCA
import ETrustCore
import Foundation
import Testing

@Suite("CRL numbers and crash safety")
struct CRLNumberTests {
    /// `openssl crl -noout -crlnumber`: the number as an independent parser reads it.
    static func opensslNumber(_ path: String) throws -> Int {
        let r = try Rev.openssl(["crl", "-inform", "DER", "-in", path, "-noout", "-crlnumber"])
        try #require(r.status == 0, "openssl crl -crlnumber \(path): \(r.output)")
        // crlNumber=0x1A
        let text = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let hex = try #require(text.split(separator: "=").last.map { $0.replacingOccurrences(of: "0x", with: "") }, "\(text)")
        return try #require(Int(hex, radix: 16), "openssl printed '\(text)'")
    }

    @Test("one strictly increasing sequence per CA across full, delta and shard CRLs")
    func monotonic() throws {
        let h = try Rev.home("numbers")
        var numbers: [Int] = []
        var fullNumbers: [Int] = []
        for round in 0..<2 {
            let leaf = try h.issue(cn: "n\(round)")
            try h.revoke(leaf, reason: "superseded")
            let full = try #require(try h.publish("issuing").first?["number"] as? Int)
            #expect(try CRLNumberTests.opensslNumber(h.crlPath("issuing.crl")) == full)
            #expect(try h.crl("issuing.crl").number == full)
            numbers.append(full)
            fullNumbers.append(full)
            for _ in 0..<2 {
                let row = try #require(try h.publish("issuing", delta: true).first)
                let n = try #require(row["number"] as? Int)
                #expect(row["baseNumber"] as? Int == full, "a delta names the newest full CRL")
                let delta = try h.crl("issuing-delta.crl")
                #expect(delta.number == n)
                #expect(delta.deltaBase == full)
                #expect(try CRLNumberTests.opensslNumber(h.crlPath("issuing-delta.crl")) == n)
                numbers.append(n)
            }
        }
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count, "numbers of issuing: \(numbers)")
        #expect(fullNumbers[1] > fullNumbers[0])

        // The partitioned CA: 16 shards per publication, each with its own number, never reused.
        var shardNumbers: [Int] = []
        for _ in 0..<2 {
            let rows = try h.publish("part")
            #expect(rows.count == 16)
            for row in rows.sorted(by: { ($0["number"] as? Int ?? 0) < ($1["number"] as? Int ?? 0) }) {
                let shard = try #require(row["shard"] as? Int)
                let n = try #require(row["number"] as? Int)
                #expect(try h.crl("part-\(shard).crl").number == n)
                shardNumbers.append(n)
            }
        }
        #expect(shardNumbers.count == 32)
        #expect(shardNumbers == shardNumbers.sorted() && Set(shardNumbers).count == 32, "shard numbers: \(shardNumbers)")
        // Each CA has its own sequence; the root's first CRL is not affected by the others.
        let rootRows = try h.publish("root")
        #expect(rootRows.first?["number"] as? Int == 1)
        // Every publication is an audit event and the log verifies.
        #expect(try h.count("events", where: "type = 'crl'") == numbers.count + 32 + 1)
        try h.ok(["audit", "verify"])
    }

    @Test("a crash after signing or before publishing leaves the published CRL intact and burns its number")
    func crashSafety() throws {
        let h = try Rev.home("crash")
        let first = try h.issue(cn: "before-crash")
        try h.revoke(first, reason: "keyCompromise")
        let initialRow = try #require(try h.publish("issuing").first)
        let initialNumber = try #require(initialRow["number"] as? Int)
        let path = h.crlPath("issuing.crl")
        let good = try Rev.bytes(path)
        var previous = good
        var used: [Int] = [initialNumber]

        let second = try h.issue(cn: "during-crash")
        try h.revoke(second, reason: "superseded")

        for point in ["crl-after-sign", "crl-before-publish"] {
            let t = try Rev.etrustTermination(["crl", "--ca", "issuing", "--home", h.home], environment: ["ETRUST_FAULT_INJECTION": point])
            #expect(t.killedBySIGKILL, "ETRUST_FAULT_INJECTION=\(point): expected SIGKILL, got \(t)")
            let now = try Rev.bytes(path)
            #expect(now == previous, "after a crash at \(point) the published CRL changed (\(now.count) vs \(previous.count) bytes)")
            #expect(try CertificateRevocationList(der: now).number == initialNumber, "a torn or foreign CRL after \(point)")
            // No temporary file is left to be mistaken for a CRL.
            let names = try FileManager.default.contentsOfDirectory(atPath: h.home + "/pub/crl")
            #expect(names.allSatisfy { $0.hasSuffix(".crl") }, "leftovers in pub/crl after \(point): \(names)")
            previous = now
            // The number was committed before signing: it is spent.
            let committed = try #require(Int(try h.sql("SELECT last_number FROM crl_numbers WHERE ca_id = (SELECT id FROM cas WHERE name = 'issuing')")))
            #expect(committed > used.max()!, "after a crash at \(point) the CRL number \(committed) was not committed")
            used.append(committed)
        }
        // Whatever the crashed runs recorded in the crls table counts as used, too.
        let recorded = try h.sql("SELECT number FROM crls WHERE ca_id = (SELECT id FROM cas WHERE name = 'issuing')")
            .split(separator: "\n").compactMap { Int($0) }
        used += recorded

        let finalRow = try #require(try h.publish("issuing").first)
        let finalNumber = try #require(finalRow["number"] as? Int)
        let final = try Rev.bytes(path)
        #expect(final != good)
        #expect(try CRLNumberTests.opensslNumber(path) == finalNumber)
        #expect(finalNumber > used.max()!, "final CRL #\(finalNumber) reuses a number (used: \(used))")
        let parsed = try CertificateRevocationList(der: final)
        #expect(parsed.number == finalNumber)
        #expect(Set(parsed.entries.map(\.serialHex)) == [first.serial, second.serial])
        let verify = try h.etrust(["audit", "verify"])
        #expect(verify.status == 0, "audit verify after the crashes: \(verify.output)")
        let signature = try Rev.openssl(["crl", "-inform", "DER", "-in", path, "-CAfile", h.caPEM("issuing"), "-noout", "-verify"])
        #expect(signature.output.contains("verify OK"), "\(signature.output)")
    }

    @Test("after a crash before publication, a delta CRL still applies to the full CRL relying parties have")
    func deltaAfterCrashBeforePublish() throws {
        let h = try Rev.home("crash-delta")
        let leaf = try h.issue(cn: "revoked-after-crash")
        let publishedNumber = try #require(try h.publish("issuing").first?["number"] as? Int)
        try h.publish("root")
        let t = try Rev.etrustTermination(["crl", "--ca", "issuing", "--home", h.home],
                                          environment: ["ETRUST_FAULT_INJECTION": "crl-before-publish"])
        try #require(t.killedBySIGKILL, "expected SIGKILL: \(t)")
        #expect(try h.crl("issuing.crl").number == publishedNumber, "the crash published nothing")

        // A revocation after the crash, then the next delta (the operator's daily job).
        try h.revoke(leaf, reason: "keyCompromise")
        let r = try h.etrust(["crl", "--ca", "issuing", "--delta", "--json"])
        if r.status == 1 {
            // Refusing (no published full CRL to be the base) is acceptable.
            #expect(r.stderr.lowercased().contains("full"), "\(r.stderr)")
            return
        }
        try #require(r.status == 0, "crl --delta: \(r.status) \(r.stderr)")
        let delta = try h.crl("issuing-delta.crl")
        // RFC 5280 5.2.4: a delta applies to a complete CRL whose number is >= its BaseCRLNumber. The
        // only complete CRL anyone has is the published one.
        #expect(delta.deltaBase == publishedNumber,
                "the delta names base #\(delta.deltaBase ?? -1), but the published full CRL is #\(publishedNumber): the base was never published")
        let crls = try h.pemCopy(of: ["issuing.crl", "root.crl", "issuing-delta.crl"], name: "after-crash")
        let verdict = try h.opensslVerify(leaf, crls: crls, flags: ["-crl_check_all", "-extended_crl", "-use_deltas"])
        #expect(verdict.status != 0 && verdict.output.contains("certificate revoked"),
                "a revocation made after the crash is invisible to a relying party with the published full CRL and the delta: \(verdict.output)")
    }
}

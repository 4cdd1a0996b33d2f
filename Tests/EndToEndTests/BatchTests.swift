import ETrustTestSupport
import Foundation
import Testing

/// `etrust issue --batch`: 20 good rows and 2 bad ones (lines 22 and 23).
@Suite struct BatchTests {
    /// Writes requests/ with 20 citizen-authentication CSRs, one the profile refuses (O=X) and a
    /// CSV that also names a missing file. Returns the CSV path.
    private func makeBatch(in work: String) throws -> String {
        let requests = work + "/requests"
        try FileManager.default.createDirectory(atPath: requests, withIntermediateDirectories: true)
        var csv = "csr,san\n"
        for i in 1...20 {
            _ = try E2E.makeCSR(in: requests, name: "citizen\(i)", subject: "/CN=Citizen \(i)/C=TG")
            // Every other row asks for an e-mail SAN; a quoted field exercises RFC 4180 quoting.
            csv += i % 2 == 0 ? "requests/citizen\(i).csr.pem,\"email:citizen\(i)@example.tg\"\n" : "requests/citizen\(i).csr.pem,\n"
        }
        _ = try E2E.makeCSR(in: requests, name: "organisation", subject: "/CN=Not A Citizen/O=X/C=TG")
        csv += "requests/organisation.csr.pem,\n"   // line 22: O is forbidden by citizen-authentication
        csv += "requests/missing.csr.pem,\n"        // line 23: no such file
        let path = work + "/batch.csv"
        try E2E.write(csv, to: path)
        return path
    }

    private func pemFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".pem") }.sorted()
    }

    @Test func batchIssuesGoodRowsAndNamesBadLines() throws {
        let (home, work) = try E2E.pki("e2e-batch")
        defer { E2E.cleanUp(home) }
        let csv = try makeBatch(in: work)
        let out = work + "/out"
        let before = try E2E.snapshot(home)

        // Run from another folder: CSR paths are relative to the CSV's folder, not the cwd.
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-authentication",
                                "--batch", csv, "--out", out])
        #expect(r.status == 1, "a batch with refused rows exits 1, got \(r.status): \(r.stderr)")
        #expect(r.stdout.contains("issued 20, refused 2"), "summary: \(r.stdout)")

        let problems = E2E.lines(r.stderr)
        #expect(problems.count == 2, "stderr should report exactly the two bad rows: \(r.stderr)")
        let line22 = problems.first { $0.contains("line 22") }
        let line23 = problems.first { $0.contains("line 23") }
        #expect(line22?.contains("O") == true && line22?.contains("forbidden") == true, "line 22: \(line22 ?? "missing")")
        #expect(line22?.contains("subject.attributes.O") == true, "line 22 does not name the rule: \(line22 ?? "missing")")
        #expect(line23?.contains("missing.csr.pem") == true, "line 23: \(line23 ?? "missing")")
        for n in 2...21 { #expect(!r.stderr.contains("line \(n):"), "good line \(n) was reported") }

        // Exactly 20 <serial>.pem files, each a certificate with that serial, chaining to the root.
        let files = try pemFiles(out)
        #expect(files.count == 20, "out has \(files.count) files: \(files)")
        for f in files {
            let path = out + "/" + f
            let serial = try E2E.openssl(["x509", "-in", path, "-noout", "-serial"])
            #expect(serial.status == 0, "\(f) is not a certificate")
            #expect(serial.stdout.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == "serial=" + f.dropLast(4).lowercased())
        }
        if let first = files.first {
            let v = try E2E.openssl(["verify", "-CAfile", home + "/certs/root.pem", "-untrusted", home + "/certs/issuing.pem",
                                     out + "/" + first])
            #expect(v.status == 0, "openssl verify: \(v.stdout) \(v.stderr)")
        }

        // The database: 20 certificates, 20 issue events, one refuse event; the missing file left no trace.
        let after = try E2E.snapshot(home)
        #expect(after.certificates == before.certificates + 20)
        #expect(after.refusals == before.refusals + 1)
        #expect(after.events == before.events + 21)
        let listed = try E2E.etrust(["list", "--home", home, "--json", "--profile", "citizen-authentication"])
        #expect(listed.json?["count"] as? Int == 20)
        let listedSerials = Set((listed.json?["certificates"] as? [[String: Any]] ?? []).compactMap { $0["serial"] as? String })
        #expect(listedSerials == Set(files.map { String($0.dropLast(4)) }))
        // The e-mail SANs of the even rows made it into the records.
        let withSAN = (listed.json?["certificates"] as? [[String: Any]] ?? []).filter { (($0["subjectAltNames"] as? [String]) ?? []).count == 1 }
        #expect(withSAN.count == 10)
    }

    @Test func batchJSONGivesCountsAndPerLineResults() throws {
        let (home, work) = try E2E.pki("e2e-batch-json")
        defer { E2E.cleanUp(home) }
        let csv = try makeBatch(in: work)
        let out = work + "/out"
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-authentication",
                                "--batch", csv, "--out", out, "--json"])
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        let json = try #require(r.json, "batch --json printed no JSON object: \(r.stdout)")
        #expect(json["issued"] as? Int == 20)
        #expect(json["refused"] as? Int == 2)
        let results = try #require(json["results"] as? [[String: Any]], "no results: \(json.keys.sorted())")
        #expect(results.count == 22)
        #expect(results.compactMap { $0["line"] as? Int } == Array(2...23))
        for item in results {
            let line = item["line"] as? Int ?? 0
            if line <= 21 {
                #expect(item["serial"] is String && item["error"] == nil, "line \(line): \(item)")
                if let serial = item["serial"] as? String { #expect(E2E.exists(out + "/\(serial).pem"), "no file for line \(line)") }
            } else {
                #expect(item["serial"] == nil && item["error"] is String, "line \(line): \(item)")
            }
        }
        #expect(results.first { $0["line"] as? Int == 22 }?["rule"] as? String == "subject.attributes.O")
        #expect(try pemFiles(out).count == 20)
    }
}

import ETrustTestSupport
import Foundation
import Testing

/// With `--json`, an error is also one JSON object on stdout (the CLI contract): the text, the
/// exit code, the category and, for a policy refusal, the profile and the rule as fields.
@Suite("JSON errors")
struct JSONErrorTests {
    @Test("a refusal: exit 1, {error, code 1, category refused, profile, rule} on stdout, the same line on stderr")
    func refusal() throws {
        let (home, work) = try E2E.pki("json-refusal")
        defer { E2E.cleanUp(home) }
        let csr = try E2E.makeCSR(in: work, name: "nosan", subject: "/CN=www.example.tg")
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", csr, "--json"])
        #expect(r.status == 1)
        let json = try #require(r.json, "stdout is not one JSON object: '\(r.stdout)'")
        #expect(json["code"] as? Int == 1)
        #expect(json["category"] as? String == "refused")
        #expect(json["profile"] as? String == "tls-server")
        #expect(json["rule"] as? String == "san.presence")
        let error = try #require(json["error"] as? String)
        #expect(r.stderr.contains(error), "stderr '\(r.stderr)' does not carry the error '\(error)'")
        #expect(r.stdout.split(separator: "\n").count == 1)
    }

    @Test("bad input and usage errors: exit 2, category usage; an environment failure: exit 3, category environment")
    func otherCategories() throws {
        let (home, _) = try E2E.pki("json-categories")
        defer { E2E.cleanUp(home) }
        let missing = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", "/nonexistent.csr", "--json"])
        #expect(missing.status == 2)
        #expect(missing.json?["category"] as? String == "usage")
        #expect(missing.json?["code"] as? Int == 2)
        #expect(missing.json?["profile"] == nil)

        let usage = try E2E.etrust(["list", "--home", home, "--status", "bogus", "--json"])
        #expect(usage.status == 2)
        #expect(usage.json?["category"] as? String == "usage")

        // The database is unreadable: an environment failure.
        let db = home + "/etrust.db"
        try Data("not a database, just bytes that SQLite cannot read as one".utf8).write(to: URL(fileURLWithPath: db))
        let broken = try E2E.etrust(["list", "--home", home, "--json"])
        #expect(broken.status == 3)
        #expect(broken.json?["category"] as? String == "environment")
        #expect(broken.json?["code"] as? Int == 3)
    }
}

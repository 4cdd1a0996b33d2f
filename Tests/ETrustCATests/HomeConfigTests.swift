import ETrustCore
import ETrustCA
import ETrustPolicy
import ETrustTestSupport
import Foundation
import Testing

@Suite("HomeConfig")
struct HomeConfigTests {
    @Test("the default text parses to the documented defaults")
    func defaults() throws {
        let c = try HomeConfig.parse(HomeConfig.defaultText, file: "etrust.yaml")
        #expect(c.publicBaseURL == "http://pki.example.org")
        #expect(c.documentsBaseURL == "https://pki.example.org")
        #expect(c.databaseEngine == .sqlite)
        #expect(c.databasePath == "etrust.db")
        #expect(c.policiesDirectory == "policies")
        #expect(c.keyIterations == 600_000)
        #expect(c.batchCommitSize == 500)
    }

    @Test("absent keys take the defaults")
    func minimal() throws {
        let c = try HomeConfig.parse("version: 1\n", file: "etrust.yaml")
        #expect(c.publicBaseURL == "http://pki.example.org")
        #expect(c.documentsBaseURL == "https://pki.example.org")
        #expect(c.databaseEngine == .sqlite)
        #expect(c.databasePath == "etrust.db")
        #expect(c.policiesDirectory == "policies")
        #expect(c.keyIterations == 600_000)
        #expect(c.batchCommitSize == 500)
    }

    @Test("stated values are taken; trailing slashes of base URLs are dropped")
    func values() throws {
        let text = """
            version: 1
            publicBaseURL: http://pki.gov.tg/
            documentsBaseURL: https://docs.gov.tg//
            database:
              engine: sqlite
              path: /var/lib/etrust/ca.db
            policies: /etc/etrust/policies
            keys:
              pbkdf2Iterations: 1000
            issuance:
              batchCommitSize: 10

            """
        let c = try HomeConfig.parse(text, file: "etrust.yaml")
        #expect(c.publicBaseURL == "http://pki.gov.tg")
        #expect(c.documentsBaseURL == "https://docs.gov.tg")
        #expect(c.databasePath == "/var/lib/etrust/ca.db")
        #expect(c.policiesDirectory == "/etc/etrust/policies")
        #expect(c.keyIterations == 1000)
        #expect(c.batchCommitSize == 10)
    }

    @Test("refused configurations name the file, the line and the key", arguments: [
        ("version: 1\ncolour: blue\n", 2, "colour"),
        ("version: 1\nissuance:\n  batchSize: 10\n", 3, "issuance.batchSize"),
        ("version: 1\ndatabase:\n  engine: oracle\n", 3, "database.engine"),
        ("publicBaseURL: https://pki.example.org\n", 1, "publicBaseURL"),
        ("publicBaseURL: ftp://pki.example.org\n", 1, "publicBaseURL"),
        ("documentsBaseURL: http://pki.example.org\n", 1, "documentsBaseURL"),
        ("version: 2\n", 1, "version"),
        ("keys:\n  pbkdf2Iterations: 10\n", 2, "keys.pbkdf2Iterations"),
        ("issuance:\n  batchCommitSize: 0\n", 2, "issuance.batchCommitSize"),
        ("issuance:\n  batchCommitSize: many\n", 2, "issuance.batchCommitSize"),
    ])
    func refused(_ text: String, _ line: Int, _ key: String) throws {
        let error = try #require(throws: ETrustError.self) { try HomeConfig.parse(text, file: "/h/etrust.yaml") }
        #expect(error.reason.hasPrefix("/h/etrust.yaml:\(line):"), "reason: \(error.reason)")
        #expect(error.reason.contains(key), "reason: \(error.reason)")
    }

    @Test("publicBaseURL must be http:// (RFC 5280 CDP and AIA)")
    func publicBaseURLScheme() throws {
        #expect(throws: ETrustError.self) { try HomeConfig.parse("publicBaseURL: https://pki.example.org\n", file: "etrust.yaml") }
        #expect(throws: ETrustError.self) { try HomeConfig.parse("publicBaseURL: pki.example.org\n", file: "etrust.yaml") }
        #expect(try HomeConfig.parse("publicBaseURL: http://pki.example.org:8080\n", file: "etrust.yaml").publicBaseURL
            == "http://pki.example.org:8080")
    }

    @Test("load(home:) reads etrust.yaml; an invalid or missing file is bad input")
    func load() throws {
        let dir = try TestSupport.temporaryDirectory("etrust-config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = try #require(throws: ETrustError.self) { try HomeConfig.load(home: dir) }
        #expect(missing.category == .badInput)
        #expect(missing.code == .notFound)

        let path = dir + "/" + HomeConfig.fileName
        try "issuance:\n  batchCommitSize: 7\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try HomeConfig.load(home: dir).batchCommitSize == 7)

        try "colour: blue\n".write(toFile: path, atomically: true, encoding: .utf8)
        let invalid = try #require(throws: ETrustError.self) { try HomeConfig.load(home: dir) }
        #expect(invalid.category == .badInput)
        #expect(invalid.reason.contains(path))
        #expect(invalid.reason.contains("colour"))
    }
}

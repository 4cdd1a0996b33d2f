import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// `database:` in etrust.yaml and the URLs it takes.
@Suite struct DatabaseConfigTests {
    func config(_ database: String) throws -> HomeConfig {
        try HomeConfig.parse("version: 1\ndatabase:\n" + database, file: "etrust.yaml")
    }

    @Test func postgresWithURLAndPasswordFile() throws {
        let c = try config("  engine: postgres\n  url: postgres://ca@db.example.org:6543/etrust\n  passwordFile: secrets/db\n")
        #expect(c.databaseEngine == .postgres && c.databasePasswordFile == "secrets/db")
        #expect(c.databaseURL == DatabaseURL(user: "ca", host: "db.example.org", port: 6543, database: "etrust"))
        #expect(try config("  engine: postgres\n  url: postgresql://ca@[::1]/x\n").databaseURL?.description == "postgres://ca@[::1]:5432/x")
    }

    @Test func refusals() throws {
        for bad in ["  engine: postgres\n  url: postgres://ca:secret@h/x\n", "  engine: postgres\n  url: mysql://ca@h/x\n",
                    "  engine: postgres\n  url: postgres://ca@h:99999/x\n", "  engine: postgres\n  url: postgres://ca@h\n", "  engine: oracle\n"] {
            #expect(throws: ETrustError.self, "\(bad)") { try config(bad) }
        }
        do {
            _ = try config("  engine: postgres\n  url: postgres://ca:hunter2@h/x\n")
            Issue.record("a password in the URL was accepted")
        } catch let e as ETrustError {
            #expect(e.reason.contains("passwordFile") && !e.reason.contains("hunter2"))
        }
    }

    @Test func postgresWithoutURLIsRefusedWhenOpened() throws {
        let dir = try TestSupport.temporaryDirectory("etrust-dburl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Home.initialize(dir + "/home")
        let path = dir + "/home/etrust.yaml"
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "engine: sqlite", with: "engine: postgres")
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Home.open(dir + "/home").openStore()
            Issue.record("a postgres home without url was opened")
        } catch let e as ETrustError {
            #expect(e.category == .badInput && e.reason.contains("database.url"))
        }
    }

    @Test func newHomeTextNamesPostgresAndParses() throws {
        let url = DatabaseURL(user: "ca", host: "127.0.0.1", port: 5433, database: "e")
        let text = try HomeConfig.newHomeText(database: url)
        let c = try HomeConfig.parse(text, file: "etrust.yaml")
        #expect(c.databaseEngine == .postgres && c.databaseURL == url && c.policiesDirectory == "policies")
        let switched = HomeConfig.settingDatabase(in: HomeConfig.newHomeText(), url: url, passwordFile: "/etc/etrust/db")
        let s = try HomeConfig.parse(switched, file: "etrust.yaml")
        #expect(s.databaseURL == url && s.databasePasswordFile == "/etc/etrust/db" && s.batchCommitSize == 500 && s.keyIterations == 600_000)
        #expect(!switched.contains("engine: sqlite"))
    }

    @Test func thePasswordComesFromTheFileElseTheEnvironment() throws {
        let dir = try TestSupport.temporaryDirectory("etrust-dbpw")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "line-one\nignored\n".write(toFile: dir + "/pw", atomically: true, encoding: .utf8)
        let home = try Home.initialize(dir + "/home")
        try HomeConfig.settingDatabase(in: try String(contentsOfFile: dir + "/home/etrust.yaml", encoding: .utf8),
                                       url: try TestPostgres.url, passwordFile: dir + "/pw")
            .write(toFile: dir + "/home/etrust.yaml", atomically: true, encoding: .utf8)
        // The password file is a secret of the home: others may not read it.
        #expect(throws: ETrustError.self) { try Home.open(home.path).databasePassword() }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir + "/pw")
        #expect(try Home.open(home.path).databasePassword() == "line-one")
        #expect(try Home.open(home.path).databaseDescription == (try TestPostgres.url).description)
    }
}

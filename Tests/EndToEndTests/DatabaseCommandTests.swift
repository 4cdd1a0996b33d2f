import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// `etrust db migrate`, `etrust backup` and `etrust restore`.
@Suite struct DatabaseCommandTests {
    static func rows(_ home: String) throws -> [String: Int] {
        let r = try E2E.etrust(["db", "status", "--home", home, "--json"])
        try #require(r.status == 0, "db status: \(r.stderr)")
        return try #require(r.json?["rows"] as? [String: Int], "\(r.stdout)")
    }

    static func issue(_ home: String, _ work: String, rows: Int, name: String) throws -> [String] {
        let csv = try PostgresTests.batch(in: work, name: name, rows: rows)
        let r = try PostgresTests.issue(home, batch: csv, out: work + "/" + name)
        try #require(r.status == 0, "issue: \(r.stderr)")
        return try FileManager.default.contentsOfDirectory(atPath: work + "/" + name).map { String($0.dropLast(4)) }
    }

    @Test func migrateCopiesProvesAndSwitches() throws {
        let (home, work) = try E2E.pki("e2e-migrate")
        defer { E2E.cleanUp(home) }
        let serials = try Self.issue(home, work, rows: 30, name: "before")
        for s in serials.prefix(3) { #expect(try E2E.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", s]).status == 0) }
        #expect(try E2E.etrust(["crl", "--home", home, "--ca", "issuing"]).status == 0)
        let before = try Self.rows(home)
        let db = try TestPostgres.freshDatabase()

        let r = try E2E.etrust(["db", "migrate", "--home", home, "--to", db.description, "--json"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.json?["proven"] as? Bool == true, "\(r.stdout)")
        #expect((r.json?["auditSize"] as? Int ?? 0) > 30)
        #expect(try E2E.read(home + "/etrust.yaml").contains("engine: postgres"))
        #expect(try Self.rows(home) == before)
        #expect(try E2E.etrust(["audit", "verify", "--home", home]).status == 0)
        // The copy goes on: new rows continue after the copied ids, and the log still verifies.
        _ = try Self.issue(home, work, rows: 5, name: "after")
        #expect(try Self.rows(home)["certificates"] == (before["certificates"] ?? 0) + 5)
        #expect(try E2E.etrust(["audit", "verify", "--home", home]).status == 0)

        // One row changed in PostgreSQL is caught.
        #expect(try TestPostgres.psql(db, "UPDATE events SET payload = replace(payload, '\"time\":\"', '\"time\":\"1') WHERE id = 7 RETURNING id") == "7")
        let tampered = try E2E.etrust(["audit", "verify", "--home", home])
        #expect(tampered.status == 1, "\(tampered.stdout) \(tampered.stderr)")
    }

    @Test func migrateRefusesANonEmptyDatabaseAndAPostgresHome() throws {
        let (home, _, db) = try PostgresTests.pki("pg-migrate-refuse")
        defer { E2E.cleanUp(home) }
        let again = try E2E.etrust(["db", "migrate", "--home", home, "--to", db.description])
        #expect(again.status == 2 && again.stderr.contains("SQLite"), "\(again.stderr)")
        let (sqliteHome, _) = try E2E.pki("e2e-migrate-refuse")
        defer { E2E.cleanUp(sqliteHome) }
        let full = try E2E.etrust(["db", "migrate", "--home", sqliteHome, "--to", db.description])
        #expect(full.status == 1 && full.stderr.contains("not empty"), "\(full.stderr)")
        #expect(try E2E.read(sqliteHome + "/etrust.yaml").contains("engine: sqlite"))
    }

    /// Backup, more issuance, restore: the database is as it was at the backup and its log verifies.
    func backupAndRestore(home: String, work: String) throws {
        _ = try Self.issue(home, work, rows: 5, name: "kept")
        let rows = try Self.rows(home)
        let file = work + "/backup.bin"
        let b = try E2E.etrust(["backup", "--home", home, "--out", file])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(try E2E.etrust(["backup", "--home", home, "--out", file]).status == 1)   // never overwritten
        _ = try Self.issue(home, work, rows: 7, name: "lost")
        #expect(try Self.rows(home)["certificates"] == (rows["certificates"] ?? 0) + 7)
        let r = try E2E.etrust(["restore", "--home", home, "--from", file])
        #expect(r.status == 0 && r.stdout.contains("audit log verifies"), "\(r.stdout) \(r.stderr)")
        #expect(try Self.rows(home) == rows)
        #expect(try E2E.etrust(["audit", "verify", "--home", home]).status == 0)
        _ = try Self.issue(home, work, rows: 2, name: "again")
        #expect(try E2E.etrust(["audit", "verify", "--home", home]).status == 0)
    }

    @Test func backupAndRestoreSQLite() throws {
        let (home, work) = try E2E.pki("e2e-backup")
        defer { E2E.cleanUp(home) }
        try backupAndRestore(home: home, work: work)
        try E2E.write("not a database", to: work + "/junk")
        let rows = try Self.rows(home)
        let junk = try E2E.etrust(["restore", "--home", home, "--from", work + "/junk"])
        #expect(junk.status == 2 && E2E.lines(junk.stderr).count == 1, "\(junk.stderr)")
        #expect(try Self.rows(home) == rows)
    }

    @Test func backupAndRestorePostgres() throws {
        let (home, work, _) = try PostgresTests.pki("pg-backup")
        defer { E2E.cleanUp(home) }
        try backupAndRestore(home: home, work: work)
        try E2E.write("not a dump", to: work + "/junk")
        let rows = try Self.rows(home)
        let junk = try E2E.etrust(["restore", "--home", home, "--from", work + "/junk"])
        #expect(junk.status == 3 && E2E.lines(junk.stderr).count == 1, "\(junk.stderr)")
        #expect(try Self.rows(home) == rows)
    }
}

import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// The CLI on a PostgreSQL store: `init --database`, several issuing processes and homes on one
/// database, `db migrate`, `backup` and `restore`. The server is Tools/test.sh's private cluster.
@Suite struct PostgresTests {
    /// A two-level PKI whose store is a fresh PostgreSQL database: (home, work folder, database).
    static func pki(_ label: String) throws -> (home: String, work: String, db: DatabaseURL) {
        let db = try TestPostgres.freshDatabase()
        let dir = try TestSupport.temporaryDirectory("e2e-" + label)
        let home = dir + "/home"
        let r = try E2E.etrust(["init", "--home", home, "--database", db.description, "--public-url", "http://pki.test.tg"])
        try #require(r.status == 0, "init --database: \(r.stderr)")
        try E2E.cheapKeys(home)
        for args in [["ca", "create", "root", "--subject", E2E.rootSubject, "--key", "ec-p384"],
                     ["ca", "create", "issuing", "--parent", "root", "--subject", E2E.issuingSubject, "--key", "ec-p256"]] {
            let c = try E2E.etrust(args + ["--home", home])
            try #require(c.status == 0, "\(args): \(c.stderr)")
        }
        let work = dir + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return (home, work, db)
    }

    /// A CSV of `rows` citizen requests, all of one CSR (each row is a new certificate).
    static func batch(in work: String, name: String, rows: Int) throws -> String {
        if !E2E.exists(work + "/citizen.csr.pem") {
            _ = try E2E.makeCSR(in: work, name: "citizen", subject: "/CN=Citizen/C=TG")
        }
        let path = work + "/\(name).csv"
        try E2E.write("csr\n" + String(repeating: "citizen.csr.pem\n", count: rows), to: path)
        return path
    }

    static func issue(_ home: String, batch: String, out: String) throws -> TestSupport.Result {
        try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "citizen-authentication", "--batch", batch, "--out", out])
    }

    @Test func initDatabaseWritesPostgresAndTheLifecycleWorks() throws {
        let (home, work, db) = try Self.pki("pg-init")
        defer { E2E.cleanUp(home) }
        let config = try E2E.read(home + "/etrust.yaml")
        #expect(config.contains("engine: postgres") && config.contains("url: \(db.description)"))
        #expect(!E2E.exists(home + "/etrust.db"))
        let out = work + "/out"
        #expect(try Self.issue(home, batch: try Self.batch(in: work, name: "b", rows: 3), out: out).status == 0)
        let serial = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first).dropLast(4)
        #expect(try E2E.etrust(["revoke", "--home", home, "--ca", "issuing", "--serial", String(serial), "--reason", "keyCompromise"]).status == 0)
        #expect(try E2E.etrust(["crl", "--home", home, "--ca", "issuing"]).status == 0)
        let verify = try E2E.etrust(["audit", "verify", "--home", home])
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        #expect(try TestPostgres.psql(db, "SELECT count(*) FROM certificates WHERE status = 'revoked'") == "1")
        let status = try E2E.etrust(["db", "status", "--home", home])
        #expect(status.stdout.contains("postgres: \(db.description)") && status.stdout.contains("certificates: 4"), "\(status.stdout)")   // the issuing CA and 3 leaves
    }

    @Test func aPasswordInTheURLIsRefusedAndNothingIsWritten() throws {
        let dir = try TestSupport.temporaryDirectory("e2e-pg-url")
        defer { E2E.cleanUp(dir + "/home") }
        let r = try E2E.etrust(["init", "--home", dir + "/home", "--database", "postgres://etrust:hunter2@127.0.0.1:5432/x"])
        #expect(r.status == 2 && r.stderr.contains("ETRUST_DB_PASSWORD"), "\(r.stderr)")
        #expect(!E2E.exists(dir + "/home"))
    }

    @Test func aWrongPasswordIsOneLineAndExit3() throws {
        let (home, _, _) = try Self.pki("pg-password")
        defer { E2E.cleanUp(home) }
        let r = try E2E.etrust(["list", "--home", home], environment: ["ETRUST_DB_PASSWORD": "wrong-password-123"])
        #expect(r.status == 3, "\(r.status) \(r.stderr)")
        #expect(E2E.lines(r.stderr).count == 1 && !r.stderr.contains("wrong-password-123"), "\(r.stderr)")
    }

    /// Four issuing processes on two homes (two hosts sharing the database and the CA keys) at
    /// once, while a fifth revokes and publishes CRLs through both.
    @Test func fourIssuersAndARevokerOnOneDatabase() throws {
        let (home, work, db) = try Self.pki("pg-multi")
        defer { E2E.cleanUp(home) }
        let other = work + "/../home-b"
        #expect(try TestSupport.run("/bin/cp", ["-a", home, other]).status == 0)
        let early = work + "/early"
        #expect(try Self.issue(home, batch: try Self.batch(in: work, name: "early", rows: 20), out: early).status == 0)
        let toRevoke = try FileManager.default.contentsOfDirectory(atPath: early).map { String($0.dropLast(4)) }
        let perIssuer = 150
        let results = Gathered()
        DispatchQueue.concurrentPerform(iterations: 5) { w in
            do {
                if w < 4 {
                    let csv = try Self.batch(in: work, name: "w\(w)", rows: perIssuer)
                    let r = try Self.issue(w % 2 == 0 ? home : other, batch: csv, out: work + "/out\(w)")
                    results.add("issuer \(w): \(r.status) \(r.stderr)")
                } else {
                    for (i, serial) in toRevoke.enumerated() {
                        let h = i % 2 == 0 ? other : home
                        let r = try E2E.etrust(["revoke", "--home", h, "--ca", "issuing", "--serial", serial])
                        results.add("revoke \(serial): \(r.status) \(r.stderr)")
                        if i % 5 == 4 {
                            let c = try E2E.etrust(["crl", "--home", h, "--ca", "issuing"])
                            results.add("crl: \(c.status) \(c.stderr)")
                        }
                    }
                }
            } catch { results.add("error: \(error)") }
        }
        for line in results.all { #expect(line.contains(": 0 "), "\(line)") }
        let issued = 20 + 4 * perIssuer
        #expect(try TestPostgres.psql(db, "SELECT count(DISTINCT serial) FROM certificates c JOIN cas a ON a.id = c.ca_id WHERE a.name = 'issuing'") == "\(issued)")
        // Every certificate has its issue event, and every issue event its certificate.
        #expect(try TestPostgres.psql(db, """
            SELECT count(*) FROM certificates c JOIN cas a ON a.id = c.ca_id
            WHERE a.name = 'issuing' AND NOT EXISTS (SELECT 1 FROM events e WHERE e.type = 'issue' AND e.serial = c.serial)
            """) == "0")
        #expect(try TestPostgres.psql(db, "SELECT count(*) FROM events WHERE type = 'issue' AND ca = 'issuing'") == "\(issued)")
        #expect(try TestPostgres.psql(db, "SELECT count(*) FROM certificates WHERE status = 'revoked'") == "20")
        let numbers = try TestPostgres.psql(db, "SELECT number FROM crls ORDER BY id").split(separator: "\n").compactMap { Int($0) }
        #expect(numbers.count == 4 && numbers == numbers.sorted() && Set(numbers).count == numbers.count, "\(numbers)")
        for h in [home, other] {
            let v = try E2E.etrust(["audit", "verify", "--home", h])
            #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        }
    }
}

/// Lines gathered from several threads.
final class Gathered: @unchecked Sendable {   // unchecked: every access holds the lock
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

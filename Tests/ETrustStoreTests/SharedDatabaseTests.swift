import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// Several connections (as several processes or hosts would hold) on one PostgreSQL database at once.
@Suite("PostgreSQL shared by several processes")
struct SharedDatabaseTests {
    static let now = StoreFixture.now

    /// Runs `body(worker)` on `workers` threads at once, each with its own store on the database.
    static func concurrently(_ f: StoreFixture, workers: Int, _ body: @escaping @Sendable (Int, any HomeStore) throws -> Void) throws {
        let url = try #require(f.url)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            do { try body(w, try PostgresStore(url: url, password: TestPostgres.password)) } catch { failures.add("\(error)") }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
    }

    @Test func auditAppendsHaveNoGapsAndNoForks() throws {
        let f = try StoreFixture(.postgres)
        try Self.concurrently(f, workers: 4) { w, store in
            let log = AuditLog(storage: store)
            for i in 0..<25 {
                let serial = String(format: "%02x%04x", w, i)
                try store.transaction {
                    try store.insert(certificates: [StoreFixture.certificate(serial)])
                    try log.append((0..<3).map { k in
                        AuditEvent(type: "issue", time: Self.now, ca: "root", serialHex: serial, profile: "p", fields: ["k": "\(k)"])
                    })
                }
            }
        }
        let log = AuditLog(storage: f.store)
        #expect(try log.size == 300)
        var range = CompactRange(hasher: MerkleHasher())
        var ids: [Int] = []
        try f.store.forEachAuditEntry { id, payload, leaf, node in
            ids.append(id)
            #expect(payload.contains("\"index\":\(id - 1)"))
            #expect(MerkleHasher().leafHash(payload) == leaf && node == leaf)
            range.append(leaf)
        }
        #expect(ids == Array(1...300))
        #expect(try log.root(size: 300) == range.root)
        #expect(try f.store.certificates(matching: CertificateFilter(), at: Self.now).count == 100)
    }

    @Test func crlNumbersOnlyGrow() throws {
        let f = try StoreFixture(.postgres)
        let taken = Failures()
        try Self.concurrently(f, workers: 4) { _, store in
            var mine: [Int] = []
            for _ in 0..<25 { mine.append(try store.allocateCRLNumber(ca: "root")) }
            #expect(mine == mine.sorted() && Set(mine).count == mine.count)
            for n in mine { taken.add("\(n)") }
        }
        #expect(Set(taken.all.compactMap { Int($0) }) == Set(1...100))
    }

    /// A responder follows new certificates by "rows after the last id I saw"; with ids taken in
    /// commit order no row is missed, however the writers interleave.
    @Test func aFollowerOfNewIDsMissesNoCertificate() throws {
        let f = try StoreFixture(.postgres)
        let writersDone = Failures()
        let seen = Failures()
        try Self.concurrently(f, workers: 5) { w, store in
            guard w == 4 else {
                defer { writersDone.add("\(w)") }
                for i in 0..<30 {
                    try store.transaction {
                        try store.insert(certificates: [StoreFixture.certificate(String(format: "%02x%04x", w, i))])
                        try AuditLog(storage: store).append([AuditEvent(type: "issue", time: Self.now, ca: "root", serialHex: nil, profile: nil, fields: [:])])
                    }
                }
                return
            }
            var last: Int64 = 0
            var finalPass = false
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                finalPass = writersDone.all.count == 4
                for (id, serial) in try store.certificatesIssued(ca: "root", afterID: last, limit: 1000) {
                    seen.add(serial)
                    last = id
                }
                if finalPass { break }
            }
        }
        #expect(seen.all.count == 120 && Set(seen.all).count == 120)
    }

    @Test func revocationsAreAnnounced() throws {
        let f = try StoreFixture(.postgres)
        try f.store.insert(certificates: [StoreFixture.certificate("1a01")])
        let listener = try #require(f.store as? RevocationNotifying)
        let heard = Failures()
        let subscription = try listener.subscribeToRevocations { ca, serial in heard.add("\(ca) \(serial)") }
        defer { subscription.cancel() }
        let other = try f.reopen()
        try other.revoke(ca: "root", serialHex: "1a01", reason: 1, revokedAt: Self.now, invalidityDate: nil, recordedAt: Self.now)
        let deadline = Date().addingTimeInterval(5)
        while heard.all.isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(heard.all == ["root 1a01"])
    }

    @Test func aRolledBackRevocationIsNotAnnounced() throws {
        let f = try StoreFixture(.postgres)
        try f.store.insert(certificates: [StoreFixture.certificate("1b01"), StoreFixture.certificate("1b02")])
        let heard = Failures()
        let subscription = try #require(f.store as? RevocationNotifying).subscribeToRevocations { _, serial in heard.add(serial) }
        defer { subscription.cancel() }
        let other = try f.reopen()
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try other.transaction {
                try other.revoke(ca: "root", serialHex: "1b01", reason: 1, revokedAt: Self.now, invalidityDate: nil, recordedAt: Self.now)
                throw Abort()
            }
        }
        try other.revoke(ca: "root", serialHex: "1b02", reason: 1, revokedAt: Self.now, invalidityDate: nil, recordedAt: Self.now)
        let deadline = Date().addingTimeInterval(5)
        while heard.all.isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(heard.all == ["1b02"])
        #expect(try f.store.ocspStatus(ca: "root", serialHex: "1b01")?.revoked == false)
    }

    /// The server drops the connection (a restart, a failover): the next statement outside a
    /// transaction reconnects, so a long-running responder recovers by itself.
    @Test func aDroppedConnectionIsReplaced() throws {
        let f = try StoreFixture(.postgres)
        let url = try #require(f.url)
        let store = try #require(f.store as? StoreReachability)
        try store.ping()
        let killed = try TestPostgres.psql(url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '\(url.database)' AND pid <> pg_backend_pid()")
        #expect(killed == "1")
        Thread.sleep(forTimeInterval: 0.3)
        // The first statement may still meet the dead connection; the one after reconnects.
        if (try? store.ping()) == nil { try store.ping() }
        try f.store.insert(certificates: [StoreFixture.certificate("1c01")])
        #expect(try f.store.certificate(ca: "root", serialHex: "1c01") != nil)
    }

    @Test func anUnreachableServerIsOneClearLine() throws {
        let url = try TestPostgres.url
        let dead = DatabaseURL(user: url.user, host: "127.0.0.1", port: 1, database: "nothing")
        do {
            _ = try PostgresStore(url: dead, password: "secret-never-shown")
            Issue.record("connected to a closed port")
        } catch let e as ETrustError {
            #expect(e.category == .environment)
            #expect(e.reason.contains("postgres://\(url.user)@127.0.0.1:1/nothing") && !e.reason.contains("secret-never-shown"))
            #expect(!e.reason.contains("\n"))
        }
    }
}

/// Strings gathered from several threads.
final class Failures: @unchecked Sendable {   // unchecked: every access holds the lock
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

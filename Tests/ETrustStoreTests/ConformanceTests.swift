import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// The storage protocols' contract, run on every engine alike (SQLite and PostgreSQL).
@Suite("Store conformance")
struct ConformanceTests {
    static let now = StoreFixture.now

    @Test(arguments: Engine.allCases)
    func casAndDuplicates(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        #expect(try f.store.ca(named: "root")?.keyReference == "file:keys/root.key.pem")
        #expect(try f.store.cas().map(\.name) == ["root"])
        #expect(try f.store.ca(named: "nope") == nil)
        let again = CARecord(name: "root", certificate: try StoreFixture.demoRoot(), keyReference: "x", parent: nil, profile: "root", createdAt: Self.now)
        #expect(throws: ETrustError.self) { try f.store.insert(ca: again, issued: nil) }
        // The failed insert left the store usable and unchanged.
        #expect(try f.store.cas().count == 1)
    }

    @Test(arguments: Engine.allCases)
    func certificatesAndFilters(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        try f.store.insert(certificates: [
            StoreFixture.certificate("0a01", subject: "CN=Alice Example"),
            StoreFixture.certificate("0a02", profile: "person"),
            StoreFixture.certificate("0a03", notAfter: Self.now.addingTimeInterval(-10)),
        ])
        let alice = try #require(try f.store.certificate(ca: "root", serialHex: "0a01"))
        #expect(alice.subject == "CN=Alice Example" && alice.subjectAltNames == ["0a01.example.org"] && alice.der == Array("der-0a01".utf8))
        #expect(alice.issuedAt == Self.now && alice.status == .valid)
        #expect(try f.store.certificates(serialHex: "0A02").map(\.ca) == ["root"])
        #expect(try f.store.certificates(matching: CertificateFilter(profile: "person"), at: Self.now).map(\.serialHex) == ["0a02"])
        #expect(try f.store.certificates(matching: CertificateFilter(subjectContains: "alice"), at: Self.now).map(\.serialHex) == ["0a01"])
        #expect(try f.store.certificates(matching: CertificateFilter(status: .expired), at: Self.now).map(\.serialHex) == ["0a03"])
        #expect(try f.store.certificates(matching: CertificateFilter(status: .valid), at: Self.now).map(\.serialHex) == ["0a01", "0a02"])
        #expect(try f.store.certificates(matching: CertificateFilter(limit: 2), at: Self.now).count == 2)
        #expect(try f.store.certificates(matching: CertificateFilter(), at: Self.now).count == 3)
    }

    @Test(arguments: Engine.allCases)
    func duplicateSerialWritesNothingOfTheBatch(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        try f.store.insert(certificates: [StoreFixture.certificate("0b01")])
        #expect(throws: ETrustError.self) {
            try f.store.insert(certificates: [StoreFixture.certificate("0b02"), StoreFixture.certificate("0b01")])
        }
        #expect(try f.store.certificates(matching: CertificateFilter(), at: Self.now).map(\.serialHex) == ["0b01"])
        #expect(throws: ETrustError.self) { try f.store.insert(certificates: [StoreFixture.certificate("0b09", ca: "unknown")]) }
    }

    @Test(arguments: Engine.allCases)
    func transactionRollsBackEverything(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        let log = AuditLog(storage: f.store)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try f.store.transaction {
                try f.store.insert(certificates: [StoreFixture.certificate("0c01")])
                try log.append([AuditEvent(type: "issue", time: Self.now, ca: "root", serialHex: "0c01", profile: "tls-server", fields: [:])])
                throw Boom()
            }
        }
        #expect(try f.store.certificate(ca: "root", serialHex: "0c01") == nil)
        #expect(try log.size == 0)
        try f.store.transaction {
            try f.store.insert(certificates: [StoreFixture.certificate("0c02")])
            try log.append([AuditEvent(type: "issue", time: Self.now, ca: "root", serialHex: "0c02", profile: "tls-server", fields: [:])])
        }
        #expect(try f.reopen().certificate(ca: "root", serialHex: "0c02") != nil)
        #expect(try AuditLog(storage: f.reopen()).size == 1)
    }

    @Test(arguments: Engine.allCases)
    func issuanceIntents(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        let intents = (1...5).map {
            IssuanceIntent(ca: "root", serialHex: "0d0\($0)", profile: "tls-server", subject: "CN=\($0)", tbsDER: [UInt8($0)], createdAt: Self.now, owner: "h:1")
        }
        let ids = try f.store.insert(intents: intents)
        #expect(ids.count == 5 && Set(ids).count == 5)
        try f.store.close(intents: [ids[0], ids[1]], state: .completed, at: Self.now)
        try f.store.close(intents: [ids[2]], state: .abandoned, at: Self.now)
        let pending = try f.store.pendingIntents()
        #expect(pending.map(\.serialHex) == ["0d04", "0d05"])
        #expect(pending.map(\.id) == [ids[3], ids[4]])
        #expect(pending.first?.tbsDER == [4] && pending.first?.owner == "h:1" && pending.first?.ca == "root")
    }

    @Test(arguments: Engine.allCases)
    func revocationHoldAndChanges(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        try f.store.insert(certificates: (1...4).map { StoreFixture.certificate("0e0\($0)", shard: $0 % 2) })
        try f.store.save(presigned: [PresignedResponse(serialHex: "0e01", der: [1], thisUpdate: Self.now, nextUpdate: Self.now)], ca: "root")
        let later = Self.now.addingTimeInterval(60)
        try f.store.revoke(ca: "root", serialHex: "0e01", reason: 1, revokedAt: Self.now, invalidityDate: Self.now.addingTimeInterval(-5), recordedAt: later)
        try f.store.revoke(ca: "root", serialHex: "0e02", reason: 6, revokedAt: Self.now, invalidityDate: nil, recordedAt: later)
        #expect(throws: ETrustError.self) {
            try f.store.revoke(ca: "root", serialHex: "ffff", reason: 1, revokedAt: Self.now, invalidityDate: nil, recordedAt: later)
        }
        var presigned: [String] = []
        try f.store.forEachPresigned(ca: "root") { presigned.append($0.serialHex) }
        #expect(presigned.isEmpty)   // a revocation drops the pre-signed "good"
        let status = try #require(try f.store.ocspStatus(ca: "root", serialHex: "0e01"))
        #expect(status.revoked && status.reason == 1 && status.revokedAt == Self.now)
        #expect(try f.store.ocspStatus(ca: "root", serialHex: "0e03")?.revoked == false)
        #expect(try f.store.ocspStatus(ca: "root", serialHex: "9999") == nil)
        var raw: [(String, Int64, Int, Int64?)] = []
        try f.store.forEachRevokedRaw(ca: "root", shard: nil, expiredBefore: Self.now) { raw.append((String(decoding: $0, as: UTF8.self), $1, $2, $3)) }
        #expect(raw.map(\.0) == ["0e01", "0e02"] && raw[0].3 == Self.now.unixSecondsForTests - 5 && raw[1].3 == nil && raw[1].2 == 6)
        var shard1: [String] = []
        try f.store.forEachRevokedRaw(ca: "root", shard: 1, expiredBefore: Self.now) { s, _, _, _ in shard1.append(String(decoding: s, as: UTF8.self)) }
        #expect(shard1 == ["0e01"])
        try f.store.releaseHold(ca: "root", serialHex: "0e02", at: later.addingTimeInterval(60))
        #expect(throws: ETrustError.self) { try f.store.releaseHold(ca: "root", serialHex: "0e01", at: later) }
        var changes: [RevokedEntry] = []
        try f.store.forEachChange(ca: "root", since: later, expiredBefore: Self.now) { changes.append($0) }
        #expect(changes.map(\.serialHex) == ["0e01", "0e02"] && changes.map(\.reason) == [1, 8])
        #expect(Set(try f.store.changedSerials(ca: "root", since: later.addingTimeInterval(30))) == ["0e02"])
        #expect(try f.store.certificates(matching: CertificateFilter(status: .revoked), at: Self.now).map(\.serialHex) == ["0e01"])
    }

    @Test(arguments: Engine.allCases)
    func crlNumbersAndRecords(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        let numbers = try (0..<3).map { _ in try f.store.allocateCRLNumber(ca: "root") }
        #expect(numbers == [1, 2, 3])
        #expect(try f.reopen().allocateCRLNumber(ca: "root") == 4)
        func crl(_ n: Int, _ kind: CRLRecord.Kind) -> CRLRecord {
            CRLRecord(ca: "root", number: n, kind: kind, shard: kind == .shard ? 2 : nil, baseNumber: kind == .delta ? 1 : nil, thisUpdate: Self.now,
                      nextUpdate: Self.now.addingTimeInterval(3600), entries: n, sha256: "h\(n)", path: "pub/crl/\(n).crl")
        }
        try f.store.insert(crl: crl(1, .full))
        try f.store.insert(crl: crl(2, .delta))
        try f.store.insert(crl: crl(3, .shard))
        #expect(try f.store.latestCRL(ca: "root", kinds: [.full, .delta], publishedOnly: false)?.number == 2)
        #expect(try f.store.latestCRL(ca: "root", kinds: [.full], publishedOnly: true) == nil)
        try f.store.markPublished(ca: "root", number: 1, at: Self.now)
        let full = try #require(try f.store.latestCRL(ca: "root", kinds: [.full], publishedOnly: true))
        #expect(full.number == 1 && full.sha256 == "h1" && full.nextUpdate == Self.now.addingTimeInterval(3600))
        let shard = try #require(try f.store.latestCRL(ca: "root", kinds: [.shard], publishedOnly: false))
        #expect(shard.shard == 2 && shard.baseNumber == nil)
    }

    @Test(arguments: Engine.allCases)
    func ocspSignersAndPresigned(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        #expect(try f.store.currentOCSPSigner(ca: "root") == nil)
        try f.store.insert(ocspSigner: OCSPSignerRecord(ca: "root", certificate: try StoreFixture.demoRoot(), keyReference: "file:a"), at: Self.now)
        try f.store.insert(ocspSigner: OCSPSignerRecord(ca: "root", certificate: try StoreFixture.demoRoot(), keyReference: "file:b"), at: Self.now)
        #expect(try f.store.currentOCSPSigner(ca: "root")?.keyReference == "file:b")
        try f.store.insert(certificates: (1...3).map { StoreFixture.certificate("0f0\($0)") })
        let r = { (s: String, b: UInt8) in PresignedResponse(serialHex: s, der: [b], thisUpdate: Self.now, nextUpdate: Self.now.addingTimeInterval(60)) }
        try f.store.save(presigned: [r("0f01", 1), r("0f02", 2)], ca: "root")
        try f.store.save(presigned: [r("0f01", 8), r("0f01", 9)], ca: "root")
        var seen: [String: [UInt8]] = [:]
        try f.store.forEachPresigned(ca: "root") { seen[$0.serialHex] = $0.der }
        #expect(seen == ["0f01": [9], "0f02": [2]])
        let first = try f.store.certificatesIssued(ca: "root", afterID: 0, limit: 2)
        #expect(first.map(\.serial) == ["0f01", "0f02"])
        #expect(try f.store.certificatesIssued(ca: "root", afterID: first[1].id, limit: 10).map(\.serial) == ["0f03"])
    }

    @Test(arguments: Engine.allCases)
    func timeStampingUnitsAndTokens(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        #expect(try f.store.currentTSASigner(ca: nil) == nil)
        let cert = try StoreFixture.demoRoot()
        let a = try f.store.insert(tsaSigner: TSASignerRecord(ca: "root", certificate: cert, keyReference: "file:a", policy: "1.2.3"), at: Self.now)
        let b = try f.store.insert(tsaSigner: TSASignerRecord(ca: "root", certificate: cert, keyReference: "file:b", policy: "1.2.4"), at: Self.now)
        #expect(a > 0 && b > a)
        let current = try #require(try f.store.currentTSASigner(ca: "root"))
        #expect(current.id == b && current.keyReference == "file:b" && current.policy == "1.2.4" && current.certificate == cert && current.ca == "root")
        #expect(try f.store.currentTSASigner(ca: nil)?.id == b)
        #expect(throws: ETrustError.self) { try f.store.currentTSASigner(ca: "nope") }
        let t = { (serial: String, imprint: String, ms: Double) in
            TimeStampTokenRecord(serialHex: serial, signerID: b, hashAlgorithm: "2.16.840.1.101.3.4.2.1", imprintHex: imprint,
                                 genTime: Date(timeIntervalSince1970: ms / 1000), policy: "1.2.4")
        }
        let batch = (1...1500).map { t(String(format: "%04x", $0), $0 % 2 == 0 ? "aa" : "bb", 1_800_000_000_000 + Double($0)) }
        try f.store.record(timeStampTokens: batch)
        #expect(try f.store.timeStampTokenCount() == 1500)
        let found = try f.store.timeStampTokens(imprintHex: "AA")
        #expect(found.count == 750 && found.first == batch[1], "\(found.first.map { "\($0)" } ?? "-")")
        // A batch with a serial already recorded writes nothing of the batch.
        #expect(throws: ETrustError.self) { try f.store.record(timeStampTokens: [t("ffff", "cc", 1), t("0001", "cc", 2)]) }
        #expect(try f.store.timeStampTokenCount() == 1500)
        #expect(try f.reopen().timeStampTokens(imprintHex: "cc").isEmpty)
    }

    @Test(arguments: Engine.allCases)
    func pendingCAs(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        let csr = try TestSupport.csr(subject: "CN=Sub CA,O=etrust tests,C=TG")
        try f.store.insert(pendingCA: PendingCARecord(name: "sub", csr: csr, keyReference: "file:k", profile: "sub-ca", createdAt: Self.now))
        #expect(throws: ETrustError.self) {
            try f.store.insert(pendingCA: PendingCARecord(name: "sub", csr: csr, keyReference: "file:k", profile: "sub-ca", createdAt: Self.now))
        }
        #expect(try f.store.pendingCA(named: "sub")?.csr.der == csr.der)
        try f.store.deletePendingCA(named: "sub")
        #expect(try f.store.pendingCA(named: "sub") == nil)
    }

    @Test(arguments: Engine.allCases)
    func auditLogRowsAndProofs(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        let log = AuditLog(storage: f.store)
        let events = (0..<37).map { i in
            AuditEvent(type: i % 3 == 0 ? "revoke" : "issue", time: Self.now.addingTimeInterval(Double(i)), ca: "root",
                       serialHex: String(format: "%04x", i), profile: "tls-server", fields: ["n": "\(i)"])
        }
        try log.append(Array(events[0..<20]))
        try log.append(Array(events[20...]))
        #expect(try log.size == 37)
        // The same events give the same tree on every engine: the root of a reference built in memory.
        var range = CompactRange(hasher: MerkleHasher())
        for (i, e) in events.enumerated() { range.append(MerkleHasher().leafHash(e.payload(index: i))) }
        #expect(try log.root(size: 37) == range.root)
        let picked = try log.events(matching: EventFilter(type: "revoke", serialHex: "0003"))
        #expect(picked.map(\.index) == [3] && picked.first?.payload == events[3].payload(index: 3))
        #expect(try log.events(matching: EventFilter(since: Self.now.addingTimeInterval(30))).count == 7)
        let checkpoint = Checkpoint(origin: "test", size: 37, root: range.root)
        #expect(try log.proveInclusion(of: events[5].payload(index: 5), index: 5, in: checkpoint).verified)
        #expect(try log.proveConsistency(from: 20, to: 37).verified)
        try f.store.insertAuditCheckpoint(size: 37, root: range.root, note: "note", createdAt: Self.now)
        #expect(try log.checkpoints().map(\.size) == [37])
        var ids: [Int] = []
        try f.store.forEachAuditEntry { id, _, leaf, node in
            ids.append(id)
            #expect(node == leaf)
        }
        #expect(ids == Array(1...37))
    }
}

extension Date {
    var unixSecondsForTests: Int64 { Int64(timeIntervalSince1970) }
    init(unixSeconds: Int64) { self.init(timeIntervalSince1970: TimeInterval(unixSeconds)) }
}


/// The console's page of events: newest first, keyset on the log index, each filter a bound
/// parameter, on both engines.
@Suite("Store conformance: event pages")
struct EventPageConformanceTests {
    @Test(arguments: Engine.allCases)
    func pagesFiltersAndInjection(_ engine: Engine) throws {
        let f = try StoreFixture(engine)
        let log = AuditLog(storage: f.store)
        let t0 = StoreFixture.now
        var events: [AuditEvent] = []
        for i in 0..<120 {
            events.append(AuditEvent(type: i % 3 == 0 ? "refuse" : "issue", time: t0.addingTimeInterval(Double(i) * 60), ca: i % 2 == 0 ? "root" : "sub",
                                     serialHex: String(format: "%04x", i + 1), profile: i % 4 == 0 ? "person" : "tls-server", fields: ["n": String(i)]))
        }
        try log.append(events)
        let first = try log.page(matching: EventFilter(), before: nil, limit: 50)
        #expect(first.map { $0.index! } == Array((70..<120).reversed()))
        let second = try log.page(matching: EventFilter(), before: first.last!.index, limit: 50)
        #expect(second.map { $0.index! } == Array((20..<70).reversed()))
        let last = try log.page(matching: EventFilter(), before: 20, limit: 50)
        #expect(last.map { $0.index! } == Array((0..<20).reversed()))
        // Each criterion alone and together; the payload is the stored one.
        let refusals = try log.page(matching: EventFilter(type: "refuse", ca: "root"), before: nil, limit: 500)
        #expect(refusals.map { $0.index! } == (0..<120).filter { $0 % 6 == 0 }.reversed())
        #expect(refusals.allSatisfy { $0.payload.contains("\"index\":\($0.index!)") })
        #expect(try log.page(matching: EventFilter(serialHex: "0042"), before: nil, limit: 5).map { $0.index! } == [65])
        #expect(try log.page(matching: EventFilter(profile: "person"), before: 9, limit: 500).map { $0.index! } == [8, 4, 0])
        let window = EventFilter(since: t0.addingTimeInterval(600), until: t0.addingTimeInterval(900))
        #expect(try log.page(matching: window, before: nil, limit: 500).map { $0.index! } == [15, 14, 13, 12, 11, 10])
        // Injection attempts are values, not SQL: they match nothing and change nothing.
        for attack in ["root' OR '1'='1", "root'; DROP TABLE events; --", "x\" OR 1=1 --"] {
            #expect(try log.page(matching: EventFilter(ca: attack), before: nil, limit: 500).isEmpty)
            #expect(try log.page(matching: EventFilter(profile: attack), before: nil, limit: 500).isEmpty)
        }
        #expect(try log.size == 120)
    }
}

import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

@Suite("Batch issuance and serial numbers")
struct BatchTests {
    @Test("200 serial numbers: 16 octets, positive, unique; the database refuses a duplicate for the same CA")
    func serials() throws {
        let pki = try PKI()
        let csr = try TestSupport.csr(subject: "CN=device")
        let requests = (0..<200).map { i in
            IssuanceRequest(source: .csr(csr), profile: "tls-client", subject: try! Fixtures.dn("CN=device-\(i)"))
        }
        let results = try pki.authority.issue(requests, ca: "issuing", release: { _ in })
        let certificates = results.compactMap(\.certificate)
        #expect(certificates.count == 200)
        for c in certificates {
            #expect(c.serial.count == 16, "\(c.serialHex)")
            #expect(c.serial[0] & 0x80 == 0, "\(c.serialHex) is negative")
            #expect(c.serialHex.count == 32)
        }
        #expect(Set(certificates.map(\.serial)).count == 200)
        #expect(try pki.allCertificateRecords().filter { $0.ca == "issuing" }.count == 200)

        // OpenSSL reads the same serial.
        let first = try #require(certificates.first)
        let printed = try TestSupport.openssl(["x509", "-in", try pki.write(first), "-noout", "-serial"])
        #expect(printed.stdout.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == "serial=\(first.serialHex)")

        // UNIQUE (ca, serial): inserting the same record again fails, and the failed transaction
        // leaves neither a second record nor its audit event.
        guard case .issued(_, let record)? = results.first else {
            Issue.record("the first request was not issued")
            return
        }
        let store = pki.authority.store
        let log = pki.authority.auditLog
        let eventsBefore = try log.events().count
        let event = AuditEvent(type: "issue", time: Date(), ca: "issuing", serialHex: record.serialHex, profile: record.profile,
                               fields: ["note": "duplicate"])
        #expect(throws: ETrustError.self) {
            try store.transaction {
                try log.append([event])
                try store.insert(certificates: [record])
            }
        }
        #expect(try store.certificates(serialHex: record.serialHex).count == 1)
        #expect(try log.events().count == eventsBefore)

        // The same serial under another CA is a different certificate.
        var other = record
        other.ca = "root"
        try store.insert(certificates: [other])
        #expect(try Set(store.certificates(serialHex: record.serialHex).map(\.ca)) == ["issuing", "root"])
        #expect(throws: ETrustError.self) { try store.insert(certificates: [other]) }
    }

    @Test("a batch of 53: 50 issued, 1 refused, 2 failed, in request order; release sees each group after it is stored")
    func batch() throws {
        let pki = try PKI(batchCommitSize: 10)
        let authority = pki.authority
        let store = authority.store
        let csr = try TestSupport.csr(subject: "CN=device")
        let dir = pki.folder
        let csrPath = dir + "/device.csr"
        try csr.pem.write(toFile: csrPath, atomically: true, encoding: .utf8)

        let refusedIndex = 7, unknownProfileIndex = 23, missingFileIndex = 41
        var requests: [IssuanceRequest] = []
        for i in 0..<53 {
            let source: IssuanceRequest.Source = i % 5 == 0 ? .csrFile(csrPath) : .csr(csr)
            var r = IssuanceRequest(source: source, profile: "tls-client", subject: try Fixtures.dn("CN=device-\(i),O=Gov,C=TG"),
                                    label: "line \(i + 2)")
            switch i {
            case refusedIndex: r.subject = try Fixtures.dn("CN=device-\(i),L=Lome,C=TG")   // L is not in tls-client
            case unknownProfileIndex: r.profile = "no-such-profile"
            case missingFileIndex: r.source = .csrFile(dir + "/does-not-exist.csr")
            default: break
            }
            requests.append(r)
        }

        let eventsBefore = try authority.auditLog.events().count
        let recordsBefore = try pki.allCertificateRecords().count
        var groups: [[Int]] = []
        var seenInRelease = 0
        let results = try authority.issue(requests, ca: "issuing") { group in
            groups.append(group.map(\.index))
            for (_, result) in group {
                guard let c = result.certificate else { continue }
                // Released only once recorded.
                let stored = try store.certificates(serialHex: c.serialHex)
                #expect(stored.count == 1)
                #expect(stored.first?.der == c.der)
                #expect(try authority.auditLog.events().contains { $0.type == "issue" && $0.serialHex == c.serialHex })
                seenInRelease += 1
            }
        }

        #expect(groups == stride(from: 0, to: 53, by: 10).map { Array($0..<min($0 + 10, 53)) })
        #expect(seenInRelease == 50)
        #expect(results.count == 53)
        #expect(results.compactMap(\.certificate).count == 50)
        for (i, result) in results.enumerated() {
            switch (i, result) {
            case (refusedIndex, .refused(let profile, let rule, let reason)):
                #expect(profile == "tls-client")
                #expect(rule == "subject.attributes", "\(reason)")
            case (unknownProfileIndex, .failed(let e)):
                #expect(e.category == .badInput)
                #expect(e.code == .notFound)
                #expect(e.reason.contains("no-such-profile"))
            case (missingFileIndex, .failed(let e)):
                #expect(e.category == .badInput)
                #expect(e.reason.contains("does-not-exist.csr"))
            case (_, .issued(let c, let record)):
                #expect(![refusedIndex, unknownProfileIndex, missingFileIndex].contains(i))
                // Results are in request order.
                #expect(c.subject.values(ofName: "CN") == ["device-\(i)"])
                #expect(record.serialHex == c.serialHex)
            default:
                Issue.record("request \(i): unexpected result \(result)")
            }
        }

        let newEvents = try authority.auditLog.events().dropFirst(eventsBefore)
        #expect(newEvents.filter { $0.type == "issue" }.count == 50)
        #expect(newEvents.filter { $0.type == "refuse" }.count == 1)
        // Besides them only the audit key's creation (the first group's checkpoint signs with it).
        #expect(newEvents.filter { $0.type != "key" }.count == 51)
        #expect(try pki.allCertificateRecords().count == recordsBefore + 50)
    }

    @Test("a release that throws stops the batch after the group already stored")
    func releaseThrows() throws {
        let pki = try PKI(batchCommitSize: 5)
        let csr = try TestSupport.csr(subject: "CN=device")
        let requests = (0..<12).map { i in
            IssuanceRequest(source: .csr(csr), profile: "tls-client", subject: try! Fixtures.dn("CN=device-\(i)"))
        }
        struct Stop: Error {}
        var calls = 0
        #expect(throws: Stop.self) {
            _ = try pki.authority.issue(requests, ca: "issuing") { _ in
                calls += 1
                throw Stop()
            }
        }
        #expect(calls == 1)
        // The first group was committed before release; nothing after it was stored.
        #expect(try pki.allCertificateRecords().filter { $0.ca == "issuing" }.count == 5)
    }
}

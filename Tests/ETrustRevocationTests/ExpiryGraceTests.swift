import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// CRL contents over time, with the library and fixed clocks.
@Suite("expired certificates leave the CRL after crl.expiredGrace")
struct ExpiryGraceTests {
    static let t0 = Rev.utc(2030, 3, 1)
    static let week: TimeInterval = 7 * 86_400

    static func authority(_ home: String, at date: Date) throws -> Authority {
        try Authority(home: try Home.open(home), clock: FixedClock(date), passphrase: { Array("test-passphrase".utf8) })
    }

    static func issue(_ a: Authority, ca: String, cn: String, validity: String) throws -> CertificateRecord {
        let request = IssuanceRequest(source: .csr(try TestSupport.csr(subject: "CN=\(cn)")), profile: "tls-client",
                                      validity: try ValidityDuration(parsing: validity))
        return try a.issue(request, ca: ca).1
    }

    static func publish(_ home: String, ca: String, at date: Date) throws -> CertificateRevocationList {
        let published = try authority(home, at: date).publishCRL(ca: ca)
        let der = try #require(published.first?.der)
        // What was published is what was returned.
        #expect(try Rev.bytes(home + "/pub/crl/\(ca).crl") == der)
        return try CertificateRevocationList(der: der)
    }

    @Test("sub-ca (default grace: one 7-day period) and a profile with expiredGrace: 2d")
    func grace() throws {
        let pki = try TestSupport.makePKI(clock: FixedClock(Self.t0))
        let home = pki.home
        defer { try? FileManager.default.removeItem(atPath: (home as NSString).deletingLastPathComponent) }

        // A CA profile with an explicit, shorter grace.
        let subCA = try String(contentsOfFile: home + "/policies/sub-ca.yaml", encoding: .utf8)
        let graced = subCA.replacingOccurrences(of: "profile: sub-ca\n", with: "profile: sub-ca-grace\n")
            .replacingOccurrences(of: "  deltaPeriod: 1d", with: "  expiredGrace: 2d\n  deltaPeriod: 1d")
        #expect(graced.contains("profile: sub-ca-grace") && graced.contains("expiredGrace: 2d"))
        try Rev.write(graced, to: home + "/policies/sub-ca-grace.yaml")
        let setup = try Self.authority(home, at: Self.t0)
        let gracedSeconds: Int64 = try #require(setup.profiles["sub-ca-grace"]?.crl?.expiredGrace.seconds)
        let defaultSeconds: Int64 = try #require(setup.profiles["sub-ca"]?.crl?.expiredGrace.seconds)
        #expect(gracedSeconds == 172_800)
        #expect(defaultSeconds == 604_800, "default grace is one period")
        var creation = Authority.CACreation(name: "graced", subject: "CN=Graced CA,O=etrust tests,C=TG")
        creation.parent = "root"
        creation.profile = "sub-ca-grace"
        try setup.createCA(creation)

        let short = try Self.issue(setup, ca: "issuing", cn: "short", validity: "30d")
        let long = try Self.issue(setup, ca: "issuing", cn: "long", validity: "365d")
        let gracedLeaf = try Self.issue(setup, ca: "graced", cn: "graced-short", validity: "30d")

        let later = try Self.authority(home, at: Self.t0.addingTimeInterval(86_400))
        for r in [short, long] { try later.revoke(ca: "issuing", serial: r.serialHex, reason: .keyCompromise) }
        try later.revoke(ca: "graced", serial: gracedLeaf.serialHex, reason: .superseded)

        func listed(_ crl: CertificateRevocationList) -> Set<String> { Set(crl.entries.map(\.serialHex)) }

        // Before notAfter, just after it, and up to the end of the grace: listed.
        for offset in [-86_400.0, 3_600, Self.week - 3_600] {
            let at = short.notAfter.addingTimeInterval(offset)
            let crl = try Self.publish(home, ca: "issuing", at: at)
            #expect(listed(crl) == [short.serialHex, long.serialHex], "at notAfter\(offset >= 0 ? "+" : "")\(offset)s: \(listed(crl))")
            #expect(crl.thisUpdate == at)
            #expect(crl.nextUpdate == at.addingTimeInterval(Self.week), "nextUpdate = thisUpdate + crl.period (7d)")
        }
        // After the grace: gone; the certificate that has not expired stays.
        let after = try Self.publish(home, ca: "issuing", at: short.notAfter.addingTimeInterval(Self.week + 3_600))
        #expect(listed(after) == [long.serialHex], "after notAfter + grace: \(listed(after))")
        // The database still knows it was revoked.
        #expect(try later.store.certificate(ca: "issuing", serialHex: short.serialHex)?.status == .revoked)

        // The explicit 2-day grace.
        let within = try Self.publish(home, ca: "graced", at: gracedLeaf.notAfter.addingTimeInterval(2 * 86_400 - 3_600))
        #expect(listed(within) == [gracedLeaf.serialHex])
        #expect(within.entries.first?.reason == .superseded)
        let beyond = try Self.publish(home, ca: "graced", at: gracedLeaf.notAfter.addingTimeInterval(2 * 86_400 + 3_600))
        #expect(listed(beyond).isEmpty, "after notAfter + 2d: \(listed(beyond))")
    }

    @Test("thisUpdate, nextUpdate and AKI of full, delta and root CRLs; nextUpdate never beyond the issuer's notAfter")
    func datesAndIdentifiers() throws {
        let pki = try TestSupport.makePKI(clock: FixedClock(Self.t0))
        defer { try? FileManager.default.removeItem(atPath: (pki.home as NSString).deletingLastPathComponent) }
        let a = pki.authority
        let leaf = try Self.issue(a, ca: "issuing", cn: "dated", validity: "90d")
        try a.revoke(ca: "issuing", serial: leaf.serialHex, reason: .unspecified, invalidityDate: Self.t0.addingTimeInterval(-86_400))

        let issuing = try #require(try a.store.ca(named: "issuing")).certificate
        let root = try #require(try a.store.ca(named: "root")).certificate
        let full = try CertificateRevocationList(der: try #require(try a.publishCRL(ca: "issuing").first?.der))
        #expect(full.thisUpdate == Self.t0 && full.nextUpdate == Self.t0.addingTimeInterval(Self.week))
        #expect(full.issuer == issuing.subject)
        let aki = try #require(full.extensions.first { $0.oid == ExtensionOID.authorityKeyIdentifier })
        #expect(aki == Extension.authorityKeyIdentifier(try #require(issuing.subjectKeyIdentifier)))
        let entry = try #require(full.entries.first)
        #expect(entry.reason == nil, "unspecified: no reasonCode")
        #expect(entry.invalidityDate == Self.t0.addingTimeInterval(-86_400))
        #expect(full.verify(issuer: issuing, at: Self.t0).problems.isEmpty)

        let deltaTime = Self.t0.addingTimeInterval(3_600)
        let delta = try CertificateRevocationList(der: try #require(try Self.authority(pki.home, at: deltaTime)
            .publishCRL(ca: "issuing", delta: true).first?.der))
        #expect(delta.thisUpdate == deltaTime && delta.nextUpdate == deltaTime.addingTimeInterval(86_400), "delta: crl.deltaPeriod 1d")
        #expect(delta.deltaBase == full.number)
        #expect(delta.verify(issuer: issuing, at: deltaTime).problems.isEmpty)

        let rootCRL = try CertificateRevocationList(der: try #require(try a.publishCRL(ca: "root").first?.der))
        #expect(rootCRL.nextUpdate == Self.t0.addingTimeInterval(90 * 86_400), "root-ca: crl.period 90d")
        #expect(rootCRL.issuer == root.subject)
        #expect(rootCRL.verify(issuer: root, at: Self.t0).problems.isEmpty)
        #expect(rootCRL.extensions.first { $0.oid == ExtensionOID.freshestCRL } == nil, "the root publishes no deltas")

        // Close to the end of the issuing CA's life the CRL does not promise beyond it.
        let nearEnd = issuing.notAfter.addingTimeInterval(-86_400)
        let last = try CertificateRevocationList(der: try #require(try Self.authority(pki.home, at: nearEnd).publishCRL(ca: "issuing").first?.der))
        #expect(last.nextUpdate == issuing.notAfter)
    }
}

import ETrustCA
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// One home holding CRLs with every reason code, a delta with a released hold, partitioned shards
/// with entries, and the root's ARL listing a revoked sub-CA. Built once with the CLI; the tests
/// only read its files.
final class RevokedFixture: Sendable {
    struct Expected: Sendable {
        var reason: RevocationReason
        var invalidity: Date?
    }

    let home: TestHome
    /// serial -> what the full CRL must say about it.
    let full: [String: Expected]
    /// serial -> what the delta CRL must say about it (new revocations and the released hold).
    let delta: [String: Expected]
    /// shard file -> serial -> expected.
    let shards: [String: [String: Expected]]
    let arl: [String: Expected]

    static let reasons: [RevocationReason] = [.unspecified, .keyCompromise, .cACompromise, .affiliationChanged, .superseded,
                                              .cessationOfOperation, .certificateHold, .privilegeWithdrawn, .aACompromise]

    static let shared: Swift.Result<RevokedFixture, any Error> = Swift.Result { try RevokedFixture() }

    private init() throws {
        let h = try Rev.home("fixture")
        home = h
        var full: [String: Expected] = [:]
        var held: Leaf?
        for (i, reason) in Self.reasons.enumerated() {
            let leaf = try h.issue(cn: "reason-\(reason.name)")
            var extra: [String] = []
            var invalidity: Date?
            if i % 2 == 1 {
                invalidity = Rev.utc(2026, 1, 2, 3, 4, i)
                extra = ["--invalidity-date", RFC3339.format(invalidity!)]
            }
            try h.revoke(leaf, reason: reason.name, extra: extra)
            full[leaf.serial] = Expected(reason: reason, invalidity: invalidity)
            if reason == .certificateHold { held = leaf }
        }
        try h.publish("issuing")

        var delta: [String: Expected] = [:]
        let late = try h.issue(cn: "late")
        let lateInvalidity = Rev.utc(2025, 12, 24, 18, 0, 0)
        try h.revoke(late, reason: "keyCompromise", extra: ["--invalidity-date", RFC3339.format(lateInvalidity)])
        delta[late.serial] = Expected(reason: .keyCompromise, invalidity: lateInvalidity)
        try h.ok(["unhold", "--ca", "issuing", "--serial", held!.serial])
        delta[held!.serial] = Expected(reason: .removeFromCRL, invalidity: nil)
        try h.publish("issuing", delta: true)

        var shards: [String: [String: Expected]] = [:]
        for (i, reason) in [RevocationReason.keyCompromise, .unspecified, .superseded, .privilegeWithdrawn].enumerated() {
            let leaf = try h.issue(ca: "part", cn: "part-\(i)")
            let shard = try h.sql("SELECT shard FROM certificates WHERE serial = '\(leaf.serial)'")
            let invalidity: Date? = i == 0 ? Rev.utc(2026, 2, 1) : nil
            try h.revoke(leaf, reason: reason.name, extra: invalidity.map { ["--invalidity-date", RFC3339.format($0)] } ?? [])
            shards["part-\(shard).crl", default: [:]][leaf.serial] = Expected(reason: reason, invalidity: invalidity)
        }
        try h.publish("part")

        // The root revokes one of its sub-CAs: an ARL with an entry.
        let spareSerial = try Certificate(bytes: try Rev.bytes(h.caPEM("spare"))).serialHex
        try h.ok(["revoke", "--ca", "root", "--serial", spareSerial, "--reason", "cACompromise"])
        try h.publish("root")

        self.full = full
        self.delta = delta
        self.shards = shards
        self.arl = [spareSerial: Expected(reason: .cACompromise, invalidity: nil)]
    }

    var allFiles: [String] { ["issuing.crl", "issuing-delta.crl", "root.crl"] + shards.keys.sorted() }
}

@Suite("pyca/cryptography and pkilint read the published CRLs")
struct ExternalParserTests {
    /// pyca's name of each RFC 5280 reason (x509.ReasonFlags).
    static let pycaNames: [RevocationReason: String] = [
        .unspecified: "unspecified", .keyCompromise: "key_compromise", .cACompromise: "ca_compromise",
        .affiliationChanged: "affiliation_changed", .superseded: "superseded", .cessationOfOperation: "cessation_of_operation",
        .certificateHold: "certificate_hold", .removeFromCRL: "remove_from_crl", .privilegeWithdrawn: "privilege_withdrawn",
        .aACompromise: "aa_compromise",
    ]

    static let script = """
    import sys, json
    from cryptography import x509
    out = {}
    for path in sys.argv[2:]:
        crl = x509.load_der_x509_crl(open(path, 'rb').read())
        d = {"number": None, "delta": None, "idp": None, "lookups": {}, "count": len(crl)}
        try: d["number"] = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except x509.ExtensionNotFound: pass
        try: d["delta"] = crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number
        except x509.ExtensionNotFound: pass
        try:
            ext = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
            d["idp"] = [n.value for n in ext.value.full_name]
            d["idpCritical"] = ext.critical
        except x509.ExtensionNotFound: pass
        for serial in json.loads(sys.argv[1]).get(path, []):
            r = crl.get_revoked_certificate_by_serial_number(int(serial, 16))
            if r is None:
                d["lookups"][serial] = None
                continue
            e = {"revoked": int(r.revocation_date_utc.timestamp())}
            try: e["reason"] = r.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
            except x509.ExtensionNotFound: e["reason"] = None
            try: e["invalidity"] = int(r.extensions.get_extension_for_class(x509.InvalidityDate).value.invalidity_date_utc.timestamp())
            except x509.ExtensionNotFound: e["invalidity"] = None
            d["lookups"][serial] = e
        out[path] = d
    print(json.dumps(out))
    """

    @Test("load_der_x509_crl parses full, delta and shard CRLs; every revoked serial has its reason and invalidity date")
    func pyca() throws {
        let fixture = try RevokedFixture.shared.get()
        let h = fixture.home
        var expected: [String: [String: RevokedFixture.Expected]] = [
            h.crlPath("issuing.crl"): fixture.full, h.crlPath("issuing-delta.crl"): fixture.delta, h.crlPath("root.crl"): fixture.arl,
        ]
        for (file, entries) in fixture.shards { expected[h.crlPath(file)] = entries }
        // A serial of another shard must not be found in this one.
        let someShard = try #require(fixture.shards.keys.sorted().first)
        let foreign = fixture.shards.filter { $0.key != someShard }.flatMap { $0.value.keys }
        let untouched = (0..<16).map { "part-\($0).crl" }.first { fixture.shards[$0] == nil }!
        let serials: [String: [String]] = expected.mapValues { Array($0.keys) }
            .merging([h.crlPath(someShard): Array(fixture.shards[someShard]!.keys) + foreign,
                      h.crlPath(untouched): Array(fixture.full.keys.prefix(1))]) { $1 }
        let argument = String(decoding: try JSONSerialization.data(withJSONObject: serials), as: UTF8.self)

        let python = try Rev.venvTool("python")
        let r = try TestSupport.run(python, ["-c", Self.script, argument] + serials.keys.sorted())
        try #require(r.status == 0, "pyca failed: \(r.stderr)")
        let json = try #require(r.json, "pyca printed: \(r.stdout)")

        for (path, entries) in expected {
            let d = try #require(json[path] as? [String: Any], "no result for \(path)")
            let lookups = try #require(d["lookups"] as? [String: Any])
            let count = try #require(d["count"] as? Int)
            // A delta may repeat revocations recorded in its base's second; every other CRL lists exactly these.
            #expect(path.hasSuffix("-delta.crl") ? count >= entries.count : count == entries.count, "\(path): \(count) entries")
            for (serial, e) in entries {
                let found = try #require(lookups[serial] as? [String: Any], "\(path): get_revoked_certificate_by_serial_number(\(serial)) found nothing")
                let reason = found["reason"] as? String
                if e.reason == .unspecified {
                    #expect(reason == nil, "\(path) \(serial): unspecified must be expressed by no reasonCode, got \(reason ?? "nil")")
                } else {
                    #expect(reason == Self.pycaNames[e.reason], "\(path) \(serial): reason \(reason ?? "nil"), expected \(e.reason.name)")
                }
                let invalidity = (found["invalidity"] as? Int).map { Date(timeIntervalSince1970: TimeInterval($0)) }
                #expect(invalidity == e.invalidity, "\(path) \(serial): invalidity \(String(describing: invalidity))")
            }
        }
        // The full CRL lists the revocations made before it, no more (a released hold leaves only the next full CRL).
        let fullResult = try #require(json[h.crlPath("issuing.crl")] as? [String: Any])
        #expect(fullResult["count"] as? Int == fixture.full.count)
        #expect(fullResult["delta"] is NSNull)
        let deltaResult = try #require(json[h.crlPath("issuing-delta.crl")] as? [String: Any])
        #expect(deltaResult["delta"] as? Int == fullResult["number"] as? Int, "deltaCRLIndicator names the base")
        #expect((deltaResult["number"] as? Int ?? 0) > (fullResult["number"] as? Int ?? .max))
        let shardResult = try #require(json[h.crlPath(someShard)] as? [String: Any])
        #expect(shardResult["idp"] as? [String] == ["\(Rev.baseURL)/crl/\(someShard)"])
        #expect(shardResult["idpCritical"] as? Bool == true)
        let shardLookups = try #require(shardResult["lookups"] as? [String: Any])
        for serial in foreign where fixture.shards[someShard]?[serial] == nil {
            #expect(shardLookups[serial] is NSNull, "\(someShard) lists \(serial) of another shard")
        }
        let untouchedResult = try #require(json[h.crlPath(untouched)] as? [String: Any])
        #expect(untouchedResult["count"] as? Int == 0)
        #expect(untouchedResult["idp"] as? [String] == ["\(Rev.baseURL)/crl/\(untouched)"])
    }

    /// `lint_crl lint -t TYPE -p PKIX -s ERROR -f JSON FILE`: the findings (empty when clean).
    static func lint(_ file: String, type: String) throws -> [Any] {
        let tool = try Rev.venvTool("lint_crl")
        let r = try TestSupport.run(tool, ["lint", "-t", type, "-p", "PKIX", "-s", "ERROR", "-f", "JSON", file])
        let json = try #require(r.json, "lint_crl \(file) printed no JSON (status \(r.status)): \(r.stdout) \(r.stderr)")
        let results = try #require(json["results"] as? [Any], "lint_crl JSON without results: \(r.stdout)")
        #expect(!r.stdout.contains("FATAL") && !r.stdout.contains("ERROR"), "\(file): \(r.stdout)")
        return results
    }

    @Test("pkilint: no ERROR or FATAL finding for full, delta and shard CRLs (PKIX CRL) nor the root's ARL")
    func pkilint() throws {
        let fixture = try RevokedFixture.shared.get()
        let h = fixture.home
        for file in ["issuing.crl", "issuing-delta.crl"] + fixture.shards.keys.sorted() + ["part-0.crl"] {
            let findings = try Self.lint(h.crlPath(file), type: "CRL")
            #expect(findings.isEmpty, "lint_crl -t CRL \(file): \(findings)")
        }
        let arl = try Self.lint(h.crlPath("root.crl"), type: "ARL")
        #expect(arl.isEmpty, "lint_crl -t ARL root.crl: \(arl)")
        #expect(try h.crl("root.crl").entries.count == 1, "the ARL lists the revoked sub-CA")
        // The text format at ERROR level reports nothing either.
        let tool = try Rev.venvTool("lint_crl")
        let text = try TestSupport.run(tool, ["lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", h.crlPath("issuing.crl")])
        #expect(text.status == 0 && text.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(text.stdout) \(text.stderr)")
    }

    @Test("our CRL parser agrees with the fixture: every reason code, invalidity dates, removeFromCRL in the delta")
    func ownParser() throws {
        let fixture = try RevokedFixture.shared.get()
        let h = fixture.home
        let full = try h.crl("issuing.crl")
        #expect(Set(full.entries.map(\.serialHex)) == Set(fixture.full.keys))
        for e in full.entries {
            let want = try #require(fixture.full[e.serialHex])
            #expect(e.reason == (want.reason == .unspecified ? nil : want.reason), "\(e.serialHex)")
            #expect(e.invalidityDate == want.invalidity)
        }
        // Every RFC 5280 reason a certificate can be revoked for is on the CRL.
        #expect(Set(full.entries.map { $0.reason ?? .unspecified }) == Set(RevokedFixture.reasons))
        let delta = try h.crl("issuing-delta.crl")
        for (serial, want) in fixture.delta {
            #expect(delta.entries.first { $0.serialHex == serial }?.reason == want.reason)
        }
        #expect(delta.deltaBase == full.number)
    }
}

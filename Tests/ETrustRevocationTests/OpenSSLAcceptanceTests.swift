import ETrustCA
import ETrustCore
import Foundation
import Testing

/// The CRLs `etrust crl` publishes, judged by the openssl CLI as a relying party would use them.
@Suite("openssl accepts and applies the published CRLs")
struct OpenSSLAcceptanceTests {
    static func expectCRLSignatureOK(_ file: String, issuer: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try Rev.openssl(["crl", "-inform", "DER", "-in", file, "-CAfile", issuer, "-noout", "-verify"])
        #expect(r.status == 0 && r.output.contains("verify OK"), "openssl crl -verify \(file): \(r.output)", sourceLocation: sourceLocation)
    }

    static func expectRevoked(_ r: Rev.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status != 0, "\(what) should be rejected: \(r.output)", sourceLocation: sourceLocation)
        #expect(r.output.contains("certificate revoked"), "\(what): \(r.output)", sourceLocation: sourceLocation)
    }

    static func expectValid(_ r: Rev.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0 && r.stdout.contains(": OK"), "\(what) should verify: \(r.output)", sourceLocation: sourceLocation)
    }

    @Test("full and delta CRLs: signatures verify; revoked leaves are rejected, deltas and released holds are applied")
    func fullAndDelta() throws {
        let h = try Rev.home("openssl-delta")
        let good = try h.issue(cn: "good")
        let compromised = try h.issue(cn: "compromised")
        let held = try h.issue(cn: "held")
        let late = try h.issue(cn: "late")

        try h.revoke(compromised, reason: "keyCompromise", extra: ["--invalidity-date", "2026-01-01T00:00:00Z"])
        try h.revoke(held, reason: "certificateHold")
        let full = try h.publish("issuing")
        #expect(full.count == 1 && full.first?["kind"] as? String == "full")
        try h.publish("root")

        try Self.expectCRLSignatureOK(h.crlPath("issuing.crl"), issuer: h.caPEM("issuing"))
        try Self.expectCRLSignatureOK(h.crlPath("root.crl"), issuer: h.caPEM("root"))
        // The wrong issuer's key does not verify the CRL.
        let wrong = try Rev.openssl(["crl", "-inform", "DER", "-in", h.crlPath("issuing.crl"), "-CAfile", h.caPEM("spare"),
                                     "-noout", "-verify"])
        #expect(!wrong.output.contains("verify OK"), "verified with another CA's key: \(wrong.output)")

        // The complete CRL and its freshestCRL pointer; leaves of a delta-publishing CA carry one too.
        let fullCRL = try h.crl("issuing.crl")
        let freshest = try #require(fullCRL.extensions.first { $0.oid == ExtensionOID.freshestCRL }, "the full CRL has no freshestCRL")
        #expect(String(decoding: freshest.value, as: UTF8.self).contains("\(Rev.baseURL)/crl/issuing-delta.crl"))
        let leafCert = try Certificate(bytes: try Rev.bytes(good.pem))
        let leafFreshest = try #require(leafCert.extension(ExtensionOID.freshestCRL), "a sub-ca leaf carries no freshestCRL")
        #expect(leafFreshest.value == freshest.value)

        let crls = try h.pemCopy(of: ["issuing.crl", "root.crl"], name: "full")
        Self.expectValid(try h.opensslVerify(good, crls: crls), "good leaf")
        Self.expectRevoked(try h.opensslVerify(compromised, crls: crls), "keyCompromise leaf")
        Self.expectRevoked(try h.opensslVerify(held, crls: crls), "held leaf")
        Self.expectValid(try h.opensslVerify(late, crls: crls), "leaf not yet revoked")
        // Without the root's CRL the issuing CA's status is unknown: -crl_check_all needs it.
        let partial = try h.pemCopy(of: ["issuing.crl"], name: "partial")
        let missing = try h.opensslVerify(good, crls: partial)
        #expect(missing.status != 0 && missing.output.contains("unable to get certificate CRL"), "\(missing.output)")

        let text = try Rev.openssl(["crl", "-inform", "DER", "-in", h.crlPath("issuing.crl"), "-noout", "-text"])
        #expect(text.stdout.contains("Version 2 (0x1)"), "\(text.stdout)")

        // After the full CRL: a new revocation (stated as effective 10 minutes before the full CRL:
        // the delta lists what was recorded since its base, whatever the stated time) and a
        // released hold, published in a delta only.
        let backdated = fullCRL.thisUpdate.addingTimeInterval(-600)
        try h.revoke(late, reason: "superseded", extra: ["--at", RFC3339.format(backdated)])
        try h.ok(["unhold", "--ca", "issuing", "--serial", held.serial])
        let deltaRows = try h.publish("issuing", delta: true)
        let deltaRow = try #require(deltaRows.first)
        #expect(deltaRow["kind"] as? String == "delta")
        #expect(deltaRow["baseNumber"] as? Int == full.first?["number"] as? Int)
        try Self.expectCRLSignatureOK(h.crlPath("issuing-delta.crl"), issuer: h.caPEM("issuing"))

        let delta = try h.crl("issuing-delta.crl")
        #expect(delta.deltaBase == fullCRL.number)
        let indicator = try #require(delta.extensions.first { $0.oid == "2.5.29.27" })
        #expect(indicator.critical)
        #expect(delta.entries.first { $0.serialHex == late.serial }?.reason == .superseded)
        #expect(delta.entries.first { $0.serialHex == late.serial }?.revocationDate == backdated)
        #expect(delta.entries.first { $0.serialHex == held.serial }?.reason == .removeFromCRL,
                "a released hold is listed as removeFromCRL on the next delta: \(delta.entries)")
        #expect(!fullCRL.entries.contains { $0.serialHex == late.serial })

        let withDelta = try h.pemCopy(of: ["issuing.crl", "root.crl", "issuing-delta.crl"], name: "delta")
        let deltaFlags = ["-crl_check_all", "-extended_crl", "-use_deltas"]
        Self.expectRevoked(try h.opensslVerify(late, crls: withDelta, flags: deltaFlags), "leaf revoked in the delta only")
        Self.expectValid(try h.opensslVerify(held, crls: withDelta, flags: deltaFlags), "leaf whose hold the delta removes")
        Self.expectRevoked(try h.opensslVerify(compromised, crls: withDelta, flags: deltaFlags), "keyCompromise leaf with delta")
        Self.expectValid(try h.opensslVerify(good, crls: withDelta, flags: deltaFlags), "good leaf with delta")
        // The published full CRL alone (a relying party without deltas) does not know yet.
        Self.expectValid(try h.opensslVerify(late, crls: crls), "leaf revoked after the full CRL, without the delta")
    }

    @Test("partitioned CA: every shard CRL names its shard; a shard covers its own certificates and no others")
    func partitioned() throws {
        let h = try Rev.home("openssl-shards")
        // Issue until two certificates fall into different shards (15/16 per try).
        var leaves: [Leaf] = [try h.issue(ca: "part", cn: "p0")]
        var shards: [String: Int] = [:]
        func shard(_ leaf: Leaf) throws -> Int {
            if let s = shards[leaf.serial] { return s }
            let text = try h.sql("SELECT shard FROM certificates WHERE serial = '\(leaf.serial)'")
            let s = try #require(Int(text), "no shard for \(leaf.serial): '\(text)'")
            shards[leaf.serial] = s
            return s
        }
        for i in 1..<8 {
            leaves.append(try h.issue(ca: "part", cn: "p\(i)"))
            if Set(try leaves.map(shard)).count >= 2 { break }
        }
        let a = leaves[0]
        let b = try #require(try leaves.first { try shard($0) != shard(a) }, "eight certificates all in one shard")
        let shardA = try shard(a), shardB = try shard(b)
        #expect((0..<16).contains(shardA) && (0..<16).contains(shardB))

        // Each certificate's CDP names its shard's CRL (stored shard column), and only that.
        for leaf in leaves {
            let cert = try Certificate(bytes: try Rev.bytes(leaf.pem))
            let cdp = try #require(cert.extension(ExtensionOID.cRLDistributionPoints))
            let text = String(decoding: cdp.value, as: UTF8.self)
            let s = try shard(leaf)
            #expect(text.contains("\(Rev.baseURL)/crl/part-\(s).crl"), "CDP of shard \(s): \(text)")
            #expect(cert.extension(ExtensionOID.freshestCRL) == nil, "a partitioned CA publishes no deltas")
        }

        let rows = try h.publish("part")
        #expect(rows.count == 16, "etrust crl publishes every shard: \(rows.count)")
        #expect(Set(rows.compactMap { $0["shard"] as? Int }) == Set(0..<16))
        for k in 0..<16 {
            let crl = try h.crl("part-\(k).crl")
            let idp = try #require(crl.extensions.first { $0.oid == "2.5.29.28" }, "shard \(k) has no issuingDistributionPoint")
            #expect(idp.critical)
            #expect(crl.issuingDistributionPointURIs == ["\(Rev.baseURL)/crl/part-\(k).crl"])
        }
        try Self.expectCRLSignatureOK(h.crlPath("part-\(shardA).crl"), issuer: h.caPEM("part"))
        try h.publish("root")

        let ownA = try h.pemCopy(of: ["part-\(shardA).crl"], name: "own-a")
        let ownB = try h.pemCopy(of: ["part-\(shardB).crl"], name: "own-b")
        Self.expectValid(try h.opensslVerify(a, crls: ownA, flags: ["-crl_check"]), "certificate with its own shard's CRL")
        let foreign = try h.opensslVerify(a, crls: ownB, flags: ["-crl_check"])
        #expect(foreign.status != 0, "another shard's CRL must not cover the certificate: \(foreign.output)")
        #expect(foreign.output.contains("unable to get certificate CRL") || foreign.output.contains("different CRL scope"),
                "\(foreign.output)")

        try h.revoke(a, reason: "keyCompromise")
        try h.publish("part")
        let ownA2 = try h.pemCopy(of: ["part-\(shardA).crl"], name: "own-a2")
        let ownB2 = try h.pemCopy(of: ["part-\(shardB).crl"], name: "own-b2")
        Self.expectRevoked(try h.opensslVerify(a, crls: ownA2, flags: ["-crl_check"]), "revoked certificate, own shard")
        Self.expectValid(try h.opensslVerify(b, crls: ownB2, flags: ["-crl_check"]), "other certificate, own shard")
        // The revocation is listed in A's shard only.
        for k in 0..<16 {
            let listed = try h.crl("part-\(k).crl").entries.contains { $0.serialHex == a.serial }
            #expect(listed == (k == shardA), "shard \(k) lists \(a.serial): \(listed)")
        }
        // With every shard and the root's CRL, the whole chain checks out.
        let all = try h.pemCopy(of: (0..<16).map { "part-\($0).crl" } + ["root.crl"], name: "all")
        Self.expectRevoked(try h.opensslVerify(a, crls: all), "revoked certificate, all shards")
        Self.expectValid(try h.opensslVerify(b, crls: all), "good certificate, all shards")
    }
}

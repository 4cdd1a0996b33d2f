import ETrustCA
import ETrustCore
import Foundation
import Testing

@Suite("etrust revoke / unhold: rules, refusals and bad input")
struct RevocationRulesTests {
    /// Runs a command that must fail with `exit`, naming `mentions`, and change nothing.
    static func expectRefused(_ h: TestHome, _ args: [String], exit: Int32, mentions: [String] = [],
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try h.state()
        let r = try h.etrust(args)
        #expect(r.status == exit, "etrust \(args.joined(separator: " ")): exit \(r.status), expected \(exit): \(r.stderr)",
                sourceLocation: sourceLocation)
        #expect(!r.stderr.isEmpty, "no error message for \(args)", sourceLocation: sourceLocation)
        for m in mentions {
            #expect(r.stderr.contains(m), "the error should name '\(m)': \(r.stderr)", sourceLocation: sourceLocation)
        }
        let after = try h.state()
        #expect(after == before, "a refused command changed the database:\nbefore \(before)\nafter \(after)", sourceLocation: sourceLocation)
    }

    @Test("refusals and usage errors: exit codes, one clear line, nothing recorded")
    func refusals() throws {
        let h = try Rev.home("rules")
        let leaf = try h.issue(cn: "rules-leaf")
        let revoke = ["revoke", "--ca", "issuing"]

        try Self.expectRefused(h, revoke + ["--serial", "7fffffffffffffffffffffffffffff01"], exit: 1, mentions: ["7fffffffffffffffffffffffffffff01"])
        try Self.expectRefused(h, revoke + ["--serial", "zz"], exit: 2, mentions: ["zz"])
        try Self.expectRefused(h, revoke + ["--serial", leaf.serial, "--reason", "bogus"], exit: 2, mentions: ["bogus"])
        try Self.expectRefused(h, revoke + ["--serial", leaf.serial, "--reason", "removeFromCRL"], exit: 2, mentions: ["removeFromCRL"])
        // The serial belongs to the issuing CA: revoking it "in" another CA of the home is refused.
        try Self.expectRefused(h, ["revoke", "--ca", "part", "--serial", leaf.serial], exit: 1, mentions: [leaf.serial])
        try Self.expectRefused(h, ["revoke", "--ca", "root", "--serial", leaf.serial, "--reason", "keyCompromise"], exit: 1)
        try Self.expectRefused(h, ["revoke", "--ca", "nope", "--serial", leaf.serial], exit: 2, mentions: ["nope"])
        try Self.expectRefused(h, revoke + ["--serial", leaf.serial, "--at", "2099-01-01T00:00:00Z"], exit: 2, mentions: ["future"])
        try Self.expectRefused(h, revoke + ["--serial", leaf.serial, "--invalidity-date", "2099-01-01T00:00:00Z"], exit: 2)
        try Self.expectRefused(h, revoke + ["--serial", leaf.serial, "--at", "yesterday"], exit: 2, mentions: ["yesterday"])
        try Self.expectRefused(h, ["unhold", "--ca", "issuing", "--serial", leaf.serial], exit: 1, mentions: ["hold"])
        try Self.expectRefused(h, ["unhold", "--ca", "issuing", "--serial", "zz"], exit: 2)
        #expect(try h.status(of: leaf) == "valid")

        // CRLs: a delta needs a full CRL first, and a CA whose profile publishes deltas.
        try Self.expectRefused(h, ["crl", "--ca", "issuing", "--delta"], exit: 1, mentions: ["full CRL"])
        try Self.expectRefused(h, ["crl", "--ca", "root", "--delta"], exit: 1, mentions: ["deltaPeriod"])
        try Self.expectRefused(h, ["crl", "--ca", "part", "--delta"], exit: 1, mentions: ["deltaPeriod"])
        try Self.expectRefused(h, ["crl", "--ca", "nope"], exit: 2, mentions: ["nope"])
        try h.publish("root")
        try Self.expectRefused(h, ["crl", "--ca", "root", "--delta"], exit: 1, mentions: ["deltaPeriod"])
    }

    @Test("revoked is final except keyCompromise; a hold is released or made permanent; every step is audited")
    func supersedeAndHold() throws {
        let h = try Rev.home("supersede")
        let a = try h.issue(cn: "superseded-then-compromised")

        let revokeEvents = try h.count("events", where: "type = 'revoke'")
        try h.revoke(a, reason: "superseded", extra: ["--at", "2026-01-01T00:00:00Z"])
        // Durable before success: the database and the audit log say so once the command returns.
        #expect(try h.sql("SELECT status, revocation_reason, revoked_at FROM certificates WHERE serial = '\(a.serial)'")
                == "revoked|4|\(Int(Rev.utc(2026, 1, 1).timeIntervalSince1970))")
        #expect(try h.count("events", where: "type = 'revoke' AND serial = '\(a.serial)'") == 1)
        #expect(try h.status(of: a) == "revoked")

        try Self.expectRefused(h, ["revoke", "--ca", "issuing", "--serial", a.serial, "--reason", "superseded"], exit: 1, mentions: ["already revoked"])
        try Self.expectRefused(h, ["revoke", "--ca", "issuing", "--serial", a.serial, "--reason", "cessationOfOperation"], exit: 1)
        try Self.expectRefused(h, ["revoke", "--ca", "issuing", "--serial", a.serial, "--reason", "certificateHold"], exit: 1)
        try Self.expectRefused(h, ["unhold", "--ca", "issuing", "--serial", a.serial], exit: 1, mentions: ["hold"])

        let kc = try h.etrust(["revoke", "--ca", "issuing", "--serial", a.serial, "--reason", "keyCompromise", "--json"])
        #expect(kc.status == 0, "keyCompromise supersedes: \(kc.stderr)")
        #expect(kc.json?["reason"] as? String == "keyCompromise")
        #expect(try h.sql("SELECT revocation_reason FROM certificates WHERE serial = '\(a.serial)'") == "1")
        #expect(try h.count("events", where: "type = 'revoke' AND serial = '\(a.serial)'") == 2)
        let payload = try h.sql("SELECT payload FROM events WHERE type = 'revoke' AND serial = '\(a.serial)' ORDER BY id DESC LIMIT 1")
        #expect(payload.contains("superseded") && payload.contains("keyCompromise"), "the event records what it supersedes: \(payload)")
        // ... and once keyCompromise, nothing supersedes it.
        try Self.expectRefused(h, ["revoke", "--ca", "issuing", "--serial", a.serial, "--reason", "keyCompromise"], exit: 1)

        let full = try h.crl(((try #require(h.publish("issuing").first?["path"] as? String)) as NSString).lastPathComponent)
        #expect(full.entries.first { $0.serialHex == a.serial }?.reason == .keyCompromise, "the CRL shows keyCompromise: \(full.entries)")

        // certificateHold, then unhold: valid again and gone from the next full CRL.
        let b = try h.issue(cn: "held")
        try h.revoke(b, reason: "certificateHold")
        #expect(try h.status(of: b) == "revoked")
        #expect(try h.crl("issuing.crl").entries.contains { $0.serialHex == b.serial } == false, "not yet published")
        try h.publish("issuing")
        #expect(try h.crl("issuing.crl").entries.first { $0.serialHex == b.serial }?.reason == .certificateHold)
        try Self.expectRefused(h, ["revoke", "--ca", "issuing", "--serial", b.serial, "--reason", "certificateHold"], exit: 1)
        let unholdEvents = try h.count("events", where: "type = 'unhold'")
        let u = try h.etrust(["unhold", "--ca", "issuing", "--serial", b.serial, "--json"])
        #expect(u.status == 0, "unhold: \(u.stderr)")
        #expect(u.json?["status"] as? String == "valid")
        #expect(try h.status(of: b) == "valid")
        #expect(try h.count("events", where: "type = 'unhold'") == unholdEvents + 1)
        #expect(try h.count("events", where: "type = 'unhold' AND serial = '\(b.serial)'") == 1)
        try Self.expectRefused(h, ["unhold", "--ca", "issuing", "--serial", b.serial], exit: 1)
        try h.publish("issuing")
        #expect(try h.crl("issuing.crl").entries.contains { $0.serialHex == b.serial } == false,
                "the next full CRL no longer lists a released hold")
        let delta = try #require(try h.publish("issuing", delta: true).first)
        #expect(delta["kind"] as? String == "delta")

        // A hold may become permanent.
        let c = try h.issue(cn: "hold-then-permanent")
        try h.revoke(c, reason: "certificateHold")
        try h.revoke(c, reason: "cessationOfOperation")
        #expect(try h.sql("SELECT revocation_reason FROM certificates WHERE serial = '\(c.serial)'") == "5")
        try Self.expectRefused(h, ["unhold", "--ca", "issuing", "--serial", c.serial], exit: 1)

        // A released hold can be placed again.
        try h.revoke(b, reason: "certificateHold")
        #expect(try h.status(of: b) == "revoked")

        #expect(try h.count("events", where: "type = 'revoke'") == revokeEvents + 6)
        let verify = try h.etrust(["audit", "verify"])
        #expect(verify.status == 0, "audit verify: \(verify.output)")
        let log = try h.ok(["audit", "log", "--event", "revoke", "--serial", a.serial])
        #expect(log.stdout.contains(a.serial), "audit log --event revoke --serial: \(log.stdout)")
    }

    @Test("profiles restrict reasons: a tls-server certificate cannot be put on hold (BR), keyCompromise is fine")
    func profileRestrictsReasons() throws {
        let h = try Rev.home("tls-reasons")
        let leaf = try h.issue(profile: "tls-server", cn: "www.example.tg", san: "dns:www.example.tg")
        for reason in ["certificateHold", "cACompromise", "aACompromise"] {
            try Self.expectRefused(h, ["revoke", "--ca", "issuing", "--serial", leaf.serial, "--reason", reason], exit: 1,
                                   mentions: ["revocation.reasons", "tls-server", reason])
        }
        #expect(try h.status(of: leaf) == "valid")
        // Serials are read as hex whatever the case, with colons or a 0x prefix.
        try h.ok(["revoke", "--ca", "issuing", "--serial", "0x" + leaf.serial.uppercased(), "--reason", "keyCompromise"])
        #expect(try h.status(of: leaf) == "revoked")
        #expect(try h.sql("SELECT revocation_reason FROM certificates WHERE serial = '\(leaf.serial)'") == "1")
    }

    @Test("every RFC 5280 reason a certificate can be revoked for is accepted and recorded",
          arguments: RevokedFixture.reasons)
    func everyReason(_ reason: RevocationReason) throws {
        let fixture = try RevokedFixture.shared.get()
        let h = fixture.home
        let serial = try #require(fixture.full.first { $0.value.reason == reason }?.key)
        let row = try h.sql("SELECT revocation_reason FROM certificates WHERE serial = '\(serial)'")
        if reason == .certificateHold {
            // Released in the fixture: valid again, reason kept for the record.
            #expect(try h.sql("SELECT status FROM certificates WHERE serial = '\(serial)'") == "valid")
        } else {
            #expect(row == String(reason.rawValue))
            #expect(try h.sql("SELECT status FROM certificates WHERE serial = '\(serial)'") == "revoked")
        }
        #expect(try h.count("events", where: "type = 'revoke' AND serial = '\(serial)'") == 1)
        let entry = try #require(try h.crl("issuing.crl").entries.first { $0.serialHex == serial })
        #expect(entry.reason == (reason == .unspecified ? nil : reason), "RFC 5280 5.3.1: reasonCode omitted for unspecified")
    }
}

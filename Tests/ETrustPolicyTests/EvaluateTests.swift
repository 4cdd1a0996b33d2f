import ETrustCore
import ETrustPolicy
import ETrustTestSupport
import Foundation
import Testing

/// Profile.evaluate on the shipped profiles (and a few written here), rule by rule.
@Suite("Profile.evaluate")
struct EvaluateTests {
    static let profiles: [String: Profile] = ProfileLoader.loadDirectory(TestSupport.packageRoot + "/Policies").profiles

    static func profile(_ name: String) throws -> Profile {
        try #require(profiles[name], "profile \(name) is missing from Policies/")
    }

    static func date(_ text: String) throws -> Date { try RFC3339.parse(text) }

    static func facts(subject: String?, sans: [String] = [], key: PublicKeyKind = .ec(curve: "P-256", bits: 256),
                      extensions: [Extension] = [], validity: String? = nil,
                      at: String = "2026-06-01T00:00:00Z") throws -> RequestFacts {
        RequestFacts(subject: try subject.map { try DistinguishedName(parsing: $0) } ?? DistinguishedName(der: [0x30, 0x00]),
                     subjectAltNames: try sans.map { try GeneralName(parsing: $0) }, publicKey: key,
                     requestedExtensions: extensions, requestedValidity: try validity.map { try ValidityDuration(parsing: $0) },
                     issuedAt: try date(at))
    }

    /// The rule of a refusal, or nil when accepted.
    static func rule(_ d: Decision) -> String? {
        if case .refused(let rule, _) = d { return rule }
        return nil
    }

    static let citizen = "CN=Ama Mensah,GN=Ama,SN=Mensah,C=TG"

    // MARK: Acceptance

    struct Good: Sendable, CustomTestStringConvertible {
        let profile: String
        let subject: String?
        var sans: [String] = []
        var key: PublicKeyKind = .ec(curve: "P-256", bits: 256)
        var testDescription: String { "\(profile) \(key)" }
    }

    static let good: [Good] = [
        Good(profile: "citizen-authentication", subject: citizen, sans: ["email:ama@example.tg"]),
        Good(profile: "citizen-authentication", subject: "CN=Kofi,C=TG", key: .rsa(bits: 2048)),
        Good(profile: "citizen-authentication", subject: "CN=Kofi,C=TG", key: .ec(curve: "P-384", bits: 384)),
        Good(profile: "citizen-signing", subject: "CN=Ama Mensah,GN=Ama,SN=Mensah,serialNumber=IDCTG-12345,C=TG"),
        Good(profile: "organisation-seal", subject: "CN=Shop Seal,O=Shop SARL,organizationIdentifier=VATTG-123,C=TG"),
        Good(profile: "tls-server", subject: nil, sans: ["dns:www.example.tg", "ip:1.1.1.1"]),
        Good(profile: "tls-server", subject: "CN=www.example.tg", sans: ["dns:www.example.tg", "dns:*.example.tg"], key: .rsa(bits: 8192)),
        Good(profile: "tls-client", subject: "CN=service-a,O=Gov,C=TG", sans: ["dns:a.gov.tg", "uri:https://a.gov.tg/"]),
        Good(profile: "tls-client", subject: "CN=device", key: .ed25519),
        Good(profile: "ocsp-signing", subject: "CN=OCSP Responder,O=Gov,C=TG"),
        Good(profile: "timestamping", subject: "CN=TSU 1,O=Gov,C=TG"),
        Good(profile: "sub-ca", subject: "CN=Issuing,O=Gov,C=TG"),
        Good(profile: "root-ca", subject: "CN=Root,O=Gov,C=TG", key: .rsa(bits: 3072)),
    ]

    @Test("a request that meets every rule is accepted", arguments: EvaluateTests.good)
    func accepted(_ g: Good) throws {
        let d = try Self.profile(g.profile).evaluate(try Self.facts(subject: g.subject, sans: g.sans, key: g.key))
        #expect(d == .accepted)
    }

    // MARK: Refusals

    struct Bad: Sendable, CustomTestStringConvertible {
        let label: String
        let profile: String
        var subject: String? = EvaluateTests.citizen
        var sans: [String] = []
        var key: PublicKeyKind = .ec(curve: "P-256", bits: 256)
        var extensions: [Extension] = []
        var validity: String? = nil
        var at = "2026-06-01T00:00:00Z"
        let rule: String
        /// Text the reason must contain.
        var because: String = ""
        var testDescription: String { label }
    }

    static let bad: [Bad] = [
        // Keys
        Bad(label: "RSA-1024", profile: "citizen-authentication", key: .rsa(bits: 1024), rule: "keys", because: "RSA-1024"),
        Bad(label: "RSA-8192 above the citizen maximum", profile: "citizen-authentication", key: .rsa(bits: 8192), rule: "keys"),
        Bad(label: "RSA-2048 for a root", profile: "root-ca", subject: "CN=Root,O=Gov,C=TG", key: .rsa(bits: 2048), rule: "keys"),
        Bad(label: "P-192", profile: "citizen-authentication", key: .ec(curve: "P-192", bits: 192), rule: "keys", because: "P-192"),
        Bad(label: "P-521 not listed", profile: "tls-server", subject: nil, sans: ["dns:a.example.tg"],
            key: .ec(curve: "P-521", bits: 521), rule: "keys"),
        Bad(label: "Ed25519 for citizen-authentication", profile: "citizen-authentication", key: .ed25519, rule: "keys",
            because: "Ed25519"),
        Bad(label: "Ed448", profile: "tls-client", subject: "CN=x", key: .ed448, rule: "keys"),
        // Subject
        Bad(label: "missing required C", profile: "citizen-authentication", subject: "CN=Ama Mensah",
            rule: "subject.attributes.C", because: "required"),
        Bad(label: "missing required serialNumber", profile: "citizen-signing", rule: "subject.attributes.serialNumber"),
        Bad(label: "forbidden O", profile: "citizen-authentication", subject: "CN=Ama,O=Shop,C=TG",
            rule: "subject.attributes.O", because: "forbidden"),
        Bad(label: "unlisted attribute L", profile: "citizen-authentication", subject: "CN=Ama,L=Lome,C=TG",
            rule: "subject.attributes", because: "L"),
        Bad(label: "C pattern mismatch", profile: "citizen-authentication", subject: "CN=Ama,C=tg",
            rule: "subject.attributes.C.pattern", because: "C=tg"),
        Bad(label: "serialNumber pattern mismatch", profile: "citizen-signing",
            subject: "CN=Ama Mensah,GN=Ama,SN=Mensah,serialNumber=12345,C=TG", rule: "subject.attributes.serialNumber.pattern"),
        Bad(label: "organizationIdentifier pattern mismatch", profile: "organisation-seal",
            subject: "CN=Seal,O=Shop,organizationIdentifier=123,C=TG", rule: "subject.attributes.organizationIdentifier.pattern"),
        Bad(label: "CN twice (maxCount 1)", profile: "citizen-authentication", subject: "CN=Ama,CN=Mensah,C=TG",
            rule: "subject.attributes.CN.maxCount", because: "2 times"),
        Bad(label: "empty subject where a subject is needed", profile: "citizen-authentication", subject: nil,
            sans: ["email:ama@example.tg"], rule: "subject"),
        // SAN
        Bad(label: "tls-server without SAN", profile: "tls-server", subject: "CN=www.example.tg", rule: "san.presence"),
        Bad(label: "SAN where the profile forbids it", profile: "organisation-seal",
            subject: "CN=Seal,O=Shop,organizationIdentifier=VATTG-1,C=TG", sans: ["email:seal@shop.tg"], rule: "san.presence"),
        Bad(label: "email SAN in tls-server", profile: "tls-server", subject: nil, sans: ["email:web@example.tg"],
            rule: "san.types", because: "email"),
        Bad(label: "dns SAN in citizen-authentication", profile: "citizen-authentication", sans: ["dns:ama.example.tg"],
            rule: "san.types"),
        Bad(label: "three SANs over maxCount 2", profile: "citizen-authentication",
            sans: ["email:a@example.tg", "email:b@example.tg", "email:c@example.tg"], rule: "san.maxCount", because: "3"),
        Bad(label: "DNS label with an underscore", profile: "tls-server", subject: nil, sans: ["dns:bad_label.example.tg"],
            rule: "san.types.dns", because: "bad_label"),
        Bad(label: "DNS label starting with '-'", profile: "tls-server", subject: nil, sans: ["dns:-x.example.tg"],
            rule: "san.types.dns"),
        Bad(label: "DNS name with one label", profile: "tls-server", subject: nil, sans: ["dns:localhost"], rule: "san.types.dns"),
        Bad(label: "DNS wildcard not leftmost", profile: "tls-server", subject: nil, sans: ["dns:www.*.example.tg"],
            rule: "san.types.dns"),
        Bad(label: "DNS empty label", profile: "tls-server", subject: nil, sans: ["dns:www..example.tg"], rule: "san.types.dns"),
        // CA/B BR 7.1.2.7.12: a dNSName never holds an IP address (that is what iPAddress is for).
        Bad(label: "IPv4 literal as a dNSName", profile: "tls-server", subject: nil, sans: ["dns:192.0.2.1"], rule: "san.types.dns"),
        Bad(label: "duplicate SAN", profile: "tls-server", subject: nil, sans: ["dns:www.example.tg", "dns:www.example.tg"],
            rule: "san", because: "twice"),
        Bad(label: "email without a domain", profile: "citizen-authentication", sans: ["email:ama"], rule: "san.types.email"),
        // An addr-spec has exactly one '@' (RFC 5322 3.4.1); "a@@b" must not pass as a@b.
        Bad(label: "email with a doubled '@'", profile: "citizen-authentication", sans: ["email:ama@@example.tg"],
            rule: "san.types.email"),
        // Requested extensions
        Bad(label: "CSR asks basicConstraints CA=true", profile: "tls-client", subject: "CN=x",
            extensions: [.basicConstraints(ca: true, pathLength: nil)], rule: "copyFromRequest", because: "CA=true"),
        Bad(label: "CSR asks basicConstraints CA=true with pathLength", profile: "tls-client", subject: "CN=x",
            extensions: [.basicConstraints(ca: true, pathLength: 3)], rule: "copyFromRequest"),
        Bad(label: "CSR asks a keyUsage", profile: "tls-client", subject: "CN=x",
            extensions: [.keyUsage([.digitalSignature, .keyCertSign])], rule: "copyFromRequest", because: "keyUsage"),
        // Validity (tls-server: 398d, 200d from 2026-03-15, 100d from 2027-03-15)
        Bad(label: "tls-server 399d before 2026-03-15", profile: "tls-server", subject: nil, sans: ["dns:a.example.tg"],
            validity: "399d", at: "2026-03-14T23:59:59Z", rule: "validity.max", because: "398d"),
        Bad(label: "tls-server 201d on 2026-03-15", profile: "tls-server", subject: nil, sans: ["dns:a.example.tg"],
            validity: "201d", at: "2026-03-15T00:00:00Z", rule: "validity.max"),
        Bad(label: "tls-server 201d on 2026-06-01", profile: "tls-server", subject: nil, sans: ["dns:a.example.tg"],
            validity: "201d", rule: "validity.max", because: "200d"),
        Bad(label: "tls-server 101d on 2027-04-01", profile: "tls-server", subject: nil, sans: ["dns:a.example.tg"],
            validity: "101d", at: "2027-04-01T00:00:00Z", rule: "validity.max", because: "100d"),
        Bad(label: "tls-server 48d on 2029-03-15", profile: "tls-server", subject: nil, sans: ["dns:a.example.tg"],
            validity: "48d", at: "2029-03-15T00:00:00Z", rule: "validity.max"),
        Bad(label: "ocsp-signing 31d", profile: "ocsp-signing", subject: "CN=OCSP", validity: "31d", rule: "validity.max"),
    ]

    @Test("a request that breaks a rule is refused by that rule", arguments: EvaluateTests.bad)
    func refused(_ b: Bad) throws {
        let d = try Self.profile(b.profile).evaluate(try Self.facts(subject: b.subject, sans: b.sans, key: b.key,
                                                                    extensions: b.extensions, validity: b.validity, at: b.at))
        guard case .refused(let rule, let reason) = d else {
            Issue.record("\(b.label): accepted, expected refusal by \(b.rule)")
            return
        }
        #expect(rule == b.rule, "reason: \(reason)")
        if !b.because.isEmpty {
            #expect(reason.contains(b.because), "reason: \(reason)")
        }
    }

    @Test("tls-client accepts Ed25519 where citizen-authentication refuses it")
    func ed25519() throws {
        let ok = try Self.profile("tls-client").evaluate(try Self.facts(subject: "CN=device", key: .ed25519))
        #expect(ok == .accepted)
        let no = try Self.profile("citizen-authentication").evaluate(try Self.facts(subject: "CN=device,C=TG", key: .ed25519))
        #expect(Self.rule(no) == "keys")
    }

    @Test("a CSR asking basicConstraints CA=false is harmless for an end entity")
    func basicConstraintsCAFalse() throws {
        let d = try Self.profile("tls-client").evaluate(try Self.facts(subject: "CN=x", extensions: [.basicConstraints(ca: false, pathLength: nil)]))
        #expect(d == .accepted)
    }

    @Test("a CSR's subjectAltName is taken where the profile copies it")
    func sanCopied() throws {
        let san = try Extension.subjectAltName([.dns("a.example.tg")], critical: false)
        let d = try Self.profile("tls-server").evaluate(try Self.facts(subject: nil, sans: ["dns:a.example.tg"], extensions: [san]))
        #expect(d == .accepted)
        // organisation-seal does not copy it.
        let seal = try Self.profile("organisation-seal").evaluate(try Self.facts(
            subject: "CN=Seal,O=Shop,organizationIdentifier=VATTG-1,C=TG", extensions: [san]))
        #expect(Self.rule(seal) == "copyFromRequest")
    }

    // MARK: Validity schedule

    @Test("tls-server maximum validity follows the schedule", arguments: [
        ("2026-01-01T00:00:00Z", 398), ("2026-03-14T23:59:59Z", 398), ("2026-03-15T00:00:00Z", 200),
        ("2026-06-01T00:00:00Z", 200), ("2027-03-14T23:59:59Z", 200), ("2027-03-15T00:00:00Z", 100),
        ("2027-04-01T00:00:00Z", 100), ("2029-03-15T00:00:00Z", 47), ("2035-01-01T00:00:00Z", 47),
    ])
    func schedule(_ at: String, _ days: Int) throws {
        let p = try Self.profile("tls-server")
        #expect(p.maximumValidity(at: try Self.date(at)).seconds == Int64(days) * 86_400)
        let sans = ["dns:a.example.tg"]
        #expect(p.evaluate(try Self.facts(subject: nil, sans: sans, validity: "\(days)d", at: at)) == .accepted)
        #expect(Self.rule(p.evaluate(try Self.facts(subject: nil, sans: sans, validity: "\(days + 1)d", at: at))) == "validity.max")
    }

    @Test("tls-server: 200d accepted on 2026-06-01, 201d refused; 101d refused on 2027-04-01")
    func validityExamples() throws {
        let p = try Self.profile("tls-server")
        let sans = ["dns:www.example.tg"]
        #expect(p.evaluate(try Self.facts(subject: nil, sans: sans, validity: "200d", at: "2026-06-01T00:00:00Z")) == .accepted)
        #expect(Self.rule(p.evaluate(try Self.facts(subject: nil, sans: sans, validity: "201d", at: "2026-06-01T00:00:00Z"))) == "validity.max")
        #expect(Self.rule(p.evaluate(try Self.facts(subject: nil, sans: sans, validity: "101d", at: "2027-04-01T00:00:00Z"))) == "validity.max")
        #expect(p.evaluate(try Self.facts(subject: nil, sans: sans, validity: "100d", at: "2027-04-01T00:00:00Z")) == .accepted)
        // 200d + 1s is over the limit too: the comparison is in seconds.
        #expect(Self.rule(p.evaluate(try Self.facts(subject: nil, sans: sans, validity: "17280001s", at: "2026-06-01T00:00:00Z"))) == "validity.max")
    }

    @Test("without a requested validity the default applies, capped by the schedule")
    func defaultValidity() throws {
        let p = try Self.profile("tls-server")
        #expect(p.validity(requested: nil, at: try Self.date("2026-06-01T00:00:00Z")).seconds == 90 * 86_400)
        #expect(p.validity(requested: nil, at: try Self.date("2029-04-01T00:00:00Z")).seconds == 47 * 86_400)
        #expect(p.evaluate(try Self.facts(subject: nil, sans: ["dns:a.example.tg"], at: "2029-04-01T00:00:00Z")) == .accepted)
        let requested = try ValidityDuration(parsing: "30d")
        #expect(p.validity(requested: requested, at: try Self.date("2026-06-01T00:00:00Z")) == requested)
    }

    // MARK: Rules only a custom profile shows

    static let custom = """
        profile: custom
        kind: end-entity
        keys:
          - family: ec
        validity:
          default: 30d
          max: 60d
        subject:
          attributes:
            CN: { presence: required }
            C: { presence: required, allowed: [TG, GH] }
            OU: { presence: optional, maxCount: 2 }
        san:
          presence: optional
          types:
            email: { pattern: '.*@example\\.tg' }
        keyUsage: [digitalSignature]

        """

    @Test("allowed values, maxCount above one, SAN patterns and default EC curves")
    func customRules() throws {
        let p = try ProfileLoader.load(text: Self.custom, file: "custom.yaml")
        #expect(p.keyRules.first?.curves == ["P-256", "P-384"])
        func eval(_ subject: String, _ sans: [String] = []) throws -> Decision { p.evaluate(try Self.facts(subject: subject, sans: sans)) }
        #expect(try eval("CN=a,C=TG") == .accepted)
        #expect(try eval("CN=a,C=GH") == .accepted)
        #expect(Self.rule(try eval("CN=a,C=FR")) == "subject.attributes.C.allowed")
        #expect(try eval("CN=a,OU=x,OU=y,C=TG") == .accepted)
        #expect(Self.rule(try eval("CN=a,OU=x,OU=y,OU=z,C=TG")) == "subject.attributes.OU.maxCount")
        #expect(try eval("CN=a,C=TG", ["email:ama@example.tg"]) == .accepted)
        #expect(Self.rule(try eval("CN=a,C=TG", ["email:ama@example.org"])) == "san.types.email.pattern")
        // The pattern must match the whole value, not a part of it.
        #expect(Self.rule(try eval("CN=a,C=TG", ["email:ama@example.tg.evil.org"])) == "san.types.email.pattern")
        #expect(Self.rule(p.evaluate(try Self.facts(subject: "CN=a,C=TG", key: .ec(curve: "P-521", bits: 521)))) == "keys")
    }

    @Test("a required subject attribute stays required when the profile also requires a SAN")
    func requiredAttributeWithRequiredSAN() throws {
        let text = """
            profile: device
            kind: end-entity
            keys:
              - family: ec
            validity:
              default: 30d
              max: 60d
            subject:
              attributes:
                CN: { presence: required }
            san:
              presence: required
              types:
                dns: {}
            keyUsage: [digitalSignature]

            """
        let p = try ProfileLoader.load(text: text, file: "device.yaml")
        #expect(p.subjectMayBeEmpty == false)
        #expect(p.evaluate(try Self.facts(subject: "CN=a.example.tg", sans: ["dns:a.example.tg"])) == .accepted)
        // mayBeEmpty is false and CN is required: an empty subject must not slip through.
        let d = p.evaluate(try Self.facts(subject: nil, sans: ["dns:a.example.tg"]))
        #expect(Self.rule(d) == "subject.attributes.CN" || Self.rule(d) == "subject", "\(d)")
    }

    @Test("rules are judged in order: key first, then requested extensions, subject, SAN, validity")
    func ruleOrder() throws {
        let p = try Self.profile("tls-server")
        let everythingWrong = try Self.facts(subject: "CN=x,O=y", sans: [], key: .rsa(bits: 1024),
                                             extensions: [.basicConstraints(ca: true, pathLength: nil)], validity: "999d")
        #expect(Self.rule(p.evaluate(everythingWrong)) == "keys")
        var f = everythingWrong
        f.publicKey = .ec(curve: "P-256", bits: 256)
        #expect(Self.rule(p.evaluate(f)) == "copyFromRequest")
        f.requestedExtensions = []
        #expect(Self.rule(p.evaluate(f)) == "subject.attributes")
        f.subject = try DistinguishedName(parsing: "CN=x.example.tg")
        #expect(Self.rule(p.evaluate(f)) == "san.presence")
        f.subjectAltNames = [.dns("x.example.tg")]
        #expect(Self.rule(p.evaluate(f)) == "validity.max")
        f.requestedValidity = nil
        #expect(p.evaluate(f) == .accepted)
    }
}

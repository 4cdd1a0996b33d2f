import ETrustCore
import ETrustPolicy
import ETrustTestSupport
import Foundation
import Testing

/// One broken variant of `StrictLoadingTests.baseLines`.
struct BrokenProfile: Sendable, CustomTestStringConvertible {
    let label: String
    /// 1-based line number -> replacement text (may hold several lines); nil removes the line.
    var edits: [Int: String?] = [:]
    var appended: [String] = []
    /// The line the error must name as `FILE:LINE:`; nil when the error is not tied to a line.
    var line: Int?
    /// Texts the reason must contain (the offending key, the bad value).
    var fragments: [String]
    var testDescription: String { label }

    func text() -> String {
        var out: [String] = []
        for (i, l) in StrictLoadingTests.baseLines.enumerated() {
            if let edit = edits[i + 1] {
                if let replacement = edit { out.append(replacement) }
            } else {
                out.append(l)
            }
        }
        return (out + appended).joined(separator: "\n") + "\n"
    }
}

@Suite("Strict profile loading")
struct StrictLoadingTests {
    /// A valid end-entity profile; the cases below break it one line at a time.
    static let baseLines = [
        "profile: strict-test",                                        // 1
        "description: A profile for the strict loader's tests",        // 2
        "kind: end-entity",                                            // 3
        "keys:",                                                       // 4
        "  - family: ec",                                              // 5
        "    curves: [P-256]",                                         // 6
        "validity:",                                                   // 7
        "  default: 90d",                                              // 8
        "  max: 365d",                                                 // 9
        "subject:",                                                    // 10
        "  attributes:",                                               // 11
        "    CN: { presence: required }",                              // 12
        "    C: { presence: optional, pattern: '^[A-Z]{2}$' }",        // 13
        "keyUsage: [digitalSignature]",                                // 14
        "extendedKeyUsage: [clientAuth]",                              // 15
        "crlDistributionPoints: ['http://crl.example.org/ca.crl']",    // 16
        "authorityInfoAccess:",                                        // 17
        "  ocsp: ['http://ocsp.example.org']",                         // 18
    ]

    static let cases: [BrokenProfile] = [
        BrokenProfile(label: "unknown top-level key", appended: ["colour: blue"], line: 19, fragments: ["'colour'", "unknown key"]),
        BrokenProfile(label: "unknown nested key subject.attributes.CN.presense",
                      edits: [12: "    CN: { presence: required, presense: optional }"], line: 12,
                      fragments: ["subject.attributes.CN.presense", "unknown key"]),
        BrokenProfile(label: "unknown key in validity", edits: [9: "  max: 365d\n  maximum: 400d"], line: 10,
                      fragments: ["validity.maximum"]),
        BrokenProfile(label: "wrong type: pathLength abc", appended: ["pathLength: abc"], line: 19,
                      fragments: ["pathLength", "expected an integer"]),
        BrokenProfile(label: "wrong type: validity is a scalar", edits: [7: "validity: 90d", 8: nil, 9: nil], line: 7,
                      fragments: ["validity", "expected a mapping"]),
        BrokenProfile(label: "wrong type: keys is a mapping", edits: [5: "  family: ec", 6: nil], line: 5,
                      fragments: ["keys", "expected a list"]),
        BrokenProfile(label: "bad duration in validity.default", edits: [8: "  default: 90x"], line: 8,
                      fragments: ["validity.default", "90x"]),
        BrokenProfile(label: "bad duration in validity.max", edits: [9: "  max: forever"], line: 9,
                      fragments: ["validity.max", "forever"]),
        BrokenProfile(label: "default longer than max", edits: [8: "  default: 400d"], line: 8,
                      fragments: ["validity.default", "exceeds"]),
        BrokenProfile(label: "backdate over 2d", edits: [9: "  max: 365d\n  backdate: 3d"], line: 10,
                      fragments: ["validity.backdate", "2d"]),
        BrokenProfile(label: "unknown key usage", edits: [14: "keyUsage: [digitalSignature, signEverything]"], line: 14,
                      fragments: ["keyUsage", "signEverything"]),
        BrokenProfile(label: "unknown EKU name", edits: [15: "extendedKeyUsage: [clientAuth, notAPurpose]"], line: 15,
                      fragments: ["extendedKeyUsage", "notAPurpose"]),
        BrokenProfile(label: "invalid regular expression", edits: [13: "    C: { presence: optional, pattern: '^[A-Z' }"], line: 13,
                      fragments: ["subject.attributes.C.pattern", "^[A-Z"]),
        BrokenProfile(label: "unknown subject attribute", edits: [13: "    XX: { presence: optional }"], line: 13,
                      fragments: ["subject.attributes.XX", "unknown subject attribute"]),
        BrokenProfile(label: "bad presence value", edits: [12: "    CN: { presence: mandatory }"], line: 12,
                      fragments: ["subject.attributes.CN.presence", "required, optional or forbidden"]),
        BrokenProfile(label: "missing required key 'keys'", edits: [4: nil, 5: nil, 6: nil], line: 1,
                      fragments: ["missing required key 'keys'"]),
        BrokenProfile(label: "missing required key 'kind'", edits: [3: nil], line: 1, fragments: ["missing required key 'kind'"]),
        BrokenProfile(label: "unknown kind", edits: [3: "kind: leaf"], line: 3, fragments: ["kind", "root-ca, sub-ca or end-entity"]),
        BrokenProfile(label: "unknown key family", edits: [5: "  - family: dsa"], line: 5, fragments: ["keys.0.family", "dsa"]),
        BrokenProfile(label: "unsupported curve", edits: [6: "    curves: [P-192]"], line: 6, fragments: ["keys.0.curves", "P-192"]),
        BrokenProfile(label: "RSA below 2048 bits", edits: [5: "  - family: rsa", 6: "    minBits: 1024"], line: 6,
                      fragments: ["keys.0.minBits"]),
        BrokenProfile(label: "end-entity profile with keyCertSign", edits: [14: "keyUsage: [digitalSignature, keyCertSign]"], line: 14,
                      fragments: ["'keyUsage'", "keyCertSign"]),
        BrokenProfile(label: "end-entity profile with a pathLength", appended: ["pathLength: 0"], line: 19,
                      fragments: ["'pathLength'", "CA profiles only"]),
        BrokenProfile(label: "CA profile without keyCertSign", edits: [3: "kind: sub-ca", 14: "keyUsage: [digitalSignature, cRLSign]"],
                      line: 14, fragments: ["'keyUsage'", "keyCertSign"]),
        BrokenProfile(label: "end-entity profile that requires nothing", edits: [12: "    CN: { presence: optional }"], line: 1,
                      fragments: ["must require a subject attribute or a subjectAltName"]),
        BrokenProfile(label: "invalid profile name", edits: [1: "profile: Strict Test"], line: 1, fragments: ["'profile'", "lower-case"]),
        BrokenProfile(label: "https CRL distribution point", edits: [16: "crlDistributionPoints: ['https://crl.example.org/ca.crl']"],
                      line: 16, fragments: ["crlDistributionPoints", "https://crl.example.org/ca.crl"]),
        BrokenProfile(label: "https OCSP URL names authorityInfoAccess", edits: [18: "  ocsp: ['https://ocsp.example.org']"],
                      line: 18, fragments: ["authorityInfoAccess", "https://ocsp.example.org"]),
        BrokenProfile(label: "SAN section without types", appended: ["san:", "  presence: optional"], line: 20, fragments: ["'san'", "types"]),
        BrokenProfile(label: "unknown SAN type", appended: ["san:", "  types:", "    fax: {}"], line: 21, fragments: ["san.types.fax"]),
        BrokenProfile(label: "copyFromRequest of an extension the CA decides", appended: ["copyFromRequest: [basicConstraints]"],
                      line: 19, fragments: ["copyFromRequest", "basicConstraints"]),
        BrokenProfile(label: "policy with a non-OID", appended: ["policies:", "  - oid: gold"], line: 20, fragments: ["policies.0.oid", "gold"]),
    ]

    static func write(_ text: String, name: String) throws -> String {
        let dir = try TestSupport.temporaryDirectory("etrust-strict")
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    @Test("the unbroken base profile loads")
    func baseLoads() throws {
        let path = try Self.write(BrokenProfile(label: "base", fragments: []).text(), name: "strict-test.yaml")
        defer { Self.remove(path) }
        let p = try ProfileLoader.load(file: path)
        #expect(p.name == "strict-test")
        #expect(p.kind == .endEntity)
        #expect(p.keyRules.map(\.family) == ["ec"])
        #expect(p.keyRules.first?.curves == ["P-256"])
        #expect(p.defaultValidity.seconds == 90 * 86_400)
        #expect(p.maxValidity.seconds == 365 * 86_400)
        #expect(p.maxBackdate.seconds == 0)
        #expect(p.subjectRules.map(\.name).sorted() == ["C", "CN"])
        #expect(p.sanPresence == .forbidden)
        #expect(p.keyUsage == [.digitalSignature])
        #expect(p.extendedKeyUsage == ["1.3.6.1.5.5.7.3.2"])
        #expect(p.crlDistributionPoints == ["http://crl.example.org/ca.crl"])
        #expect(p.ocspURLs == ["http://ocsp.example.org"])
    }

    @Test("a broken profile is refused with file, line and key", arguments: StrictLoadingTests.cases)
    func refused(_ c: BrokenProfile) throws {
        let fileName = "case-\(c.label.filter { $0.isLetter || $0.isNumber }.prefix(40)).yaml"
        let path = try Self.write(c.text(), name: fileName)
        defer { Self.remove(path) }
        let error = try #require(throws: ETrustError.self) { try ProfileLoader.load(file: path) }
        #expect(error.code == .invalidProfile)
        #expect(error.category == .refused)
        #expect(error.reason.contains(path), "reason: \(error.reason)")
        if let line = c.line {
            #expect(error.reason.hasPrefix("\(path):\(line):"), "reason: \(error.reason)")
        }
        for f in c.fragments {
            #expect(error.reason.contains(f), "'\(f)' missing from: \(error.reason)")
        }
        // loadDirectory reports the same error.
        let (profiles, errors) = ProfileLoader.loadDirectory((path as NSString).deletingLastPathComponent)
        #expect(profiles.isEmpty)
        #expect(errors.map(\.reason) == [error.reason])
    }

    @Test("a YAML syntax error is refused with the file and the line")
    func yamlSyntaxError() throws {
        // "mapping values are not allowed in this context" on line 8.
        let broken = BrokenProfile(label: "syntax", edits: [8: "  default: 90d: 1"], fragments: [])
        let path = try Self.write(broken.text(), name: "syntax.yaml")
        defer { Self.remove(path) }
        let error = try #require(throws: ETrustError.self) { try ProfileLoader.load(file: path) }
        #expect(error.code == .invalidProfile)
        #expect(error.category == .refused)
        #expect(error.reason.hasPrefix(path + ":"), "reason: \(error.reason)")
        // Same shape as every other profile error: FILE:LINE: cause.
        #expect(error.reason.hasPrefix(path + ":8: YAML syntax error"), "reason: \(error.reason)")
        #expect(!error.reason.contains("\n"))

        let unclosed = BrokenProfile(label: "unclosed", edits: [6: "    curves: [P-256", 7: "validity: {"], fragments: [])
        let path2 = try Self.write(unclosed.text(), name: "unclosed.yaml")
        defer { Self.remove(path2) }
        let error2 = try #require(throws: ETrustError.self) { try ProfileLoader.load(file: path2) }
        #expect(error2.code == .invalidProfile)
        #expect(error2.reason.hasPrefix(path2 + ":"), "reason: \(error2.reason)")
        #expect(error2.reason.contains("YAML syntax error"), "reason: \(error2.reason)")
    }

    @Test("a duplicated key is refused and named")
    func duplicateKey() throws {
        let path = try Self.write(BrokenProfile(label: "dup", appended: ["kind: sub-ca"], fragments: []).text(), name: "dup.yaml")
        defer { Self.remove(path) }
        let error = try #require(throws: ETrustError.self) { try ProfileLoader.load(file: path) }
        #expect(error.code == .invalidProfile)
        #expect(error.reason.contains(path), "reason: \(error.reason)")
        #expect(error.reason.contains("'kind'"), "reason: \(error.reason)")
        // Yams reports the first occurrence of the key (line 3).
        #expect(error.reason.hasPrefix(path + ":3:"), "reason: \(error.reason)")
        // CLI contract: one clear line naming the cause; not the whole document.
        #expect(!error.reason.contains("crlDistributionPoints"), "the reason repeats the document: \(error.reason)")
        #expect(!error.reason.contains("\n"))
    }

    @Test("an empty file is refused")
    func emptyFile() throws {
        let path = try Self.write("", name: "empty.yaml")
        defer { Self.remove(path) }
        let error = try #require(throws: ETrustError.self) { try ProfileLoader.load(file: path) }
        #expect(error.code == .invalidProfile)
        #expect(error.reason.contains(path))
    }

    @Test("an unreadable file is an environment error, not a profile error")
    func missingFile() throws {
        let error = try #require(throws: ETrustError.self) {
            try ProfileLoader.load(file: "/nonexistent/etrust-\(UUID().uuidString).yaml")
        }
        #expect(error.category == .environment)
    }

    @Test("schedule dates accept YYYY-MM-DD and RFC 3339; a bad date names the key")
    func scheduleDates() throws {
        let good = BrokenProfile(label: "schedule", edits: [9: """
              max: 365d
              schedule:
                - from: 2026-03-15
                  max: 200d
                - from: 2027-03-15T12:00:00Z
                  max: 100d
            """], fragments: [])
        let p = try ProfileLoader.load(text: good.text(), file: "schedule.yaml")
        #expect(p.validitySchedule.count == 2)
        #expect(p.validitySchedule.first.map { RFC3339.format($0.from) } == "2026-03-15T00:00:00Z")
        #expect(p.validitySchedule.last.map { RFC3339.format($0.from) } == "2027-03-15T12:00:00Z")
        #expect(p.validitySchedule.map(\.max.seconds) == [200 * 86_400, 100 * 86_400])

        let bad = BrokenProfile(label: "bad schedule", edits: [9: """
              max: 365d
              schedule:
                - from: next spring
                  max: 200d
            """], fragments: [])
        let error = try #require(throws: ETrustError.self) { try ProfileLoader.load(text: bad.text(), file: "schedule.yaml") }
        #expect(error.reason.hasPrefix("schedule.yaml:11:"), "reason: \(error.reason)")
        #expect(error.reason.contains("validity.schedule.0.from"), "reason: \(error.reason)")
    }
}

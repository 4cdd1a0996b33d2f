import ETrustTestSupport
import Foundation
import Testing

/// Bad input of every kind: one line on stderr, the contract's exit code, and nothing written
/// (a policy refusal leaves exactly one "refuse" audit event and nothing else).
enum BadInput: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case truncatedPEM, garbageBytes, garbageStartingLikeDER, truncatedDER, missingFile, emptyFile, oversizedCSR
    case badSignature
    case requestsCA, rsa1024, p192, subjectBreaksProfile, sanBreaksProfile, validityTooLong
    case unknownProfile, unknownCA, caProfileForEndEntity
    case wrongPassphrase, noPassphrase, emptyPassphraseFile
    case issueWithoutCA, unknownSubcommand, badSANSyntax, badValiditySyntax
    case showNotHex, showUnknownSerial

    var testDescription: String { rawValue }

    struct Expectation {
        var arguments: [String]
        var passphrase: String? = "test-passphrase"
        var exit: Int32
        /// Words the stderr line must contain (case-insensitive).
        var mentions: [String]
        /// The profile rule of a policy refusal: named on stderr, recorded in exactly one "refuse" event.
        var rule: String?
        var refusals: Int { rule == nil ? 0 : 1 }
    }

    /// Prepares the inputs in `work` and says what must happen.
    func prepare(home: String, work: String) throws -> Expectation {
        let issue = ["issue", "--home", home, "--ca", "issuing"]
        let good = try E2E.makeCSR(in: work, name: "good", subject: "/CN=www.example.tg")
        let goodDER = work + "/good.der"
        try E2E.pemToDER(good, to: goodDER)
        let tls = issue + ["--profile", "tls-server", "--san", "dns:www.example.tg"]
        let file = work + "/input"

        switch self {
        case .truncatedPEM:
            let pem = try E2E.read(good)
            try E2E.write(String(pem.prefix(pem.count / 2)), to: file)
            return Expectation(arguments: tls + ["--csr", file], exit: 2, mentions: ["truncated"])
        case .garbageBytes:
            let junk = (0..<512).map { UInt8(($0 * 37 + 11) % 256) }
            try Data(junk).write(to: URL(fileURLWithPath: file))
            return Expectation(arguments: tls + ["--csr", file], exit: 2, mentions: [file])
        case .garbageStartingLikeDER:
            let junk: [UInt8] = [0x30, 0x82, 0x01, 0x00] + (0..<256).map { UInt8(($0 * 91 + 3) % 256) }
            try Data(junk).write(to: URL(fileURLWithPath: file))
            return Expectation(arguments: tls + ["--csr", file], exit: 2, mentions: [file])
        case .truncatedDER:
            let der = try E2E.bytes(goodDER)
            try Data(der.prefix(der.count * 2 / 3)).write(to: URL(fileURLWithPath: file))
            return Expectation(arguments: tls + ["--csr", file], exit: 2, mentions: [file])
        case .missingFile:
            return Expectation(arguments: tls + ["--csr", work + "/nowhere.csr"], exit: 2, mentions: ["nowhere.csr"])
        case .emptyFile:
            try E2E.write("", to: file)
            return Expectation(arguments: tls + ["--csr", file], exit: 2, mentions: [file])
        case .oversizedCSR:
            // A valid request after 2 MiB of explanatory text (allowed before a PEM block).
            let filler = String(repeating: String(repeating: "A", count: 63) + "\n", count: 2 * 1024 * 1024 / 64)
            try E2E.write(filler + E2E.read(good), to: file)
            return Expectation(arguments: tls + ["--csr", file], exit: 2, mentions: ["1 MiB"])
        case .badSignature:
            // Flip a bit of the last octet of the signature: still DER, no longer a valid signature.
            var der = try E2E.bytes(goodDER)
            der[der.count - 2] ^= 0x01
            try E2E.write(E2E.pem(der, label: "CERTIFICATE REQUEST"), to: file)
            let parsed = try E2E.openssl(["req", "-in", file, "-noout", "-subject"])
            try #require(parsed.status == 0, "the tampered request should still parse: \(parsed.stderr)")
            return Expectation(arguments: tls + ["--csr", file], exit: 1, mentions: ["signature"])
        case .requestsCA:
            let csr = try E2E.makeCSR(in: work, name: "ca", subject: "/CN=www.example.tg",
                                      extra: ["-addext", "basicConstraints=critical,CA:TRUE"])
            return Expectation(arguments: tls + ["--csr", csr], exit: 1, mentions: ["CA=true"], rule: "copyFromRequest")
        case .rsa1024:
            let csr = try E2E.makeCSR(in: work, name: "rsa1024", subject: "/CN=www.example.tg", keyArgs: ["-newkey", "rsa:1024"])
            return Expectation(arguments: tls + ["--csr", csr], exit: 1, mentions: ["1024"], rule: "keys")
        case .p192:
            let csr = try E2E.makeCSR(in: work, name: "p192", subject: "/CN=www.example.tg",
                                      keyArgs: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime192v1"])
            return Expectation(arguments: tls + ["--csr", csr], exit: 1, mentions: ["192"], rule: "keys")
        case .subjectBreaksProfile:
            // citizen-signing: serialNumber must be ETSI semantics (IDCTG-...).
            let csr = try E2E.makeCSR(in: work, name: "signing", subject: "/GN=Kofi/SN=Agbeko/CN=Kofi Agbeko/serialNumber=12345/C=TG")
            return Expectation(arguments: issue + ["--profile", "citizen-signing", "--csr", csr], exit: 1,
                               mentions: ["serialNumber=12345"], rule: "subject.attributes.serialNumber.pattern")
        case .sanBreaksProfile:
            return Expectation(arguments: issue + ["--profile", "tls-server", "--csr", good, "--san", "email:x@y.tg"], exit: 1,
                               mentions: ["email"], rule: "san.types")
        case .validityTooLong:
            return Expectation(arguments: tls + ["--csr", good, "--validity", "1000d"], exit: 1, mentions: ["1000d"], rule: "validity.max")
        case .unknownProfile:
            return Expectation(arguments: issue + ["--profile", "no-such-profile", "--csr", good], exit: 2,
                               mentions: ["unknown profile", "no-such-profile"])
        case .unknownCA:
            return Expectation(arguments: ["issue", "--home", home, "--ca", "nope", "--profile", "tls-server", "--csr", good,
                                           "--san", "dns:www.example.tg"], exit: 2, mentions: ["unknown CA", "nope"])
        case .caProfileForEndEntity:
            return Expectation(arguments: issue + ["--profile", "sub-ca", "--csr", good], exit: 2, mentions: ["sub-ca"])
        case .wrongPassphrase:
            return Expectation(arguments: tls + ["--csr", good], passphrase: "wrong", exit: 2, mentions: ["passphrase"])
        case .noPassphrase:
            return Expectation(arguments: tls + ["--csr", good], passphrase: nil, exit: 2, mentions: ["passphrase"])
        case .emptyPassphraseFile:
            try E2E.writeSecret("\n", to: file)
            return Expectation(arguments: tls + ["--csr", good, "--passphrase-file", file], passphrase: nil, exit: 2,
                               mentions: ["passphrase"])
        case .issueWithoutCA:
            return Expectation(arguments: ["issue", "--home", home, "--profile", "tls-server", "--csr", good], exit: 2,
                               mentions: ["--ca"])
        case .unknownSubcommand:
            return Expectation(arguments: ["bogus"], exit: 2, mentions: ["bogus"])
        case .badSANSyntax:
            return Expectation(arguments: issue + ["--profile", "tls-server", "--csr", good, "--san", "carrier-pigeon:x"], exit: 2,
                               mentions: ["carrier-pigeon"])
        case .badValiditySyntax:
            return Expectation(arguments: tls + ["--csr", good, "--validity", "soon"], exit: 2, mentions: ["soon"])
        case .showNotHex:
            return Expectation(arguments: ["show", "ZZZ", "--home", home], exit: 2, mentions: ["ZZZ"])
        case .showUnknownSerial:
            return Expectation(arguments: ["show", "01", "--home", home], exit: 2, mentions: ["01"])
        }
    }
}

@Suite struct BadInputTests {
    @Test(arguments: BadInput.allCases)
    func badInputIsRefusedAndWritesNothing(_ input: BadInput) throws {
        let (home, work) = try E2E.pki("e2e-bad-\(input.rawValue)")
        defer { E2E.cleanUp(home) }
        let e = try input.prepare(home: home, work: work)
        let before = try E2E.snapshot(home)

        let r = try E2E.etrust(e.arguments, passphrase: e.passphrase)

        #expect(r.status == e.exit, "exit \(r.status), expected \(e.exit); stderr: \(r.stderr)")
        let lines = E2E.lines(r.stderr)
        #expect(lines.count == 1, "stderr should be one line: \(r.stderr)")
        #expect(r.stderr.hasPrefix("etrust: "), "stderr: \(r.stderr)")
        for word in e.mentions {
            #expect(r.stderr.localizedCaseInsensitiveContains(word), "stderr does not mention '\(word)': \(r.stderr)")
        }
        #expect(!r.stdout.contains("BEGIN CERTIFICATE"), "a certificate was printed: \(r.stdout)")

        let after = try E2E.snapshot(home)
        #expect(after.certificates == before.certificates, "certificates \(before.certificates) -> \(after.certificates)")
        #expect(after.refusals == before.refusals + e.refusals, "refuse events \(before.refusals) -> \(after.refusals)")
        #expect(after.events == before.events + e.refusals, "events \(before.events) -> \(after.events)")
        #expect(after.files == before.files, "files changed:\nbefore \(before.files)\nafter  \(after.files)")
        if let rule = e.rule {
            #expect(r.stderr.contains("rule '\(rule)'"), "stderr does not name rule '\(rule)': \(r.stderr)")
            let event = try TestSupport.run("/usr/bin/sqlite3", [home + "/etrust.db",
                                                                 "SELECT payload FROM events WHERE type = 'refuse' ORDER BY id DESC LIMIT 1;"])
            #expect(event.status == 0)
            #expect(event.stdout.contains("\"rule\":\"\(rule)\""), "the refuse event does not name rule '\(rule)': \(event.stdout)")
        }
    }

    /// CA/B Forum BR 7.1.2.7.12 and 4.2.2: a TLS server certificate names no Reserved IP Address
    /// and no Internal Name. The tls-server profile says it follows the BR, so such a request is a
    /// policy refusal (exit 1, one refuse event), not a certificate that pkilint's CA/B linter rejects.
    @Test(arguments: ["ip:10.0.0.1", "ip:127.0.0.1", "ip:192.0.2.10", "dns:intranet.corp", "dns:printer.local"])
    func tlsServerRefusesReservedAddressesAndInternalNames(_ san: String) throws {
        let (home, work) = try E2E.pki("e2e-bad-internal")
        defer { E2E.cleanUp(home) }
        let csr = try E2E.makeCSR(in: work, name: "internal", subject: "/")
        let before = try E2E.snapshot(home)
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", csr,
                                "--san", san, "--json"])
        if r.status == 0 {
            // Show what the independent judge thinks of the certificate that should not exist.
            let leaf = work + "/internal.pem"
            try E2E.write(r.json?["certificate"] as? String ?? "", to: leaf)
            let lint = try TestSupport.run(try E2E.venvTool("lint_cabf_serverauth_cert"), ["lint", "-d", "-s", "ERROR", leaf])
            Issue.record("tls-server issued a certificate for \(san) (BR 7.1.2.7.12 / 4.2.2 forbid it); lint_cabf_serverauth_cert: \(lint.stdout)")
            return
        }
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.hasPrefix("etrust: ") && E2E.lines(r.stderr).count == 1, "stderr: \(r.stderr)")
        let after = try E2E.snapshot(home)
        #expect(after.certificates == before.certificates)
        #expect(after.refusals == before.refusals + 1)
        #expect(after.events == before.events + 1)
        #expect(after.files == before.files)
    }

    /// The 1 MiB limit also holds for a DER request padded past it.
    @Test func oversizedDERIsRefused() throws {
        let (home, work) = try E2E.pki("e2e-bad-bigder")
        defer { E2E.cleanUp(home) }
        let csr = try E2E.makeCSR(in: work, name: "big", subject: "/CN=www.example.tg")
        let file = work + "/big.der"
        try Data(count: (1 << 20) + 1).write(to: URL(fileURLWithPath: file))
        let before = try E2E.snapshot(home)
        let r = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", file,
                                "--san", "dns:www.example.tg"])
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.contains("1 MiB"))
        #expect(try E2E.snapshot(home) == before)
        // The same home still issues from a good request afterwards.
        let ok = try E2E.etrust(["issue", "--home", home, "--ca", "issuing", "--profile", "tls-server", "--csr", csr,
                                 "--san", "dns:www.example.tg", "--json"])
        #expect(ok.status == 0, "issue after a refusal: \(ok.stderr)")
        #expect(try E2E.snapshot(home).certificates == before.certificates + 1)
    }
}

import ETrustCore
import Foundation
import Testing

@Suite("PEM, InputFile, Hex")
struct EncodingTests {
    @Test("PEM encode wraps at 64 columns and decodes back")
    func pemRoundTrip() throws {
        let der = (0..<200).map { UInt8($0 & 0xff) }
        let pem = PEM.encode(der, label: "CERTIFICATE")
        let lines = pem.split(separator: "\n")
        #expect(lines.first == "-----BEGIN CERTIFICATE-----")
        #expect(lines.last == "-----END CERTIFICATE-----")
        #expect(lines.dropFirst().dropLast().allSatisfy { $0.count <= 64 })
        #expect(lines[1].count == 64)
        #expect(pem.hasSuffix("\n"))
        let blocks = try PEM.decodeAll(pem, labels: ["CERTIFICATE"])
        #expect(blocks.count == 1)
        #expect(blocks[0].label == "CERTIFICATE")
        #expect(blocks[0].der == der)
        // Same bytes as Foundation's line-wrapped base64.
        let b64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        #expect(pem == "-----BEGIN CERTIFICATE-----\n\(b64)\n-----END CERTIFICATE-----\n")
    }

    @Test("decodeAll keeps order, filters labels, skips explanatory text")
    func pemBundle() throws {
        let a: [UInt8] = [0x30, 0x01, 0x00]
        let b: [UInt8] = [0x30, 0x02, 0x05, 0x00]
        let text = "subject=CN = x\n" + PEM.encode(a, label: "CERTIFICATE")
            + PEM.encode([0x01], label: "PRIVATE KEY") + "noise\n" + PEM.encode(b, label: "CERTIFICATE")
        let blocks = try PEM.decodeAll(text, labels: ["CERTIFICATE"])
        #expect(blocks.map(\.der) == [a, b])
        #expect(PEM.looksLikePEM(Array(text.utf8)))
        #expect(!PEM.looksLikePEM(a))
        #expect(!PEM.looksLikePEM([]))
        #expect(try InputFile.derBlocks(Array(text.utf8), labels: ["CERTIFICATE"], what: "bundle") == [a, b])
        #expect(try InputFile.derBlocks(b, labels: ["CERTIFICATE"], what: "der") == [b])
        // RFC 7468 headers (lines with ':') are skipped, not decoded as base64.
        let headers = "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nMAEA\n-----END CERTIFICATE-----\n"
        #expect(try PEM.decodeAll(headers, labels: ["CERTIFICATE"]).map(\.der) == [a])
    }

    @Test("PEM with CRLF line endings decodes (RFC 7468 allows CRLF)")
    func pemCRLF() throws {
        let a: [UInt8] = [0x30, 0x01, 0x00]
        let crlf = PEM.encode(a, label: "CERTIFICATE").replacingOccurrences(of: "\n", with: "\r\n")
        #expect(crlf.contains("\r\n"))
        #expect(try PEM.decodeAll(crlf, labels: ["CERTIFICATE"]).map(\.der) == [a])

        // A real request saved with Windows line endings.
        let key = try PrivateKey.generate(.ecP256)
        let csr = try CertificateSigningRequest.create(subject: try DistinguishedName(parsing: "CN=crlf"), key: key)
        let windows = Array(csr.pem.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(try CertificateSigningRequest(bytes: windows).der == csr.der)
    }

    @Test("broken PEM is refused as bad input", arguments: [
        "-----BEGIN CERTIFICATE-----\nMAEA\n",
        "-----BEGIN CERTIFICATE-----\nMAEA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    ])
    func brokenPEM(_ text: String) {
        expectETrustError(code: .malformedInput, category: .badInput) { _ = try PEM.decodeAll(text, labels: ["CERTIFICATE"]) }
    }

    @Test("derBlocks refuses input that is neither PEM nor DER")
    func neitherPEMNorDER() {
        expectETrustError(code: .malformedInput, category: .badInput) {
            _ = try InputFile.derBlocks(Array("hello".utf8), labels: ["CERTIFICATE"], what: "x")
        }
        expectETrustError(code: .malformedInput, category: .badInput) {
            _ = try InputFile.derBlocks(Array(PEM.encode([0x30, 0x00], label: "X509 CRL").utf8), labels: ["CERTIFICATE"], what: "x")
        }
    }

    @Test("InputFile.read refuses files over 1 MiB, accepts exactly 1 MiB")
    func inputTooLarge() throws {
        let dir = try TempDir()
        #expect(InputFile.maximumSize == 1_048_576)
        let big = try dir.write("big.pem", [UInt8](repeating: 0x41, count: InputFile.maximumSize + 1))
        let e = expectETrustError(code: .inputTooLarge, category: .badInput) { _ = try InputFile.read(big) }
        #expect(e?.reason.contains("big.pem") == true)
        let exact = try dir.write("exact.der", [UInt8](repeating: 0x30, count: InputFile.maximumSize))
        #expect(try InputFile.read(exact).count == InputFile.maximumSize)
        let small = try dir.write("small.der", [0x30, 0x00])
        #expect(try InputFile.read(small) == [0x30, 0x00])
        expectETrustError(code: .notFound, category: .badInput) { _ = try InputFile.read(dir.path("missing")) }
    }

    @Test("a key file over 1 MiB is refused too")
    func keyFileTooLarge() throws {
        let dir = try TempDir()
        let path = try dir.write("huge.key", [UInt8](repeating: 0x2d, count: InputFile.maximumSize + 10), mode: 0o600)
        expectETrustError(code: .inputTooLarge, category: .badInput) {
            _ = try PrivateKey.load(fromFile: path, passphrase: Array("x".utf8))
        }
    }

    @Test("Hex encodes lower/upper case and decodes with colons and 0x")
    func hex() {
        #expect(Hex.encode([0x00, 0xab, 0x7f]) == "00ab7f")
        #expect(Hex.encode([0x00, 0xab], uppercase: true) == "00AB")
        #expect(Hex.encode([UInt8]()) == "")
        #expect(Hex.decode("00ab7f") == [0x00, 0xab, 0x7f])
        #expect(Hex.decode("0x0A:bC") == [0x0a, 0xbc])
        #expect(Hex.decode("abc") == [0x0a, 0xbc])
        #expect(Hex.decode("") == nil)
        #expect(Hex.decode("0x") == nil)
        #expect(Hex.decode("zz") == nil)
        let bytes = (0...255).map { UInt8($0) }
        #expect(Hex.decode(Hex.encode(bytes)) == bytes)
    }
}

@Suite("Durations and times")
struct TimeTests {
    static let durationCases: [(String, Int64)] = [
        ("90d", 7_776_000), ("12h", 43_200), ("5y", 157_680_000), ("30m", 1_800), ("6w", 3_628_800),
        ("45s", 45), (" 7d ", 604_800),
    ]

    @Test("ValidityDuration parses units", arguments: durationCases)
    func durations(_ text: String, _ seconds: Int64) throws {
        let d = try ValidityDuration(parsing: text)
        #expect(d.seconds == seconds)
        #expect(d.text == text.trimmingCharacters(in: .whitespaces))
        #expect(d.description == d.text)
        #expect(d.days == Double(seconds) / 86_400)
    }

    @Test("ValidityDuration refuses bad input", arguments: ["0d", "abc", "10x", "", "d", "-5d", "1.5d", "99999999999999y", "250y"])
    func badDurations(_ text: String) {
        expectETrustError(code: .invalidArgument, category: .badInput) { _ = try ValidityDuration(parsing: text) }
    }

    @Test("ValidityDuration Codable round trip and init(seconds:)")
    func durationCodable() throws {
        let d = try ValidityDuration(parsing: "397d")
        let json = try JSONEncoder().encode([d])
        #expect(String(decoding: json, as: UTF8.self) == "[\"397d\"]")
        #expect(try JSONDecoder().decode([ValidityDuration].self, from: json) == [d])
        #expect(throws: ETrustError.self) { try JSONDecoder().decode([ValidityDuration].self, from: Data("[\"0d\"]".utf8)) }
        #expect(ValidityDuration(seconds: 86_400 * 3).text == "3d")
        #expect(ValidityDuration(seconds: 90).text == "90s")
    }

    @Test("RFC 3339 parses Zulu, offsets and fractions")
    func rfc3339() throws {
        let d = try RFC3339.parse("2026-01-31T12:00:00Z")
        #expect(d == utc(2026, 1, 31, 12))
        #expect(d.timeIntervalSince1970 == 1_769_860_800)
        #expect(try RFC3339.parse("2026-01-31T13:30:00+01:30") == utc(2026, 1, 31, 12))
        #expect(try RFC3339.parse("2026-01-31T12:00:00.500Z").timeIntervalSince1970 == 1_769_860_800.5)
        #expect(RFC3339.format(d) == "2026-01-31T12:00:00Z")
        for bad in ["2026-01-31", "yesterday", "2026-13-01T00:00:00Z", ""] {
            expectETrustError(code: .invalidArgument, category: .badInput) { _ = try RFC3339.parse(bad) }
        }
    }

    @Test("FixedClock returns its date")
    func clocks() {
        let d = utc(2030, 5, 5)
        #expect(FixedClock(d).now() == d)
        let before = Date()
        let now = SystemClock().now()
        #expect(now >= before)
    }

    @Test("error categories map to exit codes")
    func exitCodes() {
        #expect(ETrustError.Category.refused.exitCode == 1)
        #expect(ETrustError.Category.badInput.exitCode == 2)
        #expect(ETrustError.Category.environment.exitCode == 3)
        let e = ETrustError.badInput("why")
        #expect(e.code == .malformedInput)
        #expect(e.description == "why")
        #expect(ETrustError.refused("no").code == .policyRefused)
        #expect(ETrustError.environment("io").code == .io)
    }
}

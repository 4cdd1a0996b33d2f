import ETrustCore
import Foundation
import Testing

/// A failure inside a test helper (an OpenSSL call, a process), with OpenSSL's reasons.
struct HelperError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory under the system temporary directory, removed when the value goes away.
final class TempDir: Sendable {
    let url: URL

    init(_ label: String = "etrust-coretests") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(getpid())-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8], mode: Int? = nil) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: p) }
        return p
    }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int? = nil) throws -> String {
        try write(name, Array(text.utf8), mode: mode)
    }

    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name)))) }
}

struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
    var output: String { stdout + stderr }
}

/// Runs `/usr/bin/openssl` with `args` in `dir`, capturing both streams through files (no pipe deadlock).
@discardableResult
func runOpenSSL(_ args: [String], in dir: TempDir) throws -> ProcessResult {
    let id = UUID().uuidString
    let outPath = dir.path(".stdout-\(id)")
    let errPath = dir.path(".stderr-\(id)")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    p.arguments = args
    p.currentDirectoryURL = dir.url
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    try out.close()
    try err.close()
    let o = String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self)
    let e = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self)
    try? FileManager.default.removeItem(atPath: outPath)
    try? FileManager.default.removeItem(atPath: errPath)
    return ProcessResult(status: p.terminationStatus, stdout: o, stderr: e)
}

/// Runs openssl and fails (throws) unless it exits 0.
@discardableResult
func runOpenSSLOK(_ args: [String], in dir: TempDir) throws -> ProcessResult {
    let r = try runOpenSSL(args, in: dir)
    guard r.status == 0 else {
        throw HelperError("openssl \(args.joined(separator: " ")) exited \(r.status): \(r.output)")
    }
    return r
}

/// Runs `body` and returns the ETrustError it throws; records an issue if it throws nothing or another error.
@discardableResult
func expectETrustError(
    code: ETrustError.Code, category: ETrustError.Category,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> ETrustError? {
    do {
        try body()
        Issue.record("expected ETrustError \(code) (\(category)), nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let e as ETrustError {
        #expect(e.code == code, "code of '\(e.reason)'", sourceLocation: sourceLocation)
        #expect(e.category == category, "category of '\(e.reason)'", sourceLocation: sourceLocation)
        #expect(!e.reason.isEmpty, sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected ETrustError \(code), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: OpenSSL helpers (OpenSSL's own object model and config machinery, independent of
// ETrustCore's DER writer; reached through ETrustCore's package OpenSSLReference, as only
// ETrustCore imports C)

/// An EVP_PKEY read or made by OpenSSL.
typealias OpenSSLKey = OpenSSLReference.Key
/// An X509 assembled with OpenSSL's setters.
typealias OpenSSLCert = OpenSSLReference.CertificateBuilder
/// An extension as OpenSSL's config-string machinery builds it.
typealias OpenSSLExtension = OpenSSLReference.ConfExtension

/// `X509V3_EXT_nconf(conf, ctx, name, value)` with an optional config text (for `@section` values) and
/// optional subject / issuer certificates in the context (for subjectKeyIdentifier / authorityKeyIdentifier).
func opensslExtension(_ name: String, _ value: String, config: String? = nil,
                      subject: OpenSSLCert? = nil, issuer: OpenSSLCert? = nil) throws -> OpenSSLExtension {
    try OpenSSLReference.confExtension(name, value, config: config, subject: subject, issuer: issuer)
}

/// RFC 2253 text of a DER Name as OpenSSL prints it (UTF-8 kept), an independent reading of our DER.
func opensslNameText(_ der: [UInt8]) throws -> String { try OpenSSLReference.nameText(der) }

/// True if `needle` occurs in `haystack` as a contiguous run.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<i + needle.count]) == needle { return true }
    }
    return false
}

/// A UTC date from components.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
    var c = DateComponents()
    (c.year, c.month, c.day, c.hour, c.minute, c.second) = (y, mo, d, h, mi, s)
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "UTC")!
    return cal.date(from: c)!
}

/// DER TLV with a definite length (short or long form), for hand-built malformed objects.
func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
    let n = content.count
    if n < 0x80 { return [tag, UInt8(n)] + content }
    var lengthBytes: [UInt8] = []
    var v = n
    while v > 0 { lengthBytes.insert(UInt8(v & 0xff), at: 0); v >>= 8 }
    return [tag, 0x80 | UInt8(lengthBytes.count)] + lengthBytes + content
}

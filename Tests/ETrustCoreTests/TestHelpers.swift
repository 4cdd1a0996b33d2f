import COpenSSL
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

// MARK: OpenSSL helpers (direct C API, independent of ETrustCore's own use of it)

func opensslErrors() -> String {
    var parts: [String] = []
    while true {
        let e = ERR_get_error()
        if e == 0 { break }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(e, &buf, buf.count)
        parts.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return parts.joined(separator: "; ")
}

/// Takes ownership of an OpenSSL buffer written by an i2d function.
func takeI2D(_ n: Int32, _ out: UnsafeMutablePointer<UInt8>?, _ what: String) throws -> [UInt8] {
    guard n > 0, let out else { throw HelperError("\(what) failed: \(opensslErrors())") }
    defer { etrust_openssl_free(out) }
    return Array(UnsafeBufferPointer(start: out, count: Int(n)))
}

/// An EVP_PKEY owned by a test.
final class OpenSSLKey {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// Decrypts one of our encrypted PKCS#8 PEMs with OpenSSL's own PEM reader.
    static func fromEncryptedPEM(_ pem: String, passphrase: String) throws -> OpenSSLKey {
        let key: OpaquePointer? = pem.withCString { text in
            passphrase.withCString { pass in
                guard let bio = BIO_new_mem_buf(text, -1) else { return nil }
                defer { BIO_free(bio) }
                return PEM_read_bio_PrivateKey(bio, nil, nil, UnsafeMutableRawPointer(mutating: pass))
            }
        }
        guard let key else { throw HelperError("PEM_read_bio_PrivateKey: \(opensslErrors())") }
        return OpenSSLKey(key)
    }

    static func fromSPKI(_ spki: [UInt8]) throws -> OpenSSLKey {
        let key: OpaquePointer? = spki.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_PUBKEY(nil, &p, buf.count)
        }
        guard let key else { throw HelperError("d2i_PUBKEY: \(opensslErrors())") }
        return OpenSSLKey(key)
    }

    /// A P-256 key generated by OpenSSL itself.
    static func generateP256() throws -> OpenSSLKey {
        guard let key = etrust_EVP_EC_gen("P-256") else { throw HelperError("EVP_EC_gen: \(opensslErrors())") }
        return OpenSSLKey(key)
    }

    /// Unencrypted PKCS#8 PEM ("PRIVATE KEY"), as `openssl genpkey` writes it.
    var unencryptedPEM: [UInt8] {
        get throws {
            guard let bio = BIO_new(BIO_s_mem()) else { throw HelperError("BIO_new") }
            defer { BIO_free(bio) }
            guard PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil) == 1 else {
                throw HelperError("PEM_write_bio_PrivateKey: \(opensslErrors())")
            }
            var p: UnsafeMutablePointer<CChar>? = nil
            let n = etrust_BIO_get_mem_data(bio, &p)
            guard n > 0, let p else { throw HelperError("BIO_get_mem_data") }
            return Array(UnsafeRawBufferPointer(start: p, count: n))
        }
    }

    var spki: [UInt8] {
        get throws {
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = i2d_PUBKEY(pointer, &out)
            return try takeI2D(n, out, "i2d_PUBKEY")
        }
    }
}

/// An X509 owned by a test.
final class OpenSSLCert {
    let pointer: OpaquePointer
    init() throws {
        guard let x = X509_new() else { throw HelperError("X509_new") }
        pointer = x
    }
    deinit { X509_free(pointer) }

    func setPublicKey(_ key: OpenSSLKey) throws {
        guard X509_set_pubkey(pointer, key.pointer) == 1 else { throw HelperError("X509_set_pubkey: \(opensslErrors())") }
    }

    func add(_ ext: Extension) throws {
        let der = ext.der
        let x: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_X509_EXTENSION(nil, &p, buf.count)
        }
        guard let x else { throw HelperError("d2i_X509_EXTENSION(\(ext.name)): \(opensslErrors())") }
        defer { X509_EXTENSION_free(x) }
        guard X509_add_ext(pointer, x, -1) == 1 else { throw HelperError("X509_add_ext: \(opensslErrors())") }
    }
}

/// An extension as OpenSSL's config-string machinery builds it.
struct OpenSSLExtension {
    let der: [UInt8]
    let value: [UInt8]
    let critical: Bool
}

/// `X509V3_EXT_nconf(conf, ctx, name, value)` with an optional config text (for `@section` values) and
/// optional subject / issuer certificates in the context (for subjectKeyIdentifier / authorityKeyIdentifier).
func opensslExtension(_ name: String, _ value: String, config: String? = nil,
                      subject: OpenSSLCert? = nil, issuer: OpenSSLCert? = nil) throws -> OpenSSLExtension {
    ERR_clear_error()
    var ctx = X509V3_CTX()  // zeroed: X509V3_set_ctx_nodb
    X509V3_set_ctx(&ctx, issuer?.pointer, subject?.pointer, nil, nil, 0)
    let conf = NCONF_new(nil)
    defer { NCONF_free(conf) }
    // Always give the context a (possibly empty) config database: some extensions (certificatePolicies)
    // insist on one even when no section is referenced.
    do {
        let ok: Bool = (config ?? "").withCString { text in
            guard let bio = BIO_new_mem_buf(text, -1) else { return false }
            defer { BIO_free(bio) }
            var eline = 0
            return NCONF_load_bio(conf, bio, &eline) == 1
        }
        guard ok else { throw HelperError("NCONF_load_bio: \(opensslErrors())") }
        X509V3_set_nconf(&ctx, conf)
    }
    guard let ext = X509V3_EXT_nconf(conf, &ctx, name, value) else {
        throw HelperError("X509V3_EXT_nconf(\(name), \(value)): \(opensslErrors())")
    }
    defer { X509_EXTENSION_free(ext) }
    let data = X509_EXTENSION_get_data(ext)
    let bytes = Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(data), count: Int(ASN1_STRING_length(data))))
    var out: UnsafeMutablePointer<UInt8>? = nil
    let n = i2d_X509_EXTENSION(ext, &out)
    return OpenSSLExtension(der: try takeI2D(n, out, "i2d_X509_EXTENSION"), value: bytes,
                            critical: X509_EXTENSION_get_critical(ext) != 0)
}

/// RFC 2253 text of a DER Name as OpenSSL prints it (UTF-8 kept), an independent reading of our DER.
func opensslNameText(_ der: [UInt8]) throws -> String {
    let name: OpaquePointer? = der.withUnsafeBufferPointer { buf in
        var p = buf.baseAddress
        return d2i_X509_NAME(nil, &p, buf.count)
    }
    guard let name else { throw HelperError("d2i_X509_NAME: \(opensslErrors())") }
    defer { X509_NAME_free(name) }
    guard let bio = BIO_new(BIO_s_mem()) else { throw HelperError("BIO_new") }
    defer { BIO_free(bio) }
    guard X509_NAME_print_ex(bio, name, 0, etrust_XN_FLAG_RFC2253_UTF8()) >= 0 else {
        throw HelperError("X509_NAME_print_ex: \(opensslErrors())")
    }
    var p: UnsafeMutablePointer<CChar>? = nil
    let n = etrust_BIO_get_mem_data(bio, &p)
    return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
}

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

import Foundation
internal import COpenSSL

/// Owns one EVP_PKEY (ownership taken at init, EVP_PKEY_free on deinit); lends it with
/// `withUnsafeEVPKeyPointer` only.
// @unchecked Sendable: the key is never mutated after init; OpenSSL's reference count is atomic.
package final class EVPKeyHandle: @unchecked Sendable {
    private let pointer: OpaquePointer
    /// What the key's operations need alive until it is freed (a token key: its PKCS#11 module).
    private let owner: (any Sendable & AnyObject)?
    init(takingOwnership pointer: OpaquePointer, keepingAlive owner: (any Sendable & AnyObject)? = nil) {
        self.pointer = pointer
        self.owner = owner
    }
    deinit { EVP_PKEY_free(pointer) }   // before `owner` is released

    /// Lends the EVP_PKEY to `body`; it must not be kept or freed.
    func withUnsafeEVPKeyPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(pointer) }

    var isTokenKey: Bool { owner is PKCS11Module }

    /// EVP_PKEY_get_bits: the key's size in bits.
    package var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }
}

/// A private key held by OpenSSL. Never printed, never logged; written only encrypted.
public struct PrivateKey: Sendable {
    package let handle: EVPKeyHandle

    init(takingOwnership pointer: OpaquePointer) { handle = EVPKeyHandle(takingOwnership: pointer) }

    /// A key whose operations are made by a PKCS#11 token: `module` outlives the EVP_PKEY.
    init(takingOwnership pointer: OpaquePointer, keepingAlive module: PKCS11Module) {
        handle = EVPKeyHandle(takingOwnership: pointer, keepingAlive: module)
    }

    /// Whether the key lives in a PKCS#11 token (its private half never leaves it).
    public var isTokenKey: Bool { handle.isTokenKey }

    public static func generate(_ algorithm: KeyAlgorithm) throws -> PrivateKey {
        clearOpenSSLErrors()
        let key: OpaquePointer?
        switch algorithm {
        case .ecP256: key = etrust_EVP_EC_gen("P-256")
        case .ecP384: key = etrust_EVP_EC_gen("P-384")
        case .ed25519:
            key = generate(name: "ED25519", bits: nil)
        case .rsa2048: key = generate(name: "RSA", bits: 2048)
        case .rsa3072: key = generate(name: "RSA", bits: 3072)
        case .rsa4096: key = generate(name: "RSA", bits: 4096)
        }
        return PrivateKey(takingOwnership: try check(key, "EVP_PKEY_generate(\(algorithm.rawValue))"))
    }

    private static func generate(name: String, bits: UInt32?) -> OpaquePointer? {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, name, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { return nil }
        if let bits, EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) != 1 { return nil }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_generate(ctx, &key) == 1 else { return nil }
        return key
    }

    /// DER SubjectPublicKeyInfo of the public half.
    public var subjectPublicKeyInfo: [UInt8] {
        get throws {
            clearOpenSSLErrors()
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = handle.withUnsafeEVPKeyPointer { i2d_PUBKEY($0, &out) }
            guard n > 0, let out else { throw ETrustError.openSSL("i2d_PUBKEY") }
            defer { etrust_openssl_free(out) }
            return Array(UnsafeBufferPointer(start: out, count: Int(n)))
        }
    }

    public var publicKey: PublicKey {
        get throws { try PublicKey(subjectPublicKeyInfo: try subjectPublicKeyInfo) }
    }

    public var kind: PublicKeyKind {
        get throws { try publicKey.kind }
    }

    // MARK: Encrypted PKCS#8

    /// PBKDF2-HMAC-SHA256 iterations for keys at rest (OWASP 2023: 600,000 for SHA-256).
    public static let defaultPBKDF2Iterations: Int32 = 600_000

    /// PEM "ENCRYPTED PRIVATE KEY": PKCS#8 with PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256.
    public func encryptedPKCS8PEM(passphrase: [UInt8], iterations: Int32 = PrivateKey.defaultPBKDF2Iterations) throws -> String {
        guard !isTokenKey else {
            throw ETrustError.refused("a key held by a PKCS#11 token never leaves it", code: .insecureKeyFile)
        }
        guard !passphrase.isEmpty else {
            throw ETrustError.badInput("an empty passphrase cannot protect a private key", code: .missingPassphrase)
        }
        clearOpenSSLErrors()
        let p8 = try check(handle.withUnsafeEVPKeyPointer { EVP_PKEY2PKCS8($0) }, "EVP_PKEY2PKCS8")
        defer { PKCS8_PRIV_KEY_INFO_free(p8) }
        let alg = try check(PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), iterations, nil, 0, nil, NID_hmacWithSHA256),
                            "PKCS5_pbe2_set_iv")
        let sig: OpaquePointer? = passphrase.withUnsafeBufferPointer { pass in
            pass.withMemoryRebound(to: CChar.self) { p in PKCS8_set0_pbe(p.baseAddress, Int32(p.count), p8, alg) }
        }
        guard let sig else {
            X509_ALGOR_free(alg)
            throw ETrustError.openSSL("PKCS8_set0_pbe")
        }
        defer { X509_SIG_free(sig) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_X509_SIG(sig, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_X509_SIG") }
        defer { etrust_openssl_free(out) }
        return PEM.encode(Array(UnsafeBufferPointer(start: out, count: Int(n))), label: "ENCRYPTED PRIVATE KEY")
    }

    /// The plain PKCS#8 PEM, only to hand the key to a child process through a pipe (xmlsec1
    /// reading /dev/stdin): never written to a file, never on a command line.
    func plainPKCS8PEMForPipe() throws -> [UInt8] {
        guard !isTokenKey else {
            throw ETrustError.refused("a key held by a PKCS#11 token never leaves it", code: .insecureKeyFile)
        }
        clearOpenSSLErrors()
        let p8 = try check(handle.withUnsafeEVPKeyPointer { EVP_PKEY2PKCS8($0) }, "EVP_PKEY2PKCS8")
        defer { PKCS8_PRIV_KEY_INFO_free(p8) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_PKCS8_PRIV_KEY_INFO(p8, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_PKCS8_PRIV_KEY_INFO") }
        defer { OPENSSL_cleanse(out, Int(n)); etrust_openssl_free(out) }
        return Array(PEM.encode(Array(UnsafeBufferPointer(start: out, count: Int(n))), label: "PRIVATE KEY").utf8)
    }

    /// Loads PKCS#8 (encrypted, or plain only when `allowUnencrypted`), PEM or DER.
    public static func load(_ bytes: [UInt8], passphrase: [UInt8]?, allowUnencrypted: Bool = false, what: String = "private key") throws -> PrivateKey {
        if PEM.looksLikePEM(bytes) {
            guard let text = String(bytes: bytes, encoding: .utf8) else { throw ETrustError.badInput("\(what): not valid PEM text") }
            let blocks = try PEM.decodeAll(text, labels: ["ENCRYPTED PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"])
            guard let block = blocks.first else { throw ETrustError.badInput("\(what): no private key PEM block") }
            switch block.label {
            case "ENCRYPTED PRIVATE KEY": return try decrypt(block.der, passphrase: passphrase, what: what)
            default:
                guard allowUnencrypted else {
                    throw ETrustError.refused("\(what) is not encrypted; etrust keeps keys only as encrypted PKCS#8", code: .insecureKeyFile)
                }
                return try plain(block.der, what: what)
            }
        }
        // DER: try encrypted first.
        do { return try decrypt(bytes, passphrase: passphrase, what: what) } catch let e as ETrustError where e.code != .malformedInput {
            throw e
        } catch {}
        if allowUnencrypted, let key = try? plain(bytes, what: what) { return key }
        clearOpenSSLErrors()
        throw ETrustError.badInput("\(what): not a readable PKCS#8 private key, or wrong passphrase", code: .wrongPassphrase)
    }

    private static func plain(_ der: [UInt8], what: String) throws -> PrivateKey {
        clearOpenSSLErrors()
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_AutoPrivateKey(nil, &p, buf.count)
        }
        return PrivateKey(takingOwnership: try check(key, "d2i_AutoPrivateKey(\(what))", category: .badInput))
    }

    private static func decrypt(_ der: [UInt8], passphrase: [UInt8]?, what: String) throws -> PrivateKey {
        clearOpenSSLErrors()
        let sig: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_X509_SIG(nil, &p, buf.count)
        }
        guard let sig else { throw ETrustError.openSSL("d2i_X509_SIG(\(what))", category: .badInput, code: .malformedInput) }
        defer { X509_SIG_free(sig) }
        guard let passphrase, !passphrase.isEmpty else {
            throw ETrustError.badInput("\(what) is encrypted and no passphrase was given", code: .missingPassphrase)
        }
        let p8: OpaquePointer? = passphrase.withUnsafeBufferPointer { pass in
            pass.withMemoryRebound(to: CChar.self) { p in PKCS8_decrypt(sig, p.baseAddress, Int32(p.count)) }
        }
        guard let p8 else {
            clearOpenSSLErrors()
            throw ETrustError.badInput("wrong passphrase for \(what)", code: .wrongPassphrase)
        }
        defer { PKCS8_PRIV_KEY_INFO_free(p8) }
        return PrivateKey(takingOwnership: try check(EVP_PKCS82PKEY(p8), "EVP_PKCS82PKEY(\(what))", category: .badInput))
    }

    // MARK: Files

    /// Writes the encrypted key with mode 0600, atomically (temp file, fsync, rename), never over an existing key.
    public func write(toFile path: String, passphrase: [UInt8], iterations: Int32 = PrivateKey.defaultPBKDF2Iterations) throws {
        if FileManager.default.fileExists(atPath: path) {
            throw ETrustError.environment("\(path): a key file already exists; refusing to overwrite it", code: .alreadyExists)
        }
        let pem = try encryptedPKCS8PEM(passphrase: passphrase, iterations: iterations)
        try AtomicFile.write(Array(pem.utf8), to: path, mode: 0o600, replace: false)
    }

    public static func load(fromFile path: String, passphrase: [UInt8]?, allowUnencrypted: Bool = false) throws -> PrivateKey {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw ETrustError.badInput("\(path): no such key file", code: .notFound)
        }
        // Refuse a key others can read: someone has already weakened its protection.
        try SecretFilePolicy.check(path, what: "key file")
        let bytes = try InputFile.read(path)
        return try load(bytes, passphrase: passphrase, allowUnencrypted: allowUnencrypted, what: path)
    }
}

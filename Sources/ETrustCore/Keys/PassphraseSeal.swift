import Foundation
internal import COpenSSL

/// A small secret sealed under a passphrase: PBKDF2-HMAC-SHA256 (the PBES2 key derivation of
/// RFC 8018 6.2) into an AES-256-GCM key. GCM's tag makes a wrong passphrase or an altered box
/// an error, never a wrong plaintext. Used for a custodian's share of a CA key's secret.
public struct PassphraseSeal: Sendable, Equatable {
    public static let scheme = "pbkdf2-hmac-sha256/aes-256-gcm"
    public var iterations: Int
    public var salt: [UInt8]
    public var nonce: [UInt8]
    /// Ciphertext followed by the 16-byte GCM tag.
    public var sealed: [UInt8]

    public init(iterations: Int, salt: [UInt8], nonce: [UInt8], sealed: [UInt8]) {
        self.iterations = iterations; self.salt = salt; self.nonce = nonce; self.sealed = sealed
    }

    /// Seals `plaintext`; `associatedData` (authenticated, not encrypted) binds the box to its context.
    public static func seal(_ plaintext: [UInt8], passphrase: [UInt8], associatedData: [UInt8] = [],
                            iterations: Int = Int(PrivateKey.defaultPBKDF2Iterations)) throws -> PassphraseSeal {
        guard !passphrase.isEmpty else { throw ETrustError.badInput("an empty passphrase cannot seal a secret", code: .missingPassphrase) }
        let salt = try CSPRNG.bytes(16), nonce = try CSPRNG.bytes(12)
        let key = try derive(passphrase, salt: salt, iterations: iterations)
        let (ciphertext, tag) = try gcm(encrypt: true, key: key, nonce: nonce, input: plaintext, aad: associatedData, tag: nil)
        return PassphraseSeal(iterations: iterations, salt: salt, nonce: nonce, sealed: ciphertext + tag)
    }

    /// The plaintext, or a refusal naming a wrong passphrase (or an altered box: GCM cannot tell which).
    public func open(passphrase: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard sealed.count >= 16, nonce.count == 12, !salt.isEmpty, iterations >= 1 else {
            throw ETrustError.refused("a sealed secret is malformed", code: .malformedInput)
        }
        let key = try PassphraseSeal.derive(passphrase, salt: salt, iterations: iterations)
        do {
            return try PassphraseSeal.gcm(encrypt: false, key: key, nonce: nonce, input: Array(sealed.dropLast(16)), aad: associatedData,
                                          tag: Array(sealed.suffix(16))).output
        } catch {
            throw ETrustError.badInput("wrong passphrase, or the sealed secret was altered", code: .wrongPassphrase)
        }
    }

    static func derive(_ passphrase: [UInt8], salt: [UInt8], iterations: Int) throws -> [UInt8] {
        clearOpenSSLErrors()
        var key = [UInt8](repeating: 0, count: 32)
        let rc = passphrase.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { pc in
                PKCS5_PBKDF2_HMAC(pc.baseAddress, Int32(pc.count), salt, Int32(salt.count), Int32(iterations), EVP_sha256(), 32, &key)
            }
        }
        try check(rc, "PKCS5_PBKDF2_HMAC")
        return key
    }

    private static func gcm(encrypt: Bool, key: [UInt8], nonce: [UInt8], input: [UInt8], aad: [UInt8],
                            tag: [UInt8]?) throws -> (output: [UInt8], tag: [UInt8]) {
        clearOpenSSLErrors()
        let ctx = try check(EVP_CIPHER_CTX_new(), "EVP_CIPHER_CTX_new")
        defer { EVP_CIPHER_CTX_free(ctx) }
        let call = encrypt ? "EVP_EncryptInit_ex" : "EVP_DecryptInit_ex"
        try check(EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nil, nil, nil, encrypt ? 1 : 0), call)
        try check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, Int32(nonce.count), nil), "EVP_CTRL_AEAD_SET_IVLEN")
        try check(EVP_CipherInit_ex(ctx, nil, nil, key, nonce, -1), call)
        var n: Int32 = 0
        if !aad.isEmpty { try check(EVP_CipherUpdate(ctx, nil, &n, aad, Int32(aad.count)), "EVP_CipherUpdate(aad)") }
        var output = [UInt8](repeating: 0, count: input.count + 16)
        var total: Int32 = 0
        if !input.isEmpty {
            try check(EVP_CipherUpdate(ctx, &output, &n, input, Int32(input.count)), "EVP_CipherUpdate")
            total = n
        }
        var tagBytes = tag ?? [UInt8](repeating: 0, count: 16)
        if !encrypt {
            try check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, &tagBytes), "EVP_CTRL_AEAD_SET_TAG")
        }
        let finished = output.withUnsafeMutableBufferPointer { o in EVP_CipherFinal_ex(ctx, o.baseAddress! + Int(total), &n) }
        guard finished == 1 else {
            clearOpenSSLErrors()
            throw ETrustError.refused("AES-256-GCM: the tag does not verify", code: .badSignature)
        }
        total += n
        if encrypt {
            try check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, &tagBytes), "EVP_CTRL_AEAD_GET_TAG")
        }
        return (Array(output.prefix(Int(total))), tagBytes)
    }
}

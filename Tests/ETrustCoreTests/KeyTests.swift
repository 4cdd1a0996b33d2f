import ETrustCore
import Foundation
import Testing

@Suite("Private keys")
struct KeyTests {
    static let passphrase = Array("correct horse battery staple".utf8)
    /// Small iteration count so the tests stay fast; the default (600,000) is checked once below.
    static let fastIterations: Int32 = 1000

    @Test("every KeyAlgorithm generates a key of the right kind that signs and verifies", arguments: KeyAlgorithm.allCases)
    func generate(_ algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let kind = try key.kind
        let expected: PublicKeyKind = switch algorithm {
        case .ecP256: .ec(curve: "P-256", bits: 256)
        case .ecP384: .ec(curve: "P-384", bits: 384)
        case .rsa2048: .rsa(bits: 2048)
        case .rsa3072: .rsa(bits: 3072)
        case .rsa4096: .rsa(bits: 4096)
        case .ed25519: .ed25519
        }
        #expect(kind == expected)
        #expect(KeyAlgorithm(rawValue: algorithm.rawValue) == algorithm)
        #expect(try KeyAlgorithm(parsing: algorithm.rawValue.uppercased()) == algorithm)

        // OpenSSL reads the SPKI independently and agrees on the size.
        let spki = try key.subjectPublicKeyInfo
        let osslKey = try OpenSSLKey.fromSPKI(spki)
        if algorithm != .ed25519 { #expect(osslKey.bits == kind.bits) }
        #expect(try osslKey.spki == spki)

        let signer = try Signer(key: key)
        #expect(signer.algorithm == (try SignatureAlgorithm.forSigning(with: kind)))
        let message = Array("to be signed".utf8)
        let signature = try signer.sign(message)
        let pub = try key.publicKey
        #expect(pub.subjectPublicKeyInfo == spki)
        #expect(try pub.verify(signature: signature, data: message[...], algorithm: signer.algorithm))
        var tampered = message
        tampered[0] ^= 0x01
        #expect(try !pub.verify(signature: signature, data: tampered[...], algorithm: signer.algorithm))
    }

    @Test("two generated keys differ")
    func keysAreFresh() throws {
        let a = try PrivateKey.generate(.ecP256)
        let b = try PrivateKey.generate(.ecP256)
        #expect(try a.subjectPublicKeyInfo != b.subjectPublicKeyInfo)
    }

    @Test("an unknown key type is refused as an invalid argument")
    func unknownKeyType() {
        expectETrustError(code: .invalidArgument, category: .badInput) { _ = try KeyAlgorithm(parsing: "dsa-1024") }
    }

    @Test("encrypted PKCS#8 round-trips with the right passphrase", arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func encryptedRoundTrip(_ algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let pem = try key.encryptedPKCS8PEM(passphrase: Self.passphrase, iterations: Self.fastIterations)
        #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"))
        #expect(pem.hasSuffix("-----END ENCRYPTED PRIVATE KEY-----\n"))
        #expect(!pem.contains("-----BEGIN PRIVATE KEY-----"))

        let loaded = try PrivateKey.load(Array(pem.utf8), passphrase: Self.passphrase)
        #expect(try loaded.subjectPublicKeyInfo == key.subjectPublicKeyInfo)

        // The loaded key is the private half: its signatures verify under the original public key.
        let signer = try Signer(key: loaded)
        let data = Array("round trip".utf8)
        #expect(try key.publicKey.verify(signature: try signer.sign(data), data: data[...], algorithm: signer.algorithm))

        // The DER form (no armour) loads too.
        let der = try PEM.decodeAll(pem, labels: ["ENCRYPTED PRIVATE KEY"])
        #expect(der.count == 1)
        let fromDER = try PrivateKey.load(der[0].der, passphrase: Self.passphrase)
        #expect(try fromDER.subjectPublicKeyInfo == key.subjectPublicKeyInfo)

        // OpenSSL's own PEM reader decrypts it to the same key.
        let ossl = try OpenSSLKey.fromEncryptedPEM(pem, passphrase: "correct horse battery staple")
        #expect(try ossl.spki == key.subjectPublicKeyInfo)
    }

    @Test("two encryptions of the same key use fresh salt and IV")
    func freshSalt() throws {
        let key = try PrivateKey.generate(.ecP256)
        let a = try key.encryptedPKCS8PEM(passphrase: Self.passphrase, iterations: Self.fastIterations)
        let b = try key.encryptedPKCS8PEM(passphrase: Self.passphrase, iterations: Self.fastIterations)
        #expect(a != b)
    }

    @Test("a wrong passphrase is refused as .wrongPassphrase / .badInput (PEM and DER)")
    func wrongPassphrase() throws {
        let key = try PrivateKey.generate(.ecP256)
        let pem = try key.encryptedPKCS8PEM(passphrase: Self.passphrase, iterations: Self.fastIterations)
        let e = expectETrustError(code: .wrongPassphrase, category: .badInput) {
            _ = try PrivateKey.load(Array(pem.utf8), passphrase: Array("Correct horse battery staple".utf8))
        }
        // The reason must not leak the passphrase.
        #expect(e?.reason.contains("horse") == false)
        let der = try PEM.decodeAll(pem, labels: ["ENCRYPTED PRIVATE KEY"])[0].der
        expectETrustError(code: .wrongPassphrase, category: .badInput) {
            _ = try PrivateKey.load(der, passphrase: Array("nope".utf8))
        }
    }

    @Test("an encrypted key without a passphrase is refused as .missingPassphrase")
    func missingPassphrase() throws {
        let key = try PrivateKey.generate(.ed25519)
        let pem = Array(try key.encryptedPKCS8PEM(passphrase: Self.passphrase, iterations: Self.fastIterations).utf8)
        expectETrustError(code: .missingPassphrase, category: .badInput) { _ = try PrivateKey.load(pem, passphrase: nil) }
        expectETrustError(code: .missingPassphrase, category: .badInput) { _ = try PrivateKey.load(pem, passphrase: []) }
        expectETrustError(code: .missingPassphrase, category: .badInput) {
            _ = try key.encryptedPKCS8PEM(passphrase: [], iterations: Self.fastIterations)
        }
    }

    @Test("unencrypted PKCS#8 loads only with allowUnencrypted")
    func unencrypted() throws {
        let ossl = try OpenSSLKey.generateP256()
        let pem = try ossl.unencryptedPEM
        #expect(String(decoding: pem, as: UTF8.self).contains("-----BEGIN PRIVATE KEY-----"))
        expectETrustError(code: .insecureKeyFile, category: .refused) { _ = try PrivateKey.load(pem, passphrase: nil) }
        let key = try PrivateKey.load(pem, passphrase: nil, allowUnencrypted: true)
        #expect(try key.subjectPublicKeyInfo == ossl.spki)
        #expect(try key.kind == .ec(curve: "P-256", bits: 256))
    }

    @Test("garbage is not a private key")
    func garbageKey() {
        expectETrustError(code: .wrongPassphrase, category: .badInput) {
            _ = try PrivateKey.load([0x30, 0x03, 0x02, 0x01, 0x00], passphrase: Self.passphrase, allowUnencrypted: true)
        }
        expectETrustError(code: .malformedInput, category: .badInput) {
            _ = try PrivateKey.load(Array("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".utf8), passphrase: Self.passphrase)
        }
    }

    @Test("openssl reads our encrypted key: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC")
    func opensslReadsEncryptedKey() throws {
        let dir = try TempDir()
        let key = try PrivateKey.generate(.ecP256)
        let pem = try key.encryptedPKCS8PEM(passphrase: Self.passphrase, iterations: Self.fastIterations)
        try dir.write("key.pem", pem)
        try dir.write("pass", Self.passphrase)
        try dir.write("wrong", "wrong passphrase")

        let parsed = try runOpenSSLOK(["asn1parse", "-in", "key.pem"], in: dir).stdout
        for needle in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
            #expect(parsed.contains(needle), "asn1parse output lacks \(needle):\n\(parsed)")
        }
        #expect(parsed.contains(":03E8"), "iteration count 1000 not found:\n\(parsed)")

        try runOpenSSLOK(["pkey", "-in", "key.pem", "-passin", "file:pass", "-noout"], in: dir)
        let pub = try runOpenSSLOK(["pkey", "-in", "key.pem", "-passin", "file:pass", "-pubout"], in: dir).stdout
        #expect(pub == PEM.encode(try key.subjectPublicKeyInfo, label: "PUBLIC KEY"))

        let wrong = try runOpenSSL(["pkey", "-in", "key.pem", "-passin", "file:wrong", "-noout"], in: dir)
        #expect(wrong.status != 0)
    }

    @Test("the default iteration count is 600,000")
    func defaultIterations() throws {
        #expect(PrivateKey.defaultPBKDF2Iterations == 600_000)
        let dir = try TempDir()
        let key = try PrivateKey.generate(.ed25519)
        try dir.write("key.pem", try key.encryptedPKCS8PEM(passphrase: Self.passphrase))
        let parsed = try runOpenSSLOK(["asn1parse", "-in", "key.pem"], in: dir).stdout
        #expect(parsed.contains(":0927C0"), "iteration count 600000 (0x0927C0) not found:\n\(parsed)")
    }

    @Test("a key encrypted by `openssl pkcs8 -topk8` loads (PEM and DER)")
    func loadsOpenSSLEncryptedKey() throws {
        let dir = try TempDir()
        try dir.write("pass", Self.passphrase)
        try runOpenSSLOK(["genpkey", "-algorithm", "ED25519", "-out", "plain.pem"], in: dir)
        try runOpenSSLOK(["pkcs8", "-topk8", "-in", "plain.pem", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256",
                          "-iter", "1000", "-passout", "file:pass", "-out", "enc.pem"], in: dir)
        try runOpenSSLOK(["pkcs8", "-topk8", "-in", "plain.pem", "-v2", "aes-128-cbc", "-iter", "1000",
                          "-passout", "file:pass", "-outform", "DER", "-out", "enc.der"], in: dir)
        try runOpenSSLOK(["pkey", "-in", "plain.pem", "-pubout", "-outform", "DER", "-out", "pub.der"], in: dir)
        let spki = try dir.read("pub.der")

        let a = try PrivateKey.load(try dir.read("enc.pem"), passphrase: Self.passphrase)
        #expect(try a.subjectPublicKeyInfo == spki)
        #expect(try a.kind == .ed25519)
        let b = try PrivateKey.load(try dir.read("enc.der"), passphrase: Self.passphrase)
        #expect(try b.subjectPublicKeyInfo == spki)
    }

    // MARK: Files

    @Test("write(toFile:) creates mode 0600 and refuses to overwrite")
    func writeMode() throws {
        let dir = try TempDir()
        let key = try PrivateKey.generate(.ecP256)
        let path = dir.path("ca.key")
        try key.write(toFile: path, passphrase: Self.passphrase, iterations: Self.fastIterations)
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect((st.st_mode & S_IFMT) == S_IFREG)
        // No temp file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["ca.key"])

        let loaded = try PrivateKey.load(fromFile: path, passphrase: Self.passphrase)
        #expect(try loaded.subjectPublicKeyInfo == key.subjectPublicKeyInfo)

        let before = try dir.read("ca.key")
        let other = try PrivateKey.generate(.ecP256)
        expectETrustError(code: .alreadyExists, category: .environment) {
            try other.write(toFile: path, passphrase: Self.passphrase, iterations: Self.fastIterations)
        }
        #expect(try dir.read("ca.key") == before)
    }

    @Test("load(fromFile:) refuses group/world-accessible key files", arguments: [0o644, 0o640, 0o604, 0o660])
    func insecureMode(_ mode: Int) throws {
        let dir = try TempDir()
        let key = try PrivateKey.generate(.ecP256)
        let path = dir.path("ca.key")
        try key.write(toFile: path, passphrase: Self.passphrase, iterations: Self.fastIterations)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        let e = expectETrustError(code: .insecureKeyFile, category: .refused) {
            _ = try PrivateKey.load(fromFile: path, passphrase: Self.passphrase)
        }
        #expect(e?.reason.contains(String(mode, radix: 8)) == true)
        // Mode 0400 is fine.
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(try PrivateKey.load(fromFile: path, passphrase: Self.passphrase).subjectPublicKeyInfo == key.subjectPublicKeyInfo)
    }

    @Test("load(fromFile:) of a missing file is .notFound")
    func missingFile() throws {
        let dir = try TempDir()
        expectETrustError(code: .notFound, category: .badInput) {
            _ = try PrivateKey.load(fromFile: dir.path("absent.key"), passphrase: Self.passphrase)
        }
    }
}

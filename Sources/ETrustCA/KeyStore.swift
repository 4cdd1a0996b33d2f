import Dispatch
import ETrustCore
import ETrustStore
import Foundation

/// Where the home's private keys come from, behind one seam: encrypted PKCS#8 files
/// (`file:keys/NAME.key.pem`) or objects of a PKCS#11 token (`pkcs11:token=...;object=...;id=...`,
/// RFC 7512; KeyStore+PKCS11.swift). Nothing above it knows which. A key is decrypted (or found
/// on its token) once per process (PBKDF2 is deliberately slow).
public final class KeyStore {
    let home: Home
    /// The passphrase of the home's key files, read at most once and only when a key is needed.
    let passphrase: () throws -> [UInt8]
    /// The PIN of the home's PKCS#11 tokens, read at most once and only when a token key is needed.
    let pin: () throws -> [UInt8]
    /// The home's PKCS#11 module once loaded, and the token keys this process generated whose
    /// CA is not recorded yet (KeyStore+PKCS11.swift).
    var pkcs11Module: PKCS11Module?
    var pendingTokenKeys: [ObjectIdentifier: PKCS11URI] = [:]
    private var signers: [String: Signer] = [:]
    private var keys: [String: PrivateKey] = [:]
    /// Custodians' shares for keys split M-of-N (KeyStore+Custodians.swift).
    let custody = CustodyState()

    /// The reference of a CA whose key lives in another home (an offline root imported with the
    /// certificate chain at `etrust ca activate`).
    public static let offlinePrefix = "offline:"

    init(home: Home, passphrase: @escaping () throws -> [UInt8], pin: @escaping () throws -> [UInt8] = KeyStore.noPIN) {
        self.home = home
        self.passphrase = passphrase
        self.pin = pin
    }

    /// The CA's signer, checked against the CA certificate's public key.
    public func signer(for ca: CARecord) throws -> Signer {
        if let s = signers[ca.keyReference] { return s }
        let key = try CustodyReference.split(ca.keyReference).map { try unlockWithShares(ca, threshold: $0.threshold, total: $0.total) }
            ?? privateKey(ca.keyReference, owner: "CA \(ca.name)")
        guard try key.subjectPublicKeyInfo == ca.certificate.subjectPublicKeyInfo else {
            throw ETrustError.environment("CA \(ca.name): the key \(ca.keyReference.hasPrefix("file:") ? "file" : ca.keyReference) does not match the CA certificate", code: .io)
        }
        let s = try Signer(key: key)
        signers[ca.keyReference] = s
        return s
    }

    /// The private key a reference names.
    public func privateKey(_ reference: String, owner: String) throws -> PrivateKey {
        if let k = keys[reference] { return k }
        if reference.hasPrefix(KeyStore.offlinePrefix) {
            throw ETrustError.environment("\(owner): its key is not in this home (an offline CA): sign on its own host", code: .notFound)
        }
        if reference.hasPrefix("pkcs11:") {
            let key = try tokenKey(reference, owner: owner)
            keys[reference] = key
            return key
        }
        guard reference.hasPrefix("file:") else {
            throw ETrustError.environment("\(owner): key store '\(reference)' is not available", code: .io)
        }
        let key = try PrivateKey.load(fromFile: home.join(String(reference.dropFirst(5))), passphrase: try passphrase())
        keys[reference] = key
        return key
    }

    /// Stores a new key under `keys/NAME.key.pem` (encrypted, 0600, never over an existing file)
    /// and returns its reference. The key is encrypted under the home's passphrase, or under
    /// `passphrase` for a key another process unlocks (an OCSP responder's); a key `generateKey`
    /// made inside a token is already stored and gets its PKCS#11 URI.
    public func store(_ key: PrivateKey, name: String, passphrase other: [UInt8]? = nil) throws -> String {
        if let reference = recordPendingTokenKey(key) {
            keys[reference] = key
            return reference
        }
        let relative = "keys/\(name).key.pem"
        try key.write(toFile: home.join(relative), passphrase: try other ?? passphrase(), iterations: home.config.keyIterations)
        let reference = "file:" + relative
        keys[reference] = key
        return reference
    }

    /// Removes a key stored by `store` whose record could not be committed.
    func discard(_ reference: String) {
        keys[reference] = nil
        if reference.hasPrefix("file:") { unlink(home.join(CustodyReference.relativePath(reference))) }
        if reference.hasPrefix("pkcs11:") { destroyTokenKey(reference) }
        discardShares(reference)
    }

    /// Remembers the signer of a key just generated, so it is not decrypted again.
    func remember(_ signer: Signer, for reference: String) { signers[reference] = signer }

    /// Decrypts several keys at once, one PBKDF2 per core, so that a batch's timing measures
    /// issuance alone. Keys that do not exist yet are skipped.
    func unlock(_ references: [String]) throws {
        let missing = references.filter { keys[$0] == nil && $0.hasPrefix("file:") && FileManager.default.fileExists(atPath: home.join(String($0.dropFirst(5)))) }
        guard missing.count > 1 else {
            for r in missing { _ = try privateKey(r, owner: r) }
            return
        }
        let secret = try passphrase()
        let paths = missing.map { home.join(String($0.dropFirst(5))) }
        let results = parallelMap(paths) { path in Result { try PrivateKey.load(fromFile: path, passphrase: secret) } }
        for (r, result) in zip(missing, results) { keys[r] = try result.get() }
    }
}

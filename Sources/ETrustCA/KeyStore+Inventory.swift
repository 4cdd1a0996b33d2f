import Dispatch
import ETrustCore
import ETrustStore
import Foundation

/// What `etrust hsm list` reports: the module's initialised tokens, their key objects, and which
/// CA of the home uses each.
public struct TokenInventory: Sendable {
    public struct Key: Sendable {
        public var info: PKCS11KeyInfo
        /// The CA of the home whose key reference names this object.
        public var ca: String?
    }

    public struct Token: Sendable {
        public var info: PKCS11TokenInfo
        public var keys: [Key]
    }

    public var module: String
    public var tokens: [Token]
}

/// What `etrust hsm check` reports for one CA: a test message signed with its key (file or
/// token) and verified with the public key of its certificate.
public struct KeyCheck: Sendable {
    public var ca: String
    public var reference: String
    public var algorithm: String?
    public var ok: Bool
    public var error: String?
    /// Time of the whole check (key lookup or unlock, signatures, verification).
    public var milliseconds: Double
    /// Signatures made, and their rate (the signing alone, verification excluded).
    public var signatures: Int = 0
    public var signaturesPerSecond: Double?

    /// `store` (file or pkcs11) and, for a token key, `uri`.
    public var location: [String: String] { KeyStore.location(of: reference) }
}

extension KeyStore {
    /// Lists the initialised tokens of the home's module (or the one labelled `token`), logged in
    /// with the PIN, and their key objects.
    public func inventory(cas: [CARecord], token label: String? = nil) throws -> TokenInventory {
        let m = try module()
        var tokens: [TokenInventory.Token] = []
        for info in m.tokens() where info.initialized && (label == nil || info.label == label) {
            var uri = PKCS11URI(token: info.label)
            uri.serial = info.serial
            try m.login(uri, pin: try pin())
            let keys = try m.keys(uri)
                .sorted { ($0.label, $0.isPrivate ? 0 : 1, Hex.encode($0.id)) < ($1.label, $1.isPrivate ? 0 : 1, Hex.encode($1.id)) }
                .map { key in TokenInventory.Key(info: key, ca: cas.first { KeyStore.reference($0.keyReference, names: key) }?.name) }
            tokens.append(TokenInventory.Token(info: info, keys: keys))
        }
        if let label, tokens.isEmpty {
            throw ETrustError.environment("no initialised PKCS#11 token labelled '\(label)' in module \(m.path)", code: .pkcs11)
        }
        return TokenInventory(module: m.path, tokens: tokens)
    }

    /// Whether a CA's key reference names this token object (same token, and the object's label
    /// and id where the reference gives them).
    static func reference(_ reference: String, names key: PKCS11KeyInfo) -> Bool {
        guard reference.hasPrefix("pkcs11:"), let uri = try? PKCS11URI(parsing: reference) else { return false }
        return (uri.token == nil || uri.token == key.token) && (uri.object == nil || uri.object == key.label)
            && (uri.id == nil || uri.id == key.id) && (uri.object != nil || uri.id != nil)
    }

    /// Signs a test message with the CA's key (`repeat` times, to measure the rate) and verifies
    /// each signature with its certificate's public key. A failure is reported, not thrown, so
    /// that every CA is checked.
    public func check(_ ca: CARecord, repeat count: Int = 1) -> KeyCheck {
        let start = DispatchTime.now().uptimeNanoseconds
        var result = KeyCheck(ca: ca.name, reference: ca.keyReference, algorithm: nil, ok: false, error: nil, milliseconds: 0)
        do {
            let signer = try signer(for: ca)
            result.algorithm = signer.algorithm.description
            let messages = (0..<max(count, 1)).map { Array("etrust hsm check \(ca.name) \($0) \(UUID().uuidString)".utf8) }
            let signStart = DispatchTime.now().uptimeNanoseconds
            let signatures = try messages.map { try signer.sign($0) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - signStart) / 1e9
            result.signatures = signatures.count
            result.signaturesPerSecond = seconds > 0 ? Double(signatures.count) / seconds : nil
            let publicKey = try ca.certificate.publicKey
            if try zip(messages, signatures).allSatisfy({ try publicKey.verify(signature: $1, data: $0[...], algorithm: signer.algorithm) }) {
                result.ok = true
            } else {
                result.error = "the test signature does not verify with the public key of the CA certificate"
            }
        } catch let e as ETrustError {
            result.error = e.reason
        } catch {
            result.error = "\(error)"
        }
        result.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
        return result
    }
}

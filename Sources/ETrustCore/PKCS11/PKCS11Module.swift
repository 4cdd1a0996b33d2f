import Foundation
import Synchronization
internal import CLibP11

/// A token of a PKCS#11 module, as `etrust hsm list` reports it.
public struct PKCS11TokenInfo: Sendable, Equatable {
    public var label: String
    public var manufacturer: String
    public var model: String
    public var serial: String
    public var slotID: UInt
    public var initialized: Bool
    public var loginRequired: Bool
    public var userPINLocked: Bool

    /// The RFC 7512 URI naming this token.
    public var uri: PKCS11URI { PKCS11URI(token: label) }
}

/// A key object of a token. The booleans are a private key's protection attributes as the module
/// reports them (nil for a public key, or when the module would not say).
public struct PKCS11KeyInfo: Sendable, Equatable {
    public var token: String
    public var label: String
    public var id: [UInt8]
    public var isPrivate: Bool
    /// "ec", "rsa", "ed25519" or "unknown".
    public var keyType: String
    public var sensitive: Bool?
    public var extractable: Bool?
    public var alwaysSensitive: Bool?
    public var neverExtractable: Bool?

    /// The RFC 7512 URI that names this object.
    public var uri: PKCS11URI {
        PKCS11URI(token: token, object: label.isEmpty ? nil : label, id: id.isEmpty ? nil : id, type: isPrivate ? "private" : "public")
    }
}

/// One loaded PKCS#11 module (libp11's PKCS11_CTX, PKCS11_CTX_load) and its slots. It owns the
/// context, the slot list and a second handle on the module's function list, frees them in
/// `deinit`, and stays alive as long as any `PrivateKey` it produced: a token key's EVP_PKEY points
/// into libp11's slot and key structures.
// @unchecked Sendable: every call into libp11 or the module made here holds `lock`; libp11 holds its
// own per-context lock while a token key signs.
package final class PKCS11Module: @unchecked Sendable {
    package let path: String
    private let ctx: UnsafeMutablePointer<PKCS11_CTX>
    private var slots: UnsafeMutablePointer<PKCS11_SLOT>?
    private var slotCount: UInt32 = 0
    /// dlopen of the same module: libp11 does not expose the CK_FUNCTION_LIST it loaded.
    private let moduleHandle: UnsafeMutableRawPointer
    /// Used by PKCS11Module+FunctionList.swift.
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    let lock = Mutex(())

    /// Loads the module (C_Initialize) and enumerates its slots.
    package init(path: String) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ETrustError.environment("PKCS#11 module \(path) not found (pkcs11.module in etrust.yaml)", code: .pkcs11)
        }
        clearOpenSSLErrors()
        guard let ctx = PKCS11_CTX_new() else { throw ETrustError.openSSL("PKCS11_CTX_new", code: .pkcs11) }
        guard PKCS11_CTX_load(ctx, path) == 0 else {
            PKCS11_CTX_free(ctx)
            // libp11 reports C_Initialize's return value last; what OpenSSL queued before it
            // (engines it failed to load on the way) only hides the cause.
            let cause = OpenSSLErrorQueue.drain().last?.text ?? "failed"
            var message = "PKCS#11 module \(path) cannot be initialised (C_Initialize: \(cause))"
            if path.contains("softhsm") {
                message += "; SoftHSM2 needs a readable configuration (SOFTHSM2_CONF, else /etc/softhsm/softhsm2.conf) whose tokendir exists and is writable"
            }
            throw ETrustError.environment(message, code: .pkcs11)
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            PKCS11_CTX_unload(ctx); PKCS11_CTX_free(ctx)
            throw ETrustError.environment("PKCS#11 module \(path) cannot be opened: \(dlerror().map { String(cString: $0) } ?? "dlopen failed")", code: .pkcs11)
        }
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>? = nil
        if let symbol = dlsym(handle, "C_GetFunctionList") {
            typealias GetFunctionList = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<CK_FUNCTION_LIST>?>?) -> CK_RV
            _ = unsafeBitCast(symbol, to: GetFunctionList.self)(&list)
        }
        guard let list else {
            dlclose(handle); PKCS11_CTX_unload(ctx); PKCS11_CTX_free(ctx)
            throw ETrustError.environment("\(path) is not a PKCS#11 module (no C_GetFunctionList)", code: .pkcs11)
        }
        var slots: UnsafeMutablePointer<PKCS11_SLOT>? = nil
        var count: UInt32 = 0
        guard PKCS11_enumerate_slots(ctx, &slots, &count) == 0 else {
            dlclose(handle); PKCS11_CTX_unload(ctx); PKCS11_CTX_free(ctx)
            throw ETrustError.openSSL("PKCS11_enumerate_slots", category: .environment, code: .pkcs11)
        }
        self.ctx = ctx
        self.slots = slots
        self.slotCount = count
        self.moduleHandle = handle
        self.functions = list
    }

    deinit {
        if let slots { PKCS11_release_all_slots(ctx, slots, slotCount) }
        PKCS11_CTX_unload(ctx)
        PKCS11_CTX_free(ctx)
        dlclose(moduleHandle)
    }

    // MARK: Tokens

    /// The tokens present in the module's slots (initialised or not).
    package func tokens() -> [PKCS11TokenInfo] {
        lock.withLock { _ in
            (0..<Int(slotCount)).compactMap { i -> PKCS11TokenInfo? in
                guard let slot = slots?.advanced(by: i), let token = slot.pointee.token else { return nil }
                return PKCS11TokenInfo(label: string(token.pointee.label), manufacturer: string(token.pointee.manufacturer),
                                       model: string(token.pointee.model), serial: string(token.pointee.serialnr),
                                       slotID: UInt(PKCS11_get_slotid_from_slot(slot)),
                                       initialized: token.pointee.initialized != 0, loginRequired: token.pointee.loginRequired != 0,
                                       userPINLocked: token.pointee.userPinLocked != 0)
            }
        }
    }

    /// The slot of the first initialised token the URI matches; exit 3 if there is none.
    func slot(for uri: PKCS11URI) throws -> UnsafeMutablePointer<PKCS11_SLOT> {
        for i in 0..<Int(slotCount) {
            guard let slot = slots?.advanced(by: i), let token = slot.pointee.token, token.pointee.initialized != 0 else { continue }
            if uri.matchesToken(label: string(token.pointee.label), manufacturer: string(token.pointee.manufacturer),
                                model: string(token.pointee.model), serial: string(token.pointee.serialnr)) {
                return slot
            }
        }
        throw ETrustError.environment("no PKCS#11 token matches \(uri.tokenOnly) in module \(path)", code: .pkcs11)
    }

    /// Logs the user in to the token (once per process: PKCS#11 login state is per application).
    /// The PIN's bytes are wiped from the copy made for the call.
    package func login(_ uri: PKCS11URI, pin: [UInt8]) throws {
        try lock.withLock { _ in
            let slot = try slot(for: uri)
            var loggedIn: Int32 = 0
            if PKCS11_is_logged_in(slot, 0, &loggedIn) == 0, loggedIn != 0 { return }
            var cPIN = pin.map { CChar(bitPattern: $0) } + [0]
            defer { for i in cPIN.indices { cPIN[i] = 0 } }
            clearOpenSSLErrors()
            let rc = cPIN.withUnsafeBufferPointer { PKCS11_login(slot, 0, $0.baseAddress) }
            guard rc == 0 else {
                let label = uri.tokenOnly.description
                throw ETrustError.openSSL("PKCS11_login", category: .environment, code: .pkcs11Login) {
                    "PKCS#11 login to \(label) refused\($0.isEmpty ? "" : ": \($0)") (check --pin-file or ETRUST_PKCS11_PIN)"
                }
            }
        }
    }

    // MARK: Keys

    /// The key objects of a logged-in token, with their protection attributes.
    package func keys(_ uri: PKCS11URI) throws -> [PKCS11KeyInfo] {
        try lock.withLock { _ in
            let slot = try slot(for: uri)
            let label = string(slot.pointee.token.pointee.label)
            let slotID = UInt(PKCS11_get_slotid_from_slot(slot))
            return try withLibP11Keys(slot) { keys in
                keys.map { key in
                    var info = PKCS11KeyInfo(token: label, label: string(key.pointee.label),
                                             id: Array(UnsafeBufferPointer(start: key.pointee.id, count: Int(key.pointee.id_len))),
                                             isPrivate: key.pointee.isPrivate != 0, keyType: keyType(key))
                    if info.isPrivate, let flags = try? protection(slotID: slotID, id: info.id) {
                        (info.sensitive, info.extractable, info.alwaysSensitive, info.neverExtractable) = flags
                    }
                    return info
                }
            }
        }
    }

    /// The private key the URI names (by object label and/or id), as an OpenSSL key whose
    /// operations the token performs (PKCS11_get_private_key). Exit 3 if no object, or several,
    /// match.
    package func privateKey(_ uri: PKCS11URI) throws -> PrivateKey {
        guard uri.object != nil || uri.id != nil else {
            throw ETrustError.badInput("PKCS#11 URI \(uri) names no object (object= or id=)", code: .invalidArgument)
        }
        if let type = uri.type, type != "private" {
            throw ETrustError.badInput("PKCS#11 URI \(uri) does not name a private key (type=\(type))", code: .invalidArgument)
        }
        return try lock.withLock { _ in
            let slot = try slot(for: uri)
            return try withLibP11Keys(slot) { keys in
                let matches = keys.filter { key in
                    key.pointee.isPrivate != 0
                        && (uri.object == nil || string(key.pointee.label) == uri.object)
                        && (uri.id == nil || Array(UnsafeBufferPointer(start: key.pointee.id, count: Int(key.pointee.id_len))) == uri.id!)
                }
                guard let key = matches.first else {
                    throw ETrustError.environment("no private key on the token matches \(uri)", code: .pkcs11NoObject)
                }
                guard matches.count == 1 else {
                    throw ETrustError.environment("\(matches.count) private keys on the token match \(uri); add id= to the URI", code: .pkcs11NoObject)
                }
                clearOpenSSLErrors()
                guard let evp = PKCS11_get_private_key(key) else {
                    throw ETrustError.openSSL("PKCS11_get_private_key(\(uri))", code: .pkcs11)
                }
                return PrivateKey(takingOwnership: evp, keepingAlive: self)
            }
        }
    }

    /// Runs `body` over the token's private and public key objects as libp11 lists them
    /// (PKCS11_enumerate_keys and _public_keys re-read the token each time).
    private func withLibP11Keys<R>(_ slot: UnsafeMutablePointer<PKCS11_SLOT>,
                                   _ body: ([UnsafeMutablePointer<PKCS11_KEY>]) throws -> R) throws -> R {
        var all: [UnsafeMutablePointer<PKCS11_KEY>] = []
        var keys: UnsafeMutablePointer<PKCS11_KEY>? = nil
        var count: UInt32 = 0
        clearOpenSSLErrors()
        guard PKCS11_enumerate_keys(slot.pointee.token, &keys, &count) == 0 else {
            throw ETrustError.openSSL("PKCS11_enumerate_keys", code: .pkcs11)
        }
        if let keys { all += (0..<Int(count)).map { keys.advanced(by: $0) } }
        keys = nil; count = 0
        if PKCS11_enumerate_public_keys(slot.pointee.token, &keys, &count) == 0, let keys {
            all += (0..<Int(count)).map { keys.advanced(by: $0) }
        }
        clearOpenSSLErrors()
        return try body(all)
    }

    private func keyType(_ key: UnsafeMutablePointer<PKCS11_KEY>) -> String {
        // libp11 answers with OpenSSL's EVP_PKEY_* (= NID) values.
        switch PKCS11_get_key_type(key) {
        case 408: "ec"          // NID_X9_62_id_ecPublicKey
        case 6: "rsa"           // NID_rsaEncryption
        case 1087: "ed25519"    // NID_ED25519
        default: "unknown"
        }
    }

    private func string(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        var s = String(cString: p)
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}

extension ETrustError.Code {
    /// A PKCS#11 module, token or call failed (exit 3).
    public static let pkcs11: Self = "pkcs11"
    /// The token refused the PIN, or the PIN is locked (exit 3).
    public static let pkcs11Login: Self = "pkcs11_login"
    /// A PKCS#11 URI names no object on the token (exit 3).
    public static let pkcs11NoObject: Self = "pkcs11_no_object"
}

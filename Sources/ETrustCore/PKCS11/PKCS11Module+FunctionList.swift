internal import CLibP11

/// What etrust asks of the module directly, through its CK_FUNCTION_LIST (libp11 0.4.12 has no
/// call for them): key generation with explicit attributes, attribute reads, object destruction.
/// Every entry point holds `lock`; the sessions opened here are the application's, so they are
/// logged in when `login` was (PKCS#11 2.40 section 5.6).
extension PKCS11Module {
    /// Generates a key pair inside the token (C_GenerateKeyPair): the private key CKA_TOKEN,
    /// CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN only; the public key on the
    /// token too (libp11 reads an EC key's point from it), both with `label` and `id`.
    /// The user must be logged in (`login`).
    package func generateKeyPair(_ uri: PKCS11URI, algorithm: KeyAlgorithm, label: String, id: [UInt8]) throws {
        try lock.withLock { _ in
            let slotID = try UInt(PKCS11_get_slotid_from_slot(slot(for: uri)))
            let mechanism: CK_MECHANISM_TYPE
            var publicTemplate: [PKCS11Attribute] = [.ulong(CKA_CLASS, CKO_PUBLIC_KEY), .bool(CKA_TOKEN, true), .bool(CKA_PRIVATE, false),
                                                     .bool(CKA_VERIFY, true), .bytes(CKA_LABEL, Array(label.utf8)), .bytes(CKA_ID, id)]
            var privateTemplate: [PKCS11Attribute] = [.ulong(CKA_CLASS, CKO_PRIVATE_KEY), .bool(CKA_TOKEN, true), .bool(CKA_PRIVATE, true),
                                                      .bool(CKA_SENSITIVE, true), .bool(CKA_EXTRACTABLE, false), .bool(CKA_SIGN, true),
                                                      .bool(CKA_DECRYPT, false), .bool(CKA_UNWRAP, false), .bool(CKA_DERIVE, false),
                                                      .bytes(CKA_LABEL, Array(label.utf8)), .bytes(CKA_ID, id)]
            switch algorithm {
            case .ecP256, .ecP384:
                mechanism = CKM_EC_KEY_PAIR_GEN
                // CKA_EC_PARAMS: the named curve's OID, DER (RFC 5480 2.1.1.1).
                let oid: [UInt8] = algorithm == .ecP256 ? [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
                                                        : [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]
                publicTemplate += [.ulong(CKA_KEY_TYPE, CKK_EC), .bytes(CKA_EC_PARAMS, oid)]
                privateTemplate.append(.ulong(CKA_KEY_TYPE, CKK_EC))
            case .rsa2048, .rsa3072, .rsa4096:
                mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN
                let bits: UInt = algorithm == .rsa2048 ? 2048 : algorithm == .rsa3072 ? 3072 : 4096
                publicTemplate += [.ulong(CKA_KEY_TYPE, CKK_RSA), .ulong(CKA_MODULUS_BITS, bits), .bytes(CKA_PUBLIC_EXPONENT, [0x01, 0x00, 0x01])]
                privateTemplate.append(.ulong(CKA_KEY_TYPE, CKK_RSA))
            case .ed25519:
                throw ETrustError.badInput("--key ed25519 cannot be kept in a PKCS#11 token by this build (libp11 0.4.12 signs with EC and RSA token keys); use ec-p256, ec-p384 or rsa-*",
                                           code: .unsupportedAlgorithm)
            }
            try withSession(slotID: slotID) { session in
                var mech = CK_MECHANISM(mechanism: mechanism, pParameter: nil, ulParameterLen: 0)
                var publicHandle: CK_OBJECT_HANDLE = 0, privateHandle: CK_OBJECT_HANDLE = 0
                let rv = PKCS11Attribute.withTemplate(publicTemplate) { pub, pubCount in
                    PKCS11Attribute.withTemplate(privateTemplate) { priv, privCount in
                        functions.pointee.C_GenerateKeyPair!(session, &mech, pub, pubCount, priv, privCount, &publicHandle, &privateHandle)
                    }
                }
                try PKCS11Module.check(rv, "C_GenerateKeyPair(\(algorithm.rawValue)) on \(uri.tokenOnly)")
            }
        }
    }

    /// Destroys every key object of the token whose CKA_ID is `id` (a key generated for a CA
    /// whose record could not be committed).
    package func destroyKeys(_ uri: PKCS11URI, id: [UInt8]) throws {
        try lock.withLock { _ in
            let slotID = try UInt(PKCS11_get_slotid_from_slot(slot(for: uri)))
            try withSession(slotID: slotID) { session in
                for handle in try findObjects(session, [.bytes(CKA_ID, id)]) {
                    try PKCS11Module.check(functions.pointee.C_DestroyObject!(session, handle), "C_DestroyObject")
                }
            }
        }
    }

    /// CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE of the private key with this id.
    func protection(slotID: UInt, id: [UInt8]) throws -> (Bool?, Bool?, Bool?, Bool?) {
        try withSession(slotID: slotID) { session in
            guard let handle = try findObjects(session, [.ulong(CKA_CLASS, CKO_PRIVATE_KEY), .bytes(CKA_ID, id)]).first else {
                return (nil, nil, nil, nil)
            }
            var values = [CK_BBOOL](repeating: 0, count: 4)
            let types = [CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE]
            var known = [Bool](repeating: false, count: 4)
            values.withUnsafeMutableBufferPointer { v in
                for i in 0..<4 {
                    var attribute = CK_ATTRIBUTE(type: types[i], pValue: UnsafeMutableRawPointer(v.baseAddress! + i), ulValueLen: 1)
                    known[i] = functions.pointee.C_GetAttributeValue!(session, handle, &attribute, 1) == CKR_OK && attribute.ulValueLen == 1
                }
            }
            func value(_ i: Int) -> Bool? { known[i] ? values[i] != 0 : nil }
            return (value(0), value(1), value(2), value(3))
        }
    }

    private func findObjects(_ session: CK_SESSION_HANDLE, _ template: [PKCS11Attribute]) throws -> [CK_OBJECT_HANDLE] {
        let rv = PKCS11Attribute.withTemplate(template) { functions.pointee.C_FindObjectsInit!(session, $0, $1) }
        try PKCS11Module.check(rv, "C_FindObjectsInit")
        defer { _ = functions.pointee.C_FindObjectsFinal!(session) }
        var handles: [CK_OBJECT_HANDLE] = []
        var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 16)
        while true {
            var n: CK_ULONG = 0
            try PKCS11Module.check(functions.pointee.C_FindObjects!(session, &batch, CK_ULONG(batch.count), &n), "C_FindObjects")
            if n == 0 { break }
            handles += batch[0..<Int(n)]
        }
        return handles
    }

    /// A read-write session of the application, logged in if the application is (PKCS#11 2.40 5.6).
    private func withSession<R>(slotID: UInt, _ body: (CK_SESSION_HANDLE) throws -> R) throws -> R {
        var session: CK_SESSION_HANDLE = 0
        try PKCS11Module.check(functions.pointee.C_OpenSession!(CK_SLOT_ID(slotID), CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION), nil, nil, &session),
                               "C_OpenSession")
        defer { _ = functions.pointee.C_CloseSession!(session) }
        return try body(session)
    }

    static func check(_ rv: CK_RV, _ call: String) throws {
        guard rv == CKR_OK else {
            throw ETrustError.environment("\(call) failed: \(PKCS11Module.name(of: rv))", code: rv == CKR_USER_NOT_LOGGED_IN ? .pkcs11Login : .pkcs11)
        }
    }

    /// The PKCS#11 name of a return value (the ones a CA meets), else its hex value.
    static func name(of rv: CK_RV) -> String {
        let names: [CK_RV: String] = [
            0x05: "CKR_GENERAL_ERROR", 0x06: "CKR_FUNCTION_FAILED", 0x07: "CKR_ARGUMENTS_BAD", 0x12: "CKR_ATTRIBUTE_TYPE_INVALID",
            0x13: "CKR_ATTRIBUTE_VALUE_INVALID", 0x30: "CKR_DEVICE_ERROR", 0x31: "CKR_DEVICE_MEMORY", 0x62: "CKR_KEY_SIZE_RANGE",
            0x70: "CKR_MECHANISM_INVALID", 0xA0: "CKR_PIN_INCORRECT", 0xA4: "CKR_PIN_LOCKED", 0xB3: "CKR_SESSION_HANDLE_INVALID",
            0xB5: "CKR_SESSION_READ_ONLY", 0xD0: "CKR_TEMPLATE_INCOMPLETE", 0xD1: "CKR_TEMPLATE_INCONSISTENT",
            0xE0: "CKR_TOKEN_NOT_PRESENT", 0xE2: "CKR_TOKEN_WRITE_PROTECTED", 0x101: "CKR_USER_NOT_LOGGED_IN",
            0x130: "CKR_DOMAIN_PARAMS_INVALID", 0x140: "CKR_CURVE_NOT_SUPPORTED",
        ]
        return names[rv] ?? "CKR 0x" + String(rv, radix: 16)
    }
}

/// One attribute of a PKCS#11 template, as Swift values; `withTemplate` lays them out as
/// CK_ATTRIBUTEs for the length of one call.
enum PKCS11Attribute {
    case bool(CK_ATTRIBUTE_TYPE, Bool)
    case ulong(CK_ATTRIBUTE_TYPE, CK_ULONG)
    case bytes(CK_ATTRIBUTE_TYPE, [UInt8])

    var type: CK_ATTRIBUTE_TYPE {
        switch self {
        case .bool(let t, _), .ulong(let t, _), .bytes(let t, _): t
        }
    }

    /// The value's bytes in the module's representation (CK_BBOOL one byte, CK_ULONG native).
    var value: [UInt8] {
        switch self {
        case .bool(_, let b): [b ? 1 : 0]
        case .ulong(_, let v): withUnsafeBytes(of: v) { Array($0) }
        case .bytes(_, let b): b
        }
    }

    static func withTemplate<R>(_ attributes: [PKCS11Attribute], _ body: (UnsafeMutablePointer<CK_ATTRIBUTE>, CK_ULONG) -> R) -> R {
        let values = attributes.map(\.value)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(values.reduce(0) { $0 + $1.count }, 1), alignment: 8)
        defer { storage.deallocate() }
        var offset = 0
        var template: [CK_ATTRIBUTE] = []
        for (attribute, value) in zip(attributes, values) {
            let p = storage + offset
            if !value.isEmpty { value.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: value.count) } }
            template.append(CK_ATTRIBUTE(type: attribute.type, pValue: value.isEmpty ? nil : p, ulValueLen: CK_ULONG(value.count)))
            offset += value.count
        }
        return template.withUnsafeMutableBufferPointer { body($0.baseAddress!, CK_ULONG($0.count)) }
    }
}

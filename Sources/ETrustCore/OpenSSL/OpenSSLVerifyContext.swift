import Foundation
internal import COpenSSL

/// Owns an X509_STORE holding trust anchors and CRLs, plus the same CRLs as a stack (a
/// validation may be given them directly: X509_STORE_CTX_set0_crls). Immutable after init.
// @unchecked Sendable: never mutated after init; X509_STORE lookups are locked inside OpenSSL.
package final class OpenSSLTrustStore: @unchecked Sendable {
    private let store: OpaquePointer
    private let crlStack: OpaquePointer

    package init(anchors: [Certificate], crls: [CertificateRevocationList]) throws {
        clearOpenSSLErrors()
        guard let store = X509_STORE_new() else { throw ETrustError.openSSL("X509_STORE_new") }
        self.store = store
        self.crlStack = etrust_sk_X509_CRL_new_null()
        for a in anchors {
            // X509_STORE_add_cert takes its own reference.
            guard try a.withUnsafeX509Pointer({ X509_STORE_add_cert(store, $0) }) == 1 else {
                throw ETrustError.openSSL("X509_STORE_add_cert")
            }
        }
        for c in crls {
            let crl = try OpenSSLCRL(der: c.der)
            try crl.withUnsafeCRLPointer { p in
                guard X509_STORE_add_crl(store, p) == 1 else { throw ETrustError.openSSL("X509_STORE_add_crl") }
                X509_CRL_up_ref(p)
                _ = etrust_sk_X509_CRL_push(crlStack, p)
            }
        }
    }

    deinit {
        etrust_sk_X509_CRL_pop_free(crlStack)
        X509_STORE_free(store)
    }

    package var crlCount: Int { Int(etrust_sk_X509_CRL_num(crlStack)) }

    func withUnsafeStorePointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(store) }
    func withUnsafeCRLStackPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(crlStack) }
}

/// X509_V_FLAG_* as a Swift option set.
package struct X509VerifyFlags: OptionSet, Sendable {
    package let rawValue: UInt
    package init(rawValue: UInt) { self.rawValue = rawValue }
    package static let explicitPolicy = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_EXPLICIT_POLICY))
    package static let inhibitPolicyMapping = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_INHIBIT_MAP))
    package static let inhibitAnyPolicy = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_INHIBIT_ANY))
    package static let policyCheck = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_POLICY_CHECK))
    package static let crlCheck = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_CRL_CHECK))
    package static let crlCheckAll = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_CRL_CHECK_ALL))
    package static let useDeltas = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_USE_DELTAS))
    package static let extendedCRLSupport = X509VerifyFlags(rawValue: UInt(X509_V_FLAG_EXTENDED_CRL_SUPPORT))
}

/// OpenSSL's X509_PURPOSE_* table entries etrust uses.
package enum X509Purpose: Sendable {
    case any, sslServer, sslClient, smimeSign, ocspHelper, timestampSign

    var id: Int32 {
        switch self {
        case .any: X509_PURPOSE_ANY
        case .sslServer: X509_PURPOSE_SSL_SERVER
        case .sslClient: X509_PURPOSE_SSL_CLIENT
        case .smimeSign: X509_PURPOSE_SMIME_SIGN
        case .ocspHelper: X509_PURPOSE_OCSP_HELPER
        case .timestampSign: X509_PURPOSE_TIMESTAMP_SIGN
        }
    }
}

/// X509_V_ERR_* values the validation layer names, and OpenSSL's text for any of them.
package enum X509VerifyError {
    package static let unableToGetCRL = Int32(X509_V_ERR_UNABLE_TO_GET_CRL)
    package static let unableToGetIssuer = Int32(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
    package static let unableToGetIssuerLocally = Int32(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
    package static let certificateSignatureFailure = Int32(X509_V_ERR_CERT_SIGNATURE_FAILURE)
    package static let certificateHasExpired = Int32(X509_V_ERR_CERT_HAS_EXPIRED)
    package static let crlHasExpired = Int32(X509_V_ERR_CRL_HAS_EXPIRED)
    package static let crlPathValidationError = Int32(X509_V_ERR_CRL_PATH_VALIDATION_ERROR)
    package static let chainTooLong = Int32(X509_V_ERR_CERT_CHAIN_TOO_LONG)
    package static let invalidPurpose = Int32(X509_V_ERR_INVALID_PURPOSE)
    package static func text(_ code: Int32) -> String { String(cString: X509_verify_cert_error_string(Int(code))) }
}

/// Owns a STACK_OF(ASN1_OBJECT) of policy OIDs (a user-initial-policy-set).
// @unchecked Sendable: never mutated after init; OpenSSL only reads it (set1 copies it).
package final class OpenSSLPolicySet: @unchecked Sendable {
    private let stack: OpaquePointer
    /// Throws badInput naming the first OID OpenSSL does not accept.
    package init(_ oids: [String]) throws {
        stack = etrust_sk_ASN1_OBJECT_new_null()
        for oid in oids {
            guard let obj = OBJ_txt2obj(oid, 1) else {
                clearOpenSSLErrors()
                // deinit frees the stack (the object is fully initialized).
                throw ETrustError.badInput("'\(oid)' is not a policy OID", code: .invalidArgument)
            }
            _ = etrust_sk_ASN1_OBJECT_push(stack, obj)
        }
    }
    deinit { etrust_sk_ASN1_OBJECT_pop_free(stack) }
    func withUnsafeStackPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(stack) }
}

/// What X509_verify_cert said.
package struct X509VerifyOutcome: Sendable {
    package var passed: Bool
    package var error: Int32
    package var depth: Int
}

/// One error X509_verify_cert reports to the verify callback, with the facts the validation layer
/// needs to decide whether to let it pass.
package struct X509VerifyEvent: Sendable {
    package var error: Int32
    package var depth: Int
    /// certificate_has_expired / crl_has_expired where notAfter / nextUpdate is the verification
    /// time itself, to the second (OpenSSL counts that instant as expired; RFC 5280 4.1.2.5 and
    /// 6.3.3 (a)(2) do not).
    package var endsExactlyAtVerificationTime: Bool
    /// Reported inside OpenSSL's own path validation of a CRL issuer (a nested context).
    package var inCRLIssuerPath: Bool
    /// crl_path_validation_error in a CRL issuer's path where the CRL being checked was signed by
    /// the very certificate whose path is being validated (OpenSSL refuses the recursion).
    package var crlSignedByCertificateUnderValidation: Bool
}

/// Per-validation state the verify callback reads (through the store context's ex_data).
private final class CallbackState {
    let decide: (X509VerifyEvent) -> Bool
    init(_ decide: @escaping (X509VerifyEvent) -> Bool) { self.decide = decide }
}

/// The verify callback: on an error, asks the validation layer whether to let it pass. Nested
/// contexts (OpenSSL's CRL issuer path validation) ask their parent's state.
private let verifyCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { ok, ctx in
    guard ok == 0, let ctx else { return ok }
    let parent = X509_STORE_CTX_get0_parent_ctx(ctx)
    guard let raw = X509_STORE_CTX_get_ex_data(ctx, 0) ?? parent.flatMap({ X509_STORE_CTX_get_ex_data($0, 0) }) else { return ok }
    let state = Unmanaged<CallbackState>.fromOpaque(raw).takeUnretainedValue()
    return state.decide(verifyEvent(ctx, nested: parent != nil)) ? 1 : ok
}

private func verifyEvent(_ ctx: OpaquePointer, nested: Bool) -> X509VerifyEvent {
    let error = X509_STORE_CTX_get_error(ctx)
    let param = X509_STORE_CTX_get0_param(ctx)
    let now: time_t = (X509_VERIFY_PARAM_get_flags(param) & UInt(X509_V_FLAG_USE_CHECK_TIME)) != 0
        ? X509_VERIFY_PARAM_get_time(param) : time(nil)
    var exact = false
    if error == X509_V_ERR_CERT_HAS_EXPIRED, let cert = X509_STORE_CTX_get_current_cert(ctx), let end = X509_get0_notAfter(cert) {
        exact = ASN1_TIME_cmp_time_t(end, now) == 0
    } else if error == X509_V_ERR_CRL_HAS_EXPIRED, let crl = X509_STORE_CTX_get0_current_crl(ctx), let end = X509_CRL_get0_nextUpdate(crl) {
        exact = ASN1_TIME_cmp_time_t(end, now) == 0
    }
    var selfSigned = false
    if nested, error == X509_V_ERR_CRL_PATH_VALIDATION_ERROR, let issuer = X509_STORE_CTX_get0_current_issuer(ctx),
       let target = X509_STORE_CTX_get0_cert(ctx) {
        selfSigned = X509_cmp(issuer, target) == 0
    }
    return X509VerifyEvent(error: error, depth: Int(X509_STORE_CTX_get_error_depth(ctx)), endsExactlyAtVerificationTime: exact,
                           inCRLIssuerPath: nested, crlSignedByCertificateUnderValidation: selfSigned)
}

/// Owns an X509_STORE_CTX for one validation of `leaf` (X509_STORE_CTX_free on deinit). It keeps
/// the store, intermediates and policy set it was given alive for as long as it lives.
package final class OpenSSLVerifyContext {
    private let ctx: OpaquePointer
    private let store: OpenSSLTrustStore
    private let untrusted: OpenSSLCertificateStack
    private let leaf: OpenSSLCertificate
    private var policies: OpenSSLPolicySet?
    private var trusted: OpenSSLCertificateStack?

    package init(store: OpenSSLTrustStore, leaf: Certificate, untrusted: OpenSSLCertificateStack) throws {
        clearOpenSSLErrors()
        guard let ctx = X509_STORE_CTX_new() else { throw ETrustError.openSSL("X509_STORE_CTX_new") }
        self.ctx = ctx
        self.store = store
        self.untrusted = untrusted
        self.leaf = try leaf.openSSLCertificate
        let ok = self.store.withUnsafeStorePointer { s in
            self.leaf.withUnsafeX509Pointer { x in
                untrusted.withUnsafeStackPointer { X509_STORE_CTX_init(ctx, s, x, $0) }
            }
        }
        guard ok == 1 else { throw ETrustError.openSSL("X509_STORE_CTX_init") }
    }

    deinit { X509_STORE_CTX_free(ctx) }

    /// Gives the store's CRLs to this validation directly (X509_STORE_CTX_set0_crls; the store
    /// outlives the context).
    package func useStoreCRLs() {
        store.withUnsafeCRLStackPointer { X509_STORE_CTX_set0_crls(ctx, $0) }
    }

    package func setFlags(_ flags: X509VerifyFlags) {
        X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), flags.rawValue)
    }

    package func setPolicies(_ set: OpenSSLPolicySet) {
        policies = set
        set.withUnsafeStackPointer { _ = X509_VERIFY_PARAM_set1_policies(X509_STORE_CTX_get0_param(ctx), $0) }
    }

    package func setTime(_ time: Date) {
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), time_t(time.timeIntervalSince1970))
    }

    package func setPurpose(_ purpose: X509Purpose) {
        X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(ctx), purpose.id)
    }

    package func setHost(_ host: String) { X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0) }

    /// The host matched against dNSName SANs only (never the subject's CN), with wildcards only as
    /// a whole left-most label.
    package func setHostSANOnly(_ host: String) {
        let param = X509_STORE_CTX_get0_param(ctx)
        X509_VERIFY_PARAM_set_hostflags(param, UInt32(X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
        X509_VERIFY_PARAM_set1_host(param, host, 0)
    }

    /// The IP address as its 4 or 16 octets (compared byte for byte with iPAddress SANs).
    package func setIP(octets: [UInt8]) {
        _ = octets.withUnsafeBufferPointer { X509_VERIFY_PARAM_set1_ip(X509_STORE_CTX_get0_param(ctx), $0.baseAddress, $0.count) }
    }

    /// At most `n` intermediate certificates between the leaf and the trust anchor.
    package func setDepth(_ n: Int) { X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx), Int32(n)) }

    /// Trust only `anchors` for this validation instead of the store's certificates
    /// (X509_STORE_CTX_set0_trusted_stack; kept alive with the context). CRLs still come from the store.
    package func trustOnly(_ anchors: OpenSSLCertificateStack) {
        trusted = anchors
        anchors.withUnsafeStackPointer { X509_STORE_CTX_set0_trusted_stack(ctx, $0) }
    }
    package func setEmail(_ email: String) { X509_VERIFY_PARAM_set1_email(X509_STORE_CTX_get0_param(ctx), email, 0) }

    /// False when `ip` is not an IP address.
    package func setIP(_ ip: String) -> Bool {
        defer { clearOpenSSLErrors() }
        return X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(ctx), ip) == 1
    }

    /// X509_verify_cert. On each error OpenSSL reports, `letPass(error, depth)` decides whether
    /// validation carries on (the verify callback); the queue is left empty.
    package func verify(letPass: @escaping (X509VerifyEvent) -> Bool) -> X509VerifyOutcome {
        let unmanaged = Unmanaged.passRetained(CallbackState(letPass))
        defer { unmanaged.release() }
        X509_STORE_CTX_set_ex_data(ctx, 0, unmanaged.toOpaque())
        X509_STORE_CTX_set_verify_cb(ctx, verifyCallback)
        let rc = X509_verify_cert(ctx)
        X509_STORE_CTX_set_ex_data(ctx, 0, nil)
        clearOpenSSLErrors()
        return X509VerifyOutcome(passed: rc == 1, error: X509_STORE_CTX_get_error(ctx),
                                 depth: Int(X509_STORE_CTX_get_error_depth(ctx)))
    }

    /// The chain built (leaf first), as certificates; X509 objects that are the cached parse of
    /// one of `known` map back to it by identity instead of being encoded and parsed again.
    package func chain(known: [Certificate]) -> [Certificate] {
        guard let stack = X509_STORE_CTX_get0_chain(ctx) else { return [] }
        var byPointer: [OpaquePointer: Certificate] = [:]
        for c in known {
            if let x = c.cachedOpenSSLCertificate { x.withUnsafeX509Pointer { byPointer[$0] = c } }
        }
        var chain: [Certificate] = []
        for i in 0..<etrust_sk_X509_num(stack) {
            guard let x = etrust_sk_X509_value(stack, i) else { continue }
            if let k = byPointer[x] { chain.append(k) } else if let c = try? Certificate(borrowingX509: x) { chain.append(c) }
        }
        return chain
    }

    /// The policies of the valid policy tree (dotted OIDs, as OpenSSL lists them): the
    /// authority-constrained set, or the user-constrained one when `userConstrained`.
    package func validPolicies(userConstrained: Bool) -> [String] {
        guard let tree = X509_STORE_CTX_get0_policy_tree(ctx) else { return [] }
        guard let nodes = userConstrained ? X509_policy_tree_get0_user_policies(tree) : X509_policy_tree_get0_policies(tree) else {
            return []
        }
        var result: [String] = []
        for i in 0..<etrust_sk_X509_POLICY_NODE_num(nodes) {
            if let node = etrust_sk_X509_POLICY_NODE_value(nodes, i), let obj = X509_policy_node_get0_policy(node) {
                result.append(objectText(obj, numeric: true))
            }
        }
        return result
    }
}

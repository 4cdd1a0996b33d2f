import Foundation
internal import COpenSSL

/// What a certificate must be valid for (CLI `--purpose`).
public enum Purpose: String, Sendable, CaseIterable {
    case any, tlsServer = "tls-server", tlsClient = "tls-client", email, codeSigning = "code-signing"
    case documentSigning = "document-signing", ocspSigning = "ocsp-signing", timestamping

    public init(parsing text: String) throws {
        guard let p = Purpose(rawValue: text) else {
            throw ETrustError.badInput("unknown purpose '\(text)' (\(Purpose.allCases.map(\.rawValue).joined(separator: ", ")))",
                                       code: .invalidArgument)
        }
        self = p
    }

    /// OpenSSL's purpose, where it has one (others are checked in Swift after the path).
    var openSSLPurpose: Int32? {
        switch self {
        case .any: X509_PURPOSE_ANY
        case .tlsServer: X509_PURPOSE_SSL_SERVER
        case .tlsClient: X509_PURPOSE_SSL_CLIENT
        case .email: X509_PURPOSE_SMIME_SIGN
        case .ocspSigning: X509_PURPOSE_OCSP_HELPER
        case .timestamping: X509_PURPOSE_TIMESTAMP_SIGN
        case .codeSigning, .documentSigning: nil
        }
    }
}

/// The RFC 5280 6.1.1 inputs and the checks asked for.
public struct PathParameters: Sendable {
    public var time: Date?
    /// user-initial-policy-set; empty means {anyPolicy} (RFC 5280 6.1.1 (c)).
    public var policies: [String] = []
    public var requireExplicitPolicy = false
    public var inhibitPolicyMapping = false
    public var inhibitAnyPolicy = false
    public var purpose: Purpose = .any
    public var hostname: String?
    public var email: String?
    public var ip: String?
    /// Check CRLs for every certificate of the path (X509_V_FLAG_CRL_CHECK_ALL, deltas, extended support).
    public var checkCRLs = false
    /// With checkCRLs: a certificate with no CRL is not a failure but reported in
    /// `depthsWithoutCRL` (for crl-or-ocsp).
    public var tolerateMissingCRL = false
    public init() {}
}

public struct PathResult: Sendable {
    public var valid: Bool
    /// OpenSSL's X509_V_ERR_* (0 when valid), its stable name and text, at which depth.
    public var error: Int32
    public var errorCode: String
    public var reason: String
    public var errorDepth: Int
    /// Leaf first, trust anchor last.
    public var chain: [Certificate]
    public var validPolicies: [String]
    public var depthsWithoutCRL: Set<Int>
}

/// Per-validation state the verify callback reads (through the store context's ex_data).
private final class CallbackState {
    var tolerateMissingCRL = false
    var missing = Set<Int>()
}

/// The verify callback: lets a missing CRL pass (recorded) when asked, everything else as OpenSSL decides.
private let verifyCallback: @convention(c) (Int32, OpaquePointer?) -> Int32 = { ok, ctx in
    guard ok == 0, let ctx, let raw = X509_STORE_CTX_get_ex_data(ctx, 0) else { return ok }
    let state = Unmanaged<CallbackState>.fromOpaque(raw).takeUnretainedValue()
    if state.tolerateMissingCRL && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL {
        state.missing.insert(Int(X509_STORE_CTX_get_error_depth(ctx)))
        return 1
    }
    return ok
}

public enum PathVerifier {
    public static let anyPolicy = "2.5.29.32.0"

    /// RFC 5280 path validation by OpenSSL's X509_verify_cert, partial chains off.
    public static func verify(_ leaf: Certificate, intermediates: [Certificate], trust: TrustStore, parameters p: PathParameters) throws -> PathResult {
        try verify(leaf, untrusted: try UntrustedCertificates(intermediates), trust: trust, parameters: p)
    }

    /// The same, with intermediates parsed once (a Validator keeps them across calls).
    public static func verify(_ leaf: Certificate, untrusted: UntrustedCertificates, trust: TrustStore, parameters p: PathParameters) throws -> PathResult {
        clearOpenSSLErrors()
        let x = try leaf.withX509 { $0 }
        defer { X509_free(x) }
        guard let ctx = X509_STORE_CTX_new() else { throw ETrustError.openSSL("X509_STORE_CTX_new") }
        defer { X509_STORE_CTX_free(ctx) }
        guard X509_STORE_CTX_init(ctx, trust.store, x, untrusted.stack.stack) == 1 else { throw ETrustError.openSSL("X509_STORE_CTX_init") }
        if p.checkCRLs && etrust_sk_X509_CRL_num(trust.crlStack) > 0 { X509_STORE_CTX_set0_crls(ctx, trust.crlStack) }
        let param = X509_STORE_CTX_get0_param(ctx)
        var flags: UInt = 0
        if p.requireExplicitPolicy { flags |= UInt(X509_V_FLAG_EXPLICIT_POLICY) }
        if p.inhibitPolicyMapping { flags |= UInt(X509_V_FLAG_INHIBIT_MAP) }
        if p.inhibitAnyPolicy { flags |= UInt(X509_V_FLAG_INHIBIT_ANY) }
        if p.checkCRLs {
            flags |= UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_USE_DELTAS | X509_V_FLAG_EXTENDED_CRL_SUPPORT)
        }
        X509_VERIFY_PARAM_set_flags(param, flags | UInt(X509_V_FLAG_POLICY_CHECK))
        // RFC 5280 6.1.1 (c): no policy asked for means {anyPolicy}; OpenSSL reads an empty set as empty.
        let policies = try PolicySet.make(p.policies.isEmpty ? [anyPolicy] : p.policies)
        X509_VERIFY_PARAM_set1_policies(param, policies.stack)
        if let t = p.time { X509_VERIFY_PARAM_set_time(param, time_t(t.timeIntervalSince1970)) }
        if let purpose = p.purpose.openSSLPurpose { X509_VERIFY_PARAM_set_purpose(param, purpose) }
        if let h = p.hostname { X509_VERIFY_PARAM_set1_host(param, h, 0) }
        if let e = p.email { X509_VERIFY_PARAM_set1_email(param, e, 0) }
        if let ip = p.ip {
            guard X509_VERIFY_PARAM_set1_ip_asc(param, ip) == 1 else {
                clearOpenSSLErrors()
                throw ETrustError.badInput("'\(ip)' is not an IP address", code: .invalidArgument)
            }
        }
        let state = CallbackState()
        state.tolerateMissingCRL = p.tolerateMissingCRL
        let unmanaged = Unmanaged.passRetained(state)
        defer { unmanaged.release() }
        X509_STORE_CTX_set_ex_data(ctx, 0, unmanaged.toOpaque())
        X509_STORE_CTX_set_verify_cb(ctx, verifyCallback)

        let rc = X509_verify_cert(ctx)
        var error = X509_STORE_CTX_get_error(ctx)
        var depth = Int(X509_STORE_CTX_get_error_depth(ctx))
        var chain: [Certificate] = []
        if let stack = X509_STORE_CTX_get0_chain(ctx) {
            // The chain holds the very X509 objects the caller's certificates cached: map them
            // back by identity instead of encoding and parsing each again.
            var known: [OpaquePointer: Certificate] = [:]
            for c in [leaf] + untrusted.certificates + trust.anchors { if let x = c.cachedX509 { known[x] = c } }
            for i in 0..<etrust_sk_X509_num(stack) {
                guard let c = etrust_sk_X509_value(stack, i) else { continue }
                if let k = known[c] { chain.append(k) } else if let der = try? derOf(c) { chain.append(try Certificate(der: der)) }
            }
        }
        var validPolicies: [String] = []
        if let tree = X509_STORE_CTX_get0_policy_tree(ctx) {
            let nodes = p.policies.isEmpty ? X509_policy_tree_get0_policies(tree) : X509_policy_tree_get0_user_policies(tree)
            if let nodes {
                for i in 0..<etrust_sk_X509_POLICY_NODE_num(nodes) {
                    if let node = etrust_sk_X509_POLICY_NODE_value(nodes, i), let obj = X509_policy_node_get0_policy(node) {
                        let text = objectText(obj, numeric: true)
                        if !validPolicies.contains(text) { validPolicies.append(text) }
                    }
                }
            }
        }
        clearOpenSSLErrors()
        var valid = rc == 1
        var reason = valid ? "ok" : String(cString: X509_verify_cert_error_string(Int(error)))
        // Purposes OpenSSL 3.0 has no table for (RFC 5280 4.2.1.3 / 4.2.1.12, RFC 9336).
        if valid, let problem = customPurposeProblem(leaf, p.purpose) {
            valid = false
            error = X509_V_ERR_INVALID_PURPOSE
            depth = 0
            reason = problem
        }
        if valid { error = 0 }
        return PathResult(valid: valid, error: error, errorCode: valid ? "ok" : (VerifyErrorCodes.name(error)), reason: reason,
                          errorDepth: valid ? -1 : depth, chain: chain, validPolicies: validPolicies.sorted(),
                          depthsWithoutCRL: state.missing)
    }

    static func customPurposeProblem(_ leaf: Certificate, _ purpose: Purpose) -> String? {
        let eku = leaf.extendedKeyUsage
        let ku = leaf.keyUsage
        switch purpose {
        case .codeSigning:
            if let eku, !eku.contains("1.3.6.1.5.5.7.3.3") && !eku.contains("2.5.29.37.0") {
                return "the certificate is not for code signing (extended key usage)"
            }
            if eku == nil { return "the certificate is not for code signing (no codeSigning extended key usage)" }
            if let ku, !ku.contains(.digitalSignature) { return "the certificate's key usage does not allow digitalSignature" }
        case .ocspSigning:
            // RFC 6960 4.2.2.2: a delegated responder carries id-kp-OCSPSigning; OpenSSL's
            // OCSP-helper purpose checks only the CAs of the path.
            guard let eku, eku.contains("1.3.6.1.5.5.7.3.9") else {
                return "the certificate is not an OCSP responder (no id-kp-OCSPSigning extended key usage)"
            }
            if let ku, !ku.contains(.digitalSignature) { return "the certificate's key usage does not allow digitalSignature" }
        case .documentSigning:
            if let ku, !ku.contains(.digitalSignature) && !ku.contains(.nonRepudiation) {
                return "the certificate's key usage allows neither digitalSignature nor nonRepudiation"
            }
            let allowed: Set<String> = ["1.3.6.1.5.5.7.3.36", "1.3.6.1.5.5.7.3.4", "2.5.29.37.0"]
            if let eku, allowed.isDisjoint(with: eku) {
                return "the certificate's extended key usage does not allow document signing"
            }
        default:
            break
        }
        return nil
    }

    static func derOf(_ x: OpaquePointer) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_X509(x, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_X509") }
        defer { etrust_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }
}

/// A user-initial-policy-set as an OpenSSL stack, built once per distinct set.
final class PolicySet: @unchecked Sendable {
    let stack: OpaquePointer
    private init(_ oids: [String]) throws {
        stack = etrust_sk_ASN1_OBJECT_new_null()
        for oid in oids {
            guard let obj = OBJ_txt2obj(oid, 1) else {
                clearOpenSSLErrors()
                etrust_sk_ASN1_OBJECT_pop_free(stack)
                throw ETrustError.badInput("'\(oid)' is not a policy OID", code: .invalidArgument)
            }
            _ = etrust_sk_ASN1_OBJECT_push(stack, obj)
        }
    }
    deinit { etrust_sk_ASN1_OBJECT_pop_free(stack) }

    nonisolated(unsafe) private static var cache: [[String]: PolicySet] = [:]
    private static let lock = NSLock()
    static func make(_ oids: [String]) throws -> PolicySet {
        lock.lock()
        defer { lock.unlock() }
        if let s = cache[oids] { return s }
        let s = try PolicySet(oids)
        if cache.count < 64 { cache[oids] = s }
        return s
    }
}

/// Untrusted intermediates as one OpenSSL stack, built once.
public final class UntrustedCertificates: @unchecked Sendable {
    let stack: X509Stack
    public let certificates: [Certificate]
    public init(_ certificates: [Certificate]) throws {
        self.certificates = certificates
        stack = try X509Stack(certificates)
    }
}

public enum VerifyErrorCodes {
    public static func name(_ code: Int32) -> String {
        VerifyErrorNames.byCode[code] ?? "error_\(code)"
    }
}

extension Certificate {
    /// The extended key usage OIDs, nil when the extension is absent.
    public var extendedKeyUsage: [String]? {
        guard let e = `extension`(ExtensionOID.extendedKeyUsage) else { return nil }
        return Extension.decodeOIDSequence(e.value)
    }
}

import ETrustCore
import Foundation
import Synchronization

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
    var openSSLPurpose: X509Purpose? {
        switch self {
        case .any: .any
        case .tlsServer: .sslServer
        case .tlsClient: .sslClient
        case .email: .smimeSign
        case .ocspSigning: .ocspHelper
        case .timestamping: .timestampSign
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

public enum PathVerifier {
    public static let anyPolicy = "2.5.29.32.0"

    /// RFC 5280 path validation by OpenSSL's X509_verify_cert, partial chains off.
    public static func verify(_ leaf: Certificate, intermediates: [Certificate], trust: TrustStore, parameters p: PathParameters) throws -> PathResult {
        try verify(leaf, untrusted: try UntrustedCertificates(intermediates), trust: trust, parameters: p)
    }

    /// The same, with intermediates parsed once (a Validator keeps them across calls).
    public static func verify(_ leaf: Certificate, untrusted: UntrustedCertificates, trust: TrustStore, parameters p: PathParameters) throws -> PathResult {
        let ctx = try OpenSSLVerifyContext(store: trust.store, leaf: leaf, untrusted: untrusted.stack)
        if p.checkCRLs && trust.store.crlCount > 0 { ctx.useStoreCRLs() }
        var flags: X509VerifyFlags = [.policyCheck]
        if p.requireExplicitPolicy { flags.insert(.explicitPolicy) }
        if p.inhibitPolicyMapping { flags.insert(.inhibitPolicyMapping) }
        if p.inhibitAnyPolicy { flags.insert(.inhibitAnyPolicy) }
        if p.checkCRLs { flags.formUnion([.crlCheck, .crlCheckAll, .useDeltas, .extendedCRLSupport]) }
        ctx.setFlags(flags)
        // RFC 5280 6.1.1 (c): no policy asked for means {anyPolicy}; OpenSSL reads an empty set as empty.
        ctx.setPolicies(try PolicySet.make(p.policies.isEmpty ? [anyPolicy] : p.policies))
        if let t = p.time { ctx.setTime(t) }
        if let purpose = p.purpose.openSSLPurpose { ctx.setPurpose(purpose) }
        if let h = p.hostname { ctx.setHost(h) }
        if let e = p.email { ctx.setEmail(e) }
        if let ip = p.ip {
            guard ctx.setIP(ip) else { throw ETrustError.badInput("'\(ip)' is not an IP address", code: .invalidArgument) }
        }
        // A missing CRL passes (recorded) when asked (crl-or-ocsp); everything else as OpenSSL decides.
        let missing = MissingCRLs()
        let outcome = ctx.verify { error, depth in
            guard p.tolerateMissingCRL && error == X509VerifyError.unableToGetCRL else { return false }
            missing.insert(depth)
            return true
        }
        var error = outcome.error
        var depth = outcome.depth
        // The chain holds the very X509 objects the caller's certificates cached: they map back by identity.
        let chain = ctx.chain(known: [leaf] + untrusted.certificates + trust.anchors)
        var validPolicies: [String] = []
        for text in ctx.validPolicies(userConstrained: !p.policies.isEmpty) where !validPolicies.contains(text) {
            validPolicies.append(text)
        }
        var valid = outcome.passed
        var reason = valid ? "ok" : X509VerifyError.text(error)
        // Purposes OpenSSL 3.0 has no table for (RFC 5280 4.2.1.3 / 4.2.1.12, RFC 9336).
        if valid, let problem = customPurposeProblem(leaf, p.purpose) {
            valid = false
            error = X509VerifyError.invalidPurpose
            depth = 0
            reason = problem
        }
        if valid { error = 0 }
        return PathResult(valid: valid, error: error, errorCode: valid ? "ok" : (VerifyErrorCodes.name(error)), reason: reason,
                          errorDepth: valid ? -1 : depth, chain: chain, validPolicies: validPolicies.sorted(),
                          depthsWithoutCRL: missing.depths)
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
}

/// User-initial-policy-sets as OpenSSL stacks, built once per distinct set (at most 64 kept).
enum PolicySet {
    private static let cache = Mutex<[[String]: OpenSSLPolicySet]>([:])
    static func make(_ oids: [String]) throws -> OpenSSLPolicySet {
        try cache.withLock { cache in
            if let s = cache[oids] { return s }
            let s = try OpenSSLPolicySet(oids)
            if cache.count < 64 { cache[oids] = s }
            return s
        }
    }
}

/// The depths at which a validation found no CRL (filled by the verify callback).
// @unchecked Sendable: written only by the verify callback, on the validating thread, and read after it.
private final class MissingCRLs: @unchecked Sendable {
    private(set) var depths = Set<Int>()
    func insert(_ depth: Int) { depths.insert(depth) }
}

/// Untrusted intermediates as one OpenSSL stack, built once.
public final class UntrustedCertificates: Sendable {
    let stack: OpenSSLCertificateStack
    public var certificates: [Certificate] { stack.certificates }
    public init(_ certificates: [Certificate]) throws {
        stack = try OpenSSLCertificateStack(certificates)
    }
}

public enum VerifyErrorCodes {
    public static func name(_ code: Int32) -> String {
        VerifyErrorNames.byCode[code] ?? "error_\(code)"
    }
}

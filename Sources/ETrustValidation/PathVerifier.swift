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
    /// Further purposes the certificate must also be valid for (each checked by OpenSSL on the path found).
    public var morePurposes: [Purpose] = []
    public var hostname: String?
    public var email: String?
    public var ip: String?
    /// Check CRLs for every certificate of the path (X509_V_FLAG_CRL_CHECK_ALL, deltas, extended support).
    public var checkCRLs = false
    /// With checkCRLs: a certificate with no CRL is not a failure but reported in
    /// `depthsWithoutCRL` (for crl-or-ocsp).
    public var tolerateMissingCRL = false
    /// At most this many intermediate certificates between the leaf and the trust anchor.
    public var maxChainDepth = 8
    /// The profile layer; nil means the strictest that fits the purposes (ProfileChecks.default).
    public var profileChecks: ProfileChecks?
    /// keyUsage bits the leaf must allow (RFC 5280 4.2.1.3).
    public var requiredKeyUsage: Set<KeyUsageBit> = []
    /// extendedKeyUsage OIDs the leaf must list (RFC 5280 4.2.1.12).
    public var requiredExtendedKeyUsages: [String] = []
    public init() {}

    /// Every purpose asked for.
    public var purposes: [Purpose] { [purpose] + morePurposes }
    /// The profile layer in force.
    public var effectiveProfileChecks: ProfileChecks { profileChecks ?? ProfileChecks.default(for: purposes) }
}

public struct PathResult: Sendable {
    public var valid: Bool
    /// OpenSSL's X509_V_ERR_* (0 when valid, -1 for a refusal of the profile layer), its stable
    /// name (or the profile rule's errorCode) and text, at which depth.
    public var error: Int32
    public var errorCode: String
    public var reason: String
    public var errorDepth: Int
    /// Leaf first, trust anchor last.
    public var chain: [Certificate]
    public var validPolicies: [String]
    public var depthsWithoutCRL: Set<Int>

    /// How far this path got: 0 incomplete (no issuer found), 1 complete but refused by OpenSSL,
    /// 2 accepted by OpenSSL but refused by the profile layer, 3 valid.
    var stage: Int {
        if valid { return 3 }
        if error == PathProfileFailure.code { return 2 }
        return error == X509VerifyError.unableToGetIssuer || error == X509VerifyError.unableToGetIssuerLocally ? 0 : 1
    }

    mutating func refuse(_ v: ProfileViolation) {
        valid = false
        error = PathProfileFailure.code
        errorCode = v.code
        reason = v.reason
        errorDepth = v.depth
    }
}

enum PathProfileFailure { static let code: Int32 = -1 }

public enum PathVerifier {
    public static let anyPolicy = "2.5.29.32.0"

    /// RFC 5280 path validation: a path builder over the anchors and intermediates, OpenSSL's
    /// X509_verify_cert on each candidate, then the profile layer.
    public static func verify(_ leaf: Certificate, intermediates: [Certificate], trust: TrustStore, parameters p: PathParameters) throws -> PathResult {
        try verify(leaf, untrusted: try UntrustedCertificates(intermediates), trust: trust, parameters: p)
    }

    /// The same, with intermediates parsed once (a Validator keeps them across calls). OpenSSL
    /// first builds a path itself from every certificate given (the cheap common case); only when
    /// that path is refused does the builder enumerate the other candidates (PathBuilder).
    public static func verify(_ leaf: Certificate, untrusted: UntrustedCertificates, trust: TrustStore, parameters p: PathParameters) throws -> PathResult {
        var first = try openSSL(leaf, untrusted: untrusted.stack, trust: trust, anchor: nil, parameters: p)
        if first.valid {
            guard let v = try PathChecks.check(first.chain, parameters: p, trust: trust) else { return first }
            first.refuse(v)
        }
        var best = first
        let builder = PathBuilder(anchors: trust.anchors, intermediates: untrusted.certificates, maxDepth: p.maxChainDepth)
        var found: PathResult? = nil
        try builder.enumerate(from: leaf) { candidate in
            guard candidate != first.chain else { return false }
            var r = try verify(candidate: candidate, trust: trust, parameters: p)
            if r.valid, let v = try PathChecks.check(r.chain, parameters: p, trust: trust) { r.refuse(v) }
            if r.valid { found = r; return true }
            if r.stage > best.stage { best = r }
            return false
        }
        return found ?? best
    }

    /// One fixed candidate path (leaf first, anchor last): OpenSSL is given exactly its
    /// intermediates and trusts only its anchor. DSA keys without parameters get their issuer's
    /// (RFC 5280 6.1.4 (e)-(f)); those certificates' own signatures are checked here.
    static func verify(candidate: [Certificate], trust: TrustStore, parameters p: PathParameters) throws -> PathResult {
        let completed = try DSAInheritance.complete(candidate)
        guard let anchor = completed.chain.last, let leaf = completed.chain.first else {
            throw ETrustError.environment("empty candidate path", code: .invalidArgument)
        }
        let middle = Array(completed.chain.dropFirst().dropLast())
        var r = try openSSL(leaf, untrusted: try OpenSSLCertificateStack(middle), trust: trust,
                            anchor: try OpenSSLCertificateStack([anchor]), parameters: p,
                            signaturesCheckedAt: completed.signaturesChecked, known: completed.chain)
        r.chain = r.chain.map { completed.originals[$0.der] ?? $0 }
        return r
    }

    /// X509_verify_cert with the parameters; `anchor` restricts the trust anchors to it.
    static func openSSL(_ leaf: Certificate, untrusted: OpenSSLCertificateStack, trust: TrustStore, anchor: OpenSSLCertificateStack?,
                        parameters p: PathParameters, purpose: Purpose? = nil, signaturesCheckedAt: Set<Int> = [],
                        known: [Certificate]? = nil) throws -> PathResult {
        let ctx = try OpenSSLVerifyContext(store: trust.store, leaf: leaf, untrusted: untrusted)
        if let anchor { ctx.trustOnly(anchor) }
        try configure(ctx, p, purpose: purpose ?? p.purpose, crls: trust.store.crlCount > 0)
        // Errors let pass: see Leniency.
        let missing = MissingCRLs()
        let outcome = ctx.verify { event in
            Leniency.letPass(event, parameters: p, signaturesCheckedAt: signaturesCheckedAt, missing: missing)
        }
        var error = outcome.error
        var depth = outcome.depth
        // The chain holds the very X509 objects the caller's certificates cached: they map back by identity.
        let chain = ctx.chain(known: known ?? ([leaf] + untrusted.certificates + trust.anchors))
        var validPolicies: [String] = []
        for text in ctx.validPolicies(userConstrained: !p.policies.isEmpty) where !validPolicies.contains(text) {
            validPolicies.append(text)
        }
        var valid = outcome.passed
        var reason = valid ? "ok" : X509VerifyError.text(error)
        // Purposes OpenSSL 3.0 has no table for (RFC 5280 4.2.1.3 / 4.2.1.12, RFC 9336).
        if valid, let problem = customPurposeProblem(leaf, purpose ?? p.purpose) {
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

    private static func configure(_ ctx: OpenSSLVerifyContext, _ p: PathParameters, purpose: Purpose, crls: Bool) throws {
        if p.checkCRLs && crls { ctx.useStoreCRLs() }
        var flags: X509VerifyFlags = [.policyCheck]
        if p.requireExplicitPolicy { flags.insert(.explicitPolicy) }
        if p.inhibitPolicyMapping { flags.insert(.inhibitPolicyMapping) }
        if p.inhibitAnyPolicy { flags.insert(.inhibitAnyPolicy) }
        if p.checkCRLs { flags.formUnion([.crlCheck, .crlCheckAll, .useDeltas, .extendedCRLSupport]) }
        ctx.setFlags(flags)
        ctx.setDepth(p.maxChainDepth)
        // RFC 5280 6.1.1 (c): no policy asked for means {anyPolicy}; OpenSSL reads an empty set as empty.
        ctx.setPolicies(try PolicySet.make(p.policies.isEmpty ? [anyPolicy] : p.policies))
        if let t = p.time { ctx.setTime(t) }
        if let purpose = purpose.openSSLPurpose { ctx.setPurpose(purpose) }
        try NameTargets.apply(p, to: ctx)
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

/// Untrusted intermediates as one OpenSSL stack, built once.
public final class UntrustedCertificates: Sendable {
    let stack: OpenSSLCertificateStack
    public var certificates: [Certificate] { stack.certificates }
    public init(_ certificates: [Certificate]) throws {
        stack = try OpenSSLCertificateStack(certificates)
    }
}

public enum VerifyErrorCodes {
    /// Every errorCode `etrust verify` may print ("ok" when valid).
    public static let all: Set<String> = Set(VerifyErrorNames.byCode.values).union(VerifyErrorNames.profile.keys)
        .union(VerifyErrorNames.validator).union(["ok"])

    public static func name(_ code: Int32) -> String {
        VerifyErrorNames.byCode[code] ?? "error_\(code)"
    }
}

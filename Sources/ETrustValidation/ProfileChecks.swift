import ETrustCore
import Foundation
import Synchronization

/// Which profile layer applies on top of RFC 5280 path validation (CLI `--profile-checks`).
public enum ProfileChecks: String, Sendable, CaseIterable {
    /// RFC 5280 section 6 only (OpenSSL's path validation), as NIST PKITS tests it.
    case none
    /// Plus the certificate profile of RFC 5280 section 4 (RFC5280Rules).
    case rfc5280
    /// Plus the CA/Browser Forum Baseline Requirements for TLS certificates (WebPKIRules).
    case webpki

    public init(parsing text: String) throws {
        guard let c = ProfileChecks(rawValue: text) else {
            throw ETrustError.badInput("unknown profile checks '\(text)' (rfc5280, webpki, none)", code: .invalidArgument)
        }
        self = c
    }

    /// The strictest layer that fits: webpki for TLS purposes, rfc5280 otherwise.
    public static func `default`(for purposes: [Purpose]) -> ProfileChecks {
        purposes.contains(where: { $0 == .tlsServer || $0 == .tlsClient }) ? .webpki : .rfc5280
    }
}

/// A refusal of the profile layer: the errorCode, why (naming the rule's RFC or BR section), and
/// the depth of the certificate concerned (0 the leaf).
public struct ProfileViolation: Sendable, Error, Equatable {
    public var code: String
    public var reason: String
    public var depth: Int
    init(_ code: String, _ reason: String, depth: Int = 0) {
        self.code = code
        self.reason = reason
        self.depth = depth
    }
}

/// Where a certificate sits in a path.
enum PathRole: Hashable, Sendable { case leaf, intermediate, anchor }

/// A candidate path as the rules see it: leaf first, trust anchor last.
struct PathView {
    let chain: [Certificate]
    let parameters: PathParameters
    var leaf: Certificate { chain[0] }
    func role(_ depth: Int) -> PathRole { depth == chain.count - 1 ? .anchor : depth == 0 ? .leaf : .intermediate }
}

typealias CertificateRule = @Sendable (Certificate, PathRole) -> ProfileViolation?
typealias PathRule = @Sendable (PathView) -> ProfileViolation?

/// Runs the profile layer and the relying party's own requirements on a path OpenSSL accepted.
enum PathChecks {
    static func check(_ chain: [Certificate], parameters p: PathParameters, trust: TrustStore) throws -> ProfileViolation? {
        let layer = p.effectiveProfileChecks
        let view = PathView(chain: chain, parameters: p)
        if layer != .none {
            if let v = CertificateRuleCache.firstViolation(chain, view: view, layer: .rfc5280) { return v }
            if let v = RFC5280Rules.pathRules.lazy.compactMap({ $0(view) }).first { return v }
        }
        if layer == .webpki {
            if let v = CertificateRuleCache.firstViolation(chain, view: view, layer: .webpki) { return v }
            if let v = WebPKIRules.pathRules.lazy.compactMap({ $0(view) }).first { return v }
        }
        if let v = Requirements.rules.lazy.compactMap({ $0(view) }).first { return v }
        return try morePurposes(chain, parameters: p, trust: trust)
    }

    /// Each further purpose, checked by OpenSSL on the same path.
    private static func morePurposes(_ chain: [Certificate], parameters p: PathParameters, trust: TrustStore) throws -> ProfileViolation? {
        for purpose in p.morePurposes where purpose != p.purpose {
            var q = p
            q.purpose = purpose
            q.morePurposes = []
            let r = try PathVerifier.verify(candidate: chain, trust: trust, parameters: q)
            if !r.valid { return ProfileViolation(r.errorCode, "not valid for \(purpose.rawValue): \(r.reason)", depth: max(r.errorDepth, 0)) }
        }
        return nil
    }
}

/// The per-certificate rules' verdicts, kept per parsed certificate object and role: a
/// Validator's anchors and intermediates are judged once, not on every validation.
enum CertificateRuleCache {
    private struct Key: Hashable {
        let object: ObjectIdentifier
        let role: PathRole
        let layer: ProfileChecks
        let server: Bool
    }
    private struct Entry {
        // Holding the object keeps its ObjectIdentifier from being reused while the entry lives.
        let object: OpenSSLCertificate
        let verdict: ProfileViolation?
    }
    private static let entries = Mutex<[Key: Entry]>([:])

    static func firstViolation(_ chain: [Certificate], view: PathView, layer: ProfileChecks) -> ProfileViolation? {
        let server = layer == .webpki && view.parameters.purposes.contains(.tlsServer)
        for (depth, cert) in chain.enumerated() {
            if var v = verdict(cert, role: view.role(depth), layer: layer, server: server) {
                v.depth = depth
                return v
            }
        }
        return nil
    }

    private static func verdict(_ cert: Certificate, role: PathRole, layer: ProfileChecks, server: Bool) -> ProfileViolation? {
        let rules = layer != .webpki ? RFC5280Rules.certificateRules
            : server ? WebPKIRules.serverCertificateRules : WebPKIRules.clientCertificateRules
        guard let object = cert.cachedOpenSSLCertificate else { return rules.lazy.compactMap { $0(cert, role) }.first }
        let key = Key(object: ObjectIdentifier(object), role: role, layer: layer, server: server)
        if let hit = entries.withLock({ $0[key] }) { return hit.verdict }
        let verdict = rules.lazy.compactMap { $0(cert, role) }.first
        entries.withLock { e in
            if e.count >= 4096 { e.removeAll() }
            e[key] = Entry(object: object, verdict: verdict)
        }
        return verdict
    }
}

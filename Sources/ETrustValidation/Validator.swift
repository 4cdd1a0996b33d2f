import ETrustCore
import Foundation

/// How revocation is checked (CLI `--revocation`).
public enum RevocationMode: String, Sendable, CaseIterable {
    case none, crl, ocsp, crlOrOCSP = "crl-or-ocsp"

    public init(parsing text: String) throws {
        guard let m = RevocationMode(rawValue: text) else {
            throw ETrustError.badInput("unknown revocation mode '\(text)' (none, crl, ocsp, crl-or-ocsp)", code: .invalidArgument)
        }
        self = m
    }
}

/// Assurance levels, ordered (eIDAS-style low < substantial < high).
public enum AssuranceLevel: String, Sendable, Comparable, CaseIterable {
    case low, substantial, high
    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

    public init(parsing text: String) throws {
        guard let l = AssuranceLevel(rawValue: text) else {
            throw ETrustError.badInput("unknown assurance level '\(text)' (low, substantial, high)", code: .invalidArgument)
        }
        self = l
    }
}

public struct ValidationRequest: Sendable {
    public var parameters = PathParameters()
    public var revocation: RevocationMode = .none
    public var ocspURL: String?
    /// Stapled or saved OCSP responses (DER), matched to the certificates they answer for.
    public var ocspResponses: [[UInt8]] = []
    public var fetchIssuers = false
    public var minimumAssurance: AssuranceLevel?
    /// Policy OID -> level, from the CA profiles.
    public var assuranceLevels: [String: AssuranceLevel] = [:]
    /// From a trust list: per anchor (SHA-256 hex of its certificate), policy OID -> level. When
    /// set, the levels of the path's anchor are the only ones used.
    public var assuranceLevelsByAnchor: [String: [String: AssuranceLevel]]?
    /// When set, the certificate is judged at `parameters.time` (e.g. a signature time-stamp's
    /// genTime) with revocation information current at this later time: a certificate revoked
    /// after the judgement time is still valid at it (CRLs are read here, not by OpenSSL, which
    /// takes any listed certificate as revoked).
    public var revocationCheckedAt: Date?
    /// Revocations at or before this time count (default: the validation time). A signature
    /// judged at the signing time its signer states, which proves nothing, uses now.
    public var revokedBy: Date?
    public init() {}
}

public struct RevocationStatus: Sendable {
    public var certificate: Certificate
    public var status: String        // good, revoked, unknown, not-checked
    public var source: String        // "CRL #n of ISSUER", "OCSP (responder)", "trust anchor", ...
    public var revokedAt: Date?
    public var reason: String?
    public var subject: String { certificate.subject.description }
    public var serial: String { certificate.serialHex }
}

public struct ValidationResult: Sendable {
    public var valid: Bool
    public var reason: String
    public var errorCode: String
    public var path: [Certificate]
    public var policies: [String]
    public var revocationMode: RevocationMode
    public var revocation: [RevocationStatus]
    public var assurance: AssuranceLevel?

    public var json: [String: Any] {
        var o: [String: Any] = [
            "valid": valid, "reason": reason, "errorCode": errorCode, "path": path.map { $0.subject.description },
            "policies": policies,
            "revocation": ["mode": revocationMode.rawValue, "certificates": revocation.map { r -> [String: Any] in
                var e: [String: Any] = ["subject": r.subject, "serial": r.serial, "status": r.status, "source": r.source]
                if let t = r.revokedAt { e["revokedAt"] = RFC3339.format(t) }
                if let re = r.reason { e["reason"] = re }
                return e
            }],
        ]
        o["assurance"] = assurance?.rawValue ?? NSNull()
        return o
    }
}

/// One call that says whether a certificate is valid for a purpose, at a time, under a policy,
/// and why not. Anchors, intermediates and CRLs are parsed once per Validator and reused.
public final class Validator: Sendable {
    public let trust: TrustStore
    public let intermediates: [Certificate]
    let untrusted: UntrustedCertificates
    let crlSources: [[UInt8]: String]

    public init(anchors: [Certificate], intermediates: [Certificate] = [], crls: [CertificateRevocationList] = []) throws {
        for a in anchors where a.basicConstraints?.ca != true && a.version == 3 {
            throw ETrustError.refused("trust anchor \(a.subject) is not a CA certificate", code: .invalidArgument)
        }
        trust = try TrustStore(anchors: anchors, crls: crls)
        self.intermediates = intermediates
        untrusted = try UntrustedCertificates(intermediates)
        // "CRL #n of ISSUER (+ delta #m)" per issuer, for the explanation of a result.
        var sources: [[UInt8]: String] = [:]
        for issuer in Set(crls.map(\.issuer.der)) {
            let full = crls.filter { $0.issuer.der == issuer && $0.deltaBase == nil }.max { ($0.number ?? 0) < ($1.number ?? 0) }
            let delta = crls.filter { $0.issuer.der == issuer && $0.deltaBase != nil }.max { ($0.number ?? 0) < ($1.number ?? 0) }
            let name = (full ?? delta).map { $0.issuer.description } ?? ""
            sources[issuer] = (full.map { "CRL #\($0.number.map(String.init) ?? "?") of \(name)" } ?? "CRL")
                + (delta.map { " + delta #\($0.number.map(String.init) ?? "?")" } ?? "")
        }
        crlSources = sources
    }

    /// The same anchors and CRLs with more intermediates (e.g. those a signature carries).
    public convenience init(sharing other: Validator, moreIntermediates: [Certificate]) {
        try! self.init(trust: other.trust, intermediates: other.intermediates + moreIntermediates, crlSources: other.crlSources)
    }

    private init(trust: TrustStore, intermediates: [Certificate], crlSources: [[UInt8]: String]) throws {
        self.trust = trust
        self.intermediates = intermediates
        self.untrusted = try UntrustedCertificates(intermediates)
        self.crlSources = crlSources
    }

    // One piece (about 90 lines): the steps (issuer chasing, path, per-certificate revocation,
    // assurance) share the result being built and the order is the validation algorithm itself.
    public func validate(_ certificate: Certificate, _ request: ValidationRequest) throws -> ValidationResult {
        var parameters = request.parameters
        let time = parameters.time ?? Date()
        let past = request.revocationCheckedAt != nil
        switch request.revocation {
        case .none, .ocsp: parameters.checkCRLs = false
        case .crl: parameters.checkCRLs = !past
        case .crlOrOCSP: parameters.checkCRLs = !past; parameters.tolerateMissingCRL = true
        }
        var intermediates = self.intermediates
        var path = try PathVerifier.verify(certificate, untrusted: untrusted, trust: trust, parameters: parameters)
        // AIA chasing only when asked (--fetch-issuers): http, bounded.
        if !path.valid && request.fetchIssuers && (path.error == 20 || path.error == 2) {
            var current = path.chain.last ?? certificate
            for _ in 0..<4 {
                guard let url = OCSPClient.caIssuersURLs(of: current).first(where: { $0.hasPrefix("http://") }),
                      let bytes = try? OCSPClient.get(url), let fetched = try? Certificate.all(bytes: bytes, what: url) .first
                          ?? (try? Certificate(der: bytes, what: url)) else { break }
                intermediates.append(fetched)
                path = try PathVerifier.verify(certificate, intermediates: intermediates, trust: trust, parameters: parameters)
                if path.valid || !(path.error == 20 || path.error == 2) { break }
                current = fetched
            }
        }
        var result = ValidationResult(valid: path.valid, reason: path.reason, errorCode: path.errorCode, path: path.chain,
                                      policies: path.validPolicies, revocationMode: request.revocation, revocation: [], assurance: nil)
        if !path.valid {
            if path.errorDepth >= 0, path.errorDepth < path.chain.count {
                result.reason += " (at \(path.chain[path.errorDepth].subject))"
            }
            return result
        }
        if parameters.checkCRLs, parameters.effectiveProfileChecks != .none,
           let v = RFC5280Rules.crlNumbers(path.chain, crls: trust.crls) {
            return fail(result, v.code, v.reason)
        }
        // Revocation status of every certificate but the anchor.
        if let failed = checkRevocation(path, request, at: time, into: &result) { return failed }
        // Assurance: the highest level mapped to a policy of the valid policy set.
        let levelMap: [String: AssuranceLevel]
        if let byAnchor = request.assuranceLevelsByAnchor {
            levelMap = result.path.last.flatMap { byAnchor[Hex.encode($0.sha256Fingerprint)] } ?? [:]
        } else {
            levelMap = request.assuranceLevels
        }
        let levels = result.policies.compactMap { levelMap[$0] }
        result.assurance = levels.max()
        if let minimum = request.minimumAssurance {
            guard let level = result.assurance, level >= minimum else {
                return fail(result, "assurance_too_low",
                            "no policy of the path is mapped to assurance \(minimum.rawValue) or higher (valid policies: \(result.policies.isEmpty ? "none" : result.policies.joined(separator: ", ")))")
            }
        }
        return result
    }

    /// Appends each certificate's revocation status to `result`; the failed result when one is
    /// revoked at `time` or its status cannot be had.
    private func checkRevocation(_ path: PathResult, _ request: ValidationRequest, at time: Date,
                                 into result: inout ValidationResult) -> ValidationResult? {
        let chain = path.chain
        for (depth, cert) in chain.enumerated() {
            if depth == chain.count - 1 {
                result.revocation.append(RevocationStatus(certificate: cert, status: "not-checked",
                                                          source: "trust anchor", revokedAt: nil, reason: nil))
                continue
            }
            let issuer = chain[depth + 1]
            if request.revocation == .none {
                result.revocation.append(RevocationStatus(certificate: cert, status: "not-checked",
                                                          source: "revocation not checked", revokedAt: nil, reason: nil))
                continue
            }
            if let checkedAt = request.revocationCheckedAt, request.revocation != .ocsp, let crls = currentCRLs(of: issuer, covering: cert, at: checkedAt) {
                let status = crlStatus(cert, crls, issuer: issuer)
                result.revocation.append(status)
                if status.status == "revoked", let at = status.revokedAt, at <= request.revokedBy ?? time {
                    return fail(result, "certificate_revoked", "certificate revoked at \(RFC3339.format(at)) (CRL\(status.reason.map { ", \($0)" } ?? "")) (at \(cert.subject))")
                }
                continue
            }
            let useOCSP = request.revocation == .ocsp || (request.revocation == .crlOrOCSP && (path.depthsWithoutCRL.contains(depth) || request.revocationCheckedAt != nil))
            if request.revocation == .crl && request.revocationCheckedAt != nil {
                return fail(result, "unable_to_get_crl", "no current CRL of \(issuer.subject) was given (at \(cert.subject))")
            }
            if useOCSP {
                if let failed = checkOCSP(cert, issuer: issuer, request, at: time, into: &result) { return failed }
            } else {
                // OpenSSL found and checked a CRL for it (the path is valid): name which.
                let source = crlSources[issuer.subject.der] ?? "CRL"
                result.revocation.append(RevocationStatus(certificate: cert, status: "good",
                                                          source: source, revokedAt: nil, reason: nil))
            }
        }
        return nil
    }

    private func checkOCSP(_ cert: Certificate, issuer: Certificate, _ request: ValidationRequest, at time: Date,
                           into result: inout ValidationResult) -> ValidationResult? {
        do {
            let check = try ocspStatus(cert, issuer: issuer, request: request, at: request.revocationCheckedAt ?? time)
            switch check.status {
            case .good:
                result.revocation.append(RevocationStatus(certificate: cert, status: "good",
                                                          source: "OCSP (\(check.responder))", revokedAt: nil, reason: nil))
            case .revoked(let at, let reason):
                result.revocation.append(RevocationStatus(certificate: cert, status: "revoked",
                                                          source: "OCSP (\(check.responder))", revokedAt: at, reason: reason?.name))
                if at <= request.revokedBy ?? time {
                    return fail(result, "certificate_revoked", "certificate revoked (OCSP\(reason.map { ", \($0.name)" } ?? "")) (at \(cert.subject))")
                }
            case .unknown:
                result.revocation.append(RevocationStatus(certificate: cert, status: "unknown",
                                                          source: "OCSP (\(check.responder))", revokedAt: nil, reason: nil))
                return fail(result, "ocsp_cert_unknown", "the OCSP responder does not know the certificate (at \(cert.subject))")
            }
        } catch let e as ETrustError {
            result.revocation.append(RevocationStatus(certificate: cert, status: "unknown", source: "OCSP", revokedAt: nil, reason: nil))
            return fail(result, e.code == .notFound ? "ocsp_cert_unknown" : "ocsp_verify_failed", "\(e.reason) (at \(cert.subject))")
        } catch {
            result.revocation.append(RevocationStatus(certificate: cert, status: "unknown", source: "OCSP", revokedAt: nil, reason: nil))
            return fail(result, "ocsp_verify_failed", "\(error) (at \(cert.subject))")
        }
        return nil
    }

    /// The newest full CRL of `issuer` among those given that verifies, is current at `time` and
    /// covers `cert` (a partitioned CRL's issuingDistributionPoint names one of the certificate's
    /// distribution points), with the newest delta CRL over it.
    private func currentCRLs(of issuer: Certificate, covering cert: Certificate,
                             at time: Date) -> (full: CertificateRevocationList, delta: CertificateRevocationList?)? {
        let points = (cert.extension(ExtensionOID.cRLDistributionPoints)?.value ?? []) + (cert.extension(ExtensionOID.freshestCRL)?.value ?? [])
        let usable = trust.crls.filter { crl in
            crl.issuer.der == issuer.subject.der && crl.verify(issuer: issuer, at: time).problems.isEmpty
                && ((crl.issuingDistributionPointURIs ?? []).isEmpty
                    || (crl.issuingDistributionPointURIs ?? []).contains { Self.bytes(points, contain: Array($0.utf8)) })
        }
        guard let full = usable.filter({ $0.deltaBase == nil }).max(by: { ($0.number ?? 0) < ($1.number ?? 0) }) else { return nil }
        let delta = usable.filter { $0.deltaBase.map { $0 <= (full.number ?? 0) } ?? false }.max { ($0.number ?? 0) < ($1.number ?? 0) }
        return (full, delta)
    }

    static func bytes(_ haystack: [UInt8], contain needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// The certificate's status in a full CRL and its delta (the delta first: it is newer; its
    /// removeFromCRL entry undoes a hold).
    private func crlStatus(_ cert: Certificate, _ crls: (full: CertificateRevocationList, delta: CertificateRevocationList?),
                           issuer: Certificate) -> RevocationStatus {
        let source = "CRL #\(crls.full.number.map(String.init) ?? "?") of \(issuer.subject)"
            + (crls.delta.map { " + delta #\($0.number.map(String.init) ?? "?")" } ?? "")
        let entry = crls.delta?.entries.first { $0.serialHex == cert.serialHex } ?? crls.full.entries.first { $0.serialHex == cert.serialHex }
        guard let entry, entry.reason != .removeFromCRL else {
            return RevocationStatus(certificate: cert, status: "good", source: source, revokedAt: nil, reason: nil)
        }
        return RevocationStatus(certificate: cert, status: "revoked", source: source, revokedAt: entry.revocationDate, reason: entry.reason?.name)
    }

    private func fail(_ r: ValidationResult, _ code: String, _ reason: String) -> ValidationResult {
        var r = r
        r.valid = false
        r.errorCode = code
        r.reason = reason
        return r
    }

    private func ocspStatus(_ cert: Certificate, issuer: Certificate, request: ValidationRequest, at time: Date) throws -> OCSPCheck {
        // A given response first (stapled or saved), then the responder.
        var lastError: ETrustError? = nil
        for der in request.ocspResponses {
            do { return try OCSPClient.check(response: der, certificate: cert, issuer: issuer, trust: trust, request: nil, at: time) }
            catch let e as ETrustError { if e.code != .notFound { lastError = e } }
        }
        if let lastError, request.ocspURL == nil && OCSPClient.responderURLs(of: cert).isEmpty { throw lastError }
        guard let url = request.ocspURL ?? OCSPClient.responderURLs(of: cert).first else {
            throw lastError ?? ETrustError.refused("no OCSP response given and no OCSP responder URL in the certificate", code: .notFound)
        }
        let ocspRequest = try OCSPClient.request(for: cert, issuer: issuer)
        do {
            let response = try OCSPClient.send(ocspRequest, to: url)
            return try OCSPClient.check(response: response, certificate: cert, issuer: issuer, trust: trust, request: ocspRequest, at: time)
        } catch let e as ETrustError {
            // Name both causes: why the given response was not used, and why the responder failed.
            guard let lastError else { throw e }
            throw ETrustError(e.code, "the given OCSP response was not usable (\(lastError.reason)); \(e.reason)", category: e.category)
        }
    }
}

import ETrustCA
import ETrustCore
import ETrustStore
import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// What the responder does with a serial its CA never issued (RFC 6960 2.2).
public enum UnknownSerialPolicy: String, Sendable {
    /// status unknown
    case unknown
    /// revoked, certificateHold, revocationTime 1970-01-01, with the extended-revoke extension
    case revoked
}

public struct ResponderConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var maxBodyBytes = 64 * 1024
    public var maxCertificatesPerRequest = 20
    public var maxConnections = 4096
    public var idleTimeout: TimeInterval = 30
    public var headerTimeout: TimeInterval = 10
    public var unknownSerial: UnknownSerialPolicy = .unknown
    /// How often the database is polled for revocations and responses due for renewal.
    public var refreshInterval: TimeInterval = 1
    public init() {}
}

/// One answer of the responder, with what HTTP needs (RFC 5019 6: caching headers).
public struct OCSPAnswer: Sendable {
    public enum Outcome: String, Sendable { case good, revoked, unknown, malformed, unauthorized, internalError = "internal_error" }
    public var body: [UInt8]
    public var outcome: Outcome
    public var thisUpdate: Date?
    public var nextUpdate: Date?
    public var etag: String?
    public var fromCache: Bool
    public var serials: [String]
}

/// The answer path as a stack of sources (Boulder): a filter (is the issuer one of ours? else
/// unauthorized) -> pre-signed responses kept in memory as bytes -> a live signer (requests
/// with a nonce, several certificates, or SHA-256 CertIDs). Testable without a socket.
// @unchecked Sendable: `authority`, `signing`, `lastRefresh` and `lastIssuedID` are touched only under
// `lock`; `issuers` and `cache` live in the `shared` box.
public final class OCSPAnswerSource: @unchecked Sendable {
    struct Issuer {
        let name: String
        let certificate: Certificate
        let sha1: (name: [UInt8], key: [UInt8])
        let sha256: (name: [UInt8], key: [UInt8])
        var signerCertificate: Certificate
        var signerKey: PrivateKey
    }
    struct Cached {
        let der: [UInt8]
        let thisUpdate: Date
        let nextUpdate: Date
        let etag: String
        let outcome: OCSPAnswer.Outcome
    }

    /// The issuers answered for and the responses kept in memory.
    struct Shared {
        var issuers: [Issuer] = []
        var cache: [String: Cached] = [:]
    }

    let authority: Authority
    /// Each CA's delegated responder and the pre-signing (under `lock`).
    let signing: OCSPSigning
    let configuration: ResponderConfiguration
    /// Guards `authority` (one SQLite connection) and signing state.
    private let lock = NIOLock()
    /// Guards `issuers` and `cache`; held briefly (lookups and stores, never while signing).
    private let shared = NIOLockedValueBox(Shared())
    private var lastRefresh: Date
    /// Per CA, the newest certificate row already pre-signed (new issuance is signed ahead of
    /// the first question).
    private var lastIssuedID: [String: Int64] = [:]
    let counters = Counters()
    public var cacheHits: Int { counters.hits }
    public var signatures: Int { counters.signatures }

    public init(authority: Authority, configuration: ResponderConfiguration) throws {
        self.authority = authority
        self.signing = OCSPSigning(authority: authority)
        self.configuration = configuration
        self.lastRefresh = authority.clock.now()
        try loadIssuers()
        // Responses pre-signed earlier (by etrust at issuance or revocation, or by this daemon)
        // are served as stored bytes.
        for issuer in shared.withLockedValue({ $0.issuers }) {
            var loaded: [PresignedResponse] = []
            try authority.store.forEachPresigned(ca: issuer.name) { r in
                if r.nextUpdate > lastRefresh { loaded.append(r) }
            }
            for r in loaded {
                // A revocation or hold release deletes the stored response in its own transaction,
                // so what is stored was signed after the last change; the status labels it.
                guard let status = try authority.store.ocspStatus(ca: issuer.name, serialHex: r.serialHex) else { continue }
                var c = cached(r)
                if status.revoked { c = Cached(der: c.der, thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate, etag: c.etag, outcome: .revoked) }
                let entry = c
                shared.withLockedValue { $0.cache[key(issuer.name, r.serialHex)] = entry }
            }
        }
    }

    /// The CAs with a usable responder certificate; the others are reported by `signerHealth`
    /// (and answered `unauthorized`) until `etrust ocsp provision` gives them one.
    private func loadIssuers() throws {
        var list: [Issuer] = []
        var problems: [String: String] = [:]
        for ca in try authority.store.cas() {
            let hashes = try OCSPResponder.issuerHashes(of: ca.certificate)
            do {
                let (cert, key) = try signing.signer(ca: ca.name)
                list.append(Issuer(name: ca.name, certificate: ca.certificate, sha1: hashes.sha1, sha256: hashes.sha256,
                                   signerCertificate: cert, signerKey: key))
            } catch let e as ETrustError where e.code == .notFound {
                // An offline CA's responder is provisioned on its own host, if anywhere.
                if !ca.keyReference.hasPrefix(KeyStore.offlinePrefix) { problems[ca.name] = e.reason }
            }
        }
        shared.withLockedValue { $0.issuers = list }
        signerProblems.withLockedValue { $0 = problems }
    }

    /// Problems with responder certificates: CA name -> the reason (missing, expired).
    private let signerProblems = NIOLockedValueBox<[String: String]>([:])

    /// Each CA's responder certificate as the daemon sees it: its notAfter, and whether it is
    /// missing, expired, or has less than a quarter of its validity left (time to run
    /// `etrust ocsp provision`). The daemon never issues one itself.
    public struct SignerHealth: Sendable {
        public var ca: String
        public var notAfter: Date?
        public var problem: String?
        public var expiringSoon: Bool
    }

    public func signerHealth() -> [SignerHealth] {
        let now = authority.clock.now()
        var out = shared.withLockedValue { state in
            state.issuers.map { i -> SignerHealth in
                let c = i.signerCertificate
                let left = c.notAfter.timeIntervalSince(now)
                let expired = left <= 0
                return SignerHealth(ca: i.name, notAfter: c.notAfter,
                                    problem: expired ? "the OCSP responder certificate of CA '\(i.name)' expired at \(RFC3339.format(c.notAfter))" : nil,
                                    expiringSoon: !expired && left < c.notAfter.timeIntervalSince(c.notBefore) / 4)
            }
        }
        for (ca, reason) in signerProblems.withLockedValue({ $0 }) where !out.contains(where: { $0.ca == ca }) {
            out.append(SignerHealth(ca: ca, notAfter: nil, problem: reason, expiringSoon: false))
        }
        return out.sorted { $0.ca < $1.ca }
    }

    private func key(_ ca: String, _ serial: String) -> String { ca + "|" + serial }

    private func cached(_ r: PresignedResponse) -> Cached {
        Cached(der: r.der, thisUpdate: r.thisUpdate, nextUpdate: r.nextUpdate, etag: "\"" + Hex.encode(Digest.sha256(r.der).prefix(12)) + "\"",
               outcome: .good)
    }

    private func issuer(for q: OCSPResponder.Query, in issuers: [Issuer]) -> Int? {
        issuers.firstIndex { i in
            (q.hashAlgorithm == "1.3.14.3.2.26" && q.issuerNameHash == i.sha1.name && q.issuerKeyHash == i.sha1.key)
                || (q.hashAlgorithm == "2.16.840.1.101.3.4.2.1" && q.issuerNameHash == i.sha256.name && q.issuerKeyHash == i.sha256.key)
        }
    }

    /// Answers one DER request. Never throws: every failure is an OCSP error response.
    public func answer(_ der: [UInt8]) -> OCSPAnswer {
        guard let request = OCSPResponder.parse(der), request.queries.count <= configuration.maxCertificatesPerRequest else {
            return OCSPAnswer(body: OCSPResponder.ErrorStatus.malformedRequest.der, outcome: .malformed, fromCache: false, serials: [])
        }
        let serials = request.queries.map(\.serialHex)
        let now = authority.clock.now()
        // The hot path: RFC 5019 form (one SHA-1 CertID, no nonce) answered from pre-signed bytes
        // under a read lock, no signing and no database.
        let (issuerIndex, hit): (Int?, Cached?) = shared.withLockedValue { state in
            let indices = request.queries.map { issuer(for: $0, in: state.issuers) }
            guard let first = indices.first ?? nil, indices.allSatisfy({ $0 == first }) else { return (nil, nil) }
            if request.queries.count == 1, !request.hasNonce, request.queries[0].hashAlgorithm == "1.3.14.3.2.26",
               let c = state.cache[key(state.issuers[first].name, serials[0])], c.nextUpdate > now {
                return (first, c)
            }
            return (first, nil)
        }
        guard let first = issuerIndex else {
            return OCSPAnswer(body: OCSPResponder.ErrorStatus.unauthorized.der, outcome: .unauthorized, fromCache: false, serials: serials)
        }
        if let c = hit {
            counters.hit()
            return OCSPAnswer(body: c.der, outcome: c.outcome, thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate, etag: c.etag,
                              fromCache: true, serials: serials)
        }
        return lock.withLock { sign(request, issuerIndex: first, serials: serials, now: now) }
    }

    /// The live signer (under `lock`): statuses from the database, one signed response.
    private func sign(_ request: OCSPResponder.ParsedRequest, issuerIndex first: Int, serials: [String], now: Date) -> OCSPAnswer {
        let issuer = shared.withLockedValue { $0.issuers[first] }
        do {
            var answers: [OCSPResponder.Answer] = []
            var outcome = OCSPAnswer.Outcome.good
            var extended = false
            for q in request.queries {
                let status: OCSPCertificateStatus
                if let s = try authority.store.ocspStatus(ca: issuer.name, serialHex: q.serialHex) {
                    status = s.revoked ? .revoked(time: s.revokedAt ?? now, reason: s.reason.flatMap(RevocationReason.init(rawValue:))) : .good
                } else if configuration.unknownSerial == .revoked {
                    status = .revoked(time: Date(timeIntervalSince1970: 0), reason: .certificateHold)
                    extended = true
                } else {
                    status = .unknown
                }
                switch status {
                case .revoked: outcome = .revoked
                case .unknown where outcome != .revoked: outcome = .unknown
                default: break
                }
                answers.append(.init(query: q, status: status))
            }
            let validity = min(OCSPSigning.responseValidity, issuer.signerCertificate.notAfter.timeIntervalSince(now))
            let body = try OCSPResponder.sign(answers: answers, signerCertificate: issuer.signerCertificate, signer: issuer.signerKey,
                                              includeCertificate: true, now: now, validity: validity, nonceFrom: request,
                                              extendedRevokedDefinition: extended)
            counters.signed()
            let next = now.addingTimeInterval(validity)
            let etag = "\"" + Hex.encode(Digest.sha256(body).prefix(12)) + "\""
            if request.queries.count == 1, !request.hasNonce, request.queries[0].hashAlgorithm == "1.3.14.3.2.26", !extended {
                // Keep it for the next asker, and in the database for the next start.
                let entry = Cached(der: body, thisUpdate: now, nextUpdate: next, etag: etag, outcome: outcome)
                shared.withLockedValue { $0.cache[key(issuer.name, serials[0])] = entry }
                try? authority.store.save(presigned: [PresignedResponse(serialHex: serials[0], der: body, thisUpdate: now, nextUpdate: next)],
                                          ca: issuer.name)
            }
            return OCSPAnswer(body: body, outcome: outcome, thisUpdate: now, nextUpdate: next, etag: etag, fromCache: false, serials: serials)
        } catch {
            return OCSPAnswer(body: OCSPResponder.ErrorStatus.internalError.der, outcome: .internalError, fromCache: false, serials: serials)
        }
    }

    /// Picks up revocations made by another process (changed_at) and re-signs them, renews
    /// responses past half their validity, and rotates signers that are due.
    public func refresh() throws {
        try lock.withLock { try refreshLocked() }
    }

    private func refreshLocked() throws {
        let now = authority.clock.now()
        // Overlap by a second: changed_at has one-second resolution.
        let since = lastRefresh.addingTimeInterval(-1)
        lastRefresh = now
        let current = shared.withLockedValue { $0.issuers }
        for (index, issuer) in current.enumerated() {
            do {
                // A responder certificate provisioned by the CA host since the last look replaces
                // the current one; none is ever issued here.
                if let record = try authority.store.currentOCSPSigner(ca: issuer.name),
                   record.certificate.der != issuer.signerCertificate.der, record.certificate.notAfter > now {
                    let (cert, signerKey) = try signing.signer(ca: issuer.name)
                    shared.withLockedValue { state in
                        state.issuers[index].signerCertificate = cert
                        state.issuers[index].signerKey = signerKey
                        state.cache = state.cache.filter { !$0.key.hasPrefix(issuer.name + "|") }
                    }
                }
                try refreshResponses(of: issuer, since: since, now: now)
                signerProblems.withLockedValue { $0[issuer.name] = nil }
            } catch let e as ETrustError where e.code == .notFound {
                // Missing or expired: reported by signerHealth (/readyz, /metrics, the log).
                signerProblems.withLockedValue { $0[issuer.name] = e.reason }
            }
        }
    }

    /// Re-signs what changed for one CA: revocations since `since`, new issuance, and responses
    /// past half their validity.
    private func refreshResponses(of issuer: Issuer, since: Date, now: Date) throws {
        var due = try authority.store.changedSerials(ca: issuer.name, since: since)
        // Certificates issued since the last look (by `etrust issue` in another process).
        let issued = try authority.store.certificatesIssued(ca: issuer.name, afterID: lastIssuedID[issuer.name] ?? 0, limit: 10_000)
        if let last = issued.last { lastIssuedID[issuer.name] = last.id }
        let known = shared.withLockedValue { Set($0.cache.keys) }
        due += issued.map(\.serial).filter { !known.contains(key(issuer.name, $0)) }
        shared.withLockedValue { state in
            for (k, c) in state.cache where k.hasPrefix(issuer.name + "|") {
                if now >= c.thisUpdate.addingTimeInterval(c.nextUpdate.timeIntervalSince(c.thisUpdate) / 2) {
                    due.append(String(k.dropFirst(issuer.name.count + 1)))
                }
            }
        }
        guard !due.isEmpty else { return }
        for r in try signing.presign(ca: issuer.name, serials: Array(Set(due))) {
            var c = cached(r)
            if let s = try authority.store.ocspStatus(ca: issuer.name, serialHex: r.serialHex), s.revoked {
                c = Cached(der: c.der, thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate, etag: c.etag, outcome: .revoked)
            }
            let entry = c
            shared.withLockedValue { $0.cache[key(issuer.name, r.serialHex)] = entry }
            counters.signed()
        }
    }

    public var cachedResponses: Int { shared.withLockedValue { $0.cache.count } }
}

/// Hit and signature counts for metrics.
final class Counters: Sendable {
    private let h = Atomic<Int>(0)
    private let s = Atomic<Int>(0)
    var hits: Int { h.load(ordering: .relaxed) }
    var signatures: Int { s.load(ordering: .relaxed) }
    func hit() { h.add(1, ordering: .relaxed) }
    func signed() { s.add(1, ordering: .relaxed) }
}

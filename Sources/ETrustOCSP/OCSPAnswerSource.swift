import ETrustCA
import ETrustCore
import ETrustStore
import Foundation
import NIOConcurrencyHelpers

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
    /// At most this many open connections from one IP address (one client cannot fill the cap).
    public var maxConnectionsPerAddress = 512
    /// A keep-alive connection is closed after this many requests (as nginx's keepalive_requests)...
    public var maxRequestsPerConnection = 1000
    /// ...or once it is this old (after the answer in progress): no client holds a slot forever.
    public var maxConnectionLifetime: TimeInterval = 300
    /// When more than three quarters of `maxConnections` are open, idle connections get this
    /// much time instead of `idleTimeout`.
    public var idleTimeoutUnderPressure: TimeInterval = 2
    /// Bytes queued for a connection above which it is not read until its client reads.
    public var writeBufferHighWaterMark = 64 * 1024
    public var idleTimeout: TimeInterval = 30
    public var headerTimeout: TimeInterval = 10
    public var unknownSerial: UnknownSerialPolicy = .unknown
    /// How often the database is polled for revocations and responses due for renewal.
    public var refreshInterval: TimeInterval = 1
    /// How often a refresh also checks the database file's structure (SQLite `quick_check`, off
    /// the event loops); 0: never.
    public var integrityCheckInterval: TimeInterval = 300
    /// A responder certificate with less than this left is not ready (time to run `etrust ocsp
    /// provision`); nil: a quarter of its validity.
    public var renewalMargin: TimeInterval?
    /// How long before an offline CA's CRL (published by hand) expires /readyz warns.
    public var offlineCRLWarning: TimeInterval = 7 * 86_400
    /// Threads for what may block (store queries, live signing).
    public var blockingThreads = 2
    /// The validation API (--verify-api): largest JSON body, most intermediates in one request,
    /// and the time one request may take (network fetches included) before 503.
    public var maxVerifyBodyBytes = 1 << 20
    public var maxVerifyIntermediates = 8
    public var verifyTimeLimit: TimeInterval = 15
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
    /// Last-Modified and Expires when already formatted (pre-signed answers).
    var httpDates: (lastModified: String, expires: String)?
}

/// The responder's answer path and the state behind it: the issuers answered for (each with its
/// delegated responder certificate and key), the pre-signed responses in memory, and the stack
/// of sources over them (filter -> memory -> store -> live signer; see OCSPSource.swift).
/// `refresh()` (a timer, off the event loops) keeps the memory current with the store.
public final class OCSPAnswerSource: Sendable {
    let gate: StoreGate
    let configuration: ResponderConfiguration
    let cache = ResponseCache()
    let counters = Counters()
    let issuers = NIOLockedValueBox<[ResponderIssuer]>([])
    /// CA name -> why it has no usable responder certificate (answered `unauthorized`).
    let signerProblems = NIOLockedValueBox<[String: String]>([:])
    public let stack: OCSPSourceStack
    let refresher: Refresher
    public let readiness: Readiness

    public var cacheHits: Int { counters.hits }
    public var signatures: Int { counters.signatures }
    public var cachedResponses: Int { cache.count }
    /// Moves whenever an answer could change (responses renewed or dropped, issuers reloaded).
    var generation: Int { cache.generation }
    /// The time of answers, refreshes and readiness (the first authority's clock, kept across reloads).
    let clock: ETrustClock

    public init(authority: Authority, configuration: ResponderConfiguration) throws {
        gate = StoreGate(authority)
        clock = authority.clock
        self.configuration = configuration
        stack = OCSPSourceStack(
            front: [IssuerFilterSource(maxCertificates: configuration.maxCertificatesPerRequest),
                    PresignedMemorySource(cache: cache, counters: counters)],
            back: [StoredResponseSource(gate: gate, cache: cache),
                   LiveSigningSource(gate: gate, cache: cache, counters: counters, unknownSerial: configuration.unknownSerial)])
        readiness = Readiness(configuration: configuration)
        refresher = Refresher(now: authority.clock.now())
        try loadIssuers()
        try loadPresigned()
        try refreshReadiness()
        readiness.refreshed(at: authority.clock.now(), storeProblem: nil)
        watchRevocations(authority)
    }

    /// A store shared by several hosts (PostgreSQL) announces each revocation as it commits: the
    /// responder refreshes at once instead of at its next poll (which stays as the fallback).
    private let revocationWatch = NIOLockedValueBox<RevocationSubscription?>(nil)
    private let notified = DispatchQueue(label: "etrust-ocspd.revocations")
    private let refreshPending = NIOLockedValueBox(false)

    private func watchRevocations(_ authority: Authority) {
        guard let notifying = authority.store as? RevocationNotifying else { return }
        let subscription = try? notifying.subscribeToRevocations { [weak self] _, _ in self?.refreshSoon() }
        revocationWatch.withLockedValue { old in
            old?.cancel()
            old = subscription
        }
    }

    /// One refresh for a burst of notifications.
    private func refreshSoon() {
        guard refreshPending.withLockedValue({ pending in defer { pending = true }; return !pending }) else { return }
        notified.async { [self] in
            refreshPending.withLockedValue { $0 = false }
            try? refresh()
        }
    }

    /// The question for `der` at the clock's time; nil when the bytes are not an OCSP request.
    public func question(_ der: [UInt8]) -> OCSPQuestion? {
        OCSPQuestion(der: der, now: clock.now(), issuers: issuers.withLockedValue { $0 })
    }

    /// Answers one DER request through the whole stack (blocking). Never throws: every failure is
    /// an OCSP error response. The server runs the front of the stack on its event loop and the
    /// rest on a thread pool.
    public func answer(_ der: [UInt8]) -> OCSPAnswer {
        guard let q = question(der) else { return .error(.malformedRequest, .malformed) }
        return stack.answerWithoutBlocking(q) ?? stack.answerBlocking(q)
    }

    /// The CAs with a usable responder certificate; the others are reported by `signerHealth`
    /// (and answered `unauthorized`) until `etrust ocsp provision` gives them one.
    func loadIssuers() throws {
        let authority = gate.authority
        let signing = OCSPSigning(authority: authority)
        var list: [ResponderIssuer] = []
        var problems: [String: String] = [:]
        for ca in try gate.withStore({ try $0.cas() }) {
            do {
                let (cert, key) = try signing.signer(ca: ca.name)
                list.append(try ResponderIssuer(name: ca.name, certificate: ca.certificate, signerCertificate: cert, signerKey: key))
            } catch let e as ETrustError where e.code == .notFound {
                // An offline CA's responder is provisioned on its own host, if anywhere.
                if !ca.keyReference.hasPrefix(KeyStore.offlinePrefix) { problems[ca.name] = e.reason }
            }
        }
        issuers.withLockedValue { $0 = list }
        signerProblems.withLockedValue { $0 = problems }
        cache.changed()
    }

    /// Responses pre-signed earlier (by etrust at issuance or revocation, or by a responder) are
    /// served as stored bytes. A revocation or hold release deletes the stored response in its
    /// own transaction, so what is stored was signed after the last change; the status labels it.
    private func loadPresigned() throws {
        let now = clock.now()
        for issuer in issuers.withLockedValue({ $0 }) {
            let batch: [(String, CachedResponse)] = try gate.withStore { store in
                var loaded: [PresignedResponse] = []
                try store.forEachPresigned(ca: issuer.name) { r in if r.nextUpdate > now { loaded.append(r) } }
                return try loaded.compactMap { r in
                    try store.ocspStatus(ca: issuer.name, serialHex: r.serialHex).map { (r.serialHex, CachedResponse(r, outcome: $0.revoked ? .revoked : .good)) }
                }
            }
            cache.put(ca: issuer.name, batch)
        }
    }

    /// Each CA's responder certificate as the daemon sees it: its notAfter, and whether it is
    /// missing, expired, or within its renewal margin (time to run `etrust ocsp provision`).
    /// The daemon never issues one itself.
    public struct SignerHealth: Sendable {
        public var ca: String
        public var notAfter: Date?
        public var problem: String?
        public var expiringSoon: Bool
    }

    public func signerHealth() -> [SignerHealth] {
        let now = clock.now()
        var out = issuers.withLockedValue { $0 }.map { i -> SignerHealth in
            let c = i.signerCertificate
            let left = c.notAfter.timeIntervalSince(now)
            let margin = configuration.renewalMargin ?? c.notAfter.timeIntervalSince(c.notBefore) / 4
            return SignerHealth(ca: i.name, notAfter: c.notAfter,
                                problem: left <= 0 ? "the OCSP responder certificate of CA '\(i.name)' expired at \(RFC3339.format(c.notAfter))" : nil,
                                expiringSoon: left > 0 && left < margin)
        }
        for (ca, reason) in signerProblems.withLockedValue({ $0 }) where !out.contains(where: { $0.ca == ca }) {
            out.append(SignerHealth(ca: ca, notAfter: nil, problem: reason, expiringSoon: false))
        }
        return out.sorted { $0.ca < $1.ca }
    }

    /// Picks up revocations and issuance by other processes, renews responses past half their
    /// validity, and takes up responder certificates provisioned since the last look. The store
    /// is locked only for each query or write, never while signing.
    public func refresh() throws {
        try refresher.run { try refreshAll(since: $0) }
    }

    /// SIGHUP: the home's configuration and profiles read again (a new Authority over the same
    /// home), every CA's responder certificate and key loaded again. Answers in memory stay
    /// unless their CA's responder key changed; connections are untouched.
    public func reload(_ authority: Authority) throws {
        try refresher.exclusive {
            let before = issuers.withLockedValue { Dictionary(uniqueKeysWithValues: $0.map { ($0.name, $0.signerCertificate.der) }) }
            gate.replace(with: authority)
            watchRevocations(authority)
            try loadIssuers()
            for i in issuers.withLockedValue({ $0 }) where before[i.name] != i.signerCertificate.der {
                cache.drop(ca: i.name)
                try presign(i, serials: try gate.withStore { try $0.certificatesIssued(ca: i.name, afterID: 0, limit: 1_000_000).map(\.serial) }, now: clock.now())
            }
        }
        try refresh()
    }
}

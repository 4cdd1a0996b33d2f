import ETrustCA
import ETrustCore
import ETrustStore
import Foundation
import NIOConcurrencyHelpers

/// One refresh at a time, and what refreshes remember between runs.
final class Refresher: Sendable {
    struct State {
        var lastRefresh: Date
        /// Per CA, the newest certificate row already pre-signed (new issuance is signed ahead of
        /// the first question).
        var lastIssuedID: [String: Int64] = [:]
    }
    private let state: NIOLockedValueBox<State>
    /// Held for a whole refresh or reload (never by the answer path).
    private let running = NIOLock()

    init(now: Date) { state = NIOLockedValueBox(State(lastRefresh: now)) }

    /// Runs `body` with the time of the previous run (less a second: changed_at has one-second
    /// resolution); that time advances only when the run succeeds.
    func run(at now: Date = Date(), _ body: (Date) throws -> Date) throws {
        try running.withLock {
            let since = state.withLockedValue { $0.lastRefresh }.addingTimeInterval(-1)
            let ranAt = try body(since)
            state.withLockedValue { $0.lastRefresh = ranAt }
        }
    }

    func exclusive<T>(_ body: () throws -> T) throws -> T { try running.withLock { try body() } }

    func lastIssuedID(_ ca: String) -> Int64 { state.withLockedValue { $0.lastIssuedID[ca] ?? 0 } }
    func setLastIssuedID(_ ca: String, _ id: Int64) { state.withLockedValue { $0.lastIssuedID[ca] = id } }
}

extension OCSPAnswerSource {
    /// Every `integrityCheckInterval`, the database file's structure: random bytes written over
    /// its pages are a failing /readyz check ("database-integrity") and a log line, not silence.
    func checkIntegrityIfDue(now: Date) {
        let interval = configuration.integrityCheckInterval
        guard interval > 0, readiness.integrityCheckDue(now: now, every: interval) else { return }
        let problem: String?
        do {
            problem = try gate.withStore { store in try (store as? StoreIntegrity)?.quickCheckProblem() }
        } catch let e as ETrustError {
            problem = e.reason
        } catch {
            problem = "\(error)"
        }
        readiness.integrityChecked(at: now, problem: problem.map { "the database file is damaged: \($0); stop the responders and restore it from a backup" })
    }

    /// One refresh: signers, responses, then readiness. Returns the time it ran at.
    func refreshAll(since: Date) throws -> Date {
        let now = clock.now()
        // First: a damaged file also breaks the queries below, and must still be named.
        checkIntegrityIfDue(now: now)
        do {
            // A store that is down (a PostgreSQL server stopped) is said plainly; answers keep
            // coming from memory meanwhile.
            try gate.withStore { store in try (store as? StoreReachability)?.ping() }
            for issuer in issuers.withLockedValue({ $0 }) {
                do {
                    let current = try takeUpProvisionedSigner(issuer, now: now)
                    try refreshResponses(of: current, since: since, now: now)
                    signerProblems.withLockedValue { $0[issuer.name] = nil }
                } catch let e as ETrustError where e.code == .notFound {
                    // Missing or expired: reported by signerHealth (/readyz, /metrics, the log).
                    signerProblems.withLockedValue { $0[issuer.name] = e.reason }
                }
            }
            try refreshReadiness()
            readiness.refreshed(at: now, storeProblem: nil)
        } catch {
            readiness.refreshed(at: nil, storeProblem: Readiness.describe(error))
            throw error
        }
        return now
    }

    /// A responder certificate provisioned by the CA host since the last look replaces the
    /// current one (its key unlocked outside the store lock); none is ever issued here.
    private func takeUpProvisionedSigner(_ issuer: ResponderIssuer, now: Date) throws -> ResponderIssuer {
        guard let record = try gate.withStore({ try $0.currentOCSPSigner(ca: issuer.name) }),
              record.certificate.der != issuer.signerCertificate.der, record.certificate.notAfter > now else { return issuer }
        let key = try gate.authority.keys.privateKey(record.keyReference, owner: "the OCSP responder of \(issuer.name)")
        let updated = try issuer.with(signer: record.certificate, key: key)
        let replacement = updated
        issuers.withLockedValue { list in
            if let i = list.firstIndex(where: { $0.name == issuer.name }) { list[i] = replacement }
        }
        cache.drop(ca: issuer.name)
        return updated
    }

    /// Re-signs what changed for one CA: revocations since `since`, new issuance, and responses
    /// past half their validity.
    private func refreshResponses(of issuer: ResponderIssuer, since: Date, now: Date) throws {
        let (changed, issued) = try gate.withStore { store in
            (try store.changedSerials(ca: issuer.name, since: since),
             try store.certificatesIssued(ca: issuer.name, afterID: refresher.lastIssuedID(issuer.name), limit: 10_000))
        }
        if let last = issued.last { refresher.setLastIssuedID(issuer.name, last.id) }
        let known = cache.serials(ca: issuer.name)
        let due = changed + issued.map(\.serial).filter { !known.contains($0) } + cache.due(ca: issuer.name, at: now)
        try presign(issuer, serials: Array(Set(due)), now: now)
    }

    /// Signs RFC 5019 responses for `serials` (statuses read under the store lock, signed
    /// without it, saved under it again), then serves them from memory.
    func presign(_ issuer: ResponderIssuer, serials: [String], now: Date) throws {
        var start = 0
        while start < serials.count {
            let page = Array(serials[start..<min(start + 1_000, serials.count)])
            start += page.count
            let statuses = try gate.withStore { store in
                try page.compactMap { s in try store.ocspStatus(ca: issuer.name, serialHex: s).map { (s, $0) } }
            }
            let signed = try OCSPSigning.sign(statuses: statuses, caCertificate: issuer.certificate, signerCertificate: issuer.signerCertificate,
                                              signerKey: issuer.signerKey, now: now)
            try gate.withStore { try $0.save(presigned: signed.map(\.response), ca: issuer.name) }
            cache.put(ca: issuer.name, signed.map { ($0.response.serialHex, CachedResponse($0.response, outcome: $0.revoked ? .revoked : .good)) })
            counters.signed(signed.count)
        }
    }

    /// What /readyz and /metrics report besides signers: each CA's notAfter and the nextUpdate
    /// of the CRLs this responder serves from pub/crl (what relying parties actually fetch).
    func refreshReadiness() throws {
        let authority = gate.authority
        let cas = try gate.withStore { try $0.cas() }
        var crls: [Readiness.CRLState] = []
        for ca in cas {
            let settings = authority.crlSettings(of: ca)
            let offline = ca.keyReference.hasPrefix(KeyStore.offlinePrefix)
            var files: [(String, String)] = settings.shards > 1
                ? (0..<settings.shards).map { ("shard \($0)", CRLPublisher.fileName(ca: ca.name, shard: $0)) }
                : [("full", CRLPublisher.fileName(ca: ca.name, shard: nil))]
            if settings.deltaPeriod != nil { files.append(("delta", CRLPublisher.fileName(ca: ca.name, shard: nil, delta: true))) }
            // The same margins as `crl --all --if-due`: the overlap, for a delta at most half its period.
            let overlap = TimeInterval(settings.overlap.seconds)
            let deltaMargin = min(overlap, TimeInterval(settings.deltaPeriod?.seconds ?? 0) / 2)
            for (kind, file) in files {
                let path = authority.home.pubDirectory + "/crl/" + file
                let next = (try? Data(contentsOf: URL(fileURLWithPath: path)))
                    .flatMap { try? CertificateRevocationList(der: [UInt8]($0), what: path) }?.nextUpdate
                crls.append(.init(ca: ca.name, kind: kind, file: file, nextUpdate: next, offline: offline,
                                  overlap: kind == "delta" ? deltaMargin : overlap))
            }
        }
        let database = authority.home.config.databaseEngine == .sqlite ? authority.home.databasePath : nil
        readiness.update(cas: cas.map { ($0.name, $0.certificate.notAfter) }, crls: crls, databaseFile: database)
    }
}

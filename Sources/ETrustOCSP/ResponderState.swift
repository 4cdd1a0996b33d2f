import ETrustCA
import ETrustCore
import ETrustStore
import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// A CA this responder answers for, with its current delegated responder certificate and key.
// A class: questions carry one by reference (copying a struct of certificates and keys on
// every request costs a retain per field).
final class ResponderIssuer: Sendable {
    let name: String
    let certificate: Certificate
    let sha1: (name: [UInt8], key: [UInt8])
    let sha256: (name: [UInt8], key: [UInt8])
    let signerCertificate: Certificate
    let signerKey: PrivateKey

    init(name: String, certificate: Certificate, signerCertificate: Certificate, signerKey: PrivateKey) throws {
        let hashes = try OCSPResponder.issuerHashes(of: certificate)
        self.name = name
        self.certificate = certificate
        self.sha1 = hashes.sha1
        self.sha256 = hashes.sha256
        self.signerCertificate = signerCertificate
        self.signerKey = signerKey
    }

    /// The same CA with another responder certificate and key.
    func with(signer certificate: Certificate, key: PrivateKey) throws -> ResponderIssuer {
        try ResponderIssuer(name: name, certificate: self.certificate, signerCertificate: certificate, signerKey: key)
    }

    func matches(_ q: OCSPResponder.Query) -> Bool {
        (q.hashAlgorithm == OCSPQuestion.sha1 && q.issuerNameHash == sha1.name && q.issuerKeyHash == sha1.key)
            || (q.hashAlgorithm == OCSPQuestion.sha256 && q.issuerNameHash == sha256.name && q.issuerKeyHash == sha256.key)
    }
}

/// One response kept in memory, with what HTTP needs (RFC 5019 6: caching headers).
struct CachedResponse: Sendable {
    let der: [UInt8]
    let thisUpdate: Date
    let nextUpdate: Date
    let etag: String
    let outcome: OCSPAnswer.Outcome
    /// Last-Modified and Expires, formatted once.
    let httpDates: (lastModified: String, expires: String)

    init(_ r: PresignedResponse, outcome: OCSPAnswer.Outcome) {
        der = r.der
        thisUpdate = r.thisUpdate
        nextUpdate = r.nextUpdate
        etag = "\"" + Hex.encode(Digest.sha256(r.der).prefix(12)) + "\""
        self.outcome = outcome
        httpDates = (HTTPDate.format(r.thisUpdate), HTTPDate.format(r.nextUpdate))
    }

    func answer(serials: [String], fromCache: Bool = true) -> OCSPAnswer {
        var a = OCSPAnswer(body: der, outcome: outcome, thisUpdate: thisUpdate, nextUpdate: nextUpdate, etag: etag, fromCache: fromCache, serials: serials)
        a.httpDates = httpDates
        return a
    }

    /// Past half its validity: the refresher signs a new one (RFC 5019 renewal).
    func isDue(at now: Date) -> Bool { now >= thisUpdate.addingTimeInterval(nextUpdate.timeIntervalSince(thisUpdate) / 2) }
}

/// The pre-signed responses in memory, per CA and serial. Its lock is held only to look up or
/// store one entry (never while signing or querying).
final class ResponseCache: Sendable {
    private let entries = NIOLockedValueBox<[String: [String: CachedResponse]]>([:])
    /// Moves on every change to the answers (the fast path's per-loop copies are then stale).
    private let changes = Atomic<Int>(0)
    var generation: Int { changes.load(ordering: .acquiring) }
    func changed() { changes.add(1, ordering: .releasing) }

    func fresh(ca: String, serial: String, at now: Date) -> CachedResponse? {
        entries.withLockedValue { $0[ca]?[serial] }.flatMap { $0.nextUpdate > now ? $0 : nil }
    }

    func put(ca: String, serial: String, _ entry: CachedResponse) {
        entries.withLockedValue { $0[ca, default: [:]][serial] = entry }
        changed()
    }

    func put(ca: String, _ batch: [(String, CachedResponse)]) {
        guard !batch.isEmpty else { return }
        entries.withLockedValue { state in for (s, e) in batch { state[ca, default: [:]][s] = e } }
        changed()
    }

    func drop(ca: String) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ca) }
        changed()
    }

    func serials(ca: String) -> Set<String> { entries.withLockedValue { Set(($0[ca] ?? [:]).keys) } }

    func due(ca: String, at now: Date) -> [String] {
        entries.withLockedValue { ($0[ca] ?? [:]).filter { $0.value.isDue(at: now) }.map(\.key) }
    }

    var count: Int { entries.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}

/// The store and the services over it, used by one thread at a time (one SQLite connection and
/// its statement cache), each time only for a query or a write — never while signing. Reload
/// swaps the authority (a new configuration) for the next caller.
final class StoreGate: Sendable {
    private let current: NIOLockedValueBox<Authority>
    /// Held for each use of the store, and only for that.
    private let storeLock = NIOLock()
    init(_ authority: Authority) { current = NIOLockedValueBox(authority) }

    func withStore<T>(_ body: (any HomeStore) throws -> T) throws -> T {
        let store = authority.store
        return try storeLock.withLock { try body(store) }
    }

    /// The authority for what needs no store lock (the key store, the home, the profiles).
    var authority: Authority { current.withLockedValue { $0 } }

    func replace(with authority: Authority) { current.withLockedValue { $0 = authority } }
}

// @unchecked Sendable: Authority is a class whose state is touched only under StoreGate's lock.
extension Authority: @unchecked Sendable {}

/// Hit and signature counts.
final class Counters: Sendable {
    private let h = Atomic<Int>(0)
    private let s = Atomic<Int>(0)
    var hits: Int { h.load(ordering: .relaxed) }
    var signatures: Int { s.load(ordering: .relaxed) }
    func hit() { h.add(1, ordering: .relaxed) }
    func signed() { s.add(1, ordering: .relaxed) }
    func signed(_ n: Int) { s.add(n, ordering: .relaxed) }
}

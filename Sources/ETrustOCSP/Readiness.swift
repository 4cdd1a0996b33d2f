import ETrustCore
import Foundation
import NIOConcurrencyHelpers

/// /readyz: what the refresher last saw (store, CRL files, CA validity), judged at the time of
/// asking together with the responder certificates. Reading it never touches the store.
public final class Readiness: Sendable {
    struct CRLState: Sendable {
        var ca: String
        var kind: String
        var file: String
        var nextUpdate: Date?
        var offline: Bool
        var overlap: TimeInterval
    }

    struct Seen: Sendable {
        var lastRefresh: Date?
        var storeProblem: String?
        var databaseProblem: String?
        var integrityProblem: String?
        var lastIntegrityCheck: Date?
        var crls: [CRLState] = []
        var caNotAfter: [(String, Date)] = []
        /// The database file as first seen (device, inode): a file replaced or removed under a
        /// running responder is not the database it answers from.
        var databaseIdentity: (dev: UInt64, ino: UInt64)?
    }

    /// One failing check or warning, as the JSON body names it.
    public struct Finding: Sendable, Equatable {
        public var check: String
        public var ca: String?
        public var reason: String
        var json: [String: String] { ["check": check, "reason": reason].merging(ca.map { ["ca": $0] } ?? [:]) { $1 } }
    }

    public struct Report: Sendable {
        public var failing: [Finding]
        public var warnings: [Finding]
        public var ready: Bool { failing.isEmpty }

        public var json: [UInt8] {
            let object: [String: Any] = ["status": ready ? "ready" : "not ready", "failing": failing.map(\.json), "warnings": warnings.map(\.json)]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return [UInt8](data) + [0x0a]
        }
    }

    let configuration: ResponderConfiguration
    private let seen = NIOLockedValueBox(Seen())

    init(configuration: ResponderConfiguration) { self.configuration = configuration }

    func refreshed(at date: Date?, storeProblem: String?) {
        seen.withLockedValue { s in
            if let date { s.lastRefresh = date }
            s.storeProblem = storeProblem
        }
    }

    func integrityCheckDue(now: Date, every interval: TimeInterval) -> Bool {
        seen.withLockedValue { s in s.lastIntegrityCheck.map { now.timeIntervalSince($0) >= interval } ?? true }
    }

    func integrityChecked(at date: Date, problem: String?) {
        seen.withLockedValue { s in
            s.lastIntegrityCheck = date
            s.integrityProblem = problem
        }
    }

    func update(cas: [(String, Date)], crls: [CRLState], databaseFile: String?) {
        let identity = databaseFile.flatMap(Readiness.identity)
        seen.withLockedValue { s in
            s.caNotAfter = cas
            s.crls = crls
            if s.databaseIdentity == nil { s.databaseIdentity = identity.map { ($0.dev, $0.ino) } }
            s.databaseProblem = databaseFile.flatMap { Readiness.databaseProblem($0, identity: identity, expected: s.databaseIdentity) }
        }
    }

    var caNotAfter: [(String, Date)] { seen.withLockedValue { $0.caNotAfter } }
    var crlStates: [CRLState] { seen.withLockedValue { $0.crls } }

    /// The checks at `now`: store reachable, database file in place, a refresh younger than twice
    /// its interval, every responder certificate outside its renewal margin, every CRL before its
    /// nextUpdate (an offline CA's within a warning time of it is a warning).
    public func report(signers: [OCSPAnswerSource.SignerHealth], now: Date) -> Report {
        let s = seen.withLockedValue { $0 }
        var failing: [Finding] = []
        var warnings: [Finding] = []
        if let p = s.storeProblem { failing.append(Finding(check: "store", reason: p)) }
        if let p = s.databaseProblem { failing.append(Finding(check: "database-file", reason: p)) }
        if let p = s.integrityProblem { failing.append(Finding(check: "database-integrity", reason: p)) }
        let maxAge = 2 * configuration.refreshInterval
        if let last = s.lastRefresh, now.timeIntervalSince(last) > max(maxAge, 2) {
            failing.append(Finding(check: "refresh", reason: "the last successful refresh was at \(RFC3339.format(last)), more than \(Int(max(maxAge, 2)))s ago"))
        }
        for h in signers {
            if let p = h.problem {
                failing.append(Finding(check: "ocsp-signer", ca: h.ca, reason: p))
            } else if h.expiringSoon {
                failing.append(Finding(check: "ocsp-signer-margin", ca: h.ca,
                                       reason: "the OCSP responder certificate of CA '\(h.ca)' expires at \(h.notAfter.map(RFC3339.format) ?? "?"), within its renewal margin; run 'etrust ocsp provision --ca \(h.ca)' on the CA host"))
            }
        }
        for c in s.crls {
            let (f, w) = Readiness.judge(c, now: now, offlineWarning: configuration.offlineCRLWarning)
            failing += f
            warnings += w
        }
        return Report(failing: failing, warnings: warnings)
    }

    static func judge(_ c: CRLState, now: Date, offlineWarning: TimeInterval) -> (failing: [Finding], warnings: [Finding]) {
        let fix = c.offline ? "sign it on the offline host and run 'etrust crl import'" : "run 'etrust crl --all'"
        guard let next = c.nextUpdate else {
            return ([], [Finding(check: "crl-missing", ca: c.ca, reason: "CA '\(c.ca)' has no \(c.kind) CRL published at pub/crl/\(c.file); \(fix)")])
        }
        if now >= next {
            return ([Finding(check: "crl", ca: c.ca, reason: "the \(c.kind) CRL of CA '\(c.ca)' passed its nextUpdate at \(RFC3339.format(next)); \(fix)")], [])
        }
        let margin = c.offline ? offlineWarning : c.overlap
        if now >= next.addingTimeInterval(-margin) {
            return ([], [Finding(check: c.offline ? "crl-offline-expiring" : "crl-due", ca: c.ca,
                                 reason: "the \(c.kind) CRL of CA '\(c.ca)' expires at \(RFC3339.format(next)); \(fix)")])
        }
        return ([], [])
    }

    static func identity(_ path: String) -> (dev: UInt64, ino: UInt64, mode: UInt32)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino), UInt32(st.st_mode))
    }

    /// The database file must still be there, be the file first opened, and be readable and
    /// writable by its owner (checked by mode: a root responder can open any file).
    static func databaseProblem(_ path: String, identity: (dev: UInt64, ino: UInt64, mode: UInt32)?, expected: (dev: UInt64, ino: UInt64)?) -> String? {
        guard let identity else { return "the database \(path) is missing: restore it from backup" }
        if let expected, expected != (identity.dev, identity.ino) {
            return "the database \(path) was replaced since the responder opened it: restart it after checking the file"
        }
        if identity.mode & 0o600 != 0o600 {
            return "the database \(path) is not readable and writable by its owner (mode \(String(identity.mode & 0o777, radix: 8)))"
        }
        return nil
    }

    static func describe(_ error: Error) -> String {
        (error as? ETrustError)?.reason ?? "\(error)"
    }
}

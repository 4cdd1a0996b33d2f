import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

/// What an auditor reads about a period: counts by event, CA and profile; issuance, refusals,
/// revocations and CRLs per day; refusals by rule; revocations by reason; the CAs with their
/// validity and key custody; and the log's own verification with the checkpoint it was checked
/// against. Rendered as text, JSON, CSV (one row per day, CA and profile) or one self-contained
/// HTML page with inline SVG charts (no script, no network).
public struct AuditReport: Sendable {
    public struct Day: Sendable, Equatable {
        public var issued = 0, refused = 0, revoked = 0, crls = 0
    }
    public struct CRLRow: Sendable {
        public var ca: String, number: String, kind: String, entries: Int, time: Date
    }
    public struct CARow: Sendable {
        public var name: String, subject: String, profile: String, custody: String, notBefore: Date, notAfter: Date, status: String
    }
    public struct Verification: Sendable {
        public var ok: Bool
        public var entries: Int
        public var checkpoints: Int
        public var checkpointSize: Int?
        public var checkpointRoot: String?
        public var failure: String?
        /// Entries after the newest checkpoint, when they are the only fault and the caller
        /// accepts them (the console: its own visits, covered by the CA's next checkpoint).
        public var pending = 0
    }

    public var from: Date?
    public var to: Date?
    public var generatedAt: Date
    public var events: [String: Int] = [:]
    public var byCA: [String: Int] = [:]
    public var byProfile: [String: Int] = [:]
    public var refusalsByRule: [String: Int] = [:]
    public var revocationsByReason: [String: Int] = [:]
    public var issuedByCA: [String: Int] = [:]
    public var issuedByProfile: [String: Int] = [:]
    /// yyyy-mm-dd -> counts; and per (day, CA, profile) for the CSV.
    public var daily: [String: Day] = [:]
    public var dailyDetail: [String: Day] = [:]
    public var crls: [CRLRow] = []
    public var cas: [CARow] = []
    public var verification: Verification

    /// The report of `authority`'s log between `from` and `to` (inclusive; nil: unbounded).
    /// Entries after the newest checkpoint (a running command's, the console's own visits) are
    /// the verification's unsigned tail: reported as pending, not as a failure.
    public static func build(_ authority: Authority, from: Date?, to: Date?, now: Date = Date()) throws -> AuditReport {
        let v = try? authority.verifyAudit()
        let pending = v?.unsignedTail?.count ?? 0
        var r = AuditReport(from: from, to: to, generatedAt: now,
                            verification: Verification(ok: v?.ok ?? false, entries: v?.entries ?? 0, checkpoints: v?.checkpoints ?? 0,
                                                       checkpointSize: v?.latest?.size, checkpointRoot: v?.latest.map { Data($0.root).base64EncodedString() },
                                                       failure: v?.failure?.message ?? (v == nil ? "the log could not be read" : nil), pending: pending))
        for e in try authority.auditLog.events(matching: EventFilter(since: from, until: to)) { r.count(e) }
        r.cas = try CATree.build(authority, at: now).flattened.map {
            CARow(name: $0.name, subject: $0.subject, profile: $0.profile, custody: $0.custody, notBefore: $0.notBefore, notAfter: $0.notAfter,
                  status: $0.status.rawValue)
        }
        return r
    }

    private mutating func count(_ e: AuditEvent) {
        events[e.type, default: 0] += 1
        if let ca = e.ca { byCA[ca, default: 0] += 1 }
        if let p = e.profile, e.type == "issue" || e.type == "refuse" { byProfile[p, default: 0] += 1 }
        // Events read back from the store carry their canonical JSON payload.
        let payload = (try? JSONSerialization.jsonObject(with: Data(e.payload.utf8))) as? [String: Any] ?? [:]
        let f = e.fields.merging(payload.mapValues { "\($0)" }) { a, _ in a }
        let day = String(RFC3339.format(e.time).prefix(10))
        let detailKey = "\(day)|\(e.ca ?? "")|\(e.profile ?? "")"
        func bump(_ k: WritableKeyPath<Day, Int>) {
            daily[day, default: Day()][keyPath: k] += 1
            dailyDetail[detailKey, default: Day()][keyPath: k] += 1
        }
        switch e.type {
        case "issue":
            bump(\.issued)
            if let ca = e.ca { issuedByCA[ca, default: 0] += 1 }
            if let p = e.profile { issuedByProfile[p, default: 0] += 1 }
        case "refuse":
            bump(\.refused)
            refusalsByRule["\(e.profile ?? "-")/\(f["rule"] ?? "?")", default: 0] += 1
        case "revoke":
            bump(\.revoked)
            revocationsByReason[f["reason"] ?? "unspecified", default: 0] += 1
        case "crl":
            bump(\.crls)
            crls.append(CRLRow(ca: e.ca ?? "?", number: f["number"] ?? "?", kind: f["kind"] ?? f["action"] ?? "full",
                               entries: Int(f["entries"] ?? "") ?? 0, time: e.time))
        default: break
        }
    }

    // MARK: JSON and text

    public var json: [String: Any] {
        var o: [String: Any] = ["events": events, "byCA": byCA, "byProfile": byProfile, "refusalsByRule": refusalsByRule,
                                "revocationsByReason": revocationsByReason, "issuedByCA": issuedByCA, "issuedByProfile": issuedByProfile,
                                "daily": daily.mapValues { ["issued": $0.issued, "refused": $0.refused, "revoked": $0.revoked, "crls": $0.crls] },
                                "crls": crls.map { ["ca": $0.ca, "number": $0.number, "kind": $0.kind, "entries": $0.entries, "time": RFC3339.format($0.time)] },
                                "cas": cas.map { ["name": $0.name, "subject": $0.subject, "profile": $0.profile, "custody": $0.custody,
                                                  "notBefore": RFC3339.format($0.notBefore), "notAfter": RFC3339.format($0.notAfter), "status": $0.status] },
                                "verifies": verification.ok, "entries": verification.entries, "checkpoints": verification.checkpoints,
                                "generatedAt": RFC3339.format(generatedAt)]
        if let f = verification.failure { o["verificationFailure"] = f }
        if let s = verification.checkpointSize { o["checkpoint"] = ["size": s, "root": verification.checkpointRoot ?? ""] }
        if let from { o["from"] = RFC3339.format(from) }
        if let to { o["to"] = RFC3339.format(to) }
        return o
    }

    public var text: String {
        var out: [String] = []
        func section(_ title: String, _ d: [String: Int]) {
            out.append(title)
            if d.isEmpty { out.append("  (none)") }
            for (k, v) in d.sorted(by: { $0.key < $1.key }) { out.append("  \(k): \(v)") }
        }
        section("events:", events)
        section("by CA:", byCA)
        section("issued or refused by profile:", byProfile)
        section("refusals by rule:", refusalsByRule)
        section("revocations by reason:", revocationsByReason)
        out.append("log verifies: \(verification.ok ? "yes" : "NO\(verification.failure.map { " — \($0)" } ?? "")")"
                   + (verification.checkpointSize.map { " (checkpoint at size \($0))" } ?? ""))
        return out.joined(separator: "\n")
    }

    /// One row per day, CA and profile: date,ca,profile,issued,refused,revoked,crls.
    public var csv: String {
        func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var rows = ["date,ca,profile,issued,refused,revoked,crls"]
        for (key, d) in dailyDetail.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            rows.append(([parts[0], parts[1], parts[2]].map(field) + [d.issued, d.refused, d.revoked, d.crls].map(String.init)).joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }
}

extension CATree {
    /// Every CA of the tree, parents first.
    var flattened: [Node] {
        func walk(_ n: Node) -> [Node] { [n] + n.children.flatMap(walk) }
        return roots.flatMap(walk)
    }
}

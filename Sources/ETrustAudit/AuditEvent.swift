import ETrustCore
import Foundation

/// One entry of the append-only event log. The store appends it to the Merkle log (issue #3) in
/// the transaction of the change it records; its leaf is the canonical JSON `payload(index:)`.
public struct AuditEvent: Sendable {
    /// The kinds of event etrust appends (what `audit log --event` accepts).
    public static let types = ["abandon", "ca", "ceremony", "console", "crl", "issue", "key", "ocsp-signer", "policy", "recovered", "refuse", "revoke", "unhold"]

    public var type: String          // ca, key, issue, refuse, policy (revoke, crl, ... later)
    public var time: Date
    public var ca: String?
    public var serialHex: String?
    public var profile: String?
    /// Every field of the event (type, time, ca, serial and profile included), as strings.
    public var fields: [String: String] {
        didSet { (before, after) = CanonicalJSON.split(fields, around: "index") }
    }
    /// Position in the log once stored (0-based), nil before.
    public var index: Int?
    /// Canonical JSON (sorted keys, no floats) as stored; before storing, without the index.
    public var payload: String
    /// The canonical JSON around the "index" member, prepared when the event is made (in the
    /// parallel part of a batch), so that the store only splices the number in.
    private var before: String
    private var after: String

    public init(type: String, time: Date, ca: String?, serialHex: String?, profile: String?, fields: [String: String]) {
        self.type = type; self.time = time; self.ca = ca; self.serialHex = serialHex; self.profile = profile
        var all = fields
        all["type"] = type
        all["time"] = RFC3339.format(time)
        if let ca { all["ca"] = ca }
        if let serialHex { all["serial"] = serialHex }
        if let profile { all["profile"] = profile }
        // Which etrust wrote it. Only new events carry it: stored payloads are hashed as they
        // are, so the entries of older logs verify unchanged.
        if all["etrustVersion"] == nil, let version = ETrustBuild.version { all["etrustVersion"] = version }
        self.fields = all
        self.payload = CanonicalJSON.object(all)
        (before, after) = CanonicalJSON.split(all, around: "index")
    }

    /// An event read back from the store: its payload as the log hashed it.
    public init(stored payload: String, index: Int, type: String, time: Date, ca: String?, serialHex: String?, profile: String?) {
        self.init(type: type, time: time, ca: ca, serialHex: serialHex, profile: profile, fields: [:])
        self.payload = payload
        self.index = index
    }

    /// The leaf text: the fields plus the entry's position, so that moving an entry breaks it.
    public func payload(index: Int) -> String {
        before + String(index) + after
    }
}

public enum CanonicalJSON {
    public static func object(_ fields: [String: String], integers: [String: Int] = [:]) -> String {
        var members: [(String, String)] = fields.map { ($0.key, string($0.value)) }
        for (k, v) in integers { members.append((k, String(v))) }
        members.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        return "{" + members.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The canonical object of `fields` plus an integer member `key`, as the text before and
    /// after that member's value.
    public static func split(_ fields: [String: String], around key: String) -> (String, String) {
        let keys = fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let head = keys.filter { $0.utf8.lexicographicallyPrecedes(key.utf8) }
        let tail = keys.filter { !$0.utf8.lexicographicallyPrecedes(key.utf8) && $0 != key }
        var before = "{" + head.map { "\(string($0)):\(string(fields[$0]!))," }.joined() + "\(string(key)):"
        before.reserveCapacity(before.utf8.count)
        let after = tail.map { ",\(string($0)):\(string(fields[$0]!))" }.joined() + "}"
        return (before, after)
    }

    public static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// A signed checkpoint of the audit log as stored.
public struct StoredCheckpoint: Sendable {
    public var size: Int
    public var root: [UInt8]
    public var note: String
    public var createdAt: Date
    public init(size: Int, root: [UInt8], note: String, createdAt: Date) {
        self.size = size; self.root = root; self.note = note; self.createdAt = createdAt
    }
}

/// A filter over the audit log.
public struct EventFilter: Sendable {
    public var since: Date?
    public var until: Date?
    public var type: String?
    public var serialHex: String?
    public var ca: String?
    public var profile: String?
    public init(since: Date? = nil, until: Date? = nil, type: String? = nil, serialHex: String? = nil, ca: String? = nil, profile: String? = nil) {
        self.since = since; self.until = until; self.type = type; self.serialHex = serialHex; self.ca = ca; self.profile = profile
    }
}


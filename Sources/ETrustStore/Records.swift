import ETrustCore
import Foundation

public struct CARecord: Sendable {
    public var name: String
    public var certificate: Certificate
    public var keyReference: String      // "file:keys/NAME.key.pem" or a pkcs11: URI
    public var parent: String?
    public var profile: String
    public var createdAt: Date

    public init(name: String, certificate: Certificate, keyReference: String, parent: String?, profile: String, createdAt: Date) {
        self.name = name; self.certificate = certificate; self.keyReference = keyReference
        self.parent = parent; self.profile = profile; self.createdAt = createdAt
    }
}

public enum CertificateStatus: String, Sendable, CaseIterable {
    case valid, revoked, expired
}

public struct CertificateRecord: Sendable {
    public var ca: String
    public var serialHex: String
    public var subject: String
    public var subjectAltNames: [String]
    public var profile: String
    public var notBefore: Date
    public var notAfter: Date
    public var status: CertificateStatus
    public var shard: Int
    public var der: [UInt8]
    public var requester: String
    public var issuedAt: Date
    public var revokedAt: Date?
    public var revocationReason: Int?
    public var invalidityDate: Date?

    public init(ca: String, serialHex: String, subject: String, subjectAltNames: [String], profile: String, notBefore: Date,
                notAfter: Date, status: CertificateStatus = .valid, shard: Int = 0, der: [UInt8], requester: String, issuedAt: Date,
                revokedAt: Date? = nil, revocationReason: Int? = nil, invalidityDate: Date? = nil) {
        self.ca = ca; self.serialHex = serialHex; self.subject = subject; self.subjectAltNames = subjectAltNames
        self.profile = profile; self.notBefore = notBefore; self.notAfter = notAfter; self.status = status
        self.shard = shard; self.der = der; self.requester = requester; self.issuedAt = issuedAt
        self.revokedAt = revokedAt; self.revocationReason = revocationReason; self.invalidityDate = invalidityDate
    }

    /// Status as of `date`: a valid certificate past notAfter is expired.
    public func status(at date: Date) -> CertificateStatus {
        status == .valid && notAfter < date ? .expired : status
    }
}

/// One entry of the append-only event log. The store appends it to the Merkle log (issue #3) in
/// the transaction of the change it records; its leaf is the canonical JSON `payload(index:)`.
public struct AuditEvent: Sendable {
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
        self.fields = all
        self.payload = CanonicalJSON.object(all)
        (before, after) = CanonicalJSON.split(all, around: "index")
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

public struct CertificateFilter: Sendable {
    public var ca: String?
    public var status: CertificateStatus?
    public var profile: String?
    public var subjectContains: String?
    public var since: Date?
    public var until: Date?
    public var limit: Int?
    public init(ca: String? = nil, status: CertificateStatus? = nil, profile: String? = nil, subjectContains: String? = nil,
                since: Date? = nil, until: Date? = nil, limit: Int? = nil) {
        self.ca = ca; self.status = status; self.profile = profile; self.subjectContains = subjectContains
        self.since = since; self.until = until; self.limit = limit
    }
}

/// Reads of the certificate database.
public protocol CertificateReader {
    func ca(named: String) throws -> CARecord?
    func cas() throws -> [CARecord]
    func certificates(serialHex: String) throws -> [CertificateRecord]
    func certificates(matching: CertificateFilter, at: Date) throws -> [CertificateRecord]
    func events() throws -> [AuditEvent]
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

/// Writes: each call is one durable transaction; records and their audit events commit together.
public protocol CertificateWriter {
    /// A new CA; for a subordinate, `issued` is its certificate as a record of the parent. One transaction.
    func insert(ca: CARecord, issued: CertificateRecord?, events: [AuditEvent]) throws
    func insert(certificates: [CertificateRecord], events: [AuditEvent]) throws
    func append(events: [AuditEvent]) throws
}

public typealias CertificateStore = CertificateReader & CertificateWriter

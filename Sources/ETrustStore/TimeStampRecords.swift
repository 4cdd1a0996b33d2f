import ETrustCore
import Foundation

/// A CA's time-stamping unit: its certificate, where its key is, and the TSA policy of its tokens.
public struct TSASignerRecord: Sendable {
    public var id: Int64
    public var ca: String
    public var certificate: Certificate
    public var keyReference: String
    public var policy: String
    public init(id: Int64 = 0, ca: String, certificate: Certificate, keyReference: String, policy: String) {
        self.id = id; self.ca = ca; self.certificate = certificate; self.keyReference = keyReference; self.policy = policy
    }
}

/// What the record of an issued time-stamp token keeps (not the token itself).
public struct TimeStampTokenRecord: Sendable, Equatable {
    public var serialHex: String
    public var signerID: Int64
    public var hashAlgorithm: String
    public var imprintHex: String
    public var genTime: Date
    public var policy: String
    public init(serialHex: String, signerID: Int64, hashAlgorithm: String, imprintHex: String, genTime: Date, policy: String) {
        self.serialHex = serialHex; self.signerID = signerID; self.hashAlgorithm = hashAlgorithm; self.imprintHex = imprintHex
        self.genTime = genTime; self.policy = policy
    }
}

enum TimeStampSQL {
    static let insertSigner = "INSERT INTO tsa_signers(ca_id, serial, certificate, key_ref, policy, not_after, created_at) VALUES (?,?,?,?,?,?,?)"
    /// The newest unit of one CA (`?` = its id), or of any CA.
    static func currentSigner(anyCA: Bool) -> String {
        """
        SELECT s.id, a.name AS ca_name, s.certificate, s.key_ref, s.policy FROM tsa_signers s JOIN cas a ON a.id = s.ca_id
        \(anyCA ? "" : "WHERE s.ca_id = ?") ORDER BY s.id DESC LIMIT 1
        """
    }
    static let tokenColumns = "serial, signer_id, hash_algorithm, imprint, gen_time_ms, policy"
    static func insertTokens(_ n: Int) -> String {
        "INSERT INTO timestamp_tokens(\(tokenColumns)) VALUES " + Array(repeating: "(?,?,?,?,?,?)", count: n).joined(separator: ",")
    }
    static let tokensByImprint = "SELECT \(tokenColumns) FROM timestamp_tokens WHERE imprint = ? ORDER BY gen_time_ms"
    static let countTokens = "SELECT COUNT(*) AS n FROM timestamp_tokens"

    static func signerValues(_ s: TSASignerRecord, caID: Int64, at date: Date) -> [SQLValue] {
        [.int(caID), .text(s.certificate.serialHex), .blob(s.certificate.der), .text(s.keyReference), .text(s.policy),
         .time(s.certificate.notAfter), .time(date)]
    }
    static func tokenValues(_ t: TimeStampTokenRecord) -> [SQLValue] {
        [.text(t.serialHex), .int(t.signerID), .text(t.hashAlgorithm), .text(t.imprintHex),
         .int(Int64((t.genTime.timeIntervalSince1970 * 1000).rounded())), .text(t.policy)]
    }
    static func signer(_ r: Row) throws -> TSASignerRecord {
        TSASignerRecord(id: r.int("id") ?? 0, ca: r.text("ca_name") ?? "", certificate: try Certificate(der: r.blob("certificate") ?? []),
                        keyReference: r.text("key_ref") ?? "", policy: r.text("policy") ?? "")
    }
    static func token(_ r: Row) -> TimeStampTokenRecord {
        TimeStampTokenRecord(serialHex: r.text("serial") ?? "", signerID: r.int("signer_id") ?? 0, hashAlgorithm: r.text("hash_algorithm") ?? "",
                             imprintHex: r.text("imprint") ?? "", genTime: Date(timeIntervalSince1970: Double(r.int("gen_time_ms") ?? 0) / 1000),
                             policy: r.text("policy") ?? "")
    }
}

/// Time-stamping units and the record of their tokens.
extension SQLiteStore {
    @discardableResult
    public func insert(tsaSigner s: TSASignerRecord, at date: Date) throws -> Int64 {
        try db.transaction {
            try db.prepare(TimeStampSQL.insertSigner).run(TimeStampSQL.signerValues(s, caID: try caID(s.ca), at: date))
            return try db.prepare("SELECT MAX(id) AS id FROM tsa_signers").query().first?.int("id") ?? 0
        }
    }

    /// The newest time-stamping unit of `ca`, or of any CA when nil.
    public func currentTSASigner(ca: String?) throws -> TSASignerRecord? {
        let values: [SQLValue] = try ca.map { [.int(try caID($0))] } ?? []
        return try db.prepare(TimeStampSQL.currentSigner(anyCA: ca == nil)).query(values).first.map(TimeStampSQL.signer)
    }

    /// Records tokens, all in one transaction (a batch of the TSA's).
    public func record(timeStampTokens tokens: [TimeStampTokenRecord]) throws {
        guard !tokens.isEmpty else { return }
        try db.transaction {
            let stmt = try db.prepare(TimeStampSQL.insertTokens(1))
            for t in tokens { try stmt.run(TimeStampSQL.tokenValues(t)) }
        }
    }

    public func timeStampTokens(imprintHex: String) throws -> [TimeStampTokenRecord] {
        try db.prepare(TimeStampSQL.tokensByImprint).query([.text(imprintHex.lowercased())]).map(TimeStampSQL.token)
    }

    public func timeStampTokenCount() throws -> Int {
        Int(try db.prepare(TimeStampSQL.countTokens).query().first?.int("n") ?? 0)
    }
}

extension PostgresStore {
    @discardableResult
    public func insert(tsaSigner s: TSASignerRecord, at date: Date) throws -> Int64 {
        try db.query(TimeStampSQL.insertSigner + " RETURNING id", TimeStampSQL.signerValues(s, caID: try caID(s.ca), at: date)).first?.int("id") ?? 0
    }

    public func currentTSASigner(ca: String?) throws -> TSASignerRecord? {
        let values: [SQLValue] = try ca.map { [.int(try caID($0))] } ?? []
        return try db.query(TimeStampSQL.currentSigner(anyCA: ca == nil), values).first.map(TimeStampSQL.signer)
    }

    public func record(timeStampTokens tokens: [TimeStampTokenRecord]) throws {
        guard !tokens.isEmpty else { return }
        try db.transaction {
            for start in stride(from: 0, to: tokens.count, by: 1000) {
                let chunk = tokens[start..<min(start + 1000, tokens.count)]
                _ = try db.run(TimeStampSQL.insertTokens(chunk.count), chunk.flatMap(TimeStampSQL.tokenValues))
            }
        }
    }

    public func timeStampTokens(imprintHex: String) throws -> [TimeStampTokenRecord] {
        try db.query(TimeStampSQL.tokensByImprint, [.text(imprintHex.lowercased())]).map(TimeStampSQL.token)
    }

    public func timeStampTokenCount() throws -> Int {
        Int(try db.query(TimeStampSQL.countTokens).first?.int("n") ?? 0)
    }
}

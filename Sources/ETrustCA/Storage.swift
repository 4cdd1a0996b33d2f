import ETrustAudit
import ETrustCore
import ETrustStore
import Foundation

// The storage the CA services need, declared here by their consumer (DESIGN: storage protocols
// per consumer). Every engine conforms to all of them; SQLite's conformance is at the bottom.
// Each write is one durable transaction unless it runs inside `transaction`, whose writes — from
// any of these protocols and from the audit log's — commit together.

public protocol Transactional {
    func transaction<R>(_ body: () throws -> R) throws -> R
}

/// CAs and the certificates they issued.
public protocol CertificateStorage {
    func insert(ca: CARecord, issued: CertificateRecord?) throws
    func insert(certificates: [CertificateRecord]) throws
    func ca(named: String) throws -> CARecord?
    func cas() throws -> [CARecord]
    func certificate(ca: String, serialHex: String) throws -> CertificateRecord?
    func certificates(serialHex: String) throws -> [CertificateRecord]
    func certificates(matching: CertificateFilter, at: Date) throws -> [CertificateRecord]
    func insert(pendingCA: PendingCARecord) throws
    func pendingCA(named: String) throws -> PendingCARecord?
    func deletePendingCA(named: String) throws
}

/// Serials and to-be-signed certificates committed before signing.
public protocol IssuanceIntentStorage {
    func insert(intents: [IssuanceIntent]) throws -> [Int64]
    func close(intents: [Int64], state: IssuanceIntent.State, at: Date) throws
    func pendingIntents() throws -> [IssuanceIntent]
}

/// Revocation status, CRL numbers and CRL records.
public protocol RevocationStorage {
    func revoke(ca: String, serialHex: String, reason: Int, revokedAt: Date, invalidityDate: Date?, recordedAt: Date) throws
    func releaseHold(ca: String, serialHex: String, at: Date) throws
    func allocateCRLNumber(ca: String) throws -> Int
    func insert(crl: CRLRecord) throws
    func markPublished(ca: String, number: Int, at: Date) throws
    func latestCRL(ca: String, kinds: [CRLRecord.Kind], publishedOnly: Bool) throws -> CRLRecord?
    func forEachRevokedRaw(ca: String, shard: Int?, expiredBefore: Date,
                           _ body: (UnsafeBufferPointer<UInt8>, Int64, Int, Int64?) throws -> Void) throws
    func forEachChange(ca: String, since: Date, expiredBefore: Date, _ body: (RevokedEntry) throws -> Void) throws
}

/// Delegated OCSP signers and pre-signed responses (RFC 5019).
public protocol OCSPRecordStorage {
    func insert(ocspSigner: OCSPSignerRecord, at: Date) throws
    func currentOCSPSigner(ca: String) throws -> OCSPSignerRecord?
    func save(presigned: [PresignedResponse], ca: String) throws
    func forEachPresigned(ca: String, _ body: (PresignedResponse) throws -> Void) throws
    /// The stored pre-signed response for one serial of a CA, if any.
    func presigned(ca: String, serialHex: String) throws -> PresignedResponse?
    func ocspStatus(ca: String, serialHex: String) throws -> (revoked: Bool, revokedAt: Date?, reason: Int?)?
    func certificatesIssued(ca: String, afterID: Int64, limit: Int) throws -> [(id: Int64, serial: String)]
    func changedSerials(ca: String, since: Date) throws -> [String]
}

/// Time-stamping units (RFC 3161) and the record of the tokens they issued.
public protocol TimeStampStorage {
    @discardableResult func insert(tsaSigner: TSASignerRecord, at: Date) throws -> Int64
    /// The newest unit of `ca`, or of any CA when nil.
    func currentTSASigner(ca: String?) throws -> TSASignerRecord?
    /// Records a batch of tokens in one transaction.
    func record(timeStampTokens: [TimeStampTokenRecord]) throws
    func timeStampTokens(imprintHex: String) throws -> [TimeStampTokenRecord]
    func timeStampTokenCount() throws -> Int
}

/// Everything a home's store provides.
public typealias HomeStore = Transactional & CertificateStorage & IssuanceIntentStorage & RevocationStorage & OCSPRecordStorage
    & AuditLogStorage & TimeStampStorage

extension SQLiteStore: Transactional, CertificateStorage, IssuanceIntentStorage, RevocationStorage, OCSPRecordStorage, AuditLogStorage,
    TimeStampStorage {}
extension PostgresStore: Transactional, CertificateStorage, IssuanceIntentStorage, RevocationStorage, OCSPRecordStorage, AuditLogStorage,
    TimeStampStorage {}

/// A store that announces status changes committed by any process sharing it (PostgreSQL's
/// LISTEN/NOTIFY). A responder subscribes and refreshes the named certificate at once; it keeps
/// polling as the fallback (a dropped listener connection says nothing).
public protocol RevocationNotifying {
    /// Calls `handler(ca, serialHex)` on a thread of the subscription's own after each
    /// revocation or released hold commits. The subscription lives until `cancel()`.
    func subscribeToRevocations(_ handler: @escaping @Sendable (String, String) -> Void) throws -> RevocationSubscription
}

extension PostgresStore: RevocationNotifying {}

/// One cheap round trip to the database: for a responder's /readyz ("the store is reachable"),
/// which keeps answering pre-signed responses from memory while it is not.
public protocol StoreReachability {
    func ping() throws
}

extension SQLiteStore: StoreReachability {}
extension PostgresStore: StoreReachability {}

/// A structural check of the database file (SQLite's `PRAGMA quick_check`): pages overwritten in
/// place under a running responder. PostgreSQL checks its own pages.
public protocol StoreIntegrity {
    /// nil when sound, else the first complaint.
    func quickCheckProblem() throws -> String?
}

extension SQLiteStore: StoreIntegrity {}

extension Home {
    /// Opens the store the home's configuration names: the one place an engine is chosen. Only
    /// `etrust init` creates a database (`creating`); a home whose SQLite file is gone is an
    /// error, never silently given an empty one.
    public func openStore(creating: Bool = false) throws -> any HomeStore {
        switch config.databaseEngine {
        case .sqlite:
            return try SQLiteStore(path: creating ? databasePath : existingDatabasePath())
        case .postgres:
            guard let url = config.databaseURL else {
                throw ETrustError.badInput("\(join(HomeConfig.fileName)): engine postgres needs database.url", code: .invalidArgument)
            }
            return try PostgresStore(url: url, password: try databasePassword())
        }
    }

    /// Every secret the home holds passes SecretFilePolicy before any command (or the daemon)
    /// uses the home: `keys/` and each file in it (CA, audit, responder and TSA keys, key shares),
    /// and the database password file. Read-only commands too: a weakened home is reported at once.
    public func checkSecretPermissions() throws {
        try SecretFilePolicy.check(keysDirectory, what: "the home's keys folder")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: keysDirectory)) ?? [] {
            try SecretFilePolicy.check(keysDirectory + "/" + name, what: "key file")
        }
        if let file = config.databasePasswordFile {
            try SecretFilePolicy.check(file.hasPrefix("/") ? file : join(file), what: "database password file")
        }
    }

    /// The SQLite file, which must exist: only `etrust init` creates it.
    public func existingDatabasePath() throws -> String {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw ETrustError.environment("the database of this home is missing (\(databasePath)): restore it from a backup (etrust restore); only etrust init creates one",
                                          code: .notFound)
        }
        return databasePath
    }

    /// Where the database is, for people: the SQLite file or the PostgreSQL URL (no password).
    public var databaseDescription: String {
        config.databaseEngine == .postgres ? config.databaseURL?.description ?? "postgres" : databasePath
    }

    /// The PostgreSQL password: `database.passwordFile` (relative to the home; its first line),
    /// else ETRUST_DB_PASSWORD, else none (trust or peer authentication). Never logged.
    public func databasePassword() throws -> String? {
        if let file = config.databasePasswordFile {
            let path = file.hasPrefix("/") ? file : join(file)
            try SecretFilePolicy.check(path, what: "database password file")
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ETrustError.environment("\(path): cannot read the database password file", code: .io)
            }
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        return ProcessInfo.processInfo.environment["ETRUST_DB_PASSWORD"]
    }
}

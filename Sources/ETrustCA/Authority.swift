import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// The certification authority of one home: a thin façade over services with one job each —
/// `Issuer` (one request) and `BatchIssuer` (many, built on it), `Revoker`, `CRLPublisher`,
/// `CAManager` (CAs, cross-certificates), `KeyStore` (where keys come from) and `AuditTrail`
/// (checkpoints, verification, proofs). The CLI talks to this type and to the services it
/// exposes, never to a store.
public final class Authority {
    let env: CAEnvironment
    public let issuer: Issuer
    public let batch: BatchIssuer
    public let revoker: Revoker
    public let crls: CRLPublisher
    public let cas: CAManager
    public var keys: KeyStore { env.keys }
    public var audit: AuditTrail { env.audit }
    public var auditLog: AuditLog { env.audit.log }

    public var home: Home { env.home }
    public var clock: ETrustClock { env.clock }
    public var profiles: [String: Profile] { env.profiles }
    /// The store, for the services of other modules (the OCSP responder) that declare their own
    /// storage protocols over the same records.
    public var store: any HomeStore { env.store }
    public var requester: String {
        get { env.requester }
        set { env.requester = newValue }
    }

    public typealias CACreation = CAManager.CACreation
    public typealias CrossCertification = CAManager.CrossCertification
    public typealias PublishedCRL = CRLPublisher.PublishedCRL

    /// `pin` unlocks the home's PKCS#11 tokens (read only when a token key is needed).
    public init(home: Home, clock: ETrustClock = SystemClock(), passphrase: @escaping () throws -> [UInt8],
                pin: (() throws -> [UInt8])? = nil) throws {
        try home.checkSecretPermissions()
        let profiles = try home.loadProfiles()
        let store = try home.openStore()
        env = CAEnvironment(home: home, store: store, keys: KeyStore(home: home, passphrase: passphrase, pin: pin ?? KeyStore.noPIN), clock: clock,
                            profiles: profiles, requester: ProcessInfo.processInfo.environment["USER"] ?? "uid:\(getuid())")
        issuer = Issuer(env: env)
        batch = BatchIssuer(issuer: issuer)
        revoker = Revoker(env: env)
        crls = CRLPublisher(env: env)
        cas = CAManager(env: env, issuer: issuer)
    }

    public func profile(_ name: String) throws -> Profile { try env.profile(name) }
    public func ca(_ name: String) throws -> CARecord { try env.ca(name) }
    public func caRecords() throws -> [CARecord] { try env.store.cas() }
    public func certificates(matching filter: CertificateFilter, at date: Date) throws -> [CertificateRecord] {
        try env.store.certificates(matching: filter, at: date)
    }
    public func certificates(serialHex: String) throws -> [CertificateRecord] { try env.store.certificates(serialHex: serialHex) }
    public func crlSettings(of ca: CARecord) -> Profile.CRLSettings { env.crlSettings(of: ca) }

    /// Decrypts the CA's key (and the audit key for the closing checkpoint) now, at once, one
    /// PBKDF2 per core, so that a batch's timing and progress measure issuance alone.
    public func unlock(ca name: String) throws {
        let record = try ca(name)
        try env.keys.unlock(env.home.config.auditEnabled ? [record.keyReference, AuditTrail.keyReference] : [record.keyReference])
        _ = try env.keys.signer(for: record)
    }

    // MARK: The services, as the CLI and the tests call them

    public func issue(_ request: IssuanceRequest, ca caName: String, allowFromRoot: Bool = false) throws -> (Certificate, CertificateRecord) {
        try issuer.issue(request, ca: caName, allowFromRoot: allowFromRoot)
    }

    public func issue(_ requests: [IssuanceRequest], ca caName: String, allowFromRoot: Bool = false,
                      release: ([(index: Int, result: IssuanceResult)]) throws -> Void) throws -> [IssuanceResult] {
        try batch.issue(requests, ca: caName, allowFromRoot: allowFromRoot, release: release)
    }

    @discardableResult
    public func createCA(_ r: CACreation) throws -> (record: CARecord, certificatePath: String) { try cas.createCA(r) }

    public func crossCertify(ca caName: String, _ r: CrossCertification) throws -> Certificate { try cas.crossCertify(ca: caName, r) }

    public func chain(of name: String) throws -> [Certificate] { try cas.chain(of: name) }

    @discardableResult
    public func revoke(ca caName: String, serial: String, reason: RevocationReason, at: Date? = nil,
                       invalidityDate: Date? = nil) throws -> CertificateRecord {
        try revoker.revoke(ca: caName, serial: serial, reason: reason, at: at, invalidityDate: invalidityDate)
    }

    public func unhold(ca caName: String, serial: String) throws { try revoker.unhold(ca: caName, serial: serial) }

    public func publishCRL(ca caName: String, delta: Bool = false) throws -> [PublishedCRL] { try crls.publish(ca: caName, delta: delta) }

    public static func serialHex(parsing text: String) throws -> String { try Revoker.serialHex(parsing: text) }
    public static func crlFileName(ca: String, shard: Int?, delta: Bool = false) -> String {
        CRLPublisher.fileName(ca: ca, shard: shard, delta: delta)
    }

    public func recordSubscriberKey(ca: String, serialHex: String, profile: String, key: PrivateKey) throws {
        try cas.recordSubscriberKey(ca: ca, serialHex: serialHex, profile: profile, key: key)
    }

    public func trustListSigner(ca caName: String) throws -> (Certificate, PrivateKey) { try cas.trustListSigner(ca: caName) }

    /// What every changing command does first: finish or abandon the issuance intents a
    /// stopped process left, and log profiles loaded or changed since the last command.
    public func prepareForChanges() throws {
        try env.audit.recoverUnsignedTail()
        try issuer.recoverIntents()
        try env.audit.recordPolicyChanges(env.profiles)
    }

    public func recordPolicyChanges() throws { try env.audit.recordPolicyChanges(env.profiles) }

    @discardableResult
    public func checkpoint() throws -> Checkpoint? { try env.audit.checkpoint() }
    public var auditVerifierKeyPath: String { env.audit.verifierKeyPath }
    public var auditCheckpointPath: String { env.audit.checkpointPath }
    public func auditVerifierKey(pinned: String? = nil) throws -> (name: String, publicKey: [UInt8]) { try env.audit.verifierKey(pinned: pinned) }
    public func verifyAudit(kept: [String] = [], verifierKey: String? = nil, strict: Bool = false,
                            pinPublished: Bool = true) throws -> AuditVerifier.Report {
        try env.audit.verify(kept: kept, verifierKey: verifierKey, strict: strict, pinPublished: pinPublished)
    }
    public func exportAudit(to path: String) throws -> Int { try env.audit.export(to: path) }
}

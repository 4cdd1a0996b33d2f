import Dispatch
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// The certification authority of one home: creates CAs and issues certificates under profiles.
/// Pipeline (Boulder's order): evaluate the request against the profile -> build the TBS -> lint ->
/// sign -> record and audit in one durable transaction -> release.
public final class Authority {
    public let home: Home
    public let store: SQLiteStore
    public let clock: ETrustClock
    public let profiles: [String: Profile]
    package let passphrase: () throws -> [UInt8]
    var signers: [String: Signer] = [:]
    var cachedAuditSigner: (Signer, [UInt8])?
    public var requester: String

    public init(home: Home, clock: ETrustClock = SystemClock(), passphrase: @escaping () throws -> [UInt8]) throws {
        self.home = home
        self.clock = clock
        self.passphrase = passphrase
        self.profiles = try home.loadProfiles()
        guard home.config.databaseEngine == .sqlite else {
            throw ETrustError.environment("database engine '\(home.config.databaseEngine.rawValue)' is not available in this version of etrust; use sqlite",
                                          code: .database)
        }
        self.store = try SQLiteStore(path: home.databasePath)
        self.store.auditEnabled = home.config.auditEnabled
        self.requester = ProcessInfo.processInfo.environment["USER"] ?? "uid:\(getuid())"
    }

    public func profile(_ name: String) throws -> Profile {
        guard let p = profiles[name] else {
            throw ETrustError.badInput("unknown profile '\(name)' (available: \(profiles.keys.sorted().joined(separator: ", ")))", code: .notFound)
        }
        return p
    }

    public func ca(_ name: String) throws -> CARecord {
        guard let ca = try store.ca(named: name) else {
            let known = (try? store.cas().map(\.name)) ?? []
            throw ETrustError.badInput("unknown CA '\(name)'\(known.isEmpty ? " (this home has no CA yet)" : " (available: \(known.joined(separator: ", ")))")", code: .notFound)
        }
        return ca
    }

    /// Decrypts the CA's key now (PBKDF2 is deliberately slow), so that a batch's timing and
    /// progress measure issuance alone.
    public func unlock(ca name: String) throws {
        let record = try ca(name)
        // Both PBKDF2 unlocks (the CA key and the audit key for the closing checkpoint) run at
        // once, one per core.
        let passphrase = try self.passphrase()
        let audit = AuditUnlock()
        let group = DispatchGroup()
        if home.config.auditEnabled && cachedAuditSigner == nil && FileManager.default.fileExists(atPath: auditKeyPath) {
            let path = auditKeyPath
            DispatchQueue.global().async(group: group) {
                audit.result = Result { try PrivateKey.load(fromFile: path, passphrase: passphrase) }
            }
        }
        _ = try signer(for: record)
        group.wait()
        if let result = audit.result {
            let key = try result.get()
            guard let raw = try key.publicKey.ed25519Raw else { throw ETrustError.environment("the audit key is not Ed25519") }
            cachedAuditSigner = (try Signer(key: key), raw)
        }
    }

    /// The CA's signer; the key is decrypted once per process.
    func signer(for ca: CARecord) throws -> Signer {
        if let s = signers[ca.name] { return s }
        guard ca.keyReference.hasPrefix("file:") else {
            throw ETrustError.environment("CA \(ca.name): key store '\(ca.keyReference)' is not available", code: .io)
        }
        let key = try PrivateKey.load(fromFile: home.join(String(ca.keyReference.dropFirst(5))), passphrase: try passphrase())
        // The key must be the one the certificate certifies.
        guard try key.subjectPublicKeyInfo == ca.certificate.subjectPublicKeyInfo else {
            throw ETrustError.environment("CA \(ca.name): the key file does not match the CA certificate", code: .io)
        }
        let s = try Signer(key: key)
        signers[ca.name] = s
        return s
    }

    static func validateCAName(_ name: String) throws {
        guard name.range(of: "^[a-z0-9][a-z0-9_-]{0,62}$", options: .regularExpression) != nil else {
            throw ETrustError.badInput("CA name '\(name)' must be 1-63 lower-case letters, digits, '-' or '_'", code: .invalidArgument)
        }
    }

    /// 16 bytes from OpenSSL's CSPRNG, top bit clear and second bit set: positive, always 16
    /// octets in DER, 126 bits of entropy (CA/B BR 7.1: at least 64).
    static func randomSerial() throws -> [UInt8] {
        var s = try Random.bytes(16)
        s[0] = (s[0] & 0x7f) | 0x40
        return s
    }

    /// URL templates of profiles: {base} is the home's publicBaseURL, {issuer} the issuing CA.
    func expand(_ template: String, issuer: String) -> String {
        template.replacingOccurrences(of: "{base}", with: home.config.publicBaseURL)
            .replacingOccurrences(of: "{documents}", with: home.config.documentsBaseURL)
            .replacingOccurrences(of: "{issuer}", with: issuer)
    }

    /// What the profile fixes for certificates issued by `issuer`: every extension except the
    /// per-certificate SKI, SAN and (for a partitioned CA) the shard's CRL distribution point.
    /// Built once per (CA, profile) and reused for each certificate.
    struct ExtensionPlan: Sendable {
        var head: [Extension]    // basicConstraints, keyUsage, extendedKeyUsage
        var aki: Extension?
        var policies: [Extension]
        /// cRLDistributionPoints per shard of the issuer (one element when it is not partitioned).
        var cdpByShard: [Extension?]
        var tail: [Extension]    // AIA, freshestCRL, constraints, qcStatements, ocspNoCheck

        var shards: Int { cdpByShard.count }

        func extensions(ski: Extension, san: Extension?, shard: Int = 0) -> [Extension] {
            var all = head
            all.reserveCapacity(head.count + tail.count + 5)
            all.append(ski)
            if let aki { all.append(aki) }
            if let san { all.append(san) }
            all.append(contentsOf: policies)
            if let cdp = cdpByShard[shard] { all.append(cdp) }
            all.append(contentsOf: tail)
            return all
        }
    }

    /// The CRL settings of a CA (its profile's `crl` section, or the defaults).
    public func crlSettings(of ca: CARecord) -> Profile.CRLSettings {
        profiles[ca.profile]?.crl ?? .defaults
    }

    /// The file name under pub/crl/ of a CA's CRL, shard or delta.
    public static func crlFileName(ca: String, shard: Int?, delta: Bool = false) -> String {
        delta ? "\(ca)-delta.crl" : shard.map { "\(ca)-\($0).crl" } ?? "\(ca).crl"
    }

    func extensionPlan(profile p: Profile, issuerName: String, issuerKeyID: [UInt8]?, issuerCRL: Profile.CRLSettings = .defaults) throws -> ExtensionPlan {
        var head: [Extension] = [
            .basicConstraints(ca: p.isCA, pathLength: p.pathLength),
            .keyUsage(p.keyUsage),
        ]
        if !p.extendedKeyUsage.isEmpty { head.append(try .extendedKeyUsage(p.extendedKeyUsage, critical: p.extendedKeyUsageCritical)) }
        var policies: [Extension] = []
        if !p.policies.isEmpty {
            policies.append(try .certificatePolicies(p.policies.map { policy in
                var info = policy.info
                info.cpsURI = info.cpsURI.map { expand($0, issuer: issuerName) }
                return info
            }))
        }
        // RFC 5280 4.2.1.13: each certificate names the CRL that covers it; for a partitioned CA
        // that is its shard's CRL, fixed at issuance.
        var cdpByShard: [Extension?] = []
        let shards = issuerCRL.shards
        for shard in 0..<shards {
            let file = Authority.crlFileName(ca: issuerName, shard: shards > 1 ? shard : nil)
            cdpByShard.append(p.crlDistributionPoints.isEmpty ? nil : try .cRLDistributionPoints(p.crlDistributionPoints.map {
                expand($0, issuer: issuerName).replacingOccurrences(of: "{crl}", with: file)
            }))
        }
        var tail: [Extension] = []
        if !p.ocspURLs.isEmpty || !p.caIssuersURLs.isEmpty {
            tail.append(try .authorityInfoAccess(ocsp: p.ocspURLs.map { expand($0, issuer: issuerName) },
                                                 caIssuers: p.caIssuersURLs.map { expand($0, issuer: issuerName) }))
        }
        // RFC 5280 4.2.1.15: where the delta CRLs of the issuer are.
        if issuerCRL.deltaPeriod != nil, let cdp = p.crlDistributionPoints.first {
            let url = expand(cdp, issuer: issuerName).replacingOccurrences(of: "{crl}", with: Authority.crlFileName(ca: issuerName, shard: nil, delta: true))
            tail.append(try .freshestCRL([url]))
        }
        if !p.permittedSubtrees.isEmpty || !p.excludedSubtrees.isEmpty {
            tail.append(try .nameConstraints(permitted: p.permittedSubtrees, excluded: p.excludedSubtrees))
        }
        if p.requireExplicitPolicy != nil || p.inhibitPolicyMapping != nil {
            tail.append(try .policyConstraints(requireExplicitPolicy: p.requireExplicitPolicy, inhibitPolicyMapping: p.inhibitPolicyMapping))
        }
        if let n = p.inhibitAnyPolicy { tail.append(.inhibitAnyPolicy(n)) }
        if var q = p.qcStatements {
            q.pds = q.pds.map { (expand($0.url, issuer: issuerName), $0.language) }
            tail.append(try .qcStatements(q))
        }
        if p.ocspNoCheck { tail.append(.ocspNoCheck) }
        return ExtensionPlan(head: head, aki: issuerKeyID.map { .authorityKeyIdentifier($0) }, policies: policies,
                             cdpByShard: cdpByShard, tail: tail)
    }
}

final class AuditUnlock: @unchecked Sendable {
    var result: Result<PrivateKey, Error>?
}

public enum Random {
    public static func bytes(_ n: Int) throws -> [UInt8] { try CSPRNG.bytes(n) }
}

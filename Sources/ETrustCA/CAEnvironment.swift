import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// What the services of one home share: its configuration, store, keys, audit trail, clock and
/// profiles. Made once by `Authority`; each service keeps a reference.
final class CAEnvironment {
    let home: Home
    let store: any HomeStore
    let keys: KeyStore
    let audit: AuditTrail
    let clock: ETrustClock
    let profiles: [String: Profile]
    let urls: URLTemplates
    var requester: String

    init(home: Home, store: any HomeStore, keys: KeyStore, clock: ETrustClock, profiles: [String: Profile], requester: String) {
        self.home = home; self.store = store; self.keys = keys; self.clock = clock; self.profiles = profiles
        self.requester = requester
        self.urls = URLTemplates(base: home.config.publicBaseURL, documents: home.config.documentsBaseURL)
        self.audit = AuditTrail(log: AuditLog(storage: store, enabled: home.config.auditEnabled), home: home, keys: keys, clock: clock)
        keys.custody.environment = self
    }

    func profile(_ name: String) throws -> Profile {
        guard let p = profiles[name] else {
            throw ETrustError.badInput("unknown profile '\(name)' (available: \(profiles.keys.sorted().joined(separator: ", ")))", code: .notFound)
        }
        return p
    }

    func ca(_ name: String) throws -> CARecord {
        guard let ca = try store.ca(named: name) else {
            let known = (try? store.cas().map(\.name)) ?? []
            throw ETrustError.badInput("unknown CA '\(name)'\(known.isEmpty ? " (this home has no CA yet)" : " (available: \(known.joined(separator: ", ")))")", code: .notFound)
        }
        return ca
    }

    /// The CRL settings of a CA (its profile's `crl` section, or the defaults).
    func crlSettings(of ca: CARecord) -> Profile.CRLSettings {
        profiles[ca.profile]?.crl ?? .defaults
    }

    /// "host:pid", the owner of this process's issuance intents.
    static let processOwner: String = {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        return "\(String(cString: name)):\(getpid())"
    }()

    /// 16 bytes from OpenSSL's CSPRNG, top bit clear and second bit set: positive, always 16
    /// octets in DER, 126 bits of entropy (CA/B BR 7.1: at least 64).
    static func randomSerial() throws -> [UInt8] {
        var s = try CSPRNG.bytes(16)
        s[0] = (s[0] & 0x7f) | 0x40
        return s
    }
}

extension CAEnvironment {
    /// Whether the process that owns an intent ("host:pid") may still be running: another host's
    /// processes are assumed alive (a shared database), this host's are asked with kill(pid, 0).
    static func isLive(owner: String) -> Bool {
        guard let colon = owner.lastIndex(of: ":"), let pid = pid_t(owner[owner.index(after: colon)...]) else { return false }
        let host = String(owner[..<colon])
        guard host == String(processOwner[..<processOwner.lastIndex(of: ":")!]) else { return true }
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}

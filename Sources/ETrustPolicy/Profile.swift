import ETrustCore
import Foundation

/// An issuance profile: what the CA decides, and what it allows a requester to ask for.
/// Immutable once loaded; loaded only through `ProfileLoader` (strict YAML).
public struct Profile: Sendable {
    public enum Kind: String, Sendable { case rootCA = "root-ca", subCA = "sub-ca", endEntity = "end-entity" }
    public enum Presence: String, Sendable { case required, optional, forbidden }
    public enum AssuranceLevel: String, Sendable, Comparable, CaseIterable {
        case low, substantial, high
        public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    public struct KeyRule: Sendable {
        public var family: String            // ec, rsa, ed25519
        public var curves: [String]          // for ec: P-256, P-384, P-521
        public var minBits: Int
        public var maxBits: Int
    }

    public struct AttributeRule: Sendable {
        public var name: String
        public var oid: String
        public var presence: Presence
        public var pattern: NSRegularExpression?
        public var allowed: [String]
        public var maxCount: Int
    }

    public struct SANTypeRule: Sendable {
        public var type: String
        public var pattern: NSRegularExpression?
    }

    public struct ValidityStep: Sendable {
        public var from: Date
        public var max: ValidityDuration
    }

    public struct Policy: Sendable {
        public var info: PolicyInformation
        public var level: AssuranceLevel?
    }

    /// How a CA publishes CRLs: nextUpdate = thisUpdate + period (a new CRL is due `overlap`
    /// before that), partitioned into `shards`, deltas every `deltaPeriod`, expired certificates
    /// kept for `expiredGrace` after notAfter.
    public struct CRLSettings: Sendable {
        public var period: ValidityDuration
        public var overlap: ValidityDuration
        public var shards: Int
        public var deltaPeriod: ValidityDuration?
        public var expiredGrace: ValidityDuration

        public static let defaults = CRLSettings(period: ValidityDuration(seconds: 7 * 86_400), overlap: ValidityDuration(seconds: 86_400),
                                                 shards: 1, deltaPeriod: nil, expiredGrace: ValidityDuration(seconds: 7 * 86_400))
    }

    public var name: String
    public var description: String
    public var file: String
    public var sha256: [UInt8]
    public var kind: Kind

    // What the requester may ask for.
    public var keyRules: [KeyRule]
    public var defaultValidity: ValidityDuration
    public var maxValidity: ValidityDuration
    public var validitySchedule: [ValidityStep]
    public var maxBackdate: ValidityDuration
    public var subjectRules: [AttributeRule]
    public var subjectMayBeEmpty: Bool
    public var sanPresence: Presence
    public var sanTypes: [SANTypeRule]
    public var sanMaxCount: Int
    /// Only publicly resolvable names: DNS names under a public top-level domain, no reserved
    /// IP addresses (CA/B Forum BR 4.2.2, 7.1.2.7.12).
    public var sanPublicNames: Bool
    public var copyRequestedExtensions: Set<String>

    // What the CA decides.
    public var keyUsage: Set<KeyUsageBit>
    public var extendedKeyUsage: [String]
    public var extendedKeyUsageCritical: Bool
    public var pathLength: Int?
    public var policies: [Policy]
    public var crlDistributionPoints: [String]
    public var ocspURLs: [String]
    public var caIssuersURLs: [String]
    public var permittedSubtrees: [GeneralSubtree]
    public var excludedSubtrees: [GeneralSubtree]
    public var requireExplicitPolicy: Int?
    public var inhibitPolicyMapping: Int?
    public var inhibitAnyPolicy: Int?
    public var qcStatements: QualifiedStatements?
    public var ocspNoCheck: Bool
    public var crl: CRLSettings?
    /// The revocation reasons allowed for certificates of this profile (nil: all).
    public var revocationReasons: Set<RevocationReason>?
    /// RFC 3739 biometricInfo: the types a request may carry and those it must (nil: none allowed).
    public var biometrics: BiometricRule? = nil

    public struct BiometricRule: Sendable {
        /// `picture`, `handwritten-signature` or OIDs.
        public var allowed: [String]
        public var required: [String]
    }

    public var isCA: Bool { kind != .endEntity }

    /// The most a certificate issued at `date` may last: the tighter of `max` and the schedule.
    public func maximumValidity(at date: Date) -> ValidityDuration {
        var limit = maxValidity
        for step in validitySchedule where step.from <= date && step.max.seconds < limit.seconds { limit = step.max }
        return limit
    }
}

/// A rule's verdict. A refusal is a value that names the profile and the rule, so that the CLI, the
/// audit log and the tests see the same words.
public enum Decision: Sendable, Equatable {
    case accepted
    case refused(rule: String, reason: String)
}

/// A refusal by a rule of a profile, as a value: the CLI prints it, `--json` reports its
/// profile and rule as fields, and the audit log records the same words.
public struct PolicyRefusal: Sendable, Equatable, CustomStringConvertible {
    public var profile: String
    public var rule: String
    public var reason: String
    public init(profile: String, rule: String, reason: String) {
        self.profile = profile; self.rule = rule; self.reason = reason
    }
    public var description: String { "profile '\(profile)' rule '\(rule)': \(reason)" }
}

extension ETrustError {
    /// A refusal by a profile rule as the error the CLI maps to exit 1, carrying profile and rule.
    public static func refused(_ r: PolicyRefusal, code: Code = .policyRefused) -> ETrustError {
        var e = ETrustError(code, r.description, category: .refused)
        e.profile = r.profile
        e.rule = r.rule
        return e
    }
}

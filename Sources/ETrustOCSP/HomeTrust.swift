import ETrustCA
import ETrustCore
import ETrustPolicy
import ETrustValidation
import Foundation

/// What a home trusts by default, for `etrust verify` and the validation API alike: its root
/// CAs as anchors, its subordinate CAs as candidate intermediates, and the assurance levels its
/// profiles map policy OIDs to.
public enum HomeTrust {
    public static func roots(_ authority: Authority) throws -> [Certificate] {
        try authority.caRecords().filter { $0.parent == nil }.map(\.certificate)
    }

    public static func subordinates(_ authority: Authority) throws -> [Certificate] {
        try authority.caRecords().filter { $0.parent != nil }.map(\.certificate)
    }

    /// Policy OID -> the highest level any of the profiles maps it to.
    public static func levels(_ profiles: [String: Profile]) -> [String: AssuranceLevel] {
        var levels: [String: AssuranceLevel] = [:]
        for p in profiles.values {
            for policy in p.policies {
                if let l = policy.level, let level = AssuranceLevel(rawValue: l.rawValue) { levels[policy.info.oid] = max(levels[policy.info.oid] ?? level, level) }
            }
        }
        return levels
    }

    /// The whole context: a validator over the home's CAs and `crls`.
    public static func context(_ authority: Authority, crls: [CertificateRevocationList] = []) throws -> TrustContext {
        let anchors = try roots(authority)
        guard !anchors.isEmpty else { throw ETrustError.environment("the home has no root CA to trust", code: .notFound) }
        return TrustContext(validator: try Validator(anchors: anchors, intermediates: try subordinates(authority), crls: crls),
                            levels: levels(authority.profiles))
    }
}

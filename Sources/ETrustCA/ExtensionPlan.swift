import ETrustCore
import ETrustPolicy
import Foundation

/// URL templates of profiles: {base} is the home's publicBaseURL, {documents} its
/// documentsBaseURL, {issuer} the issuing CA.
struct URLTemplates: Sendable {
    var base: String
    var documents: String

    func expand(_ template: String, issuer: String) -> String {
        template.replacingOccurrences(of: "{base}", with: base)
            .replacingOccurrences(of: "{documents}", with: documents)
            .replacingOccurrences(of: "{issuer}", with: issuer)
    }
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

extension ExtensionPlan {
    /// The plan of profile `p` for certificates that `issuerName` issues.
    // One piece: the extensions in the order of RFC 5280 4.2 as the profile fixes them.
    init(profile p: Profile, issuerName: String, issuerKeyID: [UInt8]?, issuerCRL: Profile.CRLSettings = .defaults, urls: URLTemplates) throws {
        func expand(_ t: String, issuer: String) -> String { urls.expand(t, issuer: issuer) }
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
            let file = CRLPublisher.fileName(ca: issuerName, shard: shards > 1 ? shard : nil)
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
            let url = expand(cdp, issuer: issuerName).replacingOccurrences(of: "{crl}", with: CRLPublisher.fileName(ca: issuerName, shard: nil, delta: true))
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
        self.init(head: head, aki: issuerKeyID.map { .authorityKeyIdentifier($0) }, policies: policies,
                  cdpByShard: cdpByShard, tail: tail)
    }
}

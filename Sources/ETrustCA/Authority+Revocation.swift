import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

extension Authority {
    /// Normalised hex serial (lower case, no leading zeros), or bad input.
    public static func serialHex(parsing text: String) throws -> String {
        guard let bytes = Hex.decode(text), !bytes.isEmpty, bytes.count <= 21 else {
            throw ETrustError.badInput("'\(text)' is not a hexadecimal serial number", code: .invalidArgument)
        }
        let trimmed = Array(bytes.drop(while: { $0 == 0 }))
        return Hex.encode(trimmed.isEmpty ? [0] : trimmed)
    }

    /// Revokes a certificate of `caName`, durably, with its audit event. A certificate already
    /// revoked is refused, except that keyCompromise supersedes another reason and a hold may
    /// become a permanent revocation.
    @discardableResult
    public func revoke(ca caName: String, serial: String, reason: RevocationReason, at: Date? = nil,
                       invalidityDate: Date? = nil) throws -> CertificateRecord {
        let serialHex = try Authority.serialHex(parsing: serial)
        guard reason != .removeFromCRL else {
            throw ETrustError.badInput("removeFromCRL is not a revocation reason; release a hold with 'etrust unhold'", code: .invalidArgument)
        }
        let now = clock.now()
        let revokedAt = at ?? now
        if revokedAt > now.addingTimeInterval(60) {
            throw ETrustError.badInput("revocation time \(RFC3339.format(revokedAt)) is in the future", code: .invalidArgument)
        }
        if let inv = invalidityDate, inv > now.addingTimeInterval(60) {
            throw ETrustError.badInput("invalidity date \(RFC3339.format(inv)) is in the future", code: .invalidArgument)
        }
        _ = try ca(caName)
        guard let record = try store.certificate(ca: caName, serialHex: serialHex) else {
            throw ETrustError.refused("CA '\(caName)' has issued no certificate with serial \(serialHex)", code: .notFound)
        }
        if let allowed = profiles[record.profile]?.revocationReasons, !allowed.contains(reason) {
            throw ETrustError.refused("profile '\(record.profile)' rule 'revocation.reasons': \(reason.name) is not allowed for its certificates",
                                      code: .policyRefused)
        }
        if record.status == .revoked, let old = record.revocationReason.flatMap(RevocationReason.init(rawValue:)) {
            let supersedes = (reason == .keyCompromise && old != .keyCompromise) || (old == .certificateHold && reason != .certificateHold)
            guard supersedes else {
                throw ETrustError.refused("certificate \(serialHex) is already revoked (\(old.name)); only keyCompromise supersedes, and a hold may become permanent",
                                          code: .alreadyExists)
            }
        }
        var fields = ["reason": reason.name, "revokedAt": RFC3339.format(revokedAt), "requester": requester,
                      "subject": record.subject]
        if let inv = invalidityDate { fields["invalidityDate"] = RFC3339.format(inv) }
        if let old = record.revocationReason, record.status == .revoked {
            fields["supersedes"] = RevocationReason(rawValue: old)?.name ?? String(old)
        }
        let event = AuditEvent(type: "revoke", time: now, ca: caName, serialHex: serialHex, profile: record.profile, fields: fields)
        try store.revoke(ca: caName, serialHex: serialHex, reason: reason.rawValue, revokedAt: revokedAt, invalidityDate: invalidityDate,
                         recordedAt: now, event: event)
        return try store.certificate(ca: caName, serialHex: serialHex)!
    }

    /// Releases a certificateHold (RFC 5280 5.3.1): valid again, removeFromCRL on the next delta.
    public func unhold(ca caName: String, serial: String) throws {
        let serialHex = try Authority.serialHex(parsing: serial)
        _ = try ca(caName)
        guard let record = try store.certificate(ca: caName, serialHex: serialHex) else {
            throw ETrustError.refused("CA '\(caName)' has issued no certificate with serial \(serialHex)", code: .notFound)
        }
        guard record.status == .revoked, record.revocationReason == RevocationReason.certificateHold.rawValue else {
            throw ETrustError.refused("certificate \(serialHex) is not on hold", code: .policyRefused)
        }
        let now = clock.now()
        let event = AuditEvent(type: "unhold", time: now, ca: caName, serialHex: serialHex, profile: record.profile,
                               fields: ["requester": requester, "subject": record.subject])
        try store.releaseHold(ca: caName, serialHex: serialHex, at: now, event: event)
    }

    public struct PublishedCRL: Sendable {
        public var record: CRLRecord
        public var der: [UInt8]
    }

    /// Signs and publishes the next CRL(s) of a CA: the full CRL, or one per shard of a
    /// partitioned CA, or (`delta`) a delta CRL against the newest full CRL. Each CRL number is
    /// committed before signing; each CRL is recorded with its audit event, then published
    /// atomically under pub/crl/.
    public func publishCRL(ca caName: String, delta: Bool = false) throws -> [PublishedCRL] {
        let caRecord = try ca(caName)
        let settings = crlSettings(of: caRecord)
        let signer = try self.signer(for: caRecord)
        let issuer = caRecord.certificate
        guard let keyID = issuer.subjectKeyIdentifier else { throw ETrustError.environment("CA \(caName) has no subjectKeyIdentifier") }
        if issuer.keyUsage.map({ !$0.contains(.cRLSign) }) ?? true {
            throw ETrustError.refused("CA '\(caName)' may not sign CRLs (no cRLSign in its key usage)", code: .policyRefused)
        }
        let now = clock.now()
        let expiredBefore = now.addingTimeInterval(-TimeInterval(settings.expiredGrace.seconds))
        let crlDir = home.pubDirectory + "/crl"
        try FileManager.default.createDirectory(atPath: crlDir, withIntermediateDirectories: true)
        let urlBase = home.config.publicBaseURL + "/crl/"
        var published: [PublishedCRL] = []

        func build(kind: CRLRecord.Kind, shard: Int?, base: CRLRecord?, extraExtensions: [Extension], period: ValidityDuration,
                   fill: (inout CRLBuilder) throws -> Void) throws {
            let number = try store.allocateCRLNumber(ca: caName)
            var extensions: [Extension] = [.authorityKeyIdentifier(keyID), .crlNumber(number)]
            extensions += extraExtensions
            let nextUpdate = min(now.addingTimeInterval(TimeInterval(period.seconds)), issuer.notAfter)
            var builder = CRLBuilder(issuer: issuer.subject, signatureAlgorithm: signer.algorithm, thisUpdate: now,
                                     nextUpdate: nextUpdate, extensions: extensions)
            try fill(&builder)
            let der = try builder.sign(with: signer)
            FaultInjection.point("crl-after-sign")
            let file = Authority.crlFileName(ca: caName, shard: shard, delta: kind == .delta)
            let sha = Hex.encode(Digest.sha256(der))
            let record = CRLRecord(ca: caName, number: number, kind: kind, shard: shard, baseNumber: base?.number, thisUpdate: now,
                                   nextUpdate: nextUpdate, entries: builder.count, sha256: sha, path: "pub/crl/" + file)
            var fields = ["number": String(number), "kind": kind.rawValue, "sha256": sha, "entries": String(builder.count),
                          "thisUpdate": RFC3339.format(now), "nextUpdate": RFC3339.format(nextUpdate), "file": file]
            if let shard { fields["shard"] = String(shard) }
            if let base { fields["baseNumber"] = String(base.number) }
            try store.insert(crl: record, event: AuditEvent(type: "crl", time: now, ca: caName, serialHex: nil, profile: nil, fields: fields))
            FaultInjection.point("crl-before-publish")
            try AtomicFile.write(der, to: crlDir + "/" + file)
            try store.markPublished(ca: caName, number: number, at: now)
            published.append(PublishedCRL(record: record, der: der))
        }

        func add(_ e: RevokedEntry, to builder: inout CRLBuilder) {
            builder.add(serial: Hex.decode(e.serialHex) ?? [0], revocationDate: e.revokedAt,
                        reason: RevocationReason(rawValue: e.reason) ?? .unspecified, invalidityDate: e.invalidityDate)
        }

        if delta {
            guard let period = settings.deltaPeriod else {
                throw ETrustError.refused("CA '\(caName)' does not publish delta CRLs (no crl.deltaPeriod in profile '\(caRecord.profile)')",
                                          code: .policyRefused)
            }
            // The base is the newest full CRL that was actually published (a crash between
            // recording and publishing leaves one that relying parties never saw).
            guard let base = try store.latestCRL(ca: caName, kinds: [.full], publishedOnly: true) else {
                throw ETrustError.refused("CA '\(caName)' has no full CRL yet to be the base of a delta; run 'etrust crl --ca \(caName)' first",
                                          code: .notFound)
            }
            // RFC 5280 5.2.4: the delta lists the changes since its base was issued.
            try build(kind: .delta, shard: nil, base: base, extraExtensions: [.deltaCRLIndicator(base: base.number)], period: period) { b in
                try store.forEachChange(ca: caName, since: base.thisUpdate, expiredBefore: expiredBefore) { add($0, to: &b) }
            }
        } else if settings.shards > 1 {
            for shard in 0..<settings.shards {
                let url = urlBase + Authority.crlFileName(ca: caName, shard: shard)
                // RFC 5280 5.2.5: a critical IDP names the shard, so one cannot stand in for another.
                try build(kind: .shard, shard: shard, base: nil, extraExtensions: [try .issuingDistributionPoint([url])],
                          period: settings.period) { b in
                    try store.forEachRevokedRaw(ca: caName, shard: shard, expiredBefore: expiredBefore) { s, at, r, inv in
                    b.add(serialHex: s, revokedAt: at, reason: r, invalidityDate: inv)
                }
                }
            }
        } else {
            var extra: [Extension] = []
            if settings.deltaPeriod != nil {
                // RFC 5280 5.2.6: a complete CRL tells where its deltas are.
                extra.append(try .freshestCRL([urlBase + Authority.crlFileName(ca: caName, shard: nil, delta: true)]))
            }
            try build(kind: .full, shard: nil, base: nil, extraExtensions: extra, period: settings.period) { b in
                try store.forEachRevokedRaw(ca: caName, shard: nil, expiredBefore: expiredBefore) { s, at, r, inv in
                    b.add(serialHex: s, revokedAt: at, reason: r, invalidityDate: inv)
                }
            }
        }
        return published
    }
}

/// Test-only crash points: with ETRUST_FAULT_INJECTION=NAME the process kills itself (SIGKILL)
/// at the named point, so that tests can prove what survives a crash there.
public enum FaultInjection {
    static let active = ProcessInfo.processInfo.environment["ETRUST_FAULT_INJECTION"]
    public static func point(_ name: String) {
        if active == name { kill(getpid(), SIGKILL) }
    }
}

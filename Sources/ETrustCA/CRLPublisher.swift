import ETrustAudit
import ETrustCore
import ETrustPolicy
import ETrustStore
import Foundation

/// Signs and publishes the CRLs of a CA: full, one per shard of a partitioned CA, or delta.
/// Each CRL number is committed before signing (never reused after a crash); each CRL is
/// recorded with its audit event, then published atomically under pub/crl/.
public final class CRLPublisher {
    let env: CAEnvironment

    init(env: CAEnvironment) { self.env = env }

    public struct PublishedCRL: Sendable {
        public var record: CRLRecord
        public var der: [UInt8]
    }

    /// The file name under pub/crl/ of a CA's CRL, shard or delta.
    public static func fileName(ca: String, shard: Int?, delta: Bool = false) -> String {
        delta ? "\(ca)-delta.crl" : shard.map { "\(ca)-\($0).crl" } ?? "\(ca).crl"
    }

    /// What one publication of a CA shares: issuer, signer, time and where files go.
    private struct Run {
        var caName: String
        var caRecord: CARecord
        var settings: Profile.CRLSettings
        var signer: Signer
        var keyID: [UInt8]
        var now: Date
        var expiredBefore: Date
        var directory: String
        var urlBase: String
    }

    public func publish(ca caName: String, delta: Bool = false) throws -> [PublishedCRL] {
        let caRecord = try env.ca(caName)
        let settings = env.crlSettings(of: caRecord)
        let signer = try env.keys.signer(for: caRecord)
        let issuer = caRecord.certificate
        guard let keyID = issuer.subjectKeyIdentifier else { throw ETrustError.environment("CA \(caName) has no subjectKeyIdentifier") }
        if issuer.keyUsage.map({ !$0.contains(.cRLSign) }) ?? true {
            throw ETrustError.refused("CA '\(caName)' may not sign CRLs (no cRLSign in its key usage)", code: .policyRefused)
        }
        let now = env.clock.now()
        let run = Run(caName: caName, caRecord: caRecord, settings: settings, signer: signer, keyID: keyID, now: now,
                      expiredBefore: now.addingTimeInterval(-TimeInterval(settings.expiredGrace.seconds)),
                      directory: env.home.pubDirectory + "/crl", urlBase: env.home.config.publicBaseURL + "/crl/")
        try FileManager.default.createDirectory(atPath: run.directory, withIntermediateDirectories: true)
        if delta { return [try publishDelta(run)] }
        if settings.shards > 1 {
            return try (0..<settings.shards).map { shard in
                // RFC 5280 5.2.5: a critical IDP names the shard, so one cannot stand in for another.
                let url = run.urlBase + CRLPublisher.fileName(ca: caName, shard: shard)
                return try publishOne(run, kind: .shard, shard: shard, base: nil, extra: [try .issuingDistributionPoint([url])],
                                      period: settings.period) { b in
                    try env.store.forEachRevokedRaw(ca: caName, shard: shard, expiredBefore: run.expiredBefore) { s, at, r, inv in
                        b.add(serialHex: s, revokedAt: at, reason: r, invalidityDate: inv)
                    }
                }
            }
        }
        var extra: [Extension] = []
        if settings.deltaPeriod != nil {
            // RFC 5280 5.2.6: a complete CRL tells where its deltas are.
            extra.append(try .freshestCRL([run.urlBase + CRLPublisher.fileName(ca: caName, shard: nil, delta: true)]))
        }
        return [try publishOne(run, kind: .full, shard: nil, base: nil, extra: extra, period: settings.period) { b in
            try env.store.forEachRevokedRaw(ca: caName, shard: nil, expiredBefore: run.expiredBefore) { s, at, r, inv in
                b.add(serialHex: s, revokedAt: at, reason: r, invalidityDate: inv)
            }
        }]
    }

    private func publishDelta(_ run: Run) throws -> PublishedCRL {
        guard let period = run.settings.deltaPeriod else {
            throw ETrustError.refused("CA '\(run.caName)' does not publish delta CRLs (no crl.deltaPeriod in profile '\(run.caRecord.profile)')",
                                      code: .policyRefused)
        }
        // The base is the newest full CRL that was actually published (a crash between
        // recording and publishing leaves one that relying parties never saw).
        guard let base = try env.store.latestCRL(ca: run.caName, kinds: [.full], publishedOnly: true) else {
            throw ETrustError.refused("CA '\(run.caName)' has no full CRL yet to be the base of a delta; run 'etrust crl --ca \(run.caName)' first",
                                      code: .notFound)
        }
        // RFC 5280 5.2.4: the delta lists the changes since its base was issued.
        return try publishOne(run, kind: .delta, shard: nil, base: base, extra: [.deltaCRLIndicator(base: base.number)], period: period) { b in
            try env.store.forEachChange(ca: run.caName, since: base.thisUpdate, expiredBefore: run.expiredBefore) { e in
                b.add(serial: Hex.decode(e.serialHex) ?? [0], revocationDate: e.revokedAt,
                      reason: RevocationReason(rawValue: e.reason) ?? .unspecified, invalidityDate: e.invalidityDate)
            }
        }
    }

    /// Number committed, CRL signed, recorded with its audit event, file published, marked published.
    private func publishOne(_ run: Run, kind: CRLRecord.Kind, shard: Int?, base: CRLRecord?, extra: [Extension], period: ValidityDuration,
                            fill: (inout CRLBuilder) throws -> Void) throws -> PublishedCRL {
        let number = try env.store.allocateCRLNumber(ca: run.caName)
        let issuer = run.caRecord.certificate
        let nextUpdate = min(run.now.addingTimeInterval(TimeInterval(period.seconds)), issuer.notAfter)
        var builder = CRLBuilder(issuer: issuer.subject, signatureAlgorithm: run.signer.algorithm, thisUpdate: run.now,
                                 nextUpdate: nextUpdate, extensions: [.authorityKeyIdentifier(run.keyID), .crlNumber(number)] + extra)
        try fill(&builder)
        let der = try builder.sign(with: run.signer)
        FaultInjection.point("crl-after-sign")
        let file = CRLPublisher.fileName(ca: run.caName, shard: shard, delta: kind == .delta)
        let sha = Hex.encode(Digest.sha256(der))
        let record = CRLRecord(ca: run.caName, number: number, kind: kind, shard: shard, baseNumber: base?.number, thisUpdate: run.now,
                               nextUpdate: nextUpdate, entries: builder.count, sha256: sha, path: "pub/crl/" + file)
        var fields = ["number": String(number), "kind": kind.rawValue, "sha256": sha, "entries": String(builder.count),
                      "thisUpdate": RFC3339.format(run.now), "nextUpdate": RFC3339.format(nextUpdate), "file": file]
        if let shard { fields["shard"] = String(shard) }
        if let base { fields["baseNumber"] = String(base.number) }
        try env.store.transaction {
            try env.store.insert(crl: record)
            try env.audit.log.append([AuditEvent(type: "crl", time: run.now, ca: run.caName, serialHex: nil, profile: nil, fields: fields)])
        }
        FaultInjection.point("crl-before-publish")
        try AtomicFile.write(der, to: run.directory + "/" + file)
        try env.store.markPublished(ca: run.caName, number: number, at: run.now)
        return PublishedCRL(record: record, der: der)
    }
}

extension CRLPublisher {
    /// Publishes a CRL signed elsewhere — an offline CA's, carried over — under pub/crl/, where
    /// the responder serves it: checked against the CA's certificate (signature, cRLSign,
    /// freshness, critical extensions, RFC 5280 6.3.3) and required to be newer than the one it
    /// replaces (CRL numbers only grow). Logged as a "crl" event with action "imported".
    public func importCRL(ca caName: String, der: [UInt8]) throws -> CertificateRevocationList {
        let caRecord = try env.ca(caName)
        let crl = try CertificateRevocationList(der: der, what: "the CRL")
        let now = env.clock.now()
        let problems = crl.verify(issuer: caRecord.certificate, at: now).problems
        if let first = problems.first {
            throw ETrustError.refused("the CRL is not a valid CRL of CA '\(caName)': \(first)", code: .badSignature)
        }
        let file = CRLPublisher.fileName(ca: caName, shard: nil, delta: crl.deltaBase != nil)
        let path = env.home.pubDirectory + "/crl/" + file
        if let current = try? CertificateRevocationList(der: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), what: path),
           let old = current.number, let new = crl.number, new <= old {
            throw ETrustError.refused("CRL #\(new) of CA '\(caName)' is not newer than the published #\(old)", code: .alreadyExists)
        }
        let sha = Hex.encode(Digest.sha256(der))
        try env.audit.log.append([AuditEvent(type: "crl", time: now, ca: caName, serialHex: nil, profile: nil,
                                             fields: ["action": "imported", "number": crl.number.map(String.init) ?? "", "sha256": sha,
                                                      "entries": String(crl.entries.count), "thisUpdate": RFC3339.format(crl.thisUpdate),
                                                      "file": file, "requester": env.requester])])
        try FileManager.default.createDirectory(atPath: env.home.pubDirectory + "/crl", withIntermediateDirectories: true)
        try AtomicFile.write(der, to: path)
        return crl
    }
}

extension CRLPublisher {
    /// What `crl --all` did for one CA.
    public struct Round: Sendable {
        public var ca: String
        public var published: [PublishedCRL]
        /// Why nothing was published (not due, offline, expired); nil when something was.
        public var skipped: String?
    }

    /// Publishes every CA's CRLs (a timer's job: `etrust crl --all --if-due`). With `ifDue`, a
    /// CA's complete CRL (or its shards) is published only once its newest one reaches the
    /// `overlap` before its nextUpdate (or it has none), and its delta likewise within
    /// min(overlap, half the delta period). Offline CAs are skipped (their CRL is signed on their
    /// host and brought over with `crl import`), as are CAs past their notAfter.
    public func publishAll(ifDue: Bool) throws -> [Round] {
        let now = env.clock.now()
        return try env.store.cas().map { ca -> Round in
            if ca.keyReference.hasPrefix(KeyStore.offlinePrefix) {
                return Round(ca: ca.name, published: [], skipped: "offline: sign its CRL on its own host and run 'etrust crl import'")
            }
            if ca.certificate.notAfter <= now { return Round(ca: ca.name, published: [], skipped: "expired") }
            let settings = env.crlSettings(of: ca)
            let overlap = TimeInterval(settings.overlap.seconds)
            let full = try env.store.latestCRL(ca: ca.name, kinds: [.full, .shard], publishedOnly: true)
            var published: [PublishedCRL] = []
            if !ifDue || full.map({ now >= $0.nextUpdate.addingTimeInterval(-overlap) }) ?? true {
                published += try publish(ca: ca.name)
            }
            if let period = settings.deltaPeriod {
                let delta = try env.store.latestCRL(ca: ca.name, kinds: [.delta], publishedOnly: true)
                let margin = min(overlap, TimeInterval(period.seconds) / 2)
                let deltaStale = delta.map { d in now >= d.nextUpdate.addingTimeInterval(-margin) || d.baseNumber != full?.number } ?? true
                if !published.isEmpty || deltaStale { published += try publish(ca: ca.name, delta: true) }
            }
            return Round(ca: ca.name, published: published, skipped: published.isEmpty ? "not due" : nil)
        }
    }
}

import Foundation
import SwiftASN1

/// A parsed CRL (RFC 5280 5.1), for checking what a CA publishes.
public struct CertificateRevocationList: Sendable {
    public struct Entry: Sendable {
        public var serialHex: String
        public var revocationDate: Date
        public var reason: RevocationReason?
        public var invalidityDate: Date?
        public var criticalExtensions: [String]
    }

    public let der: [UInt8]
    public let tbsDER: ArraySlice<UInt8>
    public let issuer: DistinguishedName
    public let thisUpdate: Date
    public let nextUpdate: Date?
    public let entries: [Entry]
    public let extensions: [Extension]
    public let signatureAlgorithm: SignatureAlgorithm
    public let signature: [UInt8]

    public init(bytes: [UInt8], what: String = "CRL") throws {
        let blocks = try InputFile.derBlocks(bytes, labels: ["X509 CRL"], what: what)
        try self.init(der: blocks[0], what: what)
    }

    public init(der: [UInt8], what: String = "CRL") throws {
        do {
            let root = try DER.parse(der)
            guard root.encodedBytes.count == der.count else { throw ETrustError.badInput("\(what): trailing data") }
            var fields: (ArraySlice<UInt8>, [UInt8], Date, Date?, [Entry], [Extension], ASN1ObjectIdentifier, [UInt8])!
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbs = nodes.next() else { throw ETrustError.badInput("\(what): empty") }
                var parsed: ([UInt8], Date, Date?, [Entry], [Extension])!
                var inner: ArraySlice<UInt8> = []
                try DER.sequence(tbs, identifier: .sequence) { t in
                    var next = t.next()
                    if let v = next, v.identifier == .integer {
                        guard try Int(derEncoded: v) == 1 else { throw ETrustError.badInput("\(what): not a version 2 CRL") }
                        next = t.next()
                    }
                    guard let alg = next else { throw ETrustError.badInput("\(what): truncated") }
                    inner = alg.encodedBytes
                    guard let issuer = t.next(), let thisUpdate = t.next() else { throw ETrustError.badInput("\(what): truncated") }
                    var nextUpdate: Date? = nil
                    var entries: [Entry] = []
                    var exts: [Extension] = []
                    while let n = t.next() {
                        if n.identifier == .utcTime || n.identifier == .generalizedTime {
                            nextUpdate = try Certificate.parseTime(n)
                        } else if n.identifier == .sequence, case .constructed(let list) = n.content {
                            for e in list { entries.append(try CertificateRevocationList.parseEntry(e)) }
                        } else if n.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                                  case .constructed(let c) = n.content, let seq = c.first(where: { _ in true }) {
                            exts = try Certificate.parseExtensions(seq)
                        }
                    }
                    parsed = (Array(issuer.encodedBytes), try Certificate.parseTime(thisUpdate), nextUpdate, entries, exts)
                }
                guard let outer = nodes.next(), outer.encodedBytes == inner else {
                    throw ETrustError.badInput("\(what): signature algorithm mismatch between the CRL and its TBSCertList")
                }
                let oid: ASN1ObjectIdentifier = try DER.sequence(outer, identifier: .sequence) { a in
                    let o = try ASN1ObjectIdentifier(derEncoded: &a); _ = a.next(); return o
                }
                let sig = try ASN1BitString(derEncoded: &nodes)
                fields = (tbs.encodedBytes, parsed.0, parsed.1, parsed.2, parsed.3, parsed.4, oid, Array(sig.bytes))
            }
            (self.der, self.tbsDER, self.issuer) = (der, fields.0, try DistinguishedName(der: fields.1))
            (self.thisUpdate, self.nextUpdate, self.entries, self.extensions) = (fields.2, fields.3, fields.4, fields.5)
            (self.signatureAlgorithm, self.signature) = (try SignatureAlgorithm(oid: fields.6), fields.7)
        } catch {
            throw ASN1Errors.invalid(error, what: what, kind: "X.509 CRL")
        }
    }

    static func parseEntry(_ node: ASN1Node) throws -> Entry {
        try DER.sequence(node, identifier: .sequence) { n in
            let serial = try Certificate.integerContent(n.next())
            let date = try Certificate.parseTime(n.next())
            var reason: RevocationReason? = nil
            var invalidity: Date? = nil
            var critical: [String] = []
            if let e = n.next() {
                for ext in try Certificate.parseExtensions(e) {
                    if ext.critical { critical.append(ext.oid) }
                    if ext.oid == "2.5.29.21", ext.value.count == 3, ext.value[0] == 0x0a { reason = RevocationReason(rawValue: Int(ext.value[2])) }
                    if ext.oid == "2.5.29.24", let node = try? DER.parse(ext.value) { invalidity = try? Certificate.parseTime(node) }
                }
            }
            return Entry(serialHex: Certificate.serialHex(serial), revocationDate: date, reason: reason,
                         invalidityDate: invalidity, criticalExtensions: critical)
        }
    }

    func integerExtension(_ oid: String) -> Int? {
        guard let e = extensions.first(where: { $0.oid == oid }), let node = try? DER.parse(e.value) else { return nil }
        return try? Int(derEncoded: node)
    }

    /// RFC 5280 5.2.3 cRLNumber.
    public var number: Int? { integerExtension("2.5.29.20") }
    /// RFC 5280 5.2.4 deltaCRLIndicator: the base CRL number of a delta CRL.
    public var deltaBase: Int? { integerExtension("2.5.29.27") }

    /// The URIs of the issuingDistributionPoint (RFC 5280 5.2.5), if any.
    public var issuingDistributionPointURIs: [String]? {
        guard let e = extensions.first(where: { $0.oid == "2.5.29.28" }) else { return nil }
        var uris: [String] = []
        var i = 0
        let v = e.value
        // The URIs are [6] IA5String primitives inside the fullName.
        while i + 2 <= v.count {
            if v[i] == 0x86, i + 1 < v.count {
                let len = Int(v[i + 1])
                if len < 0x80, i + 2 + len <= v.count {
                    uris.append(String(decoding: v[(i + 2)..<(i + 2 + len)], as: UTF8.self))
                    i += 2 + len
                    continue
                }
            }
            i += 1
        }
        return uris
    }

    public var scopeDescription: String {
        if let base = deltaBase { return "delta of CRL #\(base)" }
        if let uris = issuingDistributionPointURIs { return "partition \(uris.joined(separator: ", "))" }
        return "complete"
    }

    public var reasonCounts: [String: Int] {
        var d: [String: Int] = [:]
        for e in entries { d[(e.reason ?? .unspecified).name, default: 0] += 1 }
        return d
    }

    public struct Report: Sendable { public var problems: [String] }

    /// Checks the CRL as a relying party must before using it (RFC 5280 6.3.3).
    public func verify(issuer certificate: Certificate, at time: Date) -> Report {
        var problems: [String] = []
        if issuer.der != certificate.subject.der {
            problems.append("the CRL's issuer \(issuer) is not the certificate's subject \(certificate.subject)")
        }
        do {
            if try !certificate.publicKey.verify(signature: signature, data: tbsDER, algorithm: signatureAlgorithm) {
                problems.append("the CRL's signature does not verify with the issuer's key")
            }
        } catch {
            problems.append("the CRL's signature cannot be checked: \(error)")
        }
        if let ku = certificate.keyUsage, !ku.contains(.cRLSign) {
            problems.append("the issuer may not sign CRLs (no cRLSign in its key usage)")
        }
        if thisUpdate > time.addingTimeInterval(300) { problems.append("thisUpdate \(RFC3339.format(thisUpdate)) is in the future") }
        if let n = nextUpdate {
            if n < time { problems.append("the CRL is stale: nextUpdate \(RFC3339.format(n)) has passed") }
        } else {
            problems.append("the CRL has no nextUpdate (RFC 5280 5.1.2.5: conforming CRL issuers MUST include it)")
        }
        let understood: Set<String> = ["2.5.29.20", "2.5.29.27", "2.5.29.28", "2.5.29.35", "2.5.29.46"]
        for e in extensions where e.critical && !understood.contains(e.oid) {
            problems.append("unknown critical CRL extension \(e.oid)")
        }
        if number == nil { problems.append("the CRL has no cRLNumber (RFC 5280 5.2.3: MUST)") }
        if let base = deltaBase, let n = number, base >= n { problems.append("delta CRL #\(n) names base #\(base), which is not older") }
        for e in entries {
            for c in e.criticalExtensions where !["2.5.29.21", "2.5.29.24", "2.5.29.29"].contains(c) {
                problems.append("entry \(e.serialHex) has unknown critical extension \(c)")
            }
        }
        return Report(problems: problems)
    }
}

import Foundation

/// RFC 5280 CRL reason codes (5.3.1).
public enum RevocationReason: Int, Sendable, CaseIterable {
    case unspecified = 0, keyCompromise = 1, cACompromise = 2, affiliationChanged = 3, superseded = 4
    case cessationOfOperation = 5, certificateHold = 6, removeFromCRL = 8, privilegeWithdrawn = 9, aACompromise = 10

    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .keyCompromise: "keyCompromise"
        case .cACompromise: "cACompromise"
        case .affiliationChanged: "affiliationChanged"
        case .superseded: "superseded"
        case .cessationOfOperation: "cessationOfOperation"
        case .certificateHold: "certificateHold"
        case .removeFromCRL: "removeFromCRL"
        case .privilegeWithdrawn: "privilegeWithdrawn"
        case .aACompromise: "aACompromise"
        }
    }

    public init(parsing text: String) throws {
        guard let r = RevocationReason.allCases.first(where: { $0.name.caseInsensitiveCompare(text) == .orderedSame }) else {
            throw ETrustError.badInput("unknown revocation reason '\(text)' (\(RevocationReason.allCases.map(\.name).joined(separator: ", ")))",
                                       code: .invalidArgument)
        }
        self = r
    }
}

/// Streams the DER of a CRL (RFC 5280 5.1): entries are appended to one buffer as they are read
/// from the store, so a million entries cost one pass and about the CRL's size in memory. The
/// encoding is checked byte for byte against OpenSSL's (`i2d_re_X509_CRL_tbs`) in the tests.
public struct CRLBuilder {
    public let issuer: DistinguishedName
    public let signatureAlgorithm: SignatureAlgorithm
    public let thisUpdate: Date
    public let nextUpdate: Date
    public let extensions: [Extension]
    private var entries: [UInt8] = []
    public private(set) var count = 0

    public init(issuer: DistinguishedName, signatureAlgorithm: SignatureAlgorithm, thisUpdate: Date, nextUpdate: Date,
                extensions: [Extension], expectedEntries: Int = 0) {
        self.issuer = issuer
        self.signatureAlgorithm = signatureAlgorithm
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.extensions = extensions
        entries.reserveCapacity(expectedEntries * 52)
    }

    /// One revokedCertificates entry. `serial` is the magnitude (no sign byte). The reason code
    /// is omitted for unspecified (RFC 5280 5.3.1: SHOULD be absent rather than 0).
    public mutating func add(serial: [UInt8], revocationDate: Date, reason: RevocationReason, invalidityDate: Date?) {
        var body: [UInt8] = []
        body.reserveCapacity(64)
        DERWriter.integer(magnitude: serial, into: &body)
        DERWriter.time(revocationDate, into: &body)
        if reason != .unspecified || invalidityDate != nil {
            var exts: [UInt8] = []
            if reason != .unspecified {
                // Extension { 2.5.29.21, OCTET STRING { ENUMERATED reason } }
                exts += [0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, UInt8(reason.rawValue)]
            }
            if let inv = invalidityDate {
                // Extension { 2.5.29.24, OCTET STRING { GeneralizedTime } } (always GeneralizedTime, 5.3.2)
                var gt: [UInt8] = []
                DERWriter.generalizedTime(inv, into: &gt)
                var ext: [UInt8] = [0x06, 0x03, 0x55, 0x1d, 0x18]
                DERWriter.tlv(0x04, gt, into: &ext)
                DERWriter.tlv(0x30, ext, into: &exts)
            }
            DERWriter.tlv(0x30, exts, into: &body)
        }
        DERWriter.tlv(0x30, body, into: &entries)
        count += 1
    }

    public func tbsDER() -> [UInt8] {
        var head: [UInt8] = [0x02, 0x01, 0x01]   // version v2
        head += signatureAlgorithm.algorithmIdentifierDER
        head += issuer.der
        DERWriter.time(thisUpdate, into: &head)
        DERWriter.time(nextUpdate, into: &head)
        var tail: [UInt8] = []
        if !extensions.isEmpty {
            var list: [UInt8] = []
            for e in extensions { list += e.der }
            var seq: [UInt8] = []
            DERWriter.tlv(0x30, list, into: &seq)
            DERWriter.tlv(0xa0, seq, into: &tail)
        }
        let revokedHeader = entries.isEmpty ? [] : DERWriter.header(0x30, length: entries.count)
        let contentLength = head.count + revokedHeader.count + entries.count + tail.count
        var tbs = DERWriter.header(0x30, length: contentLength)
        tbs.reserveCapacity(tbs.count + contentLength)
        tbs += head
        tbs += revokedHeader
        tbs += entries
        tbs += tail
        return tbs
    }

    /// Signs and returns the DER CertificateList.
    public func sign(with signer: Signer) throws -> [UInt8] {
        guard signer.algorithm == signatureAlgorithm else {
            throw ETrustError.environment("the CRL states \(signatureAlgorithm) but the signer uses \(signer.algorithm)", code: .invalidArgument)
        }
        let tbs = tbsDER()
        let signature = try signer.sign(tbs)
        var bitString: [UInt8] = [0x00] + signature
        var sig: [UInt8] = []
        DERWriter.tlv(0x03, bitString, into: &sig)
        bitString = []
        let alg = signatureAlgorithm.algorithmIdentifierDER
        var out = DERWriter.header(0x30, length: tbs.count + alg.count + sig.count)
        out.reserveCapacity(out.count + tbs.count + alg.count + sig.count)
        out += tbs
        out += alg
        out += sig
        return out
    }
}

/// The small DER writer of the CRL stream (definite lengths, primitive types only).
public enum DERWriter {
    public static func header(_ tag: UInt8, length n: Int) -> [UInt8] {
        if n < 0x80 { return [tag, UInt8(n)] }
        var bytes: [UInt8] = []
        var v = n
        while v > 0 { bytes.insert(UInt8(v & 0xff), at: 0); v >>= 8 }
        return [tag, 0x80 | UInt8(bytes.count)] + bytes
    }

    public static func tlv(_ tag: UInt8, _ content: [UInt8], into out: inout [UInt8]) {
        out += header(tag, length: content.count)
        out += content
    }

    /// A positive INTEGER from its magnitude (leading zeros dropped, a zero byte added when the
    /// high bit is set).
    public static func integer(magnitude: [UInt8], into out: inout [UInt8]) {
        var m = magnitude[...]
        while m.count > 1, m.first == 0 { m = m.dropFirst() }
        if m.isEmpty { out += [0x02, 0x01, 0x00]; return }
        if m.first! & 0x80 != 0 {
            out += header(0x02, length: m.count + 1)
            out.append(0)
        } else {
            out += header(0x02, length: m.count)
        }
        out += m
    }

    public static func integer(_ v: Int, into out: inout [UInt8]) {
        var bytes: [UInt8] = []
        var x = v
        repeat { bytes.insert(UInt8(x & 0xff), at: 0); x >>= 8 } while x > 0
        integer(magnitude: bytes, into: &out)
    }

    /// RFC 5280 4.1.2.5 / 5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050.
    public static func time(_ date: Date, into out: inout [UInt8]) {
        let t = UTCFields(date)
        if t.year < 2050 {
            out += [0x17, 0x0d]
            digits(t.year % 100, into: &out)
        } else {
            out += [0x18, 0x0f]
            digits(t.year / 100, into: &out)
            digits(t.year % 100, into: &out)
        }
        for v in [t.month, t.day, t.hour, t.minute, t.second] { digits(v, into: &out) }
        out.append(UInt8(ascii: "Z"))
    }

    public static func generalizedTime(_ date: Date, into out: inout [UInt8]) {
        let t = UTCFields(date)
        out += [0x18, 0x0f]
        digits(t.year / 100, into: &out)
        digits(t.year % 100, into: &out)
        for v in [t.month, t.day, t.hour, t.minute, t.second] { digits(v, into: &out) }
        out.append(UInt8(ascii: "Z"))
    }

    @inline(__always) static func digits(_ v: Int, into out: inout [UInt8]) {
        out.append(UInt8(48 + v / 10))
        out.append(UInt8(48 + v % 10))
    }
}

extension Extension {
    /// RFC 5280 5.2.3 cRLNumber.
    public static func crlNumber(_ n: Int) -> Extension {
        var v: [UInt8] = []
        DERWriter.integer(n, into: &v)
        return Extension(oid: "2.5.29.20", critical: false, value: v)
    }

    /// RFC 5280 5.2.4 deltaCRLIndicator (critical), naming the base CRL number.
    public static func deltaCRLIndicator(base: Int) -> Extension {
        var v: [UInt8] = []
        DERWriter.integer(base, into: &v)
        return Extension(oid: "2.5.29.27", critical: true, value: v)
    }

    /// RFC 5280 5.2.5 issuingDistributionPoint (critical) with a full name of URIs.
    public static func issuingDistributionPoint(_ urls: [String]) throws -> Extension {
        // IssuingDistributionPoint ::= SEQUENCE { distributionPoint [0] { fullName [0] GeneralNames } }
        var fullName = try Extension.generalNames(urls.map { .uri($0) })
        fullName[0] = 0xa0   // GeneralNames SEQUENCE -> fullName [0] IMPLICIT (constructed)
        var dp: [UInt8] = []
        DERWriter.tlv(0xa0, fullName, into: &dp)   // distributionPoint [0]: a CHOICE, so explicit
        var seq: [UInt8] = []
        DERWriter.tlv(0x30, dp, into: &seq)
        return Extension(oid: "2.5.29.28", critical: true, value: seq)
    }
}

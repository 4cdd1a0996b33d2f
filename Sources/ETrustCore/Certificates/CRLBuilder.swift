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

    /// The hot path of a large CRL: one entry appended straight into the buffer from the
    /// store's raw row (hex serial bytes, Unix times), with no intermediate allocation. Produces
    /// the same bytes as `add(serial:revocationDate:reason:invalidityDate:)` (tested).
    public mutating func add(serialHex hex: UnsafeBufferPointer<UInt8>, revokedAt: Int64, reason: Int, invalidityDate: Int64?) {
        // Serial magnitude from hex, skipping leading zero nibbles.
        var start = 0
        while start < hex.count - 1, hex[start] == UInt8(ascii: "0") { start += 1 }
        let digits = hex.count - start
        let magnitudeCount = (digits + 1) / 2
        @inline(__always) func nibble(_ c: UInt8) -> UInt8 {
            c >= 97 ? c - 87 : c >= 65 ? c - 55 : c - 48
        }
        let firstByte: UInt8 = digits % 2 == 1 ? nibble(hex[start]) : nibble(hex[start]) << 4 | nibble(hex[start + 1])
        let pad = firstByte & 0x80 != 0 ? 1 : 0
        let serialTLV = 2 + magnitudeCount + pad
        let timeTLV = DERWriter.timeLength(unix: revokedAt)
        let hasReason = reason != 0
        let extsContent = (hasReason ? 12 : 0) + (invalidityDate != nil ? 26 : 0)
        let extsTLV = extsContent == 0 ? 0 : 2 + extsContent
        let content = serialTLV + timeTLV + extsTLV
        if content >= 0x80 {
            // Not the hot path (serials over ~60 octets cannot happen here); take the general one.
            let bytes = (0..<magnitudeCount).map { i -> UInt8 in
                let hi = digits % 2 == 1 ? (i == 0 ? 0 : nibble(hex[start + 2 * i - 1])) : nibble(hex[start + 2 * i])
                let lo = digits % 2 == 1 ? nibble(hex[start + 2 * i]) : nibble(hex[start + 2 * i + 1])
                return hi << 4 | lo
            }
            add(serial: bytes, revocationDate: Date(timeIntervalSince1970: TimeInterval(revokedAt)),
                reason: RevocationReason(rawValue: reason) ?? .unspecified,
                invalidityDate: invalidityDate.map { Date(timeIntervalSince1970: TimeInterval($0)) })
            return
        }
        entries.append(0x30)
        entries.append(UInt8(content))
        entries.append(0x02)
        entries.append(UInt8(magnitudeCount + pad))
        if pad == 1 { entries.append(0) }
        entries.append(firstByte)
        var i = digits % 2 == 1 ? start + 1 : start + 2
        while i + 1 < hex.count + 0 && i < hex.count {
            entries.append(nibble(hex[i]) << 4 | nibble(hex[i + 1]))
            i += 2
        }
        DERWriter.time(unix: revokedAt, generalized: false, into: &entries)
        if extsTLV > 0 {
            entries.append(0x30)
            entries.append(UInt8(extsContent))
            if hasReason { entries += [0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, UInt8(reason)] }
            if let inv = invalidityDate {
                entries += [0x30, 0x18, 0x06, 0x03, 0x55, 0x1d, 0x18, 0x04, 0x11]
                DERWriter.time(unix: inv, generalized: true, into: &entries)
            }
        }
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
        time(unix: Int64(floor(date.timeIntervalSince1970)), generalized: false, into: &out)
    }

    public static func generalizedTime(_ date: Date, into out: inout [UInt8]) {
        time(unix: Int64(floor(date.timeIntervalSince1970)), generalized: true, into: &out)
    }

    /// 2050-01-01T00:00:00Z: from then on RFC 5280 requires GeneralizedTime.
    static let utcTimeLimit: Int64 = 2_524_608_000

    static func timeLength(unix: Int64) -> Int { unix < utcTimeLimit ? 15 : 17 }

    /// UTCTime (or GeneralizedTime when `generalized` or from 2050) from Unix seconds.
    public static func time(unix: Int64, generalized: Bool, into out: inout [UInt8]) {
        var t = time_t(unix)
        var tm = tm()
        gmtime_r(&t, &tm)
        let year = Int(tm.tm_year) + 1900
        if !generalized && unix < utcTimeLimit {
            out.append(0x17); out.append(0x0d)
            digits(year % 100, into: &out)
        } else {
            out.append(0x18); out.append(0x0f)
            digits(year / 100, into: &out)
            digits(year % 100, into: &out)
        }
        digits(Int(tm.tm_mon) + 1, into: &out)
        digits(Int(tm.tm_mday), into: &out)
        digits(Int(tm.tm_hour), into: &out)
        digits(Int(tm.tm_min), into: &out)
        digits(Int(tm.tm_sec), into: &out)
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

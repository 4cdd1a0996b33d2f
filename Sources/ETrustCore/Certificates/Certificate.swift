import Foundation
import SwiftASN1
internal import COpenSSL

/// An X.509 certificate as DER bytes with its fields decoded (swift-asn1). OpenSSL objects are made
/// from the DER only where OpenSSL's logic is needed (printing, path validation).
public struct Certificate: Sendable, Hashable {
    public let der: [UInt8]
    public let tbsDER: ArraySlice<UInt8>
    public let version: Int
    /// The serial number's INTEGER content octets (two's complement, as encoded).
    public let serial: [UInt8]
    public let issuer: DistinguishedName
    public let subject: DistinguishedName
    public let notBefore: Date
    public let notAfter: Date
    public let subjectPublicKeyInfo: [UInt8]
    public let extensions: [Extension]
    public let signatureAlgorithm: SignatureAlgorithm
    public let signature: [UInt8]
    /// OpenSSL's parse of `der`, made on first use and shared by copies of this value, so that
    /// validating the same certificate again does not decode it again (d2i_X509 costs more
    /// than the signature checks of a path).
    let x509Cache = X509Cache()

    public static func == (a: Certificate, b: Certificate) -> Bool { a.der == b.der }
    public func hash(into h: inout Hasher) { h.combine(der) }

    public init(der: [UInt8], what: String = "certificate") throws {
        do {
            let root = try DER.parse(der)
            guard root.encodedBytes.count == der.count else { throw ETrustError.badInput("\(what): trailing data") }
            var parsed: (ArraySlice<UInt8>, Int, [UInt8], [UInt8], [UInt8], Date, Date, [UInt8], [Extension], ASN1ObjectIdentifier, [UInt8])!
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbs = nodes.next() else { throw ETrustError.badInput("\(what): empty") }
                var fields: (Int, [UInt8], [UInt8], [UInt8], Date, Date, [UInt8], [Extension])!
                var innerAlgorithm: ArraySlice<UInt8> = []
                try DER.sequence(tbs, identifier: .sequence) { t in
                    let version = try DER.optionalExplicitlyTagged(&t, tagNumber: 0, tagClass: .contextSpecific) { try Int(derEncoded: $0) } ?? 0
                    let serial = try Certificate.integerContent(t.next())
                    guard let innerAlg = t.next() else { throw ETrustError.badInput("\(what): truncated TBSCertificate") }
                    innerAlgorithm = innerAlg.encodedBytes
                    guard let issuer = t.next(), let validity = t.next(), let subject = t.next(), let spki = t.next() else {
                        throw ETrustError.badInput("\(what): truncated TBSCertificate")
                    }
                    let (nb, na): (Date, Date) = try DER.sequence(validity, identifier: .sequence) { v in
                        (try Certificate.parseTime(v.next()), try Certificate.parseTime(v.next()))
                    }
                    var exts: [Extension] = []
                    while let n = t.next() {
                        if n.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific),
                           case .constructed(let inner) = n.content, let seq = inner.first(where: { _ in true }) {
                            exts = try Certificate.parseExtensions(seq)
                        }
                    }
                    fields = (version, Array(serial), Array(issuer.encodedBytes), Array(subject.encodedBytes), nb, na, Array(spki.encodedBytes), exts)
                }
                guard let outerAlg = nodes.next() else { throw ETrustError.badInput("\(what): missing signatureAlgorithm") }
                // RFC 5280 4.1.1.2: signatureAlgorithm MUST equal the TBSCertificate's signature field.
                guard outerAlg.encodedBytes == innerAlgorithm else {
                    throw ETrustError.badInput("\(what): signature algorithm mismatch between the certificate and its TBSCertificate")
                }
                let alg: ASN1ObjectIdentifier = try DER.sequence(outerAlg, identifier: .sequence) { a in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &a); _ = a.next(); return oid
                }
                let sig = try ASN1BitString(derEncoded: &nodes)
                parsed = (tbs.encodedBytes, fields.0, fields.1, fields.2, fields.3, fields.4, fields.5, fields.6, fields.7, alg, Array(sig.bytes))
            }
            self.der = der
            self.tbsDER = parsed.0
            self.version = parsed.1 + 1
            self.serial = parsed.2
            self.issuer = try DistinguishedName(der: parsed.3)
            self.subject = try DistinguishedName(der: parsed.4)
            self.notBefore = parsed.5
            self.notAfter = parsed.6
            self.subjectPublicKeyInfo = parsed.7
            self.extensions = parsed.8
            self.signatureAlgorithm = try SignatureAlgorithm(oid: parsed.9)
            self.signature = parsed.10
        } catch {
            throw ASN1Errors.invalid(error, what: what, kind: "X.509 certificate")
        }
    }

    /// A certificate just signed from `fields` (see TBSCertificate.sign).
    init(der: [UInt8], tbsRange: Range<Int>, fields: TBSCertificate, signature: [UInt8]) {
        self.der = der
        self.tbsDER = der[tbsRange]
        self.version = 3
        // The INTEGER's content octets, as a parse of the DER gives them.
        var magnitude = Array(fields.serial.drop(while: { $0 == 0 }))
        if magnitude.isEmpty { magnitude = [0] } else if magnitude[0] & 0x80 != 0 { magnitude.insert(0, at: 0) }
        self.serial = magnitude
        self.issuer = fields.issuer
        self.subject = fields.subject
        self.notBefore = Date(timeIntervalSince1970: floor(fields.notBefore.timeIntervalSince1970))
        self.notAfter = Date(timeIntervalSince1970: floor(fields.notAfter.timeIntervalSince1970))
        self.subjectPublicKeyInfo = fields.subjectPublicKeyInfo
        self.extensions = fields.extensions
        self.signatureAlgorithm = fields.signatureAlgorithm
        self.signature = signature
    }

    static func lengthOfTLVHeader(contentLength n: Int) -> Int {
        n < 0x80 ? 2 : n < 0x100 ? 3 : n < 0x10000 ? 4 : 5
    }

    /// The first certificate of a PEM or DER input.
    public init(bytes: [UInt8], what: String = "certificate") throws {
        let blocks = try InputFile.derBlocks(bytes, labels: ["CERTIFICATE", "TRUSTED CERTIFICATE"], what: what)
        try self.init(der: blocks[0], what: what)
    }

    /// Every certificate of a PEM bundle (or the one DER certificate).
    public static func all(bytes: [UInt8], what: String = "certificate") throws -> [Certificate] {
        try InputFile.derBlocks(bytes, labels: ["CERTIFICATE"], what: what).map { try Certificate(der: $0, what: what) }
    }

    static func parseTime(_ node: ASN1Node?) throws -> Date {
        guard let node else { throw ETrustError.badInput("missing time") }
        if node.identifier == .utcTime {
            let t = try UTCTime(derEncoded: node)
            return UTCFields(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds).date
        }
        let t = try GeneralizedTime(derEncoded: node)
        return UTCFields(year: t.year, month: t.month, day: t.day, hour: t.hours, minute: t.minutes, second: t.seconds).date
    }

    static func parseExtensions(_ node: ASN1Node) throws -> [Extension] {
        guard node.identifier == .sequence, case .constructed(let children) = node.content else {
            throw ETrustError.badInput("malformed Extensions")
        }
        var result: [Extension] = []
        for ext in children {
            result.append(try DER.sequence(ext, identifier: .sequence) { e in
                let oid = try ASN1ObjectIdentifier(derEncoded: &e)
                var critical = false
                var next = e.next()
                if let n = next, n.identifier == .boolean {
                    critical = try Bool(derEncoded: n)
                    next = e.next()
                }
                guard let n = next else { throw ETrustError.badInput("extension \(oid) has no value") }
                let value = try ASN1OctetString(derEncoded: n)
                return Extension(oid: oid.description, critical: critical, value: Array(value.bytes))
            })
        }
        return result
    }

    // MARK: Convenience

    /// The serial in hex, lower case, without leading zeros; a negative serial (which RFC 5280
    /// forbids but PKITS and real CAs have produced) as "-" and its magnitude.
    public var serialHex: String { Certificate.serialHex(serial) }

    /// The content octets of a DER INTEGER, as is (two's complement).
    static func integerContent(_ node: ASN1Node?) throws -> [UInt8] {
        guard let node, node.identifier == .integer, case .primitive(let bytes) = node.content, !bytes.isEmpty else {
            throw ETrustError.badInput("malformed INTEGER")
        }
        return Array(bytes)
    }

    /// Hex of a two's-complement integer: magnitude without leading zeros, "-" when negative.
    package static func serialHex(_ bytes: [UInt8]) -> String {
        if let first = bytes.first, first & 0x80 != 0 {
            // Negate: invert and add one.
            var m = bytes.map { ~$0 }
            var i = m.count - 1
            while i >= 0 { let (v, o) = m[i].addingReportingOverflow(1); m[i] = v; if !o { break }; i -= 1 }
            let trimmed = Array(m.drop(while: { $0 == 0 }))
            return "-" + Hex.encode(trimmed.isEmpty ? [0] : trimmed)
        }
        let trimmed = Array(bytes.drop(while: { $0 == 0 }))
        return Hex.encode(trimmed.isEmpty ? [0] : trimmed)
    }
    public var pem: String { PEM.encode(der, label: "CERTIFICATE") }
    public var sha256Fingerprint: [UInt8] { Digest.sha256(der) }

    public func `extension`(_ oid: String) -> Extension? { extensions.first { $0.oid == oid } }

    public var subjectAltNames: [GeneralName] {
        guard let e = `extension`(ExtensionOID.subjectAltName) else { return [] }
        return (try? GeneralName.parseSequence(ArraySlice(e.value))) ?? []
    }

    /// (isCA, pathLength) from basicConstraints.
    public var basicConstraints: (ca: Bool, pathLength: Int?)? {
        `extension`(ExtensionOID.basicConstraints).flatMap { Extension.decodeBasicConstraints($0.value) }
    }

    public var keyUsage: Set<KeyUsageBit>? {
        `extension`(ExtensionOID.keyUsage).flatMap { Extension.decodeKeyUsage($0.value) }
    }

    public var subjectKeyIdentifier: [UInt8]? {
        guard let e = `extension`(ExtensionOID.subjectKeyIdentifier), let node = try? DER.parse(e.value),
              let o = try? ASN1OctetString(derEncoded: node) else { return nil }
        return Array(o.bytes)
    }

    public var publicKey: PublicKey { get throws { try PublicKey(subjectPublicKeyInfo: subjectPublicKeyInfo) } }

    public var isSelfIssued: Bool { issuer.der == subject.der }

    /// Checks this certificate's signature with the issuer's key.
    public func isSigned(by issuer: PublicKey) throws -> Bool {
        try issuer.verify(signature: signature, data: tbsDER, algorithm: signatureAlgorithm)
    }

    /// `openssl x509 -text`, through OpenSSL's printer.
    public var text: String {
        get throws {
            clearOpenSSLErrors()
            guard let bio = BIO_new(BIO_s_mem()) else { throw ETrustError.openSSL("BIO_new") }
            defer { BIO_free(bio) }
            try withUnsafeX509Pointer { x in
                try check(X509_print_ex(bio, x, etrust_XN_FLAG_RFC2253_UTF8(), 0), "X509_print_ex")
            }
            var p: UnsafeMutablePointer<CChar>? = nil
            let n = etrust_BIO_get_mem_data(bio, &p)
            return String(decoding: UnsafeRawBufferPointer(start: p, count: Int(n)), as: UTF8.self)
        }
    }
}

import Foundation
import SwiftASN1

/// The to-be-signed part of a certificate, encoded with swift-asn1 directly from the bytes the CA
/// already holds (issuer name, requester's subject and SPKI), so that issuance never decodes and
/// re-encodes a public key through OpenSSL's object model. A test proves the encoding is
/// byte-identical to OpenSSL's own (`i2d_re_X509_tbs`).
public struct TBSCertificate: Sendable {
    public var serial: [UInt8]
    public var signatureAlgorithm: SignatureAlgorithm
    public var issuer: DistinguishedName
    public var notBefore: Date
    public var notAfter: Date
    public var subject: DistinguishedName
    public var subjectPublicKeyInfo: [UInt8]
    public var extensions: [Extension]

    public init(serial: [UInt8], signatureAlgorithm: SignatureAlgorithm, issuer: DistinguishedName, notBefore: Date,
                notAfter: Date, subject: DistinguishedName, subjectPublicKeyInfo: [UInt8], extensions: [Extension]) {
        self.serial = serial; self.signatureAlgorithm = signatureAlgorithm; self.issuer = issuer
        self.notBefore = notBefore; self.notAfter = notAfter; self.subject = subject
        self.subjectPublicKeyInfo = subjectPublicKeyInfo; self.extensions = extensions
    }

    public func encode() throws -> [UInt8] {
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            try s.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { s in try s.serialize(2) }
            try s.serialize(ArraySlice(serial) as ArraySlice<UInt8>)
            s.serializeRawBytes(signatureAlgorithm.algorithmIdentifierDER)
            s.serializeRawBytes(issuer.der)
            try s.appendConstructedNode(identifier: .sequence) { s in
                try TBSCertificate.serializeTime(notBefore, into: &s)
                try TBSCertificate.serializeTime(notAfter, into: &s)
            }
            s.serializeRawBytes(subject.der)
            s.serializeRawBytes(subjectPublicKeyInfo)
            if !extensions.isEmpty {
                try s.serialize(explicitlyTaggedWithTagNumber: 3, tagClass: .contextSpecific) { s in
                    try s.appendConstructedNode(identifier: .sequence) { s in
                        for e in extensions { s.serializeRawBytes(e.der) }
                    }
                }
            }
        }
        return s.serializedBytes
    }

    /// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu.
    static func serializeTime(_ date: Date, into s: inout DER.Serializer) throws {
        let c = UTCFields(date)
        let (y, mo, d, h, mi, se) = (c.year, c.month, c.day, c.hour, c.minute, c.second)
        if y < 2050 {
            try s.serialize(try UTCTime(year: y, month: mo, day: d, hours: h, minutes: mi, seconds: se))
        } else {
            try s.serialize(try GeneralizedTime(year: y, month: mo, day: d, hours: h, minutes: mi, seconds: se, fractionalSeconds: 0))
        }
    }

    /// Signs the encoding and returns the certificate.
    public func sign(with signer: Signer) throws -> Certificate {
        try sign(encoded: try encode(), with: signer)
    }

    /// Signs `tbs`, which must be this value's `encode()` (made once when it was recorded
    /// before signing), and returns the certificate.
    public func sign(encoded tbs: [UInt8], with signer: Signer) throws -> Certificate {
        guard signer.algorithm == signatureAlgorithm else {
            throw ETrustError.environment("the TBS states \(signatureAlgorithm) but the signer uses \(signer.algorithm)", code: .invalidArgument)
        }
        let signature = try signer.sign(tbs)
        var s = DER.Serializer()
        try s.appendConstructedNode(identifier: .sequence) { s in
            s.serializeRawBytes(tbs)
            s.serializeRawBytes(signatureAlgorithm.algorithmIdentifierDER)
            try s.serialize(ASN1BitString(bytes: ArraySlice(signature)))
        }
        let der = s.serializedBytes
        // The fields are known: no need to parse back what was just encoded.
        let header = der.count - tbs.count - signatureAlgorithm.algorithmIdentifierDER.count - (signature.count + 1) - Certificate.lengthOfTLVHeader(contentLength: signature.count + 1)
        return Certificate(der: der, tbsRange: header..<(header + tbs.count), fields: self, signature: signature)
    }
}

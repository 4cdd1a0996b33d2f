import ETrustCore
import Foundation

/// The responder side of RFC 6960, on OpenSSL's OCSP_* functions: parse a request, and sign
/// answers with the CA key or a delegated responder key. The daemon (issue #6) builds on this.
/// OpenSSL is reached through ETrustCore's owning wrappers (OpenSSLOCSP*).
public enum OCSPResponder {
    /// RFC 6960 4.2.1 OCSPResponseStatus values for unsigned error responses.
    public enum ErrorStatus: UInt8, Sendable {
        case malformedRequest = 1, internalError = 2, tryLater = 3, sigRequired = 5, unauthorized = 6

        /// OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } (no responseBytes).
        public var der: [UInt8] { [0x30, 0x03, 0x0a, 0x01, rawValue] }
    }

    /// One certificate asked about.
    public struct Query: Sendable {
        /// The CertID as sent (to be echoed in the answer).
        public let certIDDER: [UInt8]
        public let hashAlgorithm: String      // dotted OID of the issuer hashes' algorithm
        public let issuerNameHash: [UInt8]
        public let issuerKeyHash: [UInt8]
        /// The serial's INTEGER content octets.
        public let serial: [UInt8]
        public var serialHex: String { Certificate.serialHex(serial) }

        public init(certIDDER: [UInt8], hashAlgorithm: String, issuerNameHash: [UInt8], issuerKeyHash: [UInt8], serial: [UInt8]) {
            self.certIDDER = certIDDER; self.hashAlgorithm = hashAlgorithm; self.issuerNameHash = issuerNameHash
            self.issuerKeyHash = issuerKeyHash; self.serial = serial
        }

        /// The SHA-1 CertID a RFC 5019 client sends for `serialHex` of `issuer`.
        public init(issuer: Certificate, serialHex: String) throws {
            guard let magnitude = Hex.decode(serialHex) else { throw ETrustError.badInput("bad serial \(serialHex)", code: .invalidArgument) }
            var content = Array(magnitude.drop(while: { $0 == 0 }))
            if content.isEmpty { content = [0] } else if content[0] & 0x80 != 0 { content.insert(0, at: 0) }
            let certID = try OpenSSLOCSPCertID(sha1Issuer: issuer, serialMagnitude: magnitude)
            let hashes = try OCSPResponder.issuerHashes(of: issuer)
            self.init(certIDDER: try certID.der, hashAlgorithm: "1.3.14.3.2.26",
                      issuerNameHash: hashes.sha1.name, issuerKeyHash: hashes.sha1.key, serial: content)
        }
    }

    public struct ParsedRequest: Sendable {
        public let der: [UInt8]
        public let queries: [Query]
        public let hasNonce: Bool
    }

    /// Parses a DER OCSPRequest; nil when it is not one (answer malformedRequest).
    public static func parse(_ der: [UInt8]) -> ParsedRequest? {
        guard let req = OpenSSLOCSPRequest(der: der), let ids = req.certIDs else { return nil }
        var queries: [Query] = []
        for id in ids {
            guard let f = id.fields, let cidDER = try? id.der else { return nil }
            queries.append(Query(certIDDER: cidDER, hashAlgorithm: f.hashAlgorithm, issuerNameHash: f.issuerNameHash,
                                 issuerKeyHash: f.issuerKeyHash, serial: f.serial))
        }
        guard !queries.isEmpty else { return nil }
        return ParsedRequest(der: der, queries: queries, hasNonce: req.hasNonce)
    }

    /// The hashes by which requests name an issuer (SHA-1, as RFC 5019 clients send, and
    /// SHA-256): of its subject DER and of its public key bits.
    public static func issuerHashes(of ca: Certificate) throws -> (sha1: (name: [UInt8], key: [UInt8]), sha256: (name: [UInt8], key: [UInt8])) {
        let key = try ca.publicKey.subjectPublicKeyBits
        return ((Digest.sha1(ca.subject.der), Digest.sha1(key)), (Digest.sha256(ca.subject.der), Digest.sha256(key)))
    }

    public struct Answer: Sendable {
        public var query: Query
        public var status: OCSPCertificateStatus
        public init(query: Query, status: OCSPCertificateStatus) { self.query = query; self.status = status }
    }

    /// A signed, successful OCSPResponse answering every query, signed by `signer` (the CA, or a
    /// delegated responder whose certificate is included), thisUpdate `now`, nextUpdate
    /// `now + validity`, the request's nonce echoed when there is one.
    public static func sign(answers: [Answer], signerCertificate: Certificate, signer: PrivateKey, includeCertificate: Bool,
                            now: Date, validity: TimeInterval, nonceFrom request: ParsedRequest?,
                            extendedRevokedDefinition: Bool = false) throws -> [UInt8] {
        let basic = try OpenSSLOCSPBasicResponse()
        if extendedRevokedDefinition {
            // RFC 6960 4.4.8: id-pkix-ocsp-extended-revoke (value NULL) when "revoked" answers
            // for certificates never issued.
            try basic.addExtension(oid: "1.3.6.1.5.5.7.48.1.9", valueDER: [0x05, 0x00])
        }
        let nextUpdate = now.addingTimeInterval(validity)
        for a in answers {
            let cid = try OpenSSLOCSPCertID(der: a.query.certIDDER)
            switch a.status {
            case .good:
                try basic.addStatus(cid, .good, thisUpdate: now, nextUpdate: nextUpdate)
            case .unknown:
                try basic.addStatus(cid, .unknown, thisUpdate: now, nextUpdate: nextUpdate)
            case .revoked(let time, let reason):
                try basic.addStatus(cid, .revoked, reason: reason?.rawValue ?? -1, revocationTime: time, thisUpdate: now, nextUpdate: nextUpdate)
            }
        }
        if let request, request.hasNonce, let req = OpenSSLOCSPRequest(der: request.der) {
            try basic.copyNonce(from: req)
        }
        // ResponderID byKey (RFC 6960 4.2.2.3); the delegated certificate rides along.
        try basic.sign(certificate: signerCertificate, key: signer, responderIDByKey: true, includeCertificate: includeCertificate)
        return try OpenSSLOCSPResponse(successful: basic).der
    }
}

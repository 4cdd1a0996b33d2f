import ETrustCore
import Foundation

public struct OCSPCheck: Sendable {
    public var status: OCSPCertificateStatus
    public var thisUpdate: Date
    public var nextUpdate: Date?
    public var responder: String
}

/// An RFC 6960 client: builds requests (with a nonce), sends them over HTTP with OpenSSL's
/// client (bounded time and size), and checks responses: signature and responder
/// authorization (OCSP_basic_verify), the certificate's status, freshness and the nonce.
public enum OCSPClient {
    public struct Request: Sendable {
        public let der: [UInt8]
        public let hasNonce: Bool
    }

    /// A request for `certificate` issued by `issuer` (CertID with SHA-1, as RFC 5019 clients send).
    public static func request(for certificate: Certificate, issuer: Certificate, nonce: Bool = true) throws -> Request {
        let req = try OpenSSLOCSPRequest()
        try req.add(try OpenSSLOCSPCertID(sha1For: certificate, issuer: issuer))
        if nonce { try req.addNonce() }
        return Request(der: try req.der, hasNonce: nonce)
    }

    /// POSTs a request to an http:// responder (OSSL_HTTP_transfer): at most `maxBytes`, `timeout` seconds.
    public static func send(_ request: Request, to url: String, timeout: Int32 = 10, maxBytes: Int = 1 << 20) throws -> [UInt8] {
        guard let parts = OpenSSLHTTP.parse(url) else {
            throw ETrustError.badInput("'\(url)' is not an http URL", code: .invalidArgument)
        }
        guard !parts.tls else { throw ETrustError.badInput("OCSP over https is not supported; use an http:// responder URL", code: .invalidArgument) }
        return try OpenSSLHTTP.post(host: parts.host, port: parts.port, path: parts.path, body: request.der,
                                    contentType: "application/ocsp-request", expectedType: "application/ocsp-response",
                                    timeout: timeout, maxBytes: maxBytes, failure: "OCSP request to \(url) failed",
                                    tooLarge: "OCSP response from \(url) is over \(maxBytes) bytes")
    }

    /// Checks a response for `certificate`: successful, signed by the CA or by a responder the CA
    /// authorized (id-kp-OCSPSigning, RFC 6960 4.2.2.2), for this certificate, fresh at `time`
    /// (with `skew`), and echoing the request's nonce when it has one.
    public static func check(response der: [UInt8], certificate: Certificate, issuer: Certificate, trust: TrustStore,
                             request: Request?, at time: Date, skew: TimeInterval = 300) throws -> OCSPCheck {
        let resp = try OpenSSLOCSPResponse(der: der)
        guard resp.isSuccessful else {
            throw ETrustError.refused("the OCSP responder answered \(resp.statusText)", code: .badSignature)
        }
        guard let basic = resp.basic() else { throw ETrustError.refused("the OCSP response has no basic response", code: .malformedInput) }
        let chain = try OpenSSLCertificateStack([issuer])
        // Signature, responder authorization and the responder's own path to a trust anchor.
        if let why = basic.verify(chain: chain, store: trust.store) {
            throw ETrustError.refused("the OCSP response does not verify: \(why)", code: .badSignature)
        }
        if let request, let reqObj = OpenSSLOCSPRequest(der: request.der) {
            // 1: both present and equal; 2: neither; -1: only in the request (pre-signed
            // responses carry none, RFC 5019); 0: present and different.
            if basic.checkNonce(request: reqObj) == 0 {
                throw ETrustError.refused("the OCSP response's nonce does not match the request's", code: .badSignature)
            }
        }
        let id = try OpenSSLOCSPCertID(sha1For: certificate, issuer: issuer)
        guard let single = try basic.status(for: id) else {
            throw ETrustError.refused("the OCSP response is not about this certificate", code: .notFound)
        }
        let thisUpdate = single.thisUpdate
        let nextUpdate = single.nextUpdate
        if thisUpdate > time.addingTimeInterval(skew) {
            throw ETrustError.refused("the OCSP response is not yet valid (thisUpdate \(RFC3339.format(thisUpdate)))", code: .badSignature)
        }
        if let n = nextUpdate, n < time.addingTimeInterval(-skew) {
            throw ETrustError.refused("the OCSP response is stale (nextUpdate \(RFC3339.format(n)))", code: .badSignature)
        }
        let certStatus: OCSPCertificateStatus
        switch single.status {
        case .good: certStatus = .good
        case .revoked:
            certStatus = .revoked(time: single.revocationTime ?? thisUpdate, reason: single.reason >= 0 ? RevocationReason(rawValue: single.reason) : nil)
        case .unknown: certStatus = .unknown
        }
        var responder = "the CA"
        if let signer = basic.signer(chain: chain), !signer.isEqual(to: try issuer.openSSLCertificate) {
            responder = (try? signer.subject.description) ?? "a delegated responder"
        }
        return OCSPCheck(status: certStatus, thisUpdate: thisUpdate, nextUpdate: nextUpdate, responder: responder)
    }

    /// The OCSP URLs of a certificate's authorityInfoAccess.
    public static func responderURLs(of certificate: Certificate) -> [String] {
        certificate.extension(ExtensionOID.authorityInfoAccess)?.authorityInfoAccess.uris(method: AccessDescription.ocsp) ?? []
    }

    /// The caIssuers URLs of a certificate's authorityInfoAccess.
    public static func caIssuersURLs(of certificate: Certificate) -> [String] {
        certificate.extension(ExtensionOID.authorityInfoAccess)?.authorityInfoAccess.uris(method: AccessDescription.caIssuers) ?? []
    }

    /// GETs an http URL (for --fetch-issuers), bounded in size and time.
    public static func get(_ url: String, timeout: Int32 = 10, maxBytes: Int = 1 << 20) throws -> [UInt8] {
        guard url.hasPrefix("http://") else { throw ETrustError.badInput("only http:// URLs are fetched ('\(url)')", code: .invalidArgument) }
        return try OpenSSLHTTP.get(url, timeout: timeout, maxBytes: maxBytes, failure: "fetching \(url) failed",
                                   tooLarge: "\(url) is over \(maxBytes) bytes")
    }
}

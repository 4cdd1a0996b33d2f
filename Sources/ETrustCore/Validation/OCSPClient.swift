import Foundation
import SwiftASN1
internal import COpenSSL

/// The answer an OCSP response gives for one certificate, after its checks.
public enum OCSPCertificateStatus: Sendable, Equatable {
    case good
    case revoked(time: Date, reason: RevocationReason?)
    case unknown
}

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
        clearOpenSSLErrors()
        let cert = try certificate.withX509 { $0 }
        defer { X509_free(cert) }
        let iss = try issuer.withX509 { $0 }
        defer { X509_free(iss) }
        guard let req = OCSP_REQUEST_new() else { throw ETrustError.openSSL("OCSP_REQUEST_new") }
        defer { OCSP_REQUEST_free(req) }
        guard let id = OCSP_cert_to_id(EVP_sha1(), cert, iss) else { throw ETrustError.openSSL("OCSP_cert_to_id") }
        guard OCSP_request_add0_id(req, id) != nil else { OCSP_CERTID_free(id); throw ETrustError.openSSL("OCSP_request_add0_id") }
        if nonce { guard OCSP_request_add1_nonce(req, nil, -1) == 1 else { throw ETrustError.openSSL("OCSP_request_add1_nonce") } }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_OCSP_REQUEST(req, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_OCSP_REQUEST") }
        defer { etrust_openssl_free(out) }
        return Request(der: Array(UnsafeBufferPointer(start: out, count: Int(n))), hasNonce: nonce)
    }

    /// POSTs a request to an http:// responder (OSSL_HTTP_transfer): at most `maxBytes`, `timeout` seconds.
    public static func send(_ request: Request, to url: String, timeout: Int32 = 10, maxBytes: Int = 1 << 20) throws -> [UInt8] {
        clearOpenSSLErrors()
        var ssl: Int32 = 0
        var host: UnsafeMutablePointer<CChar>? = nil, port: UnsafeMutablePointer<CChar>? = nil, path: UnsafeMutablePointer<CChar>? = nil
        guard OSSL_HTTP_parse_url(url, &ssl, nil, &host, &port, nil, &path, nil, nil) == 1, let host, let port, let path else {
            throw ETrustError.badInput("'\(url)' is not an http URL", code: .invalidArgument)
        }
        defer { etrust_openssl_free(host); etrust_openssl_free(port); etrust_openssl_free(path) }
        guard ssl == 0 else { throw ETrustError.badInput("OCSP over https is not supported; use an http:// responder URL", code: .invalidArgument) }
        guard let body = request.der.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
            throw ETrustError.openSSL("BIO_new_mem_buf")
        }
        defer { BIO_free(body) }
        guard let response = OSSL_HTTP_transfer(nil, host, port, path, 0, nil, nil, nil, nil, nil, nil, 0, nil,
                                                "application/ocsp-request", body, "application/ocsp-response", 1,
                                                maxBytes, timeout, 0) else {
            throw ETrustError.environment("OCSP request to \(url) failed: \(drainOpenSSLErrors())", code: .io)
        }
        defer { BIO_free_all(response) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { BIO_read(response, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { break }
            bytes += buf[0..<Int(n)]
            if bytes.count > maxBytes { throw ETrustError.environment("OCSP response from \(url) is over \(maxBytes) bytes", code: .io) }
        }
        clearOpenSSLErrors()
        return bytes
    }

    /// Checks a response for `certificate`: successful, signed by the CA or by a responder the CA
    /// authorized (id-kp-OCSPSigning, RFC 6960 4.2.2.2), for this certificate, fresh at `time`
    /// (with `skew`), and echoing the request's nonce when it has one.
    public static func check(response der: [UInt8], certificate: Certificate, issuer: Certificate, trust: TrustStore,
                             request: Request?, at time: Date, skew: TimeInterval = 300) throws -> OCSPCheck {
        clearOpenSSLErrors()
        let resp: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_OCSP_RESPONSE(nil, &p, buf.count)
        }
        guard let resp else { throw ETrustError.refused("the OCSP response is not valid DER: \(drainOpenSSLErrors())", code: .malformedInput) }
        defer { OCSP_RESPONSE_free(resp) }
        let status = OCSP_response_status(resp)
        guard status == OCSP_RESPONSE_STATUS_SUCCESSFUL else {
            throw ETrustError.refused("the OCSP responder answered \(String(cString: OCSP_response_status_str(Int(status))))", code: .badSignature)
        }
        guard let basic = OCSP_response_get1_basic(resp) else { throw ETrustError.refused("the OCSP response has no basic response", code: .malformedInput) }
        defer { OCSP_BASICRESP_free(basic) }

        let cert = try certificate.withX509 { $0 }
        defer { X509_free(cert) }
        let iss = try issuer.withX509 { $0 }
        defer { X509_free(iss) }
        let chain = try X509Stack([issuer])
        // Signature, responder authorization and the responder's own path to a trust anchor.
        guard OCSP_basic_verify(basic, chain.stack, trust.store, 0) == 1 else {
            throw ETrustError.refused("the OCSP response does not verify: \(drainOpenSSLErrors())", code: .badSignature)
        }
        if let request {
            let reqObj: OpaquePointer? = request.der.withUnsafeBufferPointer { buf in
                var p = buf.baseAddress
                return d2i_OCSP_REQUEST(nil, &p, buf.count)
            }
            if let reqObj {
                defer { OCSP_REQUEST_free(reqObj) }
                // 1: both present and equal; 2: neither; -1: only in the request (pre-signed
                // responses carry none, RFC 5019); 0: present and different.
                if OCSP_check_nonce(reqObj, basic) == 0 {
                    throw ETrustError.refused("the OCSP response's nonce does not match the request's", code: .badSignature)
                }
            }
        }
        guard let id = OCSP_cert_to_id(EVP_sha1(), cert, iss) else { throw ETrustError.openSSL("OCSP_cert_to_id") }
        defer { OCSP_CERTID_free(id) }
        var st: Int32 = 0, reason: Int32 = -1
        var rev: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil, thisUpd: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil,
            nextUpd: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
        guard OCSP_resp_find_status(basic, id, &st, &reason, &rev, &thisUpd, &nextUpd) == 1, let thisUpd else {
            clearOpenSSLErrors()
            throw ETrustError.refused("the OCSP response is not about this certificate", code: .notFound)
        }
        let thisUpdate = try asn1Time(thisUpd)
        let nextUpdate = try nextUpd.map { try asn1Time($0) }
        if thisUpdate > time.addingTimeInterval(skew) {
            throw ETrustError.refused("the OCSP response is not yet valid (thisUpdate \(RFC3339.format(thisUpdate)))", code: .badSignature)
        }
        if let n = nextUpdate, n < time.addingTimeInterval(-skew) {
            throw ETrustError.refused("the OCSP response is stale (nextUpdate \(RFC3339.format(n)))", code: .badSignature)
        }
        let certStatus: OCSPCertificateStatus
        switch st {
        case V_OCSP_CERTSTATUS_GOOD: certStatus = .good
        case V_OCSP_CERTSTATUS_REVOKED:
            certStatus = .revoked(time: try rev.map { try asn1Time($0) } ?? thisUpdate, reason: reason >= 0 ? RevocationReason(rawValue: Int(reason)) : nil)
        default: certStatus = .unknown
        }
        var responder = "the CA"
        var signer: OpaquePointer? = nil
        if OCSP_resp_get0_signer(basic, &signer, chain.stack) == 1, let signer, X509_cmp(signer, iss) != 0 {
            responder = (try? DistinguishedName(borrowing: X509_get_subject_name(signer)).description) ?? "a delegated responder"
        }
        clearOpenSSLErrors()
        return OCSPCheck(status: certStatus, thisUpdate: thisUpdate, nextUpdate: nextUpdate, responder: responder)
    }

    static func asn1Time(_ t: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>) throws -> Date {
        var tm = tm()
        guard ASN1_TIME_to_tm(t, &tm) == 1 else { throw ETrustError.openSSL("ASN1_TIME_to_tm") }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }

    /// The OCSP URLs of a certificate's authorityInfoAccess.
    public static func responderURLs(of certificate: Certificate) -> [String] {
        guard let aia = certificate.extension(ExtensionOID.authorityInfoAccess) else { return [] }
        return AIA.urls(aia.value, method: "1.3.6.1.5.5.7.48.1")
    }

    /// The caIssuers URLs of a certificate's authorityInfoAccess.
    public static func caIssuersURLs(of certificate: Certificate) -> [String] {
        guard let aia = certificate.extension(ExtensionOID.authorityInfoAccess) else { return [] }
        return AIA.urls(aia.value, method: "1.3.6.1.5.5.7.48.2")
    }

    /// GETs an http URL (for --fetch-issuers), bounded in size and time.
    public static func get(_ url: String, timeout: Int32 = 10, maxBytes: Int = 1 << 20) throws -> [UInt8] {
        clearOpenSSLErrors()
        guard url.hasPrefix("http://") else { throw ETrustError.badInput("only http:// URLs are fetched ('\(url)')", code: .invalidArgument) }
        guard let bio = OSSL_HTTP_get(url, nil, nil, nil, nil, nil, nil, 0, nil, nil, 0, maxBytes, timeout) else {
            throw ETrustError.environment("fetching \(url) failed: \(drainOpenSSLErrors())", code: .io)
        }
        defer { BIO_free_all(bio) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { break }
            bytes += buf[0..<Int(n)]
            if bytes.count > maxBytes { throw ETrustError.environment("\(url) is over \(maxBytes) bytes", code: .io) }
        }
        clearOpenSSLErrors()
        return bytes
    }
}

enum AIA {
    static func urls(_ value: [UInt8], method: String) -> [String] {
        guard let node = try? DER.parse(value), case .constructed(let list) = node.content else { return [] }
        var urls: [String] = []
        for ad in list {
            guard case .constructed(let parts) = ad.content else { continue }
            var it = parts.makeIterator()
            guard let m = it.next(), let oid = try? ASN1ObjectIdentifier(derEncoded: m), oid.description == method,
                  let loc = it.next(), let name = try? GeneralName(node: loc), case .uri(let u) = name else { continue }
            urls.append(u)
        }
        return urls
    }
}

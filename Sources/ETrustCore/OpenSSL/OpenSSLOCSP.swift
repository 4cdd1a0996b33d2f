import Foundation
internal import COpenSSL

/// Owns an OCSP_CERTID (OCSP_CERTID_free on deinit).
package final class OpenSSLOCSPCertID {
    private let ref: OpaquePointer
    init(takingOwnership ref: OpaquePointer) { self.ref = ref }
    deinit { OCSP_CERTID_free(ref) }
    func withUnsafeCertIDPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(ref) }

    /// The SHA-1 CertID of `certificate` issued by `issuer` (OCSP_cert_to_id), as RFC 5019 clients send.
    package convenience init(sha1For certificate: Certificate, issuer: Certificate) throws {
        clearOpenSSLErrors()
        let id = try certificate.withUnsafeX509Pointer { cert in
            try issuer.withUnsafeX509Pointer { iss in OCSP_cert_to_id(EVP_sha1(), cert, iss) }
        }
        self.init(takingOwnership: try check(id, "OCSP_cert_to_id"))
    }

    /// The SHA-1 CertID of the serial whose magnitude is `serialMagnitude`, issued by `issuer` (OCSP_cert_id_new).
    package convenience init(sha1Issuer issuer: Certificate, serialMagnitude: [UInt8]) throws {
        clearOpenSSLErrors()
        var integerDER: [UInt8] = []
        DERWriter.integer(magnitude: serialMagnitude, into: &integerDER)
        let serialInt: UnsafeMutablePointer<ASN1_INTEGER>? = integerDER.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_ASN1_INTEGER(nil, &p, buf.count)
        }
        guard let serialInt else { throw ETrustError.openSSL("d2i_ASN1_INTEGER") }
        defer { ASN1_INTEGER_free(serialInt) }
        let id = try issuer.withUnsafeX509Pointer { iss in
            OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(iss), X509_get0_pubkey_bitstr(iss), serialInt)
        }
        self.init(takingOwnership: try check(id, "OCSP_cert_id_new"))
    }

    /// d2i_OCSP_CERTID.
    package convenience init(der: [UInt8]) throws {
        let id = decodeDER(der) { d2i_OCSP_CERTID(nil, $0, $1) }
        self.init(takingOwnership: try check(id, "d2i_OCSP_CERTID"))
    }

    /// i2d_OCSP_CERTID.
    package var der: [UInt8] {
        get throws {
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = i2d_OCSP_CERTID(ref, &out)
            guard n > 0, let out else { throw ETrustError.openSSL("i2d_OCSP_CERTID") }
            defer { etrust_openssl_free(out) }
            return Array(UnsafeBufferPointer(start: out, count: Int(n)))
        }
    }

    /// The CertID's fields (OCSP_id_get0_info): hash algorithm (dotted OID), issuer name and key
    /// hashes, and the serial's INTEGER content octets.
    package var fields: (hashAlgorithm: String, issuerNameHash: [UInt8], issuerKeyHash: [UInt8], serial: [UInt8])? {
        var nameHash: UnsafeMutablePointer<ASN1_OCTET_STRING>? = nil, keyHash: UnsafeMutablePointer<ASN1_OCTET_STRING>? = nil
        var alg: OpaquePointer? = nil
        var serial: UnsafeMutablePointer<ASN1_INTEGER>? = nil
        guard OCSP_id_get0_info(&nameHash, &alg, &keyHash, &serial, ref) == 1, let nameHash, let keyHash, let serial else { return nil }
        return (objectText(alg, numeric: true), Self.bytes(nameHash), Self.bytes(keyHash), Self.integerContent(serial))
    }

    static func bytes(_ s: UnsafeMutablePointer<ASN1_OCTET_STRING>) -> [UInt8] {
        let n = Int(ASN1_STRING_length(s))
        guard n > 0, let p = ASN1_STRING_get0_data(s) else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    static func integerContent(_ i: UnsafeMutablePointer<ASN1_INTEGER>) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_ASN1_INTEGER(i, &out)
        guard n > 2, let out else { return [0] }
        defer { etrust_openssl_free(out) }
        let der = Array(UnsafeBufferPointer(start: out, count: Int(n)))
        // Skip tag and (short or long form) length.
        let headerLength = der[1] < 0x80 ? 2 : 2 + Int(der[1] & 0x7f)
        return Array(der[headerLength...])
    }
}

/// Owns an OCSP_REQUEST (OCSP_REQUEST_free on deinit).
package final class OpenSSLOCSPRequest {
    private let ref: OpaquePointer
    init(takingOwnership ref: OpaquePointer) { self.ref = ref }
    deinit { OCSP_REQUEST_free(ref) }
    func withUnsafeRequestPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(ref) }

    /// An empty request (OCSP_REQUEST_new).
    package convenience init() throws {
        clearOpenSSLErrors()
        self.init(takingOwnership: try check(OCSP_REQUEST_new(), "OCSP_REQUEST_new"))
    }

    /// d2i_OCSP_REQUEST; nil when `der` is not exactly one request (trailing bytes included).
    package convenience init?(der: [UInt8]) {
        clearOpenSSLErrors()
        let req: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            let r = d2i_OCSP_REQUEST(nil, &p, buf.count)
            if let r, p != buf.baseAddress! + buf.count { OCSP_REQUEST_free(r); return nil }
            return r
        }
        guard let req else { clearOpenSSLErrors(); return nil }
        self.init(takingOwnership: req)
    }

    /// Adds a copy of `id` (OCSP_request_add0_id takes the copy).
    package func add(_ id: OpenSSLOCSPCertID) throws {
        clearOpenSSLErrors()
        guard let copy = id.withUnsafeCertIDPointer({ OCSP_CERTID_dup($0) }) else { throw ETrustError.openSSL("OCSP_CERTID_dup") }
        guard OCSP_request_add0_id(ref, copy) != nil else { OCSP_CERTID_free(copy); throw ETrustError.openSSL("OCSP_request_add0_id") }
    }

    /// A random nonce (OCSP_request_add1_nonce).
    package func addNonce() throws {
        guard OCSP_request_add1_nonce(ref, nil, -1) == 1 else { throw ETrustError.openSSL("OCSP_request_add1_nonce") }
    }

    /// Copies of the CertIDs asked about, in order; nil when one cannot be read.
    package var certIDs: [OpenSSLOCSPCertID]? {
        var ids: [OpenSSLOCSPCertID] = []
        for i in 0..<OCSP_request_onereq_count(ref) {
            guard let one = OCSP_request_onereq_get0(ref, i), let cid = OCSP_onereq_get0_id(one), let copy = OCSP_CERTID_dup(cid) else {
                clearOpenSSLErrors()
                return nil
            }
            ids.append(OpenSSLOCSPCertID(takingOwnership: copy))
        }
        return ids
    }

    package var hasNonce: Bool {
        defer { clearOpenSSLErrors() }
        return OCSP_REQUEST_get_ext_by_NID(ref, NID_id_pkix_OCSP_Nonce, -1) >= 0
    }

    /// i2d_OCSP_REQUEST.
    package var der: [UInt8] {
        get throws {
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = i2d_OCSP_REQUEST(ref, &out)
            guard n > 0, let out else { throw ETrustError.openSSL("i2d_OCSP_REQUEST") }
            defer { etrust_openssl_free(out) }
            return Array(UnsafeBufferPointer(start: out, count: Int(n)))
        }
    }
}

/// One SingleResponse as OpenSSL reads it (OCSP_resp_find_status).
package struct OCSPSingleStatus: Sendable {
    package enum Status: Sendable { case good, revoked, unknown }
    package var status: Status
    /// The CRLReason code, or -1.
    package var reason: Int
    package var revocationTime: Date?
    package var thisUpdate: Date
    package var nextUpdate: Date?
}

/// Owns an OCSP_BASICRESP (OCSP_BASICRESP_free on deinit): read (verify, find a status) or built
/// (add statuses, sign).
package final class OpenSSLOCSPBasicResponse {
    private let ref: OpaquePointer
    init(takingOwnership ref: OpaquePointer) { self.ref = ref }
    deinit { OCSP_BASICRESP_free(ref) }
    func withUnsafeBasicResponsePointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(ref) }

    /// An empty response to build (OCSP_BASICRESP_new).
    package convenience init() throws {
        clearOpenSSLErrors()
        self.init(takingOwnership: try check(OCSP_BASICRESP_new(), "OCSP_BASICRESP_new"))
    }

    /// OCSP_basic_verify with no flags: signature, responder authorization and the responder's
    /// path to an anchor of `store`, `chain` as extra certificates. Nil on success, else the
    /// drained error queue's text.
    package func verify(chain: OpenSSLCertificateStack, store: OpenSSLTrustStore) -> String? {
        clearOpenSSLErrors()
        let ok = chain.withUnsafeStackPointer { c in store.withUnsafeStorePointer { OCSP_basic_verify(ref, c, $0, 0) } }
        return ok == 1 ? nil : drainOpenSSLErrors()
    }

    /// OCSP_check_nonce: 1 both present and equal, 2 neither, -1 only in the request, 0 different.
    package func checkNonce(request: OpenSSLOCSPRequest) -> Int32 {
        defer { clearOpenSSLErrors() }
        return request.withUnsafeRequestPointer { OCSP_check_nonce($0, ref) }
    }

    /// The answer for `id`, nil when the response holds none.
    package func status(for id: OpenSSLOCSPCertID) throws -> OCSPSingleStatus? {
        var st: Int32 = 0, reason: Int32 = -1
        var rev: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil, thisUpd: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil,
            nextUpd: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
        guard id.withUnsafeCertIDPointer({ OCSP_resp_find_status(ref, $0, &st, &reason, &rev, &thisUpd, &nextUpd) }) == 1,
              let thisUpd else {
            clearOpenSSLErrors()
            return nil
        }
        let status: OCSPSingleStatus.Status
        switch st {
        case V_OCSP_CERTSTATUS_GOOD: status = .good
        case V_OCSP_CERTSTATUS_REVOKED: status = .revoked
        default: status = .unknown
        }
        return OCSPSingleStatus(status: status, reason: Int(reason), revocationTime: try rev.map { try Self.date($0) },
                                thisUpdate: try Self.date(thisUpd), nextUpdate: try nextUpd.map { try Self.date($0) })
    }

    /// The signer's certificate, looked up in the response and `chain` (OCSP_resp_get0_signer).
    package func signer(chain: OpenSSLCertificateStack) -> OpenSSLCertificate? {
        var signer: OpaquePointer? = nil
        let found = chain.withUnsafeStackPointer { OCSP_resp_get0_signer(ref, &signer, $0) }
        clearOpenSSLErrors()
        guard found == 1, let signer else { return nil }
        return OpenSSLCertificate(borrowing: signer)
    }

    /// Adds a response extension: `oid` with extnValue `valueDER` (OCSP_BASICRESP_add_ext).
    package func addExtension(oid: String, critical: Bool = false, valueDER: [UInt8]) throws {
        guard let obj = OBJ_txt2obj(oid, 1) else { throw ETrustError.openSSL("OBJ_txt2obj") }
        defer { ASN1_OBJECT_free(obj) }
        let value = ASN1_OCTET_STRING_new()
        defer { ASN1_OCTET_STRING_free(value) }
        var bytes = valueDER
        ASN1_OCTET_STRING_set(value, &bytes, Int32(bytes.count))
        guard let ext = X509_EXTENSION_create_by_OBJ(nil, obj, critical ? 1 : 0, value) else {
            throw ETrustError.openSSL("X509_EXTENSION_create_by_OBJ")
        }
        defer { X509_EXTENSION_free(ext) }
        guard OCSP_BASICRESP_add_ext(ref, ext, -1) == 1 else { throw ETrustError.openSSL("OCSP_BASICRESP_add_ext") }
    }

    /// Adds one SingleResponse (OCSP_basic_add1_status); `reason` is a CRLReason code or -1.
    package func addStatus(_ id: OpenSSLOCSPCertID, _ status: OCSPSingleStatus.Status, reason: Int = -1, revocationTime: Date? = nil,
                           thisUpdate: Date, nextUpdate: Date) throws {
        let this = ASN1_GENERALIZEDTIME_set(nil, time_t(thisUpdate.timeIntervalSince1970))
        let next = ASN1_GENERALIZEDTIME_set(nil, time_t(nextUpdate.timeIntervalSince1970))
        let rev = revocationTime.map { ASN1_GENERALIZEDTIME_set(nil, time_t($0.timeIntervalSince1970)) } ?? nil
        defer { ASN1_GENERALIZEDTIME_free(this); ASN1_GENERALIZEDTIME_free(next); if let rev { ASN1_GENERALIZEDTIME_free(rev) } }
        let code: Int32
        switch status {
        case .good: code = V_OCSP_CERTSTATUS_GOOD
        case .revoked: code = V_OCSP_CERTSTATUS_REVOKED
        case .unknown: code = V_OCSP_CERTSTATUS_UNKNOWN
        }
        let single = id.withUnsafeCertIDPointer {
            OCSP_basic_add1_status(ref, $0, code, status == .revoked ? Int32(reason) : 0, rev, this, next)
        }
        guard single != nil else { throw ETrustError.openSSL("OCSP_basic_add1_status") }
    }

    /// Echoes the request's nonce (OCSP_copy_nonce).
    package func copyNonce(from request: OpenSSLOCSPRequest) throws {
        guard request.withUnsafeRequestPointer({ OCSP_copy_nonce(ref, $0) }) == 1 else { throw ETrustError.openSSL("OCSP_copy_nonce") }
    }

    /// OCSP_basic_sign with `key` and `certificate`: ResponderID byKey or byName, the certificate
    /// included or not, the digest for `key`'s algorithm.
    package func sign(certificate: Certificate, key: PrivateKey, responderIDByKey: Bool, includeCertificate: Bool) throws {
        let flags = (responderIDByKey ? UInt(OCSP_RESPID_KEY) : 0) | (includeCertificate ? 0 : UInt(OCSP_NOCERTS))
        let md = try SignatureAlgorithm.forSigning(with: try key.kind).digestName.map { EVP_get_digestbyname($0) } ?? nil
        let ok = try certificate.withUnsafeX509Pointer { x in
            key.handle.withUnsafeEVPKeyPointer { OCSP_basic_sign(ref, x, $0, md, nil, flags) }
        }
        guard ok == 1 else { throw ETrustError.openSSL("OCSP_basic_sign") }
    }

    static func date(_ t: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>) throws -> Date {
        var tm = tm()
        guard ASN1_TIME_to_tm(t, &tm) == 1 else { throw ETrustError.openSSL("ASN1_TIME_to_tm") }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }
}

/// Owns an OCSP_RESPONSE (OCSP_RESPONSE_free on deinit).
package final class OpenSSLOCSPResponse {
    private let ref: OpaquePointer
    init(takingOwnership ref: OpaquePointer) { self.ref = ref }
    deinit { OCSP_RESPONSE_free(ref) }

    /// d2i_OCSP_RESPONSE; throws refused/malformedInput (with OpenSSL's reasons) when it is not one.
    package convenience init(der: [UInt8]) throws {
        let resp = decodeDER(der) { d2i_OCSP_RESPONSE(nil, $0, $1) }
        guard let resp else {
            throw ETrustError.openSSL("d2i_OCSP_RESPONSE", category: .refused, code: .malformedInput) { "the OCSP response is not valid DER: \($0)" }
        }
        self.init(takingOwnership: resp)
    }

    /// A successful response carrying `basic` (OCSP_response_create).
    package convenience init(successful basic: OpenSSLOCSPBasicResponse) throws {
        let resp = basic.withUnsafeBasicResponsePointer { OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, $0) }
        self.init(takingOwnership: try check(resp, "OCSP_response_create"))
    }

    package var isSuccessful: Bool { OCSP_response_status(ref) == OCSP_RESPONSE_STATUS_SUCCESSFUL }
    /// OpenSSL's name of the responseStatus ("unauthorized", ...).
    package var statusText: String { String(cString: OCSP_response_status_str(Int(OCSP_response_status(ref)))) }

    /// The basic response (OCSP_response_get1_basic), nil when there is none.
    package func basic() -> OpenSSLOCSPBasicResponse? {
        guard let b = OCSP_response_get1_basic(ref) else { clearOpenSSLErrors(); return nil }
        return OpenSSLOCSPBasicResponse(takingOwnership: b)
    }

    /// i2d_OCSP_RESPONSE.
    package var der: [UInt8] {
        get throws {
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = i2d_OCSP_RESPONSE(ref, &out)
            guard n > 0, let out else { throw ETrustError.openSSL("i2d_OCSP_RESPONSE") }
            defer { etrust_openssl_free(out) }
            return Array(UnsafeBufferPointer(start: out, count: Int(n)))
        }
    }
}

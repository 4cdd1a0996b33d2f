import Foundation
internal import COpenSSL

/// The fields of OCSP, CMS and RFC 3161 objects as OpenSSL decodes them, for `etrust inspect`.
extension PKIObjectInspector {
    public struct CertID: Sendable {
        public var hashAlgorithm: String
        public var serialHex: String
        public var issuerNameHash: [UInt8]
        public var issuerKeyHash: [UInt8]
    }

    public struct OCSPRequestFields: Sendable {
        public var requests: [CertID]
        public var hasNonce: Bool
        public var signed: Bool
    }

    public struct SingleResponse: Sendable {
        public var certID: CertID
        public var status: String
        public var thisUpdate: Date?
        public var nextUpdate: Date?
        public var revocationTime: Date?
        public var reason: Int?
    }

    public struct OCSPResponseFields: Sendable {
        public var status: String
        public var producedAt: Date?
        public var responses: [SingleResponse]
        public var certificates: [Certificate]
    }

    public struct SignerID: Sendable {
        public var issuer: String?
        public var serialHex: String?
        public var keyIdentifier: [UInt8]?
    }

    public struct CMSFields: Sendable {
        public var contentType: String
        public var encapsulatedContentType: String?
        public var detached: Bool
        public var signers: [SignerID]
        public var certificates: [Certificate]
    }

    public struct TSTInfoFields: Sendable {
        public var status: Int?
        public var genTime: Date?
        public var serialHex: String?
        public var policy: String?
        public var hashAlgorithm: String?
        public var messageImprint: [UInt8]
        public var nonceHex: String?
    }

    private static func certID(_ id: OpaquePointer?) -> CertID? {
        guard let id else { return nil }
        var nameHash: UnsafeMutablePointer<ASN1_OCTET_STRING>? = nil, keyHash: UnsafeMutablePointer<ASN1_OCTET_STRING>? = nil
        var alg: OpaquePointer? = nil
        var serial: UnsafeMutablePointer<ASN1_INTEGER>? = nil
        guard OCSP_id_get0_info(&nameHash, &alg, &keyHash, &serial, id) == 1 else { return nil }
        return CertID(hashAlgorithm: oid(alg) ?? "?", serialHex: serialHex(serial) ?? "?", issuerNameHash: bytes(nameHash), issuerKeyHash: bytes(keyHash))
    }

    public static func ocspRequest(_ der: [UInt8]) throws -> OCSPRequestFields {
        guard let req = decodeDER(der, { d2i_OCSP_REQUEST(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_OCSP_REQUEST", category: .badInput, code: .malformedInput)
        }
        defer { OCSP_REQUEST_free(req) }
        let ids = (0..<max(0, OCSP_request_onereq_count(req))).compactMap { certID(OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, $0))) }
        return OCSPRequestFields(requests: ids, hasNonce: OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0,
                                 signed: OCSP_request_is_signed(req) == 1)
    }

    public static func ocspResponse(_ der: [UInt8]) throws -> OCSPResponseFields {
        guard let resp = decodeDER(der, { d2i_OCSP_RESPONSE(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_OCSP_RESPONSE", category: .badInput, code: .malformedInput)
        }
        defer { OCSP_RESPONSE_free(resp) }
        let status = String(cString: OCSP_response_status_str(Int(OCSP_response_status(resp))))
        var fields = OCSPResponseFields(status: status, producedAt: nil, responses: [], certificates: [])
        guard let basic = OCSP_response_get1_basic(resp) else { return fields }
        defer { OCSP_BASICRESP_free(basic) }
        fields.producedAt = date(OCSP_resp_get0_produced_at(basic))
        if let certs = OCSP_resp_get0_certs(basic) { fields.certificates = try OpenSSLCertificateStack.certificates(borrowing: certs) }
        for i in 0..<max(0, OCSP_resp_count(basic)) {
            guard let single = OCSP_resp_get0(basic, i), let id = certID(OCSP_SINGLERESP_get0_id(single)) else { continue }
            var reason: Int32 = -1
            var revoked: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil, thisUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
            var nextUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
            let s = OCSP_single_get0_status(single, &reason, &revoked, &thisUpdate, &nextUpdate)
            fields.responses.append(SingleResponse(certID: id, status: String(cString: OCSP_cert_status_str(Int(s))),
                                                   thisUpdate: date(thisUpdate), nextUpdate: date(nextUpdate),
                                                   revocationTime: date(revoked), reason: reason >= 0 ? Int(reason) : nil))
        }
        return fields
    }

    public static func cms(_ der: [UInt8]) throws -> CMSFields {
        guard let cms = decodeDER(der, { d2i_CMS_ContentInfo(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_CMS_ContentInfo", category: .badInput, code: .malformedInput)
        }
        defer { CMS_ContentInfo_free(cms) }
        var fields = CMSFields(contentType: oid(CMS_get0_type(cms)) ?? "?", encapsulatedContentType: oid(CMS_get0_eContentType(cms)),
                               detached: CMS_get0_content(cms)?.pointee == nil, signers: [], certificates: [])
        if let all = CMS_get1_certs(cms) {
            defer { etrust_sk_X509_pop_free(all) }
            fields.certificates = try OpenSSLCertificateStack.certificates(borrowing: all)
        }
        if let infos = CMS_get0_SignerInfos(cms) {
            for i in 0..<etrust_sk_CMS_SignerInfo_num(infos) {
                guard let si = etrust_sk_CMS_SignerInfo_value(infos, i) else { continue }
                var keyID: UnsafeMutablePointer<ASN1_OCTET_STRING>? = nil
                var issuer: OpaquePointer? = nil
                var serial: UnsafeMutablePointer<ASN1_INTEGER>? = nil
                guard CMS_SignerInfo_get0_signer_id(si, &keyID, &issuer, &serial) == 1 else { continue }
                let issuerText = try issuer.map { n -> String in
                    try DistinguishedName(der: try nameDER(n)).description
                }
                fields.signers.append(SignerID(issuer: issuerText, serialHex: serialHex(serial), keyIdentifier: keyID.map { bytes($0) }))
            }
        }
        clearOpenSSLErrors()
        return fields
    }

    private static func nameDER(_ name: OpaquePointer) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_X509_NAME(name, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_X509_NAME") }
        defer { etrust_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// The TSTInfo of a timestamp token (CMS SignedData) or of a TimeStampResp (with its status).
    public static func timestamp(_ der: [UInt8], kind: PKIObjectKind) throws -> TSTInfoFields {
        if kind == .timestampResponse {
            guard let resp = decodeDER(der, { d2i_TS_RESP(nil, $0, $1) }) else {
                throw ETrustError.openSSL("d2i_TS_RESP", category: .badInput, code: .malformedInput)
            }
            defer { TS_RESP_free(resp) }
            let status = TS_RESP_get_status_info(resp).flatMap { TS_STATUS_INFO_get0_status($0) }.map { Int(ASN1_INTEGER_get($0)) }
            var fields = TS_RESP_get_tst_info(resp).map { tstInfo($0) } ?? TSTInfoFields(messageImprint: [])
            fields.status = status
            return fields
        }
        guard let p7 = decodeDER(der, { d2i_PKCS7(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_PKCS7", category: .badInput, code: .malformedInput)
        }
        defer { PKCS7_free(p7) }
        guard let info = PKCS7_to_TS_TST_INFO(p7) else {
            throw ETrustError.openSSL("PKCS7_to_TS_TST_INFO", category: .badInput, code: .malformedInput)
        }
        defer { TS_TST_INFO_free(info) }
        return tstInfo(info)
    }

    private static func tstInfo(_ info: OpaquePointer) -> TSTInfoFields {
        let imprint = TS_TST_INFO_get_msg_imprint(info)
        var algorithm: String? = nil
        if let algor = imprint.flatMap({ TS_MSG_IMPRINT_get_algo($0) }) {
            var object: OpaquePointer? = nil
            X509_ALGOR_get0(&object, nil, nil, algor)
            algorithm = oid(object)
        }
        return TSTInfoFields(status: nil, genTime: date(TS_TST_INFO_get_time(info)), serialHex: serialHex(TS_TST_INFO_get_serial(info)),
                             policy: oid(TS_TST_INFO_get_policy_id(info)), hashAlgorithm: algorithm,
                             messageImprint: imprint.map { bytes(TS_MSG_IMPRINT_get_msg($0)) } ?? [],
                             nonceHex: serialHex(TS_TST_INFO_get_nonce(info)))
    }
}

extension PKIObjectInspector.TSTInfoFields {
    init(messageImprint: [UInt8]) {
        self.init(status: nil, genTime: nil, serialHex: nil, policy: nil, hashAlgorithm: nil, messageImprint: messageImprint, nonceHex: nil)
    }
}

import Foundation
internal import COpenSSL

/// The kinds of PKI object `etrust inspect` recognises in DER.
public enum PKIObjectKind: String, Sendable, CaseIterable {
    case certificate, csr, crl, cms
    case timestampToken = "timestamp-token"
    case timestampResponse = "timestamp-response"
    case pkcs12
    case ocspRequest = "ocsp-request"
    case ocspResponse = "ocsp-response"
}

/// Recognises and describes PKI objects with OpenSSL's own decoders and printers: which kind a
/// DER blob is (the decoder that takes all of it), OpenSSL's text of it, and the fields of the
/// kinds that have no value type of their own (OCSP, CMS, RFC 3161).
public enum PKIObjectInspector {
    /// The kind whose OpenSSL decoder consumes exactly `der`, or nil.
    public static func kind(of der: [UInt8]) -> PKIObjectKind? {
        if decodesFully(der, { d2i_X509(nil, $0, $1) }, X509_free) { return .certificate }
        if decodesFully(der, { d2i_X509_REQ(nil, $0, $1) }, X509_REQ_free) { return .csr }
        if decodesFully(der, { d2i_X509_CRL(nil, $0, $1) }, X509_CRL_free) { return .crl }
        if decodesFully(der, { d2i_OCSP_RESPONSE(nil, $0, $1) }, OCSP_RESPONSE_free) { return .ocspResponse }
        if decodesFully(der, { d2i_OCSP_REQUEST(nil, $0, $1) }, OCSP_REQUEST_free) { return .ocspRequest }
        if decodesFully(der, { d2i_TS_RESP(nil, $0, $1) }, TS_RESP_free) { return .timestampResponse }
        if decodesFully(der, { d2i_PKCS12(nil, $0, $1) }, PKCS12_free) { return .pkcs12 }
        if let cms = decodeDER(der, { d2i_CMS_ContentInfo(nil, $0, $1) }) {
            defer { CMS_ContentInfo_free(cms) }
            return oid(CMS_get0_eContentType(cms)) == "1.2.840.113549.1.9.16.1.4" ? .timestampToken : .cms
        }
        return nil
    }

    private static func decodesFully<T>(_ der: [UInt8], _ d2i: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> T?,
                                        _ free: (T) -> Void) -> Bool {
        clearOpenSSLErrors()
        return der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            guard let object = d2i(&p, buf.count) else { return false }
            free(object)
            return p == buf.baseAddress.map { $0 + buf.count }
        }
    }

    /// OpenSSL's text of the object (as `openssl x509|req|crl|ocsp|ts|cms -text` prints it).
    public static func text(of der: [UInt8], kind: PKIObjectKind) throws -> String {
        try printed { bio in
            switch kind {
            case .certificate: try withDecoded(der, { d2i_X509(nil, $0, $1) }, X509_free) { X509_print_ex(bio, $0, etrust_XN_FLAG_RFC2253_UTF8(), 0) }
            case .csr: try withDecoded(der, { d2i_X509_REQ(nil, $0, $1) }, X509_REQ_free) { X509_REQ_print_ex(bio, $0, etrust_XN_FLAG_RFC2253_UTF8(), 0) }
            case .crl: try withDecoded(der, { d2i_X509_CRL(nil, $0, $1) }, X509_CRL_free) { X509_CRL_print_ex(bio, $0, etrust_XN_FLAG_RFC2253_UTF8()) }
            case .ocspRequest: try withDecoded(der, { d2i_OCSP_REQUEST(nil, $0, $1) }, OCSP_REQUEST_free) { OCSP_REQUEST_print(bio, $0, 0) }
            case .ocspResponse: try withDecoded(der, { d2i_OCSP_RESPONSE(nil, $0, $1) }, OCSP_RESPONSE_free) { OCSP_RESPONSE_print(bio, $0, 0) }
            case .timestampResponse: try withDecoded(der, { d2i_TS_RESP(nil, $0, $1) }, TS_RESP_free) { TS_RESP_print_bio(bio, $0) }
            case .timestampToken:
                try withDecoded(der, { d2i_PKCS7(nil, $0, $1) }, PKCS7_free) { p7 in
                    guard let info = PKCS7_to_TS_TST_INFO(p7) else { return 0 }
                    defer { TS_TST_INFO_free(info) }
                    return TS_TST_INFO_print_bio(bio, info)
                }
            case .cms: try withDecoded(der, { d2i_CMS_ContentInfo(nil, $0, $1) }, CMS_ContentInfo_free) { CMS_ContentInfo_print_ctx(bio, $0, 0, nil) }
            case .pkcs12: Int32(BIO_puts(bio, "PKCS#12 (PFX): open it with its password to list its certificates\n"))
            }
        }
    }

    private static func withDecoded<T>(_ der: [UInt8], _ d2i: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> T?,
                                       _ free: (T) -> Void, _ body: (T) -> Int32) throws -> Int32 {
        guard let object = decodeDER(der, d2i) else {
            throw ETrustError.openSSL("d2i", category: .badInput, code: .malformedInput)
        }
        defer { free(object) }
        return body(object)
    }

    private static func printed(_ body: (OpaquePointer) throws -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw ETrustError.openSSL("BIO_new") }
        defer { BIO_free(bio) }
        guard try body(bio) > 0 else { throw ETrustError.openSSL("print", category: .badInput, code: .malformedInput) }
        var p: UnsafeMutablePointer<CChar>? = nil
        let n = etrust_BIO_get_mem_data(bio, &p)
        return String(decoding: UnsafeRawBufferPointer(start: p, count: Int(n)), as: UTF8.self)
    }

    // MARK: Field helpers

    static func oid(_ object: OpaquePointer?) -> String? {
        guard let object else { return nil }
        var buf = [CChar](repeating: 0, count: 128)
        let n = OBJ_obj2txt(&buf, Int32(buf.count), object, 1)
        guard n > 0 else { return nil }
        return String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// OpenSSL's long name of an OID ("X509v3 Subject Alternative Name"), as its printers show it.
    public static func longName(ofOID dotted: String) -> String {
        let nid = OBJ_txt2nid(dotted)
        guard nid != NID_undef, let ln = OBJ_nid2ln(nid) else { return dotted }
        return String(cString: ln)
    }

    static func serialHex(_ integer: UnsafePointer<ASN1_INTEGER>?) -> String? {
        guard let integer, let bn = ASN1_INTEGER_to_BN(integer, nil) else { return nil }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return nil }
        defer { etrust_openssl_free(hex) }
        return String(cString: hex).lowercased()
    }

    static func date(_ t: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let t else { return nil }
        var tm = tm()
        guard ASN1_TIME_to_tm(t, &tm) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }

    static func bytes(_ s: UnsafePointer<ASN1_OCTET_STRING>?) -> [UInt8] {
        guard let s, let data = ASN1_STRING_get0_data(s) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(s))))
    }
}

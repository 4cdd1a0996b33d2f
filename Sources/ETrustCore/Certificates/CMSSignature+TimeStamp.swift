import Foundation
internal import COpenSSL

/// Signature time-stamps (RFC 3161 appendix A, ETSI EN 319 122 CAdES-B-T): a token over the
/// signature value, carried in the signer's unsigned attribute id-aa-signatureTimeStampToken.
extension CMSSignature {
    /// id-aa-signatureTimeStampToken (RFC 3161 appendix A).
    public static let signatureTimeStampTokenOID = "1.2.840.113549.1.9.16.2.14"

    /// The first signer's signature value: what a signature time-stamp's imprint is computed over.
    public static func signatureValue(_ der: [UInt8]) throws -> [UInt8] {
        try withFirstSigner(der) { _, si in
            let value = try check(CMS_SignerInfo_get0_signature(si), "CMS_SignerInfo_get0_signature")
            return Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(value), count: Int(ASN1_STRING_length(value))))
        }
    }

    /// The signature with `token` added to the first signer's unsigned attributes (DER out).
    public static func addingTimeStamp(_ der: [UInt8], token: [UInt8]) throws -> [UInt8] {
        try withFirstSigner(der) { cms, si in
            let oid = try check(OBJ_txt2obj(signatureTimeStampTokenOID, 1), "OBJ_txt2obj")
            defer { ASN1_OBJECT_free(oid) }
            try token.withUnsafeBytes { raw in
                try check(CMS_unsigned_add1_attr_by_OBJ(si, oid, V_ASN1_SEQUENCE, raw.baseAddress, Int32(raw.count)),
                          "CMS_unsigned_add1_attr_by_OBJ")
            }
            return try TimeStamp.encode { i2d_CMS_ContentInfo(cms, $0) }
        }
    }

    /// The signature time-stamp tokens of the first signer (DER ContentInfos), oldest first.
    public static func timeStampTokens(_ der: [UInt8]) throws -> [[UInt8]] {
        try withFirstSigner(der) { _, si in
            let oid = try check(OBJ_txt2obj(signatureTimeStampTokenOID, 1), "OBJ_txt2obj")
            defer { ASN1_OBJECT_free(oid) }
            var tokens: [[UInt8]] = []
            var index: Int32 = -1
            while true {
                index = CMS_unsigned_get_attr_by_OBJ(si, oid, index)
                guard index >= 0, let attr = CMS_unsigned_get_attr(si, index) else { break }
                for i in 0..<X509_ATTRIBUTE_count(attr) {
                    guard let type = X509_ATTRIBUTE_get0_type(attr, i), type.pointee.type == V_ASN1_SEQUENCE,
                          let seq = type.pointee.value.sequence else { continue }
                    tokens.append(Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(seq), count: Int(ASN1_STRING_length(seq)))))
                }
            }
            clearOpenSSLErrors()
            return tokens
        }
    }

    private static func withFirstSigner<R>(_ der: [UInt8], _ body: (OpaquePointer, OpaquePointer) throws -> R) throws -> R {
        guard let parsed = decodeDER(der, { d2i_CMS_ContentInfo(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_CMS_ContentInfo", category: .badInput, code: .malformedInput) { "not a CMS signature (\($0))" }
        }
        let owner = OpenSSLCMS(takingOwnership: parsed)
        return try owner.withUnsafeCMSPointer { cms in
            guard let infos = CMS_get0_SignerInfos(cms), etrust_sk_CMS_SignerInfo_num(infos) > 0,
                  let si = etrust_sk_CMS_SignerInfo_value(infos, 0) else {
                throw ETrustError.refused("the signature has no signer", code: .badSignature)
            }
            return try body(cms, si)
        }
    }
}

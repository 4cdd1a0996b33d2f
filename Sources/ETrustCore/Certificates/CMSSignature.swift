import Foundation
internal import COpenSSL

/// CMS SignedData (RFC 5652) for document signatures, on OpenSSL's CMS_* functions.
public enum CMSSignature {
    /// Signs `content` with signed attributes (content type, message digest, signing-time) and
    /// the signer's certificate and chain; detached or enveloping; DER.
    public static func sign(_ content: [UInt8], certificate: Certificate, key: PrivateKey, chain: [Certificate], detached: Bool) throws -> [UInt8] {
        clearOpenSSLErrors()
        let cert = try certificate.openSSLCertificate
        let extra = try OpenSSLCertificateStack(chain)
        guard let data = content.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else { throw ETrustError.openSSL("BIO_new_mem_buf") }
        defer { BIO_free(data) }
        let flags = UInt32(CMS_BINARY) | (detached ? UInt32(CMS_DETACHED) : 0)
        let signed: OpaquePointer? = cert.withUnsafeX509Pointer { x in
            extra.withUnsafeStackPointer { stack in
                key.handle.withUnsafeEVPKeyPointer { CMS_sign(x, $0, stack, data, flags) }
            }
        }
        let cms = OpenSSLCMS(takingOwnership: try check(signed, "CMS_sign"))
        guard let out = BIO_new(BIO_s_mem()) else { throw ETrustError.openSSL("BIO_new") }
        defer { BIO_free(out) }
        guard cms.withUnsafeCMSPointer({ i2d_CMS_bio(out, $0) }) == 1 else { throw ETrustError.openSSL("i2d_CMS_bio") }
        var p: UnsafeMutablePointer<CChar>? = nil
        let n = etrust_BIO_get_mem_data(out, &p)
        return Array(UnsafeRawBufferPointer(start: p, count: Int(n)).bindMemory(to: UInt8.self))
    }

    public struct Verified: Sendable {
        public var signer: Certificate
        public var certificates: [Certificate]
        public var signingTime: Date?
        public var content: [UInt8]
    }

    /// Checks the signature (and, detached, against `content`) without judging the signer's
    /// certificate: that is the validation engine's job, at the signing time.
    public static func verify(_ der: [UInt8], content: [UInt8]?) throws -> Verified {
        clearOpenSSLErrors()
        guard let input = der.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else { throw ETrustError.openSSL("BIO_new_mem_buf") }
        defer { BIO_free(input) }
        guard let parsed = d2i_CMS_bio(input, nil) else {
            throw ETrustError.openSSL("d2i_CMS_bio", category: .badInput, code: .malformedInput) { "not a CMS signature (\($0))" }
        }
        let owner = OpenSSLCMS(takingOwnership: parsed)
        return try owner.withUnsafeCMSPointer { cms in try verify(cms, content: content) }
    }

    /// The detached content behind a buffering filter, not as a bare memory BIO: CMS_verify copies
    /// a memory BIO into a temporary one that OpenSSL 3.0 leaks when the signature's digest
    /// algorithm is unknown (found by Tools/fuzz.sh cms; FuzzRegressionTests).
    private static func detachedContentBIO(_ content: [UInt8]) throws -> OpaquePointer {
        guard let buffer = BIO_new(BIO_f_buffer()) else { throw ETrustError.openSSL("BIO_new") }
        guard let memory = content.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
            BIO_free(buffer)
            throw ETrustError.openSSL("BIO_new_mem_buf")
        }
        return BIO_push(buffer, memory)
    }

    /// The checks of `verify` on a CMS_ContentInfo the caller owns.
    private static func verify(_ cms: OpaquePointer, content: [UInt8]?) throws -> Verified {
        let detachedContent = try content.map(detachedContentBIO)
        defer { if let detachedContent { BIO_free_all(detachedContent) } }
        guard let out = BIO_new(BIO_s_mem()) else { throw ETrustError.openSSL("BIO_new") }
        defer { BIO_free(out) }
        let flags = UInt32(CMS_BINARY) | UInt32(CMS_NO_SIGNER_CERT_VERIFY)
        guard CMS_verify(cms, nil, nil, detachedContent, out, flags) == 1 else {
            let e = ETrustError.openSSL("CMS_verify", category: .refused, code: .badSignature) { "the signature does not verify: \($0)" }
            if let failure = e.openSSL, failure.entries.contains(where: { $0.text.contains("no content") }) {
                throw ETrustError.badInput("the signature is detached: give the signed document with --content", code: .malformedInput)
            }
            throw e
        }
        var p: UnsafeMutablePointer<CChar>? = nil
        let n = etrust_BIO_get_mem_data(out, &p)
        let signed = Array(UnsafeRawBufferPointer(start: p, count: Int(n)).bindMemory(to: UInt8.self))
        guard let signers = CMS_get0_signers(cms), etrust_sk_X509_num(signers) >= 1, let s = etrust_sk_X509_value(signers, 0) else {
            throw ETrustError.refused("the signature names no signer certificate", code: .badSignature)
        }
        defer { etrust_sk_X509_free(signers) }
        let signer = try Certificate(borrowingX509: s)
        var certificates: [Certificate] = []
        if let all = CMS_get1_certs(cms) {
            defer { etrust_sk_X509_pop_free(all) }
            certificates = try OpenSSLCertificateStack.certificates(borrowing: all)
        }
        clearOpenSSLErrors()
        return Verified(signer: signer, certificates: certificates, signingTime: signingTime(cms), content: signed)
    }

    /// signing-time (RFC 5652 11.3): UTCTime or GeneralizedTime in the first signer's signed attributes.
    private static func signingTime(_ cms: OpaquePointer) -> Date? {
        guard let infos = CMS_get0_SignerInfos(cms), etrust_sk_CMS_SignerInfo_num(infos) > 0,
              let si = etrust_sk_CMS_SignerInfo_value(infos, 0) else { return nil }
        let obj = OBJ_nid2obj(NID_pkcs9_signingTime)
        for type in [V_ASN1_UTCTIME, V_ASN1_GENERALIZEDTIME] {
            if let raw = CMS_signed_get0_data_by_OBJ(si, obj, -3, type) {
                var tm = tm()
                guard ASN1_TIME_to_tm(raw.assumingMemoryBound(to: ASN1_TIME.self), &tm) == 1 else { return nil }
                return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
            }
        }
        return nil
    }

    /// Checks a signature against the digest of its content instead of the content (for a
    /// client that does not send the document): the first signer's signature over its signed
    /// attributes, and their messageDigest equal to `contentDigest` (made with the signer's
    /// digest algorithm). `content` of the result is empty.
    public static func verify(_ der: [UInt8], contentDigest: [UInt8]) throws -> Verified {
        guard let parsed = decodeDER(der, { d2i_CMS_ContentInfo(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_CMS_ContentInfo", category: .badInput, code: .malformedInput) { "not a CMS signature (\($0))" }
        }
        let owner = OpenSSLCMS(takingOwnership: parsed)
        return try owner.withUnsafeCMSPointer { cms in
            clearOpenSSLErrors()
            guard let infos = CMS_get0_SignerInfos(cms), etrust_sk_CMS_SignerInfo_num(infos) > 0,
                  let si = etrust_sk_CMS_SignerInfo_value(infos, 0), CMS_set1_signers_certs(cms, nil, 0) >= 1 else {
                throw ETrustError.refused("the signature names no signer certificate", code: .badSignature)
            }
            guard CMS_SignerInfo_verify(si) == 1 else {
                throw ETrustError.openSSL("CMS_SignerInfo_verify", category: .refused, code: .badSignature) { "the signature does not verify: \($0)" }
            }
            guard let raw = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3, V_ASN1_OCTET_STRING) else {
                throw ETrustError.refused("the signature has no messageDigest attribute", code: .badSignature)
            }
            let octets = raw.assumingMemoryBound(to: ASN1_STRING.self)
            let digest = Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(octets), count: Int(ASN1_STRING_length(octets))))
            guard digest == contentDigest else {
                throw ETrustError.refused("the signature is not over content with this digest (messageDigest differs)", code: .badSignature)
            }
            var x: OpaquePointer? = nil
            CMS_SignerInfo_get0_algs(si, nil, &x, nil, nil)
            guard let x else { throw ETrustError.refused("the signature names no signer certificate", code: .badSignature) }
            var certificates: [Certificate] = []
            if let all = CMS_get1_certs(cms) {
                defer { etrust_sk_X509_pop_free(all) }
                certificates = try OpenSSLCertificateStack.certificates(borrowing: all)
            }
            let signer = try Certificate(borrowingX509: x)
            clearOpenSSLErrors()
            return Verified(signer: signer, certificates: certificates, signingTime: signingTime(cms), content: [])
        }
    }
}

/// Owns one CMS_ContentInfo (CMS_ContentInfo_free on deinit); lends it with `withUnsafeCMSPointer`.
package final class OpenSSLCMS {
    private let ref: OpaquePointer
    init(takingOwnership ref: OpaquePointer) { self.ref = ref }
    deinit { CMS_ContentInfo_free(ref) }
    func withUnsafeCMSPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(ref) }
}

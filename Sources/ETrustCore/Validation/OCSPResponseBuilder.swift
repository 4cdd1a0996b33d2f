import Foundation
internal import COpenSSL

/// The responder side of RFC 6960, on OpenSSL's OCSP_* functions: parse a request, and sign
/// answers with the CA key or a delegated responder key. The daemon (issue #6) builds on this.
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
            clearOpenSSLErrors()
            let iss = try issuer.withX509 { $0 }
            defer { X509_free(iss) }
            var integerDER: [UInt8] = []
            DERWriter.integer(magnitude: magnitude, into: &integerDER)
            let serialInt: UnsafeMutablePointer<ASN1_INTEGER>? = integerDER.withUnsafeBufferPointer { buf in
                var p = buf.baseAddress
                return d2i_ASN1_INTEGER(nil, &p, buf.count)
            }
            guard let serialInt else { throw ETrustError.openSSL("d2i_ASN1_INTEGER") }
            defer { ASN1_INTEGER_free(serialInt) }
            guard let cid = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(iss), X509_get0_pubkey_bitstr(iss), serialInt) else {
                throw ETrustError.openSSL("OCSP_cert_id_new")
            }
            defer { OCSP_CERTID_free(cid) }
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = i2d_OCSP_CERTID(cid, &out)
            guard n > 0, let out else { throw ETrustError.openSSL("i2d_OCSP_CERTID") }
            defer { etrust_openssl_free(out) }
            let hashes = try OCSPResponder.issuerHashes(of: issuer)
            self.init(certIDDER: Array(UnsafeBufferPointer(start: out, count: Int(n))), hashAlgorithm: "1.3.14.3.2.26",
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
        clearOpenSSLErrors()
        let req: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            let r = d2i_OCSP_REQUEST(nil, &p, buf.count)
            if let r, p != buf.baseAddress! + buf.count { OCSP_REQUEST_free(r); return nil }
            return r
        }
        guard let req else { clearOpenSSLErrors(); return nil }
        defer { OCSP_REQUEST_free(req) }
        var queries: [Query] = []
        for i in 0..<OCSP_request_onereq_count(req) {
            guard let one = OCSP_request_onereq_get0(req, i), let cid = OCSP_onereq_get0_id(one) else { return nil }
            var nameHash: UnsafeMutablePointer<ASN1_OCTET_STRING>? = nil, keyHash: UnsafeMutablePointer<ASN1_OCTET_STRING>? = nil
            var alg: OpaquePointer? = nil
            var serial: UnsafeMutablePointer<ASN1_INTEGER>? = nil
            guard OCSP_id_get0_info(&nameHash, &alg, &keyHash, &serial, cid) == 1, let nameHash, let keyHash, let serial else { return nil }
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = i2d_OCSP_CERTID(cid, &out)
            guard n > 0, let out else { return nil }
            let cidDER = Array(UnsafeBufferPointer(start: out, count: Int(n)))
            etrust_openssl_free(out)
            queries.append(Query(certIDDER: cidDER, hashAlgorithm: objectText(alg, numeric: true),
                                 issuerNameHash: bytes(nameHash), issuerKeyHash: bytes(keyHash), serial: integerContent(serial)))
        }
        guard !queries.isEmpty else { return nil }
        let hasNonce = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0
        clearOpenSSLErrors()
        return ParsedRequest(der: der, queries: queries, hasNonce: hasNonce)
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
        clearOpenSSLErrors()
        guard let basic = OCSP_BASICRESP_new() else { throw ETrustError.openSSL("OCSP_BASICRESP_new") }
        defer { OCSP_BASICRESP_free(basic) }
        if extendedRevokedDefinition {
            // RFC 6960 4.4.8: id-pkix-ocsp-extended-revoke (value NULL) when "revoked" answers
            // for certificates never issued.
            guard let obj = OBJ_txt2obj("1.3.6.1.5.5.7.48.1.9", 1) else { throw ETrustError.openSSL("OBJ_txt2obj") }
            defer { ASN1_OBJECT_free(obj) }
            let null = ASN1_OCTET_STRING_new()
            defer { ASN1_OCTET_STRING_free(null) }
            var nullDER: [UInt8] = [0x05, 0x00]
            ASN1_OCTET_STRING_set(null, &nullDER, 2)
            guard let ext = X509_EXTENSION_create_by_OBJ(nil, obj, 0, null) else { throw ETrustError.openSSL("X509_EXTENSION_create_by_OBJ") }
            defer { X509_EXTENSION_free(ext) }
            guard OCSP_BASICRESP_add_ext(basic, ext, -1) == 1 else { throw ETrustError.openSSL("OCSP_BASICRESP_add_ext") }
        }
        let thisUpdate = ASN1_GENERALIZEDTIME_set(nil, time_t(now.timeIntervalSince1970))
        let nextUpdate = ASN1_GENERALIZEDTIME_set(nil, time_t(now.timeIntervalSince1970 + validity))
        defer { ASN1_GENERALIZEDTIME_free(thisUpdate); ASN1_GENERALIZEDTIME_free(nextUpdate) }
        for a in answers {
            let cid: OpaquePointer? = a.query.certIDDER.withUnsafeBufferPointer { buf in
                var p = buf.baseAddress
                return d2i_OCSP_CERTID(nil, &p, buf.count)
            }
            guard let cid else { throw ETrustError.openSSL("d2i_OCSP_CERTID") }
            defer { OCSP_CERTID_free(cid) }
            var ok: OpaquePointer?
            switch a.status {
            case .good:
                ok = OCSP_basic_add1_status(basic, cid, V_OCSP_CERTSTATUS_GOOD, 0, nil, thisUpdate, nextUpdate)
            case .unknown:
                ok = OCSP_basic_add1_status(basic, cid, V_OCSP_CERTSTATUS_UNKNOWN, 0, nil, thisUpdate, nextUpdate)
            case .revoked(let time, let reason):
                let rev = ASN1_GENERALIZEDTIME_set(nil, time_t(time.timeIntervalSince1970))
                defer { ASN1_GENERALIZEDTIME_free(rev) }
                ok = OCSP_basic_add1_status(basic, cid, V_OCSP_CERTSTATUS_REVOKED, Int32(reason?.rawValue ?? -1), rev, thisUpdate, nextUpdate)
            }
            guard ok != nil else { throw ETrustError.openSSL("OCSP_basic_add1_status") }
        }
        if let request {
            let req: OpaquePointer? = request.der.withUnsafeBufferPointer { buf in
                var p = buf.baseAddress
                return d2i_OCSP_REQUEST(nil, &p, buf.count)
            }
            if let req {
                defer { OCSP_REQUEST_free(req) }
                if request.hasNonce { guard OCSP_copy_nonce(basic, req) == 1 else { throw ETrustError.openSSL("OCSP_copy_nonce") } }
            }
        }
        let cert = try signerCertificate.withX509 { $0 }
        defer { X509_free(cert) }
        // ResponderID byKey (RFC 6960 4.2.2.3); the delegated certificate rides along.
        let flags = UInt(OCSP_RESPID_KEY) | (includeCertificate ? 0 : UInt(OCSP_NOCERTS))
        let md = try SignatureAlgorithm.forSigning(with: try signer.kind).digestName.map { EVP_get_digestbyname($0) } ?? nil
        guard OCSP_basic_sign(basic, cert, signer.handle.pointer, md, nil, flags) == 1 else { throw ETrustError.openSSL("OCSP_basic_sign") }
        guard let resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic) else { throw ETrustError.openSSL("OCSP_response_create") }
        defer { OCSP_RESPONSE_free(resp) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_OCSP_RESPONSE(resp, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_OCSP_RESPONSE") }
        defer { etrust_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }
}

import Foundation
internal import COpenSSL

/// RFC 3161 time-stamping (with RFC 5816's ESSCertIDv2) on OpenSSL's TS_* functions: requests,
/// a time-stamping authority's responses, and the checks of a token.
public enum TimeStamp {
    /// The digests a token's message imprint may use (SHA-1 is refused for new tokens).
    public static let digests = ["sha256", "sha384", "sha512"]

    /// What a token says (TSTInfo).
    public struct Info: Sendable, Equatable {
        public var genTime: Date
        public var serialHex: String
        public var policy: String
        public var hashAlgorithm: String
        public var messageImprint: [UInt8]
        public var nonceHex: String?
        public var tsaName: String?
        /// Accuracy in microseconds, when the token states one.
        public var accuracyMicroseconds: Int?
    }

    /// A parsed TimeStampResp: its status and, when granted, the token (a CMS ContentInfo).
    public struct Response: Sendable {
        public var der: [UInt8]
        /// PKIStatus: 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, ...
        public var status: Int
        public var statusText: String?
        public var token: [UInt8]?
        public var info: Info?
        public var granted: Bool { status == 0 || status == 1 }
    }

    // MARK: Requests

    /// A TimeStampReq over `data` (digested with `digest`), with a random nonce, asking for the
    /// TSA's certificate.
    public static func request(digestOf data: [UInt8], digest: String = "sha256", nonce: Bool = true, certReq: Bool = true,
                               policy: String? = nil) throws -> (der: [UInt8], nonceHex: String?) {
        try request(imprint: try Digest.named(digest, data), digest: digest, nonce: nonce, certReq: certReq, policy: policy)
    }

    /// A TimeStampReq for a digest computed elsewhere.
    public static func request(imprint: [UInt8], digest: String = "sha256", nonce: Bool = true, certReq: Bool = true,
                               policy: String? = nil) throws -> (der: [UInt8], nonceHex: String?) {
        clearOpenSSLErrors()
        guard let md = EVP_get_digestbyname(digest) else { throw ETrustError.badInput("unknown digest \(digest)", code: .invalidArgument) }
        let req = try check(TS_REQ_new(), "TS_REQ_new")
        defer { TS_REQ_free(req) }
        let imprintObject = try check(TS_MSG_IMPRINT_new(), "TS_MSG_IMPRINT_new")
        defer { TS_MSG_IMPRINT_free(imprintObject) }
        let algorithm = try check(X509_ALGOR_new(), "X509_ALGOR_new")
        defer { X509_ALGOR_free(algorithm) }
        X509_ALGOR_set_md(algorithm, md)
        try check(TS_MSG_IMPRINT_set_algo(imprintObject, algorithm), "TS_MSG_IMPRINT_set_algo")
        var bytes = imprint
        try check(TS_MSG_IMPRINT_set_msg(imprintObject, &bytes, Int32(bytes.count)), "TS_MSG_IMPRINT_set_msg")
        try check(TS_REQ_set_msg_imprint(req, imprintObject), "TS_REQ_set_msg_imprint")
        try check(TS_REQ_set_version(req, 1), "TS_REQ_set_version")
        try check(TS_REQ_set_cert_req(req, certReq ? 1 : 0), "TS_REQ_set_cert_req")
        if let policy {
            let oid = try check(OBJ_txt2obj(policy, 1), "OBJ_txt2obj")
            defer { ASN1_OBJECT_free(oid) }
            try check(TS_REQ_set_policy_id(req, oid), "TS_REQ_set_policy_id")
        }
        var nonceHex: String?
        if nonce {
            var random = try CSPRNG.bytes(8)
            random[0] &= 0x7f
            if random[0] == 0 { random[0] = 1 }
            let integer = try asn1Integer(magnitude: random)
            defer { ASN1_INTEGER_free(integer) }
            try check(TS_REQ_set_nonce(req, integer), "TS_REQ_set_nonce")
            nonceHex = Hex.encode(random)
        }
        return (try encode { i2d_TS_REQ(req, $0) }, nonceHex)
    }

    // MARK: The authority

    /// How a time-stamping authority signs.
    public struct Authority: Sendable {
        public var certificate: Certificate
        public var key: PrivateKey
        /// Certificates added to the token when the request asks for them (after the TSA's own).
        public var chain: [Certificate]
        /// The TSA policy OID put in every token (a request naming another is rejected).
        public var policy: String
        public var accuracy: (seconds: Int, millis: Int, micros: Int)
        public init(certificate: Certificate, key: PrivateKey, chain: [Certificate], policy: String,
                    accuracy: (seconds: Int, millis: Int, micros: Int) = (1, 0, 0)) {
            self.certificate = certificate; self.key = key; self.chain = chain; self.policy = policy; self.accuracy = accuracy
        }
    }

    /// Answers one TimeStampReq (DER): a granted token with `serial` and `time`, or a rejection
    /// (bad algorithm, unaccepted policy, malformed request) as RFC 3161 2.4.2 says. Never
    /// throws for a bad request: only for a failure of this authority.
    public static func respond(to requestDER: [UInt8], as tsa: Authority, serial: [UInt8], time: Date) throws -> Response {
        clearOpenSSLErrors()
        let ctx = try check(TS_RESP_CTX_new(), "TS_RESP_CTX_new")
        defer { TS_RESP_CTX_free(ctx) }
        try tsa.certificate.withUnsafeX509Pointer { x in try check(TS_RESP_CTX_set_signer_cert(ctx, x), "TS_RESP_CTX_set_signer_cert") }
        try tsa.key.handle.withUnsafeEVPKeyPointer { k in try check(TS_RESP_CTX_set_signer_key(ctx, k), "TS_RESP_CTX_set_signer_key") }
        let digestName = try SignatureAlgorithm.forSigning(with: try tsa.key.kind).digestName
        if let digestName, let md = EVP_get_digestbyname(digestName) { try check(TS_RESP_CTX_set_signer_digest(ctx, md), "TS_RESP_CTX_set_signer_digest") }
        if !tsa.chain.isEmpty {
            let stack = try OpenSSLCertificateStack(tsa.chain)
            try stack.withUnsafeStackPointer { try check(TS_RESP_CTX_set_certs(ctx, $0), "TS_RESP_CTX_set_certs") }
        }
        let policy = try check(OBJ_txt2obj(tsa.policy, 1), "OBJ_txt2obj")
        defer { ASN1_OBJECT_free(policy) }
        try check(TS_RESP_CTX_set_def_policy(ctx, policy), "TS_RESP_CTX_set_def_policy")
        for name in digests { if let md = EVP_get_digestbyname(name) { try check(TS_RESP_CTX_add_md(ctx, md), "TS_RESP_CTX_add_md") } }
        try check(TS_RESP_CTX_set_accuracy(ctx, Int32(tsa.accuracy.seconds), Int32(tsa.accuracy.millis), Int32(tsa.accuracy.micros)),
                  "TS_RESP_CTX_set_accuracy")
        try check(TS_RESP_CTX_set_clock_precision_digits(ctx, 3), "TS_RESP_CTX_set_clock_precision_digits")
        // RFC 5816: ESSCertIDv2 with SHA-256 identifies the TSA's certificate.
        try check(TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()), "TS_RESP_CTX_set_ess_cert_id_digest")
        TS_RESP_CTX_add_flags(ctx, TS_TSA_NAME)
        let box = Unmanaged.passRetained(Callbacks(serial: serial, time: time))
        defer { box.release() }
        TS_RESP_CTX_set_serial_cb(ctx, { _, data in
            guard let data else { return nil }
            return try? TimeStamp.asn1Integer(magnitude: Unmanaged<TimeStamp.Callbacks>.fromOpaque(data).takeUnretainedValue().serial)
        }, box.toOpaque())
        TS_RESP_CTX_set_time_cb(ctx, { _, data, sec, usec in
            guard let data, let sec, let usec else { return 0 }
            let t = Unmanaged<TimeStamp.Callbacks>.fromOpaque(data).takeUnretainedValue().time.timeIntervalSince1970
            sec.pointee = Int(t.rounded(.down))
            usec.pointee = Int((t - t.rounded(.down)) * 1_000_000)
            return 1
        }, box.toOpaque())
        let bio = try requestDER.withUnsafeBytes { try check(BIO_new_mem_buf($0.baseAddress, Int32($0.count)), "BIO_new_mem_buf") }
        defer { BIO_free(bio) }
        let resp = try check(TS_RESP_create_response(ctx, bio), "TS_RESP_create_response")
        defer { TS_RESP_free(resp) }
        return try parse(resp, der: try encode { i2d_TS_RESP(resp, $0) })
    }

    /// What the C callbacks read.
    fileprivate final class Callbacks {
        let serial: [UInt8]
        let time: Date
        init(serial: [UInt8], time: Date) { self.serial = serial; self.time = time }
    }

    // MARK: Reading and checking

    /// Parses a TimeStampResp (DER).
    public static func response(_ der: [UInt8]) throws -> Response {
        guard let resp = decodeDER(der, { d2i_TS_RESP(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_TS_RESP", category: .badInput, code: .malformedInput) { "not an RFC 3161 time-stamp response: \($0)" }
        }
        defer { TS_RESP_free(resp) }
        return try parse(resp, der: der)
    }

    /// What a token (a CMS ContentInfo holding a TSTInfo) says.
    public static func info(token der: [UInt8]) throws -> Info {
        guard let p7 = decodeDER(der, { d2i_PKCS7(nil, $0, $1) }) else {
            throw ETrustError.openSSL("d2i_PKCS7", category: .badInput, code: .malformedInput) { "not an RFC 3161 time-stamp token: \($0)" }
        }
        defer { PKCS7_free(p7) }
        let tst = try check(PKCS7_to_TS_TST_INFO(p7), "PKCS7_to_TS_TST_INFO", category: .badInput)
        defer { TS_TST_INFO_free(tst) }
        return try info(tst)
    }

    /// A token that is not a response (as found in a signature's unsigned attribute) wrapped as a
    /// granted response, so both are checked the same way.
    public struct Check: Sendable {
        /// Trusted anchors for the TSA's chain; intermediates may come with the token or here.
        public var anchors: [Certificate]
        public var intermediates: [Certificate] = []
        /// The data time-stamped, or its digest (with the token's algorithm).
        public var data: [UInt8]?
        public var imprint: [UInt8]?
        /// The nonce the request carried (hex), when one was sent.
        public var nonceHex: String?
        public init(anchors: [Certificate], intermediates: [Certificate] = [], data: [UInt8]? = nil, imprint: [UInt8]? = nil, nonceHex: String? = nil) {
            self.anchors = anchors; self.intermediates = intermediates; self.data = data; self.imprint = imprint; self.nonceHex = nonceHex
        }
    }

    /// Checks a token (CMS ContentInfo DER): the signature, the TSA's certificate chain to an
    /// anchor with the time-stamping purpose (critical EKU id-kp-timeStamping), ESSCertID(v2),
    /// the message imprint against the data or digest, and the nonce. Returns the token's info;
    /// throws refused with OpenSSL's reason when a check fails.
    public static func verify(token der: [UInt8], _ c: Check) throws -> Info {
        let tokenInfo = try info(token: der)
        if let nonce = c.nonceHex, tokenInfo.nonceHex?.lowercased() != nonce.lowercased() {
            throw ETrustError.refused("the time-stamp token's nonce does not match the request's", code: .badSignature)
        }
        guard let p7 = decodeDER(der, { d2i_PKCS7(nil, $0, $1) }) else { throw ETrustError.openSSL("d2i_PKCS7", category: .badInput) }
        defer { PKCS7_free(p7) }
        let ctx = try verifyContext(c, tokenInfo)
        defer { TS_VERIFY_CTX_free(ctx) }
        clearOpenSSLErrors()
        guard TS_RESP_verify_token(ctx, p7) == 1 else {
            throw ETrustError.openSSL("TS_RESP_verify_token", category: .refused, code: .badSignature) { "the time-stamp token does not verify: \($0)" }
        }
        return tokenInfo
    }

    private static func verifyContext(_ c: Check, _ tokenInfo: Info) throws -> OpaquePointer {
        let ctx = try check(TS_VERIFY_CTX_new(), "TS_VERIFY_CTX_new")
        do {
            var flags = TS_VFY_VERSION | TS_VFY_SIGNATURE
            let store = try OpenSSLTrustStore(anchors: c.anchors, crls: [])
            try store.withUnsafeStorePointer { s in
                guard X509_STORE_up_ref(s) == 1 else { throw ETrustError.openSSL("X509_STORE_up_ref") }
                TS_VERIFY_CTX_set_store(ctx, s)
            }
            if !c.intermediates.isEmpty {
                let stack = try check(etrust_sk_X509_new_null(), "sk_X509_new_null")
                for cert in c.intermediates {
                    try cert.withUnsafeX509Pointer { x in
                        X509_up_ref(x)
                        guard etrust_sk_X509_push(stack, x) > 0 else { X509_free(x); throw ETrustError.openSSL("sk_X509_push") }
                    }
                }
                TS_VERIFY_CTX_set_certs(ctx, stack)
            }
            if let data = c.data {
                let bio = try data.withUnsafeBytes { try check(BIO_new_mem_buf($0.baseAddress, Int32($0.count)), "BIO_new_mem_buf") }
                // The context reads the BIO when verifying, so the bytes must outlive it: copy them.
                let copy = try check(BIO_new(BIO_s_mem()), "BIO_new")
                BIO_free(bio)
                _ = data.withUnsafeBytes { BIO_write(copy, $0.baseAddress, Int32($0.count)) }
                TS_VERIFY_CTX_set_data(ctx, copy)
                flags |= TS_VFY_DATA
            } else if let imprint = c.imprint {
                guard let buf = CRYPTO_malloc(imprint.count, nil, 0) else { throw ETrustError.openSSL("CRYPTO_malloc") }
                let bytes = buf.bindMemory(to: UInt8.self, capacity: imprint.count)
                bytes.update(from: imprint, count: imprint.count)
                TS_VERIFY_CTX_set_imprint(ctx, bytes, Int(imprint.count))
                flags |= TS_VFY_IMPRINT
            }
            TS_VERIFY_CTX_set_flags(ctx, Int32(flags))
            return ctx
        } catch {
            TS_VERIFY_CTX_free(ctx)
            throw error
        }
    }

    // MARK: Helpers

    private static func parse(_ resp: OpaquePointer, der: [UInt8]) throws -> Response {
        let statusInfo = try check(TS_RESP_get_status_info(resp), "TS_RESP_get_status_info")
        let status = Int(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(statusInfo)))
        var text: String?
        if let texts = TS_STATUS_INFO_get0_text(statusInfo), OPENSSL_sk_num(texts) > 0,
           let first = OPENSSL_sk_value(texts, 0) {
            let s = first.assumingMemoryBound(to: ASN1_STRING.self)
            if let data = ASN1_STRING_get0_data(s) { text = String(decoding: UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(s))), as: UTF8.self) }
        }
        guard status == 0 || status == 1, let token = TS_RESP_get_token(resp), let tst = TS_RESP_get_tst_info(resp) else {
            return Response(der: der, status: status, statusText: text, token: nil, info: nil)
        }
        return Response(der: der, status: status, statusText: text, token: try encode { i2d_PKCS7(token, $0) }, info: try info(tst))
    }

    private static func info(_ tst: OpaquePointer) throws -> Info {
        let time = try check(TS_TST_INFO_get_time(tst), "TS_TST_INFO_get_time")
        let imprint = try check(TS_TST_INFO_get_msg_imprint(tst), "TS_TST_INFO_get_msg_imprint")
        let algo = try check(TS_MSG_IMPRINT_get_algo(imprint), "TS_MSG_IMPRINT_get_algo")
        var obj: OpaquePointer? = nil
        X509_ALGOR_get0(&obj, nil, nil, algo)
        let msg = try check(TS_MSG_IMPRINT_get_msg(imprint), "TS_MSG_IMPRINT_get_msg")
        let policy = try check(TS_TST_INFO_get_policy_id(tst), "TS_TST_INFO_get_policy_id")
        var accuracy: Int?
        if let acc = TS_TST_INFO_get_accuracy(tst) {
            func n(_ i: UnsafePointer<ASN1_INTEGER>?) -> Int { i.map { Int(ASN1_INTEGER_get($0)) } ?? 0 }
            accuracy = n(TS_ACCURACY_get_seconds(acc)) * 1_000_000 + n(TS_ACCURACY_get_millis(acc)) * 1000 + n(TS_ACCURACY_get_micros(acc))
        }
        var tsaName: String?
        if let gn = TS_TST_INFO_get_tsa(tst), gn.pointee.type == GEN_DIRNAME, let name = gn.pointee.d.directoryName {
            tsaName = try DistinguishedName(borrowing: name).description
        }
        return Info(genTime: try generalizedTime(time), serialHex: integerHex(TS_TST_INFO_get_serial(tst)),
                    policy: objectText(policy), hashAlgorithm: obj.map { objectText($0) } ?? "?",
                    messageImprint: Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(msg), count: Int(ASN1_STRING_length(msg)))),
                    nonceHex: TS_TST_INFO_get_nonce(tst).map(integerHex), tsaName: tsaName, accuracyMicroseconds: accuracy)
    }

    /// GeneralizedTime with its fraction of a second (RFC 3161 genTime may carry one).
    static func generalizedTime(_ t: UnsafePointer<ASN1_GENERALIZEDTIME>) throws -> Date {
        var tm = tm()
        guard ASN1_TIME_to_tm(t, &tm) == 1 else { throw ETrustError.openSSL("ASN1_TIME_to_tm") }
        var seconds = TimeInterval(timegm(&tm))
        let text = String(decoding: UnsafeBufferPointer(start: ASN1_STRING_get0_data(t), count: Int(ASN1_STRING_length(t))), as: UTF8.self)
        if let dot = text.firstIndex(of: "."), let fraction = Double("0" + text[dot...].prefix { $0 == "." || $0.isNumber }) {
            seconds += fraction
        }
        return Date(timeIntervalSince1970: seconds)
    }

    static func integerHex(_ i: UnsafePointer<ASN1_INTEGER>?) -> String {
        guard let i, let bn = ASN1_INTEGER_to_BN(i, nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { etrust_openssl_free(hex) }
        return String(cString: hex).lowercased()
    }

    static func objectText(_ o: OpaquePointer) -> String {
        var buf = [CChar](repeating: 0, count: 128)
        let n = OBJ_obj2txt(&buf, Int32(buf.count), o, 1)
        return String(decoding: buf.prefix(Int(max(0, n))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func asn1Integer(magnitude: [UInt8]) throws -> UnsafeMutablePointer<ASN1_INTEGER> {
        var der: [UInt8] = []
        DERWriter.integer(magnitude: magnitude, into: &der)
        guard let i = decodeDER(der, { d2i_ASN1_INTEGER(nil, $0, $1) }) else { throw ETrustError.openSSL("d2i_ASN1_INTEGER") }
        return i
    }

    /// i2d into a fresh buffer.
    static func encode(_ i2d: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) -> Int32) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d(&out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d") }
        defer { etrust_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }
}

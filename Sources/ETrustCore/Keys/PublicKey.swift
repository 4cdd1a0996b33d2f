import Foundation
import SwiftASN1
internal import COpenSSL

/// A public key decoded from its SubjectPublicKeyInfo. The SPKI bytes are kept as given, so that a
/// certificate carries exactly what the requester signed, without a decode/re-encode round trip.
public struct PublicKey: Sendable {
    package let handle: EVPKeyHandle
    public let subjectPublicKeyInfo: [UInt8]
    /// The BIT STRING contents (the key itself), hashed for the subjectKeyIdentifier (RFC 5280 4.2.1.2).
    public let subjectPublicKeyBits: [UInt8]
    public let kind: PublicKeyKind

    public init(subjectPublicKeyInfo spki: [UInt8]) throws {
        let algorithmOID: ASN1ObjectIdentifier
        var parameterOID: ASN1ObjectIdentifier? = nil
        let keyBits: [UInt8]
        do {
            let node = try DER.parse(spki)
            (algorithmOID, parameterOID, keyBits) = try DER.sequence(node, identifier: .sequence) { nodes in
                let (alg, param): (ASN1ObjectIdentifier, ASN1ObjectIdentifier?) = try DER.sequence(try PublicKey.next(&nodes), identifier: .sequence) { inner in
                    let oid = try ASN1ObjectIdentifier(derEncoded: &inner)
                    var param: ASN1ObjectIdentifier? = nil
                    if let p = inner.next(), p.identifier == .objectIdentifier {
                        param = try ASN1ObjectIdentifier(derEncoded: p)
                    }
                    return (oid, param)
                }
                let bits = try ASN1BitString(derEncoded: &nodes)
                guard bits.paddingBits == 0 else { throw ETrustError.badInput("public key BIT STRING has padding bits") }
                return (alg, param, Array(bits.bytes))
            }
        } catch let e as ETrustError {
            throw e
        } catch {
            throw ETrustError.badInput("malformed SubjectPublicKeyInfo: \(ASN1Errors.describe(error))")
        }
        self.subjectPublicKeyInfo = spki
        self.subjectPublicKeyBits = keyBits
        clearOpenSSLErrors()
        switch algorithmOID {
        case .AlgorithmIdentifier.idEcPublicKey:
            let curve: (name: String, group: String, bits: Int)
            switch parameterOID {
            case ASN1ObjectIdentifier.NamedCurves.secp256r1: curve = ("P-256", "prime256v1", 256)
            case ASN1ObjectIdentifier.NamedCurves.secp384r1: curve = ("P-384", "secp384r1", 384)
            case ASN1ObjectIdentifier.NamedCurves.secp521r1: curve = ("P-521", "secp521r1", 521)
            default:
                // Other named curves (P-192, brainpool, ...) are decoded by OpenSSL and judged by policy.
                let key = try PublicKey.decodeGeneric(spki)
                let bits = Int(EVP_PKEY_get_bits(key))
                let name = parameterOID.map { PublicKey.curveName(oid: $0) } ?? "explicit parameters"
                self.handle = EVPKeyHandle(takingOwnership: key)
                self.kind = .ec(curve: name, bits: bits)
                return
            }
            // EVP_PKEY_fromdata is ~7x cheaper than d2i_PUBKEY's decoder chain in OpenSSL 3.0, and
            // still checks that the point is on the curve.
            self.handle = EVPKeyHandle(takingOwnership: try PublicKey.fromECPoint(keyBits, group: curve.group))
            self.kind = .ec(curve: curve.name, bits: curve.bits)
        case .AlgorithmIdentifier.rsaEncryption:
            let key = try PublicKey.decodeGeneric(spki)
            self.handle = EVPKeyHandle(takingOwnership: key)
            self.kind = .rsa(bits: Int(EVP_PKEY_get_bits(key)))
        case ASN1ObjectIdentifier.ed25519:
            let key = keyBits.withUnsafeBufferPointer { EVP_PKEY_new_raw_public_key_ex(nil, "ED25519", nil, $0.baseAddress, $0.count) }
            self.handle = EVPKeyHandle(takingOwnership: try check(key, "EVP_PKEY_new_raw_public_key_ex(ED25519)", category: .badInput))
            self.kind = .ed25519
        default:
            let key = try PublicKey.decodeGeneric(spki)
            self.handle = EVPKeyHandle(takingOwnership: key)
            self.kind = algorithmOID == ASN1ObjectIdentifier.ed448 ? .ed448 : .other(oid: algorithmOID.description)
        }
    }

    /// An Ed25519 key from its 32 raw bytes (RFC 8410 SubjectPublicKeyInfo built around them).
    public init(ed25519Raw raw: [UInt8]) throws {
        guard raw.count == 32 else { throw ETrustError.badInput("an Ed25519 public key is 32 bytes") }
        try self.init(subjectPublicKeyInfo: [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00] + raw)
    }

    /// The raw key of an Ed25519 public key (the BIT STRING contents).
    public var ed25519Raw: [UInt8]? { kind == .ed25519 ? subjectPublicKeyBits : nil }

    static func next(_ nodes: inout ASN1NodeCollection.Iterator) throws -> ASN1Node {
        guard let n = nodes.next() else { throw ETrustError.badInput("malformed SubjectPublicKeyInfo") }
        return n
    }

    private static func curveName(oid: ASN1ObjectIdentifier) -> String {
        switch oid.description {
        case "1.2.840.10045.3.1.1": "P-192"
        case "1.3.132.0.33": "P-224"
        default: oid.description
        }
    }

    private static func decodeGeneric(_ spki: [UInt8]) throws -> OpaquePointer {
        let key: OpaquePointer? = spki.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_PUBKEY(nil, &p, buf.count)
        }
        return try check(key, "d2i_PUBKEY", category: .badInput)
    }

    nonisolated(unsafe) private static let groupParam = UnsafeRawPointer(("group" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
    nonisolated(unsafe) private static let pubParam = UnsafeRawPointer(("pub" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)

    private static func fromECPoint(_ point: [UInt8], group: String) throws -> OpaquePointer {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw ETrustError.openSSL("EVP_PKEY_CTX_new_from_name(EC)") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer? = nil
        let rc: Int32 = group.withCString { g in
            point.withUnsafeBufferPointer { pt in
                // OSSL_PARAM keeps the key-name pointers: they must outlive the call, so they are
                // static strings, not bridged Swift strings.
                var params: [OSSL_PARAM] = [
                    OSSL_PARAM_construct_utf8_string(PublicKey.groupParam, UnsafeMutablePointer(mutating: g), 0),
                    OSSL_PARAM_construct_octet_string(PublicKey.pubParam, UnsafeMutableRawPointer(mutating: pt.baseAddress), pt.count),
                    OSSL_PARAM_construct_end(),
                ]
                guard EVP_PKEY_fromdata_init(ctx) == 1 else { return 0 }
                return EVP_PKEY_fromdata(ctx, &key, etrust_EVP_PKEY_PUBLIC_KEY(), &params)
            }
        }
        guard rc == 1, let key else { throw ETrustError.openSSL("EVP_PKEY_fromdata(EC \(group))", category: .badInput) }
        return key
    }

    /// Verifies `signature` over `data` with the given signature algorithm.
    public func verify(signature: [UInt8], data: ArraySlice<UInt8>, algorithm: SignatureAlgorithm) throws -> Bool {
        clearOpenSSLErrors()
        guard let ctx = EVP_MD_CTX_new() else { throw ETrustError.openSSL("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        var pctx: OpaquePointer? = nil
        guard handle.withUnsafeEVPKeyPointer({ EVP_DigestVerifyInit_ex(ctx, &pctx, algorithm.digestName, nil, nil, $0, nil) }) == 1 else {
            throw ETrustError.openSSL("EVP_DigestVerifyInit_ex(\(algorithm))", category: .badInput)
        }
        if algorithm.isRSAPSS {
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING)
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO)
        }
        let rc = signature.withUnsafeBufferPointer { sig in
            data.withUnsafeBufferPointer { d in EVP_DigestVerify(ctx, sig.baseAddress, sig.count, d.baseAddress, d.count) }
        }
        clearOpenSSLErrors()
        return rc == 1
    }

    /// SHA-1 of the subjectPublicKey BIT STRING: RFC 5280 4.2.1.2 method (1).
    public var keyIdentifier: [UInt8] { Digest.sha1(subjectPublicKeyBits) }

    /// A short value for fingerprints and logs: SHA-256 of the SPKI.
    public var spkiSHA256: [UInt8] { Digest.sha256(subjectPublicKeyInfo) }
}

public enum Digest {
    public static func sha1<C: ContiguousBytes>(_ data: C) -> [UInt8] { digest(data, EVP_sha1(), 20) }
    public static func sha256<C: ContiguousBytes>(_ data: C) -> [UInt8] { digest(data, EVP_sha256(), 32) }

    /// A digest by OpenSSL name (sha256, sha384, sha512, sha1).
    public static func named<C: ContiguousBytes>(_ name: String, _ data: C) throws -> [UInt8] {
        guard let md = EVP_get_digestbyname(name) else { throw ETrustError.badInput("unknown digest \(name)", code: .invalidArgument) }
        return digest(data, md, Int(EVP_MD_get_size(md)))
    }

    private static func digest<C: ContiguousBytes>(_ data: C, _ md: OpaquePointer?, _ size: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var len: UInt32 = 0
        data.withUnsafeBytes { raw in
            _ = out.withUnsafeMutableBufferPointer { o in EVP_Digest(raw.baseAddress, raw.count, o.baseAddress, &len, md, nil) }
        }
        return out
    }
}

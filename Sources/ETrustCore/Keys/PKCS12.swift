import Foundation
internal import COpenSSL

/// PKCS#12 (RFC 7292) for delivering a generated key with its certificate (card personalisation):
/// key and certificates encrypted with AES-256-CBC under PBKDF2-HMAC-SHA256, MAC with SHA-256;
/// never the legacy RC2/3DES.
public enum PKCS12 {
    public static let defaultIterations: Int32 = 100_000

    public static func create(key: PrivateKey, certificate: Certificate, chain: [Certificate], password: [UInt8],
                              friendlyName: String?, iterations: Int32 = PKCS12.defaultIterations) throws -> [UInt8] {
        guard !password.isEmpty else { throw ETrustError.badInput("an empty PKCS#12 password protects nothing", code: .missingPassphrase) }
        clearOpenSSLErrors()
        let cert = try certificate.openSSLCertificate
        let cas = try OpenSSLCertificateStack(chain)
        var pass = password.map { CChar(bitPattern: $0) } + [0]
        defer { for i in pass.indices { pass[i] = 0 } }
        let p12: OpaquePointer? = pass.withUnsafeMutableBufferPointer { p in
            cert.withUnsafeX509Pointer { x in
                cas.withUnsafeStackPointer { stack in
                    key.handle.withUnsafeEVPKeyPointer { pkey in
                        PKCS12_create_ex(p.baseAddress, friendlyName, pkey, x, stack, NID_aes_256_cbc, NID_aes_256_cbc,
                                         iterations, iterations, 0, nil, nil)
                    }
                }
            }
        }
        guard let p12 else { throw ETrustError.openSSL("PKCS12_create_ex") }
        defer { PKCS12_free(p12) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_PKCS12(p12, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_PKCS12") }
        defer { etrust_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// Opens a PKCS#12: the key, its certificate and the other certificates.
    public static func open(_ der: [UInt8], password: [UInt8]) throws -> (key: PrivateKey, certificate: Certificate, chain: [Certificate]) {
        clearOpenSSLErrors()
        let p12: OpaquePointer? = der.withUnsafeBufferPointer { buf in
            var p = buf.baseAddress
            return d2i_PKCS12(nil, &p, buf.count)
        }
        guard let p12 else { throw ETrustError.openSSL("d2i_PKCS12", category: .badInput, code: .malformedInput) }
        defer { PKCS12_free(p12) }
        var pkey: OpaquePointer? = nil
        var cert: OpaquePointer? = nil
        var ca: OpaquePointer? = nil
        var pass = password.map { CChar(bitPattern: $0) } + [0]
        defer { for i in pass.indices { pass[i] = 0 } }
        let ok = pass.withUnsafeBufferPointer { PKCS12_parse(p12, $0.baseAddress, &pkey, &cert, &ca) }
        guard ok == 1, let pkey, let cert else {
            clearOpenSSLErrors()
            throw ETrustError.badInput("wrong password for the PKCS#12 file, or no key in it", code: .wrongPassphrase)
        }
        defer { X509_free(cert); if let ca { etrust_sk_X509_pop_free(ca) } }
        let chain = try ca.map { try OpenSSLCertificateStack.certificates(borrowing: $0) } ?? []
        return (PrivateKey(takingOwnership: pkey), try Certificate(borrowingX509: cert), chain)
    }
}

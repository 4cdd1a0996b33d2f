import Foundation
internal import COpenSSL

/// Trust anchors and CRLs parsed once into an OpenSSL X509_STORE, reused across validations so
/// that a relying party checking many certificates pays for parsing once. Immutable after init,
/// so several threads may validate against it at once.
public final class TrustStore: @unchecked Sendable {
    let store: OpaquePointer
    /// Every CRL, also given to each validation directly (X509_STORE_CTX_set0_crls, as
    /// `openssl verify -CRLfile` does): the store looks CRLs up by the certificate's issuer name
    /// only, which misses indirect CRLs signed by another issuer (RFC 5280 5.2.5, cRLIssuer).
    let crlStack: OpaquePointer
    public let anchors: [Certificate]
    public let crls: [CertificateRevocationList]

    public init(anchors: [Certificate], crls: [CertificateRevocationList] = []) throws {
        clearOpenSSLErrors()
        guard let store = X509_STORE_new() else { throw ETrustError.openSSL("X509_STORE_new") }
        self.store = store
        self.crlStack = etrust_sk_X509_CRL_new_null()
        self.anchors = anchors
        self.crls = crls
        for a in anchors {
            let x = try a.withX509 { $0 }
            defer { X509_free(x) }
            guard X509_STORE_add_cert(store, x) == 1 else { throw ETrustError.openSSL("X509_STORE_add_cert") }
        }
        for c in crls {
            let crl: OpaquePointer? = c.der.withUnsafeBufferPointer { buf in
                var p = buf.baseAddress
                return d2i_X509_CRL(nil, &p, buf.count)
            }
            guard let crl else { throw ETrustError.openSSL("d2i_X509_CRL", category: .badInput) }
            guard X509_STORE_add_crl(store, crl) == 1 else { X509_CRL_free(crl); throw ETrustError.openSSL("X509_STORE_add_crl") }
            _ = etrust_sk_X509_CRL_push(crlStack, crl)
        }
    }

    deinit {
        etrust_sk_X509_CRL_pop_free(crlStack)
        X509_STORE_free(store)
    }
}

/// Owns a STACK_OF(X509) of untrusted intermediates, parsed once.
final class X509Stack {
    let stack: OpaquePointer
    init(_ certificates: [Certificate]) throws {
        stack = etrust_sk_X509_new_null()
        for c in certificates {
            let x = try c.withX509 { $0 }
            guard etrust_sk_X509_push(stack, x) > 0 else { X509_free(x); throw ETrustError.openSSL("sk_X509_push") }
        }
    }
    deinit { etrust_sk_X509_pop_free(stack) }
}

import Foundation
import Synchronization
internal import COpenSSL

/// Owns one reference to an OpenSSL X509 (in the manner of swift-nio-ssl's NIOSSLCertificate):
/// ownership is taken at init, `deinit` frees it, and `withUnsafeX509Pointer` lends the pointer to
/// a closure only. Other modules use it as an opaque token for the package's OpenSSL operations.
// @unchecked Sendable: the X509 is never mutated after init, and OpenSSL's reference count is atomic.
package final class OpenSSLCertificate: @unchecked Sendable {
    private let ref: OpaquePointer

    /// Takes over a reference the caller owned (a d2i_X509 result, an up_ref'd pointer).
    init(takingOwnership ref: OpaquePointer) { self.ref = ref }

    /// Keeps a pointer someone else owns alive with a reference of our own (X509_up_ref).
    convenience init(borrowing ref: OpaquePointer) {
        X509_up_ref(ref)
        self.init(takingOwnership: ref)
    }

    /// OpenSSL's parse of a DER certificate (d2i_X509).
    package convenience init(der: [UInt8]) throws {
        let x = decodeDER(der) { d2i_X509(nil, $0, $1) }
        self.init(takingOwnership: try check(x, "d2i_X509", category: .badInput))
    }

    deinit { X509_free(ref) }

    /// Lends the X509 to `body`; the pointer is valid only inside it and must not be kept or freed.
    func withUnsafeX509Pointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try body(ref)
    }

    /// Whether both wrap the very same X509 object.
    package func isSameObject(as other: OpenSSLCertificate) -> Bool { ref == other.ref }

    /// X509_cmp: the same certificate (by its encoding's hash and bytes).
    package func isEqual(to other: OpenSSLCertificate) -> Bool { X509_cmp(ref, other.ref) == 0 }

    /// i2d_X509.
    package var der: [UInt8] {
        get throws { try OpenSSLCertificate.derOf(ref) }
    }

    /// The subject name, read through OpenSSL.
    package var subject: DistinguishedName {
        get throws { try DistinguishedName(borrowing: X509_get_subject_name(ref)) }
    }

    /// X509_verify with `key`: 1 verified, 0 not, negative when the check could not be made.
    package func verifySignature(with key: EVPKeyHandle) -> Int32 {
        clearOpenSSLErrors()
        defer { clearOpenSSLErrors() }
        return key.withUnsafeEVPKeyPointer { X509_verify(ref, $0) }
    }

    static func derOf(_ x: OpaquePointer) throws -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let n = i2d_X509(x, &out)
        guard n > 0, let out else { throw ETrustError.openSSL("i2d_X509") }
        defer { etrust_openssl_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }
}

/// One parsed X509 per certificate value, made lazily under a mutex and shared by its copies.
final class X509Cache: Sendable {
    private let state = Mutex<OpenSSLCertificate?>(nil)

    func get(_ der: [UInt8]) throws -> OpenSSLCertificate {
        try state.withLock { x in
            if let x { return x }
            let made = try OpenSSLCertificate(der: der)
            x = made
            return made
        }
    }

    func peek() -> OpenSSLCertificate? { state.withLock { $0 } }
}

extension Certificate {
    /// OpenSSL's parse of this certificate, made once and shared by copies of this value.
    package var openSSLCertificate: OpenSSLCertificate {
        get throws { try x509Cache.get(der) }
    }

    /// The cached parse, if it was made (for identity lookups).
    package var cachedOpenSSLCertificate: OpenSSLCertificate? { x509Cache.peek() }

    /// Lends this certificate's X509 to `body` (see OpenSSLCertificate.withUnsafeX509Pointer).
    func withUnsafeX509Pointer<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try openSSLCertificate.withUnsafeX509Pointer(body)
    }

    /// A certificate from an X509 the caller still owns (through its DER).
    init(borrowingX509 x: OpaquePointer) throws {
        try self.init(der: try OpenSSLCertificate.derOf(x))
    }
}

/// Owns a STACK_OF(X509) holding a reference to each certificate (sk_X509_pop_free on deinit).
// @unchecked Sendable: built once in init and only read afterwards.
package final class OpenSSLCertificateStack: @unchecked Sendable {
    private let stack: OpaquePointer
    package let certificates: [Certificate]

    package init(_ certificates: [Certificate]) throws {
        self.certificates = certificates
        stack = etrust_sk_X509_new_null()
        for c in certificates {
            let x = try c.openSSLCertificate
            let pushed = x.withUnsafeX509Pointer { p -> Bool in
                X509_up_ref(p)
                guard etrust_sk_X509_push(stack, p) > 0 else { X509_free(p); return false }
                return true
            }
            // On failure deinit frees the stack (the object is fully initialized).
            guard pushed else { throw ETrustError.openSSL("sk_X509_push") }
        }
    }

    deinit { etrust_sk_X509_pop_free(stack) }

    /// Lends the stack to `body` only.
    func withUnsafeStackPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(stack) }

    /// Certificates of a STACK_OF(X509) the caller still owns.
    static func certificates(borrowing stack: OpaquePointer) throws -> [Certificate] {
        var out: [Certificate] = []
        for i in 0..<etrust_sk_X509_num(stack) {
            if let x = etrust_sk_X509_value(stack, i) { out.append(try Certificate(borrowingX509: x)) }
        }
        return out
    }
}

/// Owns one X509_CRL (X509_CRL_free on deinit); lends it with `withUnsafeCRLPointer`.
// @unchecked Sendable: never mutated after init; OpenSSL's reference count is atomic.
package final class OpenSSLCRL: @unchecked Sendable {
    private let ref: OpaquePointer
    init(takingOwnership ref: OpaquePointer) { self.ref = ref }

    /// OpenSSL's parse of a DER CRL (d2i_X509_CRL).
    package convenience init(der: [UInt8]) throws {
        let crl = decodeDER(der) { d2i_X509_CRL(nil, $0, $1) }
        self.init(takingOwnership: try check(crl, "d2i_X509_CRL", category: .badInput))
    }

    deinit { X509_CRL_free(ref) }

    func withUnsafeCRLPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R { try body(ref) }

    /// i2d_X509_CRL.
    package var der: [UInt8] {
        get throws {
            var out: UnsafeMutablePointer<UInt8>? = nil
            let n = i2d_X509_CRL(ref, &out)
            guard n > 0, let out else { throw ETrustError.openSSL("i2d_X509_CRL") }
            defer { etrust_openssl_free(out) }
            return Array(UnsafeBufferPointer(start: out, count: Int(n)))
        }
    }

    /// X509_CRL_get_version (0 for v1, 1 for v2).
    package var version: Int { Int(X509_CRL_get_version(ref)) }

    /// X509_CRL_verify with `key`: 1 verified.
    package func verifySignature(with key: EVPKeyHandle) -> Int32 {
        clearOpenSSLErrors()
        defer { clearOpenSSLErrors() }
        return key.withUnsafeEVPKeyPointer { X509_CRL_verify(ref, $0) }
    }
}

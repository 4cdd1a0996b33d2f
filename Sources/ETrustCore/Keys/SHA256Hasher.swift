internal import COpenSSL

/// A reusable SHA-256 context (OpenSSL EVP, fetched once). Hashing millions of small inputs, as
/// the audit log's Merkle tree does, through one-shot EVP_Digest pays a provider fetch per call.
/// Not thread-safe: one per thread.
public final class SHA256Hasher {
    private let md: OpaquePointer
    private let ctx: OpaquePointer

    public init() {
        md = EVP_MD_fetch(nil, "SHA256", nil)!
        ctx = EVP_MD_CTX_new()!
    }

    deinit {
        EVP_MD_CTX_free(ctx)
        EVP_MD_free(md)
    }

    /// SHA-256(prefix || a || b), the shape of RFC 6962 leaf (0x00 || data) and node (0x01 || l || r) hashes.
    public func hash(prefix: UInt8?, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer? = nil) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        EVP_DigestInit_ex2(ctx, md, nil)
        if var p = prefix { EVP_DigestUpdate(ctx, &p, 1) }
        EVP_DigestUpdate(ctx, a.baseAddress, a.count)
        if let b { EVP_DigestUpdate(ctx, b.baseAddress, b.count) }
        var len: UInt32 = 0
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &len) }
        return out
    }

    public func hash(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { hash(prefix: nil, $0) }
    }
}

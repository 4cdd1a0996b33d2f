internal import COpenSSL

/// Signs bytes with a private key. Thread-safe: each call uses its own EVP_MD_CTX.
public struct Signer: Sendable {
    public let key: PrivateKey
    public let algorithm: SignatureAlgorithm

    public init(key: PrivateKey) throws {
        self.key = key
        self.algorithm = try SignatureAlgorithm.forSigning(with: try key.kind)
    }

    public func sign<Bytes: ContiguousCollection>(_ data: Bytes) throws -> [UInt8] where Bytes.Element == UInt8 {
        guard let ctx = EVP_MD_CTX_new() else { throw ETrustError.openSSL("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        guard key.handle.withUnsafeEVPKeyPointer({ EVP_DigestSignInit_ex(ctx, nil, algorithm.digestName, nil, nil, $0, nil) }) == 1 else {
            throw ETrustError.openSSL("EVP_DigestSignInit_ex(\(algorithm))")
        }
        var length = 0
        let rc: Int32 = data.withUnsafeBufferPointer { d -> Int32 in
            guard EVP_DigestSign(ctx, nil, &length, d.baseAddress, d.count) == 1 else { return 0 }
            return 1
        }
        guard rc == 1 else { throw ETrustError.openSSL("EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        let rc2: Int32 = data.withUnsafeBufferPointer { d in
            signature.withUnsafeMutableBufferPointer { s in EVP_DigestSign(ctx, s.baseAddress, &length, d.baseAddress, d.count) }
        }
        guard rc2 == 1 else { throw ETrustError.openSSL("EVP_DigestSign") }
        signature.removeSubrange(length...)
        return signature
    }
}

/// Arrays and slices: the byte collections the signer reads without copying.
public protocol ContiguousCollection: Collection {
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R
}
extension Array: ContiguousCollection {}
extension ArraySlice: ContiguousCollection {}

/// OpenSSL's CSPRNG (RAND_bytes), for serial numbers and salts.
public enum CSPRNG {
    public static func bytes(_ n: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        let rc = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(n)) }
        guard rc == 1 else { throw ETrustError.openSSL("RAND_bytes") }
        return out
    }
}

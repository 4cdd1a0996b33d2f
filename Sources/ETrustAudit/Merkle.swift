import ETrustCore

/// RFC 6962 / RFC 9162 Merkle tree hashing: SHA-256, leaf prefix 0x00, node prefix 0x01.
public struct MerkleHasher {
    let sha = SHA256Hasher()
    public init() {}

    public func leafHash(_ data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { sha.hash(prefix: 0x00, $0) }
    }

    public func leafHash(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { sha.hash(prefix: 0x00, UnsafeRawBufferPointer($0)) }
    }

    public func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        left.withUnsafeBytes { l in right.withUnsafeBytes { r in sha.hash(prefix: 0x01, l, r) } }
    }

    /// MTH({}) = SHA-256 of the empty string.
    public var emptyRoot: [UInt8] { sha.hash([]) }
}

/// The largest power of two strictly below n (n > 1).
@inline(__always) func splitPoint(_ n: Int) -> Int {
    var k = 1
    while k << 1 < n { k <<= 1 }
    return k
}

/// Where proofs read the hashes of perfect subtrees: level L, index i covers leaves
/// [i * 2^L, (i + 1) * 2^L).
public protocol SubtreeHashSource {
    func subtreeHash(level: Int, index: Int) throws -> [UInt8]
}

public enum MerkleProofs {
    /// MTH(D[start ..< start + count]) from perfect subtrees: O(log n) reads.
    public static func rangeHash(_ source: SubtreeHashSource, hasher: MerkleHasher, start: Int, count: Int) throws -> [UInt8] {
        precondition(count > 0)
        if count & (count - 1) == 0 && start % count == 0 {
            return try source.subtreeHash(level: count.trailingZeroBitCount, index: start / count)
        }
        let k = splitPoint(count)
        return hasher.nodeHash(try rangeHash(source, hasher: hasher, start: start, count: k),
                               try rangeHash(source, hasher: hasher, start: start + k, count: count - k))
    }

    public static func root(_ source: SubtreeHashSource, hasher: MerkleHasher, size: Int) throws -> [UInt8] {
        size == 0 ? hasher.emptyRoot : try rangeHash(source, hasher: hasher, start: 0, count: size)
    }

    /// RFC 6962 2.1.1 PATH(m, D[n]).
    public static func inclusionProof(_ source: SubtreeHashSource, hasher: MerkleHasher, index m: Int, size n: Int) throws -> [[UInt8]] {
        precondition(m >= 0 && m < n)
        func path(_ m: Int, _ start: Int, _ n: Int) throws -> [[UInt8]] {
            if n == 1 { return [] }
            let k = splitPoint(n)
            if m < k {
                return try path(m, start, k) + [rangeHash(source, hasher: hasher, start: start + k, count: n - k)]
            }
            return try path(m - k, start + k, n - k) + [rangeHash(source, hasher: hasher, start: start, count: k)]
        }
        return try path(m, 0, n)
    }

    /// RFC 6962 2.1.2 PROOF(m, D[n]).
    public static func consistencyProof(_ source: SubtreeHashSource, hasher: MerkleHasher, from m: Int, to n: Int) throws -> [[UInt8]] {
        precondition(0 < m && m <= n)
        func subproof(_ m: Int, _ start: Int, _ n: Int, _ b: Bool) throws -> [[UInt8]] {
            if m == n { return b ? [] : [try rangeHash(source, hasher: hasher, start: start, count: m)] }
            let k = splitPoint(n)
            if m <= k {
                return try subproof(m, start, k, b) + [rangeHash(source, hasher: hasher, start: start + k, count: n - k)]
            }
            return try subproof(m - k, start + k, n - k, false) + [rangeHash(source, hasher: hasher, start: start, count: k)]
        }
        return try subproof(m, 0, n, true)
    }

    /// RFC 9162 2.1.3.2: verifies an inclusion proof.
    public static func verifyInclusion(hasher: MerkleHasher, index: Int, size: Int, leafHash: [UInt8], proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard index >= 0, index < size, leafHash.count == 32, root.count == 32 else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard p.count == 32, sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = hasher.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = hasher.nodeHash(r, p)
            }
            fn >>= 1; sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// RFC 9162 2.1.4.2: verifies a consistency proof between two tree heads.
    public static func verifyConsistency(hasher: MerkleHasher, from size1: Int, to size2: Int, proof: [[UInt8]], root1: [UInt8], root2: [UInt8]) -> Bool {
        guard size1 <= size2 else { return false }
        if size1 == size2 { return proof.isEmpty && root1 == root2 }
        if size1 == 0 { return proof.isEmpty }
        guard !proof.isEmpty, proof.allSatisfy({ $0.count == 32 }) else { return false }
        var path = proof
        if size1 & (size1 - 1) == 0 { path.insert(root1, at: 0) }
        var fn = size1 - 1, sn = size2 - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = hasher.nodeHash(c, fr)
                sr = hasher.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = hasher.nodeHash(sr, c)
            }
            fn >>= 1; sn >>= 1
        }
        return sn == 0 && fr == root1 && sr == root2
    }
}

/// An in-memory compact range (the right edge of the tree): appends in O(1) amortised, root in
/// O(log n). The verifier streams a million leaves through one of these.
public struct CompactRange {
    private var stack: [(level: Int, hash: [UInt8])] = []
    public private(set) var size = 0
    let hasher: MerkleHasher

    public init(hasher: MerkleHasher) { self.hasher = hasher }

    /// Appends a leaf hash; returns the perfect subtrees completed by it as (level, index, hash),
    /// level 0 first, so that a store can keep them for proofs.
    @discardableResult
    public mutating func append(_ leafHash: [UInt8]) -> [(level: Int, index: Int, hash: [UInt8])] {
        var completed: [(Int, Int, [UInt8])] = [(0, size, leafHash)]
        var node = (level: 0, hash: leafHash)
        var index = size
        while let top = stack.last, top.level == node.level {
            stack.removeLast()
            node = (node.level + 1, hasher.nodeHash(top.hash, node.hash))
            index >>= 1
            completed.append((node.level, index, node.hash))
        }
        stack.append(node)
        size += 1
        return completed
    }

    /// The root of the leaves appended so far.
    public var root: [UInt8] {
        guard var acc = stack.last?.hash else { return hasher.emptyRoot }
        for entry in stack.dropLast().reversed() { acc = hasher.nodeHash(entry.hash, acc) }
        return acc
    }

    /// Rebuilds the right edge of a tree of `size` leaves from its stored perfect subtrees.
    public init(hasher: MerkleHasher, size: Int, source: SubtreeHashSource) throws {
        self.hasher = hasher
        var start = 0
        for level in stride(from: Int.bitWidth - 2, through: 0, by: -1) where size & (1 << level) != 0 {
            stack.append((level, try source.subtreeHash(level: level, index: start >> level)))
            start += 1 << level
        }
        self.size = size
    }
}

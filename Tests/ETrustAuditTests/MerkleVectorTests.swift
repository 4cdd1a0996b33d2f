import ETrustAudit
import ETrustCore
import Foundation
import Testing

/// RFC 6962 reference vectors, as carried by transparency-dev/merkle:
///   testonly/constants.go       (LeafInputs, RootHashes, NodeHashes)
///   proof/verify_test.go        (inclusionProofs, consistencyProofs; leaf numbers there are 1-based)
/// They come from the C++ Certificate Transparency reference implementation.
enum RFC6962Vectors {
    static let leaves: [[UInt8]] = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ].map { h($0) }

    static let emptyRoot = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

    /// roots[n - 1] is the root of the tree of the first n leaves.
    static let roots: [[UInt8]] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map { h($0) }

    /// nodes[level][index] for the 8-leaf tree.
    static let nodes: [[[UInt8]]] = [
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ].map { h($0) },
        [
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ].map { h($0) },
        [
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ].map { h($0) },
    ]

    struct Inclusion: Sendable, CustomTestStringConvertible {
        let index: Int, size: Int, proof: [[UInt8]]
        var testDescription: String { "leaf \(index) in \(size)" }
    }

    struct Consistency: Sendable, CustomTestStringConvertible {
        let from: Int, to: Int, proof: [[UInt8]]
        var testDescription: String { "\(from) -> \(to)" }
    }

    // Written out in full (not looked up in `nodes`) so that a wrong table cannot hide a wrong proof.
    static let inclusions: [Inclusion] = [
        Inclusion(index: 0, size: 8, proof: [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ]),
        Inclusion(index: 5, size: 8, proof: [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ]),
        Inclusion(index: 2, size: 3, proof: [
            h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        ]),
        Inclusion(index: 1, size: 5, proof: [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ]),
    ]

    static let consistencies: [Consistency] = [
        Consistency(from: 1, to: 1, proof: []),
        Consistency(from: 1, to: 8, proof: [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ]),
        Consistency(from: 6, to: 8, proof: [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ]),
        Consistency(from: 2, to: 5, proof: [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ]),
        Consistency(from: 6, to: 7, proof: [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ]),
    ]

    static func root(size: Int) -> [UInt8] { size == 0 ? emptyRoot : roots[size - 1] }
}

/// Every proof with one thing wrong, named for the failure message.
func corruptedVariants(_ proof: [[UInt8]]) -> [(String, [[UInt8]])] {
    var out: [(String, [[UInt8]])] = []
    for i in proof.indices {
        for byte in [0, 31] {
            var p = proof
            p[i][byte] ^= 0x01
            out.append(("bit flipped in element \(i), byte \(byte)", p))
        }
    }
    if !proof.isEmpty {
        out.append(("truncated", Array(proof.dropLast())))
        out.append(("first element dropped", Array(proof.dropFirst())))
        if proof.count > 1 { out.append(("elements swapped", [proof[1], proof[0]] + proof.dropFirst(2))) }
    }
    out.append(("extra element", proof + [RFC6962Vectors.nodes[0][7]]))
    out.append(("extra zero element", proof + [[UInt8](repeating: 0, count: 32)]))
    return out
}

@Suite("RFC 6962 Merkle tree: reference vectors and proofs")
struct MerkleVectorTests {
    let hasher = MerkleHasher()

    @Test("leaf hashes are SHA-256(0x00 || data) and node hashes SHA-256(0x01 || l || r), as in the vectors")
    func leafAndNodeHashes() throws {
        for (i, leaf) in RFC6962Vectors.leaves.enumerated() {
            #expect(hasher.leafHash(leaf) == RFC6962Vectors.nodes[0][i], "leaf \(i)")
        }
        // The String overload hashes the UTF-8 bytes (the log's leaves are JSON text).
        #expect(hasher.leafHash("") == RFC6962Vectors.nodes[0][0])
        #expect(hasher.leafHash("{\"a\":1}") == hasher.leafHash(Array("{\"a\":1}".utf8)))
        for level in 1..<RFC6962Vectors.nodes.count {
            for (i, node) in RFC6962Vectors.nodes[level].enumerated() {
                let l = RFC6962Vectors.nodes[level - 1][2 * i], r = RFC6962Vectors.nodes[level - 1][2 * i + 1]
                #expect(hasher.nodeHash(l, r) == node, "level \(level) index \(i)")
            }
        }
        #expect(hasher.emptyRoot == RFC6962Vectors.emptyRoot)
        // The two domains are separate: a leaf of 64 bytes is not the node over them.
        let pair = RFC6962Vectors.nodes[0][0] + RFC6962Vectors.nodes[0][1]
        #expect(hasher.leafHash(pair) != RFC6962Vectors.nodes[1][0])
    }

    @Test("CompactRange: the root of every size 0...8 and the completed subtrees equal the vectors")
    func compactRangeRoots() throws {
        var range = CompactRange(hasher: hasher)
        #expect(range.root == RFC6962Vectors.emptyRoot)
        var completed: [Int: [Int: [UInt8]]] = [:]
        for (i, leaf) in RFC6962Vectors.leaves.enumerated() {
            let done = range.append(hasher.leafHash(leaf))
            #expect(done.first?.level == 0 && done.first?.index == i)
            for c in done {
                #expect(completed[c.level]?[c.index] == nil, "subtree (\(c.level), \(c.index)) reported twice")
                completed[c.level, default: [:]][c.index] = c.hash
            }
            #expect(range.size == i + 1)
            #expect(range.root == RFC6962Vectors.roots[i], "root of size \(i + 1)")
        }
        for (level, hashes) in RFC6962Vectors.nodes.enumerated() {
            for (i, node) in hashes.enumerated() { #expect(completed[level]?[i] == node, "node (\(level), \(i))") }
        }
        #expect(completed[3]?[0] == RFC6962Vectors.roots[7])
        let completedCount: Int = completed.values.map(\.count).reduce(0, +)
        #expect(completedCount == 15)   // 8 leaves, 4 pairs, 2 quads, 1 octet
    }

    @Test("MerkleProofs.root and a CompactRange rebuilt from stored subtrees give the vector roots")
    func rootsFromSubtrees() throws {
        let tree = MemoryTree(leafData: RFC6962Vectors.leaves)
        #expect(try MerkleProofs.root(tree, hasher: hasher, size: 0) == RFC6962Vectors.emptyRoot)
        for size in 1...8 {
            #expect(try MerkleProofs.root(tree, hasher: hasher, size: size) == RFC6962Vectors.roots[size - 1], "size \(size)")
            var rebuilt = try CompactRange(hasher: hasher, size: size, source: tree)
            #expect(rebuilt.size == size)
            #expect(rebuilt.root == RFC6962Vectors.roots[size - 1], "rebuilt at size \(size)")
            // Appending the remaining leaves to the rebuilt range reaches the same final root.
            for leaf in RFC6962Vectors.leaves[size...] { rebuilt.append(hasher.leafHash(leaf)) }
            #expect(rebuilt.root == RFC6962Vectors.roots[7])
        }
    }

    @Test("inclusion proofs equal the reference vectors and verify", arguments: RFC6962Vectors.inclusions)
    func inclusionVector(_ v: RFC6962Vectors.Inclusion) throws {
        let tree = MemoryTree(leafData: RFC6962Vectors.leaves)
        let proof = try MerkleProofs.inclusionProof(tree, hasher: hasher, index: v.index, size: v.size)
        #expect(proof == v.proof)
        let leaf = hasher.leafHash(RFC6962Vectors.leaves[v.index])
        let root = RFC6962Vectors.root(size: v.size)
        #expect(MerkleProofs.verifyInclusion(hasher: hasher, index: v.index, size: v.size, leafHash: leaf, proof: v.proof, root: root))
    }

    @Test("inclusion verification rejects every corrupted variant", arguments: RFC6962Vectors.inclusions)
    func inclusionRejects(_ v: RFC6962Vectors.Inclusion) throws {
        let leaf = hasher.leafHash(RFC6962Vectors.leaves[v.index])
        let root = RFC6962Vectors.root(size: v.size)
        func ok(index: Int? = nil, size: Int? = nil, leaf l: [UInt8]? = nil, proof: [[UInt8]]? = nil, root r: [UInt8]? = nil) -> Bool {
            MerkleProofs.verifyInclusion(hasher: hasher, index: index ?? v.index, size: size ?? v.size, leafHash: l ?? leaf,
                                         proof: proof ?? v.proof, root: r ?? root)
        }
        #expect(ok())
        #expect(!ok(index: v.index + 1), "wrong index (+1)")
        if v.index > 0 { #expect(!ok(index: v.index - 1), "wrong index (-1)") }
        #expect(!ok(index: v.size), "index == size")
        #expect(!ok(index: -1), "negative index")
        if v.index ^ 2 < v.size { #expect(!ok(index: v.index ^ 2), "wrong index (^2)") }
        // Wrong tree sizes, as transparency-dev corrupts them (size + 1 can legitimately verify:
        // the last proof element may stand for a larger right subtree).
        #expect(!ok(size: v.size * 2), "size * 2")
        #expect(!ok(size: v.size / 2), "size / 2")
        #expect(!ok(leaf: hasher.leafHash(RFC6962Vectors.leaves[(v.index + 1) % 8])), "another leaf")
        #expect(!ok(leaf: RFC6962Vectors.leaves[v.index]), "raw data instead of its leaf hash")
        #expect(!ok(root: RFC6962Vectors.root(size: v.size == 8 ? 7 : v.size + 1)), "root of another size")
        var flippedRoot = root
        flippedRoot[0] ^= 0x80
        #expect(!ok(root: flippedRoot), "flipped root")
        for (what, p) in corruptedVariants(v.proof) {
            #expect(!ok(proof: p), "\(what) was accepted")
        }
    }

    @Test("consistency proofs equal the reference vectors and verify", arguments: RFC6962Vectors.consistencies)
    func consistencyVector(_ v: RFC6962Vectors.Consistency) throws {
        let tree = MemoryTree(leafData: RFC6962Vectors.leaves)
        let proof = try MerkleProofs.consistencyProof(tree, hasher: hasher, from: v.from, to: v.to)
        #expect(proof == v.proof)
        #expect(MerkleProofs.verifyConsistency(hasher: hasher, from: v.from, to: v.to, proof: v.proof,
                                               root1: RFC6962Vectors.root(size: v.from), root2: RFC6962Vectors.root(size: v.to)))
    }

    @Test("consistency verification rejects every corrupted variant", arguments: RFC6962Vectors.consistencies)
    func consistencyRejects(_ v: RFC6962Vectors.Consistency) throws {
        let r1 = RFC6962Vectors.root(size: v.from), r2 = RFC6962Vectors.root(size: v.to)
        func ok(from: Int? = nil, to: Int? = nil, proof: [[UInt8]]? = nil, root1: [UInt8]? = nil, root2: [UInt8]? = nil) -> Bool {
            MerkleProofs.verifyConsistency(hasher: hasher, from: from ?? v.from, to: to ?? v.to, proof: proof ?? v.proof,
                                           root1: root1 ?? r1, root2: root2 ?? r2)
        }
        #expect(ok())
        if v.from < v.to {
            #expect(!ok(from: v.from + 1), "wrong old size (+1)")
            #expect(!ok(root1: r2, root2: r1), "swapped roots")
        } else {
            #expect(!ok(root2: RFC6962Vectors.root(size: v.to + 1)), "equal sizes, different roots")
        }
        if v.from > 1 { #expect(!ok(from: v.from - 1), "wrong old size (-1)") }
        if v.from ^ 2 != v.from, v.from ^ 2 <= v.to, v.from ^ 2 > 0 { #expect(!ok(from: v.from ^ 2), "wrong old size (^2)") }
        #expect(!ok(to: v.to * 2), "new size * 2")
        #expect(!ok(to: v.to / 2), "new size / 2")
        #expect(!ok(from: v.to, to: v.from) || v.from == v.to, "sizes swapped")
        var bad1 = r1, bad2 = r2
        bad1[31] ^= 1
        bad2[31] ^= 1
        #expect(!ok(root1: bad1), "flipped old root")
        #expect(!ok(root2: bad2), "flipped new root")
        for (what, p) in corruptedVariants(v.proof) {
            #expect(!ok(proof: p), "\(what) was accepted")
        }
    }

    @Test("randomized: for sizes 1...70 the roots match the MTH definition and every inclusion and consistency proof verifies")
    func randomizedProofs() throws {
        var rng = SystemRandomNumberGenerator()
        var tree = MemoryTree()
        var leafHashes: [[UInt8]] = []
        for size in 1...70 {
            let data = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let leaf = hasher.leafHash(data)
            #expect(leaf == ReferenceMTH.leaf(data))
            leafHashes.append(leaf)
            tree.append(leaf)
            let root = tree.range.root
            #expect(root == ReferenceMTH.root(leafHashes[...]), "size \(size)")
            #expect(try MerkleProofs.root(tree, hasher: hasher, size: size) == root)
            var failures = 0
            for index in 0..<size {
                let proof = try MerkleProofs.inclusionProof(tree, hasher: hasher, index: index, size: size)
                if !MerkleProofs.verifyInclusion(hasher: hasher, index: index, size: size, leafHash: leafHashes[index], proof: proof, root: root) {
                    failures += 1
                    Issue.record("inclusion of \(index) in \(size) does not verify")
                }
                // ...and the same proof does not prove a neighbour.
                let other = (index + 1) % size
                if other != index,
                   MerkleProofs.verifyInclusion(hasher: hasher, index: index, size: size, leafHash: leafHashes[other], proof: proof, root: root),
                   leafHashes[other] != leafHashes[index] {
                    Issue.record("inclusion of \(index) in \(size) also proves leaf \(other)")
                }
            }
            for from in 1...size {
                let old = ReferenceMTH.root(leafHashes[..<from])
                let proof = try MerkleProofs.consistencyProof(tree, hasher: hasher, from: from, to: size)
                if !MerkleProofs.verifyConsistency(hasher: hasher, from: from, to: size, proof: proof, root1: old, root2: root) {
                    failures += 1
                    Issue.record("consistency \(from) -> \(size) does not verify")
                }
                if from < size {
                    var forged = old
                    forged[0] ^= 1
                    if MerkleProofs.verifyConsistency(hasher: hasher, from: from, to: size, proof: proof, root1: forged, root2: root) {
                        Issue.record("consistency \(from) -> \(size) accepts a wrong old root")
                    }
                }
            }
            #expect(failures == 0)
        }
    }
}

import ETrustAudit
import ETrustCA
import ETrustCore
import ETrustStore
import ETrustTestSupport
import Foundation
import Testing

/// Hex helpers for the vectors.
func h(_ hex: String) -> [UInt8] { hex.isEmpty ? [] : Hex.decode(hex)! }   // Hex.decode("") is nil by design
func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

/// An in-memory store of perfect subtrees, filled from what CompactRange.append reports, so that
/// MerkleProofs can be exercised without a database.
struct MemoryTree: SubtreeHashSource {
    struct Missing: Error { let level: Int, index: Int }
    let hasher = MerkleHasher()
    var range: CompactRange
    var nodes: [Int: [Int: [UInt8]]] = [:]

    init() { range = CompactRange(hasher: MerkleHasher()) }

    init(leafData: [[UInt8]]) {
        self.init()
        for d in leafData { append(hasher.leafHash(d)) }
    }

    mutating func append(_ leafHash: [UInt8]) {
        for c in range.append(leafHash) { nodes[c.level, default: [:]][c.index] = c.hash }
    }

    func subtreeHash(level: Int, index: Int) throws -> [UInt8] {
        guard let h = nodes[level]?[index] else { throw Missing(level: level, index: index) }
        return h
    }
}

/// A reference RFC 6962 Merkle tree hash computed straight from the definition (MTH), with
/// SHA-256 from OpenSSL and no code from ETrustAudit.
enum ReferenceMTH {
    static func leaf(_ d: [UInt8]) -> [UInt8] { Digest.sha256([0x00] + d) }
    static func node(_ l: [UInt8], _ r: [UInt8]) -> [UInt8] { Digest.sha256([0x01] + l + r) }
    static func root(_ leafHashes: ArraySlice<[UInt8]>) -> [UInt8] {
        if leafHashes.isEmpty { return Digest.sha256([UInt8]()) }
        if leafHashes.count == 1 { return leafHashes.first! }
        var k = 1
        while k * 2 < leafHashes.count { k *= 2 }
        let s = leafHashes.startIndex
        return node(root(leafHashes[s..<s + k]), root(leafHashes[(s + k)...]))
    }
}

/// A fresh Ed25519 key whose verifier key has no '+' in its base64 (see the '+' bug in
/// SignedNote.parseVerifierKey, tested on its own), for tests about other things.
func ed25519KeyWithoutPlus() throws -> (Signer, [UInt8]) {
    for _ in 0..<200 {
        let key = try PrivateKey.generate(.ed25519)
        let raw = try #require(try key.publicKey.ed25519Raw)
        if !Data([0x01] + raw).base64EncodedString().contains("+") { return (try Signer(key: key), raw) }
    }
    throw ETrustError.environment("no suitable key in 200 tries")
}

/// Rewrites one event's payload ("tls-server" -> "tls-client") and makes the whole database
/// agree with it: its leaf hash, every tree node recomputed from the leaves, and the `root`
/// column of every checkpoint (the signed notes cannot be redone without the audit key).
/// Prints the new roots as "size hex" lines.
let pythonFullRewrite = #"""
import hashlib, sqlite3, sys
db, row = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
leaf = lambda b: hashlib.sha256(b"\x00" + b).digest()
node = lambda l, r: hashlib.sha256(b"\x01" + l + r).digest()
def mth(hs):
    if len(hs) == 1: return hs[0]
    k = 1
    while k * 2 < len(hs): k *= 2
    return node(mth(hs[:k]), mth(hs[k:]))
leaves = []
for i, p in c.execute("SELECT id, payload FROM events ORDER BY id").fetchall():
    if i == row:
        q = p.replace("tls-server", "tls-client")
        assert q != p
        c.execute("UPDATE events SET payload = ?, leaf_hash = ? WHERE id = ?", (q, leaf(q.encode()), i))
        p = q
    leaves.append(leaf(p.encode()))
c.execute("DELETE FROM audit_nodes")
level, nodes = 0, leaves
while nodes:
    for i, h in enumerate(nodes):
        c.execute("INSERT INTO audit_nodes(level, idx, hash) VALUES (?, ?, ?)", (level, i, h))
    nodes = [node(nodes[2 * i], nodes[2 * i + 1]) for i in range(len(nodes) // 2)]
    level += 1
for cid, size in c.execute("SELECT id, size FROM checkpoints").fetchall():
    c.execute("UPDATE checkpoints SET root = ? WHERE id = ?", (mth(leaves[:size]), cid))
    print(size, mth(leaves[:size]).hex())
c.commit()
"""#

/// Runs a Python script with pyca/cryptography from the test venv.
@discardableResult
func python(_ script: String, _ arguments: [String] = []) throws -> TestSupport.Result {
    try TestSupport.run(TestSupport.venv + "/bin/python", ["-c", script] + arguments)
}

/// A home with a root and an issuing CA (built through the library), a few issuances, a
/// refusal and three signed checkpoints:
///   checkpoint 1: policies, CA creations, the audit key
///   3 tls-server issuances (one transaction each)
///   checkpoint 2
///   1 refusal, 2 more issuances
///   checkpoint 3 (covers every entry)
struct AuditHome {
    let home: String
    let authority: Authority
    /// Sizes of the three checkpoints, in order.
    let checkpointSizes: [Int]
    /// Serials of the five certificates, in issuance order.
    let serials: [String]

    var db: String { authority.home.databasePath }
    var size: Int { checkpointSizes.last! }
    var checkpointFile: String { authority.auditCheckpointPath }
    var vkeyFile: String { authority.auditVerifierKeyPath }

    static func request(_ name: String, san: Bool = true) throws -> IssuanceRequest {
        let csr = try TestSupport.csr(subject: "CN=\(name)")
        return IssuanceRequest(source: .csr(csr), profile: "tls-server", subject: try DistinguishedName(parsing: "CN=\(name)"),
                               subjectAltNames: san ? [try GeneralName(parsing: "dns:\(name)")] : nil)
    }

    /// The published verifier key of a home (NAME+KEYID+BASE64).
    static func verifierKey(_ authority: Authority) throws -> String {
        try String(contentsOfFile: authority.auditVerifierKeyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A home with its root and issuing CAs and a first checkpoint (which creates the audit key).
    /// `plusInKey` chooses whether the base64 of the audit verifier key contains a '+': homes
    /// are made until one fits, about two tries each way. Every test but the one about the
    /// '+' bug (see SignedNoteTests / CommandTests) uses a key without '+', so that the bug in
    /// SignedNote.parseVerifierKey fails that test deterministically instead of half of the rest
    /// at random.
    static func makeWithFirstCheckpoint(plusInKey: Bool = false) throws -> (String, Authority, Int) {
        for _ in 0..<40 {
            let (home, authority) = try TestSupport.makePKI()
            let size = try #require(try authority.checkpoint()).size
            let keyPart = try verifierKey(authority).split(separator: "+", maxSplits: 2).last ?? ""
            if keyPart.contains("+") == plusInKey { return (home, authority, size) }
        }
        throw ETrustError.environment("no audit key with plusInKey = \(plusInKey) in 40 tries")
    }

    static func make(plusInKey: Bool = false) throws -> AuditHome {
        let (home, authority, first) = try makeWithFirstCheckpoint(plusInKey: plusInKey)
        var sizes: [Int] = [first]
        var serials: [String] = []
        for i in 1...3 {
            serials.append(try authority.issue(try request("www\(i).example.tg"), ca: "issuing").1.serialHex)
        }
        sizes.append(try #require(try authority.checkpoint()).size)
        #expect(throws: ETrustError.self) { try authority.issue(try request("refused.example.tg", san: false), ca: "issuing") }
        for i in 4...5 {
            serials.append(try authority.issue(try request("www\(i).example.tg"), ca: "issuing").1.serialHex)
        }
        sizes.append(try #require(try authority.checkpoint()).size)
        #expect(sizes[1] == sizes[0] + 3 && sizes[2] == sizes[1] + 3, "\(sizes)")
        return AuditHome(home: home, authority: authority, checkpointSizes: sizes, serials: serials)
    }

    /// Runs SQL on the home's database with the sqlite3 command-line shell.
    @discardableResult
    func sql(_ statements: String) throws -> String {
        let r = try TestSupport.run("/usr/bin/sqlite3", ["-cmd", ".timeout 5000", db, statements])
        try #require(r.status == 0, "sqlite3 failed: \(r.stderr)")
        return r.stdout
    }

    /// 1-based row id of the n-th (0-based) event of a type.
    func eventID(type: String, _ n: Int) throws -> Int {
        let ids = try sql("SELECT id FROM events WHERE type = '\(type)' ORDER BY id").split(separator: "\n").compactMap { Int($0) }
        return try #require(ids.count > n ? ids[n] : nil)
    }

    func verify(_ extra: [String] = []) throws -> TestSupport.Result {
        try TestSupport.etrust(["audit", "verify", "--home", home] + extra)
    }

    func verifyJSON(_ extra: [String] = []) throws -> (TestSupport.Result, [String: Any]) {
        let r = try verify(extra + ["--json"])
        return (r, try #require(r.json, "no JSON: \(r.stdout) \(r.stderr)"))
    }

    /// A fresh Authority on the same home (as another process would see it).
    func reopen() throws -> Authority {
        try Authority(home: try Home.open(home), passphrase: { Array("test-passphrase".utf8) })
    }
}

import ETrustAudit
import ETrustCore
import ETrustTestSupport
import Foundation
import Testing

/// Verifies C2SP signed notes independently with pyca/cryptography: for each note file given
/// (argv[3:]), prints one JSON line with the key ID it computes, the key ID carried by the
/// signature and by the verifier key, and whether the Ed25519 signature verifies over the text.
let pythonNoteVerifier = #"""
import base64, hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature
vkey, origin = sys.argv[1], sys.argv[2]
name, vkey_id, key_b64 = vkey.strip().split("+", 2)   # base64 may itself contain "+"
raw = base64.b64decode(key_b64)
assert raw[0] == 1 and len(raw) == 33, "not an Ed25519 note verifier key"
pub = raw[1:]
key_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4]
for path in sys.argv[3:]:
    note = open(path, "rb").read().decode("utf-8")
    text, sigs = note.rsplit("\n\n", 1)
    text += "\n"
    out = {"keyID": key_id.hex(), "vkeyID": vkey_id, "name": name, "signatures": []}
    for line in sigs.rstrip("\n").split("\n"):
        assert line.startswith("\u2014 "), line
        sig_name, blob_b64 = line[2:].split(" ")
        blob = base64.b64decode(blob_b64)
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(blob[4:], text.encode("utf-8"))
            ok = True
        except InvalidSignature:
            ok = False
        out["signatures"].append({"name": sig_name, "keyID": blob[:4].hex(), "verifies": ok})
    lines = text.split("\n")
    out["origin"], out["size"], out["root"] = lines[0], lines[1], lines[2]
    out["originMatches"] = lines[0] == origin
    print(json.dumps(out))
"""#

/// Runs the Python verifier on notes; returns one decoded object per note.
func pythonVerifyNotes(vkey: String, origin: String, notes: [String]) throws -> [[String: Any]] {
    let dir = try TestSupport.temporaryDirectory("etrust-notes")
    var paths: [String] = []
    for (i, n) in notes.enumerated() {
        let p = dir + "/note\(i)"
        try n.write(toFile: p, atomically: true, encoding: .utf8)
        paths.append(p)
    }
    let r = try python(pythonNoteVerifier, [vkey, origin] + paths)
    try #require(r.status == 0, "python: \(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    try #require(lines.count == notes.count, "\(r.stdout)")
    return try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
}

@Suite("C2SP checkpoints and signed notes")
struct SignedNoteTests {
    static let origin = "example.org/etrust-test-log"
    let root8 = RFC6962Vectors.roots[7]

    func keyPair() throws -> (Signer, [UInt8]) {
        let key = try PrivateKey.generate(.ed25519)
        let raw = try #require(try key.publicKey.ed25519Raw)
        #expect(raw.count == 32)
        return (try Signer(key: key), raw)
    }

    @Test("the checkpoint body is exactly origin, size and base64 root, each ending in a newline, and parses back")
    func checkpointBody() throws {
        let c = Checkpoint(origin: Self.origin, size: 8, root: root8)
        #expect(c.body == "example.org/etrust-test-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n")
        #expect(try Checkpoint(body: c.body) == c)
        let empty = Checkpoint(origin: Self.origin, size: 0, root: RFC6962Vectors.emptyRoot)
        #expect(empty.body == "example.org/etrust-test-log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
        // Malformed bodies are refused.
        for bad in [
            "example.org/etrust-test-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",          // no final newline
            "example.org/etrust-test-log\neight\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",   // size not a number
            "example.org/etrust-test-log\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",      // negative size
            "example.org/etrust-test-log\n8\nXcnaeacGWamtVZy3Ad7Zoqu=\n",                           // root not 32 bytes
            "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",                                  // no origin
            "example.org/etrust-test-log\n8\n",                                                    // no root
        ] {
            #expect(throws: ETrustError.self, "\(bad.debugDescription) was accepted") { try Checkpoint(body: bad) }
        }
    }

    @Test("a note signed with an Ed25519 signer verifies, in C2SP signed-note form")
    func signAndVerify() throws {
        let (signer, raw) = try keyPair()
        let body = Checkpoint(origin: Self.origin, size: 8, root: root8).body
        let note = try SignedNote.sign(text: body, name: Self.origin, signer: signer, publicKey: raw)
        // text, a blank line, then one "— NAME base64(keyID || signature)" line.
        #expect(note.hasPrefix(body + "\n\u{2014} \(Self.origin) "))
        #expect(note.hasSuffix("\n"))
        let sigLine = try #require(note.split(separator: "\n").last)
        let blob = try #require(Data(base64Encoded: String(sigLine.split(separator: " ")[2])))
        #expect(blob.count == 4 + 64)
        #expect([UInt8](blob.prefix(4)) == SignedNote.keyID(name: Self.origin, publicKey: raw))

        let parsed = try SignedNote(parsing: note)
        #expect(parsed.text == body)
        #expect(parsed.signatures.count == 1)
        #expect(parsed.signatures.first?.name == Self.origin)
        #expect(try parsed.isSigned(name: Self.origin, publicKey: raw))
        #expect(try Checkpoint(body: parsed.text) == Checkpoint(origin: Self.origin, size: 8, root: root8))

        // Another key, or the right key under another name, does not verify it.
        let (_, otherRaw) = try keyPair()
        #expect(try !parsed.isSigned(name: Self.origin, publicKey: otherRaw))
        #expect(try !parsed.isSigned(name: "example.org/other", publicKey: raw))
    }

    @Test("flipping one character of the body, the key ID or the signature breaks the note")
    func tamperedNotes() throws {
        let (signer, raw) = try keyPair()
        let body = Checkpoint(origin: Self.origin, size: 8, root: root8).body
        let note = try SignedNote.sign(text: body, name: Self.origin, signer: signer, publicKey: raw)
        let chars = Array(note)
        func flip(at i: Int) -> String {
            var c = chars
            c[i] = c[i] == "A" ? "B" : (c[i] == "8" ? "9" : (c[i] == "a" ? "b" : "A"))
            return String(c)
        }
        // Every character of the body (except the newlines that frame it) matters.
        var tampered: [(String, String)] = []
        for i in 0..<body.count where chars[i] != "\n" { tampered.append(("body character \(i)", flip(at: i))) }
        let sigStart = body.count + 1 + "\u{2014} \(Self.origin) ".count
        tampered.append(("key ID", flip(at: sigStart + 1)))
        tampered.append(("signature (middle)", flip(at: sigStart + 40)))
        tampered.append(("signature (near the end)", flip(at: chars.count - 6)))
        for (what, t) in tampered {
            #expect(t != note)
            if let parsed = try? SignedNote(parsing: t) {
                #expect(try !parsed.isSigned(name: Self.origin, publicKey: raw), "\(what): still verifies")
            }
        }
        #expect(try SignedNote(parsing: note).isSigned(name: Self.origin, publicKey: raw))
        // No signature, or a malformed signature line, is refused outright.
        #expect(throws: ETrustError.self) { try SignedNote(parsing: body) }
        #expect(throws: ETrustError.self) { try SignedNote(parsing: body + "\n- \(Self.origin) AAAA\n") }
    }

    /// A fresh Ed25519 key whose verifier key's base64 part does (or does not) contain '+'
    /// (about half of all keys do).
    func keyPair(plusInBase64: Bool) throws -> (Signer, [UInt8]) {
        for _ in 0..<200 {
            let (signer, raw) = try keyPair()
            if Data([0x01] + raw).base64EncodedString().contains("+") == plusInBase64 { return (signer, raw) }
        }
        throw ETrustError.environment("no suitable key in 200 tries")
    }

    @Test("the verifier key is NAME+hex(keyID)+base64(0x01 || key) and round-trips through parseVerifierKey",
          arguments: [false, true])
    func verifierKeyRoundTrip(plusInBase64: Bool) throws {
        let (_, raw) = try keyPair(plusInBase64: plusInBase64)
        let vkey = SignedNote.verifierKey(name: Self.origin, publicKey: raw)
        // The name and the key ID cannot contain '+'; the base64 key can (it is the standard alphabet).
        let parts = vkey.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        #expect(parts[2].contains("+") == plusInBase64)
        #expect(parts.count == 3)
        #expect(parts[0] == Self.origin)
        #expect(parts[1] == Hex.encode(SignedNote.keyID(name: Self.origin, publicKey: raw)))
        #expect(parts[1].count == 8)
        #expect(Data(base64Encoded: String(parts[2])).map([UInt8].init) == [0x01] + raw)
        let parsed = try SignedNote.parseVerifierKey(vkey + "\n")
        #expect(parsed.name == Self.origin)
        #expect(parsed.publicKey == raw)
        // The key ID must match the key; the algorithm byte must be Ed25519.
        let wrongID = "\(Self.origin)+00000000+\(parts[2])"
        #expect(throws: ETrustError.self) { try SignedNote.parseVerifierKey(wrongID) }
        let wrongAlg = "\(Self.origin)+\(parts[1])+\(Data([0x02] + raw).base64EncodedString())"
        #expect(throws: ETrustError.self) { try SignedNote.parseVerifierKey(wrongAlg) }
        #expect(throws: ETrustError.self) { try SignedNote.parseVerifierKey("\(Self.origin)+\(parts[1])") }
    }

    @Test("pyca/cryptography verifies the signature over the note text and computes the same key ID")
    func independentCheck() throws {
        let (signer, raw) = try keyPair(plusInBase64: false)
        let body = Checkpoint(origin: Self.origin, size: 8, root: root8).body
        let note = try SignedNote.sign(text: body, name: Self.origin, signer: signer, publicKey: raw)
        let vkey = SignedNote.verifierKey(name: Self.origin, publicKey: raw)
        let forged = note.replacingOccurrences(of: "\n8\n", with: "\n9\n")
        let results = try pythonVerifyNotes(vkey: vkey, origin: Self.origin, notes: [note, forged])
        let good = results[0], bad = results[1]
        let ourID = Hex.encode(SignedNote.keyID(name: Self.origin, publicKey: raw))
        #expect(good["keyID"] as? String == ourID)
        #expect(good["vkeyID"] as? String == ourID)
        let sigs = try #require(good["signatures"] as? [[String: Any]])
        #expect(sigs.count == 1)
        #expect(sigs.first?["keyID"] as? String == ourID)
        #expect(sigs.first?["name"] as? String == Self.origin)
        #expect(sigs.first?["verifies"] as? Bool == true)
        #expect(good["size"] as? String == "8")
        #expect(good["root"] as? String == b64(root8))
        // The judge is not a rubber stamp: it rejects the forged body.
        let badSigs = try #require(bad["signatures"] as? [[String: Any]])
        #expect(badSigs.first?["verifies"] as? Bool == false)
    }
}

/// The verifier the certificate page runs in the auditor's browser (served as /verify.js, the only
/// script the console's Content-Security-Policy allows). With WebCrypto only, it recomputes the
/// RFC 6962 leaf hash of the entry and the root from the inclusion proof, checks that the entry
/// is this certificate's issuance, and verifies the C2SP checkpoint's Ed25519 signature with the
/// audit verifier key the auditor pinned in this browser (localStorage), never with a key the
/// server sends. It writes "proof verified" or the reason it failed into #proof-result.
enum ConsoleScript {
    static let source = #"""
"use strict";
(function () {
  const enc = new TextEncoder();
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const hex = (u) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");
  const cat = (...parts) => { const n = parts.reduce((a, p) => a + p.length, 0), out = new Uint8Array(n); let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; } return out; };
  const sha256 = async (...parts) => new Uint8Array(await crypto.subtle.digest("SHA-256", cat(...parts)));
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const fail = (why) => { throw new Error(why); };

  // C2SP note verifier key: NAME+HEX(keyID)+base64(0x01 || Ed25519 public key).
  async function parseKey(text) {
    const t = text.trim(), i = t.indexOf("+"), j = t.indexOf("+", i + 1);
    if (i < 1 || j < 0) fail("the pinned key is not a verifier key (NAME+KEYID+BASE64)");
    const name = t.slice(0, i), id = t.slice(i + 1, j), raw = b64(t.slice(j + 1));
    if (raw.length !== 33 || raw[0] !== 1) fail("the pinned key is not an Ed25519 note key");
    const pub = raw.slice(1), keyID = (await sha256(enc.encode(name), new Uint8Array([10, 1]), pub)).slice(0, 4);
    if (hex(keyID) !== id.toLowerCase()) fail("the pinned key's ID does not match its key");
    return { name, keyID, pub };
  }

  // The signed note: text, a blank line, "— NAME base64(keyID || signature)" lines.
  async function checkNote(note, key) {
    const k = note.lastIndexOf("\n\n");
    if (k < 0) fail("the checkpoint is not a signed note");
    const text = note.slice(0, k + 1);
    const lines = note.slice(k + 2).split("\n").filter((l) => l.length > 0);
    const pubKey = await crypto.subtle.importKey("raw", key.pub, { name: "Ed25519" }, false, ["verify"]);
    for (const line of lines) {
      const f = line.split(" ");
      if (f.length !== 3 || f[0] !== "\u2014" || f[1] !== key.name) continue;
      const blob = b64(f[2]);
      if (!same(blob.slice(0, 4), key.keyID)) continue;
      if (await crypto.subtle.verify({ name: "Ed25519" }, pubKey, blob.slice(4), enc.encode(text))) return text;
    }
    fail("the checkpoint's signature does not verify with the pinned audit key");
  }

  // RFC 9162 2.1.3.2: the root from a leaf hash, its index, the tree size and the proof.
  async function rootFromProof(index, size, leaf, proof) {
    if (index >= size) fail("the entry is outside the checkpoint");
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (sn === 0) fail("the proof is too long");
      if ((fn & 1) === 1 || fn === sn) {
        r = await sha256(new Uint8Array([1]), p, r);
        if ((fn & 1) === 0) { while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; } }
      } else {
        r = await sha256(new Uint8Array([1]), r, p);
      }
      fn >>= 1; sn >>= 1;
    }
    if (sn !== 0) fail("the proof is too short");
    return r;
  }

  async function verify(data, keyText) {
    if (!keyText) fail("no audit key pinned in this browser: paste the verifier key you keep and pin it");
    const key = await parseKey(keyText);
    const text = await checkNote(data.note, key);
    const [origin, size, root] = text.split("\n");
    if (origin !== key.name) fail("the checkpoint is of another log (" + origin + ")");
    if (Number(size) !== data.size) fail("the proof is for another tree size than the checkpoint's");
    const entry = JSON.parse(data.entry);
    if (entry.type !== "issue" || entry.serial !== data.serial || entry.index !== data.index) {
      fail("the entry is not this certificate's issuance at index " + data.index);
    }
    const leaf = await sha256(new Uint8Array([0]), enc.encode(data.entry));
    const computed = await rootFromProof(data.index, data.size, leaf, data.proof.map(b64));
    if (!same(computed, b64(root))) fail("the root computed from the entry and the proof is not the signed checkpoint's root");
    return "proof verified: entry " + data.index + " is in the log of " + data.size + " entries signed by " + key.name;
  }

  async function run() {
    const out = document.getElementById("proof-result"), shown = document.getElementById("pinned-key");
    out.dataset.done = "false";
    out.textContent = "verifying in the browser…";
    out.className = "pending";
    const keyText = localStorage.getItem("etrust.auditKey") || "";
    shown.textContent = keyText || "(none)";
    try {
      out.textContent = await verify(JSON.parse(document.getElementById("proof-data").textContent), keyText);
      out.className = "ok";
    } catch (e) {
      out.textContent = "proof NOT verified: " + e.message;
      out.className = "bad";
    }
    out.dataset.done = "true";
  }

  document.getElementById("pin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    localStorage.setItem("etrust.auditKey", document.getElementById("audit-key").value.trim());
    run();
  });
  run();
})();
"""#
}

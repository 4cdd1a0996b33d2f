#!/usr/bin/env python3
"""Appends N synthetic 'issue' events to an etrust home's audit log, with their RFC 6962 leaf
hashes and Merkle subtree nodes, then signs a C2SP checkpoint with the home's audit key, exactly
as etrust does. For the audit verification benchmark (a million entries without issuing a
million certificates). Usage: synth-audit.py HOME N PASSPHRASE"""
import base64, hashlib, json, os, sqlite3, sys, time
from cryptography.hazmat.primitives import serialization

home, n, passphrase = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
db = sqlite3.connect(os.path.join(home, "etrust.db"))
db.execute("PRAGMA journal_mode=WAL")
origin = next(l.split(":", 1)[1].strip() for l in open(os.path.join(home, "etrust.yaml")) if l.strip().startswith("origin:"))
key = serialization.load_pem_private_key(open(os.path.join(home, "keys/audit.key.pem"), "rb").read(), passphrase)
raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

def leaf(b): return hashlib.sha256(b"\x00" + b).digest()
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()

size = db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
# Right edge of the existing tree.
stack = []
start = 0
for level in range(62, -1, -1):
    if size & (1 << level):
        h = db.execute("SELECT hash FROM audit_nodes WHERE level=? AND idx=?", (level, start >> level)).fetchone()[0]
        stack.append((level, h)); start += 1 << level
now = int(time.time())
events, nodes = [], []
for i in range(size, size + n):
    payload = json.dumps({"ca": "issuing", "certificateSHA256": hashlib.sha256(str(i).encode()).hexdigest(), "index": i,
                          "profile": "citizen-authentication", "requester": "synth", "serial": "%x" % (i + 1),
                          "subject": "C=TG,CN=Citizen %d" % i, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                          "type": "issue"}, sort_keys=True, separators=(",", ":"))
    h = leaf(payload.encode())
    events.append((i + 1, now, "issue", "issuing", "%x" % (i + 1), "citizen-authentication", payload, h))
    nodes.append((0, i, h))
    lvl, idx, cur = 0, i, h
    while stack and stack[-1][0] == lvl:
        _, left = stack.pop()
        cur = node(left, cur); lvl += 1; idx >>= 1
        nodes.append((lvl, idx, cur))
    stack.append((lvl, cur))
db.executemany("INSERT INTO events(id,time,type,ca,serial,profile,payload,leaf_hash) VALUES (?,?,?,?,?,?,?,?)", events)
db.executemany("INSERT INTO audit_nodes(level,idx,hash) VALUES (?,?,?)", nodes)
root = stack[-1][1]
for _, h in reversed(stack[:-1]):
    root = node(h, root)
total = size + n
body = "%s\n%d\n%s\n" % (origin, total, base64.b64encode(root).decode())
kid = hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4]
note = body + "\n\u2014 %s %s\n" % (origin, base64.b64encode(kid + key.sign(body.encode())).decode())
db.execute("INSERT INTO checkpoints(size, root, note, created_at) VALUES (?,?,?,?)", (total, root, note, now))
db.commit()
print("appended %d entries; log size %d" % (n, total))

#!/usr/bin/env python3
"""Adds N revoked certificates of CA NAME to an etrust home's database (synthetic rows: random
16-byte serials, reason codes cycling through the RFC 5280 list, a few with invalidity dates),
and writes the same revocations as an OpenSSL `ca` index.txt, for the CRL benchmark.
Usage: synth-revoked.py HOME CA N INDEX_TXT"""
import os, random, sqlite3, sys, time

home, ca, n, index_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
db = sqlite3.connect(os.path.join(home, "etrust.db"))
ca_id = db.execute("SELECT id FROM cas WHERE name = ?", (ca,)).fetchone()[0]
now = int(time.time())
# (privilegeWithdrawn is left out: `openssl ca` cannot read it from index.txt)
reasons = [1, 3, 4, 5, 0, 2]
names = {0: "unspecified", 1: "keyCompromise", 2: "CACompromise", 3: "affiliationChanged", 4: "superseded",
         5: "cessationOfOperation", 9: "privilegeWithdrawn"}
rng = random.Random(1)
rows = []
with open(index_path, "w") as index:
    for i in range(n):
        serial = "%032x" % ((rng.getrandbits(126)) | (1 << 126))
        revoked = now - rng.randrange(0, 300 * 86400)
        reason = reasons[i % len(reasons)]
        invalidity = revoked - 86400 if i % 10 == 0 else None
        not_after = now + 365 * 86400
        rows.append((ca_id, serial, "CN=Citizen %d" % i, "", "citizen-authentication", now - 400 * 86400, not_after,
                     "revoked", i % 16, b"\x00", "synth", now - 400 * 86400, revoked, reason, invalidity, revoked))
        fmt = lambda t: time.strftime("%y%m%d%H%M%SZ", time.gmtime(t))
        index.write("R\t%s\t%s,%s\t%s\tunknown\t/CN=Citizen %d\n" % (fmt(not_after), fmt(revoked), names[reason], serial.upper(), i))
db.executemany("""INSERT INTO certificates(ca_id, serial, subject, sans, profile, not_before, not_after, status, shard, der,
                  requester, issued_at, revoked_at, revocation_reason, invalidity_date, changed_at)
                  VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", rows)
db.commit()
print("added %d revoked certificates" % n)

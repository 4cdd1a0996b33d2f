#!/usr/bin/env python3
"""Writes N EC P-256 CSRs and a batch CSV (csr,san) for benchmarks and demos (pyca/cryptography)."""
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "batch.csv"), "w") as f:
    f.write("csr,san\n")
    for i in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Citizen {i}"),
                                        x509.NameAttribute(NameOID.COUNTRY_NAME, "TG")]))
               .sign(key, hashes.SHA256()))
        name = f"csr-{i}.pem"
        with open(os.path.join(out, name), "wb") as c:
            c.write(csr.public_bytes(serialization.Encoding.PEM))
        f.write(f"{name},email:citizen{i}@example.tg\n")

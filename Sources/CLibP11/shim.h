#ifndef ETRUST_CLIBP11_SHIM_H
#define ETRUST_CLIBP11_SHIM_H
// PKCS#11 for ETrustCore only: libp11 (libp11-dev), which turns a token's private key into an
// EVP_PKEY that OpenSSL signs with, and the PKCS#11 types (p11-kit's pkcs11.h, libp11-kit-dev)
// for the few calls libp11 0.4.12 does not make the way etrust needs (key generation with
// explicit CKA_SENSITIVE/CKA_EXTRACTABLE, attribute reads, object destruction). No logic here.
#include <libp11.h>
#include <p11-kit-1/p11-kit/pkcs11.h>
#endif

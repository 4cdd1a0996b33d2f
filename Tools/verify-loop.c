/* The OpenSSL baseline of Tools/bench-verify.sh: X509_verify_cert in a loop on one thread, with
 * the store, the chain and the leaf parsed once, as a hand-written relying party would.
 * cc -O2 Tools/verify-loop.c -lcrypto; ./a.out root.pem issuing.pem leaf.pem N [crls.pem] */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static X509 *load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    return x;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: root issuing leaf N [crls.pem]\n"); return 2; }
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, load(argv[1]));
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    sk_X509_push(untrusted, load(argv[2]));
    X509 *leaf = load(argv[3]);
    long n = atol(argv[4]);
    unsigned long flags = X509_V_FLAG_POLICY_CHECK;
    if (argc > 5) {
        FILE *f = fopen(argv[5], "r");
        X509_CRL *crl;
        while ((crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL) { X509_STORE_add_crl(store, crl); X509_CRL_free(crl); }
        fclose(f);
        flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long ok = 0;
    for (long i = 0; i < n; i++) {
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        X509_STORE_CTX_init(ctx, store, leaf, untrusted);
        X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), flags);
        if (X509_verify_cert(ctx) == 1) ok++;
        X509_STORE_CTX_free(ctx);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%ld/%ld valid in %.3f s: %.0f/s\n", ok, n, s, n / s);
    return ok == n ? 0 : 1;
}

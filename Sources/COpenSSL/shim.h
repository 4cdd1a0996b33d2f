#ifndef ETRUST_COPENSSL_SHIM_H
#define ETRUST_COPENSSL_SHIM_H
// The only C in etrust: OpenSSL's headers plus static inline wrappers for the
// function-like macros Swift cannot call. No logic lives here.
#include <openssl/opensslv.h>
#if OPENSSL_VERSION_MAJOR < 3
#error "etrust needs OpenSSL 3.0 or later"
#endif
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pkcs12.h>
#include <openssl/cms.h>
#include <openssl/ocsp.h>
#include <openssl/http.h>
#include <openssl/ts.h>
#include <openssl/pkcs7.h>

static inline void etrust_openssl_free(void *p) { OPENSSL_free(p); }
static inline long etrust_BIO_get_mem_data(BIO *b, char **pp) { return BIO_get_mem_data(b, pp); }

static inline int etrust_sk_GENERAL_NAME_num(const GENERAL_NAMES *s) { return sk_GENERAL_NAME_num(s); }
static inline GENERAL_NAME *etrust_sk_GENERAL_NAME_value(const GENERAL_NAMES *s, int i) { return sk_GENERAL_NAME_value(s, i); }
static inline GENERAL_NAMES *etrust_sk_GENERAL_NAME_new_null(void) { return sk_GENERAL_NAME_new_null(); }
static inline int etrust_sk_GENERAL_NAME_push(GENERAL_NAMES *s, GENERAL_NAME *n) { return sk_GENERAL_NAME_push(s, n); }
static inline void etrust_GENERAL_NAMES_free(GENERAL_NAMES *s) { GENERAL_NAMES_free(s); }

static inline int etrust_sk_X509_num(const STACK_OF(X509) *s) { return sk_X509_num(s); }
static inline X509 *etrust_sk_X509_value(const STACK_OF(X509) *s, int i) { return sk_X509_value(s, i); }
static inline STACK_OF(X509) *etrust_sk_X509_new_null(void) { return sk_X509_new_null(); }
static inline int etrust_sk_X509_push(STACK_OF(X509) *s, X509 *x) { return sk_X509_push(s, x); }
static inline void etrust_sk_X509_pop_free(STACK_OF(X509) *s) { sk_X509_pop_free(s, X509_free); }
static inline void etrust_sk_X509_free(STACK_OF(X509) *s) { sk_X509_free(s); }

static inline int etrust_sk_X509_EXTENSION_num(const STACK_OF(X509_EXTENSION) *s) { return sk_X509_EXTENSION_num(s); }
static inline X509_EXTENSION *etrust_sk_X509_EXTENSION_value(const STACK_OF(X509_EXTENSION) *s, int i) { return sk_X509_EXTENSION_value(s, i); }
static inline void etrust_sk_X509_EXTENSION_pop_free(STACK_OF(X509_EXTENSION) *s) { sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free); }

static inline int etrust_sk_ASN1_OBJECT_num(const STACK_OF(ASN1_OBJECT) *s) { return sk_ASN1_OBJECT_num(s); }
static inline ASN1_OBJECT *etrust_sk_ASN1_OBJECT_value(const STACK_OF(ASN1_OBJECT) *s, int i) { return sk_ASN1_OBJECT_value(s, i); }

static inline unsigned long etrust_ERR_get_error_all(const char **file, int *line, const char **func, const char **data, int *flags) {
    return ERR_get_error_all(file, line, func, data, flags);
}
static inline EVP_PKEY *etrust_EVP_EC_gen(const char *curve) { return EVP_EC_gen(curve); }
static inline int etrust_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }
static inline STACK_OF(X509_CRL) *etrust_sk_X509_CRL_new_null(void) { return sk_X509_CRL_new_null(); }
static inline int etrust_sk_X509_CRL_push(STACK_OF(X509_CRL) *s, X509_CRL *c) { return sk_X509_CRL_push(s, c); }
static inline void etrust_sk_X509_CRL_pop_free(STACK_OF(X509_CRL) *s) { sk_X509_CRL_pop_free(s, X509_CRL_free); }
static inline int etrust_sk_X509_CRL_num(const STACK_OF(X509_CRL) *s) { return sk_X509_CRL_num(s); }
static inline int etrust_sk_X509_POLICY_NODE_num(const STACK_OF(X509_POLICY_NODE) *s) { return sk_X509_POLICY_NODE_num(s); }
static inline X509_POLICY_NODE *etrust_sk_X509_POLICY_NODE_value(const STACK_OF(X509_POLICY_NODE) *s, int i) { return sk_X509_POLICY_NODE_value(s, i); }
static inline STACK_OF(ASN1_OBJECT) *etrust_sk_ASN1_OBJECT_new_null(void) { return sk_ASN1_OBJECT_new_null(); }
static inline int etrust_sk_ASN1_OBJECT_push(STACK_OF(ASN1_OBJECT) *s, ASN1_OBJECT *o) { return sk_ASN1_OBJECT_push(s, o); }
static inline void etrust_sk_ASN1_OBJECT_pop_free(STACK_OF(ASN1_OBJECT) *s) { sk_ASN1_OBJECT_pop_free(s, ASN1_OBJECT_free); }
static inline int etrust_sk_CMS_SignerInfo_num(const STACK_OF(CMS_SignerInfo) *s) { return sk_CMS_SignerInfo_num(s); }
static inline CMS_SignerInfo *etrust_sk_CMS_SignerInfo_value(const STACK_OF(CMS_SignerInfo) *s, int i) { return sk_CMS_SignerInfo_value(s, i); }
static inline unsigned long etrust_XN_FLAG_RFC2253_UTF8(void) { return XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB; }
#endif

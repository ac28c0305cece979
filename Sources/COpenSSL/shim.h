#ifndef AUTHZD_COPENSSL_SHIM_H
#define AUTHZD_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <openssl/obj_mac.h>

/* Function-like macros Swift cannot import. */
static inline int authzd_EVP_PKEY_CTX_set_rsa_padding(EVP_PKEY_CTX *ctx, int pad) {
    return EVP_PKEY_CTX_set_rsa_padding(ctx, pad);
}
static inline int authzd_EVP_PKEY_CTX_set_rsa_pss_saltlen(EVP_PKEY_CTX *ctx, int len) {
    return EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, len);
}
static inline int authzd_EVP_PKEY_CTX_set_rsa_mgf1_md(EVP_PKEY_CTX *ctx, const EVP_MD *md) {
    return EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md);
}
static inline int authzd_RSA_PKCS1_PADDING(void) { return RSA_PKCS1_PADDING; }
static inline int authzd_RSA_PKCS1_PSS_PADDING(void) { return RSA_PKCS1_PSS_PADDING; }

/* Selections are composite macros Swift cannot import. */
static inline int authzd_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }
static inline int authzd_EVP_PKEY_KEYPAIR(void) { return EVP_PKEY_KEYPAIR; }

/* Parameter names as stable C strings. Swift imports the string macros as Swift Strings, whose
 * bridged pointers die after the call, but an OSSL_PARAM (and OSSL_PARAM_BLD) keeps the pointer to its key. */
static inline const char *authzd_PARAM_GROUP_NAME(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *authzd_PARAM_PUB_KEY(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
static inline const char *authzd_PARAM_MAC_DIGEST(void) { return OSSL_MAC_PARAM_DIGEST; }
static inline const char *authzd_PARAM_RSA_N(void) { return OSSL_PKEY_PARAM_RSA_N; }
static inline const char *authzd_PARAM_RSA_E(void) { return OSSL_PKEY_PARAM_RSA_E; }

#endif

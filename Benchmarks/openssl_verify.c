/* The floor for authzd-verify-bench: the same signatures verified by OpenSSL alone, in C.
 *
 *   openssl_verify ALG ITERATIONS [floor|naive]
 *
 * ALG is RS256, ES256 or EdDSA. "floor" (the default) keeps one verification context for the
 * whole run and per message only hashes and verifies (EVP_PKEY_verify on the digest; EdDSA, which
 * hashes internally, re-initialises a context per message as OpenSSL requires). "naive" builds a
 * fresh EVP_MD_CTX and runs EVP_DigestVerifyInit for every message, as a straightforward caller
 * does. As with authzd-verify-bench, callgrind counts only measured_loop, divided by N. */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL 64

static void die(const char *what) {
    fprintf(stderr, "openssl_verify: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static unsigned char msg[POOL][300];
static unsigned char sig[POOL][600];
static size_t siglen[POOL];

/* The measured part (callgrind --toggle-collect=measured_loop). */
__attribute__((noinline))
static long measured_loop(EVP_PKEY *pkey, EVP_MD *md, long iterations, int naive, int rsa) {
    long ok = 0;
    if (naive) {
        for (long n = 0; n < iterations; n++) {
            int i = (int)(n % POOL);
            EVP_MD_CTX *v = EVP_MD_CTX_new();
            if (!v || EVP_DigestVerifyInit(v, NULL, md, NULL, pkey) != 1) die("verify init");
            ok += EVP_DigestVerify(v, sig[i], siglen[i], msg[i], sizeof msg[i]) == 1;
            EVP_MD_CTX_free(v);
        }
    } else {
        EVP_PKEY_CTX *v = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!v || EVP_PKEY_verify_init(v) != 1 || EVP_PKEY_CTX_set_signature_md(v, md) != 1) die("verify init");
        if (rsa && EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PADDING) != 1) die("padding");
        for (long n = 0; n < iterations; n++) {
            int i = (int)(n % POOL);
            unsigned char digest[EVP_MAX_MD_SIZE];
            unsigned int dlen = 0;
            if (EVP_Digest(msg[i], sizeof msg[i], digest, &dlen, md, NULL) != 1) die("digest");
            ok += EVP_PKEY_verify(v, sig[i], siglen[i], digest, dlen) == 1;
        }
        EVP_PKEY_CTX_free(v);
    }
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 3) die("usage: openssl_verify RS256|ES256|EdDSA ITERATIONS [floor|naive]");
    const char *alg = argv[1];
    long iterations = atol(argv[2]);
    int naive = argc > 3 && strcmp(argv[3], "naive") == 0;
    int rsa = strcmp(alg, "RS256") == 0, ec = strcmp(alg, "ES256") == 0, ed = strcmp(alg, "EdDSA") == 0;
    if (!rsa && !ec && !ed) die("unknown algorithm");

    EVP_PKEY *pkey = rsa ? EVP_RSA_gen(2048) : ec ? EVP_EC_gen("P-256") : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey) die("keygen");
    EVP_MD *md = ed ? NULL : EVP_MD_fetch(NULL, "SHA256", NULL);

    /* Messages about as long as a JWT's signing input, each different. */
    for (int i = 0; i < POOL; i++) {
        memset(msg[i], 'a' + i % 26, sizeof msg[i]);
        msg[i][0] = (unsigned char)i;
        EVP_MD_CTX *s = EVP_MD_CTX_new();
        siglen[i] = sizeof sig[i];
        if (!s || EVP_DigestSignInit(s, NULL, md, NULL, pkey) != 1
            || EVP_DigestSign(s, sig[i], &siglen[i], msg[i], sizeof msg[i]) != 1) die("sign");
        EVP_MD_CTX_free(s);
    }

    long ok = measured_loop(pkey, md, iterations, naive || ed, rsa);
    if (ok != iterations) die("a verification failed");
    printf("%s %s: %ld verified\n", alg, naive ? "naive" : "floor", ok);
    EVP_MD_free(md);
    EVP_PKEY_free(pkey);
    return 0;
}

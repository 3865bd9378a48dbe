/* SPDX-License-Identifier: Apache-2.0 */
/* HKDF-SHA256 (RFC 5869) as its two HMACs, through OpenSSL's EVP_MAC. One HMAC-SHA256 context
 * with its digest set is prepared per process and duplicated for each derivation: OpenSSL 3's
 * EVP_KDF looks up the HMAC and SHA-256 implementations by name on every derive, which cost
 * about 40 k instructions per wrap or unwrap, twice a small PUT's or GET's AES work
 * (bench/profile). Here a derivation is two keyed MACs over a few dozen bytes. */
#include "crypto/hkdf.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define INFO_MAX 64u
#define MAC_LEN  32u /* SHA-256 */

static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static EVP_MAC_CTX *hmac_template; /* HMAC with SHA-256 set, no key; NULL if set-up failed */

static void prepare_hmac(void)
{
    static char digest[] = "SHA256";
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (ctx != NULL && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    hmac_template = ctx;
}

/* out = HMAC-SHA256(key, a || b) on ctx (re-keyed each time). */
static bool hmac(EVP_MAC_CTX *ctx, const uint8_t *key, size_t key_len, const uint8_t *a,
                 size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[MAC_LEN])
{
    size_t n = 0;
    return EVP_MAC_init(ctx, key, key_len, NULL) == 1 && EVP_MAC_update(ctx, a, a_len) == 1 &&
           (b_len == 0 || EVP_MAC_update(ctx, b, b_len) == 1) &&
           EVP_MAC_final(ctx, out, &n, MAC_LEN) == 1 && n == MAC_LEN;
}

cof_err cry_hkdf_sha256(const uint8_t ikm[CRY_KEY_LEN], const uint8_t *salt, size_t salt_len,
                        const uint8_t *info, size_t info_len, uint8_t out[CRY_KEY_LEN])
{
    static const uint8_t zero_salt[MAC_LEN];
    static const uint8_t counter = 0x01;
    uint8_t prk[MAC_LEN];
    if (info_len > INFO_MAX)
        COF_BUG("cry_hkdf_sha256: info too long");
    pthread_once(&hmac_once, prepare_hmac);
    EVP_MAC_CTX *ctx = hmac_template != NULL ? EVP_MAC_CTX_dup(hmac_template) : NULL;
    if (salt == NULL) { /* RFC 5869: no salt is HashLen zero bytes */
        salt = zero_salt;
        salt_len = sizeof(zero_salt);
    }
    /* Extract, then one block of Expand (L = HashLen): T(1) = HMAC(PRK, info || 0x01). */
    bool ok = ctx != NULL && hmac(ctx, salt, salt_len, ikm, CRY_KEY_LEN, NULL, 0, prk) &&
              hmac(ctx, prk, sizeof(prk), info, info_len, &counter, 1, out);
    OPENSSL_cleanse(prk, sizeof(prk));
    EVP_MAC_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(out, CRY_KEY_LEN);
        return COF_ERR_INTERNAL;
    }
    return COF_OK;
}

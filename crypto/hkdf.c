/* SPDX-License-Identifier: Apache-2.0 */
/* HKDF-SHA256 through OpenSSL's EVP_KDF. The implementation is fetched once per process and
 * kept: fetching it on every derivation (a provider lookup under a lock) cost about as much as
 * the derivation itself, twice per small PUT or GET (bench/profile). */
#include "crypto/hkdf.h"

#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#define INFO_MAX 64u
#define SALT_MAX 64u

static pthread_once_t kdf_once = PTHREAD_ONCE_INIT;
static EVP_KDF *kdf_hkdf; /* NULL if the fetch failed; lives until exit */

static void fetch_kdf(void)
{
    kdf_hkdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
}

cof_err cry_hkdf_sha256(const uint8_t ikm_in[CRY_KEY_LEN], const uint8_t *salt_in, size_t salt_len,
                        const uint8_t *info_in, size_t info_len, uint8_t out[CRY_KEY_LEN])
{
    static char digest[] = "SHA256";
    /* OSSL_PARAM wants non-const pointers: hand it stack copies rather than casting. */
    uint8_t ikm[CRY_KEY_LEN], salt[SALT_MAX], info[INFO_MAX];
    OSSL_PARAM params[5];
    size_t n = 0;
    cof_err err = COF_ERR_INTERNAL;
    if (info_len > INFO_MAX || (salt_in != NULL && salt_len > SALT_MAX))
        COF_BUG("cry_hkdf_sha256: salt or info too long");
    pthread_once(&kdf_once, fetch_kdf);
    EVP_KDF_CTX *kctx = kdf_hkdf != NULL ? EVP_KDF_CTX_new(kdf_hkdf) : NULL;
    if (kctx != NULL) {
        memcpy(ikm, ikm_in, CRY_KEY_LEN);
        memcpy(info, info_in, info_len);
        params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, sizeof(ikm));
        if (salt_in != NULL) {
            memcpy(salt, salt_in, salt_len);
            params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, salt_len);
        }
        params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len);
        params[n] = OSSL_PARAM_construct_end();
        if (EVP_KDF_derive(kctx, out, CRY_KEY_LEN, params) == 1)
            err = COF_OK;
        OPENSSL_cleanse(ikm, sizeof(ikm));
    }
    EVP_KDF_CTX_free(kctx);
    if (err != COF_OK)
        OPENSSL_cleanse(out, CRY_KEY_LEN);
    return err;
}

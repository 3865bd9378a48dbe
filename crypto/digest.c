/* SPDX-License-Identifier: Apache-2.0 */
/* MD5, SHA-1 and SHA-256 over EVP_MD for ETags, Content-MD5, checksums and payload hashes, and
 * HMAC for signing. No wiping here: digest inputs are not secret, and the HMAC key and output
 * (SigV4 derives its signing key through cry_hmac_sha256) are caller buffers the caller wipes. */
#include "crypto/digest.h"

#include <limits.h>

#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

struct cry_digest {
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
};

static const EVP_MD *alg_md(enum cry_digest_alg alg)
{
    switch (alg) {
    case CRY_DIGEST_MD5:
        return EVP_md5();
    case CRY_DIGEST_SHA256:
        return EVP_sha256();
    case CRY_DIGEST_SHA1:
        return EVP_sha1(); /* x-amz-checksum-sha1 only: an integrity check, not security */
    }
    COF_BUG("cry_digest: unknown algorithm");
}

cof_err cry_digest_new(enum cry_digest_alg alg, struct cry_digest **out)
{
    struct cry_digest *d = NULL;
    cof_err err = COF_OK;

    if (out == NULL)
        COF_BUG("cry_digest_new: NULL out");
    *out = NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    d->md = alg_md(alg);
    d->ctx = EVP_MD_CTX_new();
    if (d->ctx == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    if (EVP_DigestInit_ex(d->ctx, d->md, NULL) != 1) {
        err = COF_ERR_INTERNAL;
        goto out;
    }
    *out = d;
    d = NULL;
out:
    cry_digest_free(d);
    return err;
}

void cry_digest_update(struct cry_digest *d, const void *p, size_t n)
{
    if (d == NULL || (p == NULL && n > 0))
        COF_BUG("cry_digest_update: NULL argument");
    /* Hashing memory with an initialised MD5/SHA-256 context cannot fail for input reasons. */
    if (n > 0 && EVP_DigestUpdate(d->ctx, p, n) != 1)
        COF_BUG("cry_digest_update: EVP_DigestUpdate failed");
}

void cry_digest_final(struct cry_digest *d, uint8_t *out)
{
    unsigned int len = 0;

    if (d == NULL || out == NULL)
        COF_BUG("cry_digest_final: NULL argument");
    if (EVP_DigestFinal_ex(d->ctx, out, &len) != 1)
        COF_BUG("cry_digest_final: EVP_DigestFinal_ex failed");
    /* Leave the context ready for a new message, so a caller may reuse it. */
    if (EVP_DigestInit_ex(d->ctx, d->md, NULL) != 1)
        COF_BUG("cry_digest_final: EVP_DigestInit_ex failed");
}

void cry_digest_free(struct cry_digest *d)
{
    if (d == NULL)
        return;
    EVP_MD_CTX_free(d->ctx);
    free(d);
}

cof_err cry_digest_oneshot(enum cry_digest_alg alg, const void *p, size_t n, uint8_t *out)
{
    unsigned int len = 0;

    if (out == NULL || (p == NULL && n > 0))
        COF_BUG("cry_digest_oneshot: NULL argument");
    if (EVP_Digest(n > 0 ? p : "", n, out, &len, alg_md(alg), NULL) != 1)
        return COF_ERR_INTERNAL;
    return COF_OK;
}

cof_err cry_hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
                        uint8_t out[CRY_SHA256_LEN])
{
    unsigned int len = 0;
    if (klen > INT_MAX ||
        HMAC(EVP_sha256(), key, (int)klen, n > 0 ? p : (const void *)"", n, out, &len) == NULL ||
        len != CRY_SHA256_LEN)
        return COF_ERR_INTERNAL;
    return COF_OK;
}

cof_err cry_hmac_sha1(const void *key, size_t klen, const void *p, size_t n,
                      uint8_t out[CRY_SHA1_LEN])
{
    unsigned int len = 0;
    if (klen > INT_MAX ||
        HMAC(EVP_sha1(), key, (int)klen, n > 0 ? p : (const void *)"", n, out, &len) == NULL ||
        len != CRY_SHA1_LEN)
        return COF_ERR_INTERNAL;
    return COF_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* DEK wrap/unwrap (format in envelope.h): HKDF-SHA256 KEK per wrap, AES-256-GCM with the
 * object context as AAD. Releases a DEK only after the tag verifies; never logs key bytes. */
#include "crypto/envelope.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/hkdf.h"

#define WRAP_VERSION   1u
#define WRAP_SALT_LEN  32u
#define WRAP_OFF_SALT  1u
#define WRAP_OFF_NONCE (WRAP_OFF_SALT + WRAP_SALT_LEN)
#define WRAP_OFF_CT    (WRAP_OFF_NONCE + CRY_NONCE_LEN)
#define WRAP_OFF_TAG   (WRAP_OFF_CT + CRY_KEY_LEN)

#define KDF_INFO_LABEL "coffer-dek-wrap-v1"
#define AAD_LABEL      "coffer-wrap-v1"

_Static_assert(WRAP_OFF_TAG + CRY_TAG_LEN == CRY_WRAPPED_LEN, "wrapped DEK layout");

static void check_ctx(const struct cry_wrap_ctx *c)
{
    if (c == NULL || c->bucket == NULL || c->key == NULL || c->version_id == NULL ||
        c->blob_id == NULL)
        COF_BUG("cry_env: incomplete wrap context");
    if (c->mode != CRY_MODE_SSE_S3 && c->mode != CRY_MODE_SSE_KMS && c->mode != CRY_MODE_SSE_C &&
        c->mode != CRY_MODE_KMS_MATERIAL && c->mode != CRY_MODE_KMS_MESSAGE)
        COF_BUG("cry_env: unknown mode");
}

/* KEK = HKDF-SHA256(ikm = wrapping key, salt, info = label || mode byte) (RFC 5869). The label
 * separates DEK wraps from sealed values: the two never share a key. */
static cof_err derive_kek_labelled(const struct cry_key *wk, const char *label, enum cry_mode mode,
                                   const uint8_t salt[WRAP_SALT_LEN], uint8_t kek[CRY_KEY_LEN])
{
    uint8_t info[32]; /* label without its NUL, then the mode byte */
    size_t ll = strlen(label);
    if (ll + 1 > sizeof(info))
        COF_BUG("cry_env: KDF label too long");
    memcpy(info, label, ll);
    info[ll] = (uint8_t)mode;
    return cry_hkdf_sha256(cry_key_bytes(wk), salt, WRAP_SALT_LEN, info, ll + 1, kek);
}

static cof_err derive_kek(const struct cry_key *wk, enum cry_mode mode,
                          const uint8_t salt_in[WRAP_SALT_LEN], uint8_t kek[CRY_KEY_LEN])
{
    return derive_kek_labelled(wk, KDF_INFO_LABEL, mode, salt_in, kek);
}

static uint8_t *put_field(uint8_t *p, const void *v, size_t n)
{
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    if (n > 0)
        memcpy(p + 4, v, n);
    return p + 4 + n;
}

/* AAD = label || mode || then u32 BE length-prefixed bucket, key, version id, blob id, enc
 * context. Length prefixes keep ("ab","c") and ("a","bc") apart. Caller frees *out. */
static cof_err build_aad(const struct cry_wrap_ctx *c, uint8_t **out, size_t *out_len)
{
    const char *ec = c->enc_context != NULL ? c->enc_context : "";
    size_t lens[4] = {strlen(c->bucket), strlen(c->key), strlen(c->version_id), strlen(ec)};
    size_t total = sizeof(AAD_LABEL) - 1 + 1 + 5 * 4 + CRY_BLOB_ID_LEN;
    uint8_t *aad = NULL;
    uint8_t *p;

    *out = NULL;
    *out_len = 0;
    for (size_t i = 0; i < 4; i++) {
        if (lens[i] > UINT32_MAX || total > SIZE_MAX - lens[i])
            return COF_ERR_TOO_LARGE;
        total += lens[i];
    }
    aad = malloc(total);
    if (aad == NULL)
        return COF_ERR_NOMEM;
    memcpy(aad, AAD_LABEL, sizeof(AAD_LABEL) - 1);
    p = aad + sizeof(AAD_LABEL) - 1;
    *p++ = (uint8_t)c->mode;
    p = put_field(p, c->bucket, lens[0]);
    p = put_field(p, c->key, lens[1]);
    p = put_field(p, c->version_id, lens[2]);
    p = put_field(p, c->blob_id, CRY_BLOB_ID_LEN);
    p = put_field(p, ec, lens[3]);
    if ((size_t)(p - aad) != total)
        COF_BUG("cry_env: AAD length");
    *out = aad;
    *out_len = total;
    return COF_OK;
}

static cof_err gcm_oneshot(int enc, const uint8_t key[CRY_KEY_LEN],
                           const uint8_t nonce[CRY_NONCE_LEN], const uint8_t *aad, size_t aad_len,
                           const uint8_t in[CRY_KEY_LEN], uint8_t out[CRY_KEY_LEN],
                           uint8_t tag[CRY_TAG_LEN])
{
    return cry_gcm_oneshot(enc, key, nonce, aad, aad_len, in, CRY_KEY_LEN, out, tag);
}

/* Seals dek into out using the salt and nonce already in out[1..45). Split from cry_env_wrap
 * so that tests can check a fixed-salt, fixed-nonce vector. */
static cof_err wrap_fixed(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                          const struct cry_key *dek, uint8_t out[CRY_WRAPPED_LEN])
{
    uint8_t k[CRY_KEY_LEN];
    uint8_t *aad = NULL;
    size_t aad_len = 0;
    cof_err err;

    out[0] = WRAP_VERSION;
    err = derive_kek(kek, c->mode, out + WRAP_OFF_SALT, k);
    if (err == COF_OK)
        err = build_aad(c, &aad, &aad_len);
    if (err == COF_OK)
        err = gcm_oneshot(1, k, out + WRAP_OFF_NONCE, aad, aad_len, cry_key_bytes(dek),
                          out + WRAP_OFF_CT, out + WRAP_OFF_TAG);
    OPENSSL_cleanse(k, sizeof(k));
    free(aad);
    if (err != COF_OK)
        OPENSSL_cleanse(out, CRY_WRAPPED_LEN);
    return err;
}

cof_err cry_env_wrap(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                     const struct cry_key *dek, uint8_t out[CRY_WRAPPED_LEN])
{
    cof_err err;

    if (kek == NULL || dek == NULL || out == NULL)
        COF_BUG("cry_env_wrap: NULL argument");
    check_ctx(c);
    /* Salt and nonce are adjacent: one RNG call. A fresh salt gives a fresh KEK per wrap, so the
     * random 96-bit nonce never repeats under one KEK. */
    err = cry_random(out + WRAP_OFF_SALT, WRAP_SALT_LEN + CRY_NONCE_LEN);
    if (err == COF_OK)
        err = wrap_fixed(kek, c, dek, out);
    if (err != COF_OK)
        OPENSSL_cleanse(out, CRY_WRAPPED_LEN);
    return err;
}

cof_err cry_env_unwrap(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                       const uint8_t *wrapped, size_t n, struct cry_key **out)
{
    uint8_t k[CRY_KEY_LEN];
    uint8_t dek[CRY_KEY_LEN];
    uint8_t tag[CRY_TAG_LEN];
    uint8_t *aad = NULL;
    size_t aad_len = 0;
    cof_err err;

    if (kek == NULL || out == NULL || (wrapped == NULL && n > 0))
        COF_BUG("cry_env_unwrap: NULL argument");
    check_ctx(c);
    *out = NULL;
    memset(k, 0, sizeof(k));
    memset(dek, 0, sizeof(dek));
    if (n != CRY_WRAPPED_LEN || wrapped[0] != WRAP_VERSION) {
        err = COF_ERR_INTEGRITY;
        goto out;
    }
    memcpy(tag, wrapped + WRAP_OFF_TAG, CRY_TAG_LEN);
    err = derive_kek(kek, c->mode, wrapped + WRAP_OFF_SALT, k);
    if (err == COF_OK)
        err = build_aad(c, &aad, &aad_len);
    if (err == COF_OK)
        err = gcm_oneshot(0, k, wrapped + WRAP_OFF_NONCE, aad, aad_len, wrapped + WRAP_OFF_CT, dek,
                          tag);
    if (err == COF_OK)
        err = cry_key_from_bytes(dek, sizeof(dek), out);
out:
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(dek, sizeof(dek));
    free(aad);
    return err;
}

/* Sealed values (format in envelope.h): the same construction as a DEK wrap, with its own KDF
 * label, over a short message instead of a key. */
#define VALUE_KDF_LABEL "coffer-value-seal-v1"
#define VALUE_VERSION   1u

cof_err cry_env_seal_value(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                           const uint8_t *pt, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t k[CRY_KEY_LEN];
    uint8_t *aad = NULL;
    size_t aad_len = 0;
    cof_err err;

    if (kek == NULL || (pt == NULL && n > 0) || out == NULL || out_len == NULL)
        COF_BUG("cry_env_seal_value: NULL argument");
    check_ctx(c);
    *out_len = 0;
    if (n > CRY_VALUE_MAX || cap < CRY_SEALED_LEN(n))
        return COF_ERR_TOO_LARGE;
    out[0] = VALUE_VERSION;
    /* Fresh salt (so a fresh key per value) and nonce, as for wraps. */
    err = cry_random(out + WRAP_OFF_SALT, WRAP_SALT_LEN + CRY_NONCE_LEN);
    if (err == COF_OK)
        err = derive_kek_labelled(kek, VALUE_KDF_LABEL, c->mode, out + WRAP_OFF_SALT, k);
    if (err == COF_OK)
        err = build_aad(c, &aad, &aad_len);
    if (err == COF_OK)
        err = cry_gcm_oneshot(1, k, out + WRAP_OFF_NONCE, aad, aad_len, pt, n, out + WRAP_OFF_CT,
                              out + WRAP_OFF_CT + n);
    OPENSSL_cleanse(k, sizeof(k));
    free(aad);
    if (err == COF_OK)
        *out_len = CRY_SEALED_LEN(n);
    else
        OPENSSL_cleanse(out, CRY_SEALED_LEN(n));
    return err;
}

cof_err cry_env_open_value(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                           const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t k[CRY_KEY_LEN];
    uint8_t tag[CRY_TAG_LEN];
    uint8_t *aad = NULL;
    size_t aad_len = 0;
    cof_err err;

    if (kek == NULL || (in == NULL && n > 0) || out == NULL || out_len == NULL)
        COF_BUG("cry_env_open_value: NULL argument");
    check_ctx(c);
    *out_len = 0;
    if (n < CRY_SEALED_LEN(0) || n > CRY_SEALED_LEN(CRY_VALUE_MAX) || in[0] != VALUE_VERSION)
        return COF_ERR_INTEGRITY;
    size_t pl = n - CRY_SEALED_LEN(0);
    if (cap < pl)
        return COF_ERR_TOO_LARGE;
    memcpy(tag, in + WRAP_OFF_CT + pl, CRY_TAG_LEN);
    err = derive_kek_labelled(kek, VALUE_KDF_LABEL, c->mode, in + WRAP_OFF_SALT, k);
    if (err == COF_OK)
        err = build_aad(c, &aad, &aad_len);
    if (err == COF_OK)
        err = cry_gcm_oneshot(0, k, in + WRAP_OFF_NONCE, aad, aad_len, in + WRAP_OFF_CT, pl, out,
                              tag);
    OPENSSL_cleanse(k, sizeof(k));
    free(aad);
    if (err == COF_OK)
        *out_len = pl;
    return err;
}

/* Sealed messages (format in envelope.h): the sealed-value layout with its own KDF label, longer
 * plaintexts and the caller's AAD. */
#define MSG_KDF_LABEL "coffer-kms-msg-v1"

cof_err cry_env_seal_msg(const struct cry_key *kek, const uint8_t *aad, size_t aad_len,
                         const uint8_t *pt, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t k[CRY_KEY_LEN];
    if (kek == NULL || (pt == NULL && n > 0) || (aad == NULL && aad_len > 0) || out == NULL ||
        out_len == NULL)
        COF_BUG("cry_env_seal_msg: NULL argument");
    *out_len = 0;
    if (n > CRY_MSG_MAX || cap < CRY_SEALED_LEN(n))
        return COF_ERR_TOO_LARGE;
    out[0] = VALUE_VERSION;
    cof_err err = cry_random(out + WRAP_OFF_SALT, WRAP_SALT_LEN + CRY_NONCE_LEN);
    if (err == COF_OK)
        err = derive_kek_labelled(kek, MSG_KDF_LABEL, CRY_MODE_KMS_MESSAGE, out + WRAP_OFF_SALT, k);
    if (err == COF_OK)
        err = cry_gcm_oneshot(1, k, out + WRAP_OFF_NONCE, aad, aad_len, pt, n, out + WRAP_OFF_CT,
                              out + WRAP_OFF_CT + n);
    OPENSSL_cleanse(k, sizeof(k));
    if (err == COF_OK)
        *out_len = CRY_SEALED_LEN(n);
    else
        OPENSSL_cleanse(out, CRY_SEALED_LEN(n));
    return err;
}

cof_err cry_env_open_msg(const struct cry_key *kek, const uint8_t *aad, size_t aad_len,
                         const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t k[CRY_KEY_LEN];
    uint8_t tag[CRY_TAG_LEN];
    if (kek == NULL || (in == NULL && n > 0) || (aad == NULL && aad_len > 0) || out == NULL ||
        out_len == NULL)
        COF_BUG("cry_env_open_msg: NULL argument");
    *out_len = 0;
    if (n < CRY_SEALED_LEN(0) || n > CRY_SEALED_LEN(CRY_MSG_MAX) || in[0] != VALUE_VERSION)
        return COF_ERR_INTEGRITY;
    size_t pl = n - CRY_SEALED_LEN(0);
    if (cap < pl)
        return COF_ERR_TOO_LARGE;
    memcpy(tag, in + WRAP_OFF_CT + pl, CRY_TAG_LEN);
    cof_err err =
        derive_kek_labelled(kek, MSG_KDF_LABEL, CRY_MODE_KMS_MESSAGE, in + WRAP_OFF_SALT, k);
    if (err == COF_OK)
        err = cry_gcm_oneshot(0, k, in + WRAP_OFF_NONCE, aad, aad_len, in + WRAP_OFF_CT, pl, out,
                              tag);
    OPENSSL_cleanse(k, sizeof(k));
    if (err == COF_OK)
        *out_len = pl;
    return err;
}

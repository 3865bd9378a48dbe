/* SPDX-License-Identifier: Apache-2.0 */
/* Segmented AES-256-GCM for blob bodies (format in aead.h). Releases a segment's plaintext only
 * after its tag verifies; never sees key ids, object names or files. */
#include "crypto/aead.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define HDR_MAGIC         "COFB"
#define HDR_MAGIC_LEN     4u
#define HDR_VERSION       1u
#define SEG_AAD_LABEL     "coffer-seg-v1"
#define SEG_AAD_LABEL_LEN (sizeof(SEG_AAD_LABEL) - 1)
/* label || blob id || idx (u64 BE) || final flag */
#define SEG_AAD_LEN (SEG_AAD_LABEL_LEN + CRY_BLOB_ID_LEN + 8u + 1u)

/* Header offsets: magic(4) version(1) zero(3) blob id(16) nonce base(12) segment size(4). */
#define OFF_VERSION 4u
#define OFF_ZERO    5u
#define OFF_ID      8u
#define OFF_NONCE   (OFF_ID + CRY_BLOB_ID_LEN)
#define OFF_SEGSIZE (OFF_NONCE + CRY_NONCE_LEN)

_Static_assert(OFF_SEGSIZE + 4u == CRY_BLOB_HDR_LEN, "blob header layout");
_Static_assert(CRY_SEG_STORED < 0x7fffffffu, "segment fits EVP's int lengths");

struct cry_aead {
    /* Keyed once in cry_aead_new; each segment only resets the IV and direction, so the AES key
     * schedule and GHASH tables are computed once per blob, not once per 64 KiB. */
    EVP_CIPHER_CTX *ctx;
    uint8_t nonce_base[CRY_NONCE_LEN];
    /* The AAD template: label and blob id fixed, idx and final flag patched per segment. */
    uint8_t aad[SEG_AAD_LEN];
};

static void put_u64be(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)(v & 0xffu);
        v >>= 8;
    }
}

static void put_u32be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A new AES-256-GCM context keyed with key (96-bit IVs). NULL on failure. */
static EVP_CIPHER_CTX *gcm_ctx_new(const uint8_t key[CRY_KEY_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

    if (ctx == NULL)
        return NULL;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, 1) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* One GCM message on a keyed context: set direction and nonce (the key stays), absorb the AAD,
 * then n bytes of data. Sealing writes the tag to tag; opening checks it and returns
 * COF_ERR_INTEGRITY if it differs. COF_ERR_INTERNAL on an OpenSSL failure. On failure out may
 * hold unauthenticated bytes: the caller wipes it. */
static cof_err gcm_run(EVP_CIPHER_CTX *ctx, int enc, const uint8_t nonce[CRY_NONCE_LEN],
                       const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t n,
                       uint8_t *out, uint8_t tag[CRY_TAG_LEN])
{
    uint8_t fin[16];
    int len = 0;

    if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, enc) != 1)
        return COF_ERR_INTERNAL;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1)
        return COF_ERR_INTERNAL;
    if (n > 0 && (EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1 || (size_t)len != n))
        return COF_ERR_INTERNAL;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)CRY_TAG_LEN, tag) != 1)
        return COF_ERR_INTERNAL;
    /* GCM outputs no bytes here; when opening, this is where the tag is compared. */
    if (EVP_CipherFinal_ex(ctx, fin, &len) != 1)
        return enc ? COF_ERR_INTERNAL : COF_ERR_INTEGRITY;
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)CRY_TAG_LEN, tag) != 1)
        return COF_ERR_INTERNAL;
    return COF_OK;
}

cof_err cry_blob_hdr_new(const uint8_t blob_id[CRY_BLOB_ID_LEN], struct cry_blob_hdr *out)
{
    if (blob_id == NULL || out == NULL)
        COF_BUG("cry_blob_hdr_new: NULL argument");
    memcpy(out->blob_id, blob_id, CRY_BLOB_ID_LEN);
    return cry_random(out->nonce_base, CRY_NONCE_LEN);
}

void cry_blob_hdr_encode(const struct cry_blob_hdr *h, uint8_t out[CRY_BLOB_HDR_LEN])
{
    if (h == NULL || out == NULL)
        COF_BUG("cry_blob_hdr_encode: NULL argument");
    memcpy(out, HDR_MAGIC, HDR_MAGIC_LEN);
    out[OFF_VERSION] = HDR_VERSION;
    memset(out + OFF_ZERO, 0, 3);
    memcpy(out + OFF_ID, h->blob_id, CRY_BLOB_ID_LEN);
    memcpy(out + OFF_NONCE, h->nonce_base, CRY_NONCE_LEN);
    put_u32be(out + OFF_SEGSIZE, CRY_SEG_SIZE);
}

cof_err cry_blob_hdr_decode(const uint8_t *in, size_t n, const uint8_t expect_id[CRY_BLOB_ID_LEN],
                            struct cry_blob_hdr *out)
{
    static const uint8_t zero[3];

    if (expect_id == NULL || out == NULL || (in == NULL && n > 0))
        COF_BUG("cry_blob_hdr_decode: NULL argument");
    if (n < CRY_BLOB_HDR_LEN)
        return COF_ERR_INTEGRITY;
    if (memcmp(in, HDR_MAGIC, HDR_MAGIC_LEN) != 0 || in[OFF_VERSION] != HDR_VERSION ||
        memcmp(in + OFF_ZERO, zero, sizeof(zero)) != 0 ||
        get_u32be(in + OFF_SEGSIZE) != CRY_SEG_SIZE)
        return COF_ERR_INTEGRITY;
    /* The nonce base is not checked here: a changed one changes every segment's nonce, so the
     * first segment's tag fails. A blob renamed onto another id fails here. */
    if (memcmp(in + OFF_ID, expect_id, CRY_BLOB_ID_LEN) != 0)
        return COF_ERR_INTEGRITY;
    memcpy(out->blob_id, in + OFF_ID, CRY_BLOB_ID_LEN);
    memcpy(out->nonce_base, in + OFF_NONCE, CRY_NONCE_LEN);
    return COF_OK;
}

uint64_t cry_seg_count(uint64_t size)
{
    /* Written without size + SEG - 1 so that it cannot wrap. An empty body is one segment. */
    uint64_t n = size / CRY_SEG_SIZE + (size % CRY_SEG_SIZE != 0);
    return n == 0 ? 1 : n;
}

uint64_t cry_blob_stored_size(uint64_t size)
{
    return CRY_BLOB_HDR_LEN + size + cry_seg_count(size) * CRY_TAG_LEN;
}

cof_err cry_aead_new(const struct cry_key *dek, const struct cry_blob_hdr *h, struct cry_aead **out)
{
    struct cry_aead *a = NULL;
    cof_err err = COF_OK;

    if (dek == NULL || h == NULL || out == NULL)
        COF_BUG("cry_aead_new: NULL argument");
    *out = NULL;
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    a->ctx = gcm_ctx_new(cry_key_bytes(dek));
    if (a->ctx == NULL) {
        err = COF_ERR_INTERNAL;
        goto out;
    }
    memcpy(a->nonce_base, h->nonce_base, CRY_NONCE_LEN);
    memcpy(a->aad, SEG_AAD_LABEL, SEG_AAD_LABEL_LEN);
    memcpy(a->aad + SEG_AAD_LABEL_LEN, h->blob_id, CRY_BLOB_ID_LEN);
    *out = a;
    a = NULL;
out:
    cry_aead_free(a);
    return err;
}

void cry_aead_free(struct cry_aead *a)
{
    if (a == NULL)
        return;
    /* EVP_CIPHER_CTX_free cleanses the expanded key. */
    EVP_CIPHER_CTX_free(a->ctx);
    OPENSSL_cleanse(a, sizeof(*a));
    free(a);
}

/* Nonce and AAD of segment idx (aead.h): nonce base XOR idx in the last 8 bytes. */
static void seg_params(struct cry_aead *a, uint64_t idx, bool final, uint8_t nonce[CRY_NONCE_LEN])
{
    uint8_t ctr[8];

    put_u64be(ctr, idx);
    memcpy(nonce, a->nonce_base, CRY_NONCE_LEN);
    for (size_t i = 0; i < 8; i++)
        nonce[CRY_NONCE_LEN - 8 + i] ^= ctr[i];
    memcpy(a->aad + SEG_AAD_LABEL_LEN + CRY_BLOB_ID_LEN, ctr, 8);
    a->aad[SEG_AAD_LEN - 1] = final ? 1 : 0;
}

cof_err cry_aead_seal(struct cry_aead *a, uint64_t idx, bool final, const uint8_t *pt, size_t n,
                      uint8_t *out)
{
    uint8_t nonce[CRY_NONCE_LEN];
    cof_err err;

    if (a == NULL || out == NULL || (pt == NULL && n > 0))
        COF_BUG("cry_aead_seal: NULL argument");
    if (n > CRY_SEG_SIZE || (n < CRY_SEG_SIZE && !final))
        COF_BUG("cry_aead_seal: segment length");
    seg_params(a, idx, final, nonce);
    err = gcm_run(a->ctx, 1, nonce, a->aad, SEG_AAD_LEN, pt, n, out, out + n);
    if (err != COF_OK)
        OPENSSL_cleanse(out, n + CRY_TAG_LEN);
    return err;
}

cof_err cry_aead_open(struct cry_aead *a, uint64_t idx, bool final, const uint8_t *in, size_t n,
                      uint8_t *out)
{
    uint8_t nonce[CRY_NONCE_LEN];
    uint8_t tag[CRY_TAG_LEN];
    size_t ct_len;
    cof_err err;

    if (a == NULL || in == NULL || out == NULL)
        COF_BUG("cry_aead_open: NULL argument");
    /* Nothing is written to out before these checks. Only a final segment may be short, so a
     * short non-final one cannot be authentic either; reject it without decrypting. */
    if (n < CRY_TAG_LEN || n > CRY_SEG_STORED || (!final && n != CRY_SEG_STORED))
        return COF_ERR_INTEGRITY;
    ct_len = n - CRY_TAG_LEN;
    /* Copied first: in and out may be the same buffer (in-place open). */
    memcpy(tag, in + ct_len, CRY_TAG_LEN);
    seg_params(a, idx, final, nonce);
    err = gcm_run(a->ctx, 0, nonce, a->aad, SEG_AAD_LEN, in, ct_len, out, tag);
    if (err != COF_OK) {
        /* EVP_CipherUpdate already wrote unauthenticated plaintext: never release it. */
        OPENSSL_cleanse(out, ct_len);
    }
    return err;
}

cof_err cry_gcm_oneshot(int enc, const uint8_t key[CRY_KEY_LEN], const uint8_t nonce[CRY_NONCE_LEN],
                        const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t n,
                        uint8_t *out, uint8_t tag[CRY_TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = NULL;
    uint8_t fin[16];
    int len = 0;
    cof_err err = COF_ERR_INTERNAL;

    if (aad_len > INT32_MAX)
        return COF_ERR_TOO_LARGE;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        goto out;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1 ||
        (n > 0 && (EVP_CipherUpdate(ctx, out, &len, in, (int)n) != 1 || len != (int)n)))
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)CRY_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, fin, &len) != 1) {
        if (!enc)
            err = COF_ERR_KEY;
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)CRY_TAG_LEN, tag) != 1)
        goto out;
    err = COF_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (err != COF_OK && n > 0)
        OPENSSL_cleanse(out, n);
    return err;
}

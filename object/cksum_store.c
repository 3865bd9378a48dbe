/* SPDX-License-Identifier: Apache-2.0 */
/* Checksums at rest: clear for SSE-S3, sealed for SSE-C / SSE-KMS (see cksum_store.h). */
#include "object/cksum_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "object/stored.h"
#include "common/buf.h"
#include "crypto/envelope.h"
#include "s3/uri.h"
#include "storage/blob.h"

#define LINE_SEALED   "coffer-checksum-sealed"
#define PART_PREFIX   "sealed:"
#define LABEL_OBJECT  "coffer-checksum"
#define LABEL_PART    "coffer-part-checksum"
#define SEALED_B64MAX (4 * ((CRY_SEALED_LEN(CRY_VALUE_MAX) + 2) / 3) + 1)

static const uint8_t no_blob[CRY_BLOB_ID_LEN];

/* What a sealed checksum is bound to. The label keeps object and part checksums apart, the
 * blob id ties a value to the one body it describes. */
static cof_err value_ctx(enum cry_mode mode, const char *bucket, const char *key, const char *label,
                         const char *blob_hex, const char *enc_context,
                         uint8_t raw[CRY_BLOB_ID_LEN], struct cry_wrap_ctx *wc)
{
    memset(raw, 0, CRY_BLOB_ID_LEN);
    if (blob_hex != NULL && sto_blob_id_parse(blob_hex, raw) != COF_OK)
        return COF_ERR_INVALID;
    *wc = (struct cry_wrap_ctx){mode,       bucket, key, label, blob_hex != NULL ? raw : no_blob,
                                enc_context};
    return COF_OK;
}

static cof_err seal(const struct objio_seal *s, const char *bucket, const char *key,
                    const char *label, const char *blob_hex, const char *value,
                    char out[SEALED_B64MAX])
{
    uint8_t raw[CRY_BLOB_ID_LEN], sealed[CRY_SEALED_LEN(CRY_VALUE_MAX)];
    struct cry_wrap_ctx wc;
    size_t n = 0;
    cof_err err = value_ctx(s->mode, bucket, key, label, blob_hex, s->enc_context, raw, &wc);
    if (err == COF_OK)
        err = cry_env_seal_value(s->kek, &wc, (const uint8_t *)value, strlen(value), sealed,
                                 sizeof(sealed), &n);
    if (err == COF_OK)
        srv_base64_encode(sealed, n, out);
    return err;
}

static bool open_sealed(enum cry_mode mode, const struct objio_keys *keys, const char *bucket,
                        const char *key, const char *label, const char *blob_hex, const char *b64,
                        char *out, size_t cap)
{
    uint8_t raw[CRY_BLOB_ID_LEN], sealed[CRY_SEALED_LEN(CRY_VALUE_MAX) + 4];
    struct cry_wrap_ctx wc;
    size_t n = 0, pl = 0;
    const struct cry_key *kek = NULL;
    if (keys != NULL)
        kek = mode == CRY_MODE_SSE_C     ? keys->customer_key
              : mode == CRY_MODE_SSE_KMS ? keys->kms_material
                                         : NULL;
    if (kek == NULL || cap < 1)
        return false;
    if (srv_base64_decode(b64, sealed, sizeof(sealed), &n) != COF_OK ||
        value_ctx(mode, bucket, key, label, blob_hex, keys->enc_context, raw, &wc) != COF_OK ||
        cry_env_open_value(kek, &wc, sealed, n, (uint8_t *)out, cap - 1, &pl) != COF_OK)
        return false;
    out[pl] = '\0';
    return true;
}

cof_err srv_cks_add_object_line(char **block, const struct objio_seal *s, const char *bucket,
                                const char *key, const char *blob_hex, enum srv_cksum_alg alg,
                                const char *value)
{
    if (s->mode == CRY_MODE_SSE_S3)
        return obj_stored_add_checksum(block, alg, value);
    char plain[SRV_CKS_VALUE_MAX], b64[SEALED_B64MAX];
    snprintf(plain, sizeof(plain), "%s %s", srv_cksum_name(alg), value);
    cof_err err = seal(s, bucket, key, LABEL_OBJECT, blob_hex, plain, b64);
    if (err == COF_OK)
        err = obj_stored_append(block, LINE_SEALED, "%s", b64);
    return err;
}

bool srv_cks_object(const struct sto_object *o, const struct objio_keys *keys, char *out,
                    size_t cap)
{
    char b64[SEALED_B64MAX];
    if (obj_stored_value(o->headers, OBJ_STORED_CHECKSUM, out, cap))
        return true;
    if (!obj_stored_value(o->headers, LINE_SEALED, b64, sizeof(b64)))
        return false;
    /* A multipart object's checksum is bound to no blob (parts are separate blobs). */
    return open_sealed((enum cry_mode)o->sse_mode, keys, o->bucket, o->key, LABEL_OBJECT,
                       o->part_count > 0 ? NULL : o->blob_id, b64, out, cap);
}

cof_err srv_cks_part_for_store(const struct objio_seal *s, const char *bucket, const char *key,
                               const char *blob_hex, const char *value, char *out, size_t cap)
{
    char b64[SEALED_B64MAX];
    if (s->mode == CRY_MODE_SSE_S3) {
        if (strlen(value) >= cap)
            return COF_ERR_TOO_LARGE;
        memcpy(out, value, strlen(value) + 1);
        return COF_OK;
    }
    cof_err err = seal(s, bucket, key, LABEL_PART, blob_hex, value, b64);
    if (err == COF_OK && (size_t)snprintf(out, cap, PART_PREFIX "%s", b64) >= cap)
        err = COF_ERR_TOO_LARGE;
    return err;
}

bool srv_cks_part(enum cry_mode mode, const struct objio_keys *keys, const char *bucket,
                  const char *key, const struct sto_part *p, char *out, size_t cap)
{
    const char *v = p->checksum;
    if (v == NULL)
        return false;
    if (strncmp(v, PART_PREFIX, strlen(PART_PREFIX)) == 0)
        return open_sealed(mode, keys, bucket, key, LABEL_PART, p->blob_id, v + strlen(PART_PREFIX),
                           out, cap);
    if (strlen(v) >= cap)
        return false;
    memcpy(out, v, strlen(v) + 1);
    return true;
}

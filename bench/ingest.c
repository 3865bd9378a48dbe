/* SPDX-License-Identifier: Apache-2.0 */
/* coffer-ingest: fills one bucket with many objects without HTTP, for bench/scale.
 *
 *   coffer-ingest DATA_DIR ROOT_KEY_FILE BUCKET TEMPLATE_KEY BODY COUNT [PER_DIR]
 *
 * Writes COUNT objects named dNNNN/kNNNNNNN (PER_DIR keys under each "directory", default 1000)
 * with the body BODY, through the same object-layer calls a PutObject uses: a blob with its own
 * data key sealed by objio (SSE-S3, the active root key), the DEK wrapped for (bucket, key,
 * "null"), and the row published by sto_meta_put_object. The stored header block (content type,
 * the default CRC64NVME checksum line...) is copied from TEMPLATE_KEY, an object the caller PUT
 * over HTTP with the same BODY, so every row is what the server would have written (BODY's MD5
 * must be the template's ETag, checked before anything is written). The server must not run on
 * DATA_DIR meanwhile. Durability is relaxed (no fsync): a benchmark fixture, not data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hex.h"
#include "crypto/digest.h"
#include "object/keyguard.h"
#include "object/objio.h"
#include "object/rootkeys.h"
#include "storage/blob.h"
#include "storage/meta.h"

static cof_err put_one(struct obj_ctx *ctx, const struct sto_object *tmpl, const char *key,
                       const char *body)
{
    struct objio_writer *w = NULL;
    struct sto_object o;
    struct objio_seal seal;
    uint8_t md5[CRY_MD5_LEN];
    char hex[2 * CRY_MD5_LEN + 1];
    memset(&o, 0, sizeof(o));
    objio_seal_sse_s3(ctx, &seal);
    o.bucket = strdup(tmpl->bucket);
    o.key = strdup(key);
    o.version_id = strdup("null");
    o.headers = tmpl->headers != NULL ? strdup(tmpl->headers) : NULL;
    o.mtime_ms = cof_now_ms();
    cof_err err = o.bucket && o.key && o.version_id ? COF_OK : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = objio_writer_new(ctx, "ingest", &w);
    if (err == COF_OK)
        err = objio_write(w, body, strlen(body));
    if (err == COF_OK)
        err = objio_writer_finish(w, &o, &seal, md5);
    if (err == COF_OK)
        cof_hex_encode(md5, CRY_MD5_LEN, hex);
    if (err == COF_OK && (o.etag = strdup(hex)) == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK)
        err = sto_meta_put_object(ctx->meta, &o, NULL);
    objio_writer_free(w);
    sto_object_cleanup(&o);
    return err;
}

/* The template's stored headers hold BODY's checksum: refuse another body before writing. */
static cof_err same_body(const struct sto_object *tmpl, const char *body)
{
    uint8_t md5[CRY_MD5_LEN];
    char hex[2 * CRY_MD5_LEN + 1];
    cof_err err = cry_digest_oneshot(CRY_DIGEST_MD5, body, strlen(body), md5);
    if (err != COF_OK)
        return err;
    cof_hex_encode(md5, CRY_MD5_LEN, hex);
    if (tmpl->etag == NULL || strcmp(hex, tmpl->etag) != 0) {
        fprintf(stderr, "coffer-ingest: BODY's MD5 %s is not the template's ETag %s\n", hex,
                tmpl->etag != NULL ? tmpl->etag : "(none)");
        return COF_ERR_INTERNAL;
    }
    return COF_OK;
}

int main(int argc, char **argv)
{
    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: coffer-ingest DATA_DIR ROOT_KEY_FILE BUCKET TEMPLATE_KEY BODY "
                        "COUNT [PER_DIR]\n");
        return 2;
    }
    const char *dir = argv[1], *keyfile = argv[2], *bucket = argv[3], *tkey = argv[4];
    const char *body = argv[5];
    long count = atol(argv[6]), per_dir = argc == 8 ? atol(argv[7]) : 1000;
    if (count <= 0 || per_dir <= 0)
        return 2;
    struct obj_ctx ctx;
    struct sto_object tmpl;
    memset(&ctx, 0, sizeof(ctx));
    memset(&tmpl, 0, sizeof(tmpl));
    char db[4096];
    snprintf(db, sizeof(db), "%s/coffer.db", dir);
    cof_err err = sto_meta_open(db, false, &ctx.meta);
    if (err == COF_OK)
        err = obj_keyguard_open(keyfile, dir, ctx.meta, OBJ_KEYGUARD_SERVE, false, &ctx.kr);
    if (err == COF_OK)
        err = sto_blobs_open(dir, false, &ctx.blobs);
    if (err == COF_OK)
        err = sto_meta_get_object(ctx.meta, bucket, tkey, &tmpl);
    err = err == COF_OK ? same_body(&tmpl, body) : err;
    double t0 = (double)cof_now_ms();
    for (long i = 0; err == COF_OK && i < count; i++) {
        char key[64];
        snprintf(key, sizeof(key), "d%04ld/k%07ld", i / per_dir, i);
        err = put_one(&ctx, &tmpl, key, body);
        if (err == COF_OK && (i + 1) % 100000 == 0)
            fprintf(stderr, "coffer-ingest: %ld objects, %.0f s\n", i + 1,
                    ((double)cof_now_ms() - t0) / 1e3);
    }
    if (err != COF_OK)
        fprintf(stderr, "coffer-ingest: %s\n", cof_err_name(err));
    sto_object_cleanup(&tmpl);
    sto_blobs_close(ctx.blobs);
    srv_rootkeys_close(ctx.kr);
    sto_meta_close(ctx.meta);
    return err == COF_OK ? 0 : 1;
}

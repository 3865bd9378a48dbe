/* SPDX-License-Identifier: Apache-2.0 */
/* fsck: walk the object rows (decrypting every segment, discarding the plaintext), then walk
 * the blob files looking for ones no row references. Prints one line per finding. */
#include "server/fsck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "object/stored.h"
#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "ops/read.h"
#include "ops/req.h"
#include "object/kms.h"
#include "object/objio.h"
#include "storage/blob.h"
#include "server/blobstore.h"
#include "storage/meta.h"
#include "upstream/blobs3.h"

#define YOUNG_SECONDS 3600

struct fsck_walk {
    struct srv_ctx *ctx;
    struct srv_fsck_report *rep;
    bool dry_run;
    bool online;
    uint8_t *buf;
    struct sto_blobs *up; /* the upstream store, if any */
};

/* Presence and size of one blob (all that can be checked without the customer's key). */
static cof_err check_blob_size(struct fsck_walk *w, const char *blob_id, uint64_t size)
{
    struct sto_blob_reader *br = NULL;
    cof_err err = blob_id != NULL
                      ? objio_blob_open(&w->ctx->obj, blob_id, cry_blob_stored_size(size), &br)
                      : COF_ERR_INTEGRITY;
    if (err == COF_OK && sto_blob_reader_size(br) != cry_blob_stored_size(size))
        err = COF_ERR_INTEGRITY;
    sto_blob_close(br);
    return err;
}

static bool same_string(const char *a, const char *b)
{
    return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Online only: the walk reads one snapshot while the server goes on writing, so a row it saw
 * may have been overwritten or deleted since, and its blob reclaimed. A failure counts as
 * damage only if the row is still the one that failed. */
static bool row_changed_since(struct fsck_walk *w, const struct sto_object *o)
{
    struct sto_object now;
    memset(&now, 0, sizeof(now));
    cof_err err = sto_meta_get_version(w->ctx->obj.meta, o->bucket, o->key, o->version_id, &now);
    bool changed = err == COF_ERR_NO_OBJECT || err == COF_ERR_NO_BUCKET ||
                   (err == COF_OK &&
                    (!same_string(now.blob_id, o->blob_id) || !same_string(now.etag, o->etag) ||
                     now.mtime_ms != o->mtime_ms || now.part_count != o->part_count));
    sto_object_cleanup(&now);
    return changed;
}

static cof_err check_object(const struct sto_object *o, void *arg)
{
    struct fsck_walk *w = arg;
    struct objio_reader *r = NULL;
    struct part_list pl = {NULL, 0, 0};
    struct srv_kms_key kms;
    struct objio_keys keys;
    char context[4096], msg[256];
    memset(&kms, 0, sizeof(kms));
    memset(&keys, 0, sizeof(keys));
    if (o->delete_marker)
        return COF_OK; /* no data */
    w->rep->objects++;
    cof_err err = COF_OK;
    if (o->part_count > 0) {
        err = sto_meta_object_parts(w->ctx->obj.meta, o->bucket, o->key, o->version_id,
                                    collect_part, &pl);
        if (err == COF_OK && pl.n != o->part_count)
            err = COF_ERR_INTEGRITY;
    }
    if (err == COF_OK && o->sse_mode == CRY_MODE_SSE_C) {
        /* The customer's key is never stored: only presence and size can be checked. */
        w->rep->customer_keyed++;
        if (o->part_count == 0)
            err = check_blob_size(w, o->blob_id, o->size);
        for (size_t i = 0; err == COF_OK && i < pl.n; i++)
            err = check_blob_size(w, pl.v[i].blob_id, pl.v[i].size);
    } else if (err == COF_OK) {
        if (o->sse_mode == CRY_MODE_SSE_KMS) {
            /* A disabled key still verifies: fsck checks the data, not the key's policy. */
            err = srv_kms_load(&w->ctx->obj, o->kek_id != NULL ? o->kek_id : "", &kms, msg,
                               sizeof(msg));
            if (err == COF_ERR_KMS_DISABLED || err == COF_ERR_KMS_INVALID_STATE)
                err = COF_OK;
            keys.kms_material = kms.material;
            if (obj_stored_value(o->headers, OBJ_STORED_CONTEXT, context, sizeof(context)))
                keys.enc_context = context;
        }
        if (err == COF_OK)
            err = objio_reader_open_parts(&w->ctx->obj, o, o->part_count > 0 ? pl.v : NULL, pl.n,
                                          &keys, NULL, &r);
        for (uint64_t pos = 0; err == COF_OK && pos < o->size;) {
            size_t n = 0;
            err = objio_read(r, pos, w->buf, CRY_SEG_SIZE, &n);
            pos += n;
        }
    }
    objio_reader_free(r);
    srv_kms_key_cleanup(&kms);
    part_list_cleanup(&pl);
    if (err == COF_ERR_NOMEM || err == COF_ERR_DB)
        return err;
    if (err != COF_OK && w->online && row_changed_since(w, o)) {
        w->rep->changed++;
        return COF_OK;
    }
    if (err == COF_ERR_KEY_ABSENT) {
        /* Not damage: the data is intact, the keyring lacks its key (see `coffer keys list`). */
        w->rep->key_absent++;
        bool own = o->sse_mode == CRY_MODE_SSE_S3 && o->part_count == 0 && o->kek_id != NULL;
        printf("key absent: s3://%s/%s: root key %s is not in the keyring\n", o->bucket, o->key,
               own ? o->kek_id : "(of its KMS key or a part: see coffer keys list)");
    } else if (err == COF_ERR_KMS_NOT_FOUND) {
        /* Its KMS key was deleted after its waiting period: the material is gone for good. */
        w->rep->damaged++;
        printf("key deleted: s3://%s/%s: KMS key %.*s no longer exists (deleted after its "
               "waiting period; the object cannot be decrypted)\n",
               o->bucket, o->key, (int)strcspn(o->kek_id != NULL ? o->kek_id : "", "#"),
               o->kek_id != NULL ? o->kek_id : "");
    } else if (err != COF_OK) {
        w->rep->damaged++;
        printf("damaged: s3://%s/%s (%s): %s\n", o->bucket, o->key,
               o->part_count > 0 ? "multipart" : o->blob_id,
               err == COF_ERR_NOT_FOUND ? "blob file missing" : cof_err_name(err));
    }
    return COF_OK;
}

static cof_err check_blob(const char *id, void *arg)
{
    struct fsck_walk *w = arg;
    bool used = false;
    cof_err err = sto_meta_blob_referenced(w->ctx->obj.meta, id, &used);
    if (err != COF_OK || used)
        return err;
    w->rep->unreferenced++;
    if (w->online) {
        int64_t mtime = 0;
        if (sto_blob_mtime(w->ctx->obj.blobs, id, &mtime) == COF_OK &&
            (int64_t)time(NULL) - mtime < YOUNG_SECONDS) {
            w->rep->skipped_young++;
            printf("unreferenced (recent, left for a later run): blob %s\n", id);
            return COF_OK;
        }
    }
    if (w->dry_run) {
        printf("unreferenced: blob %s\n", id);
        return COF_OK;
    }
    err = sto_blob_remove(w->ctx->obj.blobs, id);
    if (err == COF_OK) {
        w->rep->removed++;
        printf("unreferenced, removed: blob %s\n", id);
    }
    return err;
}

/* An inline blob no row references: left by no write path (the row and its blob share one
 * transaction), so it can only come from outside; removed like an unreferenced file. */
static cof_err check_inline(const char *id, void *arg)
{
    struct fsck_walk *w = arg;
    bool used = false, removed = false;
    cof_err err = sto_meta_blob_referenced(w->ctx->obj.meta, id, &used);
    if (err != COF_OK || used)
        return err;
    w->rep->unreferenced++;
    if (w->dry_run) {
        printf("unreferenced: inline blob %s\n", id);
        return COF_OK;
    }
    err = sto_meta_inline_remove_orphan(w->ctx->obj.meta, id, &removed);
    if (err == COF_OK && removed) {
        w->rep->removed++;
        printf("unreferenced, removed: inline blob %s\n", id);
    }
    return err;
}

/* An upstream multipart upload nobody completed: a crash during a large PUT. Nothing can ever
 * complete it (the writer is gone), so it is aborted like an orphan blob is removed. */
static cof_err check_upload(const char *id, const char *upload_id, int64_t initiated, void *arg)
{
    struct fsck_walk *w = arg;
    w->rep->uploads++;
    if (w->online && (int64_t)time(NULL) - initiated < YOUNG_SECONDS) {
        printf("unfinished upstream upload (recent, left for a later run): blob %s\n", id);
        return COF_OK;
    }
    if (w->dry_run) {
        printf("unfinished upstream upload: blob %s\n", id);
        return COF_OK;
    }
    cof_err err = up_blobs_abort_upload(w->up, id, upload_id);
    if (err == COF_OK) {
        w->rep->uploads_aborted++;
        printf("unfinished upstream upload, aborted: blob %s\n", id);
    }
    return err;
}

cof_err srv_fsck_run(struct srv_ctx *ctx, bool dry_run, bool online, struct srv_fsck_report *out)
{
    memset(out, 0, sizeof(*out));
    struct fsck_walk w = {ctx, out, dry_run, online, malloc(CRY_SEG_SIZE), NULL};
    if (w.buf == NULL)
        return COF_ERR_NOMEM;
    cof_err err = sto_meta_each_object(ctx->obj.meta, check_object, &w);
    if (err == COF_OK)
        err = sto_blob_each(ctx->obj.blobs, check_blob, &w);
    if (err == COF_OK)
        err = sto_meta_inline_each(ctx->obj.meta, check_inline, &w);
    w.up = srv_blobstore_upstream(ctx->obj.blobs);
    out->upstream = w.up != NULL;
    if (err == COF_OK && w.up != NULL)
        err = up_blobs_each_upload(w.up, check_upload, &w);
    free(w.buf);
    return err;
}

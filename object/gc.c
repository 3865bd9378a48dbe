/* SPDX-License-Identifier: Apache-2.0 */
/* Blob garbage: the queue storage keeps of blobs to unlink after their rows are gone. */
#include "object/gc.h"

#include "common/log.h"
#include "storage/blob.h"
#include "storage/meta.h"

static cof_err drain_one(const char *blob_id, void *arg)
{
    struct obj_ctx *ctx = arg;
    cof_err err = sto_blob_remove(ctx->blobs, blob_id);
    if (err == COF_OK)
        err = sto_meta_gc_done(ctx->meta, blob_id);
    return err;
}

cof_err obj_gc_drain(struct obj_ctx *ctx)
{
    return sto_meta_gc_each(ctx->meta, drain_one, ctx);
}

void obj_gc_if_needed(struct obj_ctx *ctx)
{
    if (sto_meta_gc_hint(ctx->meta))
        (void)obj_gc_drain(ctx);
}

void obj_blob_discard(struct obj_ctx *ctx, const char *rid, const char *blob_id, bool queued)
{
    cof_err err = sto_blob_remove(ctx->blobs, blob_id);
    if (err == COF_OK && queued)
        err = sto_meta_gc_done(ctx->meta, blob_id);
    if (err != COF_OK)
        cof_log_warn(rid, "blob %s not removed yet (%s); a later drain or fsck will", blob_id,
                     cof_err_name(err));
}

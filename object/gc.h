/* SPDX-License-Identifier: Apache-2.0 */
/* Unlinking blobs that no row needs any more: after the commit that replaced or deleted them
 * (storage queues them in the same transaction), at start-up, and after a reset. */
#ifndef OBJ_GC_H
#define OBJ_GC_H

#include <stdbool.h>

#include "common/err.h"
#include "object/ctx.h"

/* Unlinks every blob queued for removal and dequeues it (after a reset, at start-up). Not
 * must-check: a blob left behind is retried by the next drain or fsck. */
cof_err obj_gc_drain(struct obj_ctx *ctx);
/* Drains the queue when the last change queued blobs beyond the one it returned (the parts of
 * a replaced or deleted multipart object). Failures are left to a later drain. */
void obj_gc_if_needed(struct obj_ctx *ctx);
/* Removes one blob (and dequeues it when queued); a failure is logged under rid, and left to a
 * later drain or fsck. */
void obj_blob_discard(struct obj_ctx *ctx, const char *rid, const char *blob_id, bool queued);

#endif

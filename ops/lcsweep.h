/* SPDX-License-Identifier: Apache-2.0 */
/* The lifecycle sweeper: applies each bucket's lifecycle rules (s3/lifecycle.h) as of a given
 * time, in bounded steps with a cursor, removing versions, delete markers and uploads through
 * the same storage calls a client's deletes use. Shared by the server's background thread, the
 * `coffer lifecycle run` command and POST /_coffer/lifecycle/run. */
#ifndef OPS_LCSWEEP_H
#define OPS_LCSWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "object/ctx.h"

struct sto_object;

/* Versions or uploads a step looks at (a key's versions are never split): what one step holds
 * up, and how many removed blobs wait for the drain at its end. */
#define OPS_LC_BUDGET 200u
/* Changes (removals, delete markers, aborts) a step makes at most: each is a transaction of
 * its own, and a short step lets client writes in between. */
#define OPS_LC_CHANGES 16u

/* What a sweep did. */
struct ops_lc_counts {
    unsigned long expired; /* current versions deleted (unversioned) or hidden by a delete marker */
    unsigned long removed; /* noncurrent versions and expired delete markers removed for good */
    unsigned long aborted; /* incomplete multipart uploads aborted (their parts removed) */
    unsigned long scanned; /* versions and uploads looked at */
};

/* Where a sweep is: the bucket, the phase (versions, then uploads) and the last key (and upload)
 * done. Zero-initialized: the start. Owned strings; ops_lc_cursor_cleanup frees them. */
struct ops_lc_cursor {
    char *bucket;
    int phase; /* 0 versions, 1 uploads */
    char *key;
    char *upload_id;
};
void ops_lc_cursor_cleanup(struct ops_lc_cursor *c);

/* One step: looks at about `budget` versions or uploads (a key's versions are never split)
 * from the cursor on, makes at most OPS_LC_CHANGES changes (finishing the key it is on), applies
 * the rules as of now_ms, and advances the cursor. *out_done when the step ended a full pass over
 * every bucket (the cursor is back at the start). Counts are added to *counts. A bucket that
 * vanishes or whose configuration is unreadable is skipped. Thread-safe with respect to requests:
 * each removal is its own transaction and checks that the row is unchanged since it was read. */
COF_MUST_CHECK cof_err ops_lc_step(struct obj_ctx *ctx, struct ops_lc_cursor *cur, int64_t now_ms,
                                   size_t budget, struct ops_lc_counts *counts, bool *out_done);
/* A whole pass (steps until done). */
COF_MUST_CHECK cof_err ops_lc_run(struct obj_ctx *ctx, int64_t now_ms,
                                  struct ops_lc_counts *counts);

/* The one gate for every permanent removal lifecycle makes (a version of an unversioned bucket,
 * a noncurrent version, an expired delete marker): false keeps the version. Object Lock's
 * "version is locked" check belongs here. v is the row as read. */
bool ops_lc_may_remove(struct obj_ctx *ctx, const struct sto_object *v);

#endif

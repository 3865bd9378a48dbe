/* SPDX-License-Identifier: Apache-2.0 */
/* The queue of blobs to unlink: a write queues the blobs it stops referencing in its own
 * transaction; the caller unlinks them after the commit and then marks them done. Also the
 * LocalStack state reset, which queues every blob. */
#ifndef STO_GC_H
#define STO_GC_H

#include <stdbool.h>

#include "common/err.h"
#include "storage/db.h"

typedef cof_err (*sto_blob_id_fn)(const char *blob_id, void *arg);
/* Calls cb for each queued blob id (same stop rules as list_buckets); cb may call
 * sto_meta_gc_done for the id it is given. */
COF_MUST_CHECK cof_err sto_meta_gc_each(struct sto_meta *m, sto_blob_id_fn cb, void *arg);
/* Removes blob_id from the queue (after the file was unlinked). Not queued is COF_OK. */
COF_MUST_CHECK cof_err sto_meta_gc_done(struct sto_meta *m, const char *blob_id);
/* Whether any row (object, version, part, upload part) references blob_id (fsck). */
COF_MUST_CHECK cof_err sto_meta_blob_referenced(struct sto_meta *m, const char *blob_id, bool *out);

/* Whether blobs were queued for unlinking since the last call (then drain the queue). */
bool sto_meta_gc_hint(struct sto_meta *m);

/* Deletes every bucket, config and object in one transaction, queueing all blobs (LocalStack
 * state reset). */
COF_MUST_CHECK cof_err sto_meta_reset(struct sto_meta *m);

#endif

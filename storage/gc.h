/* SPDX-License-Identifier: Apache-2.0 */
/* The queue of blobs to unlink after a commit, and the state reset. */
#ifndef STO_GC_H
#define STO_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/db.h"

/* Blob garbage queue */
typedef cof_err (*sto_blob_id_fn)(const char *blob_id, void *arg);
/* Calls cb for each queued blob id (same stop rules as list_buckets); cb may call
 * sto_meta_gc_done for the id it is given. */
COF_MUST_CHECK cof_err sto_meta_gc_each(struct sto_meta *m, sto_blob_id_fn cb, void *arg);
/* Removes blob_id from the queue (after the file was unlinked). Not queued is COF_OK. */
COF_MUST_CHECK cof_err sto_meta_gc_done(struct sto_meta *m, const char *blob_id);

/* Whether blobs were queued for unlinking since the last call (then drain the queue). */
bool sto_meta_gc_hint(struct sto_meta *m);

/* Deletes every bucket, config and object in one transaction, queueing all blobs (LocalStack
 * state reset). */
COF_MUST_CHECK cof_err sto_meta_reset(struct sto_meta *m);

#endif

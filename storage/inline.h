/* SPDX-License-Identifier: Apache-2.0 */
/* Small blobs kept inline in the metadata store (DESIGN.md "Small objects inline"): the
 * ciphertext of a small object, exactly the bytes its blob file would hold, in a row keyed by
 * its blob id and written in the same transaction as the object row that references it. A
 * durable small PUT is then one group commit and no file. The row goes in the transaction that
 * drops the last reference (or with the GC queue, like a file). Opaque bytes: never plaintext. */
#ifndef STO_INLINE_H
#define STO_INLINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/db.h"

/* The bytes of inline blob blob_id (*out malloc'd, caller frees). COF_ERR_NOT_FOUND when it is
 * not inline (then it is a file, or gone). */
COF_MUST_CHECK cof_err sto_meta_inline_get(struct sto_meta *m, const char *blob_id, uint8_t **out,
                                           size_t *out_len);
/* Calls cb for every inline blob id (fsck), same stop rules as sto_meta_gc_each. */
typedef cof_err (*sto_inline_fn)(const char *blob_id, void *arg);
COF_MUST_CHECK cof_err sto_meta_inline_each(struct sto_meta *m, sto_inline_fn cb, void *arg);
/* Removes inline blob blob_id if no row references it (fsck's repair of an orphan);
 * *out_removed tells whether it did. */
COF_MUST_CHECK cof_err sto_meta_inline_remove_orphan(struct sto_meta *m, const char *blob_id,
                                                     bool *out_removed);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Two blob stores as one while a data dir's blobs move between them (coffer blobs migrate). */
#ifndef STO_BLOBDUAL_H
#define STO_BLOBDUAL_H

#include <stdbool.h>

#include "common/err.h"
#include "storage/blob.h"

/* A store that writes to primary, reads from primary then secondary, removes from both and
 * lists both. Takes both (closed with it, or at once on failure). COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err sto_blobs_dual(struct sto_blobs *primary, struct sto_blobs *secondary,
                                      struct sto_blobs **out);
/* The primary or secondary store of a dual store (borrowed), or NULL if bs is not one. */
struct sto_blobs *sto_blobs_dual_part(struct sto_blobs *bs, bool primary);

#endif

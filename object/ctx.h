/* SPDX-License-Identifier: Apache-2.0 */
/* What the object layer works on: the metadata store, the blob store and the root keyring.
 * Borrowed by every object/ call; the server owns these and outlives every call. */
#ifndef OBJ_CTX_H
#define OBJ_CTX_H

#include <stddef.h>

struct sto_meta;
struct sto_blobs;
struct srv_rootkeys;

struct obj_ctx {
    struct sto_meta *meta;
    struct sto_blobs *blobs;
    struct srv_rootkeys *kr; /* root keyring, reloaded after rotation */
    const char *region;      /* the configured region (KMS key ARNs) */
    size_t inline_max;       /* bodies up to this many bytes are stored inline; 0: none */
};

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Sealed metadata snapshots (coffer backup / coffer restore): a snapshot file of coffer.db
 * encrypted under a fresh data key wrapped by the active root key, in the blob format.
 *
 * Layout: "CBK1" | id length (1 byte) | root key id | plaintext size (8 bytes, BE) |
 *         blob id (16 random bytes) | wrapped data key (CRY_WRAPPED_LEN) | blob header |
 *         AES-256-GCM segments and tags.
 * The wrap binds mode SSE-S3, key "coffer-backup-v1", the plaintext size (as its version) and
 * the blob id, which the header must repeat; the segments are bound to that id, their index and the
 * final flag, so a changed size, a truncation, a reordering or a flipped byte fails to open. */
#ifndef OBJ_BACKUP_H
#define OBJ_BACKUP_H

#include <stddef.h>

#include "common/err.h"

struct srv_rootkeys;

/* Where sealed bytes go / come from. A source returns fewer than n bytes only at the end. */
typedef cof_err (*obj_sink_fn)(void *arg, const void *p, size_t n);
typedef cof_err (*obj_source_fn)(void *arg, void *buf, size_t n, size_t *out_n);

/* Seals the file at in_path into sink under the active root key. COF_ERR_IO, COF_ERR_KEY_ABSENT
 * (no root key), the sink's codes. */
COF_MUST_CHECK cof_err obj_backup_seal(struct srv_rootkeys *kr, const char *in_path,
                                       obj_sink_fn sink, void *arg);
/* Opens a sealed snapshot from source into out_path (created 0600, must not exist; removed on
 * failure). COF_ERR_INTEGRITY (damaged or not a backup), COF_ERR_KEY_ABSENT (its root key is
 * not in the keyring), COF_ERR_KEY (the key under that id is another), COF_ERR_IO. */
COF_MUST_CHECK cof_err obj_backup_open(struct srv_rootkeys *kr, obj_source_fn src, void *arg,
                                       const char *out_path);

#endif

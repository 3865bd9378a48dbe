/* SPDX-License-Identifier: Apache-2.0 */
/* coffer backup and coffer restore: a consistent snapshot of the metadata (SQLite's online
 * backup API), sealed under the active root key (object/backup.h), kept in the upstream blob
 * store as <prefix>backups/<UTC time>-<random>.cbk or written to a file; and the rebuild of a
 * data dir from the latest one. Also the thread that takes one every --backup-interval. */
#ifndef SRV_BACKUP_H
#define SRV_BACKUP_H

#include <stddef.h>

#include "common/config.h"
#include "common/err.h"

struct obj_ctx;
struct srv_backupthread;

#define SRV_BACKUP_NAME_MAX 128

/* One backup of ctx's metadata: into output (a file path) or, when output is NULL, into the
 * upstream store (COF_ERR_CONFIG with local blob files: there is nowhere to put it). name
 * receives what was written ("backups/...cbk" or the path). Safe beside a running server. */
COF_MUST_CHECK cof_err srv_backup_run(struct obj_ctx *ctx, const struct srv_config *c,
                                      const char *output, char name[SRV_BACKUP_NAME_MAX]);
/* Rebuilds c->data_dir (which must hold no coffer.db) from input (a file) or from the upstream
 * store's latest backup (or the one called backup_name), with the root keyring at
 * c->root_key_file, and records the store and its prefix claim. COF_ERR_CONFIG, COF_ERR_IO,
 * COF_ERR_INTEGRITY, COF_ERR_KEY_ABSENT, COF_ERR_KEY, COF_ERR_NOT_FOUND (no backup). */
COF_MUST_CHECK cof_err srv_restore_run(const struct srv_config *c, const char *input,
                                       const char *backup_name, char name[SRV_BACKUP_NAME_MAX]);

/* Starts the thread taking a backup every interval_s seconds (0: none, *out NULL). */
COF_MUST_CHECK cof_err srv_backupthread_start(struct obj_ctx *ctx, const struct srv_config *c,
                                              unsigned interval_s, struct srv_backupthread **out);
/* Stops it (a backup in flight finishes first). Accepts NULL. */
void srv_backupthread_stop(struct srv_backupthread *t);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* A thin SQLite VFS over the default one whose only addition is a log line naming the file and
 * the strerror text for every failed write: SQLite's unix VFS logs (SQLITE_CONFIG_LOG) the file
 * of a failed fsync, truncate, open or unlink, but not of a failed or short write, and its API
 * keeps no errno for a full disk. Everything else is passed through unchanged. storage/ only. */
#ifndef STO_SQLVFS_H
#define STO_SQLVFS_H

#include "common/err.h"

/* Registers the VFS as SQLite's default. Call once (db.c does, under pthread_once) before the
 * first connection opens. COF_ERR_DB if SQLite has no default VFS to wrap. */
COF_MUST_CHECK cof_err sto_sqlvfs_register(void);

#endif

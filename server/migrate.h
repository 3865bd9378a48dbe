/* SPDX-License-Identifier: Apache-2.0 */
/* coffer blobs migrate --to upstream|files: moves a data dir's blobs between local files and the
 * upstream store, blob by blob (copy, then remove from the old store), resumable at any point:
 * while it runs, and until it ends, the data dir is opened with both stores as one (reads look
 * in both, new blobs go where the migration goes), so a server may serve meanwhile. */
#ifndef SRV_MIGRATE_H
#define SRV_MIGRATE_H

#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"

struct srv_migrate_report {
    unsigned long copied;  /* blobs written to the new store */
    unsigned long present; /* already there (an earlier run, or written meanwhile) */
    unsigned long removed; /* removed from the old store */
    unsigned long failed;  /* copies that failed (retried by the next run) */
    bool kept;             /* old copies kept: a server without the migration holds the dir */
    bool finished;         /* every blob moved; the data dir now uses the new store alone */
    bool already;          /* nothing to move: the blobs were there already */
};

/* Runs one migration pass. COF_ERR_CONFIG (no upstream given), the stores' errors. */
COF_MUST_CHECK cof_err srv_migrate_run(const struct srv_config *c, bool to_upstream,
                                       struct srv_migrate_report *rep);

#endif

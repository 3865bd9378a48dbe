/* SPDX-License-Identifier: Apache-2.0 */
/* coffer fsck: verifies that every object's blob exists and authenticates end to end, and
 * reports (and, unless dry_run, removes) blobs no object references. */
#ifndef SRV_FSCK_H
#define SRV_FSCK_H

#include <stdbool.h>

#include "common/err.h"
#include "server/http.h"

struct srv_fsck_report {
    unsigned long objects;
    unsigned long customer_keyed; /* SSE-C: presence and size checked, content not decryptable */
    unsigned long damaged;        /* missing blob or failed authentication */
    unsigned long key_absent;     /* unreadable: the root key it needs is not in the keyring */
    unsigned long unreferenced;   /* blob files no object uses */
    unsigned long removed;
    unsigned long skipped_young; /* unreferenced but possibly in flight (server running) */
    unsigned long changed;       /* overwritten or deleted while checked (server running) */
    bool upstream;               /* the blobs are (partly) in an upstream store */
    unsigned long uploads;       /* unfinished upstream multipart uploads of blobs */
    unsigned long uploads_aborted;
};

/* online: a server may be writing; unreferenced blobs younger than an hour are left alone. */
COF_MUST_CHECK cof_err srv_fsck_run(struct srv_ctx *ctx, bool dry_run, bool online,
                                    struct srv_fsck_report *out);

#endif

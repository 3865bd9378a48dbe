/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteObject's semantics, shared by DeleteObject and DeleteObjects. */
#ifndef OPS_DELETE_H
#define OPS_DELETE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"

/* What a delete did: the version it removed or the delete marker it created. */
struct ops_deleted {
    bool marker;         /* a delete marker was created or removed */
    char version_id[40]; /* "" when the bucket is unversioned */
};
/* DeleteObject's semantics (also per key of DeleteObjects): version_id removes that version;
 * else an unversioned bucket removes the object and a versioned one adds a delete marker.
 * Deleting what does not exist succeeds. A version under Object Lock stays:
 * COF_ERR_OBJECT_LOCKED (x-amz-bypass-governance-retention with s3:BypassGovernanceRetention
 * lifts a GOVERNANCE retention). COF_ERR_NO_BUCKET. Does not reply. */
COF_MUST_CHECK cof_err ops_delete_version(struct srv_req *req, const char *bucket, const char *key,
                                          const char *version_id, struct ops_deleted *out);

#endif

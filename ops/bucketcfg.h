/* SPDX-License-Identifier: Apache-2.0 */
/* What handlers share about the bucket a request names: that it exists, and removing one of
 * its configuration documents. */
#ifndef OPS_BUCKETCFG_H
#define OPS_BUCKETCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"

/* Fails with NoSuchBucket when the bucket is missing. */
COF_MUST_CHECK cof_err ops_bucket_must_exist(struct srv_req *req, const char *bucket);
/* Delete<Name>Configuration: removes the bucket's config document name and answers 204 (also
 * when there was none), NoSuchBucket when the bucket is missing. */
COF_MUST_CHECK cof_err ops_delete_bucket_config(struct srv_req *req, const char *name);

#endif

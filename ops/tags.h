/* SPDX-License-Identifier: Apache-2.0 */
/* The x-amz-tagging helpers of the write paths, and the object row a tagging request
 * addresses. */
#ifndef OPS_TAGS_H
#define OPS_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"
#include "s3/tagging.h"
#include "storage/meta.h"

/* The object row (bucket, key, version_id) addresses: version_id NULL, "null" or the current
 * row's id is the current row; any other id is 404 NoSuchVersion (noncurrent versions are not
 * looked up yet). Replies NoSuchBucket / NoSuchKey / NoSuchVersion itself. out is cleaned by
 * the caller (sto_object_cleanup) on COF_OK. */
COF_MUST_CHECK cof_err ops_object_version(struct srv_req *req, const char *bucket, const char *key,
                                          const char *version_id, struct sto_object *out);
/* The request's x-amz-tagging (header, else a presigner's x-amz-tagging query parameter) as
 * canonical tags (*out_canon malloc'd), or NULL without one. Fails with AWS's error
 * (srv_fail: InvalidArgument, InvalidTag, BadRequest). */
COF_MUST_CHECK cof_err ops_tagging_header(struct srv_req *req, char **out_canon);
/* Sets the tagging line of a stored header block to canon (NULL or "" removes it). Takes *block
 * (replaced on success, untouched on failure). */
COF_MUST_CHECK cof_err ops_set_tagging_line(char **block, const char *canon);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What object handlers share about lifecycle: the x-amz-expiration header of a version. */
#ifndef OPS_EXPIRATION_H
#define OPS_EXPIRATION_H

#include "common/err.h"
#include "ops/req.h"

struct sto_object;

/* Adds x-amz-expiration (expiry-date="...", rule-id="...") when an enabled Expiration rule of
 * o's bucket will expire o, a current version (PUT, HEAD and GET answers). Nothing for a
 * delete marker or a bucket without rules. Best effort: a failure (memory, database) is logged
 * and only leaves the header out. */
void ops_lifecycle_add_expiration(struct srv_req *req, const struct sto_object *o);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What object handlers share about lifecycle: a bucket's rules loaded once per request, the
 * x-amz-expiration header of a version, and the storage class its transitions report. */
#ifndef OPS_EXPIRATION_H
#define OPS_EXPIRATION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"
#include "s3/lifecycle.h"

struct sto_object;

/* A bucket's lifecycle rules as one request sees them (none: cfg.n == 0). */
struct ops_lc_rules {
    struct srv_lc_config cfg;
    int64_t now_ms; /* the request's clock, for transitions */
};
/* Loads bucket's rules. Best effort: a bucket without rules, or a failure (logged under the
 * request id), leaves r empty. Clean up with ops_lc_rules_cleanup. */
void ops_lc_rules_load(struct srv_req *req, const char *bucket, struct ops_lc_rules *r);
void ops_lc_rules_cleanup(struct ops_lc_rules *r);
/* The storage class version o reports: a due transition's, else "STANDARD". Borrowed from r.
 * tags_canon: o's canonical tags (NULL: none). */
const char *ops_lc_storage_class(const struct ops_lc_rules *r, const struct sto_object *o,
                                 const char *tags_canon);

/* Adds x-amz-expiration (expiry-date="...", rule-id="...") when an enabled Expiration rule of
 * o's bucket will expire o, a current version, and x-amz-storage-class when a transition is due
 * (PUT, HEAD and GET answers). Nothing for a delete marker or a bucket without rules. Best
 * effort: a failure (memory, database) is logged and only leaves the headers out. */
void ops_lifecycle_add_expiration(struct srv_req *req, const struct sto_object *o);

#endif

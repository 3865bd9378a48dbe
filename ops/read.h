/* SPDX-License-Identifier: Apache-2.0 */
/* The read side of objects: open a version with retries, the keys a read needs, SSE response
 * headers, conditional headers. */
#ifndef OPS_READ_H
#define OPS_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"
#include "object/kms.h"
#include "object/objio.h"
#include "s3/sse.h"
#include "storage/meta.h"

/* Key material a read needs besides the root keyring. */
struct read_keys {
    struct srv_kms_key kms;
    char context[4096];
    struct objio_keys keys;
};

/* A growable list of parts. */
struct part_list {
    struct sto_part *v;
    size_t n, cap;
};
/* sto_part_fn that appends a copy of p to the struct part_list arg. */
COF_MUST_CHECK cof_err collect_part(const struct sto_part *p, void *arg);
void part_list_cleanup(struct part_list *pl);

/* If-Match/If-None-Match/If-Modified-Since/If-Unmodified-Since in RFC 7232 order; for_copy:
 * every failure is 412 (x-amz-copy-source-if-*), else 304 for the None-Match/Modified pair. */
COF_MUST_CHECK cof_err ops_eval_conditions(const char *if_match, const char *if_none_match,
                                           const char *if_mod, const char *if_unmod,
                                           const struct sto_object *o, bool for_copy);
/* Encryption response headers of an object (read side). */
void ops_add_sse_headers(struct srv_req *req, const struct sto_object *o,
                         const struct srv_ssec *ssec);
/* Fails with a KMS.* error and its message; returns err. */
COF_MUST_CHECK cof_err ops_kms_fail(struct srv_req *req, cof_err err, const char *msg);
/* Whether the presented SSE-C key material fits o (fails with AWS's message itself (srv_fail)). */
COF_MUST_CHECK cof_err ops_check_read_sse(struct srv_req *req, const struct sto_object *o,
                                          const struct srv_ssec *ssec);
/* Loads the KMS material / customer key o needs into rk (fails with AWS's message itself
 * (srv_fail)). */
COF_MUST_CHECK cof_err ops_prepare_read_keys(struct srv_req *req, const struct sto_object *o,
                                             const struct srv_ssec *ssec, struct read_keys *rk);
/* Reads the current version, or version_id when not NULL (and opens the body when out_r),
 * with retries over concurrent overwrites. fails with AWS's message itself (srv_fail) on failure,
 * with AWS's delete-marker answers (404 NoSuchKey / 405 MethodNotAllowed with x-amz-delete-marker)
 * and NoSuchVersion. */
COF_MUST_CHECK cof_err ops_open_object(struct srv_req *req, const char *bucket, const char *key,
                                       const char *version_id, const struct srv_ssec *ssec,
                                       struct read_keys *rk, struct sto_object *o,
                                       struct objio_reader **out_r);

#endif

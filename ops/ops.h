/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the S3 operation handlers (the handlers themselves are declared by
 * ops/table.h from the operation table). A handler either queues its response (srv_reply*) or
 * returns the cof_err of srv_fail*, which the dispatcher answers. */
#ifndef SRV_OPS_H
#define SRV_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "ops/req.h"
#include "ops/handlers.h"

/* ops_cors.c: bucket CORS configuration, the OPTIONS preflights (S3 paths; LocalStack's own
 * endpoints), and the CORS headers added to every other request that carries an Origin
 * (ops_cors_begin, called once routing is done, internal: a LocalStack endpoint; it may answer
 * by itself, e.g. LocalStack's bare 403 for a refused origin, and then returns non-OK). */
cof_err ops_cors_begin(struct srv_req *req, bool internal);

/* Bucket policies (ops_policy.c). */
/* Sets req->principal from the request's access key: the --principals mapping when signatures
 * are verified, else the account root (arn:aws:iam::000000000000:root). */
void ops_policy_set_principal(struct srv_req *req, const char *access_key);
/* After authentication and routing, before the operation runs: loads the bucket's policy into
 * req->policy and evaluates the operation's action (and, for copies, s3:GetObject on the
 * source). COF_ERR_ACCESS_DENIED when a policy denies it; COF_ERR_INTERNAL when the stored
 * policy no longer parses (fail closed). */
cof_err ops_policy_check(struct srv_req *req);
/* Whether req->policy lets req->principal do action on key of the request's bucket (key NULL:
 * the bucket). For operations that decide per key (DeleteObjects). */
bool ops_policy_allows(struct srv_req *req, const char *action, const char *key);
/* For operations that learn their key and condition keys late (POST Object): loads the
 * bucket's policy if ops_policy_check did not, then evaluates action on key.
 * COF_ERR_ACCESS_DENIED, COF_ERR_INTERNAL (stored policy no longer parses). */
cof_err ops_policy_check_action(struct srv_req *req, const char *action, const char *key);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket-policy enforcement: who is asking, and whether the bucket's policy lets them do what
 * the operation (or a handler, per key) asks. Used by the dispatcher and by handlers. */
#ifndef OPS_AUTHZ_H
#define OPS_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "ops/req.h"
#include "s3/policy.h"

/* The bucket config document holding the policy (JSON, as stored by PutBucketPolicy). */
#define OPS_POLICY_CONFIG "policy"

/* The principal ARN access_key is mapped to with --principals, into out (n bytes); false when
 * it is not mapped (or does not fit). */
bool ops_principal_of(const struct srv_config *cfg, const char *access_key, char *out, size_t n);
/* Sets req->principal from the request's access key: when signatures are verified, the
 * session's ARN for temporary credentials (req->session), else the --principals mapping;
 * otherwise the account root (arn:aws:iam::000000000000:root). */
void ops_policy_set_principal(struct srv_req *req, const char *access_key);
/* After authentication and routing, before the operation runs: loads the bucket's policy into
 * req->policy and evaluates the operation's action (and, for copies, s3:GetObject on the
 * source). COF_ERR_ACCESS_DENIED when a policy denies it; COF_ERR_INTERNAL when the stored
 * policy no longer parses (fail closed). */
COF_MUST_CHECK cof_err ops_policy_check(struct srv_req *req);
/* Whether req->policy lets req->principal do action on key of the request's bucket (key NULL:
 * the bucket). For operations that decide per key (DeleteObjects). */
bool ops_policy_allows(struct srv_req *req, const char *action, const char *key);
/* For operations that learn their key and condition keys late (POST Object): loads the
 * bucket's policy if ops_policy_check did not, then evaluates action on key.
 * COF_ERR_ACCESS_DENIED, COF_ERR_INTERNAL (stored policy no longer parses). */
COF_MUST_CHECK cof_err ops_policy_check_action(struct srv_req *req, const char *action,
                                               const char *key);
/* The bucket's parsed policy into *out (NULL when it has none), parsed once per stored text.
 * COF_ERR_NO_BUCKET when the bucket does not exist (the operation then answers NoSuchBucket, as
 * AWS does); COF_ERR_INTERNAL when the stored policy no longer parses. */
COF_MUST_CHECK cof_err ops_policy_load(struct srv_req *req, const char *bucket,
                                       struct srv_policy **out);

#endif

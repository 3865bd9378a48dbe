/* SPDX-License-Identifier: Apache-2.0 */
/* POST Object form fields and their POST policy: the base64 JSON document's expiration and
 * conditions checked against the fields (AWS "Creating a POST policy"), and the policy
 * signatures (SigV4: hex HMAC-SHA256 under the derived signing key; SigV2: base64 HMAC-SHA1
 * under the secret), both over the base64 text as sent. Pure: no I/O, the clock is passed in. */
#ifndef SRV_POSTPOLICY_H
#define SRV_POSTPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "s3/s3err.h"

/* One form field: name as sent, value (fields sent twice are joined with ',', as AWS does). */
struct srv_post_field {
    char *name;
    char *value;
};

struct srv_post_fields {
    struct srv_post_field *v;
    size_t n, cap;
};

/* Adds a field (copies name and value; a repeated name, compared case-insensitively, gets
 * ",value" appended). COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_post_fields_add(struct srv_post_fields *f, const char *name,
                                           const char *value);
/* Value of a field by case-insensitive name, or NULL. Borrowed until the next add or cleanup. */
const char *srv_post_fields_get(const struct srv_post_fields *f, const char *name);
/* Replaces a field's value (case-insensitive name); adds it when absent. */
COF_MUST_CHECK cof_err srv_post_fields_set(struct srv_post_fields *f, const char *name,
                                           const char *value);
void srv_post_fields_cleanup(struct srv_post_fields *f);

/* Outcome of a policy check that failed: code and AWS's message. */
struct srv_post_verdict {
    /* a refusal: COF_ERR_INVALID_POLICY (400) or COF_ERR_ACCESS_DENIED (403), AWS's message */
    struct srv_problem problem;
    /* content-length-range, when the policy has one (inclusive bounds) */
    bool has_range;
    uint64_t min, max;
};

/* Checks policy_b64 against the fields (already ${filename}-expanded): the document must be
 * base64 of a JSON object with "expiration" (ISO 8601 UTC, later than now) and "conditions";
 * every condition must hold ({"bucket": ...} against `bucket`, the request's); every field
 * except the signature fields, policy, file and x-ignore-* must be named by a condition.
 * COF_OK (v->has_range/min/max filled) or v->code with v->message set. COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_post_policy_check(const char *policy_b64,
                                             const struct srv_post_fields *fields,
                                             const char *bucket, int64_t now,
                                             struct srv_post_verdict *v);

/* SigV4 POST signature: hex HMAC-SHA256 of policy_b64 under the signing key of scope
 * ("date/region/s3/aws4_request"), compared in constant time with sig_hex. COF_OK or
 * COF_ERR_SIGNATURE_MISMATCH. */
COF_MUST_CHECK cof_err srv_post_verify_v4(const char *policy_b64, const char *secret,
                                          const char *scope, const char *sig_hex);
/* SigV2 POST signature: base64 HMAC-SHA1 of policy_b64 under the secret, compared in constant
 * time. COF_OK or COF_ERR_SIGNATURE_MISMATCH. */
COF_MUST_CHECK cof_err srv_post_verify_v2(const char *policy_b64, const char *secret,
                                          const char *sig_b64);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* S3 bucket policies: parses and validates the JSON document (jansson) and evaluates it against
 * one request, as IAM does (explicit Deny wins, then Allow, else no opinion). Pure: no I/O, no
 * HTTP; the request is described by struct srv_policy_req and a condition-key callback. */
#ifndef SRV_POLICY_H
#define SRV_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "s3/s3err.h"

#define SRV_POLICY_MAX_SIZE   20480u /* AWS: bucket policies are limited to 20 KB */
#define SRV_POLICY_MAX_VALUES 16u    /* values of one multi-valued condition key */

struct srv_policy;

/* Parses and validates a bucket policy for `bucket`. strict_version: only "2012-10-17" and
 * "2008-10-17" are accepted (aws profile); otherwise another Version is accepted and
 * *out_odd_version is set so the caller can log it (localstack profile).
 * COF_ERR_MALFORMED_POLICY with AWS's message in *prob (static, or kept in its text) when the
 * document is not a valid policy; COF_ERR_NOMEM (bare). On success *out is the caller's (free
 * with srv_policy_free). Thread-safe; a parsed policy may be evaluated from several threads. */
COF_MUST_CHECK cof_err srv_policy_parse(const char *text, size_t len, const char *bucket,
                                        bool strict_version, struct srv_policy **out,
                                        bool *out_odd_version, struct srv_problem *prob);
/* Another reference to p, for sharing one parsed policy between threads (atomic). */
struct srv_policy *srv_policy_ref(struct srv_policy *p);
/* Drops a reference; the last one frees. Accepts NULL. */
void srv_policy_free(struct srv_policy *p);

/* Values of one condition key in the request. The callback points v[] at strings that stay
 * valid until the evaluation returns (scratch may hold them). */
struct srv_policy_values {
    size_t n;
    const char *v[SRV_POLICY_MAX_VALUES];
    char scratch[1024];
};
/* Looks up a condition key (name as written in the policy, e.g. "s3:x-amz-acl"; the caller
 * compares the prefix case-insensitively). Returns false when the request has no such key. */
typedef bool (*srv_policy_key_fn)(void *arg, const char *key, struct srv_policy_values *out);

/* What is being asked. principal: "arn:aws:iam::ACCOUNT:root" or ":user/NAME" ...; action:
 * "s3:GetObject"; resource: "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key". */
struct srv_policy_req {
    const char *principal;
    const char *action;
    const char *resource;
    srv_policy_key_fn key;
    void *arg;
};

enum srv_policy_decision {
    SRV_POLICY_NONE = 0, /* no statement applies */
    SRV_POLICY_ALLOW,
    SRV_POLICY_DENY
};

/* Evaluates every statement: DENY when a Deny statement applies, else ALLOW when an Allow
 * statement applies, else NONE. */
enum srv_policy_decision srv_policy_eval(const struct srv_policy *p,
                                         const struct srv_policy_req *r);

/* GetBucketPolicyStatus: true when an Allow statement applies to everyone (Principal "*" or
 * NotPrincipal) and no condition pins it to fixed sources (aws:SourceIp, aws:SourceVpc, ...). */
bool srv_policy_is_public(const struct srv_policy *p);

/* Wildcard match: '*' any run, '?' any one character; icase folds ASCII. */
bool srv_policy_wild_match(const char *pat, const char *s, bool icase);

#endif

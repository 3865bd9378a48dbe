/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: bucket policy documents (server/policy.c), as PutBucketPolicy receives them.
 * Input: the JSON text. Invariants: a document is either accepted (a policy, no message) or
 * refused (no policy, a message); an accepted one evaluates to a valid decision, the same one
 * twice, for a few fixed requests whose condition keys are always present. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "s3/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool keys(void *arg, const char *key, struct srv_policy_values *out)
{
    (void)arg;
    if (strcasecmp(key, "aws:SourceIp") == 0)
        out->v[out->n++] = "10.1.2.3";
    else if (strcasecmp(key, "aws:CurrentTime") == 0)
        out->v[out->n++] = "2026-11-25T16:00:00Z";
    else if (strcasecmp(key, "s3:max-keys") == 0)
        out->v[out->n++] = "100";
    else if (strcasecmp(key, "s3:RequestObjectTagKeys") == 0) {
        out->v[out->n++] = "a";
        out->v[out->n++] = "b";
    } else if (strncasecmp(key, "s3:", 3) == 0)
        out->v[out->n++] = "AES256";
    return out->n > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct srv_policy_req reqs[] = {
        {"arn:aws:iam::000000000000:root", "s3:PutObject", "arn:aws:s3:::bkt/a/b", keys, NULL},
        {"arn:aws:iam::111122223333:user/alice", "s3:ListBucket", "arn:aws:s3:::bkt", keys, NULL},
        {"arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::bkt/x", NULL, NULL},
    };
    for (int strict = 0; strict < 2; strict++) {
        struct srv_policy *p = NULL;
        struct srv_problem pr;
        bool odd = false;
        cof_err err = srv_policy_parse((const char *)data, size, "bkt", strict != 0, &p, &odd, &pr);
        if (err == COF_OK && (p == NULL || pr.code != COF_OK || pr.message != NULL))
            abort();
        if (err != COF_OK && (p != NULL || pr.code != err || pr.name1 != NULL ||
                              (err == COF_ERR_MALFORMED_POLICY && pr.message == NULL)))
            abort();
        for (size_t i = 0; p != NULL && i < sizeof(reqs) / sizeof(reqs[0]); i++) {
            enum srv_policy_decision d = srv_policy_eval(p, &reqs[i]);
            if ((unsigned)d > SRV_POLICY_DENY || d != srv_policy_eval(p, &reqs[i]))
                abort();
        }
        if (p != NULL)
            (void)srv_policy_is_public(p);
        srv_policy_free(p);
    }
    return 0;
}

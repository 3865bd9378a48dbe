/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: POST policy documents (server/postpolicy.c). Input: the policy JSON (base64-
 * encoded here, as the form carries it), checked against a fixed form. Invariants: the answer
 * is COF_OK, COF_ERR_NOMEM, or a verdict of 400 InvalidPolicyDocument / 403 AccessDenied with a
 * non-empty, NUL-terminated message; an accepted range has min <= max or is reported as is. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/postpolicy.h"
#include "s3/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16 * 1024)
        return 0;
    char *b64 = malloc(4 * ((size + 2) / 3) + 1);
    if (b64 == NULL)
        return 0;
    srv_base64_encode(data, size, b64);
    struct srv_post_fields f = {0};
    if (srv_post_fields_add(&f, "key", "user/a.txt") == COF_OK &&
        srv_post_fields_add(&f, "Content-Type", "image/png,image/gif") == COF_OK &&
        srv_post_fields_add(&f, "x-amz-meta-a", "1") == COF_OK &&
        srv_post_fields_add(&f, "X-Amz-Signature", "00") == COF_OK) {
        struct srv_post_verdict v;
        cof_err err = srv_post_policy_check(b64, &f, "bucket", 1700000000, &v);
        if (err != COF_OK && err != COF_ERR_NOMEM) {
            if (err != v.problem.code ||
                (err != COF_ERR_INVALID_POLICY && err != COF_ERR_ACCESS_DENIED) ||
                v.problem.message == NULL || v.problem.message[0] == '\0' ||
                strlen(v.problem.message) >= sizeof(v.problem.text))
                abort();
        }
    }
    srv_post_fields_cleanup(&f);
    free(b64);
    return 0;
}

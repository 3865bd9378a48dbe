/* SPDX-License-Identifier: Apache-2.0 */
/* SSE-C header validation, in AWS's order: algorithm, key, key size, MD5. */
#include "s3/sse.h"

#include <string.h>

#include "crypto/digest.h"
#include "s3/uri.h"

static const char *const hdr_names[2][3] = {
    {"x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key",
     "x-amz-server-side-encryption-customer-key-MD5"},
    {"x-amz-copy-source-server-side-encryption-customer-algorithm",
     "x-amz-copy-source-server-side-encryption-customer-key",
     "x-amz-copy-source-server-side-encryption-customer-key-MD5"},
};

#define MSG_NO_ALG                                                                                 \
    "Requests specifying Server Side Encryption with Customer provided keys must provide a valid " \
    "encryption algorithm."
#define MSG_NO_KEY                                                                                 \
    "Requests specifying Server Side Encryption with Customer provided keys must provide an "      \
    "appropriate secret key."
#define MSG_BAD_KEY "The secret key was invalid for the specified algorithm."
#define MSG_BAD_MD5 "The calculated MD5 hash of the key did not match the hash that was provided."
/* AWS names this header in every SSE-C argument error, whichever header was wrong (LocalStack's
 * AWS-validated captures). */
#define ARG_NAME    "x-amz-server-side-encryption"
#define MSG_BAD_ALG "The Encryption request you specified is not valid. Supported value: AES256."

static cof_err fail(struct srv_problem *p, cof_err code, const char *msg, const char *arg_value)
{
    /* AWS names the argument even when it has no value ("null"). */
    return srv_problem_arg(p, code, msg, ARG_NAME, arg_value != NULL ? arg_value : "null");
}

cof_err srv_ssec_parse(const struct srv_hdr_view *h, enum srv_sse_side side, bool write,
                       struct srv_ssec *out, struct srv_problem *p)
{
    const char *alg = h->get(h->arg, hdr_names[side][0]);
    const char *key = h->get(h->arg, hdr_names[side][1]);
    const char *md5 = h->get(h->arg, hdr_names[side][2]);
    uint8_t raw[64];
    uint8_t want[CRY_MD5_LEN + 8], got[CRY_MD5_LEN];
    size_t klen = 0, mlen = 0;
    cof_err err = COF_OK;
    memset(out, 0, sizeof(*out));
    srv_problem_init(p);
    out->present = alg != NULL || key != NULL || md5 != NULL;
    if (!out->present)
        return COF_OK;
    if (alg == NULL)
        return fail(p, COF_ERR_INVALID_ARGUMENT, MSG_NO_ALG, NULL);
    if (strcmp(alg, "AES256") != 0)
        return fail(p, COF_ERR_BAD_ENCRYPTION_ALG, MSG_BAD_ALG, alg);
    if (key == NULL)
        return fail(p, COF_ERR_INVALID_ARGUMENT, MSG_NO_KEY, NULL);
    if (srv_base64_decode(key, raw, sizeof(raw), &klen) != COF_OK || klen != CRY_KEY_LEN) {
        err = fail(p, COF_ERR_INVALID_ARGUMENT, MSG_BAD_KEY, NULL);
        goto out;
    }
    if (md5 == NULL) {
        if (write)
            err = fail(p, COF_ERR_INVALID_ARGUMENT, MSG_BAD_KEY, NULL);
    } else if (srv_base64_decode(md5, want, sizeof(want), &mlen) != COF_OK || mlen != CRY_MD5_LEN ||
               strlen(md5) >= sizeof(out->key_md5_b64)) {
        err = fail(p, COF_ERR_INVALID_ARGUMENT, MSG_BAD_MD5, NULL);
    } else {
        err = cry_digest_oneshot(CRY_DIGEST_MD5, raw, klen, got);
        if (err == COF_OK && !cry_equal(got, want, CRY_MD5_LEN))
            err = fail(p, COF_ERR_INVALID_ARGUMENT, MSG_BAD_MD5, NULL);
        if (err == COF_OK) {
            out->md5_sent = true;
            memcpy(out->key_md5_b64, md5, strlen(md5) + 1);
        }
    }
    if (err == COF_OK)
        err = cry_key_from_bytes(raw, klen, &out->key);
out:
    cry_wipe(raw, sizeof(raw));
    cry_wipe(got, sizeof(got));
    cry_wipe(want, sizeof(want));
    return srv_problem_finish(p, err);
}

void srv_ssec_cleanup(struct srv_ssec *s)
{
    if (s == NULL)
        return;
    cry_key_free(s->key);
    s->key = NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Checks on buffered request bodies: Content-MD5. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/bodycheck.h"

#include "crypto/digest.h"
#include "s3/httpfmt.h"

/* Checks Content-MD5 of a buffered body when the client sent one. */
cof_err ops_check_body_md5(struct srv_req *req)
{
    const char *md5 = srv_req_header(req, "Content-MD5");
    uint8_t want[CRY_MD5_LEN], got[CRY_MD5_LEN];
    size_t n = 0;
    if (md5 == NULL)
        return COF_OK;
    if (srv_base64_decode(md5, want, sizeof(want), &n) != COF_OK || n != CRY_MD5_LEN)
        return COF_ERR_INVALID_DIGEST;
    cof_err err = cry_digest_oneshot(CRY_DIGEST_MD5, req->body.data ? req->body.data : "",
                                     req->body.len, got);
    if (err != COF_OK)
        return err;
    return memcmp(want, got, CRY_MD5_LEN) == 0 ? COF_OK : COF_ERR_BAD_DIGEST;
}

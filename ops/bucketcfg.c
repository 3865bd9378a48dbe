/* SPDX-License-Identifier: Apache-2.0 */
/* What handlers share about the bucket a request names: that it exists, and removing one of its
 * configuration documents (Delete<Name>Configuration). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/bucketcfg.h"

#include "common/hex.h"
#include "crypto/digest.h"
#include "ops/listparams.h"
#include "storage/meta.h"

cof_err ops_bucket_must_exist(struct srv_req *req, const char *bucket)
{
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        err = srv_fail_elem(req, err, NULL, "BucketName", bucket);
    return err;
}

cof_err ops_bucket_owner(struct srv_req *req, const char *bucket, char account[13])
{
    return sto_meta_bucket_owner(req->ctx->obj.meta, bucket, account);
}

void ops_request_account(const struct srv_req *req, char account[13])
{
    const char *p = req->principal;
    snprintf(account, 13, "%s", STO_DEFAULT_OWNER);
    if (strncmp(p, "arn:aws:iam::", 13) != 0 && strncmp(p, "arn:aws:sts::", 13) != 0)
        return;
    p += 13;
    if (strspn(p, "0123456789") == 12 && p[12] == ':')
        snprintf(account, 13, "%.12s", p);
}

void ops_canonical_user(const char *account, char id[65], const char **display_name)
{
    uint8_t d[CRY_SHA256_LEN];
    if (strcmp(account, STO_DEFAULT_OWNER) == 0) {
        snprintf(id, 65, "%s", SRV_OWNER_ID);
        *display_name = SRV_OWNER_NAME;
        return;
    }
    /* 64 hex digits like AWS's ids, the same for an account on every server. */
    char seed[64];
    int n = snprintf(seed, sizeof(seed), "coffer canonical user %s", account);
    if (cry_digest_oneshot(CRY_DIGEST_SHA256, seed, (size_t)n, d) != COF_OK)
        memset(d, 0, sizeof(d));
    cof_hex_encode(d, CRY_SHA256_LEN, id);
    *display_name = account;
}

cof_err ops_delete_bucket_config(struct srv_req *req, const char *name)
{
    cof_err err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, name, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK && err != COF_ERR_NOT_FOUND)
        return err;
    return srv_reply(req, 204, NULL, "", 0);
}

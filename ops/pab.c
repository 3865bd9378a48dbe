/* SPDX-License-Identifier: Apache-2.0 */
/* Put/Get/DeletePublicAccessBlock (bucket config "publicAccessBlock"). What the four flags do is
 * enforced where it applies: ops/access.c (BlockPublicAcls, IgnorePublicAcls), ops/authz.c
 * (RestrictPublicBuckets) and ops/policy.c (BlockPublicPolicy). */
#include <stdlib.h>
#include <string.h>

#include "ops/access.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/handlers.h"
#include "ops/req.h"
#include "storage/meta.h"

cof_err ops_put_public_access_block(struct srv_req *req)
{
    struct srv_pab pab;
    char *doc = NULL;
    size_t len = 0;
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK)
        err = srv_pab_parse_xml(req->body.data != NULL ? req->body.data : "", req->body.len, &pab);
    if (err == COF_ERR_TOO_LARGE)
        err = COF_ERR_MALFORMED_XML;
    /* Stored in the canonical form GetPublicAccessBlock answers. */
    if (err == COF_OK)
        err = srv_pab_write_xml(&pab, &doc, &len);
    if (err == COF_OK)
        err =
            sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, OPS_PAB_CONFIG, doc);
    free(doc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 200, NULL, "", 0);
}

cof_err ops_get_public_access_block(struct srv_req *req)
{
    struct srv_pab pab;
    bool exists = false;
    char *doc = NULL;
    size_t len = 0;
    cof_err err = ops_bucket_pab(req, req->route.bucket, &pab, &exists, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    if (!exists)
        return srv_fail_elem(req, COF_ERR_NO_PUBLIC_BLOCK, NULL, "BucketName", req->route.bucket);
    err = srv_pab_write_xml(&pab, &doc, &len);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, len);
}

cof_err ops_delete_public_access_block(struct srv_req *req)
{
    cof_err err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, OPS_PAB_CONFIG,
                                             OPS_CONFIG_DELETED);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 204, NULL, "", 0);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Put/Get/DeleteBucketOwnershipControls (bucket config "ownershipControls"). A bucket without
 * one is BucketOwnerEnforced, as every new AWS bucket is since April 2023; once deleted,
 * GetBucketOwnershipControls answers OwnershipControlsNotFoundError and ACLs work as they did
 * before (ObjectWriter). */
#include <stdlib.h>
#include <string.h>

#include "ops/access.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/handlers.h"
#include "ops/req.h"
#include "s3/xml.h"
#include "storage/meta.h"

cof_err ops_put_bucket_ownership_controls(struct srv_req *req)
{
    enum srv_ownership own;
    struct srv_acl *acl = NULL;
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK)
        err = srv_ownership_parse_xml(req->body.data != NULL ? req->body.data : "", req->body.len,
                                      &own);
    if (err == COF_ERR_TOO_LARGE)
        err = COF_ERR_MALFORMED_XML;
    /* AWS: ACLs cannot be disabled while the bucket's own ACL grants anyone but its owner. */
    if (err == COF_OK && own == SRV_OWN_ENFORCED) {
        acl = calloc(1, sizeof(*acl));
        err = acl != NULL ? ops_bucket_acl(req, req->route.bucket, acl) : COF_ERR_NOMEM;
        if (err == COF_OK && !srv_acl_is_owner_only(acl))
            err = srv_fail(req, COF_ERR_ACL_OWNERSHIP, NULL);
    }
    free(acl);
    if (err == COF_OK)
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                         OPS_OWNERSHIP_CONFIG, srv_ownership_name(own));
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 200, NULL, "", 0);
}

cof_err ops_get_bucket_ownership_controls(struct srv_req *req)
{
    enum srv_ownership own;
    bool set = false;
    char *doc = NULL;
    struct srv_xml *x = NULL;
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                             OPS_OWNERSHIP_CONFIG, &doc);
    bool deleted = err == COF_OK && strcmp(doc, OPS_CONFIG_DELETED) == 0;
    free(doc);
    if (err == COF_OK || err == COF_ERR_NOT_FOUND)
        err = ops_bucket_ownership(req, req->route.bucket, &own, &set);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    if (deleted)
        return srv_fail_elem(req, COF_ERR_NO_OWNERSHIP, NULL, "BucketName", req->route.bucket);
    err = srv_xml_new("OwnershipControls", &x);
    if (err != COF_OK)
        return err;
    srv_xml_open(x, "Rule");
    srv_xml_elem(x, "ObjectOwnership", srv_ownership_name(own));
    srv_xml_close(x);
    return ops_reply_doc(req, x);
}

cof_err ops_delete_bucket_ownership_controls(struct srv_req *req)
{
    cof_err err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                             OPS_OWNERSHIP_CONFIG, OPS_CONFIG_DELETED);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 204, NULL, "", 0);
}

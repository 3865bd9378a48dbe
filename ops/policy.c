/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket policy operations: Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus. Enforcement in
 * the request path is ops/authz.c's; the document itself is parsed and evaluated by
 * s3/policy.c. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "crypto/envelope.h"
#include "ops/access.h"
#include "ops/handlers.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/copysrc.h"
#include "ops/authz.h"
#include "ops/req.h"
#include "object/kms.h"
#include "s3/policy.h"
#include "s3/tagging.h"
#include "s3/xml.h"
#include "storage/meta.h"

/* ---- the policy operations ---- */

/* Whether the bucket's public access block refuses public policies (BlockPublicPolicy). */
static bool public_policy_blocked(struct srv_req *req)
{
    struct srv_pab pab;
    bool enforced = false;
    if (ops_bucket_pab(req, req->route.bucket, &pab, NULL, &enforced) != COF_OK || !enforced ||
        !pab.block_policy)
        return false;
    cof_log_info(req->rid, "public policy refused on %s: BlockPublicPolicy", req->route.bucket);
    return true;
}

/* RestrictPublicBuckets: a public policy no longer makes the bucket public. */
static bool public_restricted(struct srv_req *req)
{
    struct srv_pab pab;
    bool enforced = false;
    return ops_bucket_pab(req, req->route.bucket, &pab, NULL, &enforced) == COF_OK && enforced &&
           pab.restrict_buckets;
}

cof_err ops_put_bucket_policy(struct srv_req *req)
{
    struct srv_policy *p = NULL;
    struct srv_problem prob;
    bool odd = false;
    char *text = NULL;
    bool aws = req->ctx->cfg->profile == SRV_PROFILE_AWS;
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    if (req->body_err == COF_ERR_TOO_LARGE)
        return srv_fail_elem(req, COF_ERR_MALFORMED_POLICY,
                             "Policy exceeds the maximum allowed document size.", NULL, NULL);
    err = ops_check_body_md5(req);
    if (err != COF_OK)
        return err;
    err = srv_policy_parse(req->body.data != NULL ? req->body.data : "", req->body.len,
                           req->route.bucket, aws, &p, &odd, &prob);
    if (err == COF_ERR_MALFORMED_POLICY) {
        cof_log_info(req->rid, "PutBucketPolicy on %s: %s", req->route.bucket, prob.message);
        return srv_fail_problem(req, &prob);
    }
    if (err != COF_OK)
        return err;
    bool pub = srv_policy_is_public(p);
    srv_policy_free(p);
    if (pub && public_policy_blocked(req))
        return srv_fail(req, COF_ERR_ACCESS_DENIED, NULL);
    if (odd)
        cof_log_warn(req->rid,
                     "policy of %s has a Version AWS rejects (only 2012-10-17 and 2008-10-17); "
                     "accepted as LocalStack does",
                     req->route.bucket);
    /* Stored as sent (GetBucketPolicy returns the client's own text, as AWS does). */
    text = malloc(req->body.len + 1);
    if (text == NULL)
        return COF_ERR_NOMEM;
    memcpy(text, req->body.data, req->body.len);
    text[req->body.len] = '\0';
    if (strlen(text) != req->body.len) {
        free(text);
        return srv_fail_elem(req, COF_ERR_MALFORMED_POLICY, "This policy contains invalid Json",
                             NULL, NULL);
    }
    err =
        sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, OPS_POLICY_CONFIG, text);
    free(text);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 204, NULL, "", 0);
}

cof_err ops_get_bucket_policy(struct srv_req *req)
{
    char *doc = NULL;
    cof_err err =
        sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, OPS_POLICY_CONFIG, &doc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_ERR_NOT_FOUND)
        return srv_fail_elem(req, COF_ERR_NO_SUCH_POLICY, NULL, "BucketName", req->route.bucket);
    if (err != COF_OK)
        return err;
    err = srv_reply(req, 200, "application/json", doc, strlen(doc));
    free(doc);
    return err;
}

cof_err ops_delete_bucket_policy(struct srv_req *req)
{
    return ops_delete_bucket_config(req, OPS_POLICY_CONFIG);
}

cof_err ops_get_bucket_policy_status(struct srv_req *req)
{
    struct srv_policy *p = NULL;
    struct srv_xml *x = NULL;
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        err = ops_policy_load(req, req->route.bucket, &p);
    if (err != COF_OK)
        return err;
    if (p == NULL)
        return srv_fail_elem(req, COF_ERR_NO_SUCH_POLICY, NULL, "BucketName", req->route.bucket);
    bool pub = srv_policy_is_public(p) && !public_restricted(req);
    srv_policy_free(p);
    err = srv_xml_new("PolicyStatus", &x);
    if (err == COF_OK)
        err = srv_xml_elem(x, "IsPublic", pub ? "true" : "false");
    if (err != COF_OK) {
        srv_xml_free(x);
        return err;
    }
    return ops_reply_doc(req, x);
}

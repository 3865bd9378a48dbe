/* SPDX-License-Identifier: Apache-2.0 */
/* CORS operations: Put/Get/DeleteBucketCors and the OPTIONS preflights. The headers of actual
 * cross-origin requests, and the choice between a bucket's rules (AWS's behaviour, both
 * profiles) and LocalStack's permissive default, are ops/corshdr.c's; the rule logic itself lives
 * in s3/cors.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "s3/cors.h"
#include "ops/handlers.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/corshdr.h"
#include "ops/req.h"
#include "storage/meta.h"

#define NO_ORIGIN_MSG   "Insufficient information. Origin request header needed."
#define NO_BUCKET_MSG   "CORSResponse: Bucket not found"
#define NOT_ENABLED_MSG "CORSResponse: CORS is not enabled for this bucket."

cof_err ops_put_bucket_cors(struct srv_req *req)
{
    struct srv_cors_config c = {NULL, 0};
    struct srv_problem prob;
    char *doc = NULL;
    size_t len = 0;
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK) {
        err = srv_cors_parse(req->body.data, req->body.len, &c, &prob);
        if (err != COF_OK) {
            err = srv_fail_problem(req, &prob);
            goto out;
        }
    }
    /* Stored in the canonical form GetBucketCors returns, which is also what requests read. */
    if (err == COF_OK)
        err = srv_cors_write(&c, &doc, &len);
    if (err == COF_OK)
        err =
            sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, SRV_CORS_CONFIG, doc);
    if (err == COF_ERR_NO_BUCKET) {
        err = ops_no_bucket(req);
        goto out;
    }
    if (err == COF_OK)
        err = srv_reply(req, 200, NULL, "", 0);
out:
    free(doc);
    srv_cors_config_cleanup(&c);
    return err;
}

cof_err ops_get_bucket_cors(struct srv_req *req)
{
    char *doc = NULL;
    cof_err err =
        sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, SRV_CORS_CONFIG, &doc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_ERR_NOT_FOUND)
        return srv_fail_elem(req, COF_ERR_NO_CORS, NULL, "BucketName", req->route.bucket);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, strlen(doc));
}

cof_err ops_delete_bucket_cors(struct srv_req *req)
{
    return ops_delete_bucket_config(req, SRV_CORS_CONFIG);
}

cof_err ops_cors_internal_preflight(struct srv_req *req)
{
    return ops_cors_gateway(req, srv_req_header(req, "Origin"), true);
}

/* AWS refuses a preflight whose Access-Control-Request-Method is missing or not one of the
 * five methods CORS rules can allow. */
static bool preflight_method_ok(const char *m)
{
    static const char *const ok[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
    for (size_t i = 0; m != NULL && i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(m, ok[i]) == 0)
            return true;
    }
    return false;
}

static cof_err bad_preflight_method(struct srv_req *req, const char *acrm)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "Invalid Access-Control-Request-Method: %.100s",
             acrm != NULL ? acrm : "null");
    return srv_fail_elem(req, COF_ERR_BAD_REQUEST, msg, NULL, NULL);
}

cof_err ops_cors_preflight(struct srv_req *req)
{
    struct srv_cors_config c = {NULL, 0};
    bool exists = false;
    const char *origin = srv_req_header(req, "Origin");
    const char *acrm = srv_req_header(req, "Access-Control-Request-Method");
    const char *acrh = srv_req_header(req, "Access-Control-Request-Headers");
    bool ls = ops_cors_localstack(req);
    cof_err err = COF_OK;

    if (ls && req->ctx->cfg->cors_disable_custom_s3)
        return ops_cors_gateway(req, origin, true);
    if (origin == NULL)
        return srv_fail_elem(req, COF_ERR_BAD_REQUEST, NO_ORIGIN_MSG, NULL, NULL);
    if (!ls && !preflight_method_ok(acrm))
        return bad_preflight_method(req, acrm);
    err = ops_cors_load_rules(req, &c, &exists);
    if (err != COF_OK)
        goto out;
    if (c.n == 0) {
        struct srv_cors_defaults d;
        ops_cors_defaults_of(req, &d);
        if (ls && srv_cors_default_allowed(&d, origin)) {
            err = ops_cors_add_defaults(req, &d, origin);
            if (err == COF_OK)
                err = srv_reply(req, 200, NULL, "", 0);
        } else {
            err = srv_fail_elem2(req, COF_ERR_CORS_FORBIDDEN,
                                 exists ? NOT_ENABLED_MSG : NO_BUCKET_MSG, "Method",
                                 acrm != NULL ? acrm : "OPTIONS", "ResourceType", "BUCKET");
        }
        goto out;
    }
    /* LocalStack matches a preflight without Access-Control-Request-Method against the method
     * OPTIONS, which no rule allows: a 403 below rather than AWS's 400. */
    const struct srv_cors_rule *r =
        srv_cors_match(&c, origin, acrm != NULL ? acrm : "OPTIONS", acrh);
    if (r == NULL) {
        err = srv_fail_elem2(req, COF_ERR_CORS_FORBIDDEN, NULL, "Method", acrm, "ResourceType",
                             "OBJECT");
        goto out;
    }
    err = srv_cors_rule_headers(r, origin, acrh, ops_cors_emit_header, req);
    if (err == COF_OK)
        err = srv_reply(req, 200, NULL, "", 0);
out:
    srv_cors_config_cleanup(&c);
    return err;
}

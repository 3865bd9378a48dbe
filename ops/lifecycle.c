/* SPDX-License-Identifier: Apache-2.0 */
/* Lifecycle operations: Put/Get/DeleteBucketLifecycleConfiguration, the x-amz-expiration header
 * of objects a rule will expire, and POST /_coffer/lifecycle/run. The rules are s3/lifecycle.c's;
 * applying them is ops/lcsweep.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/handlers.h"
#include "ops/lcsweep.h"
#include "ops/req.h"
#include "s3/lifecycle.h"
#include "s3/tagging.h"
#include "s3/uri.h"
#include "storage/meta.h"

cof_err ops_put_bucket_lifecycle(struct srv_req *req)
{
    struct srv_lc_config c = {NULL, 0};
    struct srv_problem prob;
    char *doc = NULL;
    size_t len = 0;
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK) {
        err = srv_lc_parse(req->body.data, req->body.len, &c, &prob);
        if (err != COF_OK) {
            err = srv_fail_problem(req, &prob);
            goto out;
        }
    }
    /* Stored in the canonical form GetBucketLifecycleConfiguration returns. */
    if (err == COF_OK)
        err = srv_lc_write(&c, &doc, &len);
    if (err == COF_OK)
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, SRV_LC_CONFIG, doc);
    if (err == COF_ERR_NO_BUCKET) {
        err = ops_no_bucket(req);
        goto out;
    }
    /* AWS reports the default minimum object size for transitions on every put. */
    if (err == COF_OK) {
        srv_resp_add(req, "x-amz-transition-default-minimum-object-size",
                     "all_storage_classes_128K");
        err = srv_reply(req, 200, NULL, "", 0);
    }
out:
    free(doc);
    srv_lc_config_cleanup(&c);
    return err;
}

cof_err ops_get_bucket_lifecycle(struct srv_req *req)
{
    char *doc = NULL;
    cof_err err =
        sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, SRV_LC_CONFIG, &doc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_ERR_NOT_FOUND)
        return srv_fail_elem(req, COF_ERR_NO_LIFECYCLE, NULL, "BucketName", req->route.bucket);
    if (err != COF_OK)
        return err;
    srv_resp_add(req, "x-amz-transition-default-minimum-object-size", "all_storage_classes_128K");
    return srv_reply_xml(req, 200, doc, strlen(doc));
}

cof_err ops_delete_bucket_lifecycle(struct srv_req *req)
{
    return ops_delete_bucket_config(req, SRV_LC_CONFIG);
}

/* ?now=<ISO 8601>: the time the rules are applied as of (default: the clock). */
static cof_err run_time(struct srv_req *req, int64_t *out_ms)
{
    const char *now = srv_query_get(req->route.query, "now");
    *out_ms = cof_now_ms();
    if (now == NULL)
        return COF_OK;
    if (srv_lc_parse_time(now, out_ms) != COF_OK)
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT,
                            "now must be an ISO 8601 time (2030-01-31T00:00:00Z)", "now", now);
    return COF_OK;
}

cof_err ops_coffer_lifecycle_run(struct srv_req *req)
{
    struct ops_lc_counts n = {0, 0, 0, 0};
    struct cof_buf b;
    int64_t now_ms = 0;
    cof_err err = run_time(req, &now_ms);
    if (err != COF_OK)
        return err;
    err = ops_lc_run(&req->ctx->obj, now_ms, &n);
    if (err != COF_OK)
        return err;
    cof_log_info(req->rid, "lifecycle run: %lu expired, %lu removed, %lu aborted", n.expired,
                 n.removed, n.aborted);
    cof_buf_init(&b, 4096);
    err = cof_buf_printf(&b,
                         "{\"expired\": %lu, \"removed\": %lu, \"aborted\": %lu, \"scanned\": %lu}",
                         n.expired, n.removed, n.aborted, n.scanned);
    if (err == COF_OK)
        err = srv_reply(req, 200, "application/json", b.data, b.len);
    cof_buf_cleanup(&b);
    return err;
}

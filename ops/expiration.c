/* SPDX-License-Identifier: Apache-2.0 */
/* x-amz-expiration: when the bucket's lifecycle rules (s3/lifecycle.c) will expire an object. */
#include "ops/expiration.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "s3/lifecycle.h"
#include "s3/tagging.h"
#include "storage/meta.h"

void ops_lifecycle_add_expiration(struct srv_req *req, const struct sto_object *o)
{
    char *doc = NULL, *tags = NULL;
    struct srv_lc_config c = {NULL, 0};
    struct srv_problem prob;
    if (o->delete_marker)
        return;
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, o->bucket, SRV_LC_CONFIG, &doc);
    if (err == COF_ERR_NOT_FOUND || err == COF_ERR_NO_BUCKET)
        return;
    if (err == COF_OK)
        err = srv_lc_parse(doc, strlen(doc), &c, &prob);
    if (err == COF_OK)
        err = srv_tagging_from_block(o->headers, &tags);
    int64_t due = 0;
    const struct srv_lc_rule *rule = NULL;
    if (err == COF_OK && srv_lc_expiry(&c, o->key, o->size, tags, o->mtime_ms, &due, &rule)) {
        char v[512];
        srv_lc_expiration_header(due, rule->id, v, sizeof(v));
        srv_resp_add(req, "x-amz-expiration", v);
    }
    if (err != COF_OK)
        cof_log_warn(req->rid, "x-amz-expiration left out: %s", cof_err_name(err));
    free(doc);
    free(tags);
    srv_lc_config_cleanup(&c);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* x-amz-expiration and reported storage classes: what the bucket's lifecycle rules
 * (s3/lifecycle.c) say about an object, as requests report it. */
#include "ops/expiration.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "s3/tagging.h"
#include "storage/meta.h"

void ops_lc_rules_load(struct srv_req *req, const char *bucket, struct ops_lc_rules *r)
{
    char *doc = NULL;
    struct srv_problem prob;
    memset(r, 0, sizeof(*r));
    r->now_ms = cof_now_ms();
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, bucket, SRV_LC_CONFIG, &doc);
    if (err == COF_ERR_NOT_FOUND || err == COF_ERR_NO_BUCKET)
        return;
    if (err == COF_OK)
        err = srv_lc_parse(doc, strlen(doc), &r->cfg, &prob);
    if (err != COF_OK)
        cof_log_warn(req->rid, "lifecycle rules of %s unreadable: %s", bucket, cof_err_name(err));
    free(doc);
}

void ops_lc_rules_cleanup(struct ops_lc_rules *r)
{
    if (r != NULL)
        srv_lc_config_cleanup(&r->cfg);
}

const char *ops_lc_storage_class(const struct ops_lc_rules *r, const struct sto_object *o,
                                 const char *tags_canon)
{
    const char *cls = NULL;
    if (r->cfg.n > 0 && !o->delete_marker)
        cls = srv_lc_storage_class(&r->cfg, o->key, o->size, tags_canon, o->mtime_ms, r->now_ms);
    return cls != NULL ? cls : "STANDARD";
}

void ops_lifecycle_add_expiration(struct srv_req *req, const struct sto_object *o)
{
    struct ops_lc_rules r;
    char *tags = NULL;
    int64_t due = 0;
    const struct srv_lc_rule *rule = NULL;
    if (o->delete_marker)
        return;
    ops_lc_rules_load(req, o->bucket, &r);
    if (r.cfg.n == 0)
        return;
    if (srv_tagging_from_block(o->headers, &tags) != COF_OK) {
        cof_log_warn(req->rid, "x-amz-expiration left out: out of memory");
        goto out;
    }
    if (srv_lc_expiry(&r.cfg, o->key, o->size, tags, o->mtime_ms, &due, &rule)) {
        char v[512];
        srv_lc_expiration_header(due, rule->id, v, sizeof(v));
        srv_resp_add(req, "x-amz-expiration", v);
    }
    const char *cls = ops_lc_storage_class(&r, o, tags);
    if (strcmp(cls, "STANDARD") != 0)
        srv_resp_add(req, "x-amz-storage-class", cls);
out:
    free(tags);
    ops_lc_rules_cleanup(&r);
}

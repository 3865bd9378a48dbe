/* SPDX-License-Identifier: Apache-2.0 */
/* S3 Object Lock on the request side: bucket configuration, the lock of a new version, the lock
 * headers of reads, and the governance bypass. Storage enforces; this decides what to ask. */
#include "ops/objlock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/log.h"
#include "object/stored.h"
#include "ops/authz.h"
#include "ops/versions.h"
#include "s3/httpfmt.h"
#include "s3/s3err.h"

#define MS_PER_DAY (86400LL * 1000)

cof_err ops_lock_config_get(struct srv_req *req, const char *bucket, struct srv_lock_config *out)
{
    char *v = NULL;
    memset(out, 0, sizeof(*out));
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, bucket, OPS_LOCK_CONFIG, &v);
    if (err == COF_ERR_NOT_FOUND || err == COF_ERR_NO_BUCKET)
        return COF_OK;
    if (err == COF_OK && srv_objlock_config_parse_stored(v, out) != COF_OK) {
        cof_log_error(req->rid, "bucket %s: stored Object Lock configuration unreadable", bucket);
        err = COF_ERR_INTERNAL;
    }
    free(v);
    return err;
}

cof_err ops_lock_enable_on_create(struct srv_req *req)
{
    const char *h = srv_req_header(req, "x-amz-bucket-object-lock-enabled");
    if (h == NULL || strcasecmp(h, "true") != 0)
        return COF_OK;
    /* Versioning first: a bucket with Object Lock is never without it. */
    cof_err err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                             OPS_VERSIONING_CONFIG, "Enabled");
    if (err == COF_OK)
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, OPS_LOCK_CONFIG,
                                         "Enabled");
    return err;
}

bool ops_lock_headers_present(const struct srv_req *req)
{
    return srv_req_header(req, "x-amz-object-lock-mode") != NULL ||
           srv_req_header(req, "x-amz-object-lock-retain-until-date") != NULL ||
           srv_req_header(req, "x-amz-object-lock-legal-hold") != NULL;
}

/* The bucket's default retention as of now_ms into out (nothing when it has none). AWS counts
 * a year as 365 days. */
static void apply_default(const struct srv_lock_config *c, int64_t now_ms, struct sto_lock *out)
{
    if (c->mode == SRV_LOCK_NONE)
        return;
    int64_t days = c->days > 0 ? c->days : (int64_t)c->years * 365;
    out->mode = c->mode;
    out->until_ms = now_ms + days * MS_PER_DAY;
}

/* The request's headers, checked, into out; *explicit tells whether there were any. Fails with
 * AWS's answer. */
static cof_err lock_from_headers(struct srv_req *req, const struct srv_lock_config *c,
                                 int64_t now_ms, struct sto_lock *out, bool *explicit)
{
    struct srv_problem prob;
    int mode = 0, hold = 0;
    int64_t until = 0;
    memset(out, 0, sizeof(*out));
    *explicit = ops_lock_headers_present(req);
    if (!*explicit)
        return COF_OK;
    /* AWS names the missing configuration before any bad value. */
    if (!c->enabled)
        return srv_fail(req, COF_ERR_INVALID_REQUEST, "Bucket is missing ObjectLockConfiguration");
    srv_problem_init(&prob);
    cof_err err = srv_objlock_check_headers(
        srv_req_header(req, "x-amz-object-lock-mode"),
        srv_req_header(req, "x-amz-object-lock-retain-until-date"),
        srv_req_header(req, "x-amz-object-lock-legal-hold"), now_ms, &mode, &until, &hold, &prob);
    if (err != COF_OK)
        return srv_fail_problem(req, &prob);
    out->mode = mode;
    out->until_ms = until;
    out->legal_hold = hold;
    return COF_OK;
}

cof_err ops_lock_for_write(struct srv_req *req, const char *bucket, int64_t now_ms,
                           struct sto_lock *out)
{
    struct srv_lock_config c;
    bool explicit = false;
    memset(out, 0, sizeof(*out));
    cof_err err = ops_lock_config_get(req, bucket, &c);
    if (err == COF_OK)
        err = lock_from_headers(req, &c, now_ms, out, &explicit);
    if (err == COF_OK && c.enabled && out->mode == SRV_LOCK_NONE)
        apply_default(&c, now_ms, out);
    return err;
}

cof_err ops_lock_for_upload(struct srv_req *req, const char *bucket, char **headers)
{
    struct srv_lock_config c;
    struct sto_lock l;
    bool explicit = false;
    cof_err err = ops_lock_config_get(req, bucket, &c);
    if (err == COF_OK)
        err = lock_from_headers(req, &c, cof_now_ms(), &l, &explicit);
    if (err == COF_OK && explicit)
        err = obj_stored_append(headers, OPS_LOCK_UPLOAD_LINE, "%d %lld %d", l.mode,
                                (long long)l.until_ms, l.legal_hold);
    return err;
}

cof_err ops_lock_for_complete(struct srv_req *req, const char *bucket, const char *upload_headers,
                              int64_t now_ms, struct sto_lock *out)
{
    struct srv_lock_config c;
    char line[64];
    long long until = 0;
    memset(out, 0, sizeof(*out));
    cof_err err = ops_lock_config_get(req, bucket, &c);
    if (err != COF_OK || !c.enabled)
        return err;
    if (obj_stored_value(upload_headers, OPS_LOCK_UPLOAD_LINE, line, sizeof(line)) &&
        sscanf(line, "%d %lld %d", &out->mode, &until, &out->legal_hold) == 3)
        out->until_ms = until;
    if (out->mode == SRV_LOCK_NONE)
        apply_default(&c, now_ms, out);
    return COF_OK;
}

void ops_lock_add_headers(struct srv_req *req, const struct sto_object *o)
{
    const char *mode = srv_lock_mode_name(o->lock.mode);
    if (o->delete_marker)
        return;
    if (mode != NULL) {
        char date[32];
        srv_iso8601_format(o->lock.until_ms, date);
        srv_resp_add(req, "x-amz-object-lock-mode", mode);
        srv_resp_add(req, "x-amz-object-lock-retain-until-date", date);
    }
    if (o->lock.legal_hold != STO_HOLD_UNSET)
        srv_resp_add(req, "x-amz-object-lock-legal-hold",
                     o->lock.legal_hold == STO_HOLD_ON ? "ON" : "OFF");
}

bool ops_lock_bypass(struct srv_req *req, const char *key)
{
    const char *h = srv_req_header(req, "x-amz-bypass-governance-retention");
    if (h == NULL || strcasecmp(h, "true") != 0)
        return false;
    return ops_policy_check_action(req, "s3:BypassGovernanceRetention", key) == COF_OK;
}

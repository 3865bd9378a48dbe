/* SPDX-License-Identifier: Apache-2.0 */
/* S3 Object Lock operations: Put/GetObjectLockConfiguration, Put/GetObjectRetention and
 * Put/GetObjectLegalHold. Lock metadata needs no SSE-C key (AWS): nothing here decrypts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/handlers.h"
#include "ops/objlock.h"
#include "ops/req.h"
#include "ops/tags.h"
#include "ops/versions.h"
#include "s3/httpfmt.h"
#include "s3/objlock.h"
#include "s3/xml.h"
#include "storage/meta.h"

_Static_assert((int)SRV_LOCK_GOVERNANCE == (int)STO_LOCK_GOVERNANCE &&
                   (int)SRV_LOCK_COMPLIANCE == (int)STO_LOCK_COMPLIANCE &&
                   (int)SRV_LOCK_NONE == (int)STO_LOCK_NONE,
               "protocol and storage lock modes agree");

/* ---- Put/GetObjectLockConfiguration ---- */

cof_err ops_put_object_lock_configuration(struct srv_req *req)
{
    struct srv_lock_config c;
    struct srv_problem prob;
    enum ops_versioning st = OPS_UNVERSIONED;
    char stored[64];
    srv_problem_init(&prob);
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err != COF_OK)
        return err;
    err = srv_objlock_parse_config(req->body.data, req->body.len, &c, &prob);
    if (err == COF_ERR_TOO_LARGE)
        err = COF_ERR_MALFORMED_XML;
    if (err != COF_OK)
        return prob.code != COF_OK ? srv_fail_problem(req, &prob) : err;
    /* AWS (since 2023): an existing bucket gets Object Lock once its versioning is Enabled. */
    err = ops_versioning_get(req, req->route.bucket, &st);
    if (err == COF_OK && st != OPS_VERSIONING_ENABLED)
        return srv_fail_elem(req, COF_ERR_INVALID_BUCKET_STATE,
                             "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                             "configuration",
                             "BucketName", req->route.bucket);
    srv_objlock_config_format(&c, stored, sizeof(stored));
    if (err == COF_OK)
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, OPS_LOCK_CONFIG,
                                         stored);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 200, NULL, "", 0);
}

cof_err ops_get_object_lock_configuration(struct srv_req *req)
{
    struct srv_lock_config c;
    char *doc = NULL;
    size_t len = 0;
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = ops_lock_config_get(req, req->route.bucket, &c);
    if (err != COF_OK)
        return err;
    if (!c.enabled)
        return srv_fail_elem(req, COF_ERR_NO_LOCK_CONFIG, NULL, "BucketName", req->route.bucket);
    err = srv_objlock_write_config(&c, &doc, &len);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, len);
}

/* ---- per version ---- */

/* The version a retention or legal-hold call names, on a bucket with Object Lock (AWS:
 * InvalidRequest otherwise). Fails with AWS's answer; out filled on COF_OK. */
static cof_err lock_target(struct srv_req *req, const char **vid, struct sto_object *out)
{
    struct srv_lock_config c;
    memset(out, 0, sizeof(*out));
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = ops_request_version(req, vid);
    if (err == COF_OK)
        err = ops_lock_config_get(req, req->route.bucket, &c);
    if (err == COF_OK && !c.enabled)
        err = srv_fail(req, COF_ERR_INVALID_REQUEST, "Bucket is missing Object Lock Configuration");
    if (err == COF_OK)
        err = ops_object_version(req, req->route.bucket, req->route.key, *vid, out);
    return err;
}

/* Answers a refused change of a version's lock (storage's outcome). */
static cof_err lock_set_result(struct srv_req *req, cof_err err, const struct sto_object *o)
{
    if (err == COF_ERR_NO_OBJECT)
        return srv_fail_elem(req, err, NULL, "Key", req->route.key);
    if (err != COF_OK)
        return err;
    (void)o;
    return srv_reply(req, 200, NULL, "", 0);
}

cof_err ops_put_object_retention(struct srv_req *req)
{
    struct sto_object o;
    const char *vid = NULL;
    int mode = SRV_LOCK_NONE;
    int64_t until = 0, now = cof_now_ms();
    cof_err err = lock_target(req, &vid, &o);
    if (err != COF_OK)
        return err;
    err = ops_check_body_md5(req);
    if (err == COF_OK)
        err = srv_objlock_parse_retention(req->body.data, req->body.len, &mode, &until);
    if (err == COF_ERR_TOO_LARGE)
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK && mode != SRV_LOCK_NONE && until <= now)
        err =
            srv_fail(req, COF_ERR_INVALID_ARGUMENT, "The retain until date must be in the future!");
    if (err == COF_OK)
        err = sto_meta_set_retention(req->ctx->obj.meta, req->route.bucket, req->route.key,
                                     o.version_id, mode, until, now,
                                     ops_lock_bypass(req, req->route.key));
    if (err == COF_OK || err == COF_ERR_NO_OBJECT)
        err = lock_set_result(req, err, &o);
    sto_object_cleanup(&o);
    return err;
}

cof_err ops_get_object_retention(struct srv_req *req)
{
    struct sto_object o;
    struct srv_xml *x = NULL;
    const char *vid = NULL;
    char date[32];
    cof_err err = lock_target(req, &vid, &o);
    if (err != COF_OK)
        return err;
    if (srv_lock_mode_name(o.lock.mode) == NULL) {
        sto_object_cleanup(&o);
        return COF_ERR_NO_OBJECT_LOCK;
    }
    srv_iso8601_format(o.lock.until_ms, date);
    err = srv_xml_new("Retention", &x);
    if (err == COF_OK) {
        srv_xml_elem(x, "Mode", srv_lock_mode_name(o.lock.mode));
        srv_xml_elem(x, "RetainUntilDate", date);
        err = ops_reply_doc(req, x);
    }
    sto_object_cleanup(&o);
    return err;
}

cof_err ops_put_object_legal_hold(struct srv_req *req)
{
    struct sto_object o;
    const char *vid = NULL;
    bool on = false;
    cof_err err = lock_target(req, &vid, &o);
    if (err != COF_OK)
        return err;
    err = ops_check_body_md5(req);
    if (err == COF_OK)
        err = srv_objlock_parse_legal_hold(req->body.data, req->body.len, &on);
    if (err == COF_ERR_TOO_LARGE)
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK)
        err = sto_meta_set_legal_hold(req->ctx->obj.meta, req->route.bucket, req->route.key,
                                      o.version_id, on ? STO_HOLD_ON : STO_HOLD_OFF);
    if (err == COF_OK || err == COF_ERR_NO_OBJECT)
        err = lock_set_result(req, err, &o);
    sto_object_cleanup(&o);
    return err;
}

cof_err ops_get_object_legal_hold(struct srv_req *req)
{
    struct sto_object o;
    struct srv_xml *x = NULL;
    const char *vid = NULL;
    cof_err err = lock_target(req, &vid, &o);
    if (err != COF_OK)
        return err;
    if (o.lock.legal_hold == STO_HOLD_UNSET) {
        sto_object_cleanup(&o);
        return COF_ERR_NO_OBJECT_LOCK;
    }
    err = srv_xml_new("LegalHold", &x);
    if (err == COF_OK) {
        srv_xml_elem(x, "Status", o.lock.legal_hold == STO_HOLD_ON ? "ON" : "OFF");
        err = ops_reply_doc(req, x);
    }
    sto_object_cleanup(&o);
    return err;
}

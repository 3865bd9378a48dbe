/* SPDX-License-Identifier: Apache-2.0 */
/* The bucket sub-resources coffer stores but does not act on: Get/Put of accelerate,
 * requestPayment, logging and notification configuration, Get/Put/Delete of website and
 * replication. Documents are checked and written canonically by s3/subres.c; what is checked
 * against other buckets (the logging target, replication destinations) and the bucket's own
 * state (versioning, a dotted name) is here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/handlers.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/req.h"
#include "ops/versions.h"
#include "s3/subres.h"
#include "s3/xml.h"
#include "storage/meta.h"

#define ACCEL_DOTS_MSG                                                                             \
    "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"
#define REPL_VERSIONING_MSG                                                                        \
    "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
#define REPL_DEST_VERSIONING_MSG "Destination bucket must have versioning enabled."
#define NOTIFY_TARGETS_MSG                                                                         \
    "coffer does not deliver event notifications: a NotificationConfiguration with SQS, SNS, "     \
    "Lambda or EventBridge targets is not stored. Only an empty configuration is accepted."

/* ---- checks a document needs beyond its own text -------------------------------------- */

static cof_err check_accelerate(struct srv_req *req)
{
    if (strchr(req->route.bucket, '.') != NULL)
        return srv_fail(req, COF_ERR_INVALID_REQUEST, ACCEL_DOTS_MSG);
    return COF_OK;
}

static cof_err check_logging(struct srv_req *req, const struct srv_subres_doc *d)
{
    for (size_t i = 0; i < d->n_buckets; i++) {
        cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, d->buckets[i], NULL);
        if (err == COF_ERR_NO_BUCKET)
            return srv_fail_elem(req, COF_ERR_BAD_LOG_TARGET, NULL, "TargetBucket", d->buckets[i]);
        if (err != COF_OK)
            return err;
    }
    return COF_OK;
}

static cof_err check_replication(struct srv_req *req, const struct srv_subres_doc *d)
{
    enum ops_versioning st = OPS_UNVERSIONED;
    cof_err err = ops_versioning_get(req, req->route.bucket, &st);
    if (err == COF_OK && st != OPS_VERSIONING_ENABLED)
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, REPL_VERSIONING_MSG, "BucketName",
                             req->route.bucket);
    /* AWS answers a destination that does not exist as one that is not versioned. */
    for (size_t i = 0; err == COF_OK && i < d->n_buckets; i++) {
        err = sto_meta_get_bucket(req->ctx->obj.meta, d->buckets[i], NULL);
        if (err == COF_ERR_NO_BUCKET)
            return srv_fail(req, COF_ERR_INVALID_REQUEST, REPL_DEST_VERSIONING_MSG);
        if (err == COF_OK)
            err = ops_versioning_get(req, d->buckets[i], &st);
        if (err == COF_OK && st != OPS_VERSIONING_ENABLED)
            return srv_fail(req, COF_ERR_INVALID_REQUEST, REPL_DEST_VERSIONING_MSG);
    }
    return err;
}

static cof_err check_against_buckets(struct srv_req *req, enum srv_subres kind,
                                     const struct srv_subres_doc *d)
{
    switch (kind) {
    case SRV_SUBRES_ACCELERATE:
        return check_accelerate(req);
    case SRV_SUBRES_LOGGING:
        return check_logging(req, d);
    case SRV_SUBRES_REPLICATION:
        return check_replication(req, d);
    case SRV_SUBRES_NOTIFICATION:
        return d->targets ? srv_fail(req, COF_ERR_NOT_IMPLEMENTED, NOTIFY_TARGETS_MSG) : COF_OK;
    case SRV_SUBRES_REQUEST_PAYMENT:
    case SRV_SUBRES_WEBSITE:
        return COF_OK;
    }
    return COF_OK;
}

/* ---- Put, Get, Delete ----------------------------------------------------------------- */

/* Put<Kind>: the body parsed and checked, stored in its canonical form; 200 with no body. */
static cof_err put_config(struct srv_req *req, enum srv_subres kind)
{
    struct srv_subres_doc d;
    struct srv_problem prob;
    memset(&d, 0, sizeof(d));
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK) {
        err = srv_subres_parse(kind, req->body.data, req->body.len, &d, &prob);
        if (err != COF_OK)
            err = srv_fail_problem(req, &prob);
    }
    if (err == COF_OK)
        err = check_against_buckets(req, kind, &d);
    if (err == COF_OK)
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                         srv_subres_config_name(kind), d.xml);
    if (err == COF_ERR_NO_BUCKET)
        err = ops_no_bucket(req);
    if (err == COF_OK)
        err = srv_reply(req, 200, NULL, "", 0);
    srv_subres_doc_cleanup(&d);
    return err;
}

/* The document of a bucket that never had one: AWS's default for kinds that have one. */
static cof_err reply_default(struct srv_req *req, enum srv_subres kind)
{
    struct srv_xml *x = NULL;
    if (kind == SRV_SUBRES_WEBSITE)
        return srv_fail_elem(req, COF_ERR_NO_WEBSITE, NULL, "BucketName", req->route.bucket);
    if (kind == SRV_SUBRES_REPLICATION)
        return srv_fail_elem(req, COF_ERR_NO_REPLICATION, NULL, "BucketName", req->route.bucket);
    cof_err err = srv_xml_new(srv_subres_root(kind), &x);
    if (err == COF_OK && kind == SRV_SUBRES_REQUEST_PAYMENT)
        err = srv_xml_elem(x, "Payer", "BucketOwner");
    if (err != COF_OK) {
        srv_xml_free(x);
        return err;
    }
    return ops_reply_doc(req, x);
}

static cof_err get_config(struct srv_req *req, enum srv_subres kind)
{
    char *doc = NULL;
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                             srv_subres_config_name(kind), &doc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_ERR_NOT_FOUND)
        return reply_default(req, kind);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, strlen(doc));
}

cof_err ops_get_bucket_accelerate(struct srv_req *req)
{
    return get_config(req, SRV_SUBRES_ACCELERATE);
}

cof_err ops_put_bucket_accelerate(struct srv_req *req)
{
    return put_config(req, SRV_SUBRES_ACCELERATE);
}

cof_err ops_get_bucket_request_payment(struct srv_req *req)
{
    return get_config(req, SRV_SUBRES_REQUEST_PAYMENT);
}

cof_err ops_put_bucket_request_payment(struct srv_req *req)
{
    return put_config(req, SRV_SUBRES_REQUEST_PAYMENT);
}

cof_err ops_get_bucket_logging(struct srv_req *req)
{
    return get_config(req, SRV_SUBRES_LOGGING);
}

cof_err ops_put_bucket_logging(struct srv_req *req)
{
    return put_config(req, SRV_SUBRES_LOGGING);
}

cof_err ops_get_bucket_website(struct srv_req *req)
{
    return get_config(req, SRV_SUBRES_WEBSITE);
}

cof_err ops_put_bucket_website(struct srv_req *req)
{
    return put_config(req, SRV_SUBRES_WEBSITE);
}

cof_err ops_delete_bucket_website(struct srv_req *req)
{
    return ops_delete_bucket_config(req, srv_subres_config_name(SRV_SUBRES_WEBSITE));
}

cof_err ops_get_bucket_replication(struct srv_req *req)
{
    return get_config(req, SRV_SUBRES_REPLICATION);
}

cof_err ops_put_bucket_replication(struct srv_req *req)
{
    return put_config(req, SRV_SUBRES_REPLICATION);
}

cof_err ops_delete_bucket_replication(struct srv_req *req)
{
    return ops_delete_bucket_config(req, srv_subres_config_name(SRV_SUBRES_REPLICATION));
}

cof_err ops_get_bucket_notification(struct srv_req *req)
{
    return get_config(req, SRV_SUBRES_NOTIFICATION);
}

cof_err ops_put_bucket_notification(struct srv_req *req)
{
    return put_config(req, SRV_SUBRES_NOTIFICATION);
}

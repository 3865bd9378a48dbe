/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
 * Put/Get/DeleteBucketEncryption, DeleteObjects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "s3/httpfmt.h"
#include "object/gc.h"
#include "ops/access.h"
#include "ops/handlers.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/objlock.h"
#include "ops/delete.h"
#include "ops/listparams.h"
#include "ops/versions.h"
#include "ops/authz.h"
#include "ops/req.h"
#include "s3/s3err.h"
#include "s3/xml.h"
#include "storage/blob.h"
#include "storage/meta.h"

#define CONFIG_ENCRYPTION "encryption"

struct bucket_listing {
    struct srv_xml *x;
    char account[13]; /* the caller's: ListBuckets lists only the buckets it owns */
};

static cof_err add_bucket(const struct sto_bucket *b, void *arg)
{
    struct bucket_listing *l = arg;
    struct srv_xml *x = l->x;
    char iso[32];
    if (b->owner == NULL || strcmp(b->owner, l->account) != 0)
        return COF_OK;
    srv_iso8601_format(b->created_ms, iso);
    srv_xml_open(x, "Bucket");
    srv_xml_elem(x, "Name", b->name);
    srv_xml_elem(x, "CreationDate", iso);
    srv_xml_elem(x, "BucketRegion", b->region);
    return srv_xml_close(x);
}

cof_err ops_list_buckets(struct srv_req *req)
{
    struct srv_xml *x = NULL;
    struct bucket_listing l;
    char id[65];
    const char *name = NULL;
    cof_err err = srv_xml_new("ListAllMyBucketsResult", &x);
    if (err != COF_OK)
        return err;
    l.x = x;
    ops_request_account(req, l.account);
    ops_canonical_user(l.account, id, &name);
    srv_xml_open(x, "Owner");
    srv_xml_elem(x, "ID", id);
    srv_xml_elem(x, "DisplayName", name);
    srv_xml_close(x);
    srv_xml_open(x, "Buckets");
    err = sto_meta_list_buckets(req->ctx->obj.meta, add_bucket, &l);
    if (err != COF_OK) {
        srv_xml_free(x);
        return err;
    }
    srv_xml_close(x);
    return ops_reply_doc(req, x);
}

/* A name that is taken: BucketAlreadyExists when another account owns it; for the caller's own
 * bucket AWS's legacy rule: re-creating it in us-east-1, with no other constraint, is 200 OK
 * (and changes nothing); other regions answer 409 BucketAlreadyOwnedByYou. */
static cof_err bucket_taken(struct srv_req *req, const char *region, const char *account)
{
    struct sto_bucket b;
    memset(&b, 0, sizeof(b));
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, &b);
    if (err == COF_ERR_NO_BUCKET) /* deleted meanwhile: taken a moment ago all the same */
        err = COF_ERR_BUCKET_EXISTS;
    else if (err == COF_OK && (b.owner == NULL || strcmp(b.owner, account) != 0))
        err = COF_ERR_BUCKET_TAKEN;
    else if (err == COF_OK && strcmp(region, "us-east-1") == 0 && b.region != NULL &&
             strcmp(b.region, "us-east-1") == 0)
        err = COF_OK;
    else if (err == COF_OK)
        err = COF_ERR_BUCKET_EXISTS;
    sto_bucket_cleanup(&b);
    return err;
}

cof_err ops_create_bucket(struct srv_req *req)
{
    char *location = NULL;
    struct ops_bucket_access access = {false, SRV_OWN_ENFORCED, NULL};
    cof_err err = srv_bucket_name_check(req->route.bucket);
    if (err != COF_OK)
        return srv_fail_elem(req, err, NULL, "BucketName", req->route.bucket);
    err = srv_xml_parse_create_bucket(req->body.data, req->body.len, &location);
    if (err != COF_OK)
        return err;
    /* AWS: us-east-1 takes no constraint; elsewhere the constraint must name the endpoint's
     * region. */
    const char *region = location != NULL ? location : "us-east-1";
    if (location != NULL &&
        (strcmp(location, "us-east-1") == 0 || location[0] == '\0' ||
         strspn(location, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(location) ||
         strlen(location) > 32)) {
        err = srv_fail_elem(req, COF_ERR_BAD_LOCATION, NULL, "LocationConstraint", location);
        goto out;
    }
    if (strcmp(req->region, "us-east-1") != 0 && strcmp(req->region, region) != 0) {
        err = COF_ERR_LOCATION_MISMATCH;
        goto out;
    }
    char account[13];
    ops_request_account(req, account);
    /* x-amz-object-ownership and the ACL headers: refused before the bucket exists. */
    err = ops_bucket_access_plan(req, &access);
    if (err != COF_OK)
        goto out;
    err = sto_meta_create_bucket_for(req->ctx->obj.meta, req->route.bucket, region, account,
                                     cof_now_ms());
    if (err == COF_OK)
        err = ops_bucket_access_store(req, &access);
    /* x-amz-bucket-object-lock-enabled applies to a bucket this request created only. */
    if (err == COF_OK)
        err = ops_lock_enable_on_create(req);
    else if (err == COF_ERR_BUCKET_EXISTS)
        err = bucket_taken(req, region, account);
    if (err == COF_ERR_BUCKET_EXISTS || err == COF_ERR_BUCKET_TAKEN) {
        err = srv_fail_elem(req, err, NULL, "BucketName", req->route.bucket);
        goto out;
    }
    if (err == COF_OK) {
        char loc[80];
        snprintf(loc, sizeof(loc), "/%s", req->route.bucket);
        srv_resp_add(req, "Location", loc);
        err = srv_reply(req, 200, NULL, "", 0);
    }
out:
    ops_bucket_access_cleanup(&access);
    free(location);
    return err;
}

cof_err ops_head_bucket(struct srv_req *req)
{
    struct sto_bucket b;
    memset(&b, 0, sizeof(b));
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, &b);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    srv_resp_add(req, "x-amz-bucket-region", b.region);
    sto_bucket_cleanup(&b);
    return srv_reply(req, 200, NULL, "", 0);
}

cof_err ops_delete_bucket(struct srv_req *req)
{
    cof_err err = sto_meta_delete_bucket(req->ctx->obj.meta, req->route.bucket);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_ERR_BUCKET_NOT_EMPTY)
        return srv_fail_elem(req, err, NULL, "BucketName", req->route.bucket);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 204, NULL, "", 0);
}

cof_err ops_get_bucket_location(struct srv_req *req)
{
    struct sto_bucket b;
    memset(&b, 0, sizeof(b));
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, &b);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    /* Region names are [a-z0-9-] (checked at creation), so no escaping is needed. */
    struct cof_buf doc;
    char *out = NULL;
    cof_buf_init(&doc, 1024);
    err =
        cof_buf_printf(&doc,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                       "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">%s</LocationConstraint>",
                       strcmp(b.region, "us-east-1") == 0 ? "" : b.region);
    size_t len = doc.len;
    if (err == COF_OK)
        err = cof_buf_steal(&doc, &out);
    cof_buf_cleanup(&doc);
    sto_bucket_cleanup(&b);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, out, len);
}

cof_err ops_put_bucket_encryption(struct srv_req *req)
{
    struct srv_sse_config c;
    char *doc = NULL;
    size_t len = 0;
    memset(&c, 0, sizeof(c));
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK)
        err = srv_xml_parse_sse_config(req->body.data, req->body.len, &c);
    if (err == COF_ERR_INVALID_ARGUMENT) {
        srv_sse_config_cleanup(&c);
        return srv_fail_elem(req, err,
                             "a KMSMasterKeyID is not applicable if the default sse algorithm "
                             "is not aws:kms or aws:kms:dsse",
                             "ArgumentName", "ApplyServerSideEncryptionByDefault");
    }
    if (err == COF_OK)
        err = srv_xml_write_sse_config(&c, &doc, &len);
    if (err == COF_OK)
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, CONFIG_ENCRYPTION,
                                         doc);
    srv_sse_config_cleanup(&c);
    free(doc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 200, NULL, "", 0);
}

cof_err ops_get_bucket_encryption(struct srv_req *req)
{
    char *doc = NULL;
    size_t len = 0;
    cof_err err =
        sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, CONFIG_ENCRYPTION, &doc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_ERR_NOT_FOUND) {
        /* Every bucket encrypts with SSE-S3 by default (AWS since January 2023). */
        /* aws profile: SSE-C blocked on new buckets (AWS since April 2026). */
        bool aws = req->ctx->cfg->profile == SRV_PROFILE_AWS;
        struct srv_sse_config def = {.algorithm = (char *)(uintptr_t) "AES256",
                                     .bucket_key_enabled = false,
                                     .bucket_key_set = true,
                                     .blocked_set = aws,
                                     .block_ssec = aws};
        err = srv_xml_write_sse_config(&def, &doc, &len);
    } else if (err == COF_OK) {
        len = strlen(doc);
    }
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, len);
}

cof_err ops_delete_bucket_encryption(struct srv_req *req)
{
    return ops_delete_bucket_config(req, CONFIG_ENCRYPTION);
}

cof_err ops_delete_objects(struct srv_req *req)
{
    struct srv_delete_req d;
    struct srv_xml *x = NULL;
    memset(&d, 0, sizeof(d));
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK)
        err = srv_xml_parse_delete(req->body.data, req->body.len, &d);
    if (err == COF_OK)
        err = srv_xml_new("DeleteResult", &x);
    for (size_t i = 0; err == COF_OK && i < d.n; i++) {
        const struct srv_delete_obj *o = &d.objs[i];
        struct ops_deleted del;
        const char *msg = NULL;
        cof_err e = COF_OK;
        if (strlen(o->key) > 1024) {
            e = COF_ERR_KEY_TOO_LONG;
        } else if (o->version_id != NULL && !ops_version_id_valid(o->version_id)) {
            e = COF_ERR_INVALID_ARGUMENT;
            msg = "Invalid version id specified";
        } else if (!ops_policy_allows(req, "s3:DeleteObject", o->key)) { /* AWS: per key */
            e = COF_ERR_ACCESS_DENIED;
        } else {
            e = ops_delete_version(req, req->route.bucket, o->key, o->version_id, &del);
        }
        if (e == COF_OK) {
            if (d.quiet)
                continue;
            srv_xml_open(x, "Deleted");
            srv_xml_elem(x, "Key", o->key);
            if (o->version_id != NULL)
                srv_xml_elem(x, "VersionId", o->version_id);
            if (del.marker) {
                srv_xml_elem(x, "DeleteMarker", "true");
                srv_xml_elem(x, "DeleteMarkerVersionId", del.version_id);
            }
            srv_xml_close(x);
        } else {
            const struct srv_s3err *se = srv_s3err_lookup(e);
            srv_xml_open(x, "Error");
            srv_xml_elem(x, "Key", o->key);
            if (o->version_id != NULL)
                srv_xml_elem(x, "VersionId", o->version_id);
            srv_xml_elem(x, "Code", se->code);
            srv_xml_elem(x, "Message", msg != NULL ? msg : se->message);
            srv_xml_close(x);
        }
    }
    srv_delete_req_cleanup(&d);
    obj_gc_if_needed(&req->ctx->obj);
    if (err != COF_OK) {
        srv_xml_free(x);
        return err;
    }
    return ops_reply_doc(req, x);
}

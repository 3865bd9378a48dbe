/* SPDX-License-Identifier: Apache-2.0 */
/* ACL operations: Get/PutBucketAcl (bucket config "acl") and Get/PutObjectAcl (the object
 * version's "coffer-acl" header line). While the bucket's ownership is BucketOwnerEnforced only
 * the owner's FULL_CONTROL may be set, as AWS has it since April 2023. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ops/access.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/handlers.h"
#include "ops/req.h"
#include "ops/tags.h"
#include "storage/meta.h"

#define SET_RETRIES 8 /* rounds of read-modify-write lost to concurrent writers */

/* The bucket owner's account, canonical id and DisplayName (which may point into account).
 * Fails with NoSuchBucket. */
static cof_err bucket_owner_id(struct srv_req *req, char account[13], char id[65],
                               const char **name)
{
    cof_err err = ops_bucket_owner(req, req->route.bucket, account);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        ops_canonical_user(account, id, name);
    return err;
}

static cof_err reply_acl(struct srv_req *req, const struct srv_acl *acl, const char *owner_name)
{
    char *doc = NULL;
    size_t len = 0;
    cof_err err = srv_acl_write_xml(acl, owner_name, &doc, &len);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, len);
}

/* The ACL a Put*Acl request sets: its headers, or its AccessControlPolicy body (not both:
 * UnexpectedContent; neither: MissingSecurityHeader). */
static cof_err requested_acl(struct srv_req *req, enum srv_acl_scope scope, const char *owner_id,
                             const char *bucket_owner_id, struct srv_acl *out)
{
    struct srv_problem prob;
    bool present = false;
    bool body = req->body.len > 0;
    cof_err err = ops_acl_from_headers(req, scope, owner_id, bucket_owner_id, out, &present);
    if (err != COF_OK)
        return err;
    if (present && body)
        return srv_fail(req, COF_ERR_UNEXPECTED_CONTENT, NULL);
    if (present)
        return COF_OK;
    if (!body)
        return srv_fail_elem(req, COF_ERR_MISSING_SECURITY_HDR, NULL, "MissingHeaderName",
                             "x-amz-acl");
    err = ops_check_body_md5(req);
    if (err != COF_OK)
        return err;
    err = srv_acl_parse_xml(req->body.data, req->body.len, out, &prob);
    if (err == COF_ERR_MALFORMED_ACL || err == COF_ERR_TOO_LARGE)
        return srv_fail(req, COF_ERR_MALFORMED_ACL, NULL);
    if (err != COF_OK)
        return srv_fail_problem(req, &prob);
    /* The document names the owner; S3 does not let it change hands. */
    if (strcmp(out->owner, owner_id) != 0) {
        cof_log_info(req->rid, "ACL names owner %s, not the owner", out->owner);
        return srv_fail(req, COF_ERR_ACCESS_DENIED, NULL);
    }
    return COF_OK;
}

/* ---- bucket ----------------------------------------------------------------------------- */

cof_err ops_get_bucket_acl(struct srv_req *req)
{
    char id[65], account[13];
    const char *name = NULL;
    cof_err err = bucket_owner_id(req, account, id, &name);
    if (err != COF_OK)
        return err;
    struct srv_acl *acl = calloc(1, sizeof(*acl));
    if (acl == NULL)
        return COF_ERR_NOMEM;
    err = ops_bucket_acl(req, req->route.bucket, acl);
    if (err == COF_ERR_NO_BUCKET)
        err = ops_no_bucket(req);
    if (err == COF_OK)
        err = reply_acl(req, acl, name);
    free(acl);
    return err;
}

cof_err ops_put_bucket_acl(struct srv_req *req)
{
    char id[65], account[13];
    const char *name = NULL;
    char *line = NULL;
    cof_err err = bucket_owner_id(req, account, id, &name);
    if (err != COF_OK)
        return err;
    struct srv_acl *acl = calloc(1, sizeof(*acl));
    if (acl == NULL)
        return COF_ERR_NOMEM;
    err = requested_acl(req, SRV_ACL_BUCKET, id, id, acl);
    if (err == COF_OK)
        err = ops_acl_settable(req, req->route.bucket, acl);
    /* The owner's FULL_CONTROL alone is the default: stored as no document. */
    if (err == COF_OK && !srv_acl_is_owner_only(acl))
        err = srv_acl_encode(acl, &line);
    if (err == COF_OK)
        err =
            sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, OPS_ACL_CONFIG, line);
    if (err == COF_ERR_NOT_FOUND)
        err = COF_OK; /* removing a document there was none of */
    if (err == COF_ERR_NO_BUCKET)
        err = ops_no_bucket(req);
    if (err == COF_OK)
        err = srv_reply(req, 200, NULL, "", 0);
    free(line);
    free(acl);
    return err;
}

/* ---- object ----------------------------------------------------------------------------- */

/* The object's ACL as S3 shows it: while ACLs are disabled the bucket owner owns every object
 * with FULL_CONTROL, whatever ACL it was written with before. */
static cof_err current_object_acl(struct srv_req *req, const char *bucket_owner,
                                  const char *headers, struct srv_acl *out)
{
    enum srv_ownership own;
    cof_err err = ops_bucket_ownership(req, req->route.bucket, &own, NULL);
    if (err == COF_OK)
        err = ops_object_acl(req, bucket_owner, own == SRV_OWN_ENFORCED ? NULL : headers, out);
    return err;
}

static void add_version_header(struct srv_req *req, const struct sto_object *o)
{
    if (o->version_id != NULL && strcmp(o->version_id, "null") != 0)
        srv_resp_add(req, "x-amz-version-id", o->version_id);
}

cof_err ops_get_object_acl(struct srv_req *req)
{
    struct sto_object o;
    char id[65], account[13];
    const char *name = NULL;
    memset(&o, 0, sizeof(o));
    cof_err err = bucket_owner_id(req, account, id, &name);
    if (err != COF_OK)
        return err;
    struct srv_acl *acl = calloc(1, sizeof(*acl));
    if (acl == NULL)
        return COF_ERR_NOMEM;
    err = ops_object_version(req, req->route.bucket, req->route.key,
                             srv_query_get(&req->query, "versionId"), &o);
    if (err == COF_OK)
        err = current_object_acl(req, id, o.headers, acl);
    if (err == COF_OK) {
        add_version_header(req, &o);
        /* Another account's object: coffer knows its canonical id, not its DisplayName. */
        err = reply_acl(req, acl, strcmp(acl->owner, id) == 0 ? name : NULL);
    }
    free(acl);
    sto_object_cleanup(&o);
    return err;
}

/* Sets the ACL line of the addressed object row (line NULL removes it), redone when a
 * concurrent change wins (as object tags are). o gets the row as updated. */
static cof_err set_object_acl(struct srv_req *req, const char *line, struct sto_object *o)
{
    const char *vid = srv_query_get(&req->query, "versionId");
    for (int round = 0; round < SET_RETRIES; round++) {
        char *block = NULL;
        bool changed = false;
        sto_object_cleanup(o);
        cof_err err = ops_object_version(req, req->route.bucket, req->route.key, vid, o);
        if (err == COF_OK) {
            block = strdup(o->headers != NULL ? o->headers : "");
            err = block != NULL ? ops_set_acl_line(&block, line) : COF_ERR_NOMEM;
        }
        if (err == COF_OK)
            err = sto_meta_object_set_headers(req->ctx->obj.meta, o->bucket, o->key, o->version_id,
                                              o, block, &changed);
        free(block);
        if (err != COF_OK || changed)
            return err;
    }
    cof_log_warn(req->rid, "ACL of s3://%s/%s not set: %d concurrent changes", req->route.bucket,
                 req->route.key, SET_RETRIES);
    return COF_ERR_SERVICE_UNAVAILABLE;
}

cof_err ops_put_object_acl(struct srv_req *req)
{
    struct sto_object o;
    char id[65], owner[65] = "", account[13];
    const char *name = NULL;
    char *line = NULL;
    memset(&o, 0, sizeof(o));
    cof_err err = bucket_owner_id(req, account, id, &name);
    if (err != COF_OK)
        return err;
    struct srv_acl *acl = calloc(1, sizeof(*acl));
    if (acl == NULL)
        return COF_ERR_NOMEM;
    /* Bucket and key first: AWS answers NoSuchKey before looking at the ACL. The object keeps
     * its owner (the bucket owner, or the writer of another account under ObjectWriter). */
    err = ops_object_version(req, req->route.bucket, req->route.key,
                             srv_query_get(&req->query, "versionId"), &o);
    if (err == COF_OK)
        err = current_object_acl(req, id, o.headers, acl);
    snprintf(owner, sizeof(owner), "%s", acl->owner);
    sto_object_cleanup(&o);
    if (err == COF_OK)
        err = requested_acl(req, SRV_ACL_OBJECT, owner, id, acl);
    if (err == COF_OK)
        err = ops_acl_settable(req, req->route.bucket, acl);
    if (err == COF_OK && !(srv_acl_is_owner_only(acl) && strcmp(acl->owner, id) == 0))
        err = srv_acl_encode(acl, &line);
    if (err == COF_OK)
        err = set_object_acl(req, line, &o);
    if (err == COF_OK) {
        add_version_header(req, &o);
        err = srv_reply(req, 200, NULL, "", 0);
    }
    free(line);
    free(acl);
    sto_object_cleanup(&o);
    return err;
}

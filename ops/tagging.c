/* SPDX-License-Identifier: Apache-2.0 */
/* Tagging operations: Put/Get/DeleteObjectTagging (the tags live in the object's stored header
 * block as its "coffer-tagging" line), Put/Get/DeleteBucketTagging (bucket config "tagging").
 * The x-amz-tagging helpers of the write paths are ops/tags.c's. Tags are metadata: no SSE key is
 * needed to read or change them (AWS takes none on these calls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ops/handlers.h"
#include "ops/bodycheck.h"
#include "ops/bucketcfg.h"
#include "ops/tags.h"
#include "ops/req.h"
#include "s3/tagging.h"
#include "storage/meta.h"

#define CONFIG_TAGGING "tagging"
#define SET_RETRIES    8 /* rounds of read-modify-write lost to concurrent writers */

/* x-amz-version-id of a tagging answer, for rows of a versioned bucket. */
static void add_version_header(struct srv_req *req, const struct sto_object *o)
{
    if (o->version_id != NULL && strcmp(o->version_id, "null") != 0)
        srv_resp_add(req, "x-amz-version-id", o->version_id);
}

/* Sets (canon non-empty) or removes the tagging line of the addressed object row: read the
 * row, rewrite its header block, store it only if the row is still the one read (a concurrent
 * overwrite or tag change wins and the round is redone on the new row). fails with AWS's message
 * itself (srv_fail) for a missing bucket, key or version. o gets the row as updated. */
static cof_err set_object_tags(struct srv_req *req, const char *canon, struct sto_object *o)
{
    const char *vid = srv_query_get(&req->query, "versionId");
    cof_err err = COF_OK;
    for (int round = 0; round < SET_RETRIES; round++) {
        char *block = NULL;
        bool changed = false;
        sto_object_cleanup(o);
        err = ops_object_version(req, req->route.bucket, req->route.key, vid, o);
        if (err == COF_OK)
            err = srv_tagging_set_in_block(o->headers, canon, &block);
        if (err == COF_OK)
            err = sto_meta_object_set_headers(req->ctx->obj.meta, o->bucket, o->key, o->version_id,
                                              o, block, &changed);
        free(block);
        if (err != COF_OK || changed)
            return err;
    }
    cof_log_warn(req->rid, "tags of s3://%s/%s not set: %d concurrent changes", req->route.bucket,
                 req->route.key, SET_RETRIES);
    return COF_ERR_SERVICE_UNAVAILABLE;
}

cof_err ops_put_object_tagging(struct srv_req *req)
{
    struct sto_object o;
    struct srv_tagset t = {NULL, 0};
    struct srv_problem prob;
    char *canon = NULL;
    memset(&o, 0, sizeof(o));
    /* Bucket and key first (AWS answers NoSuchKey before looking at the document). */
    cof_err err = ops_object_version(req, req->route.bucket, req->route.key,
                                     srv_query_get(&req->query, "versionId"), &o);
    sto_object_cleanup(&o);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK) {
        err = srv_tagging_parse_xml(req->body.data, req->body.len, SRV_TAGS_OBJECT, &t, &prob);
        if (err != COF_OK)
            err = srv_fail_problem(req, &prob);
    }
    if (err == COF_OK)
        err = srv_tagset_encode(&t, &canon);
    if (err == COF_OK)
        err = set_object_tags(req, canon, &o);
    if (err == COF_OK) {
        add_version_header(req, &o);
        err = srv_reply(req, 200, NULL, "", 0);
    }
    free(canon);
    srv_tagset_cleanup(&t);
    sto_object_cleanup(&o);
    return err;
}

cof_err ops_get_object_tagging(struct srv_req *req)
{
    struct sto_object o;
    struct srv_tagset t = {NULL, 0};
    char *canon = NULL, *doc = NULL;
    size_t len = 0;
    memset(&o, 0, sizeof(o));
    cof_err err = ops_object_version(req, req->route.bucket, req->route.key,
                                     srv_query_get(&req->query, "versionId"), &o);
    if (err == COF_OK)
        err = srv_tagging_from_block(o.headers, &canon);
    if (err == COF_OK && srv_tagset_decode(canon, &t) != COF_OK) {
        cof_log_error(req->rid, "stored tags of s3://%s/%s are not canonical", o.bucket, o.key);
        err = COF_ERR_INTERNAL;
    }
    if (err == COF_OK)
        err = srv_tagset_write_xml(&t, &doc, &len);
    if (err == COF_OK) {
        add_version_header(req, &o);
        err = srv_reply_xml(req, 200, doc, len);
        doc = NULL;
    }
    free(doc);
    free(canon);
    srv_tagset_cleanup(&t);
    sto_object_cleanup(&o);
    return err;
}

cof_err ops_delete_object_tagging(struct srv_req *req)
{
    struct sto_object o;
    memset(&o, 0, sizeof(o));
    cof_err err = set_object_tags(req, NULL, &o);
    if (err == COF_OK) {
        add_version_header(req, &o);
        err = srv_reply(req, 204, NULL, "", 0);
    }
    sto_object_cleanup(&o);
    return err;
}

cof_err ops_put_bucket_tagging(struct srv_req *req)
{
    struct srv_tagset t = {NULL, 0};
    struct srv_problem prob;
    char *canon = NULL;
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        err = ops_check_body_md5(req);
    if (err == COF_OK) {
        err = srv_tagging_parse_xml(req->body.data, req->body.len, SRV_TAGS_BUCKET, &t, &prob);
        if (err != COF_OK)
            err = srv_fail_problem(req, &prob);
    }
    if (err == COF_OK)
        err = srv_tagset_encode(&t, &canon);
    /* An empty tag set leaves the bucket without one (GetBucketTagging: NoSuchTagSet). */
    if (err == COF_OK)
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, CONFIG_TAGGING,
                                         canon[0] != '\0' ? canon : NULL);
    if (err == COF_ERR_NOT_FOUND) /* deleting a set that was never there */
        err = COF_OK;
    free(canon);
    srv_tagset_cleanup(&t);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    return srv_reply(req, 204, NULL, "", 0);
}

cof_err ops_get_bucket_tagging(struct srv_req *req)
{
    struct srv_tagset t = {NULL, 0};
    char *canon = NULL, *doc = NULL;
    size_t len = 0;
    cof_err err =
        sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, CONFIG_TAGGING, &canon);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_ERR_NOT_FOUND)
        return srv_fail_elem(req, COF_ERR_NO_TAG_SET, NULL, "BucketName", req->route.bucket);
    if (err == COF_OK && srv_tagset_decode(canon, &t) != COF_OK) {
        cof_log_error(req->rid, "stored tags of bucket %s are not canonical", req->route.bucket);
        err = COF_ERR_INTERNAL;
    }
    if (err == COF_OK)
        err = srv_tagset_write_xml(&t, &doc, &len);
    if (err == COF_OK) {
        err = srv_reply_xml(req, 200, doc, len);
        doc = NULL;
    }
    free(doc);
    free(canon);
    srv_tagset_cleanup(&t);
    return err;
}

cof_err ops_delete_bucket_tagging(struct srv_req *req)
{
    return ops_delete_bucket_config(req, CONFIG_TAGGING);
}

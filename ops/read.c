/* SPDX-License-Identifier: Apache-2.0 */
/* The read side of objects, shared by GetObject/HeadObject, CopyObject and UploadPartCopy: open
 * the current version or a named one (retrying over concurrent overwrites), the keys a read
 * needs, the SSE response headers, and the conditional headers. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/read.h"

#include "common/log.h"
#include "object/kms.h"
#include "object/objio.h"
#include "object/stored.h"
#include "s3/httpfmt.h"
#include "s3/sse.h"
#include "storage/meta.h"

/* Encryption response headers. SSE-C echoes algorithm and key MD5 and carries no
 * x-amz-server-side-encryption (AWS); SSE-KMS names the key's ARN. */
void ops_add_sse_headers(struct srv_req *req, const struct sto_object *o,
                         const struct srv_ssec *ssec)
{
    char v[16];
    if (o->sse_mode == CRY_MODE_SSE_C) {
        srv_resp_add(req, "x-amz-server-side-encryption-customer-algorithm", "AES256");
        if (ssec != NULL && ssec->md5_sent)
            srv_resp_add(req, "x-amz-server-side-encryption-customer-key-MD5", ssec->key_md5_b64);
    } else if (o->sse_mode == CRY_MODE_SSE_KMS) {
        char arn[160];
        srv_kms_arn(&req->ctx->obj, o->kek_id != NULL ? o->kek_id : "", arn, sizeof(arn));
        srv_resp_add(req, "x-amz-server-side-encryption",
                     obj_stored_value(o->headers, OBJ_STORED_DSSE, v, sizeof(v)) ? "aws:kms:dsse"
                                                                                 : "aws:kms");
        srv_resp_add(req, "x-amz-server-side-encryption-aws-kms-key-id", arn);
        if (obj_stored_value(o->headers, OBJ_STORED_BUCKET_KEY, v, sizeof(v)))
            srv_resp_add(req, "x-amz-server-side-encryption-bucket-key-enabled", "true");
    } else {
        srv_resp_add(req, "x-amz-server-side-encryption", "AES256");
    }
}

/* Fails with a KMS error carrying the message srv_kms_* produced. */
cof_err ops_kms_fail(struct srv_req *req, cof_err err, const char *msg)
{
    if (err == COF_ERR_KMS_NOT_FOUND || err == COF_ERR_KMS_DISABLED ||
        err == COF_ERR_KMS_INVALID_STATE)
        err = srv_fail_elem(req, err, msg[0] != '\0' ? msg : NULL, NULL, NULL);
    return err;
}

/* RFC 7232 section 6 order, as S3 applies it. for_copy: every failure is 412. */
cof_err ops_eval_conditions(const char *if_match, const char *if_none_match, const char *if_mod,
                            const char *if_unmod, const struct sto_object *o, bool for_copy)
{
    int64_t mtime = o->mtime_ms / 1000;
    int64_t t = 0;
    bool match = false;
    if (if_match != NULL) {
        if (srv_etag_list_match(if_match, o->etag, &match) == COF_OK && !match)
            return COF_ERR_PRECONDITION;
    } else if (if_unmod != NULL && srv_http_date_parse(if_unmod, &t) == COF_OK && mtime > t) {
        return COF_ERR_PRECONDITION;
    }
    if (if_none_match != NULL) {
        if (srv_etag_list_match(if_none_match, o->etag, &match) == COF_OK && match)
            return for_copy ? COF_ERR_PRECONDITION : COF_ERR_NOT_MODIFIED;
    } else if (if_mod != NULL && srv_http_date_parse(if_mod, &t) == COF_OK && mtime <= t) {
        return for_copy ? COF_ERR_PRECONDITION : COF_ERR_NOT_MODIFIED;
    }
    return COF_OK;
}

#define MSG_SSEC_NEEDED                                                                            \
    "The object was stored using a form of Server Side Encryption. The correct parameters must "   \
    "be provided to retrieve the object."
#define MSG_SSEC_WRONG                                                                             \
    "Requests specifying Server Side Encryption with Customer provided keys must provide the "     \
    "correct secret key."

/* Whether the key material presented fits the object's encryption (before any unwrap). */
cof_err ops_check_read_sse(struct srv_req *req, const struct sto_object *o,
                           const struct srv_ssec *ssec)
{
    if (o->sse_mode == CRY_MODE_SSE_C) {
        if (!ssec->present) {
            return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_SSEC_NEEDED, NULL, NULL);
        }
        if (!ssec->md5_sent) {
            return srv_fail_elem(req, COF_ERR_ACCESS_DENIED, MSG_SSEC_WRONG, NULL, NULL);
        }
    } else if (ssec->present) {
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                             "The encryption parameters are not applicable to this object.", NULL,
                             NULL);
    }
    return COF_OK;
}

/* Loads what o needs to be opened with ssec (SSE-C) or its KMS key (SSE-KMS); fails with AWS's
 * message itself (srv_fail). */
cof_err ops_prepare_read_keys(struct srv_req *req, const struct sto_object *o,
                              const struct srv_ssec *ssec, struct read_keys *rk)
{
    char msg[256];
    srv_kms_key_cleanup(&rk->kms);
    memset(&rk->keys, 0, sizeof(rk->keys));
    rk->keys.customer_key = ssec->key;
    if (o->sse_mode != CRY_MODE_SSE_KMS)
        return COF_OK;
    cof_err err = srv_kms_load(&req->ctx->obj, o->kek_id != NULL ? o->kek_id : "", &rk->kms, msg,
                               sizeof(msg));
    if (err != COF_OK)
        return ops_kms_fail(req, err, msg);
    if (!obj_stored_value(o->headers, OBJ_STORED_CONTEXT, rk->context, sizeof(rk->context)))
        rk->context[0] = '\0';
    rk->keys.kms_material = rk->kms.material;
    rk->keys.enc_context = rk->context[0] != '\0' ? rk->context : NULL;
    return COF_OK;
}

/* Reads the object row and, when out_r is non-NULL, opens its blob. A concurrent overwrite may
 * unlink the blob between the two steps; the row is then read again, so a reader always gets a
 * complete old or new object. Once open, the descriptor outlives the unlink. Replies
 * NoSuchBucket/NoSuchKey and the SSE errors itself. rk (cleaned by the caller with
 * srv_kms_key_cleanup(&rk->kms)) holds the keys used. */
/* Collects parts (sto_meta_object_parts / sto_meta_parts_list callback). */
cof_err collect_part(const struct sto_part *p, void *arg)
{
    struct part_list *pl = arg;
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 16;
        struct sto_part *v = realloc(pl->v, cap * sizeof(*v));
        if (v == NULL)
            return COF_ERR_NOMEM;
        pl->v = v;
        pl->cap = cap;
    }
    struct sto_part *d = &pl->v[pl->n];
    memset(d, 0, sizeof(*d));
    d->part_number = p->part_number;
    d->size = p->size;
    d->mtime_ms = p->mtime_ms;
    d->etag = strdup(p->etag != NULL ? p->etag : "");
    d->blob_id = strdup(p->blob_id != NULL ? p->blob_id : "");
    d->kek_id = p->kek_id != NULL ? strdup(p->kek_id) : NULL;
    d->wrapped_dek = malloc(p->wrapped_len > 0 ? p->wrapped_len : 1);
    d->wrapped_len = p->wrapped_len;
    d->checksum = p->checksum != NULL ? strdup(p->checksum) : NULL;
    if (p->checksum != NULL && d->checksum == NULL)
        return COF_ERR_NOMEM;
    pl->n++;
    if (d->etag == NULL || d->blob_id == NULL || d->wrapped_dek == NULL ||
        (p->kek_id != NULL && d->kek_id == NULL))
        return COF_ERR_NOMEM;
    if (p->wrapped_len > 0)
        memcpy(d->wrapped_dek, p->wrapped_dek, p->wrapped_len);
    return COF_OK;
}

void part_list_cleanup(struct part_list *pl)
{
    for (size_t i = 0; i < pl->n; i++)
        sto_part_cleanup(&pl->v[i]);
    free(pl->v);
    pl->v = NULL;
    pl->n = pl->cap = 0;
}

/* AWS's answers for a delete marker: 404 NoSuchKey when it is the current version, 405 when
 * asked for by version id; both name it in x-amz-delete-marker and x-amz-version-id. */
static cof_err reply_delete_marker(struct srv_req *req, const struct sto_object *o,
                                   const char *version_id)
{
    char date[32];
    srv_resp_add(req, "x-amz-delete-marker", "true");
    srv_resp_add(req, "x-amz-version-id", o->version_id);
    if (version_id == NULL) {
        return srv_fail_elem(req, COF_ERR_NO_OBJECT, NULL, "Key", o->key);
    }
    srv_http_date_format(o->mtime_ms / 1000, date);
    srv_resp_add(req, "Last-Modified", date);
    srv_resp_add(req, "Allow", "DELETE");
    return srv_fail_elem2(req, COF_ERR_METHOD_NOT_ALLOWED, NULL, "Method",
                          req->is_head ? "HEAD" : "GET", "ResourceType", "DeleteMarker");
}

/* Reads the object row and, when out_r is non-NULL, opens its blob. A concurrent overwrite may
 * unlink the blob between the two steps; the row is then read again, so a reader always gets a
 * complete old or new object. Once open, the descriptor outlives the unlink. Replies
 * NoSuchBucket/NoSuchKey and the SSE errors itself. rk (cleaned by the caller with
 * srv_kms_key_cleanup(&rk->kms)) holds the keys used. */
cof_err ops_open_object(struct srv_req *req, const char *bucket, const char *key,
                        const char *version_id, const struct srv_ssec *ssec, struct read_keys *rk,
                        struct sto_object *o, struct objio_reader **out_r)
{
    cof_err err = COF_ERR_INTEGRITY;
    for (int attempt = 0; attempt < 8; attempt++) {
        err = sto_meta_get_version(req->ctx->obj.meta, bucket, key, version_id, o);
        if (err == COF_ERR_NO_BUCKET) {
            return srv_fail_elem(req, err, NULL, "BucketName", bucket);
        }
        if (err == COF_ERR_NO_OBJECT && version_id != NULL) {
            return srv_fail_elem2(req, COF_ERR_NO_SUCH_VERSION, NULL, "Key", key, "VersionId",
                                  version_id);
        }
        if (err == COF_ERR_NO_OBJECT) {
            return srv_fail_elem(req, err, NULL, "Key", key);
        }
        if (err == COF_OK && o->delete_marker) {
            err = reply_delete_marker(req, o, version_id);
            sto_object_cleanup(o);
            return err;
        }
        if (err == COF_OK)
            err = ops_check_read_sse(req, o, ssec);
        if (err == COF_OK && (out_r != NULL || o->sse_mode == CRY_MODE_SSE_C))
            err = ops_prepare_read_keys(req, o, ssec, rk);
        struct part_list pl = {NULL, 0, 0};
        bool need_parts = o->part_count > 0 && (out_r != NULL || o->sse_mode == CRY_MODE_SSE_C);
        if (err == COF_OK && need_parts) {
            err = sto_meta_object_parts(req->ctx->obj.meta, bucket, key, o->version_id,
                                        collect_part, &pl);
            /* Replaced between the two reads: read the row again. */
            if (err == COF_OK && pl.n != o->part_count)
                err = COF_ERR_NOT_FOUND;
        }
        if (err == COF_OK && out_r == NULL && o->sse_mode == CRY_MODE_SSE_C) {
            if (o->part_count > 0)
                err = objio_unwrap_check(&req->ctx->obj, o, pl.v[0].blob_id, pl.v[0].kek_id,
                                         pl.v[0].wrapped_dek, pl.v[0].wrapped_len, &rk->keys,
                                         req->rid);
            else
                err = objio_check_key(&req->ctx->obj, o, &rk->keys, req->rid);
        } else if (err == COF_OK && out_r != NULL) {
            err = objio_reader_open_parts(&req->ctx->obj, o, o->part_count > 0 ? pl.v : NULL, pl.n,
                                          &rk->keys, req->rid, out_r);
        }
        part_list_cleanup(&pl);
        if (err == COF_ERR_KEY && o->sse_mode == CRY_MODE_SSE_C) {
            return srv_fail_elem(req, COF_ERR_ACCESS_DENIED, MSG_SSEC_WRONG, NULL, NULL);
        }
        if (err != COF_ERR_NOT_FOUND)
            return err;
        sto_object_cleanup(o);
    }
    cof_log_error(req->rid, "blob of s3://%s/%s is missing", bucket, key);
    return COF_ERR_INTEGRITY;
}

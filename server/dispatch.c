/* SPDX-License-Identifier: Apache-2.0 */
/* Operation dispatch: parses the request target and credentials, routes, picks how the body is
 * received, and calls the handler once it is complete. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "ops/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "s3/auth.h"
#include "s3/httpfmt.h"
#include "s3/policy.h"
#include "ops/internal.h"
#include "s3/sigv2.h"
#include "s3/sigv4.h"
#include "s3/xml.h"
#include "storage/blob.h"
#include "storage/meta.h"

int64_t ops_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

cof_err ops_no_bucket(struct srv_req *req)
{
    return srv_reply_error(req, COF_ERR_NO_BUCKET, NULL, "BucketName", req->route.bucket);
}

static cof_err drain_one(const char *blob_id, void *arg)
{
    struct srv_ctx *ctx = arg;
    cof_err err = sto_blob_remove(ctx->blobs, blob_id);
    if (err == COF_OK)
        err = sto_meta_gc_done(ctx->meta, blob_id);
    return err;
}

void ops_blob_discard(struct srv_ctx *ctx, const char *rid, const char *blob_id, bool queued)
{
    cof_err err = sto_blob_remove(ctx->blobs, blob_id);
    if (err == COF_OK && queued)
        err = sto_meta_gc_done(ctx->meta, blob_id);
    if (err != COF_OK)
        cof_log_warn(rid, "blob %s not removed yet (%s); a later drain or fsck will", blob_id,
                     cof_err_name(err));
}

cof_err ops_gc_drain(struct srv_ctx *ctx)
{
    return sto_meta_gc_each(ctx->meta, drain_one, ctx);
}

cof_err ops_reply_doc(struct srv_req *req, struct srv_xml *x)
{
    char *doc = NULL;
    size_t len = 0;
    cof_err err = srv_xml_finish(x, &doc, &len);
    srv_xml_free(x);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, len);
}

void ops_gc_if_needed(struct srv_ctx *ctx)
{
    if (sto_meta_gc_hint(ctx->meta))
        (void)ops_gc_drain(ctx);
}

static cof_err split_target(struct srv_req *req)
{
    const char *uri = req->raw_uri;
    const char *qm = strchr(uri, '?');
    size_t plen = qm != NULL ? (size_t)(qm - uri) : strlen(uri);
    /* Absolute-form targets ("http://host/path") are legal HTTP/1.1; keep only the path. */
    if (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0) {
        const char *slash = strchr(uri + (uri[4] == 's' ? 8 : 7), '/');
        if (slash == NULL || (qm != NULL && slash > qm)) {
            plen = 0;
        } else {
            plen -= (size_t)(slash - uri);
            uri = slash;
        }
    }
    req->raw_path = malloc(plen + 2);
    if (req->raw_path == NULL)
        return COF_ERR_NOMEM;
    if (plen == 0 || uri[0] != '/') {
        req->raw_path[0] = '/';
        memcpy(req->raw_path + 1, uri, plen);
        req->raw_path[plen + 1] = '\0';
    } else {
        memcpy(req->raw_path, uri, plen);
        req->raw_path[plen] = '\0';
    }
    return srv_query_parse(qm != NULL ? qm + 1 : "", &req->query);
}

/* x-amz-date / X-Amz-Date "20130524T000000Z" -> epoch seconds. */
static bool parse_amz_date(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    char *end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
    if (end == NULL || *end != '\0')
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

/* The secret of an access key from the configured "AK:SECRET,..." list, or false. */
bool ops_secret_for(const char *creds, const char *ak, char *out, size_t n)
{
    size_t akl = strlen(ak);
    const char *p = creds;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon != NULL && (size_t)(colon - p) == akl && memcmp(p, ak, akl) == 0) {
            size_t sl = len - akl - 1;
            if (sl >= n)
                return false;
            memcpy(out, colon + 1, sl);
            out[sl] = '\0';
            return true;
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return false;
}

static const char *lookup_header(void *arg, const char *name)
{
    return srv_req_header(arg, name);
}

/* "Wed, 25 Nov 2026 15:22:27 +0000" (RFC 2822 numeric zone, as s3cmd sends x-amz-date). */
static bool parse_rfc2822(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
    if (end == NULL)
        return false;
    while (*end == ' ')
        end++;
    int sign = 0, hh = 0, mm = 0;
    if ((end[0] == '+' || end[0] == '-') && sscanf(end + 1, "%2d%2d", &hh, &mm) == 2)
        sign = end[0] == '+' ? 1 : -1;
    else if (strcmp(end, "GMT") != 0 && strcmp(end, "UTC") != 0 && *end != '\0')
        return false;
    *out = (int64_t)timegm(&tm) - sign * (hh * 3600 + mm * 60);
    return true;
}

/* SigV2 (legacy clients): header "AWS AK:sig" with Date (or x-amz-date) within 15 minutes, or
 * query AWSAccessKeyId/Signature/Expires. */
static cof_err check_signature_v2(struct srv_req *req, const struct srv_auth *a, int64_t now)
{
    char secret[256], date[64] = "";
    char *resource = NULL;
    cof_err err = COF_OK;
    if (!ops_secret_for(req->ctx->cfg->credentials, a->access_key, secret, sizeof(secret)))
        return COF_ERR_INVALID_ACCESS_KEY;
    if (a->presigned) {
        if (a->expires < 0 || a->signature[0] == '\0')
            err = COF_ERR_ACCESS_DENIED;
        else if (now > a->expires)
            err = COF_ERR_EXPIRED;
        snprintf(date, sizeof(date), "%lld", a->expires);
    } else {
        const char *xd = srv_req_header(req, "x-amz-date");
        const char *d = xd != NULL ? xd : srv_req_header(req, "Date");
        int64_t t = 0;
        if (d == NULL || (srv_http_date_parse(d, &t) != COF_OK && !parse_rfc2822(d, &t)))
            err = COF_ERR_ACCESS_DENIED;
        else if (now - t > 900 || t - now > 900)
            err = COF_ERR_TIME_SKEWED;
        /* With x-amz-date, the Date line of the string to sign is empty. */
        if (xd == NULL && d != NULL)
            snprintf(date, sizeof(date), "%s", d);
    }
    /* The resource is "/bucket" + path for virtual-hosted requests, the path otherwise. */
    if (err == COF_OK) {
        size_t n = strlen(req->raw_path) + (req->route.bucket ? strlen(req->route.bucket) : 0) + 2;
        resource = malloc(n);
        if (resource == NULL)
            err = COF_ERR_NOMEM;
        else if (req->route.bucket != NULL && req->route.key == NULL)
            snprintf(resource, n, "/%s/", req->route.bucket); /* bucket: "/bucket/" */
        else if (req->route.virtual_host && req->route.bucket != NULL)
            snprintf(resource, n, "/%s%s", req->route.bucket, req->raw_path);
        else
            snprintf(resource, n, "%s", req->raw_path);
    }
    if (err == COF_OK) {
        struct srv_sigv2_in in = {req->method, resource, &req->query, req, date};
        err = srv_sigv2_verify(&in, secret, a->signature);
    }
    free(resource);
    cry_wipe(secret, sizeof(secret));
    return err;
}

/* SigV4 header or presigned-query authentication, when signatures are checked. The clock is
 * passed in. Replies itself when the error needs AWS's wording. */
static cof_err check_signature(struct srv_req *req, const struct srv_auth *a, int64_t now)
{
    char secret[256];
    if (a->kind == SRV_AUTH_NONE)
        return COF_ERR_ACCESS_DENIED;
    if (a->kind == SRV_AUTH_V2)
        return check_signature_v2(req, a, now);
    if (!ops_secret_for(req->ctx->cfg->credentials, a->access_key, secret, sizeof(secret)))
        return COF_ERR_INVALID_ACCESS_KEY;
    const char *amz_date = a->presigned ? a->amz_date : srv_req_header(req, "x-amz-date");
    int64_t t = 0;
    cof_err err = COF_OK;
    if (a->presigned && (a->amz_date[0] == '\0' || a->signed_headers[0] == '\0' ||
                         a->signature[0] == '\0' || a->expires < 0))
        err = COF_ERR_QUERY_AUTH;
    else if (a->presigned && a->expires > 604800)
        err = COF_ERR_QUERY_AUTH;
    else if (!parse_amz_date(amz_date, &t))
        err = COF_ERR_ACCESS_DENIED;
    else if (a->presigned && now > t + a->expires)
        err = COF_ERR_EXPIRED;
    else if (!a->presigned && (now - t > 900 || t - now > 900))
        err = COF_ERR_TIME_SKEWED;
    else if (strncmp(amz_date, a->date, 8) != 0)
        err = COF_ERR_SIGNATURE_MISMATCH;
    const char *payload =
        a->presigned ? "UNSIGNED-PAYLOAD" : srv_req_header(req, "x-amz-content-sha256");
    if (err == COF_OK && payload == NULL) {
        (void)srv_reply_error(req, COF_ERR_INVALID_REQUEST,
                              "Missing required header for this request: x-amz-content-sha256",
                              NULL, NULL);
        err = COF_ERR_INVALID_REQUEST;
    }
    if (err == COF_OK) {
        char scope[160];
        snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a->date, a->region, a->service);
        struct srv_sigv4_in in = {req->method,       req->raw_path, &req->query, a->presigned,
                                  a->signed_headers, lookup_header, req,         payload,
                                  amz_date,          scope};
        err = srv_sigv4_verify(&in, secret, a->signature);
        if (err != COF_OK)
            cof_log_debug(req->rid, "signature of %s does not match", a->access_key);
    }
    /* A signed aws-chunked body: every chunk's signature is checked as it arrives. */
    if (err == COF_OK && strncmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0) {
        struct srv_chunk_auth *ca = calloc(1, sizeof(*ca));
        char scope[160];
        snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a->date, a->region, a->service);
        err = ca != NULL ? srv_sigv4_signing_key(secret, scope, ca->key) : COF_ERR_NOMEM;
        if (err == COF_OK) {
            snprintf(ca->amz_date, sizeof(ca->amz_date), "%s", amz_date);
            snprintf(ca->scope, sizeof(ca->scope), "%s", scope);
            /* verified above, so exactly SRV_SIG_HEX_LEN hex digits */
            memcpy(ca->prev, a->signature, SRV_SIG_HEX_LEN);
            ca->prev[SRV_SIG_HEX_LEN] = '\0';
            ca->trailer = strcmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0;
            req->chunk_auth = ca;
        } else {
            free(ca);
        }
    }
    /* A hex payload hash is checked against the body as it arrives (ops_finish). */
    if (err == COF_OK && !a->presigned && strlen(payload) == 64 &&
        strspn(payload, "0123456789abcdef") == 64) {
        memcpy(req->want_sha, payload, 65);
        err = cry_digest_new(CRY_DIGEST_SHA256, &req->body_sha);
    }
    cry_wipe(secret, sizeof(secret));
    return err;
}

cof_err ops_begin(struct srv_req *req)
{
    cof_err err = split_target(req);
    if (err == COF_ERR_TOO_LARGE || err == COF_ERR_INVALID)
        return COF_ERR_INVALID_ARGUMENT;
    if (err != COF_OK)
        return err;

    struct srv_auth auth;
    err = srv_auth_parse(srv_req_header(req, "Authorization"), &req->query, &auth);
    if (err != COF_OK)
        return err;
    req->region = strdup(auth.region[0] != '\0' ? auth.region : req->ctx->cfg->region);
    if (req->region == NULL)
        return COF_ERR_NOMEM;

    err = srv_route_parse(req->method, srv_req_header(req, "Host"), req->raw_path, &req->query,
                          srv_req_header(req, "x-amz-copy-source") != NULL, &req->route);
    if (err == COF_ERR_INVALID)
        return COF_ERR_INVALID_ARGUMENT;
    if (err != COF_OK)
        return err;

    enum srv_op op = req->route.op;
    bool internal = op == SRV_OP_LS_HEALTH || op == SRV_OP_LS_INFO || op == SRV_OP_LS_INIT ||
                    op == SRV_OP_LS_RESET || op == SRV_OP_LS_PREFLIGHT;
    if (!internal)
        atomic_store(&req->ctx->s3_used, true);
    /* CORS headers first, so that every response to this request carries them, errors (a bad
     * signature included) and streamed bodies alike. */
    if (op != SRV_OP_CORS_PREFLIGHT && op != SRV_OP_LS_PREFLIGHT) {
        err = ops_cors_begin(req, internal);
        if (err != COF_OK)
            return err;
    }
    /* A state reset deletes everything: off unless admin endpoints are on, and never anonymous
     * when signatures are checked (LocalStack's other endpoints are, as LocalStack has them). */
    if (op == SRV_OP_LS_RESET && !req->ctx->cfg->admin_endpoints)
        return ops_admin_disabled(req);
    bool anonymous = internal && op != SRV_OP_LS_RESET;
    /* Browsers never sign a preflight. A browser form upload carries no Authorization
     * header: its policy signature is a form field, checked when the file part starts
     * (ops_post.c). */
    if (!anonymous && op != SRV_OP_CORS_PREFLIGHT && op != SRV_OP_POST_OBJECT &&
        req->ctx->cfg->verify_signatures) {
        err = check_signature(req, &auth, (int64_t)time(NULL));
        if (err != COF_OK)
            return err;
    }
    cof_log_debug(req->rid, "%s %s -> %s", req->method, req->raw_uri, srv_op_name(op));
    /* Bucket policies apply after authentication and before the operation touches anything
     * (a denied PUT must not even start writing its body). */
    if (!internal) {
        ops_policy_set_principal(req, auth.kind != SRV_AUTH_NONE ? auth.access_key : NULL);
        err = ops_policy_check(req);
        if (err != COF_OK)
            return err;
    }

    switch (op) {
    case SRV_OP_CREATE_BUCKET:
    case SRV_OP_PUT_BUCKET_ENCRYPTION:
    case SRV_OP_PUT_BUCKET_VERSIONING:
    case SRV_OP_PUT_BUCKET_CORS:
        req->body_mode = SRV_BODY_BUFFER;
        cof_buf_init(&req->body, SRV_MAX_SMALL_XML_BODY);
        return COF_OK;
    case SRV_OP_PUT_BUCKET_POLICY:
        req->body_mode = SRV_BODY_BUFFER;
        cof_buf_init(&req->body, SRV_POLICY_MAX_SIZE);
        return COF_OK;
    case SRV_OP_DELETE_OBJECTS:
    case SRV_OP_COMPLETE_MULTIPART:
        req->body_mode = SRV_BODY_BUFFER;
        cof_buf_init(&req->body, SRV_MAX_XML_BODY);
        return COF_OK;
    case SRV_OP_PUT_OBJECT_TAGGING:
    case SRV_OP_PUT_BUCKET_TAGGING:
        req->body_mode = SRV_BODY_BUFFER;
        cof_buf_init(&req->body, SRV_MAX_TAGGING_BODY);
        return COF_OK;
    case SRV_OP_UPLOAD_PART:
        return ops_upload_part_begin(req);
    case SRV_OP_PUT_OBJECT:
        return ops_put_object_begin(req);
    case SRV_OP_POST_OBJECT:
        return ops_post_object_begin(req);
    case SRV_OP_NOT_IMPLEMENTED:
        return COF_ERR_NOT_IMPLEMENTED;
    case SRV_OP_METHOD_NOT_ALLOWED:
    case SRV_OP_NONE:
        return COF_ERR_METHOD_NOT_ALLOWED;
    default:
        return COF_OK;
    }
}

cof_err ops_body(struct srv_req *req, const char *data, size_t n)
{
    if (req->route.op == SRV_OP_PUT_OBJECT || req->route.op == SRV_OP_UPLOAD_PART)
        return ops_put_object_body(req, data, n);
    if (req->route.op == SRV_OP_POST_OBJECT)
        return ops_post_object_body(req, data, n);
    return COF_OK;
}

cof_err ops_finish(struct srv_req *req)
{
    if (req->body_sha != NULL && req->body_err == COF_OK) {
        uint8_t h[CRY_SHA256_LEN];
        char hex[2 * CRY_SHA256_LEN + 1];
        cry_digest_final(req->body_sha, h);
        srv_hex_encode(h, sizeof(h), hex);
        if (strcmp(hex, req->want_sha) != 0)
            return COF_ERR_SHA256_MISMATCH;
    }
    if (req->body_err == COF_ERR_TOO_LARGE && req->route.op == SRV_OP_PUT_BUCKET_POLICY)
        return ops_put_bucket_policy(req); /* answers MalformedPolicy with AWS's size message */
    /* POST Object answers its own body errors (AWS's messages recorded while parsing). */
    if (req->route.op == SRV_OP_POST_OBJECT)
        return ops_post_object_finish(req);
    if (req->body_err != COF_OK) {
        if (req->body_err == COF_ERR_TOO_LARGE && req->route.op != SRV_OP_PUT_OBJECT &&
            req->route.op != SRV_OP_UPLOAD_PART)
            return COF_ERR_MALFORMED_XML;
        return req->body_err;
    }
    switch (req->route.op) {
    case SRV_OP_LIST_BUCKETS:
        return ops_list_buckets(req);
    case SRV_OP_CREATE_BUCKET:
        return ops_create_bucket(req);
    case SRV_OP_HEAD_BUCKET:
        return ops_head_bucket(req);
    case SRV_OP_DELETE_BUCKET:
        return ops_delete_bucket(req);
    case SRV_OP_GET_BUCKET_LOCATION:
        return ops_get_bucket_location(req);
    case SRV_OP_PUT_BUCKET_ENCRYPTION:
        return ops_put_bucket_encryption(req);
    case SRV_OP_GET_BUCKET_ENCRYPTION:
        return ops_get_bucket_encryption(req);
    case SRV_OP_DELETE_BUCKET_ENCRYPTION:
        return ops_delete_bucket_encryption(req);
    case SRV_OP_LIST_OBJECTS:
        return ops_list_objects(req, 1);
    case SRV_OP_LIST_OBJECTS_V2:
        return ops_list_objects(req, 2);
    case SRV_OP_DELETE_OBJECTS:
        return ops_delete_objects(req);
    case SRV_OP_PUT_OBJECT:
        return ops_put_object_finish(req);
    case SRV_OP_COPY_OBJECT:
        return ops_copy_object(req);
    case SRV_OP_GET_OBJECT:
        return ops_get_object(req, 0);
    case SRV_OP_HEAD_OBJECT:
        return ops_get_object(req, 1);
    case SRV_OP_DELETE_OBJECT:
        return ops_delete_object(req);
    case SRV_OP_GET_OBJECT_ATTRIBUTES:
        return ops_get_object_attributes(req);
    case SRV_OP_LS_HEALTH:
    case SRV_OP_LS_INFO:
    case SRV_OP_LS_INIT:
    case SRV_OP_LS_RESET:
        return ops_localstack(req);
    case SRV_OP_CREATE_MULTIPART:
        return ops_create_multipart(req);
    case SRV_OP_UPLOAD_PART:
        return ops_upload_part_finish(req);
    case SRV_OP_UPLOAD_PART_COPY:
        return ops_upload_part_copy(req);
    case SRV_OP_COMPLETE_MULTIPART:
        return ops_complete_multipart(req);
    case SRV_OP_ABORT_MULTIPART:
        return ops_abort_multipart(req);
    case SRV_OP_LIST_PARTS:
        return ops_list_parts(req);
    case SRV_OP_LIST_MULTIPART_UPLOADS:
        return ops_list_multipart_uploads(req);
    case SRV_OP_PUT_BUCKET_VERSIONING:
        return ops_put_bucket_versioning(req);
    case SRV_OP_GET_BUCKET_VERSIONING:
        return ops_get_bucket_versioning(req);
    case SRV_OP_LIST_OBJECT_VERSIONS:
        return ops_list_object_versions(req);
    case SRV_OP_PUT_OBJECT_TAGGING:
        return ops_put_object_tagging(req);
    case SRV_OP_GET_OBJECT_TAGGING:
        return ops_get_object_tagging(req);
    case SRV_OP_DELETE_OBJECT_TAGGING:
        return ops_delete_object_tagging(req);
    case SRV_OP_PUT_BUCKET_TAGGING:
        return ops_put_bucket_tagging(req);
    case SRV_OP_GET_BUCKET_TAGGING:
        return ops_get_bucket_tagging(req);
    case SRV_OP_DELETE_BUCKET_TAGGING:
        return ops_delete_bucket_tagging(req);
    case SRV_OP_PUT_BUCKET_POLICY:
        return ops_put_bucket_policy(req);
    case SRV_OP_GET_BUCKET_POLICY:
        return ops_get_bucket_policy(req);
    case SRV_OP_DELETE_BUCKET_POLICY:
        return ops_delete_bucket_policy(req);
    case SRV_OP_GET_BUCKET_POLICY_STATUS:
        return ops_get_bucket_policy_status(req);
    case SRV_OP_PUT_BUCKET_CORS:
        return ops_put_bucket_cors(req);
    case SRV_OP_GET_BUCKET_CORS:
        return ops_get_bucket_cors(req);
    case SRV_OP_DELETE_BUCKET_CORS:
        return ops_delete_bucket_cors(req);
    case SRV_OP_CORS_PREFLIGHT:
        return ops_cors_preflight(req);
    case SRV_OP_LS_PREFLIGHT:
        return ops_cors_internal_preflight(req);
    case SRV_OP_NOT_IMPLEMENTED:
        return COF_ERR_NOT_IMPLEMENTED;
    default:
        return COF_ERR_METHOD_NOT_ALLOWED;
    }
}

void ops_cleanup(struct srv_req *req)
{
    ops_post_object_cleanup(req);
    ops_put_object_cleanup(req);
    srv_policy_free(req->policy);
    req->policy = NULL;
}

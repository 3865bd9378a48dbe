/* SPDX-License-Identifier: Apache-2.0 */
/* Object operations: PutObject (streamed, encrypted), GetObject/HeadObject (ranges,
 * conditionals, response-* overrides, streamed decryption), DeleteObject, CopyObject. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/envelope.h"
#include "server/httpfmt.h"
#include "server/objio.h"
#include "server/ops.h"
#include "server/sse.h"
#include "server/xml.h"
#include "storage/blob.h"
#include "storage/meta.h"

#define MAX_USER_META 2048 /* AWS: user-defined metadata, names + values */

/* Headers stored with an object and returned on GET/HEAD, besides x-amz-meta-*. */
static const char *const stored_headers[] = {
    "Content-Type",
    "Content-Encoding",
    "Content-Disposition",
    "Content-Language",
    "Cache-Control",
    "Expires",
    "x-amz-website-redirect-location",
};
#define N_STORED (sizeof(stored_headers) / sizeof(stored_headers[0]))

struct ops_put {
    struct objio_writer *w;
    bool have_md5;
    uint8_t want_md5[CRY_MD5_LEN];
    struct srv_ssec ssec; /* SSE-C key of the upload, if any */
};

/* ---- stored header block: "name:value\n" lines, names as sent (x-amz-meta-* lowercased) ---- */

struct collect {
    struct cof_buf *b;
    size_t meta_bytes;
    cof_err err;
};

static void collect_meta(void *arg, const char *name, const char *value)
{
    struct collect *c = arg;
    if (c->err != COF_OK || strncasecmp(name, "x-amz-meta-", 11) != 0)
        return;
    if (strchr(value, '\n') != NULL || strchr(value, '\r') != NULL)
        return;
    c->meta_bytes += strlen(name) - 11 + strlen(value);
    if (c->meta_bytes > MAX_USER_META) {
        c->err = COF_ERR_METADATA_TOO_LARGE;
        return;
    }
    for (const char *p = name; *p != '\0' && c->err == COF_OK; p++) {
        char ch = (char)tolower((unsigned char)*p);
        c->err = cof_buf_append(c->b, &ch, 1);
    }
    if (c->err == COF_OK)
        c->err = cof_buf_printf(c->b, ":%s\n", value);
}

/* Builds the stored header block from the request (PUT, or COPY with REPLACE). */
static cof_err headers_from_request(struct srv_req *req, char **out)
{
    struct cof_buf b;
    cof_buf_init(&b, 64 * 1024);
    cof_err err = COF_OK;
    for (size_t i = 0; i < N_STORED && err == COF_OK; i++) {
        const char *v = srv_req_header(req, stored_headers[i]);
        if (i == 0 && (v == NULL || *v == '\0'))
            v = "binary/octet-stream";
        if (v == NULL)
            continue;
        /* aws-chunked is a transfer detail, never part of the stored Content-Encoding. */
        if (i == 1 && strcasecmp(v, "aws-chunked") == 0)
            continue;
        err = cof_buf_printf(&b, "%s:%s\n", stored_headers[i], v);
    }
    struct collect c = {&b, 0, err};
    if (err == COF_OK)
        srv_req_each_header(req, collect_meta, &c);
    err = c.err;
    if (err == COF_OK)
        err = cof_buf_steal(&b, out);
    cof_buf_cleanup(&b);
    return err;
}

/* Calls fn for each stored header line. */
static void each_stored(const char *block, void (*fn)(void *, const char *, const char *),
                        void *arg)
{
    const char *p = block != NULL ? block : "";
    char name[256];
    char value[8192];
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon != NULL) {
            size_t nlen = (size_t)(colon - p);
            size_t vlen = len - nlen - 1;
            if (nlen < sizeof(name) && vlen < sizeof(value)) {
                memcpy(name, p, nlen);
                name[nlen] = '\0';
                memcpy(value, colon + 1, vlen);
                value[vlen] = '\0';
                fn(arg, name, value);
            }
        }
        p += len + (nl != NULL ? 1 : 0);
    }
}

static void add_stored(void *arg, const char *name, const char *value)
{
    struct srv_req *req = arg;
    static const struct {
        const char *param;
        const char *header;
    } overrides[] = {
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"},
    };
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++)
        if (strcasecmp(name, overrides[i].header) == 0 &&
            srv_query_get(&req->query, overrides[i].param) != NULL)
            return; /* replaced by the override below */
    srv_resp_add(req, name, value);
}

/* Encryption response headers: SSE-C echoes algorithm and key MD5, and carries no
 * x-amz-server-side-encryption (AWS). */
static void add_sse_headers(struct srv_req *req, int sse_mode, const struct srv_ssec *ssec)
{
    if (sse_mode == CRY_MODE_SSE_C) {
        srv_resp_add(req, "x-amz-server-side-encryption-customer-algorithm", "AES256");
        if (ssec != NULL && ssec->md5_sent)
            srv_resp_add(req, "x-amz-server-side-encryption-customer-key-MD5", ssec->key_md5_b64);
    } else {
        srv_resp_add(req, "x-amz-server-side-encryption", "AES256");
    }
}

static void add_object_headers(struct srv_req *req, const struct sto_object *o,
                               const struct srv_ssec *ssec)
{
    char date[32];
    char etag[80];
    srv_http_date_format(o->mtime_ms / 1000, date);
    snprintf(etag, sizeof(etag), "\"%s\"", o->etag);
    srv_resp_add(req, "Last-Modified", date);
    srv_resp_add(req, "ETag", etag);
    srv_resp_add(req, "Accept-Ranges", "bytes");
    add_sse_headers(req, o->sse_mode, ssec);
    each_stored(o->headers, add_stored, req);
    static const struct {
        const char *param;
        const char *header;
    } overrides[] = {
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"},
    };
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        const char *v = srv_query_get(&req->query, overrides[i].param);
        if (v != NULL)
            srv_resp_add(req, overrides[i].header, v);
    }
}

/* ---- PutObject ---- */

/* Reads what a write (PUT, copy destination) asks for: SSE-S3 (the default) or SSE-C into
 * *ssec. Replies with AWS's error itself on failure. */
static cof_err parse_write_sse(struct srv_req *req, struct srv_ssec *ssec)
{
    const char *sse = srv_req_header(req, "x-amz-server-side-encryption");
    struct srv_sse_err e;
    cof_err err = srv_ssec_parse(req, SRV_SSE_OBJECT, true, ssec, &e);
    if (ssec->present && sse != NULL) {
        (void)srv_reply_error(req, COF_ERR_INVALID_ARGUMENT,
                              "Server Side Encryption with Customer provided key is incompatible "
                              "with the encryption method specified",
                              "ArgumentName", "x-amz-server-side-encryption");
        return COF_ERR_INVALID_ARGUMENT;
    }
    if (err != COF_OK) {
        (void)srv_sse_reply(req, &e);
        return err;
    }
    if (ssec->present && req->ctx->cfg->profile == SRV_PROFILE_AWS) {
        /* AWS refuses customer keys over plain HTTP (coffer has no TLS listener yet). */
        (void)srv_reply_error(req, COF_ERR_INVALID_REQUEST,
                              "Requests specifying Server Side Encryption with Customer provided "
                              "keys must be made over a secure connection.",
                              NULL, NULL);
        return COF_ERR_INVALID_REQUEST;
    }
    if (sse == NULL || strcmp(sse, "AES256") == 0)
        return COF_OK;
    if (strcmp(sse, "aws:kms") == 0 || strcmp(sse, "aws:kms:dsse") == 0)
        return COF_ERR_NOT_IMPLEMENTED; /* SSE-KMS: not built yet */
    (void)srv_reply_error(req, COF_ERR_INVALID_ARGUMENT,
                          "The encryption method specified is not supported", "ArgumentName",
                          "x-amz-server-side-encryption");
    return COF_ERR_INVALID_ARGUMENT;
}

static cof_err bucket_must_exist(struct srv_req *req, const char *bucket)
{
    cof_err err = sto_meta_get_bucket(req->ctx->meta, bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        (void)srv_reply_error(req, err, NULL, "BucketName", bucket);
    return err;
}

static cof_err parse_length(struct srv_req *req, uint64_t *out, bool *out_present)
{
    const char *cl = srv_req_header(req, "Content-Length");
    *out_present = cl != NULL;
    *out = 0;
    if (cl == NULL)
        return COF_OK;
    char *end = NULL;
    unsigned long long v = strtoull(cl, &end, 10);
    if (end == cl || *end != '\0')
        return COF_ERR_INVALID_ARGUMENT;
    *out = v;
    return COF_OK;
}

cof_err ops_put_object_begin(struct srv_req *req)
{
    uint64_t len = 0;
    bool have_len = false;
    cof_err err = bucket_must_exist(req, req->route.bucket);
    if (err != COF_OK)
        return err;
    err = parse_length(req, &len, &have_len);
    if (err != COF_OK)
        return err;
    const char *te = srv_req_header(req, "Transfer-Encoding");
    if (!have_len && (te == NULL || strcasecmp(te, "chunked") != 0))
        return COF_ERR_MISSING_LENGTH;
    if (len > SRV_MAX_OBJECT_SIZE)
        return COF_ERR_ENTITY_TOO_LARGE;
    const char *ce = srv_req_header(req, "Content-Encoding");
    const char *sha = srv_req_header(req, "x-amz-content-sha256");
    if ((ce != NULL && strstr(ce, "aws-chunked") != NULL) ||
        (sha != NULL && strncmp(sha, "STREAMING-", 10) == 0))
        return COF_ERR_NOT_IMPLEMENTED; /* aws-chunked bodies: client compatibility issue */
    struct ops_put *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return COF_ERR_NOMEM;
    req->put = p;
    err = parse_write_sse(req, &p->ssec);
    if (err != COF_OK)
        return err;
    const char *md5 = srv_req_header(req, "Content-MD5");
    if (md5 != NULL) {
        size_t n = 0;
        if (srv_base64_decode(md5, p->want_md5, sizeof(p->want_md5), &n) != COF_OK ||
            n != CRY_MD5_LEN)
            return COF_ERR_INVALID_DIGEST;
        p->have_md5 = true;
    }
    err = objio_writer_new(req->ctx, req->rid, &p->w);
    if (err != COF_OK)
        return err;
    req->body_mode = SRV_BODY_STREAM;
    return COF_OK;
}

cof_err ops_put_object_body(struct srv_req *req, const char *data, size_t n)
{
    if (req->put == NULL || req->put->w == NULL)
        return COF_ERR_INTERNAL;
    if (objio_writer_size(req->put->w) + n > SRV_MAX_OBJECT_SIZE)
        return COF_ERR_ENTITY_TOO_LARGE;
    return objio_write(req->put->w, data, n);
}

/* Publishes o, then unlinks the blob it replaced (write protocol: publish, then unlink). */
static cof_err publish(struct srv_req *req, struct sto_object *o)
{
    char *replaced = NULL;
    cof_err err = sto_meta_put_object(req->ctx->meta, o, &replaced);
    if (err != COF_OK) {
        ops_blob_discard(req->ctx, req->rid, o->blob_id, false);
        return err;
    }
    if (replaced != NULL) {
        ops_blob_discard(req->ctx, req->rid, replaced, true);
        free(replaced);
    }
    return COF_OK;
}

/* Finishes writer w into a new object row for the request's bucket/key. */
static cof_err finish_object(struct srv_req *req, struct objio_writer *w, char *headers,
                             const uint8_t *want_md5, const struct objio_seal *seal,
                             struct sto_object *o)
{
    uint8_t md5[CRY_MD5_LEN];
    char hex[2 * CRY_MD5_LEN + 1];
    memset(o, 0, sizeof(*o));
    o->bucket = strdup(req->route.bucket);
    o->key = strdup(req->route.key);
    o->version_id = strdup("null");
    o->headers = headers;
    o->mtime_ms = ops_now_ms();
    if (o->bucket == NULL || o->key == NULL || o->version_id == NULL)
        return COF_ERR_NOMEM;
    cof_err err = objio_writer_finish(w, o, seal, md5);
    if (err != COF_OK)
        return err;
    if (want_md5 != NULL && memcmp(md5, want_md5, CRY_MD5_LEN) != 0) {
        ops_blob_discard(req->ctx, req->rid, o->blob_id, false);
        return COF_ERR_BAD_DIGEST;
    }
    /* The ETag of an SSE-C object must not reveal the plaintext's MD5 (AWS: random). */
    if (seal->mode == CRY_MODE_SSE_C && cry_random(md5, sizeof(md5)) != COF_OK) {
        ops_blob_discard(req->ctx, req->rid, o->blob_id, false);
        return COF_ERR_INTERNAL;
    }
    srv_hex_encode(md5, CRY_MD5_LEN, hex);
    o->etag = strdup(hex);
    if (o->etag == NULL) {
        ops_blob_discard(req->ctx, req->rid, o->blob_id, false);
        return COF_ERR_NOMEM;
    }
    return publish(req, o);
}

cof_err ops_put_object_finish(struct srv_req *req)
{
    struct ops_put *p = req->put;
    struct sto_object o;
    char *headers = NULL;
    char etag[80];
    memset(&o, 0, sizeof(o));
    if (p == NULL || p->w == NULL)
        return COF_ERR_INTERNAL;
    cof_err err = headers_from_request(req, &headers);
    struct objio_seal seal;
    if (p->ssec.key != NULL)
        objio_seal_sse_c(p->ssec.key, &seal);
    else
        objio_seal_sse_s3(req->ctx, &seal);
    if (err == COF_OK) {
        err = finish_object(req, p->w, headers, p->have_md5 ? p->want_md5 : NULL, &seal, &o);
        headers = NULL;
    }
    free(headers);
    if (err == COF_OK) {
        snprintf(etag, sizeof(etag), "\"%s\"", o.etag);
        srv_resp_add(req, "ETag", etag);
        add_sse_headers(req, o.sse_mode, &p->ssec);
        err = srv_reply(req, 200, NULL, "", 0);
    }
    sto_object_cleanup(&o);
    return err;
}

void ops_put_object_cleanup(struct srv_req *req)
{
    if (req->put == NULL)
        return;
    objio_writer_free(req->put->w);
    srv_ssec_cleanup(&req->put->ssec);
    free(req->put);
    req->put = NULL;
}

/* ---- conditionals ---- */

/* RFC 7232 section 6 order, as S3 applies it. for_copy: every failure is 412. */
static cof_err eval_conditions(const char *if_match, const char *if_none_match, const char *if_mod,
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

/* ---- GetObject / HeadObject ---- */

struct get_stream {
    struct objio_reader *r;
    uint64_t first;
    const char *rid;
};

static ssize_t get_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct get_stream *g = cls;
    size_t n = 0;
    if (g->r == NULL)
        return -1;
    cof_err err = objio_read(g->r, g->first + pos, buf, max, &n);
    if (err != COF_OK || n == 0) {
        cof_log_error(g->rid, "aborting the response: %s", cof_err_name(err));
        return -1;
    }
    return (ssize_t)n;
}

static void get_stream_free(void *cls)
{
    struct get_stream *g = cls;
    objio_reader_free(g->r);
    free(g);
}

#define MSG_SSEC_NEEDED                                                                            \
    "The object was stored using a form of Server Side Encryption. The correct parameters must "   \
    "be provided to retrieve the object."
#define MSG_SSEC_WRONG                                                                             \
    "Requests specifying Server Side Encryption with Customer provided keys must provide the "     \
    "correct secret key."

/* Whether the key material presented fits the object's encryption (before any unwrap). */
static cof_err check_read_sse(struct srv_req *req, const struct sto_object *o,
                              const struct srv_ssec *ssec)
{
    if (o->sse_mode == CRY_MODE_SSE_C) {
        if (!ssec->present) {
            (void)srv_reply_error(req, COF_ERR_INVALID_REQUEST, MSG_SSEC_NEEDED, NULL, NULL);
            return COF_ERR_INVALID_REQUEST;
        }
        if (!ssec->md5_sent) {
            (void)srv_reply_error(req, COF_ERR_ACCESS_DENIED, MSG_SSEC_WRONG, NULL, NULL);
            return COF_ERR_ACCESS_DENIED;
        }
    } else if (ssec->present) {
        (void)srv_reply_error(req, COF_ERR_INVALID_REQUEST,
                              "The encryption parameters are not applicable to this object.", NULL,
                              NULL);
        return COF_ERR_INVALID_REQUEST;
    }
    return COF_OK;
}

/* Reads the object row and, when out_r is non-NULL, opens its blob. A concurrent overwrite may
 * unlink the blob between the two steps; the row is then read again, so a reader always gets a
 * complete old or new object. Once open, the descriptor outlives the unlink. Replies
 * NoSuchBucket/NoSuchKey itself. */
static cof_err open_object(struct srv_req *req, const char *bucket, const char *key,
                           const struct srv_ssec *ssec, struct sto_object *o,
                           struct objio_reader **out_r)
{
    cof_err err = COF_ERR_INTEGRITY;
    for (int attempt = 0; attempt < 8; attempt++) {
        err = sto_meta_get_object(req->ctx->meta, bucket, key, o);
        if (err == COF_ERR_NO_BUCKET) {
            (void)srv_reply_error(req, err, NULL, "BucketName", bucket);
            return err;
        }
        if (err == COF_ERR_NO_OBJECT) {
            (void)srv_reply_error(req, err, NULL, "Key", key);
            return err;
        }
        if (err == COF_OK)
            err = check_read_sse(req, o, ssec);
        if (err == COF_OK && out_r == NULL && o->sse_mode == CRY_MODE_SSE_C)
            err = objio_check_key(req->ctx, o, ssec->key, req->rid);
        else if (err == COF_OK && out_r != NULL)
            err = objio_reader_open(req->ctx, o, ssec->key, req->rid, out_r);
        if (err == COF_ERR_KEY && o->sse_mode == CRY_MODE_SSE_C) {
            (void)srv_reply_error(req, COF_ERR_ACCESS_DENIED, MSG_SSEC_WRONG, NULL, NULL);
            return COF_ERR_ACCESS_DENIED;
        }
        if (err != COF_ERR_NOT_FOUND)
            return err;
        sto_object_cleanup(o);
    }
    cof_log_error(req->rid, "blob of s3://%s/%s is missing", bucket, key);
    return COF_ERR_INTEGRITY;
}

cof_err ops_get_object(struct srv_req *req, int head)
{
    struct sto_object o;
    struct srv_ssec ssec;
    struct srv_sse_err e;
    struct get_stream *g = calloc(1, sizeof(*g));
    char num[64];
    memset(&o, 0, sizeof(o));
    memset(&ssec, 0, sizeof(ssec));
    if (g == NULL)
        return COF_ERR_NOMEM;
    g->rid = req->rid;
    cof_err err = srv_ssec_parse(req, SRV_SSE_OBJECT, false, &ssec, &e);
    if (err != COF_OK) {
        (void)srv_sse_reply(req, &e);
        goto out;
    }
    if (srv_req_header(req, "x-amz-server-side-encryption") != NULL) {
        /* Reads take no SSE-S3/KMS header (AWS GetObject/HeadObject). */
        (void)srv_reply_error(req, COF_ERR_INVALID_ARGUMENT,
                              "x-amz-server-side-encryption header is not supported for this "
                              "operation.",
                              "ArgumentName", "x-amz-server-side-encryption");
        err = COF_ERR_INVALID_ARGUMENT;
        goto out;
    }
    /* GET opens the blob (unwrap, header check) before answering: a bad key or blob is a clean
     * error, not a truncated 200. Segment failures later abort the connection. */
    err = open_object(req, req->route.bucket, req->route.key, &ssec, &o, head ? NULL : &g->r);
    if (err != COF_OK)
        goto out;
    err = eval_conditions(srv_req_header(req, "If-Match"), srv_req_header(req, "If-None-Match"),
                          srv_req_header(req, "If-Modified-Since"),
                          srv_req_header(req, "If-Unmodified-Since"), &o, false);
    if (err == COF_ERR_NOT_MODIFIED) {
        char date[32], etag[80];
        srv_http_date_format(o.mtime_ms / 1000, date);
        snprintf(etag, sizeof(etag), "\"%s\"", o.etag);
        srv_resp_add(req, "Last-Modified", date);
        srv_resp_add(req, "ETag", etag);
        err = srv_reply(req, 304, NULL, "", 0);
        goto out;
    }
    if (err != COF_OK)
        goto out;

    uint64_t first = 0, last = o.size > 0 ? o.size - 1 : 0;
    unsigned status = 200;
    const char *range = srv_req_header(req, "Range");
    if (range != NULL) {
        uint64_t rfirst = 0, rlast = 0;
        cof_err rerr = srv_range_parse(range, o.size, &rfirst, &rlast);
        if (rerr == COF_ERR_INVALID_RANGE) {
            snprintf(num, sizeof(num), "bytes */%llu", (unsigned long long)o.size);
            srv_resp_add(req, "Content-Range", num);
            err = srv_reply_error(req, COF_ERR_INVALID_RANGE, NULL, "RangeRequested", range);
            goto out;
        }
        if (rerr == COF_OK) {
            first = rfirst;
            last = rlast;
            status = 206;
            snprintf(num, sizeof(num), "bytes %llu-%llu/%llu", (unsigned long long)first,
                     (unsigned long long)last, (unsigned long long)o.size);
            srv_resp_add(req, "Content-Range", num);
        }
    }
    uint64_t len = o.size == 0 ? 0 : last - first + 1;
    g->first = first;
    add_object_headers(req, &o, &ssec);
    err = srv_reply_stream(req, status, len, get_stream_read, g, get_stream_free);
    g = NULL;
out:
    if (g != NULL)
        get_stream_free(g);
    srv_ssec_cleanup(&ssec);
    sto_object_cleanup(&o);
    return err;
}

/* ---- DeleteObject ---- */

cof_err ops_delete_object(struct srv_req *req)
{
    char *removed = NULL;
    cof_err err =
        sto_meta_delete_object(req->ctx->meta, req->route.bucket, req->route.key, &removed);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK && err != COF_ERR_NO_OBJECT)
        return err;
    if (removed != NULL) {
        ops_blob_discard(req->ctx, req->rid, removed, true);
        free(removed);
    }
    return srv_reply(req, 204, NULL, "", 0);
}

/* ---- CopyObject ---- */

/* x-amz-copy-source: "[/]bucket/key[?versionId=v]", URL-encoded. */
static cof_err parse_copy_source(const char *src, char **out_bucket, char **out_key)
{
    const char *p = src[0] == '/' ? src + 1 : src;
    const char *q = strstr(p, "?versionId=");
    size_t n = q != NULL ? (size_t)(q - p) : strlen(p);
    char *dec = NULL;
    size_t dlen = 0;
    if (q != NULL && strcmp(q + 11, "null") != 0)
        return COF_ERR_NOT_IMPLEMENTED; /* versions: bucket-features issue */
    if (srv_uri_decode_path(p, n, &dec, &dlen) != COF_OK)
        return COF_ERR_BAD_COPY_SOURCE;
    char *slash = strchr(dec, '/');
    if (slash == NULL || slash == dec || slash[1] == '\0') {
        free(dec);
        return COF_ERR_BAD_COPY_SOURCE;
    }
    *slash = '\0';
    *out_bucket = strdup(dec);
    *out_key = strdup(slash + 1);
    free(dec);
    if (*out_bucket == NULL || *out_key == NULL)
        return COF_ERR_NOMEM;
    return COF_OK;
}

cof_err ops_copy_object(struct srv_req *req)
{
    char *sbucket = NULL, *skey = NULL, *headers = NULL, *doc = NULL;
    struct sto_object src, dst;
    struct objio_reader *r = NULL;
    struct objio_writer *w = NULL;
    struct srv_xml *x = NULL;
    struct srv_ssec src_key, dst_key;
    struct srv_sse_err e;
    uint8_t *buf = NULL;
    size_t doclen = 0;
    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    memset(&src_key, 0, sizeof(src_key));
    memset(&dst_key, 0, sizeof(dst_key));

    cof_err err = parse_copy_source(srv_req_header(req, "x-amz-copy-source"), &sbucket, &skey);
    if (err != COF_OK)
        goto out;
    err = parse_write_sse(req, &dst_key);
    if (err != COF_OK)
        goto out;
    err = srv_ssec_parse(req, SRV_SSE_COPY_SOURCE, false, &src_key, &e);
    if (err != COF_OK) {
        (void)srv_sse_reply(req, &e);
        goto out;
    }
    const char *directive = srv_req_header(req, "x-amz-metadata-directive");
    bool replace = false;
    if (directive != NULL) {
        if (strcmp(directive, "REPLACE") == 0) {
            replace = true;
        } else if (strcmp(directive, "COPY") != 0) {
            err = srv_reply_error(req, COF_ERR_INVALID_ARGUMENT, "Unknown metadata directive.",
                                  "ArgumentName", "x-amz-metadata-directive");
            goto out;
        }
    }
    err = bucket_must_exist(req, req->route.bucket);
    if (err != COF_OK)
        goto out;
    err = open_object(req, sbucket, skey, &src_key, &src, &r);
    if (err != COF_OK)
        goto out;
    /* Copying onto itself must change something: metadata, storage class, redirect, or the
     * encryption (new SSE headers, or leaving SSE-C). */
    if (strcmp(sbucket, req->route.bucket) == 0 && strcmp(skey, req->route.key) == 0 && !replace &&
        !dst_key.present && src.sse_mode != CRY_MODE_SSE_C &&
        srv_req_header(req, "x-amz-server-side-encryption") == NULL &&
        srv_req_header(req, "x-amz-storage-class") == NULL &&
        srv_req_header(req, "x-amz-website-redirect-location") == NULL) {
        err = COF_ERR_INVALID_COPY;
        goto out;
    }
    err = eval_conditions(srv_req_header(req, "x-amz-copy-source-if-match"),
                          srv_req_header(req, "x-amz-copy-source-if-none-match"),
                          srv_req_header(req, "x-amz-copy-source-if-modified-since"),
                          srv_req_header(req, "x-amz-copy-source-if-unmodified-since"), &src, true);
    if (err != COF_OK)
        goto out;
    if (replace) {
        err = headers_from_request(req, &headers);
    } else {
        headers = strdup(src.headers != NULL ? src.headers : "");
        if (headers == NULL)
            err = COF_ERR_NOMEM;
    }
    if (err != COF_OK)
        goto out;

    err = objio_writer_new(req->ctx, req->rid, &w);
    buf = malloc(CRY_SEG_SIZE);
    if (err == COF_OK && buf == NULL)
        err = COF_ERR_NOMEM;
    for (uint64_t pos = 0; err == COF_OK && pos < src.size;) {
        size_t n = 0;
        err = objio_read(r, pos, buf, CRY_SEG_SIZE, &n);
        if (err == COF_OK)
            err = objio_write(w, buf, n);
        pos += n;
    }
    struct objio_seal seal;
    if (dst_key.key != NULL)
        objio_seal_sse_c(dst_key.key, &seal);
    else
        objio_seal_sse_s3(req->ctx, &seal);
    if (err == COF_OK) {
        err = finish_object(req, w, headers, NULL, &seal, &dst);
        headers = NULL;
    }
    if (err != COF_OK)
        goto out;

    char iso[32], etag[80];
    srv_iso8601_format(dst.mtime_ms, iso);
    snprintf(etag, sizeof(etag), "\"%s\"", dst.etag);
    err = srv_xml_new("CopyObjectResult", &x);
    if (err == COF_OK) {
        srv_xml_elem(x, "LastModified", iso);
        srv_xml_elem(x, "ETag", etag);
        err = srv_xml_finish(x, &doc, &doclen);
    }
    if (err == COF_OK) {
        add_sse_headers(req, dst.sse_mode, &dst_key);
        err = srv_reply_xml(req, 200, doc, doclen);
        doc = NULL;
    }
out:
    srv_ssec_cleanup(&src_key);
    srv_ssec_cleanup(&dst_key);
    free(doc);
    srv_xml_free(x);
    free(buf);
    objio_writer_free(w);
    objio_reader_free(r);
    free(headers);
    sto_object_cleanup(&src);
    sto_object_cleanup(&dst);
    free(sbucket);
    free(skey);
    return err;
}

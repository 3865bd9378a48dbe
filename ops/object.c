/* SPDX-License-Identifier: Apache-2.0 */
/* Object operations: PutObject (streamed, encrypted), GetObject/HeadObject (ranges,
 * conditionals, response-* overrides, streamed decryption), DeleteObject, CopyObject. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/hex.h"
#include "object/stored.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "crypto/envelope.h"
#include "object/gc.h"
#include "object/cksum_store.h"
#include "s3/httpfmt.h"
#include "object/objio.h"
#include "ops/handlers.h"
#include "ops/bucketcfg.h"
#include "ops/copysrc.h"
#include "ops/delete.h"
#include "ops/objlock.h"
#include "ops/expiration.h"
#include "ops/read.h"
#include "ops/access.h"
#include "ops/tags.h"
#include "ops/versions.h"
#include "ops/write.h"
#include "ops/req.h"
#include "object/kms.h"
#include "s3/sigv4.h"
#include "s3/sse.h"
#include "s3/xml.h"
#include "storage/blob.h"
#include "storage/meta.h"

/* GetObject's response-* query parameters and the headers they replace. */
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

static void add_stored(void *arg, const char *name, const char *value)
{
    struct srv_req *req = arg;
    if (strncmp(name, OBJ_STORED_INTERNAL_PREFIX, strlen(OBJ_STORED_INTERNAL_PREFIX)) == 0)
        return; /* coffer's own bookkeeping, never a response header */
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++)
        if (strcasecmp(name, overrides[i].header) == 0 &&
            srv_query_get(&req->query, overrides[i].param) != NULL)
            return; /* replaced by the override below */
    srv_resp_add(req, name, value);
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
    ops_add_sse_headers(req, o, ssec);
    ops_lock_add_headers(req, o);
    obj_stored_each(o->headers, add_stored, req);
    /* AWS: "The number of tags, if any, on the object" (GetObject, HeadObject). */
    char *tags = NULL;
    if (srv_tagging_from_block(o->headers, &tags) == COF_OK && srv_tagging_count(tags) > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", srv_tagging_count(tags));
        srv_resp_add(req, "x-amz-tagging-count", n);
    }
    free(tags);
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        const char *v = srv_query_get(&req->query, overrides[i].param);
        if (v != NULL)
            srv_resp_add(req, overrides[i].header, v);
    }
}

/* ---- PutObject ---- */

/* Removes coffer's internal lines from a stored header block (in place). */
static void strip_internal(char *block)
{
    char *r = block, *w = block;
    while (*r != '\0') {
        char *nl = strchr(r, '\n');
        size_t len = nl != NULL ? (size_t)(nl - r) + 1 : strlen(r);
        if (strncmp(r, OBJ_STORED_INTERNAL_PREFIX, strlen(OBJ_STORED_INTERNAL_PREFIX)) != 0) {
            memmove(w, r, len);
            w += len;
        }
        r += len;
    }
    *w = '\0';
}

static cof_err put_object_begin(struct srv_req *req)
{
    char *tags = NULL;
    char etag[80];
    struct sto_precond pc;
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    /* A bad x-amz-tagging is refused before the body is read. */
    if (err == COF_OK)
        err = ops_tagging_header(req, &tags);
    free(tags);
    /* So is an ACL the bucket does not allow. */
    if (err == COF_OK)
        err = ops_acl_for_write(req, req->route.bucket, &tags);
    free(tags);
    /* If-Match / If-None-Match: refused before the body when they already fail; checked again,
     * atomically, when the object is published. */
    if (err == COF_OK)
        err = ops_write_precond(req, &pc, etag, sizeof(etag));
    if (err == COF_OK)
        err = ops_write_precheck(req, &pc);
    /* Object Lock headers: checked before the body, again when the version is published. */
    struct sto_lock lock;
    if (err == COF_OK)
        err = ops_lock_for_write(req, req->route.bucket, cof_now_ms(), &lock);
    if (err == COF_OK)
        err = ops_stream_begin(req);
    if (err == COF_OK && ops_lock_headers_present(req) && !req->put->have_md5 &&
        req->put->cksum_want[0] == '\0' && !req->put->cksum_in_trailer)
        err = srv_fail(req, COF_ERR_INVALID_REQUEST,
                       "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object "
                       "requests with Object Lock parameters");
    if (err == COF_OK)
        err = ops_plan_write_enc(req, &req->put->enc);
    if (err != COF_OK)
        req->body_mode = SRV_BODY_IGNORE;
    return err;
}

cof_err ops_put_object_finish(struct srv_req *req)
{
    struct sto_object o;
    cof_err err = ops_put_commit(req, &o);
    if (err == COF_OK)
        err = srv_reply(req, 200, NULL, "", 0);
    sto_object_cleanup(&o);
    return err;
}

/* ---- conditionals ---- */

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

struct size_walk {
    uint64_t *sizes;
    size_t n;
    size_t cap;
};

static cof_err collect_size(const struct sto_part *p, void *arg)
{
    struct size_walk *w = arg;
    if (w->n == w->cap)
        return COF_ERR_NOT_FOUND;
    w->sizes[w->n++] = p->size;
    return COF_OK;
}

/* ?partNumber=N: the byte range of part N (a single-part object has one part). Replies
 * itself; sets x-amz-mp-parts-count. */
static cof_err part_range(struct srv_req *req, const struct sto_object *o, const char *pn,
                          uint64_t *first, uint64_t *last)
{
    char *end = NULL;
    long n = strtol(pn, &end, 10);
    if (end == pn || *end != '\0' || n < 1 || n > 10000) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                             "Part number must be an integer between 1 and 10000, inclusive",
                             "ArgumentName", "partNumber");
    }
    size_t parts = o->part_count > 0 ? o->part_count : 1;
    if ((size_t)n > parts) {
        return srv_fail_elem(req, COF_ERR_INVALID_PART_NUMBER, NULL, "PartNumberRequested", pn);
    }
    uint64_t start = 0, size = o->size;
    if (o->part_count > 0) {
        struct size_walk w = {calloc(parts, sizeof(uint64_t)), 0, parts};
        if (w.sizes == NULL)
            return COF_ERR_NOMEM;
        cof_err err = sto_meta_object_parts(req->ctx->obj.meta, o->bucket, o->key, o->version_id,
                                            collect_size, &w);
        if (err == COF_OK && w.n != parts)
            err = COF_ERR_INTEGRITY;
        for (long i = 0; err == COF_OK && i < n - 1; i++)
            start += w.sizes[i];
        if (err == COF_OK)
            size = w.sizes[n - 1];
        free(w.sizes);
        if (err != COF_OK)
            return err;
        char cnt[24];
        snprintf(cnt, sizeof(cnt), "%zu", parts);
        srv_resp_add(req, "x-amz-mp-parts-count", cnt);
    }
    *first = start;
    *last = size > 0 ? start + size - 1 : start;
    return COF_OK;
}

/* x-amz-version-id on reads: a real id always; the null version only in a bucket that has a
 * versioning state (one config read, skipped for the common unversioned case's real ids). */
static cof_err add_read_version_header(struct srv_req *req, const struct sto_object *o)
{
    enum ops_versioning st = OPS_VERSIONING_ENABLED;
    if (o->version_id == NULL || strcmp(o->version_id, "null") == 0) {
        cof_err err = ops_versioning_get(req, o->bucket, &st);
        if (err != COF_OK)
            return err;
    }
    ops_add_version_header(req, st, o->version_id);
    return COF_OK;
}

static cof_err get_object(struct srv_req *req, int head)
{
    struct sto_object o;
    struct srv_ssec ssec;
    struct srv_problem prob;
    struct read_keys rk;
    memset(&rk, 0, sizeof(rk));
    struct get_stream *g = calloc(1, sizeof(*g));
    char num[64];
    memset(&o, 0, sizeof(o));
    memset(&ssec, 0, sizeof(ssec));
    if (g == NULL)
        return COF_ERR_NOMEM;
    g->rid = req->rid;
    cof_err err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, false, &ssec, &prob);
    if (err != COF_OK) {
        err = srv_fail_problem(req, &prob);
        goto out;
    }
    if (srv_req_header(req, "x-amz-server-side-encryption") != NULL) {
        /* Reads take no SSE-S3/KMS header (AWS GetObject/HeadObject). */
        err = srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                            "x-amz-server-side-encryption header is not supported for this "
                            "operation.",
                            "ArgumentName", "x-amz-server-side-encryption");
        goto out;
    }
    const char *version_id = NULL;
    err = ops_request_version(req, &version_id);
    if (err != COF_OK)
        goto out;
    /* GET opens the blob (unwrap, header check) before answering: a bad key or blob is a clean
     * error, not a truncated 200. Segment failures later abort the connection. */
    err = ops_open_object(req, req->route.bucket, req->route.key, version_id, &ssec, &rk, &o,
                          head ? NULL : &g->r);
    if (err != COF_OK)
        goto out;
    /* An object of one segment (every inline one) is authenticated whole before the status line
     * goes out: damage is then a clean 500, not a response cut short. */
    if (g->r != NULL && o.size > 0 && o.size <= CRY_SEG_SIZE &&
        (err = objio_preload(g->r, 0)) != COF_OK)
        goto out;
    err = add_read_version_header(req, &o);
    if (err == COF_OK && o.is_latest)
        ops_lifecycle_add_expiration(req, &o);
    if (err != COF_OK)
        goto out;
    err = ops_eval_conditions(srv_req_header(req, "If-Match"), srv_req_header(req, "If-None-Match"),
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
    const char *pn = srv_query_get(&req->query, "partNumber");
    if (pn != NULL) {
        err = part_range(req, &o, pn, &first, &last);
        if (err != COF_OK)
            goto out;
        status = 206;
        range = NULL;
        snprintf(num, sizeof(num), "bytes %llu-%llu/%llu", (unsigned long long)first,
                 (unsigned long long)last, (unsigned long long)o.size);
        srv_resp_add(req, "Content-Range", num);
    }
    if (range != NULL) {
        uint64_t rfirst = 0, rlast = 0;
        cof_err rerr = srv_range_parse(range, o.size, &rfirst, &rlast);
        if (rerr == COF_ERR_INVALID_RANGE) {
            snprintf(num, sizeof(num), "bytes */%llu", (unsigned long long)o.size);
            srv_resp_add(req, "Content-Range", num);
            err = srv_fail_elem(req, COF_ERR_INVALID_RANGE, NULL, "RangeRequested", range);
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
    if (g->r != NULL && len > 0)
        objio_reader_want(g->r, first, last);
    add_object_headers(req, &o, &ssec);
    const char *mode = srv_req_header(req, "x-amz-checksum-mode");
    char ck[96];
    bool want_ck = mode != NULL && strcasecmp(mode, "ENABLED") == 0 && status == 200;
    /* A HEAD of an SSE-KMS object loads no KMS key; its sealed checksum needs it. */
    if (want_ck && o.sse_mode == CRY_MODE_SSE_KMS && rk.keys.kms_material == NULL) {
        err = ops_prepare_read_keys(req, &o, &ssec, &rk);
        if (err != COF_OK)
            goto out;
    }
    if (want_ck && srv_cks_object(&o, &rk.keys, ck, sizeof(ck))) {
        char *sp = strchr(ck, ' ');
        enum srv_cksum_alg a = SRV_CKSUM_NONE;
        if (sp != NULL) {
            *sp = '\0';
            a = srv_cksum_parse_name(ck);
        }
        if (a != SRV_CKSUM_NONE) {
            srv_resp_add(req, srv_cksum_header(a), sp + 1);
            srv_resp_add(req, "x-amz-checksum-type",
                         strchr(sp + 1, '-') != NULL ? "COMPOSITE" : "FULL_OBJECT");
        }
    }
    err = srv_reply_stream(req, status, len, get_stream_read, g, get_stream_free);
    g = NULL;
out:
    if (g != NULL)
        get_stream_free(g);
    srv_ssec_cleanup(&ssec);
    srv_kms_key_cleanup(&rk.kms);
    sto_object_cleanup(&o);
    return err;
}

/* ---- DeleteObject ---- */

cof_err ops_delete_object(struct srv_req *req)
{
    struct ops_deleted d;
    const char *version_id = NULL;
    cof_err err = ops_request_version(req, &version_id);
    if (err != COF_OK)
        return err;
    err = ops_delete_version(req, req->route.bucket, req->route.key, version_id, &d);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    if (d.marker)
        srv_resp_add(req, "x-amz-delete-marker", "true");
    if (d.version_id[0] != '\0')
        srv_resp_add(req, "x-amz-version-id", d.version_id);
    return srv_reply(req, 204, NULL, "", 0);
}

/* ---- CopyObject ---- */

/* The checksum a copy records (AWS computes one for every copy): the algorithm the request
 * names (x-amz-checksum-algorithm), else the source's, else AWS's default CRC64NVME. */
static cof_err copy_checksum_alg(struct srv_req *req, const struct sto_object *src,
                                 const struct objio_keys *keys, enum srv_cksum_alg *out)
{
    const char *asked = srv_req_header(req, "x-amz-checksum-algorithm");
    char ck[SRV_CKS_VALUE_MAX];
    *out = SRV_CKSUM_CRC64NVME;
    if (asked != NULL) {
        *out = srv_cksum_parse_name(asked);
        if (*out != SRV_CKSUM_NONE)
            return COF_OK;
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, OPS_MSG_BAD_CKSUM_ALG, NULL, NULL);
    }
    if (srv_cks_object(src, keys, ck, sizeof(ck))) {
        char *sp = strchr(ck, ' ');
        if (sp != NULL) {
            *sp = '\0';
            enum srv_cksum_alg a = srv_cksum_parse_name(ck);
            if (a != SRV_CKSUM_NONE)
                *out = a;
        }
    }
    return COF_OK;
}

cof_err ops_copy_object(struct srv_req *req)
{
    char *sbucket = NULL, *skey = NULL, *sversion = NULL, *headers = NULL, *doc = NULL,
         *tags = NULL, *acl = NULL;
    struct sto_object src, dst;
    struct objio_reader *r = NULL;
    struct objio_writer *w = NULL;
    struct srv_xml *x = NULL;
    struct srv_ssec src_key;
    struct write_enc dst_enc;
    struct read_keys rk;
    struct srv_problem prob;
    uint8_t *buf = NULL;
    size_t doclen = 0;
    enum srv_cksum_alg calg = SRV_CKSUM_CRC64NVME;
    struct srv_cksum ck;
    char cval[SRV_CKSUM_B64_MAX] = "";
    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    memset(&src_key, 0, sizeof(src_key));
    memset(&dst_enc, 0, sizeof(dst_enc));
    memset(&rk, 0, sizeof(rk));
    memset(&ck, 0, sizeof(ck));

    char dst_etag[80];
    struct sto_precond pc;
    cof_err err =
        ops_parse_copy_source(srv_req_header(req, "x-amz-copy-source"), &sbucket, &skey, &sversion);
    if (err != COF_OK)
        goto out;
    /* The destination's If-Match / If-None-Match (the source's are x-amz-copy-source-if-*). */
    err = ops_write_precond(req, &pc, dst_etag, sizeof(dst_etag));
    if (err == COF_OK)
        err = ops_write_precheck(req, &pc);
    if (err != COF_OK)
        goto out;
    err = ops_plan_write_enc(req, &dst_enc);
    if (err != COF_OK)
        goto out;
    err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_COPY_SOURCE, false, &src_key, &prob);
    if (err != COF_OK) {
        err = srv_fail_problem(req, &prob);
        goto out;
    }
    const char *directive = srv_req_header(req, "x-amz-metadata-directive");
    bool replace = false;
    if (directive != NULL) {
        if (strcmp(directive, "REPLACE") == 0) {
            replace = true;
        } else if (strcmp(directive, "COPY") != 0) {
            err = srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT, "Unknown metadata directive.",
                                "ArgumentName", "x-amz-metadata-directive");
            goto out;
        }
    }
    /* x-amz-tagging-directive: COPY (default) keeps the source's tags, REPLACE takes
     * x-amz-tagging (none without it). */
    const char *tdir = srv_req_header(req, "x-amz-tagging-directive");
    bool tags_replace = false;
    if (tdir != NULL) {
        if (strcmp(tdir, "REPLACE") == 0) {
            tags_replace = true;
        } else if (strcmp(tdir, "COPY") != 0) {
            err = srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT, "Unknown tagging directive.",
                               "x-amz-tagging-directive", tdir);
            if (err == COF_OK)
                err = COF_ERR_INVALID_ARGUMENT;
            goto out;
        }
    }
    if (tags_replace) {
        err = ops_tagging_header(req, &tags);
        if (err != COF_OK)
            goto out;
    }
    err = ops_bucket_must_exist(req, req->route.bucket);
    /* The copy's ACL is the request's (x-amz-acl, x-amz-grant-*), never the source's. */
    if (err == COF_OK)
        err = ops_acl_for_write(req, req->route.bucket, &acl);
    if (err != COF_OK)
        goto out;
    err = ops_open_object(req, sbucket, skey, sversion, &src_key, &rk, &src, &r);
    if (err != COF_OK)
        goto out;
    /* Copying onto itself must change something: metadata, storage class, redirect, or the
     * encryption (new SSE headers, or leaving SSE-C). */
    /* A bucket with an explicit default encryption re-encrypts in place (AWS allows that copy,
     * LocalStack's AWS-validated test_copy_in_place_with_bucket_encryption). */
    bool explicit_default = false;
    if (strcmp(sbucket, req->route.bucket) == 0 && strcmp(skey, req->route.key) == 0) {
        char *cfg = NULL;
        explicit_default = sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                                      "encryption", &cfg) == COF_OK;
        free(cfg);
    }
    if (strcmp(sbucket, req->route.bucket) == 0 && strcmp(skey, req->route.key) == 0 && !replace &&
        sversion == NULL && !explicit_default && !dst_enc.ssec.present &&
        src.sse_mode != CRY_MODE_SSE_C &&
        srv_req_header(req, "x-amz-server-side-encryption") == NULL &&
        srv_req_header(req, "x-amz-storage-class") == NULL &&
        srv_req_header(req, "x-amz-website-redirect-location") == NULL) {
        err = COF_ERR_INVALID_COPY;
        goto out;
    }
    err = ops_eval_conditions(srv_req_header(req, "x-amz-copy-source-if-match"),
                              srv_req_header(req, "x-amz-copy-source-if-none-match"),
                              srv_req_header(req, "x-amz-copy-source-if-modified-since"),
                              srv_req_header(req, "x-amz-copy-source-if-unmodified-since"), &src,
                              true);
    if (err != COF_OK)
        goto out;
    if (replace) {
        err = ops_headers_from_request(req, &headers);
    } else {
        headers = strdup(src.headers != NULL ? src.headers : "");
        if (headers == NULL)
            err = COF_ERR_NOMEM;
        else
            strip_internal(headers);
    }
    if (err == COF_OK)
        err = ops_add_internal(&headers, &dst_enc);
    if (err == COF_OK && !tags_replace)
        err = srv_tagging_from_block(src.headers, &tags);
    if (err == COF_OK)
        err = ops_set_tagging_line(&headers, tags);
    if (err == COF_OK)
        err = ops_set_acl_line(&headers, acl);
    if (err != COF_OK)
        goto out;

    err = copy_checksum_alg(req, &src, &rk.keys, &calg);
    if (err != COF_OK)
        goto out;
    err = objio_writer_new(&req->ctx->obj, req->rid, &w);
    if (err == COF_OK)
        objio_writer_expect(w, src.size);
    buf = malloc(CRY_SEG_SIZE);
    if (err == COF_OK && buf == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK)
        err = srv_cksum_init(&ck, calg);
    for (uint64_t pos = 0; err == COF_OK && pos < src.size;) {
        size_t n = 0;
        err = objio_read(r, pos, buf, CRY_SEG_SIZE, &n);
        if (err == COF_OK && n == 0)
            err = COF_ERR_INTEGRITY;
        if (err == COF_OK)
            err = objio_write(w, buf, n);
        if (err == COF_OK)
            srv_cksum_update(&ck, buf, n);
        pos += n;
    }
    struct objio_seal seal;
    ops_seal_for(req, &dst_enc, &seal);
    if (err == COF_OK) {
        srv_cksum_final(&ck, cval);
        err = ops_finish_object(req, w, headers, NULL, &seal, calg, cval, &dst);
        headers = NULL;
    }
    if (err != COF_OK)
        goto out;

    char iso[32], etag[80];
    srv_iso8601_format(dst.mtime_ms, iso);
    snprintf(etag, sizeof(etag), "\"%s\"", dst.etag);
    err = srv_xml_new("CopyObjectResult", &x);
    if (err == COF_OK) {
        char elem[32];
        snprintf(elem, sizeof(elem), "Checksum%s", srv_cksum_name(calg));
        srv_xml_elem(x, "LastModified", iso);
        srv_xml_elem(x, "ETag", etag);
        srv_xml_elem(x, elem, cval);
        srv_xml_elem(x, "ChecksumType", "FULL_OBJECT");
        err = srv_xml_finish(x, &doc, &doclen);
    }
    if (err == COF_OK) {
        ops_add_write_sse_headers(req, &dst, &dst_enc);
        if (sversion != NULL || strcmp(src.version_id, "null") != 0)
            srv_resp_add(req, "x-amz-copy-source-version-id", src.version_id);
        err = srv_reply_xml(req, 200, doc, doclen);
        doc = NULL;
    }
out:
    srv_cksum_cleanup(&ck);
    srv_ssec_cleanup(&src_key);
    ops_write_enc_cleanup(&dst_enc);
    srv_kms_key_cleanup(&rk.kms);
    free(doc);
    srv_xml_free(x);
    free(buf);
    objio_writer_free(w);
    objio_reader_free(r);
    free(headers);
    free(tags);
    free(acl);
    sto_object_cleanup(&src);
    sto_object_cleanup(&dst);
    free(sbucket);
    free(skey);
    free(sversion);
    return err;
}

/* ---- GetObjectAttributes ---- */

static bool attr_wanted(const char *list, const char *name)
{
    size_t nl = strlen(name);
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        size_t tl = len;
        while (tl > 0 && p[tl - 1] == ' ')
            tl--;
        if (tl == nl && strncmp(p, name, nl) == 0)
            return true;
        p += len;
    }
    return false;
}

/* Every name in the x-amz-object-attributes list must be one S3 knows. */
static bool attrs_valid(const char *list)
{
    static const char *const known[] = {"ETag", "Checksum", "ObjectParts", "StorageClass",
                                        "ObjectSize"};
    const char *p = list;
    bool any = false;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        size_t tl = len;
        while (tl > 0 && p[tl - 1] == ' ')
            tl--;
        if (tl > 0) {
            bool ok = false;
            for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                ok = ok || (strlen(known[i]) == tl && strncmp(p, known[i], tl) == 0);
            if (!ok)
                return false;
            any = true;
        }
        p += len;
    }
    return any;
}

/* GetObjectAttributes' paging of ObjectParts: x-amz-max-parts and x-amz-part-number-marker. */
struct parts_page {
    size_t max;  /* 0..1000 (more is taken as 1000, as ListParts does) */
    long marker; /* parts after this number are listed */
};

#define ATTR_MAX_PARTS 1000u

/* A non-negative integer header (absent: *out untouched). AWS: InvalidArgument naming it. */
static cof_err count_header(struct srv_req *req, const char *name, long *out)
{
    const char *v = srv_req_header(req, name);
    if (v == NULL)
        return COF_OK;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || errno == ERANGE || n > INT32_MAX || n < INT32_MIN) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Provided %s not an integer or within integer range", name);
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT, msg, name, v);
    }
    if (n < 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Argument %s must be an integer between 0 and 2147483647", name);
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT, msg, name, v);
    }
    *out = n;
    return COF_OK;
}

static cof_err parse_parts_page(struct srv_req *req, struct parts_page *out)
{
    long max = ATTR_MAX_PARTS;
    out->marker = 0;
    cof_err err = count_header(req, "x-amz-max-parts", &max);
    if (err == COF_OK)
        err = count_header(req, "x-amz-part-number-marker", &out->marker);
    out->max = max > (long)ATTR_MAX_PARTS ? ATTR_MAX_PARTS : (size_t)max;
    return err;
}

/* One Part: its number, size and, when it was uploaded with one, its checksum. */
static void add_part(struct srv_xml *x, const struct sto_object *o, const struct objio_keys *keys,
                     const struct sto_part *p)
{
    char ck[SRV_CKS_VALUE_MAX];
    srv_xml_open(x, "Part");
    srv_xml_elem_u64(x, "PartNumber", (uint64_t)p->part_number + 1);
    srv_xml_elem_u64(x, "Size", p->size);
    const char *sp =
        srv_cks_part((enum cry_mode)o->sse_mode, keys, o->bucket, o->key, p, ck, sizeof(ck))
            ? strchr(ck, ' ')
            : NULL;
    if (sp != NULL && (size_t)(sp - ck) < 16) {
        char elem[32];
        snprintf(elem, sizeof(elem), "Checksum%.*s", (int)(sp - ck), ck);
        srv_xml_elem(x, elem, sp + 1);
    }
    srv_xml_close(x);
}

/* ObjectParts of a multipart object. AWS lists the parts (paged like ListParts) only for an
 * object uploaded with an additional checksum (COMPOSITE or FULL_OBJECT: its parts carry one
 * each); otherwise it answers the count alone ("if an additional checksum isn't applied to the
 * object ..., the response doesn't return the Part element"). */
static cof_err add_object_parts(struct srv_req *req, struct srv_xml *x, const struct sto_object *o,
                                const struct objio_keys *keys, const struct parts_page *pg)
{
    struct part_list pl = {NULL, 0, 0};
    cof_err err = COF_OK;
    char alg[32];
    /* The upload's declared algorithm (CreateMultipartUpload's x-amz-checksum-algorithm), kept
     * in the object's headers; AWS's default CRC64NVME of an upload without one does not count. */
    bool listed = obj_stored_value(o->headers, OBJ_STORED_MPU_CHECKSUM, alg, sizeof(alg));
    if (listed)
        err = sto_meta_object_parts(req->ctx->obj.meta, o->bucket, o->key, o->version_id,
                                    collect_part, &pl);
    if (err != COF_OK)
        goto out;
    srv_xml_open(x, "ObjectParts");
    srv_xml_elem_u64(x, "PartsCount", o->part_count); /* TotalPartsCount in the API */
    if (listed) {
        size_t first = pg->marker < (long)pl.n ? (size_t)pg->marker : pl.n;
        size_t shown = pl.n - first < pg->max ? pl.n - first : pg->max;
        char num[24];
        snprintf(num, sizeof(num), "%ld", pg->marker);
        srv_xml_elem(x, "PartNumberMarker", num);
        if (shown > 0)
            srv_xml_elem_u64(x, "NextPartNumberMarker", first + shown);
        srv_xml_elem_u64(x, "MaxParts", pg->max);
        srv_xml_elem(x, "IsTruncated", first + shown < pl.n ? "true" : "false");
        for (size_t i = first; i < first + shown; i++)
            add_part(x, o, keys, &pl.v[i]);
    }
    srv_xml_close(x);
out:
    part_list_cleanup(&pl);
    return err;
}

cof_err ops_get_object_attributes(struct srv_req *req)
{
    struct sto_object o;
    struct srv_ssec ssec;
    struct srv_problem prob;
    struct read_keys rk;
    struct srv_xml *x = NULL;
    memset(&o, 0, sizeof(o));
    memset(&ssec, 0, sizeof(ssec));
    memset(&rk, 0, sizeof(rk));
    const char *want = srv_req_header(req, "x-amz-object-attributes");
    if (want == NULL || !attrs_valid(want))
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT, "Invalid attribute name specified.",
                             "ArgumentName", "x-amz-object-attributes");
    cof_err err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, false, &ssec, &prob);
    if (err != COF_OK) {
        err = srv_fail_problem(req, &prob);
        goto out;
    }
    struct parts_page paging;
    err = parse_parts_page(req, &paging);
    if (err != COF_OK)
        goto out;
    const char *version_id = NULL;
    err = ops_request_version(req, &version_id);
    if (err != COF_OK)
        goto out;
    /* Like HEAD: an SSE-C object needs its key (checked by unwrapping). */
    err = ops_open_object(req, req->route.bucket, req->route.key, version_id, &ssec, &rk, &o, NULL);
    if (err == COF_OK)
        err = add_read_version_header(req, &o);
    if (err != COF_OK)
        goto out;
    err = srv_xml_new("GetObjectAttributesResponse", &x);
    if (err != COF_OK)
        goto out;
    if (attr_wanted(want, "ETag"))
        srv_xml_elem(x, "ETag", o.etag);
    char ck[96];
    if ((attr_wanted(want, "Checksum") || attr_wanted(want, "ObjectParts")) &&
        o.sse_mode != CRY_MODE_SSE_S3 && rk.keys.kms_material == NULL &&
        rk.keys.customer_key == NULL) {
        err = ops_prepare_read_keys(req, &o, &ssec, &rk); /* for the sealed checksums */
        if (err != COF_OK)
            goto out;
    }
    if (attr_wanted(want, "Checksum") && srv_cks_object(&o, &rk.keys, ck, sizeof(ck))) {
        char *sp = strchr(ck, ' ');
        if (sp != NULL) {
            *sp = '\0';
            char elem[32];
            snprintf(elem, sizeof(elem), "Checksum%.16s", ck);
            srv_xml_open(x, "Checksum");
            srv_xml_elem(x, elem, sp + 1);
            srv_xml_elem(x, "ChecksumType",
                         strchr(sp + 1, '-') != NULL ? "COMPOSITE" : "FULL_OBJECT");
            srv_xml_close(x);
        }
    }
    if (attr_wanted(want, "ObjectParts") && o.part_count > 0) {
        err = add_object_parts(req, x, &o, &rk.keys, &paging);
        if (err != COF_OK)
            goto out;
    }
    if (attr_wanted(want, "StorageClass")) {
        struct ops_lc_rules lc;
        char *tags = NULL;
        ops_lc_rules_load(req, o.bucket, &lc);
        err = lc.cfg.n > 0 ? srv_tagging_from_block(o.headers, &tags) : COF_OK;
        if (err == COF_OK)
            srv_xml_elem(x, "StorageClass", ops_lc_storage_class(&lc, &o, tags));
        free(tags);
        ops_lc_rules_cleanup(&lc);
        if (err != COF_OK)
            goto out;
    }
    if (attr_wanted(want, "ObjectSize"))
        srv_xml_elem_u64(x, "ObjectSize", o.size);
    char date[32];
    srv_http_date_format(o.mtime_ms / 1000, date);
    srv_resp_add(req, "Last-Modified", date);
    ops_add_sse_headers(req, &o, &ssec);
    err = ops_reply_doc(req, x);
    x = NULL;
out:
    srv_xml_free(x);
    srv_ssec_cleanup(&ssec);
    srv_kms_key_cleanup(&rk.kms);
    sto_object_cleanup(&o);
    return err;
}

cof_err ops_get_object(struct srv_req *req)
{
    return get_object(req, 0);
}

cof_err ops_head_object(struct srv_req *req)
{
    return get_object(req, 1);
}

const struct srv_op_stream ops_put_object_stream = {put_object_begin, ops_put_object_body,
                                                    ops_put_object_cleanup};

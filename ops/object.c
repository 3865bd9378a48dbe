/* SPDX-License-Identifier: Apache-2.0 */
/* Object operations: PutObject (streamed, encrypted), GetObject/HeadObject (ranges,
 * conditionals, response-* overrides, streamed decryption), DeleteObject, CopyObject. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "object/stored.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "crypto/envelope.h"
#include "object/gc.h"
#include "object/cksum_store.h"
#include "s3/httpfmt.h"
#include "object/objio.h"
#include "ops/ops.h"
#include "ops/internal.h"
#include "object/kms.h"
#include "s3/sigv4.h"
#include "s3/sse.h"
#include "s3/xml.h"
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

void ops_write_enc_cleanup(struct write_enc *e)
{
    srv_ssec_cleanup(&e->ssec);
    srv_kms_key_cleanup(&e->kms);
    free(e->context);
    e->context = NULL;
}

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
cof_err ops_headers_from_request(struct srv_req *req, char **out)
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

/* Validates x-amz-server-side-encryption-context (base64 of a JSON object of strings) and
 * returns the canonical JSON bound into the wrap, with S3's own aws:s3:arn entry added. */
static cof_err kms_context(struct srv_req *req, const char *hdr, char **out)
{
    uint8_t *raw = NULL;
    size_t n = 0, cap = hdr != NULL ? strlen(hdr) : 0;
    json_t *obj = NULL;
    char arn[2200];
    cof_err err = COF_OK;
    *out = NULL;
    if (hdr != NULL) {
        raw = malloc(cap + 1);
        if (raw == NULL)
            return COF_ERR_NOMEM;
        if (srv_base64_decode(hdr, raw, cap, &n) != COF_OK)
            err = COF_ERR_INVALID_ARGUMENT;
        if (err == COF_OK)
            obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
        if (err == COF_OK && !json_is_object(obj))
            err = COF_ERR_INVALID_ARGUMENT;
        const char *k;
        json_t *v;
        if (err == COF_OK)
            json_object_foreach(obj, k, v) if (!json_is_string(v)) err = COF_ERR_INVALID_ARGUMENT;
        free(raw);
    } else {
        obj = json_object();
    }
    if (err == COF_OK && obj == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK) {
        snprintf(arn, sizeof(arn), "arn:aws:s3:::%s/%s", req->route.bucket, req->route.key);
        if (json_object_set_new(obj, "aws:s3:arn", json_string(arn)) != 0)
            err = COF_ERR_NOMEM;
    }
    if (err == COF_OK) {
        *out = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
        if (*out == NULL)
            err = COF_ERR_NOMEM;
    }
    json_decref(obj);
    if (err == COF_ERR_INVALID_ARGUMENT)
        (void)srv_fail_elem(req, err,
                            "The header 'x-amz-server-side-encryption-context' shall be Base64-"
                            "encoded UTF-8 string holding JSON which represents a string-string "
                            "map",
                            "ArgumentName", "x-amz-server-side-encryption-context");
    return err;
}

/* Replies with a KMS error carrying the message srv_kms_* produced. */
cof_err ops_kms_fail(struct srv_req *req, cof_err err, const char *msg)
{
    if (err == COF_ERR_KMS_NOT_FOUND || err == COF_ERR_KMS_DISABLED ||
        err == COF_ERR_KMS_INVALID_STATE)
        (void)srv_fail_elem(req, err, msg[0] != '\0' ? msg : NULL, NULL, NULL);
    return err;
}

/* Whether the bucket's encryption rule blocks SSE-C writes: BlockedEncryptionTypes when set,
 * else AWS's default since April 2026 in the aws profile (LocalStack does not block). */
static bool bucket_blocks_ssec(struct srv_req *req)
{
    char *doc = NULL;
    struct srv_sse_config c;
    memset(&c, 0, sizeof(c));
    cof_err err =
        sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, "encryption", &doc);
    bool blocked = req->ctx->cfg->profile == SRV_PROFILE_AWS;
    if (err == COF_OK && srv_xml_parse_sse_config(doc, strlen(doc), &c) == COF_OK)
        blocked = c.blocked_set ? c.block_ssec && !c.block_none : blocked;
    srv_sse_config_cleanup(&c);
    free(doc);
    return blocked;
}

/* Decides how a write (PUT, copy destination) is encrypted: SSE-C or SSE-KMS from its headers,
 * else the bucket's default (SSE-S3 unless the bucket says aws:kms). Replies with AWS's error
 * itself on failure. */
cof_err ops_plan_write_enc(struct srv_req *req, struct write_enc *out)
{
    const char *sse = srv_req_header(req, "x-amz-server-side-encryption");
    const char *kms_id = srv_req_header(req, "x-amz-server-side-encryption-aws-kms-key-id");
    const char *bk = srv_req_header(req, "x-amz-server-side-encryption-bucket-key-enabled");
    struct srv_sse_err e;
    char msg[256];
    memset(out, 0, sizeof(*out));
    cof_err err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, true, &out->ssec, &e);
    if (out->ssec.present && sse != NULL) {
        (void)srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT,
                           "Server Side Encryption with Customer provided key is "
                           "incompatible with the encryption method specified",
                           "x-amz-server-side-encryption", sse);
        return COF_ERR_INVALID_ARGUMENT;
    }
    if (err != COF_OK) {
        (void)srv_fail_arg(req, e.code, e.message, e.arg_name, e.arg_value);
        return err;
    }
    /* The aws profile wants customer keys and KMS requests over TLS, as AWS does. */
    bool secure_needed = req->ctx->cfg->profile == SRV_PROFILE_AWS && !req->tls;
    if (out->ssec.present) {
        if (secure_needed) {
            (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                                "Requests specifying Server Side Encryption with Customer "
                                "provided keys must be made over a secure connection.",
                                NULL, NULL);
            return COF_ERR_INVALID_REQUEST;
        }
        if (bucket_blocks_ssec(req)) {
            (void)srv_fail_elem(req, COF_ERR_ACCESS_DENIED,
                                "The request was denied because this bucket has blocked upload "
                                "requests that specify Server Side Encryption with Customer "
                                "provided keys (SSE-C). Please specify a different server-side "
                                "encryption type.",
                                NULL, NULL);
            return COF_ERR_ACCESS_DENIED;
        }
        return COF_OK;
    }
    bool kms = false;
    if (sse != NULL) {
        if (strcmp(sse, "aws:kms") == 0 || strcmp(sse, "aws:kms:dsse") == 0) {
            kms = true;
            out->dsse = strcmp(sse, "aws:kms:dsse") == 0;
        } else if (strcmp(sse, "AES256") != 0) {
            (void)srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                                "The encryption method specified is not supported", "ArgumentName",
                                "x-amz-server-side-encryption");
            return COF_ERR_INVALID_ARGUMENT;
        }
    }
    if (kms_id != NULL && !kms) {
        (void)srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                            "Server Side Encryption with AWS KMS managed key requires HTTP "
                            "header x-amz-server-side-encryption : aws:kms",
                            "ArgumentName", "x-amz-server-side-encryption-aws-kms-key-id");
        return COF_ERR_INVALID_ARGUMENT;
    }
    char *cfg_doc = NULL;
    struct srv_sse_config bucket_cfg;
    memset(&bucket_cfg, 0, sizeof(bucket_cfg));
    if (sse == NULL) {
        /* The bucket's default encryption applies to writes that ask for none. */
        err = sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, "encryption",
                                         &cfg_doc);
        if (err == COF_OK &&
            srv_xml_parse_sse_config(cfg_doc, strlen(cfg_doc), &bucket_cfg) == COF_OK &&
            strncmp(bucket_cfg.algorithm, "aws:kms", 7) == 0) {
            kms = true;
            out->dsse = strcmp(bucket_cfg.algorithm, "aws:kms:dsse") == 0;
            kms_id = bucket_cfg.kms_key_id;
            out->bucket_key = bucket_cfg.bucket_key_enabled;
        }
        err = COF_OK;
    }
    if (kms) {
        if (secure_needed) {
            (void)srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                                "Requests specifying Server Side Encryption with AWS KMS managed "
                                "keys must be made over a secure connection.",
                                NULL, NULL);
            err = COF_ERR_INVALID_ARGUMENT;
        }
        if (err == COF_OK && bk != NULL)
            out->bucket_key = strcasecmp(bk, "true") == 0;
        if (err == COF_OK) {
            err = srv_kms_resolve(&req->ctx->obj, kms_id, !req->ctx->cfg->kms_validate, &out->kms,
                                  msg, sizeof(msg));
            if (err != COF_OK)
                (void)ops_kms_fail(req, err, msg);
        }
        if (err == COF_OK) {
            out->context_hdr = srv_req_header(req, "x-amz-server-side-encryption-context");
            err = kms_context(req, out->context_hdr, &out->context);
        }
        out->kms_used = err == COF_OK;
    }
    srv_sse_config_cleanup(&bucket_cfg);
    free(cfg_doc);
    return err;
}

void ops_seal_for(struct srv_req *req, const struct write_enc *e, struct objio_seal *seal)
{
    if (e->ssec.key != NULL)
        objio_seal_sse_c(e->ssec.key, seal);
    else if (e->kms_used)
        objio_seal_sse_kms(e->kms.material, e->kms.id, e->context, seal);
    else
        objio_seal_sse_s3(&req->ctx->obj, seal);
}

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

/* Appends the internal lines a write needs (SSE-KMS context, bucket key). Takes *block. */
cof_err ops_add_internal(char **block, const struct write_enc *e)
{
    if (!e->kms_used)
        return COF_OK;
    struct cof_buf b;
    cof_buf_init(&b, 128 * 1024);
    cof_err err = cof_buf_puts(&b, *block != NULL ? *block : "");
    if (err == COF_OK)
        err = cof_buf_printf(&b, OBJ_STORED_CONTEXT ":%s\n", e->context);
    if (err == COF_OK && e->bucket_key)
        err = cof_buf_puts(&b, OBJ_STORED_BUCKET_KEY ":true\n");
    if (err == COF_OK && e->dsse)
        err = cof_buf_puts(&b, OBJ_STORED_DSSE ":true\n");
    char *out = NULL;
    if (err == COF_OK)
        err = cof_buf_steal(&b, &out);
    cof_buf_cleanup(&b);
    if (err == COF_OK) {
        free(*block);
        *block = out;
    }
    return err;
}

/* Response headers of a write. */
void ops_add_write_sse_headers(struct srv_req *req, const struct sto_object *o,
                               const struct write_enc *e)
{
    ops_add_sse_headers(req, o, &e->ssec);
    if (e->kms_used && e->context_hdr != NULL)
        srv_resp_add(req, "x-amz-server-side-encryption-context", e->context_hdr);
}

cof_err ops_bucket_must_exist(struct srv_req *req, const char *bucket)
{
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        (void)srv_fail_elem(req, err, NULL, "BucketName", bucket);
    return err;
}

cof_err ops_parse_length(struct srv_req *req, uint64_t *out, bool *out_present)
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

#define MSG_MULTI_CKSUM                                                                            \
    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
#define MSG_BAD_TRAILER "The value specified in the x-amz-trailer header is not supported"

/* Checks the signature of the chunk whose data just ended (SHA-256 in ca->sha). */
static cof_err check_chunk(struct srv_chunk_auth *ca)
{
    uint8_t h[CRY_SHA256_LEN];
    char hex[2 * CRY_SHA256_LEN + 1], want[SRV_SIG_HEX_LEN + 1];
    cry_digest_final(ca->sha, h);
    srv_hex_encode(h, sizeof(h), hex);
    cof_err err = srv_sigv4_chunk_signature(ca->key, ca->amz_date, ca->scope, ca->prev, hex, want);
    if (err != COF_OK)
        return err;
    if (!cry_equal(want, ca->pending, SRV_SIG_HEX_LEN))
        return COF_ERR_SIGNATURE_MISMATCH;
    memcpy(ca->prev, ca->pending, sizeof(ca->prev));
    return COF_OK;
}

/* Checks x-amz-trailer-signature, chained on the final chunk's signature (now ca->prev). */
static cof_err check_trailer(const struct srv_chunk_auth *ca, const struct srv_chunked *dec)
{
    char canon[SRV_TRAILER_MAX + 64], hex[2 * CRY_SHA256_LEN + 1], want[SRV_SIG_HEX_LEN + 1];
    uint8_t h[CRY_SHA256_LEN];
    const char *got = srv_chunked_trailer(dec, "x-amz-trailer-signature");
    if (got == NULL || strlen(got) != SRV_SIG_HEX_LEN)
        return COF_ERR_SIGNATURE_MISMATCH;
    size_t n = srv_chunked_canonical_trailers(dec, canon, sizeof(canon));
    cof_err err = cry_digest_oneshot(CRY_DIGEST_SHA256, canon, n, h);
    if (err == COF_OK) {
        srv_hex_encode(h, sizeof(h), hex);
        err = srv_sigv4_trailer_signature(ca->key, ca->amz_date, ca->scope, ca->prev, hex, want);
    }
    if (err == COF_OK && !cry_equal(want, got, SRV_SIG_HEX_LEN))
        err = COF_ERR_SIGNATURE_MISMATCH;
    return err;
}

static cof_err chunk_header(void *arg, const char *signature, uint64_t size)
{
    struct srv_req *req = arg;
    struct srv_chunk_auth *ca = req->chunk_auth;
    (void)size;
    cof_err err = COF_OK;
    if (ca->have_pending)
        err = check_chunk(ca);
    if (err == COF_OK && signature[0] == '\0')
        err = COF_ERR_SIGNATURE_MISMATCH; /* a signed stream with an unsigned chunk */
    if (err == COF_OK) {
        memcpy(ca->pending, signature, sizeof(ca->pending));
        ca->have_pending = true;
        cry_digest_free(ca->sha);
        ca->sha = NULL;
        err = cry_digest_new(CRY_DIGEST_SHA256, &ca->sha);
    }
    return err;
}

static cof_err chunk_data(void *arg, const char *p, size_t n)
{
    struct srv_req *req = arg;
    struct ops_put *put = req->put;
    if (req->chunk_auth != NULL && req->chunk_auth->sha != NULL)
        cry_digest_update(req->chunk_auth->sha, p, n);
    if (objio_writer_size(put->w) + n > SRV_MAX_OBJECT_SIZE)
        return COF_ERR_ENTITY_TOO_LARGE;
    srv_cksum_update(&put->cksum, p, n);
    return objio_write(put->w, p, n);
}

/* Which checksum the request carries (header, trailer, or x-amz-sdk-checksum-algorithm), else
 * the default CRC64NVME computed for the record. Replies itself on error. */
static cof_err plan_checksum(struct srv_req *req, struct ops_put *p)
{
    const char *trailer = srv_req_header(req, "x-amz-trailer");
    const char *sdk = srv_req_header(req, "x-amz-sdk-checksum-algorithm");
    int n = 0;
    for (int a = 1; a < SRV_CKSUM__COUNT; a++) {
        const char *v = srv_req_header(req, srv_cksum_header((enum srv_cksum_alg)a));
        if (v == NULL)
            continue;
        n++;
        p->cksum_alg = (enum srv_cksum_alg)a;
        uint8_t raw[SRV_CKSUM_MAX_LEN + 4];
        size_t len = 0;
        if (srv_base64_decode(v, raw, sizeof(raw), &len) != COF_OK ||
            len != srv_cksum_len(p->cksum_alg) || strlen(v) >= sizeof(p->cksum_want)) {
            char msg[96];
            snprintf(msg, sizeof(msg), "Value for %s header is invalid.",
                     srv_cksum_header(p->cksum_alg));
            (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST, msg, NULL, NULL);
            return COF_ERR_INVALID_REQUEST;
        }
        memcpy(p->cksum_want, v, strlen(v) + 1);
    }
    if (trailer != NULL) {
        enum srv_cksum_alg ta = SRV_CKSUM_NONE;
        for (int a = 1; a < SRV_CKSUM__COUNT; a++)
            if (strcasecmp(trailer, srv_cksum_header((enum srv_cksum_alg)a)) == 0)
                ta = (enum srv_cksum_alg)a;
        if (ta == SRV_CKSUM_NONE || !p->chunked) {
            (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_BAD_TRAILER, NULL, NULL);
            return COF_ERR_INVALID_REQUEST;
        }
        n++;
        p->cksum_alg = ta;
        p->cksum_in_trailer = true;
    }
    if (n > 1) {
        (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_MULTI_CKSUM, NULL, NULL);
        return COF_ERR_INVALID_REQUEST;
    }
    if (n == 0 && sdk != NULL) {
        enum srv_cksum_alg sa = srv_cksum_parse_name(sdk);
        if (sa == SRV_CKSUM_NONE) {
            (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                                "Value for x-amz-sdk-checksum-algorithm header is invalid.", NULL,
                                NULL);
            return COF_ERR_INVALID_REQUEST;
        }
        p->cksum_alg = sa; /* computed and returned, nothing to compare with */
    }
    p->cksum_explicit = p->cksum_alg != SRV_CKSUM_NONE;
    if (p->cksum_alg == SRV_CKSUM_NONE)
        p->cksum_alg = SRV_CKSUM_CRC64NVME; /* AWS's default when the client sends none */
    return srv_cksum_init(&p->cksum, p->cksum_alg);
}

cof_err ops_stream_begin(struct srv_req *req)
{
    uint64_t len = 0;
    bool have_len = false;
    cof_err err = ops_parse_length(req, &len, &have_len);
    if (err != COF_OK)
        return err;
    const char *te = srv_req_header(req, "Transfer-Encoding");
    if (!have_len && (te == NULL || strcasecmp(te, "chunked") != 0))
        return COF_ERR_MISSING_LENGTH;
    const char *ce = srv_req_header(req, "Content-Encoding");
    const char *sha = srv_req_header(req, "x-amz-content-sha256");
    bool chunked = (ce != NULL && strstr(ce, "aws-chunked") != NULL) ||
                   (sha != NULL && strncmp(sha, "STREAMING-", 10) == 0);
    uint64_t decoded = len;
    if (chunked) {
        /* The payload size is x-amz-decoded-content-length; Content-Length counts framing. */
        const char *dl = srv_req_header(req, "x-amz-decoded-content-length");
        char *end = NULL;
        if (dl == NULL)
            return COF_ERR_MISSING_LENGTH;
        decoded = strtoull(dl, &end, 10);
        if (end == dl || *end != '\0')
            return COF_ERR_INVALID_ARGUMENT;
    }
    if (decoded > SRV_MAX_OBJECT_SIZE)
        return COF_ERR_ENTITY_TOO_LARGE;
    err = ops_put_start(req, chunked);
    if (err != COF_OK)
        return err;
    struct ops_put *p = req->put;
    p->decoded_len = decoded;
    if (chunked) {
        srv_chunked_init(&p->dec, chunk_data, req);
        if (req->chunk_auth != NULL)
            p->dec.on_chunk = chunk_header;
    }
    req->body_mode = SRV_BODY_STREAM;
    return COF_OK;
}

cof_err ops_put_start(struct srv_req *req, bool chunked)
{
    struct ops_put *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return COF_ERR_NOMEM;
    req->put = p;
    p->chunked = chunked;
    const char *md5 = srv_req_header(req, "Content-MD5");
    if (md5 != NULL) {
        size_t n = 0;
        if (srv_base64_decode(md5, p->want_md5, sizeof(p->want_md5), &n) != COF_OK ||
            n != CRY_MD5_LEN)
            return COF_ERR_INVALID_DIGEST;
        p->have_md5 = true;
    }
    cof_err err = plan_checksum(req, p);
    if (err == COF_OK)
        err = objio_writer_new(&req->ctx->obj, req->rid, &p->w);
    return err;
}

cof_err ops_put_write(struct srv_req *req, const char *data, size_t n)
{
    return chunk_data(req, data, n);
}

cof_err ops_body_verify(struct srv_req *req)
{
    struct ops_put *p = req->put;
    if (p->chunked && (!srv_chunked_done(&p->dec) || p->dec.decoded != p->decoded_len))
        return COF_ERR_INCOMPLETE_BODY;
    /* The final (empty) chunk's signature. */
    if (p->chunked && req->chunk_auth != NULL) {
        cof_err err = req->chunk_auth->have_pending ? check_chunk(req->chunk_auth)
                                                    : COF_ERR_SIGNATURE_MISMATCH;
        if (err != COF_OK)
            return err;
        if (req->chunk_auth->trailer)
            err = check_trailer(req->chunk_auth, &p->dec);
        if (err != COF_OK)
            return err;
    }
    srv_cksum_final(&p->cksum, p->cksum_got);
    const char *want = p->cksum_want[0] != '\0' ? p->cksum_want : NULL;
    if (p->cksum_in_trailer) {
        want = srv_chunked_trailer(&p->dec, srv_cksum_header(p->cksum_alg));
        if (want == NULL) {
            (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                                "The x-amz-trailer checksum was not sent in the trailer.", NULL,
                                NULL);
            return COF_ERR_INVALID_REQUEST;
        }
    }
    if (want != NULL && strcmp(want, p->cksum_got) != 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "The %s you specified did not match the calculated checksum.",
                 srv_cksum_name(p->cksum_alg));
        (void)srv_fail_elem(req, COF_ERR_BAD_DIGEST, msg, NULL, NULL);
        return COF_ERR_BAD_DIGEST;
    }
    return COF_OK;
}

static cof_err put_object_begin(struct srv_req *req)
{
    char *tags = NULL;
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    /* A bad x-amz-tagging is refused before the body is read. */
    if (err == COF_OK)
        err = ops_tagging_header(req, &tags);
    free(tags);
    if (err == COF_OK)
        err = ops_stream_begin(req);
    if (err == COF_OK)
        err = ops_plan_write_enc(req, &req->put->enc);
    if (err != COF_OK)
        req->body_mode = SRV_BODY_IGNORE;
    return err;
}

cof_err ops_put_object_body(struct srv_req *req, const char *data, size_t n)
{
    if (req->put == NULL || req->put->w == NULL)
        return COF_ERR_INTERNAL;
    if (req->put->chunked) {
        cof_err err = srv_chunked_feed(&req->put->dec, data, n);
        return err == COF_ERR_INVALID ? COF_ERR_INCOMPLETE_BODY : err;
    }
    return chunk_data(req, data, n);
}

/* Publishes o, then unlinks the blob it replaced (write protocol: publish, then unlink). */
cof_err ops_publish(struct srv_req *req, struct sto_object *o)
{
    char *replaced = NULL;
    cof_err err = sto_meta_put_object(req->ctx->obj.meta, o, &replaced);
    if (err != COF_OK) {
        obj_blob_discard(&req->ctx->obj, req->rid, o->blob_id, false);
        return err;
    }
    if (replaced != NULL) {
        obj_blob_discard(&req->ctx->obj, req->rid, replaced, true);
        free(replaced);
    }
    obj_gc_if_needed(&req->ctx->obj);
    return COF_OK;
}

/* Finishes writer w into a new object row for the request's bucket/key. calg/cval: the
 * checksum to record (SRV_CKSUM_NONE: none), sealed for SSE-C/SSE-KMS once the blob id is
 * known. */
static cof_err finish_object(struct srv_req *req, struct objio_writer *w, char *headers,
                             const uint8_t *want_md5, const struct objio_seal *seal,
                             enum srv_cksum_alg calg, const char *cval, struct sto_object *o)
{
    uint8_t md5[CRY_MD5_LEN];
    char hex[2 * CRY_MD5_LEN + 1];
    enum ops_versioning st = OPS_UNVERSIONED;
    memset(o, 0, sizeof(*o));
    o->headers = headers;
    cof_err err = ops_versioning_get(req, req->route.bucket, &st);
    if (err == COF_OK)
        err = ops_version_new(st, &o->version_id);
    if (err != COF_OK)
        return err;
    ops_add_version_header(req, st, o->version_id);
    o->bucket = strdup(req->route.bucket);
    o->key = strdup(req->route.key);
    o->mtime_ms = cof_now_ms();
    if (o->bucket == NULL || o->key == NULL)
        return COF_ERR_NOMEM;
    err = objio_writer_finish(w, o, seal, md5);
    if (err != COF_OK)
        return err;
    if (want_md5 != NULL && memcmp(md5, want_md5, CRY_MD5_LEN) != 0) {
        obj_blob_discard(&req->ctx->obj, req->rid, o->blob_id, false);
        return COF_ERR_BAD_DIGEST;
    }
    /* The ETag of an SSE-C or SSE-KMS object must not reveal the plaintext's MD5 (AWS: it is
     * not the MD5; for SSE-C it is random). */
    if (seal->mode != CRY_MODE_SSE_S3 && cry_random(md5, sizeof(md5)) != COF_OK) {
        obj_blob_discard(&req->ctx->obj, req->rid, o->blob_id, false);
        return COF_ERR_INTERNAL;
    }
    srv_hex_encode(md5, CRY_MD5_LEN, hex);
    o->etag = strdup(hex);
    if (o->etag != NULL && calg != SRV_CKSUM_NONE &&
        srv_cks_add_object_line(&o->headers, seal, o->bucket, o->key, o->blob_id, calg, cval) !=
            COF_OK) {
        free(o->etag);
        o->etag = NULL;
    }
    if (o->etag == NULL) {
        obj_blob_discard(&req->ctx->obj, req->rid, o->blob_id, false);
        return COF_ERR_NOMEM;
    }
    return ops_publish(req, o);
}

cof_err ops_put_commit(struct srv_req *req, struct sto_object *o)
{
    struct ops_put *p = req->put;
    char *headers = NULL;
    char etag[80];
    memset(o, 0, sizeof(*o));
    if (p == NULL || p->w == NULL)
        return COF_ERR_INTERNAL;
    cof_err err = ops_body_verify(req);
    if (err == COF_OK)
        err = ops_headers_from_request(req, &headers);
    if (err == COF_OK)
        err = ops_add_internal(&headers, &p->enc);
    char *tags = NULL;
    if (err == COF_OK)
        err = ops_tagging_header(req, &tags); /* checked at begin: cannot fail but for memory */
    if (err == COF_OK && tags != NULL)
        err = ops_set_tagging_line(&headers, tags);
    free(tags);
    /* The checksum is derived from the plaintext: finish_object seals it for SSE-C and SSE-KMS
     * objects (cksum_store.h). */
    struct objio_seal seal;
    ops_seal_for(req, &p->enc, &seal);
    if (err == COF_OK) {
        err = finish_object(req, p->w, headers, p->have_md5 ? p->want_md5 : NULL, &seal,
                            p->cksum_alg, p->cksum_got, o);
        headers = NULL;
    }
    free(headers);
    if (err == COF_OK) {
        snprintf(etag, sizeof(etag), "\"%s\"", o->etag);
        srv_resp_add(req, "ETag", etag);
        ops_add_write_sse_headers(req, o, &p->enc);
        srv_resp_add(req, srv_cksum_header(p->cksum_alg), p->cksum_got);
    }
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

void ops_put_object_cleanup(struct srv_req *req)
{
    if (req->put == NULL)
        return;
    objio_writer_free(req->put->w);
    ops_write_enc_cleanup(&req->put->enc);
    srv_cksum_cleanup(&req->put->cksum);
    free(req->put);
    req->put = NULL;
}

/* ---- conditionals ---- */

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
cof_err ops_check_read_sse(struct srv_req *req, const struct sto_object *o,
                           const struct srv_ssec *ssec)
{
    if (o->sse_mode == CRY_MODE_SSE_C) {
        if (!ssec->present) {
            (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_SSEC_NEEDED, NULL, NULL);
            return COF_ERR_INVALID_REQUEST;
        }
        if (!ssec->md5_sent) {
            (void)srv_fail_elem(req, COF_ERR_ACCESS_DENIED, MSG_SSEC_WRONG, NULL, NULL);
            return COF_ERR_ACCESS_DENIED;
        }
    } else if (ssec->present) {
        (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                            "The encryption parameters are not applicable to this object.", NULL,
                            NULL);
        return COF_ERR_INVALID_REQUEST;
    }
    return COF_OK;
}

/* Loads what o needs to be opened with ssec (SSE-C) or its KMS key (SSE-KMS); replies itself. */
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
        (void)srv_fail_elem(req, COF_ERR_NO_OBJECT, NULL, "Key", o->key);
        return COF_ERR_NO_OBJECT;
    }
    srv_http_date_format(o->mtime_ms / 1000, date);
    srv_resp_add(req, "Last-Modified", date);
    srv_resp_add(req, "Allow", "DELETE");
    (void)srv_fail_elem2(req, COF_ERR_METHOD_NOT_ALLOWED, NULL, "Method",
                         req->is_head ? "HEAD" : "GET", "ResourceType", "DeleteMarker");
    return COF_ERR_METHOD_NOT_ALLOWED;
}

cof_err ops_open_object(struct srv_req *req, const char *bucket, const char *key,
                        const char *version_id, const struct srv_ssec *ssec, struct read_keys *rk,
                        struct sto_object *o, struct objio_reader **out_r)
{
    cof_err err = COF_ERR_INTEGRITY;
    for (int attempt = 0; attempt < 8; attempt++) {
        err = sto_meta_get_version(req->ctx->obj.meta, bucket, key, version_id, o);
        if (err == COF_ERR_NO_BUCKET) {
            (void)srv_fail_elem(req, err, NULL, "BucketName", bucket);
            return err;
        }
        if (err == COF_ERR_NO_OBJECT && version_id != NULL) {
            (void)srv_fail_elem2(req, COF_ERR_NO_SUCH_VERSION, NULL, "Key", key, "VersionId",
                                 version_id);
            return COF_ERR_NO_SUCH_VERSION;
        }
        if (err == COF_ERR_NO_OBJECT) {
            (void)srv_fail_elem(req, err, NULL, "Key", key);
            return err;
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
            (void)srv_fail_elem(req, COF_ERR_ACCESS_DENIED, MSG_SSEC_WRONG, NULL, NULL);
            return COF_ERR_ACCESS_DENIED;
        }
        if (err != COF_ERR_NOT_FOUND)
            return err;
        sto_object_cleanup(o);
    }
    cof_log_error(req->rid, "blob of s3://%s/%s is missing", bucket, key);
    return COF_ERR_INTEGRITY;
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
        (void)srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                            "Part number must be an integer between 1 and 10000, inclusive",
                            "ArgumentName", "partNumber");
        return COF_ERR_INVALID_ARGUMENT;
    }
    size_t parts = o->part_count > 0 ? o->part_count : 1;
    if ((size_t)n > parts) {
        (void)srv_fail_elem(req, COF_ERR_INVALID_PART_NUMBER, NULL, "PartNumberRequested", pn);
        return COF_ERR_INVALID_PART_NUMBER;
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
    struct srv_sse_err e;
    struct read_keys rk;
    memset(&rk, 0, sizeof(rk));
    struct get_stream *g = calloc(1, sizeof(*g));
    char num[64];
    memset(&o, 0, sizeof(o));
    memset(&ssec, 0, sizeof(ssec));
    if (g == NULL)
        return COF_ERR_NOMEM;
    g->rid = req->rid;
    cof_err err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, false, &ssec, &e);
    if (err != COF_OK) {
        (void)srv_fail_arg(req, e.code, e.message, e.arg_name, e.arg_value);
        goto out;
    }
    if (srv_req_header(req, "x-amz-server-side-encryption") != NULL) {
        /* Reads take no SSE-S3/KMS header (AWS GetObject/HeadObject). */
        (void)srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                            "x-amz-server-side-encryption header is not supported for this "
                            "operation.",
                            "ArgumentName", "x-amz-server-side-encryption");
        err = COF_ERR_INVALID_ARGUMENT;
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
    err = add_read_version_header(req, &o);
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

cof_err ops_delete_version(struct srv_req *req, const char *bucket, const char *key,
                           const char *version_id, struct ops_deleted *out)
{
    char *removed = NULL;
    enum ops_versioning st = OPS_UNVERSIONED;
    memset(out, 0, sizeof(*out));
    cof_err err = COF_OK;
    if (version_id != NULL) {
        /* A version id deletes that version for good; deleting a missing one succeeds. */
        err = sto_meta_delete_version(req->ctx->obj.meta, bucket, key, version_id, &out->marker);
        if (err == COF_OK || err == COF_ERR_NO_OBJECT)
            snprintf(out->version_id, sizeof(out->version_id), "%s", version_id);
        if (err == COF_OK)
            (void)obj_gc_drain(&req->ctx->obj);
        return err == COF_ERR_NO_OBJECT ? COF_OK : err;
    }
    err = ops_versioning_get(req, bucket, &st);
    if (err != COF_OK)
        return err;
    if (st == OPS_UNVERSIONED) {
        err = sto_meta_delete_object(req->ctx->obj.meta, bucket, key, &removed);
        if (removed != NULL) {
            obj_blob_discard(&req->ctx->obj, req->rid, removed, true);
            free(removed);
        }
        obj_gc_if_needed(&req->ctx->obj);
        return err == COF_ERR_NO_OBJECT ? COF_OK : err;
    }
    /* Versioned: a delete marker becomes the current version (the null one when suspended,
     * replacing the null version as S3 does). */
    struct sto_object m = {0};
    m.bucket = strdup(bucket);
    m.key = strdup(key);
    m.mtime_ms = cof_now_ms();
    m.delete_marker = true;
    err = m.bucket != NULL && m.key != NULL ? ops_version_new(st, &m.version_id) : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = sto_meta_put_object(req->ctx->obj.meta, &m, &removed);
    if (err == COF_OK) {
        out->marker = true;
        snprintf(out->version_id, sizeof(out->version_id), "%s", m.version_id);
    }
    if (removed != NULL) {
        obj_blob_discard(&req->ctx->obj, req->rid, removed, true);
        free(removed);
    }
    sto_object_cleanup(&m);
    obj_gc_if_needed(&req->ctx->obj);
    return err;
}

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

/* x-amz-copy-source: "[/]bucket/key[?versionId=v]", URL-encoded. */
cof_err ops_parse_copy_source(const char *src, char **out_bucket, char **out_key,
                              char **out_version)
{
    const char *p = src[0] == '/' ? src + 1 : src;
    const char *q = strstr(p, "?versionId=");
    size_t n = q != NULL ? (size_t)(q - p) : strlen(p);
    char *dec = NULL;
    size_t dlen = 0;
    *out_version = NULL;
    if (q != NULL) {
        if (!ops_version_id_valid(q + 11))
            return COF_ERR_BAD_COPY_SOURCE;
        *out_version = strdup(q + 11);
        if (*out_version == NULL)
            return COF_ERR_NOMEM;
    }
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
        (void)srv_fail_elem(req, COF_ERR_INVALID_REQUEST, OPS_MSG_BAD_CKSUM_ALG, NULL, NULL);
        return COF_ERR_INVALID_REQUEST;
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
         *tags = NULL;
    struct sto_object src, dst;
    struct objio_reader *r = NULL;
    struct objio_writer *w = NULL;
    struct srv_xml *x = NULL;
    struct srv_ssec src_key;
    struct write_enc dst_enc;
    struct read_keys rk;
    struct srv_sse_err e;
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

    cof_err err =
        ops_parse_copy_source(srv_req_header(req, "x-amz-copy-source"), &sbucket, &skey, &sversion);
    if (err != COF_OK)
        goto out;
    err = ops_plan_write_enc(req, &dst_enc);
    if (err != COF_OK)
        goto out;
    err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_COPY_SOURCE, false, &src_key, &e);
    if (err != COF_OK) {
        (void)srv_fail_arg(req, e.code, e.message, e.arg_name, e.arg_value);
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
    if (err != COF_OK)
        goto out;

    err = copy_checksum_alg(req, &src, &rk.keys, &calg);
    if (err != COF_OK)
        goto out;
    err = objio_writer_new(&req->ctx->obj, req->rid, &w);
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
        err = finish_object(req, w, headers, NULL, &seal, calg, cval, &dst);
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

cof_err ops_get_object_attributes(struct srv_req *req)
{
    struct sto_object o;
    struct srv_ssec ssec;
    struct srv_sse_err e;
    struct read_keys rk;
    struct srv_xml *x = NULL;
    memset(&o, 0, sizeof(o));
    memset(&ssec, 0, sizeof(ssec));
    memset(&rk, 0, sizeof(rk));
    const char *want = srv_req_header(req, "x-amz-object-attributes");
    if (want == NULL || !attrs_valid(want))
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT, "Invalid attribute name specified.",
                             "ArgumentName", "x-amz-object-attributes");
    cof_err err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, false, &ssec, &e);
    if (err != COF_OK) {
        (void)srv_fail_arg(req, e.code, e.message, e.arg_name, e.arg_value);
        goto out;
    }
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
    if (attr_wanted(want, "Checksum") && o.sse_mode == CRY_MODE_SSE_KMS &&
        rk.keys.kms_material == NULL) {
        err = ops_prepare_read_keys(req, &o, &ssec, &rk); /* for the sealed checksum */
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
        struct part_list pl = {NULL, 0, 0};
        err = sto_meta_object_parts(req->ctx->obj.meta, o.bucket, o.key, o.version_id, collect_part,
                                    &pl);
        if (err == COF_OK) {
            srv_xml_open(x, "ObjectParts");
            srv_xml_elem_u64(x, "PartsCount", o.part_count); /* TotalPartsCount in the API */
            srv_xml_elem(x, "PartNumberMarker", "0");
            srv_xml_elem_u64(x, "NextPartNumberMarker", pl.n);
            srv_xml_elem(x, "MaxParts", "1000");
            srv_xml_elem(x, "IsTruncated", pl.n > 1000 ? "true" : "false");
            for (size_t i = 0; i < pl.n && i < 1000; i++) {
                srv_xml_open(x, "Part");
                srv_xml_elem_u64(x, "PartNumber", i + 1);
                srv_xml_elem_u64(x, "Size", pl.v[i].size);
                srv_xml_close(x);
            }
            srv_xml_close(x);
        }
        part_list_cleanup(&pl);
        if (err != COF_OK)
            goto out;
    }
    if (attr_wanted(want, "StorageClass"))
        srv_xml_elem(x, "StorageClass", "STANDARD");
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

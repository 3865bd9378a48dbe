/* SPDX-License-Identifier: Apache-2.0 */
/* The write side of objects, shared by PutObject, UploadPart, CopyObject, CreateMultipartUpload
 * and POST Object: how a write is encrypted (SSE mode and keys), the stored headers from the
 * request, the streamed body (aws-chunked, checksums, Content-MD5), sealing and publishing. */

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/write.h"

#include "common/buf.h"
#include "common/clock.h"
#include "common/hex.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "object/cksum_store.h"
#include "object/gc.h"
#include "object/stored.h"
#include "ops/objlock.h"
#include "ops/expiration.h"
#include "ops/read.h"
#include "ops/access.h"
#include "ops/tags.h"
#include "ops/versions.h"
#include "s3/httpfmt.h"
#include "s3/sigv4.h"
#include "s3/xml.h"
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

/* The stored block is one "name:value" line per header: a value with a line break (only POST
 * Object's form fields can carry one) would add lines of its own, internal ones included. */
static bool one_line(const char *value)
{
    return strpbrk(value, "\r\n") == NULL;
}

static void collect_meta(void *arg, const char *name, const char *value)
{
    struct collect *c = arg;
    if (c->err != COF_OK || strncasecmp(name, "x-amz-meta-", 11) != 0)
        return;
    if (!one_line(value))
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

/* Appends the Content-Encoding line for value v without its aws-chunked coding (AWS stores
 * "gzip, aws-chunked" as "gzip", and no line at all for a bare "aws-chunked"). */
static cof_err append_content_encoding(struct cof_buf *b, const char *v)
{
    cof_err err = COF_OK;
    bool first = true;
    while (*v != '\0' && err == COF_OK) {
        const char *end = strchr(v, ',');
        size_t len = end != NULL ? (size_t)(end - v) : strlen(v);
        const char *tok = v;
        size_t tl = len;
        while (tl > 0 && (*tok == ' ' || *tok == '\t')) {
            tok++;
            tl--;
        }
        while (tl > 0 && (tok[tl - 1] == ' ' || tok[tl - 1] == '\t'))
            tl--;
        if (tl > 0 && !(tl == 11 && strncasecmp(tok, "aws-chunked", 11) == 0)) {
            err = cof_buf_printf(b, "%s%.*s", first ? "Content-Encoding:" : ", ", (int)tl, tok);
            first = false;
        }
        v += len + (end != NULL ? 1 : 0);
    }
    if (err == COF_OK && !first)
        err = cof_buf_append(b, "\n", 1);
    return err;
}

/* Builds the stored header block from the request (PUT, or COPY with REPLACE). */
cof_err ops_headers_from_request(struct srv_req *req, char **out)
{
    struct cof_buf b;
    cof_buf_init(&b, 64 * 1024);
    cof_err err = COF_OK;
    for (size_t i = 0; i < N_STORED && err == COF_OK; i++) {
        const char *v = srv_req_header(req, stored_headers[i]);
        if (v != NULL && !one_line(v))
            v = NULL; /* dropped, as user metadata values with a line break are */
        if (i == 0 && (v == NULL || *v == '\0'))
            v = "binary/octet-stream";
        if (v == NULL)
            continue;
        /* aws-chunked is a transfer detail, never part of the stored Content-Encoding. */
        if (i == 1)
            err = append_content_encoding(&b, v);
        else
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
        err = srv_fail_elem(req, err,
                            "The header 'x-amz-server-side-encryption-context' shall be Base64-"
                            "encoded UTF-8 string holding JSON which represents a string-string "
                            "map",
                            "ArgumentName", "x-amz-server-side-encryption-context");
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
 * else the bucket's default (SSE-S3 unless the bucket says aws:kms). Fails with AWS's error
 * itself on failure. */
cof_err ops_plan_write_enc(struct srv_req *req, struct write_enc *out)
{
    const char *sse = srv_req_header(req, "x-amz-server-side-encryption");
    const char *kms_id = srv_req_header(req, "x-amz-server-side-encryption-aws-kms-key-id");
    const char *bk = srv_req_header(req, "x-amz-server-side-encryption-bucket-key-enabled");
    struct srv_problem prob;
    char msg[256];
    memset(out, 0, sizeof(*out));
    cof_err err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, true, &out->ssec, &prob);
    if (out->ssec.present && sse != NULL) {
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT,
                            "Server Side Encryption with Customer provided key is "
                            "incompatible with the encryption method specified",
                            "x-amz-server-side-encryption", sse);
    }
    if (err != COF_OK)
        return srv_fail_problem(req, &prob);
    /* The aws profile wants customer keys and KMS requests over TLS, as AWS does. */
    bool secure_needed = req->ctx->cfg->profile == SRV_PROFILE_AWS && !req->tls;
    if (out->ssec.present) {
        if (secure_needed) {
            return srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                                 "Requests specifying Server Side Encryption with Customer "
                                 "provided keys must be made over a secure connection.",
                                 NULL, NULL);
        }
        if (bucket_blocks_ssec(req)) {
            return srv_fail_elem(req, COF_ERR_ACCESS_DENIED,
                                 "The request was denied because this bucket has blocked upload "
                                 "requests that specify Server Side Encryption with Customer "
                                 "provided keys (SSE-C). Please specify a different server-side "
                                 "encryption type.",
                                 NULL, NULL);
        }
        return COF_OK;
    }
    bool kms = false;
    if (sse != NULL) {
        if (strcmp(sse, "aws:kms") == 0 || strcmp(sse, "aws:kms:dsse") == 0) {
            kms = true;
            out->dsse = strcmp(sse, "aws:kms:dsse") == 0;
        } else if (strcmp(sse, "AES256") != 0) {
            return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                                 "The encryption method specified is not supported", "ArgumentName",
                                 "x-amz-server-side-encryption");
        }
    }
    if (kms_id != NULL && !kms) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                             "Server Side Encryption with AWS KMS managed key requires HTTP "
                             "header x-amz-server-side-encryption : aws:kms",
                             "ArgumentName", "x-amz-server-side-encryption-aws-kms-key-id");
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
            err = srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                                "Requests specifying Server Side Encryption with AWS KMS managed "
                                "keys must be made over a secure connection.",
                                NULL, NULL);
        }
        if (err == COF_OK && bk != NULL)
            out->bucket_key = strcasecmp(bk, "true") == 0;
        if (err == COF_OK) {
            err = srv_kms_resolve(&req->ctx->obj, kms_id, !req->ctx->cfg->kms_validate, &out->kms,
                                  msg, sizeof(msg));
            if (err != COF_OK)
                err = ops_kms_fail(req, err, msg);
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
        objio_seal_sse_kms(e->kms.material, e->kms.ref, e->context, seal);
    else
        objio_seal_sse_s3(&req->ctx->obj, seal);
}

/* Appends the internal lines a write needs (SSE-KMS context, bucket key). Takes *block. */
cof_err ops_add_internal(char **block, const struct write_enc *e)
{
    if (!e->kms_used)
        return COF_OK;
    cof_err err = obj_stored_append(block, OBJ_STORED_CONTEXT, "%s", e->context);
    if (err == COF_OK && e->bucket_key)
        err = obj_stored_append(block, OBJ_STORED_BUCKET_KEY, "true");
    if (err == COF_OK && e->dsse)
        err = obj_stored_append(block, OBJ_STORED_DSSE, "true");
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
    cof_hex_encode(h, sizeof(h), hex);
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
        cof_hex_encode(h, sizeof(h), hex);
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
 * the default CRC64NVME computed for the record. fails with AWS's message itself (srv_fail) on
 * error. */
cof_err ops_plan_checksum(struct srv_req *req, struct ops_put *p)
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
            return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, msg, NULL, NULL);
        }
        memcpy(p->cksum_want, v, strlen(v) + 1);
    }
    if (trailer != NULL) {
        enum srv_cksum_alg ta = SRV_CKSUM_NONE;
        for (int a = 1; a < SRV_CKSUM__COUNT; a++)
            if (strcasecmp(trailer, srv_cksum_header((enum srv_cksum_alg)a)) == 0)
                ta = (enum srv_cksum_alg)a;
        if (ta == SRV_CKSUM_NONE || !p->chunked) {
            return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_BAD_TRAILER, NULL, NULL);
        }
        n++;
        p->cksum_alg = ta;
        p->cksum_in_trailer = true;
    }
    if (n > 1) {
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_MULTI_CKSUM, NULL, NULL);
    }
    if (n == 0 && sdk != NULL) {
        enum srv_cksum_alg sa = srv_cksum_parse_name(sdk);
        if (sa == SRV_CKSUM_NONE) {
            return srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                                 "Value for x-amz-sdk-checksum-algorithm header is invalid.", NULL,
                                 NULL);
        }
        p->cksum_alg = sa; /* computed and returned, nothing to compare with */
    }
    p->cksum_explicit = p->cksum_alg != SRV_CKSUM_NONE;
    if (p->cksum_alg == SRV_CKSUM_NONE)
        p->cksum_alg = SRV_CKSUM_CRC64NVME; /* AWS's default when the client sends none */
    return srv_cksum_init(&p->cksum, p->cksum_alg);
}

cof_err ops_body_framing(struct srv_req *req, bool *out_chunked, uint64_t *out_decoded)
{
    uint64_t len = 0;
    bool have_len = false;
    *out_chunked = false;
    *out_decoded = 0;
    cof_err err = ops_parse_length(req, &len, &have_len);
    if (err != COF_OK)
        return err;
    const char *te = srv_req_header(req, "Transfer-Encoding");
    if (!have_len && (te == NULL || strcasecmp(te, "chunked") != 0))
        return COF_ERR_MISSING_LENGTH;
    const char *ce = srv_req_header(req, "Content-Encoding");
    const char *sha = srv_req_header(req, "x-amz-content-sha256");
    const char *dl = srv_req_header(req, "x-amz-decoded-content-length");
    /* aws-chunked framing: a STREAMING-* payload, or Content-Encoding aws-chunked with the decoded
     * length. AWS takes Content-Encoding "gzip, aws-chunked" without that length and without a
     * STREAMING-* payload as a plain body (stored with Content-Encoding gzip). */
    bool chunked = (ce != NULL && strstr(ce, "aws-chunked") != NULL && dl != NULL) ||
                   (sha != NULL && strncmp(sha, "STREAMING-", 10) == 0);
    uint64_t decoded = have_len ? len : OPS_SIZE_UNKNOWN;
    if (chunked) {
        /* The payload size is x-amz-decoded-content-length; Content-Length counts framing. */
        char *end = NULL;
        if (dl == NULL)
            return COF_ERR_MISSING_LENGTH;
        decoded = strtoull(dl, &end, 10);
        if (end == dl || *end != '\0')
            return COF_ERR_INVALID_ARGUMENT;
    }
    if ((have_len || chunked) && decoded > SRV_MAX_OBJECT_SIZE)
        return COF_ERR_ENTITY_TOO_LARGE;
    *out_chunked = chunked;
    *out_decoded = decoded;
    return COF_OK;
}

cof_err ops_stream_begin(struct srv_req *req)
{
    bool chunked = false;
    uint64_t decoded = 0;
    cof_err err = ops_body_framing(req, &chunked, &decoded);
    if (err != COF_OK)
        return err;
    err = ops_put_start(req, chunked);
    if (err != COF_OK)
        return err;
    struct ops_put *p = req->put;
    p->decoded_len = decoded;
    if (decoded != OPS_SIZE_UNKNOWN)
        objio_writer_expect(p->w, decoded);
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
    cof_err err = ops_plan_checksum(req, p);
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
            return srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                                 "The x-amz-trailer checksum was not sent in the trailer.", NULL,
                                 NULL);
        }
    }
    if (want != NULL && strcmp(want, p->cksum_got) != 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "The %s you specified did not match the calculated checksum.",
                 srv_cksum_name(p->cksum_alg));
        return srv_fail_elem(req, COF_ERR_BAD_DIGEST, msg, NULL, NULL);
    }
    return COF_OK;
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

/* ---- conditional writes ---- */

cof_err ops_write_precond(struct srv_req *req, struct sto_precond *pc, char *etag_buf, size_t cap)
{
    const char *inm = srv_req_header(req, "If-None-Match");
    const char *im = srv_req_header(req, "If-Match");
    memset(pc, 0, sizeof(*pc));
    if (inm != NULL) {
        while (*inm == ' ' || *inm == '\t')
            inm++;
        size_t n = strlen(inm);
        while (n > 0 && (inm[n - 1] == ' ' || inm[n - 1] == '\t'))
            n--;
        /* AWS takes only * on a write (and answers anything else this way). */
        if (n != 1 || inm[0] != '*') {
            return srv_fail_elem(req, COF_ERR_NOT_IMPLEMENTED, NULL, "Header", "If-None-Match");
        }
        pc->if_none_match = true;
    }
    if (im != NULL) {
        /* The stored ETag has no quotes; the header usually has them ("<etag>"). */
        while (*im == ' ' || *im == '\t')
            im++;
        size_t n = strlen(im);
        while (n > 0 && (im[n - 1] == ' ' || im[n - 1] == '\t'))
            n--;
        if (n >= 2 && im[0] == '"' && im[n - 1] == '"') {
            im++;
            n -= 2;
        }
        if (n >= cap)
            n = cap - 1; /* longer than any ETag: compares unequal */
        memcpy(etag_buf, im, n);
        etag_buf[n] = '\0';
        pc->if_match = etag_buf;
    }
    return COF_OK;
}

cof_err ops_precond_fail(struct srv_req *req, cof_err err, const struct sto_precond *pc,
                         bool at_commit)
{
    /* storage checks If-None-Match first: with both headers, a live object fails that one */
    if (err == COF_ERR_PRECONDITION) {
        return srv_fail_elem(req, err, NULL, "Condition",
                             pc->if_none_match ? "If-None-Match" : "If-Match");
    }
    if (err == COF_ERR_NO_OBJECT && at_commit)
        return srv_fail_elem(req, COF_ERR_CONDITIONAL_CONFLICT, NULL, "Condition", "If-Match");
    if (err == COF_ERR_NO_OBJECT)
        return srv_fail_elem(req, err, NULL, "Key", req->route.key);
    return err;
}

cof_err ops_write_precheck(struct srv_req *req, const struct sto_precond *pc)
{
    if (pc->if_match == NULL && !pc->if_none_match)
        return COF_OK;
    cof_err err = sto_meta_precond_check(req->ctx->obj.meta, req->route.bucket, req->route.key, pc);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    return ops_precond_fail(req, err, pc, false);
}

/* Publishes o, then unlinks the blob it replaced (write protocol: publish, then unlink). */
cof_err ops_publish(struct srv_req *req, struct sto_object *o)
{
    char *replaced = NULL;
    char etag[80];
    struct sto_precond pc;
    cof_err err = ops_write_precond(req, &pc, etag, sizeof(etag));
    /* The new version's Object Lock: the request's headers or the bucket's default. */
    if (err == COF_OK)
        err = ops_lock_for_write(req, o->bucket, o->mtime_ms, &o->lock);
    if (err == COF_OK)
        err = sto_meta_put_object_if(req->ctx->obj.meta, o, &pc, &replaced);
    if (err != COF_OK) {
        obj_blob_discard(&req->ctx->obj, req->rid, o->blob_id, false);
        return ops_precond_fail(req, err, &pc, true);
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
cof_err ops_finish_object(struct srv_req *req, struct objio_writer *w, char *headers,
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
    cof_hex_encode(md5, CRY_MD5_LEN, hex);
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
    err = ops_publish(req, o);
    if (err == COF_OK)
        ops_add_write_version_header(req, st, o->version_id);
    if (err == COF_OK)
        ops_lifecycle_add_expiration(req, o);
    return err;
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
    char *acl = NULL;
    if (err == COF_OK)
        err = ops_acl_for_write(req, req->route.bucket, &acl); /* checked at begin */
    if (err == COF_OK && acl != NULL)
        err = ops_set_acl_line(&headers, acl);
    free(acl);
    /* The checksum is derived from the plaintext: ops_finish_object seals it for SSE-C and SSE-KMS
     * objects (cksum_store.h). */
    struct objio_seal seal;
    ops_seal_for(req, &p->enc, &seal);
    if (err == COF_OK) {
        err = ops_finish_object(req, p->w, headers, p->have_md5 ? p->want_md5 : NULL, &seal,
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

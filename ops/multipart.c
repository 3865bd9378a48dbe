/* SPDX-License-Identifier: Apache-2.0 */
/* Multipart uploads: CreateMultipartUpload, UploadPart (streamed, each part its own encrypted
 * blob with its own data key), CompleteMultipartUpload (links the parts: no data copied),
 * AbortMultipartUpload, ListParts, ListMultipartUploads. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/hex.h"
#include "object/stored.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/envelope.h"
#include "object/gc.h"
#include "object/cksum_store.h"
#include "s3/httpfmt.h"
#include "ops/expiration.h"
#include "ops/handlers.h"
#include "ops/bucketcfg.h"
#include "ops/objlock.h"
#include "ops/copysrc.h"
#include "ops/listparams.h"
#include "ops/read.h"
#include "ops/access.h"
#include "ops/tags.h"
#include "ops/versions.h"
#include "ops/write.h"
#include "ops/req.h"
#include "s3/uri.h"
#include "s3/xml.h"
#include "storage/blob.h"
#include "storage/meta.h"

#define MIN_PART_SIZE (5u * 1024 * 1024) /* every part but the last (AWS) */
#define LIST_MAX      1000
#define OBJ_CKSUM_MAX 96 /* a multipart object's checksum: base64, "-", part count */

#define MSG_PART_SSEC_NEEDED                                                                       \
    "The multipart upload initiate requested encryption. Subsequent part requests must include "   \
    "the appropriate encryption parameters."
#define MSG_PART_SSEC_MISMATCH                                                                     \
    "The provided encryption parameters did not match the ones used originally."

static const uint8_t no_blob[CRY_BLOB_ID_LEN];

/* The SSE-C check value of an upload: a random token wrapped under the customer key, so later
 * parts can prove they carry the same key without anything about the key being stored. */
static void check_ctx(const char *bucket, const char *key, struct cry_wrap_ctx *wc)
{
    *wc = (struct cry_wrap_ctx){CRY_MODE_SSE_C, bucket, key, "upload-key-check", no_blob, NULL};
}

static cof_err new_upload_id(char out[STO_BLOB_ID_HEX + 1])
{
    return sto_blob_new_id(out, NULL);
}

/* x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload. COMPOSITE: the
 * object's checksum is ALG(part checksums)-N; FULL_OBJECT: the CRC of the whole object, combined
 * from the part CRCs at Complete. CRC64NVME can only be FULL_OBJECT, SHA1/SHA256 only COMPOSITE;
 * an algorithm without a type takes the one it supports (CRC32/CRC32C: COMPOSITE). Without an
 * algorithm, *alg stays NONE (Complete then gives the default CRC64NVME FULL_OBJECT checksum when
 * every part carries a CRC64NVME). fails with AWS's message itself (srv_fail) on error. */
static cof_err plan_mpu_checksum(struct srv_req *req, enum srv_cksum_alg *alg, bool *full)
{
    const char *calg = srv_req_header(req, "x-amz-checksum-algorithm");
    const char *type = srv_req_header(req, "x-amz-checksum-type");
    const char *msg = NULL;
    char buf[128];
    *alg = calg != NULL ? srv_cksum_parse_name(calg) : SRV_CKSUM_NONE;
    *full = *alg == SRV_CKSUM_CRC64NVME;
    if (calg != NULL && *alg == SRV_CKSUM_NONE)
        msg = OPS_MSG_BAD_CKSUM_ALG;
    else if (type != NULL && strcmp(type, "FULL_OBJECT") != 0 && strcmp(type, "COMPOSITE") != 0)
        msg = "Value for x-amz-checksum-type header is invalid.";
    else if (type != NULL && calg == NULL)
        msg = "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
              "header.";
    if (msg == NULL && type != NULL) {
        *full = strcmp(type, "FULL_OBJECT") == 0;
        /* AWS names the algorithm in lower case here */
        if ((*full && !srv_cksum_is_crc(*alg)) || (!*full && *alg == SRV_CKSUM_CRC64NVME)) {
            char lower[16];
            const char *n = srv_cksum_name(*alg);
            size_t i = 0;
            for (; n[i] != '\0' && i + 1 < sizeof(lower); i++)
                lower[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' : n[i]);
            lower[i] = '\0';
            snprintf(buf, sizeof(buf),
                     "The %s checksum type cannot be used with the %s checksum algorithm.", type,
                     lower);
            msg = buf;
        }
    }
    if (msg == NULL)
        return COF_OK;
    return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, msg, NULL, NULL);
}

cof_err ops_create_multipart(struct srv_req *req)
{
    struct write_enc enc;
    struct sto_upload u;
    struct cry_key *token = NULL;
    uint8_t check[CRY_WRAPPED_LEN];
    char id[STO_BLOB_ID_HEX + 1];
    char *headers = NULL;
    struct srv_xml *x = NULL;
    memset(&enc, 0, sizeof(enc));
    memset(&u, 0, sizeof(u));
    cof_err err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = ops_plan_write_enc(req, &enc);
    if (err == COF_OK)
        err = ops_headers_from_request(req, &headers);
    if (err == COF_OK)
        err = ops_add_internal(&headers, &enc);
    /* x-amz-tagging: the tags travel in the upload's headers to the completed object. */
    char *tags = NULL;
    if (err == COF_OK)
        err = ops_tagging_header(req, &tags);
    if (err == COF_OK && tags != NULL)
        err = ops_set_tagging_line(&headers, tags);
    free(tags);
    /* x-amz-object-lock-*: checked now, applied by Complete. */
    if (err == COF_OK)
        err = ops_lock_for_upload(req, req->route.bucket, &headers);
    /* x-amz-acl / x-amz-grant-*: so does the ACL. */
    char *acl = NULL;
    if (err == COF_OK)
        err = ops_acl_for_write(req, req->route.bucket, &acl);
    if (err == COF_OK && acl != NULL)
        err = ops_set_acl_line(&headers, acl);
    free(acl);
    enum srv_cksum_alg mpu_alg = SRV_CKSUM_NONE;
    bool full_object = false;
    if (err == COF_OK)
        err = plan_mpu_checksum(req, &mpu_alg, &full_object);
    if (err == COF_OK && mpu_alg != SRV_CKSUM_NONE) {
        struct cof_buf b;
        char *nh = NULL;
        cof_buf_init(&b, 128 * 1024);
        err = cof_buf_printf(&b, "%s" OBJ_STORED_MPU_CHECKSUM ":%s\n", headers,
                             srv_cksum_name(mpu_alg));
        if (err == COF_OK && full_object)
            err = cof_buf_puts(&b, OBJ_STORED_MPU_CHECKSUM_TYPE ":FULL_OBJECT\n");
        if (err == COF_OK)
            err = cof_buf_steal(&b, &nh);
        cof_buf_cleanup(&b);
        if (err == COF_OK) {
            free(headers);
            headers = nh;
        }
    }
    if (err == COF_OK)
        err = new_upload_id(id);
    u.upload_id = id;
    u.bucket = req->route.bucket;
    u.key = req->route.key;
    u.initiated_ms = cof_now_ms();
    u.headers = headers;
    u.sse_mode = enc.ssec.key != NULL ? CRY_MODE_SSE_C
                 : enc.kms_used       ? CRY_MODE_SSE_KMS
                                      : CRY_MODE_SSE_S3;
    u.kek_id = enc.ssec.key != NULL ? "customer" : enc.kms_used ? enc.kms.ref : "";
    if (err == COF_OK && enc.ssec.key != NULL) {
        struct cry_wrap_ctx wc;
        check_ctx(req->route.bucket, req->route.key, &wc);
        err = cry_key_new_random(&token);
        if (err == COF_OK)
            err = cry_env_wrap(enc.ssec.key, &wc, token, check);
        u.check_wrap = check;
        u.check_len = sizeof(check);
    }
    if (err == COF_OK)
        err = sto_meta_upload_create(req->ctx->obj.meta, &u);
    if (err == COF_ERR_NO_BUCKET)
        err = ops_bucket_must_exist(req, req->route.bucket);
    if (err == COF_OK)
        err = srv_xml_new("InitiateMultipartUploadResult", &x);
    if (err == COF_OK) {
        srv_xml_elem(x, "Bucket", req->route.bucket);
        srv_xml_elem(x, "Key", req->route.key);
        srv_xml_elem(x, "UploadId", id);
        if (mpu_alg != SRV_CKSUM_NONE) {
            srv_resp_add(req, "x-amz-checksum-algorithm", srv_cksum_name(mpu_alg));
            srv_resp_add(req, "x-amz-checksum-type", full_object ? "FULL_OBJECT" : "COMPOSITE");
        }
        struct sto_object view = {
            .sse_mode = u.sse_mode, .kek_id = (char *)(uintptr_t)u.kek_id, .headers = headers};
        ops_add_write_sse_headers(req, &view, &enc);
        err = ops_reply_doc(req, x);
    }
    cry_key_free(token);
    free(headers);
    ops_write_enc_cleanup(&enc);
    return err;
}

/* Reads partNumber (1..10000). fails with AWS's message itself (srv_fail) on error. */
static cof_err part_number(struct srv_req *req, int *out)
{
    const char *pn = srv_query_get(&req->query, "partNumber");
    char *end = NULL;
    long v = pn != NULL ? strtol(pn, &end, 10) : 0;
    if (pn == NULL || end == pn || *end != '\0' || v < 1 || v > (long)SRV_MAX_PARTS) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                             "Part number must be an integer between 1 and 10000, inclusive",
                             "ArgumentName", "partNumber");
    }
    *out = (int)v;
    return COF_OK;
}

/* Reads the upload a request names; NoSuchUpload/NoSuchBucket replied. */
static cof_err get_upload(struct srv_req *req, struct sto_upload *u)
{
    const char *id = srv_query_get(&req->query, "uploadId");
    cof_err err = sto_meta_upload_get(req->ctx->obj.meta, req->route.bucket, req->route.key,
                                      id != NULL ? id : "", u);
    if (err == COF_ERR_NO_BUCKET)
        err = ops_no_bucket(req);
    if (err == COF_ERR_NO_SUCH_UPLOAD)
        err = srv_fail_elem(req, err, NULL, "UploadId", id != NULL ? id : "");
    return err;
}

/* UploadPart's key material must match the initiate: SSE-C with the same key, or none. */
static cof_err check_part_sse(struct srv_req *req, const struct sto_upload *u,
                              const struct srv_ssec *ssec)
{
    if (srv_req_header(req, "x-amz-server-side-encryption") != NULL) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                             "x-amz-server-side-encryption header is not supported for this "
                             "operation.",
                             "ArgumentName", "x-amz-server-side-encryption");
    }
    if ((u->sse_mode == CRY_MODE_SSE_C) != ssec->present) {
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_PART_SSEC_NEEDED, NULL, NULL);
    }
    if (u->sse_mode != CRY_MODE_SSE_C)
        return COF_OK;
    struct cry_wrap_ctx wc;
    struct cry_key *token = NULL;
    check_ctx(u->bucket, u->key, &wc);
    cof_err err = cry_env_unwrap(ssec->key, &wc, u->check_wrap, u->check_len, &token);
    cry_key_free(token);
    if (err != COF_OK) {
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, MSG_PART_SSEC_MISMATCH, NULL, NULL);
    }
    return COF_OK;
}

static cof_err upload_part_begin(struct srv_req *req)
{
    struct sto_upload u;
    struct srv_problem prob;
    int pn = 0;
    cof_err err = part_number(req, &pn);
    if (err == COF_OK)
        err = get_upload(req, &u);
    if (err != COF_OK)
        return err;
    err = ops_stream_begin(req);
    if (err == COF_OK) {
        err =
            srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, true, &req->put->enc.ssec, &prob);
        if (err != COF_OK)
            err = srv_fail_problem(req, &prob);
    }
    if (err == COF_OK)
        err = check_part_sse(req, &u, &req->put->enc.ssec);
    char name[32];
    bool declared = obj_stored_value(u.headers, OBJ_STORED_MPU_CHECKSUM, name, sizeof(name));
    if (err == COF_OK && declared && req->put->cksum_explicit &&
        req->put->cksum_alg != srv_cksum_parse_name(name)) {
        /* A part must carry the upload's algorithm (AWS's message, algorithms in lower case). */
        char msg[160], want[32], got[32];
        snprintf(want, sizeof(want), "%s", name);
        snprintf(got, sizeof(got), "%s", srv_cksum_name(req->put->cksum_alg));
        for (char *s = want; *s != '\0'; s++)
            *s = (char)tolower((unsigned char)*s);
        for (char *s = got; *s != '\0'; s++)
            *s = (char)tolower((unsigned char)*s);
        snprintf(msg, sizeof(msg),
                 "Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum "
                 "Type: %s",
                 want, got);
        err = srv_fail_elem(req, COF_ERR_INVALID_REQUEST, msg, NULL, NULL);
    }
    if (err == COF_OK && !req->put->cksum_explicit && declared) {
        /* The upload declared an algorithm: each part gets that checksum. */
        srv_cksum_cleanup(&req->put->cksum);
        req->put->cksum_alg = srv_cksum_parse_name(name);
        err = srv_cksum_init(&req->put->cksum, req->put->cksum_alg);
    }
    sto_upload_cleanup(&u);
    if (err != COF_OK)
        req->body_mode = SRV_BODY_IGNORE;
    return err;
}

/* Seals what w holds as part pn of upload u (in the upload's SSE mode) and stores it, replacing
 * an earlier part pn. want_md5: Content-MD5 to check, or NULL. Fills etag (hex) and mtime.
 * Replies KMS and NoSuchUpload errors itself. */
static cof_err store_part(struct srv_req *req, const struct sto_upload *u, int pn,
                          struct objio_writer *w, const struct cry_key *customer_key,
                          const uint8_t *want_md5, const char *checksum,
                          char etag[2 * CRY_MD5_LEN + 1], int64_t *out_mtime)
{
    struct sto_object tmp;
    struct srv_kms_key kms;
    struct sto_part part;
    struct objio_seal seal;
    char context[4096], msg[256];
    uint8_t md5[CRY_MD5_LEN];
    char *replaced = NULL;
    cof_err err = COF_OK;
    memset(&tmp, 0, sizeof(tmp));
    memset(&kms, 0, sizeof(kms));
    /* The part is sealed like the object it will become part of. */
    if (u->sse_mode == CRY_MODE_SSE_C) {
        objio_seal_sse_c(customer_key, &seal);
    } else if (u->sse_mode == CRY_MODE_SSE_KMS) {
        err = srv_kms_load(&req->ctx->obj, u->kek_id, &kms, msg, sizeof(msg));
        if (err != COF_OK)
            err = ops_kms_fail(req, err, msg);
        if (!obj_stored_value(u->headers, OBJ_STORED_CONTEXT, context, sizeof(context)))
            context[0] = '\0';
        objio_seal_sse_kms(kms.material, kms.ref, context[0] ? context : NULL, &seal);
    } else {
        objio_seal_sse_s3(&req->ctx->obj, &seal);
    }
    tmp.bucket = strdup(u->bucket);
    tmp.key = strdup(u->key);
    tmp.version_id = strdup("null");
    if (err == COF_OK && (tmp.bucket == NULL || tmp.key == NULL || tmp.version_id == NULL))
        err = COF_ERR_NOMEM;
    objio_writer_keep_file(w); /* parts stay files: inline bodies belong to object rows */
    if (err == COF_OK)
        err = objio_writer_finish(w, &tmp, &seal, md5);
    if (err == COF_OK && want_md5 != NULL && memcmp(md5, want_md5, CRY_MD5_LEN) != 0) {
        obj_blob_discard(&req->ctx->obj, req->rid, tmp.blob_id, false);
        err = COF_ERR_BAD_DIGEST;
    }
    /* The part's checksum is plaintext-derived: sealed for SSE-C/SSE-KMS, bound to its blob. */
    char stored_ck[SRV_CKS_STORED_MAX];
    if (err == COF_OK && checksum != NULL) {
        err = srv_cks_part_for_store(&seal, u->bucket, u->key, tmp.blob_id, checksum, stored_ck,
                                     sizeof(stored_ck));
        if (err != COF_OK)
            obj_blob_discard(&req->ctx->obj, req->rid, tmp.blob_id, false);
    }
    /* Only SSE-S3 part ETags are the MD5 of the part (AWS). */
    if (err == COF_OK && u->sse_mode != CRY_MODE_SSE_S3 && cry_random(md5, sizeof(md5)) != COF_OK)
        err = COF_ERR_INTERNAL;
    if (err == COF_OK) {
        cof_hex_encode(md5, CRY_MD5_LEN, etag);
        *out_mtime = cof_now_ms();
        part = (struct sto_part){.part_number = pn,
                                 .size = tmp.size,
                                 .etag = etag,
                                 .mtime_ms = *out_mtime,
                                 .blob_id = tmp.blob_id,
                                 .kek_id = tmp.kek_id,
                                 .wrapped_dek = tmp.wrapped_dek,
                                 .wrapped_len = tmp.wrapped_len,
                                 .checksum = checksum != NULL ? stored_ck : NULL};
        err = sto_meta_part_put(req->ctx->obj.meta, u->upload_id, &part, &replaced);
        if (err != COF_OK)
            obj_blob_discard(&req->ctx->obj, req->rid, tmp.blob_id, false);
        if (err == COF_ERR_NO_SUCH_UPLOAD) /* aborted or completed meanwhile */
            err = srv_fail_elem(req, err, NULL, "UploadId", u->upload_id);
    }
    if (replaced != NULL) {
        obj_blob_discard(&req->ctx->obj, req->rid, replaced, true);
        free(replaced);
    }
    srv_kms_key_cleanup(&kms);
    sto_object_cleanup(&tmp);
    return err;
}

cof_err ops_upload_part_finish(struct srv_req *req)
{
    struct ops_put *p = req->put;
    struct sto_upload u;
    char etag[2 * CRY_MD5_LEN + 1], quoted[80];
    int64_t mtime = 0;
    int pn = 0;
    if (p == NULL || p->w == NULL)
        return COF_ERR_INTERNAL;
    cof_err err = part_number(req, &pn);
    if (err == COF_OK)
        err = ops_body_verify(req);
    if (err == COF_OK)
        err = get_upload(req, &u);
    if (err != COF_OK)
        return err;
    char cks[SRV_CKSUM_B64_MAX + 16];
    snprintf(cks, sizeof(cks), "%s %s", srv_cksum_name(p->cksum_alg), p->cksum_got);
    err = store_part(req, &u, pn, p->w, p->enc.ssec.key, p->have_md5 ? p->want_md5 : NULL, cks,
                     etag, &mtime);
    if (err == COF_OK) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
        srv_resp_add(req, "ETag", quoted);
        struct sto_object view = {.sse_mode = u.sse_mode, .kek_id = u.kek_id, .headers = u.headers};
        ops_add_sse_headers(req, &view, &p->enc.ssec);
        srv_resp_add(req, srv_cksum_header(p->cksum_alg), p->cksum_got);
        err = srv_reply(req, 200, NULL, "", 0);
    }
    sto_upload_cleanup(&u);
    return err;
}

/* x-amz-copy-source-range: "bytes=first-last" within the source. fails with AWS's message itself
 * (srv_fail). */
static cof_err copy_range(struct srv_req *req, uint64_t size, uint64_t *first, uint64_t *len)
{
    const char *r = srv_req_header(req, "x-amz-copy-source-range");
    *first = 0;
    *len = size;
    if (r == NULL)
        return COF_OK;
    unsigned long long a = 0, b = 0;
    char tail = 0;
    if (sscanf(r, "bytes=%llu-%llu%c", &a, &b, &tail) != 2 || a > b) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                             "The x-amz-copy-source-range value must be of the form "
                             "bytes=first-last where first and last are the zero-based offsets "
                             "of the first and last bytes to copy",
                             "ArgumentName", "x-amz-copy-source-range");
    }
    if (b >= size) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Range specified is not valid for source object of size: %llu",
                 (unsigned long long)size);
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT, msg, "ArgumentName",
                             "x-amz-copy-source-range");
    }
    *first = a;
    *len = b - a + 1;
    return COF_OK;
}

cof_err ops_upload_part_copy(struct srv_req *req)
{
    struct sto_upload u;
    struct srv_ssec src_key, dst_key;
    struct srv_problem prob;
    struct read_keys rk;
    struct sto_object src;
    struct objio_reader *r = NULL;
    struct objio_writer *w = NULL;
    struct srv_xml *x = NULL;
    char *sbucket = NULL, *skey = NULL, *sversion = NULL, *doc = NULL;
    uint8_t *buf = NULL;
    char etag[2 * CRY_MD5_LEN + 1];
    int64_t mtime = 0;
    size_t doclen = 0;
    int pn = 0;
    memset(&u, 0, sizeof(u));
    memset(&src_key, 0, sizeof(src_key));
    memset(&dst_key, 0, sizeof(dst_key));
    memset(&rk, 0, sizeof(rk));
    memset(&src, 0, sizeof(src));
    cof_err err = part_number(req, &pn);
    if (err == COF_OK)
        err = get_upload(req, &u);
    if (err == COF_OK) {
        err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, true, &dst_key, &prob);
        if (err == COF_OK)
            err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_COPY_SOURCE, false, &src_key, &prob);
        if (err != COF_OK)
            err = srv_fail_problem(req, &prob);
    }
    if (err == COF_OK)
        err = check_part_sse(req, &u, &dst_key);
    if (err == COF_OK)
        err = ops_parse_copy_source(srv_req_header(req, "x-amz-copy-source"), &sbucket, &skey,
                                    &sversion);
    if (err == COF_OK)
        err = ops_open_object(req, sbucket, skey, sversion, &src_key, &rk, &src, &r);
    if (err == COF_OK)
        err = ops_eval_conditions(srv_req_header(req, "x-amz-copy-source-if-match"),
                                  srv_req_header(req, "x-amz-copy-source-if-none-match"),
                                  srv_req_header(req, "x-amz-copy-source-if-modified-since"),
                                  srv_req_header(req, "x-amz-copy-source-if-unmodified-since"),
                                  &src, true);
    uint64_t first = 0, len = 0;
    if (err == COF_OK)
        err = copy_range(req, src.size, &first, &len);
    if (err == COF_OK)
        err = objio_writer_new(&req->ctx->obj, req->rid, &w);
    if (err == COF_OK)
        objio_writer_expect(w, len);
    if (err == COF_OK && (buf = malloc(CRY_SEG_SIZE)) == NULL)
        err = COF_ERR_NOMEM;
    struct srv_cksum ck = {SRV_CKSUM_NONE, 0, NULL};
    char mpu[32], cks[SRV_CKSUM_B64_MAX + 16] = "";
    /* The upload's algorithm, else AWS's default CRC64NVME (so the default full-object checksum
     * can be combined at Complete, as for uploaded parts). */
    if (err == COF_OK)
        err = srv_cksum_init(&ck,
                             obj_stored_value(u.headers, OBJ_STORED_MPU_CHECKSUM, mpu, sizeof(mpu))
                                 ? srv_cksum_parse_name(mpu)
                                 : SRV_CKSUM_CRC64NVME);
    for (uint64_t done = 0; err == COF_OK && done < len;) {
        size_t n = 0;
        size_t want = len - done < CRY_SEG_SIZE ? (size_t)(len - done) : CRY_SEG_SIZE;
        err = objio_read(r, first + done, buf, want, &n);
        if (err == COF_OK && n == 0)
            err = COF_ERR_INTEGRITY;
        if (err == COF_OK)
            err = objio_write(w, buf, n);
        if (err == COF_OK && ck.alg != SRV_CKSUM_NONE)
            srv_cksum_update(&ck, buf, n);
        done += n;
    }
    if (err == COF_OK && ck.alg != SRV_CKSUM_NONE) {
        char b64[SRV_CKSUM_B64_MAX];
        enum srv_cksum_alg a = ck.alg;
        srv_cksum_final(&ck, b64);
        snprintf(cks, sizeof(cks), "%s %s", srv_cksum_name(a), b64);
    }
    srv_cksum_cleanup(&ck);
    if (err == COF_OK)
        err = store_part(req, &u, pn, w, dst_key.key, NULL, cks[0] ? cks : NULL, etag, &mtime);
    if (err == COF_OK)
        err = srv_xml_new("CopyPartResult", &x);
    if (err == COF_OK) {
        char iso[32], quoted[80];
        srv_iso8601_format(mtime, iso);
        snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
        srv_xml_elem(x, "LastModified", iso);
        srv_xml_elem(x, "ETag", quoted);
        err = srv_xml_finish(x, &doc, &doclen);
    }
    if (err == COF_OK) {
        struct sto_object view = {.sse_mode = u.sse_mode, .kek_id = u.kek_id, .headers = u.headers};
        ops_add_sse_headers(req, &view, &dst_key);
        if (sversion != NULL || strcmp(src.version_id, "null") != 0)
            srv_resp_add(req, "x-amz-copy-source-version-id", src.version_id);
        err = srv_reply_xml(req, 200, doc, doclen);
        doc = NULL;
    }
    free(doc);
    srv_xml_free(x);
    free(buf);
    objio_writer_free(w);
    objio_reader_free(r);
    srv_kms_key_cleanup(&rk.kms);
    sto_object_cleanup(&src);
    srv_ssec_cleanup(&src_key);
    srv_ssec_cleanup(&dst_key);
    free(sbucket);
    free(skey);
    free(sversion);
    sto_upload_cleanup(&u);
    return err;
}

/* Finds part number pn in the upload's parts (sorted), or NULL. */
static const struct sto_part *find_part(const struct part_list *pl, int pn)
{
    size_t lo = 0, hi = pl->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pl->v[mid].part_number == pn)
            return &pl->v[mid];
        if (pl->v[mid].part_number < pn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The keys of an upload's sealed checksums (cksum_store.h). */
struct upload_keys {
    struct srv_ssec ssec;
    struct srv_kms_key kms;
    char context[4096];
    struct objio_keys keys; /* opens part checksums */
    struct objio_seal seal; /* seals the object's checksum */
};

/* Fills k for upload u: the KMS key's material (SSE-KMS), or the customer key when the request
 * carries the upload's (SSE-C; AWS asks for it on ListParts and Complete when the upload has
 * checksums). Without it the customer key stays NULL and sealed checksums stay hidden. Replies
 * itself on a KMS failure, a malformed SSE-C header set or a key that is not the upload's. */
static cof_err get_upload_keys(struct srv_req *req, const struct sto_upload *u,
                               struct upload_keys *k)
{
    struct srv_problem prob;
    char msg[256];
    cof_err err = COF_OK;
    memset(k, 0, sizeof(*k));
    objio_seal_sse_s3(&req->ctx->obj, &k->seal);
    if (u->sse_mode == CRY_MODE_SSE_KMS) {
        err = srv_kms_load(&req->ctx->obj, u->kek_id, &k->kms, msg, sizeof(msg));
        if (err != COF_OK)
            return ops_kms_fail(req, err, msg);
        if (!obj_stored_value(u->headers, OBJ_STORED_CONTEXT, k->context, sizeof(k->context)))
            k->context[0] = '\0';
        k->keys.kms_material = k->kms.material;
        k->keys.enc_context = k->context[0] != '\0' ? k->context : NULL;
        objio_seal_sse_kms(k->kms.material, k->kms.ref, k->keys.enc_context, &k->seal);
    } else if (u->sse_mode == CRY_MODE_SSE_C) {
        err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, false, &k->ssec, &prob);
        if (err != COF_OK)
            return srv_fail_problem(req, &prob);
        if (k->ssec.key != NULL)
            err = check_part_sse(req, u, &k->ssec);
        if (err == COF_OK && k->ssec.key != NULL) {
            k->keys.customer_key = k->ssec.key;
            objio_seal_sse_c(k->ssec.key, &k->seal);
        }
    }
    return err;
}

static void upload_keys_cleanup(struct upload_keys *k)
{
    srv_ssec_cleanup(&k->ssec);
    srv_kms_key_cleanup(&k->kms);
}

/* A part's checksum "ALG b64" (opened when sealed) as raw bytes, if it is of algorithm alg. */
static bool part_checksum(const struct sto_upload *u, const struct upload_keys *k,
                          const struct sto_part *p, enum srv_cksum_alg alg, uint8_t *raw,
                          size_t *out_len)
{
    char v[SRV_CKS_VALUE_MAX];
    const char *name = srv_cksum_name(alg);
    size_t nl = strlen(name);
    return srv_cks_part((enum cry_mode)u->sse_mode, &k->keys, u->bucket, u->key, p, v, sizeof(v)) &&
           strncmp(v, name, nl) == 0 && v[nl] == ' ' &&
           srv_base64_decode(v + nl + 1, raw, SRV_CKSUM_MAX_LEN + 4, out_len) == COF_OK &&
           *out_len == srv_cksum_len(alg);
}

/* The checksum of a multipart object made of parts[0..n) into out (base64; "" when none):
 *  - COMPOSITE: the algorithm over the parts' raw checksums, then "-N";
 *  - FULL_OBJECT: the CRC of the whole object, each part's CRC folded in with its length.
 * Every part must carry the upload's algorithm (else InvalidPart). An upload created without an
 * algorithm gets AWS's default, CRC64NVME FULL_OBJECT, when every part carries a CRC64NVME.
 * The client may send the expected value (x-amz-checksum-ALG: BadDigest when it differs) and
 * the type (x-amz-checksum-type: InvalidRequest when it is not the upload's). fails with AWS's
 * message itself (srv_fail) except for InvalidPart. */
static cof_err object_checksum(struct srv_req *req, const struct sto_upload *u,
                               const struct upload_keys *k, const struct sto_part *parts, size_t n,
                               enum srv_cksum_alg *alg, bool *full, char out[OBJ_CKSUM_MAX])
{
    char name[32], type[16];
    uint8_t raw[SRV_CKSUM_MAX_LEN + 4];
    size_t rl = 0;
    cof_err err = COF_OK;
    out[0] = '\0';
    *alg = SRV_CKSUM_NONE;
    *full = false;
    /* SSE-C without the customer key: the sealed part checksums cannot be opened, nor the
     * object's sealed; the object then has no checksum (lenient: AWS asks for the key). */
    if (u->sse_mode == CRY_MODE_SSE_C && k->keys.customer_key == NULL)
        return COF_OK;
    if (obj_stored_value(u->headers, OBJ_STORED_MPU_CHECKSUM, name, sizeof(name))) {
        *alg = srv_cksum_parse_name(name);
        *full = obj_stored_value(u->headers, OBJ_STORED_MPU_CHECKSUM_TYPE, type, sizeof(type)) &&
                strcmp(type, "FULL_OBJECT") == 0;
    } else {
        bool all = n > 0;
        for (size_t i = 0; all && i < n; i++)
            all = part_checksum(u, k, &parts[i], SRV_CKSUM_CRC64NVME, raw, &rl);
        if (!all)
            return COF_OK; /* no checksum: nothing declared, and the parts do not allow one */
        *alg = SRV_CKSUM_CRC64NVME;
        *full = true;
    }
    if (*alg == SRV_CKSUM_NONE)
        return COF_OK;
    const char *want_type = srv_req_header(req, "x-amz-checksum-type");
    if (want_type != NULL && strcmp(want_type, *full ? "FULL_OBJECT" : "COMPOSITE") != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "The upload was created using the %s checksum mode. The complete request must "
                 "use the same checksum mode.",
                 *full ? "FULL_OBJECT" : "COMPOSITE");
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST, msg, NULL, NULL);
    }
    if (*full) {
        uint64_t acc = 0, v = 0;
        for (size_t i = 0; err == COF_OK && i < n; i++) {
            if (!part_checksum(u, k, &parts[i], *alg, raw, &rl))
                return COF_ERR_INVALID_PART;
            v = 0;
            for (size_t b = 0; b < rl; b++) /* big-endian */
                v = v << 8 | raw[b];
            acc = i == 0 ? v : srv_crc_combine(*alg, acc, v, parts[i].size);
        }
        srv_cksum_crc_encode(*alg, acc, out);
    } else {
        struct srv_cksum ck;
        err = srv_cksum_init(&ck, *alg);
        for (size_t i = 0; err == COF_OK && i < n; i++) {
            if (part_checksum(u, k, &parts[i], *alg, raw, &rl))
                srv_cksum_update(&ck, raw, rl);
            else
                err = COF_ERR_INVALID_PART;
        }
        if (err == COF_OK) {
            char b64[SRV_CKSUM_B64_MAX];
            srv_cksum_final(&ck, b64);
            snprintf(out, OBJ_CKSUM_MAX, "%s-%zu", b64, n);
        }
        srv_cksum_cleanup(&ck);
        if (err != COF_OK)
            return err;
    }
    for (int a = 1; a < SRV_CKSUM__COUNT; a++) {
        const char *want = srv_req_header(req, srv_cksum_header((enum srv_cksum_alg)a));
        if (want == NULL)
            continue;
        if (a != (int)*alg || strcmp(want, out) != 0) {
            char msg[96];
            snprintf(msg, sizeof(msg),
                     "The %s you specified did not match the calculated checksum.",
                     srv_cksum_name((enum srv_cksum_alg)a));
            return srv_fail_elem(req, COF_ERR_BAD_DIGEST, msg, NULL, NULL);
        }
    }
    return COF_OK;
}

/* The part list of a Complete as the completion record keeps it: "N:etag" lines. */
static cof_err part_list_text(const struct srv_complete_req *cr, char **out)
{
    struct cof_buf b;
    cof_buf_init(&b, SRV_MAX_XML_BODY);
    cof_err err = cof_buf_printf(&b, "%s", "");
    for (size_t i = 0; i < cr->n && err == COF_OK; i++)
        err = cof_buf_printf(&b, "%d:%s\n", cr->parts[i].part_number, cr->parts[i].etag);
    if (err == COF_OK)
        err = cof_buf_steal(&b, out);
    cof_buf_cleanup(&b);
    return err;
}

/* Answers CompleteMultipartUploadResult for the object view (its SSE mode, KMS key, headers) made
 * with etag (no quotes); ck: its checksum "ALG value", or "" for none. */
static cof_err reply_completed(struct srv_req *req, const struct sto_object *view, const char *etag,
                               char *ck, enum ops_versioning vst, const char *vid)
{
    struct srv_xml *x = NULL;
    char location[2200], quoted[96];
    const char *host = srv_req_header(req, "Host");
    cof_err err = srv_xml_new("CompleteMultipartUploadResult", &x);
    if (err != COF_OK)
        return err;
    snprintf(location, sizeof(location), "http://%s/%s/%s", host != NULL ? host : "localhost",
             view->bucket, view->key);
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    srv_xml_elem(x, "Location", location);
    srv_xml_elem(x, "Bucket", view->bucket);
    srv_xml_elem(x, "Key", view->key);
    srv_xml_elem(x, "ETag", quoted);
    char *sp = strchr(ck, ' ');
    if (sp != NULL) {
        char elem[32];
        *sp = '\0';
        snprintf(elem, sizeof(elem), "Checksum%.16s", ck);
        srv_xml_elem(x, elem, sp + 1);
        /* a COMPOSITE checksum ends in -N; base64 has no '-' */
        srv_xml_elem(x, "ChecksumType", strchr(sp + 1, '-') != NULL ? "COMPOSITE" : "FULL_OBJECT");
    }
    ops_add_sse_headers(req, view, NULL);
    ops_add_write_version_header(req, vst, vid);
    return ops_reply_doc(req, x);
}

/* A Complete of an upload that is no longer in progress. AWS answers an SDK's retry of a
 * Complete that succeeded with that Complete's result: so does coffer while the completion is
 * recorded (STO_COMPLETED_KEEP_MS), the part list is the same, and the version it made is
 * still there. Another part list is InvalidPart; anything else NoSuchUpload. */
static cof_err complete_again(struct srv_req *req, const char *upload_id)
{
    struct sto_completed rec;
    struct srv_complete_req cr;
    struct sto_object o;
    struct srv_ssec ssec;
    struct read_keys rk;
    struct srv_problem prob;
    char *plist = NULL;
    char ck[SRV_CKS_VALUE_MAX] = "";
    enum ops_versioning vst = OPS_UNVERSIONED;
    memset(&cr, 0, sizeof(cr));
    memset(&o, 0, sizeof(o));
    memset(&ssec, 0, sizeof(ssec));
    memset(&rk, 0, sizeof(rk));
    cof_err err = sto_meta_upload_completed(req->ctx->obj.meta, req->route.bucket, req->route.key,
                                            upload_id, cof_now_ms(), &rec);
    if (err == COF_OK)
        err = srv_xml_parse_complete(req->body.data, req->body.len, &cr);
    if (err == COF_OK)
        err = part_list_text(&cr, &plist);
    if (err == COF_OK && strcmp(plist, rec.parts) != 0)
        err = COF_ERR_INVALID_PART;
    if (err == COF_OK) {
        err = sto_meta_get_version(req->ctx->obj.meta, rec.bucket, rec.key, rec.version_id, &o);
        /* Overwritten (same null version, another object) or deleted since: no result to give. */
        if (err == COF_ERR_NO_OBJECT ||
            (err == COF_OK && (o.delete_marker || o.etag == NULL || strcmp(o.etag, rec.etag) != 0 ||
                               o.mtime_ms != rec.completed_ms)))
            err = COF_ERR_NO_SUCH_UPLOAD;
    }
    if (err == COF_OK) {
        err = srv_ssec_parse(srv_req_headers(req), SRV_SSE_OBJECT, false, &ssec, &prob);
        if (err != COF_OK)
            err = srv_fail_problem(req, &prob);
    }
    /* The checksum as the first Complete gave it: sealed ones need the KMS key or, for SSE-C,
     * the customer key the request carries (without it there is none, as the first time). */
    bool ck_readable = o.sse_mode != CRY_MODE_SSE_C || ssec.key != NULL;
    if (err == COF_OK && ck_readable)
        err = ops_prepare_read_keys(req, &o, &ssec, &rk);
    if (err == COF_OK && (!ck_readable || !srv_cks_object(&o, &rk.keys, ck, sizeof(ck))))
        ck[0] = '\0';
    if (err == COF_OK)
        err = ops_versioning_get(req, rec.bucket, &vst);
    if (err == COF_OK)
        err = reply_completed(req, &o, rec.etag, ck, vst, rec.version_id);
    if (err == COF_ERR_NO_SUCH_UPLOAD)
        err = srv_fail_elem(req, err, NULL, "UploadId", upload_id);
    srv_kms_key_cleanup(&rk.kms);
    srv_ssec_cleanup(&ssec);
    sto_object_cleanup(&o);
    free(plist);
    srv_complete_req_cleanup(&cr);
    sto_completed_cleanup(&rec);
    return err;
}

/* Whether upload u has ended (completed or aborted) since it was read. */
static bool upload_gone(struct srv_req *req, const struct sto_upload *u)
{
    struct sto_upload now;
    cof_err err = sto_meta_upload_get(req->ctx->obj.meta, u->bucket, u->key, u->upload_id, &now);
    if (err == COF_OK)
        sto_upload_cleanup(&now);
    return err == COF_ERR_NO_SUCH_UPLOAD;
}

/* A Complete whose If-Match / If-None-Match fails. When the key was written (or, at the commit,
 * its object deleted) while the upload was in progress, AWS answers 409
 * ConditionalRequestConflict and the upload is over: "re-initiate the multipart upload with
 * CreateMultipartUpload and re-upload each part" (its If-None-Match / If-Match documentation).
 * A key that already failed the condition when the upload began: 412 (404 for If-Match on no
 * object), and the upload stays. */
static cof_err complete_cond_fail(struct srv_req *req, cof_err err, const struct sto_precond *pc,
                                  const struct sto_upload *u, bool at_commit)
{
    struct sto_object cur;
    bool during = err == COF_ERR_NO_OBJECT && at_commit;
    if (err == COF_ERR_PRECONDITION &&
        sto_meta_get_object(req->ctx->obj.meta, u->bucket, u->key, &cur) == COF_OK) {
        during = cur.mtime_ms >= u->initiated_ms;
        sto_object_cleanup(&cur);
    }
    if (!during || (err != COF_ERR_PRECONDITION && err != COF_ERR_NO_OBJECT))
        return err == COF_ERR_NO_BUCKET ? ops_no_bucket(req)
                                        : ops_precond_fail(req, err, pc, at_commit);
    if (sto_meta_upload_abort(req->ctx->obj.meta, u->upload_id) == COF_OK)
        (void)obj_gc_drain(&req->ctx->obj);
    return srv_fail_elem(req, COF_ERR_CONDITIONAL_CONFLICT, NULL, "Condition",
                         pc->if_none_match ? "If-None-Match" : "If-Match");
}

cof_err ops_complete_multipart(struct srv_req *req)
{
    struct sto_upload u;
    struct srv_complete_req cr;
    struct part_list all = {NULL, 0, 0};
    struct sto_part *chosen = NULL;
    struct cry_digest *md5 = NULL;
    struct sto_object o;
    struct upload_keys keys;
    struct sto_precond pc;
    char etag[80], if_etag[80];
    char *plist = NULL;
    memset(&cr, 0, sizeof(cr));
    memset(&o, 0, sizeof(o));
    memset(&keys, 0, sizeof(keys));
    const char *id = srv_query_get(&req->query, "uploadId");
    cof_err err = sto_meta_upload_get(req->ctx->obj.meta, req->route.bucket, req->route.key,
                                      id != NULL ? id : "", &u);
    if (err == COF_ERR_NO_SUCH_UPLOAD)
        return complete_again(req, id != NULL ? id : "");
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    /* If-Match / If-None-Match on the key: checked now, and atomically with the publish. */
    err = ops_write_precond(req, &pc, if_etag, sizeof(if_etag));
    if (err == COF_OK) {
        err = sto_meta_precond_check(req->ctx->obj.meta, u.bucket, u.key, &pc);
        if (err != COF_OK)
            err = complete_cond_fail(req, err, &pc, &u, false);
    }
    if (err == COF_OK)
        err = srv_xml_parse_complete(req->body.data, req->body.len, &cr);
    if (err == COF_OK)
        err = part_list_text(&cr, &plist);
    if (err == COF_OK)
        err = sto_meta_parts_list(req->ctx->obj.meta, u.upload_id, 0, SRV_MAX_PARTS, collect_part,
                                  &all);
    if (err == COF_OK) {
        chosen = calloc(cr.n, sizeof(*chosen));
        err = chosen != NULL ? cry_digest_new(CRY_DIGEST_MD5, &md5) : COF_ERR_NOMEM;
    }
    for (size_t i = 1; err == COF_OK && i < cr.n; i++)
        if (cr.parts[i].part_number <= cr.parts[i - 1].part_number)
            err = COF_ERR_INVALID_PART_ORDER;
    uint64_t total = 0;
    for (size_t i = 0; err == COF_OK && i < cr.n; i++) {
        const struct sto_part *p = find_part(&all, cr.parts[i].part_number);
        if (p == NULL || strcmp(p->etag, cr.parts[i].etag) != 0) {
            err = COF_ERR_INVALID_PART;
            break;
        }
        if (i + 1 < cr.n && p->size < MIN_PART_SIZE) {
            err = COF_ERR_ENTITY_TOO_SMALL;
            break;
        }
        uint8_t raw[CRY_MD5_LEN];
        size_t k = 0;
        for (; k < CRY_MD5_LEN && p->etag[2 * k] != '\0'; k++) {
            unsigned v = 0;
            if (sscanf(p->etag + 2 * k, "%2x", &v) != 1)
                break;
            raw[k] = (uint8_t)v;
        }
        cry_digest_update(md5, raw, k);
        chosen[i] = *p; /* borrowed from all */
        total += p->size;
    }
    enum srv_cksum_alg ca = SRV_CKSUM_NONE;
    bool full = false;
    char composite[OBJ_CKSUM_MAX] = "";
    char *new_headers = NULL;
    if (err == COF_OK)
        err = get_upload_keys(req, &u, &keys);
    /* A part checksum named in the request must be the part's (AWS: InvalidPart otherwise);
     * compared when coffer can read the stored one (SSE-C: with the key). */
    for (size_t i = 0; err == COF_OK && i < cr.n; i++) {
        char stored[SRV_CKS_VALUE_MAX];
        if (cr.parts[i].checksum != NULL &&
            srv_cks_part((enum cry_mode)u.sse_mode, &keys.keys, u.bucket, u.key, &chosen[i], stored,
                         sizeof(stored)) &&
            strcmp(stored, cr.parts[i].checksum) != 0)
            err = COF_ERR_INVALID_PART;
    }
    if (err == COF_OK)
        err = object_checksum(req, &u, &keys, chosen, cr.n, &ca, &full, composite);
    /* Sealed for SSE-C/SSE-KMS (bound to no blob: the object is its parts). */
    if (err == COF_OK && composite[0] != '\0') {
        new_headers = strdup(u.headers != NULL ? u.headers : "");
        err = new_headers != NULL ? srv_cks_add_object_line(&new_headers, &keys.seal, u.bucket,
                                                            u.key, NULL, ca, composite)
                                  : COF_ERR_NOMEM;
    }
    enum ops_versioning vst = OPS_UNVERSIONED;
    char *vid = NULL;
    if (err == COF_OK)
        err = ops_versioning_get(req, u.bucket, &vst);
    if (err == COF_OK)
        err = ops_version_new(vst, &vid);
    /* Object Lock: what the upload asked for, else the bucket's default as of now. */
    int64_t now_ms = cof_now_ms();
    struct sto_lock lock;
    if (err == COF_OK)
        err = ops_lock_for_complete(req, u.bucket, u.headers, now_ms, &lock);
    if (err == COF_OK) {
        uint8_t digest[CRY_MD5_LEN];
        char hex[2 * CRY_MD5_LEN + 1];
        cry_digest_final(md5, digest);
        cof_hex_encode(digest, CRY_MD5_LEN, hex);
        snprintf(etag, sizeof(etag), "%s-%zu", hex, cr.n);
        o = (struct sto_object){.bucket = u.bucket,
                                .key = u.key,
                                .version_id = vid,
                                .size = total,
                                .etag = etag,
                                .mtime_ms = now_ms,
                                .headers = new_headers != NULL ? new_headers : u.headers,
                                .blob_id = NULL,
                                .sse_mode = u.sse_mode,
                                .kek_id = u.kek_id,
                                .part_count = (unsigned)cr.n,
                                .lock = lock};
        err =
            sto_meta_upload_complete(req->ctx->obj.meta, &o, u.upload_id, chosen, cr.n, &pc, plist);
        if (err == COF_ERR_INVALID)
            err = COF_ERR_INVALID_PART;
        if (err == COF_ERR_PRECONDITION || err == COF_ERR_NO_OBJECT)
            err = complete_cond_fail(req, err, &pc, &u, true);
    }
    /* Another Complete of this upload finished first (a client's retry racing its original):
     * answered as a repeated Complete. Its parts may have gone while this one read them. */
    if (err == COF_ERR_NO_SUCH_UPLOAD || (err == COF_ERR_INVALID_PART && upload_gone(req, &u))) {
        err = complete_again(req, u.upload_id);
        goto out;
    }
    if (err == COF_OK)
        (void)obj_gc_drain(&req->ctx->obj);
    if (err == COF_OK) {
        char ck[SRV_CKS_VALUE_MAX] = "";
        if (composite[0] != '\0')
            snprintf(ck, sizeof(ck), "%s %s", srv_cksum_name(ca), composite);
        struct sto_object view = {.bucket = u.bucket,
                                  .key = u.key,
                                  .sse_mode = u.sse_mode,
                                  .kek_id = u.kek_id,
                                  .headers = u.headers};
        ops_lifecycle_add_expiration(req, &o);
        err = reply_completed(req, &view, etag, ck, vst, vid);
    }
out:
    free(vid);
    free(plist);
    upload_keys_cleanup(&keys);
    cry_digest_free(md5);
    free(new_headers);
    free(chosen);
    part_list_cleanup(&all);
    srv_complete_req_cleanup(&cr);
    sto_upload_cleanup(&u);
    return err;
}

cof_err ops_abort_multipart(struct srv_req *req)
{
    struct sto_upload u;
    cof_err err = get_upload(req, &u);
    if (err != COF_OK)
        return err;
    err = sto_meta_upload_abort(req->ctx->obj.meta, u.upload_id);
    if (err == COF_OK)
        (void)obj_gc_drain(&req->ctx->obj);
    if (err == COF_ERR_NO_SUCH_UPLOAD)
        err = srv_fail_elem(req, err, NULL, "UploadId", u.upload_id);
    sto_upload_cleanup(&u);
    return err == COF_OK ? srv_reply(req, 204, NULL, "", 0) : err;
}

static void owner(struct srv_xml *x, const char *name)
{
    srv_xml_open(x, name);
    srv_xml_elem(x, "ID", SRV_OWNER_ID);
    srv_xml_elem(x, "DisplayName", SRV_OWNER_NAME);
    srv_xml_close(x);
}

/* max-parts / max-uploads: 0..1000 (more is clamped), default 1000. */
static cof_err list_max(struct srv_req *req, const char *param, size_t *out)
{
    const char *v = srv_query_get(&req->query, param);
    *out = LIST_MAX;
    if (v == NULL)
        return COF_OK;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 0) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT, NULL, "ArgumentName", param);
    }
    *out = n > LIST_MAX ? LIST_MAX : (size_t)n;
    return COF_OK;
}

cof_err ops_list_parts(struct srv_req *req)
{
    struct sto_upload u;
    struct part_list pl = {NULL, 0, 0};
    struct srv_xml *x = NULL;
    size_t max = 0;
    int marker = 0;
    cof_err err = list_max(req, "max-parts", &max);
    if (err != COF_OK)
        return err;
    const char *m = srv_query_get(&req->query, "part-number-marker");
    if (m != NULL) {
        char *end = NULL;
        long v = strtol(m, &end, 10);
        if (end == m || *end != '\0' || v < 0 || v > (long)SRV_MAX_PARTS)
            return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT, NULL, "ArgumentName",
                                 "part-number-marker");
        marker = (int)v;
    }
    err = get_upload(req, &u);
    if (err != COF_OK)
        return err;
    struct upload_keys keys;
    err = get_upload_keys(req, &u, &keys);
    if (err == COF_OK)
        err = sto_meta_parts_list(req->ctx->obj.meta, u.upload_id, marker, max + 1, collect_part,
                                  &pl);
    bool truncated = pl.n > max;
    size_t shown = truncated ? max : pl.n;
    if (err == COF_OK)
        err = srv_xml_new("ListPartsResult", &x);
    if (err == COF_OK) {
        char num[24];
        srv_xml_elem(x, "Bucket", u.bucket);
        srv_xml_elem(x, "Key", u.key);
        srv_xml_elem(x, "UploadId", u.upload_id);
        owner(x, "Initiator");
        owner(x, "Owner");
        srv_xml_elem(x, "StorageClass", "STANDARD");
        char alg[32], type[16];
        if (obj_stored_value(u.headers, OBJ_STORED_MPU_CHECKSUM, alg, sizeof(alg))) {
            bool full =
                obj_stored_value(u.headers, OBJ_STORED_MPU_CHECKSUM_TYPE, type, sizeof(type)) &&
                strcmp(type, "FULL_OBJECT") == 0;
            srv_xml_elem(x, "ChecksumAlgorithm", alg);
            srv_xml_elem(x, "ChecksumType", full ? "FULL_OBJECT" : "COMPOSITE");
        }
        snprintf(num, sizeof(num), "%d", marker);
        srv_xml_elem(x, "PartNumberMarker", num);
        if (shown > 0) {
            snprintf(num, sizeof(num), "%d", pl.v[shown - 1].part_number);
            srv_xml_elem(x, "NextPartNumberMarker", num);
        }
        srv_xml_elem_u64(x, "MaxParts", max);
        srv_xml_elem(x, "IsTruncated", truncated ? "true" : "false");
        for (size_t i = 0; i < shown; i++) {
            char iso[32], etag[80];
            srv_iso8601_format(pl.v[i].mtime_ms, iso);
            snprintf(etag, sizeof(etag), "\"%s\"", pl.v[i].etag);
            srv_xml_open(x, "Part");
            srv_xml_elem_u64(x, "PartNumber", (uint64_t)pl.v[i].part_number);
            srv_xml_elem(x, "LastModified", iso);
            srv_xml_elem(x, "ETag", etag);
            srv_xml_elem_u64(x, "Size", pl.v[i].size);
            char ck[SRV_CKS_VALUE_MAX];
            const char *sp = srv_cks_part((enum cry_mode)u.sse_mode, &keys.keys, u.bucket, u.key,
                                          &pl.v[i], ck, sizeof(ck))
                                 ? strchr(ck, ' ')
                                 : NULL;
            if (sp != NULL && (size_t)(sp - ck) < 16) {
                char elem[32];
                snprintf(elem, sizeof(elem), "Checksum%.*s", (int)(sp - ck), ck);
                srv_xml_elem(x, elem, sp + 1);
            }
            srv_xml_close(x);
        }
        err = ops_reply_doc(req, x);
    }
    upload_keys_cleanup(&keys);
    part_list_cleanup(&pl);
    sto_upload_cleanup(&u);
    return err;
}

struct upload_page {
    struct sto_upload *v; /* copies: key, upload_id, initiated_ms */
    size_t n;
    size_t max;
    bool truncated;
};

static cof_err add_upload(const struct sto_upload *u, void *arg)
{
    struct upload_page *pg = arg;
    if (pg->n == pg->max) {
        pg->truncated = true;
        return COF_ERR_NOT_FOUND;
    }
    struct sto_upload *d = &pg->v[pg->n++];
    d->key = strdup(u->key);
    d->upload_id = strdup(u->upload_id);
    d->initiated_ms = u->initiated_ms;
    return d->key != NULL && d->upload_id != NULL ? COF_OK : COF_ERR_NOMEM;
}

cof_err ops_list_multipart_uploads(struct srv_req *req)
{
    struct upload_page pg;
    struct srv_xml *x = NULL;
    memset(&pg, 0, sizeof(pg));
    cof_err err = list_max(req, "max-uploads", &pg.max);
    if (err != COF_OK)
        return err;
    const char *prefix = srv_query_get(&req->query, "prefix");
    const char *km = srv_query_get(&req->query, "key-marker");
    const char *um = srv_query_get(&req->query, "upload-id-marker");
    pg.v = calloc(pg.max + 1, sizeof(*pg.v));
    if (pg.v == NULL)
        return COF_ERR_NOMEM;
    /* key-marker alone skips every upload of that key; with upload-id-marker, those after it. */
    err = sto_meta_uploads_list(req->ctx->obj.meta, req->route.bucket, prefix, km, um, pg.max + 1,
                                add_upload, &pg);
    if (err == COF_ERR_NO_BUCKET)
        err = ops_no_bucket(req);
    if (err == COF_OK)
        err = srv_xml_new("ListMultipartUploadsResult", &x);
    if (err == COF_OK) {
        srv_xml_elem(x, "Bucket", req->route.bucket);
        srv_xml_elem(x, "KeyMarker", km != NULL ? km : "");
        srv_xml_elem(x, "UploadIdMarker", um != NULL ? um : "");
        if (pg.truncated && pg.n > 0) {
            srv_xml_elem(x, "NextKeyMarker", pg.v[pg.n - 1].key);
            srv_xml_elem(x, "NextUploadIdMarker", pg.v[pg.n - 1].upload_id);
        }
        if (prefix != NULL)
            srv_xml_elem(x, "Prefix", prefix);
        srv_xml_elem_u64(x, "MaxUploads", pg.max);
        srv_xml_elem(x, "IsTruncated", pg.truncated ? "true" : "false");
        for (size_t i = 0; i < pg.n; i++) {
            char iso[32];
            srv_iso8601_format(pg.v[i].initiated_ms, iso);
            srv_xml_open(x, "Upload");
            srv_xml_elem(x, "Key", pg.v[i].key);
            srv_xml_elem(x, "UploadId", pg.v[i].upload_id);
            owner(x, "Initiator");
            owner(x, "Owner");
            srv_xml_elem(x, "StorageClass", "STANDARD");
            srv_xml_elem(x, "Initiated", iso);
            srv_xml_close(x);
        }
        err = ops_reply_doc(req, x);
    }
    for (size_t i = 0; i < pg.n; i++)
        sto_upload_cleanup(&pg.v[i]);
    free(pg.v);
    return err;
}

const struct srv_op_stream ops_upload_part_stream = {upload_part_begin, ops_put_object_body,
                                                     ops_put_object_cleanup};

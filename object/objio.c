/* SPDX-License-Identifier: Apache-2.0 */
/* Encrypting blob writer and decrypting blob reader (DESIGN.md "Encryption format"). */
#include "object/gc.h"
#include "object/objio.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "object/rootkeys.h"
#include "storage/blob.h"

/* Background MD5 for bodies over one segment: the request thread seals and writes segment i+1
 * while this thread hashes segment i (MD5 is the slowest step of a PUT, and it is sequential).
 * One buffer is handed over at a time; the writer waits only if the hasher falls behind. */
struct hasher {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cry_digest *md5; /* borrowed from the writer; only this thread uses it while running */
    uint8_t *buf;           /* segment being handed over or hashed; NULL when idle */
    size_t len;
    bool stop;
};

static void *hasher_main(void *arg)
{
    struct hasher *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->buf == NULL && !h->stop)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->buf == NULL)
            break;
        uint8_t *b = h->buf;
        size_t n = h->len;
        pthread_mutex_unlock(&h->mu);
        cry_digest_update(h->md5, b, n);
        OPENSSL_cleanse(b, n);
        pthread_mutex_lock(&h->mu);
        h->buf = NULL;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Waits until the hasher holds no buffer. */
static void hasher_wait_idle(struct hasher *h)
{
    pthread_mutex_lock(&h->mu);
    while (h->buf != NULL)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void hasher_submit(struct hasher *h, uint8_t *b, size_t n)
{
    pthread_mutex_lock(&h->mu);
    while (h->buf != NULL)
        pthread_cond_wait(&h->cv, &h->mu);
    h->buf = b;
    h->len = n;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* Lets the hasher finish what it holds, then joins it. Accepts NULL. */
static void hasher_free(struct hasher *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

static cof_err hasher_new(struct cry_digest *md5, struct hasher **out)
{
    struct hasher *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return COF_ERR_NOMEM;
    h->md5 = md5;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->th, NULL, hasher_main, h) != 0) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h);
        return COF_ERR_NOMEM;
    }
    *out = h;
    return COF_OK;
}

struct objio_writer {
    struct obj_ctx *ctx;
    const char *rid;
    struct sto_blob_writer *bw;
    struct cry_key *dek;
    struct cry_aead *aead;
    struct cry_digest *md5;
    struct cry_blob_hdr hdr;
    char blob_id[STO_BLOB_ID_HEX + 1];
    uint64_t seg_idx;
    uint64_t total;
    size_t seg_len;
    uint8_t *seg;          /* plaintext of the segment being filled */
    uint8_t *spare;        /* the other plaintext buffer, possibly with the hasher */
    uint8_t *ct;           /* sealed segment */
    struct hasher *hasher; /* started at the first full segment; NULL for small bodies */
    bool file_only;        /* objio_writer_keep_file: never inline */
};

/* Stored size of the largest body kept inline. */
static size_t inline_stored_max(const struct obj_ctx *ctx)
{
    size_t n = ctx->inline_max < CRY_SEG_SIZE ? ctx->inline_max : CRY_SEG_SIZE;
    return (size_t)cry_blob_stored_size(n);
}

cof_err objio_writer_new(struct obj_ctx *ctx, const char *rid, struct objio_writer **out)
{
    struct objio_writer *w = calloc(1, sizeof(*w));
    uint8_t raw[CRY_BLOB_ID_LEN];
    uint8_t hdr[CRY_BLOB_HDR_LEN];
    cof_err err = w != NULL ? COF_OK : COF_ERR_NOMEM;
    if (err == COF_OK) {
        w->ctx = ctx;
        w->rid = rid;
        w->seg = malloc(CRY_SEG_SIZE);
        w->ct = malloc(CRY_SEG_STORED);
        if (w->seg == NULL || w->ct == NULL)
            err = COF_ERR_NOMEM;
    }
    if (err == COF_OK)
        err = sto_blob_new_id(w->blob_id, raw);
    if (err == COF_OK)
        err = cry_key_new_random(&w->dek);
    if (err == COF_OK)
        err = cry_blob_hdr_new(raw, &w->hdr);
    if (err == COF_OK)
        err = cry_aead_new(w->dek, &w->hdr, &w->aead);
    if (err == COF_OK)
        err = cry_digest_new(CRY_DIGEST_MD5, &w->md5);
    /* A body that may end up inline is held in memory until it outgrows that: no file is made
     * for it unless it does. */
    if (err == COF_OK && ctx->inline_max > 0)
        err = sto_blob_create_held(ctx->blobs, w->blob_id, inline_stored_max(ctx), &w->bw);
    else if (err == COF_OK)
        err = sto_blob_create(ctx->blobs, w->blob_id, &w->bw);
    if (err == COF_OK) {
        cry_blob_hdr_encode(&w->hdr, hdr);
        err = sto_blob_write(w->bw, hdr, sizeof(hdr));
    }
    if (err != COF_OK) {
        cof_log_error(rid, "cannot start a blob: %s", cof_err_name(err));
        objio_writer_free(w);
        return err;
    }
    *out = w;
    return COF_OK;
}

static cof_err flush_segment(struct objio_writer *w, bool final)
{
    cof_err err = cry_aead_seal(w->aead, w->seg_idx, final, w->seg, w->seg_len, w->ct);
    if (err == COF_OK)
        err = sto_blob_write(w->bw, w->ct, w->seg_len + CRY_TAG_LEN);
    if (err == COF_OK && !final && w->hasher == NULL) {
        w->spare = malloc(CRY_SEG_SIZE);
        err = w->spare != NULL ? hasher_new(w->md5, &w->hasher) : COF_ERR_NOMEM;
    }
    if (err == COF_OK && !final) {
        /* The hasher takes this buffer (and wipes it); the spare is free since it finished the
         * previous one before accepting this. */
        hasher_submit(w->hasher, w->seg, w->seg_len);
        uint8_t *t = w->seg;
        w->seg = w->spare;
        w->spare = t;
    } else {
        if (w->hasher != NULL)
            hasher_wait_idle(w->hasher);
        cry_digest_update(w->md5, w->seg, w->seg_len);
        OPENSSL_cleanse(w->seg, w->seg_len);
    }
    w->seg_idx++;
    w->seg_len = 0;
    return err;
}

cof_err objio_write(struct objio_writer *w, const void *p, size_t n)
{
    const uint8_t *in = p;
    w->total += n;
    while (n > 0) {
        /* A full segment is sealed only when more data follows, so the last one carries the
         * final flag even when the size is a multiple of the segment size. */
        if (w->seg_len == CRY_SEG_SIZE) {
            cof_err err = flush_segment(w, false);
            if (err != COF_OK)
                return err;
        }
        size_t take = CRY_SEG_SIZE - w->seg_len;
        if (take > n)
            take = n;
        memcpy(w->seg + w->seg_len, in, take);
        w->seg_len += take;
        in += take;
        n -= take;
    }
    return COF_OK;
}

void objio_writer_expect(struct objio_writer *w, uint64_t plain_size)
{
    sto_blob_writer_expect(w->bw, cry_blob_stored_size(plain_size));
}

uint64_t objio_writer_size(const struct objio_writer *w)
{
    return w->total;
}

void objio_seal_sse_s3(const struct obj_ctx *ctx, struct objio_seal *out)
{
    out->mode = CRY_MODE_SSE_S3;
    out->kek = srv_rootkeys_active(ctx->kr, &out->kek_id);
    out->enc_context = NULL;
}

void objio_seal_sse_c(const struct cry_key *customer_key, struct objio_seal *out)
{
    out->mode = CRY_MODE_SSE_C;
    out->kek = customer_key;
    out->kek_id = "customer";
    out->enc_context = NULL;
}

void objio_seal_sse_kms(const struct cry_key *material, const char *key_id, const char *enc_context,
                        struct objio_seal *out)
{
    out->mode = CRY_MODE_SSE_KMS;
    out->kek = material;
    out->kek_id = key_id;
    out->enc_context = enc_context;
}

cof_err objio_writer_finish(struct objio_writer *w, struct sto_object *o,
                            const struct objio_seal *seal, uint8_t md5_out[CRY_MD5_LEN])
{
    uint8_t wrapped[CRY_WRAPPED_LEN];
    const char *kek_id = seal->kek_id;
    cof_err err = flush_segment(w, true);
    bool inline_body = err == COF_OK && !w->file_only && sto_blob_is_held(w->bw);
    if (inline_body)
        sto_blob_take_held(&w->bw, &o->inline_body, &o->inline_len);
    else if (err == COF_OK)
        err = sto_blob_commit(&w->bw);
    if (err == COF_OK) {
        const struct cry_key *root = seal->kek;
        struct cry_wrap_ctx wc = {
            .mode = seal->mode,
            .bucket = o->bucket,
            .key = o->key,
            .version_id = o->version_id,
            .blob_id = w->hdr.blob_id,
            .enc_context = seal->enc_context,
        };
        err = cry_env_wrap(root, &wc, w->dek, wrapped);
    }
    if (err == COF_OK) {
        o->blob_id = strdup(w->blob_id);
        o->kek_id = strdup(kek_id);
        o->wrapped_dek = malloc(CRY_WRAPPED_LEN);
        if (o->blob_id == NULL || o->kek_id == NULL || o->wrapped_dek == NULL) {
            err = COF_ERR_NOMEM;
        } else {
            memcpy(o->wrapped_dek, wrapped, CRY_WRAPPED_LEN);
            o->wrapped_len = CRY_WRAPPED_LEN;
            o->size = w->total;
            o->sse_mode = (int)seal->mode;
            cry_digest_final(w->md5, md5_out);
        }
        if (err != COF_OK)
            obj_blob_discard(w->ctx, w->rid, w->blob_id, false);
    }
    if (err != COF_OK)
        cof_log_error(w->rid, "cannot finish blob %s: %s", w->blob_id, cof_err_name(err));
    return err;
}

void objio_writer_keep_file(struct objio_writer *w)
{
    w->file_only = true;
}

void objio_writer_free(struct objio_writer *w)
{
    if (w == NULL)
        return;
    hasher_free(w->hasher); /* before anything it may touch */
    sto_blob_abort(&w->bw);
    cry_aead_free(w->aead);
    cry_key_free(w->dek);
    cry_digest_free(w->md5);
    /* Flushed segments were wiped when sealed or hashed; only the unflushed tail remains. */
    if (w->seg != NULL)
        OPENSSL_cleanse(w->seg, w->seg_len);
    free(w->seg);
    free(w->spare);
    free(w->ct);
    free(w);
}

/* One blob of an object: the whole body, or one part of a multipart object. */
struct rpart {
    char blob_id[STO_BLOB_ID_HEX + 1];
    struct sto_blob_reader *br;
    struct cry_aead *aead;
    uint64_t offset; /* of its first byte in the object */
    uint64_t size;
    uint64_t n_segs;
};

struct objio_reader {
    const char *rid;
    struct rpart *parts;
    size_t n_parts;
    uint64_t size;
    size_t cur_part;  /* part of the segment held in pt */
    uint64_t cur_idx; /* segment held in pt, or UINT64_MAX */
    size_t cur_len;
    uint8_t *pt;
    size_t pt_cap;
    uint8_t *ct;
};

/* What a blob's data key is wrapped with: the object's mode and context, the blob's own wrap. */
struct wrapped_blob {
    const char *blob_id;
    const char *kek_id;
    const uint8_t *wrapped;
    size_t wrapped_len;
};

/* Unwraps a blob's DEK: under the customer key (SSE-C), the KMS material (SSE-KMS), else the
 * root key kek_id names. The wrap binds o's bucket, key and version and the blob's id. */
static cof_err unwrap_dek(struct obj_ctx *ctx, const struct sto_object *o,
                          const struct wrapped_blob *b, const uint8_t raw_id[CRY_BLOB_ID_LEN],
                          const struct objio_keys *keys, const char *rid, struct cry_key **out)
{
    const struct cry_key *kek = NULL;
    if (o->sse_mode == CRY_MODE_SSE_C)
        kek = keys != NULL ? keys->customer_key : NULL;
    else if (o->sse_mode == CRY_MODE_SSE_KMS)
        kek = keys != NULL ? keys->kms_material : NULL;
    else if (b->kek_id != NULL)
        kek = srv_rootkeys_find(ctx->kr, b->kek_id);
    struct cry_wrap_ctx wc = {
        .mode = (enum cry_mode)o->sse_mode,
        .bucket = o->bucket,
        .key = o->key,
        /* Parts are sealed while uploaded, before the object has a version: always "null". */
        .version_id = o->part_count > 0 ? "null" : o->version_id,
        .blob_id = raw_id,
        .enc_context = o->sse_mode == CRY_MODE_SSE_KMS && keys != NULL ? keys->enc_context : NULL,
    };
    if (kek == NULL) {
        if (o->sse_mode != CRY_MODE_SSE_C)
            cof_log_error(rid, "root key '%s' of blob %s is not in the keyring",
                          b->kek_id ? b->kek_id : "", b->blob_id);
        return o->sse_mode == CRY_MODE_SSE_S3 ? COF_ERR_KEY_ABSENT : COF_ERR_KEY;
    }
    cof_err err = cry_env_unwrap(kek, &wc, b->wrapped, b->wrapped_len, out);
    /* A wrong customer key is the client's mistake (403), not worth an error line. */
    if (err != COF_OK && o->sse_mode != CRY_MODE_SSE_C)
        cof_log_error(rid, "cannot unwrap the data key of blob %s: %s", b->blob_id,
                      cof_err_name(err));
    return err;
}

cof_err objio_unwrap_check(struct obj_ctx *ctx, const struct sto_object *o, const char *blob_id,
                           const char *kek_id, const uint8_t *wrapped, size_t wrapped_len,
                           const struct objio_keys *keys, const char *rid)
{
    uint8_t raw[CRY_BLOB_ID_LEN];
    struct cry_key *dek = NULL;
    struct wrapped_blob b = {blob_id, kek_id, wrapped, wrapped_len};
    if (blob_id == NULL || sto_blob_id_parse(blob_id, raw) != COF_OK)
        return COF_ERR_INTEGRITY;
    cof_err err = unwrap_dek(ctx, o, &b, raw, keys, rid, &dek);
    cry_key_free(dek);
    return err;
}

cof_err objio_check_key(struct obj_ctx *ctx, const struct sto_object *o,
                        const struct objio_keys *keys, const char *rid)
{
    return objio_unwrap_check(ctx, o, o->blob_id, o->kek_id, o->wrapped_dek, o->wrapped_len, keys,
                              rid);
}

cof_err objio_blob_open(struct obj_ctx *ctx, const char *blob_id, uint64_t stored_size,
                        struct sto_blob_reader **out)
{
    *out = NULL;
    if (ctx->meta != NULL && stored_size <= STO_BLOB_HELD_MAX) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        cof_err err = sto_meta_inline_get(ctx->meta, blob_id, &bytes, &len);
        if (err == COF_OK)
            return sto_blob_reader_of_bytes(bytes, len, out);
        if (err != COF_ERR_NOT_FOUND)
            return err;
    }
    return sto_blob_open_sized(ctx->blobs, blob_id, stored_size, out);
}

/* Opens one blob: unwraps its DEK, opens the file, checks its size and header. */
static cof_err open_part(struct obj_ctx *ctx, const struct sto_object *o,
                         const struct wrapped_blob *b, uint64_t size, const struct objio_keys *keys,
                         const char *rid, struct rpart *p)
{
    struct cry_key *dek = NULL;
    struct cry_blob_hdr hdr;
    uint8_t raw[CRY_BLOB_ID_LEN];
    uint8_t hbuf[CRY_BLOB_HDR_LEN];
    size_t got = 0;
    cof_err err = COF_OK;
    p->size = size;
    p->n_segs = cry_seg_count(size);
    if (b->blob_id == NULL || strlen(b->blob_id) != STO_BLOB_ID_HEX ||
        sto_blob_id_parse(b->blob_id, raw) != COF_OK)
        return COF_ERR_INTEGRITY;
    memcpy(p->blob_id, b->blob_id, STO_BLOB_ID_HEX + 1);
    err = unwrap_dek(ctx, o, b, raw, keys, rid, &dek);
    if (err == COF_OK)
        err = objio_blob_open(ctx, b->blob_id, cry_blob_stored_size(size), &p->br);
    if (err == COF_OK && sto_blob_reader_size(p->br) != cry_blob_stored_size(size)) {
        cof_log_error(rid, "blob %s has %llu bytes, expected %llu", b->blob_id,
                      (unsigned long long)sto_blob_reader_size(p->br),
                      (unsigned long long)cry_blob_stored_size(size));
        err = COF_ERR_INTEGRITY;
    }
    if (err == COF_OK)
        err = sto_blob_pread(p->br, hbuf, sizeof(hbuf), 0, &got);
    if (err == COF_OK) {
        err = cry_blob_hdr_decode(hbuf, got, raw, &hdr);
        if (err != COF_OK)
            cof_log_error(rid, "blob %s: bad header", b->blob_id);
    }
    if (err == COF_OK)
        err = cry_aead_new(dek, &hdr, &p->aead);
    cry_key_free(dek);
    return err;
}

cof_err objio_reader_open_parts(struct obj_ctx *ctx, const struct sto_object *o,
                                const struct sto_part *parts, size_t n_parts,
                                const struct objio_keys *keys, const char *rid,
                                struct objio_reader **out)
{
    struct objio_reader *r = calloc(1, sizeof(*r));
    size_t n = parts != NULL ? n_parts : 1;
    cof_err err = r != NULL ? COF_OK : COF_ERR_NOMEM;
    if (err == COF_OK) {
        r->rid = rid;
        r->size = o->size;
        r->cur_idx = UINT64_MAX;
        r->parts = calloc(n > 0 ? n : 1, sizeof(*r->parts));
        uint64_t largest = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t sz = parts != NULL ? parts[i].size : o->size;
            if (sz > largest)
                largest = sz;
        }
        /* Small objects need buffers of their size only. */
        size_t seg = largest < CRY_SEG_SIZE ? (size_t)largest : CRY_SEG_SIZE;
        r->pt_cap = seg > 0 ? seg : 1;
        r->pt = malloc(r->pt_cap);
        r->ct = malloc(seg + CRY_TAG_LEN);
        if (r->parts == NULL || r->pt == NULL || r->ct == NULL)
            err = COF_ERR_NOMEM;
    }
    /* Every part is opened up front: a part replaced or removed later cannot cut the stream. */
    uint64_t offset = 0;
    for (size_t i = 0; err == COF_OK && i < n; i++) {
        struct wrapped_blob b = {o->blob_id, o->kek_id, o->wrapped_dek, o->wrapped_len};
        uint64_t sz = o->size;
        if (parts != NULL) {
            b = (struct wrapped_blob){parts[i].blob_id, parts[i].kek_id, parts[i].wrapped_dek,
                                      parts[i].wrapped_len};
            sz = parts[i].size;
        }
        err = open_part(ctx, o, &b, sz, keys, rid, &r->parts[i]);
        r->parts[i].offset = offset;
        r->n_parts = i + 1;
        offset += sz;
    }
    if (err == COF_OK && offset != o->size) {
        cof_log_error(rid, "parts of s3://%s/%s add up to %llu bytes, not %llu", o->bucket, o->key,
                      (unsigned long long)offset, (unsigned long long)o->size);
        err = COF_ERR_INTEGRITY;
    }
    if (err != COF_OK) {
        objio_reader_free(r);
        return err;
    }
    *out = r;
    return COF_OK;
}

cof_err objio_reader_open(struct obj_ctx *ctx, const struct sto_object *o,
                          const struct objio_keys *keys, const char *rid, struct objio_reader **out)
{
    return objio_reader_open_parts(ctx, o, NULL, 0, keys, rid, out);
}

static cof_err load_segment(struct objio_reader *r, size_t pi, uint64_t idx)
{
    struct rpart *p = &r->parts[pi];
    bool final = idx + 1 == p->n_segs;
    size_t want = final ? (size_t)(p->size - idx * CRY_SEG_SIZE) + CRY_TAG_LEN : CRY_SEG_STORED;
    uint64_t off = CRY_BLOB_HDR_LEN + idx * (uint64_t)CRY_SEG_STORED;
    size_t got = 0;
    r->cur_idx = UINT64_MAX;
    cof_err err = sto_blob_pread(p->br, r->ct, want, off, &got);
    if (err != COF_OK)
        return err;
    if (got != want) {
        cof_log_error(r->rid, "blob %s: segment %llu is truncated", p->blob_id,
                      (unsigned long long)idx);
        return COF_ERR_INTEGRITY;
    }
    err = cry_aead_open(p->aead, idx, final, r->ct, want, r->pt);
    if (err != COF_OK) {
        cof_log_error(r->rid, "blob %s: segment %llu failed authentication", p->blob_id,
                      (unsigned long long)idx);
        return err;
    }
    r->cur_part = pi;
    r->cur_idx = idx;
    r->cur_len = want - CRY_TAG_LEN;
    return COF_OK;
}

cof_err objio_preload(struct objio_reader *r, uint64_t pos)
{
    uint8_t one;
    size_t n = 0;
    return objio_read(r, pos, &one, 1, &n);
}

cof_err objio_read(struct objio_reader *r, uint64_t pos, void *buf, size_t max, size_t *out_n)
{
    *out_n = 0;
    if (pos >= r->size || max == 0)
        return COF_OK;
    /* The part holding pos: binary search over the offsets (empty parts never match). */
    size_t lo = 0, hi = r->n_parts;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->parts[mid].offset <= pos)
            lo = mid;
        else
            hi = mid;
    }
    while (lo + 1 < r->n_parts && r->parts[lo].size == 0)
        lo++;
    const struct rpart *p = &r->parts[lo];
    uint64_t in_part = pos - p->offset;
    uint64_t idx = in_part / CRY_SEG_SIZE;
    if (idx != r->cur_idx || lo != r->cur_part) {
        cof_err err = load_segment(r, lo, idx);
        if (err != COF_OK)
            return err;
    }
    size_t in_seg = (size_t)(in_part - idx * CRY_SEG_SIZE);
    size_t n = r->cur_len - in_seg;
    if (n > max)
        n = max;
    memcpy(buf, r->pt + in_seg, n);
    *out_n = n;
    return COF_OK;
}

void objio_reader_want(struct objio_reader *r, uint64_t first, uint64_t last)
{
    for (size_t i = 0; i < r->n_parts; i++) {
        struct rpart *p = &r->parts[i];
        if (p->size == 0 || p->offset > last || p->offset + p->size <= first)
            continue;
        uint64_t a = first > p->offset ? first - p->offset : 0;
        uint64_t b = last - p->offset < p->size - 1 ? last - p->offset : p->size - 1;
        uint64_t sa = a / CRY_SEG_SIZE, sb = b / CRY_SEG_SIZE;
        uint64_t off = CRY_BLOB_HDR_LEN + sa * (uint64_t)CRY_SEG_STORED;
        uint64_t end = CRY_BLOB_HDR_LEN + sb * (uint64_t)CRY_SEG_STORED + CRY_SEG_STORED;
        sto_blob_reader_want(p->br, off, end - off); /* clipped to the blob's end */
    }
}

void objio_reader_free(struct objio_reader *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->parts != NULL && i < r->n_parts; i++) {
        sto_blob_close(r->parts[i].br);
        cry_aead_free(r->parts[i].aead);
    }
    free(r->parts);
    if (r->pt != NULL)
        OPENSSL_cleanse(r->pt, r->pt_cap);
    free(r->pt);
    free(r->ct);
    free(r);
}

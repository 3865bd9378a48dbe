/* SPDX-License-Identifier: Apache-2.0 */
/* The blob store seen from above: ids, writers that hold small blobs in memory, readers of
 * bytes kept elsewhere, and everything else handed to the backend in use (storage/blobstore.h). */
#include "storage/blob.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/hex.h"
#include "common/log.h"
#include "storage/blobstore.h"

struct sto_blobs {
    const struct sto_blob_backend *be;
    void *impl;
};

struct sto_blob_writer {
    struct sto_blobs *bs;
    char id[STO_BLOB_ID_HEX + 1];
    void *bw;      /* the backend's writer; NULL while the bytes are held */
    uint8_t *held; /* held bytes (sto_blob_create_held), NULL once handed to the backend */
    size_t held_len;
    size_t held_max;
    uint64_t expect; /* sto_blob_writer_expect, or STO_BLOB_SIZE_UNKNOWN */
};

struct sto_blob_reader {
    const struct sto_blob_backend *be; /* NULL for bytes in memory */
    void *br;
    uint8_t *mem; /* sto_blob_reader_of_bytes: owned */
    uint64_t size;
};

cof_err sto_blob_id_parse(const char *id, uint8_t raw[16])
{
    uint8_t scratch[16];
    /* Lower case only: one spelling per id, so one path (or upstream name) per id. */
    if (id == NULL || strnlen(id, STO_BLOB_ID_HEX + 1) != STO_BLOB_ID_HEX)
        return COF_ERR_INVALID;
    return cof_hex_decode(id, STO_BLOB_ID_HEX, COF_HEX_LOWER, raw != NULL ? raw : scratch, 16);
}

cof_err sto_blob_new_id(char out[STO_BLOB_ID_HEX + 1], uint8_t raw[16])
{
    uint8_t r[16];
    size_t got = 0;
    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            cof_log_error(NULL, "blob: getrandom: %s", strerror(errno));
            return COF_ERR_IO;
        }
        got += (size_t)n;
    }
    cof_hex_encode(r, sizeof(r), out);
    if (raw != NULL)
        memcpy(raw, r, sizeof(r));
    return COF_OK;
}

cof_err sto_blobs_new(const struct sto_blob_backend *be, void *impl, struct sto_blobs **out)
{
    *out = NULL;
    struct sto_blobs *bs = calloc(1, sizeof(*bs));
    if (bs == NULL) {
        be->free(impl);
        return COF_ERR_NOMEM;
    }
    bs->be = be;
    bs->impl = impl;
    *out = bs;
    return COF_OK;
}

void sto_blobs_close(struct sto_blobs *bs)
{
    if (bs == NULL)
        return;
    bs->be->free(bs->impl);
    free(bs);
}

void *sto_blobs_impl(const struct sto_blobs *bs, const struct sto_blob_backend *be)
{
    return bs != NULL && bs->be == be ? bs->impl : NULL;
}

const char *sto_blobs_kind(const struct sto_blobs *bs)
{
    return bs->be->name;
}

static cof_err writer_new(struct sto_blobs *bs, const char *id, size_t hold_max,
                          struct sto_blob_writer **out)
{
    *out = NULL;
    if (sto_blob_id_parse(id, NULL) != COF_OK)
        return COF_ERR_INVALID;
    struct sto_blob_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return COF_ERR_NOMEM;
    w->bs = bs;
    w->expect = STO_BLOB_SIZE_UNKNOWN;
    memcpy(w->id, id, sizeof(w->id));
    cof_err err = COF_OK;
    if (hold_max > 0) {
        w->held_max = hold_max;
        w->held = malloc(hold_max);
        err = w->held != NULL ? COF_OK : COF_ERR_NOMEM;
    } else {
        err = bs->be->create(bs->impl, id, &w->bw);
    }
    if (err != COF_OK) {
        free(w->held);
        free(w);
        return err;
    }
    *out = w;
    return COF_OK;
}

cof_err sto_blob_create(struct sto_blobs *bs, const char *id, struct sto_blob_writer **out)
{
    return writer_new(bs, id, 0, out);
}

cof_err sto_blob_create_held(struct sto_blobs *bs, const char *id, size_t hold_max,
                             struct sto_blob_writer **out)
{
    if (hold_max > STO_BLOB_HELD_MAX)
        hold_max = STO_BLOB_HELD_MAX;
    return writer_new(bs, id, hold_max, out);
}

bool sto_blob_is_held(const struct sto_blob_writer *w)
{
    return w->held != NULL;
}

void sto_blob_take_held(struct sto_blob_writer **wp, uint8_t **bytes, size_t *len)
{
    struct sto_blob_writer *w = *wp;
    if (w == NULL || w->held == NULL)
        COF_BUG("sto_blob_take_held: not a held writer");
    *wp = NULL;
    *bytes = w->held;
    *len = w->held_len;
    free(w);
}

/* Hands the held bytes to a new backend writer: the blob outgrew memory, or is to be stored by
 * the backend after all. */
static cof_err spill(struct sto_blob_writer *w)
{
    const struct sto_blob_backend *be = w->bs->be;
    uint8_t *held = w->held;
    size_t n = w->held_len;
    w->held = NULL;
    w->held_len = 0;
    cof_err err = be->create(w->bs->impl, w->id, &w->bw);
    if (err == COF_OK && w->expect != STO_BLOB_SIZE_UNKNOWN && be->expect != NULL)
        be->expect(w->bw, w->expect);
    if (err == COF_OK && n > 0)
        err = be->write(w->bw, held, n);
    free(held);
    return err;
}

cof_err sto_blob_write(struct sto_blob_writer *w, const void *p, size_t n)
{
    if (w->held != NULL && n <= w->held_max - w->held_len) {
        memcpy(w->held + w->held_len, p, n);
        w->held_len += n;
        return COF_OK;
    }
    if (w->held != NULL) {
        cof_err err = spill(w);
        if (err != COF_OK)
            return err;
    }
    return w->bs->be->write(w->bw, p, n);
}

void sto_blob_writer_expect(struct sto_blob_writer *w, uint64_t size)
{
    w->expect = size;
    if (w->bw != NULL && w->bs->be->expect != NULL)
        w->bs->be->expect(w->bw, size);
}

void sto_blob_abort(struct sto_blob_writer **wp)
{
    if (wp == NULL || *wp == NULL)
        return;
    struct sto_blob_writer *w = *wp;
    *wp = NULL;
    if (w->bw != NULL)
        w->bs->be->abort(w->bw);
    free(w->held);
    free(w);
}

cof_err sto_blob_commit(struct sto_blob_writer **wp)
{
    if (wp == NULL || *wp == NULL)
        COF_BUG("sto_blob_commit: no writer");
    struct sto_blob_writer *w = *wp;
    *wp = NULL;
    cof_err err = w->held != NULL ? spill(w) : COF_OK;
    if (err == COF_OK) {
        err = w->bs->be->commit(w->bw); /* frees bw, also on failure */
        w->bw = NULL;
    }
    if (w->bw != NULL)
        w->bs->be->abort(w->bw);
    free(w->held);
    free(w);
    return err;
}

static cof_err open_reader(struct sto_blobs *bs, const char *id, uint64_t expect_size,
                           struct sto_blob_reader **out)
{
    *out = NULL;
    if (sto_blob_id_parse(id, NULL) != COF_OK)
        return COF_ERR_INVALID;
    struct sto_blob_reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return COF_ERR_NOMEM;
    cof_err err = bs->be->open(bs->impl, id, expect_size, &r->br, &r->size);
    if (err != COF_OK) {
        free(r);
        return err;
    }
    r->be = bs->be;
    *out = r;
    return COF_OK;
}

cof_err sto_blob_open(struct sto_blobs *bs, const char *id, struct sto_blob_reader **out)
{
    return open_reader(bs, id, STO_BLOB_SIZE_UNKNOWN, out);
}

cof_err sto_blob_open_sized(struct sto_blobs *bs, const char *id, uint64_t expect_size,
                            struct sto_blob_reader **out)
{
    return open_reader(bs, id, expect_size, out);
}

cof_err sto_blob_reader_of_bytes(uint8_t *bytes, size_t len, struct sto_blob_reader **out)
{
    struct sto_blob_reader *r = calloc(1, sizeof(*r));
    *out = NULL;
    if (r == NULL) {
        free(bytes);
        return COF_ERR_NOMEM;
    }
    r->mem = bytes;
    r->size = len;
    *out = r;
    return COF_OK;
}

cof_err sto_blob_pread(struct sto_blob_reader *r, void *buf, size_t n, uint64_t off, size_t *out_n)
{
    *out_n = 0;
    /* Blobs are immutable once committed: the size seen at open bounds every read, which also
     * keeps off + n within off_t. */
    if (off >= r->size)
        return COF_OK;
    if (n > r->size - off)
        n = (size_t)(r->size - off);
    if (r->be == NULL) {
        memcpy(buf, r->mem + off, n);
        *out_n = n;
        return COF_OK;
    }
    return r->be->pread(r->br, buf, n, off, out_n);
}

void sto_blob_reader_want(struct sto_blob_reader *r, uint64_t off, uint64_t len)
{
    if (r->be == NULL || r->be->want == NULL || off >= r->size)
        return;
    if (len > r->size - off)
        len = r->size - off;
    r->be->want(r->br, off, len);
}

uint64_t sto_blob_reader_size(const struct sto_blob_reader *r)
{
    return r->size;
}

void sto_blob_close(struct sto_blob_reader *r)
{
    if (r == NULL)
        return;
    if (r->be != NULL)
        r->be->close(r->br);
    free(r->mem);
    free(r);
}

cof_err sto_blob_remove(struct sto_blobs *bs, const char *id)
{
    if (sto_blob_id_parse(id, NULL) != COF_OK)
        return COF_ERR_INVALID;
    return bs->be->remove(bs->impl, id);
}

cof_err sto_blob_mtime(struct sto_blobs *bs, const char *id, int64_t *out_epoch_s)
{
    if (sto_blob_id_parse(id, NULL) != COF_OK)
        return COF_ERR_INVALID;
    return bs->be->mtime(bs->impl, id, out_epoch_s);
}

cof_err sto_blob_each(struct sto_blobs *bs, sto_blob_visit_fn cb, void *arg)
{
    return bs->be->each(bs->impl, cb, arg);
}

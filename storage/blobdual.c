/* SPDX-License-Identifier: Apache-2.0 */
/* Two blob stores seen as one while blobs move from one to the other (coffer blobs migrate):
 * new blobs go to the primary (where they are going); reads find a blob in the primary, else in
 * the secondary (where it comes from); removal removes it from both, so that a blob the migration
 * copies while a server replaces it cannot come back. */
#include "storage/blobdual.h"

#include <stdlib.h>

#include "storage/blobstore.h"

struct dual {
    struct sto_blobs *primary;
    struct sto_blobs *secondary;
};

struct dual_reader {
    struct sto_blob_reader *r;
};

static cof_err dual_create(void *impl, const char *id, void **out)
{
    struct dual *d = impl;
    return sto_blob_create(d->primary, id, (struct sto_blob_writer **)out);
}

static cof_err dual_write(void *w, const uint8_t *p, size_t n)
{
    return sto_blob_write(w, p, n);
}

static void dual_expect(void *w, uint64_t size)
{
    sto_blob_writer_expect(w, size);
}

static cof_err dual_commit(void *w)
{
    struct sto_blob_writer *bw = w;
    return sto_blob_commit(&bw);
}

static void dual_abort(void *w)
{
    struct sto_blob_writer *bw = w;
    sto_blob_abort(&bw);
}

static cof_err dual_open(void *impl, const char *id, uint64_t expect_size, void **out,
                         uint64_t *out_size)
{
    struct dual *d = impl;
    struct sto_blob_reader *r = NULL;
    *out = NULL;
    /* The size is checked here rather than trusted: a blob still in the secondary must not be
     * taken for a primary one of the expected size that is not there. */
    cof_err err = sto_blob_open(d->primary, id, &r);
    if (err == COF_ERR_NOT_FOUND)
        err = sto_blob_open(d->secondary, id, &r);
    (void)expect_size;
    if (err != COF_OK)
        return err;
    *out_size = sto_blob_reader_size(r);
    *out = r;
    return COF_OK;
}

static cof_err dual_pread(void *r, void *buf, size_t n, uint64_t off, size_t *out_n)
{
    return sto_blob_pread(r, buf, n, off, out_n);
}

static void dual_want(void *r, uint64_t off, uint64_t len)
{
    sto_blob_reader_want(r, off, len);
}

static void dual_close(void *r)
{
    sto_blob_close(r);
}

static cof_err dual_remove(void *impl, const char *id)
{
    struct dual *d = impl;
    cof_err a = sto_blob_remove(d->primary, id);
    cof_err b = sto_blob_remove(d->secondary, id);
    return a != COF_OK ? a : b;
}

static cof_err dual_mtime(void *impl, const char *id, int64_t *out)
{
    struct dual *d = impl;
    cof_err err = sto_blob_mtime(d->primary, id, out);
    return err == COF_ERR_NOT_FOUND ? sto_blob_mtime(d->secondary, id, out) : err;
}

static cof_err dual_each(void *impl, sto_blob_visit_fn cb, void *arg)
{
    struct dual *d = impl;
    /* A blob in both (copied, not yet removed from the secondary) is reported twice; fsck's
     * callers treat ids, not places, so that costs a second look only. */
    cof_err err = sto_blob_each(d->primary, cb, arg);
    return err == COF_OK ? sto_blob_each(d->secondary, cb, arg) : err;
}

static void dual_free(void *impl)
{
    struct dual *d = impl;
    if (d == NULL)
        return;
    sto_blobs_close(d->primary);
    sto_blobs_close(d->secondary);
    free(d);
}

static const struct sto_blob_backend dual_backend = {
    .name = "migrating",
    .create = dual_create,
    .write = dual_write,
    .expect = dual_expect,
    .commit = dual_commit,
    .abort = dual_abort,
    .open = dual_open,
    .pread = dual_pread,
    .want = dual_want,
    .close = dual_close,
    .remove = dual_remove,
    .mtime = dual_mtime,
    .each = dual_each,
    .free = dual_free,
};

cof_err sto_blobs_dual(struct sto_blobs *primary, struct sto_blobs *secondary,
                       struct sto_blobs **out)
{
    *out = NULL;
    struct dual *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        sto_blobs_close(primary);
        sto_blobs_close(secondary);
        return COF_ERR_NOMEM;
    }
    d->primary = primary;
    d->secondary = secondary;
    return sto_blobs_new(&dual_backend, d, out);
}

struct sto_blobs *sto_blobs_dual_part(struct sto_blobs *bs, bool primary)
{
    struct dual *d = sto_blobs_impl(bs, &dual_backend);
    if (d == NULL)
        return NULL;
    return primary ? d->primary : d->secondary;
}

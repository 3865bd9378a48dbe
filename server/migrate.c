/* SPDX-License-Identifier: Apache-2.0 */
#include "server/migrate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/blobstore.h"
#include "storage/blob.h"
#include "storage/blobdual.h"
#include "upstream/blobs3.h"

#define COPY_CHUNK (1024u * 1024)

struct walk {
    struct sto_blobs *from, *to;
    bool remove;
    uint8_t *buf;
    struct srv_migrate_report *rep;
};

/* Copies blob id from w->from into w->to (streamed, chunk by chunk). */
static cof_err copy_blob(struct walk *w, const char *id)
{
    struct sto_blob_reader *r = NULL;
    struct sto_blob_writer *bw = NULL;
    cof_err err = sto_blob_open(w->from, id, &r);
    if (err == COF_OK)
        err = sto_blob_create(w->to, id, &bw);
    uint64_t size = r != NULL ? sto_blob_reader_size(r) : 0;
    if (err == COF_OK)
        sto_blob_writer_expect(bw, size);
    for (uint64_t off = 0; err == COF_OK && off < size;) {
        size_t n = 0;
        err = sto_blob_pread(r, w->buf, COPY_CHUNK, off, &n);
        if (err == COF_OK && n == 0)
            err = COF_ERR_INTEGRITY; /* shorter than it said */
        if (err == COF_OK)
            err = sto_blob_write(bw, w->buf, n);
        off += n;
    }
    if (err == COF_OK)
        err = sto_blob_commit(&bw);
    sto_blob_abort(&bw);
    sto_blob_close(r);
    return err;
}

static cof_err visit(const char *id, void *arg)
{
    struct walk *w = arg;
    int64_t t = 0;
    cof_err err = sto_blob_mtime(w->to, id, &t);
    if (err == COF_OK) {
        w->rep->present++;
    } else if (err == COF_ERR_NOT_FOUND) {
        err = copy_blob(w, id);
        if (err == COF_ERR_NOT_FOUND) /* removed by a server meanwhile: nothing to move */
            return COF_OK;
        if (err != COF_OK) {
            cof_log_error(NULL, "migrate: blob %s not copied: %s", id, cof_err_name(err));
            w->rep->failed++;
            return COF_OK; /* the next run tries again */
        }
        w->rep->copied++;
    } else {
        return err;
    }
    /* Copied (or there already): the old copy can go once no server could still need it. */
    if (w->remove) {
        err = sto_blob_remove(w->from, id);
        if (err != COF_OK)
            return err;
        w->rep->removed++;
    }
    return COF_OK;
}

static cof_err count_one(const char *id, void *arg)
{
    (void)id;
    (*(unsigned long *)arg)++;
    return COF_OK;
}

cof_err srv_migrate_run(const struct srv_config *c, bool to_upstream,
                        struct srv_migrate_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    bool done = false;
    cof_err err = srv_blobstore_migration(c, to_upstream, &done);
    if (err != COF_OK || done) {
        rep->already = done;
        return err;
    }
    bool safe = srv_blobstore_migration_safe(c->data_dir, to_upstream);
    struct sto_blobs *bs = NULL;
    err = srv_blobstore_open(c, &bs);
    struct walk w = {NULL, NULL, safe, malloc(COPY_CHUNK), rep};
    if (err == COF_OK && w.buf == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK) {
        w.to = sto_blobs_dual_part(bs, true);
        w.from = sto_blobs_dual_part(bs, false);
        if (w.to == NULL || w.from == NULL)
            err = COF_ERR_INTERNAL;
    }
    if (err == COF_OK)
        err = sto_blob_each(w.from, visit, &w);
    rep->kept = !safe;
    unsigned long left = 0;
    if (err == COF_OK && safe && rep->failed == 0)
        err = sto_blob_each(w.from, count_one, &left);
    if (err == COF_OK && safe && rep->failed == 0 && left == 0) {
        /* Back to local files: the prefix is free again for whoever claims it next. */
        if (!to_upstream)
            err = up_side_delete(w.from, "owner");
        if (err == COF_OK)
            err = srv_blobstore_migration_done(c, to_upstream);
        rep->finished = err == COF_OK;
    }
    free(w.buf);
    sto_blobs_close(bs);
    return err;
}

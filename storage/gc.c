/* SPDX-License-Identifier: Apache-2.0 */
/* The queue of blobs to unlink after a commit, and the LocalStack state reset. */
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "storage/cfgcache.h"
#include "storage/internal.h"
#include "storage/meta.h"

/* Queues *old for unlinking unless a row still references it (a row that kept its blob, or a
 * blob shared by two rows); otherwise frees it and sets it to NULL. Inside a write transaction. */
cof_err queue_unreferenced(struct conn *c, char **old)
{
    bool referenced = false;
    if (*old == NULL)
        return COF_OK;
    cof_err err = run2(c, ST_BLOB_REFERENCED, *old, NULL, &referenced);
    if (err == COF_OK && !referenced)
        err = run2(c, ST_GC_INSERT, *old, NULL, NULL);
    if (err != COF_OK || referenced) {
        free(*old);
        *old = NULL;
    }
    return err;
}

/* ---- blob GC queue -------------------------------------------------------------------------- */

cof_err sto_meta_gc_each(struct sto_meta *m, sto_blob_id_fn cb, void *arg)
{
    struct conn *c = NULL;
    enum st id = ST_GC_EACH;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = prep(c, id);
    for (bool row = true; err == COF_OK;) {
        err = step(c, id, &row);
        if (err != COF_OK || !row)
            break;
        const unsigned char *blob_id = sqlite3_column_text(c->st[id], 0);
        if (blob_id != NULL)
            err = cb((const char *)blob_id, arg);
    }
    finish(c, id);
    conn_put(m, c);
    return err;
}

cof_err sto_meta_gc_done(struct sto_meta *m, const char *blob_id)
{
    struct conn *c = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err == COF_OK) {
        err = run2(c, ST_GC_DONE, blob_id, NULL, NULL);
        err = wr_end(m, c, err);
    }
    conn_put(m, c);
    return err;
}

cof_err sto_meta_reset(struct sto_meta *m)
{
    struct conn *c = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err == COF_OK) {
        /* Children before parents: the foreign keys are enforced. */
        err = run(c, ST_RESET_QUEUE);
        if (err == COF_OK)
            err = exec_sql(c->db, "reset multipart",
                           "DELETE FROM parts; DELETE FROM uploads; DELETE FROM object_parts;"
                           " DELETE FROM object_versions");
        if (err == COF_OK)
            err = run(c, ST_RESET_OBJECTS);
        if (err == COF_OK)
            err = run(c, ST_RESET_CONFIGS);
        if (err == COF_OK)
            err = run(c, ST_RESET_BUCKETS);
        err = wr_end(m, c, err);
        cfg_cache_invalidate(m->cfg);
    }
    conn_put(m, c);
    return err;
}

bool sto_meta_gc_hint(struct sto_meta *m)
{
    return atomic_exchange(&m->gc_hint, 0) != 0;
}

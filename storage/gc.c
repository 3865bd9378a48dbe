/* SPDX-License-Identifier: Apache-2.0 */
/* The queue of blobs to unlink after a commit (a blob is queued in the transaction that stops
 * referencing it, and unlinked by the caller after the commit), and the LocalStack state reset.
 * Speaks storage only; never touches a blob file itself. */
#include "storage/gc.h"

#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "storage/cfgcache.h"
#include "storage/internal.h"

/* Every table that references blobs must be checked here (parts, versions, ...). */
static const struct sto_sql q_blob_referenced =
    STO_SQL(BLOB_REFERENCED, "SELECT 1 FROM objects WHERE blob_id = ?1 UNION ALL"
                             " SELECT 1 FROM object_versions WHERE blob_id = ?1 UNION ALL"
                             " SELECT 1 FROM object_parts WHERE blob_id = ?1 UNION ALL"
                             " SELECT 1 FROM parts WHERE blob_id = ?1 LIMIT 1");
static const struct sto_sql q_gc_insert =
    STO_SQL(GC_INSERT, "INSERT INTO gc_blobs (blob_id) VALUES (?1) ON CONFLICT DO NOTHING");
static const struct sto_sql q_gc_each =
    STO_SQL(GC_EACH, "SELECT blob_id FROM gc_blobs ORDER BY blob_id");
static const struct sto_sql q_gc_done = STO_SQL(GC_DONE, "DELETE FROM gc_blobs WHERE blob_id = ?1");
/* A queued blob may be inline (queued in bulk: a dropped upload's parts, a multipart object's). */
static const struct sto_sql q_gc_done_inline =
    STO_SQL(GC_DONE_INLINE, "DELETE FROM inline_blobs WHERE blob_id = ?1");
/* "WHERE true": an upsert clause after a compound SELECT needs a WHERE to parse. */
static const struct sto_sql q_reset_queue =
    STO_SQL(RESET_QUEUE, "INSERT INTO gc_blobs (blob_id) SELECT blob_id FROM objects"
                         " WHERE blob_id IS NOT NULL UNION SELECT blob_id FROM"
                         " object_versions WHERE blob_id IS NOT NULL UNION SELECT"
                         " blob_id FROM object_parts UNION SELECT blob_id FROM"
                         " parts WHERE true"
                         " ON CONFLICT DO NOTHING");
static const struct sto_sql q_reset_parts = STO_SQL(RESET_PARTS, "DELETE FROM parts");
static const struct sto_sql q_reset_uploads = STO_SQL(RESET_UPLOADS, "DELETE FROM uploads");
static const struct sto_sql q_reset_object_parts =
    STO_SQL(RESET_OBJECT_PARTS, "DELETE FROM object_parts");
static const struct sto_sql q_reset_versions =
    STO_SQL(RESET_VERSIONS, "DELETE FROM object_versions");
static const struct sto_sql q_reset_objects = STO_SQL(RESET_OBJECTS, "DELETE FROM objects");
static const struct sto_sql q_reset_configs = STO_SQL(RESET_CONFIGS, "DELETE FROM bucket_configs");
static const struct sto_sql q_reset_buckets = STO_SQL(RESET_BUCKETS, "DELETE FROM buckets");
static const struct sto_sql q_reset_completed =
    STO_SQL(RESET_COMPLETED, "DELETE FROM completed_uploads");
static const struct sto_sql q_reset_inline = STO_SQL(RESET_INLINE, "DELETE FROM inline_blobs");

cof_err sto_gc_queue_unreferenced(struct sto_conn *c, char **old)
{
    bool referenced = false;
    if (*old == NULL)
        return COF_OK;
    bool was_inline = false;
    cof_err err = sto_q_run(c, &q_blob_referenced, *old, NULL, NULL, &referenced);
    /* An inline blob goes with this transaction: there is no file to unlink later. */
    if (err == COF_OK && !referenced)
        err = sto_inline_drop(c, *old, &was_inline);
    if (err == COF_OK && !referenced && !was_inline)
        err = sto_q_run(c, &q_gc_insert, *old, NULL, NULL, NULL);
    if (err != COF_OK || referenced || was_inline) {
        free(*old);
        *old = NULL;
    }
    return err;
}

cof_err sto_meta_blob_referenced(struct sto_meta *m, const char *blob_id, bool *out)
{
    struct sto_conn *c = NULL;
    *out = false;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_q_run(c, &q_blob_referenced, blob_id, NULL, NULL, out);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_gc_each(struct sto_meta *m, sto_blob_id_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_gc_each, COF_OK);
    while (err == COF_OK && sto_q_step(&q)) {
        const unsigned char *blob_id = sqlite3_column_text(q.s, 0);
        if (blob_id != NULL)
            err = cb((const char *)blob_id, arg);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_gc_done(struct sto_meta *m, const char *blob_id)
{
    static const struct sto_sql *const steps[] = {&q_gc_done_inline, &q_gc_done};
    return sto_write_steps(m, steps, sizeof(steps) / sizeof(steps[0]), blob_id);
}

bool sto_meta_gc_hint(struct sto_meta *m)
{
    return atomic_exchange(&m->gc_hint, 0) != 0;
}

cof_err sto_meta_reset(struct sto_meta *m)
{
    /* Children before parents: the foreign keys are enforced. */
    static const struct sto_sql *const steps[] = {
        &q_reset_queue,     &q_reset_parts,   &q_reset_uploads, &q_reset_object_parts,
        &q_reset_versions,  &q_reset_objects, &q_reset_configs, &q_reset_buckets,
        &q_reset_completed, &q_reset_inline,
    };
    cof_err err = sto_write_steps(m, steps, sizeof(steps) / sizeof(steps[0]), NULL);
    cfg_cache_invalidate(m->cfg);
    return err;
}

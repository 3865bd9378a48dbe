/* SPDX-License-Identifier: Apache-2.0 */
/* Inline blobs: rows of inline_blobs, keyed by blob id (storage/inline.h). */
#include "storage/inline.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "storage/internal.h"

static const struct sto_sql q_inline_insert =
    STO_SQL(INLINE_INSERT, "INSERT INTO inline_blobs (blob_id, body) VALUES (?1, ?2)");
static const struct sto_sql q_inline_get =
    STO_SQL(INLINE_GET, "SELECT body FROM inline_blobs WHERE blob_id = ?1");
static const struct sto_sql q_inline_drop =
    STO_SQL(INLINE_DROP, "DELETE FROM inline_blobs WHERE blob_id = ?1");
static const struct sto_sql q_inline_each =
    STO_SQL(INLINE_EACH, "SELECT blob_id FROM inline_blobs ORDER BY blob_id");
/* Every table that references blobs (as gc.c's BLOB_REFERENCED). */
static const struct sto_sql q_inline_drop_orphan =
    STO_SQL(INLINE_DROP_ORPHAN, "DELETE FROM inline_blobs WHERE blob_id = ?1"
                                " AND NOT EXISTS (SELECT 1 FROM objects WHERE blob_id = ?1)"
                                " AND NOT EXISTS (SELECT 1 FROM object_versions WHERE blob_id = ?1)"
                                " AND NOT EXISTS (SELECT 1 FROM object_parts WHERE blob_id = ?1)"
                                " AND NOT EXISTS (SELECT 1 FROM parts WHERE blob_id = ?1)");

cof_err sto_inline_insert(struct sto_conn *c, const char *blob_id, const uint8_t *bytes, size_t len)
{
    struct sto_q q;
    sto_q_open(&q, c, &q_inline_insert, COF_OK);
    sto_q_text(&q, 1, blob_id);
    /* An empty blob is still a blob (zero-length BLOB, not NULL). */
    sto_q_blob(&q, 2, len > 0 ? bytes : (const uint8_t *)"", len);
    (void)sto_q_step(&q);
    return sto_q_close(&q, COF_OK);
}

cof_err sto_inline_drop(struct sto_conn *c, const char *blob_id, bool *out_dropped)
{
    struct sto_q q;
    sto_q_open(&q, c, &q_inline_drop, COF_OK);
    sto_q_text(&q, 1, blob_id);
    (void)sto_q_step(&q);
    *out_dropped = q.err == COF_OK && sto_q_changes(&q) > 0;
    return sto_q_close(&q, COF_OK);
}

cof_err sto_meta_inline_get(struct sto_meta *m, const char *blob_id, uint8_t **out, size_t *out_len)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    *out = NULL;
    *out_len = 0;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_inline_get, COF_OK);
    sto_q_text(&q, 1, blob_id);
    if (sto_q_step(&q))
        err = sto_col_blob(q.s, 0, out, out_len);
    else if (q.err == COF_OK)
        err = COF_ERR_NOT_FOUND;
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    if (err != COF_OK) {
        free(*out);
        *out = NULL;
        *out_len = 0;
    }
    return err;
}

cof_err sto_meta_inline_each(struct sto_meta *m, sto_inline_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_inline_each, COF_OK);
    while (err == COF_OK && sto_q_step(&q)) {
        const unsigned char *id = sqlite3_column_text(q.s, 0);
        if (id != NULL)
            err = cb((const char *)id, arg);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_inline_remove_orphan(struct sto_meta *m, const char *blob_id, bool *out_removed)
{
    struct sto_q q;
    int changes = 0;
    sto_write_open(m, &q_inline_drop_orphan, &q);
    sto_q_text(&q, 1, blob_id);
    cof_err err = sto_write_close(m, &q, &changes);
    *out_removed = err == COF_OK && changes > 0;
    return err;
}

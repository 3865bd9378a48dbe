/* SPDX-License-Identifier: Apache-2.0 */
/* Root key rotation, the storage side: what each key-encryption key wraps, the rows still wrapped
 * by an older key, and the compare-and-swap updates that re-wrap them. Wrapped keys are opaque
 * here; the unwrapping and wrapping happen in the caller. */
#include "storage/rekey.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"

/* SSE-S3 is sse_mode 1 (the server's enum; stored as given). */
static const struct sto_sql q_count_by_kek = STO_SQL(
    COUNT_BY_KEK, "SELECT kek_id, sum(o), sum(k) FROM ("
                  " SELECT kek_id, count(*) AS o, 0 AS k FROM " STO_ALL_VERSIONS " WHERE"
                  " sse_mode = 1 AND part_count = 0 GROUP BY kek_id UNION ALL"
                  " SELECT p.kek_id, count(*), 0 FROM object_parts p JOIN " STO_ALL_VERSIONS
                  " o ON o.bucket = p.bucket AND o.key = p.key AND o.version_id ="
                  " p.version_id WHERE o.sse_mode = 1 GROUP BY p.kek_id UNION ALL"
                  " SELECT p.kek_id, count(*), 0 FROM parts p JOIN uploads u ON"
                  " u.upload_id = p.upload_id WHERE u.sse_mode = 1 GROUP BY p.kek_id UNION ALL"
                  " SELECT kek_id, 0, count(*) FROM kms_keys GROUP BY kek_id)"
                  " GROUP BY kek_id ORDER BY kek_id");
static const struct sto_sql q_stale_objects =
    STO_SQL(STALE_OBJECTS, "SELECT " STO_OBJ_COLS " FROM " STO_ALL_VERSIONS " WHERE sse_mode = ?1"
                           " AND kek_id IS NOT ?2 AND part_count = 0 AND delete_marker = 0"
                           " ORDER BY bucket, key LIMIT ?3");
static const struct sto_sql q_obj_rewrap =
    STO_SQL(OBJ_REWRAP, "UPDATE objects SET wrapped_dek = ?1, kek_id = ?2 WHERE bucket = ?3"
                        " AND kek_id = ?4 AND key = ?5 AND blob_id = ?6");
static const struct sto_sql q_ver_rewrap =
    STO_SQL(VER_REWRAP, "UPDATE object_versions SET wrapped_dek = ?1, kek_id = ?2 WHERE"
                        " bucket = ?3 AND kek_id = ?4 AND key = ?5 AND blob_id = ?6");
static const struct sto_sql q_kms_rewrap =
    STO_SQL(KMS_REWRAP, "UPDATE kms_keys SET material = ?1, kek_id = ?2 WHERE id = ?3 AND"
                        " kek_id = ?4 AND length(material) = length(?1)");
static const struct sto_sql q_stale_parts = STO_SQL(
    STALE_PARTS, "SELECT 0, p.bucket, p.key, NULL, p.part_index, p.blob_id, p.kek_id,"
                 " p.wrapped_dek FROM object_parts p JOIN " STO_ALL_VERSIONS " o ON o.bucket ="
                 " p.bucket AND o.key = p.key AND o.version_id = p.version_id WHERE"
                 " o.sse_mode = 1 AND p.kek_id IS NOT ?1 UNION ALL"
                 " SELECT 1, u.bucket, u.key, p.upload_id, p.part_number, p.blob_id,"
                 " p.kek_id, p.wrapped_dek FROM parts p JOIN uploads u ON u.upload_id ="
                 " p.upload_id WHERE u.sse_mode = 1 AND p.kek_id IS NOT ?1 LIMIT ?2");
static const struct sto_sql q_upload_part_rewrap =
    STO_SQL(UPLOAD_PART_REWRAP, "UPDATE parts SET wrapped_dek = ?1, kek_id = ?2 WHERE"
                                " blob_id = ?3 AND kek_id = ?4 AND part_number = ?5 AND"
                                " upload_id = ?6");
static const struct sto_sql q_object_part_rewrap =
    STO_SQL(OBJECT_PART_REWRAP, "UPDATE object_parts SET wrapped_dek = ?1, kek_id = ?2 WHERE"
                                " blob_id = ?3 AND kek_id = ?4 AND part_index = ?5 AND"
                                " bucket = ?6 AND key = ?7");

static const struct sto_sql q_root_key_insert =
    STO_SQL_UNIQUE(ROOT_KEY_INSERT,
                   "INSERT INTO root_keys (id, kcv, pending, recorded_ms) VALUES (?1, ?2, ?3, ?4)");
static const struct sto_sql q_root_key_confirm =
    STO_SQL(ROOT_KEY_CONFIRM, "UPDATE root_keys SET pending = 0 WHERE id = ?1");
static const struct sto_sql q_root_key_delete =
    STO_SQL(ROOT_KEY_DELETE, "DELETE FROM root_keys WHERE id = ?1");
static const struct sto_sql q_root_key_each =
    STO_SQL(ROOT_KEY_EACH, "SELECT id, kcv, pending, recorded_ms FROM root_keys ORDER BY id");
/* Each arm stops at its first row. */
static const struct sto_sql q_fresh =
    STO_SQL(FRESH, "SELECT 1 FROM objects UNION ALL SELECT 1 FROM object_versions UNION ALL"
                   " SELECT 1 FROM uploads UNION ALL SELECT 1 FROM kms_keys UNION ALL"
                   " SELECT 1 FROM root_keys LIMIT 1");

cof_err sto_meta_count_by_kek(struct sto_meta *m, sto_kek_count_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_count_by_kek, COF_OK);
    while (err == COF_OK && sto_q_step(&q)) {
        const char *id = (const char *)sqlite3_column_text(q.s, 0);
        err = cb(id != NULL ? id : "", (uint64_t)sqlite3_column_int64(q.s, 1),
                 (uint64_t)sqlite3_column_int64(q.s, 2), arg);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_stale_objects(struct sto_meta *m, int sse_mode, const char *active_kek,
                               size_t limit, sto_object_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_stale_objects, COF_OK);
    sto_q_int(&q, 1, sse_mode);
    sto_q_text(&q, 2, active_kek);
    sto_q_int(&q, 3, (int64_t)limit);
    while (err == COF_OK && sto_q_step(&q)) {
        struct sto_object o;
        err = sto_row_object(q.s, &o);
        if (err == COF_OK)
            err = cb(&o, arg);
        sto_object_cleanup(&o);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_object_rewrap(struct sto_meta *m, const char *bucket, const char *key,
                               const char *blob_id, const char *old_kek, const char *new_kek,
                               const uint8_t *wrapped, size_t len, bool *out_changed)
{
    int changes = 0;
    cof_err err = COF_OK;
    /* The current row, else a noncurrent version (blob ids are unique). */
    for (int i = 0; i < 2 && err == COF_OK && changes == 0; i++) {
        struct sto_q q;
        sto_write_open(m, i == 0 ? &q_obj_rewrap : &q_ver_rewrap, &q);
        sto_q_blob(&q, 1, wrapped, len);
        sto_q_text(&q, 2, new_kek);
        sto_q_text(&q, 3, bucket);
        sto_q_text(&q, 4, old_kek);
        sto_q_text(&q, 5, key);
        sto_q_text(&q, 6, blob_id);
        err = sto_write_close(m, &q, &changes);
    }
    *out_changed = err == COF_OK && changes > 0;
    return err;
}

cof_err sto_meta_kms_rewrap(struct sto_meta *m, const char *id, const char *old_kek,
                            const char *new_kek, const uint8_t *material, size_t len)
{
    struct sto_q q;
    sto_write_open(m, &q_kms_rewrap, &q);
    sto_q_blob(&q, 1, material, len);
    sto_q_text(&q, 2, new_kek);
    sto_q_text(&q, 3, id);
    sto_q_text(&q, 4, old_kek);
    return sto_write_close(m, &q, NULL);
}

cof_err sto_meta_stale_parts(struct sto_meta *m, const char *active_kek, size_t limit,
                             sto_stale_part_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_stale_parts, COF_OK);
    sto_q_text(&q, 1, active_kek);
    sto_q_int(&q, 2, (int64_t)limit);
    while (err == COF_OK && sto_q_step(&q)) {
        struct sto_stale_part p = {
            .in_upload = sqlite3_column_int(q.s, 0) != 0,
            .bucket = (const char *)sqlite3_column_text(q.s, 1),
            .key = (const char *)sqlite3_column_text(q.s, 2),
            .upload_id = (const char *)sqlite3_column_text(q.s, 3),
            .number = sqlite3_column_int(q.s, 4),
            .blob_id = (const char *)sqlite3_column_text(q.s, 5),
            .kek_id = (const char *)sqlite3_column_text(q.s, 6),
            .wrapped = sqlite3_column_blob(q.s, 7),
            .wrapped_len = (size_t)sqlite3_column_bytes(q.s, 7),
        };
        err = cb(&p, arg);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_part_rewrap(struct sto_meta *m, const struct sto_stale_part *p,
                             const char *new_kek, const uint8_t *wrapped, size_t len,
                             bool *out_changed)
{
    struct sto_q q;
    int changes = 0;
    sto_write_open(m, p->in_upload ? &q_upload_part_rewrap : &q_object_part_rewrap, &q);
    sto_q_blob(&q, 1, wrapped, len);
    sto_q_text(&q, 2, new_kek);
    sto_q_text(&q, 3, p->blob_id);
    sto_q_text(&q, 4, p->kek_id);
    sto_q_int(&q, 5, p->number);
    sto_q_text(&q, 6, p->in_upload ? p->upload_id : p->bucket);
    if (!p->in_upload)
        sto_q_text(&q, 7, p->key);
    cof_err err = sto_write_close(m, &q, &changes);
    *out_changed = err == COF_OK && changes > 0;
    return err;
}

cof_err sto_meta_root_key_record(struct sto_meta *m, const char *id, const uint8_t *kcv,
                                 size_t kcv_len, bool pending, int64_t recorded_ms)
{
    struct sto_q q;
    if (id == NULL || kcv == NULL || kcv_len == 0)
        COF_BUG("sto_meta_root_key_record: no id or check value");
    sto_write_open(m, &q_root_key_insert, &q);
    sto_q_text(&q, 1, id);
    sto_q_blob(&q, 2, kcv, kcv_len);
    sto_q_int(&q, 3, pending ? 1 : 0);
    sto_q_int(&q, 4, recorded_ms);
    return sto_write_close(m, &q, NULL);
}

/* Runs a one-row change of the record id; COF_ERR_NOT_FOUND when it changed nothing. */
static cof_err change_root_key(struct sto_meta *m, const struct sto_sql *def, const char *id)
{
    struct sto_q q;
    sto_write_open(m, def, &q);
    sto_q_text(&q, 1, id);
    return sto_write_close_one(m, &q);
}

cof_err sto_meta_root_key_confirm(struct sto_meta *m, const char *id)
{
    return change_root_key(m, &q_root_key_confirm, id);
}

cof_err sto_meta_root_key_forget(struct sto_meta *m, const char *id)
{
    return change_root_key(m, &q_root_key_delete, id);
}

cof_err sto_meta_root_keys_each(struct sto_meta *m, sto_root_key_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_root_key_each, COF_OK);
    while (err == COF_OK && sto_q_step(&q)) {
        struct sto_root_key k = {
            .id = (const char *)sqlite3_column_text(q.s, 0),
            .kcv = sqlite3_column_blob(q.s, 1),
            .kcv_len = (size_t)sqlite3_column_bytes(q.s, 1),
            .pending = sqlite3_column_int(q.s, 2) != 0,
            .recorded_ms = sqlite3_column_int64(q.s, 3),
        };
        if (k.id == NULL || k.kcv == NULL)
            err = COF_ERR_NOMEM; /* NOT NULL columns: only a failed conversion gives NULL */
        else
            err = cb(&k, arg);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_is_fresh(struct sto_meta *m, bool *out)
{
    struct sto_conn *c = NULL;
    bool row = true;
    *out = false;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_q_run(c, &q_fresh, NULL, NULL, NULL, &row);
    sto_conn_put(m, c);
    *out = err == COF_OK && !row;
    return err;
}

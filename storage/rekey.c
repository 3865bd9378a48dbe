/* SPDX-License-Identifier: Apache-2.0 */
/* Root key rotation: what each key-encryption key wraps, and re-wrapping rows. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/meta.h"

/* ---- root key rotation ---------------------------------------------------------------------- */

cof_err sto_meta_count_by_kek(struct sto_meta *m, sto_kek_count_fn cb, void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = kms_prepare(c,
                      "SELECT kek_id, sum(o), sum(k) FROM ("
                      " SELECT kek_id, count(*) AS o, 0 AS k FROM " ALL_VERSIONS " WHERE"
                      " sse_mode = 1 AND part_count = 0 GROUP BY kek_id UNION ALL"
                      " SELECT p.kek_id, count(*), 0 FROM object_parts p JOIN " ALL_VERSIONS
                      " o ON o.bucket = p.bucket AND o.key = p.key AND o.version_id ="
                      " p.version_id WHERE o.sse_mode = 1 GROUP BY p.kek_id UNION ALL"
                      " SELECT p.kek_id, count(*), 0 FROM parts p JOIN uploads u ON"
                      " u.upload_id = p.upload_id WHERE u.sse_mode = 1 GROUP BY p.kek_id UNION ALL"
                      " SELECT kek_id, 0, count(*) FROM kms_keys GROUP BY kek_id)"
                      " GROUP BY kek_id ORDER BY kek_id",
                      &s);
    while (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = db_fail(c->db, "count by kek", rc);
            break;
        }
        const char *id = (const char *)sqlite3_column_text(s, 0);
        err = cb(id != NULL ? id : "", (uint64_t)sqlite3_column_int64(s, 1),
                 (uint64_t)sqlite3_column_int64(s, 2), arg);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err;
}

cof_err sto_meta_stale_objects(struct sto_meta *m, int sse_mode, const char *active_kek,
                               size_t limit, sto_object_fn cb, void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = kms_prepare(c,
                      "SELECT " OBJ_COLS " FROM " ALL_VERSIONS " WHERE sse_mode = ?1 AND"
                      " kek_id IS NOT ?2 AND part_count = 0 AND delete_marker = 0"
                      " ORDER BY bucket, key LIMIT ?3",
                      &s);
    if (err == COF_OK) {
        sqlite3_bind_int(s, 1, sse_mode);
        sqlite3_bind_text(s, 2, active_kek, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
    }
    while (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = db_fail(c->db, "stale objects", rc);
            break;
        }
        struct sto_object o;
        err = row_object(s, &o);
        if (err == COF_OK)
            err = cb(&o, arg);
        sto_object_cleanup(&o);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err;
}

struct rewrap_args {
    const uint8_t *wrapped;
    size_t len;
    const char *new_kek, *old_kek, *id, *key, *blob_id;
};

static void bind_rewrap(sqlite3_stmt *s, const void *arg)
{
    const struct rewrap_args *r = arg;
    sqlite3_bind_blob(s, 1, r->wrapped, (int)r->len, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, r->new_kek, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, r->old_kek, -1, SQLITE_STATIC);
    if (r->key != NULL) {
        sqlite3_bind_text(s, 5, r->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, r->blob_id, -1, SQLITE_STATIC);
    }
}

cof_err sto_meta_object_rewrap(struct sto_meta *m, const char *bucket, const char *key,
                               const char *blob_id, const char *old_kek, const char *new_kek,
                               const uint8_t *wrapped, size_t len, bool *out_changed)
{
    struct rewrap_args r = {wrapped, len, new_kek, old_kek, bucket, key, blob_id};
    int changes = 0;
    cof_err err = write_once(m, "object rewrap",
                             "UPDATE objects SET wrapped_dek = ?1, kek_id = ?2 WHERE bucket = ?3"
                             " AND kek_id = ?4 AND key = ?5 AND blob_id = ?6",
                             bind_rewrap, &r, &changes);
    if (err == COF_OK && changes == 0) /* a noncurrent version (blob ids are unique) */
        err = write_once(m, "version rewrap",
                         "UPDATE object_versions SET wrapped_dek = ?1, kek_id = ?2 WHERE"
                         " bucket = ?3 AND kek_id = ?4 AND key = ?5 AND blob_id = ?6",
                         bind_rewrap, &r, &changes);
    *out_changed = err == COF_OK && changes > 0;
    return err;
}

cof_err sto_meta_kms_rewrap(struct sto_meta *m, const char *id, const char *old_kek,
                            const char *new_kek, const uint8_t *material, size_t len)
{
    struct rewrap_args r = {material, len, new_kek, old_kek, id, NULL, NULL};
    return write_once(m, "kms rewrap",
                      "UPDATE kms_keys SET material = ?1, kek_id = ?2 WHERE id = ?3 AND"
                      " kek_id = ?4",
                      bind_rewrap, &r, NULL);
}

cof_err sto_meta_stale_parts(struct sto_meta *m, const char *active_kek, size_t limit,
                             sto_stale_part_fn cb, void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = kms_prepare(c,
                      "SELECT 0, p.bucket, p.key, NULL, p.part_index, p.blob_id, p.kek_id,"
                      " p.wrapped_dek FROM object_parts p JOIN " ALL_VERSIONS " o ON o.bucket ="
                      " p.bucket AND o.key = p.key AND o.version_id = p.version_id WHERE"
                      " o.sse_mode = 1 AND p.kek_id IS NOT ?1 UNION ALL"
                      " SELECT 1, u.bucket, u.key, p.upload_id, p.part_number, p.blob_id,"
                      " p.kek_id, p.wrapped_dek FROM parts p JOIN uploads u ON u.upload_id ="
                      " p.upload_id WHERE u.sse_mode = 1 AND p.kek_id IS NOT ?1 LIMIT ?2",
                      &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, active_kek, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
    }
    while (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = db_fail(c->db, "stale parts", rc);
            break;
        }
        struct sto_stale_part p = {
            .in_upload = sqlite3_column_int(s, 0) != 0,
            .bucket = (const char *)sqlite3_column_text(s, 1),
            .key = (const char *)sqlite3_column_text(s, 2),
            .upload_id = (const char *)sqlite3_column_text(s, 3),
            .number = sqlite3_column_int(s, 4),
            .blob_id = (const char *)sqlite3_column_text(s, 5),
            .kek_id = (const char *)sqlite3_column_text(s, 6),
            .wrapped = sqlite3_column_blob(s, 7),
            .wrapped_len = (size_t)sqlite3_column_bytes(s, 7),
        };
        err = cb(&p, arg);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err;
}

struct part_rewrap_args {
    const struct sto_stale_part *p;
    const char *new_kek;
    const uint8_t *wrapped;
    size_t len;
};

static void bind_part_rewrap(sqlite3_stmt *s, const void *arg)
{
    const struct part_rewrap_args *a = arg;
    sqlite3_bind_blob(s, 1, a->wrapped, (int)a->len, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, a->new_kek, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, a->p->blob_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, a->p->kek_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 5, a->p->number);
    sqlite3_bind_text(s, 6, a->p->in_upload ? a->p->upload_id : a->p->bucket, -1, SQLITE_STATIC);
    if (!a->p->in_upload)
        sqlite3_bind_text(s, 7, a->p->key, -1, SQLITE_STATIC);
}

cof_err sto_meta_part_rewrap(struct sto_meta *m, const struct sto_stale_part *p,
                             const char *new_kek, const uint8_t *wrapped, size_t len,
                             bool *out_changed)
{
    struct part_rewrap_args a = {p, new_kek, wrapped, len};
    int changes = 0;
    cof_err err = write_once(
        m, "part rewrap",
        p->in_upload ? "UPDATE parts SET wrapped_dek = ?1, kek_id = ?2 WHERE blob_id = ?3 AND"
                       " kek_id = ?4 AND part_number = ?5 AND upload_id = ?6"
                     : "UPDATE object_parts SET wrapped_dek = ?1, kek_id = ?2 WHERE blob_id = ?3"
                       " AND kek_id = ?4 AND part_index = ?5 AND bucket = ?6 AND key = ?7",
        bind_part_rewrap, &a, &changes);
    *out_changed = err == COF_OK && changes > 0;
    return err;
}

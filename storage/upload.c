/* SPDX-License-Identifier: Apache-2.0 */
/* Multipart uploads: uploads in progress, their parts, completion. */
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/meta.h"

/* ---- multipart uploads ---------------------------------------------------------------------- */

void sto_upload_cleanup(struct sto_upload *u)
{
    if (u == NULL)
        return;
    free(u->upload_id);
    free(u->bucket);
    free(u->key);
    free(u->headers);
    free(u->kek_id);
    free(u->check_wrap);
    memset(u, 0, sizeof(*u));
}

void sto_part_cleanup(struct sto_part *p)
{
    if (p == NULL)
        return;
    free(p->etag);
    free(p->blob_id);
    free(p->kek_id);
    free(p->wrapped_dek);
    free(p->checksum);
    memset(p, 0, sizeof(*p));
}

static cof_err col_blob(sqlite3_stmt *s, int i, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return COF_OK;
    const void *p = sqlite3_column_blob(s, i);
    int n = sqlite3_column_bytes(s, i);
    *out = malloc(n > 0 ? (size_t)n : 1);
    if (*out == NULL)
        return COF_ERR_NOMEM;
    if (n > 0)
        memcpy(*out, p, (size_t)n);
    *out_len = (size_t)n;
    return COF_OK;
}

struct upload_bind {
    const struct sto_upload *u;
};

static void bind_upload(sqlite3_stmt *s, const void *arg)
{
    const struct sto_upload *u = arg;
    sqlite3_bind_text(s, 1, u->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, u->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, u->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, u->initiated_ms);
    sqlite3_bind_text(s, 5, u->headers, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, u->sse_mode);
    sqlite3_bind_text(s, 7, u->kek_id, -1, SQLITE_STATIC);
    if (u->check_wrap != NULL)
        sqlite3_bind_blob(s, 8, u->check_wrap, (int)u->check_len, SQLITE_STATIC);
}

cof_err sto_meta_upload_create(struct sto_meta *m, const struct sto_upload *u)
{
    struct conn *c = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = bucket_exists(c, u->bucket);
    conn_put(m, c);
    if (err != COF_OK)
        return err;
    /* The foreign key keeps a bucket deleted meanwhile from getting an upload. */
    err = write_once(m, "upload create",
                     "INSERT INTO uploads (upload_id, bucket, key, initiated_ms, headers, "
                     "sse_mode, kek_id, check_wrap) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     bind_upload, u, NULL);
    return err == COF_ERR_EXISTS ? COF_ERR_NO_BUCKET : err;
}

#define UPLOAD_COLS "upload_id, bucket, key, initiated_ms, headers, sse_mode, kek_id, check_wrap"

static cof_err row_upload(sqlite3_stmt *s, struct sto_upload *u)
{
    memset(u, 0, sizeof(*u));
    cof_err err = col_text(s, 0, &u->upload_id);
    if (err == COF_OK)
        err = col_text(s, 1, &u->bucket);
    if (err == COF_OK)
        err = col_text(s, 2, &u->key);
    u->initiated_ms = sqlite3_column_int64(s, 3);
    if (err == COF_OK)
        err = col_text(s, 4, &u->headers);
    u->sse_mode = sqlite3_column_int(s, 5);
    if (err == COF_OK)
        err = col_text(s, 6, &u->kek_id);
    if (err == COF_OK)
        err = col_blob(s, 7, &u->check_wrap, &u->check_len);
    if (err != COF_OK)
        sto_upload_cleanup(u);
    return err;
}

cof_err sto_meta_upload_get(struct sto_meta *m, const char *bucket, const char *key,
                            const char *upload_id, struct sto_upload *out)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    memset(out, 0, sizeof(*out));
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = bucket_exists(c, bucket);
    if (err == COF_OK)
        err = kms_prepare(c,
                          "SELECT " UPLOAD_COLS " FROM uploads WHERE upload_id = ?1 AND"
                          " bucket = ?2 AND key = ?3",
                          &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            err = row_upload(s, out);
        else if (rc == SQLITE_DONE)
            err = COF_ERR_NO_SUCH_UPLOAD;
        else
            err = db_fail(c->db, "upload get", rc);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err;
}

cof_err sto_meta_uploads_list(struct sto_meta *m, const char *bucket, const char *prefix,
                              const char *key_marker, const char *upload_marker, size_t limit,
                              sto_upload_fn cb, void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = bucket_exists(c, bucket);
    /* Key order, then initiation time (then id), as S3 lists them. A page ends at an upload;
     * the next starts after that upload's (key, initiated, id) position. */
    int64_t after_ms = INT64_MIN;
    if (err == COF_OK && key_marker != NULL && upload_marker != NULL && upload_marker[0] != '\0') {
        err = kms_prepare(c, "SELECT initiated_ms FROM uploads WHERE upload_id = ?1 AND key = ?2",
                          &s);
        if (err == COF_OK) {
            sqlite3_bind_text(s, 1, upload_marker, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, key_marker, -1, SQLITE_STATIC);
            after_ms = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : INT64_MAX;
        }
        sqlite3_finalize(s);
        s = NULL;
    } else if (key_marker != NULL && key_marker[0] != '\0') {
        after_ms = INT64_MAX; /* key-marker alone: skip every upload of that key */
    }
    if (err == COF_OK)
        err = kms_prepare(c,
                          "SELECT " UPLOAD_COLS " FROM uploads WHERE bucket = ?1 AND"
                          " substr(key, 1, length(?2)) = ?2 AND (key > ?3 OR (key = ?3 AND"
                          " (initiated_ms > ?6 OR (initiated_ms = ?6 AND upload_id > ?4))))"
                          " ORDER BY key, initiated_ms, upload_id LIMIT ?5",
                          &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, prefix != NULL ? prefix : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, key_marker != NULL ? key_marker : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, upload_marker != NULL ? upload_marker : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, (sqlite3_int64)limit);
        sqlite3_bind_int64(s, 6, after_ms);
    }
    while (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = db_fail(c->db, "uploads list", rc);
            break;
        }
        struct sto_upload u;
        err = row_upload(s, &u);
        if (err == COF_OK)
            err = cb(&u, arg);
        sto_upload_cleanup(&u);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err == COF_ERR_NOT_FOUND ? COF_OK : err;
}

cof_err sto_meta_part_put(struct sto_meta *m, const char *upload_id, const struct sto_part *p,
                          char **out_replaced_blob)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    char *old = NULL;
    *out_replaced_blob = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err != COF_OK) {
        conn_put(m, c);
        return err;
    }
    err = kms_prepare(c, "SELECT 1 FROM uploads WHERE upload_id = ?1", &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        err = rc == SQLITE_ROW    ? COF_OK
              : rc == SQLITE_DONE ? COF_ERR_NO_SUCH_UPLOAD
                                  : db_fail(c->db, "part upload check", rc);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (err == COF_OK)
        err = kms_prepare(c, "SELECT blob_id FROM parts WHERE upload_id = ?1 AND part_number = ?2",
                          &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, p->part_number);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            err = col_text(s, 0, &old);
        else if (rc != SQLITE_DONE)
            err = db_fail(c->db, "part old", rc);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (err == COF_OK)
        err = kms_prepare(c,
                          "INSERT INTO parts (upload_id, part_number, size, etag, mtime_ms,"
                          " blob_id, kek_id, wrapped_dek, checksum) VALUES (?1, ?2, ?3, ?4, ?5,"
                          " ?6, ?7, ?8, ?9)"
                          " ON CONFLICT (upload_id, part_number) DO UPDATE SET size ="
                          " excluded.size, etag = excluded.etag, mtime_ms = excluded.mtime_ms,"
                          " blob_id = excluded.blob_id, kek_id = excluded.kek_id, wrapped_dek ="
                          " excluded.wrapped_dek, checksum = excluded.checksum",
                          &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, p->part_number);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)p->size);
        sqlite3_bind_text(s, 4, p->etag, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, p->mtime_ms);
        sqlite3_bind_text(s, 6, p->blob_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, p->kek_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 8, p->wrapped_dek, (int)p->wrapped_len, SQLITE_STATIC);
        sqlite3_bind_text(s, 9, p->checksum, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
            err = db_fail(c->db, "part put", rc);
    }
    sqlite3_finalize(s);
    if (err == COF_OK)
        err = queue_unreferenced(c, &old);
    err = wr_end(m, c, err);
    conn_put(m, c);
    if (err != COF_OK) {
        free(old);
        old = NULL;
    }
    *out_replaced_blob = old;
    return err;
}

#define PART_COLS "part_number, size, etag, mtime_ms, blob_id, kek_id, wrapped_dek, checksum"

static cof_err row_part(sqlite3_stmt *s, struct sto_part *p)
{
    memset(p, 0, sizeof(*p));
    p->part_number = sqlite3_column_int(s, 0);
    int64_t size = sqlite3_column_int64(s, 1);
    p->size = size > 0 ? (uint64_t)size : 0;
    cof_err err = col_text(s, 2, &p->etag);
    p->mtime_ms = sqlite3_column_int64(s, 3);
    if (err == COF_OK)
        err = col_text(s, 4, &p->blob_id);
    if (err == COF_OK)
        err = col_text(s, 5, &p->kek_id);
    if (err == COF_OK)
        err = col_blob(s, 6, &p->wrapped_dek, &p->wrapped_len);
    if (err == COF_OK && sqlite3_column_count(s) > 7)
        err = col_text(s, 7, &p->checksum);
    if (err != COF_OK)
        sto_part_cleanup(p);
    return err;
}

static cof_err feed_parts(struct conn *c, sqlite3_stmt *s, sto_part_fn cb, void *arg)
{
    cof_err err = COF_OK;
    while (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = db_fail(c->db, "parts", rc);
            break;
        }
        struct sto_part p;
        err = row_part(s, &p);
        if (err == COF_OK)
            err = cb(&p, arg);
        sto_part_cleanup(&p);
    }
    return err == COF_ERR_NOT_FOUND ? COF_OK : err;
}

cof_err sto_meta_parts_list(struct sto_meta *m, const char *upload_id, int after_part, size_t limit,
                            sto_part_fn cb, void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = kms_prepare(c,
                      "SELECT " PART_COLS " FROM parts WHERE upload_id = ?1 AND part_number > ?2"
                      " ORDER BY part_number LIMIT ?3",
                      &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, after_part);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
        err = feed_parts(c, s, cb, arg);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err;
}

cof_err sto_meta_object_parts(struct sto_meta *m, const char *bucket, const char *key,
                              const char *version_id, sto_part_fn cb, void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    /* part_index in the part_number column; etag and mtime are not kept per object part. */
    err = kms_prepare(c,
                      "SELECT part_index, size, '', 0, blob_id, kek_id, wrapped_dek FROM"
                      " object_parts WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"
                      " ORDER BY part_index",
                      &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, vid_or_null(version_id), -1, SQLITE_STATIC);
        err = feed_parts(c, s, cb, arg);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err;
}

static cof_err exec_bound(struct conn *c, const char *what, const char *sql, const char *a,
                          const char *b, const char *d, int64_t n)
{
    sqlite3_stmt *s = NULL;
    cof_err err = kms_prepare(c, sql, &s);
    if (err == COF_OK) {
        if (a != NULL)
            sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
        if (b != NULL)
            sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
        if (d != NULL)
            sqlite3_bind_text(s, 3, d, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, n);
        int rc = sqlite3_step(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            err = db_fail(c->db, what, rc);
    }
    sqlite3_finalize(s);
    return err;
}

cof_err sto_meta_upload_abort(struct sto_meta *m, const char *upload_id)
{
    struct conn *c = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err == COF_OK) {
        sqlite3_stmt *s = NULL;
        err = kms_prepare(c, "SELECT 1 FROM uploads WHERE upload_id = ?1", &s);
        if (err == COF_OK) {
            sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_ROW)
                err = COF_ERR_NO_SUCH_UPLOAD;
        }
        sqlite3_finalize(s);
        if (err == COF_OK)
            err = exec_bound(c, "abort queue",
                             "INSERT INTO gc_blobs (blob_id) SELECT blob_id FROM parts WHERE"
                             " upload_id = ?1 ON CONFLICT DO NOTHING",
                             upload_id, NULL, NULL, 0);
        if (err == COF_OK)
            err = exec_bound(c, "abort delete", "DELETE FROM uploads WHERE upload_id = ?1",
                             upload_id, NULL, NULL, 0);
        err = wr_end(m, c, err);
    }
    conn_put(m, c);
    return err;
}

cof_err sto_meta_upload_complete(struct sto_meta *m, const struct sto_object *o,
                                 const char *upload_id, const struct sto_part *parts, size_t n)
{
    struct conn *c = NULL;
    char *old = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err != COF_OK) {
        conn_put(m, c);
        return err;
    }
    sqlite3_stmt *s = NULL;
    err = kms_prepare(c, "SELECT 1 FROM uploads WHERE upload_id = ?1", &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, upload_id, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW)
            err = COF_ERR_NO_SUCH_UPLOAD;
    }
    sqlite3_finalize(s);
    if (err == COF_OK)
        err = bucket_exists(c, o->bucket);
    /* A replaced version (single blob or parts) goes to the GC queue. */
    if (err == COF_OK)
        err = publish(m, c, o, &old);
    for (size_t i = 0; err == COF_OK && i < n; i++) {
        /* Each chosen part must still be the one validated (same blob). */
        s = NULL;
        err = kms_prepare(c,
                          "INSERT INTO object_parts (bucket, key, version_id, part_index, size,"
                          " blob_id, kek_id, wrapped_dek) SELECT ?1, ?2, ?7, ?3, size, blob_id,"
                          " kek_id, wrapped_dek FROM parts WHERE upload_id = ?4 AND"
                          " part_number = ?5 AND blob_id = ?6",
                          &s);
        if (err == COF_OK) {
            sqlite3_bind_text(s, 1, o->bucket, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, o->key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
            sqlite3_bind_text(s, 4, upload_id, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 5, parts[i].part_number);
            sqlite3_bind_text(s, 6, parts[i].blob_id, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 7, vid_or_null(o->version_id), -1, SQLITE_STATIC);
            int rc = sqlite3_step(s);
            if (rc != SQLITE_DONE)
                err = db_fail(c->db, "complete part", rc);
            else if (sqlite3_changes(c->db) != 1)
                err = COF_ERR_INVALID; /* replaced or gone since validation: InvalidPart */
        }
        sqlite3_finalize(s);
    }
    /* Parts uploaded but not listed are garbage; the upload is done. */
    if (err == COF_OK)
        err = exec_bound(c, "complete queue",
                         "INSERT INTO gc_blobs (blob_id) SELECT blob_id FROM parts WHERE"
                         " upload_id = ?1 AND blob_id NOT IN (SELECT blob_id FROM object_parts"
                         " WHERE bucket = ?2 AND key = ?3) ON CONFLICT DO NOTHING",
                         upload_id, o->bucket, o->key, 0);
    if (err == COF_OK)
        err = exec_bound(c, "complete delete", "DELETE FROM uploads WHERE upload_id = ?1",
                         upload_id, NULL, NULL, 0);
    err = wr_end(m, c, err);
    conn_put(m, c);
    free(old);
    if (err == COF_OK)
        atomic_fetch_add(&m->gc_hint, 1);
    return err;
}

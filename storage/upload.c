/* SPDX-License-Identifier: Apache-2.0 */
/* Multipart uploads: uploads in progress, their parts (a blob each), and completion, which links
 * the chosen parts to the object version without copying data. Speaks storage only. */
#include "storage/upload.h"

#include <stdatomic.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"

#define UPLOAD_COLS "upload_id, bucket, key, initiated_ms, headers, sse_mode, kek_id, check_wrap"
#define PART_COLS   "part_number, size, etag, mtime_ms, blob_id, kek_id, wrapped_dek, checksum"

/* The foreign key keeps a bucket deleted meanwhile from getting an upload (-> COF_ERR_EXISTS,
 * read as NO_BUCKET). */
static const struct sto_sql q_upload_insert = STO_SQL_UNIQUE(
    UPLOAD_INSERT, "INSERT INTO uploads (" UPLOAD_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
static const struct sto_sql q_upload_get =
    STO_SQL(UPLOAD_GET, "SELECT " UPLOAD_COLS " FROM uploads WHERE upload_id = ?1 AND"
                        " bucket = ?2 AND key = ?3");
static const struct sto_sql q_upload_exists =
    STO_SQL(UPLOAD_EXISTS, "SELECT 1 FROM uploads WHERE upload_id = ?1");
static const struct sto_sql q_upload_marker_ms =
    STO_SQL(UPLOAD_MARKER_MS, "SELECT initiated_ms FROM uploads WHERE upload_id = ?1 AND key = ?2");
/* Key order, then initiation time (then id), as S3 lists them: ?1 bucket, ?2 prefix,
 * ?3 key marker, ?4 upload marker, ?5 limit, ?6 the marker upload's initiation time. */
static const struct sto_sql q_upload_list =
    STO_SQL(UPLOAD_LIST, "SELECT " UPLOAD_COLS " FROM uploads WHERE bucket = ?1 AND"
                         " substr(key, 1, length(?2)) = ?2 AND (key > ?3 OR (key = ?3 AND"
                         " (initiated_ms > ?6 OR (initiated_ms = ?6 AND upload_id > ?4))))"
                         " ORDER BY key, initiated_ms, upload_id LIMIT ?5");
static const struct sto_sql q_part_old =
    STO_SQL(PART_OLD, "SELECT blob_id FROM parts WHERE upload_id = ?1 AND part_number = ?2");
static const struct sto_sql q_part_upsert =
    STO_SQL(PART_UPSERT, "INSERT INTO parts (upload_id, " PART_COLS ") VALUES (?1, ?2, ?3, ?4,"
                         " ?5, ?6, ?7, ?8, ?9)"
                         " ON CONFLICT (upload_id, part_number) DO UPDATE SET size ="
                         " excluded.size, etag = excluded.etag, mtime_ms = excluded.mtime_ms,"
                         " blob_id = excluded.blob_id, kek_id = excluded.kek_id, wrapped_dek ="
                         " excluded.wrapped_dek, checksum = excluded.checksum");
static const struct sto_sql q_part_list =
    STO_SQL(PART_LIST, "SELECT " PART_COLS " FROM parts WHERE upload_id = ?1 AND"
                       " part_number > ?2 ORDER BY part_number LIMIT ?3");
/* part_index in the part_number column; etag and mtime are not kept per object part. */
static const struct sto_sql q_object_parts =
    STO_SQL(OBJECT_PARTS, "SELECT part_index, size, '', 0, blob_id, kek_id, wrapped_dek, checksum"
                          " FROM object_parts WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"
                          " ORDER BY part_index");
static const struct sto_sql q_upload_queue_parts =
    STO_SQL(UPLOAD_QUEUE_PARTS, "INSERT INTO gc_blobs (blob_id) SELECT blob_id FROM parts WHERE"
                                " upload_id = ?1 ON CONFLICT DO NOTHING");
static const struct sto_sql q_upload_delete =
    STO_SQL(UPLOAD_DELETE, "DELETE FROM uploads WHERE upload_id = ?1");
/* Each chosen part must still be the one validated (same blob). */
static const struct sto_sql q_complete_link_part = STO_SQL(
    COMPLETE_LINK_PART, "INSERT INTO object_parts (bucket, key, version_id, part_index, size,"
                        " blob_id, kek_id, wrapped_dek, checksum) SELECT ?1, ?2, ?7, ?3, size,"
                        " blob_id, kek_id, wrapped_dek, checksum FROM parts WHERE upload_id = ?4"
                        " AND part_number = ?5 AND blob_id = ?6");
/* Parts uploaded but not listed are garbage. */
static const struct sto_sql q_complete_queue_unused = STO_SQL(
    COMPLETE_QUEUE_UNUSED, "INSERT INTO gc_blobs (blob_id) SELECT blob_id FROM parts WHERE"
                           " upload_id = ?1 AND blob_id NOT IN (SELECT blob_id FROM object_parts"
                           " WHERE bucket = ?2 AND key = ?3) ON CONFLICT DO NOTHING");

static const struct sto_sql q_completed_insert =
    STO_SQL(COMPLETED_INSERT, "INSERT OR REPLACE INTO completed_uploads (upload_id, bucket, key,"
                              " version_id, etag, parts, completed_ms) VALUES (?1, ?2, ?3, ?4, ?5,"
                              " ?6, ?7)");
static const struct sto_sql q_completed_prune =
    STO_SQL(COMPLETED_PRUNE, "DELETE FROM completed_uploads WHERE completed_ms < ?1");
static const struct sto_sql q_completed_get =
    STO_SQL(COMPLETED_GET, "SELECT bucket, key, version_id, etag, parts, completed_ms FROM"
                           " completed_uploads WHERE upload_id = ?1 AND bucket = ?2 AND key = ?3"
                           " AND completed_ms >= ?4");

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

static cof_err row_upload(sqlite3_stmt *s, struct sto_upload *u)
{
    memset(u, 0, sizeof(*u));
    cof_err err = sto_col_text(s, 0, &u->upload_id);
    if (err == COF_OK)
        err = sto_col_text(s, 1, &u->bucket);
    if (err == COF_OK)
        err = sto_col_text(s, 2, &u->key);
    u->initiated_ms = sqlite3_column_int64(s, 3);
    if (err == COF_OK)
        err = sto_col_text(s, 4, &u->headers);
    u->sse_mode = sqlite3_column_int(s, 5);
    if (err == COF_OK)
        err = sto_col_text(s, 6, &u->kek_id);
    if (err == COF_OK)
        err = sto_col_blob(s, 7, &u->check_wrap, &u->check_len);
    if (err != COF_OK)
        sto_upload_cleanup(u);
    return err;
}

static cof_err row_part(sqlite3_stmt *s, struct sto_part *p)
{
    memset(p, 0, sizeof(*p));
    p->part_number = sqlite3_column_int(s, 0);
    int64_t size = sqlite3_column_int64(s, 1);
    p->size = size > 0 ? (uint64_t)size : 0;
    cof_err err = sto_col_text(s, 2, &p->etag);
    p->mtime_ms = sqlite3_column_int64(s, 3);
    if (err == COF_OK)
        err = sto_col_text(s, 4, &p->blob_id);
    if (err == COF_OK)
        err = sto_col_text(s, 5, &p->kek_id);
    if (err == COF_OK)
        err = sto_col_blob(s, 6, &p->wrapped_dek, &p->wrapped_len);
    if (err == COF_OK && sqlite3_column_count(s) > 7)
        err = sto_col_text(s, 7, &p->checksum);
    if (err != COF_OK)
        sto_part_cleanup(p);
    return err;
}

/* COF_ERR_NO_SUCH_UPLOAD unless upload_id exists. */
static cof_err upload_exists(struct sto_conn *c, const char *upload_id)
{
    bool row = false;
    cof_err err = sto_q_run(c, &q_upload_exists, upload_id, NULL, NULL, &row);
    if (err == COF_OK && !row)
        err = COF_ERR_NO_SUCH_UPLOAD;
    return err;
}

cof_err sto_meta_upload_create(struct sto_meta *m, const struct sto_upload *u)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_bucket_exists(c, u->bucket);
    sto_conn_put(m, c);
    if (err != COF_OK)
        return err;
    sto_write_open(m, &q_upload_insert, &q);
    sto_q_text(&q, 1, u->upload_id);
    sto_q_text(&q, 2, u->bucket);
    sto_q_text(&q, 3, u->key);
    sto_q_int(&q, 4, u->initiated_ms);
    sto_q_text(&q, 5, u->headers);
    sto_q_int(&q, 6, u->sse_mode);
    sto_q_text(&q, 7, u->kek_id);
    sto_q_blob(&q, 8, u->check_wrap, u->check_len);
    err = sto_write_close(m, &q, NULL);
    return err == COF_ERR_EXISTS ? COF_ERR_NO_BUCKET : err;
}

cof_err sto_meta_upload_get(struct sto_meta *m, const char *bucket, const char *key,
                            const char *upload_id, struct sto_upload *out)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    bool row = false;
    memset(out, 0, sizeof(*out));
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_bucket_exists(c, bucket);
    sto_q_open(&q, c, &q_upload_get, err);
    sto_q_text(&q, 1, upload_id);
    sto_q_text(&q, 2, bucket);
    sto_q_text(&q, 3, key);
    row = sto_q_step(&q);
    if (row)
        err = row_upload(q.s, out);
    err = sto_q_close(&q, err);
    if (err == COF_OK && !row)
        err = COF_ERR_NO_SUCH_UPLOAD;
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_uploads_list(struct sto_meta *m, const char *bucket, const char *prefix,
                              const char *key_marker, const char *upload_marker, size_t limit,
                              sto_upload_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_bucket_exists(c, bucket);
    /* A page ends at an upload; the next starts after that upload's (key, initiated, id)
     * position. An unknown upload marker skips every upload of the marker's key. */
    int64_t after_ms = INT64_MIN;
    if (err == COF_OK && key_marker != NULL && upload_marker != NULL && upload_marker[0] != '\0') {
        sto_q_open(&q, c, &q_upload_marker_ms, COF_OK);
        sto_q_text(&q, 1, upload_marker);
        sto_q_text(&q, 2, key_marker);
        after_ms = sto_q_step(&q) ? sqlite3_column_int64(q.s, 0) : INT64_MAX;
        err = sto_q_close(&q, COF_OK);
    } else if (key_marker != NULL && key_marker[0] != '\0') {
        after_ms = INT64_MAX; /* key-marker alone: skip every upload of that key */
    }
    sto_q_open(&q, c, &q_upload_list, err);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, prefix != NULL ? prefix : "");
    sto_q_text(&q, 3, key_marker != NULL ? key_marker : "");
    sto_q_text(&q, 4, upload_marker != NULL ? upload_marker : "");
    sto_q_int(&q, 5, (int64_t)limit);
    sto_q_int(&q, 6, after_ms);
    while (err == COF_OK && sto_q_step(&q)) {
        struct sto_upload u;
        err = row_upload(q.s, &u);
        if (err == COF_OK)
            err = cb(&u, arg);
        sto_upload_cleanup(&u);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err == COF_ERR_NOT_FOUND ? COF_OK : err;
}

cof_err sto_meta_part_put(struct sto_meta *m, const char *upload_id, const struct sto_part *p,
                          char **out_replaced_blob)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    char *old = NULL;
    *out_replaced_blob = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK) {
        sto_conn_put(m, c);
        return err;
    }
    err = upload_exists(c, upload_id);
    sto_q_open(&q, c, &q_part_old, err);
    sto_q_text(&q, 1, upload_id);
    sto_q_int(&q, 2, p->part_number);
    if (sto_q_step(&q))
        err = sto_col_text(q.s, 0, &old);
    err = sto_q_close(&q, err);

    sto_q_open(&q, c, &q_part_upsert, err);
    sto_q_text(&q, 1, upload_id);
    sto_q_int(&q, 2, p->part_number);
    sto_q_int(&q, 3, (int64_t)p->size);
    sto_q_text(&q, 4, p->etag);
    sto_q_int(&q, 5, p->mtime_ms);
    sto_q_text(&q, 6, p->blob_id);
    sto_q_text(&q, 7, p->kek_id);
    sto_q_blob(&q, 8, p->wrapped_dek, p->wrapped_len);
    sto_q_text(&q, 9, p->checksum);
    (void)sto_q_step(&q);
    err = sto_q_close(&q, err);
    if (err == COF_OK)
        err = sto_gc_queue_unreferenced(c, &old);
    err = sto_tx_end(m, c, err);
    sto_conn_put(m, c);
    if (err != COF_OK) {
        free(old);
        old = NULL;
    }
    *out_replaced_blob = old;
    return err;
}

/* Steps q and feeds the parts to cb (COF_ERR_NOT_FOUND from cb stops the walk: COF_OK). Closes
 * q. */
static cof_err feed_parts(struct sto_q *q, sto_part_fn cb, void *arg)
{
    cof_err err = COF_OK;
    while (err == COF_OK && sto_q_step(q)) {
        struct sto_part p;
        err = row_part(q->s, &p);
        if (err == COF_OK)
            err = cb(&p, arg);
        sto_part_cleanup(&p);
    }
    err = sto_q_close(q, err);
    return err == COF_ERR_NOT_FOUND ? COF_OK : err;
}

cof_err sto_meta_parts_list(struct sto_meta *m, const char *upload_id, int after_part, size_t limit,
                            sto_part_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_part_list, COF_OK);
    sto_q_text(&q, 1, upload_id);
    sto_q_int(&q, 2, after_part);
    sto_q_int(&q, 3, (int64_t)limit);
    err = feed_parts(&q, cb, arg);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_object_parts(struct sto_meta *m, const char *bucket, const char *key,
                              const char *version_id, sto_part_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_object_parts, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    sto_q_text(&q, 3, sto_vid_or_null(version_id));
    err = feed_parts(&q, cb, arg);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_upload_abort(struct sto_meta *m, const char *upload_id)
{
    struct sto_conn *c = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err == COF_OK) {
        err = upload_exists(c, upload_id);
        if (err == COF_OK)
            err = sto_q_run(c, &q_upload_queue_parts, upload_id, NULL, NULL, NULL);
        if (err == COF_OK)
            err = sto_q_run(c, &q_upload_delete, upload_id, NULL, NULL, NULL);
        err = sto_tx_end(m, c, err);
    }
    sto_conn_put(m, c);
    return err;
}

/* Links parts[i] to the object version o (part_index i). COF_ERR_INVALID when a part was
 * replaced or is gone since validation (InvalidPart). */
static cof_err link_parts(struct sto_conn *c, const struct sto_object *o, const char *upload_id,
                          const struct sto_part *parts, size_t n)
{
    cof_err err = COF_OK;
    for (size_t i = 0; err == COF_OK && i < n; i++) {
        struct sto_q q;
        sto_q_open(&q, c, &q_complete_link_part, COF_OK);
        sto_q_text(&q, 1, o->bucket);
        sto_q_text(&q, 2, o->key);
        sto_q_int(&q, 3, (int64_t)i);
        sto_q_text(&q, 4, upload_id);
        sto_q_int(&q, 5, parts[i].part_number);
        sto_q_text(&q, 6, parts[i].blob_id);
        sto_q_text(&q, 7, sto_vid_or_null(o->version_id));
        (void)sto_q_step(&q);
        if (q.err == COF_OK && sto_q_changes(&q) != 1)
            err = COF_ERR_INVALID;
        err = sto_q_close(&q, err);
    }
    return err;
}

void sto_completed_cleanup(struct sto_completed *c)
{
    if (c == NULL)
        return;
    free(c->bucket);
    free(c->key);
    free(c->version_id);
    free(c->etag);
    free(c->parts);
    memset(c, 0, sizeof(*c));
}

/* Records the completion of upload_id as o and forgets records past their time. Inside the
 * completing transaction. */
static cof_err record_completion(struct sto_conn *c, const struct sto_object *o,
                                 const char *upload_id, const char *part_list)
{
    struct sto_q q;
    sto_q_open(&q, c, &q_completed_prune, COF_OK);
    sto_q_int(&q, 1, o->mtime_ms - STO_COMPLETED_KEEP_MS);
    (void)sto_q_step(&q);
    cof_err err = sto_q_close(&q, COF_OK);
    sto_q_open(&q, c, &q_completed_insert, err);
    sto_q_text(&q, 1, upload_id);
    sto_q_text(&q, 2, o->bucket);
    sto_q_text(&q, 3, o->key);
    sto_q_text(&q, 4, sto_vid_or_null(o->version_id));
    sto_q_text(&q, 5, o->etag);
    sto_q_text(&q, 6, part_list);
    sto_q_int(&q, 7, o->mtime_ms);
    (void)sto_q_step(&q);
    return sto_q_close(&q, COF_OK);
}

cof_err sto_meta_upload_completed(struct sto_meta *m, const char *bucket, const char *key,
                                  const char *upload_id, int64_t now_ms, struct sto_completed *out)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    memset(out, 0, sizeof(*out));
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_completed_get, COF_OK);
    sto_q_text(&q, 1, upload_id);
    sto_q_text(&q, 2, bucket);
    sto_q_text(&q, 3, key);
    sto_q_int(&q, 4, now_ms - STO_COMPLETED_KEEP_MS);
    bool row = sto_q_step(&q);
    if (row) {
        err = sto_col_text(q.s, 0, &out->bucket);
        if (err == COF_OK)
            err = sto_col_text(q.s, 1, &out->key);
        if (err == COF_OK)
            err = sto_col_text(q.s, 2, &out->version_id);
        if (err == COF_OK)
            err = sto_col_text(q.s, 3, &out->etag);
        if (err == COF_OK)
            err = sto_col_text(q.s, 4, &out->parts);
        out->completed_ms = sqlite3_column_int64(q.s, 5);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    if (err == COF_OK && !row)
        err = COF_ERR_NO_SUCH_UPLOAD;
    if (err != COF_OK)
        sto_completed_cleanup(out);
    return err;
}

cof_err sto_meta_upload_complete(struct sto_meta *m, const struct sto_object *o,
                                 const char *upload_id, const struct sto_part *parts, size_t n,
                                 const struct sto_precond *pc, const char *part_list)
{
    struct sto_conn *c = NULL;
    char *old = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK) {
        sto_conn_put(m, c);
        return err;
    }
    err = upload_exists(c, upload_id);
    if (err == COF_OK)
        err = sto_bucket_exists(c, o->bucket);
    /* The condition and the write are one step: nothing is written before it holds. */
    if (err == COF_OK)
        err = sto_precond_check(c, o->bucket, o->key, pc);
    /* A replaced version (single blob or parts) goes to the GC queue. */
    if (err == COF_OK)
        err = sto_object_publish(m, c, o, &old);
    if (err == COF_OK)
        err = link_parts(c, o, upload_id, parts, n);
    /* Parts uploaded but not listed are garbage; the upload is done. */
    if (err == COF_OK)
        err = sto_q_run(c, &q_complete_queue_unused, upload_id, o->bucket, o->key, NULL);
    if (err == COF_OK)
        err = sto_q_run(c, &q_upload_delete, upload_id, NULL, NULL, NULL);
    if (err == COF_OK)
        err = record_completion(c, o, upload_id, part_list);
    err = sto_tx_end(m, c, err);
    sto_conn_put(m, c);
    free(old);
    if (err == COF_OK)
        atomic_fetch_add(&m->gc_hint, 1);
    return err;
}

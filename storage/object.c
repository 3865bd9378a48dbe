/* SPDX-License-Identifier: Apache-2.0 */
/* Objects and their versions: S3's write rules (put, delete, delete a version), the reads, the
 * listings, and group commit of object puts. Speaks storage only; headers, etags and wrapped
 * DEKs are opaque values here. */
#include "storage/object.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "storage/internal.h"

/* Listing: ?1 bucket, ?2 lower bound, ?3 upper bound (prefix successor), ?4 limit. The range
 * predicates on the second primary-key column make this a SEARCH of the primary key that stops
 * at the upper bound: O(log n + rows). Never LIKE: case-insensitive, and % _ are wildcards. */
#define OBJ_LIST(lower, upper)                                                                     \
    "SELECT " STO_OBJ_COLS " FROM objects WHERE bucket = ?1 AND key " lower " ?2" upper            \
    " AND delete_marker = 0 ORDER BY key LIMIT ?4"
/* ListObjectVersions: ?1 bucket, ?2 lower bound, ?3 upper bound. Both arms walk their primary
 * key / (key, seq DESC) index; SQLite merges the two ordered streams (a compound ORDER BY), so
 * no sort of the whole range happens. The current row ranks above every noncurrent seq. */
#define VER_LIST(upper)                                                                            \
    "SELECT " STO_OBJ_COLS ", 9223372036854775807 AS seq FROM objects"                             \
    " WHERE bucket = ?1 AND key >= ?2" upper " UNION ALL"                                          \
    " SELECT " STO_OBJ_COLS ", seq FROM object_versions WHERE"                                     \
    " bucket = ?1 AND key >= ?2" upper " ORDER BY key, seq DESC"
/* Replaces the headers of a row only while it is the row the caller read; IS compares NULL with
 * NULL as equal (a multipart object has no blob_id). */
#define SET_HEADERS(table)                                                                         \
    "UPDATE " table " SET headers = ?1 WHERE bucket = ?2 AND key = ?3"                             \
    " AND version_id IS ?4 AND blob_id IS ?5 AND etag IS ?6"                                       \
    " AND mtime_ms = ?7 AND part_count = ?8 AND headers IS ?9"

static const struct sto_sql q_obj_get =
    STO_SQL(OBJ_GET, "SELECT " STO_OBJ_COLS " FROM objects WHERE bucket = ?1 AND key = ?2");
static const struct sto_sql q_obj_cur =
    STO_SQL(OBJ_CUR, "SELECT blob_id, version_id, delete_marker, lock_mode, lock_until_ms,"
                     " legal_hold FROM objects WHERE bucket = ?1 AND key = ?2");
static const struct sto_sql q_obj_cond =
    STO_SQL(OBJ_COND, "SELECT etag, delete_marker FROM objects WHERE bucket = ?1 AND key = ?2");
static const struct sto_sql q_obj_upsert =
    STO_SQL(OBJ_UPSERT, "INSERT INTO objects (" STO_OBJ_COLS ")"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                        " ?14, ?15, ?16)"
                        " ON CONFLICT (bucket, key) DO UPDATE SET"
                        " version_id = excluded.version_id, size = excluded.size,"
                        " etag = excluded.etag, mtime_ms = excluded.mtime_ms,"
                        " headers = excluded.headers, blob_id = excluded.blob_id,"
                        " sse_mode = excluded.sse_mode, kek_id = excluded.kek_id,"
                        " wrapped_dek = excluded.wrapped_dek,"
                        " part_count = excluded.part_count,"
                        " delete_marker = excluded.delete_marker,"
                        " lock_mode = excluded.lock_mode,"
                        " lock_until_ms = excluded.lock_until_ms,"
                        " legal_hold = excluded.legal_hold");
static const struct sto_sql q_obj_delete =
    STO_SQL(OBJ_DELETE, "DELETE FROM objects WHERE bucket = ?1 AND key = ?2");
/* The current row becomes the newest noncurrent version of its key. */
static const struct sto_sql q_obj_demote =
    STO_SQL(OBJ_DEMOTE, "INSERT INTO object_versions (" STO_OBJ_COLS ", seq) SELECT " STO_OBJ_COLS
                        ", coalesce((SELECT max(seq) FROM object_versions WHERE bucket = ?1 AND"
                        " key = ?2), 0) + 1 FROM objects WHERE bucket = ?1 AND key = ?2");
static const struct sto_sql q_obj_set_headers = STO_SQL(OBJ_SET_HEADERS, SET_HEADERS("objects"));
static const struct sto_sql q_ver_get =
    STO_SQL(VER_GET, "SELECT " STO_OBJ_COLS " FROM object_versions WHERE bucket = ?1"
                     " AND key = ?2 AND version_id = ?3");
static const struct sto_sql q_ver_blob =
    STO_SQL(VER_BLOB, "SELECT blob_id, version_id, delete_marker, lock_mode, lock_until_ms,"
                      " legal_hold FROM object_versions WHERE bucket = ?1 AND key = ?2"
                      " AND version_id = ?3");
static const struct sto_sql q_ver_delete = STO_SQL(
    VER_DELETE, "DELETE FROM object_versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3");
static const struct sto_sql q_ver_newest =
    STO_SQL(VER_NEWEST, "SELECT version_id FROM object_versions WHERE bucket = ?1 AND key = ?2"
                        " ORDER BY seq DESC LIMIT 1");
static const struct sto_sql q_ver_promote =
    STO_SQL(VER_PROMOTE, "INSERT INTO objects (" STO_OBJ_COLS ") SELECT " STO_OBJ_COLS " FROM"
                         " object_versions WHERE bucket = ?1 AND key = ?2 AND version_id = ?3");
static const struct sto_sql q_ver_seq =
    STO_SQL(VER_SEQ, "SELECT seq FROM object_versions WHERE bucket = ?1 AND key = ?2"
                     " AND version_id = ?3");
static const struct sto_sql q_ver_set_headers =
    STO_SQL(VER_SET_HEADERS, SET_HEADERS("object_versions"));
/* Object Lock of one version row: ?1 bucket, ?2 key, ?3 version id. */
#define LOCK_WHERE " WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 AND delete_marker = 0"
static const struct sto_sql q_obj_lock_get =
    STO_SQL(OBJ_LOCK_GET, "SELECT lock_mode, lock_until_ms, legal_hold FROM objects" LOCK_WHERE);
static const struct sto_sql q_ver_lock_get = STO_SQL(
    VER_LOCK_GET, "SELECT lock_mode, lock_until_ms, legal_hold FROM object_versions" LOCK_WHERE);
static const struct sto_sql q_obj_set_retention =
    STO_SQL(OBJ_SET_RETENTION, "UPDATE objects SET lock_mode = ?4, lock_until_ms = ?5" LOCK_WHERE);
static const struct sto_sql q_ver_set_retention = STO_SQL(
    VER_SET_RETENTION, "UPDATE object_versions SET lock_mode = ?4, lock_until_ms = ?5" LOCK_WHERE);
static const struct sto_sql q_obj_set_hold =
    STO_SQL(OBJ_SET_HOLD, "UPDATE objects SET legal_hold = ?4" LOCK_WHERE);
static const struct sto_sql q_ver_set_hold =
    STO_SQL(VER_SET_HOLD, "UPDATE object_versions SET legal_hold = ?4" LOCK_WHERE);
/* A replaced or deleted multipart object's part blobs go to the GC queue. */
static const struct sto_sql q_oparts_queue =
    STO_SQL(OPARTS_QUEUE, "INSERT INTO gc_blobs (blob_id) SELECT blob_id FROM object_parts"
                          " WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"
                          " ON CONFLICT DO NOTHING");
static const struct sto_sql q_oparts_delete = STO_SQL(
    OPARTS_DELETE, "DELETE FROM object_parts WHERE bucket = ?1 AND key = ?2 AND version_id = ?3");
static const struct sto_sql q_obj_list_gt = STO_SQL(OBJ_LIST_GT, OBJ_LIST(">", ""));
static const struct sto_sql q_obj_list_ge = STO_SQL(OBJ_LIST_GE, OBJ_LIST(">=", ""));
static const struct sto_sql q_obj_list_gt_lt =
    STO_SQL(OBJ_LIST_GT_LT, OBJ_LIST(">", " AND key < ?3"));
static const struct sto_sql q_obj_list_ge_lt =
    STO_SQL(OBJ_LIST_GE_LT, OBJ_LIST(">=", " AND key < ?3"));
static const struct sto_sql q_ver_list = STO_SQL(VER_LIST, VER_LIST(""));
static const struct sto_sql q_ver_list_lt = STO_SQL(VER_LIST_LT, VER_LIST(" AND key < ?3"));
static const struct sto_sql q_obj_each =
    STO_SQL(OBJ_EACH, "SELECT " STO_OBJ_COLS " FROM objects UNION ALL SELECT " STO_OBJ_COLS
                      " FROM object_versions ORDER BY bucket, key");

cof_err sto_row_object(sqlite3_stmt *s, struct sto_object *o)
{
    memset(o, 0, sizeof(*o));
    cof_err err = sto_col_text(s, 0, &o->bucket);
    if (err == COF_OK)
        err = sto_col_text(s, 1, &o->key);
    if (err == COF_OK)
        err = sto_col_text(s, 2, &o->version_id);
    int64_t size = sqlite3_column_int64(s, 3);
    o->size = size > 0 ? (uint64_t)size : 0;
    if (err == COF_OK)
        err = sto_col_text(s, 4, &o->etag);
    o->mtime_ms = sqlite3_column_int64(s, 5);
    if (err == COF_OK)
        err = sto_col_text(s, 6, &o->headers);
    if (err == COF_OK)
        err = sto_col_text(s, 7, &o->blob_id);
    o->sse_mode = sqlite3_column_int(s, 8);
    if (err == COF_OK)
        err = sto_col_text(s, 9, &o->kek_id);
    if (err == COF_OK && sqlite3_column_type(s, 10) != SQLITE_NULL) {
        const void *p = sqlite3_column_blob(s, 10);
        int n = sqlite3_column_bytes(s, 10);
        if (n > 0) {
            o->wrapped_dek = p ? malloc((size_t)n) : NULL;
            if (o->wrapped_dek == NULL)
                err = COF_ERR_NOMEM;
            else
                memcpy(o->wrapped_dek, p, (size_t)n);
            o->wrapped_len = (size_t)n;
        }
    }
    o->part_count = (unsigned)sqlite3_column_int(s, 11);
    o->delete_marker = sqlite3_column_int(s, 12) != 0;
    o->lock.mode = sqlite3_column_int(s, 13);
    o->lock.until_ms = sqlite3_column_int64(s, 14);
    o->lock.legal_hold = sqlite3_column_int(s, 15);
    if (err != COF_OK)
        sto_object_cleanup(o);
    return err;
}

void sto_object_cleanup(struct sto_object *o)
{
    if (o == NULL)
        return;
    free(o->bucket);
    free(o->key);
    free(o->version_id);
    free(o->etag);
    free(o->headers);
    free(o->blob_id);
    free(o->kek_id);
    free(o->wrapped_dek);
    free(o->inline_body);
    memset(o, 0, sizeof(*o));
}

const char *sto_vid_or_null(const char *version_id)
{
    return version_id != NULL ? version_id : "null";
}

/* ---- writes --------------------------------------------------------------------------------- */

/* A version row's identity as the write paths need it. */
struct row_ref {
    bool found;
    bool delete_marker;
    char *blob_id; /* malloc'd or NULL */
    char *version_id;
    struct sto_object lockview; /* only .lock and .delete_marker filled */
};

static void row_ref_cleanup(struct row_ref *r)
{
    free(r->blob_id);
    free(r->version_id);
    memset(r, 0, sizeof(*r));
}

/* Runs q_obj_cur (current row of bucket/key: version_id NULL) or q_ver_blob (the version
 * version_id). */
static cof_err row_lookup(struct sto_conn *c, const char *bucket, const char *key,
                          const char *version_id, struct row_ref *out)
{
    struct sto_q q;
    cof_err err = COF_OK;
    memset(out, 0, sizeof(*out));
    sto_q_open(&q, c, version_id != NULL ? &q_ver_blob : &q_obj_cur, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    if (version_id != NULL)
        sto_q_text(&q, 3, version_id);
    out->found = sto_q_step(&q);
    if (out->found)
        err = sto_col_text(q.s, 0, &out->blob_id);
    if (err == COF_OK && out->found)
        err = sto_col_text(q.s, 1, &out->version_id);
    if (err == COF_OK && out->found) {
        out->delete_marker = sqlite3_column_int(q.s, 2) != 0;
        out->lockview.delete_marker = out->delete_marker;
        out->lockview.lock.mode = sqlite3_column_int(q.s, 3);
        out->lockview.lock.until_ms = sqlite3_column_int64(q.s, 4);
        out->lockview.lock.legal_hold = sqlite3_column_int(q.s, 5);
    }
    err = sto_q_close(&q, err);
    if (err != COF_OK)
        row_ref_cleanup(out);
    return err;
}

static cof_err object_upsert(struct sto_conn *c, const struct sto_object *o)
{
    struct sto_q q;
    if (o->size > (uint64_t)INT64_MAX || o->wrapped_len > INT_MAX)
        return COF_ERR_TOO_LARGE;
    sto_q_open(&q, c, &q_obj_upsert, COF_OK);
    sto_q_text(&q, 1, o->bucket);
    sto_q_text(&q, 2, o->key);
    sto_q_text(&q, 3, sto_vid_or_null(o->version_id));
    sto_q_int(&q, 4, (int64_t)o->size);
    sto_q_text(&q, 5, o->etag);
    sto_q_int(&q, 6, o->mtime_ms);
    sto_q_text(&q, 7, o->headers);
    sto_q_text(&q, 8, o->blob_id);
    sto_q_int(&q, 9, o->sse_mode);
    sto_q_text(&q, 10, o->kek_id);
    sto_q_blob(&q, 11, o->wrapped_dek, o->wrapped_len);
    sto_q_int(&q, 12, (int64_t)o->part_count);
    sto_q_int(&q, 13, o->delete_marker ? 1 : 0);
    sto_q_int(&q, 14, o->delete_marker ? 0 : o->lock.mode);
    sto_q_int(&q, 15, o->delete_marker ? 0 : o->lock.until_ms);
    sto_q_int(&q, 16, o->delete_marker ? 0 : o->lock.legal_hold);
    (void)sto_q_step(&q);
    return sto_q_close(&q, COF_OK);
}

/* Queues the part blobs of a multipart object version, if it is one, and forgets its parts.
 * Inside a write transaction. */
static cof_err drop_object_parts(struct sto_meta *m, struct sto_conn *c, const char *bucket,
                                 const char *key, const char *version_id)
{
    cof_err err = sto_q_run(c, &q_oparts_queue, bucket, key, version_id, NULL);
    if (err == COF_OK && sqlite3_changes(c->db) > 0)
        atomic_fetch_add(&m->gc_hint, 1);
    if (err == COF_OK)
        err = sto_q_run(c, &q_oparts_delete, bucket, key, version_id, NULL);
    return err;
}

/* Drops one noncurrent version row and its blobs (queued). out->found tells whether it
 * existed. */
static cof_err drop_noncurrent(struct sto_meta *m, struct sto_conn *c, const char *bucket,
                               const char *key, const char *version_id, struct row_ref *out)
{
    cof_err err = row_lookup(c, bucket, key, version_id, out);
    if (err != COF_OK || !out->found)
        return err;
    err = drop_object_parts(m, c, bucket, key, version_id);
    if (err == COF_OK)
        err = sto_q_run(c, &q_ver_delete, bucket, key, version_id, NULL);
    if (err == COF_OK && out->blob_id != NULL) {
        err = sto_gc_queue_unreferenced(c, &out->blob_id);
        if (err == COF_OK && out->blob_id != NULL)
            atomic_fetch_add(&m->gc_hint, 1);
    }
    return err;
}

cof_err sto_object_publish(struct sto_meta *m, struct sto_conn *c, const struct sto_object *o,
                           char **old)
{
    struct row_ref cur = {0}, gone = {0};
    const char *vid = sto_vid_or_null(o->version_id);
    bool null_write = strcmp(vid, "null") == 0;
    *old = NULL;
    cof_err err = row_lookup(c, o->bucket, o->key, NULL, &cur);
    bool replace = err == COF_OK && cur.found && null_write && cur.version_id != NULL &&
                   strcmp(cur.version_id, "null") == 0;
    /* Object Lock: a null write must not replace a locked null version, current or not. Checked
     * before anything is written (the batch's other puts go on). */
    if (err == COF_OK && replace && sto_version_is_locked(&cur.lockview, cof_now_ms(), false))
        err = COF_ERR_OBJECT_LOCKED;
    if (err == COF_OK && null_write && !replace) {
        err = row_lookup(c, o->bucket, o->key, "null", &gone);
        if (err == COF_OK && gone.found &&
            sto_version_is_locked(&gone.lockview, cof_now_ms(), false))
            err = COF_ERR_OBJECT_LOCKED;
        row_ref_cleanup(&gone);
    }
    if (err == COF_OK && replace) {
        err = drop_object_parts(m, c, o->bucket, o->key, "null");
        *old = cur.blob_id;
        cur.blob_id = NULL;
    } else if (err == COF_OK && cur.found) {
        err = sto_q_run(c, &q_obj_demote, o->bucket, o->key, NULL, NULL);
    }
    /* A null write also replaces a noncurrent null version (versioning suspended). */
    if (err == COF_OK && null_write && !replace)
        err = drop_noncurrent(m, c, o->bucket, o->key, "null", &gone);
    if (err == COF_OK)
        err = object_upsert(c, o);
    if (err == COF_OK && o->inline_body != NULL)
        err = sto_inline_insert(c, o->blob_id, o->inline_body, o->inline_len);
    if (err == COF_OK)
        err = sto_gc_queue_unreferenced(c, old);
    if (err != COF_OK) {
        free(*old);
        *old = NULL;
    }
    row_ref_cleanup(&cur);
    row_ref_cleanup(&gone);
    return err;
}

/* ---- conditional writes -------------------------------------------------------------------- */

cof_err sto_precond_check(struct sto_conn *c, const char *bucket, const char *key,
                          const struct sto_precond *pc)
{
    struct sto_q q;
    char *etag = NULL;
    bool live = false;
    if (pc == NULL || (pc->if_match == NULL && !pc->if_none_match))
        return COF_OK;
    sto_q_open(&q, c, &q_obj_cond, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    cof_err err = COF_OK;
    if (sto_q_step(&q)) {
        live = sqlite3_column_int(q.s, 1) == 0;
        err = sto_col_text(q.s, 0, &etag);
    }
    err = sto_q_close(&q, err);
    if (err == COF_OK && pc->if_none_match && live)
        err = COF_ERR_PRECONDITION;
    if (err == COF_OK && pc->if_match != NULL && !live)
        err = COF_ERR_NO_OBJECT;
    if (err == COF_OK && pc->if_match != NULL && strcmp(pc->if_match, "*") != 0 &&
        (etag == NULL || strcmp(etag, pc->if_match) != 0))
        err = COF_ERR_PRECONDITION;
    free(etag);
    return err;
}

cof_err sto_meta_precond_check(struct sto_meta *m, const char *bucket, const char *key,
                               const struct sto_precond *pc)
{
    struct sto_conn *c = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err == COF_OK)
        err = sto_bucket_exists(c, bucket);
    if (err == COF_OK)
        err = sto_precond_check(c, bucket, key, pc);
    sto_conn_put(m, c);
    return err;
}

/* ---- group commit of puts ------------------------------------------------------------------- */

#define MAX_PUT_BATCH 64

struct sto_put_job {
    const struct sto_object *o;
    const struct sto_precond *pc;
    char *old;   /* result: replaced blob id */
    cof_err err; /* result */
    bool done;
    struct sto_put_job *next;
};

/* One put inside an open write transaction. NO_BUCKET and a failed precondition leave the
 * transaction untouched (checked before anything is written). The jobs of a batch run in queue
 * order, so a conditional put sees the puts batched before it. */
static cof_err put_one(struct sto_meta *m, struct sto_conn *c, const struct sto_put_job *j,
                       char **old)
{
    *old = NULL;
    cof_err err = sto_bucket_exists(c, j->o->bucket);
    if (err == COF_OK)
        err = sto_precond_check(c, j->o->bucket, j->o->key, j->pc);
    if (err == COF_OK)
        err = sto_object_publish(m, c, j->o, old);
    return err;
}

/* Failures of one job that leave the shared transaction as it was. */
static bool fails_alone(cof_err err)
{
    return err == COF_ERR_NO_BUCKET || err == COF_ERR_PRECONDITION || err == COF_ERR_NO_OBJECT ||
           err == COF_ERR_OBJECT_LOCKED;
}

/* Publishes jobs [first, end) in one transaction. A job whose bucket is missing fails alone; any
 * other failure rolls the transaction back and the jobs are retried one transaction each, so one
 * bad job cannot fail the others. */
static void run_batch(struct sto_meta *m, struct sto_put_job *first, struct sto_put_job *end)
{
    struct sto_conn *c = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err == COF_OK)
        err = sto_tx_begin(m, c);
    if (err == COF_OK) {
        for (struct sto_put_job *j = first; j != end && err == COF_OK; j = j->next) {
            j->err = put_one(m, c, j, &j->old);
            if (j->err != COF_OK && !fails_alone(j->err))
                err = j->err;
        }
        err = sto_tx_end(m, c, err);
    }
    if (err != COF_OK && first->next != end) {
        for (struct sto_put_job *j = first; j != end; j = j->next) {
            free(j->old);
            j->old = NULL;
        }
        sto_conn_put(m, c);
        for (struct sto_put_job *j = first; j != end; j = j->next) {
            struct sto_put_job *next = j->next;
            j->next = NULL;
            run_batch(m, j, NULL);
            j->next = next;
        }
        return;
    }
    if (err != COF_OK) {
        free(first->old);
        first->old = NULL;
        first->err = err;
    }
    sto_conn_put(m, c);
}

cof_err sto_meta_put_object(struct sto_meta *m, const struct sto_object *o,
                            char **out_replaced_blob)
{
    return sto_meta_put_object_if(m, o, NULL, out_replaced_blob);
}

cof_err sto_meta_put_object_if(struct sto_meta *m, const struct sto_object *o,
                               const struct sto_precond *pc, char **out_replaced_blob)
{
    struct sto_put_job job = {o, pc, NULL, COF_OK, false, NULL};
    if (out_replaced_blob != NULL)
        *out_replaced_blob = NULL;
    if (o == NULL || o->bucket == NULL || o->key == NULL ||
        (o->blob_id == NULL && !o->delete_marker))
        COF_BUG("sto_meta_put_object: NULL object, bucket, key or blob_id");

    pthread_mutex_lock(&m->batch_mu);
    if (m->queue_tail != NULL)
        m->queue_tail->next = &job;
    else
        m->queue_head = &job;
    m->queue_tail = &job;
    while (!job.done) {
        if (m->leader_active) {
            pthread_cond_wait(&m->batch_cv, &m->batch_mu);
            continue;
        }
        /* Lead: take up to MAX_PUT_BATCH queued jobs (ours is among them: it was queued before
         * any batch that has not yet been taken). */
        m->leader_active = true;
        struct sto_put_job *first = m->queue_head, *end = first;
        for (int n = 0; end != NULL && n < MAX_PUT_BATCH; n++)
            end = end->next;
        m->queue_head = end;
        if (end == NULL)
            m->queue_tail = NULL;
        pthread_mutex_unlock(&m->batch_mu);
        run_batch(m, first, end);
        pthread_mutex_lock(&m->batch_mu);
        for (struct sto_put_job *j = first; j != end; j = j->next)
            j->done = true;
        m->leader_active = false;
        pthread_cond_broadcast(&m->batch_cv);
    }
    pthread_mutex_unlock(&m->batch_mu);

    if (job.err != COF_OK || out_replaced_blob == NULL) {
        free(job.old);
        job.old = NULL;
    }
    if (out_replaced_blob != NULL)
        *out_replaced_blob = job.old;
    return job.err;
}

/* ---- reads ---------------------------------------------------------------------------------- */

/* Reads the current row (version_id NULL) or the noncurrent version version_id. */
static cof_err read_row(struct sto_conn *c, const char *bucket, const char *key,
                        const char *version_id, struct sto_object *out, bool *row)
{
    struct sto_q q;
    cof_err err = COF_OK;
    sto_q_open(&q, c, version_id != NULL ? &q_ver_get : &q_obj_get, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    if (version_id != NULL)
        sto_q_text(&q, 3, version_id);
    *row = sto_q_step(&q);
    if (*row)
        err = sto_row_object(q.s, out);
    return sto_q_close(&q, err);
}

cof_err sto_meta_get_version(struct sto_meta *m, const char *bucket, const char *key,
                             const char *version_id, struct sto_object *out)
{
    struct sto_conn *c = NULL;
    bool row = false;
    memset(out, 0, sizeof(*out));
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = read_row(c, bucket, key, NULL, out, &row);
    if (err == COF_OK && row && (version_id == NULL || strcmp(out->version_id, version_id) == 0)) {
        out->is_latest = true;
    } else if (err == COF_OK && version_id != NULL) {
        sto_object_cleanup(out);
        err = read_row(c, bucket, key, version_id, out, &row);
    } else {
        row = false;
    }
    if (err == COF_OK && !row) {
        err = sto_bucket_exists(c, bucket);
        if (err == COF_OK)
            err = COF_ERR_NO_OBJECT;
    }
    if (err != COF_OK)
        sto_object_cleanup(out);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_get_object(struct sto_meta *m, const char *bucket, const char *key,
                            struct sto_object *out)
{
    cof_err err = sto_meta_get_version(m, bucket, key, NULL, out);
    if (err == COF_OK && out->delete_marker) {
        sto_object_cleanup(out);
        err = COF_ERR_NO_OBJECT;
    }
    return err;
}

/* ---- deletes -------------------------------------------------------------------------------- */

/* The clock and bypass a delete judges Object Lock with. */
struct lock_check {
    int64_t now_ms;
    bool bypass;
};

/* The newest noncurrent version of bucket/key becomes current, if there is one. */
static cof_err promote_newest(struct sto_conn *c, const char *bucket, const char *key)
{
    struct sto_q q;
    char *newest = NULL;
    cof_err err = COF_OK;
    sto_q_open(&q, c, &q_ver_newest, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    if (sto_q_step(&q))
        err = sto_col_text(q.s, 0, &newest);
    err = sto_q_close(&q, err);
    if (err == COF_OK && newest != NULL)
        err = sto_q_run(c, &q_ver_promote, bucket, key, newest, NULL);
    if (err == COF_OK && newest != NULL)
        err = sto_q_run(c, &q_ver_delete, bucket, key, newest, NULL);
    free(newest);
    return err;
}

/* Removes one version inside a write transaction; a removed current version is replaced by
 * the newest noncurrent one. version_id NULL: the current version. *old gets the current
 * version's blob when queued; a noncurrent version's blob is queued behind the GC hint. */
static cof_err remove_version(struct sto_meta *m, struct sto_conn *c, const char *bucket,
                              const char *key, const char *version_id, const struct lock_check *lc,
                              bool *was_marker, char **old)
{
    struct row_ref cur = {0}, gone = {0};
    *old = NULL;
    *was_marker = false;
    cof_err err = sto_bucket_exists(c, bucket);
    if (err == COF_OK)
        err = row_lookup(c, bucket, key, NULL, &cur);
    if (err != COF_OK)
        goto out;
    bool is_cur = cur.found && (version_id == NULL || strcmp(cur.version_id, version_id) == 0);
    /* Object Lock: the version to remove is looked at before anything is written. */
    if (is_cur && sto_version_is_locked(&cur.lockview, lc->now_ms, lc->bypass)) {
        err = COF_ERR_OBJECT_LOCKED;
        goto out;
    }
    if (!is_cur && version_id != NULL) {
        err = row_lookup(c, bucket, key, version_id, &gone);
        if (err == COF_OK && gone.found &&
            sto_version_is_locked(&gone.lockview, lc->now_ms, lc->bypass))
            err = COF_ERR_OBJECT_LOCKED;
        row_ref_cleanup(&gone);
        if (err != COF_OK)
            goto out;
    }
    if (is_cur) {
        *was_marker = cur.delete_marker;
        err = drop_object_parts(m, c, bucket, key, cur.version_id);
        if (err == COF_OK)
            err = sto_q_run(c, &q_obj_delete, bucket, key, NULL, NULL);
        *old = cur.blob_id;
        cur.blob_id = NULL;
        if (err == COF_OK)
            err = sto_gc_queue_unreferenced(c, old);
        if (err == COF_OK)
            err = promote_newest(c, bucket, key);
    } else if (version_id != NULL) {
        err = drop_noncurrent(m, c, bucket, key, version_id, &gone);
        if (err == COF_OK && !gone.found)
            err = COF_ERR_NO_OBJECT;
        *was_marker = gone.delete_marker;
    } else {
        err = COF_ERR_NO_OBJECT;
    }
out:
    if (err != COF_OK) {
        free(*old);
        *old = NULL;
    }
    row_ref_cleanup(&cur);
    row_ref_cleanup(&gone);
    return err;
}

/* Runs remove_version in its own transaction. */
static cof_err remove_in_tx(struct sto_meta *m, const char *bucket, const char *key,
                            const char *version_id, const struct lock_check *lc, bool *was_marker,
                            char **old)
{
    struct sto_conn *c = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err == COF_OK) {
        err = remove_version(m, c, bucket, key, version_id, lc, was_marker, old);
        err = sto_tx_end(m, c, err);
    }
    sto_conn_put(m, c);
    if (err != COF_OK) {
        free(*old);
        *old = NULL;
    }
    return err;
}

cof_err sto_meta_delete_object(struct sto_meta *m, const char *bucket, const char *key,
                               char **out_removed_blob)
{
    char *old = NULL;
    bool marker = false;
    struct lock_check lc = {cof_now_ms(), false};
    cof_err err = remove_in_tx(m, bucket, key, NULL, &lc, &marker, &old);
    if (out_removed_blob != NULL)
        *out_removed_blob = old;
    else
        free(old);
    return err;
}

cof_err sto_meta_delete_version(struct sto_meta *m, const char *bucket, const char *key,
                                const char *version_id, bool *out_was_marker)
{
    return sto_meta_delete_version_lock(m, bucket, key, version_id, cof_now_ms(), false,
                                        out_was_marker);
}

cof_err sto_meta_delete_version_lock(struct sto_meta *m, const char *bucket, const char *key,
                                     const char *version_id, int64_t now_ms, bool bypass_governance,
                                     bool *out_was_marker)
{
    char *old = NULL;
    bool marker = false;
    struct lock_check lc = {now_ms, bypass_governance};
    cof_err err = remove_in_tx(m, bucket, key, version_id, &lc, &marker, &old);
    if (old != NULL)
        atomic_fetch_add(&m->gc_hint, 1); /* left queued for the drain */
    free(old);
    if (out_was_marker != NULL)
        *out_was_marker = marker;
    return err;
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether the version e names is still the row e was read from (and, lone, the key's only
 * version) and is not under Object Lock now (a retention or legal hold set since the sweep read
 * it counts); inside the removal's transaction. */
static cof_err still_same(struct sto_conn *c, const struct sto_object *e, bool lone, bool *same)
{
    struct sto_object row = {0};
    bool found = false, current = false;
    *same = false;
    cof_err err = read_row(c, e->bucket, e->key, NULL, &row, &found);
    current = err == COF_OK && found && strcmp(row.version_id, e->version_id) == 0;
    if (err == COF_OK && !current) {
        sto_object_cleanup(&row);
        err = read_row(c, e->bucket, e->key, e->version_id, &row, &found);
    }
    if (err == COF_OK && found)
        *same = current == e->is_latest && row.mtime_ms == e->mtime_ms &&
                row.delete_marker == e->delete_marker && same_text(row.etag, e->etag) &&
                same_text(row.blob_id, e->blob_id) &&
                !sto_version_is_locked(&row, cof_now_ms(), false);
    sto_object_cleanup(&row);
    if (err == COF_OK && *same && lone) {
        struct sto_q q;
        sto_q_open(&q, c, &q_ver_newest, COF_OK);
        sto_q_text(&q, 1, e->bucket);
        sto_q_text(&q, 2, e->key);
        *same = current && !sto_q_step(&q);
        err = sto_q_close(&q, COF_OK);
    }
    return err;
}

cof_err sto_meta_expire_version(struct sto_meta *m, const struct sto_object *expected, bool lone,
                                bool *out_removed)
{
    struct sto_conn *c = NULL;
    char *old = NULL;
    bool marker = false, same = false;
    struct lock_check lc = {cof_now_ms(), false};
    *out_removed = false;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err == COF_OK) {
        err = sto_bucket_exists(c, expected->bucket);
        if (err == COF_OK)
            err = still_same(c, expected, lone, &same);
        if (err == COF_OK && same)
            err = remove_version(m, c, expected->bucket, expected->key, expected->version_id, &lc,
                                 &marker, &old);
        err = sto_tx_end(m, c, err);
    }
    sto_conn_put(m, c);
    if (err == COF_OK && old != NULL)
        atomic_fetch_add(&m->gc_hint, 1); /* left queued for the drain */
    free(old);
    *out_removed = err == COF_OK && same;
    return err;
}

/* Replaces the headers of the current row, or failing that of a noncurrent version (each a
 * transaction of its own, as the row cannot be both). */
cof_err sto_meta_object_set_headers(struct sto_meta *m, const char *bucket, const char *key,
                                    const char *version_id, const struct sto_object *expected,
                                    const char *headers, bool *out_changed)
{
    int changes = 0;
    cof_err err = COF_OK;
    *out_changed = false;
    for (int i = 0; i < 2 && err == COF_OK && changes == 0; i++) {
        struct sto_q q;
        sto_write_open(m, i == 0 ? &q_obj_set_headers : &q_ver_set_headers, &q);
        sto_q_text(&q, 1, headers);
        sto_q_text(&q, 2, bucket);
        sto_q_text(&q, 3, key);
        sto_q_text(&q, 4, version_id);
        sto_q_text(&q, 5, expected->blob_id);
        sto_q_text(&q, 6, expected->etag);
        sto_q_int(&q, 7, expected->mtime_ms);
        sto_q_int(&q, 8, (int64_t)expected->part_count);
        sto_q_text(&q, 9, expected->headers);
        err = sto_write_close(m, &q, &changes);
    }
    *out_changed = err == COF_OK && changes > 0;
    return err;
}

/* ---- listing -------------------------------------------------------------------------------- */

size_t sto_meta_prefix_successor(const char *prefix, size_t len, char *out)
{
    while (len > 0 && (unsigned char)prefix[len - 1] == 0xff)
        len--;
    if (len == 0)
        return 0;
    memcpy(out, prefix, len);
    out[len - 1] = (char)((unsigned char)out[len - 1] + 1); /* < 0xff before: never NUL after */
    return len;
}

const char *sto_meta_list_sql(bool inclusive, bool bounded)
{
    if (bounded)
        return inclusive ? q_obj_list_ge_lt.sql : q_obj_list_gt_lt.sql;
    return inclusive ? q_obj_list_ge.sql : q_obj_list_gt.sql;
}

/* memcmp order with the shorter string first on a tie: SQLite's BINARY collation. */
static int bincmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r != 0)
        return r;
    return an < bn ? -1 : an > bn;
}

/* Steps q (selecting STO_OBJ_COLS) and feeds the rows to cb (see sto_meta_list_objects). Closes
 * q. */
static cof_err feed_objects(struct sto_q *q, sto_object_fn cb, void *arg)
{
    cof_err err = COF_OK;
    while (err == COF_OK && sto_q_step(q)) {
        struct sto_object o;
        err = sto_row_object(q->s, &o);
        if (err == COF_OK)
            err = cb(&o, arg);
        sto_object_cleanup(&o);
    }
    err = sto_q_close(q, err);
    return err == COF_ERR_NOT_FOUND ? COF_OK : err;
}

cof_err sto_meta_list_objects(struct sto_meta *m, const char *bucket, const char *from,
                              bool inclusive, const char *prefix, size_t limit, sto_object_fn cb,
                              void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    char *upper = NULL;
    size_t plen = prefix != NULL ? strlen(prefix) : 0;
    size_t ulen = 0;
    const char *lower = "";
    size_t llen = 0;
    bool ge = true;
    cof_err err = COF_OK;

    /* Prefix as a range: [prefix, successor(prefix)); the lower bound is the larger of the
     * prefix and from (from keeps its own inclusiveness). */
    if (plen > 0) {
        lower = prefix;
        llen = plen;
        upper = malloc(plen);
        if (upper == NULL)
            return COF_ERR_NOMEM;
        ulen = sto_meta_prefix_successor(prefix, plen, upper);
    }
    if (from != NULL) {
        size_t flen = strlen(from);
        if (bincmp(from, flen, lower, llen) >= 0) {
            lower = from;
            llen = flen;
            ge = inclusive;
        }
    }
    const struct sto_sql *def = ge ? (ulen > 0 ? &q_obj_list_ge_lt : &q_obj_list_ge)
                                   : (ulen > 0 ? &q_obj_list_gt_lt : &q_obj_list_gt);

    err = sto_conn_get(m, &c);
    if (err != COF_OK)
        goto out;
    err = sto_bucket_exists(c, bucket);
    sto_q_open(&q, c, def, err);
    sto_q_text(&q, 1, bucket);
    sto_q_bytes(&q, 2, lower, llen);
    if (ulen > 0)
        sto_q_bytes(&q, 3, upper, ulen);
    sto_q_int(&q, 4, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    err = feed_objects(&q, cb, arg);
out:
    sto_conn_put(m, c);
    free(upper);
    return err;
}

/* The position of (key, version) in list_versions order: the current row ranks above every
 * noncurrent seq. An unknown version ranks there too (listing resumes after the key's current
 * row), so a stale marker skips nothing older than what the client saw. */
#define CURRENT_SEQ INT64_MAX

static cof_err version_seq(struct sto_conn *c, const char *bucket, const char *key,
                           const char *version_id, int64_t *out)
{
    struct sto_q q;
    *out = CURRENT_SEQ;
    sto_q_open(&q, c, &q_ver_seq, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    sto_q_text(&q, 3, version_id);
    if (sto_q_step(&q))
        *out = sqlite3_column_int64(q.s, 0);
    return sto_q_close(&q, COF_OK);
}

cof_err sto_meta_list_versions(struct sto_meta *m, const char *bucket, const char *prefix,
                               const char *key_marker, const char *version_marker, sto_object_fn cb,
                               void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    char *upper = NULL;
    size_t plen = prefix != NULL ? strlen(prefix) : 0, ulen = 0;
    const char *lower = prefix != NULL ? prefix : "";
    size_t llen = plen;
    size_t kmlen = key_marker != NULL ? strlen(key_marker) : 0;
    int64_t marker_seq = CURRENT_SEQ;
    if (plen > 0) {
        upper = malloc(plen);
        if (upper == NULL)
            return COF_ERR_NOMEM;
        ulen = sto_meta_prefix_successor(prefix, plen, upper);
    }
    if (key_marker != NULL && bincmp(key_marker, kmlen, lower, llen) >= 0) {
        lower = key_marker;
        llen = kmlen;
    }
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        goto out;
    err = sto_bucket_exists(c, bucket);
    if (err == COF_OK && key_marker != NULL && version_marker != NULL)
        err = version_seq(c, bucket, key_marker, version_marker, &marker_seq);
    sto_q_open(&q, c, ulen > 0 ? &q_ver_list_lt : &q_ver_list, err);
    sto_q_text(&q, 1, bucket);
    sto_q_bytes(&q, 2, lower, llen);
    if (ulen > 0)
        sto_q_bytes(&q, 3, upper, ulen);
    while (err == COF_OK && sto_q_step(&q)) {
        int64_t seq = sqlite3_column_int64(q.s, 16);
        if (key_marker != NULL) {
            const char *k = (const char *)sqlite3_column_text(q.s, 1);
            size_t klen = (size_t)sqlite3_column_bytes(q.s, 1);
            /* Rows of the marker key at or above the marker's position were listed before. */
            if (k != NULL && bincmp(k, klen, key_marker, kmlen) == 0 &&
                (version_marker == NULL || seq >= marker_seq))
                continue;
        }
        struct sto_object o;
        err = sto_row_object(q.s, &o);
        o.is_latest = seq == CURRENT_SEQ;
        if (err == COF_OK)
            err = cb(&o, arg);
        sto_object_cleanup(&o);
    }
    err = sto_q_close(&q, err);
    if (err == COF_ERR_NOT_FOUND)
        err = COF_OK;
out:
    sto_conn_put(m, c);
    free(upper);
    return err;
}

cof_err sto_meta_each_object(struct sto_meta *m, sto_object_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_obj_each, COF_OK);
    err = feed_objects(&q, cb, arg);
    sto_conn_put(m, c);
    return err;
}

/* ---- Object Lock ----------------------------------------------------------------------------- */

bool sto_version_is_locked(const struct sto_object *o, int64_t now_ms, bool bypass_governance)
{
    if (o == NULL || o->delete_marker)
        return false;
    if (o->lock.legal_hold == STO_HOLD_ON)
        return true;
    if (o->lock.until_ms <= now_ms)
        return false; /* retention over (or none) */
    if (o->lock.mode == STO_LOCK_COMPLIANCE)
        return true;
    return o->lock.mode == STO_LOCK_GOVERNANCE && !bypass_governance;
}

bool sto_lock_retention_change_allowed(const struct sto_lock *old, int mode, int64_t until_ms,
                                       int64_t now_ms, bool bypass_governance)
{
    bool active = old->mode != STO_LOCK_NONE && old->until_ms > now_ms;
    if (!active)
        return true;
    bool weaker = mode == STO_LOCK_NONE || until_ms < old->until_ms ||
                  (old->mode == STO_LOCK_COMPLIANCE && mode != STO_LOCK_COMPLIANCE);
    if (!weaker)
        return true;
    return old->mode == STO_LOCK_GOVERNANCE && bypass_governance;
}

/* Reads the lock of version_id from objects (cur) or object_versions inside an open
 * transaction; *found false when neither holds it (or it is a delete marker). */
static cof_err lock_read(struct sto_conn *c, const char *bucket, const char *key,
                         const char *version_id, bool cur, struct sto_lock *out, bool *found)
{
    struct sto_q q;
    memset(out, 0, sizeof(*out));
    sto_q_open(&q, c, cur ? &q_obj_lock_get : &q_ver_lock_get, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    sto_q_text(&q, 3, version_id);
    *found = sto_q_step(&q);
    if (*found) {
        out->mode = sqlite3_column_int(q.s, 0);
        out->until_ms = sqlite3_column_int64(q.s, 1);
        out->legal_hold = sqlite3_column_int(q.s, 2);
    }
    return sto_q_close(&q, COF_OK);
}

/* What a lock update writes, and the retention rule it is held to (retention only). */
struct lock_update {
    bool retention; /* else a legal hold */
    int mode;
    int64_t until_ms;
    int hold;
    int64_t now_ms;
    bool bypass;
};

static cof_err lock_write(struct sto_conn *c, const char *bucket, const char *key,
                          const char *version_id, bool cur, const struct lock_update *u)
{
    struct sto_q q;
    const struct sto_sql *def = u->retention ? (cur ? &q_obj_set_retention : &q_ver_set_retention)
                                             : (cur ? &q_obj_set_hold : &q_ver_set_hold);
    sto_q_open(&q, c, def, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, key);
    sto_q_text(&q, 3, version_id);
    sto_q_int(&q, 4, u->retention ? u->mode : u->hold);
    if (u->retention)
        sto_q_int(&q, 5, u->mode != STO_LOCK_NONE ? u->until_ms : 0);
    (void)sto_q_step(&q);
    return sto_q_close(&q, COF_OK);
}

/* Finds the version's row (current first), checks the rule and updates it, in one
 * transaction. */
static cof_err lock_update(struct sto_meta *m, const char *bucket, const char *key,
                           const char *version_id, const struct lock_update *u)
{
    struct sto_conn *c = NULL;
    struct sto_lock old;
    bool found = false, cur = true;
    if (version_id == NULL)
        COF_BUG("sto_meta_set_retention/legal_hold: version_id is NULL");
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK) {
        sto_conn_put(m, c);
        return err;
    }
    err = sto_bucket_exists(c, bucket);
    if (err == COF_OK)
        err = lock_read(c, bucket, key, version_id, true, &old, &found);
    if (err == COF_OK && !found) {
        cur = false;
        err = lock_read(c, bucket, key, version_id, false, &old, &found);
    }
    if (err == COF_OK && !found)
        err = COF_ERR_NO_OBJECT;
    if (err == COF_OK && u->retention &&
        !sto_lock_retention_change_allowed(&old, u->mode, u->until_ms, u->now_ms, u->bypass))
        err = COF_ERR_OBJECT_LOCKED;
    if (err == COF_OK)
        err = lock_write(c, bucket, key, version_id, cur, u);
    err = sto_tx_end(m, c, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_set_retention(struct sto_meta *m, const char *bucket, const char *key,
                               const char *version_id, int mode, int64_t until_ms, int64_t now_ms,
                               bool bypass_governance)
{
    struct lock_update u = {.retention = true,
                            .mode = mode,
                            .until_ms = until_ms,
                            .now_ms = now_ms,
                            .bypass = bypass_governance};
    return lock_update(m, bucket, key, version_id, &u);
}

cof_err sto_meta_set_legal_hold(struct sto_meta *m, const char *bucket, const char *key,
                                const char *version_id, int hold)
{
    struct lock_update u = {.retention = false, .hold = hold};
    return lock_update(m, bucket, key, version_id, &u);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Objects, their versions, listing, and group commit of object puts. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/meta.h"

#define MAX_PUT_BATCH 64

struct put_job {
    const struct sto_object *o;
    char *old;   /* result: replaced blob id */
    cof_err err; /* result */
    bool done;
    struct put_job *next;
};

/* Fills o from a row selected with OBJ_COLS. */
cof_err row_object(sqlite3_stmt *s, struct sto_object *o)
{
    memset(o, 0, sizeof(*o));
    cof_err err = col_text(s, 0, &o->bucket);
    if (err == COF_OK)
        err = col_text(s, 1, &o->key);
    if (err == COF_OK)
        err = col_text(s, 2, &o->version_id);
    int64_t size = sqlite3_column_int64(s, 3);
    o->size = size > 0 ? (uint64_t)size : 0;
    if (err == COF_OK)
        err = col_text(s, 4, &o->etag);
    o->mtime_ms = sqlite3_column_int64(s, 5);
    if (err == COF_OK)
        err = col_text(s, 6, &o->headers);
    if (err == COF_OK)
        err = col_text(s, 7, &o->blob_id);
    o->sse_mode = sqlite3_column_int(s, 8);
    if (err == COF_OK)
        err = col_text(s, 9, &o->kek_id);
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
    memset(o, 0, sizeof(*o));
}

/* ---- objects -------------------------------------------------------------------------------- */

/* A version row's identity as the write paths need it. */
struct row_ref {
    bool found;
    bool delete_marker;
    char *blob_id; /* malloc'd or NULL */
    char *version_id;
};

static void row_ref_cleanup(struct row_ref *r)
{
    free(r->blob_id);
    free(r->version_id);
    memset(r, 0, sizeof(*r));
}

/* Runs ST_OBJ_CUR (current row of bucket/key) or ST_VER_BLOB (the version version_id). */
static cof_err row_lookup(struct conn *c, enum st id, const char *bucket, const char *key,
                          const char *version_id, struct row_ref *out)
{
    memset(out, 0, sizeof(*out));
    cof_err err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, bucket);
    if (err == COF_OK)
        err = bind_str(c, id, 2, key);
    if (err == COF_OK && version_id != NULL)
        err = bind_str(c, id, 3, version_id);
    if (err == COF_OK)
        err = step(c, id, &out->found);
    if (err == COF_OK && out->found)
        err = col_text(c->st[id], 0, &out->blob_id);
    if (err == COF_OK && out->found)
        err = col_text(c->st[id], 1, &out->version_id);
    if (err == COF_OK && out->found)
        out->delete_marker = sqlite3_column_int(c->st[id], 2) != 0;
    finish(c, id);
    if (err != COF_OK)
        row_ref_cleanup(out);
    return err;
}

/* Runs a statement with up to three text parameters (NULL: not bound). */
static cof_err run3(struct conn *c, enum st id, const char *a, const char *b, const char *d)
{
    bool row = false;
    cof_err err = prep(c, id);
    if (err == COF_OK && a != NULL)
        err = bind_str(c, id, 1, a);
    if (err == COF_OK && b != NULL)
        err = bind_str(c, id, 2, b);
    if (err == COF_OK && d != NULL)
        err = bind_str(c, id, 3, d);
    if (err == COF_OK)
        err = step(c, id, &row);
    finish(c, id);
    return err;
}

const char *vid_or_null(const char *version_id)
{
    return version_id != NULL ? version_id : "null";
}

static cof_err object_upsert(struct conn *c, const struct sto_object *o)
{
    enum st id = ST_OBJ_UPSERT;
    if (o->size > (uint64_t)INT64_MAX || o->wrapped_len > INT_MAX)
        return COF_ERR_TOO_LARGE;
    bool row = false;
    cof_err err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, o->bucket);
    if (err == COF_OK)
        err = bind_str(c, id, 2, o->key);
    if (err == COF_OK)
        err = bind_str(c, id, 3, vid_or_null(o->version_id));
    if (err == COF_OK)
        err = bind_i64(c, id, 4, (int64_t)o->size);
    if (err == COF_OK)
        err = bind_str(c, id, 5, o->etag);
    if (err == COF_OK)
        err = bind_i64(c, id, 6, o->mtime_ms);
    if (err == COF_OK)
        err = bind_str(c, id, 7, o->headers);
    if (err == COF_OK)
        err = bind_str(c, id, 8, o->blob_id);
    if (err == COF_OK)
        err = bind_i64(c, id, 9, o->sse_mode);
    if (err == COF_OK)
        err = bind_str(c, id, 10, o->kek_id);
    if (err == COF_OK && o->wrapped_dek != NULL)
        err = bind_rc(
            c, id,
            sqlite3_bind_blob(c->st[id], 11, o->wrapped_dek, (int)o->wrapped_len, SQLITE_STATIC));
    if (err == COF_OK)
        err = bind_i64(c, id, 12, (int64_t)o->part_count);
    if (err == COF_OK)
        err = bind_i64(c, id, 13, o->delete_marker ? 1 : 0);
    if (err == COF_OK)
        err = step(c, id, &row);
    finish(c, id);
    return err;
}

/* Queues the part blobs of a multipart object version, if it is one, and forgets its parts.
 * Inside a write transaction. */
static cof_err drop_object_parts(struct sto_meta *m, struct conn *c, const char *bucket,
                                 const char *key, const char *version_id)
{
    cof_err err = run3(c, ST_OPARTS_QUEUE, bucket, key, version_id);
    if (err == COF_OK && sqlite3_changes(c->db) > 0)
        atomic_fetch_add(&m->gc_hint, 1);
    if (err == COF_OK)
        err = run3(c, ST_OPARTS_DELETE, bucket, key, version_id);
    return err;
}

/* Drops one noncurrent version row and its blobs (queued). *found tells whether it existed. */
static cof_err drop_noncurrent(struct sto_meta *m, struct conn *c, const char *bucket,
                               const char *key, const char *version_id, struct row_ref *out)
{
    cof_err err = row_lookup(c, ST_VER_BLOB, bucket, key, version_id, out);
    if (err != COF_OK || !out->found)
        return err;
    err = drop_object_parts(m, c, bucket, key, version_id);
    if (err == COF_OK)
        err = run3(c, ST_VER_DELETE, bucket, key, version_id);
    if (err == COF_OK && out->blob_id != NULL) {
        err = queue_unreferenced(c, &out->blob_id);
        if (err == COF_OK && out->blob_id != NULL)
            atomic_fetch_add(&m->gc_hint, 1);
    }
    return err;
}

/* Makes o the current version of its key inside an open write transaction (S3's rules: see
 * sto_meta_put_object). *old gets the blob of a replaced current null version, if queued.
 * Does not write o's parts. */
cof_err publish(struct sto_meta *m, struct conn *c, const struct sto_object *o, char **old)
{
    struct row_ref cur = {0}, gone = {0};
    const char *vid = vid_or_null(o->version_id);
    bool null_write = strcmp(vid, "null") == 0;
    *old = NULL;
    cof_err err = row_lookup(c, ST_OBJ_CUR, o->bucket, o->key, NULL, &cur);
    bool replace = err == COF_OK && cur.found && null_write && cur.version_id != NULL &&
                   strcmp(cur.version_id, "null") == 0;
    if (err == COF_OK && replace) {
        err = drop_object_parts(m, c, o->bucket, o->key, "null");
        *old = cur.blob_id;
        cur.blob_id = NULL;
    } else if (err == COF_OK && cur.found) {
        err = run2(c, ST_OBJ_DEMOTE, o->bucket, o->key, NULL);
    }
    /* A null write also replaces a noncurrent null version (versioning suspended). */
    if (err == COF_OK && null_write && !replace)
        err = drop_noncurrent(m, c, o->bucket, o->key, "null", &gone);
    if (err == COF_OK)
        err = object_upsert(c, o);
    if (err == COF_OK)
        err = queue_unreferenced(c, old);
    if (err != COF_OK) {
        free(*old);
        *old = NULL;
    }
    row_ref_cleanup(&cur);
    row_ref_cleanup(&gone);
    return err;
}

/* One put inside an open write transaction. NO_BUCKET leaves the transaction untouched. */
static cof_err put_one(struct sto_meta *m, struct conn *c, const struct sto_object *o, char **old)
{
    *old = NULL;
    cof_err err = bucket_exists(c, o->bucket);
    if (err == COF_OK)
        err = publish(m, c, o, old);
    return err;
}

/* Publishes jobs [first, end) in one transaction. A job whose bucket is missing fails alone; any
 * other failure rolls the transaction back and the jobs are retried one transaction each, so one
 * bad job cannot fail the others. */
static void run_batch(struct sto_meta *m, struct put_job *first, struct put_job *end)
{
    struct conn *c = NULL;
    cof_err err = conn_get(m, &c);
    if (err == COF_OK)
        err = wr_begin(m, c);
    if (err == COF_OK) {
        for (struct put_job *j = first; j != end && err == COF_OK; j = j->next) {
            j->err = put_one(m, c, j->o, &j->old);
            if (j->err != COF_OK && j->err != COF_ERR_NO_BUCKET)
                err = j->err;
        }
        err = wr_end(m, c, err);
    }
    if (err != COF_OK && first->next != end) {
        for (struct put_job *j = first; j != end; j = j->next) {
            free(j->old);
            j->old = NULL;
        }
        conn_put(m, c);
        for (struct put_job *j = first; j != end; j = j->next) {
            struct put_job *next = j->next;
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
    conn_put(m, c);
}

cof_err sto_meta_put_object(struct sto_meta *m, const struct sto_object *o,
                            char **out_replaced_blob)
{
    struct put_job job = {o, NULL, COF_OK, false, NULL};
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
        struct put_job *first = m->queue_head, *end = first;
        for (int n = 0; end != NULL && n < MAX_PUT_BATCH; n++)
            end = end->next;
        m->queue_head = end;
        if (end == NULL)
            m->queue_tail = NULL;
        pthread_mutex_unlock(&m->batch_mu);
        run_batch(m, first, end);
        pthread_mutex_lock(&m->batch_mu);
        for (struct put_job *j = first; j != end; j = j->next)
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

/* Reads the row selected by id (ST_OBJ_GET: ?1 bucket ?2 key; ST_VER_GET: also ?3 version). */
static cof_err read_row(struct conn *c, enum st id, const char *bucket, const char *key,
                        const char *version_id, struct sto_object *out, bool *row)
{
    *row = false;
    cof_err err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, bucket);
    if (err == COF_OK)
        err = bind_str(c, id, 2, key);
    if (err == COF_OK && version_id != NULL)
        err = bind_str(c, id, 3, version_id);
    if (err == COF_OK)
        err = step(c, id, row);
    if (err == COF_OK && *row)
        err = row_object(c->st[id], out);
    finish(c, id);
    return err;
}

cof_err sto_meta_get_version(struct sto_meta *m, const char *bucket, const char *key,
                             const char *version_id, struct sto_object *out)
{
    struct conn *c = NULL;
    bool row = false;
    memset(out, 0, sizeof(*out));
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = read_row(c, ST_OBJ_GET, bucket, key, NULL, out, &row);
    if (err == COF_OK && row && (version_id == NULL || strcmp(out->version_id, version_id) == 0)) {
        out->is_latest = true;
    } else if (err == COF_OK && version_id != NULL) {
        sto_object_cleanup(out);
        err = read_row(c, ST_VER_GET, bucket, key, version_id, out, &row);
    } else {
        row = false;
    }
    if (err == COF_OK && !row) {
        err = bucket_exists(c, bucket);
        if (err == COF_OK)
            err = COF_ERR_NO_OBJECT;
    }
    if (err != COF_OK)
        sto_object_cleanup(out);
    conn_put(m, c);
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

/* Removes one version inside a write transaction; a removed current version is replaced by
 * the newest noncurrent one. version_id NULL: the current version. *old gets the current
 * version's blob when queued; a noncurrent version's blob is queued behind the GC hint. */
static cof_err remove_version(struct sto_meta *m, struct conn *c, const char *bucket,
                              const char *key, const char *version_id, bool *was_marker, char **old)
{
    struct row_ref cur = {0}, gone = {0};
    *old = NULL;
    *was_marker = false;
    cof_err err = bucket_exists(c, bucket);
    if (err == COF_OK)
        err = row_lookup(c, ST_OBJ_CUR, bucket, key, NULL, &cur);
    if (err != COF_OK)
        goto out;
    if (cur.found && (version_id == NULL || strcmp(cur.version_id, version_id) == 0)) {
        *was_marker = cur.delete_marker;
        err = drop_object_parts(m, c, bucket, key, cur.version_id);
        if (err == COF_OK)
            err = run2(c, ST_OBJ_DELETE, bucket, key, NULL);
        *old = cur.blob_id;
        cur.blob_id = NULL;
        if (err == COF_OK)
            err = queue_unreferenced(c, old);
        /* The newest noncurrent version, if any, becomes current. */
        bool row = false;
        char *newest = NULL;
        if (err == COF_OK)
            err = prep(c, ST_VER_NEWEST);
        if (err == COF_OK)
            err = bind_str(c, ST_VER_NEWEST, 1, bucket);
        if (err == COF_OK)
            err = bind_str(c, ST_VER_NEWEST, 2, key);
        if (err == COF_OK)
            err = step(c, ST_VER_NEWEST, &row);
        if (err == COF_OK && row)
            err = col_text(c->st[ST_VER_NEWEST], 0, &newest);
        finish(c, ST_VER_NEWEST);
        if (err == COF_OK && newest != NULL)
            err = run3(c, ST_VER_PROMOTE, bucket, key, newest);
        if (err == COF_OK && newest != NULL)
            err = run3(c, ST_VER_DELETE, bucket, key, newest);
        free(newest);
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
                            const char *version_id, bool *was_marker, char **old)
{
    struct conn *c = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err == COF_OK) {
        err = remove_version(m, c, bucket, key, version_id, was_marker, old);
        err = wr_end(m, c, err);
    }
    conn_put(m, c);
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
    cof_err err = remove_in_tx(m, bucket, key, NULL, &marker, &old);
    if (out_removed_blob != NULL)
        *out_removed_blob = old;
    else
        free(old);
    return err;
}

cof_err sto_meta_delete_version(struct sto_meta *m, const char *bucket, const char *key,
                                const char *version_id, bool *out_was_marker)
{
    char *old = NULL;
    bool marker = false;
    cof_err err = remove_in_tx(m, bucket, key, version_id, &marker, &old);
    if (old != NULL)
        atomic_fetch_add(&m->gc_hint, 1); /* left queued for the drain */
    free(old);
    if (out_was_marker != NULL)
        *out_was_marker = marker;
    return err;
}

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

/* memcmp order with the shorter string first on a tie: SQLite's BINARY collation. */
static int bincmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r != 0)
        return r;
    return an < bn ? -1 : an > bn;
}

/* Steps a statement selecting OBJ_COLS and feeds the rows to cb (see sto_meta_list_objects). */
static cof_err feed_objects(struct conn *c, enum st id, sto_object_fn cb, void *arg)
{
    cof_err err = COF_OK;
    for (bool row = true; err == COF_OK;) {
        struct sto_object o;
        err = step(c, id, &row);
        if (err != COF_OK || !row)
            break;
        err = row_object(c->st[id], &o);
        if (err == COF_OK)
            err = cb(&o, arg);
        sto_object_cleanup(&o);
    }
    return err == COF_ERR_NOT_FOUND ? COF_OK : err;
}

cof_err sto_meta_list_objects(struct sto_meta *m, const char *bucket, const char *from,
                              bool inclusive, const char *prefix, size_t limit, sto_object_fn cb,
                              void *arg)
{
    struct conn *c = NULL;
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
    enum st id = ge ? (ulen > 0 ? ST_OBJ_LIST_GE_LT : ST_OBJ_LIST_GE)
                    : (ulen > 0 ? ST_OBJ_LIST_GT_LT : ST_OBJ_LIST_GT);

    err = conn_get(m, &c);
    if (err != COF_OK)
        goto out;
    err = bucket_exists(c, bucket);
    if (err == COF_OK)
        err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, bucket);
    if (err == COF_OK)
        err = bind_bytes(c, id, 2, lower, llen);
    if (err == COF_OK && ulen > 0)
        err = bind_bytes(c, id, 3, upper, ulen);
    if (err == COF_OK)
        err = bind_i64(c, id, 4, limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit);
    if (err == COF_OK)
        err = feed_objects(c, id, cb, arg);
    finish(c, id);
out:
    conn_put(m, c);
    free(upper);
    return err;
}

/* The position of (key, version) in list_versions order: the current row ranks above every
 * noncurrent seq. An unknown version ranks there too (listing resumes after the key's current
 * row), so a stale marker skips nothing older than what the client saw. */
#define CURRENT_SEQ INT64_MAX

static cof_err version_seq(struct conn *c, const char *bucket, const char *key,
                           const char *version_id, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    *out = CURRENT_SEQ;
    cof_err err = kms_prepare(c,
                              "SELECT seq FROM object_versions WHERE bucket = ?1 AND key = ?2"
                              " AND version_id = ?3",
                              &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, version_id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int64(s, 0);
        else if (rc != SQLITE_DONE)
            err = db_fail(c->db, "version seq", rc);
    }
    sqlite3_finalize(s);
    return err;
}

cof_err sto_meta_list_versions(struct sto_meta *m, const char *bucket, const char *prefix,
                               const char *key_marker, const char *version_marker, sto_object_fn cb,
                               void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
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
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        goto out;
    err = bucket_exists(c, bucket);
    if (err == COF_OK && key_marker != NULL && version_marker != NULL)
        err = version_seq(c, bucket, key_marker, version_marker, &marker_seq);
    /* Both arms walk their primary key / (key, seq DESC) index; SQLite merges the two ordered
     * streams (a compound ORDER BY), so no sort of the whole range happens. */
    if (err == COF_OK)
        err = kms_prepare(c,
                          ulen > 0 ? "SELECT " OBJ_COLS ", 9223372036854775807 AS seq FROM objects"
                                     " WHERE bucket = ?1 AND key >= ?2 AND key < ?3 UNION ALL"
                                     " SELECT " OBJ_COLS ", seq FROM object_versions WHERE"
                                     " bucket = ?1 AND key >= ?2 AND key < ?3"
                                     " ORDER BY key, seq DESC"
                                   : "SELECT " OBJ_COLS ", 9223372036854775807 AS seq FROM objects"
                                     " WHERE bucket = ?1 AND key >= ?2 UNION ALL"
                                     " SELECT " OBJ_COLS ", seq FROM object_versions WHERE"
                                     " bucket = ?1 AND key >= ?2 ORDER BY key, seq DESC",
                          &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, bucket, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, lower, (int)llen, SQLITE_STATIC);
        if (ulen > 0)
            sqlite3_bind_text(s, 3, upper, (int)ulen, SQLITE_STATIC);
    }
    while (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = db_fail(c->db, "list versions", rc);
            break;
        }
        int64_t seq = sqlite3_column_int64(s, 13);
        if (key_marker != NULL) {
            const char *k = (const char *)sqlite3_column_text(s, 1);
            size_t klen = (size_t)sqlite3_column_bytes(s, 1);
            /* Rows of the marker key at or above the marker's position were listed before. */
            if (k != NULL && bincmp(k, klen, key_marker, kmlen) == 0 &&
                (version_marker == NULL || seq >= marker_seq))
                continue;
        }
        struct sto_object o;
        err = row_object(s, &o);
        o.is_latest = seq == CURRENT_SEQ;
        if (err == COF_OK)
            err = cb(&o, arg);
        sto_object_cleanup(&o);
    }
    if (err == COF_ERR_NOT_FOUND)
        err = COF_OK;
out:
    sqlite3_finalize(s);
    conn_put(m, c);
    free(upper);
    return err;
}

cof_err sto_meta_each_object(struct sto_meta *m, sto_object_fn cb, void *arg)
{
    struct conn *c = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = prep(c, ST_OBJ_EACH);
    if (err == COF_OK)
        err = feed_objects(c, ST_OBJ_EACH, cb, arg);
    finish(c, ST_OBJ_EACH);
    conn_put(m, c);
    return err;
}

cof_err sto_meta_blob_referenced(struct sto_meta *m, const char *blob_id, bool *out)
{
    struct conn *c = NULL;
    *out = false;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = run2(c, ST_BLOB_REFERENCED, blob_id, NULL, out);
    conn_put(m, c);
    return err;
}

struct set_headers_args {
    const char *bucket, *key, *version_id, *headers;
    const struct sto_object *expected;
};

static void bind_set_headers(sqlite3_stmt *s, const void *arg)
{
    const struct set_headers_args *a = arg;
    const struct sto_object *e = a->expected;
    sqlite3_bind_text(s, 1, a->headers, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, a->bucket, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, a->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, a->version_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, e->blob_id, -1, SQLITE_STATIC); /* NULL binds NULL */
    sqlite3_bind_text(s, 6, e->etag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, e->mtime_ms);
    sqlite3_bind_int64(s, 8, (sqlite3_int64)e->part_count);
    sqlite3_bind_text(s, 9, e->headers, -1, SQLITE_STATIC);
}

cof_err sto_meta_object_set_headers(struct sto_meta *m, const char *bucket, const char *key,
                                    const char *version_id, const struct sto_object *expected,
                                    const char *headers, bool *out_changed)
{
    struct set_headers_args a = {bucket, key, version_id, headers, expected};
    int changes = 0;
    /* IS compares NULL with NULL as equal (a multipart object has no blob_id). */
    cof_err err = write_once(m, "object set headers",
                             "UPDATE objects SET headers = ?1 WHERE bucket = ?2 AND key = ?3"
                             " AND version_id IS ?4 AND blob_id IS ?5 AND etag IS ?6"
                             " AND mtime_ms = ?7 AND part_count = ?8 AND headers IS ?9",
                             bind_set_headers, &a, &changes);
    if (err == COF_OK && changes == 0) /* a noncurrent version */
        err = write_once(m, "version set headers",
                         "UPDATE object_versions SET headers = ?1 WHERE bucket = ?2 AND"
                         " key = ?3 AND version_id IS ?4 AND blob_id IS ?5 AND etag IS ?6"
                         " AND mtime_ms = ?7 AND part_count = ?8 AND headers IS ?9",
                         bind_set_headers, &a, &changes);
    *out_changed = err == COF_OK && changes > 0;
    return err;
}

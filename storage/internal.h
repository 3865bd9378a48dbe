/* SPDX-License-Identifier: Apache-2.0 */
/* storage/ private helpers: used inside storage/ and by tests/unit/storage only. Not part of the
 * storage contract; server/ must not include this file. Holds the connection pool, the one
 * statement mechanism (cached prepared statements keyed by enum sto_q_id) and the helpers the
 * per-concern files share. */
#ifndef STO_INTERNAL_H
#define STO_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/err.h"

struct sto_meta;
struct sto_object;
struct sto_precond;

/* PRAGMA user_version of a fully migrated coffer.db (= number of migration steps in db.c). */
#define STO_META_SCHEMA_VERSION 12

/* The SQL sto_meta_list_objects runs for a lower bound that is inclusive (>=) or not (>), with or
 * without an exclusive upper bound (the prefix successor). For EXPLAIN QUERY PLAN tests. */
const char *sto_meta_list_sql(bool inclusive, bool bounded);

/* Writes into out (len bytes available) the smallest byte string greater than every string that
 * starts with prefix[0..len): drop trailing 0xFF bytes, then increment the last byte. Returns its
 * length, or 0 when there is none (empty prefix, or all 0xFF): the range is then unbounded. */
size_t sto_meta_prefix_successor(const char *prefix, size_t len, char *out);

/* ---- statements ------------------------------------------------------------------------------
 * Every SQL statement is a `static const struct sto_sql` next to the code that runs it, with its
 * own slot in this enum. It is prepared lazily, once per connection, with
 * SQLITE_PREPARE_PERSISTENT, and kept in that slot. */
enum sto_q_id {
    /* db.c */
    STO_Q_BEGIN_WRITE,
    STO_Q_COMMIT,
    STO_Q_ROLLBACK,
    STO_Q_USER_VERSION,
    STO_Q_JOURNAL_WAL,
    /* bucket.c */
    STO_Q_BUCKET_INSERT,
    STO_Q_BUCKET_GET,
    STO_Q_BUCKET_EXISTS,
    STO_Q_BUCKET_HAS_OBJECTS,
    STO_Q_BUCKET_DELETE,
    STO_Q_BUCKET_LIST,
    STO_Q_CONFIG_GET,
    STO_Q_CONFIG_SET,
    STO_Q_CONFIG_DELETE,
    /* object.c */
    STO_Q_OBJ_GET,
    STO_Q_OBJ_CUR,
    STO_Q_OBJ_COND,
    STO_Q_OBJ_UPSERT,
    STO_Q_OBJ_DELETE,
    STO_Q_OBJ_DEMOTE,
    STO_Q_OBJ_SET_HEADERS,
    STO_Q_VER_GET,
    STO_Q_VER_BLOB,
    STO_Q_VER_DELETE,
    STO_Q_VER_NEWEST,
    STO_Q_VER_PROMOTE,
    STO_Q_VER_SEQ,
    STO_Q_VER_SET_HEADERS,
    STO_Q_OBJ_LOCK_GET,
    STO_Q_VER_LOCK_GET,
    STO_Q_OBJ_SET_RETENTION,
    STO_Q_VER_SET_RETENTION,
    STO_Q_OBJ_SET_HOLD,
    STO_Q_VER_SET_HOLD,
    STO_Q_OPARTS_QUEUE,
    STO_Q_OPARTS_DELETE,
    STO_Q_OBJ_LIST_GT,
    STO_Q_OBJ_LIST_GE,
    STO_Q_OBJ_LIST_GT_LT,
    STO_Q_OBJ_LIST_GE_LT,
    STO_Q_VER_LIST,
    STO_Q_VER_LIST_LT,
    STO_Q_OBJ_EACH,
    /* gc.c */
    STO_Q_BLOB_REFERENCED,
    STO_Q_GC_INSERT,
    STO_Q_GC_EACH,
    STO_Q_GC_DONE,
    STO_Q_RESET_QUEUE,
    STO_Q_RESET_PARTS,
    STO_Q_RESET_UPLOADS,
    STO_Q_RESET_OBJECT_PARTS,
    STO_Q_RESET_VERSIONS,
    STO_Q_RESET_OBJECTS,
    STO_Q_RESET_CONFIGS,
    STO_Q_RESET_BUCKETS,
    STO_Q_RESET_COMPLETED,
    /* kms.c */
    STO_Q_KMS_BY_ID,
    STO_Q_KMS_BY_ALIAS,
    STO_Q_KMS_INSERT,
    STO_Q_KMS_ALIAS_INSERT,
    STO_Q_KMS_SET_STATE,
    STO_Q_KMS_SET_ALIAS,
    STO_Q_KMS_EACH,
    STO_Q_KMS_SET_POLICY,
    STO_Q_KMS_SET_DESCRIPTION,
    STO_Q_KMS_SET_ROTATION,
    STO_Q_KMS_ADD_MATERIAL,
    STO_Q_KMS_ROTATION_INSERT,
    STO_Q_KMS_ROTATION_EACH,
    STO_Q_KMS_ALIAS_EACH,
    STO_Q_KMS_ALIAS_EACH_KEY,
    STO_Q_KMS_ALIAS_DELETE,
    STO_Q_KMS_ALIAS_UPDATE,
    STO_Q_KMS_TAG_SET,
    STO_Q_KMS_TAG_DELETE,
    STO_Q_KMS_TAG_EACH,
    STO_Q_KMS_DELETE_ALIASES,
    STO_Q_KMS_DELETE_TAGS,
    STO_Q_KMS_DELETE_ROTATIONS,
    STO_Q_KMS_DELETE_KEY,
    /* upload.c */
    STO_Q_UPLOAD_INSERT,
    STO_Q_UPLOAD_GET,
    STO_Q_UPLOAD_EXISTS,
    STO_Q_UPLOAD_MARKER_MS,
    STO_Q_UPLOAD_LIST,
    STO_Q_PART_OLD,
    STO_Q_PART_UPSERT,
    STO_Q_PART_LIST,
    STO_Q_OBJECT_PARTS,
    STO_Q_UPLOAD_QUEUE_PARTS,
    STO_Q_UPLOAD_DELETE,
    STO_Q_COMPLETE_LINK_PART,
    STO_Q_COMPLETE_QUEUE_UNUSED,
    STO_Q_COMPLETED_INSERT,
    STO_Q_COMPLETED_PRUNE,
    STO_Q_COMPLETED_GET,
    /* rekey.c */
    STO_Q_COUNT_BY_KEK,
    STO_Q_STALE_OBJECTS,
    STO_Q_OBJ_REWRAP,
    STO_Q_VER_REWRAP,
    STO_Q_KMS_REWRAP,
    STO_Q_STALE_PARTS,
    STO_Q_UPLOAD_PART_REWRAP,
    STO_Q_OBJECT_PART_REWRAP,
    STO_Q_ROOT_KEY_INSERT,
    STO_Q_ROOT_KEY_CONFIRM,
    STO_Q_ROOT_KEY_DELETE,
    STO_Q_ROOT_KEY_EACH,
    STO_Q_FRESH,
    STO_Q_INLINE_INSERT,
    STO_Q_INLINE_GET,
    STO_Q_INLINE_DROP,
    STO_Q_INLINE_EACH,
    STO_Q_INLINE_DROP_ORPHAN,
    STO_Q_GC_DONE_INLINE,
    STO_Q_RESET_INLINE,
    STO_Q_SCHEMA_EMPTY,
    STO_Q__COUNT
};

/* A statement: its slot, the name logged when it fails, its SQL. */
struct sto_sql {
    enum sto_q_id id;
    const char *name;
    const char *sql;
    bool unique; /* a constraint failure is COF_ERR_EXISTS (not logged), not COF_ERR_DB */
};
#define STO_SQL(ID, SQL)                                                                           \
    {                                                                                              \
        STO_Q_##ID, #ID, SQL, false                                                                \
    }
#define STO_SQL_UNIQUE(ID, SQL)                                                                    \
    {                                                                                              \
        STO_Q_##ID, #ID, SQL, true                                                                 \
    }

/* One pooled connection; used by one thread at a time (opened SQLITE_OPEN_NOMUTEX). */
struct sto_conn {
    sqlite3 *db;
    sqlite3_stmt *st[STO_Q__COUNT];
    const struct sto_sql *def[STO_Q__COUNT]; /* the definition each slot was prepared from */
    bool busy[STO_Q__COUNT];                 /* between sto_q_open and sto_q_close */
    struct sto_conn *next;
};

/* One use of a cached statement: sto_q_open, the binds, sto_q_step until false, sto_q_close.
 * The first failure (prepare, bind, step) is kept in err and logged once; every later call on q
 * then does nothing, so a series of binds needs no check of its own. Bound strings and blobs
 * are borrowed until sto_q_close. */
struct sto_q {
    struct sto_conn *c;
    const struct sto_sql *def;
    sqlite3_stmt *s; /* NULL when the prepare failed */
    cof_err err;
};

/* Prepares def on c (once per connection) and starts using it; a statement already in use on c
 * is a bug (COF_BUG). prior != COF_OK prepares nothing and leaves q failed with prior, so that
 * a caller may open and close q unconditionally after an earlier step failed. */
void sto_q_open(struct sto_q *q, struct sto_conn *c, const struct sto_sql *def, cof_err prior);
/* Parameter i (1-based): text (NULL binds NULL), n bytes of text, a blob (NULL binds NULL), an
 * integer. Texts and blobs over INT_MAX bytes fail with COF_ERR_TOO_LARGE. */
void sto_q_text(struct sto_q *q, int i, const char *s);
void sto_q_bytes(struct sto_q *q, int i, const char *p, size_t n);
void sto_q_blob(struct sto_q *q, int i, const void *p, size_t n);
void sto_q_int(struct sto_q *q, int i, int64_t v);
/* Steps once: true when a row is ready, false when done or failed (q->err). */
bool sto_q_step(struct sto_q *q);
/* Rows changed by the last step (INSERT, UPDATE, DELETE). */
int sto_q_changes(const struct sto_q *q);
/* Resets the statement and drops its bindings. Returns err when it is not COF_OK, else the
 * statement's first failure: `err = sto_q_close(&q, err);` keeps the first error of both. */
COF_MUST_CHECK cof_err sto_q_close(struct sto_q *q, cof_err err);

/* Runs def once with text parameters ?1, ?2, ?3 (each NULL: left unbound, i.e. NULL).
 * *out_row (may be NULL) tells whether it produced a row. */
COF_MUST_CHECK cof_err sto_q_run(struct sto_conn *c, const struct sto_sql *def, const char *a,
                                 const char *b, const char *d, bool *out_row);

/* A statement in a transaction of its own: sto_write_open borrows a connection, begins a write
 * transaction and opens q (failures land in q->err); the caller binds; sto_write_close steps q
 * once, commits (rolls back on any failure), returns the connection and the first failure.
 * *out_changes (may be NULL) gets the number of rows changed. */
void sto_write_open(struct sto_meta *m, const struct sto_sql *def, struct sto_q *q);
COF_MUST_CHECK cof_err sto_write_close(struct sto_meta *m, struct sto_q *q, int *out_changes);
/* sto_write_close for a statement meant to change one row: COF_ERR_NOT_FOUND when none changed
 * (an UPDATE or DELETE of a row that is not there). */
COF_MUST_CHECK cof_err sto_write_close_one(struct sto_meta *m, struct sto_q *q);
/* Runs steps[0..n) in order, each with text parameter ?1 = a (may be NULL), in one write
 * transaction of their own; the first failure rolls all of them back. */
COF_MUST_CHECK cof_err sto_write_steps(struct sto_meta *m, const struct sto_sql *const *steps,
                                       size_t n, const char *a);

/* Copies column i (TEXT or NULL) into a malloc'd string / (BLOB or NULL) into a malloc'd buffer
 * (never NULL for a BLOB, even an empty one). */
COF_MUST_CHECK cof_err sto_col_text(sqlite3_stmt *s, int i, char **out);
COF_MUST_CHECK cof_err sto_col_blob(sqlite3_stmt *s, int i, uint8_t **out, size_t *out_len);

/* ---- connections and transactions ---------------------------------------------------------- */

struct sto_put_job;
struct cfg_cache;

struct sto_meta {
    char *path;
    bool full;
    pthread_mutex_t pool_mu; /* guards idle */
    struct sto_conn *idle;
    /* Serialises this process's write transactions, so concurrent writers queue on a mutex
     * instead of sleeping in SQLite's busy handler; busy_timeout still covers other processes. */
    pthread_mutex_t write_mu;
    /* Group commit for object puts (object.c): callers queue a job; one of them (the leader)
     * publishes the whole queue in one transaction, so N concurrent puts share one WAL sync. */
    pthread_mutex_t batch_mu;
    pthread_cond_t batch_cv;
    struct sto_put_job *queue_head;
    struct sto_put_job *queue_tail;
    bool leader_active;
    atomic_uint gc_hint;   /* bumped when blobs were queued beyond the one a call returns */
    struct cfg_cache *cfg; /* bucket configs (and bucket existence, through them) */
};

/* Logs the one line for a failed SQLite call and maps its code (COF_ERR_NOMEM, COF_ERR_DB). */
cof_err sto_db_fail(sqlite3 *db, const char *what, int rc);
/* Borrows a connection from the pool (opening one if none is idle) / gives it back. A
 * connection given back inside a transaction is rolled back (a bug, logged). */
COF_MUST_CHECK cof_err sto_conn_get(struct sto_meta *m, struct sto_conn **out);
void sto_conn_put(struct sto_meta *m, struct sto_conn *c);
/* BEGIN IMMEDIATE under write_mu. On COF_OK the caller must call sto_tx_end. */
COF_MUST_CHECK cof_err sto_tx_begin(struct sto_meta *m, struct sto_conn *c);
/* COMMIT if err is COF_OK, else (or if COMMIT fails) ROLLBACK; releases write_mu. Returns err, or
 * the COMMIT's failure. */
COF_MUST_CHECK cof_err sto_tx_end(struct sto_meta *m, struct sto_conn *c, cof_err err);

/* ---- shared between the concern files ------------------------------------------------------ */

/* Columns of an object row, in the order sto_row_object reads them. */
#define STO_OBJ_COLS                                                                               \
    "bucket, key, version_id, size, etag, mtime_ms, headers, blob_id, sse_mode, kek_id, "          \
    "wrapped_dek, part_count, delete_marker, lock_mode, lock_until_ms, legal_hold"
/* Every version of every key, current or not, as one table (rare scans: fsck, key rotation). */
#define STO_ALL_VERSIONS                                                                           \
    "(SELECT " STO_OBJ_COLS " FROM objects UNION ALL SELECT " STO_OBJ_COLS " FROM "                \
    "object_versions)"

/* bucket.c: COF_OK when the bucket exists, else COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_bucket_exists(struct sto_conn *c, const char *bucket);
/* object.c: fills o from a row selected with STO_OBJ_COLS (caller cleans up). */
COF_MUST_CHECK cof_err sto_row_object(sqlite3_stmt *s, struct sto_object *o);
/* object.c: version_id, or "null" for NULL. */
const char *sto_vid_or_null(const char *version_id);
/* object.c: makes o the current version of its key inside an open write transaction (S3's rules:
 * see sto_meta_put_object). *old gets the blob of a replaced current null version, if queued.
 * Does not write o's parts. */
COF_MUST_CHECK cof_err sto_object_publish(struct sto_meta *m, struct sto_conn *c,
                                          const struct sto_object *o, char **old);
/* object.c: sto_meta_precond_check inside an open transaction on c. */
COF_MUST_CHECK cof_err sto_precond_check(struct sto_conn *c, const char *bucket, const char *key,
                                         const struct sto_precond *pc);
/* gc.c: queues *old for unlinking unless a row still references it (a row that kept its blob, or
 * a blob shared by two rows); otherwise frees it and sets it to NULL. Inside a write
 * transaction. */
COF_MUST_CHECK cof_err sto_gc_queue_unreferenced(struct sto_conn *c, char **old);
/* Inline blobs (inline.c), inside the caller's write transaction: stores one / drops one
 * (*out_dropped: whether it was inline). */
COF_MUST_CHECK cof_err sto_inline_insert(struct sto_conn *c, const char *blob_id,
                                         const uint8_t *bytes, size_t len);
COF_MUST_CHECK cof_err sto_inline_drop(struct sto_conn *c, const char *blob_id, bool *out_dropped);

#endif

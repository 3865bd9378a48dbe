/* SPDX-License-Identifier: Apache-2.0 */
/* storage/ private helpers: used inside storage/ and by tests/unit/storage only. Not part of the
 * storage contract; server/ must not include this file. */
#ifndef STO_INTERNAL_H
#define STO_INTERNAL_H

#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/err.h"

struct sto_object;
struct sto_bucket;

/* PRAGMA user_version of a fully migrated coffer.db (= number of migration steps in meta.c). */
#define STO_META_SCHEMA_VERSION 5

/* The SQL sto_meta_list_objects runs for a lower bound that is inclusive (>=) or not (>), with or
 * without an exclusive upper bound (the prefix successor). For EXPLAIN QUERY PLAN tests. */
const char *sto_meta_list_sql(bool inclusive, bool bounded);

/* Writes into out (len bytes available) the smallest byte string greater than every string that
 * starts with prefix[0..len): drop trailing 0xFF bytes, then increment the last byte. Returns its
 * length, or 0 when there is none (empty prefix, or all 0xFF): the range is then unbounded. */
size_t sto_meta_prefix_successor(const char *prefix, size_t len, char *out);

/* ---- statements ------------------------------------------------------------------------------
 * Every statement is prepared lazily, once per connection, with SQLITE_PREPARE_PERSISTENT. */
enum st {
    ST_BEGIN_WRITE,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_BUCKET_INSERT,
    ST_BUCKET_GET,
    ST_BUCKET_EXISTS,
    ST_BUCKET_HAS_OBJECTS,
    ST_BUCKET_DELETE,
    ST_BUCKET_LIST,
    ST_CONFIG_GET,
    ST_CONFIG_SET,
    ST_CONFIG_DELETE,
    ST_OBJ_GET,
    ST_OBJ_CUR,
    ST_OBJ_UPSERT,
    ST_OBJ_DELETE,
    ST_OBJ_DEMOTE,
    ST_VER_GET,
    ST_VER_BLOB,
    ST_VER_DELETE,
    ST_VER_NEWEST,
    ST_VER_PROMOTE,
    ST_OBJ_LIST_GT,
    ST_OBJ_LIST_GE,
    ST_OBJ_LIST_GT_LT,
    ST_OBJ_LIST_GE_LT,
    ST_OBJ_EACH,
    ST_BLOB_REFERENCED,
    ST_GC_INSERT,
    ST_GC_EACH,
    ST_GC_DONE,
    ST_RESET_QUEUE,
    ST_RESET_OBJECTS,
    ST_RESET_CONFIGS,
    ST_RESET_BUCKETS,
    ST_OPARTS_QUEUE,
    ST_OPARTS_DELETE,
    ST__COUNT
};

#define OBJ_COLS                                                                                   \
    "bucket, key, version_id, size, etag, mtime_ms, headers, blob_id, sse_mode, kek_id, "          \
    "wrapped_dek, part_count, delete_marker"
/* Every version of every key, current or not, as one table (rare scans: fsck, key rotation). */
#define ALL_VERSIONS                                                                               \
    "(SELECT " OBJ_COLS " FROM objects UNION ALL SELECT " OBJ_COLS " FROM object_versions)"
/* Listing: ?1 bucket, ?2 lower bound, ?3 upper bound (prefix successor), ?4 limit. The range
 * predicates on the second primary-key column make this a SEARCH of the primary key that stops
 * at the upper bound: O(log n + rows). Never LIKE: case-insensitive, and % _ are wildcards. */
#define OBJ_LIST(lower, upper)                                                                     \
    "SELECT " OBJ_COLS " FROM objects WHERE bucket = ?1 AND key " lower " ?2" upper                \
    " AND delete_marker = 0 ORDER BY key LIMIT ?4"

/* One pooled connection; used by one thread at a time (opened SQLITE_OPEN_NOMUTEX). */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST__COUNT];
    struct conn *next;
};

struct sto_meta {
    char *path;
    bool full;
    pthread_mutex_t pool_mu; /* guards idle */
    struct conn *idle;
    /* Serialises this process's write transactions, so concurrent writers queue on a mutex
     * instead of sleeping in SQLite's busy handler; busy_timeout still covers other processes. */
    pthread_mutex_t write_mu;
    /* Group commit for object puts: callers queue a job; one of them (the leader) publishes the
     * whole queue in one transaction, so N concurrent puts share one WAL sync. */
    pthread_mutex_t batch_mu;
    pthread_cond_t batch_cv;
    struct put_job *queue_head;
    struct put_job *queue_tail;
    bool leader_active;
    atomic_uint gc_hint;   /* bumped when blobs were queued beyond the one a call returns */
    struct cfg_cache *cfg; /* bucket configs (and bucket existence, through them) */
};

/* Shared between the storage/ files (see db.c, bucket.c, object.c, gc.c). */
cof_err db_fail(sqlite3 *db, const char *what, int rc);
cof_err prep(struct conn *c, enum st id);
void finish(struct conn *c, enum st id);
cof_err bind_rc(struct conn *c, enum st id, int rc);
cof_err bind_bytes(struct conn *c, enum st id, int i, const char *p, size_t n);
cof_err bind_str(struct conn *c, enum st id, int i, const char *s);
cof_err bind_i64(struct conn *c, enum st id, int i, int64_t v);
cof_err step(struct conn *c, enum st id, bool *row);
cof_err run2(struct conn *c, enum st id, const char *a, const char *b, bool *out_row);
cof_err run(struct conn *c, enum st id);
cof_err col_text(sqlite3_stmt *s, int i, char **out);
cof_err exec_sql(sqlite3 *db, const char *what, const char *sql);
cof_err conn_get(struct sto_meta *m, struct conn **out);
void conn_put(struct sto_meta *m, struct conn *c);
cof_err wr_begin(struct sto_meta *m, struct conn *c);
cof_err wr_end(struct sto_meta *m, struct conn *c, cof_err err);
cof_err kms_prepare(struct conn *c, const char *sql, sqlite3_stmt **out);
cof_err write_once(struct sto_meta *m, const char *what, const char *sql,
                   void (*bind)(sqlite3_stmt *s, const void *arg), const void *arg,
                   int *out_changes);
cof_err bucket_exists(struct conn *c, const char *bucket);
cof_err row_object(sqlite3_stmt *s, struct sto_object *o);
cof_err queue_unreferenced(struct conn *c, char **old);
const char *vid_or_null(const char *version_id);
cof_err publish(struct sto_meta *m, struct conn *c, const struct sto_object *o, char **old);

#endif

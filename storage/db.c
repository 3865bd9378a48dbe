/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite metadata, the shared part: schema migrations, the pool of connections each with its
 * cached prepared statements (the one statement mechanism of storage/), and write transactions.
 * Speaks storage only: no HTTP, no crypto. */
#include "storage/db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/cfgcache.h"
#include "storage/internal.h"
#include "storage/sqlvfs.h"

/* ---- schema ----------------------------------------------------------------------------------
 * migrations[i] takes PRAGMA user_version from i to i + 1, inside one IMMEDIATE transaction.
 * To change the schema, APPEND a step and bump STO_META_SCHEMA_VERSION; never edit a step that
 * has shipped. Object keys are TEXT compared with the default BINARY collation, i.e. memcmp
 * order, which is the UTF-8 binary order S3 lists in; keys may hold any byte but NUL. */
static const char *const migrations[] = {
    /* 1: buckets, configs, objects, GC queue */
    "CREATE TABLE buckets ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  region TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE bucket_configs ("
    "  bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (bucket, name)"
    ") WITHOUT ROWID;"
    "CREATE TABLE objects ("
    "  bucket TEXT NOT NULL REFERENCES buckets(name),"
    "  key TEXT NOT NULL,"
    "  version_id TEXT,"
    "  size INTEGER NOT NULL,"
    "  etag TEXT,"
    "  mtime_ms INTEGER NOT NULL,"
    "  headers TEXT,"
    "  blob_id TEXT,"
    "  sse_mode INTEGER NOT NULL,"
    "  kek_id TEXT,"
    "  wrapped_dek BLOB,"
    "  PRIMARY KEY (bucket, key)"
    ") WITHOUT ROWID;"
    /* sto_meta_blob_referenced and the shared-blob check on replace must not scan. */
    "CREATE INDEX objects_blob ON objects(blob_id);"
    "CREATE TABLE gc_blobs ("
    "  blob_id TEXT PRIMARY KEY NOT NULL"
    ") WITHOUT ROWID;",
    /* 2: the local KMS keyring: key material wrapped by a root key, and aliases */
    "CREATE TABLE kms_keys ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  state TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  created_ms INTEGER NOT NULL,"
    "  deletion_ms INTEGER NOT NULL DEFAULT 0,"
    "  kek_id TEXT NOT NULL,"
    "  material BLOB NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE kms_aliases ("
    "  alias TEXT PRIMARY KEY NOT NULL,"
    "  key_id TEXT NOT NULL REFERENCES kms_keys(id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX objects_kek ON objects(kek_id);",
    /* 3: multipart uploads: uploads in progress, their parts, and completed objects' parts */
    "ALTER TABLE objects ADD COLUMN part_count INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE uploads ("
    "  upload_id TEXT PRIMARY KEY NOT NULL,"
    "  bucket TEXT NOT NULL REFERENCES buckets(name),"
    "  key TEXT NOT NULL,"
    "  initiated_ms INTEGER NOT NULL,"
    "  headers TEXT,"
    "  sse_mode INTEGER NOT NULL,"
    "  kek_id TEXT,"
    "  check_wrap BLOB"
    ") WITHOUT ROWID;"
    "CREATE INDEX uploads_bucket_key ON uploads(bucket, key, initiated_ms);"
    "CREATE TABLE parts ("
    "  upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,"
    "  part_number INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  etag TEXT NOT NULL,"
    "  mtime_ms INTEGER NOT NULL,"
    "  blob_id TEXT NOT NULL,"
    "  kek_id TEXT,"
    "  wrapped_dek BLOB NOT NULL,"
    "  PRIMARY KEY (upload_id, part_number)"
    ") WITHOUT ROWID;"
    "CREATE INDEX parts_blob ON parts(blob_id);"
    "CREATE TABLE object_parts ("
    "  bucket TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  part_index INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  blob_id TEXT NOT NULL,"
    "  kek_id TEXT,"
    "  wrapped_dek BLOB NOT NULL,"
    "  PRIMARY KEY (bucket, key, part_index)"
    ") WITHOUT ROWID;"
    "CREATE INDEX object_parts_blob ON object_parts(blob_id);",
    /* 4: each part's additional checksum ("ALG base64"), for the object's composite checksum */
    "ALTER TABLE parts ADD COLUMN checksum TEXT;",
    /* 5: versioning. objects keeps the current version of each key (a delete marker included);
     * noncurrent versions move to object_versions, ordered per key by seq (larger = newer).
     * object_parts gains the version id of the object it belongs to. */
    "ALTER TABLE objects ADD COLUMN delete_marker INTEGER NOT NULL DEFAULT 0;"
    "UPDATE objects SET version_id = 'null' WHERE version_id IS NULL;"
    "CREATE TABLE object_versions ("
    "  bucket TEXT NOT NULL REFERENCES buckets(name),"
    "  key TEXT NOT NULL,"
    "  version_id TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  etag TEXT,"
    "  mtime_ms INTEGER NOT NULL,"
    "  headers TEXT,"
    "  blob_id TEXT,"
    "  sse_mode INTEGER NOT NULL,"
    "  kek_id TEXT,"
    "  wrapped_dek BLOB,"
    "  part_count INTEGER NOT NULL DEFAULT 0,"
    "  delete_marker INTEGER NOT NULL DEFAULT 0,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY (bucket, key, version_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX object_versions_seq ON object_versions(bucket, key, seq DESC);"
    "CREATE INDEX object_versions_blob ON object_versions(blob_id);"
    "CREATE INDEX object_versions_kek ON object_versions(kek_id);"
    "CREATE TABLE object_parts_v ("
    "  bucket TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  version_id TEXT NOT NULL,"
    "  part_index INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  blob_id TEXT NOT NULL,"
    "  kek_id TEXT,"
    "  wrapped_dek BLOB NOT NULL,"
    "  PRIMARY KEY (bucket, key, version_id, part_index)"
    ") WITHOUT ROWID;"
    "INSERT INTO object_parts_v SELECT bucket, key, 'null', part_index, size, blob_id, kek_id,"
    "  wrapped_dek FROM object_parts;"
    "DROP TABLE object_parts;"
    "ALTER TABLE object_parts_v RENAME TO object_parts;"
    "CREATE INDEX object_parts_blob ON object_parts(blob_id);",
    /* 6: the root keys the data dir depends on: id and key check value (opaque here), and
     * whether a rotation recorded the key before writing it to the keyring (pending). */
    "CREATE TABLE root_keys ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  kcv BLOB NOT NULL,"
    "  pending INTEGER NOT NULL DEFAULT 0,"
    "  recorded_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;",
    /* 7: completed multipart uploads, kept a while so that a repeated Complete (an SDK's retry)
     * is answered with the first one's result: the object version it made and the part list
     * ("N:etag" lines) it was asked for. */
    "CREATE TABLE completed_uploads ("
    "  upload_id TEXT PRIMARY KEY NOT NULL,"
    "  bucket TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  version_id TEXT NOT NULL,"
    "  etag TEXT NOT NULL,"
    "  parts TEXT NOT NULL,"
    "  completed_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX completed_uploads_ms ON completed_uploads(completed_ms);",
    /* 8: the KMS API. A key gets its policy (NULL: the default one), its automatic rotation
     * period (0: off) and last rotation; its material column now holds every material version,
     * oldest first (object/kms.c: existing keys hold one, version 0, and keep it). Aliases get
     * their dates, keys their tags and their rotation history (versions 1...). */
    "ALTER TABLE kms_keys ADD COLUMN policy TEXT;"
    "ALTER TABLE kms_keys ADD COLUMN rotation_days INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE kms_keys ADD COLUMN rotated_ms INTEGER NOT NULL DEFAULT 0;"
    "UPDATE kms_keys SET rotated_ms = created_ms;"
    "ALTER TABLE kms_aliases ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE kms_aliases ADD COLUMN updated_ms INTEGER NOT NULL DEFAULT 0;"
    "UPDATE kms_aliases SET created_ms = (SELECT k.created_ms FROM kms_keys k WHERE"
    "  k.id = kms_aliases.key_id), updated_ms = (SELECT k.created_ms FROM kms_keys k WHERE"
    "  k.id = kms_aliases.key_id);"
    "CREATE INDEX kms_aliases_key ON kms_aliases(key_id);"
    "CREATE TABLE kms_tags ("
    "  key_id TEXT NOT NULL REFERENCES kms_keys(id) ON DELETE CASCADE,"
    "  tag_key TEXT NOT NULL,"
    "  tag_value TEXT NOT NULL,"
    "  PRIMARY KEY (key_id, tag_key)"
    ") WITHOUT ROWID;"
    "CREATE TABLE kms_rotations ("
    "  key_id TEXT NOT NULL REFERENCES kms_keys(id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  rotated_ms INTEGER NOT NULL,"
    "  on_demand INTEGER NOT NULL,"
    "  PRIMARY KEY (key_id, version)"
    ") WITHOUT ROWID;",
    /* 9: bucket owners: the account that created the bucket (12 digits). Buckets made before
     * belong to LocalStack's default account, as they did. */
    "ALTER TABLE buckets ADD COLUMN owner TEXT NOT NULL DEFAULT '000000000000';",
    /* 10: a completed object's parts keep the checksum each part was uploaded with (as the parts
     * table holds it: clear or sealed), for GetObjectAttributes' ObjectParts. */
    "ALTER TABLE object_parts ADD COLUMN checksum TEXT;",
    /* 11: Object Lock on each version row (not a side table): the retention mode (0 none,
     * 1 GOVERNANCE, 2 COMPLIANCE) and its retain-until time, and the legal hold (0 never set,
     * 1 OFF, 2 ON). They move with the row when it is demoted or promoted. */
    "ALTER TABLE objects ADD COLUMN lock_mode INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN lock_until_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE object_versions ADD COLUMN lock_mode INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE object_versions ADD COLUMN lock_until_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE object_versions ADD COLUMN legal_hold INTEGER NOT NULL DEFAULT 0;",
    /* 12: small blobs inline (storage/inline.h): the bytes a blob file would hold, keyed by blob
     * id. A rowid table, not WITHOUT ROWID: its rows are up to 80 KiB. Blob files written before
     * stay where they are. */
    "CREATE TABLE inline_blobs ("
    "  blob_id TEXT PRIMARY KEY,"
    "  body BLOB NOT NULL"
    ");",
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STO_META_SCHEMA_VERSION,
               "one migration step per schema version");

/* The schema the steps above lead to, as SQLite stores it (sqlite_schema.sql of a migrated
 * database), created in one go on a new, empty database: replaying the steps there cost about
 * 25 M instructions (each ALTER TABLE makes SQLite re-read the whole schema), most of a fresh
 * start-up. tests/unit/storage/test_meta.c checks that both paths give the same sqlite_schema:
 * a new step goes here too, as SQLite would store its result. */
static const char *const fresh_schema[] = {
    "CREATE TABLE buckets (  name TEXT PRIMARY KEY NOT NULL,  region TEXT NOT NULL, "
    " created_ms INTEGER NOT NULL, owner TEXT NOT NULL DEFAULT '000000000000') WITHOUT ROWID;",
    "CREATE TABLE bucket_configs (  bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE"
    " CASCADE,  name TEXT NOT NULL,  value TEXT NOT NULL,  PRIMARY KEY (bucket, name))"
    " WITHOUT ROWID;",
    "CREATE TABLE objects (  bucket TEXT NOT NULL REFERENCES buckets(name),  key TEXT NOT"
    " NULL,  version_id TEXT,  size INTEGER NOT NULL,  etag TEXT,  mtime_ms INTEGER NOT"
    " NULL,  headers TEXT,  blob_id TEXT,  sse_mode INTEGER NOT NULL,  kek_id TEXT, "
    " wrapped_dek BLOB, part_count INTEGER NOT NULL DEFAULT 0, delete_marker INTEGER NOT"
    " NULL DEFAULT 0, lock_mode INTEGER NOT NULL DEFAULT 0, lock_until_ms INTEGER NOT NULL"
    " DEFAULT 0, legal_hold INTEGER NOT NULL DEFAULT 0,  PRIMARY KEY (bucket, key)) WITHOUT"
    " ROWID;",
    "CREATE INDEX objects_blob ON objects(blob_id);",
    "CREATE TABLE gc_blobs (  blob_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;",
    "CREATE TABLE kms_keys (  id TEXT PRIMARY KEY NOT NULL,  state TEXT NOT NULL, "
    " description TEXT NOT NULL DEFAULT '',  created_ms INTEGER NOT NULL,  deletion_ms"
    " INTEGER NOT NULL DEFAULT 0,  kek_id TEXT NOT NULL,  material BLOB NOT NULL, policy"
    " TEXT, rotation_days INTEGER NOT NULL DEFAULT 0, rotated_ms INTEGER NOT NULL DEFAULT 0)"
    " WITHOUT ROWID;",
    "CREATE TABLE kms_aliases (  alias TEXT PRIMARY KEY NOT NULL,  key_id TEXT NOT NULL"
    " REFERENCES kms_keys(id), created_ms INTEGER NOT NULL DEFAULT 0, updated_ms INTEGER NOT"
    " NULL DEFAULT 0) WITHOUT ROWID;",
    "CREATE INDEX objects_kek ON objects(kek_id);",
    "CREATE TABLE uploads (  upload_id TEXT PRIMARY KEY NOT NULL,  bucket TEXT NOT NULL"
    " REFERENCES buckets(name),  key TEXT NOT NULL,  initiated_ms INTEGER NOT NULL,  headers"
    " TEXT,  sse_mode INTEGER NOT NULL,  kek_id TEXT,  check_wrap BLOB) WITHOUT ROWID;",
    "CREATE INDEX uploads_bucket_key ON uploads(bucket, key, initiated_ms);",
    "CREATE TABLE parts (  upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE"
    " CASCADE,  part_number INTEGER NOT NULL,  size INTEGER NOT NULL,  etag TEXT NOT NULL, "
    " mtime_ms INTEGER NOT NULL,  blob_id TEXT NOT NULL,  kek_id TEXT,  wrapped_dek BLOB NOT"
    " NULL, checksum TEXT,  PRIMARY KEY (upload_id, part_number)) WITHOUT ROWID;",
    "CREATE INDEX parts_blob ON parts(blob_id);",
    "CREATE TABLE object_versions (  bucket TEXT NOT NULL REFERENCES buckets(name),  key"
    " TEXT NOT NULL,  version_id TEXT NOT NULL,  size INTEGER NOT NULL,  etag TEXT, "
    " mtime_ms INTEGER NOT NULL,  headers TEXT,  blob_id TEXT,  sse_mode INTEGER NOT NULL, "
    " kek_id TEXT,  wrapped_dek BLOB,  part_count INTEGER NOT NULL DEFAULT 0,  delete_marker"
    " INTEGER NOT NULL DEFAULT 0,  seq INTEGER NOT NULL, lock_mode INTEGER NOT NULL DEFAULT"
    " 0, lock_until_ms INTEGER NOT NULL DEFAULT 0, legal_hold INTEGER NOT NULL DEFAULT 0, "
    " PRIMARY KEY (bucket, key, version_id)) WITHOUT ROWID;",
    "CREATE INDEX object_versions_seq ON object_versions(bucket, key, seq DESC);",
    "CREATE INDEX object_versions_blob ON object_versions(blob_id);",
    "CREATE INDEX object_versions_kek ON object_versions(kek_id);",
    "CREATE TABLE \"object_parts\" (  bucket TEXT NOT NULL,  key TEXT NOT NULL,  version_id"
    " TEXT NOT NULL,  part_index INTEGER NOT NULL,  size INTEGER NOT NULL,  blob_id TEXT NOT"
    " NULL,  kek_id TEXT,  wrapped_dek BLOB NOT NULL, checksum TEXT,  PRIMARY KEY (bucket,"
    " key, version_id, part_index)) WITHOUT ROWID;",
    "CREATE INDEX object_parts_blob ON object_parts(blob_id);",
    "CREATE TABLE root_keys (  id TEXT PRIMARY KEY NOT NULL,  kcv BLOB NOT NULL,  pending"
    " INTEGER NOT NULL DEFAULT 0,  recorded_ms INTEGER NOT NULL) WITHOUT ROWID;",
    "CREATE TABLE completed_uploads (  upload_id TEXT PRIMARY KEY NOT NULL,  bucket TEXT NOT"
    " NULL,  key TEXT NOT NULL,  version_id TEXT NOT NULL,  etag TEXT NOT NULL,  parts TEXT"
    " NOT NULL,  completed_ms INTEGER NOT NULL) WITHOUT ROWID;",
    "CREATE INDEX completed_uploads_ms ON completed_uploads(completed_ms);",
    "CREATE INDEX kms_aliases_key ON kms_aliases(key_id);",
    "CREATE TABLE kms_tags (  key_id TEXT NOT NULL REFERENCES kms_keys(id) ON DELETE"
    " CASCADE,  tag_key TEXT NOT NULL,  tag_value TEXT NOT NULL,  PRIMARY KEY (key_id,"
    " tag_key)) WITHOUT ROWID;",
    "CREATE TABLE kms_rotations (  key_id TEXT NOT NULL REFERENCES kms_keys(id) ON DELETE"
    " CASCADE,  version INTEGER NOT NULL,  rotated_ms INTEGER NOT NULL,  on_demand INTEGER"
    " NOT NULL,  PRIMARY KEY (key_id, version)) WITHOUT ROWID;",
    "CREATE TABLE inline_blobs (  blob_id TEXT PRIMARY KEY,  body BLOB NOT NULL);",
};

static const struct sto_sql q_begin_write = STO_SQL(BEGIN_WRITE, "BEGIN IMMEDIATE");
static const struct sto_sql q_commit = STO_SQL(COMMIT, "COMMIT");
static const struct sto_sql q_rollback = STO_SQL(ROLLBACK, "ROLLBACK");
static const struct sto_sql q_user_version = STO_SQL(USER_VERSION, "PRAGMA user_version");
/* A row when the database has no schema at all (a new file). */
static const struct sto_sql q_schema_empty =
    STO_SQL(SCHEMA_EMPTY, "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM sqlite_schema)");
static const struct sto_sql q_journal_wal = STO_SQL(JOURNAL_WAL, "PRAGMA journal_mode = WAL");

/* ---- statements ------------------------------------------------------------------------------ */

/* The operating system's words for a file system failure behind rc, or NULL. SQLite keeps the
 * errno of the last failed call per connection, except for a full disk: its unix VFS reports a
 * short or ENOSPC write as SQLITE_FULL and clears the errno ("not a system error"). */
static const char *os_error(sqlite3 *db, int rc, char *buf, size_t cap)
{
    int prim = rc & 0xff;
    int e = db != NULL ? sqlite3_system_errno(db) : 0;
    if (prim == SQLITE_FULL && e == 0)
        e = ENOSPC;
    if (e == 0 || (prim != SQLITE_IOERR && prim != SQLITE_FULL && prim != SQLITE_CANTOPEN))
        return NULL;
    if (strerror_r(e, buf, cap) != 0)
        snprintf(buf, cap, "unknown error %d", e);
    return buf;
}

cof_err sto_db_fail(sqlite3 *db, const char *what, int rc)
{
    char buf[128];
    const char *os = os_error(db, rc, buf, sizeof(buf));
    const char *file = db != NULL ? sqlite3_db_filename(db, "main") : NULL;
    if (os != NULL)
        cof_log_error(NULL, "meta: %s: %s (or its -wal/-shm file): %s (%s, SQLite code %d)", what,
                      file != NULL ? file : "database", os, sqlite3_errmsg(db), rc);
    else
        cof_log_error(NULL, "meta: %s: %s (SQLite code %d)", what,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
    return (rc & 0xff) == SQLITE_NOMEM ? COF_ERR_NOMEM : COF_ERR_DB;
}

/* SQLite's own diagnostics (SQLITE_CONFIG_LOG): its unix VFS names the file and the strerror
 * text of a failed fsync, open, truncate or unlink. Failures of the disk are errors; the rest
 * (constraint checks coffer relies on, recovered WAL notices) is debug chatter. */
static void sqlite_log(void *arg, int rc, const char *msg)
{
    (void)arg;
    int prim = rc & 0xff;
    if (prim != SQLITE_IOERR && prim != SQLITE_FULL && prim != SQLITE_CANTOPEN &&
        prim != SQLITE_CORRUPT) {
        cof_log_debug(NULL, "sqlite: %s (SQLite code %d)", msg, rc);
        return;
    }
    /* "os_unix.c:LINE: (ERRNO) CALL(PATH) - TEXT": builds without strerror_r leave TEXT empty. */
    int e = 0;
    char text[128] = "";
    if (sscanf(msg, "os_unix.c:%*d: (%d)", &e) == 1 && e > 0 &&
        strerror_r(e, text, sizeof(text)) != 0)
        text[0] = '\0';
    cof_log_error(NULL, "sqlite: %s%s (SQLite code %d)", msg, text, rc);
}

static void install_sqlite_log(void)
{
    /* Must precede sqlite3_initialize (which the VFS lookup does); a host that initialised SQLite
     * first keeps its own log. */
    if (sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL) != SQLITE_OK)
        cof_log_debug(NULL, "meta: SQLite's diagnostics stay off (SQLite already initialised)");
    if (sto_sqlvfs_register() != COF_OK)
        cof_log_warn(NULL, "meta: SQLite write failures will be logged without their file");
}

void sto_q_open(struct sto_q *q, struct sto_conn *c, const struct sto_sql *def, cof_err prior)
{
    q->c = c;
    q->def = def;
    q->s = NULL;
    q->err = prior;
    if (prior != COF_OK)
        return;
    if (c == NULL || def == NULL || (size_t)def->id >= STO_Q__COUNT)
        COF_BUG("sto_q_open: no connection or bad statement");
    /* Two definitions sharing a slot would run each other's SQL. */
    if (c->def[def->id] != NULL && c->def[def->id] != def)
        COF_BUG("sto_q_open: two statements share a slot");
    if (c->busy[def->id])
        COF_BUG("sto_q_open: statement already in use on this connection");
    if (c->st[def->id] == NULL) {
        int rc = sqlite3_prepare_v3(c->db, def->sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st[def->id],
                                    NULL);
        if (rc != SQLITE_OK) {
            q->err = sto_db_fail(c->db, def->name, rc);
            return;
        }
        c->def[def->id] = def;
    }
    c->busy[def->id] = true;
    q->s = c->st[def->id];
}

/* Keeps the first failure of a bind. */
static void bound(struct sto_q *q, int rc)
{
    if (rc != SQLITE_OK)
        q->err = sto_db_fail(q->c->db, q->def->name, rc);
}

void sto_q_text(struct sto_q *q, int i, const char *s)
{
    sto_q_bytes(q, i, s, s != NULL ? strlen(s) : 0);
}

void sto_q_bytes(struct sto_q *q, int i, const char *p, size_t n)
{
    if (q->err != COF_OK)
        return;
    if (p == NULL)
        bound(q, sqlite3_bind_null(q->s, i));
    else if (n > INT_MAX)
        q->err = COF_ERR_TOO_LARGE;
    else
        bound(q, sqlite3_bind_text(q->s, i, p, (int)n, SQLITE_STATIC));
}

void sto_q_blob(struct sto_q *q, int i, const void *p, size_t n)
{
    if (q->err != COF_OK)
        return;
    if (p == NULL)
        bound(q, sqlite3_bind_null(q->s, i));
    else if (n > INT_MAX)
        q->err = COF_ERR_TOO_LARGE;
    else
        bound(q, sqlite3_bind_blob(q->s, i, p, (int)n, SQLITE_STATIC));
}

void sto_q_int(struct sto_q *q, int i, int64_t v)
{
    if (q->err == COF_OK)
        bound(q, sqlite3_bind_int64(q->s, i, v));
}

bool sto_q_step(struct sto_q *q)
{
    if (q->err != COF_OK)
        return false;
    int rc = sqlite3_step(q->s);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    if (q->def->unique && (rc & 0xff) == SQLITE_CONSTRAINT)
        q->err = COF_ERR_EXISTS;
    else
        q->err = sto_db_fail(q->c->db, q->def->name, rc);
    return false;
}

int sto_q_changes(const struct sto_q *q)
{
    return sqlite3_changes(q->c->db);
}

cof_err sto_q_close(struct sto_q *q, cof_err err)
{
    if (q->s != NULL) {
        sqlite3_reset(q->s);
        sqlite3_clear_bindings(q->s);
        q->c->busy[q->def->id] = false;
        q->s = NULL;
    }
    return err != COF_OK ? err : q->err;
}

cof_err sto_q_run(struct sto_conn *c, const struct sto_sql *def, const char *a, const char *b,
                  const char *d, bool *out_row)
{
    struct sto_q q;
    sto_q_open(&q, c, def, COF_OK);
    if (a != NULL)
        sto_q_text(&q, 1, a);
    if (b != NULL)
        sto_q_text(&q, 2, b);
    if (d != NULL)
        sto_q_text(&q, 3, d);
    bool row = sto_q_step(&q);
    if (out_row != NULL)
        *out_row = row;
    return sto_q_close(&q, COF_OK);
}

void sto_write_open(struct sto_meta *m, const struct sto_sql *def, struct sto_q *q)
{
    struct sto_conn *c = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err == COF_OK) {
        err = sto_tx_begin(m, c);
        if (err != COF_OK) {
            sto_conn_put(m, c);
            c = NULL;
        }
    }
    sto_q_open(q, c, def, err);
}

cof_err sto_write_close(struct sto_meta *m, struct sto_q *q, int *out_changes)
{
    struct sto_conn *c = q->c;
    (void)sto_q_step(q);
    if (out_changes != NULL)
        *out_changes = q->err == COF_OK ? sto_q_changes(q) : 0;
    cof_err err = sto_q_close(q, COF_OK);
    if (c != NULL) {
        err = sto_tx_end(m, c, err);
        sto_conn_put(m, c);
    }
    return err;
}

cof_err sto_write_close_one(struct sto_meta *m, struct sto_q *q)
{
    int changes = 0;
    cof_err err = sto_write_close(m, q, &changes);
    return err == COF_OK && changes == 0 ? COF_ERR_NOT_FOUND : err;
}

cof_err sto_write_steps(struct sto_meta *m, const struct sto_sql *const *steps, size_t n,
                        const char *a)
{
    struct sto_conn *c = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err == COF_OK) {
        for (size_t i = 0; err == COF_OK && i < n; i++)
            err = sto_q_run(c, steps[i], a, NULL, NULL, NULL);
        err = sto_tx_end(m, c, err);
    }
    sto_conn_put(m, c);
    return err;
}

cof_err sto_col_text(sqlite3_stmt *s, int i, char **out)
{
    *out = NULL;
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return COF_OK;
    const unsigned char *p = sqlite3_column_text(s, i);
    int n = sqlite3_column_bytes(s, i);
    if (p == NULL && n > 0)
        return COF_ERR_NOMEM;
    char *t = malloc((size_t)n + 1);
    if (t == NULL)
        return COF_ERR_NOMEM;
    if (n > 0)
        memcpy(t, p, (size_t)n);
    t[n] = '\0';
    *out = t;
    return COF_OK;
}

cof_err sto_col_blob(sqlite3_stmt *s, int i, uint8_t **out, size_t *out_len)
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

/* ---- connections ---------------------------------------------------------------------------- */

/* Runs a script (the migrations, the per-connection pragmas) that no statement caches. */
static cof_err exec_script(sqlite3 *db, const char *what, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return COF_OK;
    cof_log_error(NULL, "meta: %s: %s (SQLite code %d)", what, msg ? msg : sqlite3_errstr(rc), rc);
    sqlite3_free(msg);
    return (rc & 0xff) == SQLITE_NOMEM ? COF_ERR_NOMEM : COF_ERR_DB;
}

static void conn_close(struct sto_conn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < STO_Q__COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close_v2(c->db);
    free(c);
}

/* Opens one connection with the per-connection settings (busy timeout, foreign keys,
 * synchronous). The database-wide ones (WAL, schema) are done once in sto_meta_open. */
static cof_err conn_open(struct sto_meta *m, struct sto_conn **out)
{
    *out = NULL;
    struct sto_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return COF_ERR_NOMEM;
    int rc = sqlite3_open_v2(
        m->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    cof_err err = COF_OK;
    if (rc != SQLITE_OK) {
        err = sto_db_fail(c->db, "open", rc);
        goto out;
    }
    rc = sqlite3_busy_timeout(c->db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    if (rc != SQLITE_OK) {
        err = sto_db_fail(c->db, "configure", rc);
        goto out;
    }
    /* No mmap and a 128 KiB page cache per pooled connection: pages come from the kernel's
     * page cache either way, and mapped or cached pages count in the process's RSS, once per
     * busy worker (measured: peak RSS 37 -> 31 MiB under the 4 KiB benchmark without mmap, 25 ->
     * 21 MiB from 512 to 128 KiB of cache; same instructions and preads per GET and listing,
     * bench/README.md). */
    err = exec_script(c->db, "pragmas",
                      m->full ? "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
                                "PRAGMA mmap_size = 0; PRAGMA cache_size = -128"
                              : "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; "
                                "PRAGMA mmap_size = 0; PRAGMA cache_size = -128");
out:
    if (err != COF_OK) {
        conn_close(c);
        c = NULL;
    }
    *out = c;
    return err;
}

cof_err sto_conn_get(struct sto_meta *m, struct sto_conn **out)
{
    pthread_mutex_lock(&m->pool_mu);
    struct sto_conn *c = m->idle;
    if (c != NULL)
        m->idle = c->next;
    pthread_mutex_unlock(&m->pool_mu);
    if (c != NULL) {
        c->next = NULL;
        *out = c;
        return COF_OK;
    }
    return conn_open(m, out);
}

void sto_conn_put(struct sto_meta *m, struct sto_conn *c)
{
    if (c == NULL)
        return;
    if (!sqlite3_get_autocommit(c->db)) {
        /* A transaction left open is a bug in storage/; do not hand it to the next caller. */
        cof_log_error(NULL, "meta: connection returned inside a transaction");
        (void)exec_script(c->db, "rollback", "ROLLBACK");
    }
    pthread_mutex_lock(&m->pool_mu);
    c->next = m->idle;
    m->idle = c;
    pthread_mutex_unlock(&m->pool_mu);
}

/* ROLLBACK after a failure (already logged); its own failure leaves nothing more to do than the
 * log line: the connection is closed or rolled back before reuse (sto_conn_put). */
static void rollback(struct sto_conn *c)
{
    if (!sqlite3_get_autocommit(c->db) &&
        sto_q_run(c, &q_rollback, NULL, NULL, NULL, NULL) != COF_OK)
        cof_log_error(NULL, "meta: rollback failed");
}

cof_err sto_tx_begin(struct sto_meta *m, struct sto_conn *c)
{
    pthread_mutex_lock(&m->write_mu);
    cof_err err = sto_q_run(c, &q_begin_write, NULL, NULL, NULL, NULL);
    if (err != COF_OK)
        pthread_mutex_unlock(&m->write_mu);
    return err;
}

cof_err sto_tx_end(struct sto_meta *m, struct sto_conn *c, cof_err err)
{
    if (err == COF_OK)
        err = sto_q_run(c, &q_commit, NULL, NULL, NULL, NULL);
    if (err != COF_OK)
        rollback(c);
    pthread_mutex_unlock(&m->write_mu);
    return err;
}

/* Brings the schema to STO_META_SCHEMA_VERSION. A newer database than this build is refused. */
static cof_err migrate(struct sto_conn *c)
{
    struct sto_q q;
    int version = -1;
    cof_err err = sto_q_run(c, &q_begin_write, NULL, NULL, NULL, NULL);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_user_version, COF_OK);
    if (sto_q_step(&q))
        version = sqlite3_column_int(q.s, 0);
    else if (q.err == COF_OK)
        q.err = sto_db_fail(c->db, "user_version", SQLITE_ERROR);
    err = sto_q_close(&q, COF_OK);
    if (err == COF_OK && (version < 0 || version > STO_META_SCHEMA_VERSION)) {
        cof_log_error(NULL, "meta: database schema version %d is not one this build knows (%d)",
                      version, STO_META_SCHEMA_VERSION);
        err = COF_ERR_DB;
    }
    bool empty = false;
    if (err == COF_OK && version == 0)
        err = sto_q_run(c, &q_schema_empty, NULL, NULL, NULL, &empty);
    for (size_t i = 0; err == COF_OK && empty && i < sizeof(fresh_schema) / sizeof(*fresh_schema);
         i++)
        err = exec_script(c->db, "schema", fresh_schema[i]);
    for (int v = version; err == COF_OK && !empty && v < STO_META_SCHEMA_VERSION; v++) {
        char what[32];
        snprintf(what, sizeof(what), "migration %d", v + 1);
        err = exec_script(c->db, what, migrations[v]);
    }
    if (err == COF_OK && version < STO_META_SCHEMA_VERSION) {
        char sql[48];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STO_META_SCHEMA_VERSION);
        err = exec_script(c->db, "user_version", sql);
        if (err == COF_OK)
            cof_log_info(NULL, "meta: schema migrated from version %d to %d", version,
                         STO_META_SCHEMA_VERSION);
    }
    if (err == COF_OK)
        err = sto_q_run(c, &q_commit, NULL, NULL, NULL, NULL);
    if (err != COF_OK)
        rollback(c);
    return err;
}

static cof_err set_wal(struct sto_conn *c)
{
    struct sto_q q;
    sto_q_open(&q, c, &q_journal_wal, COF_OK);
    if (sto_q_step(&q)) {
        const unsigned char *mode = sqlite3_column_text(q.s, 0);
        if (mode == NULL || strcmp((const char *)mode, "wal") != 0) {
            cof_log_error(NULL, "meta: cannot enable WAL (journal_mode is %s)",
                          mode ? (const char *)mode : "?");
            q.err = COF_ERR_DB;
        }
    } else if (q.err == COF_OK) {
        q.err = sto_db_fail(c->db, "journal_mode", SQLITE_ERROR);
    }
    return sto_q_close(&q, COF_OK);
}

cof_err sto_meta_open(const char *db_path, bool durability_full, struct sto_meta **out)
{
    static pthread_once_t log_once = PTHREAD_ONCE_INIT;
    struct sto_meta *m = NULL;
    struct sto_conn *c = NULL;
    cof_err err = COF_OK;
    *out = NULL;
    pthread_once(&log_once, install_sqlite_log);
    if (db_path == NULL)
        COF_BUG("sto_meta_open: db_path is NULL");
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return COF_ERR_NOMEM;
    m->full = durability_full;
    m->path = strdup(db_path);
    if (m->path == NULL) {
        free(m);
        return COF_ERR_NOMEM;
    }
    pthread_mutex_init(&m->pool_mu, NULL);
    pthread_mutex_init(&m->write_mu, NULL);
    pthread_mutex_init(&m->batch_mu, NULL);
    pthread_cond_init(&m->batch_cv, NULL);
    err = cfg_cache_new(&m->cfg);
    if (err != COF_OK)
        goto out;

    /* Create the file owner-only: it holds object keys and wrapped DEKs, and SQLite gives the
     * -wal and -shm files the database file's permissions. */
    int fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        char msg[128];
        if (strerror_r(errno, msg, sizeof(msg)) != 0)
            snprintf(msg, sizeof(msg), "errno %d", errno);
        cof_log_error(NULL, "meta: cannot open %s: %s", db_path, msg);
        err = COF_ERR_DB;
        goto out;
    }
    close(fd);
    err = conn_open(m, &c);
    if (err == COF_OK)
        err = set_wal(c);
    if (err == COF_OK)
        err = migrate(c);
out:
    if (err != COF_OK) {
        conn_close(c);
        sto_meta_close(m);
        return err;
    }
    sto_conn_put(m, c);
    *out = m;
    return COF_OK;
}

void sto_meta_close(struct sto_meta *m)
{
    if (m == NULL)
        return;
    while (m->idle != NULL) {
        struct sto_conn *c = m->idle;
        m->idle = c->next;
        conn_close(c);
    }
    pthread_mutex_destroy(&m->pool_mu);
    pthread_mutex_destroy(&m->write_mu);
    pthread_mutex_destroy(&m->batch_mu);
    pthread_cond_destroy(&m->batch_cv);
    cfg_cache_free(m->cfg);
    free(m->path);
    free(m);
}

cof_err sto_meta_backup(struct sto_meta *m, const char *dest_path)
{
    struct sto_conn *c = NULL;
    sqlite3 *dst = NULL;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    int rc = sqlite3_open_v2(
        dest_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        /* One step over every page: a consistent snapshot, read under one read transaction, so
         * writers (WAL) go on meanwhile. */
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
        if (b == NULL) {
            rc = sqlite3_errcode(dst);
        } else {
            do {
                rc = sqlite3_backup_step(b, -1);
                if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
                    sqlite3_sleep(20);
            } while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_OK);
            int fin = sqlite3_backup_finish(b);
            if (rc == SQLITE_DONE)
                rc = fin;
        }
    }
    if (rc != SQLITE_OK) {
        cof_log_error(NULL, "meta: backup of %s into %s: %s", m->path, dest_path,
                      dst != NULL ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        err = COF_ERR_DB;
    }
    if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && err == COF_OK)
        err = COF_ERR_DB;
    sto_conn_put(m, c);
    return err;
}

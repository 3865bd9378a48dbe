/* SPDX-License-Identifier: Apache-2.0 */
/* storage/meta: schema, buckets, configs, objects, GC queue, binary-ordered listing with prefix
 * ranges, the list query plan on 100k keys, reset, concurrency, and the write protocol's crash
 * points (together with storage/blob). */
#include "check.h"
#include "common/clock.h"
#include "storage/blob.h"
#include "storage/internal.h"
#include "storage/meta.h"
#include "tmpdir.h"

#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------------- */

static void db_path(const char *dir, char out[1024])
{
    snprintf(out, 1024, "%s/coffer.db", dir);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* First column of the first row of sql, as an integer (-1 on error). Own connection. */
static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static int raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const uint8_t dek[] = {0x00, 0x01, 0xff, 0x00, 0x80, 0x7f};

/* Fills o with owned copies (sto_object_cleanup frees them). */
static void obj_init(struct sto_object *o, const char *bucket, const char *key, const char *blob_id,
                     const char *etag)
{
    memset(o, 0, sizeof(*o));
    o->bucket = xstrdup(bucket);
    o->key = xstrdup(key);
    o->version_id = xstrdup("null");
    o->size = 5000000000ULL;
    o->etag = xstrdup(etag);
    o->mtime_ms = 1700000000123LL;
    o->headers = xstrdup("content-type: text/plain\nx-amz-meta-a: \xc3\xa9");
    o->blob_id = xstrdup(blob_id);
    o->sse_mode = 2;
    o->kek_id = xstrdup("root-1");
    o->wrapped_dek = malloc(sizeof(dek));
    if (o->wrapped_dek != NULL)
        memcpy(o->wrapped_dek, dek, sizeof(dek));
    o->wrapped_len = sizeof(dek);
}

static char *new_id(void)
{
    char id[STO_BLOB_ID_HEX + 1];
    if (sto_blob_new_id(id, NULL) != COF_OK)
        return NULL;
    return strdup(id);
}

/* Publishes (bucket, key) -> blob_id with etag "e-<blob_id>"; *replaced as put returns it. */
static cof_err put(struct sto_meta *m, const char *bucket, const char *key, const char *blob_id,
                   char **replaced)
{
    struct sto_object o;
    char etag[64];
    snprintf(etag, sizeof(etag), "e-%s", blob_id);
    obj_init(&o, bucket, key, blob_id, etag);
    cof_err err = sto_meta_put_object(m, &o, replaced);
    sto_object_cleanup(&o);
    return err;
}

#define NAMES_CAP 1024

/* A list of owned strings collected from callbacks (the first NAMES_CAP are kept). */
struct names {
    char *v[NAMES_CAP];
    int n;
    int stop_after;   /* 0: never */
    cof_err stop_err; /* returned by the callback at stop_after */
};

static void names_free(struct names *s)
{
    for (int i = 0; i < s->n && i < NAMES_CAP; i++)
        free(s->v[i]);
    memset(s, 0, sizeof(*s));
}

static cof_err names_add(struct names *s, const char *v)
{
    if (s->n < NAMES_CAP)
        s->v[s->n] = strdup(v);
    s->n++;
    if (s->stop_after > 0 && s->n >= s->stop_after)
        return s->stop_err;
    return COF_OK;
}

static cof_err on_bucket(const struct sto_bucket *b, void *arg)
{
    return names_add(arg, b->name);
}

static cof_err on_object(const struct sto_object *o, void *arg)
{
    return names_add(arg, o->key);
}

static cof_err on_blob(const char *id, void *arg)
{
    return names_add(arg, id);
}

static bool names_has(const struct names *s, const char *v)
{
    for (int i = 0; i < s->n && i < NAMES_CAP; i++)
        if (strcmp(s->v[i], v) == 0)
            return true;
    return false;
}

/* Checks s == want[0..n) exactly, reporting the first difference with its case number. */
static void check_names(const struct names *s, const char *const *want, int n, int case_no)
{
    bool ok = s->n == n;
    for (int i = 0; ok && i < n; i++)
        ok = strcmp(s->v[i], want[i]) == 0;
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  case %d: got %d names, want %d:", case_no, s->n, n);
        for (int i = 0; i < s->n && i < NAMES_CAP; i++) {
            fputs(" \"", stderr);
            for (const unsigned char *p = (const unsigned char *)s->v[i]; *p; p++)
                fprintf(stderr, *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
            fputs("\"", stderr);
        }
        fputs("\n", stderr);
    }
}

static struct sto_meta *open_meta(const char *dir, bool full)
{
    char path[1024];
    struct sto_meta *m = NULL;
    db_path(dir, path);
    CHECK_EQ_INT(sto_meta_open(path, full, &m), COF_OK);
    return m;
}

/* ---- schema --------------------------------------------------------------------------------- */

/* The schema of a database as text: one "type|name|table|sql" line per object but skip. */
static char *schema_text(const char *path, const char *skip)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t cap = 1 << 16, n = 0;
    char *out = calloc(1, cap);
    if (out != NULL && sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT type || '|' || name || '|' || tbl_name || '|' || "
                           "coalesce(sql, '') FROM sqlite_schema WHERE name <> ?1 ORDER BY name",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, skip, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *line = (const char *)sqlite3_column_text(st, 0);
            int k = snprintf(out + n, cap - n, "%s\n", line != NULL ? line : "");
            n = k > 0 && (size_t)k < cap - n ? n + (size_t)k : n;
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* A new database gets the final schema in one go (db.c's fresh_schema); one that holds anything
 * replays every migration step. Both must end up with the same sqlite_schema. */
static void test_fresh_schema(const char *dir)
{
    char fresh[900], stepped[900], seeded[1000];
    snprintf(fresh, sizeof(fresh), "%s/fresh", dir);
    snprintf(stepped, sizeof(stepped), "%s/stepped", dir);
    CHECK_EQ_INT(mkdir(fresh, 0700), 0);
    CHECK_EQ_INT(mkdir(stepped, 0700), 0);
    snprintf(seeded, sizeof(seeded), "%s/coffer.db", stepped);
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(seeded, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "CREATE TABLE seed (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct sto_meta *a = open_meta(fresh, true), *b = open_meta(stepped, true);
    CHECK(a != NULL && b != NULL);
    sto_meta_close(a);
    sto_meta_close(b);
    char pa[1024], pb[1024];
    db_path(fresh, pa);
    db_path(stepped, pb);
    CHECK_EQ_INT(raw_int(pa, "PRAGMA user_version"), STO_META_SCHEMA_VERSION);
    CHECK_EQ_INT(raw_int(pb, "PRAGMA user_version"), STO_META_SCHEMA_VERSION);
    char *sa = schema_text(pa, "seed"), *sb = schema_text(pb, "seed");
    CHECK(sa != NULL && sb != NULL && strlen(sa) > 1000);
    if (sa != NULL && sb != NULL && strcmp(sa, sb) != 0)
        fprintf(stderr, "fresh schema:\n%s\nmigrated schema:\n%s\n", sa, sb);
    CHECK(sa != NULL && sb != NULL && strcmp(sa, sb) == 0);
    free(sa);
    free(sb);
}

static void test_schema(const char *dir)
{
    char path[1024];
    struct sto_meta *m = NULL;
    db_path(dir, path);
    m = open_meta(dir, true);
    CHECK(m != NULL);
    CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), STO_META_SCHEMA_VERSION);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"), 15);
    CHECK_EQ_INT(path_mode(dir, "coffer.db"), 0600);
    CHECK_EQ_INT(path_mode(dir, "coffer.db-wal"), 0600);
    sto_meta_close(m);
    sto_meta_close(NULL);

    /* WAL is persistent; reopening does not migrate again. */
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
    m = open_meta(dir, false);
    CHECK(m != NULL);
    sto_meta_close(m);
    CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), STO_META_SCHEMA_VERSION);

    /* A database from a newer build is refused, not silently used. */
    CHECK_EQ_INT(raw_exec(path, "PRAGMA user_version = 99"), SQLITE_OK);
    m = (struct sto_meta *)(uintptr_t)1;
    CHECK_EQ_INT(sto_meta_open(path, true, &m), COF_ERR_DB);
    CHECK(m == NULL);
    char restore[64];
    snprintf(restore, sizeof(restore), "PRAGMA user_version = %d", STO_META_SCHEMA_VERSION);
    CHECK_EQ_INT(raw_exec(path, restore), SQLITE_OK);
    m = open_meta(dir, true);
    CHECK(m != NULL);
    sto_meta_close(m);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM completed_uploads"), 0);

    /* A path that cannot be a database. */
    char bad[1024];
    snprintf(bad, sizeof(bad), "%s/no/such/dir/coffer.db", dir);
    CHECK_EQ_INT(sto_meta_open(bad, true, &m), COF_ERR_DB);
    CHECK(m == NULL);
}

/* ---- buckets and configs -------------------------------------------------------------------- */

static void test_buckets(struct sto_meta *m)
{
    struct sto_bucket b;
    struct names s = {0};
    static const char *const order[] = {"a", "a-z", "b", "c-1"};

    CHECK_EQ_INT(sto_meta_list_buckets(m, on_bucket, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "b", "us-east-1", 1000), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "c-1", "eu-west-1", 1001), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "a", "us-east-1", 1002), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "a-z", "us-east-1", 1003), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "b", "eu-west-1", 9999), COF_ERR_BUCKET_EXISTS);

    CHECK_EQ_INT(sto_meta_get_bucket(m, "c-1", &b), COF_OK);
    CHECK_EQ_STR(b.name, "c-1");
    CHECK_EQ_STR(b.region, "eu-west-1");
    CHECK_EQ_INT(b.created_ms, 1001);
    sto_bucket_cleanup(&b);
    CHECK(b.name == NULL && b.region == NULL);
    sto_bucket_cleanup(NULL);
    CHECK_EQ_INT(sto_meta_get_bucket(m, "b", &b), COF_OK); /* the duplicate changed nothing */
    CHECK_EQ_STR(b.region, "us-east-1");
    CHECK_EQ_INT(b.created_ms, 1000);
    sto_bucket_cleanup(&b);
    CHECK_EQ_INT(sto_meta_get_bucket(m, "b", NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket(m, "nope", &b), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_get_bucket(m, "nope", NULL), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_get_bucket(m, "B", NULL), COF_ERR_NO_BUCKET);

    CHECK_EQ_INT(sto_meta_list_buckets(m, on_bucket, &s), COF_OK);
    check_names(&s, order, 4, 1);
    names_free(&s);
    s.stop_after = 2;
    s.stop_err = COF_ERR_INTERNAL;
    CHECK_EQ_INT(sto_meta_list_buckets(m, on_bucket, &s), COF_ERR_INTERNAL);
    CHECK_EQ_INT(s.n, 2);
    names_free(&s);

    /* Non-empty, missing, empty. Deleting a bucket removes its configs. */
    char *blob = new_id();
    CHECK_EQ_INT(put(m, "a", "k", blob, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "a"), COF_ERR_BUCKET_NOT_EMPTY);
    CHECK_EQ_INT(sto_meta_get_bucket(m, "a", NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "nope"), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "a-z", "policy", "{}"), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "a-z"), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket(m, "a-z", NULL), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "a-z"), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "a-z", "us-east-1", 2000), COF_OK);
    char *v = NULL;
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "a-z", "policy", &v), COF_ERR_NOT_FOUND);
    CHECK(v == NULL);
    char *removed = NULL;
    CHECK_EQ_INT(sto_meta_delete_object(m, "a", "k", &removed), COF_OK);
    CHECK_EQ_STR(removed, blob);
    CHECK_EQ_INT(sto_meta_gc_done(m, removed), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "a"), COF_OK);
    free(removed);
    free(blob);
}

static void test_configs(struct sto_meta *m)
{
    char *v = NULL;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "cfg", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "cfg", "encryption", &v), COF_ERR_NOT_FOUND);
    CHECK(v == NULL);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "cfg", "encryption", "<x>AES256</x>"), COF_OK);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "cfg", "policy", "{\"a\":1}"), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "cfg", "encryption", &v), COF_OK);
    CHECK_EQ_STR(v, "<x>AES256</x>");
    free(v);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "cfg", "encryption", "<x>aws:kms</x>"), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "cfg", "encryption", &v), COF_OK);
    CHECK_EQ_STR(v, "<x>aws:kms</x>");
    free(v);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "cfg", "empty", ""), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "cfg", "empty", &v), COF_OK);
    CHECK_EQ_STR(v, "");
    free(v);
    /* NULL deletes; deleting an unset document is fine. */
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "cfg", "encryption", NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "cfg", "encryption", NULL), COF_OK);
    v = NULL;
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "cfg", "encryption", &v), COF_ERR_NOT_FOUND);
    CHECK(v == NULL);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "cfg", "policy", &v), COF_OK);
    CHECK_EQ_STR(v, "{\"a\":1}");
    free(v);
    v = NULL;
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "nope", "policy", &v), COF_ERR_NO_BUCKET);
    CHECK(v == NULL);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "nope", "policy", "{}"), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "nope", "policy", NULL), COF_ERR_NO_BUCKET);

    /* Answers are cached in memory: every write that changes one must be seen at once. A
     * cached "no bucket" ends when the bucket is created; a deleted and re-created bucket has
     * no configs; a reset forgets everything. Each read below is done twice (miss, then hit). */
    for (int round = 0; round < 2; round++)
        CHECK_EQ_INT(sto_meta_get_bucket_config(m, "later", "versioning", &v), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "later", "us-east-1", 1), COF_OK);
    for (int round = 0; round < 2; round++)
        CHECK_EQ_INT(sto_meta_get_bucket_config(m, "later", "versioning", &v), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "later", "versioning", "Enabled"), COF_OK);
    for (int round = 0; round < 2; round++) {
        CHECK_EQ_INT(sto_meta_get_bucket_config(m, "later", "versioning", &v), COF_OK);
        CHECK_EQ_STR(v, "Enabled");
        free(v);
    }
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "later"), COF_OK);
    for (int round = 0; round < 2; round++)
        CHECK_EQ_INT(sto_meta_get_bucket_config(m, "later", "versioning", &v), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "later", "us-east-1", 2), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "later", "versioning", &v), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "later", "versioning", "Suspended"), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "later", "versioning", &v), COF_OK);
    free(v);
    CHECK_EQ_INT(sto_meta_reset(m), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "later", "versioning", &v), COF_ERR_NO_BUCKET);
    /* Many documents (more than the cache holds) still read back exactly. */
    CHECK_EQ_INT(sto_meta_create_bucket(m, "many", "us-east-1", 1), COF_OK);
    for (int i = 0; i < 1500; i++) {
        char name[32], val[32];
        snprintf(name, sizeof(name), "doc%d", i);
        snprintf(val, sizeof(val), "value-%d", i);
        CHECK_EQ_INT(sto_meta_set_bucket_config(m, "many", name, val), COF_OK);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 1500; i += 7) {
            char name[32], val[32];
            snprintf(name, sizeof(name), "doc%d", i);
            snprintf(val, sizeof(val), "value-%d", i);
            CHECK_EQ_INT(sto_meta_get_bucket_config(m, "many", name, &v), COF_OK);
            CHECK_EQ_STR(v, val);
            free(v);
        }
}

/* ---- objects and the GC queue --------------------------------------------------------------- */

static void check_gc(struct sto_meta *m, const char *const *want, int n, int case_no)
{
    struct names s = {0};
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    /* gc_each order is unspecified: compare as sets (all distinct). */
    bool ok = s.n == n;
    for (int i = 0; ok && i < n; i++)
        ok = names_has(&s, want[i]);
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  gc case %d: %d queued, want %d\n", case_no, s.n, n);
    names_free(&s);
}

static void test_objects(struct sto_meta *m)
{
    struct sto_object o, got;
    char *a = new_id(), *b = new_id(), *c = new_id();
    char *rep = NULL;
    bool ref = false;

    CHECK_EQ_INT(sto_meta_create_bucket(m, "obj", "us-east-1", 1), COF_OK);
    obj_init(&o, "nope", "k", a, "etag-a");
    CHECK_EQ_INT(sto_meta_put_object(m, &o, &rep), COF_ERR_NO_BUCKET);
    CHECK(rep == NULL);
    sto_object_cleanup(&o);
    CHECK(o.key == NULL && o.wrapped_dek == NULL);
    sto_object_cleanup(NULL);

    /* Insert: nothing replaced; every field round-trips, including bytes in the DEK. */
    obj_init(&o, "obj", "dir/\xc3\xa9t\xc3\xa9 file%_.txt", a, "etag-a");
    CHECK_EQ_INT(sto_meta_put_object(m, &o, &rep), COF_OK);
    CHECK(rep == NULL);
    CHECK_EQ_INT(sto_meta_get_object(m, "obj", o.key, &got), COF_OK);
    CHECK_EQ_STR(got.bucket, "obj");
    CHECK_EQ_STR(got.key, o.key);
    CHECK_EQ_STR(got.version_id, "null");
    CHECK_EQ_INT(got.size, 5000000000ULL);
    CHECK_EQ_STR(got.etag, "etag-a");
    CHECK_EQ_INT(got.mtime_ms, 1700000000123LL);
    CHECK_EQ_STR(got.headers, o.headers);
    CHECK_EQ_STR(got.blob_id, a);
    CHECK_EQ_INT(got.sse_mode, 2);
    CHECK_EQ_STR(got.kek_id, "root-1");
    CHECK_EQ_INT(got.wrapped_len, sizeof(dek));
    CHECK(got.wrapped_dek != NULL && memcmp(got.wrapped_dek, dek, sizeof(dek)) == 0);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_blob_referenced(m, a, &ref), COF_OK);
    CHECK(ref);

    /* Replace: the old blob comes back and is queued until gc_done. */
    free(o.blob_id);
    o.blob_id = xstrdup(b);
    free(o.etag);
    o.etag = xstrdup("etag-b");
    CHECK_EQ_INT(sto_meta_put_object(m, &o, &rep), COF_OK);
    CHECK_EQ_STR(rep, a);
    const char *q1[] = {a};
    check_gc(m, q1, 1, 1);
    CHECK_EQ_INT(sto_meta_blob_referenced(m, a, &ref), COF_OK);
    CHECK(!ref);
    CHECK_EQ_INT(sto_meta_get_object(m, "obj", o.key, &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, b);
    CHECK_EQ_STR(got.etag, "etag-b");
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_gc_done(m, rep), COF_OK);
    CHECK_EQ_INT(sto_meta_gc_done(m, rep), COF_OK); /* idempotent */
    check_gc(m, NULL, 0, 2);
    free(rep);
    rep = NULL;

    /* Re-publishing the same blob (a metadata-only change) must not queue it. */
    free(o.headers);
    o.headers = NULL;
    free(o.kek_id);
    o.kek_id = NULL;
    free(o.wrapped_dek);
    o.wrapped_dek = NULL;
    o.wrapped_len = 0;
    CHECK_EQ_INT(sto_meta_put_object(m, &o, &rep), COF_OK);
    CHECK(rep == NULL);
    check_gc(m, NULL, 0, 3);
    CHECK_EQ_INT(sto_meta_get_object(m, "obj", o.key, &got), COF_OK);
    CHECK(got.headers == NULL && got.kek_id == NULL && got.wrapped_dek == NULL);
    CHECK_EQ_INT(got.wrapped_len, 0);
    sto_object_cleanup(&got);

    /* A blob shared by two rows is queued only when the last row lets go of it. */
    CHECK_EQ_INT(put(m, "obj", "shared1", c, &rep), COF_OK);
    CHECK(rep == NULL);
    CHECK_EQ_INT(put(m, "obj", "shared2", c, &rep), COF_OK);
    CHECK(rep == NULL);
    CHECK_EQ_INT(sto_meta_delete_object(m, "obj", "shared1", &rep), COF_OK);
    CHECK(rep == NULL);
    check_gc(m, NULL, 0, 4);
    CHECK_EQ_INT(sto_meta_delete_object(m, "obj", "shared2", &rep), COF_OK);
    CHECK_EQ_STR(rep, c);
    const char *q2[] = {c};
    check_gc(m, q2, 1, 5);
    CHECK_EQ_INT(sto_meta_gc_done(m, c), COF_OK);
    free(rep);
    rep = NULL;

    /* Misses. */
    CHECK_EQ_INT(sto_meta_get_object(m, "obj", "missing", &got), COF_ERR_NO_OBJECT);
    CHECK(got.key == NULL);
    CHECK_EQ_INT(sto_meta_get_object(m, "nope", "k", &got), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_get_object(m, "OBJ", o.key, &got), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_delete_object(m, "obj", "missing", &rep), COF_ERR_NO_OBJECT);
    CHECK(rep == NULL);
    CHECK_EQ_INT(sto_meta_delete_object(m, "nope", "k", &rep), COF_ERR_NO_BUCKET);

    /* Delete: row gone, blob queued; out may be NULL (the queue still has it). */
    CHECK_EQ_INT(sto_meta_delete_object(m, "obj", o.key, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_get_object(m, "obj", o.key, &got), COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_delete_object(m, "obj", o.key, &rep), COF_ERR_NO_OBJECT);
    const char *q3[] = {b};
    check_gc(m, q3, 1, 6);
    CHECK_EQ_INT(sto_meta_gc_done(m, b), COF_OK);

    /* Keys are bytes: similar-looking keys are distinct rows. */
    CHECK_EQ_INT(put(m, "obj", "K", a, NULL), COF_OK);
    CHECK_EQ_INT(put(m, "obj", "k", b, NULL), COF_OK);
    CHECK_EQ_INT(put(m, "obj", "k ", c, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_get_object(m, "obj", "K", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, a);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_get_object(m, "obj", "k ", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, c);
    sto_object_cleanup(&got);

    /* gc_each: the callback's code stops the walk. */
    struct names s = {.stop_after = 1, .stop_err = COF_ERR_INTERNAL};
    CHECK_EQ_INT(sto_meta_gc_done(m, "not-queued"), COF_OK);
    CHECK_EQ_INT(put(m, "obj", "K", b, &rep), COF_OK); /* queues a */
    free(rep);
    rep = NULL;
    CHECK_EQ_INT(put(m, "obj", "K", c, &rep), COF_OK); /* b still used by "k" */
    CHECK(rep == NULL);
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_ERR_INTERNAL);
    CHECK_EQ_INT(s.n, 1);
    names_free(&s);
    CHECK_EQ_INT(sto_meta_gc_done(m, a), COF_OK);

    sto_object_cleanup(&o);
    free(a);
    free(b);
    free(c);
}

/* ---- listing -------------------------------------------------------------------------------- */

/* In binary (memcmp) order, which is what S3 lists in. */
static const char *const sorted_keys[] = {
    "A",         "a",        "a\x01",        "a%",        "a/b", "a0",   "a_b",      "ab",
    "a\xc3\xa9", "a\xff",    "a\xff\x01",    "a\xff\xff", "b",   "\x7f", "\xc3\xa9", "\xef\xbf\xbd",
    "\xff",      "\xff\xff", "\xff\xff\x01",
};
#define NKEYS ((int)(sizeof(sorted_keys) / sizeof(sorted_keys[0])))

/* ---- versions -------------------------------------------------------------------------------- */

/* Publishes a version (blob NULL: a delete marker) of (bucket, key). */
static cof_err putv(struct sto_meta *m, const char *key, const char *vid, const char *blob_id,
                    char **replaced)
{
    struct sto_object o;
    obj_init(&o, "ver", key, blob_id, "etag");
    free(o.version_id);
    o.version_id = xstrdup(vid);
    o.delete_marker = blob_id == NULL;
    if (o.delete_marker)
        o.size = 0;
    cof_err err = sto_meta_put_object(m, &o, replaced);
    sto_object_cleanup(&o);
    return err;
}

struct vlist {
    char line[64][64]; /* "key vid L|N M|-" */
    int n;
};

static cof_err on_version(const struct sto_object *o, void *arg)
{
    struct vlist *l = arg;
    if (l->n < 64)
        snprintf(l->line[l->n], sizeof(l->line[0]), "%s %s %c%c", o->key, o->version_id,
                 o->is_latest ? 'L' : 'N', o->delete_marker ? 'M' : '-');
    l->n++;
    return COF_OK;
}

static bool queued(struct sto_meta *m, const char *blob)
{
    struct names s;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    bool found = names_has(&s, blob);
    names_free(&s);
    return found;
}

/* ---- inline blobs ---------------------------------------------------------------------------- */

/* Publishes s3://<bucket>/<key> version vid with blob_id stored inline as body. */
static cof_err put_inline(struct sto_meta *m, const char *bucket, const char *key, const char *vid,
                          const char *blob_id, const char *body, char **replaced)
{
    struct sto_object o;
    obj_init(&o, bucket, key, blob_id, "etag");
    free(o.version_id);
    o.version_id = xstrdup(vid);
    o.size = strlen(body);
    o.inline_len = strlen(body);
    o.inline_body = malloc(o.inline_len + 1);
    if (o.inline_body != NULL)
        memcpy(o.inline_body, body, o.inline_len + 1);
    cof_err err = sto_meta_put_object(m, &o, replaced);
    sto_object_cleanup(&o);
    return err;
}

/* Whether inline blob id holds want (want NULL: there is no such inline blob). */
static bool inline_is(struct sto_meta *m, const char *id, const char *want)
{
    uint8_t *b = NULL;
    size_t n = 0;
    cof_err err = sto_meta_inline_get(m, id, &b, &n);
    bool ok = want == NULL ? err == COF_ERR_NOT_FOUND
                           : err == COF_OK && n == strlen(want) && memcmp(b, want, n) == 0;
    free(b);
    return ok;
}

static void test_inline(const char *dir)
{
    char path[1024], sql[256];
    char *replaced = NULL;
    char *id[7];
    bool removed = false;
    struct names seen = {0};
    db_path(dir, path);
    struct sto_meta *m = open_meta(dir, true);
    CHECK(m != NULL);
    if (m == NULL)
        return;
    for (int i = 0; i < 7; i++)
        id[i] = new_id();
    CHECK_EQ_INT(sto_meta_create_bucket(m, "inl", "us-east-1", 1), COF_OK);

    /* Stored with its row, read back by blob id. */
    CHECK_EQ_INT(put_inline(m, "inl", "k", "null", id[0], "AAAA", &replaced), COF_OK);
    CHECK(replaced == NULL);
    CHECK(inline_is(m, id[0], "AAAA"));
    CHECK(inline_is(m, id[1], NULL));
    /* Overwritten: the old row goes in the same transaction; nothing to unlink, nothing queued. */
    CHECK_EQ_INT(put_inline(m, "inl", "k", "null", id[1], "BB", &replaced), COF_OK);
    CHECK(replaced == NULL);
    CHECK(inline_is(m, id[0], NULL));
    CHECK(!queued(m, id[0]));
    CHECK(inline_is(m, id[1], "BB"));
    /* A file replacing an inline blob, and an inline blob replacing a file (returned to unlink). */
    CHECK_EQ_INT(put(m, "inl", "k", id[2], &replaced), COF_OK);
    CHECK(replaced == NULL);
    CHECK(inline_is(m, id[1], NULL));
    CHECK_EQ_INT(put_inline(m, "inl", "k", "null", id[3], "", &replaced), COF_OK);
    CHECK(replaced != NULL && strcmp(replaced, id[2]) == 0);
    free(replaced);
    replaced = NULL;
    CHECK(inline_is(m, id[3], "")); /* an empty body is still a row */
    /* A noncurrent version keeps its inline blob until that version is deleted. */
    CHECK_EQ_INT(put_inline(m, "inl", "k", "v1", id[4], "EEE", &replaced), COF_OK);
    CHECK(replaced == NULL);
    CHECK(inline_is(m, id[3], ""));
    CHECK_EQ_INT(sto_meta_delete_version(m, "inl", "k", "null", NULL), COF_OK);
    CHECK(inline_is(m, id[3], NULL));
    CHECK(!queued(m, id[3]));
    CHECK(inline_is(m, id[4], "EEE"));
    /* A put that fails stores nothing. */
    CHECK_EQ_INT(put_inline(m, "nope", "k", "null", id[5], "FF", &replaced), COF_ERR_NO_BUCKET);
    CHECK(inline_is(m, id[5], NULL));

    /* fsck's view: every id, and only unreferenced ones are removed. */
    snprintf(sql, sizeof(sql), "INSERT INTO inline_blobs VALUES ('%s', x'00')", id[6]);
    CHECK_EQ_INT(raw_exec(path, sql), SQLITE_OK);
    CHECK_EQ_INT(sto_meta_inline_each(m, on_blob, &seen), COF_OK);
    CHECK_EQ_INT(seen.n, 2);
    CHECK(names_has(&seen, id[4]) && names_has(&seen, id[6]));
    names_free(&seen);
    CHECK_EQ_INT(sto_meta_inline_remove_orphan(m, id[4], &removed), COF_OK);
    CHECK(!removed);
    CHECK_EQ_INT(sto_meta_inline_remove_orphan(m, id[6], &removed), COF_OK);
    CHECK(removed);
    CHECK(inline_is(m, id[6], NULL));
    /* A blob queued in bulk (a dropped upload's parts) may be inline: gc_done drops its row. */
    snprintf(sql, sizeof(sql),
             "INSERT INTO inline_blobs VALUES ('%s', x'01'); INSERT INTO gc_blobs VALUES ('%s')",
             id[6], id[6]);
    CHECK_EQ_INT(raw_exec(path, sql), SQLITE_OK);
    CHECK_EQ_INT(sto_meta_gc_done(m, id[6]), COF_OK);
    CHECK(inline_is(m, id[6], NULL));
    CHECK(!queued(m, id[6]));
    /* The LocalStack reset drops every inline blob. */
    CHECK_EQ_INT(sto_meta_reset(m), COF_OK);
    CHECK(inline_is(m, id[4], NULL));
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM inline_blobs"), 0);
    for (int i = 0; i < 7; i++)
        free(id[i]);
    sto_meta_close(m);
}

static void test_versions(struct sto_meta *m)
{
    char *b[6];
    for (int i = 0; i < 6; i++)
        b[i] = new_id();
    char *rep = NULL;
    struct sto_object got;
    struct vlist l;
    bool marker = false;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "ver", "us-east-1", 1), COF_OK);

    /* An unversioned object, then versioning on: v1 and v2 demote the older rows. */
    CHECK_EQ_INT(putv(m, "k", "null", b[0], &rep), COF_OK);
    CHECK(rep == NULL);
    CHECK_EQ_INT(putv(m, "k", "v1", b[1], &rep), COF_OK);
    CHECK(rep == NULL); /* the null version is kept */
    CHECK_EQ_INT(putv(m, "k", "v2", b[2], &rep), COF_OK);
    CHECK(rep == NULL);
    CHECK_EQ_INT(sto_meta_get_object(m, "ver", "k", &got), COF_OK);
    CHECK_EQ_STR(got.version_id, "v2");
    CHECK_EQ_STR(got.blob_id, b[2]);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", "null", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, b[0]);
    CHECK(!got.is_latest);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", "v9", &got), COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_get_version(m, "nope", "k", "v1", &got), COF_ERR_NO_BUCKET);

    /* A delete marker hides the key from reads and listings but not from versions. */
    CHECK_EQ_INT(putv(m, "k", "m1", NULL, &rep), COF_OK);
    CHECK_EQ_INT(sto_meta_get_object(m, "ver", "k", &got), COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", NULL, &got), COF_OK);
    CHECK(got.delete_marker && got.is_latest);
    sto_object_cleanup(&got);
    struct names s;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_meta_list_objects(m, "ver", NULL, false, NULL, 100, on_object, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    names_free(&s);
    CHECK_EQ_INT(putv(m, "j", "w1", b[3], &rep), COF_OK);
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(sto_meta_list_versions(m, "ver", NULL, NULL, NULL, on_version, &l), COF_OK);
    CHECK_EQ_INT(l.n, 5);
    CHECK_EQ_STR(l.line[0], "j w1 L-");
    CHECK_EQ_STR(l.line[1], "k m1 LM");
    CHECK_EQ_STR(l.line[2], "k v2 N-");
    CHECK_EQ_STR(l.line[3], "k v1 N-");
    CHECK_EQ_STR(l.line[4], "k null N-");
    /* Markers: after a key; after one version of a key; prefix. */
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(sto_meta_list_versions(m, "ver", NULL, "j", NULL, on_version, &l), COF_OK);
    CHECK_EQ_INT(l.n, 4);
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(sto_meta_list_versions(m, "ver", NULL, "k", "v2", on_version, &l), COF_OK);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_STR(l.line[0], "k v1 N-");
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(sto_meta_list_versions(m, "ver", NULL, "k", "m1", on_version, &l), COF_OK);
    CHECK_EQ_INT(l.n, 3);
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(sto_meta_list_versions(m, "ver", "j", NULL, NULL, on_version, &l), COF_OK);
    CHECK_EQ_INT(l.n, 1);

    /* Suspended: a null write replaces the noncurrent null version (its blob is queued) and
     * demotes the marker. */
    CHECK_EQ_INT(putv(m, "k", "null", b[4], &rep), COF_OK);
    CHECK(rep == NULL);
    CHECK(queued(m, b[0]));
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", "m1", &got), COF_OK);
    CHECK(got.delete_marker && !got.is_latest);
    sto_object_cleanup(&got);
    /* Another null write replaces the current null version and returns its blob. */
    CHECK_EQ_INT(putv(m, "k", "null", b[5], &rep), COF_OK);
    CHECK(rep != NULL && strcmp(rep, b[4]) == 0);
    free(rep);
    rep = NULL;

    /* Deleting the current version promotes the newest noncurrent one (the marker). */
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "k", "null", &marker), COF_OK);
    CHECK(!marker);
    CHECK(queued(m, b[5]));
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", NULL, &got), COF_OK);
    CHECK_EQ_STR(got.version_id, "m1");
    CHECK(got.delete_marker);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "k", "m1", &marker), COF_OK);
    CHECK(marker);
    CHECK_EQ_INT(sto_meta_get_object(m, "ver", "k", &got), COF_OK);
    CHECK_EQ_STR(got.version_id, "v2");
    sto_object_cleanup(&got);
    /* A noncurrent version goes alone; a missing one is NO_OBJECT. */
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "k", "v1", &marker), COF_OK);
    CHECK(queued(m, b[1]));
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "k", "v1", &marker), COF_ERR_NO_OBJECT);
    bool ref = true;
    CHECK_EQ_INT(sto_meta_blob_referenced(m, b[2], &ref), COF_OK);
    CHECK(ref);
    /* Noncurrent versions keep a bucket from being deleted. */
    CHECK_EQ_INT(putv(m, "j", "w2", NULL, &rep), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "k", "v2", &marker), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "j", "w2", &marker), COF_OK);
    CHECK_EQ_INT(sto_meta_get_object(m, "ver", "j", &got), COF_OK);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(putv(m, "j", "w3", NULL, &rep), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "ver"), COF_ERR_BUCKET_NOT_EMPTY);
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_meta_each_object(m, on_object, &s), COF_OK);
    CHECK_EQ_INT(s.n, 2); /* j w1 (noncurrent) and the marker w3 */
    names_free(&s);
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "j", "w1", &marker), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_version(m, "ver", "j", "w3", &marker), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "ver"), COF_OK);
    for (int i = 0; i < 6; i++)
        free(b[i]);
}

/* sto_meta_expire_version: lifecycle's removal, only of the row as it was read (and, lone,
 * only of a key's one and only version). */
static void test_expire_version(struct sto_meta *m)
{
    struct sto_object cur, old;
    char *b[3] = {new_id(), new_id(), new_id()};
    char *rep = NULL;
    bool removed = true;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "ver", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(putv(m, "k", "v1", b[0], &rep), COF_OK);
    CHECK_EQ_INT(putv(m, "k", "v2", b[1], &rep), COF_OK);
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", "v1", &old), COF_OK);
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", NULL, &cur), COF_OK);

    /* A stale read (another time) removes nothing. */
    old.mtime_ms++;
    CHECK_EQ_INT(sto_meta_expire_version(m, &old, false, &removed), COF_OK);
    CHECK(!removed);
    old.mtime_ms--;
    /* Lone: the current version is not alone (v1 lies under it); v1 is not current. */
    CHECK_EQ_INT(sto_meta_expire_version(m, &cur, true, &removed), COF_OK);
    CHECK(!removed);
    CHECK_EQ_INT(sto_meta_expire_version(m, &old, true, &removed), COF_OK);
    CHECK(!removed);
    /* As read: the noncurrent version goes, its blob queued. */
    CHECK_EQ_INT(sto_meta_expire_version(m, &old, false, &removed), COF_OK);
    CHECK(removed);
    CHECK(queued(m, b[0]));
    CHECK_EQ_INT(sto_meta_expire_version(m, &old, false, &removed), COF_OK);
    CHECK(!removed); /* gone already */
    /* Superseded since it was read as current: it stays (now noncurrent). */
    CHECK_EQ_INT(putv(m, "k", "v3", b[2], &rep), COF_OK);
    CHECK_EQ_INT(sto_meta_expire_version(m, &cur, false, &removed), COF_OK);
    CHECK(!removed);
    cur.is_latest = false; /* read again: noncurrent now */
    CHECK_EQ_INT(sto_meta_expire_version(m, &cur, false, &removed), COF_OK);
    CHECK(removed);
    CHECK(queued(m, b[1]));
    sto_object_cleanup(&cur);
    /* Now alone and as read: lone removal works; the bucket is empty. */
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", NULL, &cur), COF_OK);
    CHECK_EQ_INT(sto_meta_expire_version(m, &cur, true, &removed), COF_OK);
    CHECK(removed);
    CHECK(queued(m, b[2]));
    struct sto_object got;
    CHECK_EQ_INT(sto_meta_get_version(m, "ver", "k", NULL, &got), COF_ERR_NO_OBJECT);
    /* A missing bucket is an error, not a silent no-op. */
    free(cur.bucket);
    cur.bucket = xstrdup("nope");
    CHECK_EQ_INT(sto_meta_expire_version(m, &cur, false, &removed), COF_ERR_NO_BUCKET);
    CHECK(!removed);
    sto_object_cleanup(&cur);
    sto_object_cleanup(&old);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "ver"), COF_OK);
    for (int i = 0; i < 3; i++)
        free(b[i]);
}

/* sto_meta_object_set_headers: a compare-and-swap on the row the caller read. */
static void test_set_headers(struct sto_meta *m)
{
    struct sto_object o, got, got2;
    char *a = new_id(), *b = new_id();
    bool changed = true;

    CHECK_EQ_INT(sto_meta_create_bucket(m, "hdr", "us-east-1", 1), COF_OK);
    obj_init(&o, "hdr", "k", a, "etag-a");
    CHECK_EQ_INT(sto_meta_put_object(m, &o, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_get_object(m, "hdr", "k", &got), COF_OK);

    /* The row as read: replaced, nothing else changes. */
    CHECK_EQ_INT(sto_meta_object_set_headers(m, "hdr", "k", "null", &got, "A:1\n", &changed),
                 COF_OK);
    CHECK(changed);
    CHECK_EQ_INT(sto_meta_get_object(m, "hdr", "k", &got2), COF_OK);
    CHECK_EQ_STR(got2.headers, "A:1\n");
    CHECK_EQ_INT(got2.mtime_ms, got.mtime_ms);
    CHECK_EQ_STR(got2.etag, "etag-a");
    CHECK_EQ_STR(got2.blob_id, a);

    /* A stale read (the headers changed since) changes nothing. */
    CHECK_EQ_INT(sto_meta_object_set_headers(m, "hdr", "k", "null", &got, "B:2\n", &changed),
                 COF_OK);
    CHECK(!changed);
    sto_object_cleanup(&got);

    /* Overwritten since the read (new blob, same etag and time): the overwrite stays. */
    struct sto_object o2;
    obj_init(&o2, "hdr", "k", b, "etag-a");
    free(o2.headers);
    o2.headers = xstrdup("A:1\n");
    CHECK_EQ_INT(sto_meta_put_object(m, &o2, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_object_set_headers(m, "hdr", "k", "null", &got2, "C:3\n", &changed),
                 COF_OK);
    CHECK(!changed);
    CHECK_EQ_INT(sto_meta_get_object(m, "hdr", "k", &got), COF_OK);
    CHECK_EQ_STR(got.headers, "A:1\n");
    CHECK_EQ_STR(got.blob_id, b);

    /* Another version id, a missing key or bucket: nothing to change. */
    CHECK_EQ_INT(sto_meta_object_set_headers(m, "hdr", "k", "v1", &got, "D\n", &changed), COF_OK);
    CHECK(!changed);
    CHECK_EQ_INT(sto_meta_object_set_headers(m, "hdr", "nope", "null", &got, "D\n", &changed),
                 COF_OK);
    CHECK(!changed);
    CHECK_EQ_INT(sto_meta_object_set_headers(m, "nope", "k", "null", &got, "D\n", &changed),
                 COF_OK);
    CHECK(!changed);

    /* NULL headers compare equal to NULL. */
    struct sto_object mp;
    obj_init(&mp, "hdr", "mp", a, "etag-mp");
    free(mp.headers);
    mp.headers = NULL;
    CHECK_EQ_INT(sto_meta_put_object(m, &mp, NULL), COF_OK);
    struct sto_object mpr;
    CHECK_EQ_INT(sto_meta_get_object(m, "hdr", "mp", &mpr), COF_OK);
    CHECK(mpr.headers == NULL);
    CHECK_EQ_INT(sto_meta_object_set_headers(m, "hdr", "mp", "null", &mpr, "T:1\n", &changed),
                 COF_OK);
    CHECK(changed);
    sto_object_cleanup(&mpr);

    sto_object_cleanup(&o);
    sto_object_cleanup(&o2);
    sto_object_cleanup(&mp);
    sto_object_cleanup(&got);
    sto_object_cleanup(&got2);
    free(a);
    free(b);
}

static void test_prefix_successor(void)
{
    static const struct {
        const char *in, *want; /* want NULL: none */
    } cases[] = {
        {"a", "b"},
        {"a\xff", "b"},
        {"a\xff\xff", "b"},
        {"ab\xfe", "ab\xff"},
        {"\xff", NULL},
        {"\xff\xff", NULL},
        {"", NULL},
        {"\x01", "\x02"},
        {"a\xfe\xff", "a\xff"},
        {"\xc3\xa9", "\xc3\xaa"},
        {"a/", "a0"},
        {"\x7f", "\x80"},
        {"x\xff\xffy\xff", "x\xff\xffz"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[16];
        size_t len = strlen(cases[i].in);
        memset(out, 0x55, sizeof(out));
        size_t n = sto_meta_prefix_successor(cases[i].in, len, out);
        if (cases[i].want == NULL) {
            CHECK_EQ_INT(n, 0);
        } else {
            CHECK_EQ_INT(n, strlen(cases[i].want));
            CHECK(n <= len && memcmp(out, cases[i].want, n) == 0);
            CHECK(memchr(out, 0, n) == NULL);
        }
    }
}

static void test_list(struct sto_meta *m)
{
    static const struct {
        const char *from;
        bool inclusive;
        const char *prefix;
        size_t limit;
        int first, count; /* expected: sorted_keys[first .. first+count) */
    } cases[] = {
        {NULL, false, NULL, 1000, 0, NKEYS},
        {NULL, true, "", 1000, 0, NKEYS},
        {"", true, NULL, 1000, 0, NKEYS},
        {"", false, NULL, 1000, 0, NKEYS},
        {NULL, false, "a", 1000, 1, 11},
        {NULL, false, "a/", 1000, 4, 1},
        {NULL, false, "a_", 1000, 6, 1},    /* LIKE would also match "ab", "a%"... */
        {NULL, false, "a%", 1000, 3, 1},    /* LIKE would match everything from "a" */
        {NULL, false, "A", 1000, 0, 1},     /* case-sensitive */
        {NULL, false, "a\xff", 1000, 9, 3}, /* successor "b" */
        {NULL, false, "a\xff\xff", 1000, 11, 1},
        {NULL, false, "\xff", 1000, 16, 3}, /* no successor: unbounded above */
        {NULL, false, "\xff\xff", 1000, 17, 2},
        {NULL, false, "\xc3", 1000, 14, 1}, /* a prefix that is not valid UTF-8 */
        {NULL, false, "zzz", 1000, 0, 0},
        {NULL, false, "a0x", 1000, 0, 0},
        {"a0", false, "a", 1000, 6, 6},
        {"a0", true, "a", 1000, 5, 7},
        {"0", false, "a", 1000, 1, 11}, /* from below the prefix */
        {"a", false, "a", 1000, 2, 10},
        {"a", true, "a", 1000, 1, 11},
        {"b", false, "a", 1000, 0, 0}, /* from above the prefix */
        {"a\xff", false, NULL, 1000, 10, NKEYS - 10},
        {"a\xff", true, NULL, 1000, 9, NKEYS - 9},
        {"a\xfe", false, NULL, 1000, 9, NKEYS - 9}, /* from between keys */
        {"\xff\xff\x01", false, NULL, 1000, 0, 0},
        {"\xff\xff\x01", true, NULL, 1000, 18, 1},
        {NULL, false, NULL, 2, 0, 2},
        {NULL, false, NULL, 0, 0, 0},
        {"a/b", false, "a", 3, 5, 3},
        {"a\xff", false, "a\xff", 1000, 10, 2},
        {NULL, false, NULL, (size_t)-1, 0, NKEYS},
    };
    char *blob = new_id();
    struct names s = {0};

    CHECK_EQ_INT(sto_meta_create_bucket(m, "lst", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "lst-empty", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "lst0", "us-east-1", 1), COF_OK);
    /* Neighbouring buckets' keys must never leak into a listing. */
    CHECK_EQ_INT(put(m, "lst0", "a", blob, NULL), COF_OK);
    CHECK_EQ_INT(put(m, "lst-empty", "\x01", blob, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_object(m, "lst-empty", "\x01", NULL), COF_OK);
    for (int i = NKEYS - 1; i >= 0; i -= 2) /* scrambled insertion order */
        CHECK_EQ_INT(put(m, "lst", sorted_keys[i], blob, NULL), COF_OK);
    for (int i = NKEYS - 2; i >= 0; i -= 2)
        CHECK_EQ_INT(put(m, "lst", sorted_keys[i], blob, NULL), COF_OK);

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ_INT(sto_meta_list_objects(m, "lst", cases[i].from, cases[i].inclusive,
                                           cases[i].prefix, cases[i].limit, on_object, &s),
                     COF_OK);
        check_names(&s, sorted_keys + cases[i].first, cases[i].count, (int)i);
        names_free(&s);
    }

    /* The callback's codes: NOT_FOUND means "enough" (COF_OK), anything else is returned. */
    s.stop_after = 3;
    s.stop_err = COF_ERR_NOT_FOUND;
    CHECK_EQ_INT(sto_meta_list_objects(m, "lst", NULL, false, NULL, 1000, on_object, &s), COF_OK);
    check_names(&s, sorted_keys, 3, 100);
    names_free(&s);
    s.stop_after = 2;
    s.stop_err = COF_ERR_IO;
    CHECK_EQ_INT(sto_meta_list_objects(m, "lst", NULL, false, "a", 1000, on_object, &s),
                 COF_ERR_IO);
    CHECK_EQ_INT(s.n, 2);
    names_free(&s);

    CHECK_EQ_INT(sto_meta_list_objects(m, "lst-empty", NULL, false, NULL, 1000, on_object, &s),
                 COF_OK);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(sto_meta_list_objects(m, "nope", NULL, false, NULL, 1000, on_object, &s),
                 COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_list_objects(m, "nope", NULL, false, NULL, 0, on_object, &s),
                 COF_ERR_NO_BUCKET);

    /* each_object: every bucket, (bucket, key) order. */
    CHECK_EQ_INT(sto_meta_each_object(m, on_object, &s), COF_OK);
    CHECK_EQ_INT(s.n, NKEYS + 1);
    if (s.n == NKEYS + 1) {
        s.n = NKEYS; /* "lst" < "lst0": this bucket's keys first, then "lst0"'s "a" */
        check_names(&s, sorted_keys, NKEYS, 101);
        s.n = NKEYS + 1;
        CHECK_EQ_STR(s.v[NKEYS], "a");
    }
    names_free(&s);
    free(blob);
}

/* ---- 100k keys: the list statement searches the primary key ---------------------------------
 */

static void explain(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    char q[2048];
    sqlite3_stmt *s = NULL;
    size_t len = 0;
    out[0] = '\0';
    snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK) {
        snprintf(out, cap, "prepare failed: %s", sqlite3_errmsg(db));
        return;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(s, 3);
        int n = snprintf(out + len, cap - len, "%s%s", len ? " | " : "", d ? d : "");
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    sqlite3_finalize(s);
}

static void test_big(const char *dir)
{
    enum { DIRS = 100, FILES = 1000 };
    char path[1024], key[64], plan[1024];
    struct sto_meta *m = open_meta(dir, false);
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    struct names s = {0};
    char *blob = new_id();
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "big", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "big0", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(put(m, "big0", "dir42/file042500", blob, NULL), COF_OK);

    /* Bulk load in one transaction through a side connection (WAL lets it run while the pool
     * is open); the rows have the same shape sto_meta_put_object writes. */
    double t0 = now_ms();
    db_path(dir, path);
    CHECK_EQ_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db,
                                    "INSERT INTO objects (bucket, key, version_id, size, etag,"
                                    " mtime_ms, headers, blob_id, sse_mode)"
                                    " VALUES ('big', ?1, 'null', 1, 'e', 1, '', ?2, 1)",
                                    -1, &ins, NULL),
                 SQLITE_OK);
    int bad = 0;
    for (int d = 0; d < DIRS; d++) {
        for (int f = 0; f < FILES; f++) {
            int n = snprintf(key, sizeof(key), "dir%02d/file%06d", d, d * FILES + f);
            sqlite3_bind_text(ins, 1, key, n, SQLITE_STATIC);
            sqlite3_bind_text(ins, 2, blob, -1, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                bad++;
            sqlite3_reset(ins);
        }
    }
    sqlite3_finalize(ins);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    printf("# bulk insert of %d rows: %.0f ms\n", DIRS * FILES, now_ms() - t0);

    /* The plan of every shape of the list statement: a SEARCH of the primary key, no SCAN and
     * no sort step. This is what keeps a page O(log n + page) however big the bucket. */
    for (int incl = 0; incl <= 1; incl++) {
        for (int bounded = 0; bounded <= 1; bounded++) {
            explain(db, sto_meta_list_sql(incl != 0, bounded != 0), plan, sizeof(plan));
            CHECK(strstr(plan, "SEARCH") != NULL);
            CHECK(strstr(plan, "PRIMARY KEY") != NULL);
            CHECK(strstr(plan, "SCAN") == NULL);
            CHECK(strstr(plan, "TEMP B-TREE") == NULL);
            CHECK(strstr(plan, bounded ? "key<?" : "key>") != NULL);
            printf("# plan (inclusive=%d, bounded=%d): %s\n", incl, bounded, plan);
        }
    }
    sqlite3_close(db);

    /* Pages out of the middle of the bucket, with and without a prefix. */
    t0 = now_ms();
    CHECK_EQ_INT(sto_meta_list_objects(m, "big", NULL, false, "dir42/", 1000, on_object, &s),
                 COF_OK);
    double t1 = now_ms();
    CHECK_EQ_INT(s.n, 1000);
    if (s.n == 1000) {
        CHECK_EQ_STR(s.v[0], "dir42/file042000");
        CHECK_EQ_STR(s.v[999], "dir42/file042999");
    }
    names_free(&s);
    printf("# list 1000 of %d keys by prefix: %.2f ms\n", DIRS * FILES, t1 - t0);

    CHECK_EQ_INT(
        sto_meta_list_objects(m, "big", "dir42/file042500", false, "dir42/", 10, on_object, &s),
        COF_OK);
    CHECK_EQ_INT(s.n, 10);
    if (s.n == 10) {
        CHECK_EQ_STR(s.v[0], "dir42/file042501");
        CHECK_EQ_STR(s.v[9], "dir42/file042510");
    }
    names_free(&s);
    CHECK_EQ_INT(
        sto_meta_list_objects(m, "big", "dir42/file042999", false, "dir42/", 10, on_object, &s),
        COF_OK);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(sto_meta_list_objects(m, "big", "dir99/file099998", true, NULL, 10, on_object, &s),
                 COF_OK);
    CHECK_EQ_INT(s.n, 2);
    names_free(&s);
    CHECK_EQ_INT(sto_meta_list_objects(m, "big", NULL, false, "dir4", 1000, on_object, &s), COF_OK);
    CHECK_EQ_INT(s.n, 1000);
    if (s.n == 1000)
        CHECK_EQ_STR(s.v[0], "dir40/file040000");
    names_free(&s);

    /* A prefix with no keys, just below 100k keys: answered from the index, not a scan. */
    t0 = now_ms();
    for (int i = 0; i < 1000; i++)
        CHECK_EQ_INT(sto_meta_list_objects(m, "big", NULL, false, "dir", 0, on_object, &s), COF_OK);
    CHECK_EQ_INT(sto_meta_list_objects(m, "big", NULL, false, "dir0", 1, on_object, &s), COF_OK);
    CHECK_EQ_INT(sto_meta_list_objects(m, "big", NULL, false, "a", 1000, on_object, &s), COF_OK);
    CHECK_EQ_INT(s.n, 1);
    names_free(&s);
    printf("# 1000 empty listings of a 100k-key bucket: %.2f ms\n", now_ms() - t0);

    /* Point reads and a replace on the big table. */
    struct sto_object got;
    CHECK_EQ_INT(sto_meta_get_object(m, "big", "dir77/file077777", &got), COF_OK);
    CHECK_EQ_STR(got.key, "dir77/file077777");
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "big"), COF_ERR_BUCKET_NOT_EMPTY);
    sto_meta_close(m);
    free(blob);
}

/* ---- reset ----------------------------------------------------------------------------------
 */

static void test_reset(const char *dir)
{
    struct sto_meta *m = open_meta(dir, true);
    struct names s = {0};
    char *ids[5];
    char key[16];
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "r1", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "r2", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "r1", "policy", "{}"), COF_OK);
    for (int i = 0; i < 5; i++) {
        ids[i] = new_id();
        snprintf(key, sizeof(key), "k%d", i);
        CHECK_EQ_INT(put(m, i < 3 ? "r1" : "r2", key, ids[i], NULL), COF_OK);
    }
    char *old = new_id();
    CHECK_EQ_INT(put(m, "r1", "replaced", old, NULL), COF_OK);
    CHECK_EQ_INT(put(m, "r1", "replaced", ids[0], NULL), COF_OK); /* ids[0] now used twice */

    CHECK_EQ_INT(sto_meta_reset(m), COF_OK);
    CHECK_EQ_INT(sto_meta_list_buckets(m, on_bucket, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(sto_meta_each_object(m, on_object, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    CHECK_EQ_INT(s.n, 6);
    for (int i = 0; i < 5; i++)
        CHECK(names_has(&s, ids[i]));
    CHECK(names_has(&s, old));
    names_free(&s);
    /* Names are free again, configs are gone. */
    char *v = NULL;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "r1", "us-east-1", 2), COF_OK);
    CHECK_EQ_INT(sto_meta_get_bucket_config(m, "r1", "policy", &v), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_reset(m), COF_OK); /* again, nothing to queue */
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    CHECK_EQ_INT(s.n, 6);
    names_free(&s);
    sto_meta_close(m);
    for (int i = 0; i < 5; i++)
        free(ids[i]);
    free(old);
}

/* ---- concurrency ----------------------------------------------------------------------------
 */

enum { THREADS = 8, OPS = 250 };

struct worker {
    struct sto_meta *m;
    pthread_barrier_t *start;
    int no;
    int failures;
    int gc_returned;
};

static cof_err count_row(const struct sto_object *o, void *arg)
{
    (void)o;
    (*(int *)arg)++;
    return COF_OK;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char key[32];
    pthread_barrier_wait(w->start);
    for (int i = 0; i < OPS; i++) {
        char *blob = new_id();
        char *rep = NULL;
        struct sto_object got;
        /* Every fifth op replaces an earlier key of this thread. */
        snprintf(key, sizeof(key), "t%d/k%04d", w->no, i % 5 == 4 ? i - 2 : i);
        if (blob == NULL || put(w->m, "conc", key, blob, &rep) != COF_OK)
            w->failures++;
        if (rep != NULL) {
            w->gc_returned++;
            if (sto_meta_gc_done(w->m, rep) != COF_OK)
                w->failures++;
            free(rep);
        }
        if (sto_meta_get_object(w->m, "conc", key, &got) != COF_OK || blob == NULL ||
            got.blob_id == NULL || strcmp(got.blob_id, blob) != 0)
            w->failures++;
        sto_object_cleanup(&got);
        if (i % 25 == 0) {
            int n = 0;
            snprintf(key, sizeof(key), "t%d/", w->no);
            if (sto_meta_list_objects(w->m, "conc", NULL, false, key, 1000, count_row, &n) !=
                    COF_OK ||
                n < 1)
                w->failures++;
        }
        free(blob);
    }
    return NULL;
}

static void test_concurrency(const char *dir)
{
    struct sto_meta *m = open_meta(dir, false);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    pthread_barrier_t start;
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "conc", "us-east-1", 1), COF_OK);
    pthread_barrier_init(&start, NULL, THREADS);
    double t0 = now_ms();
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.m = m, .start = &start, .no = i};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    int failures = 0, replaced = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
        replaced += w[i].gc_returned;
    }
    double t1 = now_ms();
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(failures, 0);
    CHECK_EQ_INT(replaced, THREADS * (OPS / 5));
    int n = 0;
    CHECK_EQ_INT(sto_meta_list_objects(m, "conc", NULL, false, NULL, 100000, count_row, &n),
                 COF_OK);
    CHECK_EQ_INT(n, THREADS * (OPS - OPS / 5));
    struct names s = {0};
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    names_free(&s);
    printf("# %d threads x %d (put+get): %.0f ops/s\n", THREADS, OPS,
           2.0 * THREADS * OPS / ((t1 - t0) / 1e3));
    sto_meta_close(m);
}

/* Single-threaded put/get rate for each durability (printed, never asserted). */
static void bench_small(const char *dir)
{
    enum { N = 1000 };
    char key[32];
    for (int full = 0; full <= 1; full++) {
        char sub[1024];
        snprintf(sub, sizeof(sub), "%s/d%d", dir, full);
        CHECK_EQ_INT(make_dir(sub, ""), 0);
        struct sto_meta *m = open_meta(sub, full != 0);
        char *blob = new_id();
        if (m == NULL)
            return;
        CHECK_EQ_INT(sto_meta_create_bucket(m, "bench", "us-east-1", 1), COF_OK);
        int bad = 0;
        double t0 = now_ms();
        for (int i = 0; i < N; i++) {
            snprintf(key, sizeof(key), "k%06d", i);
            bad += put(m, "bench", key, blob, NULL) != COF_OK;
        }
        double t1 = now_ms();
        for (int i = 0; i < N; i++) {
            struct sto_object o;
            snprintf(key, sizeof(key), "k%06d", i);
            bad += sto_meta_get_object(m, "bench", key, &o) != COF_OK;
            sto_object_cleanup(&o);
        }
        double t2 = now_ms();
        CHECK_EQ_INT(bad, 0);
        printf("# durability %s: put %.0f/s, get %.0f/s\n", full ? "full" : "relaxed",
               N / ((t1 - t0) / 1e3), N / ((t2 - t1) / 1e3));
        sto_meta_close(m);
        free(blob);
    }
}

/* ---- crash points of the write protocol -----------------------------------------------------
 */

static cof_err write_blob(struct sto_blobs *bs, const char *id)
{
    struct sto_blob_writer *w = NULL;
    cof_err err = sto_blob_create(bs, id, &w);
    if (err == COF_OK)
        err = sto_blob_write(w, id, STO_BLOB_ID_HEX);
    if (err == COF_OK)
        err = sto_blob_commit(&w);
    sto_blob_abort(&w);
    return err;
}

/* Whether blob id exists and holds its own id (what write_blob stores). */
static bool blob_ok(struct sto_blobs *bs, const char *id)
{
    struct sto_blob_reader *r = NULL;
    char buf[64];
    size_t n = 0;
    bool ok = sto_blob_open(bs, id, &r) == COF_OK &&
              sto_blob_pread(r, buf, sizeof(buf), 0, &n) == COF_OK && n == STO_BLOB_ID_HEX &&
              memcmp(buf, id, n) == 0;
    sto_blob_close(r);
    return ok;
}

struct sweep {
    struct sto_blobs *bs;
    struct sto_meta *m;
    int removed;
    int failures;
};

static cof_err gc_one(const char *id, void *arg)
{
    struct sweep *sw = arg;
    if (sto_blob_remove(sw->bs, id) != COF_OK || sto_meta_gc_done(sw->m, id) != COF_OK)
        sw->failures++;
    sw->removed++;
    return COF_OK;
}

static cof_err orphan_one(const char *id, void *arg)
{
    struct sweep *sw = arg;
    bool ref = true;
    if (sto_meta_blob_referenced(sw->m, id, &ref) != COF_OK)
        sw->failures++;
    else if (!ref && sto_blob_remove(sw->bs, id) == COF_OK)
        sw->removed++;
    return COF_OK;
}

/* Start-up recovery as the server/fsck would do it: finish queued unlinks, then remove blobs no
 * row references. Returns the number of blobs removed. */
static int recover(struct sto_blobs *bs, struct sto_meta *m)
{
    struct sweep sw = {.bs = bs, .m = m};
    CHECK_EQ_INT(sto_meta_gc_each(m, gc_one, &sw), COF_OK);
    CHECK_EQ_INT(sto_blob_each(bs, orphan_one, &sw), COF_OK);
    CHECK_EQ_INT(sw.failures, 0);
    return sw.removed;
}

static bool open_both(const char *dir, bool full, struct sto_blobs **bs, struct sto_meta **m)
{
    char path[1024];
    db_path(dir, path);
    *bs = NULL;
    *m = NULL;
    if (sto_blobs_open(dir, full, bs) != COF_OK)
        return false;
    if (sto_meta_open(path, full, m) != COF_OK) {
        sto_blobs_close(*bs);
        *bs = NULL;
        return false;
    }
    return true;
}

static void close_both(struct sto_blobs *bs, struct sto_meta *m)
{
    sto_meta_close(m);
    sto_blobs_close(bs);
}

/* Runs fn in a child that "crashes" (SIGKILLs itself) when fn returns; fn _exits 1 on failure.
 * Returns 0 when the child got through fn and died by SIGKILL. */
static int run_child(void (*fn)(const char *), const char *dir)
{
    int status = -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        fn(dir);
        raise(SIGKILL); /* no atexit, no close, no checkpoint */
        _exit(2);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        return 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Child: takes the write lock and changes the row, then dies before COMMIT. */
static void child_uncommitted(const char *dir)
{
    char path[1024];
    sqlite3 *db = NULL;
    db_path(dir, path);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(db,
                     "BEGIN IMMEDIATE;"
                     "UPDATE objects SET blob_id = 'ffffffffffffffffffffffffffffffff'"
                     " WHERE bucket = 'c' AND key = 'k';"
                     "INSERT INTO gc_blobs VALUES ('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee');",
                     NULL, NULL, NULL) != SQLITE_OK)
        _exit(1);
}

static char child_blob[STO_BLOB_ID_HEX + 1];

/* Child: the whole protocol up to and including COMMIT, then dies without closing anything. */
static void child_committed(const char *dir)
{
    struct sto_blobs *bs = NULL;
    struct sto_meta *m = NULL;
    char *rep = NULL;
    if (!open_both(dir, true, &bs, &m) || write_blob(bs, child_blob) != COF_OK ||
        put(m, "c", "k", child_blob, &rep) != COF_OK)
        _exit(1);
}

/* Child: the full protocol in a loop until killed; writes one byte to ready_fd after the first
 * object is published. */
static void child_loop(const char *dir, int ready_fd)
{
    struct sto_blobs *bs = NULL;
    struct sto_meta *m = NULL;
    if (!open_both(dir, false, &bs, &m))
        _exit(1);
    for (bool first = true;; first = false) {
        char id[STO_BLOB_ID_HEX + 1];
        char *rep = NULL;
        if (sto_blob_new_id(id, NULL) != COF_OK || write_blob(bs, id) != COF_OK ||
            put(m, "c", "loop", id, &rep) != COF_OK)
            _exit(1);
        if (first && write(ready_fd, "r", 1) != 1)
            _exit(1);
        if (rep != NULL &&
            (sto_blob_remove(bs, rep) != COF_OK || sto_meta_gc_done(m, rep) != COF_OK))
            _exit(1);
        free(rep);
    }
}

static void test_crash(const char *dir)
{
    struct sto_blobs *bs = NULL;
    struct sto_meta *m = NULL;
    struct sto_object got;
    struct names s = {0};
    char a[STO_BLOB_ID_HEX + 1], b[STO_BLOB_ID_HEX + 1], c[STO_BLOB_ID_HEX + 1];
    char *rep = NULL;
    bool ref = true;

    CHECK(open_both(dir, true, &bs, &m));
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "c", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_blob_new_id(a, NULL), COF_OK);
    CHECK_EQ_INT(write_blob(bs, a), COF_OK);
    CHECK_EQ_INT(put(m, "c", "k", a, &rep), COF_OK);

    /* 1. Blob committed, metadata never published: the old object stands; the new blob is
     *    unreferenced and the sweep removes it. */
    CHECK_EQ_INT(sto_blob_new_id(b, NULL), COF_OK);
    CHECK_EQ_INT(write_blob(bs, b), COF_OK);
    close_both(bs, m); /* crash */
    CHECK(open_both(dir, true, &bs, &m));
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_get_object(m, "c", "k", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, a);
    sto_object_cleanup(&got);
    CHECK(blob_ok(bs, a));
    CHECK(blob_ok(bs, b));
    CHECK_EQ_INT(sto_meta_blob_referenced(m, b, &ref), COF_OK);
    CHECK(!ref);
    CHECK_EQ_INT(sto_meta_blob_referenced(m, a, &ref), COF_OK);
    CHECK(ref);
    CHECK_EQ_INT(recover(bs, m), 1);
    CHECK(!blob_ok(bs, b));
    CHECK(blob_ok(bs, a));

    /* 2. Metadata published, replaced blob not yet unlinked: the new object stands and the old
     *    blob waits in the queue across the restart. */
    CHECK_EQ_INT(sto_blob_new_id(c, NULL), COF_OK);
    CHECK_EQ_INT(write_blob(bs, c), COF_OK);
    CHECK_EQ_INT(put(m, "c", "k", c, &rep), COF_OK);
    CHECK_EQ_STR(rep, a);
    free(rep);
    rep = NULL;
    close_both(bs, m); /* crash before the unlink */
    CHECK(open_both(dir, true, &bs, &m));
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_get_object(m, "c", "k", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, c);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    CHECK_EQ_INT(s.n, 1);
    CHECK(names_has(&s, a));
    names_free(&s);
    CHECK(blob_ok(bs, a));
    CHECK_EQ_INT(recover(bs, m), 1);
    CHECK(!blob_ok(bs, a));
    CHECK(blob_ok(bs, c));
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    close_both(bs, m);

    /* 3. A process dies inside the metadata transaction: after reopening, the old row. */
    CHECK_EQ_INT(run_child(child_uncommitted, dir), 0);
    CHECK(open_both(dir, true, &bs, &m));
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_get_object(m, "c", "k", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, c);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    close_both(bs, m);

    /* 4. A process dies right after COMMIT, without closing: after reopening, the new row,
     *    and the replaced blob queued. */
    CHECK_EQ_INT(sto_blob_new_id(child_blob, NULL), COF_OK);
    CHECK_EQ_INT(run_child(child_committed, dir), 0);
    CHECK(open_both(dir, true, &bs, &m));
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_get_object(m, "c", "k", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, child_blob);
    sto_object_cleanup(&got);
    CHECK(blob_ok(bs, child_blob));
    CHECK_EQ_INT(sto_meta_gc_each(m, on_blob, &s), COF_OK);
    CHECK_EQ_INT(s.n, 1);
    CHECK(names_has(&s, c));
    names_free(&s);
    CHECK_EQ_INT(recover(bs, m), 1);
    close_both(bs, m);

    /* 5. SIGKILL at arbitrary points of a put loop: every restart finds one whole object whose
     *    blob is on disk, and recovery leaves exactly that blob. */
    static const int delays_us[] = {0, 100, 700, 1300, 3100, 5700, 11000, 23000};
    for (size_t i = 0; i < sizeof(delays_us) / sizeof(delays_us[0]); i++) {
        int ready[2];
        char byte = 0;
        CHECK_EQ_INT(pipe(ready), 0);
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(ready[0]);
            child_loop(dir, ready[1]);
        }
        CHECK(pid > 0);
        close(ready[1]);
        CHECK_EQ_INT(read(ready[0], &byte, 1), 1); /* the first object is published */
        close(ready[0]);
        struct timespec ts = {0, delays_us[i] * 1000L};
        nanosleep(&ts, NULL);
        int status = 0;
        kill(pid, SIGKILL);
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        CHECK(open_both(dir, true, &bs, &m));
        if (m == NULL)
            return;
        cof_err e = sto_meta_get_object(m, "c", "loop", &got);
        CHECK_EQ_INT(e, COF_OK);
        if (e == COF_OK) {
            char etag[64];
            snprintf(etag, sizeof(etag), "e-%s", got.blob_id);
            CHECK_EQ_STR(got.etag, etag);
            CHECK(blob_ok(bs, got.blob_id));
            recover(bs, m);
            CHECK(blob_ok(bs, got.blob_id));
            memset(&s, 0, sizeof(s));
            CHECK_EQ_INT(sto_blob_each(bs, on_blob, &s), COF_OK);
            CHECK_EQ_INT(s.n, 2); /* "k"'s blob and "loop"'s blob */
            CHECK(names_has(&s, got.blob_id));
            CHECK(names_has(&s, child_blob));
            names_free(&s);
        }
        sto_object_cleanup(&got);
        CHECK_EQ_INT(dir_count(dir, "tmp"), 0);
        close_both(bs, m);
    }
}

/* ---- KMS keyring ----------------------------------------------------------------------------
 */

static cof_err count_key(const struct sto_kms_key *k, void *arg)
{
    (void)k;
    (*(int *)arg)++;
    return COF_OK;
}

static void test_kms(struct sto_meta *m)
{
    uint8_t material[93] = {1, 2, 3};
    struct sto_kms_key k = {.id = "1111-aaaa",
                            .state = "Enabled",
                            .description = "d",
                            .created_ms = 5,
                            .kek_id = "rk1",
                            .material = material,
                            .material_len = sizeof(material)};
    struct sto_kms_key got;
    CHECK_EQ_INT(sto_meta_kms_get(m, "1111-aaaa", &got), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_create(m, &k, "alias/one", false, &got), COF_OK);
    CHECK_EQ_STR(got.id, "1111-aaaa");
    CHECK_EQ_STR(got.aliases, "alias/one");
    CHECK_EQ_INT(got.material_len, sizeof(material));
    CHECK(got.material != NULL && memcmp(got.material, material, sizeof(material)) == 0);
    sto_kms_key_cleanup(&got);

    /* The same id or alias again is refused, unless existing_ok returns the first key. */
    CHECK_EQ_INT(sto_meta_kms_create(m, &k, NULL, false, &got), COF_ERR_EXISTS);
    struct sto_kms_key other = k;
    other.id = "2222-bbbb";
    CHECK_EQ_INT(sto_meta_kms_create(m, &other, "alias/one", false, &got), COF_ERR_EXISTS);
    CHECK_EQ_INT(sto_meta_kms_get(m, "2222-bbbb", &got), COF_ERR_NOT_FOUND); /* rolled back */
    CHECK_EQ_INT(sto_meta_kms_create(m, &other, "alias/one", true, &got), COF_OK);
    CHECK_EQ_STR(got.id, "1111-aaaa");
    sto_kms_key_cleanup(&got);

    CHECK_EQ_INT(sto_meta_kms_get(m, "alias/one", &got), COF_OK);
    CHECK_EQ_STR(got.id, "1111-aaaa");
    sto_kms_key_cleanup(&got);
    CHECK_EQ_INT(sto_meta_kms_get(m, "alias/none", &got), COF_ERR_NOT_FOUND);

    CHECK_EQ_INT(sto_meta_kms_set_state(m, "1111-aaaa", "Disabled", 0), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_set_state(m, "nope", "Disabled", 0), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_get(m, "1111-aaaa", &got), COF_OK);
    CHECK_EQ_STR(got.state, "Disabled");
    sto_kms_key_cleanup(&got);

    CHECK_EQ_INT(sto_meta_kms_set_alias(m, "alias/two", "1111-aaaa", 5), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_set_alias(m, "alias/two", "1111-aaaa", 5), COF_ERR_EXISTS);
    CHECK_EQ_INT(sto_meta_kms_set_alias(m, "alias/three", "missing", 5), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_get(m, "1111-aaaa", &got), COF_OK);
    CHECK(got.aliases != NULL && strstr(got.aliases, "alias/two") != NULL);
    sto_kms_key_cleanup(&got);

    int n = 0;
    CHECK_EQ_INT(sto_meta_kms_each(m, count_key, &n), COF_OK);
    CHECK_EQ_INT(n, 1);
}

/* ---- conditional writes and completed uploads ---------------------------------------------- */

struct cond_worker {
    struct sto_meta *m;
    pthread_barrier_t *start;
    char blob[33];
    cof_err err;
};

static void *cond_put(void *arg)
{
    struct cond_worker *w = arg;
    struct sto_object o;
    struct sto_precond pc = {NULL, true};
    obj_init(&o, "cond", "lock", w->blob, w->blob);
    pthread_barrier_wait(w->start);
    w->err = sto_meta_put_object_if(w->m, &o, &pc, NULL);
    sto_object_cleanup(&o);
    return NULL;
}

static void test_conditional(struct sto_meta *m)
{
    static const struct sto_precond none_match = {NULL, true};
    static const struct sto_precond match_e1 = {"e1", false};
    static const struct sto_precond match_any = {"*", false};
    static const struct sto_precond match_e2 = {"e2", false};
    struct sto_object o, dm, got;
    char *b1 = new_id(), *b2 = new_id();
    CHECK_EQ_INT(sto_meta_create_bucket(m, "cond", "us-east-1", 1), COF_OK);
    /* No object: If-None-Match holds, If-Match is NO_OBJECT; no bucket is NO_BUCKET. */
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", &none_match), COF_OK);
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", &match_any), COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_precond_check(m, "nope", "k", &none_match), COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", NULL), COF_OK);
    obj_init(&o, "cond", "k", b1, "e1");
    CHECK_EQ_INT(sto_meta_put_object_if(m, &o, &match_e1, NULL), COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_get_object(m, "cond", "k", &got), COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_put_object_if(m, &o, &none_match, NULL), COF_OK);
    sto_object_cleanup(&o);
    /* A live object: If-None-Match fails, If-Match compares the etag (or takes any: *). */
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", &none_match), COF_ERR_PRECONDITION);
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", &match_e2), COF_ERR_PRECONDITION);
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", &match_any), COF_OK);
    obj_init(&o, "cond", "k", b2, "e2");
    CHECK_EQ_INT(sto_meta_put_object_if(m, &o, &none_match, NULL), COF_ERR_PRECONDITION);
    CHECK_EQ_INT(sto_meta_put_object_if(m, &o, &match_e2, NULL), COF_ERR_PRECONDITION);
    CHECK_EQ_INT(sto_meta_get_object(m, "cond", "k", &got), COF_OK);
    CHECK_EQ_STR(got.etag, "e1"); /* nothing written by the failed puts */
    sto_object_cleanup(&got);
    char *rep = NULL;
    CHECK_EQ_INT(sto_meta_put_object_if(m, &o, &match_e1, &rep), COF_OK);
    CHECK_EQ_STR(rep, b1);
    free(rep);
    sto_object_cleanup(&o);
    /* A delete marker is no live version. */
    memset(&dm, 0, sizeof(dm));
    dm.bucket = "cond";
    dm.key = "k";
    dm.version_id = "dm1";
    dm.delete_marker = true;
    CHECK_EQ_INT(sto_meta_put_object(m, &dm, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", &none_match), COF_OK);
    CHECK_EQ_INT(sto_meta_precond_check(m, "cond", "k", &match_any), COF_ERR_NO_OBJECT);

    /* Concurrent If-None-Match puts of one key (group-committed together): one wins. */
    enum { N = 16 };
    struct cond_worker w[N];
    pthread_t t[N];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        char *id = new_id();
        w[i] = (struct cond_worker){m, &start, "", COF_ERR_INTERNAL};
        snprintf(w[i].blob, sizeof(w[i].blob), "%s", id != NULL ? id : "");
        free(id);
        CHECK_EQ_INT(pthread_create(&t[i], NULL, cond_put, &w[i]), 0);
    }
    int ok = 0, failed = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].err == COF_OK;
        failed += w[i].err == COF_ERR_PRECONDITION;
    }
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(ok, 1);
    CHECK_EQ_INT(failed, N - 1);

    /* A completed upload: its record, kept STO_COMPLETED_KEEP_MS, for its bucket and key only. */
    struct sto_upload u = {.upload_id = "up1", .bucket = "cond", .key = "mp", .sse_mode = 1};
    static uint8_t wrapped[8] = {1};
    struct sto_part p = {.part_number = 1,
                         .size = 3,
                         .etag = "pe1",
                         .mtime_ms = 5,
                         .blob_id = new_id(),
                         .kek_id = "rk",
                         .wrapped_dek = wrapped,
                         .wrapped_len = sizeof(wrapped)};
    struct sto_completed rec;
    CHECK_EQ_INT(sto_meta_upload_create(m, &u), COF_OK);
    CHECK_EQ_INT(sto_meta_part_put(m, "up1", &p, &rep), COF_OK);
    CHECK(rep == NULL);
    struct sto_object mo = {.bucket = "cond",
                            .key = "mp",
                            .version_id = "vmp",
                            .size = 3,
                            .etag = "abc-1",
                            .mtime_ms = 1700000000000LL,
                            .sse_mode = 1,
                            .kek_id = "rk",
                            .part_count = 1};
    static const struct sto_precond match_zz = {"zz", false};
    CHECK_EQ_INT(sto_meta_upload_complete(m, &mo, "up1", &p, 1, &match_zz, "1:pe1\n"),
                 COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_upload_completed(m, "cond", "mp", "up1", mo.mtime_ms, &rec),
                 COF_ERR_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(sto_meta_upload_complete(m, &mo, "up1", &p, 1, &none_match, "1:pe1\n"), COF_OK);
    CHECK_EQ_INT(sto_meta_upload_complete(m, &mo, "up1", &p, 1, NULL, "1:pe1\n"),
                 COF_ERR_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(sto_meta_upload_completed(m, "cond", "mp", "up1", mo.mtime_ms + 1, &rec), COF_OK);
    CHECK_EQ_STR(rec.version_id, "vmp");
    CHECK_EQ_STR(rec.etag, "abc-1");
    CHECK_EQ_STR(rec.parts, "1:pe1\n");
    CHECK(rec.completed_ms == mo.mtime_ms);
    sto_completed_cleanup(&rec);
    sto_completed_cleanup(NULL);
    CHECK_EQ_INT(sto_meta_upload_completed(m, "cond", "other", "up1", mo.mtime_ms, &rec),
                 COF_ERR_NO_SUCH_UPLOAD);
    CHECK_EQ_INT(sto_meta_upload_completed(m, "cond", "mp", "up1",
                                           mo.mtime_ms + STO_COMPLETED_KEEP_MS + 1, &rec),
                 COF_ERR_NO_SUCH_UPLOAD);
    free(p.blob_id);
    free(b1);
    free(b2);
}

static cof_err collect_alias(const struct sto_kms_alias *a, void *arg)
{
    char *out = arg;
    snprintf(out + strlen(out), 256 - strlen(out), "%s>%s@%lld/%lld;", a->alias, a->key_id,
             (long long)a->created_ms, (long long)a->updated_ms);
    return COF_OK;
}

static cof_err collect_tag(const char *k, const char *v, void *arg)
{
    char *out = arg;
    snprintf(out + strlen(out), 256 - strlen(out), "%s=%s;", k, v);
    return COF_OK;
}

static cof_err collect_rotation(int64_t version, int64_t ms, bool on_demand, void *arg)
{
    char *out = arg;
    snprintf(out + strlen(out), 256 - strlen(out), "%lld@%lld%s;", (long long)version,
             (long long)ms, on_demand ? "d" : "a");
    return COF_OK;
}

/* What the KMS API adds: policy, description, rotation settings, material versions with a
 * compare-and-swap, aliases with dates, tags, and deleting a key with all of it. */
static void test_kms_api_rows(struct sto_meta *m)
{
    uint8_t material[93] = {1}, two[186] = {1};
    struct sto_kms_key k = {.id = "k1",
                            .state = "Enabled",
                            .created_ms = 100,
                            .kek_id = "rk1",
                            .material = material,
                            .material_len = sizeof(material),
                            .policy = "{\"p\":1}"};
    struct sto_kms_key got;
    char buf[256] = "";
    CHECK_EQ_INT(sto_meta_kms_create(m, &k, "alias/a", false, &got), COF_OK);
    CHECK_EQ_STR(got.policy, "{\"p\":1}");
    CHECK_EQ_INT(got.rotation_days, 0);
    CHECK_EQ_INT(got.rotated_ms, 100);
    sto_kms_key_cleanup(&got);
    CHECK_EQ_INT(sto_meta_kms_set_policy(m, "k1", NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_set_policy(m, "nope", "{}"), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_set_description(m, "k1", "new"), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_set_rotation(m, "k1", 90, 200), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_set_rotation(m, "nope", 90, 200), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_get(m, "k1", &got), COF_OK);
    CHECK(got.policy == NULL);
    CHECK_EQ_STR(got.description, "new");
    CHECK_EQ_INT(got.rotation_days, 90);
    CHECK_EQ_INT(got.rotated_ms, 200);
    sto_kms_key_cleanup(&got);

    /* a new version only over the material as read: wrong length or root key is refused */
    CHECK_EQ_INT(sto_meta_kms_add_material(m, "k1", "rk1", 186, two, 279, 2, 300, true),
                 COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_add_material(m, "k1", "rk2", 93, two, 186, 1, 300, true),
                 COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_add_material(m, "k1", "rk1", 93, two, 186, 1, 300, true), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_add_material(m, "k1", "rk1", 93, two, 186, 1, 301, false),
                 COF_ERR_NOT_FOUND); /* a second rotation from the same read */
    CHECK_EQ_INT(sto_meta_kms_get(m, "k1", &got), COF_OK);
    CHECK_EQ_INT(got.material_len, 186);
    CHECK_EQ_INT(got.rotated_ms, 300);
    sto_kms_key_cleanup(&got);
    CHECK_EQ_INT(sto_meta_kms_rotations_each(m, "k1", collect_rotation, buf), COF_OK);
    CHECK_EQ_STR(buf, "1@300d;");

    /* aliases: dates, retarget, delete */
    struct sto_kms_key k2 = k;
    k2.id = "k2";
    CHECK_EQ_INT(sto_meta_kms_create(m, &k2, NULL, false, &got), COF_OK);
    sto_kms_key_cleanup(&got);
    CHECK_EQ_INT(sto_meta_kms_set_alias(m, "alias/b", "k1", 150), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_alias_update(m, "alias/b", "k2", 160), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_alias_update(m, "alias/b", "missing", 170), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_alias_update(m, "alias/none", "k2", 170), COF_ERR_NOT_FOUND);
    buf[0] = '\0';
    CHECK_EQ_INT(sto_meta_kms_alias_each(m, NULL, collect_alias, buf), COF_OK);
    CHECK_EQ_STR(buf, "alias/a>k1@100/100;alias/b>k2@150/160;");
    buf[0] = '\0';
    CHECK_EQ_INT(sto_meta_kms_alias_each(m, "k1", collect_alias, buf), COF_OK);
    CHECK_EQ_STR(buf, "alias/a>k1@100/100;");
    CHECK_EQ_INT(sto_meta_kms_alias_delete(m, "alias/b"), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_alias_delete(m, "alias/b"), COF_ERR_NOT_FOUND);

    /* tags: set replaces, delete ignores absent keys, an unknown key id is refused whole */
    const char *keys[] = {"b", "a"}, *vals[] = {"2", "1"}, *vals2[] = {"3"};
    CHECK_EQ_INT(sto_meta_kms_tags_set(m, "k1", 2, keys, vals), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_tags_set(m, "k1", 1, keys, vals2), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_tags_set(m, "nope", 1, keys, vals), COF_ERR_NOT_FOUND);
    const char *gone[] = {"a", "zz"};
    CHECK_EQ_INT(sto_meta_kms_tags_delete(m, "k1", 2, gone), COF_OK);
    buf[0] = '\0';
    CHECK_EQ_INT(sto_meta_kms_tags_each(m, "k1", collect_tag, buf), COF_OK);
    CHECK_EQ_STR(buf, "b=3;");

    /* deletion takes the key with its aliases, tags and rotations */
    CHECK_EQ_INT(sto_meta_kms_delete(m, "k1"), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_delete(m, "k1"), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_get(m, "k1", &got), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_meta_kms_get(m, "alias/a", &got), COF_ERR_NOT_FOUND);
    buf[0] = '\0';
    CHECK_EQ_INT(sto_meta_kms_tags_each(m, "k1", collect_tag, buf), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_rotations_each(m, "k1", collect_rotation, buf), COF_OK);
    CHECK_EQ_INT(sto_meta_kms_alias_each(m, "k1", collect_alias, buf), COF_OK);
    CHECK_EQ_STR(buf, "");
}

/* Object Lock: the rules (a table), and storage refusing to remove or replace a locked
 * version, whichever call asks. */
#define LOCK_NOW 1800000000000LL
static void test_lock_rules(void)
{
    static const struct {
        struct sto_lock old;
        int mode;
        int64_t until;
        bool bypass, ok;
    } change[] = {
        {{STO_LOCK_NONE, 0, 0}, STO_LOCK_COMPLIANCE, LOCK_NOW + 1, false, true},
        {{STO_LOCK_COMPLIANCE, LOCK_NOW - 1, 0}, STO_LOCK_NONE, 0, false, true}, /* expired */
        {{STO_LOCK_COMPLIANCE, LOCK_NOW + 10, 0}, STO_LOCK_COMPLIANCE, LOCK_NOW + 10, false, true},
        {{STO_LOCK_COMPLIANCE, LOCK_NOW + 10, 0}, STO_LOCK_COMPLIANCE, LOCK_NOW + 20, false, true},
        {{STO_LOCK_COMPLIANCE, LOCK_NOW + 10, 0}, STO_LOCK_COMPLIANCE, LOCK_NOW + 9, true, false},
        {{STO_LOCK_COMPLIANCE, LOCK_NOW + 10, 0}, STO_LOCK_GOVERNANCE, LOCK_NOW + 20, true, false},
        {{STO_LOCK_COMPLIANCE, LOCK_NOW + 10, 0}, STO_LOCK_NONE, 0, true, false},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 10, 0}, STO_LOCK_GOVERNANCE, LOCK_NOW + 20, false, true},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 10, 0}, STO_LOCK_COMPLIANCE, LOCK_NOW + 10, false, true},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 10, 0}, STO_LOCK_COMPLIANCE, LOCK_NOW + 9, false, false},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 10, 0}, STO_LOCK_GOVERNANCE, LOCK_NOW + 9, false, false},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 10, 0}, STO_LOCK_GOVERNANCE, LOCK_NOW + 9, true, true},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 10, 0}, STO_LOCK_NONE, 0, false, false},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 10, 0}, STO_LOCK_NONE, 0, true, true},
    };
    for (size_t i = 0; i < sizeof(change) / sizeof(change[0]); i++)
        CHECK_EQ_INT(sto_lock_retention_change_allowed(&change[i].old, change[i].mode,
                                                       change[i].until, LOCK_NOW, change[i].bypass),
                     change[i].ok);
    static const struct {
        struct sto_lock lock;
        bool marker, bypass, locked;
    } held[] = {
        {{STO_LOCK_NONE, 0, STO_HOLD_UNSET}, false, false, false},
        {{STO_LOCK_NONE, 0, STO_HOLD_OFF}, false, false, false},
        {{STO_LOCK_NONE, 0, STO_HOLD_ON}, false, true, true},
        {{STO_LOCK_NONE, 0, STO_HOLD_ON}, true, false, false}, /* a delete marker */
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 1, 0}, false, false, true},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW + 1, 0}, false, true, false},
        {{STO_LOCK_GOVERNANCE, LOCK_NOW, 0}, false, false, false}, /* expired at its date */
        {{STO_LOCK_COMPLIANCE, LOCK_NOW + 1, 0}, false, true, true},
        {{STO_LOCK_COMPLIANCE, LOCK_NOW - 1, STO_HOLD_OFF}, false, false, false},
    };
    for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
        struct sto_object o;
        memset(&o, 0, sizeof(o));
        o.lock = held[i].lock;
        o.delete_marker = held[i].marker;
        CHECK_EQ_INT(sto_version_is_locked(&o, LOCK_NOW, held[i].bypass), held[i].locked);
    }
    CHECK(!sto_version_is_locked(NULL, LOCK_NOW, false));
}

static void test_lock_storage(struct sto_meta *m)
{
    struct sto_object o, got;
    int64_t now = cof_now_ms();
    CHECK_EQ_INT(sto_meta_create_bucket(m, "lk", "us-east-1", 1000), COF_OK);
    /* a null version under COMPLIANCE, then a versioned one under GOVERNANCE on top */
    obj_init(&o, "lk", "k", "b1", "e1");
    o.lock = (struct sto_lock){STO_LOCK_COMPLIANCE, now + 3600000, STO_HOLD_UNSET};
    CHECK_EQ_INT(sto_meta_put_object(m, &o, NULL), COF_OK);
    sto_object_cleanup(&o);
    /* a null write cannot replace the locked null version in place */
    obj_init(&o, "lk", "k", "b2", "e2");
    CHECK_EQ_INT(sto_meta_put_object(m, &o, NULL), COF_ERR_OBJECT_LOCKED);
    sto_object_cleanup(&o);
    CHECK_EQ_INT(sto_meta_get_object(m, "lk", "k", &got), COF_OK);
    CHECK_EQ_STR(got.blob_id, "b1");
    CHECK_EQ_INT(got.lock.mode, STO_LOCK_COMPLIANCE);
    sto_object_cleanup(&got);
    obj_init(&o, "lk", "k", "b3", "e3");
    free(o.version_id);
    o.version_id = xstrdup("v3");
    o.lock = (struct sto_lock){STO_LOCK_GOVERNANCE, now + 3600000, STO_HOLD_OFF};
    CHECK_EQ_INT(sto_meta_put_object(m, &o, NULL), COF_OK);
    sto_object_cleanup(&o);
    /* demoted, the null version keeps its lock, and a null write still cannot replace it */
    CHECK_EQ_INT(sto_meta_get_version(m, "lk", "k", "null", &got), COF_OK);
    CHECK_EQ_INT(got.lock.mode, STO_LOCK_COMPLIANCE);
    CHECK(!got.is_latest);
    sto_object_cleanup(&got);
    obj_init(&o, "lk", "k", "b4", "e4");
    CHECK_EQ_INT(sto_meta_put_object(m, &o, NULL), COF_ERR_OBJECT_LOCKED);
    sto_object_cleanup(&o);
    /* no delete call removes them (unversioned delete, version delete, with or without bypass) */
    CHECK_EQ_INT(sto_meta_delete_object(m, "lk", "k", NULL), COF_ERR_OBJECT_LOCKED);
    CHECK_EQ_INT(sto_meta_delete_version(m, "lk", "k", "v3", NULL), COF_ERR_OBJECT_LOCKED);
    CHECK_EQ_INT(sto_meta_delete_version(m, "lk", "k", "null", NULL), COF_ERR_OBJECT_LOCKED);
    CHECK_EQ_INT(sto_meta_delete_version_lock(m, "lk", "k", "null", now, true, NULL),
                 COF_ERR_OBJECT_LOCKED);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "lk"), COF_ERR_BUCKET_NOT_EMPTY);
    /* retention changes follow the rules, in either table */
    CHECK_EQ_INT(sto_meta_set_retention(m, "lk", "k", "null", STO_LOCK_NONE, 0, now, true),
                 COF_ERR_OBJECT_LOCKED);
    CHECK_EQ_INT(sto_meta_set_retention(m, "lk", "k", "v3", STO_LOCK_NONE, 0, now, false),
                 COF_ERR_OBJECT_LOCKED);
    CHECK_EQ_INT(sto_meta_set_retention(m, "lk", "k", "nope", STO_LOCK_NONE, 0, now, true),
                 COF_ERR_NO_OBJECT);
    CHECK_EQ_INT(sto_meta_set_retention(m, "nob", "k", "v3", STO_LOCK_NONE, 0, now, true),
                 COF_ERR_NO_BUCKET);
    CHECK_EQ_INT(sto_meta_set_legal_hold(m, "lk", "k", "v3", STO_HOLD_ON), COF_OK);
    /* the bypass lifts GOVERNANCE, not the legal hold */
    CHECK_EQ_INT(sto_meta_delete_version_lock(m, "lk", "k", "v3", now, true, NULL),
                 COF_ERR_OBJECT_LOCKED);
    CHECK_EQ_INT(sto_meta_set_legal_hold(m, "lk", "k", "v3", STO_HOLD_OFF), COF_OK);
    CHECK_EQ_INT(sto_meta_get_version(m, "lk", "k", "v3", &got), COF_OK);
    CHECK_EQ_INT(got.lock.legal_hold, STO_HOLD_OFF);
    CHECK_EQ_INT(got.lock.mode, STO_LOCK_GOVERNANCE);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_delete_version_lock(m, "lk", "k", "v3", now, true, NULL), COF_OK);
    /* the null version, promoted to current, still holds; once its date passes it may go */
    CHECK_EQ_INT(sto_meta_get_object(m, "lk", "k", &got), COF_OK);
    CHECK_EQ_STR(got.version_id, "null");
    CHECK_EQ_INT(got.lock.mode, STO_LOCK_COMPLIANCE);
    sto_object_cleanup(&got);
    CHECK_EQ_INT(sto_meta_delete_version_lock(m, "lk", "k", "null", now + 3600001, false, NULL),
                 COF_OK);
    CHECK_EQ_INT(sto_meta_delete_bucket(m, "lk"), COF_OK);
}

int main(void)
{
    static const struct {
        const char *tag;
        void (*fn)(struct sto_meta *);
    } with_meta[] = {
        {"buckets", test_buckets},
        {"configs", test_configs},
        {"objects", test_objects},
        {"list", test_list},
        {"kms", test_kms},
        {"versions", test_versions},
        {"list", test_list},
        {"kms", test_kms},
        {"hdr", test_set_headers},
        {"kms-api", test_kms_api_rows},
        {"cond", test_conditional},
        {"lock", test_lock_storage},
        {"expire", test_expire_version},
    };
    static const struct {
        const char *tag;
        void (*fn)(const char *);
    } with_dir[] = {
        {"schema", test_schema}, {"big", test_big},
        {"reset", test_reset},   {"conc", test_concurrency},
        {"bench", bench_small},  {"crash", test_crash},
        {"inline", test_inline}, {"fresh", test_fresh_schema},
    };

    test_prefix_successor();
    test_lock_rules();
    for (size_t i = 0; i < sizeof(with_meta) / sizeof(with_meta[0]); i++) {
        char *dir = tmpdir_new(with_meta[i].tag);
        CHECK(dir != NULL);
        if (dir == NULL)
            continue;
        struct sto_meta *m = open_meta(dir, true);
        if (m != NULL)
            with_meta[i].fn(m);
        sto_meta_close(m);
        tmpdir_remove(dir);
        free(dir);
    }
    for (size_t i = 0; i < sizeof(with_dir) / sizeof(with_dir[0]); i++) {
        char *dir = tmpdir_new(with_dir[i].tag);
        CHECK(dir != NULL);
        if (dir == NULL)
            continue;
        with_dir[i].fn(dir);
        tmpdir_remove(dir);
        free(dir);
    }
    return check_finish();
}

/* SPDX-License-Identifier: Apache-2.0 */
/* storage/rekey: the recorded root keys (record, confirm, forget, walk, with their refusals),
 * what makes a data dir fresh, and the migration that adds the records to a version 5 data dir
 * without touching its data. Each test works in its own temp dir. */
#include "check.h"
#include "storage/internal.h"
#include "storage/meta.h"
#include "tmpdir.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KCV_LEN 8

static void db_path(const char *dir, char out[1024])
{
    snprintf(out, 1024, "%s/coffer.db", dir);
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

static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static struct sto_meta *open_meta(const char *dir)
{
    char path[1024];
    struct sto_meta *m = NULL;
    db_path(dir, path);
    CHECK_EQ_INT(sto_meta_open(path, true, &m), COF_OK);
    return m;
}

/* What a walk saw: up to 4 records, copied. */
struct seen {
    int n;
    char id[4][32];
    uint8_t kcv[4][KCV_LEN];
    size_t kcv_len[4];
    bool pending[4];
    int64_t recorded_ms[4];
    int stop_after; /* > 0: return COF_ERR_INVALID after that many */
};

static cof_err collect(const struct sto_root_key *k, void *arg)
{
    struct seen *s = arg;
    if (s->n < 4) {
        snprintf(s->id[s->n], sizeof(s->id[0]), "%s", k->id);
        s->kcv_len[s->n] = k->kcv_len;
        memcpy(s->kcv[s->n], k->kcv, k->kcv_len < KCV_LEN ? k->kcv_len : KCV_LEN);
        s->pending[s->n] = k->pending;
        s->recorded_ms[s->n] = k->recorded_ms;
    }
    s->n++;
    return s->stop_after > 0 && s->n >= s->stop_after ? COF_ERR_INVALID : COF_OK;
}

static void test_records(const char *dir)
{
    static const uint8_t kcv_a[KCV_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t kcv_b[KCV_LEN] = {9, 9, 9, 9, 0, 0, 0, 0xff};
    struct sto_meta *m = open_meta(dir);
    struct seen s;
    bool fresh = false;
    if (m == NULL)
        return;

    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_meta_root_keys_each(m, collect, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(fresh);

    CHECK_EQ_INT(sto_meta_root_key_record(m, "rk-a", kcv_a, KCV_LEN, false, 1000), COF_OK);
    /* An id is recorded once, whatever the check value. */
    CHECK_EQ_INT(sto_meta_root_key_record(m, "rk-a", kcv_b, KCV_LEN, false, 1001), COF_ERR_EXISTS);
    CHECK_EQ_INT(sto_meta_root_key_record(m, "rk1", kcv_b, KCV_LEN, true, 2000), COF_OK);
    /* A recorded key alone makes the data dir not fresh. */
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(!fresh);

    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_meta_root_keys_each(m, collect, &s), COF_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_STR(s.id[0], "rk-a"); /* id order: '-' sorts before '1' */
    CHECK_EQ_INT(s.kcv_len[0], KCV_LEN);
    CHECK(memcmp(s.kcv[0], kcv_a, KCV_LEN) == 0);
    CHECK(!s.pending[0]);
    CHECK_EQ_INT(s.recorded_ms[0], 1000);
    CHECK_EQ_STR(s.id[1], "rk1");
    CHECK(memcmp(s.kcv[1], kcv_b, KCV_LEN) == 0);
    CHECK(s.pending[1]);
    CHECK_EQ_INT(s.recorded_ms[1], 2000);

    /* Confirm clears pending, once the id is known. */
    CHECK_EQ_INT(sto_meta_root_key_confirm(m, "rk1"), COF_OK);
    CHECK_EQ_INT(sto_meta_root_key_confirm(m, "rk1"), COF_OK);
    CHECK_EQ_INT(sto_meta_root_key_confirm(m, "rk-none"), COF_ERR_NOT_FOUND);
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_meta_root_keys_each(m, collect, &s), COF_OK);
    CHECK(s.n == 2 && !s.pending[1]);

    /* A callback's code stops the walk and comes back. */
    memset(&s, 0, sizeof(s));
    s.stop_after = 1;
    CHECK_EQ_INT(sto_meta_root_keys_each(m, collect, &s), COF_ERR_INVALID);
    CHECK_EQ_INT(s.n, 1);

    /* Forget. */
    CHECK_EQ_INT(sto_meta_root_key_forget(m, "rk-a"), COF_OK);
    CHECK_EQ_INT(sto_meta_root_key_forget(m, "rk-a"), COF_ERR_NOT_FOUND);
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_meta_root_keys_each(m, collect, &s), COF_OK);
    CHECK(s.n == 1 && strcmp(s.id[0], "rk1") == 0);
    /* A forgotten id can be recorded again (a retirement undone). */
    CHECK_EQ_INT(sto_meta_root_key_record(m, "rk-a", kcv_a, KCV_LEN, false, 3000), COF_OK);
    CHECK_EQ_INT(sto_meta_root_key_forget(m, "rk-a"), COF_OK);
    CHECK_EQ_INT(sto_meta_root_key_forget(m, "rk1"), COF_OK);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(fresh);
    sto_meta_close(m);
}

/* Fresh means: no object row (delete markers and noncurrent versions included), upload, KMS key
 * or recorded root key. Buckets and their configs do not count: nothing in them is encrypted. */
static void test_fresh(const char *dir)
{
    struct sto_meta *m = open_meta(dir);
    bool fresh = false;
    char *old = NULL;
    if (m == NULL)
        return;
    CHECK_EQ_INT(sto_meta_create_bucket(m, "b", "us-east-1", 1), COF_OK);
    CHECK_EQ_INT(sto_meta_set_bucket_config(m, "b", "policy", "{}"), COF_OK);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(fresh);

    struct sto_object o = {.bucket = "b",
                           .key = "k",
                           .version_id = "v1",
                           .size = 1,
                           .etag = "e",
                           .blob_id = "00112233445566778899aabbccddeeff",
                           .sse_mode = 1,
                           .kek_id = "rk-a"};
    CHECK_EQ_INT(sto_meta_put_object(m, &o, &old), COF_OK);
    free(old);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(!fresh);
    /* A delete marker on top: the object is a noncurrent version, still not fresh. */
    struct sto_object dm = {.bucket = "b", .key = "k", .version_id = "v2", .delete_marker = true};
    CHECK_EQ_INT(sto_meta_put_object(m, &dm, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_version(m, "b", "k", "v2", NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_delete_version(m, "b", "k", "v1", NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(fresh);
    CHECK_EQ_INT(sto_meta_put_object(m, &dm, NULL), COF_OK);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(!fresh);
    CHECK_EQ_INT(sto_meta_delete_version(m, "b", "k", "v2", NULL), COF_OK);

    struct sto_upload u = {.upload_id = "u1", .bucket = "b", .key = "k", .sse_mode = 1};
    CHECK_EQ_INT(sto_meta_upload_create(m, &u), COF_OK);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(!fresh);
    CHECK_EQ_INT(sto_meta_upload_abort(m, "u1"), COF_OK);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(fresh);

    static uint8_t material[60] = {1};
    struct sto_kms_key k = {.id = "kms-1",
                            .state = "Enabled",
                            .kek_id = "rk-a",
                            .material = material,
                            .material_len = sizeof(material)};
    struct sto_kms_key got;
    CHECK_EQ_INT(sto_meta_kms_create(m, &k, NULL, false, &got), COF_OK);
    sto_kms_key_cleanup(&got);
    CHECK_EQ_INT(sto_meta_is_fresh(m, &fresh), COF_OK);
    CHECK(!fresh);
    sto_meta_close(m);
}

/* Schema 5 -> 6: the records table appears, empty; the data stays. */
static void test_migration(const char *dir)
{
    char path[1024];
    char *old = NULL;
    struct sto_object got;
    struct sto_meta *m = open_meta(dir);
    if (m == NULL)
        return;
    db_path(dir, path);
    CHECK_EQ_INT(sto_meta_create_bucket(m, "b", "us-east-1", 1), COF_OK);
    struct sto_object o = {.bucket = "b",
                           .key = "k",
                           .size = 3,
                           .etag = "e",
                           .blob_id = "00112233445566778899aabbccddeeff",
                           .sse_mode = 1,
                           .kek_id = "rk1"};
    CHECK_EQ_INT(sto_meta_put_object(m, &o, &old), COF_OK);
    free(old);
    sto_meta_close(m);

    /* Back to version 5: undo migrations 6 (root_keys), 7 (completed_uploads), 8 (the KMS API's
     * columns), 9 (bucket owners), 10 (object part checksums) and 11 (Object Lock columns). */
    CHECK_EQ_INT(
        raw_exec(
            path,
            "DROP TABLE root_keys; DROP TABLE completed_uploads; DROP TABLE kms_tags; DROP TABLE"
            " kms_rotations; DROP INDEX kms_aliases_key; ALTER TABLE kms_keys"
            " DROP COLUMN policy; ALTER TABLE kms_keys DROP COLUMN"
            " rotation_days; ALTER TABLE kms_keys DROP COLUMN rotated_ms;"
            " ALTER TABLE kms_aliases DROP COLUMN created_ms; ALTER TABLE"
            " kms_aliases DROP COLUMN updated_ms; ALTER TABLE buckets DROP COLUMN owner;"
            " ALTER TABLE object_parts DROP COLUMN checksum;"
            " ALTER TABLE objects DROP COLUMN lock_mode; ALTER TABLE objects DROP COLUMN"
            " lock_until_ms; ALTER TABLE objects DROP COLUMN legal_hold; ALTER TABLE"
            " object_versions DROP COLUMN lock_mode; ALTER TABLE object_versions DROP COLUMN"
            " lock_until_ms; ALTER TABLE object_versions DROP COLUMN legal_hold;"
            " DROP TABLE inline_blobs; PRAGMA user_version = 5"),
        SQLITE_OK);
    m = open_meta(dir);
    if (m == NULL)
        return;
    CHECK_EQ_INT(raw_int(path, "PRAGMA user_version"), STO_META_SCHEMA_VERSION);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM root_keys"), 0);
    CHECK_EQ_INT(sto_meta_get_object(m, "b", "k", &got), COF_OK);
    CHECK_EQ_STR(got.kek_id, "rk1");
    sto_object_cleanup(&got);
    static const uint8_t kcv[KCV_LEN] = {7};
    CHECK_EQ_INT(sto_meta_root_key_record(m, "rk1", kcv, KCV_LEN, false, 1), COF_OK);
    sto_meta_close(m);
}

int main(void)
{
    static const struct {
        const char *tag;
        void (*fn)(const char *);
    } tests[] = {
        {"records", test_records},
        {"fresh", test_fresh},
        {"migrate", test_migration},
    };
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        char *dir = tmpdir_new(tests[i].tag);
        CHECK(dir != NULL);
        if (dir == NULL)
            continue;
        tests[i].fn(dir);
        tmpdir_remove(dir);
        free(dir);
    }
    return check_finish();
}

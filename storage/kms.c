/* SPDX-License-Identifier: Apache-2.0 */
/* The local KMS keyring: keys, whose material is opaque here (wrapped by a root key), and their
 * aliases. Speaks storage only. */
#include "storage/kms.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"

#define KMS_COLS                                                                                   \
    "k.id, k.state, k.description, k.created_ms, k.deletion_ms, k.kek_id, k.material, "            \
    "(SELECT group_concat(alias, ',') FROM kms_aliases a WHERE a.key_id = k.id), k.policy, "       \
    "k.rotation_days, k.rotated_ms"

static const struct sto_sql q_kms_by_id =
    STO_SQL(KMS_BY_ID, "SELECT " KMS_COLS " FROM kms_keys k WHERE k.id = ?1");
static const struct sto_sql q_kms_by_alias =
    STO_SQL(KMS_BY_ALIAS, "SELECT " KMS_COLS " FROM kms_keys k JOIN kms_aliases a2"
                          " ON a2.key_id = k.id WHERE a2.alias = ?1");
static const struct sto_sql q_kms_insert = STO_SQL_UNIQUE(
    KMS_INSERT, "INSERT INTO kms_keys (id, state, description, created_ms, deletion_ms, kek_id,"
                " material, policy, rotated_ms) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?4)");
static const struct sto_sql q_kms_alias_insert =
    STO_SQL_UNIQUE(KMS_ALIAS_INSERT, "INSERT INTO kms_aliases (alias, key_id, created_ms,"
                                     " updated_ms) VALUES (?1, ?2, ?3, ?3)");
static const struct sto_sql q_kms_set_state =
    STO_SQL(KMS_SET_STATE, "UPDATE kms_keys SET state = ?2, deletion_ms = ?3 WHERE id = ?1");
/* The key must exist: no row is inserted for an unknown key (the foreign key would refuse a
 * dangling alias anyway). */
static const struct sto_sql q_kms_set_alias =
    STO_SQL_UNIQUE(KMS_SET_ALIAS, "INSERT INTO kms_aliases (alias, key_id, created_ms,"
                                  " updated_ms) SELECT ?1, ?2, ?3, ?3"
                                  " WHERE EXISTS (SELECT 1 FROM kms_keys WHERE id = ?2)");
static const struct sto_sql q_kms_each =
    STO_SQL(KMS_EACH, "SELECT " KMS_COLS " FROM kms_keys k ORDER BY k.created_ms, k.id");
static const struct sto_sql q_kms_set_policy =
    STO_SQL(KMS_SET_POLICY, "UPDATE kms_keys SET policy = ?2 WHERE id = ?1");
static const struct sto_sql q_kms_set_description =
    STO_SQL(KMS_SET_DESCRIPTION, "UPDATE kms_keys SET description = ?2 WHERE id = ?1");
static const struct sto_sql q_kms_set_rotation = STO_SQL(
    KMS_SET_ROTATION, "UPDATE kms_keys SET rotation_days = ?2, rotated_ms = ?3 WHERE id = ?1");
/* Compare-and-swap on the wrapping root key and the number of versions (the length). */
static const struct sto_sql q_kms_add_material =
    STO_SQL(KMS_ADD_MATERIAL, "UPDATE kms_keys SET material = ?2, rotated_ms = ?5 WHERE id = ?1"
                              " AND kek_id = ?3 AND length(material) = ?4");
static const struct sto_sql q_kms_rotation_insert =
    STO_SQL(KMS_ROTATION_INSERT, "INSERT INTO kms_rotations (key_id, version, rotated_ms,"
                                 " on_demand) VALUES (?1, ?2, ?3, ?4)");
static const struct sto_sql q_kms_rotation_each =
    STO_SQL(KMS_ROTATION_EACH, "SELECT version, rotated_ms, on_demand FROM kms_rotations"
                               " WHERE key_id = ?1 ORDER BY version");
static const struct sto_sql q_kms_alias_each =
    STO_SQL(KMS_ALIAS_EACH, "SELECT alias, key_id, created_ms, updated_ms FROM kms_aliases"
                            " ORDER BY alias");
static const struct sto_sql q_kms_alias_each_key =
    STO_SQL(KMS_ALIAS_EACH_KEY, "SELECT alias, key_id, created_ms, updated_ms FROM kms_aliases"
                                " WHERE key_id = ?1 ORDER BY alias");
static const struct sto_sql q_kms_alias_delete =
    STO_SQL(KMS_ALIAS_DELETE, "DELETE FROM kms_aliases WHERE alias = ?1");
static const struct sto_sql q_kms_alias_update =
    STO_SQL(KMS_ALIAS_UPDATE, "UPDATE kms_aliases SET key_id = ?2, updated_ms = ?3 WHERE"
                              " alias = ?1 AND EXISTS (SELECT 1 FROM kms_keys WHERE id = ?2)");
static const struct sto_sql q_kms_tag_set = STO_SQL(
    KMS_TAG_SET, "INSERT INTO kms_tags (key_id, tag_key, tag_value) SELECT ?1, ?2, ?3 WHERE"
                 " EXISTS (SELECT 1 FROM kms_keys WHERE id = ?1) ON CONFLICT (key_id, tag_key)"
                 " DO UPDATE SET tag_value = excluded.tag_value");
static const struct sto_sql q_kms_tag_delete =
    STO_SQL(KMS_TAG_DELETE, "DELETE FROM kms_tags WHERE key_id = ?1 AND tag_key = ?2");
static const struct sto_sql q_kms_tag_each = STO_SQL(
    KMS_TAG_EACH, "SELECT tag_key, tag_value FROM kms_tags WHERE key_id = ?1 ORDER BY tag_key");
static const struct sto_sql q_kms_delete_aliases =
    STO_SQL(KMS_DELETE_ALIASES, "DELETE FROM kms_aliases WHERE key_id = ?1");
static const struct sto_sql q_kms_delete_tags =
    STO_SQL(KMS_DELETE_TAGS, "DELETE FROM kms_tags WHERE key_id = ?1");
static const struct sto_sql q_kms_delete_rotations =
    STO_SQL(KMS_DELETE_ROTATIONS, "DELETE FROM kms_rotations WHERE key_id = ?1");
static const struct sto_sql q_kms_delete_key =
    STO_SQL(KMS_DELETE_KEY, "DELETE FROM kms_keys WHERE id = ?1");

void sto_kms_key_cleanup(struct sto_kms_key *k)
{
    if (k == NULL)
        return;
    free(k->id);
    free(k->state);
    free(k->description);
    free(k->kek_id);
    free(k->material);
    free(k->aliases);
    free(k->policy);
    memset(k, 0, sizeof(*k));
}

static cof_err kms_row(sqlite3_stmt *s, struct sto_kms_key *k)
{
    memset(k, 0, sizeof(*k));
    cof_err err = sto_col_text(s, 0, &k->id);
    if (err == COF_OK)
        err = sto_col_text(s, 1, &k->state);
    if (err == COF_OK)
        err = sto_col_text(s, 2, &k->description);
    k->created_ms = sqlite3_column_int64(s, 3);
    k->deletion_ms = sqlite3_column_int64(s, 4);
    if (err == COF_OK)
        err = sto_col_text(s, 5, &k->kek_id);
    if (err == COF_OK)
        err = sto_col_blob(s, 6, &k->material, &k->material_len); /* NOT NULL column */
    if (err == COF_OK)
        err = sto_col_text(s, 7, &k->aliases);
    if (err == COF_OK)
        err = sto_col_text(s, 8, &k->policy);
    k->rotation_days = sqlite3_column_int64(s, 9);
    k->rotated_ms = sqlite3_column_int64(s, 10);
    if (err != COF_OK)
        sto_kms_key_cleanup(k);
    return err;
}

/* Looks a key up by id (or alias when by_alias) on an open connection. COF_ERR_NOT_FOUND. */
static cof_err kms_lookup(struct sto_conn *c, const char *name, bool by_alias,
                          struct sto_kms_key *out)
{
    struct sto_q q;
    cof_err err = COF_OK;
    sto_q_open(&q, c, by_alias ? &q_kms_by_alias : &q_kms_by_id, COF_OK);
    sto_q_text(&q, 1, name);
    bool row = sto_q_step(&q);
    if (row)
        err = kms_row(q.s, out);
    err = sto_q_close(&q, err);
    if (err == COF_OK && !row)
        err = COF_ERR_NOT_FOUND;
    return err;
}

/* Inserts k and its alias (may be NULL). COF_ERR_EXISTS when the id or alias is taken. */
static cof_err kms_insert(struct sto_conn *c, const struct sto_kms_key *k, const char *alias)
{
    struct sto_q q;
    sto_q_open(&q, c, &q_kms_insert, COF_OK);
    sto_q_text(&q, 1, k->id);
    sto_q_text(&q, 2, k->state);
    sto_q_text(&q, 3, k->description ? k->description : "");
    sto_q_int(&q, 4, k->created_ms);
    sto_q_text(&q, 5, k->kek_id);
    sto_q_blob(&q, 6, k->material, k->material_len);
    sto_q_text(&q, 7, k->policy);
    (void)sto_q_step(&q);
    cof_err err = sto_q_close(&q, COF_OK);
    if (err == COF_OK && alias != NULL) {
        sto_q_open(&q, c, &q_kms_alias_insert, COF_OK);
        sto_q_text(&q, 1, alias);
        sto_q_text(&q, 2, k->id);
        sto_q_int(&q, 3, k->created_ms);
        (void)sto_q_step(&q);
        err = sto_q_close(&q, COF_OK);
    }
    return err;
}

cof_err sto_meta_kms_get(struct sto_meta *m, const char *id_or_alias, struct sto_kms_key *out)
{
    struct sto_conn *c = NULL;
    memset(out, 0, sizeof(*out));
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = kms_lookup(c, id_or_alias, strncmp(id_or_alias, "alias/", 6) == 0, out);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_kms_create(struct sto_meta *m, const struct sto_kms_key *k, const char *alias,
                            bool existing_ok, struct sto_kms_key *out)
{
    struct sto_conn *c = NULL;
    memset(out, 0, sizeof(*out));
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK) {
        sto_conn_put(m, c);
        return err;
    }
    /* With existing_ok, a key already known by this alias (or id) wins: concurrent first uses
     * of "aws/s3" agree on one key. */
    bool found = false;
    if (existing_ok) {
        err = kms_lookup(c, alias != NULL ? alias : k->id, alias != NULL, out);
        found = err == COF_OK;
        if (err == COF_ERR_NOT_FOUND)
            err = COF_OK;
    }
    if (err == COF_OK && !found)
        err = kms_insert(c, k, alias);
    if (err == COF_OK && !found)
        err = kms_lookup(c, k->id, false, out);
    err = sto_tx_end(m, c, err);
    if (err != COF_OK)
        sto_kms_key_cleanup(out);
    sto_conn_put(m, c);
    return err;
}

/* One row changed by def with parameters (?1 text, ?2 text, ?3 integer); COF_ERR_NOT_FOUND
 * when none was. */
static cof_err write_texts_int(struct sto_meta *m, const struct sto_sql *def, const char *a,
                               const char *b, int64_t n)
{
    struct sto_q q;
    sto_write_open(m, def, &q);
    sto_q_text(&q, 1, a);
    sto_q_text(&q, 2, b);
    sto_q_int(&q, 3, n);
    return sto_write_close_one(m, &q);
}

cof_err sto_meta_kms_set_state(struct sto_meta *m, const char *id, const char *state,
                               int64_t deletion_ms)
{
    return write_texts_int(m, &q_kms_set_state, id, state, deletion_ms);
}

cof_err sto_meta_kms_set_alias(struct sto_meta *m, const char *alias, const char *key_id,
                               int64_t now_ms)
{
    return write_texts_int(m, &q_kms_set_alias, alias, key_id, now_ms);
}

cof_err sto_meta_kms_each(struct sto_meta *m, sto_kms_key_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_kms_each, COF_OK);
    while (err == COF_OK && sto_q_step(&q)) {
        struct sto_kms_key k;
        err = kms_row(q.s, &k);
        if (err == COF_OK)
            err = cb(&k, arg);
        sto_kms_key_cleanup(&k);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

/* One UPDATE of a key's text attribute; COF_ERR_NOT_FOUND when no row changed. */
static cof_err update_text(struct sto_meta *m, const struct sto_sql *def, const char *id,
                           const char *value)
{
    struct sto_q q;
    sto_write_open(m, def, &q);
    sto_q_text(&q, 1, id);
    sto_q_text(&q, 2, value);
    return sto_write_close_one(m, &q);
}

cof_err sto_meta_kms_set_policy(struct sto_meta *m, const char *id, const char *policy)
{
    return update_text(m, &q_kms_set_policy, id, policy);
}

cof_err sto_meta_kms_set_description(struct sto_meta *m, const char *id, const char *description)
{
    return update_text(m, &q_kms_set_description, id, description);
}

cof_err sto_meta_kms_set_rotation(struct sto_meta *m, const char *id, int64_t days, int64_t from_ms)
{
    struct sto_q q;
    sto_write_open(m, &q_kms_set_rotation, &q);
    sto_q_text(&q, 1, id);
    sto_q_int(&q, 2, days);
    sto_q_int(&q, 3, from_ms);
    return sto_write_close_one(m, &q);
}

/* Runs a write statement in an open transaction; *changes gets the rows it changed. */
static cof_err run_counted(struct sto_q *q, int *changes)
{
    (void)sto_q_step(q);
    *changes = q->err == COF_OK ? sto_q_changes(q) : 0;
    return sto_q_close(q, COF_OK);
}

cof_err sto_meta_kms_add_material(struct sto_meta *m, const char *id, const char *kek_id,
                                  size_t old_len, const uint8_t *material, size_t len,
                                  int64_t version, int64_t now_ms, bool on_demand)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    int changes = 0;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK) {
        sto_conn_put(m, c);
        return err;
    }
    sto_q_open(&q, c, &q_kms_add_material, COF_OK);
    sto_q_text(&q, 1, id);
    sto_q_blob(&q, 2, material, len);
    sto_q_text(&q, 3, kek_id);
    sto_q_int(&q, 4, (int64_t)old_len);
    sto_q_int(&q, 5, now_ms);
    err = run_counted(&q, &changes);
    if (err == COF_OK && changes == 0)
        err = COF_ERR_NOT_FOUND;
    if (err == COF_OK) {
        sto_q_open(&q, c, &q_kms_rotation_insert, COF_OK);
        sto_q_text(&q, 1, id);
        sto_q_int(&q, 2, version);
        sto_q_int(&q, 3, now_ms);
        sto_q_int(&q, 4, on_demand ? 1 : 0);
        err = run_counted(&q, &changes);
    }
    err = sto_tx_end(m, c, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_kms_rotations_each(struct sto_meta *m, const char *id, sto_kms_rotation_fn cb,
                                    void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_kms_rotation_each, COF_OK);
    sto_q_text(&q, 1, id);
    while (err == COF_OK && sto_q_step(&q))
        err = cb(sqlite3_column_int64(q.s, 0), sqlite3_column_int64(q.s, 1),
                 sqlite3_column_int64(q.s, 2) != 0, arg);
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_kms_delete(struct sto_meta *m, const char *id)
{
    static const struct sto_sql *const steps[] = {&q_kms_delete_tags, &q_kms_delete_rotations,
                                                  &q_kms_delete_aliases, &q_kms_delete_key};
    struct sto_conn *c = NULL;
    int changes = 0;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK) {
        sto_conn_put(m, c);
        return err;
    }
    for (size_t i = 0; err == COF_OK && i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct sto_q q;
        sto_q_open(&q, c, steps[i], COF_OK);
        sto_q_text(&q, 1, id);
        err = run_counted(&q, &changes);
    }
    if (err == COF_OK && changes == 0) /* the key row itself */
        err = COF_ERR_NOT_FOUND;
    err = sto_tx_end(m, c, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_kms_alias_each(struct sto_meta *m, const char *key_id, sto_kms_alias_fn cb,
                                void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, key_id != NULL ? &q_kms_alias_each_key : &q_kms_alias_each, COF_OK);
    if (key_id != NULL)
        sto_q_text(&q, 1, key_id);
    while (err == COF_OK && sto_q_step(&q)) {
        struct sto_kms_alias a = {
            .alias = (const char *)sqlite3_column_text(q.s, 0),
            .key_id = (const char *)sqlite3_column_text(q.s, 1),
            .created_ms = sqlite3_column_int64(q.s, 2),
            .updated_ms = sqlite3_column_int64(q.s, 3),
        };
        if (a.alias == NULL || a.key_id == NULL)
            err = COF_ERR_NOMEM;
        else
            err = cb(&a, arg);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_kms_alias_delete(struct sto_meta *m, const char *alias)
{
    struct sto_q q;
    sto_write_open(m, &q_kms_alias_delete, &q);
    sto_q_text(&q, 1, alias);
    return sto_write_close_one(m, &q);
}

cof_err sto_meta_kms_alias_update(struct sto_meta *m, const char *alias, const char *key_id,
                                  int64_t now_ms)
{
    return write_texts_int(m, &q_kms_alias_update, alias, key_id, now_ms);
}

/* Sets (values != NULL) or deletes n tags of key id in one transaction. */
static cof_err tags_change(struct sto_meta *m, const char *id, size_t n, const char *const *keys,
                           const char *const *values)
{
    struct sto_conn *c = NULL;
    int changes = 0;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK) {
        sto_conn_put(m, c);
        return err;
    }
    for (size_t i = 0; err == COF_OK && i < n; i++) {
        struct sto_q q;
        sto_q_open(&q, c, values != NULL ? &q_kms_tag_set : &q_kms_tag_delete, COF_OK);
        sto_q_text(&q, 1, id);
        sto_q_text(&q, 2, keys[i]);
        if (values != NULL)
            sto_q_text(&q, 3, values[i]);
        err = run_counted(&q, &changes);
        if (err == COF_OK && values != NULL && changes == 0)
            err = COF_ERR_NOT_FOUND;
    }
    err = sto_tx_end(m, c, err);
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_kms_tags_set(struct sto_meta *m, const char *id, size_t n, const char *const *keys,
                              const char *const *values)
{
    return tags_change(m, id, n, keys, values);
}

cof_err sto_meta_kms_tags_delete(struct sto_meta *m, const char *id, size_t n,
                                 const char *const *keys)
{
    return tags_change(m, id, n, keys, NULL);
}

cof_err sto_meta_kms_tags_each(struct sto_meta *m, const char *id, sto_kms_tag_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_kms_tag_each, COF_OK);
    sto_q_text(&q, 1, id);
    while (err == COF_OK && sto_q_step(&q)) {
        const char *k = (const char *)sqlite3_column_text(q.s, 0);
        const char *v = (const char *)sqlite3_column_text(q.s, 1);
        err = k != NULL && v != NULL ? cb(k, v, arg) : COF_ERR_NOMEM;
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

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
    "(SELECT group_concat(alias, ',') FROM kms_aliases a WHERE a.key_id = k.id)"

static const struct sto_sql q_kms_by_id =
    STO_SQL(KMS_BY_ID, "SELECT " KMS_COLS " FROM kms_keys k WHERE k.id = ?1");
static const struct sto_sql q_kms_by_alias =
    STO_SQL(KMS_BY_ALIAS, "SELECT " KMS_COLS " FROM kms_keys k JOIN kms_aliases a2"
                          " ON a2.key_id = k.id WHERE a2.alias = ?1");
static const struct sto_sql q_kms_insert = STO_SQL_UNIQUE(
    KMS_INSERT, "INSERT INTO kms_keys (id, state, description, created_ms, deletion_ms, kek_id,"
                " material) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)");
static const struct sto_sql q_kms_alias_insert =
    STO_SQL_UNIQUE(KMS_ALIAS_INSERT, "INSERT INTO kms_aliases (alias, key_id) VALUES (?1, ?2)");
static const struct sto_sql q_kms_set_state =
    STO_SQL(KMS_SET_STATE, "UPDATE kms_keys SET state = ?2, deletion_ms = ?3 WHERE id = ?1");
/* The key must exist: no row is inserted for an unknown key (the foreign key would refuse a
 * dangling alias anyway). */
static const struct sto_sql q_kms_set_alias =
    STO_SQL_UNIQUE(KMS_SET_ALIAS, "INSERT INTO kms_aliases (alias, key_id) SELECT ?1, ?2"
                                  " WHERE EXISTS (SELECT 1 FROM kms_keys WHERE id = ?2)");
static const struct sto_sql q_kms_each =
    STO_SQL(KMS_EACH, "SELECT " KMS_COLS " FROM kms_keys k ORDER BY k.created_ms, k.id");

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
    (void)sto_q_step(&q);
    cof_err err = sto_q_close(&q, COF_OK);
    if (err == COF_OK && alias != NULL)
        err = sto_q_run(c, &q_kms_alias_insert, alias, k->id, NULL, NULL);
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

cof_err sto_meta_kms_set_state(struct sto_meta *m, const char *id, const char *state,
                               int64_t deletion_ms)
{
    struct sto_q q;
    int changes = 0;
    sto_write_open(m, &q_kms_set_state, &q);
    sto_q_text(&q, 1, id);
    sto_q_text(&q, 2, state);
    sto_q_int(&q, 3, deletion_ms);
    cof_err err = sto_write_close(m, &q, &changes);
    if (err == COF_OK && changes == 0)
        err = COF_ERR_NOT_FOUND;
    return err;
}

cof_err sto_meta_kms_set_alias(struct sto_meta *m, const char *alias, const char *key_id)
{
    struct sto_q q;
    int changes = 0;
    sto_write_open(m, &q_kms_set_alias, &q);
    sto_q_text(&q, 1, alias);
    sto_q_text(&q, 2, key_id);
    cof_err err = sto_write_close(m, &q, &changes);
    if (err == COF_OK && changes == 0)
        err = COF_ERR_NOT_FOUND;
    return err;
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

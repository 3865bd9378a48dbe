/* SPDX-License-Identifier: Apache-2.0 */
/* The local KMS keyring: keys (material wrapped by a root key) and aliases. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/internal.h"
#include "storage/meta.h"

/* ---- KMS keyring --------------------------------------------------------------------------
 * Rare operations (key management, first use): statements are prepared per call. */

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

#define KMS_COLS                                                                                   \
    "k.id, k.state, k.description, k.created_ms, k.deletion_ms, k.kek_id, k.material, "            \
    "(SELECT group_concat(alias, ',') FROM kms_aliases a WHERE a.key_id = k.id)"

static cof_err kms_row(sqlite3_stmt *s, struct sto_kms_key *k)
{
    memset(k, 0, sizeof(*k));
    cof_err err = col_text(s, 0, &k->id);
    if (err == COF_OK)
        err = col_text(s, 1, &k->state);
    if (err == COF_OK)
        err = col_text(s, 2, &k->description);
    k->created_ms = sqlite3_column_int64(s, 3);
    k->deletion_ms = sqlite3_column_int64(s, 4);
    if (err == COF_OK)
        err = col_text(s, 5, &k->kek_id);
    if (err == COF_OK) {
        const void *p = sqlite3_column_blob(s, 6);
        int n = sqlite3_column_bytes(s, 6);
        k->material = malloc(n > 0 ? (size_t)n : 1);
        if (k->material == NULL)
            err = COF_ERR_NOMEM;
        else if (n > 0)
            memcpy(k->material, p, (size_t)n);
        k->material_len = (size_t)n;
    }
    if (err == COF_OK)
        err = col_text(s, 7, &k->aliases);
    if (err != COF_OK)
        sto_kms_key_cleanup(k);
    return err;
}

/* Looks a key up by id (or alias when by_alias) on an open connection. */
static cof_err kms_lookup(struct conn *c, const char *name, bool by_alias, struct sto_kms_key *out)
{
    sqlite3_stmt *s = NULL;
    cof_err err = kms_prepare(c,
                              by_alias ? "SELECT " KMS_COLS " FROM kms_keys k JOIN kms_aliases a2 "
                                         "ON a2.key_id = k.id WHERE a2.alias = ?1"
                                       : "SELECT " KMS_COLS " FROM kms_keys k WHERE k.id = ?1",
                              &s);
    if (err == COF_OK && sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC) != SQLITE_OK)
        err = db_fail(c->db, "kms bind", sqlite3_errcode(c->db));
    if (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            err = kms_row(s, out);
        else if (rc == SQLITE_DONE)
            err = COF_ERR_NOT_FOUND;
        else
            err = db_fail(c->db, "kms lookup", rc);
    }
    sqlite3_finalize(s);
    return err;
}

static cof_err kms_insert(struct conn *c, const struct sto_kms_key *k, const char *alias)
{
    sqlite3_stmt *s = NULL;
    cof_err err = kms_prepare(c,
                              "INSERT INTO kms_keys (id, state, description, created_ms, "
                              "deletion_ms, kek_id, material) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                              &s);
    if (err == COF_OK) {
        sqlite3_bind_text(s, 1, k->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, k->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, k->description ? k->description : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, k->created_ms);
        sqlite3_bind_text(s, 5, k->kek_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob(s, 6, k->material, (int)k->material_len, SQLITE_STATIC);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_CONSTRAINT)
            err = COF_ERR_EXISTS;
        else if (rc != SQLITE_DONE)
            err = db_fail(c->db, "kms insert", rc);
    }
    sqlite3_finalize(s);
    if (err == COF_OK && alias != NULL) {
        err = kms_prepare(c, "INSERT INTO kms_aliases (alias, key_id) VALUES (?1, ?2)", &s);
        if (err == COF_OK) {
            sqlite3_bind_text(s, 1, alias, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, k->id, -1, SQLITE_STATIC);
            int rc = sqlite3_step(s);
            if (rc == SQLITE_CONSTRAINT)
                err = COF_ERR_EXISTS;
            else if (rc != SQLITE_DONE)
                err = db_fail(c->db, "kms alias insert", rc);
        }
        sqlite3_finalize(s);
    }
    return err;
}

cof_err sto_meta_kms_get(struct sto_meta *m, const char *id_or_alias, struct sto_kms_key *out)
{
    struct conn *c = NULL;
    memset(out, 0, sizeof(*out));
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = kms_lookup(c, id_or_alias, strncmp(id_or_alias, "alias/", 6) == 0, out);
    conn_put(m, c);
    return err;
}

cof_err sto_meta_kms_create(struct sto_meta *m, const struct sto_kms_key *k, const char *alias,
                            bool existing_ok, struct sto_kms_key *out)
{
    struct conn *c = NULL;
    memset(out, 0, sizeof(*out));
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err != COF_OK) {
        conn_put(m, c);
        return err;
    }
    /* With existing_ok, a key already known by this alias (or id) wins: concurrent first uses
     * of "aws/s3" agree on one key. */
    if (existing_ok) {
        err = kms_lookup(c, alias != NULL ? alias : k->id, alias != NULL, out);
        if (err == COF_OK) {
            err = wr_end(m, c, COF_OK);
            conn_put(m, c);
            return err;
        }
        if (err != COF_ERR_NOT_FOUND) {
            (void)wr_end(m, c, err);
            conn_put(m, c);
            return err;
        }
    }
    err = kms_insert(c, k, alias);
    if (err == COF_OK)
        err = kms_lookup(c, k->id, false, out);
    err = wr_end(m, c, err);
    if (err != COF_OK)
        sto_kms_key_cleanup(out);
    conn_put(m, c);
    return err;
}

struct kms_args {
    const char *a, *b;
    int64_t n;
};

static void bind_kms_args(sqlite3_stmt *s, const void *arg)
{
    const struct kms_args *k = arg;
    sqlite3_bind_text(s, 1, k->a, -1, SQLITE_STATIC);
    if (k->b != NULL)
        sqlite3_bind_text(s, 2, k->b, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, k->n);
}

static cof_err kms_exec(struct sto_meta *m, const char *sql, const char *a, const char *b,
                        int64_t n, bool must_change)
{
    struct kms_args args = {a, b, n};
    int changes = 0;
    cof_err err = write_once(m, "kms update", sql, bind_kms_args, &args, &changes);
    if (err == COF_OK && must_change && changes == 0)
        err = COF_ERR_NOT_FOUND;
    return err;
}

cof_err sto_meta_kms_set_state(struct sto_meta *m, const char *id, const char *state,
                               int64_t deletion_ms)
{
    return kms_exec(m, "UPDATE kms_keys SET state = ?2, deletion_ms = ?3 WHERE id = ?1", id, state,
                    deletion_ms, true);
}

cof_err sto_meta_kms_set_alias(struct sto_meta *m, const char *alias, const char *key_id)
{
    /* The key must exist: the foreign key refuses a dangling alias. */
    return kms_exec(m,
                    "INSERT INTO kms_aliases (alias, key_id) SELECT ?1, ?2 WHERE ?3 = ?3 AND "
                    "EXISTS (SELECT 1 FROM kms_keys WHERE id = ?2)",
                    alias, key_id, 0, true);
}

cof_err sto_meta_kms_each(struct sto_meta *m, sto_kms_key_fn cb, void *arg)
{
    struct conn *c = NULL;
    sqlite3_stmt *s = NULL;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = kms_prepare(c, "SELECT " KMS_COLS " FROM kms_keys k ORDER BY k.created_ms, k.id", &s);
    while (err == COF_OK) {
        int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = db_fail(c->db, "kms list", rc);
            break;
        }
        struct sto_kms_key k;
        err = kms_row(s, &k);
        if (err == COF_OK)
            err = cb(&k, arg);
        sto_kms_key_cleanup(&k);
    }
    sqlite3_finalize(s);
    conn_put(m, c);
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Buckets and their configuration documents, with the in-memory config cache in front of the
 * reads. Speaks storage only. */
#include "storage/bucket.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/cfgcache.h"
#include "storage/internal.h"

static const struct sto_sql q_bucket_insert =
    STO_SQL(BUCKET_INSERT, "INSERT INTO buckets (name, region, created_ms, owner)"
                           " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO NOTHING");
static const struct sto_sql q_bucket_get =
    STO_SQL(BUCKET_GET, "SELECT name, region, created_ms, owner FROM buckets WHERE name = ?1");
static const struct sto_sql q_bucket_exists =
    STO_SQL(BUCKET_EXISTS, "SELECT 1 FROM buckets WHERE name = ?1");
/* Uploads in progress keep a bucket from being deleted, like objects. */
static const struct sto_sql q_bucket_has_objects =
    STO_SQL(BUCKET_HAS_OBJECTS, "SELECT 1 FROM objects WHERE bucket = ?1 UNION ALL"
                                " SELECT 1 FROM object_versions WHERE bucket = ?1 UNION ALL"
                                " SELECT 1 FROM uploads WHERE bucket = ?1 LIMIT 1");
/* bucket_configs rows go with it (ON DELETE CASCADE). */
static const struct sto_sql q_bucket_delete =
    STO_SQL(BUCKET_DELETE, "DELETE FROM buckets WHERE name = ?1");
static const struct sto_sql q_bucket_list =
    STO_SQL(BUCKET_LIST, "SELECT name, region, created_ms, owner FROM buckets ORDER BY name");
static const struct sto_sql q_config_get =
    STO_SQL(CONFIG_GET, "SELECT value FROM bucket_configs WHERE bucket = ?1 AND name = ?2");
static const struct sto_sql q_config_set =
    STO_SQL(CONFIG_SET, "INSERT INTO bucket_configs (bucket, name, value) VALUES (?1, ?2, ?3)"
                        " ON CONFLICT (bucket, name) DO UPDATE SET value = excluded.value");
static const struct sto_sql q_config_delete =
    STO_SQL(CONFIG_DELETE, "DELETE FROM bucket_configs WHERE bucket = ?1 AND name = ?2");

cof_err sto_bucket_exists(struct sto_conn *c, const char *bucket)
{
    bool row = false;
    cof_err err = sto_q_run(c, &q_bucket_exists, bucket, NULL, NULL, &row);
    if (err == COF_OK && !row)
        err = COF_ERR_NO_BUCKET;
    return err;
}

static cof_err row_bucket(sqlite3_stmt *s, struct sto_bucket *b)
{
    memset(b, 0, sizeof(*b));
    cof_err err = sto_col_text(s, 0, &b->name);
    if (err == COF_OK)
        err = sto_col_text(s, 1, &b->region);
    b->created_ms = sqlite3_column_int64(s, 2);
    if (err == COF_OK)
        err = sto_col_text(s, 3, &b->owner);
    if (err != COF_OK)
        sto_bucket_cleanup(b);
    return err;
}

void sto_bucket_cleanup(struct sto_bucket *b)
{
    if (b == NULL)
        return;
    free(b->name);
    free(b->region);
    free(b->owner);
    memset(b, 0, sizeof(*b));
}

/* ---- buckets -------------------------------------------------------------------------------- */

cof_err sto_meta_create_bucket(struct sto_meta *m, const char *name, const char *region,
                               int64_t created_ms)
{
    return sto_meta_create_bucket_for(m, name, region, STO_DEFAULT_OWNER, created_ms);
}

cof_err sto_meta_create_bucket_for(struct sto_meta *m, const char *name, const char *region,
                                   const char *owner, int64_t created_ms)
{
    struct sto_q q;
    int changes = 0;
    if (name == NULL || region == NULL || owner == NULL)
        COF_BUG("sto_meta_create_bucket: NULL name, region or owner");
    sto_write_open(m, &q_bucket_insert, &q);
    sto_q_text(&q, 1, name);
    sto_q_text(&q, 2, region);
    sto_q_int(&q, 3, created_ms);
    sto_q_text(&q, 4, owner);
    /* ON CONFLICT DO NOTHING: a name already taken changes no row. */
    cof_err err = sto_write_close(m, &q, &changes);
    if (err == COF_OK && changes == 0)
        err = COF_ERR_BUCKET_EXISTS;
    cfg_cache_invalidate(m->cfg); /* cached NO_BUCKET answers */
    return err;
}

cof_err sto_meta_get_bucket(struct sto_meta *m, const char *name, struct sto_bucket *out)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_bucket_get, COF_OK);
    sto_q_text(&q, 1, name);
    bool row = sto_q_step(&q);
    if (row && out != NULL)
        err = row_bucket(q.s, out);
    err = sto_q_close(&q, err);
    if (err == COF_OK && !row)
        err = COF_ERR_NO_BUCKET;
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_delete_bucket(struct sto_meta *m, const char *name)
{
    struct sto_conn *c = NULL;
    bool row = false;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK)
        goto out;
    err = sto_bucket_exists(c, name);
    if (err == COF_OK)
        err = sto_q_run(c, &q_bucket_has_objects, name, NULL, NULL, &row);
    if (err == COF_OK && row)
        err = COF_ERR_BUCKET_NOT_EMPTY;
    if (err == COF_OK)
        err = sto_q_run(c, &q_bucket_delete, name, NULL, NULL, NULL);
    err = sto_tx_end(m, c, err);
    cfg_cache_invalidate(m->cfg);
out:
    sto_conn_put(m, c);
    return err;
}

cof_err sto_meta_list_buckets(struct sto_meta *m, sto_bucket_fn cb, void *arg)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_bucket_list, COF_OK);
    while (err == COF_OK && sto_q_step(&q)) {
        struct sto_bucket b;
        err = row_bucket(q.s, &b);
        if (err == COF_OK)
            err = cb(&b, arg);
        sto_bucket_cleanup(&b);
    }
    err = sto_q_close(&q, err);
    sto_conn_put(m, c);
    return err;
}

/* Cached like the config documents (every request on a bucket asks), under a name no
 * document can have. */
#define OWNER_CACHE_NAME " owner"

cof_err sto_meta_bucket_owner(struct sto_meta *m, const char *bucket, char owner[13])
{
    char *cached = NULL;
    cof_err err = COF_OK;
    if (!cfg_cache_get(m->cfg, bucket, OWNER_CACHE_NAME, &err, &cached)) {
        uint64_t gen = cfg_cache_gen(m->cfg);
        struct sto_bucket b;
        err = sto_meta_get_bucket(m, bucket, &b);
        if (err == COF_OK) {
            cached = b.owner;
            b.owner = NULL;
        }
        sto_bucket_cleanup(&b);
        if (err == COF_OK || err == COF_ERR_NO_BUCKET)
            cfg_cache_put(m->cfg, gen, bucket, OWNER_CACHE_NAME, err, cached);
    }
    if (err == COF_OK)
        snprintf(owner, 13, "%s", cached != NULL ? cached : STO_DEFAULT_OWNER);
    free(cached);
    return err;
}

/* ---- bucket configs ------------------------------------------------------------------------- */

cof_err sto_meta_get_bucket_config(struct sto_meta *m, const char *bucket, const char *name,
                                   char **out)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    bool row = false;
    cof_err err = COF_OK;
    *out = NULL;
    if (cfg_cache_get(m->cfg, bucket, name, &err, out))
        return err;
    uint64_t gen = cfg_cache_gen(m->cfg);
    err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    sto_q_open(&q, c, &q_config_get, COF_OK);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, name);
    row = sto_q_step(&q);
    if (row)
        err = sto_col_text(q.s, 0, out);
    err = sto_q_close(&q, err);
    /* Only a miss pays for telling a missing bucket from an unset document. */
    if (err == COF_OK && !row) {
        err = sto_bucket_exists(c, bucket);
        if (err == COF_OK)
            err = COF_ERR_NOT_FOUND;
    }
    sto_conn_put(m, c);
    if (err == COF_OK || err == COF_ERR_NOT_FOUND || err == COF_ERR_NO_BUCKET)
        cfg_cache_put(m->cfg, gen, bucket, name, err, *out);
    return err;
}

cof_err sto_meta_set_bucket_config(struct sto_meta *m, const char *bucket, const char *name,
                                   const char *value)
{
    struct sto_conn *c = NULL;
    struct sto_q q;
    cof_err err = sto_conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = sto_tx_begin(m, c);
    if (err != COF_OK)
        goto out;
    err = sto_bucket_exists(c, bucket);
    sto_q_open(&q, c, value != NULL ? &q_config_set : &q_config_delete, err);
    sto_q_text(&q, 1, bucket);
    sto_q_text(&q, 2, name);
    if (value != NULL)
        sto_q_text(&q, 3, value);
    (void)sto_q_step(&q);
    err = sto_q_close(&q, err);
    err = sto_tx_end(m, c, err);
    cfg_cache_invalidate(m->cfg);
out:
    sto_conn_put(m, c);
    return err;
}

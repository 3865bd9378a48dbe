/* SPDX-License-Identifier: Apache-2.0 */
/* Buckets and their configuration documents (with the config cache). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "storage/cfgcache.h"
#include "storage/internal.h"
#include "storage/meta.h"

cof_err bucket_exists(struct conn *c, const char *bucket)
{
    bool row = false;
    cof_err err = run2(c, ST_BUCKET_EXISTS, bucket, NULL, &row);
    if (err == COF_OK && !row)
        err = COF_ERR_NO_BUCKET;
    return err;
}

static cof_err row_bucket(sqlite3_stmt *s, struct sto_bucket *b)
{
    memset(b, 0, sizeof(*b));
    cof_err err = col_text(s, 0, &b->name);
    if (err == COF_OK)
        err = col_text(s, 1, &b->region);
    b->created_ms = sqlite3_column_int64(s, 2);
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
    memset(b, 0, sizeof(*b));
}

/* ---- buckets -------------------------------------------------------------------------------- */

cof_err sto_meta_create_bucket(struct sto_meta *m, const char *name, const char *region,
                               int64_t created_ms)
{
    struct conn *c = NULL;
    enum st id = ST_BUCKET_INSERT;
    bool row = false;
    if (name == NULL || region == NULL)
        COF_BUG("sto_meta_create_bucket: NULL name or region");
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err != COF_OK)
        goto out;
    err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, name);
    if (err == COF_OK)
        err = bind_str(c, id, 2, region);
    if (err == COF_OK)
        err = bind_i64(c, id, 3, created_ms);
    if (err == COF_OK)
        err = step(c, id, &row);
    finish(c, id);
    if (err == COF_OK && sqlite3_changes(c->db) == 0)
        err = COF_ERR_BUCKET_EXISTS;
    err = wr_end(m, c, err);
    cfg_cache_invalidate(m->cfg); /* cached NO_BUCKET answers */
out:
    conn_put(m, c);
    return err;
}

cof_err sto_meta_get_bucket(struct sto_meta *m, const char *name, struct sto_bucket *out)
{
    struct conn *c = NULL;
    enum st id = ST_BUCKET_GET;
    bool row = false;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, name);
    if (err == COF_OK)
        err = step(c, id, &row);
    if (err == COF_OK && !row)
        err = COF_ERR_NO_BUCKET;
    if (err == COF_OK && out != NULL)
        err = row_bucket(c->st[id], out);
    finish(c, id);
    conn_put(m, c);
    return err;
}

cof_err sto_meta_delete_bucket(struct sto_meta *m, const char *name)
{
    struct conn *c = NULL;
    bool row = false;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err != COF_OK)
        goto out;
    err = bucket_exists(c, name);
    if (err == COF_OK)
        err = run2(c, ST_BUCKET_HAS_OBJECTS, name, NULL, &row);
    if (err == COF_OK && row)
        err = COF_ERR_BUCKET_NOT_EMPTY;
    if (err == COF_OK)
        err = run2(c, ST_BUCKET_DELETE, name, NULL, NULL);
    err = wr_end(m, c, err);
    cfg_cache_invalidate(m->cfg);
out:
    conn_put(m, c);
    return err;
}

cof_err sto_meta_list_buckets(struct sto_meta *m, sto_bucket_fn cb, void *arg)
{
    struct conn *c = NULL;
    enum st id = ST_BUCKET_LIST;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = prep(c, id);
    for (bool row = true; err == COF_OK;) {
        struct sto_bucket b;
        err = step(c, id, &row);
        if (err != COF_OK || !row)
            break;
        err = row_bucket(c->st[id], &b);
        if (err == COF_OK)
            err = cb(&b, arg);
        sto_bucket_cleanup(&b);
    }
    finish(c, id);
    conn_put(m, c);
    return err;
}

/* ---- bucket configs ------------------------------------------------------------------------- */

cof_err sto_meta_get_bucket_config(struct sto_meta *m, const char *bucket, const char *name,
                                   char **out)
{
    struct conn *c = NULL;
    enum st id = ST_CONFIG_GET;
    bool row = false;
    cof_err err = COF_OK;
    *out = NULL;
    if (cfg_cache_get(m->cfg, bucket, name, &err, out))
        return err;
    uint64_t gen = cfg_cache_gen(m->cfg);
    err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, bucket);
    if (err == COF_OK)
        err = bind_str(c, id, 2, name);
    if (err == COF_OK)
        err = step(c, id, &row);
    if (err == COF_OK && row)
        err = col_text(c->st[id], 0, out);
    finish(c, id);
    /* Only a miss pays for telling a missing bucket from an unset document. */
    if (err == COF_OK && !row) {
        err = bucket_exists(c, bucket);
        if (err == COF_OK)
            err = COF_ERR_NOT_FOUND;
    }
    conn_put(m, c);
    if (err == COF_OK || err == COF_ERR_NOT_FOUND || err == COF_ERR_NO_BUCKET)
        cfg_cache_put(m->cfg, gen, bucket, name, err, *out);
    return err;
}

cof_err sto_meta_set_bucket_config(struct sto_meta *m, const char *bucket, const char *name,
                                   const char *value)
{
    struct conn *c = NULL;
    enum st id = value != NULL ? ST_CONFIG_SET : ST_CONFIG_DELETE;
    bool row = false;
    cof_err err = conn_get(m, &c);
    if (err != COF_OK)
        return err;
    err = wr_begin(m, c);
    if (err != COF_OK)
        goto out;
    err = bucket_exists(c, bucket);
    if (err == COF_OK)
        err = prep(c, id);
    if (err == COF_OK)
        err = bind_str(c, id, 1, bucket);
    if (err == COF_OK)
        err = bind_str(c, id, 2, name);
    if (err == COF_OK && value != NULL)
        err = bind_str(c, id, 3, value);
    if (err == COF_OK)
        err = step(c, id, &row);
    finish(c, id);
    err = wr_end(m, c, err);
    cfg_cache_invalidate(m->cfg);
out:
    conn_put(m, c);
    return err;
}

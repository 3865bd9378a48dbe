/* SPDX-License-Identifier: Apache-2.0 */
/* The lifecycle sweeper: walks every bucket that has lifecycle rules, in bounded steps, and
 * expires current versions, removes noncurrent versions and lone delete markers, and aborts old
 * uploads, through the storage calls client deletes use. Never removes a row that changed since
 * it was read (sto_meta_expire_version, conditional delete markers). */
#include "ops/lcsweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "object/gc.h"
#include "ops/versions.h"
#include "s3/lifecycle.h"
#include "s3/tagging.h"
#include "storage/meta.h"

#define LC_RID "lifecycle" /* log tag of the sweeper's messages */

void ops_lc_cursor_cleanup(struct ops_lc_cursor *c)
{
    if (c == NULL)
        return;
    free(c->bucket);
    free(c->key);
    free(c->upload_id);
    memset(c, 0, sizeof(*c));
}

bool ops_lc_may_remove(struct obj_ctx *ctx, const struct sto_object *v)
{
    /* Object Lock: a version under retention or legal hold is kept, judged by the real clock
     * even when a run is told another `now` (a test's future must not unlock anything); storage
     * checks again inside the removal's transaction. */
    (void)ctx;
    return !sto_version_is_locked(v, cof_now_ms(), false);
}

/* ---- a batch of versions -----------------------------------------------------------------------
 */

struct batch {
    struct sto_object *v;
    size_t n, cap, budget;
    bool more; /* the listing stopped early: more keys follow */
    cof_err err;
};

static void batch_cleanup(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        sto_object_cleanup(&b->v[i]);
    free(b->v);
    memset(b, 0, sizeof(*b));
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* The fields the sweep decides on and its conditional removals compare. */
static cof_err copy_row(const struct sto_object *o, struct sto_object *out)
{
    memset(out, 0, sizeof(*out));
    out->bucket = strdup(o->bucket);
    out->key = strdup(o->key);
    out->version_id = strdup(o->version_id != NULL ? o->version_id : "null");
    out->etag = dup_or_null(o->etag);
    out->headers = dup_or_null(o->headers);
    out->blob_id = dup_or_null(o->blob_id);
    out->size = o->size;
    out->mtime_ms = o->mtime_ms;
    out->delete_marker = o->delete_marker;
    out->is_latest = o->is_latest;
    out->part_count = o->part_count;
    bool ok = out->bucket != NULL && out->key != NULL && out->version_id != NULL &&
              (o->etag == NULL || out->etag != NULL) &&
              (o->headers == NULL || out->headers != NULL) &&
              (o->blob_id == NULL || out->blob_id != NULL);
    if (!ok)
        sto_object_cleanup(out);
    return ok ? COF_OK : COF_ERR_NOMEM;
}

/* Collects versions; past the budget, stops at the first row of a new key. */
static cof_err collect(const struct sto_object *o, void *arg)
{
    struct batch *b = arg;
    if (b->n >= b->budget && strcmp(o->key, b->v[b->n - 1].key) != 0) {
        b->more = true;
        return COF_ERR_NOT_FOUND;
    }
    if (b->n == b->cap) {
        size_t cap = b->cap != 0 ? b->cap * 2 : 64;
        struct sto_object *v = realloc(b->v, cap * sizeof(*v));
        if (v == NULL)
            return COF_ERR_NOMEM;
        b->v = v;
        b->cap = cap;
    }
    cof_err err = copy_row(o, &b->v[b->n]);
    if (err == COF_OK)
        b->n++;
    return err;
}

/* ---- decisions ---------------------------------------------------------------------------------
 */

struct bucket_state {
    struct obj_ctx *ctx;
    const char *bucket;
    struct srv_lc_config cfg;
    enum ops_versioning versioning;
    int64_t now_ms;
    struct ops_lc_counts *counts;
};

static cof_err versioning_of(struct sto_meta *m, const char *bucket, enum ops_versioning *out)
{
    char *v = NULL;
    *out = OPS_UNVERSIONED;
    cof_err err = sto_meta_get_bucket_config(m, bucket, OPS_VERSIONING_CONFIG, &v);
    if (err == COF_ERR_NOT_FOUND)
        return COF_OK;
    if (err == COF_OK && strcmp(v, "Enabled") == 0)
        *out = OPS_VERSIONING_ENABLED;
    else if (err == COF_OK && strcmp(v, "Suspended") == 0)
        *out = OPS_VERSIONING_SUSPENDED;
    free(v);
    return err;
}

static cof_err tags_of(const struct sto_object *o, char **out)
{
    return srv_tagging_from_block(o->headers, out);
}

/* A permanent, conditional removal through the gate; counts it. */
static cof_err remove_for_good(struct bucket_state *bs, const struct sto_object *v, bool lone)
{
    bool removed = false;
    if (!ops_lc_may_remove(bs->ctx, v))
        return COF_OK;
    cof_err err = sto_meta_expire_version(bs->ctx->meta, v, lone, &removed);
    if (err == COF_OK && removed) {
        cof_log_debug(LC_RID, "removed %s/%s version %s", v->bucket, v->key, v->version_id);
        if (v->is_latest && !v->delete_marker)
            bs->counts->expired++;
        else
            bs->counts->removed++;
    }
    return err;
}

/* Versioned expiration: a delete marker on top, only while v is still the live version. */
static cof_err add_marker(struct bucket_state *bs, const struct sto_object *v)
{
    struct sto_object m = {0};
    char *replaced = NULL;
    struct sto_precond pc = {v->etag != NULL ? v->etag : "*", false};
    m.bucket = strdup(v->bucket);
    m.key = strdup(v->key);
    m.mtime_ms = bs->now_ms;
    m.delete_marker = true;
    cof_err err = m.bucket != NULL && m.key != NULL ? ops_version_new(bs->versioning, &m.version_id)
                                                    : COF_ERR_NOMEM;
    /* A suspended bucket's marker is the null version: replacing a null version removes it. */
    if (err == COF_OK && bs->versioning == OPS_VERSIONING_SUSPENDED &&
        strcmp(v->version_id, "null") == 0 && !ops_lc_may_remove(bs->ctx, v))
        goto out;
    if (err == COF_OK)
        err = sto_meta_put_object_if(bs->ctx->meta, &m, &pc, &replaced);
    if (err == COF_OK) {
        bs->counts->expired++;
        cof_log_debug(LC_RID, "delete marker on %s/%s", v->bucket, v->key);
    }
    if (err == COF_ERR_PRECONDITION || err == COF_ERR_NO_OBJECT)
        err = COF_OK; /* written or deleted since we looked: not ours to expire now */
    if (replaced != NULL)
        obj_blob_discard(bs->ctx, LC_RID, replaced, true);
out:
    free(replaced);
    sto_object_cleanup(&m);
    return err;
}

/* Noncurrent versions v[1..n): each became noncurrent when the next newer one was written. */
static cof_err sweep_noncurrent(struct bucket_state *bs, struct sto_object *v, size_t n,
                                size_t *kept)
{
    cof_err err = COF_OK;
    size_t newer = 0; /* noncurrent versions newer than v[i] that remain */
    *kept = 1;
    for (size_t i = 1; i < n && err == COF_OK; i++) {
        char *tags = NULL;
        bool due = false;
        err = tags_of(&v[i], &tags);
        for (size_t r = 0; err == COF_OK && r < bs->cfg.n && !due; r++) {
            const struct srv_lc_rule *rule = &bs->cfg.rules[r];
            if (!rule->enabled || !rule->has_noncurrent ||
                !srv_lc_filter_matches(&rule->filter, v[i].key, v[i].size, tags))
                continue;
            due = srv_lc_due(v[i - 1].mtime_ms, rule->nc_days) * 1000 <= bs->now_ms &&
                  newer >= (size_t)rule->nc_newer;
        }
        free(tags);
        size_t before = bs->counts->removed;
        if (err == COF_OK && due)
            err = remove_for_good(bs, &v[i], false);
        if (bs->counts->removed == before) {
            newer++;
            (*kept)++;
        }
    }
    return err;
}

static bool marker_rule(const struct bucket_state *bs, const char *key)
{
    for (size_t r = 0; r < bs->cfg.n; r++) {
        const struct srv_lc_rule *rule = &bs->cfg.rules[r];
        if (rule->enabled && rule->eodm == 1 && srv_lc_filter_matches(&rule->filter, key, 0, ""))
            return true;
    }
    return false;
}

/* The current version v[0] (when it is current). */
static cof_err sweep_current(struct bucket_state *bs, struct sto_object *cur, size_t remaining)
{
    if (cur->delete_marker) {
        /* ExpiredObjectDeleteMarker: a marker with no version left under it goes. */
        if (remaining == 1 && marker_rule(bs, cur->key))
            return remove_for_good(bs, cur, true);
        return COF_OK;
    }
    char *tags = NULL;
    int64_t due = 0;
    const struct srv_lc_rule *rule = NULL;
    cof_err err = tags_of(cur, &tags);
    bool expires = err == COF_OK &&
                   srv_lc_expiry(&bs->cfg, cur->key, cur->size, tags, cur->mtime_ms, &due, &rule);
    free(tags);
    if (err != COF_OK || !expires || due * 1000 > bs->now_ms)
        return err;
    if (bs->versioning == OPS_UNVERSIONED)
        return remove_for_good(bs, cur, false);
    return add_marker(bs, cur);
}

/* One key's versions, newest first. */
static cof_err sweep_key(struct bucket_state *bs, struct sto_object *v, size_t n)
{
    size_t kept = 1;
    bs->counts->scanned += n;
    cof_err err = sweep_noncurrent(bs, v, n, &kept);
    if (err == COF_OK && v[0].is_latest)
        err = sweep_current(bs, &v[0], kept);
    return err;
}

static unsigned long changes(const struct ops_lc_counts *c)
{
    return c->expired + c->removed + c->aborted;
}

/* ---- uploads -----------------------------------------------------------------------------------
 */

struct upload_batch {
    struct sto_upload *v;
    size_t n, cap;
};

static cof_err collect_upload(const struct sto_upload *u, void *arg)
{
    struct upload_batch *b = arg;
    if (b->n == b->cap) {
        size_t cap = b->cap != 0 ? b->cap * 2 : 64;
        struct sto_upload *v = realloc(b->v, cap * sizeof(*v));
        if (v == NULL)
            return COF_ERR_NOMEM;
        b->v = v;
        b->cap = cap;
    }
    struct sto_upload *c = &b->v[b->n];
    memset(c, 0, sizeof(*c));
    c->upload_id = strdup(u->upload_id);
    c->key = strdup(u->key);
    c->initiated_ms = u->initiated_ms;
    b->n++;
    return c->upload_id != NULL && c->key != NULL ? COF_OK : COF_ERR_NOMEM;
}

static bool upload_due(const struct bucket_state *bs, const struct sto_upload *u)
{
    for (size_t r = 0; r < bs->cfg.n; r++) {
        const struct srv_lc_rule *rule = &bs->cfg.rules[r];
        if (rule->enabled && rule->has_abort &&
            srv_lc_filter_matches_upload(&rule->filter, u->key) &&
            srv_lc_due(u->initiated_ms, rule->abort_days) * 1000 <= bs->now_ms)
            return true;
    }
    return false;
}

static bool has_abort_rule(const struct srv_lc_config *c)
{
    for (size_t r = 0; r < c->n; r++) {
        if (c->rules[r].enabled && c->rules[r].has_abort)
            return true;
    }
    return false;
}

/* Uploads after the cursor, at most budget; *more when the bucket may hold more. */
static cof_err sweep_uploads(struct bucket_state *bs, struct ops_lc_cursor *cur, size_t budget,
                             bool *more)
{
    struct upload_batch b = {NULL, 0, 0};
    cof_err err = sto_meta_uploads_list(bs->ctx->meta, bs->bucket, NULL, cur->key, cur->upload_id,
                                        budget, collect_upload, &b);
    *more = err == COF_OK && b.n >= budget;
    size_t done = 0;
    unsigned long before = changes(bs->counts);
    for (size_t i = 0; err == COF_OK && i < b.n && changes(bs->counts) - before < OPS_LC_CHANGES;
         i++) {
        done = i + 1;
        bs->counts->scanned++;
        if (!upload_due(bs, &b.v[i]))
            continue;
        err = sto_meta_upload_abort(bs->ctx->meta, b.v[i].upload_id);
        if (err == COF_OK) {
            bs->counts->aborted++;
            cof_log_debug(LC_RID, "aborted upload %s of %s/%s", b.v[i].upload_id, bs->bucket,
                          b.v[i].key);
        }
        if (err == COF_ERR_NO_SUCH_UPLOAD)
            err = COF_OK; /* completed or aborted meanwhile */
    }
    *more = *more || (err == COF_OK && done < b.n);
    if (err == COF_OK && done > 0) {
        free(cur->key);
        free(cur->upload_id);
        cur->key = strdup(b.v[done - 1].key);
        cur->upload_id = strdup(b.v[done - 1].upload_id);
        if (cur->key == NULL || cur->upload_id == NULL)
            err = COF_ERR_NOMEM;
    }
    for (size_t i = 0; i < b.n; i++)
        sto_upload_cleanup(&b.v[i]);
    free(b.v);
    return err;
}

/* ---- versions ----------------------------------------------------------------------------------
 */

/* Keys after the cursor: up to budget versions looked at, and at most OPS_LC_CHANGES changes
 * made (the cursor then stops after the last key done, so that a step never holds the writer
 * for long). */
static cof_err sweep_versions(struct bucket_state *bs, struct ops_lc_cursor *cur, size_t budget,
                              bool *more)
{
    struct batch b = {NULL, 0, 0, budget, false, COF_OK};
    unsigned long before = changes(bs->counts);
    size_t done = 0; /* rows of the keys swept */
    cof_err err =
        sto_meta_list_versions(bs->ctx->meta, bs->bucket, NULL, cur->key, NULL, collect, &b);
    size_t start = 0;
    for (size_t i = 1; err == COF_OK && i <= b.n; i++) {
        if (i < b.n && strcmp(b.v[i].key, b.v[start].key) == 0)
            continue;
        err = sweep_key(bs, &b.v[start], i - start);
        start = i;
        done = i;
        if (changes(bs->counts) - before >= OPS_LC_CHANGES)
            break;
    }
    *more = b.more || done < b.n;
    if (err == COF_OK && done > 0) {
        free(cur->key);
        cur->key = strdup(b.v[done - 1].key);
        if (cur->key == NULL)
            err = COF_ERR_NOMEM;
    }
    batch_cleanup(&b);
    return err;
}

/* ---- buckets -----------------------------------------------------------------------------------
 */

struct next_bucket {
    const char *after; /* NULL: the first */
    char *name;
};

static cof_err find_next(const struct sto_bucket *b, void *arg)
{
    struct next_bucket *nb = arg;
    if (nb->after != NULL && strcmp(b->name, nb->after) <= 0)
        return COF_OK;
    nb->name = strdup(b->name);
    return nb->name != NULL ? COF_ERR_NOT_FOUND : COF_ERR_NOMEM;
}

/* Moves the cursor to the bucket after its current one (NULL at the end of the pass). */
static cof_err next_bucket(struct sto_meta *m, struct ops_lc_cursor *cur)
{
    struct next_bucket nb = {cur->bucket, NULL};
    cof_err err = sto_meta_list_buckets(m, find_next, &nb);
    if (err == COF_ERR_NOT_FOUND)
        err = COF_OK;
    free(cur->bucket);
    free(cur->key);
    free(cur->upload_id);
    cur->bucket = err == COF_OK ? nb.name : NULL;
    if (err != COF_OK)
        free(nb.name);
    cur->key = NULL;
    cur->upload_id = NULL;
    cur->phase = 0;
    return err;
}

/* Reads the bucket's rules; *found false when it has none (or vanished). */
static cof_err load_rules(struct bucket_state *bs, bool *found)
{
    char *doc = NULL;
    struct srv_problem prob;
    *found = false;
    cof_err err = sto_meta_get_bucket_config(bs->ctx->meta, bs->bucket, SRV_LC_CONFIG, &doc);
    if (err == COF_ERR_NOT_FOUND || err == COF_ERR_NO_BUCKET)
        return COF_OK;
    if (err == COF_OK)
        err = srv_lc_parse(doc, strlen(doc), &bs->cfg, &prob);
    free(doc);
    if (err == COF_OK)
        err = versioning_of(bs->ctx->meta, bs->bucket, &bs->versioning);
    *found = err == COF_OK;
    if (err == COF_ERR_NO_BUCKET)
        err = COF_OK;
    return err;
}

/* Works on the cursor's bucket, at most budget rows; *bucket_done when it has no more. */
static cof_err sweep_bucket(struct obj_ctx *ctx, struct ops_lc_cursor *cur, int64_t now_ms,
                            size_t budget, struct ops_lc_counts *counts, bool *bucket_done)
{
    struct bucket_state bs = {ctx, cur->bucket, {NULL, 0}, OPS_UNVERSIONED, now_ms, counts};
    bool found = false, more = false;
    cof_err err = load_rules(&bs, &found);
    *bucket_done = true;
    if (err != COF_OK || !found)
        goto out;
    if (cur->phase == 0) {
        err = sweep_versions(&bs, cur, budget, &more);
        if (err == COF_OK && !more) {
            cur->phase = 1;
            free(cur->key);
            cur->key = NULL;
            more = has_abort_rule(&bs.cfg);
        }
    } else {
        err = sweep_uploads(&bs, cur, budget, &more);
    }
    *bucket_done = !more;
out:
    if (err == COF_ERR_NO_BUCKET) /* deleted meanwhile */
        err = COF_OK;
    if (err != COF_OK)
        cof_log_warn(LC_RID, "bucket %s: %s (skipped this pass)", cur->bucket, cof_err_name(err));
    srv_lc_config_cleanup(&bs.cfg);
    return err;
}

cof_err ops_lc_step(struct obj_ctx *ctx, struct ops_lc_cursor *cur, int64_t now_ms, size_t budget,
                    struct ops_lc_counts *counts, bool *out_done)
{
    cof_err err = COF_OK;
    bool bucket_done = true;
    *out_done = false;
    if (cur->bucket == NULL) {
        err = next_bucket(ctx->meta, cur);
        if (err != COF_OK || cur->bucket == NULL) {
            *out_done = err == COF_OK;
            return err;
        }
    }
    err = sweep_bucket(ctx, cur, now_ms, budget, counts, &bucket_done);
    (void)obj_gc_drain(ctx); /* what this step removed; a failure is retried by the next one */
    if (err != COF_OK)       /* logged; the rest of the pass goes on */
        bucket_done = true;
    if (bucket_done)
        err = next_bucket(ctx->meta, cur);
    *out_done = err == COF_OK && cur->bucket == NULL;
    return err;
}

cof_err ops_lc_run(struct obj_ctx *ctx, int64_t now_ms, struct ops_lc_counts *counts)
{
    struct ops_lc_cursor cur = {0};
    bool done = false;
    cof_err err = COF_OK;
    while (err == COF_OK && !done)
        err = ops_lc_step(ctx, &cur, now_ms, OPS_LC_BUDGET, counts, &done);
    ops_lc_cursor_cleanup(&cur);
    return err;
}

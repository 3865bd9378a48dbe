/* SPDX-License-Identifier: Apache-2.0 */
/* ListObjects (v1) and ListObjectsV2: prefix, delimiter roll-up, markers and continuation
 * tokens. Each page seeks in the key index: a rolled-up common prefix is skipped by restarting
 * the scan at the prefix's successor, never by walking the keys under it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/httpfmt.h"
#include "ops/handlers.h"
#include "ops/expiration.h"
#include "ops/listparams.h"
#include "ops/req.h"
#include "s3/xml.h"
#include "storage/meta.h"

#define TOKEN_MAGIC "cof1:"

struct list_entry {
    char *key;
    char *etag;
    uint64_t size;
    int64_t mtime_ms;
    const char *storage_class; /* borrowed from the page's rules, or a literal */
};

struct list_page {
    const char *prefix;
    const char *delim;
    size_t max;
    size_t count; /* keys + common prefixes emitted */
    bool truncated;
    char *last;         /* last key or common prefix emitted (malloc'd) */
    char *seek;         /* next scan start when a prefix was rolled up (malloc'd) */
    const char *marker; /* start-after / marker / token cursor: common prefixes <= it are skipped */
    struct list_entry *keys; /* up to max entries, in order */
    size_t n_keys;
    char **prefixes;
    size_t n_prefixes;
    bool fetch_owner;
    bool url;
    struct ops_lc_rules rules; /* lifecycle transitions change the reported class */
    cof_err err;
};

/* Smallest string greater than every string starting with p, or NULL when there is none. */
static char *successor(const char *p)
{
    size_t n = strlen(p);
    while (n > 0 && (unsigned char)p[n - 1] == 0xFF)
        n--;
    if (n == 0)
        return NULL;
    char *s = malloc(n + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, p, n);
    s[n - 1] = (char)((unsigned char)s[n - 1] + 1);
    s[n] = '\0';
    return s;
}

static cof_err set_last(struct list_page *pg, const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c == NULL)
        return COF_ERR_NOMEM;
    memcpy(c, s, n);
    c[n] = '\0';
    free(pg->last);
    pg->last = c;
    return COF_OK;
}

static cof_err elem_key(struct list_page *pg, struct srv_xml *x, const char *name,
                        const char *value)
{
    return ops_xml_key(x, name, value, pg->url);
}

static cof_err on_row(const struct sto_object *o, void *arg)
{
    struct list_page *pg = arg;
    size_t plen = strlen(pg->prefix);
    if (pg->delim != NULL && pg->delim[0] != '\0') {
        const char *d = strstr(o->key + plen, pg->delim);
        if (d != NULL) {
            size_t cplen = (size_t)(d - o->key) + strlen(pg->delim);
            if (pg->marker != NULL && strncmp(o->key, pg->marker, cplen) <= 0 &&
                strlen(pg->marker) >= cplen) {
                /* Rolled into a prefix the previous page already returned. */
            } else {
                if (pg->count == pg->max) {
                    pg->truncated = true;
                    return COF_ERR_NOT_FOUND;
                }
                pg->err = set_last(pg, o->key, cplen);
                if (pg->err != COF_OK)
                    return pg->err;
                pg->prefixes[pg->n_prefixes] = strdup(pg->last);
                if (pg->prefixes[pg->n_prefixes] == NULL)
                    return pg->err = COF_ERR_NOMEM;
                pg->n_prefixes++;
                pg->count++;
            }
            char cp[1100];
            if (cplen >= sizeof(cp))
                cplen = sizeof(cp) - 1;
            memcpy(cp, o->key, cplen);
            cp[cplen] = '\0';
            free(pg->seek);
            pg->seek = successor(cp);
            return COF_ERR_NOT_FOUND; /* restart the scan past this prefix */
        }
    }
    if (pg->count == pg->max) {
        pg->truncated = true;
        return COF_ERR_NOT_FOUND;
    }
    pg->err = set_last(pg, o->key, strlen(o->key));
    if (pg->err != COF_OK)
        return pg->err;
    struct list_entry *e = &pg->keys[pg->n_keys];
    e->key = strdup(o->key);
    e->etag = strdup(o->etag);
    e->size = o->size;
    e->mtime_ms = o->mtime_ms;
    e->storage_class = "STANDARD";
    pg->n_keys++;
    if (e->key == NULL || e->etag == NULL)
        return pg->err = COF_ERR_NOMEM;
    if (pg->rules.cfg.n > 0) {
        char *tags = NULL;
        pg->err = srv_tagging_from_block(o->headers, &tags);
        if (pg->err == COF_OK)
            e->storage_class = ops_lc_storage_class(&pg->rules, o, tags);
        free(tags);
        if (pg->err != COF_OK)
            return pg->err;
    }
    pg->count++;
    return COF_OK;
}

static void write_entry(struct list_page *pg, struct srv_xml *x, const struct list_entry *e)
{
    char iso[32], etag[80];
    srv_iso8601_format(e->mtime_ms, iso);
    snprintf(etag, sizeof(etag), "\"%s\"", e->etag);
    srv_xml_open(x, "Contents");
    (void)elem_key(pg, x, "Key", e->key);
    srv_xml_elem(x, "LastModified", iso);
    srv_xml_elem(x, "ETag", etag);
    srv_xml_elem_u64(x, "Size", e->size);
    if (pg->fetch_owner) {
        srv_xml_open(x, "Owner");
        srv_xml_elem(x, "ID", SRV_OWNER_ID);
        srv_xml_elem(x, "DisplayName", SRV_OWNER_NAME);
        srv_xml_close(x);
    }
    srv_xml_elem(x, "StorageClass", e->storage_class);
    srv_xml_close(x);
}

/* Fills the page starting after `after` (exclusive; NULL = from the start). */
static cof_err run_page(struct srv_req *req, struct list_page *pg, const char *after)
{
    char *from = after != NULL ? strdup(after) : NULL;
    bool inclusive = false;
    cof_err err = COF_OK;
    if (after != NULL && from == NULL)
        return COF_ERR_NOMEM;
    while (err == COF_OK && !pg->truncated && pg->count <= pg->max) {
        free(pg->seek);
        pg->seek = NULL;
        size_t before = pg->count;
        /* One row more than needed tells whether the page is truncated. */
        size_t limit = pg->max - pg->count + 1;
        err = sto_meta_list_objects(req->ctx->obj.meta, req->route.bucket, from, inclusive,
                                    pg->prefix, limit, on_row, pg);
        if (err == COF_OK)
            err = pg->err;
        if (err != COF_OK || pg->truncated)
            break;
        if (pg->seek != NULL) {
            free(from);
            from = pg->seek;
            pg->seek = NULL;
            inclusive = true;
            continue;
        }
        if (pg->seek == NULL && pg->count == before)
            break; /* no rows left */
        if (pg->count - before < limit)
            break; /* the scan ended before the limit: no rows left */
        /* Exactly `limit` keys were emitted: continue after the last one. */
        free(from);
        from = strdup(pg->last);
        inclusive = false;
        if (from == NULL)
            err = COF_ERR_NOMEM;
    }
    free(from);
    return err;
}

static cof_err encode_token(const char *cursor, char **out)
{
    size_t n = strlen(TOKEN_MAGIC) + strlen(cursor);
    char *raw = malloc(n + 1);
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (raw == NULL || b64 == NULL) {
        free(raw);
        free(b64);
        return COF_ERR_NOMEM;
    }
    snprintf(raw, n + 1, "%s%s", TOKEN_MAGIC, cursor);
    srv_base64_encode((const uint8_t *)raw, n, b64);
    free(raw);
    *out = b64;
    return COF_OK;
}

static cof_err decode_token(const char *tok, char **out)
{
    size_t cap = strlen(tok);
    uint8_t *raw = malloc(cap + 1);
    size_t n = 0;
    if (raw == NULL)
        return COF_ERR_NOMEM;
    size_t ml = strlen(TOKEN_MAGIC);
    if (srv_base64_decode(tok, raw, cap, &n) != COF_OK || n < ml ||
        memcmp(raw, TOKEN_MAGIC, ml) != 0 || memchr(raw, '\0', n) != NULL) {
        free(raw);
        return COF_ERR_BAD_CONTINUATION;
    }
    memmove(raw, raw + ml, n - ml);
    raw[n - ml] = '\0';
    *out = (char *)raw;
    return COF_OK;
}

static cof_err list_objects(struct srv_req *req, int version)
{
    struct list_page pg;
    struct srv_xml *x = NULL;
    char *doc = NULL, *cursor = NULL, *next_token = NULL;
    size_t len = 0;
    memset(&pg, 0, sizeof(pg));
    const struct srv_query *q = &req->query;

    struct ops_list_params lp;
    cof_err err = ops_list_params(req, &lp);
    if (err != COF_OK)
        return err;
    pg.max = lp.max;
    pg.url = lp.url;
    pg.prefix = lp.prefix;
    pg.delim = lp.delim;
    const char *token = version == 2 ? srv_query_get(q, "continuation-token") : NULL;
    const char *start_after =
        version == 2 ? srv_query_get(q, "start-after") : srv_query_get(q, "marker");
    pg.fetch_owner = version == 1;
    if (version == 2) {
        const char *fo = srv_query_get(q, "fetch-owner");
        pg.fetch_owner = fo != NULL && strcmp(fo, "true") == 0;
    }
    if (token != NULL) {
        err = decode_token(token, &cursor);
        if (err != COF_OK)
            return srv_fail_elem(req, err, NULL, "ArgumentName", "continuation-token");
    }
    const char *after = cursor != NULL ? cursor : start_after;
    if (after != NULL && after[0] == '\0')
        after = NULL;
    pg.marker = after;

    ops_lc_rules_load(req, req->route.bucket, &pg.rules);
    pg.keys = calloc(pg.max + 1, sizeof(*pg.keys));
    pg.prefixes = calloc(pg.max + 1, sizeof(*pg.prefixes));
    err = pg.keys != NULL && pg.prefixes != NULL ? COF_OK : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = srv_xml_new("ListBucketResult", &x);
    if (err == COF_OK && pg.max > 0)
        err = run_page(req, &pg, after);
    if (err != COF_OK)
        goto out;

    srv_xml_elem(x, "Name", req->route.bucket);
    (void)elem_key(&pg, x, "Prefix", pg.prefix);
    if (version == 1) {
        (void)elem_key(&pg, x, "Marker", start_after != NULL ? start_after : "");
        if (pg.truncated && pg.delim != NULL && pg.last != NULL)
            (void)elem_key(&pg, x, "NextMarker", pg.last);
    }
    if (version == 2) {
        srv_xml_elem_u64(x, "KeyCount", pg.count);
        if (token != NULL)
            srv_xml_elem(x, "ContinuationToken", token);
        if (pg.truncated && pg.last != NULL) {
            err = encode_token(pg.last, &next_token);
            if (err != COF_OK)
                goto out;
            srv_xml_elem(x, "NextContinuationToken", next_token);
        }
        if (start_after != NULL)
            (void)elem_key(&pg, x, "StartAfter", start_after);
    }
    srv_xml_elem_u64(x, "MaxKeys", pg.max);
    if (pg.delim != NULL)
        (void)elem_key(&pg, x, "Delimiter", pg.delim);
    if (pg.url)
        srv_xml_elem(x, "EncodingType", "url");
    srv_xml_elem(x, "IsTruncated", pg.truncated ? "true" : "false");
    for (size_t i = 0; i < pg.n_keys; i++)
        write_entry(&pg, x, &pg.keys[i]);
    for (size_t i = 0; i < pg.n_prefixes; i++) {
        srv_xml_open(x, "CommonPrefixes");
        (void)elem_key(&pg, x, "Prefix", pg.prefixes[i]);
        srv_xml_close(x);
    }
    if (err == COF_OK)
        err = srv_xml_finish(x, &doc, &len);
    if (err == COF_OK) {
        err = srv_reply_xml(req, 200, doc, len);
        doc = NULL;
    }
out:
    for (size_t i = 0; pg.keys != NULL && i < pg.n_keys; i++) {
        free(pg.keys[i].key);
        free(pg.keys[i].etag);
    }
    for (size_t i = 0; pg.prefixes != NULL && i < pg.n_prefixes; i++)
        free(pg.prefixes[i]);
    free(pg.keys);
    free(pg.prefixes);
    ops_lc_rules_cleanup(&pg.rules);
    free(doc);
    free(next_token);
    free(cursor);
    free(pg.last);
    free(pg.seek);
    srv_xml_free(x);
    return err;
}

cof_err ops_list_objects_v1(struct srv_req *req)
{
    return list_objects(req, 1);
}

cof_err ops_list_objects_v2(struct srv_req *req)
{
    return list_objects(req, 2);
}

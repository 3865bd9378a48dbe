/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket configuration cache: a direct-mapped table of CFG_SLOTS entries under one mutex. An
 * entry is valid only while its generation equals the table's, so invalidation is O(1) and stale
 * entries are overwritten lazily. */
#include "storage/cfgcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CFG_SLOTS 512

struct cfg_entry {
    uint64_t gen; /* 0: empty */
    char *bucket;
    char *name;
    char *value; /* NULL unless res == COF_OK */
    cof_err res;
};

struct cfg_cache {
    pthread_mutex_t mu;
    uint64_t gen; /* starts at 1 */
    struct cfg_entry slot[CFG_SLOTS];
};

static size_t slot_of(const char *bucket, const char *name)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over bucket NUL name */
    for (const char *p = bucket;; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        if (*p == '\0')
            break;
    }
    for (const char *p = name; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (size_t)(h % CFG_SLOTS);
}

static void entry_clear(struct cfg_entry *e)
{
    free(e->bucket);
    free(e->name);
    free(e->value);
    memset(e, 0, sizeof(*e));
}

cof_err cfg_cache_new(struct cfg_cache **out)
{
    struct cfg_cache *c = calloc(1, sizeof(*c));
    *out = NULL;
    if (c == NULL)
        return COF_ERR_NOMEM;
    pthread_mutex_init(&c->mu, NULL);
    c->gen = 1;
    *out = c;
    return COF_OK;
}

void cfg_cache_free(struct cfg_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < CFG_SLOTS; i++)
        entry_clear(&c->slot[i]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

uint64_t cfg_cache_gen(struct cfg_cache *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t g = c->gen;
    pthread_mutex_unlock(&c->mu);
    return g;
}

bool cfg_cache_get(struct cfg_cache *c, const char *bucket, const char *name, cof_err *res,
                   char **value)
{
    bool hit = false;
    *value = NULL;
    pthread_mutex_lock(&c->mu);
    struct cfg_entry *e = &c->slot[slot_of(bucket, name)];
    if (e->gen == c->gen && strcmp(e->bucket, bucket) == 0 && strcmp(e->name, name) == 0) {
        hit = true;
        *res = e->res;
        if (e->value != NULL) {
            *value = strdup(e->value);
            if (*value == NULL)
                *res = COF_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void cfg_cache_put(struct cfg_cache *c, uint64_t gen, const char *bucket, const char *name,
                   cof_err res, const char *value)
{
    struct cfg_entry fresh = {gen, strdup(bucket), strdup(name), NULL, res};
    if (value != NULL)
        fresh.value = strdup(value);
    if (fresh.bucket == NULL || fresh.name == NULL || (value != NULL && fresh.value == NULL)) {
        entry_clear(&fresh);
        return;
    }
    pthread_mutex_lock(&c->mu);
    if (gen == c->gen) {
        struct cfg_entry *e = &c->slot[slot_of(bucket, name)];
        struct cfg_entry old = *e;
        *e = fresh;
        memset(&fresh, 0, sizeof(fresh));
        pthread_mutex_unlock(&c->mu);
        entry_clear(&old);
        return;
    }
    pthread_mutex_unlock(&c->mu);
    entry_clear(&fresh);
}

void cfg_cache_invalidate(struct cfg_cache *c)
{
    pthread_mutex_lock(&c->mu);
    c->gen++;
    pthread_mutex_unlock(&c->mu);
}

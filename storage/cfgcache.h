/* SPDX-License-Identifier: Apache-2.0 */
/* A small in-memory cache of bucket configuration documents, so that the per-request lookups of
 * versioning state, policies and CORS rules cost a hash probe instead of a SQLite query. Private
 * to storage/ (each struct sto_meta owns one). Direct-mapped and bounded; invalidated wholesale by
 * a generation bump after any write that can change an answer (config set, bucket create/delete,
 * reset). */
#ifndef STO_CFGCACHE_H
#define STO_CFGCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct cfg_cache;

COF_MUST_CHECK cof_err cfg_cache_new(struct cfg_cache **out);
void cfg_cache_free(struct cfg_cache *c);
/* The generation to pass to cfg_cache_put for a database read that starts now. */
uint64_t cfg_cache_gen(struct cfg_cache *c);
/* true when (bucket, name) is cached: *res is the answer (COF_OK with *value malloc'd, or
 * COF_ERR_NOT_FOUND / COF_ERR_NO_BUCKET with *value NULL). COF_ERR_NOMEM in *res when the copy
 * fails. */
bool cfg_cache_get(struct cfg_cache *c, const char *bucket, const char *name, cof_err *res,
                   char **value);
/* Remembers an answer read from the database at generation gen; ignored if an invalidation
 * happened since (the answer may be stale) or on allocation failure. */
void cfg_cache_put(struct cfg_cache *c, uint64_t gen, const char *bucket, const char *name,
                   cof_err res, const char *value);
/* Forgets everything. Call after the write that changes an answer has committed. */
void cfg_cache_invalidate(struct cfg_cache *c);

#endif

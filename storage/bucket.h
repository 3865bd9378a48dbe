/* SPDX-License-Identifier: Apache-2.0 */
/* Buckets and their configuration documents (encryption, policy, CORS, ...: opaque text).
 * Config reads are answered from an in-memory cache that every write invalidates. */
#ifndef STO_BUCKET_H
#define STO_BUCKET_H

#include <stdint.h>

#include "common/err.h"
#include "storage/db.h"

struct sto_bucket {
    char *name;
    char *region;
    int64_t created_ms; /* Unix epoch milliseconds */
    char *owner;        /* the owner's account id, 12 digits */
};

/* The account that owns buckets made without one (LocalStack's default account). */
#define STO_DEFAULT_OWNER "000000000000"

/* Frees the members of b (not the struct itself) and zeroes them. Accepts NULL. */
void sto_bucket_cleanup(struct sto_bucket *b);

/* Buckets */
/* COF_ERR_BUCKET_EXISTS if the name is taken (by whichever owner). create_bucket makes it for
 * STO_DEFAULT_OWNER, create_bucket_for for the account owner (12 digits). */
COF_MUST_CHECK cof_err sto_meta_create_bucket(struct sto_meta *m, const char *name,
                                              const char *region, int64_t created_ms);
COF_MUST_CHECK cof_err sto_meta_create_bucket_for(struct sto_meta *m, const char *name,
                                                  const char *region, const char *owner,
                                                  int64_t created_ms);
/* The bucket's owner account into owner (read from a cache). COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_meta_bucket_owner(struct sto_meta *m, const char *bucket,
                                             char owner[13]);
/* COF_ERR_NO_BUCKET. out filled on COF_OK (caller cleans up); out may be NULL (existence). */
COF_MUST_CHECK cof_err sto_meta_get_bucket(struct sto_meta *m, const char *name,
                                           struct sto_bucket *out);
/* COF_ERR_NO_BUCKET, COF_ERR_BUCKET_NOT_EMPTY. Removes the bucket's configs too. */
COF_MUST_CHECK cof_err sto_meta_delete_bucket(struct sto_meta *m, const char *name);
/* Calls cb for each bucket in name order; cb's b is borrowed for the call. Non-OK from cb stops
 * the walk and is returned. */
typedef cof_err (*sto_bucket_fn)(const struct sto_bucket *b, void *arg);
COF_MUST_CHECK cof_err sto_meta_list_buckets(struct sto_meta *m, sto_bucket_fn cb, void *arg);

/* Per-bucket configuration documents by name ("encryption", "policy", ...): opaque text.
 * get: COF_ERR_NO_BUCKET, COF_ERR_NOT_FOUND when unset; *out is malloc'd, caller frees.
 * set: value NULL deletes; COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_meta_get_bucket_config(struct sto_meta *m, const char *bucket,
                                                  const char *name, char **out);
COF_MUST_CHECK cof_err sto_meta_set_bucket_config(struct sto_meta *m, const char *bucket,
                                                  const char *name, const char *value);

#endif

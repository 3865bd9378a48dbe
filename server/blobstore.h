/* SPDX-License-Identifier: Apache-2.0 */
/* Opens the blob store the configuration names: local files under DATA (the default) or an
 * S3-compatible upstream (blob_store = s3://BUCKET/PREFIX), with the upstream's credentials
 * from the environment or a credentials file. Nothing else in the server knows which. */
#ifndef SRV_BLOBSTORE_H
#define SRV_BLOBSTORE_H

#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"

struct sto_blobs;

/* COF_ERR_CONFIG (printed: what is wrong, never a secret), COF_ERR_IO,
 * COF_ERR_SERVICE_UNAVAILABLE (the upstream does not answer), COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_blobstore_open(const struct srv_config *c, struct sto_blobs **out);

/* The upstream store of c without the data dir's record or claim (coffer restore). */
COF_MUST_CHECK cof_err srv_blobstore_open_unclaimed(const struct srv_config *c,
                                                    struct sto_blobs **out);
/* Records in data_dir that its blobs are in store, under the prefix claim owner. COF_ERR_IO. */
COF_MUST_CHECK cof_err srv_blobstore_record(const char *data_dir, const char *store,
                                            const char owner[33]);

/* coffer blobs migrate: records that the data dir's blobs move to the upstream (to_upstream,
 * claiming its prefix if need be) or back to local files. *out_done: they are there already.
 * From then on every open of the data dir sees both stores as one. */
COF_MUST_CHECK cof_err srv_blobstore_migration(const struct srv_config *c, bool to_upstream,
                                               bool *out_done);
/* Records the end of a migration (every blob moved). */
COF_MUST_CHECK cof_err srv_blobstore_migration_done(const struct srv_config *c, bool to_upstream);
/* Whether blobs may be removed from the old store: no server holds the data dir, or the one
 * that does opened it as this migration. Call before opening the data dir's stores. */
bool srv_blobstore_migration_safe(const char *data_dir, bool to_upstream);

/* The upstream store among bs (bs itself, or one side of a migration), or NULL. */
struct sto_blobs *srv_blobstore_upstream(struct sto_blobs *bs);

#endif

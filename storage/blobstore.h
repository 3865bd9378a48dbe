/* SPDX-License-Identifier: Apache-2.0 */
/* The narrow interface a place that keeps blobs implements: what the encryption format needs and
 * nothing more. Put a blob by id, streamed, size unknown in advance; read byte ranges of it;
 * delete it; list ids (fsck). Two implementations: local files (storage/blobfile.c, the default)
 * and an S3-compatible upstream (upstream/blobs3.c). Everything above storage/ goes through
 * storage/blob.h and never knows which one is in use.
 *
 * Ids reaching a backend are already valid (sto_blob_id_parse). Writers and readers are used by
 * one thread at a time; the store itself is shared by every thread. */
#ifndef STO_BLOBSTORE_H
#define STO_BLOBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/blob.h"

/* Size unknown: the backend finds it (a stat, a HEAD). */
#define STO_BLOB_SIZE_UNKNOWN UINT64_MAX

struct sto_blob_backend {
    const char *name; /* "file", "s3": for log lines */
    /* Starts blob id. */
    cof_err (*create)(void *impl, const char *id, void **out_w);
    /* Appends n bytes. An error leaves the writer only to be aborted. */
    cof_err (*write)(void *w, const uint8_t *p, size_t n);
    /* Hint, before the first write or after some: the blob will have exactly size bytes in all.
     * A backend may use it to stream (then a blob of another size fails with
     * COF_ERR_INCOMPLETE_BODY at its write or commit). NULL: ignored. */
    void (*expect)(void *w, uint64_t size);
    /* Makes the blob durable and readable under its id, then frees w (also on failure, which
     * leaves no blob behind). */
    cof_err (*commit)(void *w);
    /* Drops what was written and frees w. */
    void (*abort)(void *w);
    /* Opens a committed blob. expect_size is the stored size the metadata records, or
     * STO_BLOB_SIZE_UNKNOWN; a backend may trust it to save a round trip, and then reports a
     * blob of another size as COF_ERR_INTEGRITY when it reads. COF_ERR_NOT_FOUND if absent. */
    cof_err (*open)(void *impl, const char *id, uint64_t expect_size, void **out_r,
                    uint64_t *out_size);
    /* Reads up to n bytes at off (off + n within the size): fewer only at the end of the blob. */
    cof_err (*pread)(void *r, void *buf, size_t n, uint64_t off, size_t *out_n);
    /* Hint: the reads to come are (mostly) sequential within [off, off + len). NULL: ignored. */
    void (*want)(void *r, uint64_t off, uint64_t len);
    void (*close)(void *r);
    /* Deletes a committed blob; an absent one is COF_OK. */
    cof_err (*remove)(void *impl, const char *id);
    /* When the blob was stored (seconds since the epoch). COF_ERR_NOT_FOUND. */
    cof_err (*mtime)(void *impl, const char *id, int64_t *out_epoch_s);
    /* Calls cb for every stored blob id; stops at the first code other than COF_OK. */
    cof_err (*each)(void *impl, sto_blob_visit_fn cb, void *arg);
    void (*free)(void *impl);
};

/* A store over backend be with state impl (taken: freed by sto_blobs_close, or at once on
 * failure). COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err sto_blobs_new(const struct sto_blob_backend *be, void *impl,
                                     struct sto_blobs **out);

/* The state of bs if its backend is be, else NULL (a backend's own extra calls use it). */
void *sto_blobs_impl(const struct sto_blobs *bs, const struct sto_blob_backend *be);

#endif

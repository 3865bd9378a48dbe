/* SPDX-License-Identifier: Apache-2.0 */
/* The upstream blob backend: blobs kept as objects <prefix>blobs/<id> of one bucket of an
 * S3-compatible store. The store sees random ids and ciphertext only: no bucket names, object
 * keys, metadata, tags or content types of coffer's own objects.
 * - A blob up to part_size bytes is one PUT; a larger one is a multipart upload made as it
 *   streams in, so a writer holds one part at most.
 * - A reader fetches a range of segments with one ranged GET, streamed.
 * - An upstream that cannot be reached within the retry time: writes fail with
 *   COF_ERR_SLOW_DOWN, reads with COF_ERR_SERVICE_UNAVAILABLE. */
#ifndef UP_BLOBS3_H
#define UP_BLOBS3_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "storage/blob.h"
#include "upstream/s3client.h"

#define UP_PART_SIZE_MIN     (5u * 1024 * 1024) /* S3's smallest part but the last */
#define UP_PART_SIZE_DEFAULT (8u * 1024 * 1024)

struct up_blobs_config {
    struct up_s3_config s3;
    const char *prefix; /* "" or "some/prefix/" (a missing final '/' is added) */
    size_t part_size;   /* 0: UP_PART_SIZE_DEFAULT; at least UP_PART_SIZE_MIN */
    /* The data dir's claim on the prefix (32 hex chars): kept upstream as <prefix>owner. A
     * prefix claimed by another data dir is refused, so that one dir's fsck never removes the
     * other's blobs as orphans. NULL: no check (tests of the client). */
    const char *owner;
    bool claim; /* the data dir is new to this prefix: write the claim if there is none */
    /* Backups are taken: a removed blob is only marked (<prefix>graveyard/<id>) and deleted by
     * the first backup taken after that (up_blobs_reap), so that a restore from the latest
     * backup finds every blob that backup names. */
    bool defer_removal;
};

/* Parses "s3://BUCKET[/PREFIX]" into *bucket and *prefix (both malloc'd). COF_ERR_CONFIG. */
COF_MUST_CHECK cof_err up_blobs_parse_url(const char *url, char **bucket, char **prefix);

/* A blob store over the upstream bucket. Checks that the bucket answers (a listing of one key)
 * so that a wrong endpoint, bucket or credential fails at start-up, not at the first PUT, and
 * checks (or, with claim, makes) the owner claim. COF_ERR_CONFIG, COF_ERR_IO,
 * COF_ERR_SERVICE_UNAVAILABLE, COF_ERR_NOMEM, COF_ERR_ACCESS_DENIED (the prefix is another data
 * dir's, or unclaimed while the data dir thinks it claimed it: logged). */
COF_MUST_CHECK cof_err up_blobs_open(const struct up_blobs_config *c, struct sto_blobs **out);

/* Objects beside the blobs, under <prefix><name> (coffer backup's "backups/..."): never listed
 * as blobs, never touched by fsck. bs must be an upstream store (else COF_ERR_INVALID). */
struct up_side_writer;
struct up_side_reader;
COF_MUST_CHECK cof_err up_side_create(struct sto_blobs *bs, const char *name,
                                      struct up_side_writer **out);
COF_MUST_CHECK cof_err up_side_write(struct up_side_writer *w, const void *p, size_t n);
/* Completes the upload and frees w (also on failure). */
COF_MUST_CHECK cof_err up_side_commit(struct up_side_writer *w);
void up_side_abort(struct up_side_writer *w);
/* The name (under dir, e.g. "backups/") that sorts last, into out. COF_ERR_NOT_FOUND. */
COF_MUST_CHECK cof_err up_side_latest(struct sto_blobs *bs, const char *dir, char *out, size_t cap);
COF_MUST_CHECK cof_err up_side_open(struct sto_blobs *bs, const char *name,
                                    struct up_side_reader **out);
/* Reads up to n bytes in order; fewer only at the end. */
COF_MUST_CHECK cof_err up_side_read(struct up_side_reader *r, void *buf, size_t n, size_t *out_n);
void up_side_close(struct up_side_reader *r);
/* The ids marked in <prefix>graveyard/ (malloc'd array of malloc'd ids; free with
 * up_blobs_graveyard_free). */
COF_MUST_CHECK cof_err up_blobs_graveyard(struct sto_blobs *bs, char ***ids, size_t *n);
/* Deletes each blob (blobs_too) and then its mark. *out_reaped: how many went. */
COF_MUST_CHECK cof_err up_blobs_reap(struct sto_blobs *bs, char **ids, size_t n, bool blobs_too,
                                     size_t *out_reaped);
void up_blobs_graveyard_free(char **ids, size_t n);
/* Unfinished multipart uploads of blobs (left by a crash or an abort that did not reach the
 * store): cb gets the blob id, the upload id and its start time. */
typedef cof_err (*up_blobs_upload_fn)(const char *id, const char *upload_id, int64_t initiated,
                                      void *arg);
COF_MUST_CHECK cof_err up_blobs_each_upload(struct sto_blobs *bs, up_blobs_upload_fn cb, void *arg);
/* Aborts the upload of blob id. */
COF_MUST_CHECK cof_err up_blobs_abort_upload(struct sto_blobs *bs, const char *id,
                                             const char *upload_id);
/* Deletes all but the keep names under dir that sort last (the newest backups). */
COF_MUST_CHECK cof_err up_side_keep_latest(struct sto_blobs *bs, const char *dir, size_t keep,
                                           size_t *deleted);
/* Deletes <prefix><name> (an absent one is COF_OK). */
COF_MUST_CHECK cof_err up_side_delete(struct sto_blobs *bs, const char *name);
/* The owner claim of the prefix (32 hex chars + NUL), for a restore onto a new data dir.
 * COF_ERR_NOT_FOUND when the prefix has none. */
COF_MUST_CHECK cof_err up_side_owner(struct sto_blobs *bs, char out[33]);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Multipart uploads. An upload's parts are blobs of their own; completing links them to the
 * object (sto_meta_object_parts) without copying data. */
#ifndef STO_UPLOAD_H
#define STO_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/db.h"
#include "storage/object.h"

struct sto_upload {
    char *upload_id;
    char *bucket;
    char *key;
    int64_t initiated_ms;
    char *headers; /* opaque: the object's stored headers */
    int sse_mode;
    char *kek_id;
    uint8_t *check_wrap; /* opaque: lets later parts check they use the initiate's key */
    size_t check_len;
};
struct sto_part {
    int part_number; /* for object parts: the part's index in the object */
    uint64_t size;
    char *etag;
    int64_t mtime_ms;
    char *blob_id;
    char *kek_id;
    uint8_t *wrapped_dek;
    size_t wrapped_len;
    char *checksum; /* opaque ("ALG base64") or NULL; upload and object parts */
};
void sto_upload_cleanup(struct sto_upload *u);
void sto_part_cleanup(struct sto_part *p);
typedef cof_err (*sto_upload_fn)(const struct sto_upload *u, void *arg);
typedef cof_err (*sto_part_fn)(const struct sto_part *p, void *arg);
/* COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_meta_upload_create(struct sto_meta *m, const struct sto_upload *u);
/* COF_ERR_NO_BUCKET, COF_ERR_NO_SUCH_UPLOAD (also when bucket/key do not match). */
COF_MUST_CHECK cof_err sto_meta_upload_get(struct sto_meta *m, const char *bucket, const char *key,
                                           const char *upload_id, struct sto_upload *out);
/* Uploads of bucket whose key starts with prefix, after (key_marker, upload_marker), in key
 * then initiation order, at most limit. cb may return COF_ERR_NOT_FOUND to stop. */
COF_MUST_CHECK cof_err sto_meta_uploads_list(struct sto_meta *m, const char *bucket,
                                             const char *prefix, const char *key_marker,
                                             const char *upload_marker, size_t limit,
                                             sto_upload_fn cb, void *arg);
/* Stores (or replaces) a part; the replaced part's blob id comes back for unlinking (caller
 * frees, then sto_meta_gc_done). COF_ERR_NO_SUCH_UPLOAD. */
COF_MUST_CHECK cof_err sto_meta_part_put(struct sto_meta *m, const char *upload_id,
                                         const struct sto_part *p, char **out_replaced_blob);
/* Parts with number > after_part, ascending, at most limit. */
COF_MUST_CHECK cof_err sto_meta_parts_list(struct sto_meta *m, const char *upload_id,
                                           int after_part, size_t limit, sto_part_fn cb, void *arg);
/* The parts of a completed multipart object version, in order (part_number = index). */
COF_MUST_CHECK cof_err sto_meta_object_parts(struct sto_meta *m, const char *bucket,
                                             const char *key, const char *version_id,
                                             sto_part_fn cb, void *arg);
/* Removes an upload and queues its part blobs. COF_ERR_NO_SUCH_UPLOAD. */
COF_MUST_CHECK cof_err sto_meta_upload_abort(struct sto_meta *m, const char *upload_id);
/* How long the record of a completed upload is kept (sto_meta_upload_completed): 24 hours. */
#define STO_COMPLETED_KEEP_MS (24LL * 3600 * 1000)

/* The record of a completed upload: what a repeated Complete is answered from. Strings owned. */
struct sto_completed {
    char *bucket;
    char *key;
    char *version_id; /* of the object version the upload made ("null" unversioned) */
    char *etag;
    char *parts;          /* the part list the Complete named, as the caller wrote it */
    int64_t completed_ms; /* = that version's mtime_ms */
};
void sto_completed_cleanup(struct sto_completed *c);

/* In one transaction: checks pc (NULL: none) against the key's current version
 * (COF_ERR_PRECONDITION, COF_ERR_NO_OBJECT as sto_meta_put_object_if, nothing changed), publishes
 * o (part_count = n, blob_id NULL) made of parts[i] (part_number and blob_id as validated) with
 * put_object's version rules, queues the replaced version's blobs and the unused parts' blobs,
 * ends the upload and records its completion (part_list: the parts as the caller names them),
 * dropping records older than STO_COMPLETED_KEEP_MS. COF_ERR_NO_SUCH_UPLOAD; COF_ERR_INVALID when
 * a part changed since. */
COF_MUST_CHECK cof_err sto_meta_upload_complete(struct sto_meta *m, const struct sto_object *o,
                                                const char *upload_id, const struct sto_part *parts,
                                                size_t n, const struct sto_precond *pc,
                                                const char *part_list);
/* The record of upload_id, completed for (bucket, key) less than STO_COMPLETED_KEEP_MS before
 * now_ms. COF_ERR_NO_SUCH_UPLOAD when there is none. */
COF_MUST_CHECK cof_err sto_meta_upload_completed(struct sto_meta *m, const char *bucket,
                                                 const char *key, const char *upload_id,
                                                 int64_t now_ms, struct sto_completed *out);

#endif

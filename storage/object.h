/* SPDX-License-Identifier: Apache-2.0 */
/* Objects and their versions: S3's write rules, reads, listings (ListObjects, ListObjectVersions)
 * and the full walk fsck does. Puts are group-committed: concurrent puts share a transaction. */
#ifndef STO_OBJECT_H
#define STO_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/db.h"

/* Object Lock state of one version (S3 Object Lock), kept on the version's row. */
enum sto_lock_mode { STO_LOCK_NONE = 0, STO_LOCK_GOVERNANCE = 1, STO_LOCK_COMPLIANCE = 2 };
/* A legal hold that was never set reads back as absent (AWS: NoSuchObjectLockConfiguration). */
enum sto_legal_hold { STO_HOLD_UNSET = 0, STO_HOLD_OFF = 1, STO_HOLD_ON = 2 };
struct sto_lock {
    int mode;         /* enum sto_lock_mode */
    int64_t until_ms; /* retain until (Unix ms); meaningful with a mode */
    int legal_hold;   /* enum sto_legal_hold */
};

/* One object row. Strings are owned by the struct (sto_object_cleanup frees them); when passed
 * to put, they are borrowed. */
struct sto_object {
    char *bucket;
    char *key;
    char *version_id; /* "null" for the null version (unversioned writes), else a version id */
    uint64_t size;    /* plaintext bytes */
    char *etag;       /* without quotes, e.g. "9e107d9d372bb6826bd81d3542a419d6" */
    int64_t mtime_ms;
    char *headers;        /* opaque to storage: serialised stored headers and user metadata */
    char *blob_id;        /* 32 hex chars */
    int sse_mode;         /* opaque to storage (server/crypto enum) */
    char *kek_id;         /* id of the key that wraps the DEK (root key id for SSE-S3) */
    uint8_t *wrapped_dek; /* opaque wrapped data key */
    size_t wrapped_len;
    unsigned part_count;  /* > 0: a multipart object stored as parts (blob_id NULL) */
    bool delete_marker;   /* a delete marker: no blob, size 0 */
    bool is_latest;       /* filled by reads: the current version of its key */
    struct sto_lock lock; /* Object Lock; all zero: none (delete markers never have one) */
    /* Put only: the blob's bytes, to be stored inline (storage/inline.h) in the same transaction
     * as the row, instead of a blob file; NULL for a blob that is a file. Reads leave it NULL. */
    uint8_t *inline_body;
    size_t inline_len;
};

/* Frees the members of o (not the struct itself) and zeroes them. Accepts NULL. */
void sto_object_cleanup(struct sto_object *o);

/* Objects and their versions. The current version of each key is one row; older versions
 * (kept when versioning is on) are noncurrent rows of the same key. Writes follow S3's rules from
 * the new row's version id alone: a "null" version replaces the key's existing null version
 * (current or noncurrent) and demotes a current non-null version; any other id demotes the
 * current version. Bucket versioning state is the caller's business (it picks the id). */
/* Publishes o as the current version of (bucket, key) in one transaction that also queues the
 * blob of a replaced version for unlinking. *out_replaced_blob gets that blob id (malloc'd,
 * caller frees, then calls sto_meta_gc_done after unlinking) or NULL; other blobs freed by the
 * same write stay queued (sto_meta_gc_hint). COF_ERR_NO_BUCKET. out_replaced_blob may be NULL.
 * A blob that some row still references is neither queued nor returned. o->bucket and o->key
 * must not be NULL, nor o->blob_id unless o is a delete marker (or a multipart object published
 * by upload_complete); version_id NULL means "null". COF_ERR_TOO_LARGE if size > INT64_MAX. */
COF_MUST_CHECK cof_err sto_meta_put_object(struct sto_meta *m, const struct sto_object *o,
                                           char **out_replaced_blob);

/* A conditional write's precondition on the key's current version (S3's If-Match and
 * If-None-Match on PutObject, CopyObject and CompleteMultipartUpload). A key whose current
 * version is a delete marker, or that has none, has no live version. Strings borrowed. */
struct sto_precond {
    const char *if_match; /* a live version whose etag is this (no quotes), "*" any; NULL: none */
    bool if_none_match;   /* no live version (If-None-Match: *) */
};
/* Whether the current version of (bucket, key) meets pc (NULL: always), as of now:
 * COF_ERR_PRECONDITION (If-None-Match failed, or If-Match's etag differs), COF_ERR_NO_OBJECT
 * (If-Match and no live version), COF_ERR_NO_BUCKET. A fast pre-check; only the one inside the
 * write (sto_meta_put_object_if, sto_meta_upload_complete) is atomic with it. */
COF_MUST_CHECK cof_err sto_meta_precond_check(struct sto_meta *m, const char *bucket,
                                              const char *key, const struct sto_precond *pc);
/* sto_meta_put_object, with pc checked in the same transaction, before anything is written:
 * the check and the write are one step, so of concurrent writes with If-None-Match exactly one
 * succeeds. Fails as sto_meta_precond_check, with nothing written. pc NULL: unconditional. */
COF_MUST_CHECK cof_err sto_meta_put_object_if(struct sto_meta *m, const struct sto_object *o,
                                              const struct sto_precond *pc,
                                              char **out_replaced_blob);
/* The current version; a key whose current version is a delete marker is COF_ERR_NO_OBJECT.
 * COF_ERR_NO_BUCKET, COF_ERR_NO_OBJECT; out filled on COF_OK (caller cleans up). */
COF_MUST_CHECK cof_err sto_meta_get_object(struct sto_meta *m, const char *bucket, const char *key,
                                           struct sto_object *out);
/* One version by id (version_id NULL: the current one), delete markers included (check
 * out->delete_marker; out->is_latest tells whether it is current). COF_ERR_NO_BUCKET,
 * COF_ERR_NO_OBJECT (no such key or version). */
COF_MUST_CHECK cof_err sto_meta_get_version(struct sto_meta *m, const char *bucket, const char *key,
                                            const char *version_id, struct sto_object *out);
/* Removes the current row (an unversioned delete), queueing its blob like put
 * (out_removed_blob may be NULL). COF_ERR_NO_BUCKET, COF_ERR_NO_OBJECT. */
COF_MUST_CHECK cof_err sto_meta_delete_object(struct sto_meta *m, const char *bucket,
                                              const char *key, char **out_removed_blob);
/* Permanently removes one version and its blobs (queued; drain with sto_meta_gc_each). When it
 * was the current one, the newest noncurrent version becomes current. *out_was_marker (may be
 * NULL) tells whether it was a delete marker. A version under Object Lock (as of now, no
 * bypass: sto_version_is_locked) is kept: COF_ERR_OBJECT_LOCKED. COF_ERR_NO_BUCKET,
 * COF_ERR_NO_OBJECT. Every caller (DeleteObject, DeleteObjects, lifecycle) gets the check. */
COF_MUST_CHECK cof_err sto_meta_delete_version(struct sto_meta *m, const char *bucket,
                                               const char *key, const char *version_id,
                                               bool *out_was_marker);
/* Same, as of now_ms and with bypass_governance (a request that carried
 * x-amz-bypass-governance-retention: true and holds s3:BypassGovernanceRetention): a GOVERNANCE
 * retention then no longer keeps the version; COMPLIANCE and a legal hold still do. */
COF_MUST_CHECK cof_err sto_meta_delete_version_lock(struct sto_meta *m, const char *bucket,
                                                    const char *key, const char *version_id,
                                                    int64_t now_ms, bool bypass_governance,
                                                    bool *out_was_marker);

/* ---- Object Lock ---------------------------------------------------------------------------
 * The rules live here, with the rows they protect, so that no write path can step around them:
 * a locked version is never removed (sto_meta_delete_*), and never replaced in place (a "null"
 * write over a locked null version fails with COF_ERR_OBJECT_LOCKED). */

/* Whether version o may NOT be removed at now_ms: a legal hold ON, or a retention whose date is
 * still ahead (GOVERNANCE only while !bypass_governance). Pure; for lifecycle's sweeper and
 * every other code deciding whether a version may go. Delete markers are never locked. */
bool sto_version_is_locked(const struct sto_object *o, int64_t now_ms, bool bypass_governance);
/* Whether a version's retention may go from old to new at now_ms (S3's rules): an expired or
 * absent retention may become anything; a COMPLIANCE one only keeps its mode and keeps or
 * extends its date; a GOVERNANCE one may be extended or turned into COMPLIANCE (no earlier
 * date), and shortened or removed only with bypass_governance. Pure. */
bool sto_lock_retention_change_allowed(const struct sto_lock *old, int mode, int64_t until_ms,
                                       int64_t now_ms, bool bypass_governance);
/* Sets the retention (mode, until_ms; STO_LOCK_NONE removes it) of the version version_id
 * (not NULL) of bucket/key, checked against its current one with
 * sto_lock_retention_change_allowed in the same transaction. COF_ERR_OBJECT_LOCKED (refused),
 * COF_ERR_NO_OBJECT (no such version, or a delete marker), COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_meta_set_retention(struct sto_meta *m, const char *bucket,
                                              const char *key, const char *version_id, int mode,
                                              int64_t until_ms, int64_t now_ms,
                                              bool bypass_governance);
/* Sets the legal hold (STO_HOLD_ON / STO_HOLD_OFF) of the version version_id (not NULL).
 * COF_ERR_NO_OBJECT (no such version, or a delete marker), COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_meta_set_legal_hold(struct sto_meta *m, const char *bucket,
                                               const char *key, const char *version_id, int hold);

/* Lifecycle's removal of one version: as sto_meta_delete_version (blobs queued; drain with
 * sto_meta_gc_each), but only while that version is still the row the caller read: same
 * version_id, mtime_ms, etag, blob_id and delete_marker as *expected (bucket and key name it),
 * still current when expected->is_latest and still noncurrent when not,
 * and, when lone, only while it is the key's current version and the key has no other one.
 * *out_removed is false when it changed, vanished or is not alone (nothing done), so a sweep never
 * removes what a client wrote after it looked. COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_meta_expire_version(struct sto_meta *m,
                                               const struct sto_object *expected, bool lone,
                                               bool *out_removed);

/* Replaces the stored header block of the row (bucket, key, version_id), current or noncurrent,
 * with headers, but only if that row is still the one the caller read: same blob_id, etag,
 * mtime_ms, part_count and headers as *expected (NULLs compare equal to NULLs). The caller's
 * read-modify-write (e.g. a tag change) therefore never undoes a concurrent overwrite or another
 * header change; nothing else of the row changes (mtime included). *out_changed is false when the
 * row changed or vanished since: read it again and retry. COF_ERR_DB. */
COF_MUST_CHECK cof_err sto_meta_object_set_headers(struct sto_meta *m, const char *bucket,
                                                   const char *key, const char *version_id,
                                                   const struct sto_object *expected,
                                                   const char *headers, bool *out_changed);

/* Listing: calls cb with the current versions (delete markers skipped) of bucket whose key
 * starts with prefix (may be "" or NULL), in binary (memcmp) key order, starting at the first key >
 * from (or >= from when inclusive; from NULL = start), at most limit rows. cb returns COF_OK to
 * continue; any other code stops the walk and is returned, except COF_ERR_NOT_FOUND which stops it
 * and returns COF_OK ("enough"). Uses the primary-key index: cost is O(log n + rows visited). The
 * row passed to cb is borrowed. COF_ERR_NO_BUCKET. limit 0 lists nothing (the bucket is still
 * checked). */
typedef cof_err (*sto_object_fn)(const struct sto_object *o, void *arg);
COF_MUST_CHECK cof_err sto_meta_list_objects(struct sto_meta *m, const char *bucket,
                                             const char *from, bool inclusive, const char *prefix,
                                             size_t limit, sto_object_fn cb, void *arg);
/* Versions (ListObjectVersions): rows of bucket whose key starts with prefix, in key order and,
 * per key, newest first (the current row first), after (key_marker, version_marker): with no
 * version marker, keys > key_marker; with one, the versions of key_marker older than it, then
 * later keys. key_marker NULL = start. Same callback rules as list_objects (no limit: cb stops
 * the walk). is_latest is filled. COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err sto_meta_list_versions(struct sto_meta *m, const char *bucket,
                                              const char *prefix, const char *key_marker,
                                              const char *version_marker, sto_object_fn cb,
                                              void *arg);
/* Every version row (current and noncurrent) of every bucket (for fsck), same callback rules. */
COF_MUST_CHECK cof_err sto_meta_each_object(struct sto_meta *m, sto_object_fn cb, void *arg);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite metadata store (WAL): buckets, per-bucket configuration documents, objects, and the
 * queue of blobs to unlink after a commit. Speaks storage: NO_BUCKET, NO_OBJECT, never HTTP.
 * Thread-safe: each call borrows a connection from an internal pool (one per concurrent caller)
 * and holds no lock across calls. Every multi-row change is one transaction. */
#ifndef STO_META_H
#define STO_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct sto_meta;

struct sto_bucket {
    char *name;
    char *region;
    int64_t created_ms; /* Unix epoch milliseconds */
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
    unsigned part_count; /* > 0: a multipart object stored as parts (blob_id NULL) */
    bool delete_marker;  /* a delete marker: no blob, size 0 */
    bool is_latest;      /* filled by reads: the current version of its key */
};

/* Opens or creates DATA/coffer.db (schema created/migrated; WAL; synchronous FULL when
 * durability_full, else NORMAL). COF_ERR_DB. db_path must name a file (each pooled connection
 * opens it; ":memory:" would give each its own database). A new file is created 0600. A database
 * whose schema is newer than this build is refused (COF_ERR_DB). */
COF_MUST_CHECK cof_err sto_meta_open(const char *db_path, bool durability_full,
                                     struct sto_meta **out);
/* Closes every pooled connection. Accepts NULL. No call may be in flight. */
void sto_meta_close(struct sto_meta *m);

/* Frees the members of b / o (not the structs themselves) and zeroes them. Accept NULL. */
void sto_bucket_cleanup(struct sto_bucket *b);
void sto_object_cleanup(struct sto_object *o);

/* Buckets */
/* COF_ERR_BUCKET_EXISTS if the name is taken. */
COF_MUST_CHECK cof_err sto_meta_create_bucket(struct sto_meta *m, const char *name,
                                              const char *region, int64_t created_ms);
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
 * NULL) tells whether it was a delete marker. COF_ERR_NO_BUCKET, COF_ERR_NO_OBJECT. */
COF_MUST_CHECK cof_err sto_meta_delete_version(struct sto_meta *m, const char *bucket,
                                               const char *key, const char *version_id,
                                               bool *out_was_marker);

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
/* Whether any row references blob_id (fsck). */
COF_MUST_CHECK cof_err sto_meta_blob_referenced(struct sto_meta *m, const char *blob_id, bool *out);

/* Blob garbage queue */
typedef cof_err (*sto_blob_id_fn)(const char *blob_id, void *arg);
/* Calls cb for each queued blob id (same stop rules as list_buckets); cb may call
 * sto_meta_gc_done for the id it is given. */
COF_MUST_CHECK cof_err sto_meta_gc_each(struct sto_meta *m, sto_blob_id_fn cb, void *arg);
/* Removes blob_id from the queue (after the file was unlinked). Not queued is COF_OK. */
COF_MUST_CHECK cof_err sto_meta_gc_done(struct sto_meta *m, const char *blob_id);

/* KMS keyring. A key's material is opaque here (wrapped by a root key, kek_id names which). */
struct sto_kms_key {
    char *id;    /* key id (a UUID) */
    char *state; /* "Enabled", "Disabled", "PendingDeletion" */
    char *description;
    int64_t created_ms;
    int64_t deletion_ms; /* scheduled deletion (PendingDeletion), else 0 */
    char *kek_id;
    uint8_t *material;
    size_t material_len;
    char *aliases; /* comma-separated "alias/..." names, or NULL (filled by reads only) */
};
void sto_kms_key_cleanup(struct sto_kms_key *k);
/* By key id, or by alias when the name starts with "alias/". COF_ERR_NOT_FOUND. */
COF_MUST_CHECK cof_err sto_meta_kms_get(struct sto_meta *m, const char *id_or_alias,
                                        struct sto_kms_key *out);
/* Inserts k (state, description, kek_id, material as given) with an optional alias, in one
 * transaction, and returns the stored row in out. existing_ok: if the alias (or, without an
 * alias, the id) already names a key, that key is returned instead (first-use creation).
 * COF_ERR_EXISTS when the id or alias is taken and !existing_ok. */
COF_MUST_CHECK cof_err sto_meta_kms_create(struct sto_meta *m, const struct sto_kms_key *k,
                                           const char *alias, bool existing_ok,
                                           struct sto_kms_key *out);
/* COF_ERR_NOT_FOUND if no key has this id. */
COF_MUST_CHECK cof_err sto_meta_kms_set_state(struct sto_meta *m, const char *id, const char *state,
                                              int64_t deletion_ms);
/* Adds alias for key_id. COF_ERR_EXISTS (alias taken), COF_ERR_NOT_FOUND (no such key). */
COF_MUST_CHECK cof_err sto_meta_kms_set_alias(struct sto_meta *m, const char *alias,
                                              const char *key_id);
/* Every key, oldest first; the row passed to cb is borrowed. */
typedef cof_err (*sto_kms_key_fn)(const struct sto_kms_key *k, void *arg);
COF_MUST_CHECK cof_err sto_meta_kms_each(struct sto_meta *m, sto_kms_key_fn cb, void *arg);

/* Multipart uploads. An upload's parts are blobs of their own; completing links them to the
 * object (sto_meta_object_parts) without copying data. */
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
    char *checksum; /* opaque ("ALG base64") or NULL; upload parts only */
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
/* In one transaction: publishes o (part_count = n, blob_id NULL) made of parts[i] (part_number
 * and blob_id as validated) with put_object's version rules, queues the replaced version's blobs
 * and the unused parts' blobs, and ends the upload. COF_ERR_NO_SUCH_UPLOAD; COF_ERR_INVALID when a
 * part changed since. */
COF_MUST_CHECK cof_err sto_meta_upload_complete(struct sto_meta *m, const struct sto_object *o,
                                                const char *upload_id, const struct sto_part *parts,
                                                size_t n);
/* Whether blobs were queued for unlinking since the last call (then drain the queue). */
bool sto_meta_gc_hint(struct sto_meta *m);

/* Root key rotation. */
/* Calls cb(kek_id, objects, kms_keys) for each key-encryption key id in use: how many SSE-S3
 * objects and KMS keys it wraps. */
typedef cof_err (*sto_kek_count_fn)(const char *kek_id, uint64_t objects, uint64_t kms_keys,
                                    void *arg);
COF_MUST_CHECK cof_err sto_meta_count_by_kek(struct sto_meta *m, sto_kek_count_fn cb, void *arg);
/* Up to limit SSE-S3 object versions (sse_mode) whose kek_id is not active_kek, in key order. */
COF_MUST_CHECK cof_err sto_meta_stale_objects(struct sto_meta *m, int sse_mode,
                                              const char *active_kek, size_t limit,
                                              sto_object_fn cb, void *arg);
/* Replaces a version's wrapped key if the row still has blob_id and old_kek (a concurrent
 * overwrite wins; *out_changed tells). */
COF_MUST_CHECK cof_err sto_meta_object_rewrap(struct sto_meta *m, const char *bucket,
                                              const char *key, const char *blob_id,
                                              const char *old_kek, const char *new_kek,
                                              const uint8_t *wrapped, size_t len,
                                              bool *out_changed);
/* A part blob (of a completed multipart object, or of an upload in progress) of an SSE-S3
 * object whose data key is not wrapped by the active root key. */
struct sto_stale_part {
    bool in_upload;     /* parts of an upload in progress, else object_parts */
    const char *bucket; /* of the object (or the upload) */
    const char *key;
    const char *upload_id; /* in_upload only */
    int number;            /* part_index or part_number */
    const char *blob_id;
    const char *kek_id;
    const uint8_t *wrapped;
    size_t wrapped_len;
};
typedef cof_err (*sto_stale_part_fn)(const struct sto_stale_part *p, void *arg);
/* Up to limit stale SSE-S3 part blobs (both kinds); the struct passed to cb is borrowed. */
COF_MUST_CHECK cof_err sto_meta_stale_parts(struct sto_meta *m, const char *active_kek,
                                            size_t limit, sto_stale_part_fn cb, void *arg);
/* Replaces a part's wrapped key if it still has p->blob_id and p->kek_id. */
COF_MUST_CHECK cof_err sto_meta_part_rewrap(struct sto_meta *m, const struct sto_stale_part *p,
                                            const char *new_kek, const uint8_t *wrapped, size_t len,
                                            bool *out_changed);
/* Replaces a KMS key's wrapped material if it is still wrapped by old_kek. */
COF_MUST_CHECK cof_err sto_meta_kms_rewrap(struct sto_meta *m, const char *id, const char *old_kek,
                                           const char *new_kek, const uint8_t *material,
                                           size_t len);

/* Deletes every bucket, config and object in one transaction, queueing all blobs (LocalStack
 * state reset). */
COF_MUST_CHECK cof_err sto_meta_reset(struct sto_meta *m);

#endif

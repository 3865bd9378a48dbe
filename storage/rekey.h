/* SPDX-License-Identifier: Apache-2.0 */
/* Root key rotation, the storage side: what each key-encryption key (kek_id) wraps, the rows
 * still wrapped by an older key, and compare-and-swap updates that re-wrap one row each (a
 * concurrent overwrite wins). Wrapped keys are opaque bytes here. */
#ifndef STO_REKEY_H
#define STO_REKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/db.h"
#include "storage/object.h"

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
/* The root keys the data dir depends on, as recorded: the id and a key check value (opaque
 * here; computed by crypto/) of every root key anything was or may be wrapped under. Start-up
 * refuses a keyring that lacks one of them. A rotation records its new key as pending before it
 * writes the key to the keyring file, and confirms it after. */
struct sto_root_key {
    const char *id;
    const uint8_t *kcv;
    size_t kcv_len;
    bool pending;
    int64_t recorded_ms;
};
typedef cof_err (*sto_root_key_fn)(const struct sto_root_key *k, void *arg);
/* Records root key id with its check value. COF_ERR_EXISTS if id is recorded already. */
COF_MUST_CHECK cof_err sto_meta_root_key_record(struct sto_meta *m, const char *id,
                                                const uint8_t *kcv, size_t kcv_len, bool pending,
                                                int64_t recorded_ms);
/* Clears the pending mark of a recorded key. COF_ERR_NOT_FOUND if id is not recorded. */
COF_MUST_CHECK cof_err sto_meta_root_key_confirm(struct sto_meta *m, const char *id);
/* Forgets a recorded key (retired, or a rotation that never wrote it). COF_ERR_NOT_FOUND. */
COF_MUST_CHECK cof_err sto_meta_root_key_forget(struct sto_meta *m, const char *id);
/* Every recorded key, in id order; the struct passed to cb is borrowed for the call. Non-OK from
 * cb stops the walk and is returned. */
COF_MUST_CHECK cof_err sto_meta_root_keys_each(struct sto_meta *m, sto_root_key_fn cb, void *arg);
/* *out is true for a fresh data dir: no object row (version or delete marker included), upload,
 * KMS key or recorded root key. Only a fresh data dir may get a new root key when the key file
 * is missing. */
COF_MUST_CHECK cof_err sto_meta_is_fresh(struct sto_meta *m, bool *out);

/* Replaces a KMS key's wrapped material if it is still wrapped by old_kek. */
COF_MUST_CHECK cof_err sto_meta_kms_rewrap(struct sto_meta *m, const char *id, const char *old_kek,
                                           const char *new_kek, const uint8_t *material,
                                           size_t len);

#endif

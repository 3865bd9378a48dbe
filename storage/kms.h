/* SPDX-License-Identifier: Apache-2.0 */
/* The local KMS keyring: keys, aliases, tags and rotation history. A key's material is opaque
 * here (every material version, wrapped by one root key that kek_id names); re-wrapping it under
 * a new root key is in rekey.h. */
#ifndef STO_KMS_H
#define STO_KMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/db.h"

struct sto_kms_key {
    char *id;    /* key id (a UUID) */
    char *state; /* "Enabled", "Disabled", "PendingDeletion" */
    char *description;
    int64_t created_ms;
    int64_t deletion_ms; /* scheduled deletion (PendingDeletion), else 0 */
    char *kek_id;
    uint8_t *material;
    size_t material_len;
    char *aliases;         /* comma-separated "alias/..." names, or NULL (filled by reads only) */
    char *policy;          /* the key policy document, or NULL: the default policy */
    int64_t rotation_days; /* automatic rotation period in days, 0: automatic rotation off */
    int64_t rotated_ms;    /* last rotation (creation before the first) */
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
/* Adds alias for key_id, created at now_ms. COF_ERR_EXISTS (alias taken), COF_ERR_NOT_FOUND
 * (no such key). */
COF_MUST_CHECK cof_err sto_meta_kms_set_alias(struct sto_meta *m, const char *alias,
                                              const char *key_id, int64_t now_ms);
/* Every key, oldest first; the row passed to cb is borrowed. */
typedef cof_err (*sto_kms_key_fn)(const struct sto_kms_key *k, void *arg);
COF_MUST_CHECK cof_err sto_meta_kms_each(struct sto_meta *m, sto_kms_key_fn cb, void *arg);

/* Key attributes. Each is COF_ERR_NOT_FOUND if no key has this id. policy NULL: default. */
COF_MUST_CHECK cof_err sto_meta_kms_set_policy(struct sto_meta *m, const char *id,
                                               const char *policy);
COF_MUST_CHECK cof_err sto_meta_kms_set_description(struct sto_meta *m, const char *id,
                                                    const char *description);
/* Automatic rotation period (0: off) and the date it counts from. */
COF_MUST_CHECK cof_err sto_meta_kms_set_rotation(struct sto_meta *m, const char *id, int64_t days,
                                                 int64_t from_ms);

/* Replaces the material of key id with material (old_len bytes grown by one wrapped version,
 * wrapped by kek_id) and records the rotation as version, in one transaction. Compare-and-swap:
 * COF_ERR_NOT_FOUND when no key id holds old_len bytes under kek_id (the key is gone, or a
 * concurrent rotation or root key re-wrap changed it: reload and retry). */
COF_MUST_CHECK cof_err sto_meta_kms_add_material(struct sto_meta *m, const char *id,
                                                 const char *kek_id, size_t old_len,
                                                 const uint8_t *material, size_t len,
                                                 int64_t version, int64_t now_ms, bool on_demand);
/* The rotations of key id, oldest first: cb(version, rotated_ms, on_demand, arg). */
typedef cof_err (*sto_kms_rotation_fn)(int64_t version, int64_t rotated_ms, bool on_demand,
                                       void *arg);
COF_MUST_CHECK cof_err sto_meta_kms_rotations_each(struct sto_meta *m, const char *id,
                                                   sto_kms_rotation_fn cb, void *arg);

/* Deletes key id for good: its tags, rotations, aliases and the row with its material, in one
 * transaction. COF_ERR_NOT_FOUND. */
COF_MUST_CHECK cof_err sto_meta_kms_delete(struct sto_meta *m, const char *id);

/* One alias (borrowed by callbacks). */
struct sto_kms_alias {
    const char *alias;
    const char *key_id;
    int64_t created_ms;
    int64_t updated_ms;
};
typedef cof_err (*sto_kms_alias_fn)(const struct sto_kms_alias *a, void *arg);
/* Every alias (of key_id only, unless NULL), by name. */
COF_MUST_CHECK cof_err sto_meta_kms_alias_each(struct sto_meta *m, const char *key_id,
                                               sto_kms_alias_fn cb, void *arg);
/* COF_ERR_NOT_FOUND when no such alias. */
COF_MUST_CHECK cof_err sto_meta_kms_alias_delete(struct sto_meta *m, const char *alias);
/* Points alias at key_id (which must exist). COF_ERR_NOT_FOUND when either is missing. */
COF_MUST_CHECK cof_err sto_meta_kms_alias_update(struct sto_meta *m, const char *alias,
                                                 const char *key_id, int64_t now_ms);

/* Tags of a key: set (insert or replace) or delete n of them in one transaction.
 * COF_ERR_NOT_FOUND when set names no key. */
COF_MUST_CHECK cof_err sto_meta_kms_tags_set(struct sto_meta *m, const char *id, size_t n,
                                             const char *const *keys, const char *const *values);
COF_MUST_CHECK cof_err sto_meta_kms_tags_delete(struct sto_meta *m, const char *id, size_t n,
                                                const char *const *keys);
/* Tags of key id, by tag key: cb(tag_key, tag_value, arg). */
typedef cof_err (*sto_kms_tag_fn)(const char *tag_key, const char *tag_value, void *arg);
COF_MUST_CHECK cof_err sto_meta_kms_tags_each(struct sto_meta *m, const char *id, sto_kms_tag_fn cb,
                                              void *arg);

#endif

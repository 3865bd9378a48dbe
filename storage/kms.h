/* SPDX-License-Identifier: Apache-2.0 */
/* The local KMS keyring: keys and aliases. A key's material is opaque here (wrapped by a root
 * key, kek_id names which); re-wrapping it under a new root key is in rekey.h. */
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

#endif

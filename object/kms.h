/* SPDX-License-Identifier: Apache-2.0 */
/* The local KMS: key references (id, key ARN, alias, alias ARN) -> keys whose material is
 * unwrapped under the root keyring, creation (admin command, first use, the account's aws/s3
 * key, the KMS API), state checks, material versions (rotation), deletion once the scheduled
 * date has passed, and the KMS API's ciphertext blobs. Used by the operations and by
 * `coffer kms`.
 *
 * Material versions: a key's stored material is every version it has had, oldest first, each
 * CRY_WRAPPED_LEN bytes wrapped by the key's one root key (kek_id), version v bound to the key id
 * and "kms-key-material" (v = 0) or "kms-key-material-v<v>". New encryptions use the newest;
 * an SSE-KMS object records which in its kek_id: the key id for version 0 (what every object
 * written before rotation existed has), "<key id>#<v>" for a later one.
 *
 * Ciphertext blob (Encrypt, GenerateDataKey*, ReEncrypt), version 1:
 *   "CKB1" (4) || key id length L (1, 1..63) || key id (L) || material version (u32 BE) ||
 *   sealed message (crypto/envelope.h: 1 || salt 32 || nonce 12 || ciphertext || tag 16)
 * sealed under the material of that version with AAD = "coffer-kms-ciphertext-v1" || the header
 * bytes before the sealed message || the canonical encryption context (srv_kms_context_add). A
 * changed byte anywhere, or another context, fails authentication. */
#ifndef SRV_KMS_H
#define SRV_KMS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/key.h"
#include "object/ctx.h"

struct sto_kms_key;

#define SRV_KMS_ACCOUNT       "000000000000"
#define SRV_KMS_DEFAULT_ALIAS "alias/aws/s3"

struct srv_kms_key {
    char id[64];
    char arn[160];
    char state[24];
    char ref[80];             /* an SSE-KMS object's kek_id for this material version */
    uint32_t version;         /* the material version loaded (the newest when encrypting) */
    uint32_t versions;        /* how many the key has */
    struct cry_key *material; /* NULL unless loaded with material */
};

/* Bytes of a ciphertext blob around its plaintext, at most. */
#define SRV_KMS_BLOB_OVERHEAD (4u + 1u + 63u + 4u + 61u)

/* Resolves a reference for encrypting. ref NULL or "" means the account's aws/s3 key, created
 * on first use. With create_missing, an unknown id or alias is created (LocalStack's
 * S3_SKIP_KMS_KEY_VALIDATION); otherwise it is COF_ERR_KMS_NOT_FOUND. A disabled key is
 * COF_ERR_KMS_DISABLED, a key pending deletion COF_ERR_KMS_INVALID_STATE. *msg gets AWS's
 * message (static or in out->arn's storage; valid while out lives). */
COF_MUST_CHECK cof_err srv_kms_resolve(struct obj_ctx *ctx, const char *ref, bool create_missing,
                                       struct srv_kms_key *out, char *msg, size_t msg_len);
/* Loads the key an SSE-KMS object's kek_id names ("<id>" or "<id>#<version>") with that
 * material version (for decrypting); state checks as above. A key whose deletion date has
 * passed is deleted now and is COF_ERR_KMS_NOT_FOUND.
 * COF_ERR_KEY_ABSENT when the root key that wraps its material is not in the keyring. */
COF_MUST_CHECK cof_err srv_kms_load(struct obj_ctx *ctx, const char *id, struct srv_kms_key *out,
                                    char *msg, size_t msg_len);
/* Creates a new enabled key (fresh random material wrapped by the active root key) with an
 * optional alias ("alias/...") and key policy (NULL: the default), id: given or a new UUID.
 * COF_ERR_EXISTS. */
COF_MUST_CHECK cof_err srv_kms_create(struct obj_ctx *ctx, const char *id, const char *alias,
                                      const char *description, const char *policy,
                                      struct srv_kms_key *out);
/* Re-wraps every material version of a stored KMS key under the active root key (root key
 * rotation). */
COF_MUST_CHECK cof_err srv_kms_rewrap(struct obj_ctx *ctx, const char *id);

/* The stored row of a key by id or "alias/..." (sto_meta_kms_get), after deleting it for good
 * when its deletion date has passed (then COF_ERR_NOT_FOUND). */
COF_MUST_CHECK cof_err srv_kms_get_row(struct obj_ctx *ctx, const char *id_or_alias,
                                       struct sto_kms_key *out);
/* Finds the key a KMS API reference names (key id, key ARN, alias name, alias ARN), in any
 * state; creates nothing but the account's alias/aws/s3 key on first mention (as AWS does).
 * COF_ERR_KMS_NOT_FOUND with AWS's message in msg ("Invalid keyId '...'", "Key '<arn>' does not
 * exist", "Alias <arn> is not found."). */
COF_MUST_CHECK cof_err srv_kms_find(struct obj_ctx *ctx, const char *ref, struct sto_kms_key *out,
                                    char *msg, size_t msg_len);
/* Deletes for good every key whose deletion date has passed. */
COF_MUST_CHECK cof_err srv_kms_sweep(struct obj_ctx *ctx);
/* Adds a new material version to key id (rotation; on_demand: RotateKeyOnDemand, else
 * automatic). New encryptions use it; older versions stay for decryption. */
COF_MUST_CHECK cof_err srv_kms_rotate(struct obj_ctx *ctx, const char *id, bool on_demand);
/* Rotates every enabled key whose automatic rotation is due. */
COF_MUST_CHECK cof_err srv_kms_rotate_due(struct obj_ctx *ctx);

/* Appends one encryption context pair to a canonical context (pairs must come sorted by key,
 * each key and value as u32 BE length || bytes). COF_ERR_TOO_LARGE past cap. */
COF_MUST_CHECK cof_err srv_kms_context_add(uint8_t *buf, size_t cap, size_t *len, const char *key,
                                           const char *value);
/* Seals n <= CRY_MSG_MAX bytes under k (loaded with material) and the canonical context into
 * a ciphertext blob (out: n + SRV_KMS_BLOB_OVERHEAD bytes suffice). */
COF_MUST_CHECK cof_err srv_kms_encrypt(const struct srv_kms_key *k, const uint8_t *context,
                                       size_t context_len, const uint8_t *pt, size_t n,
                                       uint8_t *out, size_t cap, size_t *out_len);
/* The key reference a ciphertext blob names: "<id>" or "<id>#<version>" (as srv_kms_load
 * takes). COF_ERR_INTEGRITY when the blob is not one. */
COF_MUST_CHECK cof_err srv_kms_blob_ref(const uint8_t *blob, size_t n, char *ref, size_t ref_len);
/* Opens a ciphertext blob with k, loaded (srv_kms_load) from srv_kms_blob_ref's reference.
 * COF_ERR_KEY when it does not authenticate (tampered, or another context),
 * COF_ERR_INTEGRITY when malformed. pt gets at most cap bytes. */
COF_MUST_CHECK cof_err srv_kms_decrypt(const struct srv_kms_key *k, const uint8_t *context,
                                       size_t context_len, const uint8_t *blob, size_t n,
                                       uint8_t *pt, size_t cap, size_t *pt_len);

/* The key ARN for an id (or an object's "<id>#<version>"). */
void srv_kms_arn(const struct obj_ctx *ctx, const char *id, char *out, size_t n);
/* Wipes and frees the material. Accepts NULL. */
void srv_kms_key_cleanup(struct srv_kms_key *k);

#endif

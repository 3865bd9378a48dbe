/* SPDX-License-Identifier: Apache-2.0 */
/* The local KMS: key references (id, key ARN, alias, alias ARN) -> keys whose material is
 * unwrapped under the root keyring, creation (admin command, first use, the account's aws/s3
 * key) and state checks. Used by the operations and by `coffer kms`. */
#ifndef SRV_KMS_H
#define SRV_KMS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/key.h"
#include "object/ctx.h"

#define SRV_KMS_ACCOUNT       "000000000000"
#define SRV_KMS_DEFAULT_ALIAS "alias/aws/s3"

struct srv_kms_key {
    char id[64];
    char arn[160];
    char state[24];
    struct cry_key *material; /* NULL unless loaded with material */
};

/* Resolves a reference for encrypting. ref NULL or "" means the account's aws/s3 key, created
 * on first use. With create_missing, an unknown id or alias is created (LocalStack's
 * S3_SKIP_KMS_KEY_VALIDATION); otherwise it is COF_ERR_KMS_NOT_FOUND. A disabled key is
 * COF_ERR_KMS_DISABLED, a key pending deletion COF_ERR_KMS_INVALID_STATE. *msg gets AWS's
 * message (static or in out->arn's storage; valid while out lives). */
COF_MUST_CHECK cof_err srv_kms_resolve(struct obj_ctx *ctx, const char *ref, bool create_missing,
                                       struct srv_kms_key *out, char *msg, size_t msg_len);
/* Loads the key with this id and its material (for decrypting); state checks as above.
 * COF_ERR_KEY_ABSENT when the root key that wraps its material is not in the keyring. */
COF_MUST_CHECK cof_err srv_kms_load(struct obj_ctx *ctx, const char *id, struct srv_kms_key *out,
                                    char *msg, size_t msg_len);
/* Creates a new enabled key (fresh random material wrapped by the active root key) with an
 * optional alias ("alias/..."), id: given or a new UUID. COF_ERR_EXISTS. */
COF_MUST_CHECK cof_err srv_kms_create(struct obj_ctx *ctx, const char *id, const char *alias,
                                      const char *description, struct srv_kms_key *out);
/* Re-wraps a stored KMS key's material under the active root key (root key rotation). */
COF_MUST_CHECK cof_err srv_kms_rewrap(struct obj_ctx *ctx, const char *id);
/* The key ARN for an id. */
void srv_kms_arn(const struct obj_ctx *ctx, const char *id, char *out, size_t n);
/* Wipes and frees the material. Accepts NULL. */
void srv_kms_key_cleanup(struct srv_kms_key *k);

#endif

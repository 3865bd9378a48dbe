/* SPDX-License-Identifier: Apache-2.0 */
/* Data-key (DEK) wrapping: the envelope that ties a blob's DEK to a key-encryption key.
 *
 * Contract:
 *  - KEK = HKDF-SHA256(ikm = wrapping key, salt = 32 random bytes,
 *                      info = "coffer-dek-wrap-v1" || mode byte).
 *  - Wrapped DEK = version (1 byte, = 1) || salt (32) || nonce (12, random) ||
 *                  AES-256-GCM(KEK, nonce, DEK) (32) || tag (16): CRY_WRAPPED_LEN = 93 bytes.
 *  - AAD binds the context: "coffer-wrap-v1" || mode || then, each length-prefixed (u32 BE):
 *    bucket, object key, version id, blob id (16 raw bytes), encryption context (may be empty).
 *    Unwrapping under any other context, or under any other key, fails.
 *  - A failed unwrap returns COF_ERR_KEY (wrong key or context) and releases nothing; a
 *    malformed wrapped blob (wrong length/version) returns COF_ERR_INTEGRITY.
 *
 * Sealed values (plaintext-derived metadata of SSE-C / SSE-KMS objects, e.g. checksums):
 *  - the same construction with KEK = HKDF-SHA256(ikm = wrapping key, salt = 32 random bytes,
 *    info = "coffer-value-seal-v1" || mode byte), so a sealed value never shares a key with a
 *    DEK wrap; AAD as above (the caller puts a purpose label in version_id).
 *  - Sealed = version (1 byte, = 1) || salt (32) || nonce (12, random) || ciphertext (n) ||
 *    tag (16): CRY_SEALED_LEN(n) bytes, n <= CRY_VALUE_MAX.
 *
 * Sealed messages (the KMS API's Encrypt / GenerateDataKey ciphertexts):
 *  - the same layout, CRY_SEALED_LEN(n) bytes with n <= CRY_MSG_MAX, under KEK = HKDF-SHA256(
 *    ikm = wrapping key, salt = 32 random bytes, info = "coffer-kms-msg-v1" || mode byte 5);
 *  - the AAD is the caller's bytes as given (object/kms.c: the blob header and the encryption
 *    context), so whatever the caller binds there cannot be changed or moved.
 */
#ifndef CRY_ENVELOPE_H
#define CRY_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/aead.h"
#include "crypto/key.h"

#define CRY_WRAPPED_LEN   93u
#define CRY_VALUE_MAX     64u
#define CRY_SEALED_LEN(n) (61u + (n))
#define CRY_MSG_MAX       4096u

enum cry_mode {
    CRY_MODE_SSE_S3 = 1,
    CRY_MODE_SSE_KMS = 2,
    CRY_MODE_SSE_C = 3,
    CRY_MODE_KMS_MATERIAL = 4, /* a KMS key's own material, wrapped by a root key */
    CRY_MODE_KMS_MESSAGE = 5,  /* a KMS API ciphertext, sealed under a KMS key's material */
};

/* What a wrap is bound to. All strings NUL-terminated; enc_context may be NULL (= empty). */
struct cry_wrap_ctx {
    enum cry_mode mode;
    const char *bucket;
    const char *key;
    const char *version_id;
    const uint8_t *blob_id; /* CRY_BLOB_ID_LEN bytes */
    const char *enc_context;
};

/* Wraps dek under kek for context c into out (CRY_WRAPPED_LEN bytes). */
COF_MUST_CHECK cof_err cry_env_wrap(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                                    const struct cry_key *dek, uint8_t out[CRY_WRAPPED_LEN]);
/* Unwraps into a new key (caller frees). COF_ERR_KEY if kek or context is wrong,
 * COF_ERR_INTEGRITY if n != CRY_WRAPPED_LEN or the version is unknown. */
COF_MUST_CHECK cof_err cry_env_unwrap(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                                      const uint8_t *wrapped, size_t n, struct cry_key **out);

/* Seals n <= CRY_VALUE_MAX bytes under kek for context c into out (cap >= CRY_SEALED_LEN(n)),
 * *out_len = CRY_SEALED_LEN(n). COF_ERR_TOO_LARGE if n or cap do not fit. */
COF_MUST_CHECK cof_err cry_env_seal_value(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                                          const uint8_t *pt, size_t n, uint8_t *out, size_t cap,
                                          size_t *out_len);
/* Opens a sealed value into out (cap bytes). COF_ERR_KEY if kek or context is wrong (out then
 * holds nothing), COF_ERR_INTEGRITY if malformed, COF_ERR_TOO_LARGE if cap is too small. */
COF_MUST_CHECK cof_err cry_env_open_value(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                                          const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                          size_t *out_len);

/* Seals n <= CRY_MSG_MAX bytes under kek with the caller's aad into out (cap >=
 * CRY_SEALED_LEN(n)), *out_len = CRY_SEALED_LEN(n). COF_ERR_TOO_LARGE if n or cap do not fit. */
COF_MUST_CHECK cof_err cry_env_seal_msg(const struct cry_key *kek, const uint8_t *aad,
                                        size_t aad_len, const uint8_t *pt, size_t n, uint8_t *out,
                                        size_t cap, size_t *out_len);
/* Opens a sealed message into out (cap bytes). COF_ERR_KEY if kek or aad is wrong (out then
 * holds nothing), COF_ERR_INTEGRITY if malformed, COF_ERR_TOO_LARGE if cap is too small. */
COF_MUST_CHECK cof_err cry_env_open_msg(const struct cry_key *kek, const uint8_t *aad,
                                        size_t aad_len, const uint8_t *in, size_t n, uint8_t *out,
                                        size_t cap, size_t *out_len);

#endif

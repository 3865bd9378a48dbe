/* SPDX-License-Identifier: Apache-2.0 */
/* HKDF-SHA256 (RFC 5869) with a 32-byte output: the one key derivation of coffer (DEK wraps,
 * sealed tokens). */
#ifndef CRY_HKDF_H
#define CRY_HKDF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/key.h"

/* out = HKDF-SHA256(ikm, salt, info), CRY_KEY_LEN bytes. salt may be NULL (no salt: RFC 5869's
 * zero salt); info_len at most 64. COF_ERR_INTERNAL (out wiped) if OpenSSL fails. Thread-safe. */
COF_MUST_CHECK cof_err cry_hkdf_sha256(const uint8_t ikm[CRY_KEY_LEN], const uint8_t *salt,
                                       size_t salt_len, const uint8_t *info, size_t info_len,
                                       uint8_t out[CRY_KEY_LEN]);

#endif

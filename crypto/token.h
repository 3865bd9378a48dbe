/* SPDX-License-Identifier: Apache-2.0 */
/* Sealed tokens: small records the server hands out and later accepts back (STS session
 * tokens), readable and forgeable only with a root key.
 *
 * Contract:
 *  - Token key = HKDF-SHA256(ikm = root key, no salt, info = "coffer-token-v1" || purpose),
 *    so each purpose has its own key and no token key is ever a DEK-wrapping key.
 *  - Token = version (1 byte, = 1) || id length (1 byte, 1..CRY_KEY_ID_MAX) || root key id ||
 *    nonce (12 random bytes) || AES-256-GCM ciphertext of the payload || tag (16).
 *  - AAD = "coffer-token-v1" || purpose || 0x00 || the header (version, id length, key id), so
 *    a token never opens under another purpose, and its key id cannot be swapped.
 *  - A token under one root key is good for at most 2^32 seals (random nonces): far beyond a
 *    local server's needs.
 *  - cry_token_open writes plaintext only on success; on failure out is wiped.
 */
#ifndef CRY_TOKEN_H
#define CRY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/key.h"
#include "crypto/keyring.h"

#define CRY_TOKEN_PAYLOAD_MAX 1024u
/* Bytes of a token for a payload of n bytes under a key id of id_len bytes. */
#define CRY_TOKEN_LEN(id_len, n) (2u + (id_len) + 12u + (n) + 16u)

/* Seals n <= CRY_TOKEN_PAYLOAD_MAX bytes under root (whose keyring id is key_id) for purpose
 * (a short label, e.g. "sts-session") into out (cap bytes); *out_len = CRY_TOKEN_LEN(..).
 * COF_ERR_TOO_LARGE if n or the token do not fit; COF_ERR_INTERNAL (RNG, OpenSSL). A key id
 * that is not 1..CRY_KEY_ID_MAX bytes is a bug. */
COF_MUST_CHECK cof_err cry_token_seal(const struct cry_key *root, const char *key_id,
                                      const char *purpose, const uint8_t *pt, size_t n,
                                      uint8_t *out, size_t cap, size_t *out_len);
/* The root key id a token names (out: NUL-terminated). COF_ERR_INTEGRITY if the header is
 * malformed or the token too short. Nothing is authenticated yet: open it to know. */
COF_MUST_CHECK cof_err cry_token_key_id(const uint8_t *in, size_t n, char out[CRY_KEY_ID_MAX + 1]);
/* Opens a token sealed under root for purpose into out (cap bytes), *out_len the payload
 * length. COF_ERR_INTEGRITY if malformed, tampered, or sealed under another key or purpose
 * (out then holds nothing); COF_ERR_TOO_LARGE if cap is too small. */
COF_MUST_CHECK cof_err cry_token_open(const struct cry_key *root, const char *purpose,
                                      const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                      size_t *out_len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Segmented AES-256-GCM for blob bodies.
 *
 * Contract:
 *  - A blob is: header (CRY_BLOB_HDR_LEN bytes) || segment 0 || segment 1 || ... || segment n-1.
 *  - Plaintext is cut in CRY_SEG_SIZE (64 KiB) segments; only the last may be shorter (and it may
 *    be empty: an empty body is one empty final segment). Each stored segment is
 *    ciphertext || 16-byte tag, so stored segment i is at CRY_BLOB_HDR_LEN + i*CRY_SEG_STORED.
 *  - Header: magic "COFB", format version 1, 3 zero bytes, blob id (16 bytes), nonce base (12
 *    random bytes), segment size (u32 BE, must be 65536). 40 bytes.
 *  - Nonce of segment i = nonce base XOR (i as u64 big-endian in the last 8 bytes).
 *  - AAD of segment i = "coffer-seg-v1" || blob id (16) || i (u64 BE) || final flag (1 byte 0/1).
 *    So reordering, truncation (a non-final segment presented as last), extension, and moving a
 *    segment to another blob all fail authentication.
 *  - cry_aead_open writes plaintext only on success; on failure the output is wiped.
 *  - A cry_aead holds an expanded key and an EVP context: not thread-safe, one per stream.
 */
#ifndef CRY_AEAD_H
#define CRY_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/key.h"

#define CRY_SEG_SIZE     65536u
#define CRY_TAG_LEN      16u
#define CRY_SEG_STORED   (CRY_SEG_SIZE + CRY_TAG_LEN)
#define CRY_BLOB_ID_LEN  16u
#define CRY_NONCE_LEN    12u
#define CRY_BLOB_HDR_LEN 40u

struct cry_blob_hdr {
    uint8_t blob_id[CRY_BLOB_ID_LEN];
    uint8_t nonce_base[CRY_NONCE_LEN];
};

/* Fills out with blob_id and a fresh random nonce base. COF_ERR_INTERNAL on RNG failure. */
COF_MUST_CHECK cof_err cry_blob_hdr_new(const uint8_t blob_id[CRY_BLOB_ID_LEN],
                                        struct cry_blob_hdr *out);
/* Serialises h into exactly CRY_BLOB_HDR_LEN bytes. */
void cry_blob_hdr_encode(const struct cry_blob_hdr *h, uint8_t out[CRY_BLOB_HDR_LEN]);
/* Parses a header; checks magic, version, segment size, and that its blob id equals expect_id.
 * Any mismatch or n < CRY_BLOB_HDR_LEN -> COF_ERR_INTEGRITY. */
COF_MUST_CHECK cof_err cry_blob_hdr_decode(const uint8_t *in, size_t n,
                                           const uint8_t expect_id[CRY_BLOB_ID_LEN],
                                           struct cry_blob_hdr *out);

/* Number of segments for a plaintext of size bytes (at least 1). */
uint64_t cry_seg_count(uint64_t size);
/* Stored blob length (header + segments + tags) for a plaintext of size bytes. */
uint64_t cry_blob_stored_size(uint64_t size);

struct cry_aead;

/* Prepares a sealing/opening context for one blob under dek (borrowed; copied internally). */
COF_MUST_CHECK cof_err cry_aead_new(const struct cry_key *dek, const struct cry_blob_hdr *h,
                                    struct cry_aead **out);
/* Wipes and frees. Accepts NULL. */
void cry_aead_free(struct cry_aead *a);
/* Encrypts n <= CRY_SEG_SIZE bytes as segment idx; writes n + CRY_TAG_LEN bytes to out.
 * n > CRY_SEG_SIZE or (n < CRY_SEG_SIZE && !final) is a COF_BUG. */
COF_MUST_CHECK cof_err cry_aead_seal(struct cry_aead *a, uint64_t idx, bool final,
                                     const uint8_t *pt, size_t n, uint8_t *out);
/* Decrypts a stored segment of n bytes (ciphertext + tag) into out (n - CRY_TAG_LEN bytes).
 * n < CRY_TAG_LEN or n > CRY_SEG_STORED or a failed tag -> COF_ERR_INTEGRITY, out wiped. */
COF_MUST_CHECK cof_err cry_aead_open(struct cry_aead *a, uint64_t idx, bool final,
                                     const uint8_t *in, size_t n, uint8_t *out);

/* One-shot AES-256-GCM over n bytes (a data key, a sealed value or token) under key with the
 * 12-byte nonce and aad. enc: writes n bytes of ciphertext to out and the tag to tag; otherwise
 * checks tag and writes the plaintext, COF_ERR_KEY if it does not verify (out wiped). */
COF_MUST_CHECK cof_err cry_gcm_oneshot(int enc, const uint8_t key[CRY_KEY_LEN],
                                       const uint8_t nonce[CRY_NONCE_LEN], const uint8_t *aad,
                                       size_t aad_len, const uint8_t *in, size_t n, uint8_t *out,
                                       uint8_t tag[CRY_TAG_LEN]);

#endif

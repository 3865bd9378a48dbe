/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming MD5 (ETag, Content-MD5) and SHA-256 helpers over OpenSSL EVP, so that server/ does
 * not drive EVP itself. Not for secrets. One context per stream; not thread-safe. */
#ifndef CRY_DIGEST_H
#define CRY_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CRY_MD5_LEN    16u
#define CRY_SHA256_LEN 32u
#define CRY_SHA1_LEN   20u

enum cry_digest_alg { CRY_DIGEST_MD5, CRY_DIGEST_SHA256, CRY_DIGEST_SHA1 };

struct cry_digest;

COF_MUST_CHECK cof_err cry_digest_new(enum cry_digest_alg alg, struct cry_digest **out);
void cry_digest_update(struct cry_digest *d, const void *p, size_t n);
/* Writes the digest (16 or 32 bytes) to out; the context may then be freed or reset. */
void cry_digest_final(struct cry_digest *d, uint8_t *out);
void cry_digest_free(struct cry_digest *d);
/* One-shot. */
COF_MUST_CHECK cof_err cry_digest_oneshot(enum cry_digest_alg alg, const void *p, size_t n,
                                          uint8_t *out);

/* HMAC-SHA256 (SigV4 signing) of n bytes under a key of klen bytes; out gets 32 bytes. */
COF_MUST_CHECK cof_err cry_hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
                                       uint8_t out[CRY_SHA256_LEN]);

/* HMAC-SHA1 (legacy SigV2 signing only); out gets 20 bytes. */
COF_MUST_CHECK cof_err cry_hmac_sha1(const void *key, size_t klen, const void *p, size_t n,
                                     uint8_t out[CRY_SHA1_LEN]);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming MD5 (ETag, Content-MD5), SHA-1 (x-amz-checksum-sha1) and SHA-256 over OpenSSL EVP,
 * plus one-shot HMAC-SHA256/HMAC-SHA1 for request signing, so that server/ does not drive EVP
 * itself. The digests are not for secrets; HMAC keys and outputs are the caller's to wipe. One
 * context per stream; not thread-safe. Sizes: MD5 16 bytes, SHA-1 20, SHA-256 32 (CRY_*_LEN). */
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
/* Writes the digest to out (CRY_MD5_LEN, CRY_SHA1_LEN or CRY_SHA256_LEN bytes, by alg) and
 * leaves the context ready for a new message; it may then be reused or freed. */
void cry_digest_final(struct cry_digest *d, uint8_t *out);
void cry_digest_free(struct cry_digest *d);
/* One-shot: writes the digest of p[0..n) to out (the alg's CRY_*_LEN bytes). */
COF_MUST_CHECK cof_err cry_digest_oneshot(enum cry_digest_alg alg, const void *p, size_t n,
                                          uint8_t *out);

/* HMAC-SHA256 (SigV4 signing) of n bytes under a key of klen bytes; out gets CRY_SHA256_LEN (32)
 * bytes. */
COF_MUST_CHECK cof_err cry_hmac_sha256(const void *key, size_t klen, const void *p, size_t n,
                                       uint8_t out[CRY_SHA256_LEN]);

/* HMAC-SHA1 (legacy SigV2 signing only); out gets CRY_SHA1_LEN (20) bytes. */
COF_MUST_CHECK cof_err cry_hmac_sha1(const void *key, size_t klen, const void *p, size_t n,
                                     uint8_t out[CRY_SHA1_LEN]);

#endif

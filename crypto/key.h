/* SPDX-License-Identifier: Apache-2.0 */
/* struct cry_key: 256-bit secret key material, opaque, wiped (OPENSSL_cleanse) when freed.
 * Key bytes never leave crypto/ except through cry_key_export for the root key file writer.
 * Contract: exactly CRY_KEY_LEN bytes; constructed from RNG or from caller bytes. */
#ifndef CRY_KEY_H
#define CRY_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CRY_KEY_LEN 32
/* Bytes of a key check value (cry_key_check_value). */
#define CRY_KCV_LEN 8

struct cry_key;

/* Fresh random key from the OpenSSL CSPRNG. COF_ERR_NOMEM, COF_ERR_INTERNAL (RNG failure). */
COF_MUST_CHECK cof_err cry_key_new_random(struct cry_key **out);
/* Copies n bytes into a new key. n != CRY_KEY_LEN -> COF_ERR_KEY (n comes from input). */
COF_MUST_CHECK cof_err cry_key_from_bytes(const uint8_t *bytes, size_t n, struct cry_key **out);
/* Wipes and frees. Accepts NULL. */
void cry_key_free(struct cry_key *k);
/* Borrowed view of the CRY_KEY_LEN bytes, valid while k lives. For crypto/ internals only. */
const uint8_t *cry_key_bytes(const struct cry_key *k);

/* The key check value of k: the first CRY_KCV_LEN bytes of HMAC-SHA256(k, "coffer key check
 * value"). It tells whether two keys are the same key (the data dir records it for each root
 * key it depends on) and, being a one-way function of the key under a fixed message, reveals
 * nothing that helps recover it. COF_ERR_INTERNAL if OpenSSL fails. */
COF_MUST_CHECK cof_err cry_key_check_value(const struct cry_key *k, uint8_t out[CRY_KCV_LEN]);

/* Wipes n bytes at p in a way the compiler cannot elide (OPENSSL_cleanse). */
void cry_wipe(void *p, size_t n);
/* Constant-time comparison of n bytes: true when equal. */
bool cry_equal(const void *a, const void *b, size_t n);

/* Fills buf with n CSPRNG bytes. COF_ERR_INTERNAL on RNG failure. */
COF_MUST_CHECK cof_err cry_random(void *buf, size_t n);

#endif

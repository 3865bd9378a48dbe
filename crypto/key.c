/* SPDX-License-Identifier: Apache-2.0 */
/* struct cry_key and the CSPRNG wrapper. Key bytes live only here and are wiped on free;
 * nothing in this file logs or copies them out of crypto/. */
#include "crypto/key.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/digest.h"

struct cry_key {
    uint8_t bytes[CRY_KEY_LEN];
};

void cry_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        OPENSSL_cleanse(p, n);
}

bool cry_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

cof_err cry_random(void *buf, size_t n)
{
    uint8_t *p = buf;

    if (p == NULL && n > 0)
        COF_BUG("cry_random: NULL buffer");
    /* RAND_bytes takes an int length. */
    while (n > 0) {
        size_t chunk = n < (size_t)INT_MAX ? n : (size_t)INT_MAX;
        if (RAND_bytes(p, (int)chunk) != 1)
            return COF_ERR_INTERNAL;
        p += chunk;
        n -= chunk;
    }
    return COF_OK;
}

cof_err cry_key_new_random(struct cry_key **out)
{
    struct cry_key *k = NULL;
    cof_err err = COF_OK;

    if (out == NULL)
        COF_BUG("cry_key_new_random: NULL out");
    *out = NULL;
    k = malloc(sizeof(*k));
    if (k == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    err = cry_random(k->bytes, sizeof(k->bytes));
    if (err == COF_OK) {
        *out = k;
        k = NULL;
    }
out:
    cry_key_free(k);
    return err;
}

cof_err cry_key_from_bytes(const uint8_t *bytes, size_t n, struct cry_key **out)
{
    struct cry_key *k = NULL;

    if (out == NULL)
        COF_BUG("cry_key_from_bytes: NULL out");
    *out = NULL;
    if (n != CRY_KEY_LEN)
        return COF_ERR_KEY;
    if (bytes == NULL)
        COF_BUG("cry_key_from_bytes: NULL bytes");
    k = malloc(sizeof(*k));
    if (k == NULL)
        return COF_ERR_NOMEM;
    memcpy(k->bytes, bytes, CRY_KEY_LEN);
    *out = k;
    return COF_OK;
}

void cry_key_free(struct cry_key *k)
{
    if (k == NULL)
        return;
    OPENSSL_cleanse(k->bytes, sizeof(k->bytes));
    free(k);
}

const uint8_t *cry_key_bytes(const struct cry_key *k)
{
    if (k == NULL)
        COF_BUG("cry_key_bytes: NULL key");
    return k->bytes;
}

cof_err cry_key_check_value(const struct cry_key *k, uint8_t out[CRY_KCV_LEN])
{
    static const char msg[] = "coffer key check value";
    uint8_t mac[CRY_SHA256_LEN];
    if (k == NULL || out == NULL)
        COF_BUG("cry_key_check_value: NULL argument");
    cof_err err = cry_hmac_sha256(k->bytes, sizeof(k->bytes), msg, sizeof(msg) - 1, mac);
    if (err == COF_OK)
        memcpy(out, mac, CRY_KCV_LEN);
    OPENSSL_cleanse(mac, sizeof(mac));
    return err;
}

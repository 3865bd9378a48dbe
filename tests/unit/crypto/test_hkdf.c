/* SPDX-License-Identifier: Apache-2.0 */
/* crypto/hkdf: known answers (computed independently from RFC 5869's definition with Python's
 * hmac module: PRK = HMAC(salt, IKM), OKM = HMAC(PRK, info || 0x01)), with and without salt, and
 * the same answer from many threads at once (the KDF is fetched once per process). */
#include "check.h"
#include "common/hex.h"
#include "crypto/hkdf.h"

#include <pthread.h>
#include <string.h>

static const char *const want_salted =
    "d4100799f26a09615a72af3e58fa3841a2ff20d5ace3fb392e562e207fe6b718";
static const char *const want_unsalted =
    "918aef1aaf82751a742b17cff8007f88039316c0df8a45435e5fb9790000b971";

static bool derive_matches(bool salted, const char *want)
{
    uint8_t ikm[CRY_KEY_LEN], salt[13], info[10], out[CRY_KEY_LEN];
    char hex[2 * CRY_KEY_LEN + 1];
    memset(ikm, 0x0b, sizeof(ikm));
    for (size_t i = 0; i < sizeof(salt); i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(info); i++)
        info[i] = (uint8_t)(0xf0 + i);
    if (cry_hkdf_sha256(ikm, salted ? salt : NULL, salted ? sizeof(salt) : 0, info, sizeof(info),
                        out) != COF_OK)
        return false;
    cof_hex_encode(out, sizeof(out), hex);
    return strcmp(hex, want) == 0;
}

static void *worker(void *arg)
{
    bool *ok = arg;
    *ok = true;
    for (int i = 0; i < 200 && *ok; i++)
        *ok = derive_matches(i % 2 == 0, i % 2 == 0 ? want_salted : want_unsalted);
    return NULL;
}

int main(void)
{
    CHECK(derive_matches(true, want_salted));
    CHECK(derive_matches(false, want_unsalted));
    pthread_t th[8];
    bool ok[8];
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(pthread_create(&th[i], NULL, worker, &ok[i]), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK(ok[i]);
    }
    return check_finish();
}

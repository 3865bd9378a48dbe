/* SPDX-License-Identifier: Apache-2.0 */
/* crypto/digest: RFC 1321 / FIPS 180-2 known answers, one-shot against streaming in pieces, and
 * reuse of a context after final. */
#include "check.h"
#include "common/hex.h"
#include "crypto/digest.h"

#include <stdlib.h>

static const struct {
    enum cry_digest_alg alg;
    const char *msg;
    const char *want;
} kat[] = {
    {CRY_DIGEST_MD5, "", "d41d8cd98f00b204e9800998ecf8427e"},
    {CRY_DIGEST_MD5, "The quick brown fox jumps over the lazy dog",
     "9e107d9d372bb6826bd81d3542a419d6"},
    {CRY_DIGEST_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72"},
    {CRY_DIGEST_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {CRY_DIGEST_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {CRY_DIGEST_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static size_t alg_len(enum cry_digest_alg alg)
{
    return alg == CRY_DIGEST_MD5 ? CRY_MD5_LEN : CRY_SHA256_LEN;
}

static void test_kat(void)
{
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        uint8_t d[CRY_SHA256_LEN];
        char hex[2 * CRY_SHA256_LEN + 1];
        size_t n = strlen(kat[i].msg);
        struct cry_digest *ctx = NULL;

        CHECK_EQ_INT(cry_digest_oneshot(kat[i].alg, kat[i].msg, n, d), COF_OK);
        cof_hex_encode(d, alg_len(kat[i].alg), hex);
        CHECK_EQ_STR(hex, kat[i].want);

        /* Streaming one byte at a time, twice on the same context (final resets it). */
        CHECK_EQ_INT(cry_digest_new(kat[i].alg, &ctx), COF_OK);
        if (ctx == NULL)
            continue;
        for (int rep = 0; rep < 2; rep++) {
            memset(d, 0, sizeof(d));
            for (size_t j = 0; j < n; j++)
                cry_digest_update(ctx, kat[i].msg + j, 1);
            cry_digest_update(ctx, NULL, 0);
            cry_digest_final(ctx, d);
            cof_hex_encode(d, alg_len(kat[i].alg), hex);
            CHECK_EQ_STR(hex, kat[i].want);
        }
        cry_digest_free(ctx);
    }
    uint8_t d[CRY_MD5_LEN];
    char hex[2 * CRY_MD5_LEN + 1];
    CHECK_EQ_INT(cry_digest_oneshot(CRY_DIGEST_MD5, NULL, 0, d), COF_OK);
    cof_hex_encode(d, CRY_MD5_LEN, hex);
    CHECK_EQ_STR(hex, "d41d8cd98f00b204e9800998ecf8427e");
    cry_digest_free(NULL);
}

/* A 1 MiB message in uneven pieces equals the one-shot digest (both algorithms). */
static void test_stream(void)
{
    static const size_t pieces[] = {1, 63, 64, 65, 4096, 65536, 100000};
    size_t n = 1u << 20;
    uint8_t *m = malloc(n);
    for (size_t i = 0; i < n; i++)
        m[i] = (uint8_t)(i * 31 + (i >> 8));
    for (int a = 0; a < 2; a++) {
        enum cry_digest_alg alg = a == 0 ? CRY_DIGEST_MD5 : CRY_DIGEST_SHA256;
        uint8_t want[CRY_SHA256_LEN], got[CRY_SHA256_LEN];
        struct cry_digest *d = NULL;
        CHECK_EQ_INT(cry_digest_oneshot(alg, m, n, want), COF_OK);
        CHECK_EQ_INT(cry_digest_new(alg, &d), COF_OK);
        if (d == NULL)
            continue;
        size_t off = 0, k = 0;
        while (off < n) {
            size_t step = pieces[k++ % (sizeof(pieces) / sizeof(pieces[0]))];
            if (step > n - off)
                step = n - off;
            cry_digest_update(d, m + off, step);
            off += step;
        }
        cry_digest_final(d, got);
        CHECK_MEM(got, want, alg_len(alg));
        cry_digest_free(d);
    }
    free(m);
}

int main(void)
{
    test_kat();
    test_stream();
    return check_finish();
}

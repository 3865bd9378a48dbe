/* SPDX-License-Identifier: Apache-2.0 */
/* crypto/envelope: a fixed-salt/nonce vector (computed independently with pyca/cryptography),
 * round trip, wrong KEK, every context field changed, every wrapped byte flipped, wrong length.
 * Every failure must return no key. Includes envelope.c to reach wrap_fixed. */
#include "check.h"
#include "crypto/envelope.c"

#include <stdlib.h>

static struct cry_key *key_of(uint8_t start)
{
    uint8_t b[CRY_KEY_LEN];
    struct cry_key *k = NULL;
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(start + i);
    if (cry_key_from_bytes(b, sizeof(b), &k) != COF_OK)
        abort();
    return k;
}

static uint8_t blob_id[CRY_BLOB_ID_LEN] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                           0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
static uint8_t other_blob_id[CRY_BLOB_ID_LEN] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                                 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xae};

static const struct cry_wrap_ctx base_ctx = {
    .mode = CRY_MODE_SSE_KMS,
    .bucket = "bucket",
    .key = "dir/obj.txt",
    .version_id = "v1",
    .blob_id = blob_id,
    .enc_context = "{\"a\":\"b\"}",
};

/* Checks unwrap fails with want, leaves *out NULL. */
static void check_unwrap_fails(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                               const uint8_t *w, size_t n, cof_err want, const char *what)
{
    static char poison;
    struct cry_key *got = (struct cry_key *)(void *)&poison; /* must come back NULL */
    cof_err err = cry_env_unwrap(kek, c, w, n, &got);
    if (err != want)
        fprintf(stderr, "case: %s\n", what);
    CHECK_EQ_INT(err, want);
    CHECK(got == NULL);
}

static void test_kat(void)
{
    static const uint8_t want[CRY_WRAPPED_LEN] = {
        0x01, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c,
        0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a,
        0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
        0xc9, 0xca, 0xcb, 0xe5, 0xef, 0x5b, 0xb3, 0x5d, 0x21, 0x18, 0xfa, 0x2d, 0x6c, 0x55,
        0xa3, 0x02, 0x18, 0x8a, 0x74, 0x5f, 0xdb, 0x26, 0x88, 0x7c, 0x13, 0xf1, 0xe9, 0x01,
        0x00, 0x96, 0x05, 0xa3, 0x39, 0x4f, 0xea, 0x61, 0x6c, 0x3c, 0x3a, 0xb8, 0x3f, 0xd0,
        0xa1, 0xa7, 0x7d, 0xf6, 0x4a, 0xed, 0x03, 0x6d, 0x5d};
    struct cry_key *kek = key_of(0x40);
    struct cry_key *dek = key_of(0x60);
    struct cry_key *back = NULL;
    uint8_t w[CRY_WRAPPED_LEN];

    memset(w, 0, sizeof(w));
    for (size_t i = 0; i < WRAP_SALT_LEN; i++)
        w[WRAP_OFF_SALT + i] = (uint8_t)(0x80 + i);
    for (size_t i = 0; i < CRY_NONCE_LEN; i++)
        w[WRAP_OFF_NONCE + i] = (uint8_t)(0xc0 + i);
    CHECK_EQ_INT(wrap_fixed(kek, &base_ctx, dek, w), COF_OK);
    CHECK_MEM(w, want, CRY_WRAPPED_LEN);
    CHECK_EQ_INT(cry_env_unwrap(kek, &base_ctx, want, sizeof(want), &back), COF_OK);
    CHECK(back != NULL && memcmp(cry_key_bytes(back), cry_key_bytes(dek), CRY_KEY_LEN) == 0);
    cry_key_free(back);
    cry_key_free(kek);
    cry_key_free(dek);
}

static void test_round_trip(void)
{
    static const enum cry_mode modes[] = {CRY_MODE_SSE_S3, CRY_MODE_SSE_KMS, CRY_MODE_SSE_C};
    struct cry_key *kek = NULL, *dek = NULL, *back = NULL;
    uint8_t w1[CRY_WRAPPED_LEN], w2[CRY_WRAPPED_LEN];

    CHECK_EQ_INT(cry_key_new_random(&kek), COF_OK);
    CHECK_EQ_INT(cry_key_new_random(&dek), COF_OK);
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct cry_wrap_ctx c = base_ctx;
        c.mode = modes[i];
        c.enc_context = modes[i] == CRY_MODE_SSE_KMS ? "{\"dept\":\"x\"}" : NULL;
        CHECK_EQ_INT(cry_env_wrap(kek, &c, dek, w1), COF_OK);
        CHECK_EQ_INT(cry_env_wrap(kek, &c, dek, w2), COF_OK);
        /* Fresh salt and nonce each time; the DEK never appears in clear. */
        CHECK(memcmp(w1, w2, sizeof(w1)) != 0);
        for (size_t off = 0; off + 8 <= sizeof(w1); off++)
            CHECK(memcmp(w1 + off, cry_key_bytes(dek), 8) != 0);
        CHECK_EQ_INT(cry_env_unwrap(kek, &c, w1, sizeof(w1), &back), COF_OK);
        CHECK(back != NULL && memcmp(cry_key_bytes(back), cry_key_bytes(dek), CRY_KEY_LEN) == 0);
        cry_key_free(back);
        back = NULL;
        CHECK_EQ_INT(cry_env_unwrap(kek, &c, w2, sizeof(w2), &back), COF_OK);
        cry_key_free(back);
        back = NULL;
    }
    /* NULL and "" enc_context are the same context. */
    struct cry_wrap_ctx c_null = base_ctx, c_empty = base_ctx;
    c_null.enc_context = NULL;
    c_empty.enc_context = "";
    CHECK_EQ_INT(cry_env_wrap(kek, &c_null, dek, w1), COF_OK);
    CHECK_EQ_INT(cry_env_unwrap(kek, &c_empty, w1, sizeof(w1), &back), COF_OK);
    cry_key_free(back);
    cry_key_free(kek);
    cry_key_free(dek);
}

static void test_wrong_key_and_context(void)
{
    struct cry_key *kek = key_of(1), *kek2 = key_of(2), *dek = key_of(3);
    uint8_t w[CRY_WRAPPED_LEN];

    CHECK_EQ_INT(cry_env_wrap(kek, &base_ctx, dek, w), COF_OK);
    check_unwrap_fails(kek2, &base_ctx, w, sizeof(w), COF_ERR_KEY, "wrong KEK");
    check_unwrap_fails(dek, &base_ctx, w, sizeof(w), COF_ERR_KEY, "DEK as KEK");

    struct {
        const char *what;
        struct cry_wrap_ctx c;
    } v[8];
    size_t nv = 0;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        v[i].c = base_ctx;
    v[nv].what = "mode S3";
    v[nv++].c.mode = CRY_MODE_SSE_S3;
    v[nv].what = "mode C";
    v[nv++].c.mode = CRY_MODE_SSE_C;
    v[nv].what = "bucket";
    v[nv++].c.bucket = "bucket2";
    v[nv].what = "object key";
    v[nv++].c.key = "dir/obj.txu";
    v[nv].what = "version id";
    v[nv++].c.version_id = "v2";
    v[nv].what = "blob id";
    v[nv++].c.blob_id = other_blob_id;
    v[nv].what = "enc context";
    v[nv++].c.enc_context = "{\"a\":\"c\"}";
    v[nv].what = "enc context empty";
    v[nv++].c.enc_context = NULL;
    for (size_t i = 0; i < nv; i++)
        check_unwrap_fails(kek, &v[i].c, w, sizeof(w), COF_ERR_KEY, v[i].what);

    /* Length prefixes: moving a character between bucket and key changes the context. */
    struct cry_wrap_ctx a = base_ctx, b = base_ctx;
    a.bucket = "ab";
    a.key = "c";
    b.bucket = "a";
    b.key = "bc";
    CHECK_EQ_INT(cry_env_wrap(kek, &a, dek, w), COF_OK);
    check_unwrap_fails(kek, &b, w, sizeof(w), COF_ERR_KEY, "bucket/key boundary");
    cry_key_free(kek);
    cry_key_free(kek2);
    cry_key_free(dek);
}

static void test_tamper(void)
{
    struct cry_key *kek = key_of(4), *dek = key_of(5);
    uint8_t w[CRY_WRAPPED_LEN + 1];
    int all_fail = 1;

    CHECK_EQ_INT(cry_env_wrap(kek, &base_ctx, dek, w), COF_OK);
    for (size_t i = 0; i < CRY_WRAPPED_LEN; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            struct cry_key *got = NULL;
            w[i] ^= (uint8_t)(1u << bit);
            cof_err err = cry_env_unwrap(kek, &base_ctx, w, CRY_WRAPPED_LEN, &got);
            /* The version byte is checked first (INTEGRITY); anything else fails the tag (KEY). */
            if (err != (i == 0 ? COF_ERR_INTEGRITY : COF_ERR_KEY) || got != NULL)
                all_fail = 0;
            cry_key_free(got);
            w[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(all_fail);
    static const size_t lens[] = {0, 1, CRY_WRAPPED_LEN - 1, CRY_WRAPPED_LEN + 1};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        check_unwrap_fails(kek, &base_ctx, w, lens[i], COF_ERR_INTEGRITY, "wrong length");
    check_unwrap_fails(kek, &base_ctx, NULL, 0, COF_ERR_INTEGRITY, "NULL, 0");
    struct cry_key *got = NULL;
    CHECK_EQ_INT(cry_env_unwrap(kek, &base_ctx, w, CRY_WRAPPED_LEN, &got), COF_OK);
    cry_key_free(got);
    cry_key_free(kek);
    cry_key_free(dek);
}

/* HKDF binds mode and salt: another mode or salt gives another KEK, never the wrapping key. */
static void test_kek_derivation_separates_modes(void)
{
    uint8_t salt[WRAP_SALT_LEN] = {0};
    uint8_t k1[CRY_KEY_LEN], k2[CRY_KEY_LEN], k3[CRY_KEY_LEN];
    struct cry_key *wk = key_of(7);

    CHECK_EQ_INT(derive_kek(wk, CRY_MODE_SSE_S3, salt, k1), COF_OK);
    CHECK_EQ_INT(derive_kek(wk, CRY_MODE_SSE_C, salt, k2), COF_OK);
    salt[0] = 1;
    CHECK_EQ_INT(derive_kek(wk, CRY_MODE_SSE_S3, salt, k3), COF_OK);
    CHECK(memcmp(k1, k2, sizeof(k1)) != 0);
    CHECK(memcmp(k1, k3, sizeof(k1)) != 0);
    CHECK(memcmp(k1, cry_key_bytes(wk), sizeof(k1)) != 0);
    cry_key_free(wk);
}

/* Sealed values: round trip (empty and maximal), then wrong key, every context field, every
 * byte flipped, truncation and extension all fail and release nothing. */
static void check_open_fails(const struct cry_key *kek, const struct cry_wrap_ctx *c,
                             const uint8_t *s, size_t n, cof_err want, const char *what)
{
    uint8_t out[CRY_VALUE_MAX];
    size_t ol = 99;
    memset(out, 0x55, sizeof(out));
    cof_err err = cry_env_open_value(kek, c, s, n, out, sizeof(out), &ol);
    if (err != want)
        fprintf(stderr, "case: %s\n", what);
    CHECK_EQ_INT(err, want);
    CHECK(ol == 0);
    for (size_t i = 0; i < sizeof(out); i++)
        CHECK(out[i] == 0 || out[i] == 0x55); /* wiped or untouched, never plaintext */
}

static void test_sealed_value(void)
{
    struct cry_key *kek = key_of(1), *kek2 = key_of(2);
    const uint8_t msg[] = "CRC32 y/Q5Jg==";
    uint8_t s[CRY_SEALED_LEN(CRY_VALUE_MAX)], s2[CRY_SEALED_LEN(CRY_VALUE_MAX)];
    uint8_t out[CRY_VALUE_MAX];
    size_t sl = 0, sl2 = 0, ol = 0;
    size_t n = sizeof(msg) - 1;
    CHECK_EQ_INT(cry_env_seal_value(kek, &base_ctx, msg, n, s, sizeof(s), &sl), COF_OK);
    CHECK_EQ_INT(sl, CRY_SEALED_LEN(n));
    for (size_t i = 0; i + n <= sl; i++) /* the plaintext is nowhere in the sealed bytes */
        CHECK(memcmp(s + i, msg, n) != 0);
    CHECK_EQ_INT(cry_env_open_value(kek, &base_ctx, s, sl, out, sizeof(out), &ol), COF_OK);
    CHECK(ol == n && memcmp(out, msg, n) == 0);
    /* a fresh salt and nonce each time */
    CHECK_EQ_INT(cry_env_seal_value(kek, &base_ctx, msg, n, s2, sizeof(s2), &sl2), COF_OK);
    CHECK(sl2 == sl && memcmp(s, s2, sl) != 0);
    /* empty and maximal values; too large refused */
    uint8_t big[CRY_VALUE_MAX + 1];
    memset(big, 7, sizeof(big));
    CHECK_EQ_INT(cry_env_seal_value(kek, &base_ctx, big, 0, s2, sizeof(s2), &sl2), COF_OK);
    CHECK_EQ_INT(cry_env_open_value(kek, &base_ctx, s2, sl2, out, sizeof(out), &ol), COF_OK);
    CHECK(ol == 0);
    CHECK_EQ_INT(cry_env_seal_value(kek, &base_ctx, big, CRY_VALUE_MAX, s2, sizeof(s2), &sl2),
                 COF_OK);
    CHECK_EQ_INT(cry_env_open_value(kek, &base_ctx, s2, sl2, out, sizeof(out), &ol), COF_OK);
    CHECK(ol == CRY_VALUE_MAX && memcmp(out, big, ol) == 0);
    CHECK_EQ_INT(cry_env_seal_value(kek, &base_ctx, big, sizeof(big), s2, sizeof(s2), &sl2),
                 COF_ERR_TOO_LARGE);
    CHECK_EQ_INT(cry_env_seal_value(kek, &base_ctx, msg, n, s2, CRY_SEALED_LEN(n) - 1, &sl2),
                 COF_ERR_TOO_LARGE);

    check_open_fails(kek2, &base_ctx, s, sl, COF_ERR_KEY, "wrong KEK");
    struct cry_wrap_ctx c = base_ctx;
    c.mode = CRY_MODE_SSE_C;
    check_open_fails(kek, &c, s, sl, COF_ERR_KEY, "mode");
    c = base_ctx;
    c.bucket = "bucket2";
    check_open_fails(kek, &c, s, sl, COF_ERR_KEY, "bucket");
    c = base_ctx;
    c.key = "dir/obj.txT";
    check_open_fails(kek, &c, s, sl, COF_ERR_KEY, "key");
    c = base_ctx;
    c.version_id = "v2";
    check_open_fails(kek, &c, s, sl, COF_ERR_KEY, "label");
    c = base_ctx;
    c.blob_id = other_blob_id;
    check_open_fails(kek, &c, s, sl, COF_ERR_KEY, "blob id");
    c = base_ctx;
    c.enc_context = NULL;
    check_open_fails(kek, &c, s, sl, COF_ERR_KEY, "context");
    /* A DEK wrap under the same key and context is no sealed value (separate KDF label). */
    struct cry_key *dek = key_of(9);
    uint8_t w[CRY_WRAPPED_LEN];
    CHECK_EQ_INT(cry_env_wrap(kek, &base_ctx, dek, w), COF_OK);
    check_open_fails(kek, &base_ctx, w, sizeof(w), COF_ERR_KEY, "a DEK wrap");
    for (size_t i = 0; i < sl; i++) {
        s[i] ^= 0x01;
        check_open_fails(kek, &base_ctx, s, sl, i == 0 ? COF_ERR_INTEGRITY : COF_ERR_KEY,
                         "flipped byte");
        s[i] ^= 0x01;
    }
    check_open_fails(kek, &base_ctx, s, sl - 1, COF_ERR_KEY, "truncated");
    check_open_fails(kek, &base_ctx, s, CRY_SEALED_LEN(0) - 1, COF_ERR_INTEGRITY, "too short");
    cry_key_free(dek);
    cry_key_free(kek);
    cry_key_free(kek2);
}

/* Sealed messages: round trip up to CRY_MSG_MAX, the AAD bound, every byte flipped. */
static void test_sealed_msg(void)
{
    struct cry_key *kek = key_of(1), *kek2 = key_of(2);
    static uint8_t pt[CRY_MSG_MAX + 1], s[CRY_SEALED_LEN(CRY_MSG_MAX + 1)], out[CRY_MSG_MAX];
    const uint8_t aad[] = "hdr|ctx";
    size_t sl = 0, ol = 0;
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)(i * 7);
    CHECK_EQ_INT(cry_env_seal_msg(kek, aad, sizeof(aad), pt, CRY_MSG_MAX, s, sizeof(s), &sl),
                 COF_OK);
    CHECK_EQ_INT(sl, CRY_SEALED_LEN(CRY_MSG_MAX));
    CHECK_EQ_INT(cry_env_open_msg(kek, aad, sizeof(aad), s, sl, out, sizeof(out), &ol), COF_OK);
    CHECK(ol == CRY_MSG_MAX && memcmp(out, pt, ol) == 0);
    CHECK_EQ_INT(cry_env_seal_msg(kek, aad, sizeof(aad), pt, CRY_MSG_MAX + 1, s, sizeof(s), &sl),
                 COF_ERR_TOO_LARGE);
    /* a short message: wrong key, wrong AAD, a DEK-wrap-labelled key, each flipped byte */
    CHECK_EQ_INT(cry_env_seal_msg(kek, aad, sizeof(aad), pt, 40, s, sizeof(s), &sl), COF_OK);
    CHECK_EQ_INT(cry_env_open_msg(kek2, aad, sizeof(aad), s, sl, out, sizeof(out), &ol),
                 COF_ERR_KEY);
    CHECK_EQ_INT(cry_env_open_msg(kek, aad, sizeof(aad) - 1, s, sl, out, sizeof(out), &ol),
                 COF_ERR_KEY);
    CHECK_EQ_INT(cry_env_open_msg(kek, NULL, 0, s, sl, out, sizeof(out), &ol), COF_ERR_KEY);
    CHECK_EQ_INT(cry_env_open_msg(kek, aad, sizeof(aad), s, sl, out, 39, &ol), COF_ERR_TOO_LARGE);
    for (size_t i = 0; i < sl; i++) {
        s[i] ^= 0x40;
        cof_err err = cry_env_open_msg(kek, aad, sizeof(aad), s, sl, out, sizeof(out), &ol);
        CHECK_EQ_INT(err, i == 0 ? COF_ERR_INTEGRITY : COF_ERR_KEY);
        CHECK(ol == 0);
        s[i] ^= 0x40;
    }
    CHECK_EQ_INT(
        cry_env_open_msg(kek, aad, sizeof(aad), s, CRY_SEALED_LEN(0) - 1, out, sizeof(out), &ol),
        COF_ERR_INTEGRITY);
    cry_key_free(kek);
    cry_key_free(kek2);
}

int main(void)
{
    test_sealed_msg();
    test_sealed_value();
    test_kat();
    test_round_trip();
    test_wrong_key_and_context();
    test_tamper();
    test_kek_derivation_separates_modes();
    return check_finish();
}

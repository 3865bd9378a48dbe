/* SPDX-License-Identifier: Apache-2.0 */
/* crypto/token: round trip, the key id read back, and every way a token must fail to open:
 * another root key, another purpose, each byte flipped, truncated or extended, a payload or
 * buffer too large. A failed open releases nothing. */
#include "check.h"
#include "crypto/token.h"

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

static const uint8_t payload[] = "ASIAEXAMPLE|secret|000000000000|arn:aws:sts::0:assumed-role/r/s";

/* Opening must fail with want and leave out wiped (all zero). */
static void check_open_fails(const struct cry_key *k, const char *purpose, const uint8_t *t,
                             size_t n, cof_err want, const char *what)
{
    uint8_t out[CRY_TOKEN_PAYLOAD_MAX];
    uint8_t zero[CRY_TOKEN_PAYLOAD_MAX] = {0};
    size_t len = 99;
    memset(out, 0, sizeof(out));
    cof_err err = cry_token_open(k, purpose, t, n, out, sizeof(out), &len);
    if (err != want)
        fprintf(stderr, "case: %s\n", what);
    CHECK_EQ_INT(err, want);
    CHECK_EQ_INT(len, 0);
    CHECK_MEM(out, zero, sizeof(out));
}

static void test_round_trip(void)
{
    struct cry_key *k = key_of(1);
    uint8_t t[256], out[256];
    size_t tl = 0, ol = 0;
    char id[CRY_KEY_ID_MAX + 1];

    CHECK_EQ_INT(cry_token_seal(k, "rk-0123456789abcdef", "sts-session", payload, sizeof(payload),
                                t, sizeof(t), &tl),
                 COF_OK);
    CHECK_EQ_INT(tl, CRY_TOKEN_LEN(19, sizeof(payload)));
    CHECK_EQ_INT(cry_token_key_id(t, tl, id), COF_OK);
    CHECK_EQ_STR(id, "rk-0123456789abcdef");
    CHECK_EQ_INT(cry_token_open(k, "sts-session", t, tl, out, sizeof(out), &ol), COF_OK);
    CHECK_EQ_INT(ol, sizeof(payload));
    CHECK_MEM(out, payload, sizeof(payload));
    /* Two seals of the same payload differ (random nonce). */
    uint8_t t2[256];
    size_t tl2 = 0;
    CHECK_EQ_INT(cry_token_seal(k, "rk-0123456789abcdef", "sts-session", payload, sizeof(payload),
                                t2, sizeof(t2), &tl2),
                 COF_OK);
    CHECK(tl2 == tl && memcmp(t, t2, tl) != 0);
    /* An empty payload is a token too. */
    CHECK_EQ_INT(cry_token_seal(k, "rk1", "p", payload, 0, t2, sizeof(t2), &tl2), COF_OK);
    CHECK_EQ_INT(cry_token_open(k, "p", t2, tl2, out, sizeof(out), &ol), COF_OK);
    CHECK_EQ_INT(ol, 0);
    cry_key_free(k);
}

static void test_failures(void)
{
    struct cry_key *k = key_of(1), *other = key_of(2);
    uint8_t t[256];
    size_t tl = 0;
    char id[CRY_KEY_ID_MAX + 1];

    CHECK_EQ_INT(
        cry_token_seal(k, "rk1", "sts-session", payload, sizeof(payload), t, sizeof(t), &tl),
        COF_OK);
    check_open_fails(other, "sts-session", t, tl, COF_ERR_INTEGRITY, "other root key");
    check_open_fails(k, "kms-blob", t, tl, COF_ERR_INTEGRITY, "other purpose");
    for (size_t i = 0; i < tl; i++) {
        t[i] ^= 0x20;
        check_open_fails(k, "sts-session", t, tl, COF_ERR_INTEGRITY, "flipped byte");
        t[i] ^= 0x20;
    }
    check_open_fails(k, "sts-session", t, tl - 1, COF_ERR_INTEGRITY, "truncated");
    check_open_fails(k, "sts-session", t, CRY_TOKEN_LEN(3, 0) - 1, COF_ERR_INTEGRITY,
                     "shorter than a header and a tag");
    check_open_fails(k, "sts-session", t, 0, COF_ERR_INTEGRITY, "empty");
    t[tl] = 0;
    check_open_fails(k, "sts-session", t, tl + 1, COF_ERR_INTEGRITY, "extended");
    /* Malformed headers: unknown version, zero or oversized key id length. */
    uint8_t bad[3][8] = {{2, 3, 'r', 'k', '1'}, {1, 0}, {1, CRY_KEY_ID_MAX + 1}};
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ_INT(cry_token_key_id(bad[i], sizeof(bad[i]), id), COF_ERR_INTEGRITY);
    /* Sizes: a payload over the cap, an output buffer too small to seal or to open into. */
    static uint8_t big[CRY_TOKEN_PAYLOAD_MAX + 1];
    static uint8_t bigt[CRY_TOKEN_PAYLOAD_MAX + 128];
    CHECK_EQ_INT(cry_token_seal(k, "rk1", "p", big, sizeof(big), bigt, sizeof(bigt), &tl),
                 COF_ERR_TOO_LARGE);
    CHECK_EQ_INT(cry_token_seal(k, "rk1", "p", payload, sizeof(payload), t, 20, &tl),
                 COF_ERR_TOO_LARGE);
    CHECK_EQ_INT(cry_token_seal(k, "rk1", "p", payload, sizeof(payload), t, sizeof(t), &tl),
                 COF_OK);
    uint8_t small[8];
    size_t sl = 0;
    CHECK_EQ_INT(cry_token_open(k, "p", t, tl, small, sizeof(small), &sl), COF_ERR_TOO_LARGE);
    cry_key_free(k);
    cry_key_free(other);
}

int main(void)
{
    test_round_trip();
    test_failures();
    return check_finish();
}

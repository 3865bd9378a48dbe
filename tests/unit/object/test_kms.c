/* SPDX-License-Identifier: Apache-2.0 */
/* object/kms: the KMS API's ciphertext blobs (round trip, the header and the context bound,
 * malformed blobs refused by the parser), canonical encryption contexts and their cap, and the
 * key references SSE-KMS objects record ("<id>#<version>" shown as the key's ARN). */
#include "check.h"
#include "object/kms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"

static const char ID[] = "0f3c1a52-7b7e-4c1e-9d0b-2f4a6b8c0d1e";

static void key_of(uint8_t start, uint32_t version, struct srv_kms_key *k)
{
    uint8_t b[CRY_KEY_LEN];
    memset(k, 0, sizeof(*k));
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(start + i);
    if (cry_key_from_bytes(b, sizeof(b), &k->material) != COF_OK)
        abort();
    snprintf(k->id, sizeof(k->id), "%s", ID);
    k->version = version;
}

static void test_round_trip_and_binding(void)
{
    struct srv_kms_key k, other;
    uint8_t ctx[256], ctx2[256], blob[512], pt[64];
    size_t cl = 0, cl2 = 0, bl = 0, pl = 0;
    char ref[96];
    key_of(1, 3, &k);
    key_of(2, 3, &other);
    CHECK_EQ_INT(srv_kms_context_add(ctx, sizeof(ctx), &cl, "a", "1"), COF_OK);
    CHECK_EQ_INT(srv_kms_context_add(ctx, sizeof(ctx), &cl, "b", "2"), COF_OK);
    CHECK_EQ_INT(srv_kms_context_add(ctx2, sizeof(ctx2), &cl2, "a", "12"), COF_OK);
    /* ("a","1"),("b","2") and ("a","12") must not collide: lengths are part of the form */
    CHECK(cl != cl2 || memcmp(ctx, ctx2, cl) != 0);
    CHECK_EQ_INT(
        srv_kms_encrypt(&k, ctx, cl, (const uint8_t *)"plaintext", 9, blob, sizeof(blob), &bl),
        COF_OK);
    CHECK_EQ_INT(bl, 4 + 1 + strlen(ID) + 4 + CRY_SEALED_LEN(9));
    CHECK_MEM(blob, "CKB1", 4);
    CHECK_EQ_INT(srv_kms_blob_ref(blob, bl, ref, sizeof(ref)), COF_OK);
    char want[96];
    snprintf(want, sizeof(want), "%s#3", ID);
    CHECK_EQ_STR(ref, want);
    CHECK_EQ_INT(srv_kms_decrypt(&k, ctx, cl, blob, bl, pt, sizeof(pt), &pl), COF_OK);
    CHECK(pl == 9 && memcmp(pt, "plaintext", 9) == 0);
    CHECK_EQ_INT(srv_kms_decrypt(&other, ctx, cl, blob, bl, pt, sizeof(pt), &pl), COF_ERR_KEY);
    CHECK_EQ_INT(srv_kms_decrypt(&k, ctx2, cl2, blob, bl, pt, sizeof(pt), &pl), COF_ERR_KEY);
    CHECK_EQ_INT(srv_kms_decrypt(&k, NULL, 0, blob, bl, pt, sizeof(pt), &pl), COF_ERR_KEY);
    CHECK_EQ_INT(srv_kms_decrypt(&k, ctx, cl, blob, bl, pt, 8, &pl), COF_ERR_TOO_LARGE);
    /* every byte is bound: the key id and version too (the AAD holds the header) */
    for (size_t i = 0; i < bl; i++) {
        blob[i] ^= 0x20;
        cof_err err = srv_kms_decrypt(&k, ctx, cl, blob, bl, pt, sizeof(pt), &pl);
        CHECK(err == COF_ERR_KEY || err == COF_ERR_INTEGRITY);
        CHECK_EQ_INT(pl, 0);
        blob[i] ^= 0x20;
    }
    CHECK_EQ_INT(srv_kms_decrypt(&k, ctx, cl, blob, bl - 1, pt, sizeof(pt), &pl), COF_ERR_KEY);
    /* version 0 is named by the bare id */
    struct srv_kms_key v0;
    key_of(1, 0, &v0);
    CHECK_EQ_INT(srv_kms_encrypt(&v0, NULL, 0, (const uint8_t *)"x", 1, blob, sizeof(blob), &bl),
                 COF_OK);
    CHECK_EQ_INT(srv_kms_blob_ref(blob, bl, ref, sizeof(ref)), COF_OK);
    CHECK_EQ_STR(ref, ID);
    CHECK_EQ_INT(srv_kms_encrypt(&v0, NULL, 0, (const uint8_t *)"x", 1, blob, 40, &bl),
                 COF_ERR_TOO_LARGE);
    srv_kms_key_cleanup(&k);
    srv_kms_key_cleanup(&other);
    srv_kms_key_cleanup(&v0);
}

/* Blobs the parser refuses before any key is looked up. */
static void test_malformed_blobs(void)
{
    struct srv_kms_key k;
    uint8_t good[256];
    size_t gl = 0;
    char ref[96];
    key_of(1, 1, &k);
    CHECK_EQ_INT(srv_kms_encrypt(&k, NULL, 0, (const uint8_t *)"p", 1, good, sizeof(good), &gl),
                 COF_OK);
    static const struct {
        const char *what;
        size_t at; /* byte to set, or SIZE_MAX for none */
        uint8_t value;
        size_t len; /* 0: the whole blob */
    } cases[] = {
        {"bad magic", 0, 'X', 0},
        {"zero id length", 4, 0, 0},
        {"id length over 63", 4, 64, 0},
        {"id length past the end", 4, 63, 0},
        {"a character no key id has", 7, '/', 0},
        {"a NUL in the key id", 7, 0, 0},
        {"version over the cap", 5 + sizeof(ID) - 1, 0x10, 0},
        {"too short for a sealed part", SIZE_MAX, 0, 5 + sizeof(ID) - 1 + 4 + 60},
        {"empty", SIZE_MAX, 0, 0x10000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[256];
        size_t n = cases[i].len == 0 ? gl : cases[i].len == 0x10000 ? 0 : cases[i].len;
        memcpy(b, good, gl);
        if (cases[i].at != SIZE_MAX)
            b[cases[i].at] = cases[i].value;
        if (srv_kms_blob_ref(b, n, ref, sizeof(ref)) != COF_ERR_INTEGRITY)
            fprintf(stderr, "case: %s\n", cases[i].what);
        CHECK_EQ_INT(srv_kms_blob_ref(b, n, ref, sizeof(ref)), COF_ERR_INTEGRITY);
    }
    CHECK_EQ_INT(srv_kms_blob_ref(good, gl, ref, 10), COF_ERR_INTEGRITY); /* ref too small */
    srv_kms_key_cleanup(&k);
}

static void test_context_cap_and_arns(void)
{
    uint8_t buf[20];
    size_t n = 0;
    CHECK_EQ_INT(srv_kms_context_add(buf, sizeof(buf), &n, "key", "value"), COF_OK);
    CHECK_EQ_INT(n, 16);
    CHECK_EQ_INT(srv_kms_context_add(buf, sizeof(buf), &n, "k", ""), COF_ERR_TOO_LARGE);
    CHECK_EQ_INT(n, 16);
    struct obj_ctx ctx = {.region = "eu-west-1"};
    char arn[160];
    srv_kms_arn(&ctx, "abc#4", arn, sizeof(arn));
    CHECK_EQ_STR(arn, "arn:aws:kms:eu-west-1:000000000000:key/abc");
    srv_kms_arn(&ctx, "abc", arn, sizeof(arn));
    CHECK_EQ_STR(arn, "arn:aws:kms:eu-west-1:000000000000:key/abc");
}

int main(void)
{
    test_round_trip_and_binding();
    test_malformed_blobs();
    test_context_cap_and_arns();
    return check_finish();
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Checksums at rest: clear for SSE-S3; for SSE-C and SSE-KMS sealed, openable only with the
 * same key and binding (bucket, key, blob, object vs part), and never in clear in what is
 * stored. */
#include "check.h"
#include "object/cksum_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define BLOB  "00112233445566778899aabbccddeeff"
#define BLOB2 "00112233445566778899aabbccddeef0"

static void test_object_lines(void)
{
    struct cry_key *ck = key_of(1), *other = key_of(2);
    struct objio_seal seal = {CRY_MODE_SSE_C, ck, "customer", NULL};
    char *block = strdup("content-type:text/plain\n");
    char out[SRV_CKS_VALUE_MAX];
    CHECK_EQ_INT(
        srv_cks_add_object_line(&block, &seal, "bkt", "k", BLOB, SRV_CKSUM_CRC32, "y/Q5Jg=="),
        COF_OK);
    CHECK(strstr(block, "y/Q5Jg==") == NULL && strstr(block, "CRC32") == NULL);
    CHECK(strstr(block, "content-type:text/plain\n") == block);
    struct sto_object o = {
        .bucket = "bkt", .key = "k", .headers = block, .blob_id = BLOB, .sse_mode = CRY_MODE_SSE_C};
    struct objio_keys keys = {ck, NULL, NULL};
    CHECK(srv_cks_object(&o, &keys, out, sizeof(out)));
    CHECK_EQ_STR(out, "CRC32 y/Q5Jg==");
    /* no key, another key, another object, another blob, a multipart view: hidden */
    CHECK(!srv_cks_object(&o, NULL, out, sizeof(out)));
    struct objio_keys wrong = {other, NULL, NULL};
    CHECK(!srv_cks_object(&o, &wrong, out, sizeof(out)));
    o.key = "k2";
    CHECK(!srv_cks_object(&o, &keys, out, sizeof(out)));
    o.key = "k";
    o.blob_id = BLOB2;
    CHECK(!srv_cks_object(&o, &keys, out, sizeof(out)));
    o.blob_id = NULL;
    o.part_count = 2;
    CHECK(!srv_cks_object(&o, &keys, out, sizeof(out)));
    free(block);

    /* SSE-KMS: the material and the encryption context */
    seal = (struct objio_seal){CRY_MODE_SSE_KMS, other, "kms-id", "{\"a\":\"b\"}"};
    block = NULL;
    CHECK_EQ_INT(
        srv_cks_add_object_line(&block, &seal, "bkt", "mp", NULL, SRV_CKSUM_SHA256, "abc-2"),
        COF_OK);
    o = (struct sto_object){.bucket = "bkt",
                            .key = "mp",
                            .headers = block,
                            .sse_mode = CRY_MODE_SSE_KMS,
                            .part_count = 2};
    struct objio_keys kk = {NULL, other, "{\"a\":\"b\"}"};
    CHECK(srv_cks_object(&o, &kk, out, sizeof(out)));
    CHECK_EQ_STR(out, "SHA256 abc-2");
    kk.enc_context = NULL;
    CHECK(!srv_cks_object(&o, &kk, out, sizeof(out)));
    free(block);

    /* SSE-S3: in clear, no key needed */
    seal = (struct objio_seal){CRY_MODE_SSE_S3, ck, "rk1", NULL};
    block = NULL;
    CHECK_EQ_INT(
        srv_cks_add_object_line(&block, &seal, "bkt", "k", BLOB, SRV_CKSUM_CRC32C, "4waSgw=="),
        COF_OK);
    CHECK_EQ_STR(block, "coffer-checksum:CRC32C 4waSgw==\n");
    o = (struct sto_object){.bucket = "bkt", .key = "k", .headers = block, .blob_id = BLOB};
    CHECK(srv_cks_object(&o, NULL, out, sizeof(out)));
    CHECK_EQ_STR(out, "CRC32C 4waSgw==");
    free(block);
    cry_key_free(ck);
    cry_key_free(other);
}

static void test_part_values(void)
{
    struct cry_key *ck = key_of(7);
    struct objio_seal seal = {CRY_MODE_SSE_C, ck, "customer", NULL};
    char stored[SRV_CKS_STORED_MAX], out[SRV_CKS_VALUE_MAX];
    CHECK_EQ_INT(
        srv_cks_part_for_store(&seal, "bkt", "k", BLOB, "CRC32 y/Q5Jg==", stored, sizeof(stored)),
        COF_OK);
    CHECK(strncmp(stored, "sealed:", 7) == 0 && strstr(stored, "y/Q5Jg==") == NULL);
    struct sto_part p = {.part_number = 1, .blob_id = BLOB, .checksum = stored};
    struct objio_keys keys = {ck, NULL, NULL};
    CHECK(srv_cks_part(CRY_MODE_SSE_C, &keys, "bkt", "k", &p, out, sizeof(out)));
    CHECK_EQ_STR(out, "CRC32 y/Q5Jg==");
    CHECK(!srv_cks_part(CRY_MODE_SSE_C, NULL, "bkt", "k", &p, out, sizeof(out)));
    p.blob_id = BLOB2; /* moved to another part */
    CHECK(!srv_cks_part(CRY_MODE_SSE_C, &keys, "bkt", "k", &p, out, sizeof(out)));
    /* a part value is not an object value (label) */
    char line[SRV_CKS_STORED_MAX + 40];
    snprintf(line, sizeof(line), "coffer-checksum-sealed:%s\n", stored + 7);
    struct sto_object o = {
        .bucket = "bkt", .key = "k", .headers = line, .blob_id = BLOB, .sse_mode = CRY_MODE_SSE_C};
    CHECK(!srv_cks_object(&o, &keys, out, sizeof(out)));
    /* SSE-S3 parts stay in clear */
    seal.mode = CRY_MODE_SSE_S3;
    CHECK_EQ_INT(
        srv_cks_part_for_store(&seal, "bkt", "k", BLOB, "CRC32 y/Q5Jg==", stored, sizeof(stored)),
        COF_OK);
    CHECK_EQ_STR(stored, "CRC32 y/Q5Jg==");
    p.blob_id = BLOB;
    CHECK(srv_cks_part(CRY_MODE_SSE_S3, NULL, "bkt", "k", &p, out, sizeof(out)));
    CHECK_EQ_STR(out, "CRC32 y/Q5Jg==");
    p.checksum = NULL;
    CHECK(!srv_cks_part(CRY_MODE_SSE_S3, NULL, "bkt", "k", &p, out, sizeof(out)));
    cry_key_free(ck);
}

int main(void)
{
    test_object_lines();
    test_part_values();
    return check_finish();
}

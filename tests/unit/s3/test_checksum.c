/* SPDX-License-Identifier: Apache-2.0 */
/* x-amz-checksum-* algorithms: the "123456789" check values, streaming equals one-shot,
 * base64 forms as AWS sends them, name parsing. */
#include "check.h"
#include "s3/checksum.h"

#include <stdlib.h>
#include <string.h>

struct vec {
    enum srv_cksum_alg alg;
    const char *b64; /* of "123456789" */
};

/* CRC32 cbf43926, CRC32C e3069283, CRC64NVME ae8b14860a799888, SHA1/SHA256 of "123456789". */
static const struct vec vecs[] = {
    {SRV_CKSUM_CRC32, "y/Q5Jg=="},
    {SRV_CKSUM_CRC32C, "4waSgw=="},
    {SRV_CKSUM_CRC64NVME, "rosUhgp5mIg="},
    {SRV_CKSUM_SHA1, "98O8HYCOBHMq32eZZczDTKeuNEE="},
    {SRV_CKSUM_SHA256, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
};

static uint64_t crc_of(enum srv_cksum_alg alg, const void *p, size_t n)
{
    struct srv_cksum c;
    char b64[SRV_CKSUM_B64_MAX];
    uint64_t v = 0;
    CHECK_EQ_INT(srv_cksum_init(&c, alg), COF_OK);
    srv_cksum_update(&c, p, n);
    srv_cksum_final(&c, b64);
    CHECK_EQ_INT(srv_cksum_crc_decode(alg, b64, &v), COF_OK);
    return v;
}

/* crc(A||B) from crc(A), crc(B), |B|, checked against the CRC of the real concatenation, for
 * splits at both ends, in the middle, and of a multi-megabyte B (the FULL_OBJECT multipart
 * case: one part after another). */
static void test_combine(void)
{
    static const enum srv_cksum_alg crcs[] = {SRV_CKSUM_CRC32, SRV_CKSUM_CRC32C,
                                              SRV_CKSUM_CRC64NVME};
    size_t n = 5u * 1024 * 1024 + 12345;
    unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)((i * 2654435761u) >> 13);
    const size_t splits[] = {0, 1, 9, 4096, 65537, 5u * 1024 * 1024, n - 1, n};
    for (size_t a = 0; a < 3; a++) {
        enum srv_cksum_alg alg = crcs[a];
        uint64_t whole = crc_of(alg, buf, n);
        for (size_t s = 0; s < sizeof(splits) / sizeof(splits[0]); s++) {
            size_t k = splits[s];
            uint64_t ca = crc_of(alg, buf, k), cb = crc_of(alg, buf + k, n - k);
            CHECK(srv_crc_combine(alg, ca, cb, n - k) == whole);
        }
        /* three pieces, folded left to right as Complete does */
        uint64_t acc = crc_of(alg, buf, 100);
        acc = srv_crc_combine(alg, acc, crc_of(alg, buf + 100, 3000000), 3000000);
        acc = srv_crc_combine(alg, acc, crc_of(alg, buf + 3000100, n - 3000100), n - 3000100);
        CHECK(acc == whole);
    }
    /* "1234" + "56789" -> the "123456789" check values */
    CHECK(srv_crc_combine(SRV_CKSUM_CRC32, crc_of(SRV_CKSUM_CRC32, "1234", 4),
                          crc_of(SRV_CKSUM_CRC32, "56789", 5), 5) == 0xcbf43926u);
    CHECK(srv_crc_combine(SRV_CKSUM_CRC32C, crc_of(SRV_CKSUM_CRC32C, "1234", 4),
                          crc_of(SRV_CKSUM_CRC32C, "56789", 5), 5) == 0xe3069283u);
    CHECK(srv_crc_combine(SRV_CKSUM_CRC64NVME, crc_of(SRV_CKSUM_CRC64NVME, "1234", 4),
                          crc_of(SRV_CKSUM_CRC64NVME, "56789", 5), 5) == 0xae8b14860a799888ull);
    /* decode rejects other lengths and non-CRCs; encode round-trips */
    uint64_t v = 0;
    char b64[SRV_CKSUM_B64_MAX];
    CHECK_EQ_INT(srv_cksum_crc_decode(SRV_CKSUM_CRC32, "rosUhgp5mIg=", &v), COF_ERR_INVALID);
    CHECK_EQ_INT(srv_cksum_crc_decode(SRV_CKSUM_SHA1, "y/Q5Jg==", &v), COF_ERR_INVALID);
    CHECK_EQ_INT(srv_cksum_crc_decode(SRV_CKSUM_CRC32, "!!", &v), COF_ERR_INVALID);
    CHECK_EQ_INT(srv_cksum_crc_decode(SRV_CKSUM_CRC64NVME, "rosUhgp5mIg=", &v), COF_OK);
    srv_cksum_crc_encode(SRV_CKSUM_CRC64NVME, v, b64);
    CHECK_EQ_STR(b64, "rosUhgp5mIg=");
    free(buf);
}

int main(void)
{
    test_combine();
    const char *msg = "123456789";
    CHECK(srv_crc64nvme(0, msg, 9) == 0xae8b14860a799888ull);
    CHECK(srv_crc64nvme(srv_crc64nvme(0, msg, 4), msg + 4, 5) == 0xae8b14860a799888ull);
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        struct srv_cksum c;
        char out[SRV_CKSUM_B64_MAX];
        CHECK_EQ_INT(srv_cksum_init(&c, vecs[i].alg), COF_OK);
        srv_cksum_update(&c, msg, 9);
        srv_cksum_final(&c, out);
        CHECK_EQ_STR(out, vecs[i].b64);
        /* byte by byte gives the same */
        CHECK_EQ_INT(srv_cksum_init(&c, vecs[i].alg), COF_OK);
        for (size_t k = 0; k < 9; k++)
            srv_cksum_update(&c, msg + k, 1);
        srv_cksum_final(&c, out);
        CHECK_EQ_STR(out, vecs[i].b64);
    }
    /* a large buffer through the slicing path equals byte-wise */
    size_t n = 100003;
    unsigned char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 31 + 7);
    uint64_t a = srv_crc64nvme(0, big, n), b = 0;
    for (size_t i = 0; i < n; i++)
        b = srv_crc64nvme(b, big + i, 1);
    CHECK(a == b);
    /* The carry-less multiplication path (when the CPU has it) against the table method: every
     * length from 0 to 600 at every alignment offset 0..15, continuing from several registers,
     * and the whole buffer. */
    uint64_t starts[] = {0, 1, 0xffffffffffffffffull, 0x0123456789abcdefull};
    int mismatches = 0;
    for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++)
        for (size_t off = 0; off < 16; off++)
            for (size_t len = 0; len <= 600; len++)
                mismatches += srv_crc64nvme(starts[s], big + off, len) !=
                              srv_crc64nvme_portable(starts[s], big + off, len);
    CHECK_EQ_INT(mismatches, 0);
    CHECK(srv_crc64nvme(0, big, n) == srv_crc64nvme_portable(0, big, n));
    CHECK(srv_crc64nvme_portable(0, msg, 9) == 0xae8b14860a799888ull);
    /* Split anywhere, the chained value is the one-shot value. */
    for (size_t cut = 0; cut < n; cut += 4099)
        CHECK(srv_crc64nvme(srv_crc64nvme(0, big, cut), big + cut, n - cut) == a);
    free(big);
    CHECK_EQ_INT(srv_cksum_parse_name("crc32"), SRV_CKSUM_CRC32);
    CHECK_EQ_INT(srv_cksum_parse_name("CRC64NVME"), SRV_CKSUM_CRC64NVME);
    CHECK_EQ_INT(srv_cksum_parse_name("MD5"), SRV_CKSUM_NONE);
    CHECK_EQ_INT(srv_cksum_parse_name(""), SRV_CKSUM_NONE);
    CHECK_EQ_STR(srv_cksum_header(SRV_CKSUM_SHA256), "x-amz-checksum-sha256");
    CHECK_EQ_INT(srv_cksum_len(SRV_CKSUM_CRC64NVME), 8);
    return check_finish();
}

/* SPDX-License-Identifier: Apache-2.0 */
/* x-amz-checksum-* algorithms: the "123456789" check values, streaming equals one-shot,
 * base64 forms as AWS sends them, name parsing. */
#include "check.h"
#include "server/checksum.h"

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

int main(void)
{
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
    free(big);
    CHECK_EQ_INT(srv_cksum_parse_name("crc32"), SRV_CKSUM_CRC32);
    CHECK_EQ_INT(srv_cksum_parse_name("CRC64NVME"), SRV_CKSUM_CRC64NVME);
    CHECK_EQ_INT(srv_cksum_parse_name("MD5"), SRV_CKSUM_NONE);
    CHECK_EQ_INT(srv_cksum_parse_name(""), SRV_CKSUM_NONE);
    CHECK_EQ_STR(srv_cksum_header(SRV_CKSUM_SHA256), "x-amz-checksum-sha256");
    CHECK_EQ_INT(srv_cksum_len(SRV_CKSUM_CRC64NVME), 8);
    return check_finish();
}

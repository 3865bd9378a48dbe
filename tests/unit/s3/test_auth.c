/* SPDX-License-Identifier: Apache-2.0 */
/* srv_auth_parse: SigV4 / SigV2 headers and presigned query credentials, with negative cases. */
#include "check.h"
#include "s3/auth.h"

#include <string.h>

struct auth_case {
    const char *header;
    cof_err want;
    enum srv_auth_kind kind;
    const char *access_key;
    const char *region;
};

static const struct auth_case cases[] = {
    {"AWS4-HMAC-SHA256 Credential=test/20250602/eu-west-1/s3/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=abcdef",
     COF_OK, SRV_AUTH_V4, "test", "eu-west-1"},
    {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request,"
     "SignedHeaders=host,Signature="
     "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
     COF_OK, SRV_AUTH_V4, "AKIDEXAMPLE", "us-east-1"},
    {"AWS test:c2lnbmF0dXJl", COF_OK, SRV_AUTH_V2, "test", ""},
    /* malformed SigV4 */
    {"AWS4-HMAC-SHA256 garbage", COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS4-HMAC-SHA256 Credential=test/20250602/eu-west-1/s3/aws4_request, SignedHeaders=host",
     COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS4-HMAC-SHA256 Credential=test/2025060/eu-west-1/s3/aws4_request, SignedHeaders=host, "
     "Signature=ab",
     COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS4-HMAC-SHA256 Credential=test/20250602/eu-west-1/s3/aws5_request, SignedHeaders=host, "
     "Signature=ab",
     COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS4-HMAC-SHA256 Credential=test/20250602/eu-west-1/s3, SignedHeaders=host, Signature=ab",
     COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS4-HMAC-SHA256 Credential=/20250602/eu-west-1/s3/aws4_request, SignedHeaders=host, "
     "Signature=ab",
     COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS4-HMAC-SHA256 Credential=a/20250602/r/s3/aws4_request/x, SignedHeaders=host, "
     "Signature=ab",
     COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS4-HMAC-SHA256 Credential=a/20250602/r/s3/aws4_request, SignedHeaders=, Signature=ab",
     COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    /* malformed SigV2 */
    {"AWS test", COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS :sig", COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    {"AWS test:", COF_ERR_AUTH_MALFORMED, SRV_AUTH_NONE, NULL, NULL},
    /* other schemes */
    {"Bearer abc", COF_ERR_UNSUPPORTED_AUTH, SRV_AUTH_NONE, NULL, NULL},
    {"", COF_ERR_UNSUPPORTED_AUTH, SRV_AUTH_NONE, NULL, NULL},
};

static void test_headers(void)
{
    struct srv_query q = {NULL, 0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct srv_auth a;
        cof_err err = srv_auth_parse(cases[i].header, &q, &a);
        CHECK_EQ_INT(err, cases[i].want);
        if (err != COF_OK) {
            if (err != cases[i].want)
                fprintf(stderr, "  case %zu: %s\n", i, cases[i].header);
            continue;
        }
        CHECK_EQ_INT(a.kind, cases[i].kind);
        CHECK_EQ_STR(a.access_key, cases[i].access_key);
        CHECK_EQ_STR(a.region, cases[i].region);
    }
}

static void test_query(void)
{
    struct srv_query q;
    struct srv_auth a;
    CHECK_EQ_INT(srv_query_parse("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20250602"
                                 "%2Fap-south-1%2Fs3%2Faws4_request&X-Amz-Signature=ab",
                                 &q),
                 COF_OK);
    CHECK_EQ_INT(srv_auth_parse(NULL, &q, &a), COF_OK);
    CHECK_EQ_INT(a.kind, SRV_AUTH_V4);
    CHECK_EQ_STR(a.region, "ap-south-1");
    srv_query_cleanup(&q);

    CHECK_EQ_INT(srv_query_parse("X-Amz-Credential=bogus", &q), COF_OK);
    CHECK_EQ_INT(srv_auth_parse(NULL, &q, &a), COF_ERR_AUTH_MALFORMED);
    srv_query_cleanup(&q);

    CHECK_EQ_INT(srv_query_parse("AWSAccessKeyId=test&Signature=x&Expires=1", &q), COF_OK);
    CHECK_EQ_INT(srv_auth_parse(NULL, &q, &a), COF_OK);
    CHECK_EQ_INT(a.kind, SRV_AUTH_V2);
    CHECK_EQ_STR(a.access_key, "test");
    srv_query_cleanup(&q);

    CHECK_EQ_INT(srv_query_parse("", &q), COF_OK);
    CHECK_EQ_INT(srv_auth_parse(NULL, &q, &a), COF_OK);
    CHECK_EQ_INT(a.kind, SRV_AUTH_NONE);
    srv_query_cleanup(&q);
}

int main(void)
{
    test_headers();
    test_query();
    return check_finish();
}

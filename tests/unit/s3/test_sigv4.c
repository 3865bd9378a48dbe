/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4 against the examples published in the Amazon S3 API reference (header-based and
 * query-string authentication), plus negative cases: every input that must change the
 * signature does. */
#include "check.h"
#include "s3/sigv4.h"

#include <string.h>
#include <strings.h>

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SCOPE  "20130524/us-east-1/s3/aws4_request"
#define DATE   "20130524T000000Z"
#define EMPTY  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct hdrs {
    const char *kv[8][2];
};

static const char *lookup(void *arg, const char *name)
{
    const struct hdrs *h = arg;
    for (int i = 0; i < 8 && h->kv[i][0] != NULL; i++)
        if (strcasecmp(h->kv[i][0], name) == 0)
            return h->kv[i][1];
    return NULL;
}

struct vec {
    const char *what, *method, *path, *query, *signed_headers, *payload, *sig;
    bool presigned;
    struct hdrs h;
};

static const struct vec vecs[] = {
    {"GET object",
     "GET",
     "/test.txt",
     "",
     "host;range;x-amz-content-sha256;x-amz-date",
     EMPTY,
     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
     false,
     {{{"host", "examplebucket.s3.amazonaws.com"},
       {"range", "bytes=0-9"},
       {"x-amz-content-sha256", EMPTY},
       {"x-amz-date", DATE}}}},
    {"PUT object",
     "PUT",
     "/test%24file.text",
     "",
     "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
     "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
     false,
     {{{"date", "Fri, 24 May 2013 00:00:00 GMT"},
       {"host", "examplebucket.s3.amazonaws.com"},
       {"x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
       {"x-amz-date", DATE},
       {"x-amz-storage-class", "REDUCED_REDUNDANCY"}}}},
    {"GET bucket lifecycle",
     "GET",
     "/",
     "lifecycle",
     "host;x-amz-content-sha256;x-amz-date",
     EMPTY,
     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
     false,
     {{{"host", "examplebucket.s3.amazonaws.com"},
       {"x-amz-content-sha256", EMPTY},
       {"x-amz-date", DATE}}}},
    {"list objects",
     "GET",
     "/",
     "max-keys=2&prefix=J",
     "host;x-amz-content-sha256;x-amz-date",
     EMPTY,
     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
     false,
     {{{"host", "examplebucket.s3.amazonaws.com"},
       {"x-amz-content-sha256", EMPTY},
       {"x-amz-date", DATE}}}},
    {"presigned GET",
     "GET",
     "/test.txt",
     "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-"
     "east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
     "SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751"
     "f604d404",
     "host",
     "UNSIGNED-PAYLOAD",
     "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
     true,
     {{{"host", "examplebucket.s3.amazonaws.com"}}}},
};

static void fill(const struct vec *v, struct srv_query *q, struct srv_sigv4_in *in)
{
    CHECK_EQ_INT(srv_query_parse(v->query, q), COF_OK);
    *in = (struct srv_sigv4_in){v->method,
                                v->path,
                                q,
                                v->presigned,
                                v->signed_headers,
                                lookup,
                                (void *)(uintptr_t)&v->h,
                                v->payload,
                                DATE,
                                SCOPE};
}

/* x-amz-trailer-signature: a vector computed independently (Python hmac/hashlib over the
 * string to sign of S3's "Signature calculations for trailing headers"), chained on a final
 * chunk signature; any changed input changes it. */
static void test_trailer_signature(void)
{
    static const char prev[] = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";
    /* sha256("x-amz-checksum-crc32c:sOO8/Q==\n") */
    static const char th[] = "1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774";
    uint8_t key[32];
    char sig[SRV_SIG_HEX_LEN + 1];
    CHECK_EQ_INT(srv_sigv4_signing_key(SECRET, SCOPE, key), COF_OK);
    CHECK_EQ_INT(srv_sigv4_trailer_signature(key, DATE, SCOPE, prev, th, sig), COF_OK);
    CHECK_EQ_STR(sig, "838d1eeafd0ec086f3e98ef47cfb73e3cf6fea3c489e22a61089fa643e8b4b61");
    CHECK_EQ_INT(srv_sigv4_trailer_signature(key, DATE, SCOPE, EMPTY, th, sig), COF_OK);
    CHECK(strcmp(sig, "838d1eeafd0ec086f3e98ef47cfb73e3cf6fea3c489e22a61089fa643e8b4b61") != 0);
    CHECK_EQ_INT(srv_sigv4_trailer_signature(key, DATE, SCOPE, prev, EMPTY, sig), COF_OK);
    CHECK(strcmp(sig, "838d1eeafd0ec086f3e98ef47cfb73e3cf6fea3c489e22a61089fa643e8b4b61") != 0);
    /* a chunk signature over the same inputs is a different string to sign */
    CHECK_EQ_INT(srv_sigv4_chunk_signature(key, DATE, SCOPE, prev, th, sig), COF_OK);
    CHECK(strcmp(sig, "838d1eeafd0ec086f3e98ef47cfb73e3cf6fea3c489e22a61089fa643e8b4b61") != 0);
}

int main(void)
{
    test_trailer_signature();
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const struct vec *v = &vecs[i];
        struct srv_query q;
        struct srv_sigv4_in in;
        char sig[SRV_SIG_HEX_LEN + 1];
        fill(v, &q, &in);
        CHECK_EQ_INT(srv_sigv4_sign(&in, SECRET, sig), COF_OK);
        if (strcmp(sig, v->sig) != 0)
            fprintf(stderr, "vector '%s'\n", v->what);
        CHECK_EQ_STR(sig, v->sig);
        CHECK_EQ_INT(srv_sigv4_verify(&in, SECRET, v->sig), COF_OK);

        /* Negative: wrong secret, changed method/path/header/payload, bad signatures. */
        CHECK_EQ_INT(srv_sigv4_verify(&in, "wrong-secret", v->sig), COF_ERR_SIGNATURE_MISMATCH);
        struct srv_sigv4_in m = in;
        m.method = "DELETE";
        CHECK_EQ_INT(srv_sigv4_verify(&m, SECRET, v->sig), COF_ERR_SIGNATURE_MISMATCH);
        m = in;
        m.raw_path = "/other.txt";
        CHECK_EQ_INT(srv_sigv4_verify(&m, SECRET, v->sig), COF_ERR_SIGNATURE_MISMATCH);
        m = in;
        m.payload_hash = "0000";
        CHECK_EQ_INT(srv_sigv4_verify(&m, SECRET, v->sig), COF_ERR_SIGNATURE_MISMATCH);
        m = in;
        m.amz_date = "20130524T000001Z";
        CHECK_EQ_INT(srv_sigv4_verify(&m, SECRET, v->sig), COF_ERR_SIGNATURE_MISMATCH);
        m = in;
        m.scope = "20130524/eu-west-1/s3/aws4_request";
        CHECK_EQ_INT(srv_sigv4_verify(&m, SECRET, v->sig), COF_ERR_SIGNATURE_MISMATCH);
        CHECK_EQ_INT(srv_sigv4_verify(&in, SECRET, NULL), COF_ERR_SIGNATURE_MISMATCH);
        CHECK_EQ_INT(srv_sigv4_verify(&in, SECRET, "abc"), COF_ERR_SIGNATURE_MISMATCH);
        char flipped[SRV_SIG_HEX_LEN + 1];
        memcpy(flipped, v->sig, sizeof(flipped));
        flipped[10] = flipped[10] == '0' ? '1' : '0';
        CHECK_EQ_INT(srv_sigv4_verify(&in, SECRET, flipped), COF_ERR_SIGNATURE_MISMATCH);
        /* A header value changed (the first signed header). */
        struct hdrs h2 = v->h;
        h2.kv[0][1] = "tampered";
        m = in;
        m.header_arg = &h2;
        CHECK_EQ_INT(srv_sigv4_verify(&m, SECRET, v->sig), COF_ERR_SIGNATURE_MISMATCH);
        srv_query_cleanup(&q);
    }
    /* A path with an invalid escape cannot be canonicalised. */
    struct srv_query q = {NULL, 0};
    struct hdrs h = {{{"host", "h"}}};
    struct srv_sigv4_in bad = {"GET", "/bad%zz", &q, false, "host", lookup, &h, EMPTY, DATE, SCOPE};
    char sig[SRV_SIG_HEX_LEN + 1];
    CHECK_EQ_INT(srv_sigv4_sign(&bad, SECRET, sig), COF_ERR_INVALID);
    CHECK_EQ_INT(srv_sigv4_verify(&bad, SECRET, vecs[0].sig), COF_ERR_SIGNATURE_MISMATCH);
    /* Header values are trimmed and inner runs of spaces collapsed. */
    struct hdrs spaced = {{{"host", "  examplebucket.s3.amazonaws.com  "},
                           {"range", "bytes=0-9"},
                           {"x-amz-content-sha256", EMPTY},
                           {"x-amz-date", DATE}}};
    struct srv_query q0;
    struct srv_sigv4_in in0;
    fill(&vecs[0], &q0, &in0);
    in0.header_arg = &spaced;
    CHECK_EQ_INT(srv_sigv4_verify(&in0, SECRET, vecs[0].sig), COF_OK);
    srv_query_cleanup(&q0);
    return check_finish();
}

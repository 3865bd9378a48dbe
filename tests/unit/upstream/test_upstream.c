/* SPDX-License-Identifier: Apache-2.0 */
/* upstream/: the s3:// URL of --blob-store, the ListObjectsV2 page parser, the endpoint check. */
#include "check.h"
#include "upstream/blobs3.h"
#include "upstream/s3client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_parse_url(void)
{
    static const struct {
        const char *url, *bucket, *prefix;
    } good[] = {
        {"s3://abc", "abc", ""},
        {"s3://abc/", "abc", ""},
        {"s3://my-bucket.x/front-1", "my-bucket.x", "front-1/"},
        {"s3://my-bucket/a/b/", "my-bucket", "a/b/"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *b = NULL, *p = NULL;
        CHECK_EQ_INT(up_blobs_parse_url(good[i].url, &b, &p), COF_OK);
        CHECK_EQ_STR(b, good[i].bucket);
        CHECK_EQ_STR(p, good[i].prefix);
        free(b);
        free(p);
    }
    static const char *const bad[] = {
        NULL,
        "",
        "file",
        "s3:/abc",
        "S3://abc",
        "http://abc",
        "s3://",
        "s3://ab",
        "s3://UPPER",
        "s3://under_score",
        "s3://abc//x",
        "s3:///abc",
        "s3://a234567890123456789012345678901234567890123456789012345678901234",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *b = (char *)1, *p = (char *)1;
        CHECK_EQ_INT(up_blobs_parse_url(bad[i], &b, &p), COF_ERR_CONFIG);
        CHECK(b == NULL && p == NULL);
    }
}

struct seen {
    char keys[8][64];
    int64_t mtimes[8];
    int n;
    int stop_at; /* return COF_ERR_INTERNAL at this key (-1: never) */
};

static cof_err collect(const char *key, int64_t mtime, void *arg)
{
    struct seen *s = arg;
    if (s->n == s->stop_at)
        return COF_ERR_INTERNAL;
    if (s->n < 8) {
        snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
        s->mtimes[s->n] = mtime;
    }
    s->n++;
    return COF_OK;
}

static cof_err parse(const char *doc, struct seen *s, char **next)
{
    memset(s, 0, sizeof(*s));
    s->stop_at = -1;
    return up_s3_parse_list_page(doc, strlen(doc), collect, s, next);
}

static void test_list_page(void)
{
    struct seen s;
    char *next = NULL;
    const char *page =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>p/blobs/</Prefix><KeyCount>2</KeyCount>"
        "<IsTruncated>true</IsTruncated><NextContinuationToken>t+/=&amp;1</NextContinuationToken>"
        "<Contents><Key>p/blobs/00112233445566778899aabbccddeeff</Key>"
        "<LastModified>2026-12-05T22:10:00.000Z</LastModified><Size>9</Size></Contents>"
        "<Contents><Key>p/a&amp;b</Key><Size>1</Size></Contents>"
        "</ListBucketResult>";
    CHECK_EQ_INT(parse(page, &s, &next), COF_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_STR(s.keys[0], "p/blobs/00112233445566778899aabbccddeeff");
    CHECK(s.mtimes[0] == 1796508600); /* 2026-12-05T22:10:00Z */
    CHECK_EQ_STR(s.keys[1], "p/a&b");
    CHECK(s.mtimes[1] == 0); /* no LastModified */
    CHECK(next != NULL);
    CHECK_EQ_STR(next, "t+/=&1");
    free(next);

    /* the last page: no token even if one is present */
    CHECK_EQ_INT(parse("<ListBucketResult><IsTruncated>false</IsTruncated>"
                       "<NextContinuationToken>x</NextContinuationToken></ListBucketResult>",
                       &s, &next),
                 COF_OK);
    CHECK(next == NULL);
    CHECK_EQ_INT(s.n, 0);

    /* the callback stops the walk with its own code */
    memset(&s, 0, sizeof(s));
    s.stop_at = 0;
    CHECK_EQ_INT(up_s3_parse_list_page(page, strlen(page), collect, &s, &next), COF_ERR_INTERNAL);
    CHECK(next == NULL);

    static const char *const bad[] = {
        "",
        "not xml",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", /* no token */
        "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>"
        "</NextContinuationToken></ListBucketResult>", /* empty token */
        "<ListBucketResult><Contents><Key>a</Key>",    /* cut short */
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>"
        "<ListBucketResult><Contents><Key>&e;</Key></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a<b/></Key></Contents></ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        next = NULL;
        cof_err err = parse(bad[i], &s, &next);
        CHECK(err != COF_OK);
        CHECK(next == NULL);
    }
}

static void test_endpoint_check(void)
{
    static const char *const bad[] = {
        NULL,           "",    "127.0.0.1:7480", "ftp://h", "http://", "http://h/path",
        "http://u@h:1", "h:1", "http://h?x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct up_s3_config c = {
            .endpoint = bad[i], .bucket = "abc", .access_key = "a", .secret_key = "s"};
        struct up_s3 *s = (struct up_s3 *)1;
        CHECK_EQ_INT(up_s3_new(&c, &s), COF_ERR_CONFIG);
        CHECK(s == NULL);
    }
    static const char *const good[] = {"http://127.0.0.1:7480", "https://s3.example", "http://h/"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct up_s3_config c = {
            .endpoint = good[i], .bucket = "abc", .access_key = "a", .secret_key = "s"};
        struct up_s3 *s = NULL;
        CHECK_EQ_INT(up_s3_new(&c, &s), COF_OK);
        CHECK(s != NULL);
        up_s3_free(s);
    }
}

int main(void)
{
    test_parse_url();
    test_list_page();
    test_endpoint_check();
    return check_finish();
}

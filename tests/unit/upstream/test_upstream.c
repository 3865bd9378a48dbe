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
        ("<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>"
         "</NextContinuationToken></ListBucketResult>"), /* empty token */
        "<ListBucketResult><Contents><Key>a</Key>",      /* cut short */
        ("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>"
         "<ListBucketResult><Contents><Key>&e;</Key></Contents></ListBucketResult>"),
        "<ListBucketResult><Contents><Key>a<b/></Key></Contents></ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        next = NULL;
        cof_err err = parse(bad[i], &s, &next);
        CHECK(err != COF_OK);
        CHECK(next == NULL);
    }
}

struct uploads {
    char keys[4][64], ids[4][64];
    int64_t when[4];
    int n;
};

static cof_err collect_upload(const char *key, const char *id, int64_t when, void *arg)
{
    struct uploads *u = arg;
    if (u->n < 4) {
        snprintf(u->keys[u->n], sizeof(u->keys[0]), "%s", key);
        snprintf(u->ids[u->n], sizeof(u->ids[0]), "%s", id);
        u->when[u->n] = when;
    }
    u->n++;
    return COF_OK;
}

static void test_uploads_page(void)
{
    struct uploads u;
    char *nk = NULL, *nu = NULL;
    const char *page = "<ListMultipartUploadsResult><Bucket>b</Bucket>"
                       "<IsTruncated>true</IsTruncated><NextKeyMarker>p/k2</NextKeyMarker>"
                       "<NextUploadIdMarker>u2</NextUploadIdMarker>"
                       "<Upload><Key>p/k1</Key><UploadId>u1</UploadId>"
                       "<Initiated>2026-12-05T22:10:00.000Z</Initiated></Upload>"
                       "<Upload><Key>p/k2</Key><UploadId>u2</UploadId></Upload>"
                       "<Upload><Key>p/no-id</Key></Upload>"
                       "</ListMultipartUploadsResult>";
    memset(&u, 0, sizeof(u));
    CHECK_EQ_INT(up_s3_parse_uploads_page(page, strlen(page), collect_upload, &u, &nk, &nu),
                 COF_OK);
    CHECK_EQ_INT(u.n, 2); /* an upload without an id is skipped */
    CHECK_EQ_STR(u.keys[0], "p/k1");
    CHECK_EQ_STR(u.ids[0], "u1");
    CHECK(u.when[0] == 1796508600);
    CHECK(u.when[1] == 0);
    CHECK(nk != NULL && nu != NULL);
    CHECK_EQ_STR(nk, "p/k2");
    CHECK_EQ_STR(nu, "u2");
    free(nk);
    free(nu);
    static const char *const bad[] = {
        "",
        ("<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
         "</ListMultipartUploadsResult>"), /* truncated without a marker */
        "<ListMultipartUploadsResult><Upload><Key>k</Key>",
        "<!DOCTYPE x><ListMultipartUploadsResult/>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&u, 0, sizeof(u));
        nk = nu = NULL;
        CHECK(up_s3_parse_uploads_page(bad[i], strlen(bad[i]), collect_upload, &u, &nk, &nu) !=
              COF_OK);
        CHECK(nk == NULL && nu == NULL);
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
    test_uploads_page();
    test_endpoint_check();
    return check_finish();
}

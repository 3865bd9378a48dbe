/* SPDX-License-Identifier: Apache-2.0 */
/* s3/uri: query parsing, path decoding, S3 url-encoding, UTF-8, base64 (hex: common/test_hex). */
#include "check.h"
#include "common/buf.h"
#include "common/err.h"
#include "s3/uri.h"

#include <stdlib.h>

#define NP 4

struct query_case {
    const char *raw;
    cof_err err;
    size_t n;
    const char *kv[NP][2];
};

static const struct query_case query_cases[] = {
    {NULL, COF_OK, 0, {{0}}},
    {"", COF_OK, 0, {{0}}},
    {"&", COF_OK, 0, {{0}}},
    {"&&&", COF_OK, 0, {{0}}},
    {"location", COF_OK, 1, {{"location", ""}}},
    {"a=1&b=2", COF_OK, 2, {{"a", "1"}, {"b", "2"}}},
    {"a=1&&b=2&", COF_OK, 2, {{"a", "1"}, {"b", "2"}}},
    {"a=", COF_OK, 1, {{"a", ""}}},
    {"=v", COF_OK, 1, {{"", "v"}}},
    {"a=b=c", COF_OK, 1, {{"a", "b=c"}}},
    {"prefix=a+b%20c", COF_OK, 1, {{"prefix", "a b c"}}},
    {"pre+fix=x", COF_OK, 1, {{"pre fix", "x"}}},
    {"p=%2B", COF_OK, 1, {{"p", "+"}}},
    {"p=%2b%2F%7e", COF_OK, 1, {{"p", "+/~"}}},
    {"p=%E2%82%AC", COF_OK, 1, {{"p", "\xe2\x82\xac"}}},
    {"list-type=2&prefix=&delimiter=%2F",
     COF_OK,
     3,
     {{"list-type", "2"}, {"prefix", ""}, {"delimiter", "/"}}},
    {"x=1&x=2", COF_OK, 2, {{"x", "1"}, {"x", "2"}}},
    {"p=%", COF_ERR_INVALID, 0, {{0}}},
    {"p=%4", COF_ERR_INVALID, 0, {{0}}},
    {"p=%G0", COF_ERR_INVALID, 0, {{0}}},
    {"p=%0G", COF_ERR_INVALID, 0, {{0}}},
    {"%zz=1", COF_ERR_INVALID, 0, {{0}}},
    {"ok=1&p=%%", COF_ERR_INVALID, 0, {{0}}},
    {"p=%00", COF_ERR_INVALID, 0, {{0}}},
    {"%00", COF_ERR_INVALID, 0, {{0}}},
    {"a=%41%", COF_ERR_INVALID, 0, {{0}}},
};

static void test_query(void)
{
    for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        const struct query_case *c = &query_cases[i];
        struct srv_query q = {NULL, 7};
        cof_err err = srv_query_parse(c->raw, &q);
        CHECK_EQ_INT(err, c->err);
        CHECK_EQ_INT(q.n, c->n);
        if (err != COF_OK) {
            CHECK(q.params == NULL);
            continue;
        }
        for (size_t k = 0; k < c->n && k < q.n; k++) {
            CHECK_EQ_STR(q.params[k].name, c->kv[k][0]);
            CHECK_EQ_STR(q.params[k].value, c->kv[k][1]);
        }
        srv_query_cleanup(&q);
        CHECK(q.params == NULL && q.n == 0);
    }

    struct srv_query q;
    CHECK_EQ_INT(srv_query_parse("x=1&versioning&x=2&empty=", &q), COF_OK);
    CHECK_EQ_STR(srv_query_get(&q, "x"), "1");
    CHECK_EQ_STR(srv_query_get(&q, "versioning"), "");
    CHECK_EQ_STR(srv_query_get(&q, "empty"), "");
    CHECK(srv_query_get(&q, "X") == NULL);
    CHECK(srv_query_get(&q, "missing") == NULL);
    CHECK(srv_query_has(&q, "versioning"));
    CHECK(!srv_query_has(&q, "version"));
    CHECK(srv_query_get(NULL, "x") == NULL);
    CHECK(!srv_query_has(NULL, "x"));
    srv_query_cleanup(&q);
    srv_query_cleanup(&q);
    srv_query_cleanup(NULL);

    /* caps: 100 params fine, 101 too many; 64 KiB fine, one byte more too large */
    struct cof_buf b;
    cof_buf_init(&b, 1 << 20);
    cof_err berr = COF_OK;
    for (int i = 0; i < 100 && berr == COF_OK; i++)
        berr = cof_buf_printf(&b, "p%d=%d&", i, i);
    CHECK_EQ_INT(berr, COF_OK);
    CHECK_EQ_INT(srv_query_parse(b.data, &q), COF_OK);
    CHECK_EQ_INT(q.n, 100);
    CHECK_EQ_STR(srv_query_get(&q, "p99"), "99");
    srv_query_cleanup(&q);
    CHECK_EQ_INT(cof_buf_puts(&b, "p100=1"), COF_OK);
    CHECK_EQ_INT(srv_query_parse(b.data, &q), COF_ERR_TOO_LARGE);
    CHECK(q.params == NULL && q.n == 0);
    cof_buf_reset(&b);
    CHECK_EQ_INT(cof_buf_puts(&b, "prefix="), COF_OK);
    while (b.len < SRV_QUERY_MAX_LEN && berr == COF_OK)
        berr = cof_buf_puts(&b, "a");
    CHECK_EQ_INT(berr, COF_OK);
    CHECK_EQ_INT(srv_query_parse(b.data, &q), COF_OK);
    CHECK_EQ_INT(strlen(srv_query_get(&q, "prefix")), SRV_QUERY_MAX_LEN - 7);
    srv_query_cleanup(&q);
    CHECK_EQ_INT(cof_buf_puts(&b, "a"), COF_OK);
    CHECK_EQ_INT(srv_query_parse(b.data, &q), COF_ERR_TOO_LARGE);
    cof_buf_cleanup(&b);
}

struct path_case {
    const char *raw;
    cof_err err;
    const char *want;
    size_t want_len;
};

static const struct path_case path_cases[] = {
    {"", COF_OK, "", 0},
    {"abc", COF_OK, "abc", 3},
    {"a+b", COF_OK, "a+b", 3},
    {"a%20b", COF_OK, "a b", 3},
    {"a%2Bb", COF_OK, "a+b", 3},
    {"%2f%2F", COF_OK, "//", 2},
    {"%C3%A9t%C3%A9", COF_OK, "\xc3\xa9t\xc3\xa9", 5},
    {"%FF", COF_OK, "\xff", 1}, /* bytes only; UTF-8 is the router's check */
    {"%25", COF_OK, "%", 1},
    {"%252F", COF_OK, "%2F", 3},
    {"%", COF_ERR_INVALID, NULL, 0},
    {"%2", COF_ERR_INVALID, NULL, 0},
    {"ab%", COF_ERR_INVALID, NULL, 0},
    {"%%41", COF_ERR_INVALID, NULL, 0},
    {"%x1", COF_ERR_INVALID, NULL, 0},
    {"% 1", COF_ERR_INVALID, NULL, 0},
    {"%00", COF_ERR_INVALID, NULL, 0},
    {"a%00b", COF_ERR_INVALID, NULL, 0},
};

static void test_decode_path(void)
{
    for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const struct path_case *c = &path_cases[i];
        char *out = (char *)1;
        size_t len = 99;
        cof_err err = srv_uri_decode_path(c->raw, strlen(c->raw), &out, &len);
        CHECK_EQ_INT(err, c->err);
        if (err == COF_OK) {
            CHECK_EQ_INT(len, c->want_len);
            CHECK_MEM(out, c->want, len);
            CHECK(out[len] == '\0');
            free(out);
        } else {
            CHECK(out == NULL);
        }
    }
    /* n bounds the input: only the first 3 bytes are read */
    char *out = NULL;
    size_t len = 0;
    CHECK_EQ_INT(srv_uri_decode_path("abc%zz", 3, &out, &len), COF_OK);
    CHECK_EQ_STR(out, "abc");
    free(out);
    CHECK_EQ_INT(srv_uri_decode_path("a%41", 2, &out, &len), COF_ERR_INVALID); /* "a%" */
    /* an embedded raw NUL within n is refused */
    CHECK_EQ_INT(srv_uri_decode_path("a\0b", 3, &out, &len), COF_ERR_INVALID);
}

struct enc_case {
    const char *in;
    bool keep_slash;
    const char *want;
};

static const struct enc_case enc_cases[] = {
    {"", false, ""},
    {"abcXYZ019-_.~", false, "abcXYZ019-_.~"},
    {"a b", false, "a%20b"},
    {"a/b", false, "a%2Fb"},
    {"a/b", true, "a/b"},
    {"a+b=c&d", true, "a%2Bb%3Dc%26d"},
    {"100%", false, "100%25"},
    {"\xc3\xa9", false, "%C3%A9"},
    {"\x01\x7f\xff", false, "%01%7F%FF"},
    {"photos/2024 (1).jpg", true, "photos/2024%20%281%29.jpg"},
    {"*?#[]!$'", false, "%2A%3F%23%5B%5D%21%24%27"},
};

static void test_encode(void)
{
    for (size_t i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
        struct cof_buf b;
        cof_buf_init(&b, 1024);
        CHECK_EQ_INT(srv_uri_encode(enc_cases[i].in, enc_cases[i].keep_slash, &b), COF_OK);
        CHECK_EQ_STR(b.len ? b.data : "", enc_cases[i].want);
        /* decoding gives the input back */
        char *dec = NULL;
        size_t dlen = 0;
        CHECK_EQ_INT(srv_uri_decode_path(b.len ? b.data : "", b.len, &dec, &dlen), COF_OK);
        CHECK_EQ_STR(dec, enc_cases[i].in);
        free(dec);
        cof_buf_cleanup(&b);
    }
    /* appends to existing content; respects the buffer's cap */
    struct cof_buf b;
    cof_buf_init(&b, 8);
    CHECK_EQ_INT(cof_buf_puts(&b, "k="), COF_OK);
    CHECK_EQ_INT(srv_uri_encode("ab", false, &b), COF_OK);
    CHECK_EQ_STR(b.data, "k=ab");
    CHECK_EQ_INT(srv_uri_encode(" ", false, &b), COF_OK);
    CHECK_EQ_STR(b.data, "k=ab%20");
    CHECK_EQ_INT(srv_uri_encode(" ", false, &b), COF_ERR_TOO_LARGE);
    cof_buf_cleanup(&b);
}

struct utf8_case {
    const char *s;
    size_t n;
    bool valid;
};

static const struct utf8_case utf8_cases[] = {
    {"", 0, true},
    {"plain ascii", 11, true},
    {"\xc3\xa9", 2, true},
    {"\xe2\x82\xac", 3, true},
    {"\xf0\x9f\x98\x80", 4, true},
    {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
    {"\xef\xbf\xbf", 3, true},      /* U+FFFF: valid UTF-8 (XML is the writer's problem) */
    {"\x80", 1, false},             /* lone continuation */
    {"\xc3", 1, false},             /* truncated */
    {"\xe2\x82", 2, false},         /* truncated */
    {"\xc0\xaf", 2, false},         /* overlong '/' */
    {"\xc1\xbf", 2, false},         /* overlong */
    {"\xe0\x80\xaf", 3, false},     /* overlong */
    {"\xf0\x80\x80\xaf", 4, false}, /* overlong */
    {"\xed\xa0\x80", 3, false},     /* surrogate D800 */
    {"\xed\xbf\xbf", 3, false},     /* surrogate DFFF */
    {"\xf4\x90\x80\x80", 4, false}, /* > U+10FFFF */
    {"\xf5\x80\x80\x80", 4, false},
    {"\xff", 1, false},
    {"\xc3\x28", 2, false}, /* bad continuation */
    {"a\xe2\x82\xac\x80", 5, false},
};

static void test_utf8(void)
{
    for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++)
        CHECK_EQ_INT(srv_utf8_valid(utf8_cases[i].s, utf8_cases[i].n), utf8_cases[i].valid);
    uint32_t cp = 0;
    CHECK_EQ_INT(srv_utf8_next("\xe2\x82\xac", 3, &cp), 3);
    CHECK_EQ_INT(cp, 0x20ac);
    CHECK_EQ_INT(srv_utf8_next("A", 1, &cp), 1);
    CHECK_EQ_INT(cp, 'A');
    CHECK_EQ_INT(srv_utf8_next("\xe2\x82\xac", 2, &cp), 0);
    CHECK_EQ_INT(srv_utf8_next("", 0, &cp), 0);
}

struct b64_case {
    const char *in;
    cof_err err;
    const char *want;
    size_t want_len;
};

static const struct b64_case b64_cases[] = {
    /* RFC 4648 section 10 vectors */
    {"", COF_OK, "", 0},
    {"Zg==", COF_OK, "f", 1},
    {"Zm8=", COF_OK, "fo", 2},
    {"Zm9v", COF_OK, "foo", 3},
    {"Zm9vYg==", COF_OK, "foob", 4},
    {"Zm9vYmE=", COF_OK, "fooba", 5},
    {"Zm9vYmFy", COF_OK, "foobar", 6},
    {"+/+/", COF_OK, "\xfb\xff\xbf", 3},
    {"AAAA", COF_OK, "\0\0\0", 3},
    /* negative */
    {"Zg=", COF_ERR_INVALID, NULL, 0}, /* length not a multiple of 4 */
    {"Zg", COF_ERR_INVALID, NULL, 0},  /* padding required */
    {"Zm9vY", COF_ERR_INVALID, NULL, 0},
    {"Zh==", COF_ERR_INVALID, NULL, 0}, /* non-zero pad bits */
    {"Zm9=", COF_ERR_INVALID, NULL, 0}, /* non-zero pad bits */
    {"Z===", COF_ERR_INVALID, NULL, 0},
    {"====", COF_ERR_INVALID, NULL, 0},
    {"Zg==Zg==", COF_ERR_INVALID, NULL, 0}, /* padding in the middle */
    {"Z=g=", COF_ERR_INVALID, NULL, 0},
    {"Zm9v YmFy", COF_ERR_INVALID, NULL, 0},
    {"Zm9v\nYmFy", COF_ERR_INVALID, NULL, 0},
    {" Zm9v", COF_ERR_INVALID, NULL, 0},
    {"Zm9-", COF_ERR_INVALID, NULL, 0}, /* url-safe alphabet is not accepted */
    {"Zm9_", COF_ERR_INVALID, NULL, 0},
    {"Zm9\x80", COF_ERR_INVALID, NULL, 0},
};

static void test_base64(void)
{
    for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
        const struct b64_case *c = &b64_cases[i];
        uint8_t out[16];
        size_t len = 99;
        memset(out, 0xaa, sizeof(out));
        cof_err err = srv_base64_decode(c->in, out, sizeof(out), &len);
        CHECK_EQ_INT(err, c->err);
        if (err != COF_OK) {
            CHECK_EQ_INT(len, 0);
            CHECK_EQ_INT(out[0], 0xaa); /* nothing written */
            continue;
        }
        CHECK_EQ_INT(len, c->want_len);
        CHECK_MEM(out, c->want, len);
        char enc[32];
        srv_base64_encode(out, len, enc);
        CHECK_EQ_STR(enc, c->in);
    }
    /* cap: exactly fits, one byte short */
    uint8_t out[16];
    size_t len = 0;
    CHECK_EQ_INT(srv_base64_decode("Zm9vYmFy", out, 6, &len), COF_OK);
    CHECK_EQ_INT(len, 6);
    CHECK_EQ_INT(srv_base64_decode("Zm9vYmFy", out, 5, &len), COF_ERR_TOO_LARGE);
    CHECK_EQ_INT(srv_base64_decode("Zg==", out, 0, &len), COF_ERR_TOO_LARGE);
    CHECK_EQ_INT(srv_base64_decode("", NULL, 0, &len), COF_OK);
    /* Content-MD5 of "" is 16 bytes */
    CHECK_EQ_INT(srv_base64_decode("1B2M2Y8AsgTpgAmY7PhCfg==", out, 16, &len), COF_OK);
    CHECK_EQ_INT(len, 16);
    CHECK_MEM(out, "\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42\x7e", 16);
    /* encode all lengths 0..15 round-trip */
    uint8_t in[15];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 37 + 200);
    for (size_t n = 0; n <= sizeof(in); n++) {
        char enc[4 * ((sizeof(in) + 2) / 3) + 1];
        srv_base64_encode(in, n, enc);
        CHECK_EQ_INT(strlen(enc), 4 * ((n + 2) / 3));
        CHECK_EQ_INT(srv_base64_decode(enc, out, sizeof(out), &len), COF_OK);
        CHECK_EQ_INT(len, n);
        CHECK_MEM(out, in, n);
    }
}

int main(void)
{
    test_query();
    test_decode_path();
    test_encode();
    test_utf8();
    test_base64();
    return check_finish();
}

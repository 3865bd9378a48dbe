/* SPDX-License-Identifier: Apache-2.0 */
/* server/httpfmt: Range, HTTP dates, ISO 8601, ETag lists. */
#include "check.h"
#include "common/err.h"
#include "s3/httpfmt.h"

#include <stdlib.h>

struct range_case {
    const char *hdr;
    uint64_t size;
    cof_err err;
    uint64_t first, last;
};

static const struct range_case ranges[] = {
    {"bytes=0-0", 10, COF_OK, 0, 0},
    {"bytes=0-9", 10, COF_OK, 0, 9},
    {"bytes=0-99", 10, COF_OK, 0, 9}, /* clamped */
    {"bytes=2-5", 10, COF_OK, 2, 5},
    {"bytes=9-9", 10, COF_OK, 9, 9},
    {"bytes=3-", 10, COF_OK, 3, 9},
    {"bytes=9-", 10, COF_OK, 9, 9},
    {"bytes=-1", 10, COF_OK, 9, 9},
    {"bytes=-3", 10, COF_OK, 7, 9},
    {"bytes=-10", 10, COF_OK, 0, 9},
    {"bytes=-1000", 10, COF_OK, 0, 9},
    {"Bytes=1-2", 10, COF_OK, 1, 2},
    {"BYTES=1-2", 10, COF_OK, 1, 2},
    {"bytes= 1-2 ", 10, COF_OK, 1, 2},
    {"bytes=0-99999999999999999999999", 10, COF_OK, 0, 9}, /* saturates, then clamps */
    {"bytes=0-18446744073709551615", 100, COF_OK, 0, 99},
    {"bytes=5368709120-5368709129", 10737418240ULL, COF_OK, 5368709120ULL, 5368709129ULL},
    /* unsatisfiable -> 416 */
    {"bytes=10-", 10, COF_ERR_INVALID_RANGE, 0, 0},
    {"bytes=10-20", 10, COF_ERR_INVALID_RANGE, 0, 0},
    {"bytes=99999999999999999999-", 10, COF_ERR_INVALID_RANGE, 0, 0},
    {"bytes=-0", 10, COF_ERR_INVALID_RANGE, 0, 0},
    {"bytes=0-0", 0, COF_ERR_INVALID_RANGE, 0, 0},
    {"bytes=0-", 0, COF_ERR_INVALID_RANGE, 0, 0},
    {"bytes=-5", 0, COF_ERR_INVALID_RANGE, 0, 0},
    /* ignored -> whole object */
    {"", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=-", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=5-2", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=20-2", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=0-1,3-4", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=0-1, 3-4", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=0-1,", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=a-b", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=1", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=1-2-3", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=--1", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=+1-2", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=1 -2", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=0x1-2", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes 0-1", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"items=0-1", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"0-1", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=-5-", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=1-2x", 10, COF_ERR_NOT_FOUND, 0, 0},
    {"bytes=5-2", 0, COF_ERR_NOT_FOUND, 0, 0},
};

static void test_range(void)
{
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        const struct range_case *c = &ranges[i];
        uint64_t f = 77, l = 77;
        cof_err err = srv_range_parse(c->hdr, c->size, &f, &l);
        if (err != c->err)
            fprintf(stderr, "range \"%s\" size %llu: %s\n", c->hdr, (unsigned long long)c->size,
                    cof_err_name(err));
        CHECK_EQ_INT(err, c->err);
        if (err == COF_OK) {
            CHECK(f == c->first);
            CHECK(l == c->last);
            CHECK(f <= l && l < c->size);
        }
    }
    uint64_t f, l;
    CHECK_EQ_INT(srv_range_parse(NULL, 10, &f, &l), COF_ERR_NOT_FOUND);
}

struct date_case {
    const char *s;
    cof_err err;
    int64_t epoch;
};

static const struct date_case dates[] = {
    /* the three RFC 7231 forms of the same instant */
    {"Sun, 06 Nov 1994 08:49:37 GMT", COF_OK, 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", COF_OK, 784111777},
    {"Sun Nov  6 08:49:37 1994", COF_OK, 784111777},
    {"Sun Nov 06 08:49:37 1994", COF_OK, 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", COF_OK, 0},
    {"Mon, 02 Jun 2025 02:28:07 GMT", COF_OK, 1748831287},
    {"Tue, 29 Feb 2000 12:00:00 GMT", COF_OK, 951825600},
    {"Fri, 31 Dec 9999 23:59:59 GMT", COF_OK, 253402300799LL},
    {"Wed, 31 Dec 1969 23:59:59 GMT", COF_OK, -1},
    {"Thursday, 01-Jan-70 00:00:00 GMT", COF_OK, 0},
    {"Monday, 02-Jun-25 02:28:07 GMT", COF_OK, 1748831287},
    /* weekday names are checked for shape, not against the date (RFC 7231 lets us) */
    {"Mon, 06 Nov 1994 08:49:37 GMT", COF_OK, 784111777},
    /* ISO 8601 */
    {"2025-06-02T02:28:07Z", COF_OK, 1748831287},
    {"2025-06-02T02:28:07.000Z", COF_OK, 1748831287},
    {"2025-06-02T02:28:07.123456789Z", COF_OK, 1748831287},
    {"1994-11-06T08:49:37Z", COF_OK, 784111777},
    /* invalid */
    {"", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37 UTC", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT ", COF_ERR_INVALID, 0},
    {" Sun, 06 Nov 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 6 Nov 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 nov 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 94 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Xyz, 06 Nov 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 31 Nov 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 29 Feb 1900 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 00 Nov 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 24:00:00 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:60:00 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08:49:61 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 8:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun, 06 Nov 1994 08-49-37 GMT", COF_ERR_INVALID, 0},
    {"Sun,06 Nov 1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sunday, 06-Nov-1994 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sundae, 06-Nov-94 08:49:37 GMT", COF_ERR_INVALID, 0},
    {"Sun Nov 6 08:49:37 1994", COF_ERR_INVALID, 0},
    {"Sun Nov  6 08:49:37 94", COF_ERR_INVALID, 0},
    {"Sun Nov  6 08:49:37 1994 GMT", COF_ERR_INVALID, 0},
    {"2025-06-02T02:28:07", COF_ERR_INVALID, 0},
    {"2025-06-02 02:28:07Z", COF_ERR_INVALID, 0},
    {"2025-06-02T02:28:07+00:00", COF_ERR_INVALID, 0},
    {"2025-06-02T02:28:07.Z", COF_ERR_INVALID, 0},
    {"2025-06-02T02:28:07.1234567890Z", COF_ERR_INVALID, 0},
    {"2025-13-02T02:28:07Z", COF_ERR_INVALID, 0},
    {"2025-00-02T02:28:07Z", COF_ERR_INVALID, 0},
    {"2025-6-2T02:28:07Z", COF_ERR_INVALID, 0},
    {"1748831287", COF_ERR_INVALID, 0},
    {"yesterday", COF_ERR_INVALID, 0},
    {"Sun", COF_ERR_INVALID, 0},
    {"S", COF_ERR_INVALID, 0},
};

static void test_dates(void)
{
    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        int64_t t = 5;
        cof_err err = srv_http_date_parse(dates[i].s, &t);
        if (err != dates[i].err)
            fprintf(stderr, "date \"%s\": %s\n", dates[i].s, cof_err_name(err));
        CHECK_EQ_INT(err, dates[i].err);
        if (err == COF_OK)
            CHECK_EQ_INT(t, dates[i].epoch);
    }
    int64_t t;
    CHECK_EQ_INT(srv_http_date_parse(NULL, &t), COF_ERR_INVALID);

    char out[32];
    srv_http_date_format(784111777, out);
    CHECK_EQ_STR(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    srv_http_date_format(0, out);
    CHECK_EQ_STR(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    srv_http_date_format(1748831287, out);
    CHECK_EQ_STR(out, "Mon, 02 Jun 2025 02:28:07 GMT");
    srv_http_date_format(-100, out);
    CHECK_EQ_STR(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    srv_http_date_format(INT64_MAX, out);
    CHECK_EQ_STR(out, "Fri, 31 Dec 9999 23:59:59 GMT");
    /* format -> parse round trip over a spread of instants */
    for (int64_t s = 0; s < 253402300799LL; s += 987654321) {
        srv_http_date_format(s, out);
        CHECK_EQ_INT(srv_http_date_parse(out, &t), COF_OK);
        CHECK_EQ_INT(t, s);
    }

    srv_iso8601_format(1748831287000LL, out);
    CHECK_EQ_STR(out, "2025-06-02T02:28:07.000Z");
    srv_iso8601_format(1748831287123LL, out);
    CHECK_EQ_STR(out, "2025-06-02T02:28:07.123Z");
    srv_iso8601_format(1999, out);
    CHECK_EQ_STR(out, "1970-01-01T00:00:01.999Z");
    srv_iso8601_format(-1, out);
    CHECK_EQ_STR(out, "1970-01-01T00:00:00.000Z");
    srv_iso8601_format(INT64_MAX, out);
    CHECK_EQ_STR(out, "9999-12-31T23:59:59.999Z");
    srv_iso8601_format(1748831287999LL, out);
    CHECK_EQ_INT(srv_http_date_parse(out, &t), COF_OK);
    CHECK_EQ_INT(t, 1748831287);
}

struct etag_case {
    const char *hdr;
    const char *etag;
    cof_err err;
    bool match;
};

static const struct etag_case etags[] = {
    {"\"abc\"", "abc", COF_OK, true},
    {"abc", "abc", COF_OK, true},
    {"\"abc\"", "abd", COF_OK, false},
    {"\"ab\"", "abc", COF_OK, false},
    {"\"abcd\"", "abc", COF_OK, false},
    {"*", "abc", COF_OK, true},
    {" * ", "abc", COF_OK, true},
    {"\"x\", *", "abc", COF_OK, true},
    {"W/\"abc\"", "abc", COF_OK, true},
    {"\"x\", \"abc\"", "abc", COF_OK, true},
    {"\"x\",\"abc\"", "abc", COF_OK, true},
    {"\"x\" , W/\"abc\" ", "abc", COF_OK, true},
    {"\"x\", \"y\"", "abc", COF_OK, false},
    {"x, abc", "abc", COF_OK, true},
    {"x ,abc ", "abc", COF_OK, true},
    {",,\"abc\",,", "abc", COF_OK, true},
    {"\"d41d8cd98f00b204e9800998ecf8427e-2\"", "d41d8cd98f00b204e9800998ecf8427e-2", COF_OK, true},
    {"\"\"", "", COF_OK, true},
    {"\"\"", "abc", COF_OK, false},
    {"\"*\"", "abc", COF_OK, false}, /* a quoted star is an etag, not the wildcard */
    {"\"ABC\"", "abc", COF_OK, false},
    {"", "abc", COF_ERR_INVALID, false},
    {"   ", "abc", COF_ERR_INVALID, false},
    {",", "abc", COF_ERR_INVALID, false},
    {"\"abc", "abc", COF_ERR_INVALID, false},
    {"\"abc\"x", "abc", COF_ERR_INVALID, false},
    {"\"abc\" \"def\"", "abc", COF_ERR_INVALID, false},
    {"\"abc\", W/\"t", "abc", COF_ERR_INVALID, false}, /* a match before the error is void */
    {"abc, \"x\"y", "abc", COF_ERR_INVALID, false},
};

static void test_etags(void)
{
    for (size_t i = 0; i < sizeof(etags) / sizeof(etags[0]); i++) {
        bool m = !etags[i].match;
        cof_err err = srv_etag_list_match(etags[i].hdr, etags[i].etag, &m);
        if (err != etags[i].err || (err == COF_OK && m != etags[i].match))
            fprintf(stderr, "etag list '%s' vs '%s': %s %d\n", etags[i].hdr, etags[i].etag,
                    cof_err_name(err), m);
        CHECK_EQ_INT(err, etags[i].err);
        if (err == COF_OK)
            CHECK_EQ_INT(m, etags[i].match);
        else
            CHECK(!m);
    }
    bool m = true;
    CHECK_EQ_INT(srv_etag_list_match(NULL, "abc", &m), COF_ERR_INVALID);
    CHECK(!m);
}

int main(void)
{
    test_range();
    test_dates();
    test_etags();
    return check_finish();
}

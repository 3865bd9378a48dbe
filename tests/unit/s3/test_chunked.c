/* SPDX-License-Identifier: Apache-2.0 */
/* aws-chunked decoder: signed and unsigned-trailer forms, any split of the input, and
 * malformed streams. */
#include "check.h"
#include "s3/chunked.h"

#include <string.h>

struct sink {
    char buf[256];
    size_t n;
};

static cof_err collect(void *arg, const char *p, size_t n)
{
    struct sink *s = arg;
    if (s->n + n > sizeof(s->buf))
        return COF_ERR_TOO_LARGE;
    memcpy(s->buf + s->n, p, n);
    s->n += n;
    return COF_OK;
}

/* Feeds body in pieces of `step` bytes; returns the first error. */
static cof_err run(const char *body, size_t step, struct srv_chunked *c, struct sink *s)
{
    memset(s, 0, sizeof(*s));
    srv_chunked_init(c, collect, s);
    size_t len = strlen(body);
    for (size_t i = 0; i < len; i += step) {
        size_t k = len - i < step ? len - i : step;
        cof_err err = srv_chunked_feed(c, body + i, k);
        if (err != COF_OK)
            return err;
    }
    return COF_OK;
}

#define SIG "chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"

static const char *const good[] = {
    /* signed payload */
    "5;" SIG "\r\nhello\r\n6;" SIG "\r\n world\r\n0;" SIG "\r\n\r\n",
    /* unsigned payload with a checksum trailer */
    "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
    /* upper-case hex size */
    "B\r\nhello world\r\n0\r\n\r\n",
};

static const char *const bad[] = {
    "5\r\nhelloX\r\n0\r\n\r\n",        /* no CRLF after data */
    "zz\r\nhello\r\n",                 /* size not hex */
    "\r\nhello\r\n",                   /* empty size */
    "5;other=1\r\nhello\r\n0\r\n\r\n", /* unknown extension */
    "5\nhello\r\n0\r\n\r\n",           /* bare LF after size */
    "11111111111111111\r\n",           /* 17 hex digits */
    "0\r\nno-colon-here\r\n\r\n",      /* bad trailer */
    "0\r\n\r\nextra",                  /* data after the end */
};

/* The trailer lines x-amz-trailer-signature covers: sorted by name, the signature left out. */
static void test_canonical_trailers(void)
{
    struct srv_chunked c;
    struct sink s;
    char out[SRV_TRAILER_MAX + 64];
    const char *body = "5\r\nhello\r\n0\r\nX-Amz-Meta-A: b \r\n"
                       "x-amz-trailer-signature:abc\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    CHECK_EQ_INT(run(body, 3, &c, &s), COF_OK);
    CHECK(srv_chunked_done(&c));
    size_t n = srv_chunked_canonical_trailers(&c, out, sizeof(out));
    CHECK_EQ_STR(out, "x-amz-checksum-crc32:DUoRhQ==\nx-amz-meta-a:b\n");
    CHECK_EQ_INT(n, strlen(out));
    CHECK_EQ_STR(srv_chunked_trailer(&c, "x-amz-trailer-signature"), "abc");
    /* too small a buffer: whole lines only */
    n = srv_chunked_canonical_trailers(&c, out, 20);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_STR(out, "");
}

/* A NUL in a framing line is refused (it would hide the rest of the line from the parser). */
static void test_nul_in_lines(void)
{
    static const struct {
        const char *body;
        size_t len;
    } cases[] = {
        {"5\0junk\r\nhello\r\n0\r\n\r\n", 20},
        {"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\0x\r\n\r\n", 48},
        {"5\r\nhello\r\n0\r\n\0\r\n\r\n", 18},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct srv_chunked c;
        struct sink s = {0};
        srv_chunked_init(&c, collect, &s);
        CHECK_EQ_INT(cases[i].body[cases[i].len - 1], '\n');
        CHECK_EQ_INT(srv_chunked_feed(&c, cases[i].body, cases[i].len), COF_ERR_INVALID);
        CHECK(!srv_chunked_done(&c));
    }
}

/* After an error the decoder stays failed: a well-formed continuation is refused and passes no
 * data, whatever state the error happened in. */
static void test_errors_are_final(void)
{
    static const char *const first[] = {
        "5\r\nhelloX",       /* missing CR after data */
        "5\r\nhello\rX",     /* missing LF */
        "zz\r\n",            /* bad size */
        "0\r\nno-colon\r\n", /* bad trailer */
        "0\r\n\r\nextra",    /* data after the end */
    };
    for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        struct srv_chunked c;
        struct sink s = {0};
        srv_chunked_init(&c, collect, &s);
        CHECK_EQ_INT(srv_chunked_feed(&c, first[i], strlen(first[i])), COF_ERR_INVALID);
        size_t before = s.n;
        CHECK_EQ_INT(srv_chunked_feed(&c, "\r\n5\r\nworld\r\n", 12), COF_ERR_INVALID);
        CHECK_EQ_INT(srv_chunked_feed(&c, "0\r\n\r\n", 5), COF_ERR_INVALID);
        CHECK_EQ_INT(srv_chunked_feed(&c, "", 0), COF_ERR_INVALID);
        CHECK_EQ_INT(s.n, before);
        CHECK(!srv_chunked_done(&c));
    }
}

int main(void)
{
    test_canonical_trailers();
    test_nul_in_lines();
    test_errors_are_final();
    struct srv_chunked c;
    struct sink s;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        for (size_t step = 1; step <= strlen(good[i]); step++) {
            cof_err err = run(good[i], step, &c, &s);
            CHECK_EQ_INT(err, COF_OK);
            CHECK(srv_chunked_done(&c));
            CHECK(s.n == 11 && memcmp(s.buf, "hello world", 11) == 0);
        }
    }
    CHECK_EQ_INT(run(good[1], 7, &c, &s), COF_OK);
    CHECK_EQ_STR(srv_chunked_trailer(&c, "X-Amz-Checksum-CRC32"), "DUoRhQ==");
    CHECK(srv_chunked_trailer(&c, "x-amz-checksum-sha256") == NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cof_err err = run(bad[i], 3, &c, &s);
        if (err == COF_OK)
            fprintf(stderr, "bad case %zu accepted\n", i);
        CHECK_EQ_INT(err, COF_ERR_INVALID);
    }
    /* truncated streams are not done */
    CHECK_EQ_INT(run("5\r\nhel", 2, &c, &s), COF_OK);
    CHECK(!srv_chunked_done(&c));
    CHECK_EQ_INT(run("5\r\nhello\r\n0\r\n", 2, &c, &s), COF_OK);
    CHECK(!srv_chunked_done(&c));
    /* a size line over the cap */
    char longline[SRV_CHUNK_LINE_MAX + 10];
    memset(longline, '0', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    CHECK_EQ_INT(run(longline, 64, &c, &s), COF_ERR_INVALID);
    return check_finish();
}

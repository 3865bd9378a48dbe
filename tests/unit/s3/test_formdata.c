/* SPDX-License-Identifier: Apache-2.0 */
/* multipart/form-data parser: boundaries from Content-Type, well-formed bodies fed in every
 * split, and malformed ones (missing boundary, truncated parts, long header lines, no final
 * boundary, fields after the file). */
#include "check.h"
#include "s3/formdata.h"

#include <stdio.h>
#include <string.h>

/* Records the parts as "name|filename|ctype=data;" so a whole parse is one string. */
struct rec {
    char out[8192];
    size_t n;
    int parts, ends;
    const char *fail_on; /* part name whose begin callback fails */
};

static void put(struct rec *r, const char *s, size_t n)
{
    if (r->n + n < sizeof(r->out)) {
        memcpy(r->out + r->n, s, n);
        r->n += n;
        r->out[r->n] = '\0';
    }
}

static cof_err on_begin(void *arg, const struct srv_form_part *p)
{
    struct rec *r = arg;
    char buf[512];
    if (r->fail_on != NULL && strcmp(p->name, r->fail_on) == 0)
        return COF_ERR_ACCESS_DENIED;
    int k = snprintf(buf, sizeof(buf), "%s|%s|%s=", p->name, p->filename ? p->filename : "-",
                     p->content_type ? p->content_type : "-");
    put(r, buf, (size_t)k);
    r->parts++;
    return COF_OK;
}

static cof_err on_data(void *arg, const char *p, size_t n)
{
    put(arg, p, n);
    return COF_OK;
}

static cof_err on_end(void *arg)
{
    struct rec *r = arg;
    put(r, ";", 1);
    r->ends++;
    return COF_OK;
}

/* Parses body in pieces of `step` bytes; returns the first error, or COF_ERR_INCOMPLETE_BODY
 * when the close delimiter never came. */
static cof_err run(const char *boundary, const char *body, size_t len, size_t step, struct rec *r)
{
    struct srv_form f;
    const char *fail_on = r->fail_on;
    memset(r, 0, sizeof(*r));
    r->fail_on = fail_on;
    srv_form_init(&f, boundary, on_begin, on_data, on_end, r);
    for (size_t i = 0; i < len; i += step) {
        size_t k = len - i < step ? len - i : step;
        cof_err err = srv_form_feed(&f, body + i, k);
        if (err != COF_OK)
            return err;
    }
    return srv_form_done(&f) ? COF_OK : COF_ERR_INCOMPLETE_BODY;
}

static void test_boundary(void)
{
    static const struct {
        const char *ct;
        cof_err err;
        const char *want;
    } cases[] = {
        {"multipart/form-data; boundary=abc123", COF_OK, "abc123"},
        {"Multipart/Form-Data;boundary=\"a b:c\"", COF_OK, "a b:c"},
        {"multipart/form-data; charset=utf-8; BOUNDARY=xyz", COF_OK, "xyz"},
        {"multipart/form-data ; boundary=x ; other=1", COF_OK, "x"},
        {"multipart/form-data", COF_ERR_NOT_FOUND, NULL},
        {"multipart/form-data; boundary=", COF_ERR_NOT_FOUND, NULL},
        {"multipart/form-data; boundary=\"\"", COF_ERR_NOT_FOUND, NULL},
        {"multipart/form-data; boundary=\"abc", COF_ERR_NOT_FOUND, NULL},
        {"multipart/form-data; boundary=\"ends with space \"", COF_ERR_NOT_FOUND, NULL},
        {"multipart/form-data; boundary=bad{char}", COF_ERR_NOT_FOUND, NULL},
        {"multipart/form-data; boundary="
         "12345678901234567890123456789012345678901234567890123456789012345678901",
         COF_ERR_NOT_FOUND, NULL},
        {"multipart/mixed; boundary=abc", COF_ERR_INVALID, NULL},
        {"text/html", COF_ERR_INVALID, NULL},
        {"application/x-www-form-urlencoded", COF_ERR_INVALID, NULL},
        {NULL, COF_ERR_INVALID, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char b[SRV_FORM_BOUNDARY_MAX + 1] = "";
        cof_err err = srv_form_boundary(cases[i].ct, b);
        CHECK_EQ_INT(err, cases[i].err);
        if (cases[i].want != NULL && err == COF_OK)
            CHECK_EQ_STR(b, cases[i].want);
    }
}

#define B    "XyZ"
#define D    "--" B "\r\n"
#define DISP "Content-Disposition: form-data; name="

static const char good_body[] =
    "preamble text\r\n" D DISP "\"key\"\r\n\r\nuser/${filename}\r\n" D DISP
    "\"Content-Type\"\r\n\r\ntext/plain\r\n" D DISP "\"empty\"\r\n\r\n\r\n" D DISP
    "\"file\"; filename=\"a \\\"q\\\".txt\"\r\nContent-Type: image/png\r\n\r\n"
    "line1\r\n--XY not a delimiter\r\n--XyQ\r\r\n\r\n" D DISP "\"after\"\r\n\r\nignored?\r\n--" B
    "--\r\nepilogue --" B "--\r\n";

static const char good_want[] = "key|-|-=user/${filename};Content-Type|-|-=text/plain;"
                                "empty|-|-=;file|a \"q\".txt|image/png="
                                "line1\r\n--XY not a delimiter\r\n--XyQ\r\r\n;"
                                "after|-|-=ignored?;";

static void test_good_all_splits(void)
{
    struct rec r = {0};
    size_t len = sizeof(good_body) - 1;
    for (size_t step = 1; step <= len; step++) {
        cof_err err = run(B, good_body, len, step, &r);
        CHECK_EQ_INT(err, COF_OK);
        CHECK_EQ_STR(r.out, good_want);
        CHECK_EQ_INT(r.parts, 5);
        CHECK_EQ_INT(r.ends, 5);
    }
}

static void test_variants(void)
{
    static const struct {
        const char *body;
        const char *want;
    } cases[] = {
        /* no preamble, transport padding after the delimiter, no CRLF after the close */
        {"--" B "  \r\n" DISP "a\r\n\r\nv\r\n--" B "--", "a|-|-=v;"},
        /* bare LF header lines (tolerated) */
        {"--" B "\n" DISP "\"a\"\n\n1\r\n--" B "--", "a|-|-=1;"},
        /* empty filename is still a filename */
        {D DISP "\"file\"; filename=\"\"\r\n\r\n\r\n--" B "--", "file||-=;"},
        /* other headers ignored, parameter names case-insensitive */
        {D "X-Other: 1\r\ncontent-disposition: Form-Data; NAME=\"k\"; FileName=f\r\n\r\nz\r\n--" B
           "--",
         "k|f|-=z;"},
        /* backslashes in a filename are literal (browsers send Windows paths unescaped) */
        {D DISP "\"file\"; filename=\"C:\\dir\\a.txt\"\r\n\r\nz\r\n--" B "--",
         "file|C:\\dir\\a.txt|-=z;"},
        /* a part whose data is exactly a CR */
        {D DISP "\"a\"\r\n\r\n\r\r\n--" B "--", "a|-|-=\r;"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].body);
        for (size_t step = 1; step <= len; step++) {
            struct rec r = {0};
            CHECK_EQ_INT(run(B, cases[i].body, len, step, &r), COF_OK);
            CHECK_EQ_STR(r.out, cases[i].want);
        }
    }
}

static void test_bad(void)
{
    char longline[SRV_FORM_LINE_MAX + 200];
    memset(longline, 0, sizeof(longline));
    snprintf(longline, sizeof(longline), "%s%s\"", D, DISP);
    size_t l = strlen(longline);
    memset(longline + l, 'a', SRV_FORM_LINE_MAX + 10);

    char many[2048] = D;
    for (int i = 0; i < SRV_FORM_HEADERS_MAX + 1; i++)
        strcat(many, "X-A: 1\r\n");
    strcat(many, DISP "\"a\"\r\n\r\nv\r\n--" B "--");

    const struct {
        const char *body;
        cof_err err;
    } cases[] = {
        {"", COF_ERR_INCOMPLETE_BODY},                       /* empty body */
        {"no boundary at all\r\n", COF_ERR_INCOMPLETE_BODY}, /* wrong/missing boundary */
        {"--other\r\n" DISP "\"a\"\r\n\r\nv\r\n--other--", COF_ERR_INCOMPLETE_BODY},
        {D DISP "\"a\"\r\n\r\nvalue", COF_ERR_INCOMPLETE_BODY},            /* truncated part */
        {D DISP "\"a\"\r\n", COF_ERR_INCOMPLETE_BODY},                     /* truncated headers */
        {D DISP "\"a\"\r\n\r\nv\r\n--" B "\r\n", COF_ERR_INCOMPLETE_BODY}, /* no final boundary */
        {D DISP "\"a\"\r\n\r\nv\r\n--" B "-", COF_ERR_INCOMPLETE_BODY},
        {D "Content-Type: text/plain\r\n\r\nv\r\n--" B "--", COF_ERR_INVALID}, /* no disposition */
        {D "Content-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--" B "--", COF_ERR_INVALID},
        {D "Content-Disposition: form-data\r\n\r\nv\r\n--" B "--", COF_ERR_INVALID}, /* no name */
        {D DISP "\"unterminated\r\n\r\nv\r\n--" B "--", COF_ERR_INVALID},
        {D "no colon here\r\n\r\nv\r\n--" B "--", COF_ERR_INVALID},
        {"--" B "junk\r\n" DISP "\"a\"\r\n\r\nv\r\n--" B "--", COF_ERR_INVALID},
        {many, COF_ERR_INVALID},
        {longline, COF_ERR_TOO_LARGE}, /* header line too long */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rec r = {0};
        size_t len = strlen(cases[i].body);
        cof_err err = run(B, cases[i].body, len, len > 0 ? len : 1, &r);
        if (err != cases[i].err)
            fprintf(stderr, "bad case %zu\n", i);
        CHECK_EQ_INT(err, cases[i].err);
        err = run(B, cases[i].body, len, 1, &r);
        CHECK_EQ_INT(err, cases[i].err);
    }
}

/* A callback error stops the parse and sticks; fields after the file are still reported (the
 * caller ignores them) and a part after the close delimiter is not. */
static void test_callback_error(void)
{
    struct rec r = {0};
    r.fail_on = "Content-Type";
    size_t len = sizeof(good_body) - 1;
    CHECK_EQ_INT(run(B, good_body, len, 7, &r), COF_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(r.out, "key|-|-=user/${filename};");

    struct srv_form f;
    struct rec r2 = {0};
    r2.fail_on = "a";
    srv_form_init(&f, B, on_begin, on_data, on_end, &r2);
    const char body[] = D DISP "\"a\"\r\n\r\nv\r\n--" B "--";
    CHECK_EQ_INT(srv_form_feed(&f, body, sizeof(body) - 1), COF_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(srv_form_feed(&f, "x", 1), COF_ERR_INVALID);
    CHECK(!srv_form_done(&f));
}

/* consumed counts the bytes before a part's data when its begin callback runs. */
static size_t seen_at_begin;
static struct srv_form *cur;
static cof_err begin_pos(void *arg, const struct srv_form_part *p)
{
    (void)arg;
    (void)p;
    seen_at_begin = (size_t)cur->consumed;
    return COF_OK;
}

static void test_consumed(void)
{
    struct srv_form f;
    struct rec r = {0};
    const char body[] = D DISP "\"file\"\r\n\r\nDATA\r\n--" B "--";
    srv_form_init(&f, B, begin_pos, on_data, on_end, &r);
    cur = &f;
    CHECK_EQ_INT(srv_form_feed(&f, body, sizeof(body) - 1), COF_OK);
    CHECK_EQ_INT(seen_at_begin, strstr(body, "DATA") - body);
    CHECK(srv_form_done(&f));
}

int main(void)
{
    test_boundary();
    test_good_all_splits();
    test_variants();
    test_bad();
    test_callback_error();
    test_consumed();
    return check_finish();
}

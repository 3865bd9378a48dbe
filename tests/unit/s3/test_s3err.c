/* SPDX-License-Identifier: Apache-2.0 */
/* The cof_err table (unknown codes are InternalError) and struct srv_problem: setting, extra
 * elements, text kept in text[] (cut to fit, never past it), and bare codes. */
#include "check.h"
#include "s3/s3err.h"

#include <string.h>

static void test_lookup(void)
{
    static const struct {
        cof_err e;
        unsigned status;
        const char *code;
    } cases[] = {
        {COF_ERR_NO_BUCKET, 404, "NoSuchBucket"},
        {COF_ERR_INVALID_TAG, 400, "InvalidTag"},
        {COF_ERR_TOO_LARGE, 400, "MalformedXML"},
        {COF_ERR_MALFORMED_POLICY, 400, "MalformedPolicy"},
        {COF_OK, 500, "InternalError"}, /* no row */
        {COF_ERR__COUNT, 500, "InternalError"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct srv_s3err *r = srv_s3err_lookup(cases[i].e);
        CHECK_EQ_INT(r->status, cases[i].status);
        CHECK_EQ_STR(r->code, cases[i].code);
        CHECK(r->message != NULL);
    }
}

static void test_problem(void)
{
    struct srv_problem p;
    srv_problem_init(&p);
    CHECK_EQ_INT(p.code, COF_OK);
    CHECK(p.message == NULL && p.name1 == NULL && p.name2 == NULL);

    /* set drops earlier elements */
    srv_problem_elem(&p, "A", "1");
    CHECK_EQ_INT(srv_problem_set(&p, COF_ERR_BAD_REQUEST, "msg"), COF_ERR_BAD_REQUEST);
    CHECK_EQ_STR(p.message, "msg");
    CHECK(p.name1 == NULL && p.value1 == NULL && p.name2 == NULL && p.value2 == NULL);

    /* elements fill in order; a NULL name or value is skipped */
    srv_problem_elem(&p, "A", NULL);
    srv_problem_elem(&p, NULL, "1");
    CHECK(p.name1 == NULL);
    srv_problem_elem(&p, "A", "1");
    srv_problem_elem(&p, "B", "2");
    CHECK_EQ_STR(p.name1, "A");
    CHECK_EQ_STR(p.value1, "1");
    CHECK_EQ_STR(p.name2, "B");
    CHECK_EQ_STR(p.value2, "2");

    /* ArgumentName / ArgumentValue; a NULL value leaves ArgumentValue out */
    srv_problem_init(&p);
    CHECK_EQ_INT(srv_problem_arg(&p, COF_ERR_INVALID_ARGUMENT, "m", "x-amz-h", "v"),
                 COF_ERR_INVALID_ARGUMENT);
    CHECK_EQ_STR(p.name1, "ArgumentName");
    CHECK_EQ_STR(p.value1, "x-amz-h");
    CHECK_EQ_STR(p.name2, "ArgumentValue");
    CHECK_EQ_STR(p.value2, "v");
    srv_problem_arg(&p, COF_ERR_INVALID_ARGUMENT, "m", "x-amz-h", NULL);
    CHECK_EQ_STR(p.value1, "x-amz-h");
    CHECK(p.name2 == NULL && p.value2 == NULL);

    /* formatted message and kept values live side by side in text[] */
    srv_problem_init(&p);
    CHECK_EQ_INT(srv_problem_setf(&p, COF_ERR_INVALID_REQUEST, "bad %s #%d", "thing", 2),
                 COF_ERR_INVALID_REQUEST);
    srv_problem_elem(&p, "TagKey", srv_problem_keep(&p, "%s", "key"));
    CHECK_EQ_STR(p.message, "bad thing #2");
    CHECK_EQ_STR(p.value1, "key");
    CHECK(p.message >= p.text && p.value1 > p.message && p.text_len < sizeof(p.text));

    /* finish: a bare code only when nothing is set */
    srv_problem_init(&p);
    CHECK_EQ_INT(srv_problem_finish(&p, COF_OK), COF_OK);
    CHECK_EQ_INT(p.code, COF_OK);
    CHECK_EQ_INT(srv_problem_finish(&p, COF_ERR_NOMEM), COF_ERR_NOMEM);
    CHECK_EQ_INT(p.code, COF_ERR_NOMEM);
    CHECK(p.message == NULL && p.name1 == NULL);
    srv_problem_set(&p, COF_ERR_INVALID_TAG, "m");
    CHECK_EQ_INT(srv_problem_finish(&p, COF_ERR_INVALID_TAG), COF_ERR_INVALID_TAG);
    CHECK_EQ_STR(p.message, "m");
}

/* Text beyond text[] is cut, never written past it; later strings are cut to "". */
static void test_problem_text_full(void)
{
    static char big[3000];
    struct srv_problem p;
    memset(big, 'x', sizeof(big) - 1);
    for (size_t first = sizeof(p.text) - 3; first <= sizeof(p.text) + 1; first++) {
        srv_problem_init(&p);
        const char *a = srv_problem_keep(&p, "%.*s", (int)first, big);
        CHECK_EQ_INT(strlen(a), first < sizeof(p.text) ? first : sizeof(p.text) - 1);
        CHECK(p.text_len < sizeof(p.text));
        const char *b = srv_problem_keep(&p, "%s", "yz");
        CHECK(b >= p.text && b + strlen(b) < p.text + sizeof(p.text));
        CHECK(p.text_len < sizeof(p.text));
        if (first + 1 + 3 <= sizeof(p.text))
            CHECK_EQ_STR(b, "yz");
        const char *c = srv_problem_keep(&p, "%s", big);
        CHECK(c + strlen(c) < p.text + sizeof(p.text));
        CHECK(p.text_len < sizeof(p.text));
    }
    srv_problem_init(&p);
    srv_problem_setf(&p, COF_ERR_INVALID_REQUEST, "AllowedOrigin \"%s\"", big);
    CHECK_EQ_INT(strlen(p.message), sizeof(p.text) - 1);
}

int main(void)
{
    test_lookup();
    test_problem();
    test_problem_text_full();
    return check_finish();
}

/* SPDX-License-Identifier: Apache-2.0 */
/* POST policies: AWS's SigV4 POST example and botocore's generate_presigned_post output as
 * signature vectors; a table of documents and forms with S3's verdicts. */
#include "check.h"
#include "s3/postpolicy.h"
#include "s3/uri.h"

#include <stdlib.h>
#include <string.h>

/* AWS "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)". */
static const char aws_policy[] =
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgIC"
    "B7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNl"
    "ci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaX"
    "JlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2Fk"
    "Lmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LW"
    "Ftei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRp"
    "b24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgIC"
    "B7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3"
    "czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7Ing"
    "tYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AWS_SCOPE  "20151229/us-east-1/s3/aws4_request"
#define AWS_SIG    "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"

/* botocore generate_presigned_post("sigv4examplebucket", "user/user1/photo.jpg") at
 * 2015-12-29T00:00:00Z with the same credentials. */
static const char boto_policy[] =
    "eyJleHBpcmF0aW9uIjogIjIwMTUtMTItMjlUMDE6MDA6MDBaIiwgImNvbmRpdGlvbnMiOiBbeyJidWNrZXQiOiAic2"
    "lndjRleGFtcGxlYnVja2V0In0sIHsia2V5IjogInVzZXIvdXNlcjEvcGhvdG8uanBnIn0sIHsieC1hbXotYWxnb3Jp"
    "dGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwgeyJ4LWFtei1jcmVkZW50aWFsIjogIkFLSUFJT1NGT0ROTjdFWEFNUE"
    "xFLzIwMTUxMjI5L3VzLWVhc3QtMS9zMy9hd3M0X3JlcXVlc3QifSwgeyJ4LWFtei1kYXRlIjogIjIwMTUxMjI5VDAw"
    "MDAwMFoifV19";
#define BOTO_SIG "3364624b39010d9b06f5d9b8c9a18a6e478d261c048159c92f2fd6fa885f14e6"

#define T_2015_12_29 1451347200 /* 2015-12-29T00:00:00Z */

static void test_signatures(void)
{
    CHECK_EQ_INT(srv_post_verify_v4(aws_policy, AWS_SECRET, AWS_SCOPE, AWS_SIG), COF_OK);
    CHECK_EQ_INT(srv_post_verify_v4(boto_policy, AWS_SECRET, AWS_SCOPE, BOTO_SIG), COF_OK);
    /* tampered signature, policy, scope, secret; wrong length; NULL */
    char sig[] = AWS_SIG;
    sig[10] = sig[10] == '0' ? '1' : '0';
    CHECK_EQ_INT(srv_post_verify_v4(aws_policy, AWS_SECRET, AWS_SCOPE, sig),
                 COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(srv_post_verify_v4(boto_policy, AWS_SECRET, AWS_SCOPE, AWS_SIG),
                 COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(
        srv_post_verify_v4(aws_policy, AWS_SECRET, "20151230/us-east-1/s3/aws4_request", AWS_SIG),
        COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(srv_post_verify_v4(aws_policy, "other", AWS_SCOPE, AWS_SIG),
                 COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(srv_post_verify_v4(aws_policy, AWS_SECRET, AWS_SCOPE, "8afdbf40"),
                 COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(srv_post_verify_v4(aws_policy, AWS_SECRET, AWS_SCOPE, NULL),
                 COF_ERR_SIGNATURE_MISMATCH);
    /* SigV2: base64(HMAC-SHA1(secret, policy as sent)), computed independently with Python's
     * hmac module. */
    const char v2_policy[] =
        "eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIiwgImNvbmRpdGlvbnMiOiBbeyJidWNrZXQiOiAiam"
        "9obnNtaXRoIn0sIFsic3RhcnRzLXdpdGgiLCAiJGtleSIsICJ1c2VyL2VyaWMvIl1dfQ==";
    CHECK_EQ_INT(srv_post_verify_v2(v2_policy, AWS_SECRET, "Zvkhzy+GiuTWnsQyDMMIiRgQB/w="), COF_OK);
    CHECK_EQ_INT(srv_post_verify_v2(v2_policy, AWS_SECRET, "0RavWzkygo6QX9caELEqKi9kDbU="),
                 COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(srv_post_verify_v2(v2_policy, AWS_SECRET, ""), COF_ERR_SIGNATURE_MISMATCH);
}

/* The AWS example form passes its own policy the day it was signed, and fails after expiry. */
static void test_aws_example(void)
{
    struct srv_post_fields f = {0};
    static const char *const form[][2] = {
        {"key", "user/user1/photo.jpg"},
        {"acl", "public-read"},
        {"success_action_redirect",
         "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},
        {"Content-Type", "image/jpeg"},
        {"x-amz-meta-uuid", "14365123651274"},
        {"x-amz-server-side-encryption", "AES256"},
        {"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
        {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
        {"X-Amz-Date", "20151229T000000Z"},
        {"x-amz-meta-tag", ""},
        {"Policy", "(the policy)"},
        {"X-Amz-Signature", AWS_SIG},
    };
    for (size_t i = 0; i < sizeof(form) / sizeof(form[0]); i++)
        CHECK_EQ_INT(srv_post_fields_add(&f, form[i][0], form[i][1]), COF_OK);
    struct srv_post_verdict v;
    CHECK_EQ_INT(srv_post_policy_check(aws_policy, &f, "sigv4examplebucket", T_2015_12_29, &v),
                 COF_OK);
    CHECK(!v.has_range);
    CHECK_EQ_INT(srv_post_policy_check(aws_policy, &f, "otherbucket", T_2015_12_29, &v),
                 COF_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(v.problem.message,
                 "Invalid according to Policy: Policy Condition failed: [\"eq\", "
                 "\"$bucket\", \"sigv4examplebucket\"]");
    CHECK_EQ_INT(
        srv_post_policy_check(aws_policy, &f, "sigv4examplebucket", T_2015_12_29 + 3 * 86400, &v),
        COF_ERR_ACCESS_DENIED);
    CHECK_EQ_STR(v.problem.message, "Invalid according to Policy: Policy expired.");
    srv_post_fields_cleanup(&f);
}

struct pcase {
    const char *policy; /* JSON text, base64-encoded by the test */
    const char *form;   /* "name=value\n" lines */
    cof_err want;
    const char *msg; /* expected message, or NULL */
};

#define EXP  "\"expiration\": \"2030-01-01T00:00:00Z\""
#define BASE "{\"bucket\": \"b\"}, [\"starts-with\", \"$key\", \"up/\"]"

static const struct pcase cases[] = {
    {"{" EXP ", \"conditions\": [" BASE "]}", "key=up/a\n", COF_OK, NULL},
    /* names case-insensitive in fields and conditions; operators too */
    {"{" EXP ", \"conditions\": [{\"BuCkEt\": \"b\"}, [\"StArTs-WiTh\", \"$KeY\", \"up/\"]]}",
     "kEy=up/a\n", COF_OK, NULL},
    /* values case-sensitive */
    {"{" EXP ", \"conditions\": [" BASE "]}", "key=UP/a\n", COF_ERR_ACCESS_DENIED,
     "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"up/\"]"},
    {"{" EXP ", \"conditions\": [" BASE ", [\"eq\", \"$acl\", \"private\"]]}",
     "key=up/a\nacl=public-read\n", COF_ERR_ACCESS_DENIED,
     "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$acl\", \"private\"]"},
    /* an absent field fails even starts-with "" */
    {"{" EXP ", \"conditions\": [" BASE ", [\"starts-with\", \"$Content-Type\", \"\"]]}",
     "key=up/a\n", COF_ERR_ACCESS_DENIED,
     "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$Content-Type\", "
     "\"\"]"},
    {"{" EXP ", \"conditions\": [" BASE ", [\"starts-with\", \"$Content-Type\", \"\"]]}",
     "key=up/a\nContent-Type=x\n", COF_OK, NULL},
    /* Content-Type lists */
    {"{" EXP ", \"conditions\": [" BASE ", [\"starts-with\", \"$Content-Type\", \"image/\"]]}",
     "key=up/a\nContent-Type=image/jpg,image/png\n", COF_OK, NULL},
    {"{" EXP ", \"conditions\": [" BASE ", [\"starts-with\", \"$Content-Type\", \"image/\"]]}",
     "key=up/a\nContent-Type=image/jpg,text/plain\n", COF_ERR_ACCESS_DENIED, NULL},
    /* extra fields; exemptions */
    {"{" EXP ", \"conditions\": [" BASE "]}", "key=up/a\nx-amz-meta-note=1\n",
     COF_ERR_ACCESS_DENIED, "Invalid according to Policy: Extra input fields: x-amz-meta-note"},
    {"{" EXP ", \"conditions\": [" BASE "]}",
     "key=up/a\nx-ignore-me=1\nPolicy=p\nX-Amz-Signature=s\nAWSAccessKeyId=a\nsignature=s\n",
     COF_OK, NULL},
    /* the quote in a failed value is escaped as JSON */
    {"{" EXP ", \"conditions\": [" BASE ", {\"Content-Disposition\": \"f=\\\"a\\\"\"}]}",
     "key=up/a\nContent-Disposition=x\n", COF_ERR_ACCESS_DENIED,
     "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$Content-Disposition\", "
     "\"f=\\\"a\\\"\"]"},
    /* content-length-range: numbers, numeric strings, non-numeric strings */
    {"{" EXP ", \"conditions\": [" BASE ", [\"content-length-range\", 5, 10]]}", "key=up/a\n",
     COF_OK, NULL},
    {"{" EXP ", \"conditions\": [" BASE ", [\"content-length-range\", \"5\", \"10\"]]}",
     "key=up/a\n", COF_OK, NULL},
    {"{" EXP ", \"conditions\": [" BASE ", [\"content-length-range\", \"test\", \"10\"]]}",
     "key=up/a\n", COF_ERR_ACCESS_DENIED,
     "Invalid according to Policy: Policy Condition failed: [\"content-length-range\", \"test\", "
     "\"10\"]"},
    {"{" EXP ", \"conditions\": [" BASE ", [\"content-length-range\", 0, 512.0]]}", "key=up/a\n",
     COF_ERR_INVALID_POLICY, "Invalid Policy: Invalid JSON."},
    {"{" EXP ", \"conditions\": [" BASE ", [\"content-length-range\", -1, 0]]}", "key=up/a\n",
     COF_ERR_INVALID_POLICY, NULL},
    {"{" EXP ", \"conditions\": [" BASE ", [\"content-length-range\", 0]]}", "key=up/a\n",
     COF_ERR_INVALID_POLICY,
     "Invalid Policy: Invalid content-length-range: wrong number of "
     "arguments."},
    /* malformed documents */
    {"{" EXP ", \"conditions\": [{\"bucket\": \"b\", \"key\": \"k\"}]}", "key=k\n",
     COF_ERR_INVALID_POLICY,
     "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property "
     "specified."},
    {"{" EXP ", \"conditions\": [{\"Content-Length\": 6199034}]}", "key=k\n",
     COF_ERR_INVALID_POLICY, "Invalid Policy: Invalid Simple-Condition: value must be a string."},
    {"{" EXP ", \"conditions\": [{}]}", "key=k\n", COF_ERR_INVALID_POLICY, NULL},
    {"{" EXP ", \"conditions\": [[]]}", "key=k\n", COF_ERR_INVALID_POLICY,
     "Invalid Policy: Invalid Condition: missing operation identifier."},
    {"{" EXP ", \"conditions\": [[\"like\", \"$key\", \"k\"]]}", "key=k\n", COF_ERR_INVALID_POLICY,
     "Invalid Policy: Invalid Condition: unknown operation 'like'."},
    {"{" EXP ", \"conditions\": [\"key\"]}", "key=k\n", COF_ERR_INVALID_POLICY,
     "Invalid Policy: Invalid condition test: must be a List or Object."},
    {"{" EXP ", \"conditions\": {}}", "key=k\n", COF_ERR_INVALID_POLICY,
     "Invalid Policy: Invalid 'conditions' value: must be a List."},
    {"{" EXP "}", "key=k\n", COF_ERR_INVALID_POLICY, "Invalid Policy: Policy missing conditions."},
    {"{\"conditions\": []}", "key=k\n", COF_ERR_INVALID_POLICY,
     "Invalid Policy: Policy missing expiration."},
    {"{\"EXPIRATION\": \"2030-01-01T00:00:00Z\", \"conditions\": []}", "key=k\n",
     COF_ERR_INVALID_POLICY, "Invalid Policy: Unexpected: 'expiration'"},
    {"{\"expiration\": \"2030-01-01 00:00:00\", \"conditions\": []}", "key=k\n",
     COF_ERR_INVALID_POLICY, "Invalid Policy: Invalid 'expiration' value: '2030-01-01 00:00:00'"},
    {"{\"expiration\": \"2030-01-01T00:00:00+02:00\", \"conditions\": []}", "key=k\n",
     COF_ERR_INVALID_POLICY, NULL},
    {"{\"expiration\": \"2030-01-01T00:00:00.123Z\", \"conditions\": [{\"key\": \"k\"}]}",
     "key=k\n", COF_OK, NULL},
    {"not json", "key=k\n", COF_ERR_INVALID_POLICY, "Invalid Policy: Invalid JSON."},
    {"[1, 2]", "key=k\n", COF_ERR_INVALID_POLICY, "Invalid Policy: Invalid JSON."},
    /* expired (now is 2031) */
    {"{\"expiration\": \"2031-01-01T00:00:00Z\", \"conditions\": [{\"key\": \"x\"}]}", "key=k\n",
     COF_ERR_ACCESS_DENIED, "Invalid according to Policy: Policy expired."},
    /* a malformed condition is reported before expiry */
    {"{\"expiration\": \"2000-01-01T00:00:00Z\", \"conditions\": [[\"eq\"]]}", "key=k\n",
     COF_ERR_INVALID_POLICY, "Invalid Policy: Invalid eq: wrong number of arguments."},
};

#define NOW_2031 1924992001 /* 2031-01-01T00:00:01Z */

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pcase *c = &cases[i];
        size_t pl = strlen(c->policy);
        char *b64 = malloc(4 * ((pl + 2) / 3) + 1);
        struct srv_post_fields f = {0};
        srv_base64_encode((const uint8_t *)c->policy, pl, b64);
        char form[512];
        snprintf(form, sizeof(form), "%s", c->form);
        for (char *line = strtok(form, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            char *eq = strchr(line, '=');
            *eq = '\0';
            CHECK_EQ_INT(srv_post_fields_add(&f, line, eq + 1), COF_OK);
        }
        int64_t now = strstr(c->policy, "2031-") != NULL ? NOW_2031 : 1700000000;
        struct srv_post_verdict v;
        cof_err err = srv_post_policy_check(b64, &f, "b", now, &v);
        if (err != c->want)
            fprintf(stderr, "case %zu: %s\n", i, v.problem.message);
        CHECK_EQ_INT(err, c->want);
        if (c->msg != NULL && err != COF_OK)
            CHECK_EQ_STR(v.problem.message, c->msg);
        srv_post_fields_cleanup(&f);
        free(b64);
    }
    /* not base64 */
    struct srv_post_fields f = {0};
    struct srv_post_verdict v;
    CHECK_EQ_INT(srv_post_policy_check("@@@", &f, "b", 0, &v), COF_ERR_INVALID_POLICY);
    CHECK_EQ_STR(v.problem.message, "Invalid Policy: Invalid Base64 encoding.");
}

static void test_range_and_fields(void)
{
    const char doc[] = "{" EXP ", \"conditions\": [[\"content-length-range\", 5, 10], "
                       "[\"content-length-range\", 7, 100], {\"key\": \"k\"}, "
                       "{\"x-amz-meta-a\": \"1,2\"}]}";
    char b64[512];
    srv_base64_encode((const uint8_t *)doc, strlen(doc), b64);
    struct srv_post_fields f = {0};
    CHECK_EQ_INT(srv_post_fields_add(&f, "key", "k"), COF_OK);
    /* a repeated field is matched as "first,second" */
    CHECK_EQ_INT(srv_post_fields_add(&f, "X-Amz-Meta-A", "1"), COF_OK);
    CHECK_EQ_INT(srv_post_fields_add(&f, "x-amz-meta-a", "2"), COF_OK);
    CHECK_EQ_STR(srv_post_fields_get(&f, "x-amz-meta-A"), "1,2");
    struct srv_post_verdict v;
    CHECK_EQ_INT(srv_post_policy_check(b64, &f, "b", 0, &v), COF_OK);
    CHECK(v.has_range);
    CHECK_EQ_INT(v.min, 7);
    CHECK_EQ_INT(v.max, 10);
    CHECK_EQ_INT(srv_post_fields_set(&f, "KEY", "k2"), COF_OK);
    CHECK_EQ_STR(srv_post_fields_get(&f, "key"), "k2");
    CHECK_EQ_INT(f.n, 2);
    srv_post_fields_cleanup(&f);
}

int main(void)
{
    test_signatures();
    test_aws_example();
    test_table();
    test_range_and_fields();
    return check_finish();
}

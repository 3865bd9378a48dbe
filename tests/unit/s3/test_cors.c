/* SPDX-License-Identifier: Apache-2.0 */
/* cors.c: CORSConfiguration parsing (valid documents, every refusal S3 makes), the canonical
 * writer, wildcard matching, rule selection, and the headers of a rule and of LocalStack's
 * default. */
#include "check.h"
#include "s3/cors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/xml.h"

#define RULE(body) "<CORSRule>" body "</CORSRule>"
#define DOC(rules) "<CORSConfiguration>" rules "</CORSConfiguration>"

struct parse_case {
    const char *body;
    cof_err want;
    const char *msg; /* expected message for COF_ERR_INVALID_REQUEST */
};

static const struct parse_case bad_cases[] = {
    {"", COF_ERR_MALFORMED_XML, NULL},
    {"   ", COF_ERR_MALFORMED_XML, NULL},
    {"<CORSConfiguration>", COF_ERR_MALFORMED_XML, NULL},
    {"<CORSConfiguration/>", COF_ERR_MALFORMED_XML, NULL}, /* no rule */
    {DOC(""), COF_ERR_MALFORMED_XML, NULL},
    {"<Other>" RULE(
         "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>") "</Other>",
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedMethod>GET</AllowedMethod>")), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin>")), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<ID>a</ID><ID>b</ID><AllowedOrigin>*</AllowedOrigin>"
              "<AllowedMethod>GET</AllowedMethod>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
              "<MaxAgeSeconds>ten</MaxAgeSeconds>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
              "<MaxAgeSeconds>99999999999</MaxAgeSeconds>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
              "<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
              "<MaxAgeSeconds></MaxAgeSeconds>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedOrigin><x/></AllowedOrigin><AllowedMethod>GET</AllowedMethod>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC("text" RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>")),
     COF_ERR_MALFORMED_XML, NULL},
    {"<!DOCTYPE x [<!ENTITY e \"GET\">]>" DOC(
         RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>&e;</AllowedMethod>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>")),
     COF_ERR_INVALID_REQUEST,
     "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>")),
     COF_ERR_INVALID_REQUEST,
     "Found unsupported HTTP method in CORS config. Unsupported method is get"},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
              "<AllowedMethod>OPTIONS</AllowedMethod>")),
     COF_ERR_INVALID_REQUEST,
     "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"},
    {DOC(RULE("<AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>")),
     COF_ERR_INVALID_REQUEST,
     "AllowedOrigin \"http://*.*.com\" can not have more than one wildcard."},
    {DOC(RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
              "<AllowedHeader>x-*-*</AllowedHeader>")),
     COF_ERR_INVALID_REQUEST, "AllowedHeader \"x-*-*\" can not have more than one wildcard."},
};

static void test_parse_refusals(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct parse_case *tc = &bad_cases[i];
        struct srv_cors_config c;
        struct srv_problem prob;
        cof_err err = srv_cors_parse(tc->body, strlen(tc->body), &c, &prob);
        if (err != tc->want)
            fprintf(stderr, "case %zu: %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, tc->want);
        CHECK(c.rules == NULL && c.n == 0);
        CHECK_EQ_INT(prob.code, tc->want);
        CHECK(prob.name1 == NULL && prob.name2 == NULL);
        if (tc->msg != NULL)
            CHECK_EQ_STR(prob.message, tc->msg);
        else
            CHECK(prob.message == NULL);
    }
}

/* A message quoting a value longer than the problem's text is cut to fit (its start kept). */
static void test_long_value(void)
{
    char origin[2001], *doc = NULL;
    memset(origin, 'a', sizeof(origin) - 1);
    origin[sizeof(origin) - 1] = '\0';
    origin[0] = origin[10] = '*';
    size_t cap = sizeof(origin) + 256;
    doc = malloc(cap);
    CHECK(doc != NULL);
    if (doc == NULL)
        return;
    snprintf(doc, cap,
             DOC(RULE("<AllowedOrigin>%s</AllowedOrigin><AllowedMethod>GET</AllowedMethod>")),
             origin);
    struct srv_cors_config c;
    struct srv_problem prob;
    CHECK_EQ_INT(srv_cors_parse(doc, strlen(doc), &c, &prob), COF_ERR_INVALID_REQUEST);
    const char *start = "AllowedOrigin \"*aaaaaaaaa*aaa";
    CHECK(prob.message != NULL && strncmp(prob.message, start, strlen(start)) == 0);
    CHECK(prob.message != NULL && strlen(prob.message) == sizeof(prob.text) - 1);
    free(doc);
}

static void test_rule_limit(void)
{
    const char one[] = RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>");
    size_t cap = 101 * sizeof(one) + 64;
    char *doc = malloc(cap);
    CHECK(doc != NULL);
    if (doc == NULL)
        return;
    for (size_t n = 100; n <= 101; n++) {
        size_t len = (size_t)snprintf(doc, cap, "<CORSConfiguration>");
        for (size_t i = 0; i < n; i++)
            len += (size_t)snprintf(doc + len, cap - len, "%s", one);
        len += (size_t)snprintf(doc + len, cap - len, "</CORSConfiguration>");
        struct srv_cors_config c;
        struct srv_problem prob;
        cof_err err = srv_cors_parse(doc, len, &c, &prob);
        CHECK_EQ_INT(err, n == 100 ? COF_OK : COF_ERR_MALFORMED_XML);
        if (err == COF_OK)
            CHECK_EQ_INT(c.n, 100);
        srv_cors_config_cleanup(&c);
    }
    free(doc);

    /* Over the 64 KB cap before any parsing. */
    size_t big = SRV_MAX_SMALL_XML_BODY + 1;
    char *huge = malloc(big);
    CHECK(huge != NULL);
    if (huge != NULL) {
        memset(huge, ' ', big);
        struct srv_cors_config c;
        struct srv_problem prob;
        CHECK_EQ_INT(srv_cors_parse(huge, big, &c, &prob), COF_ERR_TOO_LARGE);
        free(huge);
    }
}

static const char full_doc[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
    "  <CORSRule>\n"
    "    <AllowedOrigin>http://*.example.com</AllowedOrigin>\n"
    "    <AllowedMethod>PUT</AllowedMethod>\n"
    "    <AllowedMethod> GET </AllowedMethod>\n"
    "    <AllowedHeader>x-amz-*</AllowedHeader>\n"
    "    <AllowedHeader>Content-Type</AllowedHeader>\n"
    "    <ExposeHeader>ETag</ExposeHeader>\n"
    "    <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>\n"
    "    <MaxAgeSeconds>3000</MaxAgeSeconds>\n"
    "    <ID>first &amp; only</ID>\n"
    "    <Unknown>ignored</Unknown>\n"
    "  </CORSRule>\n"
    "  <!-- a comment -->\n"
    "  <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    "<AllowedMethod>HEAD</AllowedMethod></CORSRule>\n"
    "</CORSConfiguration>\n";

static const char canonical[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><CORSRule>"
    "<ID>first &amp; only</ID><AllowedHeader>x-amz-*</AllowedHeader>"
    "<AllowedHeader>Content-Type</AllowedHeader><AllowedMethod>PUT</AllowedMethod>"
    "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://*.example.com</AllowedOrigin>"
    "<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-server-side-encryption</ExposeHeader>"
    "<MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule><CORSRule><AllowedMethod>GET</AllowedMethod>"
    "<AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>"
    "</CORSConfiguration>";

static void test_parse_and_write(void)
{
    struct srv_cors_config c, c2;
    struct srv_problem prob;
    char *doc = NULL, *doc2 = NULL;
    size_t len = 0, len2 = 0;
    CHECK_EQ_INT(srv_cors_parse(full_doc, strlen(full_doc), &c, &prob), COF_OK);
    CHECK(prob.message == NULL);
    CHECK_EQ_INT(c.n, 2);
    if (c.n != 2)
        return;
    const struct srv_cors_rule *r = &c.rules[0];
    CHECK_EQ_STR(r->id, "first & only");
    CHECK_EQ_INT(r->allowed_methods.n, 2);
    CHECK_EQ_STR(r->allowed_methods.v[1], "GET");
    CHECK_EQ_INT(r->allowed_headers.n, 2);
    CHECK_EQ_INT(r->expose_headers.n, 2);
    CHECK(r->has_max_age && r->max_age == 3000);
    CHECK(c.rules[1].id == NULL && !c.rules[1].has_max_age);

    CHECK_EQ_INT(srv_cors_write(&c, &doc, &len), COF_OK);
    CHECK_EQ_STR(doc, canonical);
    CHECK_EQ_INT(len, strlen(canonical));
    /* The stored form reads back to the same document. */
    CHECK_EQ_INT(srv_cors_parse(doc, len, &c2, &prob), COF_OK);
    CHECK_EQ_INT(srv_cors_write(&c2, &doc2, &len2), COF_OK);
    CHECK_EQ_STR(doc2, doc);
    free(doc);
    free(doc2);
    srv_cors_config_cleanup(&c);
    srv_cors_config_cleanup(&c2);
    srv_cors_config_cleanup(&c2); /* idempotent */
    srv_cors_config_cleanup(NULL);
}

struct wild_case {
    const char *pattern, *s;
    bool icase, want;
};

static const struct wild_case wild_cases[] = {
    {"*", "anything", false, true},
    {"*", "", false, true},
    {"http://a.com", "http://a.com", false, true},
    {"http://a.com", "http://A.com", false, false},
    {"http://a.com", "http://A.com", true, true},
    {"http://*.a.com", "http://x.a.com", false, true},
    {"http://*.a.com", "http://x.y.a.com", false, true},
    {"http://*.a.com", "http://.a.com", false, false}, /* '*' is at least one character */
    {"http://*.a.com", "https://x.a.com", false, false},
    {"http://*.a.com", "http://x.a.com.evil", false, false},
    {"http://*", "http://localhost:3000", false, true},
    {"*.a.com", "x.a.com", false, true},
    {"x-amz-*", "X-Amz-Date", true, true},
    {"x-amz-*", "x-amz-", true, false},
    {"x-amz-*", "content-type", true, false},
    {"*-id", "x-request-id", true, true},
    {"ab*ba", "aba", false, false}, /* prefix and suffix must not overlap */
};

static void test_wildcard(void)
{
    for (size_t i = 0; i < sizeof(wild_cases) / sizeof(wild_cases[0]); i++) {
        const struct wild_case *tc = &wild_cases[i];
        bool got = srv_cors_wildcard_match(tc->pattern, tc->s, tc->icase);
        if (got != tc->want)
            fprintf(stderr, "wildcard case %zu: %s vs %s\n", i, tc->pattern, tc->s);
        CHECK(got == tc->want);
    }
}

struct match_case {
    const char *origin, *method, *headers;
    int want; /* rule index, -1: none */
};

static const char match_doc[] = DOC(
    RULE("<AllowedOrigin>http://app.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>"
         "<AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>")
        RULE("<AllowedOrigin>http://*.example.com</AllowedOrigin>"
             "<AllowedMethod>GET</AllowedMethod>")
            RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                 "<AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader>"));

static const struct match_case match_cases[] = {
    {"http://app.example.com", "PUT", NULL, 0},
    {"http://app.example.com", "PUT", "x-amz-date, Content-Type", 0},
    {"http://app.example.com", "PUT", "X-AMZ-SERVER-SIDE-ENCRYPTION,content-type", 0},
    {"http://app.example.com", "PUT", "  ,x-amz-date,  ", 0},   /* empty items ignored */
    {"http://app.example.com", "PUT", "authorization", -1},     /* header not allowed */
    {"http://app.example.com", "PUT", "x-amz-date, range", -1}, /* all must be allowed */
    {"http://app.example.com", "GET", NULL, 1},                 /* first match wins */
    {"http://app.example.com", "GET", "range", 2},              /* rule 1 allows no headers */
    {"http://other.com", "GET", "range", 2},
    {"http://other.com", "HEAD", NULL, 2},
    {"http://other.com", "PUT", NULL, -1},
    {"http://app.example.com", "DELETE", NULL, -1},
    {"http://app.example.com", "put", NULL, -1}, /* methods are case-sensitive */
    {"http://App.example.com", "PUT", NULL, -1}, /* so are origins */
};

static void test_match(void)
{
    struct srv_cors_config c;
    struct srv_problem prob;
    CHECK_EQ_INT(srv_cors_parse(match_doc, strlen(match_doc), &c, &prob), COF_OK);
    for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        const struct match_case *tc = &match_cases[i];
        const struct srv_cors_rule *r = srv_cors_match(&c, tc->origin, tc->method, tc->headers);
        int got = r == NULL ? -1 : (int)(r - c.rules);
        if (got != tc->want)
            fprintf(stderr, "match case %zu: got %d\n", i, got);
        CHECK_EQ_INT(got, tc->want);
    }
    CHECK(srv_cors_match(&c, NULL, "GET", NULL) == NULL);
    CHECK(srv_cors_match(NULL, "http://x", "GET", NULL) == NULL);
    srv_cors_config_cleanup(&c);
}

/* Collects emitted headers as "Name: value\n" lines. */
struct sink {
    char text[4096];
    size_t len;
};

static void collect(void *arg, const char *name, const char *value)
{
    struct sink *s = arg;
    int n = snprintf(s->text + s->len, sizeof(s->text) - s->len, "%s: %s\n", name, value);
    if (n > 0 && (size_t)n < sizeof(s->text) - s->len)
        s->len += (size_t)n;
}

static void test_rule_headers(void)
{
    struct srv_cors_config c;
    struct srv_problem prob;
    const char doc[] =
        DOC(RULE("<AllowedOrigin>http://*.example.com</AllowedOrigin>"
                 "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
                 "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
                 "<ExposeHeader>x-amz-request-id</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds>")
                RULE("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"));
    CHECK_EQ_INT(srv_cors_parse(doc, strlen(doc), &c, &prob), COF_OK);
    if (c.n != 2)
        return;
    struct sink s = {"", 0};
    CHECK_EQ_INT(srv_cors_rule_headers(&c.rules[0], "http://a.example.com", " X-Amz-Date ,Range",
                                       collect, &s),
                 COF_OK);
    CHECK_EQ_STR(s.text, "Access-Control-Allow-Origin: http://a.example.com\n"
                         "Access-Control-Allow-Credentials: true\n"
                         "Vary: Origin, Access-Control-Request-Headers, "
                         "Access-Control-Request-Method\n"
                         "Access-Control-Allow-Methods: GET, PUT\n"
                         "Access-Control-Allow-Headers: x-amz-date, range\n"
                         "Access-Control-Expose-Headers: ETag, x-amz-request-id\n"
                         "Access-Control-Max-Age: 600\n");
    struct sink w = {"", 0};
    CHECK_EQ_INT(srv_cors_rule_headers(&c.rules[1], "http://x.com", NULL, collect, &w), COF_OK);
    CHECK_EQ_STR(w.text, "Access-Control-Allow-Origin: *\n"
                         "Vary: Origin, Access-Control-Request-Headers, "
                         "Access-Control-Request-Method\n"
                         "Access-Control-Allow-Methods: GET\n");
    srv_cors_config_cleanup(&c);
}

struct default_case {
    const char *origin;
    bool want;
};

static void test_default_allowed(void)
{
    struct srv_cors_defaults d = {4566, "http://my.app:8080, https://other.app", NULL, NULL, false};
    static const struct default_case cases[] = {
        {"https://app.localstack.cloud", true},
        {"http://app.localstack.cloud", true},
        {"https://localhost", true},
        {"https://localhost.localstack.cloud", true},
        {"file://", true},
        {"http://localhost:4566", true},
        {"https://localhost:4566", true},
        {"http://localhost.localstack.cloud:4566", true},
        {"http://localhost:4567", false},
        {"http://localhost", false},
        {"http://127.0.0.1:4566", false},
        {"http://my.app:8080", true},
        {"https://other.app", true},
        {"https://other.app.evil", false},
        {"http://example.com", false},
        {"http://site.s3-website.localhost.localstack.cloud:4566", true},
        {"http://site.s3-website.localhost.localstack.cloud", true},
        {"http://site.s3-website.localhost.localstack.cloud:80", false},
        {"http://site.s3-website.example.com", false},
        {"http://d1.cloudfront.localhost:4566", true},
        {"", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = srv_cors_default_allowed(&d, cases[i].origin);
        if (got != cases[i].want)
            fprintf(stderr, "default case %zu: %s\n", i, cases[i].origin);
        CHECK(got == cases[i].want);
    }
    CHECK(!srv_cors_default_allowed(&d, NULL));
    struct srv_cors_defaults star = {4566, "*", NULL, NULL, false};
    CHECK(srv_cors_default_allowed(&star, "http://anything.example"));
    struct srv_cors_defaults open = {4566, NULL, NULL, NULL, true};
    CHECK(srv_cors_default_allowed(&open, "http://anything.example"));
}

static void test_default_headers(void)
{
    struct srv_cors_defaults d = {4566, NULL, "x-custom-a, X-Custom-B", "x-extra", false};
    struct sink s = {"", 0};
    CHECK_EQ_INT(
        srv_cors_default_headers(&d, "http://localhost:4566", "X-Amz-Meta-Foo", true, collect, &s),
        COF_OK);
    CHECK(strstr(s.text, "Access-Control-Allow-Origin: http://localhost:4566\n") != NULL);
    CHECK(strstr(s.text, "Access-Control-Allow-Credentials: true\n") != NULL);
    CHECK(strstr(s.text,
                 "Access-Control-Allow-Methods: HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH\n") != NULL);
    CHECK(strstr(s.text, "Access-Control-Allow-Headers: x-amz-meta-foo,authorization,") != NULL);
    CHECK(strstr(s.text, ",amz-sdk-request,x-amz-log-type,x-custom-a,X-Custom-B\n") != NULL);
    CHECK(strstr(s.text, "Access-Control-Expose-Headers: etag,x-amz-version-id,") != NULL);
    CHECK(strstr(s.text, "x-amz-server-side-encryption,") != NULL);
    CHECK(strstr(s.text, ",x-extra\n") != NULL);
    CHECK(strstr(s.text, "Access-Control-Allow-Private-Network: true\n") != NULL);
    CHECK(strstr(s.text, "Vary: Origin\n") != NULL);

    /* DISABLE_CORS_CHECKS: "*" and no credentials. */
    struct srv_cors_defaults open = {4566, NULL, NULL, NULL, true};
    struct sink o = {"", 0};
    CHECK_EQ_INT(srv_cors_default_headers(&open, "http://x.example", NULL, false, collect, &o),
                 COF_OK);
    CHECK(strstr(o.text, "Access-Control-Allow-Origin: *\n") != NULL);
    CHECK(strstr(o.text, "Access-Control-Allow-Credentials") == NULL);
    CHECK(strstr(o.text, "Private-Network") == NULL);
    CHECK(strstr(o.text, "Access-Control-Allow-Headers: authorization,") != NULL);
}

int main(void)
{
    srv_xml_global_init();
    test_parse_refusals();
    test_long_value();
    test_rule_limit();
    test_parse_and_write();
    test_wildcard();
    test_match();
    test_rule_headers();
    test_default_allowed();
    test_default_headers();
    return check_finish();
}

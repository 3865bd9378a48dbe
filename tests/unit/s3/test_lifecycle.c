/* SPDX-License-Identifier: Apache-2.0 */
/* lifecycle.c: LifecycleConfiguration parsing (valid documents, every refusal), the canonical
 * writer (round trip), filter matching, AWS's day arithmetic, the x-amz-expiration value and
 * the ISO 8601 reader. */
#include "check.h"
#include "s3/lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/xml.h"

#define DOC(rules) "<LifecycleConfiguration>" rules "</LifecycleConfiguration>"
#define RULE(body) "<Rule>" body "</Rule>"
#define ON         "<Status>Enabled</Status>"
#define ALL        "<Filter/>"
#define EXP1       "<Expiration><Days>1</Days></Expiration>"

struct parse_case {
    const char *body;
    cof_err want;
    const char *msg; /* expected message when the refusal has one */
};

static const struct parse_case bad_cases[] = {
    {"", COF_ERR_MALFORMED_XML, NULL},
    {"<LifecycleConfiguration>", COF_ERR_MALFORMED_XML, NULL},
    {DOC(""), COF_ERR_MALFORMED_XML, NULL}, /* no rule */
    {"<Other>" RULE(ON ALL EXP1) "</Other>", COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ALL EXP1)), COF_ERR_MALFORMED_XML, NULL}, /* no Status */
    {DOC(RULE("<Status>enabled</Status>" ALL EXP1)), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ON ALL EXP1)), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON EXP1)), COF_ERR_MALFORMED_XML, NULL}, /* neither Filter nor Prefix */
    {DOC(RULE(ON ALL "<Prefix>a</Prefix>" EXP1)), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON "<Prefix>a</Prefix><Filter><Prefix>b</Prefix></Filter>" EXP1)),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON
              "<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>" EXP1)),
     COF_ERR_MALFORMED_XML, NULL}, /* two conditions outside And */
    {DOC(RULE(ON "<Filter><And></And></Filter>" EXP1)), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON "<Filter><Tag><Value>v</Value></Tag></Filter>" EXP1)), COF_ERR_MALFORMED_XML,
     NULL},
    {DOC(RULE(ON "<Filter><ObjectSizeGreaterThan>-1</ObjectSizeGreaterThan></Filter>" EXP1)),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON "<Filter><ObjectSizeLessThan>x</ObjectSizeLessThan></Filter>" EXP1)),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Days>x</Days></Expiration>")), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Days>1.5</Days></Expiration>")), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Days>99999999999</Days></Expiration>")), COF_ERR_MALFORMED_XML,
     NULL},
    {DOC(RULE(ON ALL "<Expiration></Expiration>")), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true"
                     "</ExpiredObjectDeleteMarker></Expiration>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Date>2030-01-01T00:00:00Z</Date><ExpiredObjectDeleteMarker>"
                     "false</ExpiredObjectDeleteMarker></Expiration>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker>"
                     "</Expiration>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Date>2030-13-01T00:00:00Z</Date></Expiration>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Expiration><Date>tomorrow</Date></Expiration>")), COF_ERR_MALFORMED_XML,
     NULL},
    {DOC(RULE(ON ALL "<Expiration><Date>0960-01-01T00:00:00Z</Date></Expiration>")),
     COF_ERR_MALFORMED_XML, NULL}, /* found by fuzzing: before 1970 */
    {DOC(RULE(ON ALL "<NoncurrentVersionExpiration></NoncurrentVersionExpiration>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<AbortIncompleteMultipartUpload></AbortIncompleteMultipartUpload>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Transition><Days>40</Days></Transition>")), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Transition><Days>40</Days><StorageClass>COLD</StorageClass></Transition>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<Transition><StorageClass>GLACIER</StorageClass></Transition>")),
     COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL "<ID>a</ID><ID>b</ID>" EXP1)), COF_ERR_MALFORMED_XML, NULL},
    {DOC(RULE(ON ALL EXP1 EXP1)), COF_ERR_MALFORMED_XML, NULL},
    {"<!DOCTYPE x [<!ENTITY e \"Enabled\">]>" DOC(RULE("<Status>&e;</Status>" ALL EXP1)),
     COF_ERR_MALFORMED_XML, NULL},
    /* values S3 refuses in its own words */
    {DOC(RULE(ON ALL "<Expiration><Days>0</Days></Expiration>")), COF_ERR_INVALID_ARGUMENT,
     "'Days' for Expiration action must be a positive integer"},
    {DOC(RULE(ON ALL "<Expiration><Days>-3</Days></Expiration>")), COF_ERR_INVALID_ARGUMENT,
     "'Days' for Expiration action must be a positive integer"},
    {DOC(RULE(ON ALL "<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>")),
     COF_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT"},
    {DOC(RULE(ON ALL "<Expiration><Date>2030-01-01T00:00:00+01:00</Date></Expiration>")),
     COF_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT"},
    {DOC(RULE(ON ALL "<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays>"
                     "</NoncurrentVersionExpiration>")),
     COF_ERR_INVALID_ARGUMENT,
     "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
    {DOC(RULE(ON ALL "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                     "<NewerNoncurrentVersions>0</NewerNoncurrentVersions>"
                     "</NoncurrentVersionExpiration>")),
     COF_ERR_INVALID_ARGUMENT,
     "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
     "integer"},
    {DOC(RULE(ON ALL "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                     "<NewerNoncurrentVersions>101</NewerNoncurrentVersions>"
                     "</NoncurrentVersionExpiration>")),
     COF_ERR_INVALID_ARGUMENT,
     "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be less than or "
     "equal to 100"},
    {DOC(RULE(ON ALL "<AbortIncompleteMultipartUpload><DaysAfterInitiation>0"
                     "</DaysAfterInitiation></AbortIncompleteMultipartUpload>")),
     COF_ERR_INVALID_ARGUMENT,
     "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
     "integer"},
    {DOC(RULE(ON "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
                 "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>"
                 "</AbortIncompleteMultipartUpload>")),
     COF_ERR_INVALID_REQUEST, "AbortIncompleteMultipartUpload cannot be specified with Tags."},
    {DOC(RULE(ON "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
                 "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"
                 "</Expiration>")),
     COF_ERR_INVALID_REQUEST, "ExpiredObjectDeleteMarker cannot be specified with Tags."},
    {DOC(RULE(ON ALL)), COF_ERR_INVALID_REQUEST,
     "At least one action needs to be specified in a rule"},
    {DOC(RULE("<ID>x</ID>" ON ALL EXP1) RULE("<ID>x</ID>" ON ALL EXP1)), COF_ERR_INVALID_ARGUMENT,
     "Rule ID must be unique. Found same ID for more than one rule"},
    {DOC(RULE(ON "<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>"
                 "<ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter>" EXP1)),
     COF_ERR_INVALID_ARGUMENT, "ObjectSizeGreaterThan must be less than ObjectSizeLessThan"},
    {DOC(RULE(ON ALL "<Transition><Days>10</Days><StorageClass>STANDARD_IA</StorageClass>"
                     "</Transition>")),
     COF_ERR_INVALID_ARGUMENT,
     "'Days' in Transition action must be greater than or equal to 30 for storageClass "
     "'STANDARD_IA'"},
    {DOC(RULE(ON ALL "<Transition><Days>60</Days><StorageClass>GLACIER</StorageClass>"
                     "</Transition><Expiration><Days>30</Days></Expiration>")),
     COF_ERR_INVALID_ARGUMENT,
     "'Days' in the Expiration action must be greater than 'Days' in the Transition action"},
    {DOC(RULE(ON "<Filter><Tag><Key>aws:x</Key><Value>v</Value></Tag></Filter>" EXP1)),
     COF_ERR_INVALID_TAG, NULL},
};

static void test_refusals(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct parse_case *c = &bad_cases[i];
        struct srv_lc_config cfg;
        struct srv_problem prob;
        cof_err err = srv_lc_parse(c->body, strlen(c->body), &cfg, &prob);
        if (err != c->want)
            fprintf(stderr, "case %zu: got %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, c->want);
        CHECK_EQ_INT(prob.code, c->want);
        CHECK(cfg.n == 0 && cfg.rules == NULL);
        if (c->msg != NULL)
            CHECK_EQ_STR(prob.message, c->msg);
    }
}

static void test_id_length(void)
{
    char id[300], body[1024];
    struct srv_lc_config cfg;
    struct srv_problem prob;
    for (size_t len = 255; len <= 256; len++) {
        memset(id, 'a', len);
        id[len] = '\0';
        snprintf(body, sizeof(body), DOC(RULE("<ID>%s</ID>" ON ALL EXP1)), id);
        cof_err err = srv_lc_parse(body, strlen(body), &cfg, &prob);
        CHECK_EQ_INT(err, len == 255 ? COF_OK : COF_ERR_INVALID_ARGUMENT);
        if (len == 256)
            CHECK_EQ_STR(prob.message, "ID length should not exceed allowed limit of 255");
        srv_lc_config_cleanup(&cfg);
    }
}

/* 1000 rules pass, 1001 are malformed. */
static void test_rule_limit(void)
{
    for (unsigned n = 1000; n <= 1001; n++) {
        size_t cap = 64 + (size_t)n * 128;
        char *body = malloc(cap);
        size_t len = (size_t)snprintf(body, cap, "<LifecycleConfiguration>");
        for (unsigned i = 0; i < n; i++)
            len += (size_t)snprintf(body + len, cap - len, RULE("<ID>r%u</ID>" ON ALL EXP1), i);
        len += (size_t)snprintf(body + len, cap - len, "</LifecycleConfiguration>");
        struct srv_lc_config cfg;
        struct srv_problem prob;
        cof_err err = srv_lc_parse(body, len, &cfg, &prob);
        CHECK_EQ_INT(err, n == 1000 ? COF_OK : COF_ERR_MALFORMED_XML);
        CHECK_EQ_INT(cfg.n, n == 1000 ? 1000 : 0);
        srv_lc_config_cleanup(&cfg);
        free(body);
    }
}

/* Parsed, written canonically, parsed again: the same text. */
static void round_trip(const char *in, const char *want)
{
    struct srv_lc_config a, b;
    struct srv_problem prob;
    char *out = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    CHECK_EQ_INT(srv_lc_parse(in, strlen(in), &a, &prob), COF_OK);
    CHECK_EQ_INT(srv_lc_write(&a, &out, &len), COF_OK);
    if (out != NULL && want != NULL && strstr(out, want) == NULL)
        fprintf(stderr, "written: %s\nwanted within: %s\n", out, want);
    CHECK(out != NULL && (want == NULL || strstr(out, want) != NULL));
    CHECK_EQ_INT(srv_lc_parse(out, len, &b, &prob), COF_OK);
    CHECK_EQ_INT(srv_lc_write(&b, &again, &len2), COF_OK);
    CHECK(again != NULL && len == len2 && memcmp(out, again, len) == 0);
    free(out);
    free(again);
    srv_lc_config_cleanup(&a);
    srv_lc_config_cleanup(&b);
}

static void test_round_trips(void)
{
    round_trip(DOC(RULE("<ID>r</ID>" ON "<Filter><Prefix>logs/</Prefix></Filter>" EXP1)),
               "<Rule><Expiration><Days>1</Days></Expiration><ID>r</ID><Filter><Prefix>logs/"
               "</Prefix></Filter><Status>Enabled</Status></Rule>");
    round_trip(DOC(RULE("<Prefix></Prefix><Status>Disabled</Status>" EXP1)),
               "<Prefix></Prefix><Status>Disabled</Status>");
    round_trip(DOC(RULE(ON "<Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value>"
                           "</Tag><Tag><Key>k2</Key><Value></Value></Tag>"
                           "<ObjectSizeGreaterThan>5</ObjectSizeGreaterThan>"
                           "<ObjectSizeLessThan>500</ObjectSizeLessThan></And></Filter>" EXP1)),
               "<Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><Tag>"
               "<Key>k2</Key><Value></Value></Tag><ObjectSizeGreaterThan>5"
               "</ObjectSizeGreaterThan><ObjectSizeLessThan>500</ObjectSizeLessThan></And>"
               "</Filter>");
    round_trip(DOC(RULE(ON ALL "<Expiration><Date>2030-01-01</Date></Expiration>")),
               "<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>");
    round_trip(DOC(RULE(ON ALL "<Expiration><ExpiredObjectDeleteMarker>true"
                               "</ExpiredObjectDeleteMarker></Expiration>")),
               "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>");
    round_trip(
        DOC(RULE(ON ALL "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7"
                        "</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
                        "<NoncurrentVersionExpiration><NewerNoncurrentVersions>2"
                        "</NewerNoncurrentVersions><NoncurrentDays>3</NoncurrentDays>"
                        "</NoncurrentVersionExpiration>"
                        "<NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays>"
                        "<StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>"
                        "<Transition><Date>2031-02-03T00:00:00Z</Date><StorageClass>DEEP_ARCHIVE"
                        "</StorageClass></Transition>")),
        "<Status>Enabled</Status><Transition><Date>2031-02-03T00:00:00.000Z</Date><StorageClass>"
        "DEEP_ARCHIVE</StorageClass></Transition><NoncurrentVersionTransition><NoncurrentDays>30"
        "</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>"
        "<NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays>"
        "<NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>"
        "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation>"
        "</AbortIncompleteMultipartUpload>");
    /* a namespace and whitespace as SDKs send them */
    round_trip("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration "
               "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n <Rule>\n  <ID>x</ID>\n  "
               "<Status>Enabled</Status>\n  <Filter>\n  </Filter>\n  " EXP1
               "\n </Rule>\n</LifecycleConfiguration>",
               "<Filter></Filter>");
}

static void test_day_arithmetic(void)
{
    int64_t t = 0;
    CHECK_EQ_INT(srv_lc_parse_time("2026-12-05T16:08:00Z", &t), COF_OK);
    int64_t midnight = 0;
    CHECK_EQ_INT(srv_lc_parse_time("2026-12-09", &midnight), COF_OK);
    /* created 16:08 on the 5th, 3 days: the 8th at 16:08, rounded up to midnight of the 9th */
    CHECK_EQ_INT(srv_lc_due(t, 3), midnight / 1000);
    /* created exactly at midnight: no rounding */
    int64_t m5 = 0;
    CHECK_EQ_INT(srv_lc_parse_time("2026-12-05T00:00:00.000Z", &m5), COF_OK);
    int64_t m6 = 0;
    CHECK_EQ_INT(srv_lc_parse_time("2026-12-06", &m6), COF_OK);
    CHECK_EQ_INT(srv_lc_due(m5, 1), m6 / 1000);
    CHECK_EQ_INT(srv_lc_due(m5 + 1, 1), m6 / 1000 + SRV_LC_DAY_S);
    /* leap years and offsets */
    int64_t leap = 0, off = 0;
    CHECK_EQ_INT(srv_lc_parse_time("2028-02-29T23:59:59Z", &leap), COF_OK);
    CHECK_EQ_INT(srv_lc_parse_time("2028-03-01T01:59:59+02:00", &off), COF_OK);
    CHECK_EQ_INT(leap, off);
    CHECK_EQ_INT(srv_lc_parse_time("1970-01-01T00:00:00Z", &t), COF_OK);
    CHECK_EQ_INT(t, 0);
    static const char *const bad[] = {"",
                                      "2027-02-29",
                                      "2026-04-31",
                                      "2026-1-01",
                                      "2026-01-01T",
                                      "2026-01-01T24:00:00Z",
                                      "2026-01-01T00:00:00Q",
                                      "2026-01-01T00:00:00.Z",
                                      "2026-01-01 00:00:00",
                                      "2026-01-01T00:00:00+0100",
                                      "now"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(srv_lc_parse_time(bad[i], &t), COF_ERR_INVALID);
}

static void test_matching_and_expiry(void)
{
    const char *doc =
        DOC(RULE("<ID>logs</ID>" ON "<Filter><Prefix>logs/</Prefix></Filter>"
                 "<Expiration><Days>3</Days></Expiration>")
                RULE("<ID>tmp-big</ID>" ON "<Filter><And><Prefix>tmp/</Prefix><Tag><Key>t</Key>"
                     "<Value>1</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>"
                     "</And></Filter><Expiration><Days>1</Days></Expiration>")
                    RULE("<ID>off</ID><Status>Disabled</Status><Filter/>"
                         "<Expiration><Days>1</Days></Expiration>")
                        RULE("<ID>dated</ID>" ON "<Filter><Prefix>logs/old</Prefix></Filter>"
                             "<Expiration><Date>2026-12-07T00:00:00Z</Date></Expiration>"));
    struct srv_lc_config c;
    struct srv_problem prob;
    CHECK_EQ_INT(srv_lc_parse(doc, strlen(doc), &c, &prob), COF_OK);
    int64_t created = 0, due = 0;
    const struct srv_lc_rule *r = NULL;
    CHECK_EQ_INT(srv_lc_parse_time("2026-12-05T16:08:00Z", &created), COF_OK);
    CHECK(srv_lc_expiry(&c, "logs/a", 1, NULL, created, &due, &r));
    CHECK_EQ_STR(r->id, "logs");
    char hdr[400];
    srv_lc_expiration_header(due, r->id, hdr, sizeof(hdr));
    CHECK_EQ_STR(hdr, "expiry-date=\"Wed, 09 Dec 2026 00:00:00 GMT\", rule-id=\"logs\"");
    /* the earliest of two rules wins: the dated one */
    CHECK(srv_lc_expiry(&c, "logs/old1", 1, "", created, &due, &r));
    CHECK_EQ_STR(r->id, "dated");
    /* tags and sizes: all conditions of the And must hold; the disabled rule never applies */
    CHECK(!srv_lc_expiry(&c, "tmp/a", 11, "", created, &due, &r));
    CHECK(!srv_lc_expiry(&c, "tmp/a", 10, "t=1", created, &due, &r));
    CHECK(srv_lc_expiry(&c, "tmp/a", 11, "a=b&t=1", created, &due, &r));
    CHECK_EQ_STR(r->id, "tmp-big");
    CHECK(!srv_lc_expiry(&c, "tmp/a", 11, "t=2", created, &due, &r));
    CHECK(!srv_lc_expiry(&c, "other", 11, "t=1", created, &due, &r));
    CHECK(srv_lc_filter_matches_upload(&c.rules[0].filter, "logs/x"));
    CHECK(!srv_lc_filter_matches_upload(&c.rules[0].filter, "log"));
    CHECK(srv_lc_filter_matches(&c.rules[2].filter, "anything", 0, NULL));
    srv_lc_config_cleanup(&c);
}

int main(void)
{
    srv_xml_global_init();
    test_refusals();
    test_id_length();
    test_rule_limit();
    test_round_trips();
    test_day_arithmetic();
    test_matching_and_expiry();
    return check_finish();
}

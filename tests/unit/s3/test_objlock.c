/* SPDX-License-Identifier: Apache-2.0 */
/* objlock.c: ISO 8601 dates, the ObjectLockConfiguration, Retention and LegalHold bodies (valid
 * documents and every refusal), the stored form of a configuration, and the
 * x-amz-object-lock-* headers. */
#include "check.h"
#include "s3/objlock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/xml.h"

#define NOW_MS 1764950400000LL /* 2025-12-05T16:00:00Z */

static void test_iso8601(void)
{
    static const struct {
        const char *s;
        bool ok;
        int64_t ms;
    } cases[] = {
        {"2026-01-01T00:00:00Z", true, 1767225600000LL},
        {"2026-01-01T00:00:00.5Z", true, 1767225600500LL},
        {"2026-01-01T00:00:00.123456Z", true, 1767225600123LL},
        {"2026-01-01T00:00:00", true, 1767225600000LL},
        {"2026-01-01T02:00:00+02:00", true, 1767225600000LL},
        {"2025-12-31T19:00:00-0500", true, 1767225600000LL},
        {"2026-01-01t00:00:00z", true, 1767225600000LL},
        {"", false, 0},
        {"2026-01-01", false, 0},
        {"2026-01-01 00:00:00Z", false, 0},
        {"2026-13-01T00:00:00Z", false, 0},
        {"2026-01-32T00:00:00Z", false, 0},
        {"2026-01-01T24:00:00Z", false, 0},
        {"2026-01-01T00:60:00Z", false, 0},
        {"2026-01-01T00:00:60Z", false, 0},
        {"2026-01-01T00:00:00.Z", false, 0},
        {"2026-01-01T00:00:00ZZ", false, 0},
        {"2026-01-01T00:00:00+2", false, 0},
        {"2026-01-01T00:00:00+02:", false, 0},
        {"2026-01-01T00:00:00+02:3", false, 0},
        {"2026-01-01T00:00:00+", false, 0},
        {"2026-01-01T00:00:00+24:00", false, 0},
        {"1969-12-31T23:59:59Z", false, 0},
        {"20x6-01-01T00:00:00Z", false, 0},
        {"tomorrow", false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -1;
        bool ok = srv_iso8601_parse(cases[i].s, &ms);
        CHECK_EQ_INT(ok, cases[i].ok);
        if (ok && cases[i].ok)
            CHECK_EQ_INT(ms, cases[i].ms);
    }
    int64_t ms = 0;
    CHECK(!srv_iso8601_parse(NULL, &ms));
}

#define CFG(body) "<ObjectLockConfiguration>" body "</ObjectLockConfiguration>"
#define ENABLED   "<ObjectLockEnabled>Enabled</ObjectLockEnabled>"
#define RULE(dr)  ENABLED "<Rule><DefaultRetention>" dr "</DefaultRetention></Rule>"

static void test_config(void)
{
    static const struct {
        const char *body;
        cof_err want;
        const char *msg;
        int mode, days, years;
    } cases[] = {
        {CFG(ENABLED), COF_OK, NULL, SRV_LOCK_NONE, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>30</Days>")), COF_OK, NULL, SRV_LOCK_GOVERNANCE, 30,
         0},
        {CFG(RULE("<Mode> COMPLIANCE </Mode><Years>100</Years><Extra/>")), COF_OK, NULL,
         SRV_LOCK_COMPLIANCE, 0, 100},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>36500</Days>")), COF_OK, NULL, SRV_LOCK_GOVERNANCE,
         36500, 0},
        {"", COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {"<x", COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {"<Other>" ENABLED "</Other>", COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(""), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG("<ObjectLockEnabled>Disabled</ObjectLockEnabled>"), COF_ERR_MALFORMED_XML, NULL, 0, 0,
         0},
        {CFG(ENABLED ENABLED), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG("<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention>"
             "</Rule>"),
         COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(ENABLED "<Rule/>"), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>1</Days>") "<Rule/>"), COF_ERR_MALFORMED_XML, NULL,
         0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode>")), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(RULE("<Days>1</Days>")), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(RULE("<Mode>governance</Mode><Days>1</Days>")), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>")), COF_ERR_MALFORMED_XML,
         NULL, 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>1</Days><Days>2</Days>")), COF_ERR_MALFORMED_XML,
         NULL, 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>1x</Days>")), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days></Days>")), COF_ERR_MALFORMED_XML, NULL, 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>0</Days>")), COF_ERR_INVALID_ARGUMENT,
         "Default retention period must be a positive integer value", 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Years>-3</Years>")), COF_ERR_INVALID_ARGUMENT,
         "Default retention period must be a positive integer value", 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Days>36501</Days>")), COF_ERR_INVALID_ARGUMENT,
         "Default retention period is too large.", 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Years>101</Years>")), COF_ERR_INVALID_ARGUMENT,
         "Default retention period is too large.", 0, 0, 0},
        {CFG(RULE("<Mode>GOVERNANCE</Mode><Years>99999999999999999999</Years>")),
         COF_ERR_INVALID_ARGUMENT, "Default retention period is too large.", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct srv_lock_config c;
        struct srv_problem p;
        srv_problem_init(&p);
        cof_err e = srv_objlock_parse_config(cases[i].body, strlen(cases[i].body), &c, &p);
        if (e != cases[i].want)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].body);
        CHECK_EQ_INT(e, cases[i].want);
        if (cases[i].msg != NULL) {
            CHECK_EQ_INT(p.code, cases[i].want);
            CHECK_EQ_STR(p.message, cases[i].msg);
        }
        if (e != COF_OK || cases[i].want != COF_OK)
            continue;
        CHECK(c.enabled);
        CHECK_EQ_INT(c.mode, cases[i].mode);
        CHECK_EQ_INT(c.days, cases[i].days);
        CHECK_EQ_INT(c.years, cases[i].years);
        /* stored form round trip */
        char stored[64];
        struct srv_lock_config back;
        srv_objlock_config_format(&c, stored, sizeof(stored));
        CHECK_EQ_INT(srv_objlock_config_parse_stored(stored, &back), COF_OK);
        CHECK_EQ_INT(back.mode, c.mode);
        CHECK_EQ_INT(back.days, c.days);
        CHECK_EQ_INT(back.years, c.years);
        char *doc = NULL;
        size_t len = 0;
        CHECK_EQ_INT(srv_objlock_write_config(&c, &doc, &len), COF_OK);
        CHECK(doc != NULL && strstr(doc, "<ObjectLockEnabled>Enabled</ObjectLockEnabled>"));
        CHECK_EQ_INT(doc != NULL && strstr(doc, "<Rule>") != NULL, c.mode != SRV_LOCK_NONE);
        free(doc);
    }
    static const char *const bad_stored[] = {
        "",
        "enabled",
        "Enabled GOVERNANCE",
        "Enabled GOVERNANCE Days 0",
        "Enabled X Days 3",
        "Enabled GOVERNANCE Weeks 3",
        "Enabled GOVERNANCE Days 3 extra",
    };
    for (size_t i = 0; i < sizeof(bad_stored) / sizeof(bad_stored[0]); i++) {
        struct srv_lock_config c;
        CHECK_EQ_INT(srv_objlock_config_parse_stored(bad_stored[i], &c), COF_ERR_INVALID);
    }
}

static void test_retention_and_hold(void)
{
    static const struct {
        const char *body;
        cof_err want;
        int mode;
        int64_t until;
    } ret[] = {
        {"<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2026-01-01T00:00:00Z"
         "</RetainUntilDate></Retention>",
         COF_OK, SRV_LOCK_GOVERNANCE, 1767225600000LL},
        {"<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><RetainUntilDate>"
         "2026-01-01T00:00:00.250Z</RetainUntilDate><Mode>COMPLIANCE</Mode></Retention>",
         COF_OK, SRV_LOCK_COMPLIANCE, 1767225600250LL},
        {"<Retention/>", COF_OK, SRV_LOCK_NONE, 0},
        {"<Retention><Mode>GOVERNANCE</Mode></Retention>", COF_ERR_MALFORMED_XML, 0, 0},
        {"<Retention><RetainUntilDate>2026-01-01T00:00:00Z</RetainUntilDate></Retention>",
         COF_ERR_MALFORMED_XML, 0, 0},
        {"<Retention><Mode>NONE</Mode><RetainUntilDate>2026-01-01T00:00:00Z</RetainUntilDate>"
         "</Retention>",
         COF_ERR_MALFORMED_XML, 0, 0},
        {"<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>soon</RetainUntilDate></Retention>",
         COF_ERR_MALFORMED_XML, 0, 0},
        {"<Retention><Mode>GOVERNANCE</Mode><Mode>GOVERNANCE</Mode><RetainUntilDate>"
         "2026-01-01T00:00:00Z</RetainUntilDate></Retention>",
         COF_ERR_MALFORMED_XML, 0, 0},
        {"<Retention><Mode><X/></Mode></Retention>", COF_ERR_MALFORMED_XML, 0, 0},
        {"<LegalHold/>", COF_ERR_MALFORMED_XML, 0, 0},
        {"", COF_ERR_MALFORMED_XML, 0, 0},
    };
    for (size_t i = 0; i < sizeof(ret) / sizeof(ret[0]); i++) {
        int mode = -1;
        int64_t until = -1;
        CHECK_EQ_INT(srv_objlock_parse_retention(ret[i].body, strlen(ret[i].body), &mode, &until),
                     ret[i].want);
        CHECK_EQ_INT(mode, ret[i].mode);
        CHECK_EQ_INT(until, ret[i].until);
    }
    static const struct {
        const char *body;
        cof_err want;
        bool on;
    } hold[] = {
        {"<LegalHold><Status>ON</Status></LegalHold>", COF_OK, true},
        {"<LegalHold><Status> OFF </Status></LegalHold>", COF_OK, false},
        {"<LegalHold><Status>on</Status></LegalHold>", COF_ERR_MALFORMED_XML, false},
        {"<LegalHold><Status>ON</Status><Status>ON</Status></LegalHold>", COF_ERR_MALFORMED_XML,
         false},
        {"<LegalHold/>", COF_ERR_MALFORMED_XML, false},
        {"<Retention><Status>ON</Status></Retention>", COF_ERR_MALFORMED_XML, false},
        {"<LegalHold>ON</LegalHold>", COF_ERR_MALFORMED_XML, false},
        {"", COF_ERR_MALFORMED_XML, false},
    };
    for (size_t i = 0; i < sizeof(hold) / sizeof(hold[0]); i++) {
        bool on = false;
        CHECK_EQ_INT(srv_objlock_parse_legal_hold(hold[i].body, strlen(hold[i].body), &on),
                     hold[i].want);
        CHECK_EQ_INT(on, hold[i].on);
    }
}

static void test_headers(void)
{
    static const struct {
        const char *mode, *until, *hold;
        cof_err want;
        const char *msg;
        int out_mode, out_hold;
    } cases[] = {
        {NULL, NULL, NULL, COF_OK, NULL, SRV_LOCK_NONE, 0},
        {"GOVERNANCE", "2026-01-01T00:00:00Z", NULL, COF_OK, NULL, SRV_LOCK_GOVERNANCE, 0},
        {"COMPLIANCE", "2026-01-01T00:00:00Z", "ON", COF_OK, NULL, SRV_LOCK_COMPLIANCE, 2},
        {NULL, NULL, "OFF", COF_OK, NULL, SRV_LOCK_NONE, 1},
        {"GOVERNANCE", NULL, NULL, COF_ERR_INVALID_ARGUMENT,
         "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied", 0,
         0},
        {NULL, "2026-01-01T00:00:00Z", NULL, COF_ERR_INVALID_ARGUMENT,
         "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied", 0,
         0},
        {"governance", "2026-01-01T00:00:00Z", NULL, COF_ERR_INVALID_ARGUMENT,
         "Unknown wormMode directive.", 0, 0},
        {"GOVERNANCE", "2025-12-05T16:00:00Z", NULL, COF_ERR_INVALID_ARGUMENT,
         "The retain until date must be in the future!", 0, 0},
        {"GOVERNANCE", "Fri, 01 Jan 2026 00:00:00 GMT", NULL, COF_ERR_INVALID_ARGUMENT,
         "The retain until date must be provided in ISO 8601 format", 0, 0},
        {"GOVERNANCE", "2026-01-01T00:00:00Z", "on", COF_ERR_INVALID_ARGUMENT,
         "Legal Hold must be either of 'ON' or 'OFF'", 0, 0},
        {NULL, NULL, "", COF_ERR_INVALID_ARGUMENT, "Legal Hold must be either of 'ON' or 'OFF'", 0,
         0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct srv_problem p;
        int mode = -1, hold = -1;
        int64_t until = -1;
        srv_problem_init(&p);
        cof_err e = srv_objlock_check_headers(cases[i].mode, cases[i].until, cases[i].hold, NOW_MS,
                                              &mode, &until, &hold, &p);
        CHECK_EQ_INT(e, cases[i].want);
        CHECK_EQ_INT(mode, cases[i].out_mode);
        if (e == COF_OK)
            CHECK_EQ_INT(hold, cases[i].out_hold);
        if (cases[i].msg != NULL)
            CHECK_EQ_STR(p.message, cases[i].msg);
        if (e == COF_OK && cases[i].mode != NULL)
            CHECK_EQ_INT(until, 1767225600000LL);
    }
    CHECK_EQ_INT(srv_lock_mode_parse("GOVERNANCE"), SRV_LOCK_GOVERNANCE);
    CHECK_EQ_INT(srv_lock_mode_parse(NULL), SRV_LOCK_NONE);
    CHECK_EQ_STR(srv_lock_mode_name(SRV_LOCK_COMPLIANCE), "COMPLIANCE");
    CHECK(srv_lock_mode_name(SRV_LOCK_NONE) == NULL);
}

int main(void)
{
    srv_xml_global_init();
    test_iso8601();
    test_config();
    test_retention_and_hold();
    test_headers();
    return check_finish();
}

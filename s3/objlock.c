/* SPDX-License-Identifier: Apache-2.0 */
/* S3 Object Lock bodies and headers (ObjectLockConfiguration, Retention, LegalHold,
 * x-amz-object-lock-*), parsed and checked with AWS's answers. No I/O, no clock of its own. */
#include "s3/objlock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3/xml.h"
#include "s3/xmltree.h"

int srv_lock_mode_parse(const char *s)
{
    if (s != NULL && strcmp(s, "GOVERNANCE") == 0)
        return SRV_LOCK_GOVERNANCE;
    if (s != NULL && strcmp(s, "COMPLIANCE") == 0)
        return SRV_LOCK_COMPLIANCE;
    return SRV_LOCK_NONE;
}

const char *srv_lock_mode_name(int mode)
{
    if (mode == SRV_LOCK_GOVERNANCE)
        return "GOVERNANCE";
    if (mode == SRV_LOCK_COMPLIANCE)
        return "COMPLIANCE";
    return NULL;
}

/* Two digits at p, or -1. */
static int two(const char *p)
{
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* The zone after the time: Z, +HH:MM, +HHMM or nothing; *off_s its offset east of UTC. */
static bool parse_zone(const char *p, long *off_s)
{
    *off_s = 0;
    if (*p == '\0')
        return true;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    if (*p != '+' && *p != '-')
        return false;
    int oh = two(p + 1);
    if (oh < 0 || oh > 23)
        return false; /* (two() stops at a NUL: nothing past it is read) */
    const char *q = p + 3;
    if (*q == ':')
        q++;
    int om = two(q);
    if (om < 0 || om > 59 || q[2] != '\0')
        return false;
    *off_s = (p[0] == '+' ? 1 : -1) * (long)(oh * 3600 + om * 60);
    return true;
}

bool srv_iso8601_parse(const char *s, int64_t *out_ms)
{
    *out_ms = 0;
    if (s == NULL || strlen(s) < 19)
        return false;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mo = two(s + 5), d = two(s + 8), h = two(s + 11), mi = two(s + 14), sec = two(s + 17);
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':' || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 59 || y < 1970)
        return false;
    const char *p = s + 19;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0;
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        for (; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    long off = 0;
    if (!parse_zone(p, &off))
        return false;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *out_ms = ((int64_t)t - off) * 1000 + ms;
    return true;
}

/* ---- ObjectLockConfiguration ----------------------------------------------------------------- */

/* A positive decimal integer (Days, Years): MalformedXML when not a number, InvalidArgument when
 * not positive or over max. */
static cof_err period_value(const xmlNode *el, int max, int *out, struct srv_problem *prob)
{
    char *t = NULL, *end = NULL;
    cof_err err = srv_xmltree_leaf_text(el, true, &t);
    if (err != COF_OK)
        return err;
    long v = t[0] != '\0' ? strtol(t, &end, 10) : 0;
    bool number = t[0] != '\0' && end != NULL && *end == '\0';
    free(t);
    if (!number)
        return COF_ERR_MALFORMED_XML;
    if (v <= 0)
        return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                               "Default retention period must be a positive integer value");
    if (v > max)
        return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                               "Default retention period is too large.");
    *out = (int)v;
    return COF_OK;
}

static cof_err parse_default_retention(const xmlNode *el, struct srv_lock_config *c,
                                       struct srv_problem *prob)
{
    bool have_mode = false, have_days = false, have_years = false;
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        char *t = NULL;
        if (srv_xmltree_is_elem(k, "Mode")) {
            err = have_mode ? COF_ERR_MALFORMED_XML : srv_xmltree_leaf_text(k, true, &t);
            if (err == COF_OK)
                c->mode = srv_lock_mode_parse(t);
            if (err == COF_OK && c->mode == SRV_LOCK_NONE)
                err = COF_ERR_MALFORMED_XML;
            have_mode = true;
            free(t);
        } else if (srv_xmltree_is_elem(k, "Days")) {
            err = have_days ? COF_ERR_MALFORMED_XML
                            : period_value(k, SRV_LOCK_MAX_DAYS, &c->days, prob);
            have_days = true;
        } else if (srv_xmltree_is_elem(k, "Years")) {
            err = have_years ? COF_ERR_MALFORMED_XML
                             : period_value(k, SRV_LOCK_MAX_YEARS, &c->years, prob);
            have_years = true;
        }
    }
    /* AWS: a mode, and exactly one of Days and Years. */
    if (err == COF_OK && (!have_mode || have_days == have_years))
        err = COF_ERR_MALFORMED_XML;
    return err;
}

static cof_err parse_rule(const xmlNode *el, struct srv_lock_config *c, struct srv_problem *prob)
{
    bool seen = false;
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (!srv_xmltree_is_elem(k, "DefaultRetention"))
            continue;
        err = seen ? COF_ERR_MALFORMED_XML : parse_default_retention(k, c, prob);
        seen = true;
    }
    return err == COF_OK && !seen ? COF_ERR_MALFORMED_XML : err;
}

cof_err srv_objlock_parse_config(const char *body, size_t n, struct srv_lock_config *out,
                                 struct srv_problem *prob)
{
    xmlDocPtr doc = NULL;
    struct srv_lock_config c = {0};
    bool have_enabled = false, have_rule = false;
    memset(out, 0, sizeof(*out));
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        return err;
    const xmlNode *root = xmlDocGetRootElement(doc);
    err = srv_xmltree_is_elem(root, "ObjectLockConfiguration") ? srv_xmltree_check_container(root)
                                                               : COF_ERR_MALFORMED_XML;
    for (const xmlNode *k = root->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "ObjectLockEnabled")) {
            char *t = NULL;
            err = have_enabled ? COF_ERR_MALFORMED_XML : srv_xmltree_leaf_text(k, true, &t);
            if (err == COF_OK && strcmp(t, "Enabled") != 0)
                err = COF_ERR_MALFORMED_XML;
            have_enabled = true;
            free(t);
        } else if (srv_xmltree_is_elem(k, "Rule")) {
            err = have_rule ? COF_ERR_MALFORMED_XML : parse_rule(k, &c, prob);
            have_rule = true;
        }
    }
    if (err == COF_OK && !have_enabled)
        err = COF_ERR_MALFORMED_XML;
    c.enabled = true;
    if (err == COF_OK)
        *out = c;
    srv_xmltree_free(doc);
    return err;
}

void srv_objlock_config_format(const struct srv_lock_config *c, char *out, size_t cap)
{
    const char *mode = srv_lock_mode_name(c->mode);
    if (mode == NULL)
        snprintf(out, cap, "Enabled");
    else if (c->days > 0)
        snprintf(out, cap, "Enabled %s Days %d", mode, c->days);
    else
        snprintf(out, cap, "Enabled %s Years %d", mode, c->years);
}

cof_err srv_objlock_config_parse_stored(const char *s, struct srv_lock_config *out)
{
    char mode[16], unit[8];
    int v = 0, used = 0;
    memset(out, 0, sizeof(*out));
    if (s == NULL)
        return COF_ERR_INVALID;
    if (strcmp(s, "Enabled") == 0) {
        out->enabled = true;
        return COF_OK;
    }
    if (sscanf(s, "Enabled %15s %7s %d%n", mode, unit, &v, &used) != 3 || s[used] != '\0' || v <= 0)
        return COF_ERR_INVALID;
    out->mode = srv_lock_mode_parse(mode);
    if (out->mode == SRV_LOCK_NONE)
        return COF_ERR_INVALID;
    if (strcmp(unit, "Days") == 0)
        out->days = v;
    else if (strcmp(unit, "Years") == 0)
        out->years = v;
    else
        return COF_ERR_INVALID;
    out->enabled = true;
    return COF_OK;
}

cof_err srv_objlock_write_config(const struct srv_lock_config *c, char **out, size_t *out_len)
{
    struct srv_xml *x = NULL;
    cof_err err = srv_xml_new("ObjectLockConfiguration", &x);
    if (err != COF_OK)
        return err;
    srv_xml_elem(x, "ObjectLockEnabled", "Enabled");
    if (srv_lock_mode_name(c->mode) != NULL) {
        srv_xml_open(x, "Rule");
        srv_xml_open(x, "DefaultRetention");
        srv_xml_elem(x, "Mode", srv_lock_mode_name(c->mode));
        if (c->days > 0)
            srv_xml_elem_u64(x, "Days", (uint64_t)c->days);
        else
            srv_xml_elem_u64(x, "Years", (uint64_t)c->years);
    }
    err = srv_xml_finish(x, out, out_len);
    srv_xml_free(x);
    return err;
}

/* ---- Retention and LegalHold ----------------------------------------------------------------- */

/* The text of a singleton leaf child into *slot (MalformedXML when repeated). */
static cof_err take_once(const xmlNode *el, char **slot)
{
    if (*slot != NULL)
        return COF_ERR_MALFORMED_XML;
    return srv_xmltree_leaf_text(el, true, slot);
}

cof_err srv_objlock_parse_retention(const char *body, size_t n, int *out_mode,
                                    int64_t *out_until_ms)
{
    xmlDocPtr doc = NULL;
    char *mode = NULL, *until = NULL;
    *out_mode = SRV_LOCK_NONE;
    *out_until_ms = 0;
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        return err;
    const xmlNode *root = xmlDocGetRootElement(doc);
    err = srv_xmltree_is_elem(root, "Retention") ? srv_xmltree_check_container(root)
                                                 : COF_ERR_MALFORMED_XML;
    for (const xmlNode *k = root->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "Mode"))
            err = take_once(k, &mode);
        else if (srv_xmltree_is_elem(k, "RetainUntilDate"))
            err = take_once(k, &until);
    }
    if (err == COF_OK && (mode == NULL) != (until == NULL))
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK && mode != NULL) {
        *out_mode = srv_lock_mode_parse(mode);
        if (*out_mode == SRV_LOCK_NONE || !srv_iso8601_parse(until, out_until_ms))
            err = COF_ERR_MALFORMED_XML;
    }
    if (err != COF_OK) {
        *out_mode = SRV_LOCK_NONE;
        *out_until_ms = 0;
    }
    free(mode);
    free(until);
    srv_xmltree_free(doc);
    return err;
}

cof_err srv_objlock_parse_legal_hold(const char *body, size_t n, bool *out_on)
{
    xmlDocPtr doc = NULL;
    char *status = NULL;
    *out_on = false;
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        return err;
    const xmlNode *root = xmlDocGetRootElement(doc);
    err = srv_xmltree_is_elem(root, "LegalHold") ? srv_xmltree_check_container(root)
                                                 : COF_ERR_MALFORMED_XML;
    for (const xmlNode *k = root->children; k != NULL && err == COF_OK; k = k->next)
        if (srv_xmltree_is_elem(k, "Status"))
            err = take_once(k, &status);
    if (err == COF_OK &&
        (status == NULL || (strcmp(status, "ON") != 0 && strcmp(status, "OFF") != 0)))
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK)
        *out_on = strcmp(status, "ON") == 0;
    free(status);
    srv_xmltree_free(doc);
    return err;
}

/* ---- x-amz-object-lock-* headers ------------------------------------------------------------- */

cof_err srv_objlock_check_headers(const char *mode, const char *until, const char *hold,
                                  int64_t now_ms, int *out_mode, int64_t *out_until_ms,
                                  int *out_hold, struct srv_problem *prob)
{
    *out_mode = SRV_LOCK_NONE;
    *out_until_ms = 0;
    *out_hold = 0;
    if ((mode == NULL) != (until == NULL))
        return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                               "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode "
                               "must both be supplied");
    if (mode != NULL) {
        int m = srv_lock_mode_parse(mode);
        int64_t t = 0;
        if (m == SRV_LOCK_NONE)
            return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT, "Unknown wormMode directive.");
        if (!srv_iso8601_parse(until, &t))
            return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                                   "The retain until date must be provided in ISO 8601 format");
        if (t <= now_ms)
            return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                                   "The retain until date must be in the future!");
        *out_mode = m;
        *out_until_ms = t;
    }
    if (hold != NULL) {
        if (strcmp(hold, "ON") != 0 && strcmp(hold, "OFF") != 0) {
            *out_mode = SRV_LOCK_NONE;
            *out_until_ms = 0;
            return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                                   "Legal Hold must be either of 'ON' or 'OFF'");
        }
        *out_hold = strcmp(hold, "ON") == 0 ? 2 : 1;
    }
    return COF_OK;
}

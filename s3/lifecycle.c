/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket lifecycle rules: the LifecycleConfiguration parser, validator and writer, filter
 * matching and AWS's day arithmetic. No I/O, no clock. */
#include "s3/lifecycle.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/httpfmt.h"
#include "s3/xml.h"
#include "s3/xmltree.h"

/* ---- times ------------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at *p into *out and advances *p. */
static bool digits(const char **p, int n, long *out)
{
    long v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* The time of day and zone after the date: THH:MM:SS[.f+][Z|+-HH:MM]; sets *secs (offset
 * applied). */
static bool parse_clock(const char *p, int64_t *secs)
{
    long hh = 0, mi = 0, ss = 0, oh = 0, om = 0;
    if (!expect(&p, 'T') || !digits(&p, 2, &hh) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
        !expect(&p, ':') || !digits(&p, 2, &ss) || hh > 23 || mi > 59 || ss > 60)
        return false;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++; /* sub-second digits do not move a day boundary */
    }
    int64_t off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        off = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0')
        return false;
    *secs = hh * 3600 + mi * 60 + ss - off;
    return true;
}

cof_err srv_lc_parse_time(const char *s, int64_t *out_ms)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    long y = 0, mo = 0, d = 0;
    int64_t secs = 0;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d) || mo < 1 || mo > 12 || d < 1)
        return COF_ERR_INVALID;
    if (d > mdays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0))
        return COF_ERR_INVALID;
    if (*p != '\0' && !parse_clock(p, &secs))
        return COF_ERR_INVALID;
    *out_ms = (days_from_civil(y, (unsigned)mo, (unsigned)d) * SRV_LC_DAY_S + secs) * 1000;
    return COF_OK;
}

int64_t srv_lc_due(int64_t created_ms, long days)
{
    int64_t t = created_ms + (int64_t)days * SRV_LC_DAY_S * 1000;
    int64_t day_ms = (int64_t)SRV_LC_DAY_S * 1000;
    int64_t q = t / day_ms;
    if (t % day_ms != 0 && t > 0)
        q++; /* rounded up to the next midnight UTC */
    return q * SRV_LC_DAY_S;
}

/* ---- configuration document ---------------------------------------------------------------- */

static void transitions_free(struct srv_lc_transition *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i].storage_class);
    free(t);
}

static void rule_cleanup(struct srv_lc_rule *r)
{
    free(r->id);
    free(r->filter.prefix);
    srv_tagset_cleanup(&r->filter.tags);
    transitions_free(r->tr, r->n_tr);
    transitions_free(r->nc_tr, r->n_nc_tr);
    memset(r, 0, sizeof(*r));
}

void srv_lc_config_cleanup(struct srv_lc_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        rule_cleanup(&c->rules[i]);
    free(c->rules);
    c->rules = NULL;
    c->n = 0;
}

/* An xs:int element (S3's schema) as a long; the sign is the validator's business. */
static cof_err leaf_int(const xmlNode *el, long *out)
{
    char *s = NULL;
    char *end = NULL;
    cof_err err = srv_xmltree_leaf_text(el, true, &s);
    if (err != COF_OK)
        return err;
    errno = 0;
    long v = s[0] != '\0' && s[0] != '+' ? strtol(s, &end, 10) : 0;
    if (s[0] == '\0' || s[0] == '+' || errno != 0 || *end != '\0' || v < INT_MIN || v > INT_MAX)
        err = COF_ERR_MALFORMED_XML;
    free(s);
    *out = v;
    return err;
}

/* An xs:long size (ObjectSizeGreaterThan / LessThan): 0 or more. */
static cof_err leaf_size(const xmlNode *el, uint64_t *out)
{
    char *s = NULL;
    char *end = NULL;
    cof_err err = srv_xmltree_leaf_text(el, true, &s);
    if (err != COF_OK)
        return err;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (s[0] < '0' || s[0] > '9' || errno != 0 || *end != '\0' || v > INT64_MAX)
        err = COF_ERR_MALFORMED_XML;
    free(s);
    *out = (uint64_t)v;
    return err;
}

/* A Date element: ISO 8601; S3 refuses one that is not at midnight UTC. */
static cof_err leaf_date(const xmlNode *el, int64_t *out, struct srv_problem *prob)
{
    char *s = NULL;
    int64_t ms = 0;
    cof_err err = srv_xmltree_leaf_text(el, true, &s);
    /* Dates before 1970 cannot matter to an object and are refused with the malformed ones. */
    if (err == COF_OK && (srv_lc_parse_time(s, &ms) != COF_OK || ms < 0))
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK && ms % ((int64_t)SRV_LC_DAY_S * 1000) != 0)
        err = srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT");
    free(s);
    *out = ms / 1000;
    return err;
}

/* Runs once per element name: a second occurrence is malformed. */
static cof_err once(bool *seen)
{
    if (*seen)
        return COF_ERR_MALFORMED_XML;
    *seen = true;
    return COF_OK;
}

static cof_err parse_tag(const xmlNode *el, struct srv_tagset *t)
{
    char *key = NULL, *value = NULL;
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        char **slot = srv_xmltree_is_elem(k, "Key")     ? &key
                      : srv_xmltree_is_elem(k, "Value") ? &value
                                                        : NULL;
        if (slot != NULL)
            err = *slot != NULL ? COF_ERR_MALFORMED_XML : srv_xmltree_leaf_text(k, false, slot);
    }
    if (err == COF_OK && key == NULL)
        err = COF_ERR_MALFORMED_XML;
    struct srv_tag *v = err == COF_OK ? realloc(t->v, (t->n + 1) * sizeof(*v)) : NULL;
    if (err == COF_OK && v == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK) {
        t->v = v;
        v[t->n].key = key;
        v[t->n].value = value != NULL ? value : strdup("");
        if (v[t->n].value == NULL) {
            err = COF_ERR_NOMEM;
        } else {
            t->n++;
            key = NULL;
            value = NULL;
        }
    }
    free(key);
    free(value);
    return err;
}

/* One condition of a Filter or of its And. in_and: Tag may repeat. */
static cof_err parse_condition(const xmlNode *k, struct srv_lc_filter *f, bool in_and, int *count)
{
    cof_err err = COF_OK;
    if (srv_xmltree_is_elem(k, "Prefix")) {
        err =
            f->prefix != NULL ? COF_ERR_MALFORMED_XML : srv_xmltree_leaf_text(k, false, &f->prefix);
        f->form = SRV_LC_FILTER_PREFIX;
    } else if (srv_xmltree_is_elem(k, "Tag")) {
        err = !in_and && f->tags.n > 0 ? COF_ERR_MALFORMED_XML : parse_tag(k, &f->tags);
        f->form = SRV_LC_FILTER_TAG;
    } else if (srv_xmltree_is_elem(k, "ObjectSizeGreaterThan")) {
        err = once(&f->has_gt);
        if (err == COF_OK)
            err = leaf_size(k, &f->gt);
        f->form = SRV_LC_FILTER_GT;
    } else if (srv_xmltree_is_elem(k, "ObjectSizeLessThan")) {
        err = once(&f->has_lt);
        if (err == COF_OK)
            err = leaf_size(k, &f->lt);
        f->form = SRV_LC_FILTER_LT;
    } else {
        return COF_OK; /* unknown elements are ignored, as elsewhere */
    }
    (*count)++;
    return err;
}

static cof_err parse_filter(const xmlNode *el, struct srv_lc_filter *f)
{
    int count = 0, ands = 0;
    cof_err err = srv_xmltree_check_container(el);
    f->form = SRV_LC_FILTER_EMPTY;
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (!srv_xmltree_is_elem(k, "And")) {
            err = parse_condition(k, f, false, &count);
            continue;
        }
        int inner = 0;
        ands++;
        err = srv_xmltree_check_container(k);
        for (const xmlNode *a = k->children; a != NULL && err == COF_OK; a = a->next)
            err = parse_condition(a, f, true, &inner);
        if (err == COF_OK && inner == 0)
            err = COF_ERR_MALFORMED_XML;
    }
    /* A Filter holds one condition; several are combined only inside And. */
    if (err == COF_OK && (count + ands > 1))
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK && ands == 1)
        f->form = SRV_LC_FILTER_AND;
    return err;
}

static cof_err positive(long v, const char *message, struct srv_problem *prob)
{
    return v > 0 ? COF_OK : srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT, message);
}

static cof_err parse_expiration(const xmlNode *el, struct srv_lc_rule *r, struct srv_problem *prob)
{
    bool days = false, date = false, eodm = false;
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "Days")) {
            err = once(&days);
            if (err == COF_OK)
                err = leaf_int(k, &r->exp_days);
            if (err == COF_OK)
                err = positive(r->exp_days,
                               "'Days' for Expiration action must be a positive integer", prob);
        } else if (srv_xmltree_is_elem(k, "Date")) {
            err = once(&date);
            if (err == COF_OK)
                err = leaf_date(k, &r->exp_date, prob);
        } else if (srv_xmltree_is_elem(k, "ExpiredObjectDeleteMarker")) {
            char *s = NULL;
            err = once(&eodm);
            if (err == COF_OK)
                err = srv_xmltree_leaf_text(k, true, &s);
            if (err == COF_OK && strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
                err = COF_ERR_MALFORMED_XML;
            if (err == COF_OK)
                r->eodm = strcmp(s, "true") == 0;
            free(s);
        }
    }
    /* One of Days, Date, ExpiredObjectDeleteMarker; "This cannot be specified with Days or
     * Date" (S3's schema refuses the combinations as MalformedXML). */
    if (err == COF_OK && (int)days + (int)date + (int)eodm != 1)
        err = COF_ERR_MALFORMED_XML;
    return err;
}

static cof_err parse_noncurrent(const xmlNode *el, struct srv_lc_rule *r, struct srv_problem *prob)
{
    bool days = false, newer = false;
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "NoncurrentDays")) {
            err = once(&days);
            if (err == COF_OK)
                err = leaf_int(k, &r->nc_days);
            if (err == COF_OK)
                err = positive(r->nc_days,
                               "'NoncurrentDays' for NoncurrentVersionExpiration action must be a "
                               "positive integer",
                               prob);
        } else if (srv_xmltree_is_elem(k, "NewerNoncurrentVersions")) {
            err = once(&newer);
            if (err == COF_OK)
                err = leaf_int(k, &r->nc_newer);
            if (err == COF_OK)
                err = positive(r->nc_newer,
                               "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action "
                               "must be a positive integer",
                               prob);
            if (err == COF_OK && r->nc_newer > 100)
                err = srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                                      "'NewerNoncurrentVersions' for NoncurrentVersionExpiration "
                                      "action must be less than or equal to 100");
        }
    }
    if (err == COF_OK && !days)
        err = COF_ERR_MALFORMED_XML;
    return err;
}

static cof_err parse_abort(const xmlNode *el, struct srv_lc_rule *r, struct srv_problem *prob)
{
    bool days = false;
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (!srv_xmltree_is_elem(k, "DaysAfterInitiation"))
            continue;
        err = once(&days);
        if (err == COF_OK)
            err = leaf_int(k, &r->abort_days);
        if (err == COF_OK)
            err = positive(r->abort_days,
                           "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must "
                           "be a positive integer",
                           prob);
    }
    if (err == COF_OK && !days)
        err = COF_ERR_MALFORMED_XML;
    return err;
}

/* S3's storage classes a transition may name. */
static bool transition_class(const char *s)
{
    static const char *const ok[] = {"GLACIER",      "STANDARD_IA",
                                     "ONEZONE_IA",   "INTELLIGENT_TIERING",
                                     "DEEP_ARCHIVE", "GLACIER_IR"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(s, ok[i]) == 0)
            return true;
    }
    return false;
}

/* Transition (noncurrent false: Days or Date) or NoncurrentVersionTransition (NoncurrentDays,
 * optional NewerNoncurrentVersions), appended to the rule's list. */
static cof_err parse_transition(const xmlNode *el, bool noncurrent, struct srv_lc_rule *r,
                                struct srv_problem *prob)
{
    struct srv_lc_transition t = {-1, -1, 0, NULL};
    bool days = false, date = false, newer = false;
    const char *days_name = noncurrent ? "NoncurrentDays" : "Days";
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, days_name)) {
            err = once(&days);
            if (err == COF_OK)
                err = leaf_int(k, &t.days);
            if (err == COF_OK && t.days < 0)
                err = srv_problem_setf(prob, COF_ERR_INVALID_ARGUMENT,
                                       "'%s' in Transition action must be nonnegative", days_name);
        } else if (!noncurrent && srv_xmltree_is_elem(k, "Date")) {
            err = once(&date);
            if (err == COF_OK)
                err = leaf_date(k, &t.date, prob);
        } else if (noncurrent && srv_xmltree_is_elem(k, "NewerNoncurrentVersions")) {
            err = once(&newer);
            if (err == COF_OK)
                err = leaf_int(k, &t.newer);
        } else if (srv_xmltree_is_elem(k, "StorageClass")) {
            err = t.storage_class != NULL ? COF_ERR_MALFORMED_XML
                                          : srv_xmltree_leaf_text(k, true, &t.storage_class);
        }
    }
    if (err == COF_OK && ((int)days + (int)date != 1 || t.storage_class == NULL ||
                          !transition_class(t.storage_class)))
        err = COF_ERR_MALFORMED_XML;
    /* S3: objects must stay 30 days in STANDARD before moving to an infrequent-access class. */
    if (err == COF_OK && days && t.days < 30 &&
        (strcmp(t.storage_class, "STANDARD_IA") == 0 || strcmp(t.storage_class, "ONEZONE_IA") == 0))
        err = srv_problem_setf(prob, COF_ERR_INVALID_ARGUMENT,
                               "'%s' in %s action must be greater than or equal to 30 for "
                               "storageClass '%s'",
                               days_name, noncurrent ? "NoncurrentVersionTransition" : "Transition",
                               t.storage_class);
    struct srv_lc_transition **list = noncurrent ? &r->nc_tr : &r->tr;
    size_t *n = noncurrent ? &r->n_nc_tr : &r->n_tr;
    struct srv_lc_transition *v = err == COF_OK ? realloc(*list, (*n + 1) * sizeof(*v)) : NULL;
    if (err == COF_OK && v == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK) {
        *list = v;
        v[(*n)++] = t;
        t.storage_class = NULL;
    }
    free(t.storage_class);
    return err;
}

static cof_err parse_status(const xmlNode *el, struct srv_lc_rule *r)
{
    char *s = NULL;
    cof_err err = srv_xmltree_leaf_text(el, true, &s);
    if (err == COF_OK && strcmp(s, "Enabled") != 0 && strcmp(s, "Disabled") != 0)
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK)
        r->enabled = strcmp(s, "Enabled") == 0;
    free(s);
    return err;
}

/* The rule's elements, each in its own parser; returns the schema's verdict on presence. */
static cof_err parse_rule_elems(const xmlNode *el, struct srv_lc_rule *r, struct srv_problem *prob)
{
    bool status = false, filter = false, legacy = false, nce = false;
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "ID")) {
            err = r->id != NULL ? COF_ERR_MALFORMED_XML : srv_xmltree_leaf_text(k, false, &r->id);
        } else if (srv_xmltree_is_elem(k, "Status")) {
            err = once(&status);
            if (err == COF_OK)
                err = parse_status(k, r);
        } else if (srv_xmltree_is_elem(k, "Filter")) {
            err = once(&filter);
            if (err == COF_OK)
                err = parse_filter(k, &r->filter);
        } else if (srv_xmltree_is_elem(k, "Prefix")) {
            err = r->filter.prefix != NULL ? COF_ERR_MALFORMED_XML : once(&legacy);
            if (err == COF_OK)
                err = srv_xmltree_leaf_text(k, false, &r->filter.prefix);
            r->filter.form = SRV_LC_LEGACY_PREFIX;
        } else if (srv_xmltree_is_elem(k, "Expiration")) {
            err = once(&r->has_expiration);
            if (err == COF_OK)
                err = parse_expiration(k, r, prob);
        } else if (srv_xmltree_is_elem(k, "NoncurrentVersionExpiration")) {
            err = once(&nce);
            if (err == COF_OK)
                err = parse_noncurrent(k, r, prob);
            r->has_noncurrent = true;
        } else if (srv_xmltree_is_elem(k, "AbortIncompleteMultipartUpload")) {
            err = once(&r->has_abort);
            if (err == COF_OK)
                err = parse_abort(k, r, prob);
        } else if (srv_xmltree_is_elem(k, "Transition")) {
            err = parse_transition(k, false, r, prob);
        } else if (srv_xmltree_is_elem(k, "NoncurrentVersionTransition")) {
            err = parse_transition(k, true, r, prob);
        }
    }
    if (err == COF_OK && (!status || (int)filter + (int)legacy != 1))
        err = COF_ERR_MALFORMED_XML;
    return err;
}

/* What S3 checks once the rule is well-formed. */
static cof_err check_rule(const struct srv_lc_rule *r, struct srv_problem *prob)
{
    const struct srv_lc_filter *f = &r->filter;
    if (r->id != NULL && strlen(r->id) > SRV_LC_ID_MAX)
        return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                               "ID length should not exceed allowed limit of 255");
    if (!r->has_expiration && !r->has_noncurrent && !r->has_abort && r->n_tr == 0 &&
        r->n_nc_tr == 0)
        return srv_problem_set(prob, COF_ERR_INVALID_REQUEST,
                               "At least one action needs to be specified in a rule");
    if (f->tags.n > 0 && r->has_abort)
        return srv_problem_set(prob, COF_ERR_INVALID_REQUEST,
                               "AbortIncompleteMultipartUpload cannot be specified with Tags.");
    if (f->tags.n > 0 && r->eodm == 1)
        return srv_problem_set(prob, COF_ERR_INVALID_REQUEST,
                               "ExpiredObjectDeleteMarker cannot be specified with Tags.");
    if (f->has_gt && f->has_lt && f->gt >= f->lt)
        return srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                               "ObjectSizeGreaterThan must be less than ObjectSizeLessThan");
    cof_err err = f->tags.n > 0 ? srv_tagset_validate(&f->tags, SRV_TAGS_OBJECT, prob) : COF_OK;
    for (size_t i = 0; err == COF_OK && r->has_expiration && r->exp_days > 0 && i < r->n_tr; i++) {
        if (r->tr[i].days >= r->exp_days)
            err = srv_problem_set(prob, COF_ERR_INVALID_ARGUMENT,
                                  "'Days' in the Expiration action must be greater than 'Days' in "
                                  "the Transition action");
    }
    return err;
}

static cof_err parse_rule(const xmlNode *el, struct srv_lc_rule *r, struct srv_problem *prob)
{
    r->exp_date = -1;
    r->eodm = -1;
    cof_err err = parse_rule_elems(el, r, prob);
    return err == COF_OK ? check_rule(r, prob) : err;
}

static cof_err check_unique_ids(const struct srv_lc_config *c, struct srv_problem *prob)
{
    for (size_t i = 0; i < c->n; i++) {
        for (size_t j = i + 1; c->rules[i].id != NULL && j < c->n; j++) {
            if (c->rules[j].id != NULL && strcmp(c->rules[i].id, c->rules[j].id) == 0)
                return srv_problem_set(
                    prob, COF_ERR_INVALID_ARGUMENT,
                    "Rule ID must be unique. Found same ID for more than one rule");
        }
    }
    return COF_OK;
}

cof_err srv_lc_parse(const char *body, size_t n, struct srv_lc_config *out,
                     struct srv_problem *prob)
{
    xmlDocPtr doc = NULL;
    struct srv_lc_config c = {NULL, 0};
    size_t count = 0;

    memset(out, 0, sizeof(*out));
    srv_problem_init(prob);
    cof_err err = srv_xmltree_parse(body, n, SRV_LC_MAX_BODY, &doc);
    if (err != COF_OK)
        goto out;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!srv_xmltree_is_elem(root, "LifecycleConfiguration")) {
        err = COF_ERR_MALFORMED_XML;
        goto out;
    }
    err = srv_xmltree_check_container(root);
    for (const xmlNode *k = root->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "Rule") && ++count > SRV_LC_MAX_RULES)
            err = COF_ERR_MALFORMED_XML;
    }
    if (err == COF_OK && count == 0)
        err = COF_ERR_MALFORMED_XML;
    if (err != COF_OK)
        goto out;
    c.rules = calloc(count, sizeof(*c.rules));
    if (c.rules == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    for (const xmlNode *k = root->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "Rule")) {
            err = parse_rule(k, &c.rules[c.n], prob);
            c.n++; /* counted even on failure so that cleanup frees what was read */
        }
    }
    if (err == COF_OK)
        err = check_unique_ids(&c, prob);
    if (err != COF_OK)
        goto out;
    *out = c;
    memset(&c, 0, sizeof(c));
out:
    srv_lc_config_cleanup(&c);
    srv_xmltree_free(doc);
    return srv_problem_finish(prob, err);
}

/* ---- writer -------------------------------------------------------------------------------- */

static cof_err write_long(struct srv_xml *x, const char *name, long v)
{
    char s[24];
    snprintf(s, sizeof(s), "%ld", v);
    return srv_xml_elem(x, name, s);
}

static cof_err write_date(struct srv_xml *x, const char *name, int64_t secs)
{
    char s[32];
    srv_iso8601_format(secs * 1000, s);
    return srv_xml_elem(x, name, s);
}

static cof_err write_tag(struct srv_xml *x, const struct srv_tag *t)
{
    cof_err err = srv_xml_open(x, "Tag");
    if (err == COF_OK)
        err = srv_xml_elem(x, "Key", t->key);
    if (err == COF_OK)
        err = srv_xml_elem(x, "Value", t->value);
    if (err == COF_OK)
        err = srv_xml_close(x);
    return err;
}

static cof_err write_conditions(struct srv_xml *x, const struct srv_lc_filter *f)
{
    cof_err err = COF_OK;
    if (f->prefix != NULL)
        err = srv_xml_elem(x, "Prefix", f->prefix);
    for (size_t i = 0; err == COF_OK && i < f->tags.n; i++)
        err = write_tag(x, &f->tags.v[i]);
    if (err == COF_OK && f->has_gt)
        err = srv_xml_elem_u64(x, "ObjectSizeGreaterThan", f->gt);
    if (err == COF_OK && f->has_lt)
        err = srv_xml_elem_u64(x, "ObjectSizeLessThan", f->lt);
    return err;
}

static cof_err write_filter(struct srv_xml *x, const struct srv_lc_filter *f)
{
    if (f->form == SRV_LC_LEGACY_PREFIX)
        return srv_xml_elem(x, "Prefix", f->prefix != NULL ? f->prefix : "");
    cof_err err = srv_xml_open(x, "Filter");
    bool and = f->form == SRV_LC_FILTER_AND;
    if (err == COF_OK && and)
        err = srv_xml_open(x, "And");
    if (err == COF_OK)
        err = write_conditions(x, f);
    if (err == COF_OK && and)
        err = srv_xml_close(x);
    if (err == COF_OK)
        err = srv_xml_close(x);
    return err;
}

static cof_err write_transition(struct srv_xml *x, const struct srv_lc_transition *t,
                                bool noncurrent)
{
    cof_err err = srv_xml_open(x, noncurrent ? "NoncurrentVersionTransition" : "Transition");
    if (err == COF_OK && t->date >= 0)
        err = write_date(x, "Date", t->date);
    if (err == COF_OK && t->days >= 0)
        err = write_long(x, noncurrent ? "NoncurrentDays" : "Days", t->days);
    if (err == COF_OK)
        err = srv_xml_elem(x, "StorageClass", t->storage_class);
    if (err == COF_OK && t->newer > 0)
        err = write_long(x, "NewerNoncurrentVersions", t->newer);
    if (err == COF_OK)
        err = srv_xml_close(x);
    return err;
}

static cof_err write_expiration(struct srv_xml *x, const struct srv_lc_rule *r)
{
    cof_err err = srv_xml_open(x, "Expiration");
    if (err == COF_OK && r->exp_date >= 0)
        err = write_date(x, "Date", r->exp_date);
    if (err == COF_OK && r->exp_days > 0)
        err = write_long(x, "Days", r->exp_days);
    if (err == COF_OK && r->eodm >= 0)
        err = srv_xml_elem(x, "ExpiredObjectDeleteMarker", r->eodm ? "true" : "false");
    if (err == COF_OK)
        err = srv_xml_close(x);
    return err;
}

static cof_err write_noncurrent(struct srv_xml *x, const struct srv_lc_rule *r)
{
    cof_err err = srv_xml_open(x, "NoncurrentVersionExpiration");
    if (err == COF_OK)
        err = write_long(x, "NoncurrentDays", r->nc_days);
    if (err == COF_OK && r->nc_newer > 0)
        err = write_long(x, "NewerNoncurrentVersions", r->nc_newer);
    if (err == COF_OK)
        err = srv_xml_close(x);
    return err;
}

static cof_err write_rule(struct srv_xml *x, const struct srv_lc_rule *r)
{
    cof_err err = srv_xml_open(x, "Rule");
    if (err == COF_OK && r->has_expiration)
        err = write_expiration(x, r);
    if (err == COF_OK && r->id != NULL)
        err = srv_xml_elem(x, "ID", r->id);
    if (err == COF_OK)
        err = write_filter(x, &r->filter);
    if (err == COF_OK)
        err = srv_xml_elem(x, "Status", r->enabled ? "Enabled" : "Disabled");
    for (size_t i = 0; err == COF_OK && i < r->n_tr; i++)
        err = write_transition(x, &r->tr[i], false);
    for (size_t i = 0; err == COF_OK && i < r->n_nc_tr; i++)
        err = write_transition(x, &r->nc_tr[i], true);
    if (err == COF_OK && r->has_noncurrent)
        err = write_noncurrent(x, r);
    if (err == COF_OK && r->has_abort) {
        err = srv_xml_open(x, "AbortIncompleteMultipartUpload");
        if (err == COF_OK)
            err = write_long(x, "DaysAfterInitiation", r->abort_days);
        if (err == COF_OK)
            err = srv_xml_close(x);
    }
    if (err == COF_OK)
        err = srv_xml_close(x);
    return err;
}

cof_err srv_lc_write(const struct srv_lc_config *c, char **out, size_t *out_len)
{
    struct srv_xml *x = NULL;
    cof_err err = srv_xml_new("LifecycleConfiguration", &x);
    for (size_t i = 0; err == COF_OK && i < c->n; i++)
        err = write_rule(x, &c->rules[i]);
    if (err == COF_OK)
        err = srv_xml_finish(x, out, out_len);
    srv_xml_free(x);
    return err;
}

/* ---- matching -------------------------------------------------------------------------------- */

static bool has_tag(const struct srv_tagset *obj, const struct srv_tag *want)
{
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->v[i].key, want->key) == 0 && strcmp(obj->v[i].value, want->value) == 0)
            return true;
    }
    return false;
}

bool srv_lc_filter_matches_upload(const struct srv_lc_filter *f, const char *key)
{
    return f->prefix == NULL || strncmp(key, f->prefix, strlen(f->prefix)) == 0;
}

bool srv_lc_filter_matches(const struct srv_lc_filter *f, const char *key, uint64_t size,
                           const char *tags_canon)
{
    if (!srv_lc_filter_matches_upload(f, key))
        return false;
    if ((f->has_gt && size <= f->gt) || (f->has_lt && size >= f->lt))
        return false;
    if (f->tags.n == 0)
        return true;
    struct srv_tagset obj = {NULL, 0};
    bool all = srv_tagset_decode(tags_canon, &obj) == COF_OK;
    for (size_t i = 0; all && i < f->tags.n; i++)
        all = has_tag(&obj, &f->tags.v[i]);
    srv_tagset_cleanup(&obj);
    return all;
}

bool srv_lc_expiry(const struct srv_lc_config *c, const char *key, uint64_t size,
                   const char *tags_canon, int64_t created_ms, int64_t *out_due,
                   const struct srv_lc_rule **out_rule)
{
    bool found = false;
    for (size_t i = 0; i < c->n; i++) {
        const struct srv_lc_rule *r = &c->rules[i];
        if (!r->enabled || !r->has_expiration || (r->exp_days <= 0 && r->exp_date < 0))
            continue;
        if (!srv_lc_filter_matches(&r->filter, key, size, tags_canon))
            continue;
        int64_t due = r->exp_days > 0 ? srv_lc_due(created_ms, r->exp_days) : r->exp_date;
        if (!found || due < *out_due) {
            *out_due = due;
            *out_rule = r;
            found = true;
        }
    }
    return found;
}

const char *srv_lc_storage_class(const struct srv_lc_config *c, const char *key, uint64_t size,
                                 const char *tags_canon, int64_t created_ms, int64_t now_ms)
{
    const char *cls = NULL;
    int64_t latest = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct srv_lc_rule *r = &c->rules[i];
        if (!r->enabled || r->n_tr == 0 ||
            !srv_lc_filter_matches(&r->filter, key, size, tags_canon))
            continue;
        for (size_t k = 0; k < r->n_tr; k++) {
            const struct srv_lc_transition *t = &r->tr[k];
            int64_t due = t->days >= 0 ? srv_lc_due(created_ms, t->days) : t->date;
            if (due * 1000 <= now_ms && (cls == NULL || due >= latest)) {
                cls = t->storage_class;
                latest = due;
            }
        }
    }
    return cls;
}

void srv_lc_expiration_header(int64_t due_s, const char *rule_id, char *out, size_t out_len)
{
    char date[32];
    srv_http_date_format(due_s, date);
    snprintf(out, out_len, "expiry-date=\"%s\", rule-id=\"%.300s\"", date,
             rule_id != NULL ? rule_id : "");
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket CORS rules: the CORSConfiguration parser and writer, wildcard matching, and the
 * response headers of a matched rule or of LocalStack's default. No I/O. */
#include "s3/cors.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "s3/xml.h"
#include "s3/xmltree.h"

#define HEADER_VALUE_CAP (64u * 1024) /* a joined header value; rules are capped at 64 KB */

/* ---- configuration document ---------------------------------------------------------- */

static void strlist_cleanup(struct srv_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Appends s (taken over: freed on failure too). */
static cof_err strlist_push(struct srv_strlist *l, char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (v == NULL) {
        free(s);
        return COF_ERR_NOMEM;
    }
    v[l->n++] = s;
    l->v = v;
    return COF_OK;
}

static void rule_cleanup(struct srv_cors_rule *r)
{
    free(r->id);
    strlist_cleanup(&r->allowed_headers);
    strlist_cleanup(&r->allowed_methods);
    strlist_cleanup(&r->allowed_origins);
    strlist_cleanup(&r->expose_headers);
    memset(r, 0, sizeof(*r));
}

void srv_cors_config_cleanup(struct srv_cors_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        rule_cleanup(&c->rules[i]);
    free(c->rules);
    c->rules = NULL;
    c->n = 0;
}

/* S3 accepts exactly these five methods in AllowedMethod (case-sensitive). */
static bool supported_method(const char *m)
{
    static const char *const ok[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(m, ok[i]) == 0)
            return true;
    }
    return false;
}

/* An AllowedOrigin / AllowedHeader may hold one wildcard; S3 refuses a second one. */
static cof_err check_wildcards(const char *what, const char *v, struct srv_problem *prob)
{
    const char *star = strchr(v, '*');
    if (star != NULL && strchr(star + 1, '*') != NULL)
        return srv_problem_setf(prob, COF_ERR_INVALID_REQUEST,
                                "%s \"%s\" can not have more than one wildcard.", what, v);
    return COF_OK;
}

static cof_err parse_max_age(const char *s, long *out)
{
    char *end = NULL;
    if (s[0] == '\0' || s[0] == '+')
        return COF_ERR_MALFORMED_XML;
    errno = 0;
    long v = strtol(s, &end, 10);
    /* xs:int, as the S3 schema declares MaxAgeSeconds */
    if (errno != 0 || *end != '\0' || v < INT_MIN || v > INT_MAX)
        return COF_ERR_MALFORMED_XML;
    *out = v;
    return COF_OK;
}

static cof_err parse_rule(const xmlNode *el, struct srv_cors_rule *r, struct srv_problem *prob)
{
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        struct srv_strlist *list = NULL;
        if (srv_xmltree_is_elem(k, "ID")) {
            err = r->id != NULL ? COF_ERR_MALFORMED_XML : srv_xmltree_leaf_text(k, true, &r->id);
            continue;
        }
        if (srv_xmltree_is_elem(k, "MaxAgeSeconds")) {
            char *s = NULL;
            err = r->has_max_age ? COF_ERR_MALFORMED_XML : srv_xmltree_leaf_text(k, true, &s);
            if (err == COF_OK)
                err = parse_max_age(s, &r->max_age);
            r->has_max_age = true;
            free(s);
            continue;
        }
        if (srv_xmltree_is_elem(k, "AllowedHeader"))
            list = &r->allowed_headers;
        else if (srv_xmltree_is_elem(k, "AllowedMethod"))
            list = &r->allowed_methods;
        else if (srv_xmltree_is_elem(k, "AllowedOrigin"))
            list = &r->allowed_origins;
        else if (srv_xmltree_is_elem(k, "ExposeHeader"))
            list = &r->expose_headers;
        else
            continue; /* unknown elements are ignored, as elsewhere */
        char *v = NULL;
        err = srv_xmltree_leaf_text(k, true, &v);
        if (err == COF_OK)
            err = strlist_push(list, v);
    }
    /* Schema first (a rule without origins or methods is malformed), then values. */
    if (err == COF_OK && (r->allowed_origins.n == 0 || r->allowed_methods.n == 0))
        err = COF_ERR_MALFORMED_XML;
    for (size_t i = 0; err == COF_OK && i < r->allowed_methods.n; i++) {
        const char *m = r->allowed_methods.v[i];
        if (!supported_method(m))
            err = srv_problem_setf(
                prob, COF_ERR_INVALID_REQUEST,
                "Found unsupported HTTP method in CORS config. Unsupported method is %s", m);
    }
    for (size_t i = 0; err == COF_OK && i < r->allowed_origins.n; i++)
        err = check_wildcards("AllowedOrigin", r->allowed_origins.v[i], prob);
    for (size_t i = 0; err == COF_OK && i < r->allowed_headers.n; i++)
        err = check_wildcards("AllowedHeader", r->allowed_headers.v[i], prob);
    return err;
}

cof_err srv_cors_parse(const char *body, size_t n, struct srv_cors_config *out,
                       struct srv_problem *prob)
{
    xmlDocPtr doc = NULL;
    struct srv_cors_config c = {NULL, 0};
    size_t count = 0;

    memset(out, 0, sizeof(*out));
    srv_problem_init(prob);
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        goto out;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!srv_xmltree_is_elem(root, "CORSConfiguration")) {
        err = COF_ERR_MALFORMED_XML;
        goto out;
    }
    err = srv_xmltree_check_container(root);
    for (const xmlNode *k = root->children; k != NULL && err == COF_OK; k = k->next) {
        if (srv_xmltree_is_elem(k, "CORSRule") && ++count > SRV_CORS_MAX_RULES)
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
        if (srv_xmltree_is_elem(k, "CORSRule")) {
            err = parse_rule(k, &c.rules[c.n], prob);
            c.n++; /* counted even on failure so that cleanup frees what was read */
        }
    }
    if (err != COF_OK)
        goto out;
    *out = c;
    memset(&c, 0, sizeof(c));
out:
    srv_cors_config_cleanup(&c);
    srv_xmltree_free(doc);
    return srv_problem_finish(prob, err);
}

static cof_err write_list(struct srv_xml *x, const char *name, const struct srv_strlist *l)
{
    cof_err err = COF_OK;
    for (size_t i = 0; err == COF_OK && i < l->n; i++)
        err = srv_xml_elem(x, name, l->v[i]);
    return err;
}

cof_err srv_cors_write(const struct srv_cors_config *c, char **out, size_t *out_len)
{
    struct srv_xml *x = NULL;

    *out = NULL;
    *out_len = 0;
    cof_err err = srv_xml_new("CORSConfiguration", &x);
    for (size_t i = 0; err == COF_OK && i < c->n; i++) {
        const struct srv_cors_rule *r = &c->rules[i];
        err = srv_xml_open(x, "CORSRule");
        if (err == COF_OK && r->id != NULL)
            err = srv_xml_elem(x, "ID", r->id);
        if (err == COF_OK)
            err = write_list(x, "AllowedHeader", &r->allowed_headers);
        if (err == COF_OK)
            err = write_list(x, "AllowedMethod", &r->allowed_methods);
        if (err == COF_OK)
            err = write_list(x, "AllowedOrigin", &r->allowed_origins);
        if (err == COF_OK)
            err = write_list(x, "ExposeHeader", &r->expose_headers);
        if (err == COF_OK && r->has_max_age) {
            char num[24];
            snprintf(num, sizeof(num), "%ld", r->max_age);
            err = srv_xml_elem(x, "MaxAgeSeconds", num);
        }
        if (err == COF_OK)
            err = srv_xml_close(x);
    }
    if (err == COF_OK)
        err = srv_xml_finish(x, out, out_len);
    srv_xml_free(x);
    return err;
}

/* ---- matching ------------------------------------------------------------------------ */

static bool eq_n(const char *a, const char *b, size_t n, bool icase)
{
    return icase ? strncasecmp(a, b, n) == 0 : strncmp(a, b, n) == 0;
}

bool srv_cors_wildcard_match(const char *pattern, const char *s, bool icase)
{
    const char *star = strchr(pattern, '*');
    size_t sl = strlen(s);
    if (star == NULL)
        return icase ? strcasecmp(pattern, s) == 0 : strcmp(pattern, s) == 0;
    if (strcmp(pattern, "*") == 0)
        return true;
    size_t pre = (size_t)(star - pattern);
    size_t suf = strlen(star + 1);
    /* the wildcard stands for at least one character (LocalStack's ".+") */
    if (sl < pre + suf + 1)
        return false;
    return eq_n(pattern, s, pre, icase) && eq_n(star + 1, s + sl - suf, suf, icase);
}

static bool list_has(const struct srv_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], s) == 0)
            return true;
    }
    return false;
}

static bool header_allowed(const struct srv_cors_rule *r, const char *h)
{
    for (size_t i = 0; i < r->allowed_headers.n; i++) {
        if (srv_cors_wildcard_match(r->allowed_headers.v[i], h, true))
            return true;
    }
    return false;
}

static bool http_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Calls fn for each non-empty, trimmed item of a comma list; stops at the first false. */
typedef bool (*item_fn)(void *arg, const char *item, size_t len);
static bool each_item(const char *list, item_fn fn, void *arg)
{
    const char *p = list;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *a = p;
        while (a < end && http_space(*a))
            a++;
        const char *b = end;
        while (b > a && http_space(b[-1]))
            b--;
        if (b > a && !fn(arg, a, (size_t)(b - a)))
            return false;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return true;
}

static bool requested_header_ok(void *arg, const char *item, size_t len)
{
    const struct srv_cors_rule *r = arg;
    char h[256];
    if (len >= sizeof(h)) /* no real header name is that long; refuse rather than truncate */
        return false;
    memcpy(h, item, len);
    h[len] = '\0';
    return header_allowed(r, h);
}

static bool rule_matches(const struct srv_cors_rule *r, const char *origin, const char *method,
                         const char *request_headers)
{
    if (!list_has(&r->allowed_methods, method))
        return false;
    bool origin_ok = false;
    for (size_t i = 0; !origin_ok && i < r->allowed_origins.n; i++)
        origin_ok = srv_cors_wildcard_match(r->allowed_origins.v[i], origin, false);
    if (!origin_ok)
        return false;
    return request_headers == NULL ||
           each_item(request_headers, requested_header_ok, (void *)(uintptr_t)r);
}

const struct srv_cors_rule *srv_cors_match(const struct srv_cors_config *c, const char *origin,
                                           const char *method, const char *request_headers)
{
    if (c == NULL || origin == NULL || method == NULL)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        if (rule_matches(&c->rules[i], origin, method, request_headers))
            return &c->rules[i];
    }
    return NULL;
}

/* ---- response headers ---------------------------------------------------------------- */

static cof_err join(struct cof_buf *b, const struct srv_strlist *l, const char *sep)
{
    cof_err err = COF_OK;
    for (size_t i = 0; err == COF_OK && i < l->n; i++) {
        if (i > 0)
            err = cof_buf_puts(b, sep);
        if (err == COF_OK)
            err = cof_buf_puts(b, l->v[i]);
    }
    return err;
}

struct list_join {
    struct cof_buf *b;
    const char *sep;
    bool lower; /* fold ASCII letters to lower case */
    cof_err err;
};

/* each_item callback: appends an item, separated from what the buffer already holds. */
static bool append_item(void *arg, const char *item, size_t len)
{
    struct list_join *j = arg;
    if (j->b->len > 0)
        j->err = cof_buf_puts(j->b, j->sep);
    for (size_t i = 0; j->err == COF_OK && i < len; i++) {
        char c = item[i];
        if (j->lower && c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        j->err = cof_buf_append(j->b, &c, 1);
    }
    return j->err == COF_OK;
}

/* Emits name: the joined list, unless it is empty. */
static cof_err emit_list(const struct srv_strlist *l, const char *name, srv_cors_emit_fn emit,
                         void *arg)
{
    struct cof_buf b;
    cof_buf_init(&b, HEADER_VALUE_CAP);
    cof_err err = join(&b, l, ", ");
    if (err == COF_OK && b.len > 0)
        emit(arg, name, b.data);
    cof_buf_cleanup(&b);
    return err;
}

cof_err srv_cors_rule_headers(const struct srv_cors_rule *r, const char *origin,
                              const char *request_headers, srv_cors_emit_fn emit, void *arg)
{
    /* S3 answers "*" (and no credentials) when the rule allows every origin, else echoes the
     * origin and allows credentials. */
    bool wildcard = list_has(&r->allowed_origins, "*");
    emit(arg, "Access-Control-Allow-Origin", wildcard ? "*" : origin);
    if (!wildcard)
        emit(arg, "Access-Control-Allow-Credentials", "true");
    emit(arg, "Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    cof_err err = emit_list(&r->allowed_methods, "Access-Control-Allow-Methods", emit, arg);
    if (err == COF_OK && request_headers != NULL) {
        struct cof_buf b;
        cof_buf_init(&b, HEADER_VALUE_CAP);
        struct list_join j = {&b, ", ", true, COF_OK};
        each_item(request_headers, append_item, &j);
        err = j.err;
        if (err == COF_OK && b.len > 0)
            emit(arg, "Access-Control-Allow-Headers", b.data);
        cof_buf_cleanup(&b);
    }
    if (err == COF_OK)
        err = emit_list(&r->expose_headers, "Access-Control-Expose-Headers", emit, arg);
    if (err == COF_OK && r->has_max_age) {
        char num[24];
        snprintf(num, sizeof(num), "%ld", r->max_age);
        emit(arg, "Access-Control-Max-Age", num);
    }
    return err;
}

/* ---- LocalStack's default ------------------------------------------------------------ */

/* LocalStack's CORS_ALLOWED_HEADERS (aws/handlers/cors.py). */
static const char default_allowed_headers[] =
    "authorization,cache-control,content-length,content-md5,content-type,etag,location,"
    "x-amz-acl,x-amz-content-sha256,x-amz-date,x-amz-request-id,x-amz-security-token,"
    "x-amz-tagging,x-amz-target,x-amz-user-agent,x-amz-version-id,x-amzn-requestid,"
    "x-localstack-target,amz-sdk-invocation-id,amz-sdk-request,x-amz-log-type";

/* LocalStack exposes etag and x-amz-version-id (plus Lambda's headers, which S3 never sends);
 * coffer adds the S3 response headers a browser application reads: request ids, the delete
 * marker and the encryption headers. */
static const char default_expose_headers[] =
    "etag,x-amz-version-id,x-amz-delete-marker,x-amz-request-id,x-amz-id-2,"
    "x-amz-server-side-encryption,x-amz-server-side-encryption-aws-kms-key-id,"
    "x-amz-server-side-encryption-bucket-key-enabled,"
    "x-amz-server-side-encryption-customer-algorithm,"
    "x-amz-server-side-encryption-customer-key-md5";

static const char default_methods[] = "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH";

struct find_item {
    const char *s;
    bool found;
};

static bool item_equals(void *arg, const char *item, size_t len)
{
    struct find_item *f = arg;
    /* An entry "*" lets every origin through (LocalStack's _is_in_allowed_origins). */
    if ((len == 1 && item[0] == '*') || (strlen(f->s) == len && memcmp(f->s, item, len) == 0))
        f->found = true;
    return !f->found;
}

/* "<scheme>://<anything>.s3-website.<domain>[:port]" or ".cloudfront." with domain localhost or
 * localhost.localstack.cloud and, when given, the served port (LocalStack's dynamic origins). */
static bool dynamic_internal(const char *origin, unsigned port)
{
    static const char *const kinds[] = {".s3-website.", ".cloudfront."};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *p = strstr(origin, kinds[i]);
        if (p == NULL || p == origin)
            continue;
        const char *dom = p + strlen(kinds[i]);
        size_t dl = strcspn(dom, ":");
        bool known = (dl == 9 && strncmp(dom, "localhost", 9) == 0) ||
                     (dl == 26 && strncmp(dom, "localhost.localstack.cloud", 26) == 0);
        if (!known)
            continue;
        if (dom[dl] == '\0')
            return true;
        char *end = NULL;
        unsigned long pn = strtoul(dom + dl + 1, &end, 10);
        if (end != dom + dl + 1 && pn == port)
            return true;
    }
    return false;
}

bool srv_cors_default_allowed(const struct srv_cors_defaults *d, const char *origin)
{
    static const char *const fixed[] = {"https://app.localstack.cloud",
                                        "http://app.localstack.cloud", "https://localhost",
                                        "https://localhost.localstack.cloud", "file://"};
    static const char *const hosts[] = {"localhost", "localhost.localstack.cloud"};
    if (d->disable_checks)
        return true;
    if (origin == NULL)
        return false;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (strcmp(origin, fixed[i]) == 0)
            return true;
    }
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        char want[96];
        snprintf(want, sizeof(want), "http://%s:%u", hosts[i], d->port);
        if (strcmp(origin, want) == 0)
            return true;
        snprintf(want, sizeof(want), "https://%s:%u", hosts[i], d->port);
        if (strcmp(origin, want) == 0)
            return true;
    }
    if (d->extra_origins != NULL) {
        struct find_item f = {origin, false};
        each_item(d->extra_origins, item_equals, &f);
        if (f.found)
            return true;
    }
    return dynamic_internal(origin, d->port);
}

cof_err srv_cors_default_headers(const struct srv_cors_defaults *d, const char *origin,
                                 const char *request_headers, bool private_network,
                                 srv_cors_emit_fn emit, void *arg)
{
    const char *allow_origin = origin != NULL && !d->disable_checks ? origin : "*";
    emit(arg, "Access-Control-Allow-Origin", allow_origin);
    if (strchr(allow_origin, '*') == NULL)
        emit(arg, "Access-Control-Allow-Credentials", "true");
    emit(arg, "Access-Control-Allow-Methods", default_methods);

    struct cof_buf b;
    cof_buf_init(&b, HEADER_VALUE_CAP);
    struct list_join j = {&b, ",", true, COF_OK};
    if (request_headers != NULL)
        each_item(request_headers, append_item, &j);
    if (j.err == COF_OK)
        each_item(default_allowed_headers, append_item, &j);
    j.lower = false; /* the extra lists are sent as configured */
    if (j.err == COF_OK && d->extra_headers != NULL)
        each_item(d->extra_headers, append_item, &j);
    if (j.err == COF_OK)
        emit(arg, "Access-Control-Allow-Headers", b.data);

    cof_buf_reset(&b);
    if (j.err == COF_OK)
        j.err = cof_buf_puts(&b, default_expose_headers);
    /* LocalStack splits the extra list on ',' without trimming; items are trimmed here. */
    if (j.err == COF_OK && d->extra_expose != NULL)
        each_item(d->extra_expose, append_item, &j);
    if (j.err == COF_OK)
        emit(arg, "Access-Control-Expose-Headers", b.data);
    cof_buf_cleanup(&b);
    if (j.err == COF_OK && private_network)
        emit(arg, "Access-Control-Allow-Private-Network", "true");
    if (j.err == COF_OK)
        emit(arg, "Vary", "Origin");
    return j.err;
}

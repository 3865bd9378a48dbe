/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for bucket CORS: the CORSConfiguration parser (every accepted document obeys S3's
 * rules and round-trips through the canonical writer unchanged), and rule matching plus header
 * building on request values taken from the input (origin, method and requested headers, one
 * per line). Aborts on a violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/cors.h"
#include "s3/xml.h"

#include "fuzz.h"

static const char fixed_rules[] =
    "<CORSConfiguration><CORSRule><AllowedOrigin>http://*.example.com</AllowedOrigin>"
    "<AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader>"
    "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule>"
    "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    "<AllowedHeader>*</AllowedHeader></CORSRule></CORSConfiguration>";

static int stars(const char *s)
{
    int n = 0;
    for (; *s != '\0'; s++)
        n += *s == '*';
    return n;
}

static bool method_ok(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0 ||
           strcmp(m, "DELETE") == 0 || strcmp(m, "HEAD") == 0;
}

static void check_config(const struct srv_cors_config *c)
{
    REQUIRE(c->n >= 1 && c->n <= SRV_CORS_MAX_RULES);
    for (size_t i = 0; i < c->n; i++) {
        const struct srv_cors_rule *r = &c->rules[i];
        REQUIRE(r->allowed_origins.n >= 1 && r->allowed_methods.n >= 1);
        for (size_t k = 0; k < r->allowed_methods.n; k++)
            REQUIRE(method_ok(r->allowed_methods.v[k]));
        for (size_t k = 0; k < r->allowed_origins.n; k++)
            REQUIRE(stars(r->allowed_origins.v[k]) <= 1);
        for (size_t k = 0; k < r->allowed_headers.n; k++)
            REQUIRE(stars(r->allowed_headers.v[k]) <= 1);
    }
}

static void check_parse(const char *body, size_t n, struct srv_cors_config *out)
{
    struct srv_problem prob;
    cof_err err = srv_cors_parse(body, n, out, &prob);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_INVALID_REQUEST ||
            err == COF_ERR_TOO_LARGE || err == COF_ERR_NOMEM);
    REQUIRE(prob.code == err && prob.name1 == NULL && prob.name2 == NULL);
    REQUIRE((prob.message != NULL) == (err == COF_ERR_INVALID_REQUEST));
    REQUIRE(prob.text_len < sizeof(prob.text));
    if (err != COF_OK) {
        REQUIRE(out->rules == NULL && out->n == 0);
        return;
    }
    check_config(out);

    char *doc = NULL, *doc2 = NULL;
    size_t len = 0, len2 = 0;
    struct srv_cors_config again;
    REQUIRE(srv_cors_write(out, &doc, &len) == COF_OK);
    REQUIRE(srv_cors_parse(doc, len, &again, &prob) == COF_OK);
    REQUIRE(again.n == out->n);
    REQUIRE(srv_cors_write(&again, &doc2, &len2) == COF_OK);
    REQUIRE(len == len2 && memcmp(doc, doc2, len) == 0);
    srv_cors_config_cleanup(&again);
    free(doc);
    free(doc2);
}

static void ignore(void *arg, const char *name, const char *value)
{
    size_t *count = arg;
    REQUIRE(name != NULL && value != NULL);
    (*count)++;
}

static void check_match(const struct srv_cors_config *c, const char *origin, const char *method,
                        const char *headers)
{
    const struct srv_cors_rule *r = srv_cors_match(c, origin, method, headers);
    if (r == NULL)
        return;
    REQUIRE(r >= c->rules && r < c->rules + c->n);
    size_t count = 0;
    REQUIRE(srv_cors_rule_headers(r, origin, headers, ignore, &count) == COF_OK);
    REQUIRE(count >= 3); /* origin, Vary, methods at least */
}

/* Cuts s at its first '\n' and returns what follows ("" when there is none). */
static char *cut_line(char *s)
{
    char *nl = strchr(s, '\n');
    if (nl == NULL)
        return s + strlen(s);
    *nl = '\0';
    return nl + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct srv_cors_config fixed;
    static bool have_fixed;
    struct srv_problem prob;

    srv_xml_global_init();
    if (!have_fixed) {
        REQUIRE(srv_cors_parse(fixed_rules, strlen(fixed_rules), &fixed, &prob) == COF_OK);
        have_fixed = true;
    }
    struct srv_cors_config parsed = {NULL, 0};
    check_parse((const char *)data, size, &parsed);

    if (size <= 4096) {
        char *text = malloc(size + 1);
        if (text != NULL) {
            memcpy(text, data, size);
            text[size] = '\0';
            char *origin = text;
            char *method = cut_line(origin);
            char *headers = cut_line(method);
            check_match(&fixed, origin, method, headers);
            check_match(&fixed, origin, method, NULL);
            if (parsed.n > 0)
                check_match(&parsed, origin, method, headers);
            struct srv_cors_defaults d = {4566, headers, headers, headers, false};
            size_t count = 0;
            (void)srv_cors_default_allowed(&d, origin);
            REQUIRE(srv_cors_default_headers(&d, origin, headers, true, ignore, &count) == COF_OK);
            free(text);
        }
    }
    srv_cors_config_cleanup(&parsed);
    return 0;
}

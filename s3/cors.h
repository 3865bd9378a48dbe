/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket CORS: the CORSConfiguration document (parse, validate as S3 does, write back in one
 * canonical form), rule matching for preflight and actual requests, and the response headers a
 * matched rule or LocalStack's permissive default produces. Pure string work: no I/O, no
 * storage, no HTTP library; headers are handed to a callback. Thread-safe. */
#ifndef SRV_CORS_H
#define SRV_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "s3/s3err.h"

#define SRV_CORS_MAX_RULES 100u   /* S3: "a CORS configuration can have up to 100 rules" */
#define SRV_CORS_CONFIG    "cors" /* bucket config name (sto_meta_*_bucket_config) */

struct srv_strlist {
    char **v; /* owned */
    size_t n;
};

struct srv_cors_rule {
    char *id; /* NULL when absent */
    struct srv_strlist allowed_headers;
    struct srv_strlist allowed_methods; /* each GET, PUT, POST, DELETE or HEAD, as given */
    struct srv_strlist allowed_origins; /* each with at most one '*' */
    struct srv_strlist expose_headers;
    bool has_max_age;
    long max_age;
};

struct srv_cors_config {
    struct srv_cors_rule *rules; /* owned */
    size_t n;                    /* 1..SRV_CORS_MAX_RULES after a successful parse */
};

/* PutBucketCors body (cap SRV_MAX_SMALL_XML_BODY, S3's 64 KB): root CORSConfiguration with
 * 1..100 CORSRule, each with at least one AllowedOrigin and one AllowedMethod, optional ID and
 * MaxAgeSeconds (an integer), any number of AllowedHeader and ExposeHeader. Values are trimmed.
 * COF_ERR_MALFORMED_XML for anything else (not well-formed, wrong root, no or too many rules, a
 * rule missing origins or methods, a repeated ID, a bad MaxAgeSeconds); COF_ERR_TOO_LARGE;
 * COF_ERR_INVALID_REQUEST with S3's message in *prob (kept in its text, the quoted value cut to
 * fit) for an unsupported method or a pattern with more than one '*'; the other codes are bare.
 * On failure *out holds nothing to free. */
COF_MUST_CHECK cof_err srv_cors_parse(const char *body, size_t n, struct srv_cors_config *out,
                                      struct srv_problem *prob);
/* The GetBucketCors document for c: rules in order, each element in the order ID,
 * AllowedHeader, AllowedMethod, AllowedOrigin, ExposeHeader, MaxAgeSeconds. This is also the
 * stored form; srv_cors_parse reads it back unchanged. *out is the caller's. */
COF_MUST_CHECK cof_err srv_cors_write(const struct srv_cors_config *c, char **out, size_t *out_len);
/* Frees the rules; c is empty afterwards. Accepts NULL. */
void srv_cors_config_cleanup(struct srv_cors_config *c);

/* s matches pattern, where one '*' in the pattern stands for one or more characters (a
 * pattern of "*" alone matches anything). icase: compare ASCII case-insensitively. */
bool srv_cors_wildcard_match(const char *pattern, const char *s, bool icase);

/* The first rule that allows origin and method and, when request_headers (the comma list of
 * Access-Control-Request-Headers) is non-NULL and not blank, every header in it (case-
 * insensitively, AllowedHeader may hold a '*'). NULL when none does. Borrowed from c. */
const struct srv_cors_rule *srv_cors_match(const struct srv_cors_config *c, const char *origin,
                                           const char *method, const char *request_headers);

/* Receives one response header (name, value); both borrowed for the call. */
typedef void (*srv_cors_emit_fn)(void *arg, const char *name, const char *value);

/* The headers S3 sends for a matched rule r: Access-Control-Allow-Origin (the request's origin,
 * or "*" when the rule allows "*"), Access-Control-Allow-Credentials ("true" unless "*"), Vary,
 * Access-Control-Allow-Methods, Access-Control-Allow-Headers (the requested headers, lower
 * case), Access-Control-Expose-Headers, Access-Control-Max-Age. COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_cors_rule_headers(const struct srv_cors_rule *r, const char *origin,
                                             const char *request_headers, srv_cors_emit_fn emit,
                                             void *arg);

/* LocalStack's gateway CORS, used when a bucket has no rules (localstack profile). */
struct srv_cors_defaults {
    unsigned port;             /* the port served: origins http(s)://localhost:PORT are allowed */
    const char *extra_origins; /* EXTRA_CORS_ALLOWED_ORIGINS (comma list) or NULL */
    const char *extra_headers; /* EXTRA_CORS_ALLOWED_HEADERS */
    const char *extra_expose;  /* EXTRA_CORS_EXPOSE_HEADERS */
    bool disable_checks;       /* DISABLE_CORS_CHECKS: every origin allowed, answered with "*" */
};

/* Whether LocalStack lets origin through by default: its web app, https://localhost,
 * localhost and localhost.localstack.cloud on the served port, file://, the extra origins (an
 * entry "*" allows all), or anything with disable_checks. */
bool srv_cors_default_allowed(const struct srv_cors_defaults *d, const char *origin);

/* LocalStack's default headers: Access-Control-Allow-Origin (origin, or "*" with
 * disable_checks), -Allow-Credentials (unless "*"), -Allow-Methods (HEAD,GET,PUT,POST,DELETE,
 * OPTIONS,PATCH), -Allow-Headers (the requested ones, then LocalStack's list and the extra
 * ones), -Expose-Headers, -Allow-Private-Network when asked for, and Vary: Origin.
 * COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_cors_default_headers(const struct srv_cors_defaults *d,
                                                const char *origin, const char *request_headers,
                                                bool private_network, srv_cors_emit_fn emit,
                                                void *arg);

#endif

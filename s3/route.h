/* SPDX-License-Identifier: Apache-2.0 */
/* Request addressing and row matching: (method, Host, raw path, query) gives the scope plus the
 * decoded bucket and key, and srv_route_match says whether one row of the operation table
 * (ops/optable.def) matches. No I/O, no storage lookups; bucket existence and name validity
 * (for CreateBucket) are the operation's business. Thread-safe. */
#ifndef SRV_ROUTE_H
#define SRV_ROUTE_H

#include <stdbool.h>

#include "common/err.h"
#include "s3/uri.h"

#define SRV_MAX_KEY_LEN 1024u /* bytes of the decoded key; longer -> COF_ERR_KEY_TOO_LONG */

/* Where a request is addressed. */
enum srv_scope {
    SRV_SCOPE_SERVICE = 1 << 0,  /* "/" (ListBuckets) */
    SRV_SCOPE_BUCKET = 1 << 1,   /* a bucket, no key */
    SRV_SCOPE_OBJECT = 1 << 2,   /* a bucket and a key */
    SRV_SCOPE_INTERNAL = 1 << 3, /* an emulator endpoint (/_localstack/...), matched by path */
    SRV_SCOPE_TARGET = 1 << 4,   /* a JSON/Query service: POST / with X-Amz-Target or Action= */
};
#define SRV_SCOPE_S3 (SRV_SCOPE_SERVICE | SRV_SCOPE_BUCKET | SRV_SCOPE_OBJECT)

/* Request methods as bits, so that one row can match several. */
enum srv_method {
    SRV_M_GET = 1 << 0,
    SRV_M_HEAD = 1 << 1,
    SRV_M_PUT = 1 << 2,
    SRV_M_POST = 1 << 3,
    SRV_M_DELETE = 1 << 4,
    SRV_M_OPTIONS = 1 << 5,
    SRV_M_OTHER = 1 << 6, /* anything else (PATCH, ...) */
};
#define SRV_M_ANY 0x7fu

/* Extra conditions a row can put on a request. */
enum srv_cond {
    SRV_COND_COPY_SOURCE = 1 << 0,        /* x-amz-copy-source is present */
    SRV_COND_PART_NUMBER = 1 << 1,        /* ?partNumber is present */
    SRV_COND_LIST_V2 = 1 << 2,            /* ?list-type=2 */
    SRV_COND_PATH_PREFIX = 1 << 3,        /* INTERNAL: sub is a path prefix, the rest a stage */
    SRV_COND_BUCKET_SUBRESOURCE = 1 << 4, /* evaluated by the operation table, not here */
    /* TARGET: the row is an AWS Query protocol action (Action= in the query or the form body),
     * not an X-Amz-Target operation; each kind matches only rows of its kind */
    SRV_COND_ACTION = 1 << 5,
    SRV_COND_ACTION_IN_BODY = 1 << 6, /* TARGET: the Action is in a form body not read yet */
    /* TARGET: sub is a prefix of the target (a service's catch-all row, "TrentService.") */
    SRV_COND_TARGET_PREFIX = 1 << 7
};

/* How an operation is recognised: one row of the operation table (ops/optable.def). */
struct srv_op_match {
    unsigned scopes;  /* enum srv_scope bits */
    unsigned methods; /* enum srv_method bits */
    const char *sub;  /* S3: a query parameter that must be present (a sub-resource);
                       * INTERNAL: the endpoint's path; TARGET: the X-Amz-Target / Action value;
                       * NULL: no requirement */
    unsigned cond;    /* enum srv_cond bits */
};

/* An addressed request: what srv_route_parse found, and what rows are matched against. */
struct srv_route {
    enum srv_scope scope;
    unsigned method;               /* one enum srv_method bit */
    char *bucket;                  /* decoded, owned; NULL for service-level and other scopes */
    char *key;                     /* decoded, owned; NULL for bucket-level; never "" */
    char *ls_stage;                /* INTERNAL with a path prefix: decoded, lower-cased rest */
    bool virtual_host;             /* the bucket came from the Host header */
    bool has_copy_source;          /* x-amz-copy-source was sent */
    const char *raw_path;          /* borrowed from the caller, valid while the request lives */
    const char *target;            /* X-Amz-Target or Action (borrowed), or NULL */
    bool query_action;             /* TARGET: target is a Query protocol Action (or will be) */
    bool action_in_body;           /* TARGET: the Action is in the form body, not read yet */
    const struct srv_query *query; /* borrowed */
};

/* What a request says about the protocol it speaks, beyond its method and path. */
struct srv_route_signals {
    const char *target;        /* the X-Amz-Target header, or NULL */
    bool form_body;            /* Content-Type: application/x-www-form-urlencoded */
    const char *scope_service; /* the SigV4 credential scope's service ("sts"), or NULL */
};

/* Frees the strings; r is zeroed. Accepts NULL. */
void srv_route_cleanup(struct srv_route *r);

/* The method bit for a method name as sent (case-sensitive, "GET"); SRV_M_OTHER otherwise. */
unsigned srv_route_method(const char *method);

/* Addresses a request. method: as sent; host: the Host header, may be NULL and may carry
 * ":port"; raw_path: percent-encoded, starts with '/', no query (borrowed into out); q: the
 * parsed query (borrowed); has_copy_source: x-amz-copy-source is present; sig: the protocol
 * signals (borrowed; NULL: none); internal: whether raw_path is an emulator endpoint (the
 * operation table knows which; then nothing else is decoded).
 * Addressing: "<bucket>.s3.<anything>" and "<bucket>.localhost" are virtual-host style,
 * everything else (IPs, localhost, s3.<domain>) is path style. Only "/" can be another
 * service (SRV_SCOPE_TARGET): a POST with X-Amz-Target (JSON protocol); a GET or POST with a
 * query Action= (Query protocol); a POST whose form body or credential scope (a service
 * other than s3) says Query protocol, with its Action still in the body (action_in_body).
 * A bucket or object path is always S3. The key is decoded without '+' -> space and must be
 * valid UTF-8.
 * COF_ERR_INVALID: path not starting with '/', bad %-escape, NUL, empty bucket segment
 * ("//x"), key not valid UTF-8 (AWS: InvalidURI). COF_ERR_KEY_TOO_LONG: key over
 * SRV_MAX_KEY_LEN bytes. COF_ERR_NOMEM. On failure *out is zeroed. */
COF_MUST_CHECK cof_err srv_route_parse(const char *method, const char *host, const char *raw_path,
                                       const struct srv_query *q, bool has_copy_source,
                                       const struct srv_route_signals *sig, bool internal,
                                       struct srv_route *out);

/* Whether an internal endpoint row m addresses raw_path (exact path, or prefix with
 * SRV_COND_PATH_PREFIX). */
bool srv_route_internal_path(const struct srv_op_match *m, const char *raw_path);

/* Whether row m matches the addressed request r (scope, method, sub-resource or path or
 * target, and conditions other than SRV_COND_BUCKET_SUBRESOURCE). */
bool srv_route_match(const struct srv_op_match *m, const struct srv_route *r);

/* For an internal prefix row: decodes the rest of the path after m->sub into r->ls_stage
 * (lower-cased). COF_ERR_INVALID (bad escape or UTF-8), COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_route_stage(const struct srv_op_match *m, struct srv_route *r);

/* AWS bucket naming rules: 3..63 bytes of [a-z0-9.-], starting and ending with a letter or
 * digit, no "..", not an IPv4 address, no reserved prefix (xn--, sthree-, amzn-s3-demo-) or
 * suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3). COF_ERR_BAD_BUCKET_NAME otherwise. */
COF_MUST_CHECK cof_err srv_bucket_name_check(const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the HTTP request front: what the server does with a request line and its
 * headers before an operation touches storage, without sockets. The input is a request head as
 * it arrives on the wire, "METHOD SP target SP HTTP/1.1 CRLF (Name: value CRLF)* CRLF", split
 * the way libmicrohttpd hands it over (a head it would refuse, such as a header line without a
 * name, is skipped). Then, as the server does:
 *   - srv_dispatch_parse: target split, credentials (Authorization or presigned query),
 *     region, routing to a row of the operation table (Host, path, query, copy source);
 *   - srv_authn_check at a fixed clock against fixed credentials (SigV4, presigned, SigV2);
 *   - the headers the write and read paths parse: body framing (Content-Length,
 *     aws-chunked, x-amz-decoded-content-length), the checksum plan (x-amz-checksum-*,
 *     x-amz-trailer, x-amz-sdk-checksum-algorithm), SSE-C for object and copy source,
 *     x-amz-tagging, x-amz-copy-source, conditional headers (both sets), Range, Content-MD5,
 *     and the stored header block, also from values with line breaks (as POST Object's form
 *     fields, which stand in for headers, may carry; "\\n" and "\\r" in a value here).
 * Invariants: every refusal is a 4xx S3 error (never 500), with AWS's message where the code
 * records one; what is accepted is well formed (see each check). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "ops/copysrc.h"
#include "ops/read.h"
#include "ops/req.h"
#include "ops/write.h"
#include "s3/auth.h"
#include "s3/httpfmt.h"
#include "s3/s3err.h"
#include "s3/sse.h"
#include "s3/tagging.h"
#include "s3/uri.h"
#include "server/authn.h"
#include "server/dispatch.h"

#include "fuzz.h"

#define MAX_INPUT   (64u * 1024)
#define MAX_HEADERS 64
/* The fixed clock: 2026-11-25T16:00:00Z, the date the signed seeds carry. */
#define FUZZ_NOW 1795622400LL

struct head {
    const char *method, *target;
    const char *name[MAX_HEADERS];
    const char *value[MAX_HEADERS];
    size_t n;
};

static const char *head_get(void *arg, const char *name)
{
    const struct head *h = arg;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static void head_each(void *arg, srv_header_fn cb, void *cb_arg)
{
    const struct head *h = arg;
    for (size_t i = 0; i < h->n; i++)
        cb(cb_arg, h->name[i], h->value[i]);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* One header line into h; false for a line libmicrohttpd refuses (no colon, empty name or
 * whitespace in the name). Values are trimmed, as libmicrohttpd trims them. */
static bool add_header(struct head *h, char *line)
{
    char *colon = strchr(line, ':');
    if (colon == NULL || colon == line || h->n == MAX_HEADERS)
        return false;
    *colon = '\0';
    for (const char *p = line; *p != '\0'; p++)
        if (is_space(*p) || (unsigned char)*p < 0x21)
            return false;
    char *v = colon + 1;
    while (is_space(*v))
        v++;
    size_t vl = strlen(v);
    while (vl > 0 && is_space(v[vl - 1]))
        v[--vl] = '\0';
    h->name[h->n] = line;
    h->value[h->n] = v;
    h->n++;
    return true;
}

/* Splits text (NUL-terminated, modified in place) into the request line and headers. */
static bool parse_head(char *text, struct head *h)
{
    memset(h, 0, sizeof(*h));
    char *line = text;
    for (size_t i = 0; line != NULL; i++) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (i == 0) {
            char *sp = strchr(line, ' ');
            if (sp == NULL || sp == line)
                return false;
            *sp = '\0';
            h->method = line;
            h->target = sp + 1;
            sp = strchr(sp + 1, ' ');
            if (sp != NULL)
                *sp = '\0';
            if (h->target[0] == '\0')
                return false;
        } else if (len == 0) {
            break; /* end of the head */
        } else if (!add_header(h, line)) {
            return false;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return h->method != NULL;
}

/* A refusal the client is to blame for: a 4xx S3 error. */
static void require_client_error(cof_err e)
{
    unsigned status = srv_s3err_lookup(e)->status;
    REQUIRE(e == COF_ERR_NOMEM || (status >= 400 && status < 500));
}

static void check_route(const struct srv_req *req, const struct srv_auth *auth)
{
    const struct srv_op *op = req->op;
    const struct srv_route *r = &req->route;
    REQUIRE(op != NULL && op->name != NULL && op->finish != NULL);
    REQUIRE(req->raw_path != NULL && req->raw_path[0] == '/');
    REQUIRE(req->region != NULL && req->region[0] != '\0');
    REQUIRE(r->key == NULL || r->bucket != NULL);
    if (r->bucket != NULL)
        REQUIRE(r->bucket[0] != '\0' && srv_utf8_valid(r->bucket, strlen(r->bucket)));
    if (r->key != NULL) {
        size_t kl = strlen(r->key);
        REQUIRE(kl > 0 && kl <= SRV_MAX_KEY_LEN && srv_utf8_valid(r->key, kl));
    }
    /* A preflight is answered as one, wherever it goes. */
    if (strcmp(req->method, "OPTIONS") == 0)
        REQUIRE(strcmp(op->name, "PreflightRequest") == 0 ||
                strcmp(op->name, "LocalstackPreflight") == 0);
    if (auth->kind == SRV_AUTH_NONE)
        REQUIRE(auth->access_key[0] == '\0');
}

/* Authentication at the fixed clock: a signed request is accepted or refused with a 4xx;
 * an anonymous one is always refused. */
static void check_authn(struct srv_req *req, const struct srv_auth *auth)
{
    cof_err err = srv_authn_check(req, auth, FUZZ_NOW);
    if (getenv("FUZZ_FRONT_VERBOSE") != NULL) /* what an input reaches, for corpus work */
        fprintf(stderr, "%s %s: %s, authn %s\n", req->method, req->raw_uri, req->op->name,
                err == COF_OK ? "OK" : srv_s3err_lookup(err)->code);
    if (auth->kind == SRV_AUTH_NONE)
        REQUIRE(err == COF_ERR_ACCESS_DENIED);
    if (err != COF_OK)
        require_client_error(err);
    else
        REQUIRE(auth->access_key[0] != '\0');
    if (req->fail.code != COF_OK)
        REQUIRE(req->fail.code == err && req->fail.message != NULL);
}

static void forget_failure(struct srv_req *req)
{
    srv_failure_cleanup(&req->fail);
    memset(&req->fail, 0, sizeof(req->fail));
}

/* Body framing and the checksum plan, as PutObject and UploadPart begin. */
static void check_write_headers(struct srv_req *req)
{
    bool chunked = false;
    uint64_t decoded = 0;
    cof_err err = ops_body_framing(req, &chunked, &decoded);
    REQUIRE(err == COF_OK || err == COF_ERR_MISSING_LENGTH || err == COF_ERR_INVALID_ARGUMENT ||
            err == COF_ERR_ENTITY_TOO_LARGE);
    /* The size is known and within the cap, or unknown: chunked transfer coding alone. */
    REQUIRE(decoded <= SRV_MAX_OBJECT_SIZE ||
            (decoded == OPS_SIZE_UNKNOWN && !chunked && err == COF_OK &&
             srv_req_header(req, "Content-Length") == NULL));
    if (err != COF_OK)
        require_client_error(err);

    struct ops_put p;
    memset(&p, 0, sizeof(p));
    p.chunked = chunked;
    err = ops_plan_checksum(req, &p);
    if (err == COF_OK) {
        REQUIRE(p.cksum_alg > SRV_CKSUM_NONE && p.cksum_alg < SRV_CKSUM__COUNT);
        REQUIRE(!p.cksum_in_trailer || chunked);
        if (p.cksum_want[0] != '\0') {
            uint8_t raw[SRV_CKSUM_MAX_LEN];
            size_t len = 0;
            REQUIRE(srv_base64_decode(p.cksum_want, raw, sizeof(raw), &len) == COF_OK &&
                    len == srv_cksum_len(p.cksum_alg));
        }
    } else {
        REQUIRE(err == COF_ERR_INVALID_REQUEST && req->fail.code == err &&
                req->fail.message != NULL);
    }
    srv_cksum_cleanup(&p.cksum);
    forget_failure(req);
}

static void check_ssec(const struct srv_hdr_view *v)
{
    for (int side = 0; side < 2; side++) {
        for (int write = 0; write < 2; write++) {
            struct srv_ssec s;
            struct srv_problem pr;
            memset(&s, 0, sizeof(s));
            cof_err err =
                srv_ssec_parse(v, side ? SRV_SSE_COPY_SOURCE : SRV_SSE_OBJECT, write != 0, &s, &pr);
            if (err == COF_OK) {
                REQUIRE(s.key == NULL || s.present);
                REQUIRE(!s.md5_sent || s.key != NULL);
            } else {
                require_client_error(err);
                REQUIRE(pr.code == err && pr.message != NULL && pr.message[0] != '\0');
            }
            srv_ssec_cleanup(&s);
        }
    }
}

static void check_conditions(const struct head *h)
{
    char etag[] = "9e107d9d372bb6826bd81d3542a419d6";
    struct sto_object o;
    memset(&o, 0, sizeof(o));
    o.etag = etag;
    o.mtime_ms = FUZZ_NOW * 1000;
    static const char *const names[2][4] = {
        {"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"},
        {"x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
         "x-amz-copy-source-if-modified-since", "x-amz-copy-source-if-unmodified-since"},
    };
    for (int copy = 0; copy < 2; copy++) {
        const char *v[4];
        for (int i = 0; i < 4; i++)
            v[i] = head_get((void *)(uintptr_t)h, names[copy][i]);
        cof_err err = ops_eval_conditions(v[0], v[1], v[2], v[3], &o, copy != 0);
        REQUIRE(err == COF_OK || err == COF_ERR_PRECONDITION ||
                (err == COF_ERR_NOT_MODIFIED && !copy));
        if (v[0] == NULL && v[1] == NULL && v[2] == NULL && v[3] == NULL)
            REQUIRE(err == COF_OK);
    }
}

static void check_other_headers(const struct head *h)
{
    void *arg = (void *)(uintptr_t)h;
    const char *range = head_get(arg, "Range");
    uint64_t first = 0, last = 0;
    if (range != NULL && srv_range_parse(range, 1000, &first, &last) == COF_OK)
        REQUIRE(first <= last && last < 1000);

    struct srv_tagset t = {0};
    struct srv_problem pr;
    cof_err err = srv_tagging_parse_header(head_get(arg, "x-amz-tagging"), &t, &pr);
    if (err == COF_OK)
        REQUIRE(srv_tagset_validate(&t, SRV_TAGS_OBJECT, &pr) == COF_OK);
    else
        REQUIRE(pr.code == err && t.n == 0);
    srv_tagset_cleanup(&t);

    const char *src = head_get(arg, "x-amz-copy-source");
    char *b = NULL, *k = NULL, *ver = NULL;
    if (src != NULL && ops_parse_copy_source(src, &b, &k, &ver) == COF_OK)
        REQUIRE(b != NULL && b[0] != '\0' && k != NULL && k[0] != '\0');
    free(b);
    free(k);
    free(ver);

    const char *md5 = head_get(arg, "Content-MD5");
    uint8_t raw[16];
    size_t n = 0;
    if (md5 != NULL && srv_base64_decode(md5, raw, sizeof(raw), &n) != COF_OK)
        REQUIRE(n == 0);
}

static bool is_stored_name(const char *name, size_t len)
{
    static const char *const names[] = {"Content-Type",
                                        "Content-Encoding",
                                        "Content-Disposition",
                                        "Content-Language",
                                        "Cache-Control",
                                        "Expires",
                                        "x-amz-website-redirect-location"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return true;
    /* "x-amz-meta-" alone is stored too (a header "x-amz-meta-: v" is metadata named ""). */
    return len >= 11 && strncmp(name, "x-amz-meta-", 11) == 0;
}

/* The stored header block: one "name:value\n" line per stored header or user metadata header,
 * Content-Type first, never an internal ("coffer-") line. */
static void check_stored_headers(struct srv_req *req, size_t n_headers)
{
    char *block = NULL;
    if (ops_headers_from_request(req, &block) != COF_OK)
        return;
    REQUIRE(strncmp(block, "Content-Type:", 13) == 0);
    size_t lines = 0;
    for (const char *line = block; *line != '\0'; lines++) {
        const char *nl = strchr(line, '\n');
        REQUIRE(nl != NULL);
        const char *colon = memchr(line, ':', (size_t)(nl - line));
        REQUIRE(colon != NULL && is_stored_name(line, (size_t)(colon - line)));
        line = nl + 1;
    }
    REQUIRE(lines <= n_headers + 1);
    free(block);
}

/* POST Object's form fields stand in for headers and, unlike headers, may hold line breaks:
 * the same headers with "\\n" and "\\r" in values turned into LF and CR. */
static void check_stored_form_fields(struct srv_req *req, const struct head *h)
{
    struct head form = *h;
    char *copies[MAX_HEADERS] = {NULL};
    for (size_t i = 0; i < h->n; i++) {
        if (strchr(h->value[i], '\\') == NULL || (copies[i] = strdup(h->value[i])) == NULL)
            continue;
        char *w = copies[i];
        for (const char *r = h->value[i]; *r != '\0'; r++) {
            if (r[0] == '\\' && (r[1] == 'n' || r[1] == 'r')) {
                *w++ = r[1] == 'n' ? '\n' : '\r';
                r++;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
        form.value[i] = copies[i];
    }
    const struct srv_hdr_view view = {head_get, head_each, &form};
    const struct srv_hdr_view *saved = req->hdr_view;
    req->hdr_view = &view;
    check_stored_headers(req, h->n);
    req->hdr_view = saved;
    for (size_t i = 0; i < h->n; i++)
        free(copies[i]);
}

static void cleanup_req(struct srv_req *req)
{
    cry_digest_free(req->body_sha);
    free(req->chunk_auth);
    srv_failure_cleanup(&req->fail);
    srv_query_cleanup(&req->query);
    srv_route_cleanup(&req->route);
    for (size_t i = 0; i < req->n_hdrs; i++) {
        free(req->hdrs[i].name);
        free(req->hdrs[i].value);
    }
    free(req->region);
    free(req->raw_path);
    free(req->raw_uri);
}

static void run_front(struct head *h)
{
    static struct srv_config cfg = {
        .region = (char *)(uintptr_t) "us-east-1",
        .verify_signatures = true,
        .credentials = (char *)(uintptr_t) "test:test,AKIAIOSFODNN7EXAMPLE:"
                                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    };
    static struct srv_ctx ctx = {.cfg = &cfg};
    const struct srv_hdr_view view = {head_get, head_each, h};
    struct srv_req req;
    memset(&req, 0, sizeof(req));
    req.ctx = &ctx;
    req.method = h->method;
    req.is_head = strcmp(h->method, "HEAD") == 0;
    req.hdr_view = &view;
    memcpy(req.rid, "FUZZFUZZFUZZFUZZ", 17);
    req.raw_uri = strdup(h->target);
    if (req.raw_uri == NULL)
        return;

    struct srv_auth auth;
    memset(&auth, 0, sizeof(auth));
    cof_err err = srv_dispatch_parse(&req, &auth);
    if (err != COF_OK) {
        require_client_error(err);
        REQUIRE(req.op == NULL);
    } else {
        check_route(&req, &auth);
        check_authn(&req, &auth);
        forget_failure(&req);
        check_write_headers(&req);
        check_stored_headers(&req, h->n);
        check_stored_form_fields(&req, h);
    }
    check_ssec(&view);
    check_conditions(h);
    check_other_headers(h);
    cleanup_req(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        cof_log_set_level(COF_LOG_ERROR);
        quiet = true;
    }
    if (size > MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct head h;
    if (parse_head(text, &h))
        run_front(&h);
    free(text);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the request-target and header parsers: query strings, routing, bucket names,
 * percent-coding, base64, Range, HTTP dates, ETag lists. Input: up to five '\n'-separated
 * fields "method\nhost\npath\nquery\nheader"; every parser also sees the whole input. Checks
 * invariants and aborts on a violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "s3/httpfmt.h"
#include "ops/table.h"
#include "s3/route.h"
#include "s3/uri.h"

#include "fuzz.h"

static void check_route(const char *method, const char *host, const char *path, const char *query,
                        bool copy, const struct srv_route_signals *sig)
{
    struct srv_query q;
    struct srv_route r;
    const struct srv_op *op = NULL;
    cof_err err = srv_query_parse(query, &q);
    if (err != COF_OK) {
        REQUIRE(q.params == NULL && q.n == 0);
        return;
    }
    REQUIRE(q.n <= SRV_QUERY_MAX_PARAMS);
    for (size_t i = 0; i < q.n; i++) {
        REQUIRE(q.params[i].name != NULL && q.params[i].value != NULL);
        REQUIRE(srv_query_has(&q, q.params[i].name));
    }
    err = srv_optable_route_signals(method, host, path, &q, copy, sig, &r, &op);
    if (err != COF_OK) {
        REQUIRE(op == NULL && r.bucket == NULL && r.key == NULL && r.ls_stage == NULL);
    } else {
        REQUIRE(op != NULL && op->name != NULL && op->finish != NULL);
        REQUIRE((op->match.scopes & (unsigned)r.scope) != 0);
        REQUIRE(r.key == NULL || r.bucket != NULL);
        REQUIRE(!r.virtual_host || r.bucket != NULL);
        REQUIRE(r.ls_stage == NULL || strcmp(op->name, "LocalstackInit") == 0);
        /* Only "/" can be another service; the body's Action is pending only without one. */
        REQUIRE(r.scope != SRV_SCOPE_TARGET || r.bucket == NULL);
        REQUIRE(!r.action_in_body || (r.target == NULL && r.query_action));
        if (r.bucket != NULL) {
            REQUIRE(r.bucket[0] != '\0');
            REQUIRE(srv_utf8_valid(r.bucket, strlen(r.bucket)));
            if (srv_bucket_name_check(r.bucket) == COF_OK)
                REQUIRE(strlen(r.bucket) >= 3 && strlen(r.bucket) <= 63);
        }
        if (r.key != NULL) {
            size_t klen = strlen(r.key);
            REQUIRE(klen > 0 && klen <= SRV_MAX_KEY_LEN);
            REQUIRE(srv_utf8_valid(r.key, klen));
            /* encoding-type=url output decodes back to the key */
            struct cof_buf b;
            char *dec = NULL;
            size_t dlen = 0;
            cof_buf_init(&b, 4 * SRV_MAX_KEY_LEN);
            REQUIRE(srv_uri_encode(r.key, true, &b) == COF_OK);
            REQUIRE(srv_uri_decode_path(b.data, b.len, &dec, &dlen) == COF_OK);
            REQUIRE(dlen == klen && memcmp(dec, r.key, klen) == 0);
            free(dec);
            cof_buf_cleanup(&b);
        }
        /* A CORS preflight is answered as one on every path, the service root included. */
        if (strcmp(method, "OPTIONS") == 0)
            REQUIRE(strcmp(op->name, "PreflightRequest") == 0 ||
                    strcmp(op->name, "LocalstackPreflight") == 0);
        /* Without a bucket, only ListBuckets, a preflight, an emulator endpoint, a refusal, or
         * another service's operation at "/". */
        if (r.bucket == NULL && (op->flags & (OPF_REFUSED | OPF_INTERNAL)) == 0 &&
            !(r.scope == SRV_SCOPE_TARGET && (op->flags & (OPF_JSON | OPF_QUERY)) != 0))
            REQUIRE(strcmp(op->name, "ListBuckets") == 0 ||
                    strcmp(op->name, "PreflightRequest") == 0);
        srv_route_cleanup(&r);
        REQUIRE(r.bucket == NULL && r.key == NULL);
    }
    srv_query_cleanup(&q);
}

static void check_header(const char *h)
{
    uint64_t first = 0, last = 0;
    static const uint64_t sizes[] = {0, 1, 10, 1000, UINT64_MAX};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        cof_err err = srv_range_parse(h, sizes[i], &first, &last);
        REQUIRE(err == COF_OK || err == COF_ERR_INVALID_RANGE || err == COF_ERR_NOT_FOUND);
        if (err == COF_OK)
            REQUIRE(first <= last && last < sizes[i]);
    }

    int64_t t = 0, t2 = 0;
    if (srv_http_date_parse(h, &t) == COF_OK && t >= 0) {
        char out[32];
        srv_http_date_format(t, out);
        REQUIRE(srv_http_date_parse(out, &t2) == COF_OK);
        /* a leap second (:60) normalises to the next minute and formats as such */
        REQUIRE(t2 == t || t > 253402300799LL);
        srv_iso8601_format(t * 1000, out);
        REQUIRE(strlen(out) == 24);
    }

    bool m = false;
    if (srv_etag_list_match(h, "abc", &m) != COF_OK)
        REQUIRE(!m);

    uint8_t bin[64];
    size_t blen = 0;
    cof_err err = srv_base64_decode(h, bin, sizeof(bin), &blen);
    if (err == COF_OK) {
        char enc[4 * ((sizeof(bin) + 2) / 3) + 1];
        srv_base64_encode(bin, blen, enc);
        REQUIRE(strcmp(enc, h) == 0); /* strict decoding accepts canonical input only */
    } else {
        REQUIRE(blen == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char *whole = malloc(size + 1);
    char *field[5] = {NULL, NULL, NULL, NULL, NULL};
    if (buf == NULL || whole == NULL)
        goto out;
    memcpy(buf, data, size);
    buf[size] = '\0';
    memcpy(whole, data, size);
    whole[size] = '\0';

    /* split into fields; embedded NULs simply shorten a field */
    size_t nf = 0;
    char *p = buf;
    while (nf < 5) {
        field[nf++] = p;
        char *nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    const char *method = field[0];
    const char *host = nf > 1 ? field[1] : NULL;
    const char *path = nf > 2 ? field[2] : "/";
    const char *query = nf > 3 ? field[3] : NULL;
    const char *header = nf > 4 ? field[4] : whole;

    /* The header field doubles as X-Amz-Target or credential scope service; the first
     * byte's bits choose which signals a request carries. */
    unsigned bits = size > 0 ? data[0] : 0;
    struct srv_route_signals sig = {(bits & 2) ? header : NULL, (bits & 4) != 0,
                                    (bits & 8) ? header : NULL};
    check_route(method, host, path, query, (bits & 1) != 0, &sig);
    check_route("GET", NULL, whole, whole, false, NULL);
    check_route("PUT", whole, "/", NULL, true, NULL);
    check_route("POST", NULL, "/", whole, false, &sig);
    check_header(header);

    if (srv_bucket_name_check(whole) == COF_OK)
        REQUIRE(strlen(whole) >= 3 && strlen(whole) <= 63);
    char *dec = NULL;
    size_t dlen = 0;
    if (srv_uri_decode_path((const char *)data, size, &dec, &dlen) == COF_OK) {
        REQUIRE(dlen <= size && memchr(dec, '\0', dlen) == NULL);
        free(dec);
    }
out:
    free(buf);
    free(whole);
    return 0;
}

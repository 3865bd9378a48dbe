/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4 replayed from requests recorded from real clients (boto3, the aws CLI, the JavaScript
 * SDK; vectors/record_sigv4.py wrote sigv4_recorded.txt): each verifies with credentials
 * test/test, the recorded x-amz-date as the clock, through the same parse (srv_auth_parse) and
 * authentication (srv_authn_check: clock rules and srv_sigv4_verify) as a live request; a
 * tampered copy of each must fail. */
#include "check.h"
#include "common/config.h"
#include "crypto/digest.h"
#include "ops/req.h"
#include "s3/auth.h"
#include "server/authn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_HEADERS 32
#define LINE_MAX_   2048

struct rec {
    char client[256];
    char method[16];
    char path[1024];
    char query[LINE_MAX_];
    char names[MAX_HEADERS][64];
    char values[MAX_HEADERS][LINE_MAX_];
    size_t n;
    char body_sha[65];
    const char *tamper_name; /* lookup returns tamper_value for this header */
    const char *tamper_value;
};

static const char *lookup(void *arg, const char *name)
{
    const struct rec *r = arg;
    if (r->tamper_name != NULL && strcasecmp(name, r->tamper_name) == 0)
        return r->tamper_value;
    for (size_t i = 0; i < r->n; i++)
        if (strcasecmp(r->names[i], name) == 0)
            return r->values[i];
    return NULL;
}

/* "YYYYMMDDTHHMMSSZ" -> seconds since the epoch (UTC), or -1. */
static long long amz_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (s == NULL || strlen(s) != 16 ||
        sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    /* days from civil (no timegm in strict C17/POSIX) */
    int y = tm.tm_year + 1900, m = tm.tm_mon + 1;
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + tm.tm_mday - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

struct each_arg {
    srv_header_fn cb;
    void *cb_arg;
};

static void each(void *arg, srv_header_fn cb, void *cb_arg)
{
    const struct rec *r = arg;
    for (size_t i = 0; i < r->n; i++)
        cb(cb_arg, r->names[i], lookup(arg, r->names[i]));
}

/* Verifies r through the server's own authentication (srv_authn_check, with its clock rules:
 * 15 minutes of skew, a presigned URL until its expiry) with credentials test:secret at time
 * now. COF_ERR_INVALID when the credentials are not SigV4. */
static cof_err verify(const struct rec *r, const char *method, const char *path, const char *secret,
                      long long now)
{
    char creds[128];
    struct srv_config cfg;
    struct srv_ctx ctx;
    struct srv_req req;
    struct srv_auth a;
    struct srv_hdr_view view = {lookup, each, (void *)(uintptr_t)r};

    memset(&cfg, 0, sizeof(cfg));
    memset(&ctx, 0, sizeof(ctx));
    memset(&req, 0, sizeof(req));
    snprintf(creds, sizeof(creds), "test:%s", secret);
    cfg.credentials = creds;
    ctx.cfg = &cfg;
    req.ctx = &ctx;
    req.method = method;
    req.raw_path = (char *)(uintptr_t)path;
    req.hdr_view = &view;
    cof_err err = srv_query_parse(r->query, &req.query);
    if (err == COF_OK)
        err = srv_auth_parse(lookup((void *)(uintptr_t)r, "authorization"), &req.query, &a);
    if (err == COF_OK && a.kind != SRV_AUTH_V4)
        err = COF_ERR_INVALID;
    if (err == COF_OK)
        err = srv_authn_check(&req, &a, (int64_t)now);
    srv_query_cleanup(&req.query);
    cry_digest_free(req.body_sha);
    if (req.chunk_auth != NULL) {
        cry_digest_free(req.chunk_auth->sha);
        free(req.chunk_auth);
    }
    srv_failure_cleanup(&req.fail);
    return err;
}

static void check_record(struct rec *r)
{
    struct srv_query q;
    struct srv_auth a;
    fprintf(stderr, "replaying: %s\n", r->client);
    CHECK_EQ_INT(srv_query_parse(r->query, &q), COF_OK);
    CHECK_EQ_INT(srv_auth_parse(lookup(r, "authorization"), &q, &a), COF_OK);
    srv_query_cleanup(&q);
    const char *amz_date = a.presigned ? a.amz_date : lookup(r, "x-amz-date");
    long long now = amz_time(amz_date);
    CHECK(now > 0);
    CHECK_EQ_INT(verify(r, r->method, r->path, "test", now), COF_OK);
    /* a signed payload hash is the body's */
    const char *payload = lookup(r, "x-amz-content-sha256");
    if (!a.presigned && payload != NULL && strlen(payload) == 64)
        CHECK_EQ_STR(payload, r->body_sha);

    /* the clock: the recorded time passes; 16 minutes later (or after expiry) it does not */
    CHECK_EQ_INT(verify(r, r->method, r->path, "test", a.presigned ? now + a.expires : now + 900),
                 COF_OK);
    CHECK(verify(r, r->method, r->path, "test", a.presigned ? now + a.expires + 1 : now + 901) !=
          COF_OK);

    /* tampered copies */
    char path[1100];
    snprintf(path, sizeof(path), "%sx", r->path);
    CHECK_EQ_INT(verify(r, r->method, path, "test", now), COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(verify(r, strcmp(r->method, "GET") == 0 ? "HEAD" : "GET", r->path, "test", now),
                 COF_ERR_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(verify(r, r->method, r->path, "test2", now), COF_ERR_SIGNATURE_MISMATCH);
    r->tamper_name = "host";
    r->tamper_value = "127.0.0.1:1";
    CHECK_EQ_INT(verify(r, r->method, r->path, "test", now), COF_ERR_SIGNATURE_MISMATCH);
    if (!a.presigned) {
        /* every other signed header too, one at a time */
        char sh[sizeof(a.signed_headers)];
        snprintf(sh, sizeof(sh), "%s", a.signed_headers);
        for (char *save = NULL, *h = strtok_r(sh, ";", &save); h != NULL;
             h = strtok_r(NULL, ";", &save)) {
            if (strcmp(h, "x-amz-date") == 0)
                continue; /* that one is the clock: checked below */
            r->tamper_name = h;
            r->tamper_value = "tampered";
            CHECK_EQ_INT(verify(r, r->method, r->path, "test", now), COF_ERR_SIGNATURE_MISMATCH);
        }
        char later[17];
        snprintf(later, sizeof(later), "%.15s", amz_date);
        later[14] = later[14] == '0' ? '1' : '0'; /* a second's difference */
        later[15] = 'Z';
        later[16] = '\0';
        r->tamper_name = "x-amz-date";
        r->tamper_value = later;
        CHECK_EQ_INT(verify(r, r->method, r->path, "test", now), COF_ERR_SIGNATURE_MISMATCH);
    } else {
        /* a presigned URL with a changed query parameter */
        char saved[sizeof(r->query)];
        memcpy(saved, r->query, sizeof(saved));
        r->tamper_name = NULL;
        char *e = strstr(r->query, "X-Amz-Expires=");
        CHECK(e != NULL);
        if (e != NULL)
            e[strlen("X-Amz-Expires=")] = e[strlen("X-Amz-Expires=")] == '1' ? '2' : '1';
        CHECK_EQ_INT(verify(r, r->method, r->path, "test", now), COF_ERR_SIGNATURE_MISMATCH);
        memcpy(r->query, saved, sizeof(saved));
        snprintf(r->query + strlen(r->query), sizeof(r->query) - strlen(r->query), "&extra=1");
        CHECK_EQ_INT(verify(r, r->method, r->path, "test", now), COF_ERR_SIGNATURE_MISMATCH);
        memcpy(r->query, saved, sizeof(saved));
    }
    r->tamper_name = NULL;
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    if (argc != 2)
        return check_finish();
    FILE *f = fopen(argv[1], "r");
    CHECK(f != NULL);
    if (f == NULL)
        return check_finish();
    static struct rec r;
    static char line[LINE_MAX_ + 64];
    size_t records = 0;
    bool seen_boto = false, seen_cli = false, seen_js = false, seen_presigned = false;
    memset(&r, 0, sizeof(r));
    while (fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sp = strchr(line, ' ');
        const char *v = sp != NULL ? sp + 1 : "";
        if (sp != NULL)
            *sp = '\0';
        if (strcmp(line, "client") == 0) {
            snprintf(r.client, sizeof(r.client), "%s", v);
        } else if (strcmp(line, "method") == 0) {
            snprintf(r.method, sizeof(r.method), "%s", v);
        } else if (strcmp(line, "path") == 0) {
            snprintf(r.path, sizeof(r.path), "%s", v);
        } else if (strcmp(line, "query") == 0) {
            snprintf(r.query, sizeof(r.query), "%s", v);
        } else if (strcmp(line, "header") == 0) {
            const char *colon = strchr(v, ':');
            CHECK(colon != NULL && r.n < MAX_HEADERS);
            if (colon != NULL && r.n < MAX_HEADERS) {
                snprintf(r.names[r.n], sizeof(r.names[r.n]), "%.*s", (int)(colon - v), v);
                snprintf(r.values[r.n], sizeof(r.values[r.n]), "%s", colon + 1);
                r.n++;
            }
        } else if (strcmp(line, "body-sha256") == 0) {
            snprintf(r.body_sha, sizeof(r.body_sha), "%s", v);
        } else if (strcmp(line, "end") == 0) {
            check_record(&r);
            records++;
            seen_boto = seen_boto || strncmp(r.client, "boto3", 5) == 0;
            seen_cli = seen_cli || strncmp(r.client, "aws-cli", 7) == 0;
            seen_js = seen_js || strncmp(r.client, "@aws-sdk", 8) == 0;
            seen_presigned = seen_presigned || strstr(r.query, "X-Amz-Signature=") != NULL;
            memset(&r, 0, sizeof(r));
        } else {
            fprintf(stderr, "unknown line '%s'\n", line);
            CHECK(false);
        }
    }
    fclose(f);
    CHECK(records >= 6);
    CHECK(seen_boto && seen_cli && seen_js && seen_presigned);
    return check_finish();
}

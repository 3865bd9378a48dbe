/* SPDX-License-Identifier: Apache-2.0 */
/* Request authentication when signatures are checked: SigV4 (header, presigned query, signed
 * aws-chunked bodies) and SigV2, with the clock passed in. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "server/authn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "object/session.h"
#include "s3/httpfmt.h"
#include "s3/sigv2.h"
#include "s3/sigv4.h"

/* x-amz-date / X-Amz-Date "20130524T000000Z" -> epoch seconds. */
static bool parse_amz_date(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return false;
    char *end = strptime(s, "%Y%m%dT%H%M%SZ", &tm);
    if (end == NULL || *end != '\0')
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

static const char *lookup_header(void *arg, const char *name)
{
    return srv_req_header(arg, name);
}

/* "Wed, 25 Nov 2026 15:22:27 +0000" (RFC 2822 numeric zone, as s3cmd sends x-amz-date). */
static bool parse_rfc2822(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
    if (end == NULL)
        return false;
    while (*end == ' ')
        end++;
    int sign = 0, hh = 0, mm = 0;
    if ((end[0] == '+' || end[0] == '-') && sscanf(end + 1, "%2d%2d", &hh, &mm) == 2)
        sign = end[0] == '+' ? 1 : -1;
    else if (strcmp(end, "GMT") != 0 && strcmp(end, "UTC") != 0 && *end != '\0')
        return false;
    *out = (int64_t)timegm(&tm) - sign * (hh * 3600 + mm * 60);
    return true;
}

static cof_err secret_for(struct srv_req *req, const struct srv_auth *a, int64_t now, char *secret,
                          size_t n);

/* SigV2 (legacy clients): header "AWS AK:sig" with Date (or x-amz-date) within 15 minutes, or
 * query AWSAccessKeyId/Signature/Expires. */
static cof_err check_signature_v2(struct srv_req *req, const struct srv_auth *a, int64_t now)
{
    char secret[256], date[64] = "";
    char *resource = NULL;
    cof_err err = COF_OK;
    cof_err serr = secret_for(req, a, now, secret, sizeof(secret));
    if (serr != COF_OK)
        return serr;
    if (a->presigned) {
        if (a->expires < 0 || a->signature[0] == '\0')
            err = COF_ERR_ACCESS_DENIED;
        else if (now > a->expires)
            err = COF_ERR_EXPIRED;
        snprintf(date, sizeof(date), "%lld", a->expires);
    } else {
        const char *xd = srv_req_header(req, "x-amz-date");
        const char *d = xd != NULL ? xd : srv_req_header(req, "Date");
        int64_t t = 0;
        /* AWS answers a date before the epoch AccessDenied, not RequestTimeTooSkewed. */
        if (d == NULL || (srv_http_date_parse(d, &t) != COF_OK && !parse_rfc2822(d, &t)) || t < 0)
            err = COF_ERR_ACCESS_DENIED;
        else if (now - t > 900 || t - now > 900)
            err = COF_ERR_TIME_SKEWED;
        /* With x-amz-date, the Date line of the string to sign is empty. */
        if (xd == NULL && d != NULL)
            snprintf(date, sizeof(date), "%s", d);
    }
    /* The resource is "/bucket" + path for virtual-hosted requests, the path otherwise. */
    if (err == COF_OK) {
        size_t n = strlen(req->raw_path) + (req->route.bucket ? strlen(req->route.bucket) : 0) + 2;
        resource = malloc(n);
        if (resource == NULL)
            err = COF_ERR_NOMEM;
        else if (req->route.bucket != NULL && req->route.key == NULL)
            snprintf(resource, n, "/%s/", req->route.bucket); /* bucket: "/bucket/" */
        else if (req->route.virtual_host && req->route.bucket != NULL)
            snprintf(resource, n, "/%s%s", req->route.bucket, req->raw_path);
        else
            snprintf(resource, n, "%s", req->raw_path);
    }
    if (err == COF_OK) {
        struct srv_sigv2_in in = {req->method,          resource, &req->query,
                                  srv_req_headers(req), date,     a->presigned};
        err = srv_sigv2_verify(&in, secret, a->signature);
    }
    free(resource);
    cry_wipe(secret, sizeof(secret));
    return err;
}

/* A token error or unknown key in the words of a JSON or Query service (STS and KMS name
 * them differently from S3); S3 rows keep the S3 table's. */
static cof_err credential_error(struct srv_req *req, cof_err e)
{
    unsigned f = req->op != NULL ? req->op->flags : 0;
    bool expired = e == COF_ERR_TOKEN_EXPIRED;
    const char *invalid = "The security token included in the request is invalid.";
    const char *gone = "The security token included in the request is expired";
    if ((f & OPF_QUERY) != 0)
        return srv_fail_service(req, expired ? 400 : 403,
                                expired ? "ExpiredToken" : "InvalidClientTokenId",
                                expired ? gone : invalid);
    if ((f & OPF_JSON) != 0)
        return srv_fail_service(req, 400,
                                expired ? "ExpiredTokenException" : "UnrecognizedClientException",
                                expired ? gone : invalid);
    return e;
}

/* The secret of a->access_key: a configured key's, or, for temporary credentials, the one
 * sealed in their session token (x-amz-security-token header or X-Amz-Security-Token query
 * parameter), which must open under the root keyring, name this access key and not have
 * expired. The session is kept on the request (req->session): it is who the request acts as. */
static cof_err secret_for(struct srv_req *req, const struct srv_auth *a, int64_t now, char *secret,
                          size_t n)
{
    struct obj_session *s = NULL;
    if (srv_config_secret_for(req->ctx->cfg->credentials, a->access_key, secret, n))
        return COF_OK;
    const char *tok = srv_req_header(req, "x-amz-security-token");
    if (tok == NULL) /* presigned: SigV4 spells it so, SigV2 (botocore) in lower case */
        tok = srv_query_get(&req->query, "X-Amz-Security-Token");
    if (tok == NULL)
        tok = srv_query_get(&req->query, "x-amz-security-token");
    if (tok == NULL)
        return credential_error(req, COF_ERR_INVALID_ACCESS_KEY);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return COF_ERR_NOMEM;
    cof_err err = obj_session_open(req->ctx->obj.kr, tok, now, s);
    if (err == COF_OK && strcmp(s->access_key, a->access_key) != 0)
        err = COF_ERR_TOKEN_INVALID;
    if (err == COF_OK && strlen(s->secret) >= n)
        err = COF_ERR_TOKEN_INVALID;
    if (err == COF_OK) {
        memcpy(secret, s->secret, strlen(s->secret) + 1);
        cry_wipe(s->secret, sizeof(s->secret));
        req->session = s;
        return COF_OK;
    }
    cof_log_info(req->rid, "session token of %s refused: %s", a->access_key, cof_err_name(err));
    cry_wipe(s, sizeof(*s));
    free(s);
    return credential_error(req, err);
}

cof_err srv_authn_check(struct srv_req *req, const struct srv_auth *a, int64_t now)
{
    return srv_authn_check_payload(req, a, now, NULL);
}

cof_err srv_authn_check_payload(struct srv_req *req, const struct srv_auth *a, int64_t now,
                                const char *body_sha)
{
    char secret[256];
    if (a->kind == SRV_AUTH_NONE)
        return COF_ERR_ACCESS_DENIED;
    if (a->kind == SRV_AUTH_V2)
        return check_signature_v2(req, a, now);
    cof_err serr = secret_for(req, a, now, secret, sizeof(secret));
    if (serr != COF_OK)
        return serr;
    const char *amz_date = a->presigned ? a->amz_date : srv_req_header(req, "x-amz-date");
    int64_t t = 0;
    cof_err err = COF_OK;
    if (a->presigned && (a->amz_date[0] == '\0' || a->signed_headers[0] == '\0' ||
                         a->signature[0] == '\0' || a->expires < 0))
        err = COF_ERR_QUERY_AUTH;
    else if (a->presigned && a->expires > 604800)
        err = COF_ERR_EXPIRES_TOO_LONG;
    else if (!parse_amz_date(amz_date, &t))
        err = COF_ERR_ACCESS_DENIED;
    else if (a->presigned && (a->expires == 0 || now > t + a->expires)) /* AWS's minimum: 1 */
        err = COF_ERR_EXPIRED;
    else if (!a->presigned && (now - t > 900 || t - now > 900))
        err = COF_ERR_TIME_SKEWED;
    else if (strncmp(amz_date, a->date, 8) != 0)
        err = COF_ERR_SIGNATURE_MISMATCH;
    const char *payload = body_sha != NULL ? body_sha
                          : a->presigned   ? "UNSIGNED-PAYLOAD"
                                           : srv_req_header(req, "x-amz-content-sha256");
    if (err == COF_OK && payload == NULL) {
        err = srv_fail(req, COF_ERR_INVALID_REQUEST,
                       "Missing required header for this request: x-amz-content-sha256");
    }
    if (err == COF_OK) {
        char scope[160];
        snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a->date, a->region, a->service);
        struct srv_sigv4_in in = {req->method,       req->raw_path, &req->query, a->presigned,
                                  a->signed_headers, lookup_header, req,         payload,
                                  amz_date,          scope};
        err = srv_sigv4_verify(&in, secret, a->signature);
        if (err != COF_OK)
            cof_log_debug(req->rid, "signature of %s does not match", a->access_key);
    }
    /* A signed aws-chunked body: every chunk's signature is checked as it arrives. */
    if (err == COF_OK && strncmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34) == 0) {
        struct srv_chunk_auth *ca = calloc(1, sizeof(*ca));
        char scope[160];
        snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", a->date, a->region, a->service);
        err = ca != NULL ? srv_sigv4_signing_key(secret, scope, ca->key) : COF_ERR_NOMEM;
        if (err == COF_OK) {
            snprintf(ca->amz_date, sizeof(ca->amz_date), "%s", amz_date);
            snprintf(ca->scope, sizeof(ca->scope), "%s", scope);
            /* verified above, so exactly SRV_SIG_HEX_LEN hex digits */
            memcpy(ca->prev, a->signature, SRV_SIG_HEX_LEN);
            ca->prev[SRV_SIG_HEX_LEN] = '\0';
            ca->trailer = strcmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0;
            req->chunk_auth = ca;
        } else {
            free(ca);
        }
    }
    /* A hex payload hash is checked against the body as it arrives (ops_finish). */
    if (err == COF_OK && body_sha == NULL && !a->presigned && strlen(payload) == 64 &&
        strspn(payload, "0123456789abcdef") == 64) {
        memcpy(req->want_sha, payload, 65);
        err = cry_digest_new(CRY_DIGEST_SHA256, &req->body_sha);
    }
    cry_wipe(secret, sizeof(secret));
    return err;
}

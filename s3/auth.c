/* SPDX-License-Identifier: Apache-2.0 */
/* Authorization header / presigned-query parsing (SigV4: "AWS4-HMAC-SHA256 Credential=AK/date/
 * region/service/aws4_request, SignedHeaders=..., Signature=..."; SigV2: "AWS AK:signature"). */
#include "s3/auth.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n == 0 || n >= cap)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* "AK/20130524/us-east-1/s3/aws4_request" (n bytes). */
static cof_err parse_credential(const char *s, size_t n, struct srv_auth *out)
{
    const char *parts[5];
    size_t lens[5];
    size_t k = 0;
    const char *p = s;
    const char *end = s + n;
    while (k < 5) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *stop = slash != NULL ? slash : end;
        parts[k] = p;
        lens[k] = (size_t)(stop - p);
        k++;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    if (k != 5 || parts[4] + lens[4] != end)
        return COF_ERR_AUTH_MALFORMED;
    if (lens[4] != strlen("aws4_request") || memcmp(parts[4], "aws4_request", lens[4]) != 0)
        return COF_ERR_AUTH_MALFORMED;
    if (lens[1] != 8)
        return COF_ERR_AUTH_MALFORMED;
    for (size_t i = 0; i < 8; i++)
        if (!isdigit((unsigned char)parts[1][i]))
            return COF_ERR_AUTH_MALFORMED;
    if (!copy_field(out->access_key, sizeof(out->access_key), parts[0], lens[0]) ||
        !copy_field(out->date, sizeof(out->date), parts[1], lens[1]) ||
        !copy_field(out->region, sizeof(out->region), parts[2], lens[2]) ||
        !copy_field(out->service, sizeof(out->service), parts[3], lens[3]))
        return COF_ERR_AUTH_MALFORMED;
    out->kind = SRV_AUTH_V4;
    return COF_OK;
}

/* Finds "name=value" among comma/space separated fields; returns value and its length. */
static const char *find_param(const char *s, const char *name, size_t *out_len)
{
    size_t nl = strlen(name);
    const char *p = s;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            const char *v = p + nl + 1;
            *out_len = strcspn(v, ", ");
            return v;
        }
        p += strcspn(p, ",");
    }
    return NULL;
}

cof_err srv_auth_parse(const char *authz, const struct srv_query *q, struct srv_auth *out)
{
    memset(out, 0, sizeof(*out));
    if (authz != NULL) {
        if (strncmp(authz, "AWS4-HMAC-SHA256 ", 17) == 0) {
            const char *rest = authz + 17;
            size_t cl = 0, sl = 0, gl = 0;
            const char *cred = find_param(rest, "Credential", &cl);
            const char *sh = find_param(rest, "SignedHeaders", &sl);
            const char *sig = find_param(rest, "Signature", &gl);
            if (cred == NULL || sh == NULL || sig == NULL || sl == 0 || gl == 0)
                return COF_ERR_AUTH_MALFORMED;
            if (!copy_field(out->signed_headers, sizeof(out->signed_headers), sh, sl) ||
                !copy_field(out->signature, sizeof(out->signature), sig, gl))
                return COF_ERR_AUTH_MALFORMED;
            return parse_credential(cred, cl, out);
        }
        if (strncmp(authz, "AWS ", 4) == 0) {
            const char *ak = authz + 4;
            const char *colon = strchr(ak, ':');
            if (colon == NULL || colon == ak || colon[1] == '\0')
                return COF_ERR_AUTH_MALFORMED;
            if (!copy_field(out->access_key, sizeof(out->access_key), ak, (size_t)(colon - ak)) ||
                !copy_field(out->signature, sizeof(out->signature), colon + 1, strlen(colon + 1)))
                return COF_ERR_AUTH_MALFORMED;
            out->kind = SRV_AUTH_V2;
            return COF_OK;
        }
        return COF_ERR_UNSUPPORTED_AUTH;
    }
    out->expires = -1;
    const char *qc = srv_query_get(q, "X-Amz-Credential");
    if (qc != NULL) {
        cof_err err = parse_credential(qc, strlen(qc), out);
        if (err != COF_OK)
            return err;
        out->presigned = true;
        const char *sh = srv_query_get(q, "X-Amz-SignedHeaders");
        const char *sig = srv_query_get(q, "X-Amz-Signature");
        const char *date = srv_query_get(q, "X-Amz-Date");
        const char *exp = srv_query_get(q, "X-Amz-Expires");
        if (sh != NULL &&
            !copy_field(out->signed_headers, sizeof(out->signed_headers), sh, strlen(sh)))
            return COF_ERR_QUERY_AUTH;
        if (sig != NULL && !copy_field(out->signature, sizeof(out->signature), sig, strlen(sig)))
            return COF_ERR_QUERY_AUTH;
        if (date != NULL && !copy_field(out->amz_date, sizeof(out->amz_date), date, strlen(date)))
            return COF_ERR_QUERY_AUTH;
        if (exp != NULL) {
            char *end = NULL;
            out->expires = strtoll(exp, &end, 10);
            if (end == exp || *end != '\0')
                return COF_ERR_QUERY_AUTH;
            if (out->expires < 0)
                return COF_ERR_EXPIRES_NEGATIVE;
        }
        return COF_OK;
    }
    const char *v2 = srv_query_get(q, "AWSAccessKeyId");
    if (v2 != NULL) {
        /* SigV2 query authentication: Signature and Expires (absolute, epoch seconds). */
        const char *sig = srv_query_get(q, "Signature");
        const char *exp = srv_query_get(q, "Expires");
        if (!copy_field(out->access_key, sizeof(out->access_key), v2, strlen(v2)))
            return COF_ERR_AUTH_MALFORMED;
        if (sig != NULL && !copy_field(out->signature, sizeof(out->signature), sig, strlen(sig)))
            return COF_ERR_AUTH_MALFORMED;
        if (exp != NULL) {
            char *end = NULL;
            out->expires = strtoll(exp, &end, 10);
            if (end == exp || *end != '\0' || out->expires < 0)
                return COF_ERR_AUTH_MALFORMED;
        }
        out->kind = SRV_AUTH_V2;
        out->presigned = true;
    }
    return COF_OK;
}

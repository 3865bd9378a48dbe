/* SPDX-License-Identifier: Apache-2.0 */
/* Operation dispatch: parses the request target and credentials, finds the request's row in
 * the operation table, authenticates, applies bucket policies, receives the body as the row
 * says, and calls the row's handlers. Knows no operation by name. */
#include "server/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/hex.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "ops/authz.h"
#include "ops/corshdr.h"
#include "ops/req.h"
#include "ops/table.h"
#include "s3/auth.h"
#include "s3/policy.h"
#include "s3/uri.h"
#include "server/authn.h"
#include "storage/bucket.h"

static cof_err split_target(struct srv_req *req)
{
    const char *uri = req->raw_uri;
    const char *qm = strchr(uri, '?');
    size_t plen = qm != NULL ? (size_t)(qm - uri) : strlen(uri);
    /* Absolute-form targets ("http://host/path") are legal HTTP/1.1; keep only the path. */
    if (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "https://", 8) == 0) {
        const char *slash = strchr(uri + (uri[4] == 's' ? 8 : 7), '/');
        if (slash == NULL || (qm != NULL && slash > qm)) {
            plen = 0;
        } else {
            plen -= (size_t)(slash - uri);
            uri = slash;
        }
    }
    req->raw_path = malloc(plen + 2);
    if (req->raw_path == NULL)
        return COF_ERR_NOMEM;
    if (plen == 0 || uri[0] != '/') {
        req->raw_path[0] = '/';
        memcpy(req->raw_path + 1, uri, plen);
        req->raw_path[plen + 1] = '\0';
    } else {
        memcpy(req->raw_path, uri, plen);
        req->raw_path[plen] = '\0';
    }
    return srv_query_parse(qm != NULL ? qm + 1 : "", &req->query);
}

static bool is_form(const char *ctype)
{
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form) - 1;
    return ctype != NULL && strncasecmp(ctype, form, n) == 0 &&
           (ctype[n] == '\0' || ctype[n] == ';');
}

/* JSON and Query protocol clients sign the hash of their body without sending it as
 * x-amz-content-sha256 (only S3 sends that header): such a request can be verified only once
 * its (buffered, capped) body is in. */
static bool signs_buffered_body(const struct srv_req *req, const struct srv_auth *a)
{
    return a->kind == SRV_AUTH_V4 && !a->presigned && req->op->body == SRV_BODY_BUFFER &&
           (req->op->flags & (OPF_JSON | OPF_QUERY)) != 0 &&
           srv_req_header(req, "x-amz-content-sha256") == NULL;
}

static cof_err defer_authn(struct srv_req *req, const struct srv_auth *a)
{
    req->deferred_auth = malloc(sizeof(*a));
    if (req->deferred_auth == NULL)
        return COF_ERR_NOMEM;
    *req->deferred_auth = *a;
    /* Nothing runs before the body is in and verified: no policy (these rows have no
     * bucket), no stream begin (buffered rows have none). */
    req->body_mode = SRV_BODY_BUFFER;
    cof_buf_init(&req->body, req->op->body_cap);
    return COF_OK;
}

/* The deferred verification, over the buffered body; then the request acts as its signer. */
static cof_err finish_deferred_authn(struct srv_req *req)
{
    uint8_t h[CRY_SHA256_LEN];
    char hex[2 * CRY_SHA256_LEN + 1];
    if (req->body_err == COF_ERR_TOO_LARGE)
        return srv_fail_service(req, 413, "RequestEntityTooLarge",
                                "Request body must be at most 65536 bytes.");
    if (req->body_err != COF_OK)
        return req->body_err;
    cof_err err = cry_digest_oneshot(
        CRY_DIGEST_SHA256, req->body.data != NULL ? req->body.data : "", req->body.len, h);
    if (err != COF_OK)
        return err;
    cof_hex_encode(h, sizeof(h), hex);
    err = srv_authn_check_payload(req, req->deferred_auth, (int64_t)time(NULL), hex);
    if (err == COF_OK)
        ops_policy_set_principal(req, req->deferred_auth->access_key);
    return err;
}

cof_err srv_dispatch_parse(struct srv_req *req, struct srv_auth *auth)
{
    cof_err err = split_target(req);
    if (err == COF_ERR_TOO_LARGE || err == COF_ERR_INVALID)
        return COF_ERR_INVALID_ARGUMENT;
    if (err != COF_OK)
        return err;

    err = srv_auth_parse(srv_req_header(req, "Authorization"), &req->query, auth);
    if (err != COF_OK)
        return err;
    req->region = strdup(auth->region[0] != '\0' ? auth->region : req->ctx->cfg->region);
    if (req->region == NULL)
        return COF_ERR_NOMEM;

    snprintf(req->access_key, sizeof(req->access_key), "%s", auth->access_key);
    struct srv_route_signals sig = {srv_req_header(req, "X-Amz-Target"),
                                    is_form(srv_req_header(req, "Content-Type")),
                                    auth->kind == SRV_AUTH_V4 ? auth->service : NULL};
    err = srv_optable_route_signals(req->method, srv_req_header(req, "Host"), req->raw_path,
                                    &req->query, srv_req_header(req, "x-amz-copy-source") != NULL,
                                    &sig, &req->route, &req->op);
    return err == COF_ERR_INVALID ? COF_ERR_INVALID_ARGUMENT : err;
}

/* An anonymous request that signatures refuse: AWS answers 404 NoSuchBucket when it names a
 * bucket that does not exist (an operation on a bucket, not its creation), else 403. */
static cof_err anonymous_refusal(struct srv_req *req)
{
    struct sto_bucket b;
    if (req->route.bucket == NULL || req->op->action == NULL)
        return COF_ERR_ACCESS_DENIED;
    memset(&b, 0, sizeof(b));
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, &b);
    sto_bucket_cleanup(&b);
    return err == COF_ERR_NO_BUCKET ? COF_ERR_NO_BUCKET : COF_ERR_ACCESS_DENIED;
}

cof_err srv_dispatch_begin(struct srv_req *req)
{
    struct srv_auth auth;
    cof_err err = srv_dispatch_parse(req, &auth);
    if (err != COF_OK)
        return err;

    const struct srv_op *op = req->op;
    bool internal = (op->flags & OPF_INTERNAL) != 0;
    bool other_service = (op->flags & (OPF_JSON | OPF_QUERY)) != 0;
    if (!internal && !other_service)
        atomic_store(&req->ctx->s3_used, true);
    /* CORS headers first, so that every response to this request carries them, errors (a bad
     * signature included) and streamed bodies alike. A preflight answers CORS itself. */
    if (req->route.method != SRV_M_OPTIONS) {
        err = ops_cors_begin(req, internal);
        if (err != COF_OK)
            return err;
    }
    /* Admin endpoints (LocalStack's state resets) delete everything: refused while
     * admin_endpoints is off, and never anonymous when signatures are checked, although they
     * are emulator endpoints (the others stay unsigned, as LocalStack has them). */
    bool admin = (op->flags & OPF_ADMIN) != 0;
    if (admin && !req->ctx->cfg->admin_endpoints) {
        cof_log_info(req->rid, "%s %s refused: admin endpoints are off", req->method,
                     req->raw_path);
        return COF_ERR_ADMIN_DISABLED;
    }
    if ((!internal || admin) && (op->flags & OPF_UNSIGNED) == 0 &&
        req->ctx->cfg->verify_signatures) {
        if (signs_buffered_body(req, &auth))
            return defer_authn(req, &auth);
        err = srv_authn_check(req, &auth, (int64_t)time(NULL));
        if (err == COF_ERR_ACCESS_DENIED && auth.kind == SRV_AUTH_NONE)
            err = anonymous_refusal(req);
        /* An anonymous request to an existing bucket goes on as no one: a public policy or a
         * public ACL grant may still let it in (ops_policy_check). */
        if (err == COF_ERR_ACCESS_DENIED && auth.kind == SRV_AUTH_NONE &&
            req->route.bucket != NULL && op->action != NULL) {
            req->anonymous = true;
            err = COF_OK;
        }
        if (err != COF_OK)
            return err;
    }
    cof_log_debug(req->rid, "%s %s -> %s", req->method, req->raw_uri, op->name);
    /* Bucket policies apply after authentication and before the operation touches anything
     * (a denied PUT must not even start writing its body). */
    if (!internal) {
        ops_policy_set_principal(req, auth.kind != SRV_AUTH_NONE ? auth.access_key : NULL);
        err = ops_policy_check(req);
        if (err != COF_OK)
            return err;
    }
    if ((op->flags & OPF_REFUSED) != 0)
        return op->finish(req);
    req->body_mode = op->body;
    if (op->body == SRV_BODY_BUFFER)
        cof_buf_init(&req->body, op->body_cap);
    if (op->stream->begin != NULL)
        return op->stream->begin(req);
    return COF_OK;
}

cof_err srv_dispatch_body(struct srv_req *req, const char *data, size_t n)
{
    if (req->op != NULL && req->op->stream->body != NULL)
        return req->op->stream->body(req, data, n);
    return COF_OK;
}

cof_err srv_dispatch_finish(struct srv_req *req)
{
    const struct srv_op *op = req->op;
    if (req->deferred_auth != NULL) {
        cof_err err = finish_deferred_authn(req);
        if (err != COF_OK)
            return err;
    }
    if (req->body_sha != NULL && req->body_err == COF_OK) {
        uint8_t h[CRY_SHA256_LEN];
        char hex[2 * CRY_SHA256_LEN + 1];
        cry_digest_final(req->body_sha, h);
        cof_hex_encode(h, sizeof(h), hex);
        if (strcmp(hex, req->want_sha) != 0)
            return COF_ERR_SHA256_MISMATCH;
    }
    if ((op->flags & OPF_OWN_BODY_ERRORS) != 0 ||
        (req->body_err == COF_ERR_TOO_LARGE && (op->flags & OPF_OWN_TOO_LARGE) != 0))
        return op->finish(req);
    if (req->body_err != COF_OK) {
        /* An over-cap document is malformed to AWS; an over-cap object is too large. */
        if (req->body_err == COF_ERR_TOO_LARGE && op->body != SRV_BODY_STREAM)
            return COF_ERR_MALFORMED_XML;
        return req->body_err;
    }
    return op->finish(req);
}

void srv_dispatch_cleanup(struct srv_req *req)
{
    if (req->op != NULL && req->op->stream->cleanup != NULL)
        req->op->stream->cleanup(req);
    srv_policy_free(req->policy);
    req->policy = NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The CORS headers of every request that carries an Origin, and what the OPTIONS preflights
 * share with them: a bucket's rules (AWS's behaviour, both profiles) or LocalStack's permissive
 * default and gateway CORS. The rule logic itself lives in s3/cors.c. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/corshdr.h"

#include "common/log.h"
#include "s3/cors.h"
#include "storage/meta.h"

/* The bucket's rules: c->n == 0 when the request names no bucket, the bucket does not exist
 * (*out_exists false) or it has no CORS configuration. */
cof_err ops_cors_load_rules(struct srv_req *req, struct srv_cors_config *c, bool *out_exists)
{
    char *doc = NULL;
    struct srv_problem prob;

    *out_exists = false;
    if (req->route.bucket == NULL)
        return COF_OK;
    cof_err err =
        sto_meta_get_bucket_config(req->ctx->obj.meta, req->route.bucket, SRV_CORS_CONFIG, &doc);
    if (err == COF_ERR_NO_BUCKET)
        return COF_OK;
    *out_exists = true;
    if (err == COF_ERR_NOT_FOUND)
        return COF_OK;
    if (err == COF_OK)
        err = srv_cors_parse(doc, strlen(doc), c, &prob);
    if (err != COF_OK && err != COF_ERR_NOMEM) {
        /* Only ever written by PutBucketCors in canonical form: this is damage, not input. */
        cof_log_error(req->rid, "stored CORS configuration of %s unreadable (%s)",
                      req->route.bucket, cof_err_name(err));
        err = COF_ERR_INTERNAL;
    }
    free(doc);
    return err;
}

void ops_cors_emit_header(void *arg, const char *name, const char *value)
{
    srv_resp_add(arg, name, value);
}

bool ops_cors_localstack(const struct srv_req *req)
{
    return req->ctx->cfg->profile == SRV_PROFILE_LOCALSTACK;
}

void ops_cors_defaults_of(const struct srv_req *req, struct srv_cors_defaults *d)
{
    const struct srv_config *cfg = req->ctx->cfg;
    d->port = req->ctx->port;
    d->extra_origins = cfg->cors_extra_origins;
    d->extra_headers = cfg->cors_extra_headers;
    d->extra_expose = cfg->cors_extra_expose;
    d->disable_checks = cfg->cors_disable_checks;
}

/* LocalStack's default headers unless DISABLE_CORS_HEADERS. */
cof_err ops_cors_add_defaults(struct srv_req *req, const struct srv_cors_defaults *d,
                              const char *origin)
{
    if (req->ctx->cfg->cors_disable_headers)
        return COF_OK;
    const char *pn = srv_req_header(req, "Access-Control-Request-Private-Network");
    return srv_cors_default_headers(
        d, origin, srv_req_header(req, "Access-Control-Request-Headers"),
        pn != NULL && strcmp(pn, "true") == 0, ops_cors_emit_header, req);
}

/* LocalStack's gateway CORS, for its own endpoints and, with DISABLE_CUSTOM_CORS_S3, for S3: a
 * refused origin gets a bare 403 before anything runs (its CSRF protection: a page elsewhere
 * cannot reset the state with a simple POST); a preflight is answered 204. */
cof_err ops_cors_gateway(struct srv_req *req, const char *origin, bool preflight)
{
    struct srv_cors_defaults d;
    ops_cors_defaults_of(req, &d);
    if (origin != NULL && !srv_cors_default_allowed(&d, origin)) {
        cof_log_info(req->rid, "blocked CORS request from forbidden origin %s", origin);
        cof_err err = srv_reply(req, 403, NULL, "", 0);
        return err != COF_OK ? err : COF_ERR_ACCESS_DENIED;
    }
    cof_err err = origin != NULL ? ops_cors_add_defaults(req, &d, origin) : COF_OK;
    if (err == COF_OK && preflight)
        err = srv_reply(req, 204, NULL, "", 0);
    return err;
}

cof_err ops_cors_begin(struct srv_req *req, bool internal)
{
    struct srv_cors_config c = {NULL, 0};
    bool exists = false;
    const char *origin = srv_req_header(req, "Origin");

    /* Without Origin a request is not cross-origin: S3 adds nothing. */
    if (origin == NULL)
        return COF_OK;
    if (internal || (ops_cors_localstack(req) && req->ctx->cfg->cors_disable_custom_s3))
        return ops_cors_gateway(req, origin, false);
    cof_err err = ops_cors_load_rules(req, &c, &exists);
    if (err == COF_OK && c.n > 0) {
        /* First rule allowing origin and method; none: the request proceeds without CORS
         * headers (the browser then refuses the response). */
        const struct srv_cors_rule *r = srv_cors_match(&c, origin, req->method, NULL);
        if (r != NULL)
            err = srv_cors_rule_headers(r, origin, NULL, ops_cors_emit_header, req);
    } else if (err == COF_OK && ops_cors_localstack(req)) {
        struct srv_cors_defaults d;
        ops_cors_defaults_of(req, &d);
        if (srv_cors_default_allowed(&d, origin))
            err = ops_cors_add_defaults(req, &d, origin);
    }
    srv_cors_config_cleanup(&c);
    return err;
}

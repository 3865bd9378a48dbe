/* SPDX-License-Identifier: Apache-2.0 */
/* The operation table: the rows of ops/optable.def, and routing over them. */
#include "ops/table.h"

#include <string.h>

#include "ops/handlers.h"
#include "ops/kmsjson.h"
#include "ops/query.h"
#include "s3/policy.h"
#include "s3/lifecycle.h"
#include "s3/tagging.h"
#include "s3/xml.h"

const struct srv_op_stream ops_no_stream = {NULL, NULL, NULL};

/* The short names the rows use. */
#define S3       SRV_SCOPE_S3
#define SERVICE  SRV_SCOPE_SERVICE
#define BUCKET   SRV_SCOPE_BUCKET
#define OBJECT   SRV_SCOPE_OBJECT
#define INTERNAL SRV_SCOPE_INTERNAL
#define TARGET   SRV_SCOPE_TARGET
#define GET      ((unsigned)SRV_M_GET)
#define HEAD     ((unsigned)SRV_M_HEAD)
#define PUT      ((unsigned)SRV_M_PUT)
#define POST     ((unsigned)SRV_M_POST)
#define DELETE   ((unsigned)SRV_M_DELETE)
#define OPTIONS  ((unsigned)SRV_M_OPTIONS)
#define OTHER    ((unsigned)SRV_M_OTHER)
#define ANY      SRV_M_ANY
#define NONE     SRV_BODY_IGNORE
#define BUFFER   SRV_BODY_BUFFER
#define STREAM   SRV_BODY_STREAM

static const struct srv_op table[] = {
#define OP(name, scopes, methods, sub, cond, action, version_action, flags, body, cap, finish,     \
           stream)                                                                                 \
    {#name,    {(scopes), (methods), (sub), (cond)},                                               \
     (action), (version_action),                                                                   \
     (flags),  (body),                                                                             \
     (cap),    finish,                                                                             \
     &stream},
#include "ops/optable.def"
#undef OP
};

#define N_ROWS (sizeof(table) / sizeof(table[0]))

/* SRV_COND_BUCKET_SUBRESOURCE: the query names a sub-resource that some bucket row matches. */
static bool names_bucket_subresource(const struct srv_route *r)
{
    for (size_t i = 0; i < N_ROWS; i++) {
        const struct srv_op_match *m = &table[i].match;
        if ((m->scopes & SRV_SCOPE_BUCKET) != 0 && m->sub != NULL &&
            srv_query_has(r->query, m->sub))
            return true;
    }
    return false;
}

/* The first row that matches r. */
static cof_err match_rows(struct srv_route *r, const struct srv_op **out_op)
{
    cof_err err = COF_OK;
    for (size_t i = 0; i < N_ROWS; i++) {
        const struct srv_op *op = &table[i];
        if (!srv_route_match(&op->match, r))
            continue;
        if ((op->match.cond & SRV_COND_BUCKET_SUBRESOURCE) != 0 && !names_bucket_subresource(r))
            continue;
        if ((op->match.cond & SRV_COND_PATH_PREFIX) != 0)
            err = srv_route_stage(&op->match, r);
        if (err != COF_OK)
            return err;
        *out_op = op;
        return COF_OK;
    }
    COF_BUG("srv_optable_route: no row matched (the table must end in catch-all rows)");
}

cof_err srv_optable_route_signals(const char *method, const char *host, const char *raw_path,
                                  const struct srv_query *q, bool has_copy_source,
                                  const struct srv_route_signals *sig, struct srv_route *out,
                                  const struct srv_op **out_op)
{
    const struct srv_op *internal = NULL;
    *out_op = NULL;
    for (size_t i = 0; i < N_ROWS && internal == NULL; i++) {
        if (srv_route_internal_path(&table[i].match, raw_path))
            internal = &table[i];
    }
    cof_err err =
        srv_route_parse(method, host, raw_path, q, has_copy_source, sig, internal != NULL, out);
    if (err == COF_OK)
        err = match_rows(out, out_op);
    if (err != COF_OK)
        srv_route_cleanup(out);
    return err;
}

cof_err srv_optable_route(const char *method, const char *host, const char *raw_path,
                          const struct srv_query *q, bool has_copy_source, const char *target,
                          struct srv_route *out, const struct srv_op **out_op)
{
    struct srv_route_signals sig = {target, false, NULL};
    return srv_optable_route_signals(method, host, raw_path, q, has_copy_source, &sig, out, out_op);
}

const struct srv_op *srv_optable_rematch(struct srv_route *r, const char *action)
{
    const struct srv_op *op = NULL;
    if (r->scope != SRV_SCOPE_TARGET || !r->action_in_body)
        COF_BUG("srv_optable_rematch: the request has no Action pending");
    r->action_in_body = false;
    r->target = action;
    if (action == NULL) {
        /* No Action after all: the request is what its method and path say. */
        r->scope = SRV_SCOPE_SERVICE;
        r->query_action = false;
    }
    /* Only TARGET and SERVICE rows can match now: no stage to decode, nothing to fail. */
    if (match_rows(r, &op) != COF_OK)
        COF_BUG("srv_optable_rematch: a service-level row failed to match");
    return op;
}

void srv_optable_each(void (*fn)(const struct srv_op *op, void *arg), void *arg)
{
    for (size_t i = 0; i < N_ROWS; i++)
        fn(&table[i], arg);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The operation table (rows in ops/optable.def): each operation's match, IAM action, body mode
 * and cap, and handlers. Routing (srv_optable_route), bucket policies (the row's actions and
 * flags) and dispatch (server/dispatch.c) all read the row; nothing else switches on the
 * operation. */
#ifndef OPS_TABLE_H
#define OPS_TABLE_H

#include <stdbool.h>

#include "common/err.h"
#include "ops/op.h"
#include "s3/route.h"

/* Addresses a request and finds its row (see srv_route_parse for the arguments and errors).
 * Every request finds one: the table ends in MethodNotAllowed rows. *out_op is a row of the
 * static table. */
COF_MUST_CHECK cof_err srv_optable_route(const char *method, const char *host, const char *raw_path,
                                         const struct srv_query *q, bool has_copy_source,
                                         const char *target, struct srv_route *out,
                                         const struct srv_op **out_op);

/* Same, with every protocol signal of the request (X-Amz-Target, a form body, the credential
 * scope's service: s3/route.h). */
COF_MUST_CHECK cof_err srv_optable_route_signals(const char *method, const char *host,
                                                 const char *raw_path, const struct srv_query *q,
                                                 bool has_copy_source,
                                                 const struct srv_route_signals *sig,
                                                 struct srv_route *out,
                                                 const struct srv_op **out_op);

/* For a request whose Query protocol Action was in its form body (route action_in_body): the
 * row once the body named action (borrowed into r; must outlive the request), or, for NULL,
 * the row of the plain request at "/" (a POST / without an Action is what it was before
 * other services shared the port). Updates r. */
const struct srv_op *srv_optable_rematch(struct srv_route *r, const char *action);

/* Calls fn for every row, in match order (tests, listings). */
void srv_optable_each(void (*fn)(const struct srv_op *op, void *arg), void *arg);

#endif

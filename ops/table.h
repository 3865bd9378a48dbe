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

/* Calls fn for every row, in match order (tests, listings). */
void srv_optable_each(void (*fn)(const struct srv_op *op, void *arg), void *arg);

#endif

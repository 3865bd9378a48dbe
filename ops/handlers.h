/* SPDX-License-Identifier: Apache-2.0 */
/* The prototypes of every handler the operation table names, generated from its rows, so that
 * the compiler checks each handler against the table. Included by ops/table.c and by the
 * handler files, for their own prototypes; a handler never calls another. */
#ifndef OPS_HANDLERS_H
#define OPS_HANDLERS_H

#include "ops/op.h"

/* The handlers the table names. */
#define OP(name, scopes, methods, sub, cond, action, version_action, flags, body, cap, finish,     \
           stream)                                                                                 \
    cof_err finish(struct srv_req *req);                                                           \
    extern const struct srv_op_stream stream;
#include "ops/optable.def"
#undef OP

#endif

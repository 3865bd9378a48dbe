/* SPDX-License-Identifier: Apache-2.0 */
/* The background lifecycle sweeper of a serving coffer: one thread that runs a pass over every
 * bucket's lifecycle rules (ops/lcsweep.c) every interval, in small steps with pauses between
 * them, so that requests keep their latency while it runs. */
#ifndef SRV_LCTHREAD_H
#define SRV_LCTHREAD_H

#include "common/err.h"
#include "ops/req.h"

struct srv_lcthread;

/* Starts the thread: a first pass one interval after start, then one every interval seconds
 * (interval 0: no thread, *out NULL). ctx is borrowed and must outlive srv_lcthread_stop.
 * COF_ERR_NOMEM, COF_ERR_INTERNAL (thread creation). */
COF_MUST_CHECK cof_err srv_lcthread_start(struct srv_ctx *ctx, unsigned interval_s,
                                          struct srv_lcthread **out);
/* Stops the thread between two steps (a step in flight finishes) and frees it. Accepts NULL. */
void srv_lcthread_stop(struct srv_lcthread *t);

#endif

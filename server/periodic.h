/* SPDX-License-Identifier: Apache-2.0 */
/* A background thread that runs a job every interval until stopped (the lifecycle sweeper, the
 * scheduled backups). The job may pause between its own steps and learns there whether to stop. */
#ifndef SRV_PERIODIC_H
#define SRV_PERIODIC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct srv_periodic;

/* One run of the job; returns whether it saw a stop (srv_periodic_pause) and quit early. */
typedef bool (*srv_periodic_fn)(struct srv_periodic *p, void *arg);

/* Starts the thread: fn(p, arg) one interval after start, then every interval_s seconds after
 * the previous run ends. COF_ERR_NOMEM, COF_ERR_INTERNAL (thread creation). */
COF_MUST_CHECK cof_err srv_periodic_start(unsigned interval_s, srv_periodic_fn fn, void *arg,
                                          struct srv_periodic **out);
/* Waits ms milliseconds or until stopped; returns whether it was stopped. */
bool srv_periodic_pause(struct srv_periodic *p, int64_t ms);
/* Stops the thread (a run in flight finishes, or quits at its next pause) and frees it. Accepts
 * NULL. */
void srv_periodic_stop(struct srv_periodic *p);

#endif

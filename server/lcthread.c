/* SPDX-License-Identifier: Apache-2.0 */
/* The background lifecycle sweeper: a pass every interval, as steps of OPS_LC_BUDGET rows with a
 * pause after each, stopped between steps. */
#include "server/lcthread.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "ops/lcsweep.h"
#include "server/periodic.h"

#define SWEEP_PAUSE_MS 20 /* between two steps: requests get the database to themselves */

struct srv_lcthread {
    struct srv_ctx *ctx;
    struct srv_periodic *p;
};

/* One pass; returns whether the thread was stopped during it. */
static bool one_pass(struct srv_periodic *p, void *arg)
{
    struct srv_lcthread *t = arg;
    struct ops_lc_cursor cur = {0};
    struct ops_lc_counts n = {0, 0, 0, 0};
    int64_t now_ms = cof_now_ms(); /* the whole pass is as of its start */
    int64_t started = now_ms;
    bool done = false, stopped = false;
    while (!done && !stopped) {
        int64_t t0 = cof_now_ms();
        cof_err err = ops_lc_step(&t->ctx->obj, &cur, now_ms, OPS_LC_BUDGET, &n, &done);
        if (err != COF_OK) {
            cof_log_warn("lifecycle", "sweep step failed: %s (retried next pass)",
                         cof_err_name(err));
            break;
        }
        /* At most half of the time: a step's writes compete with the clients' for the
         * database, so it pauses at least as long as it ran. */
        int64_t took = cof_now_ms() - t0;
        stopped = srv_periodic_pause(p, took > SWEEP_PAUSE_MS ? took : SWEEP_PAUSE_MS);
    }
    ops_lc_cursor_cleanup(&cur);
    /* A pass that changed nothing is logged at debug level only: it runs every interval. */
    bool acted = n.expired + n.removed + n.aborted > 0;
    cof_log(acted ? COF_LOG_INFO : COF_LOG_DEBUG, "lifecycle",
            "sweep: %lu looked at, %lu expired, %lu removed, %lu uploads aborted (%lld ms)",
            n.scanned, n.expired, n.removed, n.aborted, (long long)(cof_now_ms() - started));
    return stopped;
}

cof_err srv_lcthread_start(struct srv_ctx *ctx, unsigned interval_s, struct srv_lcthread **out)
{
    *out = NULL;
    if (interval_s == 0)
        return COF_OK;
    struct srv_lcthread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return COF_ERR_NOMEM;
    t->ctx = ctx;
    cof_err err = srv_periodic_start(interval_s, one_pass, t, &t->p);
    if (err != COF_OK) {
        free(t);
        return err;
    }
    *out = t;
    return COF_OK;
}

void srv_lcthread_stop(struct srv_lcthread *t)
{
    if (t == NULL)
        return;
    srv_periodic_stop(t->p);
    free(t);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The background lifecycle sweeper: a pass every interval, as steps of OPS_LC_BUDGET rows with a
 * pause after each, stopped between steps. */
#include "server/lcthread.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "ops/lcsweep.h"

#define SWEEP_PAUSE_MS 20 /* between two steps: requests get the database to themselves */

struct srv_lcthread {
    struct srv_ctx *ctx;
    unsigned interval_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

/* Waits ms milliseconds or until stopped; returns whether it was stopped. */
static bool pause_for(struct srv_lcthread *t, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->mu);
    int rc = 0;
    while (!t->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&t->cv, &t->mu, &until);
    bool stopped = t->stop;
    pthread_mutex_unlock(&t->mu);
    return stopped;
}

/* One pass; returns whether the thread was stopped during it. */
static bool one_pass(struct srv_lcthread *t)
{
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
        stopped = pause_for(t, took > SWEEP_PAUSE_MS ? took : SWEEP_PAUSE_MS);
    }
    ops_lc_cursor_cleanup(&cur);
    /* A pass that changed nothing is logged at debug level only: it runs every interval. */
    bool acted = n.expired + n.removed + n.aborted > 0;
    cof_log(acted ? COF_LOG_INFO : COF_LOG_DEBUG, "lifecycle",
            "sweep: %lu looked at, %lu expired, %lu removed, %lu uploads aborted (%lld ms)",
            n.scanned, n.expired, n.removed, n.aborted, (long long)(cof_now_ms() - started));
    return stopped;
}

static void *run(void *arg)
{
    struct srv_lcthread *t = arg;
    while (!pause_for(t, (int64_t)t->interval_s * 1000)) {
        if (one_pass(t))
            break;
    }
    return NULL;
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
    t->interval_s = interval_s;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return COF_ERR_INTERNAL;
    }
    *out = t;
    return COF_OK;
}

void srv_lcthread_stop(struct srv_lcthread *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

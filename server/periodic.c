/* SPDX-License-Identifier: Apache-2.0 */
#include "server/periodic.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct srv_periodic {
    unsigned interval_s;
    srv_periodic_fn fn;
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool stop;
};

bool srv_periodic_pause(struct srv_periodic *p, int64_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    while (!p->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&p->cv, &p->mu, &until);
    bool stopped = p->stop;
    pthread_mutex_unlock(&p->mu);
    return stopped;
}

static void *run(void *arg)
{
    struct srv_periodic *p = arg;
    while (!srv_periodic_pause(p, (int64_t)p->interval_s * 1000)) {
        if (p->fn(p, p->arg))
            break;
    }
    return NULL;
}

cof_err srv_periodic_start(unsigned interval_s, srv_periodic_fn fn, void *arg,
                           struct srv_periodic **out)
{
    *out = NULL;
    struct srv_periodic *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return COF_ERR_NOMEM;
    p->interval_s = interval_s;
    p->fn = fn;
    p->arg = arg;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return COF_ERR_INTERNAL;
    }
    *out = p;
    return COF_OK;
}

void srv_periodic_stop(struct srv_periodic *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

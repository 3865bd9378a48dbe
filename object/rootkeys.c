/* SPDX-License-Identifier: Apache-2.0 */
/* Live root keyring: an atomic pointer to the newest loaded keyring, reloads under a mutex. */
#include "object/rootkeys.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "crypto/keyring.h"

#define MAX_GENERATIONS 64

struct srv_rootkeys {
    char *path;
    _Atomic(struct cry_keyring *) cur;
    pthread_mutex_t mu; /* reloads */
    struct cry_keyring *gens[MAX_GENERATIONS];
    size_t n_gens;
    struct timespec mtime;
    atomic_llong last_check_s;
};

static struct timespec file_mtime(const char *path)
{
    struct stat st;
    struct timespec zero = {0, 0};
    return stat(path, &st) == 0 ? st.st_mtim : zero;
}

cof_err srv_rootkeys_open(const char *path, bool create, struct srv_rootkeys **out)
{
    struct srv_rootkeys *rk = calloc(1, sizeof(*rk));
    struct cry_keyring *kr = NULL;
    if (rk == NULL || (rk->path = strdup(path)) == NULL) {
        free(rk);
        return COF_ERR_NOMEM;
    }
    cof_err err = cry_keyring_load(path, create, &kr);
    if (err != COF_OK) {
        free(rk->path);
        free(rk);
        return err;
    }
    pthread_mutex_init(&rk->mu, NULL);
    rk->gens[rk->n_gens++] = kr;
    atomic_store(&rk->cur, kr);
    rk->mtime = file_mtime(path);
    *out = rk;
    return COF_OK;
}

void srv_rootkeys_close(struct srv_rootkeys *rk)
{
    if (rk == NULL)
        return;
    for (size_t i = 0; i < rk->n_gens; i++)
        cry_keyring_free(rk->gens[i]);
    pthread_mutex_destroy(&rk->mu);
    free(rk->path);
    free(rk);
}

/* Re-reads the file when it changed (or force). */
static void reload(struct srv_rootkeys *rk, bool force)
{
    pthread_mutex_lock(&rk->mu);
    struct timespec mt = file_mtime(rk->path);
    bool changed = mt.tv_sec != rk->mtime.tv_sec || mt.tv_nsec != rk->mtime.tv_nsec;
    if ((changed || force) && rk->n_gens < MAX_GENERATIONS) {
        struct cry_keyring *kr = NULL;
        if (cry_keyring_load(rk->path, false, &kr) == COF_OK) {
            rk->gens[rk->n_gens++] = kr;
            atomic_store(&rk->cur, kr);
            rk->mtime = mt;
            const char *id = NULL;
            (void)cry_keyring_active(kr, &id);
            cof_log_info(NULL, "root keyring reloaded; active key \"%s\"", id);
        }
    }
    pthread_mutex_unlock(&rk->mu);
}

const struct cry_key *srv_rootkeys_active(struct srv_rootkeys *rk, const char **out_id)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long last = atomic_load(&rk->last_check_s);
    if (now.tv_sec != last &&
        atomic_compare_exchange_strong(&rk->last_check_s, &last, (long long)now.tv_sec))
        reload(rk, false);
    return cry_keyring_active(atomic_load(&rk->cur), out_id);
}

const struct cry_keyring *srv_rootkeys_current(struct srv_rootkeys *rk)
{
    return atomic_load(&rk->cur);
}

const struct cry_key *srv_rootkeys_find(struct srv_rootkeys *rk, const char *id)
{
    const struct cry_key *k = cry_keyring_find(atomic_load(&rk->cur), id);
    if (k == NULL) {
        reload(rk, false);
        k = cry_keyring_find(atomic_load(&rk->cur), id);
    }
    return k;
}

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

/* Every loaded keyring stays allocated until close: readers hold borrowed pointers into the one
 * that was current when they looked, without a reference count. The list grows as needed (it
 * once stopped at 64 reloads, and a server then silently kept its keyring). */
#define FIRST_GENERATIONS 16

struct file_id {
    struct timespec mtime;
    ino_t ino;
    off_t size;
};

struct srv_rootkeys {
    char *path;
    _Atomic(struct cry_keyring *) cur;
    pthread_mutex_t mu;        /* reloads */
    struct cry_keyring **gens; /* every keyring loaded, oldest first */
    size_t n_gens, cap_gens;
    struct file_id seen; /* the file as last loaded */
    atomic_llong last_check_s;
};

/* Which version of the key file is there: the time alone misses two rewrites within one tick of
 * the file system's clock, but each rewrite renames a new file (a new inode) over the old. */
static struct file_id file_id_of(const char *path)
{
    struct stat st;
    struct file_id id = {{0, 0}, 0, 0};
    if (stat(path, &st) == 0) {
        id.mtime = st.st_mtim;
        id.ino = st.st_ino;
        id.size = st.st_size;
    }
    return id;
}

static bool same_file(const struct file_id *a, const struct file_id *b)
{
    return a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ino == b->ino && a->size == b->size;
}

cof_err srv_rootkeys_open(const char *path, bool create, struct srv_rootkeys **out)
{
    struct srv_rootkeys *rk = calloc(1, sizeof(*rk));
    struct cry_keyring *kr = NULL;
    if (rk == NULL || (rk->path = strdup(path)) == NULL ||
        (rk->gens = calloc(FIRST_GENERATIONS, sizeof(*rk->gens))) == NULL) {
        if (rk != NULL)
            free(rk->path);
        free(rk);
        return COF_ERR_NOMEM;
    }
    rk->cap_gens = FIRST_GENERATIONS;
    cof_err err = cry_keyring_load(path, create, &kr);
    if (err != COF_OK) {
        free(rk->gens);
        free(rk->path);
        free(rk);
        return err;
    }
    pthread_mutex_init(&rk->mu, NULL);
    rk->gens[rk->n_gens++] = kr;
    atomic_store(&rk->cur, kr);
    rk->seen = file_id_of(path);
    *out = rk;
    return COF_OK;
}

void srv_rootkeys_close(struct srv_rootkeys *rk)
{
    if (rk == NULL)
        return;
    for (size_t i = 0; i < rk->n_gens; i++)
        cry_keyring_free(rk->gens[i]);
    free(rk->gens);
    pthread_mutex_destroy(&rk->mu);
    free(rk->path);
    free(rk);
}

/* Makes room for one more generation (under rk->mu). False (logged) when memory is short. */
static bool room_for_generation(struct srv_rootkeys *rk)
{
    if (rk->n_gens < rk->cap_gens)
        return true;
    struct cry_keyring **g = realloc(rk->gens, 2 * rk->cap_gens * sizeof(*g));
    if (g == NULL) {
        cof_log_error(NULL, "root keyring %s: no memory to reload it", rk->path);
        return false;
    }
    rk->gens = g;
    rk->cap_gens *= 2;
    return true;
}

/* Re-reads the file when it changed (or force). */
static void reload(struct srv_rootkeys *rk, bool force)
{
    pthread_mutex_lock(&rk->mu);
    struct file_id now = file_id_of(rk->path);
    bool changed = !same_file(&now, &rk->seen);
    if ((changed || force) && room_for_generation(rk)) {
        struct cry_keyring *kr = NULL;
        if (cry_keyring_load(rk->path, false, &kr) == COF_OK) {
            rk->gens[rk->n_gens++] = kr;
            atomic_store(&rk->cur, kr);
            rk->seen = now;
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

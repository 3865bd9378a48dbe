/* SPDX-License-Identifier: Apache-2.0 */
/* Root key records against the keyring: the start-up check, recording on rotation, forgetting on
 * retirement. Check values are computed here from keys crypto/ holds and compared in constant
 * time; no key byte leaves crypto/ and none is logged. */
#include "object/keyguard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "crypto/key.h"

#define IDS_CAP 1024 /* room for the ids named in one message */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends ", id" (or "id") to a message list; marks a list that ran out of room with "...". */
static void ids_add(char *list, const char *id)
{
    size_t n = strlen(list);
    if (n + strlen(id) + 8 >= IDS_CAP) {
        if (n + 5 < IDS_CAP && (n < 3 || strcmp(list + n - 3, "...") != 0))
            snprintf(list + n, IDS_CAP - n, "%s...", n > 0 ? ", " : "");
        return;
    }
    snprintf(list + n, IDS_CAP - n, "%s%s", n > 0 ? ", " : "", id);
}

/* Whether key is the key recorded with kcv. */
static cof_err same_key(const struct cry_key *key, const uint8_t *kcv, size_t kcv_len, bool *out)
{
    uint8_t mine[CRY_KCV_LEN];
    *out = false;
    cof_err err = cry_key_check_value(key, mine);
    if (err == COF_OK)
        *out = kcv_len == CRY_KCV_LEN && cry_equal(mine, kcv, CRY_KCV_LEN);
    return err;
}

/* ---- the start-up check --------------------------------------------------------------------- */

struct check {
    const struct cry_keyring *kr;
    char missing[IDS_CAP];  /* recorded, not in the keyring */
    char wrong[IDS_CAP];    /* in the keyring under a recorded id, but another key */
    char recorded[IDS_CAP]; /* every recorded id (for the missing-file message) */
    size_t n_recorded;
    size_t n_missing;
    size_t n_wrong;
    size_t n_pending_missing; /* a rotation that never wrote its key */
};

static cof_err check_record(const struct sto_root_key *r, void *arg)
{
    struct check *c = arg;
    c->n_recorded++;
    ids_add(c->recorded, r->id);
    if (c->kr == NULL)
        return COF_OK;
    const struct cry_key *k = cry_keyring_find(c->kr, r->id);
    if (k == NULL && r->pending) {
        c->n_pending_missing++;
        return COF_OK;
    }
    if (k == NULL) {
        c->n_missing++;
        ids_add(c->missing, r->id);
        return COF_OK;
    }
    bool same = false;
    cof_err err = same_key(k, r->kcv, r->kcv_len, &same);
    if (err == COF_OK && !same) {
        c->n_wrong++;
        ids_add(c->wrong, r->id);
    }
    return err;
}

/* What a pending record whose key is not in the keyring wraps: it may only be dropped when that
 * is nothing (the rotation stopped before writing the key file, so nothing could use it). */
struct pending_walk {
    const struct cry_keyring *kr;
    struct sto_meta *meta;
    const char *path;
    bool apply; /* first pass: only count what would be refused; second: forget or confirm */
    char refused[IDS_CAP];
    size_t n_refused;
};

struct kek_use {
    const char *id;
    uint64_t n;
};

static cof_err count_one(const char *kek_id, uint64_t objects, uint64_t kms_keys, void *arg)
{
    struct kek_use *u = arg;
    if (strcmp(kek_id, u->id) == 0)
        u->n += objects + kms_keys;
    return COF_OK;
}

/* A pending record: confirmed when the keyring has the key (the rotation wrote it), forgotten
 * when it does not and nothing is wrapped under it (the rotation stopped before writing the key
 * file), and refused when it does not but something is (counted in the first pass). The walk
 * reads its own snapshot on another connection, so changing the walked rows is fine. */
static cof_err settle_pending(const struct sto_root_key *r, void *arg)
{
    struct pending_walk *w = arg;
    if (!r->pending)
        return COF_OK;
    if (cry_keyring_find(w->kr, r->id) != NULL)
        return w->apply ? sto_meta_root_key_confirm(w->meta, r->id) : COF_OK;
    struct kek_use u = {r->id, 0};
    cof_err err = sto_meta_count_by_kek(w->meta, count_one, &u);
    if (err != COF_OK)
        return err;
    if (u.n > 0) {
        w->n_refused++;
        ids_add(w->refused, r->id);
        return COF_OK;
    }
    if (!w->apply)
        return COF_OK;
    cof_log_warn(NULL,
                 "root key %s was recorded by a rotation that did not write it to %s; "
                 "nothing uses it, forgetting it",
                 r->id, w->path);
    return sto_meta_root_key_forget(w->meta, r->id);
}

/* Data wrapped under kek ids the keyring lacks, noticed when adopting a keyring (the first start
 * of a data dir made before keys were recorded): a warning, as nothing recorded them. */
static cof_err warn_unknown(const char *kek_id, uint64_t objects, uint64_t kms_keys, void *arg)
{
    const struct check *c = arg;
    if (kek_id[0] != '\0' && cry_keyring_find(c->kr, kek_id) == NULL)
        cof_log_warn(NULL,
                     "%llu objects and %llu KMS keys are wrapped by root key %s, which is not "
                     "in the keyring: they cannot be read (coffer fsck lists them)",
                     (unsigned long long)objects, (unsigned long long)kms_keys, kek_id);
    return COF_OK;
}

/* Records every key of kr that is not recorded yet. */
static cof_err record_new(struct sto_meta *meta, const struct cry_keyring *kr, const char *path)
{
    cof_err err = COF_OK;
    for (size_t i = 0; err == COF_OK && i < cry_keyring_count(kr); i++) {
        const char *id = cry_keyring_id(kr, i);
        uint8_t kcv[CRY_KCV_LEN];
        err = cry_key_check_value(cry_keyring_find(kr, id), kcv);
        if (err == COF_OK)
            err = sto_meta_root_key_record(meta, id, kcv, sizeof(kcv), false, now_ms());
        if (err == COF_OK)
            cof_log_info(NULL, "data dir now records root key %s of %s", id, path);
        else if (err == COF_ERR_EXISTS)
            err = COF_OK;
    }
    return err;
}

cof_err obj_keyguard_open(const char *path, const char *data_dir, struct sto_meta *meta,
                          enum obj_keyguard_mode mode, bool strict_mode, struct srv_rootkeys **out)
{
    struct srv_rootkeys *rk = NULL;
    struct check *c = NULL;
    struct pending_walk *pw = NULL;
    struct stat st;
    bool fresh = false;
    bool create = false;
    cof_err err = COF_OK;
    *out = NULL;

    c = calloc(1, sizeof(*c));
    pw = calloc(1, sizeof(*pw));
    if (c == NULL || pw == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    if (mode == OBJ_KEYGUARD_INSPECT) {
        err = srv_rootkeys_open(path, false, &rk);
        if (err != COF_OK)
            goto out;
        c->kr = srv_rootkeys_current(rk);
        err = sto_meta_root_keys_each(meta, check_record, c);
        if (err == COF_OK && c->n_missing > 0)
            cof_log_warn(NULL, "root keyring %s lacks recorded root keys: %s", path, c->missing);
        if (err == COF_OK && c->n_wrong > 0)
            cof_log_warn(NULL, "root keyring %s holds different keys under recorded ids: %s", path,
                         c->wrong);
        goto out;
    }

    err = sto_meta_root_keys_each(meta, check_record, c); /* c->kr NULL: ids only */
    if (err == COF_OK)
        err = sto_meta_is_fresh(meta, &fresh);
    if (err != COF_OK)
        goto out;
    int rc = stat(path, &st);
    if (rc != 0 && errno == ENOENT) {
        if (!fresh) {
            if (c->n_recorded > 0)
                cof_log_error(NULL,
                              "root key file %s does not exist, but data dir %s depends on root "
                              "keys %s; refusing to start (a new root key is made only for a "
                              "fresh data dir): check --root-key-file",
                              path, data_dir, c->recorded);
            else
                cof_log_error(NULL,
                              "root key file %s does not exist, but data dir %s holds encrypted "
                              "data; refusing to start (a new root key is made only for a fresh "
                              "data dir): check --root-key-file",
                              path, data_dir);
            err = COF_ERR_KEY_ABSENT;
            goto out;
        }
        create = true;
    } else if (rc == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0 && strict_mode) {
        cof_log_error(NULL,
                      "root key file %s has mode %04o: group or others can access it; refusing "
                      "to start in the aws profile (chmod 600 it)",
                      path, (unsigned)(st.st_mode & 07777));
        err = COF_ERR_KEY_ABSENT;
        goto out;
    }
    err = srv_rootkeys_open(path, create, &rk);
    if (err == COF_ERR_NOMEM)
        goto out;
    if (err != COF_OK) {
        /* Unreadable or malformed (logged by the keyring): never replaced by a new one. */
        cof_log_error(NULL, "cannot use root keyring %s; data dir %s depends on root keys %s", path,
                      data_dir, c->n_recorded > 0 ? c->recorded : "(none recorded yet)");
        err = COF_ERR_KEY_ABSENT;
        goto out;
    }
    memset(c, 0, sizeof(*c));
    c->kr = srv_rootkeys_current(rk);
    err = sto_meta_root_keys_each(meta, check_record, c);
    if (err != COF_OK)
        goto out;
    pw->kr = c->kr;
    pw->meta = meta;
    pw->path = path;
    if (c->n_pending_missing > 0) {
        err = sto_meta_root_keys_each(meta, settle_pending, pw);
        if (err != COF_OK)
            goto out;
        if (pw->n_refused > 0) {
            c->n_missing += pw->n_refused;
            ids_add(c->missing, pw->refused);
        }
    }
    if (c->n_missing > 0 || c->n_wrong > 0) {
        if (c->n_missing > 0)
            cof_log_error(NULL,
                          "root keyring %s lacks root keys that data dir %s depends on: %s; "
                          "refusing to start: restore the key file this data dir was used with",
                          path, data_dir, c->missing);
        if (c->n_wrong > 0)
            cof_log_error(NULL,
                          "root keyring %s holds a different key than data dir %s recorded "
                          "under the ids %s (key check values differ); refusing to start: "
                          "restore the key file this data dir was used with",
                          path, data_dir, c->wrong);
        err = COF_ERR_KEY_ABSENT;
        goto out;
    }
    if (c->n_recorded == 0 && !fresh)
        err = sto_meta_count_by_kek(meta, warn_unknown, c);
    /* Nothing is written before this point: a refused start leaves the data dir as it was. */
    pw->apply = true;
    if (err == COF_OK)
        err = sto_meta_root_keys_each(meta, settle_pending, pw);
    if (err == COF_OK)
        err = record_new(meta, c->kr, path);
out:
    if (err != COF_OK) {
        srv_rootkeys_close(rk);
        rk = NULL;
    }
    *out = rk;
    free(c);
    free(pw);
    return err;
}

/* ---- reports -------------------------------------------------------------------------------- */

struct state_walk {
    const char *id;
    bool found;
    uint8_t kcv[CRY_KCV_LEN];
    size_t kcv_len;
};

static cof_err find_record(const struct sto_root_key *r, void *arg)
{
    struct state_walk *w = arg;
    if (strcmp(r->id, w->id) != 0)
        return COF_OK;
    w->found = true;
    w->kcv_len = r->kcv_len < sizeof(w->kcv) ? r->kcv_len : sizeof(w->kcv);
    memcpy(w->kcv, r->kcv, w->kcv_len);
    return COF_OK;
}

cof_err obj_keyguard_state(struct sto_meta *meta, struct srv_rootkeys *rk, const char *id,
                           enum obj_keyguard_state *out)
{
    struct state_walk w = {.id = id};
    const struct cry_key *k = cry_keyring_find(srv_rootkeys_current(rk), id);
    bool same = false;
    cof_err err = sto_meta_root_keys_each(meta, find_record, &w);
    if (err == COF_OK && k != NULL && w.found)
        err = same_key(k, w.kcv, w.kcv_len, &same);
    if (k == NULL)
        *out = OBJ_KEY_MISSING;
    else if (!w.found)
        *out = OBJ_KEY_UNRECORDED;
    else
        *out = same ? OBJ_KEY_OK : OBJ_KEY_WRONG;
    return err;
}

struct missing_walk {
    const struct cry_keyring *kr;
    obj_keyguard_id_fn cb;
    void *arg;
};

static cof_err each_missing(const struct sto_root_key *r, void *arg)
{
    struct missing_walk *w = arg;
    return cry_keyring_find(w->kr, r->id) == NULL ? w->cb(r->id, r->pending, w->arg) : COF_OK;
}

cof_err obj_keyguard_each_missing(struct sto_meta *meta, struct srv_rootkeys *rk,
                                  obj_keyguard_id_fn cb, void *arg)
{
    struct missing_walk w = {srv_rootkeys_current(rk), cb, arg};
    return sto_meta_root_keys_each(meta, each_missing, &w);
}

/* ---- rotation and retirement ---------------------------------------------------------------- */

cof_err obj_keyguard_rotate(const char *path, struct sto_meta *meta, struct srv_rootkeys *rk,
                            char out_id[CRY_KEY_ID_MAX + 1])
{
    struct cry_key *k = NULL;
    uint8_t kcv[CRY_KCV_LEN];
    cof_err err = cry_key_new_random(&k);
    if (err == COF_OK)
        err = cry_keyring_new_id(out_id);
    if (err == COF_OK)
        err = cry_key_check_value(k, kcv);
    /* Recorded before the key file has it: whatever a server wraps under it once it reloads the
     * file is wrapped under a recorded key. */
    if (err == COF_OK)
        err = sto_meta_root_key_record(meta, out_id, kcv, sizeof(kcv), true, now_ms());
    if (err == COF_OK) {
        err = cry_keyring_add_key(path, out_id, k);
        if (err != COF_OK && sto_meta_root_key_forget(meta, out_id) != COF_OK)
            cof_log_warn(NULL, "root key %s stays recorded as pending; the next start drops it",
                         out_id);
    }
    if (err == COF_OK)
        err = sto_meta_root_key_confirm(meta, out_id);
    if (err == COF_OK && srv_rootkeys_find(rk, out_id) == NULL) {
        cof_log_error(NULL, "root key %s was written to %s but did not load", out_id, path);
        err = COF_ERR_IO;
    }
    cry_key_free(k);
    return err;
}

cof_err obj_keyguard_retire(const char *path, struct sto_meta *meta, const char *id)
{
    struct cry_keyring *kr = NULL;
    const char *active = NULL;
    uint8_t kcv[CRY_KCV_LEN];
    bool was_recorded = false;
    cof_err err = cry_keyring_load(path, false, &kr);
    if (err != COF_OK)
        return err;
    const struct cry_key *k = cry_keyring_find(kr, id);
    (void)cry_keyring_active(kr, &active);
    if (k == NULL)
        err = COF_ERR_NOT_FOUND;
    else if (strcmp(active, id) == 0)
        err = COF_ERR_INVALID;
    else
        err = cry_key_check_value(k, kcv);
    /* Forget first: a crash before the file changes leaves an unrecorded key in the keyring,
     * which the next start records again; the other order would leave a record without a key. */
    if (err == COF_OK) {
        err = sto_meta_root_key_forget(meta, id);
        was_recorded = err == COF_OK;
        if (err == COF_ERR_NOT_FOUND)
            err = COF_OK;
    }
    if (err == COF_OK) {
        err = cry_keyring_remove_key(path, id);
        if (err != COF_OK && was_recorded &&
            sto_meta_root_key_record(meta, id, kcv, sizeof(kcv), false, now_ms()) != COF_OK)
            cof_log_warn(NULL, "root key %s is no longer recorded; the next start records it", id);
    }
    cry_keyring_free(kr);
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* coffer kms (create-key, list, describe, enable, disable, schedule-deletion, cancel-deletion,
 * create-alias) and coffer keys (list, rotate, retire). Output is one line per key. */
#include "server/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "crypto/envelope.h"
#include "crypto/keyring.h"
#include "object/keyguard.h"
#include "object/kms.h"
#include "object/rootkeys.h"
#include "storage/blob.h"
#include "ops/req.h"
#include "storage/meta.h"

void srv_admin_usage(void)
{
    printf("coffer kms create-key [--alias alias/NAME] [--description TEXT]\n"
           "coffer kms list | describe KEY | enable KEY | disable KEY\n"
           "coffer kms schedule-deletion KEY [--days 7..30] | cancel-deletion KEY\n"
           "coffer kms create-alias alias/NAME KEY\n"
           "coffer keys list | rotate | rewrap | retire ID\n"
           "  rotate adds a new active root key and re-wraps every SSE-S3 data key and KMS key\n"
           "  under it (metadata only); rewrap resumes an interrupted rotation.\n"
           "KEY is a key id, key ARN, alias/NAME or alias ARN. Data dir options as for the "
           "server (--data-dir, --root-key-file, --config).\n");
}

int srv_admin_take_args(int argc, char **argv, int first, struct srv_admin_args *out)
{
    memset(out, 0, sizeof(*out));
    out->days = 30;
    int j = first;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--alias") == 0)
            dst = &out->alias;
        else if (strcmp(a, "--description") == 0)
            dst = &out->description;
        if (dst != NULL || strcmp(a, "--days") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "coffer: %s needs a value\n", a);
                return -1;
            }
            if (dst != NULL)
                *dst = argv[++i];
            else {
                char *end = NULL;
                const char *v = argv[++i];
                long d = strtol(v, &end, 10);
                out->days = end != v && *end == '\0' && d > 0 && d < 10000 ? (int)d : -1;
            }
            continue;
        }
        if (a[0] == '-') {
            /* A shared option: keep it, and its value unless it is --ephemeral or --x=v. */
            argv[j++] = argv[i];
            if (strchr(a, '=') == NULL && strcmp(a, "--ephemeral") != 0 && i + 1 < argc)
                argv[j++] = argv[++i];
            continue;
        }
        if (out->n_words == 4) {
            fprintf(stderr, "coffer: too many arguments\n");
            return -1;
        }
        out->words[out->n_words++] = a;
    }
    return j;
}

static void print_key(const struct srv_ctx *ctx, const struct sto_kms_key *k)
{
    char arn[160], created[32];
    time_t t = (time_t)(k->created_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    srv_kms_arn(&ctx->obj, k->id, arn, sizeof(arn));
    printf("%s\t%s\t%s\t%s\t%s", k->id, k->state, created, arn, k->aliases ? k->aliases : "-");
    if (k->deletion_ms > 0)
        printf("\tdeletion %lld", (long long)(k->deletion_ms / 1000));
    if (k->description != NULL && k->description[0] != '\0')
        printf("\t%s", k->description);
    printf("\n");
}

static cof_err print_cb(const struct sto_kms_key *k, void *arg)
{
    print_key(arg, k);
    return COF_OK;
}

/* Resolves KEY (any reference form) to a stored row without creating anything. */
static int find_key(struct srv_ctx *ctx, const char *ref, struct sto_kms_key *out)
{
    struct srv_kms_key k;
    char msg[256];
    cof_err err = srv_kms_resolve(&ctx->obj, ref, false, &k, msg, sizeof(msg));
    srv_kms_key_cleanup(&k);
    if (err != COF_OK && err != COF_ERR_KMS_DISABLED && err != COF_ERR_KMS_INVALID_STATE) {
        fprintf(stderr, "coffer kms: %s\n", msg[0] ? msg : cof_err_name(err));
        return 1;
    }
    if (sto_meta_kms_get(ctx->obj.meta, k.id, out) != COF_OK) {
        fprintf(stderr, "coffer kms: key %s not found\n", ref);
        return 1;
    }
    return 0;
}

static int set_state(struct srv_ctx *ctx, const char *ref, const char *state, int64_t when)
{
    struct sto_kms_key k;
    if (find_key(ctx, ref, &k) != 0)
        return 1;
    cof_err err = sto_meta_kms_set_state(ctx->obj.meta, k.id, state, when);
    if (err == COF_OK)
        printf("%s\t%s\n", k.id, state);
    else
        fprintf(stderr, "coffer kms: %s\n", cof_err_name(err));
    sto_kms_key_cleanup(&k);
    return err == COF_OK ? 0 : 1;
}

int srv_admin_kms(struct srv_ctx *ctx, const struct srv_admin_args *a)
{
    const char *cmd = a->n_words > 0 ? a->words[0] : "";
    const char *arg1 = a->n_words > 1 ? a->words[1] : NULL;
    const char *arg2 = a->n_words > 2 ? a->words[2] : NULL;
    if (strcmp(cmd, "create-key") == 0) {
        struct srv_kms_key k;
        if (a->alias != NULL && strncmp(a->alias, "alias/", 6) != 0) {
            fprintf(stderr, "coffer kms: an alias starts with alias/\n");
            return 2;
        }
        cof_err err = srv_kms_create(&ctx->obj, NULL, a->alias, a->description, NULL, &k);
        if (err != COF_OK) {
            fprintf(stderr, "coffer kms: %s\n",
                    err == COF_ERR_EXISTS ? "alias already exists" : cof_err_name(err));
            return 1;
        }
        printf("%s\t%s\n", k.id, k.arn);
        srv_kms_key_cleanup(&k);
        return 0;
    }
    if (strcmp(cmd, "list") == 0) {
        /* Keys past their deletion date are deleted first, as the server does on access. */
        cof_err err = srv_kms_sweep(&ctx->obj);
        if (err == COF_OK)
            err = sto_meta_kms_each(ctx->obj.meta, print_cb, ctx);
        return err == COF_OK ? 0 : 1;
    }
    if (arg1 == NULL) {
        srv_admin_usage();
        return 2;
    }
    if (strcmp(cmd, "describe") == 0) {
        struct sto_kms_key k;
        if (find_key(ctx, arg1, &k) != 0)
            return 1;
        print_key(ctx, &k);
        sto_kms_key_cleanup(&k);
        return 0;
    }
    if (strcmp(cmd, "enable") == 0 || strcmp(cmd, "cancel-deletion") == 0)
        return set_state(ctx, arg1, strcmp(cmd, "enable") == 0 ? "Enabled" : "Disabled", 0);
    if (strcmp(cmd, "disable") == 0)
        return set_state(ctx, arg1, "Disabled", 0);
    if (strcmp(cmd, "schedule-deletion") == 0) {
        if (a->days < 7 || a->days > 30) {
            fprintf(stderr, "coffer kms: --days must be 7..30\n");
            return 2;
        }
        return set_state(ctx, arg1, "PendingDeletion",
                         cof_now_ms() + (int64_t)a->days * 86400 * 1000);
    }
    if (strcmp(cmd, "create-alias") == 0 && arg2 != NULL) {
        struct sto_kms_key k;
        if (strncmp(arg1, "alias/", 6) != 0 || strncmp(arg1, "alias/aws/", 10) == 0) {
            fprintf(stderr, "coffer kms: an alias starts with alias/ (and not alias/aws/)\n");
            return 2;
        }
        if (find_key(ctx, arg2, &k) != 0)
            return 1;
        cof_err err = sto_meta_kms_set_alias(ctx->obj.meta, arg1, k.id, cof_now_ms());
        sto_kms_key_cleanup(&k);
        if (err != COF_OK) {
            fprintf(stderr, "coffer kms: %s\n",
                    err == COF_ERR_EXISTS ? "alias already exists" : cof_err_name(err));
            return 1;
        }
        printf("%s\t%s\n", arg1, arg2);
        return 0;
    }
    srv_admin_usage();
    return 2;
}

/* ---- root keys ---------------------------------------------------------------------------- */

struct kek_counts {
    const char *id;
    uint64_t objects;
    uint64_t kms;
    bool print;
    const struct cry_keyring *ring;
};

static cof_err count_cb(const char *kek_id, uint64_t objects, uint64_t kms_keys, void *arg)
{
    struct kek_counts *c = arg;
    if (c->print) {
        if (cry_keyring_find(c->ring, kek_id) == NULL)
            printf("%s\tMISSING FROM KEYRING\t%llu objects\t%llu KMS keys\n", kek_id,
                   (unsigned long long)objects, (unsigned long long)kms_keys);
        return COF_OK;
    }
    if (strcmp(kek_id, c->id) == 0) {
        c->objects = objects;
        c->kms = kms_keys;
    }
    return COF_OK;
}

/* A recorded key the keyring lacks that wraps nothing (those that wrap something were listed
 * with their counts). A rotation killed before it wrote its key leaves such a record, pending:
 * nothing needs that key, and the next start forgets it, so it is not reported missing. */
static cof_err print_missing(const char *id, bool pending, void *arg)
{
    struct srv_ctx *ctx = arg;
    struct kek_counts c = {id, 0, 0, false, NULL};
    cof_err err = sto_meta_count_by_kek(ctx->obj.meta, count_cb, &c);
    if (err == COF_OK && c.objects == 0 && c.kms == 0)
        printf("%s\t%s\t0 objects\t0 KMS keys\n", id,
               pending ? "PENDING ROTATION (never written to the keyring; the next start forgets "
                         "it)"
                       : "MISSING FROM KEYRING");
    return err;
}

/* One line per key of the keyring, then one per key the data dir needs that it lacks. */
static int keys_list(struct srv_ctx *ctx)
{
    const struct cry_keyring *kr = srv_rootkeys_current(ctx->obj.kr);
    size_t n = cry_keyring_count(kr);
    for (size_t i = 0; i < n; i++) {
        struct kek_counts c = {cry_keyring_id(kr, i), 0, 0, false, kr};
        enum obj_keyguard_state st = OBJ_KEY_OK;
        if (sto_meta_count_by_kek(ctx->obj.meta, count_cb, &c) != COF_OK ||
            obj_keyguard_state(ctx->obj.meta, ctx->obj.kr, c.id, &st) != COF_OK)
            return 1;
        printf("%s\t%s\t%llu objects\t%llu KMS keys%s\n", c.id, i + 1 == n ? "active" : "inactive",
               (unsigned long long)c.objects, (unsigned long long)c.kms,
               st == OBJ_KEY_WRONG        ? "\tWRONG KEY (not the key the data dir recorded)"
               : st == OBJ_KEY_UNRECORDED ? "\tnot recorded yet"
                                          : "");
    }
    struct kek_counts all = {"", 0, 0, true, kr};
    cof_err err = sto_meta_count_by_kek(ctx->obj.meta, count_cb, &all);
    if (err == COF_OK)
        err = obj_keyguard_each_missing(ctx->obj.meta, ctx->obj.kr, print_missing, ctx);
    return err == COF_OK ? 0 : 1;
}

struct rewrap_walk {
    struct srv_ctx *ctx;
    const struct cry_key *root;
    const char *root_id;
    unsigned long done;
    unsigned long failed;
};

static cof_err rewrap_object(const struct sto_object *o, void *arg)
{
    struct rewrap_walk *w = arg;
    uint8_t raw[CRY_BLOB_ID_LEN];
    uint8_t wrapped[CRY_WRAPPED_LEN];
    struct cry_key *dek = NULL;
    bool changed = false;
    const struct cry_key *old =
        o->kek_id != NULL ? srv_rootkeys_find(w->ctx->obj.kr, o->kek_id) : NULL;
    cof_err err = old != NULL ? sto_blob_id_parse(o->blob_id, raw) : COF_ERR_KEY;
    struct cry_wrap_ctx wc = {CRY_MODE_SSE_S3, o->bucket, o->key, o->version_id, raw, NULL};
    if (err == COF_OK)
        err = cry_env_unwrap(old, &wc, o->wrapped_dek, o->wrapped_len, &dek);
    if (err == COF_OK)
        err = cry_env_wrap(w->root, &wc, dek, wrapped);
    cry_key_free(dek);
    if (err == COF_OK)
        err = sto_meta_object_rewrap(w->ctx->obj.meta, o->bucket, o->key, o->blob_id, o->kek_id,
                                     w->root_id, wrapped, sizeof(wrapped), &changed);
    if (err == COF_ERR_NOMEM || err == COF_ERR_DB)
        return err;
    if (err != COF_OK) {
        fprintf(stderr, "cannot re-wrap s3://%s/%s: %s\n", o->bucket, o->key, cof_err_name(err));
        w->failed++;
    } else {
        w->done++;
    }
    return COF_OK;
}

static cof_err rewrap_part(const struct sto_stale_part *p, void *arg)
{
    struct rewrap_walk *w = arg;
    uint8_t raw[CRY_BLOB_ID_LEN];
    uint8_t wrapped[CRY_WRAPPED_LEN];
    struct cry_key *dek = NULL;
    bool changed = false;
    const struct cry_key *old =
        p->kek_id != NULL ? srv_rootkeys_find(w->ctx->obj.kr, p->kek_id) : NULL;
    cof_err err = old != NULL ? sto_blob_id_parse(p->blob_id, raw) : COF_ERR_KEY;
    /* Part blobs are wrapped for the object they belong (or will belong) to. */
    struct cry_wrap_ctx wc = {CRY_MODE_SSE_S3, p->bucket, p->key, "null", raw, NULL};
    if (err == COF_OK)
        err = cry_env_unwrap(old, &wc, p->wrapped, p->wrapped_len, &dek);
    if (err == COF_OK)
        err = cry_env_wrap(w->root, &wc, dek, wrapped);
    cry_key_free(dek);
    if (err == COF_OK)
        err = sto_meta_part_rewrap(w->ctx->obj.meta, p, w->root_id, wrapped, sizeof(wrapped),
                                   &changed);
    if (err == COF_ERR_NOMEM || err == COF_ERR_DB)
        return err;
    if (err != COF_OK) {
        fprintf(stderr, "cannot re-wrap a part of s3://%s/%s: %s\n", p->bucket, p->key,
                cof_err_name(err));
        w->failed++;
    } else {
        w->done++;
    }
    return COF_OK;
}

static cof_err rewrap_kms(const struct sto_kms_key *k, void *arg)
{
    struct rewrap_walk *w = arg;
    if (strcmp(k->kek_id, w->root_id) == 0)
        return COF_OK;
    cof_err err = srv_kms_rewrap(&w->ctx->obj, k->id);
    if (err != COF_OK) {
        fprintf(stderr, "cannot re-wrap KMS key %s: %s\n", k->id, cof_err_name(err));
        w->failed++;
    } else {
        w->done++;
    }
    return COF_OK;
}

/* Re-wraps everything not under the active root key, in batches, printing progress. Safe to
 * interrupt: each object is its own transaction, and running it again continues. */
static int rewrap_all(struct srv_ctx *ctx)
{
    struct rewrap_walk w = {ctx, NULL, NULL, 0, 0};
    w.root = srv_rootkeys_active(ctx->obj.kr, &w.root_id);
    cof_err err = COF_OK;
    for (;;) {
        unsigned long before = w.done, failed_before = w.failed;
        err = sto_meta_stale_objects(ctx->obj.meta, CRY_MODE_SSE_S3, w.root_id, 512, rewrap_object,
                                     &w);
        if (err != COF_OK || w.done == before)
            break;
        printf("re-wrapped %lu data keys under %s\n", w.done, w.root_id);
        fflush(stdout);
        if (w.failed > failed_before && w.done == before)
            break;
    }
    for (;;) {
        unsigned long before = w.done;
        if (err == COF_OK)
            err = sto_meta_stale_parts(ctx->obj.meta, w.root_id, 512, rewrap_part, &w);
        if (err != COF_OK || w.done == before)
            break;
        printf("re-wrapped %lu data keys under %s\n", w.done, w.root_id);
        fflush(stdout);
    }
    unsigned long objects = w.done;
    if (err == COF_OK)
        err = sto_meta_kms_each(ctx->obj.meta, rewrap_kms, &w);
    printf("rotation to %s: %lu data keys and %lu KMS keys re-wrapped, %lu failed\n", w.root_id,
           objects, w.done - objects, w.failed);
    return err == COF_OK && w.failed == 0 ? 0 : 1;
}

int srv_admin_keys(struct srv_ctx *ctx, const char *keyring_path, const struct srv_admin_args *a)
{
    const char *cmd = a->n_words > 0 ? a->words[0] : "";
    if (strcmp(cmd, "list") == 0)
        return keys_list(ctx);
    if (strcmp(cmd, "rotate") == 0) {
        char id[CRY_KEY_ID_MAX + 1];
        /* Recorded in the data dir before the key file has it (see keyguard.h). */
        cof_err err = obj_keyguard_rotate(keyring_path, ctx->obj.meta, ctx->obj.kr, id);
        if (err != COF_OK) {
            fprintf(stderr, "coffer keys: cannot add a root key: %s\n", cof_err_name(err));
            return 1;
        }
        printf("new active root key %s\n", id);
        return rewrap_all(ctx);
    }
    if (strcmp(cmd, "rewrap") == 0)
        return rewrap_all(ctx);
    if (strcmp(cmd, "retire") == 0 && a->n_words > 1) {
        struct kek_counts c = {a->words[1], 0, 0, false, NULL};
        if (sto_meta_count_by_kek(ctx->obj.meta, count_cb, &c) != COF_OK)
            return 1;
        if (c.objects > 0 || c.kms > 0) {
            fprintf(stderr,
                    "coffer keys: %s still wraps %llu data keys and %llu KMS keys; run "
                    "`coffer keys rewrap` first\n",
                    c.id, (unsigned long long)c.objects, (unsigned long long)c.kms);
            return 1;
        }
        cof_err err = obj_keyguard_retire(keyring_path, ctx->obj.meta, c.id);
        if (err != COF_OK) {
            fprintf(stderr, "coffer keys: %s\n",
                    err == COF_ERR_INVALID     ? "the active key cannot be retired"
                    : err == COF_ERR_NOT_FOUND ? "no such key"
                                               : cof_err_name(err));
            return 1;
        }
        printf("retired %s\n", c.id);
        return 0;
    }
    srv_admin_usage();
    return 2;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "server/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"
#include "object/backup.h"
#include "object/ctx.h"
#include "object/rootkeys.h"
#include "server/blobstore.h"
#include "server/periodic.h"
#include "storage/blob.h"
#include "storage/blobdual.h"
#include "storage/db.h"
#include "storage/gc.h"
#include "upstream/blobs3.h"

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static cof_err to_fd(void *arg, const void *p, size_t n)
{
    return cof_write_all(*(int *)arg, p, n) == 0 ? COF_OK : COF_ERR_IO;
}

static cof_err to_upstream(void *arg, const void *p, size_t n)
{
    return up_side_write(arg, p, n);
}

/* Seals the snapshot at snap into output (written beside it and renamed). */
static cof_err seal_to_file(struct obj_ctx *ctx, const char *snap, const char *output)
{
    size_t n = strlen(output) + 8;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return COF_ERR_NOMEM;
    snprintf(tmp, n, "%s.part", output);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cof_err err = fd >= 0 ? COF_OK : COF_ERR_IO;
    if (err == COF_OK)
        err = obj_backup_seal(ctx->kr, snap, to_fd, &fd);
    if (err == COF_OK && fsync(fd) != 0)
        err = COF_ERR_IO;
    if (fd >= 0 && close(fd) != 0 && err == COF_OK)
        err = COF_ERR_IO;
    if (err == COF_OK && rename(tmp, output) != 0)
        err = COF_ERR_IO;
    if (err != COF_OK) {
        cof_log_error(NULL, "backup: cannot write %s: %s", output,
                      err == COF_ERR_IO ? strerror(errno) : cof_err_name(err));
        (void)unlink(tmp);
    }
    free(tmp);
    return err;
}

/* Deletes the marked blobs no object names; a marked blob an object names again (the data dir
 * was restored from a backup older than the mark) only loses its mark. */
static cof_err reap(struct obj_ctx *ctx, struct sto_blobs *up, char **ids, size_t n, size_t *reaped)
{
    size_t live = 0, k = 0;
    cof_err err = COF_OK;
    /* Partition in place: unreferenced ids first, then the live ones. */
    for (size_t i = 0; err == COF_OK && i < n; i++) {
        bool used = false;
        err = sto_meta_blob_referenced(ctx->meta, ids[i], &used);
        if (err == COF_OK && !used) {
            char *t = ids[k];
            ids[k++] = ids[i];
            ids[i] = t;
        }
    }
    live = n - k;
    if (err == COF_OK)
        err = up_blobs_reap(up, ids, k, true, reaped);
    size_t unmarked = 0;
    if (err == COF_OK && live > 0)
        err = up_blobs_reap(up, ids + k, live, false, &unmarked);
    return err;
}

cof_err srv_backup_run(struct obj_ctx *ctx, const struct srv_config *c, const char *output,
                       char name[SRV_BACKUP_NAME_MAX])
{
    name[0] = '\0';
    struct sto_blobs *up = srv_blobstore_upstream(ctx->blobs);
    bool upstream = up != NULL;
    if (output == NULL && !upstream) {
        fprintf(stderr, "coffer backup: the blobs are local files: give --output FILE\n");
        return COF_ERR_CONFIG;
    }
    /* The snapshot is plaintext metadata: it stays in DATA (0600 files) and goes at once. */
    char leaf[64];
    snprintf(leaf, sizeof(leaf), "backup-%ld.snapshot", (long)getpid());
    char *snap = join(c->data_dir, leaf);
    if (snap == NULL)
        return COF_ERR_NOMEM;
    (void)unlink(snap);
    /* Blobs marked for removal before the snapshot: it names none of them, so once it is
     * safely upstream they can go. */
    char **graves = NULL;
    size_t n_graves = 0, reaped = 0;
    cof_err err = upstream && output == NULL ? up_blobs_graveyard(up, &graves, &n_graves) : COF_OK;
    if (err == COF_OK)
        err = sto_meta_backup(ctx->meta, snap);
    if (err == COF_OK && output != NULL) {
        err = seal_to_file(ctx, snap, output);
        snprintf(name, SRV_BACKUP_NAME_MAX, "%s", output);
    } else if (err == COF_OK) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32], id[33];
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        err = sto_blob_new_id(id, NULL);
        snprintf(name, SRV_BACKUP_NAME_MAX, "backups/%s-%.8s.cbk", stamp, id);
        struct up_side_writer *w = NULL;
        if (err == COF_OK)
            err = up_side_create(up, name, &w);
        if (err == COF_OK) {
            err = obj_backup_seal(ctx->kr, snap, to_upstream, w);
            if (err == COF_OK)
                err = up_side_commit(w);
            else
                up_side_abort(w);
        }
        if (err == COF_OK && n_graves > 0)
            err = reap(ctx, up, graves, n_graves, &reaped);
        size_t dropped = 0;
        if (err == COF_OK && c->backup_keep > 0)
            err = up_side_keep_latest(up, "backups/", c->backup_keep, &dropped);
        if (dropped > 0)
            cof_log_info(NULL, "backup: %zu older backups deleted (--backup-keep %u)", dropped,
                         c->backup_keep);
    }
    up_blobs_graveyard_free(graves, n_graves);
    (void)unlink(snap);
    free(snap);
    if (err == COF_OK)
        cof_log_info(NULL, "backup: metadata snapshot sealed into %s (%zu removed blobs deleted)",
                     name, reaped);
    else
        cof_log_error(NULL, "backup failed: %s", cof_err_name(err));
    return err;
}

struct file_src {
    int fd;
};

static cof_err from_fd(void *arg, void *buf, size_t n, size_t *out_n)
{
    struct file_src *s = arg;
    return cof_read_upto(s->fd, buf, n, out_n) == 0 ? COF_OK : COF_ERR_IO;
}

static cof_err from_upstream(void *arg, void *buf, size_t n, size_t *out_n)
{
    return up_side_read(arg, buf, n, out_n);
}

cof_err srv_restore_run(const struct srv_config *c, const char *input, const char *backup_name,
                        char name[SRV_BACKUP_NAME_MAX])
{
    name[0] = '\0';
    char *db = join(c->data_dir, "coffer.db");
    char *part = join(c->data_dir, "coffer.db.restoring");
    struct srv_rootkeys *kr = NULL;
    struct sto_blobs *bs = NULL;
    struct up_side_reader *r = NULL;
    char owner[33] = "";
    struct stat st;
    cof_err err = db != NULL && part != NULL ? COF_OK : COF_ERR_NOMEM;
    bool upstream = c->blob_store != NULL && strncmp(c->blob_store, "s3://", 5) == 0;
    if (err == COF_OK && stat(db, &st) == 0) {
        fprintf(stderr, "coffer restore: %s exists: restore into a new data dir\n", db);
        err = COF_ERR_CONFIG;
    }
    if (err == COF_OK && input == NULL && !upstream) {
        fprintf(stderr, "coffer restore: give --input FILE, or the --blob-store s3://... that "
                        "holds the backups\n");
        err = COF_ERR_CONFIG;
    }
    if (err == COF_OK && mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "coffer restore: cannot create %s: %s\n", c->data_dir, strerror(errno));
        err = COF_ERR_IO;
    }
    if (err == COF_OK) {
        err = srv_rootkeys_open(c->root_key_file, false, &kr);
        if (err != COF_OK)
            fprintf(stderr,
                    "coffer restore: cannot read the root keyring %s (give the one the "
                    "backup was sealed under with --root-key-file)\n",
                    c->root_key_file);
    }
    if (err == COF_OK && upstream)
        err = srv_blobstore_open_unclaimed(c, &bs);
    if (err == COF_OK && upstream) {
        err = up_side_owner(bs, owner);
        if (err != COF_OK)
            fprintf(stderr,
                    "coffer restore: %s has no valid owner claim: it holds no coffer "
                    "data dir's blobs\n",
                    c->blob_store);
    }
    (void)unlink(part);
    if (err == COF_OK && input != NULL) {
        struct file_src src = {open(input, O_RDONLY | O_CLOEXEC)};
        if (src.fd < 0) {
            fprintf(stderr, "coffer restore: cannot read %s: %s\n", input, strerror(errno));
            err = COF_ERR_IO;
        } else {
            snprintf(name, SRV_BACKUP_NAME_MAX, "%s", input);
            err = obj_backup_open(kr, from_fd, &src, part);
            close(src.fd);
        }
    } else if (err == COF_OK) {
        if (backup_name != NULL)
            snprintf(name, SRV_BACKUP_NAME_MAX, "%s", backup_name);
        else
            err = up_side_latest(bs, "backups/", name, SRV_BACKUP_NAME_MAX);
        if (err == COF_ERR_NOT_FOUND)
            fprintf(stderr, "coffer restore: no backup under %s/backups/\n", c->blob_store);
        if (err == COF_OK)
            err = up_side_open(bs, name, &r);
        if (err == COF_OK)
            err = obj_backup_open(kr, from_upstream, r, part);
    }
    if (err == COF_OK && rename(part, db) != 0)
        err = COF_ERR_IO;
    if (err == COF_OK && upstream)
        err = srv_blobstore_record(c->data_dir, c->blob_store, owner);
    if (err == COF_OK) {
        int dfd = open(c->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            err = COF_ERR_IO;
        if (dfd >= 0)
            close(dfd);
    }
    up_side_close(r);
    sto_blobs_close(bs);
    srv_rootkeys_close(kr);
    free(db);
    free(part);
    return err;
}

struct srv_backupthread {
    struct obj_ctx *ctx;
    const struct srv_config *cfg;
    struct srv_periodic *p;
};

static bool one_backup(struct srv_periodic *p, void *arg)
{
    struct srv_backupthread *t = arg;
    char name[SRV_BACKUP_NAME_MAX];
    (void)p;
    cof_err err = srv_backup_run(t->ctx, t->cfg, NULL, name); /* logged either way */
    (void)err;
    return false;
}

cof_err srv_backupthread_start(struct obj_ctx *ctx, const struct srv_config *c, unsigned interval_s,
                               struct srv_backupthread **out)
{
    *out = NULL;
    if (interval_s == 0)
        return COF_OK;
    if (srv_blobstore_upstream(ctx->blobs) == NULL) {
        cof_log_warn(NULL, "--backup-interval needs --blob-store s3://...: no scheduled backups");
        return COF_OK;
    }
    struct srv_backupthread *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return COF_ERR_NOMEM;
    t->ctx = ctx;
    t->cfg = c;
    cof_err err = srv_periodic_start(interval_s, one_backup, t, &t->p);
    if (err != COF_OK) {
        free(t);
        return err;
    }
    *out = t;
    return COF_OK;
}

void srv_backupthread_stop(struct srv_backupthread *t)
{
    if (t == NULL)
        return;
    srv_periodic_stop(t->p);
    free(t);
}

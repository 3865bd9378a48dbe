/* SPDX-License-Identifier: Apache-2.0 */
#include "server/blobstore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/blob.h"
#include "storage/blobdual.h"
#include "upstream/blobs3.h"

#define CRED_MAX  256
#define STORE_MAX 600

/* DATA/blob-store: which store a data dir's blobs are in, and its claim on an upstream prefix.
 * Absent: the local files (every data dir from before upstream stores). */
#define STORE_FILE  "blob-store"
#define STORE_MAGIC "coffer-blob-store v1"

struct store_record {
    char store[STORE_MAX]; /* "s3://bucket/prefix" */
    char owner[33];
    char migrating[16]; /* "", MIG_UP or MIG_FILES: coffer blobs migrate is moving the blobs */
};

#define MIG_UP    "to-upstream"
#define MIG_FILES "to-files"

static char *data_path(const char *data_dir, const char *name)
{
    size_t n = strlen(data_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", data_dir, name);
    return p;
}

/* Reads DATA/blob-store: COF_OK (found), COF_ERR_NOT_FOUND, COF_ERR_CONFIG (unreadable). */
static cof_err read_record(const char *data_dir, struct store_record *r)
{
    char *path = data_path(data_dir, STORE_FILE);
    if (path == NULL)
        return COF_ERR_NOMEM;
    FILE *f = fopen(path, "r");
    cof_err err = COF_OK;
    if (f == NULL) {
        err = errno == ENOENT ? COF_ERR_NOT_FOUND : COF_ERR_CONFIG;
    } else {
        char l1[64], l2[STORE_MAX + 16], l3[64], l4[64] = "";
        memset(r, 0, sizeof(*r));
        if (fgets(l1, sizeof(l1), f) == NULL || fgets(l2, sizeof(l2), f) == NULL ||
            fgets(l3, sizeof(l3), f) == NULL || strcmp(l1, STORE_MAGIC "\n") != 0 ||
            strncmp(l2, "store ", 6) != 0 || sscanf(l3, "owner %32[0-9a-f]", r->owner) != 1 ||
            strlen(r->owner) != 32)
            err = COF_ERR_CONFIG;
        else
            snprintf(r->store, sizeof(r->store), "%.*s", (int)strcspn(l2 + 6, "\n"), l2 + 6);
        if (err == COF_OK && fgets(l4, sizeof(l4), f) != NULL) {
            if (strcmp(l4, "migrating " MIG_UP "\n") == 0)
                strcpy(r->migrating, MIG_UP);
            else if (strcmp(l4, "migrating " MIG_FILES "\n") == 0)
                strcpy(r->migrating, MIG_FILES);
            else
                err = COF_ERR_CONFIG;
        }
        fclose(f);
    }
    if (err == COF_ERR_CONFIG)
        fprintf(stderr, "coffer: %s is unreadable or damaged\n", path);
    free(path);
    return err;
}

/* Writes DATA/blob-store durably (temporary file, fsync, rename, fsync of DATA). */
static cof_err write_record(const char *data_dir, const struct store_record *r)
{
    char *path = data_path(data_dir, STORE_FILE);
    char *tmp = data_path(data_dir, STORE_FILE ".tmp");
    cof_err err = path != NULL && tmp != NULL ? COF_OK : COF_ERR_NOMEM;
    int fd = err == COF_OK ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
    if (err == COF_OK && fd >= 0) {
        char buf[STORE_MAX + 128];
        int n = snprintf(buf, sizeof(buf), STORE_MAGIC "\nstore %s\nowner %s\n%s%s%s", r->store,
                         r->owner, r->migrating[0] ? "migrating " : "", r->migrating,
                         r->migrating[0] ? "\n" : "");
        if (n < 0 || write(fd, buf, (size_t)n) != n || fsync(fd) != 0)
            err = COF_ERR_IO;
    } else if (err == COF_OK) {
        err = COF_ERR_IO;
    }
    if (fd >= 0 && close(fd) != 0)
        err = COF_ERR_IO;
    if (err == COF_OK && rename(tmp, path) != 0)
        err = COF_ERR_IO;
    if (err == COF_OK) {
        int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            err = COF_ERR_IO;
        if (dfd >= 0)
            close(dfd);
    }
    if (err == COF_ERR_IO)
        cof_log_error(NULL, "cannot write %s: %s", path, strerror(errno));
    free(path);
    free(tmp);
    return err;
}

/* Whether DATA/blobs holds anything (blobs of the local file store). */
static bool has_blob_files(const char *data_dir)
{
    char *path = data_path(data_dir, "blobs");
    DIR *d = path != NULL ? opendir(path) : NULL;
    bool any = false;
    struct dirent *de;
    while (d != NULL && !any && (de = readdir(d)) != NULL)
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    if (d != NULL)
        closedir(d);
    free(path);
    return any;
}

/* Reads "name = value" lines of a credentials file into ak and sk. Accepts both coffer's names
 * and the aws CLI's (aws_access_key_id, aws_secret_access_key); [sections] and # comments are
 * skipped. The first value of each wins. */
static cof_err read_credentials(const char *path, char ak[CRED_MAX], char sk[CRED_MAX])
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "coffer: cannot read --blob-store-credentials-file %s\n", path);
        return COF_ERR_CONFIG;
    }
    char line[1024];
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');
        if (eq == NULL || line[0] == '#' || line[0] == '[')
            continue;
        char *name = line, *val = eq + 1;
        *eq = '\0';
        while (isspace((unsigned char)*name))
            name++;
        for (char *e = eq; e > name && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        while (isspace((unsigned char)*val))
            val++;
        size_t vl = strlen(val);
        while (vl > 0 && isspace((unsigned char)val[vl - 1]))
            val[--vl] = '\0';
        if (strncmp(name, "aws_", 4) == 0)
            name += 4;
        char *dst = strcmp(name, "access_key_id") == 0       ? ak
                    : strcmp(name, "secret_access_key") == 0 ? sk
                                                             : NULL;
        if (dst != NULL && dst[0] == '\0' && vl < CRED_MAX)
            memcpy(dst, val, vl + 1);
    }
    memset(line, 0, sizeof(line));
    fclose(f);
    return COF_OK;
}

enum open_mode {
    OPEN_SERVE,     /* the data dir's own store, per its record */
    OPEN_UNCLAIMED, /* no record, no claim check (coffer restore, which reads the claim) */
    OPEN_MIGRATE,   /* as SERVE, and a data dir of local files may claim the prefix */
};

static cof_err open_upstream(const struct srv_config *c, enum open_mode mode,
                             struct store_record *recp, struct sto_blobs **out)
{
    char ak[CRED_MAX] = "", sk[CRED_MAX] = "";
    char *bucket = NULL, *prefix = NULL;
    struct store_record rec;
    bool claim = false, unclaimed = mode == OPEN_UNCLAIMED;
    memset(&rec, 0, sizeof(rec));
    cof_err err = unclaimed ? COF_OK : read_record(c->data_dir, &rec);
    if (unclaimed) {
        /* nothing to check against */
    } else if (err == COF_OK && strcmp(rec.store, c->blob_store) != 0) {
        fprintf(stderr, "coffer: %s keeps its blobs in %s, not %s\n", c->data_dir, rec.store,
                c->blob_store);
        err = COF_ERR_CONFIG;
    } else if (err == COF_ERR_NOT_FOUND && mode == OPEN_SERVE && has_blob_files(c->data_dir)) {
        fprintf(stderr,
                "coffer: %s keeps its blobs in local files (DATA/blobs); start it "
                "without --blob-store, or move them with coffer blobs migrate --to upstream\n",
                c->data_dir);
        err = COF_ERR_CONFIG;
    } else if (err == COF_ERR_NOT_FOUND) {
        /* A data dir new to the upstream: it claims the prefix with a fresh random id. */
        uint8_t raw[16];
        err = sto_blob_new_id(rec.owner, raw);
        snprintf(rec.store, sizeof(rec.store), "%s", c->blob_store);
        if (mode == OPEN_MIGRATE)
            strcpy(rec.migrating, MIG_UP);
        claim = true;
    }
    if (err == COF_OK)
        err = up_blobs_parse_url(c->blob_store, &bucket, &prefix);
    if (err == COF_ERR_CONFIG)
        fprintf(stderr, "coffer: --blob-store must be file or s3://BUCKET[/PREFIX], not '%s'\n",
                c->blob_store);
    if (err == COF_OK && (c->blob_store_endpoint == NULL || c->blob_store_endpoint[0] == '\0')) {
        fprintf(stderr, "coffer: --blob-store %s needs --blob-store-endpoint\n", c->blob_store);
        err = COF_ERR_CONFIG;
    }
    if (err == COF_OK && c->blob_store_credentials_file != NULL &&
        c->blob_store_credentials_file[0] != '\0')
        err = read_credentials(c->blob_store_credentials_file, ak, sk);
    const char *eak = getenv("COFFER_BLOB_STORE_ACCESS_KEY_ID");
    const char *esk = getenv("COFFER_BLOB_STORE_SECRET_ACCESS_KEY");
    if (err == COF_OK && ak[0] == '\0' && eak != NULL && strlen(eak) < CRED_MAX)
        strcpy(ak, eak);
    if (err == COF_OK && sk[0] == '\0' && esk != NULL && strlen(esk) < CRED_MAX)
        strcpy(sk, esk);
    if (err == COF_OK && (ak[0] == '\0' || sk[0] == '\0')) {
        fprintf(stderr,
                "coffer: --blob-store %s needs credentials: COFFER_BLOB_STORE_ACCESS_KEY_ID "
                "and COFFER_BLOB_STORE_SECRET_ACCESS_KEY, or "
                "--blob-store-credentials-file\n",
                c->blob_store);
        err = COF_ERR_CONFIG;
    }
    if (err == COF_OK) {
        struct up_blobs_config uc = {
            .s3 = {.endpoint = c->blob_store_endpoint,
                   .region = c->blob_store_region,
                   .bucket = bucket,
                   .access_key = ak,
                   .secret_key = sk,
                   .ca_file = c->blob_store_ca_file,
                   .retry_ms = c->blob_store_retry_seconds * 1000u},
            .prefix = prefix,
            .part_size = c->blob_store_part_size,
            .owner = unclaimed ? NULL : rec.owner,
            .claim = claim,
            .defer_removal = c->backup_interval > 0,
        };
        err = up_blobs_open(&uc, out);
        if (err == COF_OK && claim)
            err = write_record(c->data_dir, &rec);
        if (err == COF_ERR_ACCESS_DENIED)
            fprintf(stderr, "coffer: %s is not this data dir's prefix (see the log)\n",
                    c->blob_store);
        if (err == COF_ERR_CONFIG)
            fprintf(stderr,
                    "coffer: --blob-store-endpoint must be http(s)://HOST[:PORT], not "
                    "'%s'\n",
                    c->blob_store_endpoint);
        else if (err != COF_OK && err != COF_ERR_ACCESS_DENIED)
            cof_log_error(NULL, "blob store %s at %s does not answer: %s", c->blob_store,
                          c->blob_store_endpoint, cof_err_name(err));
        else
            cof_log_info(NULL, "blobs kept upstream in %s at %s", c->blob_store,
                         c->blob_store_endpoint);
    }
    if (err != COF_OK && *out != NULL) {
        sto_blobs_close(*out);
        *out = NULL;
    }
    memset(sk, 0, sizeof(sk));
    free(bucket);
    free(prefix);
    if (recp != NULL)
        *recp = rec;
    return err;
}

/* Held (shared) by every process that opened a data dir's stores as a migration in one
 * direction: coffer blobs migrate removes blobs from their old store only when no server holds
 * the data dir, or the one that does opened it as the same migration (a server that opened it
 * otherwise still reads only one store, or writes new blobs into the one being emptied). */
static int migration_lock_fd = -1;

static const char *migration_lock_name(bool to_upstream)
{
    return to_upstream ? "migrate-to-upstream.lock" : "migrate-to-files.lock";
}

static void hold_migration_lock(const char *data_dir, bool to_upstream)
{
    if (migration_lock_fd >= 0)
        return;
    char *path = data_path(data_dir, migration_lock_name(to_upstream));
    int fd = path != NULL ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd >= 0 && flock(fd, LOCK_SH) == 0)
        migration_lock_fd = fd; /* kept open until exit */
    else if (fd >= 0)
        close(fd);
    free(path);
}

/* The store of a data dir whose record says it is migrating: both stores, as one. */
static cof_err open_migrating(const struct srv_config *c, const struct store_record *rec,
                              struct sto_blobs *up, struct sto_blobs **out)
{
    struct sto_blobs *files = NULL;
    cof_err err = sto_blobs_open(c->data_dir, c->durability_full, &files);
    if (err != COF_OK) {
        sto_blobs_close(up);
        return err;
    }
    bool to_up = strcmp(rec->migrating, MIG_UP) == 0;
    hold_migration_lock(c->data_dir, to_up);
    cof_log_info(NULL, "blobs moving %s: new blobs go to %s, reads look in both",
                 to_up ? "from local files to the upstream" : "from the upstream to local files",
                 to_up ? "the upstream" : "local files");
    return sto_blobs_dual(to_up ? up : files, to_up ? files : up, out);
}

cof_err srv_blobstore_open(const struct srv_config *c, struct sto_blobs **out)
{
    *out = NULL;
    struct store_record rec;
    if (c->blob_store != NULL && c->blob_store[0] != '\0' && strcmp(c->blob_store, "file") != 0) {
        cof_err err = open_upstream(c, OPEN_SERVE, &rec, out);
        if (err == COF_OK && rec.migrating[0] != '\0') {
            struct sto_blobs *up = *out;
            *out = NULL;
            err = open_migrating(c, &rec, up, out);
        }
        return err;
    }
    cof_err err = read_record(c->data_dir, &rec);
    if (err == COF_OK) {
        fprintf(stderr,
                "coffer: %s keeps its blobs in %s: start it with --blob-store %s (and "
                "its endpoint and credentials)\n",
                c->data_dir, rec.store, rec.store);
        return COF_ERR_CONFIG;
    }
    if (err != COF_ERR_NOT_FOUND)
        return err;
    return sto_blobs_open(c->data_dir, c->durability_full, out);
}

cof_err srv_blobstore_open_unclaimed(const struct srv_config *c, struct sto_blobs **out)
{
    *out = NULL;
    if (c->blob_store == NULL || strncmp(c->blob_store, "s3://", 5) != 0)
        return COF_ERR_CONFIG;
    return open_upstream(c, OPEN_UNCLAIMED, NULL, out);
}

cof_err srv_blobstore_record(const char *data_dir, const char *store, const char owner[33])
{
    struct store_record rec;
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.store, sizeof(rec.store), "%s", store);
    memcpy(rec.owner, owner, sizeof(rec.owner));
    return write_record(data_dir, &rec);
}

cof_err srv_blobstore_migration(const struct srv_config *c, bool to_upstream, bool *out_done)
{
    struct store_record rec;
    struct sto_blobs *up = NULL;
    *out_done = false;
    if (c->blob_store == NULL || strncmp(c->blob_store, "s3://", 5) != 0) {
        fprintf(stderr, "coffer blobs migrate: give the upstream store: --blob-store s3://... "
                        "with its endpoint and credentials\n");
        return COF_ERR_CONFIG;
    }
    cof_err err = read_record(c->data_dir, &rec);
    if (err == COF_ERR_NOT_FOUND && !to_upstream) {
        *out_done = true; /* local files already */
        return COF_OK;
    }
    /* Claims the prefix for a data dir of local files (the record then says to-upstream). */
    if (err == COF_OK || err == COF_ERR_NOT_FOUND)
        err = open_upstream(c, OPEN_MIGRATE, &rec, &up);
    sto_blobs_close(up);
    if (err != COF_OK)
        return err;
    const char *want = to_upstream ? MIG_UP : MIG_FILES;
    if (to_upstream && rec.migrating[0] == '\0') {
        *out_done = true; /* upstream already */
        return COF_OK;
    }
    if (strcmp(rec.migrating, want) == 0)
        return COF_OK;
    strcpy(rec.migrating, want);
    return write_record(c->data_dir, &rec);
}

cof_err srv_blobstore_migration_done(const struct srv_config *c, bool to_upstream)
{
    struct store_record rec;
    cof_err err = read_record(c->data_dir, &rec);
    if (err != COF_OK)
        return err;
    if (to_upstream) {
        rec.migrating[0] = '\0';
        return write_record(c->data_dir, &rec);
    }
    /* Back to local files: the data dir forgets the store (its claim is dropped upstream by the
     * caller first). */
    char *path = data_path(c->data_dir, STORE_FILE);
    if (path == NULL)
        return COF_ERR_NOMEM;
    err = unlink(path) == 0 ? COF_OK : COF_ERR_IO;
    free(path);
    return err;
}

bool srv_blobstore_migration_safe(const char *data_dir, bool to_upstream)
{
    /* No server (the data dir lock is free), or the server opened this migration (it holds the
     * migration lock shared, so it cannot be taken exclusively). */
    char *lock = data_path(data_dir, "coffer.lock");
    char *mig = data_path(data_dir, migration_lock_name(to_upstream));
    bool safe = false;
    int lf = lock != NULL ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    int mf = mig != NULL ? open(mig, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (lf >= 0 && flock(lf, LOCK_EX | LOCK_NB) == 0) {
        safe = true;
        flock(lf, LOCK_UN);
    } else if (mf >= 0 && migration_lock_fd < 0 && flock(mf, LOCK_EX | LOCK_NB) != 0) {
        safe = true;
    }
    if (lf >= 0)
        close(lf);
    if (mf >= 0)
        close(mf);
    free(lock);
    free(mig);
    return safe;
}

struct sto_blobs *srv_blobstore_upstream(struct sto_blobs *bs)
{
    for (int i = 0; i < 2 && strcmp(sto_blobs_kind(bs), "migrating") == 0; i++) {
        struct sto_blobs *part = sto_blobs_dual_part(bs, i == 0);
        if (strcmp(sto_blobs_kind(part), "s3") == 0)
            return part;
    }
    return strcmp(sto_blobs_kind(bs), "s3") == 0 ? bs : NULL;
}

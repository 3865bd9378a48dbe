/* SPDX-License-Identifier: Apache-2.0 */
/* The local files blob backend: tmp/<id> -> fsync -> rename into blobs/xx/yy/<id> -> fsync the
 * directories. Stores opaque bytes; never sees plaintext or keys, never builds a path from
 * client input (ids are checked by storage/blob.c before they get here). */
#define _GNU_SOURCE /* sync_file_range */
#include "storage/blobstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/hex.h"
#include "common/log.h"

#define DIR_MODE  0700
#define FILE_MODE 0600

struct bfile_store {
    char *data_dir; /* DATA, for log lines */
    int data_fd;    /* DATA/ */
    int blobs_fd;   /* DATA/blobs/ */
    int tmp_fd;     /* DATA/tmp/ */
    bool fsync_full;
    /* Bit (xx << 8 | yy) set once blobs/xx/yy and its parents are known to be durable, so a
     * commit then needs to sync only its own directory. */
    _Atomic uint8_t dir_durable[65536 / 8];
};

struct bfile_writer {
    struct bfile_store *bs;
    int fd;
    char id[STO_BLOB_ID_HEX + 1];
    uint64_t written;        /* bytes written so far */
    uint64_t kicked;         /* bytes already handed to writeback */
    uint64_t flushed_at;     /* bytes written when the last background flush was asked for */
    struct flusher *flusher; /* started at the first WRITEBACK_FLUSH bytes; NULL before */
};

/* With durability full, writeback of a large blob starts every WRITEBACK_CHUNK bytes, so the
 * fdatasync at commit waits for the tail only, not for the whole body. 1 MiB rather than 8:
 * an 8 MiB multipart part then commits in about 3 ms instead of about 9 (measured), and every
 * part's commit is on the client's critical path when parts go over one connection. */
#define WRITEBACK_CHUNK (1u * 1024 * 1024)
/* ... and every WRITEBACK_FLUSH bytes a helper thread fdatasyncs what is written so far, while
 * the body goes on arriving: the device's cache flush is the slow part of a large durable PUT
 * on the VMs measured (160 ms after the last byte of a 256 MiB PUT when all of it was left to
 * the final fdatasync; flushing in line every 32 MiB moved that time into the upload). */
#define WRITEBACK_FLUSH (4u * 1024 * 1024)

struct bfile_reader {
    int fd;
    uint64_t size;
};

static void rel_path(const char *id, char out[6 + STO_BLOB_ID_HEX + 1]);
static bool is_hex_name(const char *name, size_t n);

/* Logs one line for a failed system call (what: the file, as a path) with strerror's text, and
 * returns COF_ERR_IO. */
static cof_err io_fail(const char *op, const char *what, int e)
{
    char buf[128];
    /* GNU strerror_r (this file needs _GNU_SOURCE): returns the text, not always in buf. */
    const char *msg = strerror_r(e, buf, sizeof(buf));
    cof_log_error(NULL, "blob: %s %s: %s", op, what, msg);
    return COF_ERR_IO;
}

/* Room for "DATA/blobs/xx/yy/<id>" in a log line (a longer DATA is cut, the line still says
 * what failed). */
#define LOG_PATH 512

/* DATA/<sub>/<id> (sub "tmp", "blobs"; id may be "") into out, for a log line; returns out. */
static const char *log_path(const struct bfile_store *bs, const char *sub, const char *id,
                            char out[LOG_PATH])
{
    char rel[6 + STO_BLOB_ID_HEX + 1];
    const char *leaf = id;
    if (strcmp(sub, "blobs") == 0 && is_hex_name(id, STO_BLOB_ID_HEX)) {
        rel_path(id, rel);
        leaf = rel;
    }
    snprintf(out, LOG_PATH, "%s/%s%s%s", bs->data_dir, sub, leaf[0] != '\0' ? "/" : "", leaf);
    return out;
}

static void close_fd(int fd)
{
    if (fd >= 0)
        (void)close(fd);
}

/* "xx/yy/<id>" relative to blobs/. id must already be valid. */
static void rel_path(const char *id, char out[6 + STO_BLOB_ID_HEX + 1])
{
    memcpy(out, id, 2);
    out[2] = '/';
    memcpy(out + 3, id + 2, 2);
    out[5] = '/';
    memcpy(out + 6, id, STO_BLOB_ID_HEX + 1);
}

/* mkdir name under dirfd (an existing one is fine), then opens it. Returns the fd or -1. */
static int open_subdir(int dirfd, const char *name, const char *what)
{
    if (mkdirat(dirfd, name, DIR_MODE) != 0 && errno != EEXIST) {
        io_fail("mkdir", what, errno);
        return -1;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        io_fail("open", what, errno);
    return fd;
}

static cof_err fsync_fd(int fd, const char *what)
{
    if (fsync(fd) != 0)
        return io_fail("fsync", what, errno);
    return COF_OK;
}

/* Unlinks every entry of tmp/: bodies whose writer died with the previous process. */
static cof_err empty_tmp(const struct bfile_store *bs)
{
    char what[LOG_PATH];
    int tmp_fd = bs->tmp_fd;
    int fd = openat(tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return io_fail("open", log_path(bs, "tmp", "", what), errno);
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close_fd(fd);
        return io_fail("opendir", log_path(bs, "tmp", "", what), e);
    }
    cof_err err = COF_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                err = io_fail("readdir", log_path(bs, "tmp", "", what), errno);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(tmp_fd, de->d_name, 0) != 0 && errno != ENOENT) {
            /* A directory nobody of ours made: leave it, it cannot be mistaken for a body. */
            if (errno == EISDIR)
                cof_log_warn(NULL, "blob: ignoring directory tmp/%s", de->d_name);
            else
                err = io_fail("unlink", log_path(bs, "tmp", de->d_name, what), errno);
        }
    }
    closedir(d);
    return err;
}

/* Every open store holds a shared flock on tmp/ for its lifetime. tmp/ is emptied only by an
 * opener that first gets the lock exclusively, i.e. when no other live process (an online fsck
 * next to a running server, say) has DATA open: its bodies in flight are not leftovers. */
static cof_err claim_tmp(const struct bfile_store *bs)
{
    char what[LOG_PATH];
    int tmp_fd = bs->tmp_fd;
    cof_err err = COF_OK;
    if (flock(tmp_fd, LOCK_EX | LOCK_NB) == 0) {
        err = empty_tmp(bs);
    } else if (errno == EWOULDBLOCK) {
        cof_log_info(NULL, "blob: data dir open in another process; tmp/ left as is");
    } else {
        /* No locking here (some network file systems): keep the documented behaviour. */
        char buf[128];
        cof_log_warn(NULL, "blob: cannot lock %s (%s); emptying it anyway",
                     log_path(bs, "tmp", "", what), strerror_r(errno, buf, sizeof(buf)));
        return empty_tmp(bs);
    }
    while (err == COF_OK && flock(tmp_fd, LOCK_SH) != 0) {
        if (errno != EINTR)
            err = io_fail("lock", log_path(bs, "tmp", "", what), errno);
    }
    return err;
}

static void bfile_free(void *impl);

static cof_err bfile_open_store(const char *data_dir, bool fsync_full, void **out)
{
    struct bfile_store *bs = NULL;
    cof_err err = COF_OK;
    *out = NULL;
    if (data_dir == NULL)
        COF_BUG("sto_blobs_open: data_dir is NULL");
    bs = calloc(1, sizeof(*bs));
    if (bs == NULL)
        return COF_ERR_NOMEM;
    bs->data_fd = bs->blobs_fd = bs->tmp_fd = -1;
    bs->fsync_full = fsync_full;
    bs->data_dir = strdup(data_dir);
    if (bs->data_dir == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }

    if (mkdir(data_dir, DIR_MODE) != 0 && errno != EEXIST) {
        err = io_fail("mkdir", data_dir, errno);
        goto out;
    }
    bs->data_fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bs->data_fd < 0) {
        err = io_fail("open", data_dir, errno);
        goto out;
    }
    char what[LOG_PATH];
    bs->blobs_fd = open_subdir(bs->data_fd, "blobs", log_path(bs, "blobs", "", what));
    bs->tmp_fd = open_subdir(bs->data_fd, "tmp", log_path(bs, "tmp", "", what));
    if (bs->blobs_fd < 0 || bs->tmp_fd < 0) {
        err = COF_ERR_IO;
        goto out;
    }
    if (fsync_full)
        err = fsync_fd(bs->data_fd, data_dir);
    if (err == COF_OK)
        err = claim_tmp(bs);
out:
    if (err != COF_OK) {
        bfile_free(bs);
        bs = NULL;
    }
    *out = bs;
    return err;
}

static void bfile_free(void *impl)
{
    struct bfile_store *bs = impl;
    if (bs == NULL)
        return;
    close_fd(bs->tmp_fd);
    close_fd(bs->blobs_fd);
    close_fd(bs->data_fd);
    free(bs->data_dir);
    free(bs);
}

/* The helper thread of WRITEBACK_FLUSH. A flush asked for while one runs is skipped (the next
 * one covers it). A failed flush is kept and reported by the commit: the kernel reports a
 * writeback error to one fdatasync per open file only, so the final one would not see it. */
struct flusher {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    bool asked;
    bool busy;
    bool stop;
    int err; /* errno of the first failed flush, 0 if none */
};

static void *flusher_main(void *arg)
{
    struct flusher *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->asked && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!f->asked)
            break;
        f->asked = false;
        f->busy = true;
        pthread_mutex_unlock(&f->mu);
        int e = fdatasync(f->fd) == 0 ? 0 : errno;
        pthread_mutex_lock(&f->mu);
        if (f->err == 0)
            f->err = e;
        f->busy = false;
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* NULL if the thread cannot start: the final fdatasync then does all the work. */
static struct flusher *flusher_new(int fd)
{
    struct flusher *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->fd = fd;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (pthread_create(&f->th, NULL, flusher_main, f) != 0) {
        pthread_mutex_destroy(&f->mu);
        pthread_cond_destroy(&f->cv);
        free(f);
        return NULL;
    }
    return f;
}

static void flusher_ask(struct flusher *f)
{
    pthread_mutex_lock(&f->mu);
    if (!f->busy) {
        f->asked = true;
        pthread_cond_signal(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
}

/* Lets the flush asked for or running finish, joins the thread; returns the errno of a failed flush
 * (0: none). Accepts NULL. */
static int flusher_free(struct flusher *f)
{
    if (f == NULL)
        return 0;
    pthread_mutex_lock(&f->mu);
    f->stop = true; /* a flush asked for still runs: each blob makes the same calls every time */
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->th, NULL);
    int err = f->err;
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    return err;
}

/* Creates tmp/<id> for w. */
static cof_err open_tmp(struct bfile_writer *w)
{
    w->fd = openat(w->bs->tmp_fd, w->id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, FILE_MODE);
    if (w->fd < 0) {
        char what[LOG_PATH];
        return io_fail("create", log_path(w->bs, "tmp", w->id, what), errno);
    }
    return COF_OK;
}

static cof_err bfile_create(void *impl, const char *id, void **out)
{
    *out = NULL;
    struct bfile_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return COF_ERR_NOMEM;
    w->bs = impl;
    memcpy(w->id, id, sizeof(w->id));
    cof_err err = open_tmp(w);
    if (err != COF_OK) {
        free(w);
        return err;
    }
    *out = w;
    return COF_OK;
}

static cof_err bfile_write(void *wp, const uint8_t *b, size_t n)
{
    struct bfile_writer *w = wp;
    if (cof_write_all(w->fd, b, n) != 0) {
        char what[LOG_PATH];
        return io_fail("write", log_path(w->bs, "tmp", w->id, what), errno);
    }
    w->written += (uint64_t)n;
    if (w->bs->fsync_full && w->written - w->kicked >= WRITEBACK_CHUNK) {
        /* Advisory: a failure here only means the final fdatasync does all the work. */
        (void)sync_file_range(w->fd, (off_t)w->kicked, (off_t)(w->written - w->kicked),
                              SYNC_FILE_RANGE_WRITE);
        w->kicked = w->written;
        if (w->kicked >= w->flushed_at + WRITEBACK_FLUSH) {
            if (w->flusher == NULL)
                w->flusher = flusher_new(w->fd);
            if (w->flusher != NULL)
                flusher_ask(w->flusher);
            w->flushed_at = w->kicked;
        }
    }
    return COF_OK;
}

static void writer_free(struct bfile_writer *w)
{
    (void)flusher_free(w->flusher); /* before the descriptor it flushes is closed */
    close_fd(w->fd);
    free(w);
}

static void bfile_abort(void *wp)
{
    struct bfile_writer *w = wp;
    char what[LOG_PATH];
    if (w->fd >= 0 && unlinkat(w->bs->tmp_fd, w->id, 0) != 0 && errno != ENOENT)
        (void)io_fail("unlink", log_path(w->bs, "tmp", w->id, what), errno);
    writer_free(w);
}

static cof_err bfile_commit(void *wp)
{
    struct bfile_writer *w = wp;
    struct bfile_store *bs = w->bs;
    char xx[3] = {w->id[0], w->id[1], '\0'};
    char yy[3] = {w->id[2], w->id[3], '\0'};
    char xy_rel[6] = {xx[0], xx[1], '/', yy[0], yy[1], '\0'};
    char tmp_path[LOG_PATH], blob_path[LOG_PATH], x_path[LOG_PATH], xy_path[LOG_PATH];
    int xfd = -1, yfd = -1;
    bool renamed = false;
    cof_err err = COF_OK;
    log_path(bs, "tmp", w->id, tmp_path);
    log_path(bs, "blobs", w->id, blob_path);
    log_path(bs, "blobs", xx, x_path);
    log_path(bs, "blobs", xy_rel, xy_path);

    /* The data must be on disk before the name that publishes it. fdatasync also writes the
     * file size; the other inode times are not needed. */
    int flush_errno = flusher_free(w->flusher);
    w->flusher = NULL;
    if (err == COF_OK && flush_errno != 0)
        err = io_fail("fdatasync", tmp_path, flush_errno);
    if (err == COF_OK && bs->fsync_full && fdatasync(w->fd) != 0)
        err = io_fail("fdatasync", tmp_path, errno);
    if (err == COF_OK) {
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) != 0)
            err = io_fail("close", tmp_path, errno);
    }
    if (err == COF_OK) {
        xfd = open_subdir(bs->blobs_fd, xx, x_path);
        if (xfd >= 0)
            yfd = open_subdir(xfd, yy, xy_path);
        if (yfd < 0)
            err = COF_ERR_IO;
    }
    if (err == COF_OK) {
        if (renameat(bs->tmp_fd, w->id, yfd, w->id) != 0)
            err = io_fail("rename", tmp_path, errno);
        else
            renamed = true;
    }
    /* Then make the new name durable. Parents are synced until this process has once seen them
     * synced (another thread may have created them and not synced them yet). */
    if (err == COF_OK && bs->fsync_full) {
        uint8_t xy[2] = {0, 0}; /* "xxyy": the directory pair; w->id was checked at open */
        err = cof_hex_decode(w->id, 4, COF_HEX_LOWER, xy, sizeof(xy));
        unsigned slot = (unsigned)xy[0] << 8 | xy[1];
        uint8_t bit = (uint8_t)(1u << (slot & 7));
        bool known = (atomic_load(&bs->dir_durable[slot >> 3]) & bit) != 0;
        if (err == COF_OK)
            err = fsync_fd(yfd, xy_path);
        if (err == COF_OK && !known)
            err = fsync_fd(xfd, x_path);
        if (err == COF_OK && !known)
            err = fsync_fd(bs->blobs_fd, log_path(bs, "blobs", "", x_path));
        if (err == COF_OK && !known)
            atomic_fetch_or(&bs->dir_durable[slot >> 3], bit);
    }
    if (err != COF_OK) {
        /* Failure leaves nothing behind: no tmp file, and no blob the caller thinks is absent. */
        if (renamed && unlinkat(yfd, w->id, 0) != 0 && errno != ENOENT)
            (void)io_fail("unlink", blob_path, errno);
        if (!renamed && unlinkat(bs->tmp_fd, w->id, 0) != 0 && errno != ENOENT)
            (void)io_fail("unlink", tmp_path, errno);
    }
    close_fd(yfd);
    close_fd(xfd);
    writer_free(w);
    return err;
}

static cof_err bfile_open(void *impl, const char *id, uint64_t expect_size, void **out,
                          uint64_t *out_size)
{
    struct bfile_store *bs = impl;
    char rel[6 + STO_BLOB_ID_HEX + 1];
    struct stat st;
    (void)expect_size; /* a stat is cheap */
    *out = NULL;
    rel_path(id, rel);
    int fd = openat(bs->blobs_fd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return COF_ERR_NOT_FOUND;
        char what[LOG_PATH];
        return io_fail("open", log_path(bs, "blobs", id, what), errno);
    }
    if (fstat(fd, &st) != 0) {
        int e = errno;
        char what[LOG_PATH];
        close_fd(fd);
        return io_fail("stat", log_path(bs, "blobs", id, what), e);
    }
    struct bfile_reader *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        close_fd(fd);
        return COF_ERR_NOMEM;
    }
    r->fd = fd;
    r->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    *out_size = r->size;
    *out = r;
    return COF_OK;
}

static cof_err bfile_pread(void *rp, void *buf, size_t n, uint64_t off, size_t *out_n)
{
    struct bfile_reader *r = rp;
    uint8_t *b = buf;
    size_t got = 0;
    *out_n = 0;
    /* Blobs are immutable once committed: the size seen at open bounds every read, which also
     * keeps off + n within off_t. */
    if (off >= r->size)
        return COF_OK;
    if (n > r->size - off)
        n = (size_t)(r->size - off);
    while (got < n) {
        ssize_t k = pread(r->fd, b + got, n - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return io_fail("read", "blob", errno);
        }
        if (k == 0)
            break; /* end of file */
        got += (size_t)k;
    }
    *out_n = got;
    return COF_OK;
}

static void bfile_close(void *rp)
{
    struct bfile_reader *r = rp;
    close_fd(r->fd);
    free(r);
}

static cof_err bfile_remove(void *impl, const char *id)
{
    struct bfile_store *bs = impl;
    char rel[6 + STO_BLOB_ID_HEX + 1];
    rel_path(id, rel);
    if (unlinkat(bs->blobs_fd, rel, 0) != 0 && errno != ENOENT) {
        char what[LOG_PATH];
        return io_fail("unlink", log_path(bs, "blobs", id, what), errno);
    }
    return COF_OK;
}

static cof_err bfile_mtime(void *impl, const char *id, int64_t *out_epoch_s)
{
    struct bfile_store *bs = impl;
    char rel[6 + STO_BLOB_ID_HEX + 1];
    struct stat st;
    rel_path(id, rel);
    if (fstatat(bs->blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        char what[LOG_PATH];
        return errno == ENOENT ? COF_ERR_NOT_FOUND
                               : io_fail("stat", log_path(bs, "blobs", id, what), errno);
    }
    *out_epoch_s = (int64_t)st.st_mtime;
    return COF_OK;
}

/* Whether name is n lowercase hex chars. */
static bool is_hex_name(const char *name, size_t n)
{
    return strnlen(name, n + 1) == n && cof_hex_valid(name, n, COF_HEX_LOWER);
}

/* Opens dirfd/name (NULL: dirfd itself) as a fresh DIR stream with its own position. A name that
 * vanished or is not a directory yields NULL with *err COF_OK (skip it). */
static DIR *open_dir(int dirfd, const char *name, cof_err *err)
{
    *err = COF_OK;
    int fd = openat(dirfd, name ? name : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
            *err = io_fail("open", name ? name : "blobs/", errno);
        return NULL;
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        *err = io_fail("opendir", name ? name : "blobs/", errno);
        close_fd(fd);
    }
    return d;
}

/* Next entry whose name is n lowercase hex chars, or NULL at the end (*err set on failure). */
static const char *next_hex(DIR *d, size_t n, cof_err *err)
{
    *err = COF_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                *err = io_fail("readdir", "blobs/", errno);
            return NULL;
        }
        if (is_hex_name(de->d_name, n))
            return de->d_name;
    }
}

/* Reports the regular files of blobs/xx/yy whose names are ids starting with xx yy, the only ones
 * sto_blob_open and sto_blob_remove can address. */
static cof_err each_leaf(DIR *dy, const char *xx, const char *yy, sto_blob_visit_fn cb, void *arg)
{
    cof_err err = COF_OK;
    const char *name;
    struct stat st;
    while ((name = next_hex(dy, STO_BLOB_ID_HEX, &err)) != NULL) {
        if (memcmp(name, xx, 2) != 0 || memcmp(name + 2, yy, 2) != 0)
            continue;
        if (fstatat(dirfd(dy), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        char id[STO_BLOB_ID_HEX + 1];
        memcpy(id, name, sizeof(id));
        err = cb(id, arg);
        if (err != COF_OK)
            break;
    }
    return err;
}

static cof_err bfile_each(void *impl, sto_blob_visit_fn cb, void *arg)
{
    struct bfile_store *bs = impl;
    cof_err err = COF_OK;
    DIR *dx = open_dir(bs->blobs_fd, NULL, &err);
    if (dx == NULL)
        return err != COF_OK ? err : COF_ERR_IO;
    const char *xx;
    while (err == COF_OK && (xx = next_hex(dx, 2, &err)) != NULL) {
        char xname[3];
        memcpy(xname, xx, sizeof(xname));
        DIR *dxx = open_dir(dirfd(dx), xname, &err);
        if (dxx == NULL)
            continue;
        const char *yy;
        while (err == COF_OK && (yy = next_hex(dxx, 2, &err)) != NULL) {
            char yname[3];
            memcpy(yname, yy, sizeof(yname));
            DIR *dyy = open_dir(dirfd(dxx), yname, &err);
            if (dyy == NULL)
                continue;
            err = each_leaf(dyy, xname, yname, cb, arg);
            closedir(dyy);
        }
        closedir(dxx);
    }
    closedir(dx);
    return err;
}

static const struct sto_blob_backend bfile_backend = {
    .name = "file",
    .create = bfile_create,
    .write = bfile_write,
    .commit = bfile_commit,
    .abort = bfile_abort,
    .open = bfile_open,
    .pread = bfile_pread,
    .want = NULL,
    .close = bfile_close,
    .remove = bfile_remove,
    .mtime = bfile_mtime,
    .each = bfile_each,
    .free = bfile_free,
};

cof_err sto_blobs_open(const char *data_dir, bool fsync_full, struct sto_blobs **out)
{
    void *impl = NULL;
    *out = NULL;
    cof_err err = bfile_open_store(data_dir, fsync_full, &impl);
    if (err != COF_OK)
        return err;
    return sto_blobs_new(&bfile_backend, impl, out);
}

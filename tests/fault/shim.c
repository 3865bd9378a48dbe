/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only LD_PRELOAD shim: counts coffer's (and SQLite's) file system calls per class and
 * fails the ones the test arms through the shared control block (faultctl.h). Never linked into
 * coffer. Lock-free and allocation-free on the call path (atomics, readlink, stack buffers), so
 * it is safe in every server thread and in signal handlers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "faultctl.h"

#define PATH_BUF 512

static struct fault_ctl *ctl;

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef ssize_t (*pwritev2_fn)(int, const struct iovec *, int, off_t, int);
typedef int (*fd_fn)(int);
typedef int (*rename_fn)(const char *, const char *);
typedef int (*renameat_fn)(int, const char *, int, const char *);
typedef int (*renameat2_fn)(int, const char *, int, const char *, unsigned);
typedef int (*mkdir_fn)(const char *, mode_t);
typedef int (*mkdirat_fn)(int, const char *, mode_t);
typedef int (*unlink_fn)(const char *);
typedef int (*unlinkat_fn)(int, const char *, int);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

static struct {
    write_fn write;
    writev_fn writev;
    pwrite_fn pwrite, pwrite64;
    pwritev_fn pwritev;
    pwritev2_fn pwritev2;
    fd_fn fsync, fdatasync;
    rename_fn rename;
    renameat_fn renameat;
    renameat2_fn renameat2;
    mkdir_fn mkdir;
    mkdirat_fn mkdirat;
    unlink_fn unlink;
    unlinkat_fn unlinkat;
    ftruncate_fn ftruncate;
    open_fn open, open64;
    openat_fn openat, openat64;
} real;

/* dlsym may allocate: it runs in the constructor, or lazily for a call made before it. */
#define REAL(name) (real.name != NULL ? real.name : resolve_##name())
#define RESOLVER(name)                                                                             \
    static __typeof__(real.name) resolve_##name(void)                                              \
    {                                                                                              \
        void *sym = dlsym(RTLD_NEXT, #name);                                                       \
        if (sym == NULL)                                                                           \
            abort();                                                                               \
        /* POSIX: a dlsym result converts to a function pointer; ISO C needs the memcpy. */        \
        memcpy(&real.name, &sym, sizeof(sym));                                                     \
        return real.name;                                                                          \
    }
RESOLVER(write)
RESOLVER(writev)
RESOLVER(pwrite)
RESOLVER(pwrite64)
RESOLVER(pwritev)
RESOLVER(pwritev2)
RESOLVER(fsync)
RESOLVER(fdatasync)
RESOLVER(rename)
RESOLVER(renameat)
RESOLVER(renameat2)
RESOLVER(mkdir)
RESOLVER(mkdirat)
RESOLVER(unlink)
RESOLVER(unlinkat)
RESOLVER(ftruncate)
RESOLVER(open)
RESOLVER(open64)
RESOLVER(openat)
RESOLVER(openat64)

/* ---- paths ----------------------------------------------------------------------------------- */

static size_t put_str(char *out, size_t cap, size_t at, const char *s)
{
    while (*s != '\0' && at + 1 < cap)
        out[at++] = *s++;
    out[at] = '\0';
    return at;
}

/* The file fd refers to, via /proc/self/fd (readlink is async-signal-safe; snprintf is not). */
static void fd_path(int fd, char out[PATH_BUF])
{
    char link[32] = "/proc/self/fd/";
    char digits[12];
    size_t nd = 0, at = strlen(link);
    unsigned v = fd < 0 ? 0 : (unsigned)fd;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (nd > 0)
        link[at++] = digits[--nd];
    link[at] = '\0';
    ssize_t n = fd < 0 ? -1 : readlink(link, out, PATH_BUF - 1);
    out[n > 0 ? n : 0] = '\0';
}

/* dirfd/name as an absolute path (best effort; AT_FDCWD uses the working directory). */
static void at_path(int dirfd, const char *name, char out[PATH_BUF])
{
    out[0] = '\0';
    if (name == NULL)
        return;
    if (name[0] == '/') {
        put_str(out, PATH_BUF, 0, name);
        return;
    }
    if (dirfd == AT_FDCWD) {
        if (getcwd(out, PATH_BUF) == NULL)
            out[0] = '\0';
    } else {
        fd_path(dirfd, out);
    }
    size_t at = strlen(out);
    at = put_str(out, PATH_BUF, at, "/");
    put_str(out, PATH_BUF, at, name);
}

static int under_prefix(const char *path)
{
    size_t n = strnlen(ctl->prefix, FAULT_PREFIX);
    return n == 0 || strncmp(path, ctl->prefix, n) == 0;
}

/* ---- the decision ---------------------------------------------------------------------------- */

/* Counts this call of class c on path and returns what to do with it (enum fault_kind). */
static int decide(enum fault_class c, const char *path)
{
    if (ctl == NULL || !under_prefix(path))
        return FAULT_NONE;
    struct fault_slot *s = &ctl->slot[c];
    uint64_t n = __atomic_add_fetch(&s->calls, 1, __ATOMIC_SEQ_CST);
    uint64_t at = __atomic_load_n(&s->fail_at, __ATOMIC_ACQUIRE);
    if (at == 0 || n < at || n - at >= __atomic_load_n(&s->repeat, __ATOMIC_ACQUIRE))
        return FAULT_NONE;
    int kind = (int)__atomic_load_n(&s->kind, __ATOMIC_ACQUIRE);
    if (kind == FAULT_NONE)
        return FAULT_NONE;
    __atomic_add_fetch(&s->fired, 1, __ATOMIC_SEQ_CST);
    put_str(ctl->last_path, FAULT_PREFIX, 0, path);
    if (kind == FAULT_SHORT && n != at)
        return FAULT_ENOSPC; /* the space ran out after the short write */
    return kind;
}

static int decide_fd(enum fault_class c, int fd)
{
    char path[PATH_BUF];
    if (ctl == NULL)
        return FAULT_NONE;
    fd_path(fd, path);
    return decide(c, path);
}

static int decide_at(enum fault_class c, int dirfd, const char *name)
{
    char path[PATH_BUF];
    if (ctl == NULL)
        return FAULT_NONE;
    at_path(dirfd, name, path);
    return decide(c, path);
}

/* Sets errno for an injected failure and returns -1. SHORT only reaches here for calls that
 * cannot be shortened. */
static int fail(int kind)
{
    errno = kind == FAULT_EIO ? EIO : ENOSPC;
    return -1;
}

/* Copies the first half of the bytes of iov into out (at most cap entries); returns the count,
 * or -1 if half of the bytes is nothing. */
static int half_iov(const struct iovec *iov, int cnt, struct iovec *out, int cap)
{
    size_t total = 0;
    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    size_t want = total / 2;
    int n = 0;
    for (int i = 0; i < cnt && want > 0 && n < cap; i++) {
        out[n] = iov[i];
        if (out[n].iov_len > want)
            out[n].iov_len = want;
        want -= out[n].iov_len;
        n++;
    }
    return n > 0 ? n : -1;
}

/* ---- writes ---------------------------------------------------------------------------------- */

ssize_t write(int fd, const void *buf, size_t n)
{
    int k = decide_fd(FAULT_WRITE, fd);
    if (k == FAULT_SHORT && n >= 2)
        return REAL(write)(fd, buf, n / 2);
    if (k != FAULT_NONE)
        return fail(k);
    return REAL(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    int k = decide_fd(FAULT_WRITE, fd);
    if (k == FAULT_SHORT && n >= 2)
        return REAL(pwrite)(fd, buf, n / 2, off);
    if (k != FAULT_NONE)
        return fail(k);
    return REAL(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    int k = decide_fd(FAULT_WRITE, fd);
    if (k == FAULT_SHORT && n >= 2)
        return REAL(pwrite64)(fd, buf, n / 2, off);
    if (k != FAULT_NONE)
        return fail(k);
    return REAL(pwrite64)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    struct iovec h[64];
    int k = decide_fd(FAULT_WRITE, fd);
    int hn = k == FAULT_SHORT ? half_iov(iov, cnt, h, 64) : -1;
    if (hn > 0)
        return REAL(writev)(fd, h, hn);
    if (k != FAULT_NONE)
        return fail(k);
    return REAL(writev)(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    struct iovec h[64];
    int k = decide_fd(FAULT_WRITE, fd);
    int hn = k == FAULT_SHORT ? half_iov(iov, cnt, h, 64) : -1;
    if (hn > 0)
        return REAL(pwritev)(fd, h, hn, off);
    if (k != FAULT_NONE)
        return fail(k);
    return REAL(pwritev)(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    struct iovec h[64];
    int k = decide_fd(FAULT_WRITE, fd);
    int hn = k == FAULT_SHORT ? half_iov(iov, cnt, h, 64) : -1;
    if (hn > 0)
        return REAL(pwritev2)(fd, h, hn, off, flags);
    if (k != FAULT_NONE)
        return fail(k);
    return REAL(pwritev2)(fd, iov, cnt, off, flags);
}

/* ---- syncs, names, directories --------------------------------------------------------------- */

int fsync(int fd)
{
    int k = decide_fd(FAULT_SYNC, fd);
    return k != FAULT_NONE ? fail(k) : REAL(fsync)(fd);
}

int fdatasync(int fd)
{
    int k = decide_fd(FAULT_SYNC, fd);
    return k != FAULT_NONE ? fail(k) : REAL(fdatasync)(fd);
}

int rename(const char *from, const char *to)
{
    int k = decide_at(FAULT_RENAME, AT_FDCWD, from);
    return k != FAULT_NONE ? fail(k) : REAL(rename)(from, to);
}

int renameat(int fromfd, const char *from, int tofd, const char *to)
{
    int k = decide_at(FAULT_RENAME, fromfd, from);
    return k != FAULT_NONE ? fail(k) : REAL(renameat)(fromfd, from, tofd, to);
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
    int k = decide_at(FAULT_RENAME, fromfd, from);
    return k != FAULT_NONE ? fail(k) : REAL(renameat2)(fromfd, from, tofd, to, flags);
}

int mkdir(const char *path, mode_t mode)
{
    int k = decide_at(FAULT_MKDIR, AT_FDCWD, path);
    return k != FAULT_NONE ? fail(k) : REAL(mkdir)(path, mode);
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
    int k = decide_at(FAULT_MKDIR, dirfd, path);
    return k != FAULT_NONE ? fail(k) : REAL(mkdirat)(dirfd, path, mode);
}

int unlink(const char *path)
{
    int k = decide_at(FAULT_UNLINK, AT_FDCWD, path);
    return k != FAULT_NONE ? fail(k) : REAL(unlink)(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
    int k = decide_at(FAULT_UNLINK, dirfd, path);
    return k != FAULT_NONE ? fail(k) : REAL(unlinkat)(dirfd, path, flags);
}

int ftruncate(int fd, off_t len)
{
    int k = decide_fd(FAULT_TRUNC, fd);
    return k != FAULT_NONE ? fail(k) : REAL(ftruncate)(fd, len);
}

/* ---- creating opens -------------------------------------------------------------------------- */

/* The mode argument exists only with O_CREAT or O_TMPFILE; reading it otherwise is harmless on
 * the ABIs glibc supports, but is avoided all the same. */
#define OPEN_MODE(flags, mode)                                                                     \
    do {                                                                                           \
        if ((flags) & (O_CREAT | O_TMPFILE)) {                                                     \
            va_list ap;                                                                            \
            va_start(ap, flags);                                                                   \
            mode = (mode_t)va_arg(ap, unsigned);                                                   \
            va_end(ap);                                                                            \
        }                                                                                          \
    } while (0)

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    int k = (flags & O_CREAT) ? decide_at(FAULT_CREATE, AT_FDCWD, path) : FAULT_NONE;
    return k != FAULT_NONE ? fail(k) : REAL(open)(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    int k = (flags & O_CREAT) ? decide_at(FAULT_CREATE, AT_FDCWD, path) : FAULT_NONE;
    return k != FAULT_NONE ? fail(k) : REAL(open64)(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    int k = (flags & O_CREAT) ? decide_at(FAULT_CREATE, dirfd, path) : FAULT_NONE;
    return k != FAULT_NONE ? fail(k) : REAL(openat)(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    OPEN_MODE(flags, mode);
    int k = (flags & O_CREAT) ? decide_at(FAULT_CREATE, dirfd, path) : FAULT_NONE;
    return k != FAULT_NONE ? fail(k) : REAL(openat64)(dirfd, path, flags, mode);
}

/* ---- set-up ---------------------------------------------------------------------------------- */

/* Maps the control block named by COFFER_FAULT_CTL; without it the shim only passes calls on. */
__attribute__((constructor)) static void fault_init(void)
{
    (void)REAL(write), (void)REAL(writev), (void)REAL(pwrite), (void)REAL(pwrite64);
    (void)REAL(pwritev), (void)REAL(pwritev2), (void)REAL(fsync), (void)REAL(fdatasync);
    (void)REAL(rename), (void)REAL(renameat), (void)REAL(renameat2), (void)REAL(mkdir);
    (void)REAL(mkdirat), (void)REAL(unlink), (void)REAL(unlinkat), (void)REAL(ftruncate);
    (void)REAL(open), (void)REAL(open64), (void)REAL(openat), (void)REAL(openat64);
    const char *file = getenv("COFFER_FAULT_CTL");
    if (file == NULL || file[0] == '\0')
        return;
    int fd = REAL(open)(file, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct stat st;
    void *p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(struct fault_ctl))
        p = mmap(NULL, sizeof(struct fault_ctl), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return;
    struct fault_ctl *c = p;
    if (c->magic != (FAULT_MAGIC | (uint64_t)FAULT_VERSION << 32)) {
        munmap(p, sizeof(*c));
        return;
    }
    ctl = c;
}

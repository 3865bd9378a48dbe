/* SPDX-License-Identifier: Apache-2.0 */
/* The failure-logging VFS (sqlvfs.h): each file is the default VFS's file with a small header in
 * front; every I/O method forwards to it, and xWrite also logs a failure with the file's name and
 * the system's words for it. Never changes what SQLite sees. */
#include "storage/sqlvfs.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

struct vfs_file {
    sqlite3_file base;  /* pMethods: io_methods below, or NULL if the open failed */
    sqlite3_file *real; /* the default VFS's file, in the same allocation, right after */
    const char *name;   /* SQLite keeps it valid until xClose; NULL for temporary files */
};

static sqlite3_vfs vfs;
static sqlite3_vfs *root;

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((struct vfs_file *)f)->real;
}

/* ---- the addition: a log line for each failed write ----------------------------------------- */

/* Logs op's failure (rc) on f with the system's words. The unix VFS keeps the failed call's errno
 * per file (SQLITE_FCNTL_LAST_ERRNO); a short or ENOSPC write is its SQLITE_FULL, errno cleared. */
static void log_failure(sqlite3_file *f, const char *op, int rc)
{
    int e = 0;
    if (real_of(f)->pMethods->xFileControl(real_of(f), SQLITE_FCNTL_LAST_ERRNO, &e) != SQLITE_OK)
        e = 0;
    if (e == 0 && (rc & 0xff) == SQLITE_FULL)
        e = ENOSPC;
    char msg[128];
    if (e == 0 || strerror_r(e, msg, sizeof(msg)) != 0)
        snprintf(msg, sizeof(msg), "%s", sqlite3_errstr(rc));
    const char *name = ((struct vfs_file *)f)->name;
    cof_log_error(NULL, "sqlite: %s %s: %s (SQLite code %d)", op, name ? name : "(temporary file)",
                  msg, rc);
}

static int vfs_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    int rc = real_of(f)->pMethods->xWrite(real_of(f), buf, n, off);
    if (rc != SQLITE_OK)
        log_failure(f, "write", rc);
    return rc;
}

/* ---- pass-through ---------------------------------------------------------------------------- */

static int vfs_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int vfs_sync(sqlite3_file *f, int flags)
{
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int vfs_close(sqlite3_file *f)
{
    int rc = real_of(f)->pMethods->xClose(real_of(f));
    f->pMethods = NULL;
    return rc;
}

static int vfs_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xRead(real_of(f), buf, n, off);
}

static int vfs_file_size(sqlite3_file *f, sqlite3_int64 *out)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), out);
}

static int vfs_lock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int vfs_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int vfs_check_reserved(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int vfs_file_control(sqlite3_file *f, int op, void *arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int vfs_sector_size(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int vfs_device_characteristics(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int vfs_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **out)
{
    errno = 0;
    int rc = real_of(f)->pMethods->xShmMap(real_of(f), pg, pgsz, extend, out);
    int e = errno;
    /* The unix VFS opens the -shm file read-only, silently, when it cannot open it for writing;
     * the map then fails with SQLITE_READONLY_* and nothing says why. */
    if (rc != SQLITE_OK && e != 0) {
        char msg[128];
        if (strerror_r(e, msg, sizeof(msg)) != 0)
            snprintf(msg, sizeof(msg), "%s", sqlite3_errstr(rc));
        const char *name = ((struct vfs_file *)f)->name;
        cof_log_error(NULL, "sqlite: shared memory %s-shm: %s (SQLite code %d)",
                      name ? name : "(temporary file)", msg, rc);
    }
    return rc;
}

static int vfs_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void vfs_shm_barrier(sqlite3_file *f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int vfs_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int vfs_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    return real_of(f)->pMethods->xFetch(real_of(f), off, n, out);
}

static int vfs_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

static const sqlite3_io_methods io_methods = {
    .iVersion = 3,
    .xClose = vfs_close,
    .xRead = vfs_read,
    .xWrite = vfs_write,
    .xTruncate = vfs_truncate,
    .xSync = vfs_sync,
    .xFileSize = vfs_file_size,
    .xLock = vfs_lock,
    .xUnlock = vfs_unlock,
    .xCheckReservedLock = vfs_check_reserved,
    .xFileControl = vfs_file_control,
    .xSectorSize = vfs_sector_size,
    .xDeviceCharacteristics = vfs_device_characteristics,
    .xShmMap = vfs_shm_map,
    .xShmLock = vfs_shm_lock,
    .xShmBarrier = vfs_shm_barrier,
    .xShmUnmap = vfs_shm_unmap,
    .xFetch = vfs_fetch,
    .xUnfetch = vfs_unfetch,
};

static int vfs_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags,
                    int *out_flags)
{
    (void)v;
    struct vfs_file *p = (struct vfs_file *)f;
    int got = 0;
    p->real = (sqlite3_file *)(p + 1);
    p->name = name;
    errno = 0;
    int rc = root->xOpen(root, name, p->real, flags, &got);
    int e = errno;
    if (out_flags != NULL)
        *out_flags = got;
    /* When it cannot open a file for writing, the unix VFS opens it read-only without a word,
     * and the first write then fails as "attempt to write a readonly database". */
    if (rc == SQLITE_OK && (flags & SQLITE_OPEN_READWRITE) && (got & SQLITE_OPEN_READONLY)) {
        char msg[128];
        if (e == 0 || strerror_r(e, msg, sizeof(msg)) != 0)
            snprintf(msg, sizeof(msg), "reason unknown");
        cof_log_error(NULL, "sqlite: cannot open %s for writing (%s); opened read-only",
                      name ? name : "(temporary file)", msg);
    }
    /* SQLite calls xClose only when pMethods is set: leave it NULL if the real open left its
     * own NULL (nothing to close). */
    f->pMethods = p->real->pMethods != NULL ? &io_methods : NULL;
    return rc;
}

cof_err sto_sqlvfs_register(void)
{
    _Static_assert(sizeof(struct vfs_file) % sizeof(void *) == 0,
                   "the real file after the header stays aligned");
    root = sqlite3_vfs_find(NULL);
    if (root == NULL)
        return COF_ERR_DB;
    vfs = *root;
    vfs.zName = "coffer";
    vfs.pNext = NULL;
    vfs.szOsFile = (int)sizeof(struct vfs_file) + root->szOsFile;
    vfs.xOpen = vfs_open;
    return sqlite3_vfs_register(&vfs, 1) == SQLITE_OK ? COF_OK : COF_ERR_DB;
}

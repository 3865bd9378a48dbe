/* SPDX-License-Identifier: Apache-2.0 */
/* The control block shared by the fault-injection shim (libcoffer_fault.so, LD_PRELOADed into
 * coffer by tests only) and the test that drives it (tests/integration/faultshim.py mirrors this
 * layout). The test creates the file named by COFFER_FAULT_CTL, sized sizeof(struct fault_ctl),
 * before the process starts; the shim maps it shared, so arming and counting need no restart,
 * no signal and no lock: every field the two sides share is a naturally aligned 64-bit word.
 *
 * A call counts only when the file it touches lies under `prefix` (empty: every file), so the
 * log on stderr and the sockets never count. Per class, call number n (1-based, since the
 * process mapped the block) fails when fail_at <= n < fail_at + repeat. With FAULT_SHORT a write
 * writes half its bytes at n == fail_at and the later calls in the window fail with ENOSPC, as
 * a file system that fills up does. */
#ifndef COFFER_FAULTCTL_H
#define COFFER_FAULTCTL_H

#include <stdint.h>

#define FAULT_MAGIC   0x544c4643u /* "CFLT" */
#define FAULT_VERSION 1u
#define FAULT_PREFIX  256

/* Call classes. Kept in this order: the Python side indexes by it. */
enum fault_class {
    FAULT_WRITE,  /* write, writev, pwrite, pwrite64, pwritev, pwritev2 */
    FAULT_SYNC,   /* fsync, fdatasync */
    FAULT_RENAME, /* rename, renameat, renameat2 */
    FAULT_MKDIR,  /* mkdir, mkdirat */
    FAULT_UNLINK, /* unlink, unlinkat */
    FAULT_TRUNC,  /* ftruncate (SQLite resets and grows its WAL and shm files with it) */
    FAULT_CREATE, /* open, open64, openat, openat64 with O_CREAT */
    FAULT_NCLASS
};

/* What an armed call does. */
enum fault_kind { FAULT_NONE, FAULT_ENOSPC, FAULT_EIO, FAULT_SHORT };

struct fault_slot {
    uint64_t calls;   /* calls seen so far (shim increments) */
    uint64_t fail_at; /* 0: disarmed (test writes it last, after kind and repeat) */
    uint64_t repeat;  /* how many calls from fail_at on fail */
    uint64_t kind;    /* enum fault_kind */
    uint64_t fired;   /* faults injected so far (shim increments) */
};

struct fault_ctl {
    uint64_t magic; /* FAULT_MAGIC | FAULT_VERSION << 32, written by the test */
    char prefix[FAULT_PREFIX];
    struct fault_slot slot[FAULT_NCLASS];
    char last_path[FAULT_PREFIX]; /* the file of the last injected fault (shim writes it) */
};

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* struct cof_buf: a growable byte buffer with a hard cap fixed at init. Every buffer filled from
 * the network is one of these, so an oversized input fails with COF_ERR_TOO_LARGE instead of
 * growing without bound. Always NUL-terminated past len (the NUL is not counted). */
#ifndef COF_BUF_H
#define COF_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "common/err.h"

struct cof_buf {
    char *data; /* NULL until the first append; owned */
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t limit; /* most bytes ever accepted */
};

/* Sets up an empty buffer that accepts at most limit bytes. Allocates nothing. */
void cof_buf_init(struct cof_buf *b, size_t limit);
/* Appends n bytes. COF_ERR_TOO_LARGE past the limit (buffer unchanged), COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err cof_buf_append(struct cof_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
COF_MUST_CHECK cof_err cof_buf_puts(struct cof_buf *b, const char *s);
/* Appends formatted text. */
COF_MUST_CHECK cof_err cof_buf_printf(struct cof_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, with a va_list (not consumed: the caller still va_end()s it). */
COF_MUST_CHECK cof_err cof_buf_vprintf(struct cof_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Empties the buffer, keeping its memory. */
void cof_buf_reset(struct cof_buf *b);
/* Frees the memory; the buffer is empty and reusable (same limit) afterwards. Accepts NULL. */
void cof_buf_cleanup(struct cof_buf *b);
/* Hands the data to the caller (free() it; never NULL on COF_OK, "" when empty) and empties b. */
COF_MUST_CHECK cof_err cof_buf_steal(struct cof_buf *b, char **out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Capped growable buffer. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cof_buf_init(struct cof_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

static cof_err reserve(struct cof_buf *b, size_t extra)
{
    if (extra > b->limit - b->len)
        return COF_ERR_TOO_LARGE;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return COF_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    char *p = realloc(b->data, ncap);
    if (p == NULL)
        return COF_ERR_NOMEM;
    b->data = p;
    b->cap = ncap;
    return COF_OK;
}

cof_err cof_buf_append(struct cof_buf *b, const void *p, size_t n)
{
    cof_err err = reserve(b, n);
    if (err != COF_OK)
        return err;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return COF_OK;
}

cof_err cof_buf_puts(struct cof_buf *b, const char *s)
{
    return cof_buf_append(b, s, strlen(s));
}

cof_err cof_buf_vprintf(struct cof_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    cof_err err = n < 0 ? COF_ERR_INVALID : reserve(b, (size_t)n);
    if (err == COF_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
    return err;
}

cof_err cof_buf_printf(struct cof_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cof_err err = cof_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

void cof_buf_reset(struct cof_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void cof_buf_cleanup(struct cof_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

cof_err cof_buf_steal(struct cof_buf *b, char **out)
{
    cof_err err = reserve(b, 0);
    if (err != COF_OK)
        return err;
    b->data[b->len] = '\0';
    *out = b->data;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return COF_OK;
}

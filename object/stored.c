/* SPDX-License-Identifier: Apache-2.0 */
/* The stored header block of an object row. */
#include "object/stored.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

/* Calls fn for each stored header line. */
void obj_stored_each(const char *block, void (*fn)(void *, const char *, const char *), void *arg)
{
    const char *p = block != NULL ? block : "";
    char name[256];
    char value[8192];
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon != NULL) {
            size_t nlen = (size_t)(colon - p);
            size_t vlen = len - nlen - 1;
            if (nlen < sizeof(name) && vlen < sizeof(value)) {
                memcpy(name, p, nlen);
                name[nlen] = '\0';
                memcpy(value, colon + 1, vlen);
                value[vlen] = '\0';
                fn(arg, name, value);
            }
        }
        p += len + (nl != NULL ? 1 : 0);
    }
}

/* Finds an internal stored line ("coffer-...") and copies its value; false if absent. */
struct find_line {
    const char *name;
    char *out;
    size_t n;
    bool found;
};

static void find_stored_cb(void *arg, const char *name, const char *value)
{
    struct find_line *f = arg;
    if (!f->found && strcmp(name, f->name) == 0 && strlen(value) < f->n) {
        memcpy(f->out, value, strlen(value) + 1);
        f->found = true;
    }
}

bool obj_stored_value(const char *block, const char *name, char *out, size_t n)
{
    struct find_line f = {name, out, n, false};
    obj_stored_each(block, find_stored_cb, &f);
    return f.found;
}

/* Records an object's checksum as an internal stored line. Takes *block. */
cof_err obj_stored_append(char **block, const char *name, const char *fmt, ...)
{
    struct cof_buf b;
    char *out = NULL;
    va_list ap;
    cof_buf_init(&b, 128 * 1024);
    cof_err err = cof_buf_puts(&b, *block != NULL ? *block : "");
    if (err == COF_OK)
        err = cof_buf_printf(&b, "%s:", name);
    if (err == COF_OK) {
        va_start(ap, fmt);
        err = cof_buf_vprintf(&b, fmt, ap);
        va_end(ap);
    }
    if (err == COF_OK)
        err = cof_buf_puts(&b, "\n");
    if (err == COF_OK)
        err = cof_buf_steal(&b, &out);
    cof_buf_cleanup(&b);
    if (err == COF_OK) {
        free(*block);
        *block = out;
    }
    return err;
}

cof_err obj_stored_add_checksum(char **block, enum srv_cksum_alg alg, const char *b64)
{
    return obj_stored_append(block, OBJ_STORED_CHECKSUM, "%s %s", srv_cksum_name(alg), b64);
}

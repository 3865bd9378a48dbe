/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: multipart/form-data (server/formdata.c), as POST Object receives it.
 * Input: first line = the request's Content-Type, rest = the body, fed in pieces whose sizes
 * come from the input itself. Invariants: every part's data is reported between its begin and
 * end; names are NUL-terminated and within the line cap; the same body split differently
 * gives the same outcome and the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/formdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
    int open; /* inside a part */
    uint64_t bytes;
    uint32_t hash;
};

static cof_err begin(void *arg, const struct srv_form_part *p)
{
    struct tally *t = arg;
    if (t->open || p->name == NULL || strlen(p->name) > SRV_FORM_LINE_MAX ||
        (p->filename != NULL && strlen(p->filename) > SRV_FORM_LINE_MAX))
        abort();
    t->open = 1;
    return COF_OK;
}

static cof_err part_data(void *arg, const char *p, size_t n)
{
    struct tally *t = arg;
    if (!t->open || n == 0)
        abort();
    for (size_t i = 0; i < n; i++)
        t->hash = t->hash * 31u + (uint8_t)p[i];
    t->bytes += n;
    return COF_OK;
}

static cof_err end(void *arg)
{
    struct tally *t = arg;
    if (!t->open)
        abort();
    t->open = 0;
    t->hash = t->hash * 31u + 0x5eu;
    return COF_OK;
}

static cof_err parse(const char *boundary, const char *body, size_t n, size_t step, struct tally *t,
                     int *done)
{
    struct srv_form f;
    memset(t, 0, sizeof(*t));
    srv_form_init(&f, boundary, begin, part_data, end, t);
    cof_err err = COF_OK;
    for (size_t i = 0; i < n && err == COF_OK; i += step)
        err = srv_form_feed(&f, body + i, n - i < step ? n - i : step);
    *done = srv_form_done(&f);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (nl == NULL)
        return 0;
    size_t cl = (size_t)(nl - (const char *)data);
    char *ct = malloc(cl + 1);
    if (ct == NULL)
        return 0;
    memcpy(ct, data, cl);
    ct[cl] = '\0';
    char boundary[SRV_FORM_BOUNDARY_MAX + 1];
    if (srv_form_boundary(ct, boundary) == COF_OK) {
        const char *body = (const char *)data + cl + 1;
        size_t n = size - cl - 1;
        struct tally a, b;
        int da = 0, db = 0;
        cof_err ea = parse(boundary, body, n, n > 0 ? n : 1, &a, &da);
        cof_err eb = parse(boundary, body, n, 1 + (size % 7), &b, &db);
        if (ea != eb || da != db || (ea == COF_OK && (a.bytes != b.bytes || a.hash != b.hash)))
            abort();
    }
    free(ct);
    return 0;
}

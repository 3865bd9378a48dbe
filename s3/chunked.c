/* SPDX-License-Identifier: Apache-2.0 */
/* aws-chunked decoder: a byte-at-a-time state machine for the framing, with payload bytes passed
 * through in runs (so the cost per payload byte is a memcpy in the consumer, not here). */
#include "s3/chunked.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/hex.h"

enum { ST_SIZE, ST_DATA, ST_DATA_CR, ST_DATA_LF, ST_TRAILER, ST_DONE, ST_FAILED };

void srv_chunked_init(struct srv_chunked *c, srv_chunk_data_fn on_data, void *arg)
{
    memset(c, 0, sizeof(*c));
    c->state = ST_SIZE;
    c->on_data = on_data;
    c->arg = arg;
}

/* "1a2b[;chunk-signature=...]" -> size, and the signature into sig (64 hex chars or ""). */
static cof_err parse_size_line(const char *line, uint64_t *out, char sig[65])
{
    sig[0] = '\0';
    uint64_t v = 0;
    size_t i = 0;
    for (; isxdigit((unsigned char)line[i]); i++) {
        if (i >= 16)
            return COF_ERR_INVALID;
        int d = isdigit((unsigned char)line[i]) ? line[i] - '0'
                                                : (tolower((unsigned char)line[i]) - 'a' + 10);
        v = v * 16 + (uint64_t)d;
    }
    if (i == 0)
        return COF_ERR_INVALID;
    if (line[i] != '\0' && line[i] != ';')
        return COF_ERR_INVALID;
    if (line[i] == ';' && strncmp(line + i + 1, "chunk-signature=", 16) != 0)
        return COF_ERR_INVALID;
    if (line[i] == ';') {
        const char *s = line + i + 17;
        if (strlen(s) != 64 || !cof_hex_valid(s, 64, COF_HEX_LOWER))
            return COF_ERR_INVALID;
        memcpy(sig, s, 65);
    }
    *out = v;
    return COF_OK;
}

static cof_err add_trailer(struct srv_chunked *c, const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon == NULL || colon == line || c->n_trailers == SRV_TRAILERS_MAX)
        return COF_ERR_INVALID;
    struct srv_trailer *t = &c->trailers[c->n_trailers];
    size_t nl = (size_t)(colon - line);
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vl = strlen(v);
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (nl >= sizeof(t->name) || vl >= sizeof(t->value))
        return COF_ERR_INVALID;
    for (size_t i = 0; i < nl; i++)
        t->name[i] = (char)tolower((unsigned char)line[i]);
    t->name[nl] = '\0';
    memcpy(t->value, v, vl);
    t->value[vl] = '\0';
    c->n_trailers++;
    return COF_OK;
}

/* A complete line (without CRLF) in c->line. */
static cof_err end_line(struct srv_chunked *c)
{
    c->line[c->line_len] = '\0';
    c->line_len = 0;
    if (c->state == ST_SIZE) {
        cof_err err = parse_size_line(c->line, &c->remaining, c->sig);
        if (err == COF_OK && c->on_chunk != NULL)
            err = c->on_chunk(c->arg, c->sig, c->remaining);
        if (err != COF_OK)
            return err;
        c->state = c->remaining == 0 ? ST_TRAILER : ST_DATA;
        return COF_OK;
    }
    /* ST_TRAILER: an empty line ends the body. */
    if (c->line[0] == '\0') {
        c->state = ST_DONE;
        return COF_OK;
    }
    return add_trailer(c, c->line);
}

static cof_err feed(struct srv_chunked *c, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        switch (c->state) {
        case ST_DATA: {
            size_t take = n - i;
            if (take > c->remaining)
                take = (size_t)c->remaining;
            cof_err err = c->on_data(c->arg, p + i, take);
            if (err != COF_OK)
                return err;
            c->remaining -= take;
            c->decoded += take;
            i += take;
            if (c->remaining == 0)
                c->state = ST_DATA_CR;
            break;
        }
        case ST_DATA_CR:
            if (p[i++] != '\r')
                return COF_ERR_INVALID;
            c->state = ST_DATA_LF;
            break;
        case ST_DATA_LF:
            if (p[i++] != '\n')
                return COF_ERR_INVALID;
            c->state = ST_SIZE;
            break;
        case ST_SIZE:
        case ST_TRAILER: {
            char ch = p[i++];
            /* A NUL would end the line early for the string parsers below, so that bytes after
             * it were neither parsed nor refused. */
            if (ch == '\0')
                return COF_ERR_INVALID;
            if (ch == '\n') {
                if (c->line_len == 0 || c->line[c->line_len - 1] != '\r') {
                    /* A bare LF ends the trailer section only as an empty line. */
                    if (!(c->state == ST_TRAILER && c->line_len == 0))
                        return COF_ERR_INVALID;
                } else {
                    c->line_len--;
                }
                cof_err err = end_line(c);
                if (err != COF_OK)
                    return err;
                break;
            }
            if (c->line_len == SRV_CHUNK_LINE_MAX)
                return COF_ERR_INVALID;
            if (c->state == ST_TRAILER && ++c->trailer_bytes > SRV_TRAILER_MAX)
                return COF_ERR_INVALID;
            c->line[c->line_len++] = ch;
            break;
        }
        default: /* ST_DONE: nothing may follow */
            return COF_ERR_INVALID;
        }
    }
    return COF_OK;
}

cof_err srv_chunked_feed(struct srv_chunked *c, const char *p, size_t n)
{
    /* Errors are final: a caller that feeds on after one gets no more data and no "done". */
    if (c->state == ST_FAILED)
        return COF_ERR_INVALID;
    cof_err err = feed(c, p, n);
    if (err != COF_OK)
        c->state = ST_FAILED;
    return err;
}

bool srv_chunked_done(const struct srv_chunked *c)
{
    return c->state == ST_DONE;
}

const char *srv_chunked_trailer(const struct srv_chunked *c, const char *name)
{
    for (size_t i = 0; i < c->n_trailers; i++)
        if (strcasecmp(c->trailers[i].name, name) == 0)
            return c->trailers[i].value;
    return NULL;
}

size_t srv_chunked_canonical_trailers(const struct srv_chunked *c, char *out, size_t cap)
{
    const struct srv_trailer *order[SRV_TRAILERS_MAX];
    size_t n = 0, len = 0;
    for (size_t i = 0; i < c->n_trailers; i++) {
        if (strcmp(c->trailers[i].name, "x-amz-trailer-signature") == 0)
            continue;
        /* insertion sort: at most SRV_TRAILERS_MAX entries */
        size_t j = n++;
        while (j > 0 && strcmp(order[j - 1]->name, c->trailers[i].name) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = &c->trailers[i];
    }
    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + len, cap - len, "%s:%s\n", order[i]->name, order[i]->value);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    out[len] = '\0'; /* drop a partial last line */
    return len;
}

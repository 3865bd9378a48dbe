/* SPDX-License-Identifier: Apache-2.0 */
/* multipart/form-data, streamed: a state machine over the body bytes. Part data is scanned for
 * the delimiter "\r\n--boundary" and handed out in runs; only a partial delimiter match is held
 * back across pieces. */
#include "s3/formdata.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

enum {
    ST_PREAMBLE = 0, /* before the first delimiter: ignored */
    ST_DELIM_LINE,   /* the rest of a delimiter line: "--" (close) or padding, CRLF */
    ST_HEADERS,      /* part header lines up to the blank line */
    ST_BEGIN,        /* headers complete: report the part, then its data */
    ST_BODY,         /* part data up to the next delimiter */
    ST_EPILOGUE,     /* after the close delimiter: ignored */
    ST_FAILED,
};

/* RFC 2046 bcharsnospace, plus the space bchars allows (not as the last character). */
static bool bchar(char c)
{
    return isalnum((unsigned char)c) || strchr("'()+_,-./:=? ", c) != NULL;
}

cof_err srv_form_boundary(const char *ct, char out[SRV_FORM_BOUNDARY_MAX + 1])
{
    static const char type[] = "multipart/form-data";
    if (ct == NULL)
        return COF_ERR_INVALID;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t tl = strcspn(ct, ";");
    while (tl > 0 && (ct[tl - 1] == ' ' || ct[tl - 1] == '\t'))
        tl--;
    if (tl != sizeof(type) - 1 || strncasecmp(ct, type, tl) != 0)
        return COF_ERR_INVALID;
    const char *p = ct + strcspn(ct, ";");
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t nl = strcspn(p, "=;");
        bool is_boundary = nl == 8 && strncasecmp(p, "boundary", 8) == 0;
        p += nl;
        if (*p != '=')
            continue;
        p++;
        char val[SRV_FORM_BOUNDARY_MAX + 2];
        size_t vl = 0;
        bool too_long = false;
        if (*p == '"') {
            p++;
            while (*p != '\0' && *p != '"') {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                if (vl <= SRV_FORM_BOUNDARY_MAX)
                    val[vl++] = *p;
                else
                    too_long = true;
                p++;
            }
            if (*p != '"')
                return COF_ERR_NOT_FOUND;
            p++;
        } else {
            while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t') {
                if (vl <= SRV_FORM_BOUNDARY_MAX)
                    val[vl++] = *p;
                else
                    too_long = true;
                p++;
            }
        }
        while (*p != '\0' && *p != ';')
            p++;
        if (!is_boundary)
            continue;
        if (too_long || vl == 0 || vl > SRV_FORM_BOUNDARY_MAX || val[vl - 1] == ' ')
            return COF_ERR_NOT_FOUND;
        for (size_t i = 0; i < vl; i++)
            if (!bchar(val[i]))
                return COF_ERR_NOT_FOUND;
        memcpy(out, val, vl);
        out[vl] = '\0';
        return COF_OK;
    }
    return COF_ERR_NOT_FOUND;
}

void srv_form_init(struct srv_form *f, const char *boundary, srv_form_begin_fn on_begin,
                   srv_form_data_fn on_data, srv_form_end_fn on_end, void *arg)
{
    size_t bl = boundary != NULL ? strlen(boundary) : 0;
    if (bl == 0 || bl > SRV_FORM_BOUNDARY_MAX || on_begin == NULL || on_data == NULL ||
        on_end == NULL)
        COF_BUG("srv_form_init: bad boundary or callback");
    memset(f, 0, sizeof(*f));
    memcpy(f->delim, "\r\n--", 4);
    memcpy(f->delim + 4, boundary, bl);
    f->dlen = bl + 4;
    /* The body may open with "--boundary" directly: act as if a CRLF preceded it. */
    f->matched = 2;
    f->state = ST_PREAMBLE;
    f->on_begin = on_begin;
    f->on_data = on_data;
    f->on_end = on_end;
    f->arg = arg;
}

bool srv_form_done(const struct srv_form *f)
{
    return f->state == ST_EPILOGUE;
}

/* Hands out data unless it is preamble. */
static cof_err emit(struct srv_form *f, const char *p, size_t n)
{
    if (n == 0 || f->state != ST_BODY)
        return COF_OK;
    return f->on_data(f->arg, p, n);
}

/* Scans for the delimiter. A partial match is held back (it is a prefix of delim, so it can be
 * re-emitted from delim itself). The delimiter's only CR is its first byte (boundaries hold no
 * CR or LF), so after a mismatch no suffix of the held bytes can start a new match: no KMP
 * fallback is needed, only a re-test of the current byte. */
static cof_err scan_body(struct srv_form *f, const char *p, size_t n, size_t *used, bool *found)
{
    size_t i = 0, run = 0;
    cof_err err = COF_OK;
    *found = false;
    while (i < n) {
        if (f->matched == 0) {
            const char *cr = memchr(p + i, '\r', n - i);
            if (cr == NULL) {
                i = n;
                break;
            }
            i = (size_t)(cr - p);
            err = emit(f, p + run, i - run);
            if (err != COF_OK)
                return err;
            f->matched = 1;
            run = ++i;
            continue;
        }
        if (p[i] == f->delim[f->matched]) {
            f->matched++;
            run = ++i;
            if (f->matched == f->dlen) {
                f->matched = 0;
                *found = true;
                *used = i;
                return COF_OK;
            }
        } else {
            err = emit(f, f->delim, f->matched);
            if (err != COF_OK)
                return err;
            f->matched = 0;
            run = i; /* p[i] is tested again as a possible start */
        }
    }
    err = emit(f, p + run, n - run);
    *used = n;
    return err;
}

/* Appends one byte to the line buffer. */
static cof_err line_add(struct srv_form *f, char c)
{
    if (f->line_len >= SRV_FORM_LINE_MAX)
        return COF_ERR_TOO_LARGE;
    f->line[f->line_len++] = c;
    return COF_OK;
}

/* A header parameter value: quoted-string or token. Advances *pp. COF_ERR_INVALID for an
 * unterminated quote. Browsers do not escape backslashes (WHATWG HTML sends '"' as %22), so
 * a Windows path "C:\dir\a.txt" must stay intact: only \" is taken as an escaped quote,
 * every other backslash is literal. */
static cof_err param_value(const char **pp, char *out, size_t cap)
{
    const char *p = *pp;
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p != '\0' && *p != '"') {
            if (*p == '\\' && p[1] == '"')
                p++;
            if (n + 1 < cap)
                out[n++] = *p;
            p++;
        }
        if (*p != '"')
            return COF_ERR_INVALID;
        p++;
    } else {
        while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t') {
            if (n + 1 < cap)
                out[n++] = *p;
            p++;
        }
    }
    out[n] = '\0';
    *pp = p;
    return COF_OK;
}

/* Content-Disposition: form-data; name="..."[; filename="..."] (RFC 7578 section 4.2). */
static cof_err disposition(struct srv_form *f, const char *v)
{
    size_t tl = strcspn(v, ";");
    size_t t = tl;
    while (t > 0 && (v[t - 1] == ' ' || v[t - 1] == '\t'))
        t--;
    if (t != 9 || strncasecmp(v, "form-data", 9) != 0)
        return COF_ERR_INVALID;
    const char *p = v + tl;
    while (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t nl = strcspn(p, "=; \t");
        const char *pname = p;
        p += nl;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=') {
            p += strcspn(p, ";");
            continue;
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        char *dst = NULL;
        if (nl == 4 && strncasecmp(pname, "name", 4) == 0) {
            dst = f->name;
            f->have_name = true;
        } else if (nl == 8 && strncasecmp(pname, "filename", 8) == 0) {
            dst = f->filename;
            f->have_filename = true;
        }
        char skip[2];
        cof_err err = dst != NULL ? param_value(&p, dst, SRV_FORM_LINE_MAX + 1)
                                  : param_value(&p, skip, sizeof(skip));
        if (err != COF_OK)
            return err;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0' && *p != ';')
            return COF_ERR_INVALID;
    }
    return COF_OK;
}

/* One complete header line (CR stripped). */
static cof_err header_line(struct srv_form *f)
{
    f->line[f->line_len] = '\0';
    if (++f->n_headers > SRV_FORM_HEADERS_MAX)
        return COF_ERR_INVALID;
    char *colon = strchr(f->line, ':');
    if (colon == NULL || colon == f->line)
        return COF_ERR_INVALID;
    *colon = '\0';
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vl = strlen(v);
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (strcasecmp(f->line, "Content-Disposition") == 0) {
        char val[SRV_FORM_LINE_MAX + 1];
        memcpy(val, v, vl);
        val[vl] = '\0';
        return disposition(f, val);
    }
    if (strcasecmp(f->line, "Content-Type") == 0) {
        if (vl >= sizeof(f->ctype))
            return COF_ERR_INVALID;
        memcpy(f->ctype, v, vl);
        f->ctype[vl] = '\0';
    }
    /* RFC 7578 section 4.8: other part headers are ignored. */
    return COF_OK;
}

static void part_reset(struct srv_form *f)
{
    f->n_headers = 0;
    f->have_name = f->have_filename = false;
    f->name[0] = f->filename[0] = f->ctype[0] = '\0';
    f->line_len = 0;
}

/* Consumes bytes of the current state; *used is how many. */
static cof_err step(struct srv_form *f, const char *p, size_t n, size_t *used)
{
    cof_err err = COF_OK;
    *used = 0;
    switch (f->state) {
    case ST_PREAMBLE:
    case ST_BODY: {
        bool found = false;
        err = scan_body(f, p, n, used, &found);
        if (err == COF_OK && found) {
            if (f->state == ST_BODY)
                err = f->on_end(f->arg);
            f->state = ST_DELIM_LINE;
            f->line_len = 0;
        }
        return err;
    }
    case ST_DELIM_LINE:
        for (size_t i = 0; i < n; i++) {
            *used = i + 1;
            char c = p[i];
            if (c == '\n') {
                size_t l = f->line_len;
                if (l > 0 && f->line[l - 1] == '\r')
                    l--;
                /* transport padding (RFC 2046) is linear white space only */
                for (size_t k = 0; k < l; k++)
                    if (f->line[k] != ' ' && f->line[k] != '\t')
                        return COF_ERR_INVALID;
                part_reset(f);
                f->state = ST_HEADERS;
                return COF_OK;
            }
            err = line_add(f, c);
            if (err != COF_OK)
                return err;
            if (f->line_len == 2 && f->line[0] == '-' && f->line[1] == '-') {
                f->state = ST_EPILOGUE;
                return COF_OK;
            }
        }
        return COF_OK;
    case ST_HEADERS:
        for (size_t i = 0; i < n; i++) {
            *used = i + 1;
            char c = p[i];
            if (c != '\n') {
                err = line_add(f, c);
                if (err != COF_OK)
                    return err;
                continue;
            }
            if (f->line_len > 0 && f->line[f->line_len - 1] == '\r')
                f->line_len--;
            if (f->line_len == 0) {
                if (!f->have_name)
                    return COF_ERR_INVALID;
                f->state = ST_BEGIN;
                return COF_OK;
            }
            err = header_line(f);
            f->line_len = 0;
            if (err != COF_OK)
                return err;
        }
        return COF_OK;
    case ST_BEGIN: {
        struct srv_form_part part = {f->name, f->have_filename ? f->filename : NULL,
                                     f->ctype[0] != '\0' ? f->ctype : NULL};
        f->state = ST_BODY;
        f->matched = 0;
        return f->on_begin(f->arg, &part);
    }
    case ST_EPILOGUE:
        *used = n;
        return COF_OK;
    default:
        return COF_ERR_INVALID;
    }
}

cof_err srv_form_feed(struct srv_form *f, const char *p, size_t n)
{
    while (n > 0 || f->state == ST_BEGIN) {
        size_t used = 0;
        cof_err err = step(f, p, n, &used);
        if (err != COF_OK) {
            f->state = ST_FAILED;
            return err;
        }
        f->consumed += used;
        p += used;
        n -= used;
    }
    return f->state == ST_FAILED ? COF_ERR_INVALID : COF_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Percent-coding (RFC 3986, plus the form-style '+' in queries), query splitting and base64
 * (RFC 4648). Never touches I/O; every output is capped or sized by the caller. */
#include "s3/uri.h"

#include <string.h>

#include "common/hex.h"

/* Decodes raw[0..n) into a fresh NUL-terminated string. plus_space: query style ('+' is a
 * space, as in application/x-www-form-urlencoded, which is how servers read S3 queries).
 * A NUL byte, raw or decoded, is refused: callers keep C strings, and a NUL would silently
 * cut a key or prefix short. */
static cof_err decode(const char *raw, size_t n, bool plus_space, char **out, size_t *out_len)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return COF_ERR_NOMEM;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            /* RFC 3986 2.1: the two digits of %XX are case-insensitive. */
            uint8_t v;
            if (n - i < 3 || cof_hex_decode(raw + i + 1, 2, COF_HEX_ANY_CASE, &v, 1) != COF_OK) {
                free(d);
                return COF_ERR_INVALID;
            }
            c = v;
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0') {
            free(d);
            return COF_ERR_INVALID;
        }
        d[j++] = (char)c;
    }
    d[j] = '\0';
    *out = d;
    if (out_len != NULL)
        *out_len = j;
    return COF_OK;
}

cof_err srv_uri_decode_path(const char *raw, size_t n, char **out, size_t *out_len)
{
    if (raw == NULL && n > 0)
        COF_BUG("srv_uri_decode_path: NULL input");
    *out = NULL;
    *out_len = 0;
    return decode(raw, n, false, out, out_len);
}

void srv_query_cleanup(struct srv_query *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->n; i++) {
        free(q->params[i].name);
        free(q->params[i].value);
    }
    free(q->params);
    q->params = NULL;
    q->n = 0;
}

cof_err srv_query_parse(const char *raw_query, struct srv_query *out)
{
    cof_err err = COF_OK;
    struct srv_query q = {NULL, 0};

    out->params = NULL;
    out->n = 0;
    if (raw_query == NULL || raw_query[0] == '\0')
        return COF_OK;
    size_t len = strnlen(raw_query, SRV_QUERY_MAX_LEN + 1);
    if (len > SRV_QUERY_MAX_LEN)
        return COF_ERR_TOO_LARGE;

    /* Count first so the array is allocated once and the param cap is checked up front. */
    size_t count = 0;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && raw_query[e] != '&')
            e++;
        if (e > i)
            count++;
        i = e + 1;
    }
    if (count > SRV_QUERY_MAX_PARAMS)
        return COF_ERR_TOO_LARGE;
    if (count == 0)
        return COF_OK;
    q.params = calloc(count, sizeof(*q.params));
    if (q.params == NULL)
        return COF_ERR_NOMEM;

    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && raw_query[e] != '&')
            e++;
        if (e > i) {
            const char *piece = raw_query + i;
            size_t plen = e - i;
            const char *eq = memchr(piece, '=', plen);
            size_t nlen = eq != NULL ? (size_t)(eq - piece) : plen;
            struct srv_query_param *p = &q.params[q.n];
            err = decode(piece, nlen, true, &p->name, NULL);
            if (err != COF_OK)
                goto out;
            if (eq != NULL)
                err = decode(eq + 1, plen - nlen - 1, true, &p->value, NULL);
            else
                err = decode("", 0, true, &p->value, NULL);
            q.n++; /* counted now so cleanup frees name even if the value failed */
            if (err != COF_OK)
                goto out;
        }
        i = e + 1;
    }
    *out = q;
    q.params = NULL;
    q.n = 0;
out:
    srv_query_cleanup(&q);
    return err;
}

const char *srv_query_get(const struct srv_query *q, const char *name)
{
    if (q == NULL)
        return NULL;
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->params[i].name, name) == 0)
            return q->params[i].value;
    }
    return NULL;
}

bool srv_query_has(const struct srv_query *q, const char *name)
{
    return srv_query_get(q, name) != NULL;
}

cof_err srv_uri_encode(const char *s, bool keep_slash, struct cof_buf *out)
{
    cof_err err = COF_OK;
    const unsigned char *p = (const unsigned char *)s;

    while (*p != '\0' && err == COF_OK) {
        /* Append the longest run of unreserved bytes in one go. */
        size_t run = 0;
        for (;;) {
            unsigned char c = p[run];
            bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~' ||
                        (c == '/' && keep_slash);
            if (!keep)
                break;
            run++;
        }
        if (run > 0) {
            err = cof_buf_append(out, p, run);
            p += run;
            continue;
        }
        char esc[4] = {'%'};
        cof_hex_encode_upper(p, 1, esc + 1);
        err = cof_buf_append(out, esc, 3);
        p++;
    }
    return err;
}

size_t srv_utf8_next(const char *s, size_t n, uint32_t *out_cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len;
    uint32_t cp;

    *out_cp = 0;
    if (n == 0)
        return 0;
    unsigned char c = p[0];
    if (c < 0x80) {
        *out_cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0; /* continuation byte, overlong lead (c0/c1), or a lead beyond U+10FFFF */
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *out_cp = cp;
    return len;
}

bool srv_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = srv_utf8_next(s + i, n - i, &cp);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

cof_err srv_base64_decode(const char *in, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t len = strlen(in);
    *out_len = 0;
    if (len % 4 != 0)
        return COF_ERR_INVALID;
    size_t pad = 0;
    if (len > 0 && in[len - 1] == '=')
        pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
    size_t need = len / 4 * 3 - pad;

    /* Validate everything before writing, so a bad input leaves out untouched. */
    for (size_t i = 0; i < len - pad; i++) {
        if (b64val((unsigned char)in[i]) < 0)
            return COF_ERR_INVALID;
    }
    /* RFC 4648 3.5: the unused bits of the last symbol must be zero (canonical form). */
    if (pad == 1 && (b64val((unsigned char)in[len - 2]) & 0x3) != 0)
        return COF_ERR_INVALID;
    if (pad == 2 && (b64val((unsigned char)in[len - 3]) & 0xf) != 0)
        return COF_ERR_INVALID;
    if (need > cap)
        return COF_ERR_TOO_LARGE;

    size_t j = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t v = 0;
        int syms = 0;
        for (size_t k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)in[i + k];
            v <<= 6;
            if (c != '=') {
                v |= (uint32_t)b64val(c);
                syms++;
            }
        }
        out[j++] = (uint8_t)(v >> 16);
        if (syms > 2)
            out[j++] = (uint8_t)(v >> 8);
        if (syms > 3)
            out[j++] = (uint8_t)v;
    }
    *out_len = j;
    return COF_OK;
}

void srv_base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t j = 0;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[j++] = b64_alphabet[v >> 18 & 63];
        out[j++] = b64_alphabet[v >> 12 & 63];
        out[j++] = b64_alphabet[v >> 6 & 63];
        out[j++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[j++] = b64_alphabet[v >> 18 & 63];
        out[j++] = b64_alphabet[v >> 12 & 63];
        out[j++] = '=';
        out[j++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[j++] = b64_alphabet[v >> 18 & 63];
        out[j++] = b64_alphabet[v >> 12 & 63];
        out[j++] = b64_alphabet[v >> 6 & 63];
        out[j++] = '=';
    }
    out[j] = '\0';
}

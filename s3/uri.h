/* SPDX-License-Identifier: Apache-2.0 */
/* Percent-coding, query strings and base64 for the request path (hex: common/hex.h). Pure
 * functions: no I/O, no global state, thread-safe. Only strings and caller buffers go in/out. */
#ifndef SRV_URI_H
#define SRV_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define SRV_QUERY_MAX_PARAMS 100u         /* more params -> COF_ERR_TOO_LARGE */
#define SRV_QUERY_MAX_LEN    (64u * 1024) /* longer raw query -> COF_ERR_TOO_LARGE */

struct srv_query_param {
    char *name;  /* decoded, owned; never NULL */
    char *value; /* decoded, owned; "" when the param had no '=' */
};

struct srv_query {
    struct srv_query_param *params; /* owned; in request order */
    size_t n;
};

/* Splits raw_query (the text after '?', without it; NULL or "" = no params) on '&' and
 * decodes %XX and '+' (as space) in names and values. Empty pieces ("a&&b") are skipped.
 * COF_ERR_INVALID: bad %-escape or an escape that decodes to NUL. COF_ERR_TOO_LARGE: more
 * than SRV_QUERY_MAX_PARAMS params or a raw query over SRV_QUERY_MAX_LEN. COF_ERR_NOMEM.
 * On failure *out is empty. Free with srv_query_cleanup. */
COF_MUST_CHECK cof_err srv_query_parse(const char *raw_query, struct srv_query *out);
/* Frees every param; q is empty afterwards. Accepts NULL. */
void srv_query_cleanup(struct srv_query *q);
/* Value of the first param called name (exact, case-sensitive), NULL if absent. Borrowed:
 * valid until srv_query_cleanup(q). q may be NULL. */
const char *srv_query_get(const struct srv_query *q, const char *name);
/* Whether a param called name is present (with or without a value). q may be NULL. */
bool srv_query_has(const struct srv_query *q, const char *name);

/* Percent-decodes n bytes of a path (segment); '+' stays '+'. *out is NUL-terminated, owned
 * by the caller (free()), and *out_len is its length. COF_ERR_INVALID: bad escape, or a NUL
 * byte (raw or decoded). COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_uri_decode_path(const char *raw, size_t n, char **out, size_t *out_len);

/* Appends s to out, encoded as S3 does for encoding-type=url: A-Z a-z 0-9 - _ . ~ (and '/'
 * when keep_slash) stay, every other byte becomes %XX with upper-case hex (space -> %20).
 * Errors are out's: COF_ERR_TOO_LARGE past its limit, COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_uri_encode(const char *s, bool keep_slash, struct cof_buf *out);

/* Decodes the UTF-8 sequence at s[0..n), n >= 1: returns its length (1..4) and sets *out_cp,
 * or returns 0 if it is not well-formed (RFC 3629: no overlong forms, surrogates, > U+10FFFF,
 * truncation). */
size_t srv_utf8_next(const char *s, size_t n, uint32_t *out_cp);
/* Whether s[0..n) is entirely well-formed UTF-8. */
bool srv_utf8_valid(const char *s, size_t n);

/* Strict RFC 4648 base64 (standard alphabet, '=' padding required, zero pad bits, no
 * whitespace). Writes at most cap bytes to out, the count to *out_len. "" decodes to 0 bytes.
 * COF_ERR_INVALID: any deviation. COF_ERR_TOO_LARGE: decoded length > cap (nothing written). */
COF_MUST_CHECK cof_err srv_base64_decode(const char *in, uint8_t *out, size_t cap, size_t *out_len);
/* Base64 of n bytes with padding; out needs 4*((n+2)/3)+1 bytes (NUL-terminated). */
void srv_base64_encode(const uint8_t *in, size_t n, char *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming multipart/form-data parser (RFC 7578 on RFC 2046 section 5.1), for POST Object
 * browser uploads. Fed arbitrary pieces of the body; reports each part's start (name, filename,
 * Content-Type), its data in pieces, and its end, through callbacks. Holds O(line) memory:
 * part data is never buffered here. No I/O; caps on every header line. */
#ifndef SRV_FORMDATA_H
#define SRV_FORMDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SRV_FORM_BOUNDARY_MAX 70   /* RFC 2046: 1..70 characters */
#define SRV_FORM_LINE_MAX     4096 /* one part header line (or the delimiter line's rest) */
#define SRV_FORM_HEADERS_MAX  16   /* header lines in one part */

/* What a part's headers said. Strings are borrowed for the duration of the callback. */
struct srv_form_part {
    const char *name;         /* Content-Disposition name (never NULL) */
    const char *filename;     /* filename parameter, or NULL when the part has none */
    const char *content_type; /* the part's Content-Type, or NULL */
};

/* Callbacks: any error they return stops the parser and is passed up by srv_form_feed. */
typedef cof_err (*srv_form_begin_fn)(void *arg, const struct srv_form_part *part);
typedef cof_err (*srv_form_data_fn)(void *arg, const char *p, size_t n);
typedef cof_err (*srv_form_end_fn)(void *arg);

struct srv_form {
    int state;
    char delim[SRV_FORM_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
    size_t dlen;
    size_t matched; /* bytes of delim matched so far (held back, not yet reported) */
    char line[SRV_FORM_LINE_MAX + 1];
    size_t line_len;
    unsigned n_headers;
    char name[SRV_FORM_LINE_MAX + 1];
    char filename[SRV_FORM_LINE_MAX + 1];
    bool have_name, have_filename;
    char ctype[256];
    uint64_t consumed; /* body bytes processed so far */
    srv_form_begin_fn on_begin;
    srv_form_data_fn on_data;
    srv_form_end_fn on_end;
    void *arg;
};

/* The boundary of a "multipart/form-data; boundary=..." Content-Type (token or quoted string,
 * parameters in any order, names case-insensitive). COF_ERR_INVALID: not multipart/form-data
 * (S3: 412 PreconditionFailed). COF_ERR_NOT_FOUND: no boundary, or one that is empty, longer
 * than SRV_FORM_BOUNDARY_MAX or holds a character RFC 2046 forbids (S3: MalformedPOSTRequest). */
COF_MUST_CHECK cof_err srv_form_boundary(const char *content_type,
                                         char out[SRV_FORM_BOUNDARY_MAX + 1]);

/* Sets up a parser for boundary (1..70 characters, as srv_form_boundary returns; else
 * COF_BUG). The callbacks must not be NULL. */
void srv_form_init(struct srv_form *f, const char *boundary, srv_form_begin_fn on_begin,
                   srv_form_data_fn on_data, srv_form_end_fn on_end, void *arg);

/* Feeds n body bytes. COF_ERR_INVALID: malformed (a part without a form-data
 * Content-Disposition or name, junk after a delimiter, bad header syntax, too many header
 * lines). COF_ERR_TOO_LARGE: a header line over SRV_FORM_LINE_MAX. Anything after the close
 * delimiter is ignored (the epilogue). Callback errors are passed up; after any error the
 * parser stays failed. */
COF_MUST_CHECK cof_err srv_form_feed(struct srv_form *f, const char *p, size_t n);

/* Whether the close delimiter ("--boundary--") has been seen. A body that ends without it is
 * truncated. */
bool srv_form_done(const struct srv_form *f);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming decoder for `Content-Encoding: aws-chunked` bodies (AWS SigV4 streaming uploads):
 *   <hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n ... 0[;chunk-signature=..]\r\n
 *   [<trailer name>:<value>\r\n ...]\r\n
 * Fed arbitrary pieces; hands out the decoded payload through a callback. Chunk signatures are
 * parsed (kept for a verifier) but not checked here. No I/O; caps on every line. */
#ifndef SRV_CHUNKED_H
#define SRV_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SRV_CHUNK_LINE_MAX 512  /* a size line with its extension */
#define SRV_TRAILER_MAX    4096 /* all trailer lines */
#define SRV_TRAILERS_MAX   8

typedef cof_err (*srv_chunk_data_fn)(void *arg, const char *p, size_t n);
/* Called at each chunk header with its chunk-signature ("" when unsigned) and size; the final
 * chunk has size 0. */
typedef cof_err (*srv_chunk_sig_fn)(void *arg, const char *signature, uint64_t size);

struct srv_trailer {
    char name[64]; /* lowercased */
    char value[256];
};

struct srv_chunked {
    int state;
    uint64_t remaining; /* bytes left in the current chunk */
    uint64_t decoded;   /* payload bytes handed out */
    char line[SRV_CHUNK_LINE_MAX + 1];
    size_t line_len;
    size_t trailer_bytes;
    struct srv_trailer trailers[SRV_TRAILERS_MAX];
    size_t n_trailers;
    srv_chunk_data_fn on_data;
    void *arg;
    srv_chunk_sig_fn on_chunk; /* optional */
    char sig[65];
};

void srv_chunked_init(struct srv_chunked *c, srv_chunk_data_fn on_data, void *arg);
/* Feeds n bytes. COF_ERR_INVALID for a malformed stream (bad size line, missing CRLF, a NUL in
 * a size or trailer line, data after the end, oversized lines); errors from on_data and on_chunk
 * are passed up. Any error is final: later feeds return COF_ERR_INVALID without calling on_data,
 * and srv_chunked_done stays false. */
COF_MUST_CHECK cof_err srv_chunked_feed(struct srv_chunked *c, const char *p, size_t n);
/* Whether the final chunk and the trailer section were complete. */
bool srv_chunked_done(const struct srv_chunked *c);
/* Trailer value by (case-insensitive) name, or NULL. Valid while c lives. */
const char *srv_chunked_trailer(const struct srv_chunked *c, const char *name);
/* The trailer lines as signed by x-amz-trailer-signature: every trailer but that one, sorted
 * by (lowercased) name, each as "name:value\n", into out (SRV_TRAILER_MAX + room). Returns the
 * length written; out is NUL-terminated. */
size_t srv_chunked_canonical_trailers(const struct srv_chunked *c, char *out, size_t cap);

#endif

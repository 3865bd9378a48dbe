/* SPDX-License-Identifier: Apache-2.0 */
/* Server-side encryption request headers -> what the request asks for (AWS rules in
 * shared/reference/sse-rules.md). Customer keys (SSE-C) live only in a struct cry_key for the
 * request's lifetime; they and their MD5 are never logged or stored. */
#ifndef SRV_SSE_H
#define SRV_SSE_H

#include <stdbool.h>

#include "common/err.h"
#include "crypto/key.h"
#include "s3/headers.h"
#include "s3/s3err.h"

/* A customer key presented with a request (either the object's or the copy source's). */
struct srv_ssec {
    bool present;         /* any of the three headers was sent */
    struct cry_key *key;  /* NULL unless a well-formed key was sent */
    bool md5_sent;        /* the key-MD5 header was sent (and matched the key) */
    char key_md5_b64[32]; /* the client's MD5 header, echoed in responses */
};

enum srv_sse_side { SRV_SSE_OBJECT, SRV_SSE_COPY_SOURCE };

/* Parses the SSE-C trio of one side. write: the key-MD5 header is required (PUT, copy
 * destination). On failure *p says why (AWS's message with ArgumentName/ArgumentValue; a
 * value borrowed from h's header) and p->code is returned. */
COF_MUST_CHECK cof_err srv_ssec_parse(const struct srv_hdr_view *h, enum srv_sse_side side,
                                      bool write, struct srv_ssec *out, struct srv_problem *p);
/* Wipes and frees the key. Accepts NULL. */
void srv_ssec_cleanup(struct srv_ssec *s);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* A read-only view of a request's headers, so that protocol code (signatures, SSE headers) reads
 * headers without knowing where they come from: the HTTP request, or POST Object's form
 * fields, which carry what PutObject takes from headers. */
#ifndef SRV_HEADERS_H
#define SRV_HEADERS_H

/* Calls cb for every request header. */
typedef void (*srv_header_fn)(void *arg, const char *name, const char *value);

/* Name/value pairs that stand in for the request headers (POST Object: the form fields carry
 * what PutObject takes from headers, so the shared write path reads them unchanged). get is
 * case-insensitive and returns NULL when absent. */
struct srv_hdr_view {
    const char *(*get)(void *arg, const char *name);
    void (*each)(void *arg, srv_header_fn cb, void *cb_arg);
    void *arg;
};

#endif

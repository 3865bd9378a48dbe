/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd glue: the listener (plain HTTP and TLS on one port), the daemons, and the
 * request life cycle: struct srv_req from the first callback to completion, request bodies fed
 * to the dispatcher. The only file that runs libmicrohttpd daemons. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include "common/err.h"
#include "ops/req.h"

struct srv_http;
struct cry_tls_identity;

/* Starts serving on the listening socket fd (owned from then on): plain HTTP, and TLS on the
 * same port when tls is non-NULL (borrowed for the call). */
COF_MUST_CHECK cof_err srv_http_start(struct srv_ctx *ctx, int listen_fd, unsigned threads,
                                      const struct cry_tls_identity *tls, struct srv_http **out);
/* Stops accepting, waits up to grace_ms for requests in flight, then stops. Accepts NULL. */
void srv_http_stop(struct srv_http *h, unsigned grace_ms);

#endif

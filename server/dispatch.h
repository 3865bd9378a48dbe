/* SPDX-License-Identifier: Apache-2.0 */
/* Operation dispatch, called by server/http.c along a request's life: begin once the headers
 * are in, body for each piece of a streamed body, finish once the body is complete, cleanup at
 * completion. Each returns COF_OK or the error the transport answers (srv_reply_failure). */
#ifndef SRV_DISPATCH_H
#define SRV_DISPATCH_H

#include <stddef.h>

#include "common/err.h"
#include "ops/req.h"

struct srv_auth;

/* The request front, without I/O: splits the target into path and query, parses the
 * credentials (Authorization header or presigned query) into *auth, sets req->region, and
 * finds the request's row of the operation table (req->route, req->op). Called by
 * srv_dispatch_begin; the fuzz target of the front (tests/fuzz/fuzz_front.c) calls it alone. */
COF_MUST_CHECK cof_err srv_dispatch_parse(struct srv_req *req, struct srv_auth *auth);
/* Routes the request (its row of the operation table), authenticates it, applies bucket
 * policies and sets up how its body is received. */
COF_MUST_CHECK cof_err srv_dispatch_begin(struct srv_req *req);
/* One piece of a SRV_BODY_STREAM body. */
COF_MUST_CHECK cof_err srv_dispatch_body(struct srv_req *req, const char *data, size_t n);
/* Runs the operation once the whole body is in (req->body_err may hold a receive error). */
COF_MUST_CHECK cof_err srv_dispatch_finish(struct srv_req *req);
/* Releases operation state at request completion (e.g. aborts an unfinished blob). */
void srv_dispatch_cleanup(struct srv_req *req);

#endif

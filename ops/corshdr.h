/* SPDX-License-Identifier: Apache-2.0 */
/* The CORS headers of every request that carries an Origin, and what the OPTIONS preflights
 * (ops/cors.c) share with them. */
#ifndef OPS_CORSHDR_H
#define OPS_CORSHDR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "ops/req.h"
#include "s3/cors.h"

/* The CORS headers added to every request that carries an Origin, called once routing is done
 * (internal: a LocalStack endpoint). It may answer by itself, e.g. LocalStack's bare 403 for a
 * refused origin, and then returns non-OK. */
COF_MUST_CHECK cof_err ops_cors_begin(struct srv_req *req, bool internal);
/* The bucket's rules: c->n == 0 when the request names no bucket, the bucket does not exist
 * (*out_exists false) or it has no CORS configuration. COF_ERR_INTERNAL when the stored rules
 * no longer parse. */
COF_MUST_CHECK cof_err ops_cors_load_rules(struct srv_req *req, struct srv_cors_config *c,
                                           bool *out_exists);
/* srv_cors_* header callback: adds name: value to the response of the request arg. */
void ops_cors_emit_header(void *arg, const char *name, const char *value);
/* Whether the server runs the localstack profile. */
bool ops_cors_localstack(const struct srv_req *req);
/* LocalStack's default CORS settings, from the configuration. */
void ops_cors_defaults_of(const struct srv_req *req, struct srv_cors_defaults *d);
/* Adds LocalStack's default headers for origin, unless DISABLE_CORS_HEADERS. */
COF_MUST_CHECK cof_err ops_cors_add_defaults(struct srv_req *req, const struct srv_cors_defaults *d,
                                             const char *origin);
/* LocalStack's gateway CORS: a refused origin gets a bare 403 (COF_ERR_ACCESS_DENIED after the
 * reply); a preflight is answered 204. */
COF_MUST_CHECK cof_err ops_cors_gateway(struct srv_req *req, const char *origin, bool preflight);

#endif

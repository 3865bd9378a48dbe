/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Query protocol requests (STS): their parameters, from the form body and the query
 * string, and their XML answers. For the Query protocol handlers; no handler lives here. */
#ifndef OPS_QUERY_H
#define OPS_QUERY_H

#include "common/err.h"
#include "ops/req.h"

/* The cap of a buffered Query protocol body: the longest query string coffer parses. */
#define OPS_MAX_QUERY_BODY SRV_QUERY_MAX_LEN

struct srv_xml;

/* Parses the buffered body into req->form once (a form, or the body of a request routed for
 * the Action in its body: any other body is no parameters). An over-cap body answers 413
 * RequestEntityTooLarge; a body that is not a form (a bad escape, a NUL) 400 MalformedQueryString.
 * Returns that recorded failure. */
COF_MUST_CHECK cof_err ops_query_parse_form(struct srv_req *req);
/* A parameter: the form body's, else the query string's; NULL when absent. Borrowed until the
 * request ends. ops_query_parse_form must have succeeded. */
const char *ops_query_param(const struct srv_req *req, const char *name);

/* A Query protocol answer: <ACTIONResponse xmlns=OPS_STS_XMLNS><ACTIONResult> opened, for the
 * caller to fill, then ops_query_reply closes it with ResponseMetadata and sends it. */
COF_MUST_CHECK cof_err ops_query_begin(const char *action, struct srv_xml **out);
/* Closes the result, adds the request id, sends 200 (frees x in every case). */
COF_MUST_CHECK cof_err ops_query_reply(struct srv_req *req, struct srv_xml *x);

#endif

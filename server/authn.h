/* SPDX-License-Identifier: Apache-2.0 */
/* Request authentication (when signatures are checked): verifies the credentials srv_auth_parse
 * found against the configured secrets, with the clock passed in, so that tests replay
 * recorded requests at their own date. */
#ifndef SRV_AUTHN_H
#define SRV_AUTHN_H

#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"
#include "s3/auth.h"

/* Checks a's signature for req at time now (Unix seconds): SigV4 header (x-amz-date within 15
 * minutes), presigned query (expiry, 7-day cap), SigV2 header or query. Prepares the
 * per-chunk verification of a signed aws-chunked body (req->chunk_auth) and the payload hash
 * check (req->body_sha). COF_ERR_ACCESS_DENIED (anonymous, bad date), COF_ERR_INVALID_ACCESS_KEY,
 * COF_ERR_SIGNATURE_MISMATCH, COF_ERR_EXPIRED, COF_ERR_TIME_SKEWED, COF_ERR_QUERY_AUTH,
 * COF_ERR_INVALID_REQUEST (recorded with AWS's message), COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_authn_check(struct srv_req *req, const struct srv_auth *a, int64_t now);
/* Same, for a body already buffered whose SHA-256 (lower-case hex) the caller computed: the
 * signature covers it although the request sent no x-amz-content-sha256 (JSON and Query
 * protocol services). Temporary credentials (an ASIA key with a session token) are verified
 * in both: COF_ERR_TOKEN_INVALID / COF_ERR_TOKEN_EXPIRED (recorded in the service's words for
 * JSON/Query rows), and req->session is set when the token opened. */
COF_MUST_CHECK cof_err srv_authn_check_payload(struct srv_req *req, const struct srv_auth *a,
                                               int64_t now, const char *body_sha);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 2 for S3 (legacy clients: s3cmd, boto's "s3" signer): HMAC-SHA1 over
 * verb, Content-MD5, Content-Type, Date (or Expires), x-amz-* headers and the canonicalized
 * resource. Pure computation; the caller checks dates. */
#ifndef SRV_SIGV2_H
#define SRV_SIGV2_H

#include <stdbool.h>

#include "common/err.h"
#include "s3/headers.h"
#include "s3/uri.h"

struct srv_sigv2_in {
    const char *method;
    const char *resource_path; /* "/bucket/key" as sent (percent-encoded), bucket-first */
    const struct srv_query *query;
    const struct srv_hdr_view *hdrs;
    const char *date; /* Date header (or "" when x-amz-date is sent), or Expires */
    /* Presigned: x-amz-* query parameters were headers when the URL was signed (e.g.
     * x-amz-security-token), so they are signed as headers. */
    bool query_amz;
};

/* The base64 signature (28 chars + NUL). */
COF_MUST_CHECK cof_err srv_sigv2_sign(const struct srv_sigv2_in *in, const char *secret,
                                      char out[32]);
/* COF_OK or COF_ERR_SIGNATURE_MISMATCH (constant-time comparison). */
COF_MUST_CHECK cof_err srv_sigv2_verify(const struct srv_sigv2_in *in, const char *secret,
                                        const char *signature);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Parses the credentials a request carries (SigV4 or SigV2 Authorization header, or presigned
 * query parameters) far enough to know the access key and the region. Signature verification
 * is a separate step (not in this module). No I/O. */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H

#include <stdbool.h>

#include "common/err.h"
#include "s3/uri.h"

enum srv_auth_kind { SRV_AUTH_NONE = 0, SRV_AUTH_V4, SRV_AUTH_V2 };

struct srv_auth {
    enum srv_auth_kind kind;
    bool presigned; /* credentials in the query string */
    char access_key[129];
    char region[64]; /* empty for SigV2 / anonymous */
    char date[9];    /* credential scope date YYYYMMDD (SigV4) */
    char service[32];
    char signed_headers[1024];
    char signature[129];
    char amz_date[17]; /* presigned: X-Amz-Date */
    long long expires; /* presigned: X-Amz-Expires, -1 if absent */
};

/* authz: Authorization header or NULL; q: the query (for presigned X-Amz-Credential /
 * AWSAccessKeyId). COF_ERR_AUTH_MALFORMED when a header or credential is present but malformed. */
COF_MUST_CHECK cof_err srv_auth_parse(const char *authz, const struct srv_query *q,
                                      struct srv_auth *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What the listings share: parameters of ListObjects(V2) and ListObjectVersions, key elements,
 * the owner. */
#ifndef OPS_LISTPARAMS_H
#define OPS_LISTPARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"

/* Owner id/name used in listings (LocalStack's default canonical user). */
#define SRV_OWNER_ID   "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
#define SRV_OWNER_NAME "webfile"

/* The parameters ListObjects(V2) and ListObjectVersions share. */
struct ops_list_params {
    size_t max;         /* max-keys, default and cap 1000 */
    bool url;           /* encoding-type=url */
    const char *prefix; /* "" when absent */
    const char *delim;  /* NULL when absent or empty */
};
/* Checks the bucket exists and reads the shared listing parameters; fails with AWS's message itself
 * (srv_fail) (NoSuchBucket, InvalidArgument) on failure. */
COF_MUST_CHECK cof_err ops_list_params(struct srv_req *req, struct ops_list_params *out);
/* A key-like listing element, URL-encoded when the client asked for encoding-type=url. As with
 * the srv_xml_* writers, the element's own errors are kept in x and reported by srv_xml_finish;
 * only running out of memory while URL-encoding is returned alone. */
struct srv_xml;
cof_err ops_xml_key(struct srv_xml *x, const char *name, const char *value, bool url);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What ListObjects(V2) and ListObjectVersions share: the bucket check, max-keys, encoding-type,
 * prefix and delimiter, and URL-encoded key elements. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/listparams.h"

#include "common/buf.h"
#include "s3/uri.h"
#include "s3/xml.h"
#include "storage/meta.h"

#define LIST_MAX_KEYS 1000

cof_err ops_xml_key(struct srv_xml *x, const char *name, const char *value, bool url)
{
    if (!url)
        return srv_xml_elem(x, name, value);
    struct cof_buf b;
    cof_buf_init(&b, 16 * 1024);
    cof_err err = srv_uri_encode(value, true, &b);
    if (err == COF_OK)
        err = srv_xml_elem(x, name, b.data != NULL ? b.data : "");
    cof_buf_cleanup(&b);
    return err;
}

static cof_err parse_max_keys(struct srv_req *req, size_t *out)
{
    const char *mk = srv_query_get(&req->query, "max-keys");
    *out = LIST_MAX_KEYS;
    if (mk == NULL)
        return COF_OK;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(mk, &end, 10);
    if (end == mk || *end != '\0' || errno != 0 || v < 0) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                             "Provided max-keys not an integer or within integer range",
                             "ArgumentName", "max-keys");
    }
    *out = v > LIST_MAX_KEYS ? LIST_MAX_KEYS : (size_t)v;
    return COF_OK;
}

cof_err ops_list_params(struct srv_req *req, struct ops_list_params *out)
{
    const struct srv_query *q = &req->query;
    memset(out, 0, sizeof(*out));
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    err = parse_max_keys(req, &out->max);
    if (err != COF_OK)
        return err;
    const char *enc = srv_query_get(q, "encoding-type");
    if (enc != NULL && strcmp(enc, "url") != 0) {
        return srv_fail_elem(req, COF_ERR_INVALID_ARGUMENT,
                             "Invalid Encoding Method specified in Request", "ArgumentName",
                             "encoding-type");
    }
    out->url = enc != NULL;
    out->prefix = srv_query_get(q, "prefix") != NULL ? srv_query_get(q, "prefix") : "";
    out->delim = srv_query_get(q, "delimiter");
    if (out->delim != NULL && out->delim[0] == '\0')
        out->delim = NULL;
    return COF_OK;
}

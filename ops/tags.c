/* SPDX-License-Identifier: Apache-2.0 */
/* The x-amz-tagging helpers PutObject, CreateMultipartUpload, CopyObject and POST Object use,
 * and the object row a tagging request addresses. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/tags.h"

#include "ops/versions.h"
#include "s3/tagging.h"
#include "storage/meta.h"

cof_err ops_tagging_header(struct srv_req *req, char **out_canon)
{
    const char *hdr = srv_req_header(req, "x-amz-tagging");
    /* Presigners (the JavaScript SDK's, for one) hoist x-amz-* headers into the query string,
     * and S3 applies a hoisted x-amz-tagging as if it were the header. */
    if (hdr == NULL)
        hdr = srv_query_get(&req->query, "x-amz-tagging");
    struct srv_tagset t = {NULL, 0};
    struct srv_problem prob;
    *out_canon = NULL;
    if (hdr == NULL)
        return COF_OK;
    cof_err err = srv_tagging_parse_header(hdr, &t, &prob);
    if (err != COF_OK)
        return srv_fail_problem(req, &prob);
    err = srv_tagset_encode(&t, out_canon);
    srv_tagset_cleanup(&t);
    return err;
}

cof_err ops_set_tagging_line(char **block, const char *canon)
{
    char *out = NULL;
    cof_err err = srv_tagging_set_in_block(*block, canon, &out);
    if (err == COF_OK) {
        free(*block);
        *block = out;
    }
    return err;
}

cof_err ops_object_version(struct srv_req *req, const char *bucket, const char *key,
                           const char *version_id, struct sto_object *out)
{
    if (version_id != NULL && !ops_version_id_valid(version_id)) {
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT, "Invalid version id specified",
                            "versionId", version_id);
    }
    cof_err err = sto_meta_get_version(req->ctx->obj.meta, bucket, key, version_id, out);
    if (err == COF_ERR_NO_BUCKET) {
        err = srv_fail_elem(req, err, NULL, "BucketName", bucket);
    } else if (err == COF_ERR_NO_OBJECT && version_id != NULL) {
        err = COF_ERR_NO_SUCH_VERSION;
        err = srv_fail_elem2(req, err, NULL, "Key", key, "VersionId", version_id);
    } else if (err == COF_ERR_NO_OBJECT) {
        err = srv_fail_elem(req, err, NULL, "Key", key);
    } else if (err == COF_OK && out->delete_marker) {
        /* A delete marker has no tags: 404 as the current version, 405 by version id. */
        srv_resp_add(req, "x-amz-delete-marker", "true");
        srv_resp_add(req, "x-amz-version-id", out->version_id);
        err = version_id != NULL ? COF_ERR_METHOD_NOT_ALLOWED : COF_ERR_NO_OBJECT;
        err = srv_fail_elem(req, err, NULL, version_id != NULL ? NULL : "Key", key);
        sto_object_cleanup(out);
    }
    return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* What handlers share about the bucket a request names: that it exists, and removing one of its
 * configuration documents (Delete<Name>Configuration). */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/bucketcfg.h"

#include "storage/meta.h"

cof_err ops_bucket_must_exist(struct srv_req *req, const char *bucket)
{
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        err = srv_fail_elem(req, err, NULL, "BucketName", bucket);
    return err;
}

cof_err ops_delete_bucket_config(struct srv_req *req, const char *name)
{
    cof_err err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket, name, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK && err != COF_ERR_NOT_FOUND)
        return err;
    return srv_reply(req, 204, NULL, "", 0);
}

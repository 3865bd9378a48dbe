/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteObject's semantics, shared by DeleteObject and DeleteObjects: remove a version, the
 * object, or add a delete marker. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/delete.h"

#include "common/clock.h"
#include "object/gc.h"
#include "ops/objlock.h"
#include "ops/versions.h"
#include "storage/meta.h"

cof_err ops_delete_version(struct srv_req *req, const char *bucket, const char *key,
                           const char *version_id, struct ops_deleted *out)
{
    char *removed = NULL;
    enum ops_versioning st = OPS_UNVERSIONED;
    memset(out, 0, sizeof(*out));
    cof_err err = COF_OK;
    if (version_id != NULL) {
        /* A version id deletes that version for good; deleting a missing one succeeds. Storage
         * refuses a version under Object Lock (GOVERNANCE gives way to an allowed bypass). */
        err = sto_meta_delete_version_lock(req->ctx->obj.meta, bucket, key, version_id,
                                           cof_now_ms(), ops_lock_bypass(req, key), &out->marker);
        if (err == COF_OK || err == COF_ERR_NO_OBJECT)
            snprintf(out->version_id, sizeof(out->version_id), "%s", version_id);
        if (err == COF_OK)
            (void)obj_gc_drain(&req->ctx->obj);
        return err == COF_ERR_NO_OBJECT ? COF_OK : err;
    }
    err = ops_versioning_get(req, bucket, &st);
    if (err != COF_OK)
        return err;
    if (st == OPS_UNVERSIONED) {
        err = sto_meta_delete_object(req->ctx->obj.meta, bucket, key, &removed);
        if (removed != NULL) {
            obj_blob_discard(&req->ctx->obj, req->rid, removed, true);
            free(removed);
        }
        obj_gc_if_needed(&req->ctx->obj);
        return err == COF_ERR_NO_OBJECT ? COF_OK : err;
    }
    /* Versioned: a delete marker becomes the current version (the null one when suspended,
     * replacing the null version as S3 does). */
    struct sto_object m = {0};
    m.bucket = strdup(bucket);
    m.key = strdup(key);
    m.mtime_ms = cof_now_ms();
    m.delete_marker = true;
    err = m.bucket != NULL && m.key != NULL ? ops_version_new(st, &m.version_id) : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = sto_meta_put_object(req->ctx->obj.meta, &m, &removed);
    if (err == COF_OK) {
        out->marker = true;
        snprintf(out->version_id, sizeof(out->version_id), "%s", m.version_id);
    }
    if (removed != NULL) {
        obj_blob_discard(&req->ctx->obj, req->rid, removed, true);
        free(removed);
    }
    sto_object_cleanup(&m);
    obj_gc_if_needed(&req->ctx->obj);
    return err;
}

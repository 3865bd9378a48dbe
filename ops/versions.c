/* SPDX-License-Identifier: Apache-2.0 */
/* Version ids: the bucket's versioning state, the id a new write gets, which strings can be
 * version ids, x-amz-version-id. The version rules themselves (which row a write replaces or
 * demotes) live in storage. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/versions.h"

#include "crypto/key.h"
#include "storage/meta.h"

#define VERSION_ID_LEN 32

/* Version ids are 32 characters of this URL-safe alphabet, as opaque as AWS's. */
static const char id_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

cof_err ops_versioning_get(struct srv_req *req, const char *bucket, enum ops_versioning *out)
{
    char *v = NULL;
    *out = OPS_UNVERSIONED;
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, bucket, OPS_VERSIONING_CONFIG, &v);
    if (err == COF_ERR_NOT_FOUND || err == COF_ERR_NO_BUCKET)
        return COF_OK;
    if (err != COF_OK)
        return err;
    if (strcmp(v, "Enabled") == 0)
        *out = OPS_VERSIONING_ENABLED;
    else if (strcmp(v, "Suspended") == 0)
        *out = OPS_VERSIONING_SUSPENDED;
    free(v);
    return COF_OK;
}

cof_err ops_version_new(enum ops_versioning st, char **out)
{
    *out = NULL;
    if (st != OPS_VERSIONING_ENABLED) {
        *out = strdup("null");
        return *out != NULL ? COF_OK : COF_ERR_NOMEM;
    }
    uint8_t r[VERSION_ID_LEN];
    char *id = malloc(VERSION_ID_LEN + 1);
    if (id == NULL)
        return COF_ERR_NOMEM;
    cof_err err = cry_random(r, sizeof(r));
    if (err != COF_OK) {
        free(id);
        return err;
    }
    /* 64 symbols: each byte's low 6 bits pick one uniformly. */
    for (size_t i = 0; i < VERSION_ID_LEN; i++)
        id[i] = id_alphabet[r[i] & 63];
    id[VERSION_ID_LEN] = '\0';
    *out = id;
    return COF_OK;
}

/* coffer issues 32-character ids; AWS's are opaque base64-like strings. Anything shaped like
 * one is a version id (unknown ones are NoSuchVersion); short or odd strings are not. */
bool ops_version_id_valid(const char *v)
{
    static const char allowed[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+/=";
    size_t n = strlen(v);
    if (strcmp(v, "null") == 0)
        return true;
    return n >= 16 && n <= 1024 && strspn(v, allowed) == n;
}

void ops_add_version_header(struct srv_req *req, enum ops_versioning st, const char *vid)
{
    if (vid == NULL)
        vid = "null";
    if (st != OPS_UNVERSIONED || strcmp(vid, "null") != 0)
        srv_resp_add(req, "x-amz-version-id", vid);
}

void ops_add_write_version_header(struct srv_req *req, enum ops_versioning st, const char *vid)
{
    if (st == OPS_VERSIONING_ENABLED && vid != NULL)
        srv_resp_add(req, "x-amz-version-id", vid);
}

cof_err ops_request_version(struct srv_req *req, const char **out)
{
    const char *v = srv_query_get(&req->query, "versionId");
    *out = NULL;
    if (v == NULL)
        return COF_OK;
    if (!ops_version_id_valid(v)) {
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT, "Invalid version id specified",
                            "versionId", v);
    }
    *out = v;
    return COF_OK;
}

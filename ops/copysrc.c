/* SPDX-License-Identifier: Apache-2.0 */
/* x-amz-copy-source, as CopyObject, UploadPartCopy and the policy check read it. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ops/copysrc.h"

#include "ops/versions.h"
#include "s3/uri.h"

/* x-amz-copy-source: "[/]bucket/key[?versionId=v]", URL-encoded. */
cof_err ops_parse_copy_source(const char *src, char **out_bucket, char **out_key,
                              char **out_version)
{
    const char *p = src[0] == '/' ? src + 1 : src;
    const char *q = strstr(p, "?versionId=");
    size_t n = q != NULL ? (size_t)(q - p) : strlen(p);
    char *dec = NULL;
    size_t dlen = 0;
    *out_version = NULL;
    if (q != NULL) {
        if (!ops_version_id_valid(q + 11))
            return COF_ERR_BAD_COPY_SOURCE;
        *out_version = strdup(q + 11);
        if (*out_version == NULL)
            return COF_ERR_NOMEM;
    }
    if (srv_uri_decode_path(p, n, &dec, &dlen) != COF_OK)
        return COF_ERR_BAD_COPY_SOURCE;
    char *slash = strchr(dec, '/');
    if (slash == NULL || slash == dec || slash[1] == '\0') {
        free(dec);
        return COF_ERR_BAD_COPY_SOURCE;
    }
    *slash = '\0';
    *out_bucket = strdup(dec);
    *out_key = strdup(slash + 1);
    free(dec);
    if (*out_bucket == NULL || *out_key == NULL)
        return COF_ERR_NOMEM;
    return COF_OK;
}

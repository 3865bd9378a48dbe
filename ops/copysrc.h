/* SPDX-License-Identifier: Apache-2.0 */
/* x-amz-copy-source. */
#ifndef OPS_COPYSRC_H
#define OPS_COPYSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"

/* x-amz-copy-source: "[/]bucket/key[?versionId=v]", URL-encoded; *out_version NULL when the
 * source names no version. */
COF_MUST_CHECK cof_err ops_parse_copy_source(const char *src, char **out_bucket, char **out_key,
                                             char **out_version);

#endif

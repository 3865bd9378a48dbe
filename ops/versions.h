/* SPDX-License-Identifier: Apache-2.0 */
/* Version ids: the bucket's versioning state, the id a new write (or delete marker) gets, which
 * strings can be version ids, and x-amz-version-id. */
#ifndef OPS_VERSIONS_H
#define OPS_VERSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"

/* The bucket config document holding the versioning state ("Enabled", "Suspended"). */
#define OPS_VERSIONING_CONFIG "versioning"

enum ops_versioning { OPS_UNVERSIONED, OPS_VERSIONING_ENABLED, OPS_VERSIONING_SUSPENDED };
/* The bucket's state; a missing bucket reads as unversioned (the caller reports it). */
COF_MUST_CHECK cof_err ops_versioning_get(struct srv_req *req, const char *bucket,
                                          enum ops_versioning *out);
/* The version id a new write (or delete marker) gets: a fresh id when enabled, else "null".
 * *out malloc'd. */
COF_MUST_CHECK cof_err ops_version_new(enum ops_versioning st, char **out);
/* Whether v can be a version id ("null", or shaped like one); others are InvalidArgument. */
bool ops_version_id_valid(const char *v);
/* x-amz-version-id of an object version: sent when it has a real id or its bucket has a
 * versioning state. */
void ops_add_version_header(struct srv_req *req, enum ops_versioning st, const char *vid);
/* x-amz-version-id of a write (PUT, copy, POST, Complete): only while versioning is Enabled.
 * AWS sends none for the null version a Suspended bucket writes. */
void ops_add_write_version_header(struct srv_req *req, enum ops_versioning st, const char *vid);
/* The ?versionId of the request: NULL when absent; replies 400 InvalidArgument itself (and
 * returns that error) when it cannot be a version id. */
COF_MUST_CHECK cof_err ops_request_version(struct srv_req *req, const char **out);

#endif

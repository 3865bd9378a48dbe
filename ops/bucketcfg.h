/* SPDX-License-Identifier: Apache-2.0 */
/* What handlers share about the bucket a request names: that it exists, and removing one of
 * its configuration documents. */
#ifndef OPS_BUCKETCFG_H
#define OPS_BUCKETCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"

/* Fails with NoSuchBucket when the bucket is missing. */
COF_MUST_CHECK cof_err ops_bucket_must_exist(struct srv_req *req, const char *bucket);
/* Bucket owners. Every bucket belongs to the account whose principal created it. */
/* The bucket's owner account (12 digits) into account. COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err ops_bucket_owner(struct srv_req *req, const char *bucket, char account[13]);
/* The account of the request's principal (req->principal: arn:aws:iam::ACCOUNT:... or
 * arn:aws:sts::ACCOUNT:...), 000000000000 for anything else (anonymous requests). */
void ops_request_account(const struct srv_req *req, char account[13]);
/* The canonical user id and display name S3 shows for an account: LocalStack's for its default
 * account (SRV_OWNER_ID, "webfile"), a stable id derived from the account for the others (their
 * display name is the account id). display_name points into static storage or at account. */
void ops_canonical_user(const char *account, char id[65], const char **display_name);

/* Delete<Name>Configuration: removes the bucket's config document name and answers 204 (also
 * when there was none), NoSuchBucket when the bucket is missing. */
COF_MUST_CHECK cof_err ops_delete_bucket_config(struct srv_req *req, const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What the ACL operations, the write paths and bucket-policy enforcement share about a bucket's
 * access settings: its object ownership, public access block and ACL (bucket config documents),
 * an object's ACL (the "coffer-acl" line of its header block), the ACL a request asks for
 * (x-amz-acl, x-amz-grant-*), and whether ACLs grant a request its action. */
#ifndef OPS_ACCESS_H
#define OPS_ACCESS_H

#include <stdbool.h>

#include "common/err.h"
#include "ops/req.h"
#include "s3/acl.h"

/* Bucket config documents. Ownership: the ObjectOwnership name, or "none" once deleted (ACLs
 * then work as before 2023: ObjectWriter); absent is BucketOwnerEnforced. Public access block:
 * the PublicAccessBlockConfiguration document, or "none" once deleted; absent is the profile's
 * default (ops_bucket_pab). ACL: srv_acl_encode's form; absent is the owner's FULL_CONTROL. */
#define OPS_OWNERSHIP_CONFIG "ownershipControls"
#define OPS_PAB_CONFIG       "publicAccessBlock"
#define OPS_ACL_CONFIG       "acl"
#define OPS_CONFIG_DELETED   "none"
/* The stored header line of an object's ACL (absent: the bucket owner's FULL_CONTROL). */
#define OPS_ACL_LINE "coffer-acl"

/* The bucket's object ownership into *out; *out_set (may be NULL) false when no
 * OwnershipControls exist (absent: the default BucketOwnerEnforced; deleted: ObjectWriter).
 * COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err ops_bucket_ownership(struct srv_req *req, const char *bucket,
                                            enum srv_ownership *out, bool *out_set);

/* The bucket's public access block. *out_exists: whether GetPublicAccessBlock shows one (a
 * stored one, or the default of a bucket that never had one: all four flags on, AWS since April
 * 2023 and LocalStack alike). *out_enforced: whether it applies (the aws profile enforces the
 * default; the localstack profile, like LocalStack, only reports it, and enforces one the client
 * put). Either may be NULL. COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err ops_bucket_pab(struct srv_req *req, const char *bucket, struct srv_pab *out,
                                      bool *out_exists, bool *out_enforced);

/* The bucket's ACL into *out (allocated by the caller). COF_ERR_NO_BUCKET. */
COF_MUST_CHECK cof_err ops_bucket_acl(struct srv_req *req, const char *bucket, struct srv_acl *out);
/* The ACL of an object whose header block is headers, in a bucket whose owner's canonical id is
 * owner_id. COF_ERR_INTERNAL when the stored line does not decode (logged). */
COF_MUST_CHECK cof_err ops_object_acl(struct srv_req *req, const char *owner_id,
                                      const char *headers, struct srv_acl *out);

/* The ACL the request's headers ask for (x-amz-acl, or the x-amz-grant-* headers) for scope,
 * with owner_id owning it (bucket_owner_id: the bucket's owner, whom bucket-owner-read and
 * bucket-owner-full-control name); *out_present false when it names none. Fails with AWS's
 * error (srv_fail: InvalidArgument, InvalidRequest for both kinds at once, ...). */
COF_MUST_CHECK cof_err ops_acl_from_headers(struct srv_req *req, enum srv_acl_scope scope,
                                            const char *owner_id, const char *bucket_owner_id,
                                            struct srv_acl *out, bool *out_present);

/* Whether an ACL may be set on the bucket's resources now: with ACLs disabled
 * (BucketOwnerEnforced) only the owner's FULL_CONTROL (AccessControlListNotSupported); with a
 * public access block's BlockPublicAcls, no public grant (AccessDenied). Fails with AWS's
 * error. */
COF_MUST_CHECK cof_err ops_acl_settable(struct srv_req *req, const char *bucket,
                                        const struct srv_acl *acl);

/* For PutObject, CopyObject, CreateMultipartUpload and POST Object: checks the request's ACL
 * headers against the bucket (as ops_acl_settable) and gives the header line to store in
 * *out_line (malloc'd "coffer-acl" value), or NULL when the object gets the default (the bucket
 * owner's FULL_CONTROL). With ObjectWriter (and BucketOwnerPreferred without
 * bucket-owner-full-control) the writer's account owns the object, as in S3. */
COF_MUST_CHECK cof_err ops_acl_for_write(struct srv_req *req, const char *bucket, char **out_line);
/* Sets (line non-NULL) or removes the ACL line of a header block. Takes *block (replaced on
 * success, untouched on failure). */
COF_MUST_CHECK cof_err ops_set_acl_line(char **block, const char *line);

/* CreateBucket: x-amz-object-ownership and the ACL headers, checked before the bucket is
 * created (InvalidArgument, InvalidBucketAclWithObjectOwnership), then stored once it is. */
struct ops_bucket_access {
    bool ownership_set;
    enum srv_ownership ownership;
    char *acl_line; /* malloc'd, or NULL */
};
COF_MUST_CHECK cof_err ops_bucket_access_plan(struct srv_req *req, struct ops_bucket_access *out);
COF_MUST_CHECK cof_err ops_bucket_access_store(struct srv_req *req,
                                               const struct ops_bucket_access *a);
void ops_bucket_access_cleanup(struct ops_bucket_access *a);

/* Whether the bucket's or object's ACL grants req->principal (anonymous when req->anonymous)
 * the IAM action on bucket[/key], with the public access block's IgnorePublicAcls applied.
 * Never for an action ACLs do not cover, never while ACLs are disabled. */
bool ops_acl_allows(struct srv_req *req, const char *action, const char *bucket, const char *key);

#endif

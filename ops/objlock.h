/* SPDX-License-Identifier: Apache-2.0 */
/* S3 Object Lock on the request side: the bucket's configuration, the lock a new version gets
 * (x-amz-object-lock-* headers or the bucket default), the lock headers of HEAD/GET, and
 * x-amz-bypass-governance-retention. The rules that protect versions are storage's
 * (storage/object.h); the handlers of the lock operations are in ops/lock.c. */
#ifndef OPS_OBJLOCK_H
#define OPS_OBJLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"
#include "s3/objlock.h"
#include "storage/meta.h"

/* The bucket config document holding the Object Lock configuration (s3/objlock.h's stored
 * form). Its presence means Object Lock is enabled; it is never removed. */
#define OPS_LOCK_CONFIG "object-lock"
/* The stored line of an upload that carries its x-amz-object-lock-* headers to Complete:
 * "MODE UNTIL_MS HOLD" (numbers). Read only by Complete; the object's columns are the truth. */
#define OPS_LOCK_UPLOAD_LINE "coffer-object-lock"

/* The bucket's Object Lock configuration: out->enabled false when it has none (or the bucket
 * does not exist: the caller reports it). */
COF_MUST_CHECK cof_err ops_lock_config_get(struct srv_req *req, const char *bucket,
                                           struct srv_lock_config *out);
/* CreateBucket's x-amz-bucket-object-lock-enabled: true on the bucket just created: versioning
 * Enabled and Object Lock on. No header: nothing. */
COF_MUST_CHECK cof_err ops_lock_enable_on_create(struct srv_req *req);
/* Whether a write carries any x-amz-object-lock-* header (PutObject then needs Content-MD5 or a
 * checksum). */
bool ops_lock_headers_present(const struct srv_req *req);
/* The lock of a new version of bucket written by req (PutObject, CopyObject, POST Object): its
 * x-amz-object-lock-* headers, else the bucket's default retention as of now_ms. Fails with
 * AWS's answer (srv_fail): InvalidArgument for a bad header, InvalidRequest when the bucket has
 * no Object Lock. */
COF_MUST_CHECK cof_err ops_lock_for_write(struct srv_req *req, const char *bucket, int64_t now_ms,
                                          struct sto_lock *out);
/* CreateMultipartUpload: checks the headers as ops_lock_for_write and, when there are any,
 * appends OPS_LOCK_UPLOAD_LINE to the upload's stored headers (*headers replaced). */
COF_MUST_CHECK cof_err ops_lock_for_upload(struct srv_req *req, const char *bucket, char **headers);
/* CompleteMultipartUpload: the lock the upload asked for (its stored line), else the bucket's
 * default as of now_ms. */
COF_MUST_CHECK cof_err ops_lock_for_complete(struct srv_req *req, const char *bucket,
                                             const char *upload_headers, int64_t now_ms,
                                             struct sto_lock *out);
/* x-amz-object-lock-mode, -retain-until-date and -legal-hold of version o (HEAD, GET). */
void ops_lock_add_headers(struct srv_req *req, const struct sto_object *o);
/* Whether req asked to bypass GOVERNANCE retention (x-amz-bypass-governance-retention: true)
 * and the bucket policy lets its principal do s3:BypassGovernanceRetention on key. */
bool ops_lock_bypass(struct srv_req *req, const char *key);

#endif

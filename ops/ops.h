/* SPDX-License-Identifier: Apache-2.0 */
/* S3 operation handlers: the only code that combines storage/ and crypto/.
 * http.c calls ops_begin once the headers are in, ops_body for each piece of a streamed body,
 * and ops_finish once the body is complete. A handler either queues its own response (setting
 * req->responded through srv_reply*) or returns a cof_err that http.c turns into an S3 error. */
#ifndef SRV_OPS_H
#define SRV_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "server/http.h"

/* Caps on buffered (non-streamed) request bodies. */
#define SRV_MAX_OBJECT_SIZE (5ull * 1024 * 1024 * 1024) /* single PUT, as AWS */

/* Routes the request and validates what can be validated before the body; sets body_mode. */
cof_err ops_begin(struct srv_req *req);
/* One piece of a SRV_BODY_STREAM body. */
cof_err ops_body(struct srv_req *req, const char *data, size_t n);
/* Runs the operation once the whole body is in (req->body_err may hold a receive error). */
cof_err ops_finish(struct srv_req *req);
/* Releases operation state at request completion (e.g. aborts an unfinished blob). */
void ops_cleanup(struct srv_req *req);

/* Per-operation handlers (ops_bucket.c, ops_object.c, ops_list.c, ops_localstack.c). */
cof_err ops_list_buckets(struct srv_req *req);
cof_err ops_create_bucket(struct srv_req *req);
cof_err ops_head_bucket(struct srv_req *req);
cof_err ops_delete_bucket(struct srv_req *req);
cof_err ops_get_bucket_location(struct srv_req *req);
cof_err ops_put_bucket_encryption(struct srv_req *req);
cof_err ops_get_bucket_encryption(struct srv_req *req);
cof_err ops_delete_bucket_encryption(struct srv_req *req);
cof_err ops_list_objects(struct srv_req *req, int version);
/* The parameters ListObjects(V2) and ListObjectVersions share. */
struct ops_list_params {
    size_t max;         /* max-keys, default and cap 1000 */
    bool url;           /* encoding-type=url */
    const char *prefix; /* "" when absent */
    const char *delim;  /* NULL when absent or empty */
};
/* Checks the bucket exists and reads the shared listing parameters; replies itself (NoSuchBucket,
 * InvalidArgument) on failure. */
cof_err ops_list_params(struct srv_req *req, struct ops_list_params *out);
/* A key-like listing element, URL-encoded when the client asked for encoding-type=url. */
struct srv_xml;
cof_err ops_xml_key(struct srv_xml *x, const char *name, const char *value, bool url);
cof_err ops_delete_objects(struct srv_req *req);
cof_err ops_put_object_begin(struct srv_req *req);
cof_err ops_put_object_body(struct srv_req *req, const char *data, size_t n);
cof_err ops_put_object_finish(struct srv_req *req);
void ops_put_object_cleanup(struct srv_req *req);
cof_err ops_copy_object(struct srv_req *req);
cof_err ops_get_object(struct srv_req *req, int head);
cof_err ops_delete_object(struct srv_req *req);
cof_err ops_get_object_attributes(struct srv_req *req);
/* POST Object (ops_post.c): browser form uploads. */
cof_err ops_post_object_begin(struct srv_req *req);
cof_err ops_post_object_body(struct srv_req *req, const char *data, size_t n);
cof_err ops_post_object_finish(struct srv_req *req);
void ops_post_object_cleanup(struct srv_req *req);
cof_err ops_localstack(struct srv_req *req);
/* Answers a state-changing admin endpoint (a state reset) while admin_endpoints is off: 403
 * AccessDenied saying how to turn them on. */
cof_err ops_admin_disabled(struct srv_req *req);
cof_err ops_create_multipart(struct srv_req *req);
cof_err ops_upload_part_begin(struct srv_req *req);
cof_err ops_upload_part_finish(struct srv_req *req);
cof_err ops_upload_part_copy(struct srv_req *req);
cof_err ops_complete_multipart(struct srv_req *req);
cof_err ops_abort_multipart(struct srv_req *req);
cof_err ops_list_parts(struct srv_req *req);
cof_err ops_list_multipart_uploads(struct srv_req *req);
cof_err ops_put_bucket_versioning(struct srv_req *req);
cof_err ops_get_bucket_versioning(struct srv_req *req);
cof_err ops_list_object_versions(struct srv_req *req);
/* ops_tagging.c */
cof_err ops_put_object_tagging(struct srv_req *req);
cof_err ops_get_object_tagging(struct srv_req *req);
cof_err ops_delete_object_tagging(struct srv_req *req);
cof_err ops_put_bucket_tagging(struct srv_req *req);
cof_err ops_get_bucket_tagging(struct srv_req *req);
cof_err ops_delete_bucket_tagging(struct srv_req *req);
/* ops_cors.c: bucket CORS configuration, the OPTIONS preflights (S3 paths; LocalStack's own
 * endpoints), and the CORS headers added to every other request that carries an Origin
 * (ops_cors_begin, called once routing is done, internal: a LocalStack endpoint; it may answer
 * by itself, e.g. LocalStack's bare 403 for a refused origin, and then returns non-OK). */
cof_err ops_put_bucket_cors(struct srv_req *req);
cof_err ops_get_bucket_cors(struct srv_req *req);
cof_err ops_delete_bucket_cors(struct srv_req *req);
cof_err ops_cors_preflight(struct srv_req *req);
cof_err ops_cors_internal_preflight(struct srv_req *req);
cof_err ops_cors_begin(struct srv_req *req, bool internal);

/* Bucket policies (ops_policy.c). */
cof_err ops_put_bucket_policy(struct srv_req *req);
cof_err ops_get_bucket_policy(struct srv_req *req);
cof_err ops_delete_bucket_policy(struct srv_req *req);
cof_err ops_get_bucket_policy_status(struct srv_req *req);
/* The IAM action an operation is authorized as ("s3:GetObject"), or NULL when bucket policies
 * do not apply to it. Static string. */
const char *ops_policy_action(enum srv_op op);
/* Sets req->principal from the request's access key: the --principals mapping when signatures
 * are verified, else the account root (arn:aws:iam::000000000000:root). */
void ops_policy_set_principal(struct srv_req *req, const char *access_key);
/* After authentication and routing, before the operation runs: loads the bucket's policy into
 * req->policy and evaluates the operation's action (and, for copies, s3:GetObject on the
 * source). COF_ERR_ACCESS_DENIED when a policy denies it; COF_ERR_INTERNAL when the stored
 * policy no longer parses (fail closed). */
cof_err ops_policy_check(struct srv_req *req);
/* Whether req->policy lets req->principal do action on key of the request's bucket (key NULL:
 * the bucket). For operations that decide per key (DeleteObjects). */
bool ops_policy_allows(struct srv_req *req, const char *action, const char *key);
/* For operations that learn their key and condition keys late (POST Object): loads the
 * bucket's policy if ops_policy_check did not, then evaluates action on key.
 * COF_ERR_ACCESS_DENIED, COF_ERR_INTERNAL (stored policy no longer parses). */
cof_err ops_policy_check_action(struct srv_req *req, const char *action, const char *key);

/* Shared helpers (ops_common.c) */
/* Owner id/name used in listings (LocalStack's default canonical user). */
#define SRV_OWNER_ID   "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
#define SRV_OWNER_NAME "webfile"
/* Milliseconds since the Unix epoch. */
int64_t ops_now_ms(void);
/* Unlinks every blob queued for removal and dequeues it (after a reset, at start-up). */
cof_err ops_gc_drain(struct srv_ctx *ctx);
/* Drains the queue when the last change queued blobs beyond the one it returned (the parts of
 * a replaced or deleted multipart object). */
void ops_gc_if_needed(struct srv_ctx *ctx);
/* Unlinks a blob no row references any more; when queued, also dequeues it from the garbage
 * queue. Failures are logged and left for the next drain or fsck. */
void ops_blob_discard(struct srv_ctx *ctx, const char *rid, const char *blob_id, bool queued);
/* Stored header block line holding an SSE-KMS object's canonical encryption context. */
#define OPS_INTERNAL_CONTEXT "coffer-kms-context"
/* Copies the value of the stored header line `name` (case-sensitive) into out; false when the
 * block has no such line or it does not fit. */
bool ops_stored_value(const char *headers, const char *name, char *out, size_t n);
/* Finishes an S3 XML document and sends it with 200 (frees x in every case). */
struct srv_xml;
cof_err ops_reply_doc(struct srv_req *req, struct srv_xml *x);
/* Content-MD5 of a buffered body, when the client sent one: COF_ERR_INVALID_DIGEST (not base64
 * of 16 bytes), COF_ERR_BAD_DIGEST (mismatch). */
cof_err ops_check_body_md5(struct srv_req *req);
/* NoSuchBucket reply naming the bucket. */
cof_err ops_no_bucket(struct srv_req *req);
/* Delete<Name>Configuration: removes the bucket's config document name and answers 204 (also
 * when there was none), NoSuchBucket when the bucket is missing. */
cof_err ops_delete_bucket_config(struct srv_req *req, const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the S3 operation handlers (the handlers themselves are declared by
 * ops/table.h from the operation table). A handler either queues its response (srv_reply*) or
 * returns the cof_err of srv_fail*, which the dispatcher answers. */
#ifndef SRV_OPS_H
#define SRV_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "ops/req.h"
#include "ops/handlers.h"

/* The largest object body a single PUT takes (AWS: 5 GiB); streamed, never buffered. The caps
 * of buffered bodies are the rows' (ops/optable.def). */
#define SRV_MAX_OBJECT_SIZE (5ull * 1024 * 1024 * 1024)

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
/* The streamed-body functions of PutObject, shared by UploadPart and POST Object: one piece of
 * the body into req->put's writer; and releasing req->put (an unfinished blob is aborted). */
cof_err ops_put_object_body(struct srv_req *req, const char *data, size_t n);
void ops_put_object_cleanup(struct srv_req *req);
/* ops_cors.c: bucket CORS configuration, the OPTIONS preflights (S3 paths; LocalStack's own
 * endpoints), and the CORS headers added to every other request that carries an Origin
 * (ops_cors_begin, called once routing is done, internal: a LocalStack endpoint; it may answer
 * by itself, e.g. LocalStack's bare 403 for a refused origin, and then returns non-OK). */
cof_err ops_cors_begin(struct srv_req *req, bool internal);

/* Bucket policies (ops_policy.c). */
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

/* Owner id/name used in listings (LocalStack's default canonical user). */
#define SRV_OWNER_ID   "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
#define SRV_OWNER_NAME "webfile"
/* Content-MD5 of a buffered body, when the client sent one: COF_ERR_INVALID_DIGEST (not base64
 * of 16 bytes), COF_ERR_BAD_DIGEST (mismatch). */
cof_err ops_check_body_md5(struct srv_req *req);
/* Delete<Name>Configuration: removes the bucket's config document name and answers 204 (also
 * when there was none), NoSuchBucket when the bucket is missing. */
cof_err ops_delete_bucket_config(struct srv_req *req, const char *name);

#endif

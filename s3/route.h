/* SPDX-License-Identifier: Apache-2.0 */
/* Request target -> S3 operation: (method, Host, raw path, query) gives an enum srv_op plus the
 * decoded bucket and key. No I/O, no storage lookups; bucket existence and name validity (for
 * CreateBucket) are the operation's business. Thread-safe. */
#ifndef SRV_ROUTE_H
#define SRV_ROUTE_H

#include <stdbool.h>

#include "common/err.h"
#include "s3/uri.h"

#define SRV_MAX_KEY_LEN 1024u /* bytes of the decoded key; longer -> COF_ERR_KEY_TOO_LONG */

enum srv_op {
    SRV_OP_NONE = 0,
    SRV_OP_LIST_BUCKETS,
    SRV_OP_CREATE_BUCKET,
    SRV_OP_HEAD_BUCKET,
    SRV_OP_DELETE_BUCKET,
    SRV_OP_GET_BUCKET_LOCATION,
    SRV_OP_PUT_BUCKET_ENCRYPTION,
    SRV_OP_GET_BUCKET_ENCRYPTION,
    SRV_OP_DELETE_BUCKET_ENCRYPTION,
    SRV_OP_LIST_OBJECTS,
    SRV_OP_LIST_OBJECTS_V2,
    SRV_OP_DELETE_OBJECTS,
    SRV_OP_PUT_OBJECT,
    SRV_OP_COPY_OBJECT,
    SRV_OP_GET_OBJECT,
    SRV_OP_HEAD_OBJECT,
    SRV_OP_DELETE_OBJECT,
    SRV_OP_LS_HEALTH,
    SRV_OP_LS_INFO,
    SRV_OP_LS_INIT,
    SRV_OP_LS_RESET,
    SRV_OP_NOT_IMPLEMENTED, /* a real S3 operation coffer does not do yet */
    SRV_OP_METHOD_NOT_ALLOWED,
    SRV_OP_CREATE_MULTIPART,
    SRV_OP_UPLOAD_PART,
    SRV_OP_COMPLETE_MULTIPART,
    SRV_OP_ABORT_MULTIPART,
    SRV_OP_LIST_PARTS,
    SRV_OP_LIST_MULTIPART_UPLOADS,
    SRV_OP_UPLOAD_PART_COPY,
    SRV_OP_GET_OBJECT_ATTRIBUTES,
    SRV_OP_PUT_BUCKET_VERSIONING,
    SRV_OP_GET_BUCKET_VERSIONING,
    SRV_OP_LIST_OBJECT_VERSIONS,
    SRV_OP_PUT_OBJECT_TAGGING,
    SRV_OP_GET_OBJECT_TAGGING,
    SRV_OP_DELETE_OBJECT_TAGGING,
    SRV_OP_PUT_BUCKET_TAGGING,
    SRV_OP_GET_BUCKET_TAGGING,
    SRV_OP_DELETE_BUCKET_TAGGING,
    SRV_OP_PUT_BUCKET_POLICY,
    SRV_OP_GET_BUCKET_POLICY,
    SRV_OP_DELETE_BUCKET_POLICY,
    SRV_OP_GET_BUCKET_POLICY_STATUS,
    SRV_OP_PUT_BUCKET_CORS,
    SRV_OP_GET_BUCKET_CORS,
    SRV_OP_DELETE_BUCKET_CORS,
    SRV_OP_CORS_PREFLIGHT, /* OPTIONS on any S3 path: answered from the bucket's CORS rules */
    SRV_OP_LS_PREFLIGHT,   /* OPTIONS on a LocalStack endpoint: LocalStack's gateway CORS */
    SRV_OP_POST_OBJECT,    /* browser form upload: POST to the bucket, multipart/form-data */
    SRV_OP__COUNT
};

/* AWS operation name ("ListBuckets", "PutObject", ...; "NotImplemented", "MethodNotAllowed",
 * "LocalstackHealth" ... for the others). Static string; "Unknown" for out-of-range values. */
const char *srv_op_name(enum srv_op op);

struct srv_route {
    enum srv_op op;
    char *bucket;      /* decoded, owned; NULL for service-level and LocalStack endpoints */
    char *key;         /* decoded, owned; NULL for bucket-level; never "" */
    char *ls_stage;    /* SRV_OP_LS_INIT only: decoded, lower-cased stage, or NULL for /init */
    bool virtual_host; /* the bucket came from the Host header */
};

/* Frees the strings; r is zeroed (op SRV_OP_NONE). Accepts NULL. */
void srv_route_cleanup(struct srv_route *r);

/* Maps a request to an operation. method: as sent (case-sensitive, "GET"); host: the Host
 * header, may be NULL and may carry ":port"; raw_path: percent-encoded, starts with '/', no
 * query; q: the parsed query (may be NULL); has_copy_source: x-amz-copy-source is present.
 * Addressing: "<bucket>.s3.<anything>" and "<bucket>.localhost" are virtual-host style,
 * everything else (IPs, localhost, s3.<domain>) is path style. The key is decoded without
 * '+' -> space and must be valid UTF-8.
 * COF_ERR_INVALID: path not starting with '/', bad %-escape, NUL, empty bucket segment
 * ("//x"), key not valid UTF-8 (AWS: InvalidURI). COF_ERR_KEY_TOO_LONG: key over
 * SRV_MAX_KEY_LEN bytes. COF_ERR_NOMEM. An unknown method or subresource is not an error: it
 * yields SRV_OP_METHOD_NOT_ALLOWED / SRV_OP_NOT_IMPLEMENTED. On failure *out is zeroed. */
COF_MUST_CHECK cof_err srv_route_parse(const char *method, const char *host, const char *raw_path,
                                       const struct srv_query *q, bool has_copy_source,
                                       struct srv_route *out);

/* AWS bucket naming rules: 3..63 bytes of [a-z0-9.-], starting and ending with a letter or
 * digit, no "..", not an IPv4 address, no reserved prefix (xn--, sthree-, amzn-s3-demo-) or
 * suffix (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3). COF_ERR_BAD_BUCKET_NAME otherwise. */
COF_MUST_CHECK cof_err srv_bucket_name_check(const char *name);

#endif

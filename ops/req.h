/* SPDX-License-Identifier: Apache-2.0 */
/* The request as operations see it: the server context, struct srv_req (owned by server/http.c
 * from the first callback to completion), request headers, and the responses an operation
 * queues (common headers, S3 XML errors, streamed bodies) over libmicrohttpd. */
#ifndef OPS_REQ_H
#define OPS_REQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/config.h"
#include "object/ctx.h"
#include "s3/headers.h"
#include "ops/op.h"
#include "s3/route.h"
#include "s3/uri.h"

struct sto_meta;
struct sto_blobs;
struct srv_rootkeys;
struct MHD_Connection;
struct MHD_Response;
struct srv_http;
struct cry_digest;
struct srv_policy;
struct srv_problem;
struct obj_session;
struct srv_auth;

struct cof_hooks;

/* Server-wide state shared by every request (all members thread-safe or read-only). */
struct srv_ctx {
    const struct srv_config *cfg;
    struct obj_ctx obj;  /* metadata, blobs and root keyring (object/ctx.h) */
    atomic_bool s3_used; /* LocalStack health reports "available" until first S3 use */
    atomic_long active;  /* requests in flight */
    unsigned port;       /* the port actually served (LocalStack's default CORS origins) */
    int64_t start_ms;
    char session_id[37];
    /* init hook states for /_localstack/init; NULL: none */
    const struct cof_hooks *hooks;
};

#define SRV_MAX_RESP_HEADERS 48

struct srv_resp_header {
    char *name;
    char *value;
};

/* A failure recorded on a request: the error, AWS's message and up to two extra elements of
 * the S3 error document (e.g. BucketName, or ArgumentName/ArgumentValue). Strings owned. */
struct srv_failure {
    cof_err code; /* COF_OK: none recorded */
    char *message;
    unsigned status; /* COF_ERR_SERVICE: the HTTP status */
    char *code_text; /* COF_ERR_SERVICE: the service's error code ("NotFoundException") */
    char *name1, *value1, *name2, *value2;
};

struct ops_put;
struct ops_post;
struct srv_req;

/* Verification state of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body: each chunk's signature
 * chains on the previous one, starting from the request's. */
struct srv_chunk_auth {
    uint8_t key[32]; /* SigV4 signing key; wiped when the request ends */
    char amz_date[17];
    char scope[160];
    char prev[65];
    char pending[65]; /* signature of the chunk whose data is arriving */
    bool have_pending;
    bool trailer;           /* ...-PAYLOAD-TRAILER: the trailer carries x-amz-trailer-signature */
    struct cry_digest *sha; /* of that chunk's data */
};

/* Streamed response body: fill up to max bytes of the body at pos into buf. Returns the count
 * (> 0), 0 never, or -1 to abort the connection (an integrity failure mid-stream). */
typedef ssize_t (*srv_stream_fn)(void *cls, uint64_t pos, char *buf, size_t max);
typedef void (*srv_stream_free_fn)(void *cls);

/* One request; request-scoped memory hangs off it and is freed on completion. */
struct srv_req {
    struct srv_ctx *ctx;
    struct MHD_Connection *conn;
    char rid[17];   /* x-amz-request-id */
    char id2[45];   /* x-amz-id-2 */
    char *raw_uri;  /* request target as received */
    char *raw_path; /* part before '?' (raw, percent-encoded) */
    const char *method;
    bool is_head;
    bool tls;      /* arrived over TLS */
    char peer[48]; /* client IP address as text ("" when unknown); IPv4-mapped shown as IPv4 */
    char principal[256];  /* who bucket policies see (ops_policy.c) */
    bool anonymous;       /* unsigned while signatures are checked: only public grants apply */
    char access_key[129]; /* the access key id the credentials name ("": anonymous) */
    /* Temporary credentials whose session token verified (signatures checked), or NULL. The
     * request acts as session->arn. Wiped and freed at completion. */
    struct obj_session *session;
    /* SigV4 credentials to verify once the buffered body is in (a JSON/Query service signs
     * its body without x-amz-content-sha256), or NULL. Freed at completion. */
    struct srv_auth *deferred_auth;
    struct srv_policy *policy; /* the bucket's parsed policy, or NULL; freed by ops_cleanup */
    struct srv_query query;
    struct srv_query form; /* a Query protocol form body, once parsed (ops/query.h) */
    bool form_parsed;
    struct srv_route route;
    const struct srv_op *op; /* the request's row of the operation table (ops/table.h) */
    char *region;            /* from the credential scope, else the configured default */
    bool started;
    bool responded;
    /* request body */
    enum srv_body_mode body_mode;
    struct cof_buf body; /* SRV_BODY_BUFFER */
    cof_err body_err;    /* first error while receiving; answered at the end */
    uint64_t body_len;
    struct ops_put *put;   /* SRV_BODY_STREAM state (ops/write.h) */
    struct ops_post *post; /* POST Object state (ops_post.c) */
    /* When set, srv_req_header/srv_req_each_header read this instead of the HTTP headers.
     * Borrowed; must outlive the request (ops_post.c points it at its own state). */
    const struct srv_hdr_view *hdr_view;
    struct cry_digest *body_sha; /* SHA-256 of the raw body, when x-amz-content-sha256 is hex */
    struct srv_chunk_auth *chunk_auth; /* signed aws-chunked body being verified, or NULL */
    char want_sha[65];
    /* A response queued while the body was still arriving (an error found mid-stream) is held
     * here and sent once the body has been read: MHD would otherwise stop reading and close the
     * connection, and a client still sending would see a reset instead of the error. */
    bool in_body;
    struct MHD_Response *held;
    unsigned held_status;
    /* response headers gathered before the response is built */
    struct srv_resp_header hdrs[SRV_MAX_RESP_HEADERS];
    size_t n_hdrs;
    /* the first failure an operation recorded (srv_fail*); answered by the dispatcher */
    struct srv_failure fail;
    struct srv_hdr_view headers; /* srv_req_headers() */
};

/* Request header value (case-insensitive name) or NULL. Borrowed until the request ends. Reads
 * req->hdr_view instead when it is set. */
const char *srv_req_header(const struct srv_req *req, const char *name);
/* The HTTP header itself, even while a view is set. */
const char *srv_req_http_header(const struct srv_req *req, const char *name);
/* Calls cb for every request header (or every pair of req->hdr_view). */
void srv_req_each_header(const struct srv_req *req, srv_header_fn cb, void *arg);

/* Adds a response header (copied). Errors are logged; a header beyond the cap is dropped. */
void srv_resp_add(struct srv_req *req, const char *name, const char *value);

/* Queue the response. Each returns COF_OK or the failure to queue it (logged). */
/* Body (borrowed, copied by MHD) with Content-Type when ctype is non-NULL. */
COF_MUST_CHECK cof_err srv_reply(struct srv_req *req, unsigned status, const char *ctype,
                                 const void *body, size_t len);
/* S3 XML document (takes ownership of xml, which was malloc'd). */
COF_MUST_CHECK cof_err srv_reply_xml(struct srv_req *req, unsigned status, char *xml, size_t len);
/* The one way an operation fails: records e with AWS's message (NULL: the table's message) and
 * optional extra elements on the request, and returns e, so that a handler writes
 * `return srv_fail(req, COF_ERR_..., "...");`. The first failure recorded is the one answered
 * (by the dispatcher, once the handler returns); later ones are ignored, as a later reply
 * would be. Strings are copied. */
COF_MUST_CHECK cof_err srv_fail(struct srv_req *req, cof_err e, const char *message);
/* Same, with one extra element (skipped when name or value is NULL). */
COF_MUST_CHECK cof_err srv_fail_elem(struct srv_req *req, cof_err e, const char *message,
                                     const char *name, const char *value);
/* Same, with two extra elements (each pair skipped when its name or value is NULL). */
COF_MUST_CHECK cof_err srv_fail_elem2(struct srv_req *req, cof_err e, const char *message,
                                      const char *name1, const char *value1, const char *name2,
                                      const char *value2);
/* Same, with AWS's ArgumentName and ArgumentValue elements (value may be NULL). */
COF_MUST_CHECK cof_err srv_fail_arg(struct srv_req *req, cof_err e, const char *message,
                                    const char *arg_name, const char *arg_value);
/* Same, for a problem a pure protocol parser reported (s3/s3err.h): records p->code with its
 * message and elements when it carries any, and returns p->code. A bare code (a parser's
 * MalformedXML or NOMEM, no message, no element) is not recorded: the handler maps it, and
 * the dispatcher answers it with the table's message. */
COF_MUST_CHECK cof_err srv_fail_problem(struct srv_req *req, const struct srv_problem *p);
/* The one way a JSON or Query protocol operation (KMS, STS) fails with an error of its own
 * service: records status, the service's code ("NotFoundException", "InvalidAction") and
 * message, and returns COF_ERR_SERVICE. Other errors (srv_fail) are answered in the row's
 * protocol too, with the S3 table's code (a "KMS." prefix dropped). */
COF_MUST_CHECK cof_err srv_fail_service(struct srv_req *req, unsigned status, const char *code,
                                        const char *message);
/* Frees the recorded failure (request completion). */
void srv_failure_cleanup(struct srv_failure *f);
/* Queues the S3 error answer for e: the recorded failure when there is one, else e with the
 * table's message (NoSuchBucket / NoSuchKey name the request's bucket / key). For the
 * dispatcher and the transport; operations return srv_fail() instead. Not must-check: a
 * response that cannot be queued is logged, and the transport has no one else to tell. */
cof_err srv_reply_failure(struct srv_req *req, cof_err e);
/* The request's own headers as a view (what srv_req_header reads). Valid until the request
 * ends. */
const struct srv_hdr_view *srv_req_headers(struct srv_req *req);
/* Streamed body of exactly size bytes (content_length_only: HEAD, no body sent). Takes
 * ownership of cls (freed with free_fn when the response ends, even on failure). */
COF_MUST_CHECK cof_err srv_reply_stream(struct srv_req *req, unsigned status, uint64_t size,
                                        srv_stream_fn fn, void *cls, srv_stream_free_fn free_fn);

/* ---- replies of the services that share the port with S3, in their own protocols: AWS JSON
 * 1.1 (KMS: application/x-amz-json-1.1, errors {"__type", "message"}) and AWS Query (STS: XML
 * in the service's namespace, errors as <ErrorResponse>). */
/* The STS namespace of Query protocol documents. */
#define OPS_STS_XMLNS "https://sts.amazonaws.com/doc/2011-06-15/"

/* Sends a JSON 1.1 document (takes ownership of doc, which was malloc'd, e.g. by json_dumps;
 * NULL: COF_ERR_NOMEM) with x-amzn-RequestId. */
COF_MUST_CHECK cof_err ops_reply_json(struct srv_req *req, unsigned status, char *doc);
/* Sends a Query protocol XML document (takes ownership of xml, which was malloc'd). */
COF_MUST_CHECK cof_err ops_reply_query(struct srv_req *req, unsigned status, char *xml, size_t len);
/* Answers an error in the protocol of the request's row (OPF_JSON or OPF_QUERY): code is the
 * service's error code; an S3 table code's "KMS." prefix is dropped. For ops/req.c. */
cof_err ops_reply_service_error(struct srv_req *req, unsigned status, const char *code,
                                const char *message);

/* Finishes an S3 XML document and sends it with 200 (frees x in every case). */
struct srv_xml;
COF_MUST_CHECK cof_err ops_reply_doc(struct srv_req *req, struct srv_xml *x);
/* Fails with NoSuchBucket naming the request's bucket. */
COF_MUST_CHECK cof_err ops_no_bucket(struct srv_req *req);

#endif

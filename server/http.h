/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd glue: owns struct srv_req from the first callback to completion, feeds request
 * bodies to operations, and builds responses (common headers, S3 XML errors, streamed bodies).
 * The only file that drives libmicrohttpd. */
#ifndef SRV_HTTP_H
#define SRV_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"
#include "server/config.h"
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

/* Server-wide state shared by every request (all members thread-safe or read-only). */
struct srv_ctx {
    const struct srv_config *cfg;
    struct sto_meta *meta;
    struct sto_blobs *blobs;
    struct srv_rootkeys *kr; /* root keyring, reloaded after rotation */
    atomic_bool s3_used;     /* LocalStack health reports "available" until first S3 use */
    atomic_long active;      /* requests in flight */
    unsigned port;           /* the port actually served (LocalStack's default CORS origins) */
    int64_t start_ms;
    char session_id[37];
};

enum srv_body_mode { SRV_BODY_IGNORE = 0, SRV_BODY_BUFFER, SRV_BODY_STREAM };

#define SRV_MAX_RESP_HEADERS 48

struct srv_resp_header {
    char *name;
    char *value;
};

struct ops_put;
struct ops_post;
struct srv_req;

/* Calls cb for every request header. */
typedef void (*srv_header_fn)(void *arg, const char *name, const char *value);

/* Name/value pairs that stand in for the request headers (POST Object: the form fields carry
 * what PutObject takes from headers, so the shared write path reads them unchanged). get is
 * case-insensitive and returns NULL when absent. */
struct srv_hdr_view {
    const char *(*get)(void *arg, const char *name);
    void (*each)(void *arg, srv_header_fn cb, void *cb_arg);
    void *arg;
};

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
    char principal[256];       /* who bucket policies see (ops_policy.c) */
    struct srv_policy *policy; /* the bucket's parsed policy, or NULL; freed by ops_cleanup */
    struct srv_query query;
    struct srv_route route;
    char *region; /* from the credential scope, else the configured default */
    bool started;
    bool responded;
    /* request body */
    enum srv_body_mode body_mode;
    struct cof_buf body; /* SRV_BODY_BUFFER */
    cof_err body_err;    /* first error while receiving; answered at the end */
    uint64_t body_len;
    struct ops_put *put;   /* SRV_BODY_STREAM state (ops_object.c) */
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
};

/* Starts serving on the listening socket fd (owned from then on): plain HTTP, and TLS on the
 * same port when tls is non-NULL (borrowed for the call). */
struct cry_tls_identity;
COF_MUST_CHECK cof_err srv_http_start(struct srv_ctx *ctx, int listen_fd, unsigned threads,
                                      const struct cry_tls_identity *tls, struct srv_http **out);
/* Stops accepting, waits up to grace_ms for requests in flight, then stops. Accepts NULL. */
void srv_http_stop(struct srv_http *h, unsigned grace_ms);

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
cof_err srv_reply(struct srv_req *req, unsigned status, const char *ctype, const void *body,
                  size_t len);
/* S3 XML document (takes ownership of xml, which was malloc'd). */
cof_err srv_reply_xml(struct srv_req *req, unsigned status, char *xml, size_t len);
/* S3 error for e. message may be NULL (the table's message); extra_name/extra_value add one
 * more element (e.g. "Key", "BucketName") when non-NULL. HEAD errors carry no body. */
cof_err srv_reply_error(struct srv_req *req, cof_err e, const char *message, const char *extra_name,
                        const char *extra_value);
/* Same, with two extra elements (each pair skipped when its name or value is NULL). */
cof_err srv_reply_error2(struct srv_req *req, cof_err e, const char *message, const char *name1,
                         const char *value1, const char *name2, const char *value2);
/* Same, with AWS's ArgumentName and ArgumentValue elements (value may be NULL). */
cof_err srv_reply_error_arg(struct srv_req *req, cof_err e, const char *message,
                            const char *arg_name, const char *arg_value);
/* Streamed body of exactly size bytes (content_length_only: HEAD, no body sent). Takes
 * ownership of cls (freed with free_fn when the response ends, even on failure). */
cof_err srv_reply_stream(struct srv_req *req, unsigned status, uint64_t size, srv_stream_fn fn,
                         void *cls, srv_stream_free_fn free_fn);

#endif

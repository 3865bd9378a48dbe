/* SPDX-License-Identifier: Apache-2.0 */
/* What one operation is: a row of the operation table (ops/optable.def, ops/table.h). Types
 * only, so that the request (ops/req.h) can point at its row without depending on the table. */
#ifndef OPS_OP_H
#define OPS_OP_H

#include <stddef.h>

#include "common/err.h"
#include "s3/route.h"

struct srv_req;

/* How the body of a request is received. */
enum srv_body_mode { SRV_BODY_IGNORE = 0, SRV_BODY_BUFFER, SRV_BODY_STREAM };

/* Row flags. */
enum srv_op_flag {
    OPF_INTERNAL = 1 << 0,          /* an emulator endpoint: no signature, no policy, and not
                                     * "S3 in use" for LocalStack's health report */
    OPF_UNSIGNED = 1 << 1,          /* never signature-checked (preflight; POST Object signs
                                     * its form instead) */
    OPF_READS_COPY_SOURCE = 1 << 2, /* also needs s3:GetObject on x-amz-copy-source */
    OPF_IN_UPLOAD = 1 << 3,         /* acts on a multipart upload (policy condition keys) */
    OPF_POLICY_ADMIN = 1 << 4,      /* bucket-policy management: the account root may always */
    OPF_POLICY_PER_KEY = 1 << 5,    /* checked per key by the handler (DeleteObjects) */
    OPF_OWN_TOO_LARGE = 1 << 6,     /* answers an over-cap buffered body itself */
    OPF_OWN_BODY_ERRORS = 1 << 7,   /* answers every body error itself (POST Object) */
    OPF_REFUSED = 1 << 8,           /* a refusal (MethodNotAllowed, NotImplemented): answered
                                     * as soon as the headers are in, before any body */
    OPF_ADMIN = 1 << 9,             /* changes the server's state (LocalStack's resets): only
                                     * with admin_endpoints on, and signed whenever signatures
                                     * are checked, OPF_INTERNAL or not */
    OPF_JSON = 1 << 10,             /* an AWS JSON 1.1 service (KMS): errors are
                                     * {"__type", "message"} (ops/req.h) */
    OPF_QUERY = 1 << 11,            /* an AWS Query service (STS): errors are ErrorResponse XML */
};

/* The functions of a streamed body: begin (headers in: validate, set up; may switch
 * req->body_mode to SRV_BODY_IGNORE), body (each piece), cleanup (request completion, also
 * when the request failed). Any may be NULL. */
struct srv_op_stream {
    cof_err (*begin)(struct srv_req *req);
    cof_err (*body)(struct srv_req *req, const char *data, size_t n);
    void (*cleanup)(struct srv_req *req);
};
/* The empty stream of operations that take no streamed body. */
extern const struct srv_op_stream ops_no_stream;

/* One operation (one row of ops/optable.def). */
struct srv_op {
    const char *name; /* AWS's operation name */
    struct srv_op_match match;
    const char *action;         /* IAM action, or NULL: bucket policies do not apply */
    const char *version_action; /* with ?versionId; NULL: action */
    unsigned flags;             /* enum srv_op_flag bits */
    enum srv_body_mode body;
    size_t body_cap; /* SRV_BODY_BUFFER: the named cap of the buffered body */
    cof_err (*finish)(struct srv_req *req);
    const struct srv_op_stream *stream;
};

#endif

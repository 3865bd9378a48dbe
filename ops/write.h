/* SPDX-License-Identifier: Apache-2.0 */
/* The write side of objects: how a write is encrypted, stored headers from the request, the
 * streamed body, sealing and publishing. */
#ifndef OPS_WRITE_H
#define OPS_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ops/req.h"
#include "object/kms.h"
#include "object/objio.h"
#include "s3/checksum.h"
#include "s3/chunked.h"
#include "s3/sse.h"
#include "storage/meta.h"

/* How a write is encrypted, from its headers or the bucket's default. */
struct write_enc {
    struct srv_ssec ssec;    /* SSE-C */
    bool kms_used;           /* SSE-KMS */
    struct srv_kms_key kms;  /* with material */
    char *context;           /* SSE-KMS canonical encryption context (JSON), bound to the wrap */
    const char *context_hdr; /* the client's context header, echoed on the write */
    bool bucket_key;
    bool dsse; /* aws:kms:dsse asked for: same encryption here, echoed as asked */
};

struct ops_put {
    struct objio_writer *w;
    bool have_md5;
    uint8_t want_md5[CRY_MD5_LEN];
    struct write_enc enc;
    /* aws-chunked bodies */
    bool chunked;
    uint64_t decoded_len; /* x-amz-decoded-content-length */
    struct srv_chunked dec;
    /* x-amz-checksum-*: computed over the plaintext; verified when the client sent one */
    struct srv_cksum cksum;
    enum srv_cksum_alg cksum_alg;
    bool cksum_in_trailer;
    char cksum_want[SRV_CKSUM_B64_MAX]; /* from the header; "" when none or in the trailer */
    char cksum_got[SRV_CKSUM_B64_MAX];  /* filled by ops_body_verify */
    bool cksum_explicit;                /* the client named an algorithm */
};

/* The largest object body a single PUT takes (AWS: 5 GiB); streamed, never buffered. The caps
 * of buffered bodies are the rows' (ops/optable.def). */
#define SRV_MAX_OBJECT_SIZE (5ull * 1024 * 1024 * 1024)

/* Starts receiving a streamed body (PutObject, UploadPart): Content-Length rules, size cap,
 * Content-MD5, and an encrypting writer in req->put. */
COF_MUST_CHECK cof_err ops_stream_begin(struct srv_req *req);

/* How a streamed object body is framed, from the headers alone: Content-Length (or
 * Transfer-Encoding: chunked), aws-chunked (Content-Encoding or a STREAMING-* payload hash) with
 * x-amz-decoded-content-length, and the 5 GiB cap. *out_decoded is the body's size, or
 * OPS_SIZE_UNKNOWN (chunked transfer coding alone). COF_ERR_MISSING_LENGTH,
 * COF_ERR_INVALID_ARGUMENT or COF_ERR_ENTITY_TOO_LARGE. */
#define OPS_SIZE_UNKNOWN UINT64_MAX
COF_MUST_CHECK cof_err ops_body_framing(struct srv_req *req, bool *out_chunked,
                                        uint64_t *out_decoded);
/* The checksum plan of a write from x-amz-checksum-*, x-amz-trailer (only with p->chunked)
 * and x-amz-sdk-checksum-algorithm into p (cksum_alg, cksum_want, cksum_in_trailer,
 * cksum_explicit; CRC64NVME when none is named) and starts p->cksum (release it with
 * srv_cksum_cleanup). Fails with AWS's message itself (srv_fail) for a bad checksum header. */
COF_MUST_CHECK cof_err ops_plan_checksum(struct srv_req *req, struct ops_put *p);
/* Allocates req->put for a streamed object body: Content-MD5, the checksum plan (fails with AWS's
 * message itself (srv_fail) for a bad checksum header) and an encrypting writer. Reads
 * srv_req_header, so a header view (POST Object's form fields) is honoured. The caller plans
 * req->put->enc. */
COF_MUST_CHECK cof_err ops_put_start(struct srv_req *req, bool chunked);
/* Appends plaintext to req->put's writer: the 5 GiB cap, the checksum. */
COF_MUST_CHECK cof_err ops_put_write(struct srv_req *req, const char *data, size_t n);
/* After the body: verifies it (ops_body_verify), builds the stored headers, seals and publishes
 * the object at req->route.bucket/key (PutObject's publishing code), and adds the write's
 * response headers (ETag, SSE, checksum). *o is filled (clean it with sto_object_cleanup) but
 * nothing is sent. fails with AWS's message itself (srv_fail) for the errors that need AWS's
 * wording. */
COF_MUST_CHECK cof_err ops_put_commit(struct srv_req *req, struct sto_object *o);

/* AWS's answer to an x-amz-checksum-algorithm it does not know (400 InvalidRequest). */
#define OPS_MSG_BAD_CKSUM_ALG                                                                      \
    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "   \
    "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"

/* After the whole body: the aws-chunked stream must be complete and of the declared length, and
 * the checksum must match the one sent (header or trailer). fails with AWS's message itself
 * (srv_fail) on failure; fills p->cksum_got. */
COF_MUST_CHECK cof_err ops_body_verify(struct srv_req *req);

/* The streamed-body functions of PutObject, shared by UploadPart and POST Object: one piece of
 * the body into req->put's writer; and releasing req->put (an unfinished blob is aborted). */
COF_MUST_CHECK cof_err ops_put_object_body(struct srv_req *req, const char *data, size_t n);
void ops_put_object_cleanup(struct srv_req *req);

/* Frees what a write_enc holds (keys wiped). */
void ops_write_enc_cleanup(struct write_enc *e);
/* Decides how a write is encrypted (SSE-C / SSE-KMS headers, else the bucket default); replies
 * with AWS's error itself on failure. */
COF_MUST_CHECK cof_err ops_plan_write_enc(struct srv_req *req, struct write_enc *out);
/* The seal (wrapping key) for a planned write. */
void ops_seal_for(struct srv_req *req, const struct write_enc *e, struct objio_seal *seal);
/* Stored headers from the request (Content-Type & co, x-amz-meta-*). *out malloc'd. */
COF_MUST_CHECK cof_err ops_headers_from_request(struct srv_req *req, char **out);
/* Appends coffer's internal lines for e (KMS context, bucket key, dsse) to *block. */
COF_MUST_CHECK cof_err ops_add_internal(char **block, const struct write_enc *e);
/* Encryption response headers of a write. */
void ops_add_write_sse_headers(struct srv_req *req, const struct sto_object *o,
                               const struct write_enc *e);
/* Content-Length: *out_present, *out. COF_ERR_INVALID_ARGUMENT when malformed. */
COF_MUST_CHECK cof_err ops_parse_length(struct srv_req *req, uint64_t *out, bool *out_present);
/* The conditions of a write on its destination key (PutObject, CopyObject,
 * CompleteMultipartUpload): If-Match (an ETag, quotes optional, or *) and If-None-Match (only *;
 * anything else is AWS's 501 NotImplemented, replied here). pc points into etag_buf (cap bytes)
 * and the request's headers. */
COF_MUST_CHECK cof_err ops_write_precond(struct srv_req *req, struct sto_precond *pc,
                                         char *etag_buf, size_t cap);
/* Checks pc against the key's current version before the write's work (fail fast); replies as
 * ops_precond_fail(.., false) and NoSuchBucket. The check that counts is the one inside the
 * write's transaction. */
COF_MUST_CHECK cof_err ops_write_precheck(struct srv_req *req, const struct sto_precond *pc);
/* Answers a failed condition (err: COF_ERR_PRECONDITION or COF_ERR_NO_OBJECT from storage):
 * 412 PreconditionFailed naming the condition; for If-Match on a key without a live version,
 * 404 NoSuchKey, or at_commit (the pre-check had seen the object) 409
 * ConditionalRequestConflict: it was deleted while the write ran (AWS's answer then). Other
 * codes pass through. */
COF_MUST_CHECK cof_err ops_precond_fail(struct srv_req *req, cof_err err,
                                        const struct sto_precond *pc, bool at_commit);
/* Publishes a new object row and unlinks the blob it replaced; the request's If-Match /
 * If-None-Match are checked atomically with the publish (ops_precond_fail answers). The row
 * gets its Object Lock from the request (ops_lock_for_write); a locked version it would
 * replace in place is refused (COF_ERR_OBJECT_LOCKED). */
COF_MUST_CHECK cof_err ops_publish(struct srv_req *req, struct sto_object *o);
/* Finishes writer w into a new object row for the request's bucket/key (takes headers), with
 * the version id, ETag and checksum line (calg/cval; SRV_CKSUM_NONE: none, sealed for SSE-C and
 * SSE-KMS), and publishes it (ops_publish). o is filled. Does not reply. */
COF_MUST_CHECK cof_err ops_finish_object(struct srv_req *req, struct objio_writer *w, char *headers,
                                         const uint8_t *want_md5, const struct objio_seal *seal,
                                         enum srv_cksum_alg calg, const char *cval,
                                         struct sto_object *o);

#endif

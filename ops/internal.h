/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the object and multipart operations (ops_object.c, ops_multipart.c): how a
 * write is encrypted, how a read finds its keys, stored headers, publishing. Private to server/. */
#ifndef SRV_INTERNAL_H
#define SRV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "s3/checksum.h"
#include "s3/chunked.h"
#include "ops/req.h"
#include "object/kms.h"
#include "object/objio.h"
#include "s3/sse.h"
#include "s3/tagging.h"
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

/* Key material a read needs besides the root keyring. */
struct read_keys {
    struct srv_kms_key kms;
    char context[4096];
    struct objio_keys keys;
};

/* A growable list of parts. */
struct part_list {
    struct sto_part *v;
    size_t n, cap;
};
/* sto_part_fn that appends a copy of p to the struct part_list arg. */
cof_err collect_part(const struct sto_part *p, void *arg);
void part_list_cleanup(struct part_list *pl);

/* Starts receiving a streamed body (PutObject, UploadPart): Content-Length rules, size cap,
 * Content-MD5, and an encrypting writer in req->put. */
cof_err ops_stream_begin(struct srv_req *req);

/* Allocates req->put for a streamed object body: Content-MD5, the checksum plan (replies itself
 * for a bad checksum header) and an encrypting writer. Reads srv_req_header, so a header view
 * (POST Object's form fields) is honoured. The caller plans req->put->enc. */
cof_err ops_put_start(struct srv_req *req, bool chunked);
/* Appends plaintext to req->put's writer: the 5 GiB cap, the checksum. */
cof_err ops_put_write(struct srv_req *req, const char *data, size_t n);
/* After the body: verifies it (ops_body_verify), builds the stored headers, seals and publishes
 * the object at req->route.bucket/key (PutObject's publishing code), and adds the write's
 * response headers (ETag, SSE, checksum). *o is filled (clean it with sto_object_cleanup) but
 * nothing is sent. Replies itself for the errors that need AWS's wording. */
cof_err ops_put_commit(struct srv_req *req, struct sto_object *o);

/* AWS's answer to an x-amz-checksum-algorithm it does not know (400 InvalidRequest). */
#define OPS_MSG_BAD_CKSUM_ALG                                                                      \
    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "   \
    "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"

/* After the whole body: the aws-chunked stream must be complete and of the declared length, and
 * the checksum must match the one sent (header or trailer). Replies itself on failure; fills
 * p->cksum_got. */
cof_err ops_body_verify(struct srv_req *req);

/* If-Match/If-None-Match/If-Modified-Since/If-Unmodified-Since in RFC 7232 order; for_copy:
 * every failure is 412 (x-amz-copy-source-if-*), else 304 for the None-Match/Modified pair. */
cof_err ops_eval_conditions(const char *if_match, const char *if_none_match, const char *if_mod,
                            const char *if_unmod, const struct sto_object *o, bool for_copy);
/* x-amz-copy-source: "[/]bucket/key[?versionId=v]", URL-encoded; *out_version NULL when the
 * source names no version. */
cof_err ops_parse_copy_source(const char *src, char **out_bucket, char **out_key,
                              char **out_version);

/* Frees what a write_enc holds (keys wiped). */
void ops_write_enc_cleanup(struct write_enc *e);
/* Decides how a write is encrypted (SSE-C / SSE-KMS headers, else the bucket default); replies
 * with AWS's error itself on failure. */
cof_err ops_plan_write_enc(struct srv_req *req, struct write_enc *out);
/* The seal (wrapping key) for a planned write. */
void ops_seal_for(struct srv_req *req, const struct write_enc *e, struct objio_seal *seal);
/* Stored headers from the request (Content-Type & co, x-amz-meta-*). *out malloc'd. */
cof_err ops_headers_from_request(struct srv_req *req, char **out);
/* Appends coffer's internal lines for e (KMS context, bucket key, dsse) to *block. */
cof_err ops_add_internal(char **block, const struct write_enc *e);
/* Encryption response headers of an object (read side) and of a write. */
void ops_add_sse_headers(struct srv_req *req, const struct sto_object *o,
                         const struct srv_ssec *ssec);
void ops_add_write_sse_headers(struct srv_req *req, const struct sto_object *o,
                               const struct write_enc *e);
/* Replies with a KMS.* error and its message; returns err. */
cof_err ops_kms_fail(struct srv_req *req, cof_err err, const char *msg);
/* NoSuchBucket reply when the bucket is missing. */
cof_err ops_bucket_must_exist(struct srv_req *req, const char *bucket);
/* Content-Length: *out_present, *out. COF_ERR_INVALID_ARGUMENT when malformed. */
cof_err ops_parse_length(struct srv_req *req, uint64_t *out, bool *out_present);
/* Publishes a new object row and unlinks the blob it replaced. */
cof_err ops_publish(struct srv_req *req, struct sto_object *o);
/* Whether the presented SSE-C key material fits o (replies itself). */
cof_err ops_check_read_sse(struct srv_req *req, const struct sto_object *o,
                           const struct srv_ssec *ssec);
/* Loads the KMS material / customer key o needs into rk (replies itself). */
cof_err ops_prepare_read_keys(struct srv_req *req, const struct sto_object *o,
                              const struct srv_ssec *ssec, struct read_keys *rk);
/* Reads the current version, or version_id when not NULL (and opens the body when out_r),
 * with retries over concurrent overwrites. Replies itself on failure, with AWS's delete-marker
 * answers (404 NoSuchKey / 405 MethodNotAllowed with x-amz-delete-marker) and NoSuchVersion. */
cof_err ops_open_object(struct srv_req *req, const char *bucket, const char *key,
                        const char *version_id, const struct srv_ssec *ssec, struct read_keys *rk,
                        struct sto_object *o, struct objio_reader **out_r);

/* What a delete did: the version it removed or the delete marker it created. */
struct ops_deleted {
    bool marker;         /* a delete marker was created or removed */
    char version_id[40]; /* "" when the bucket is unversioned */
};
/* DeleteObject's semantics (also per key of DeleteObjects): version_id removes that version;
 * else an unversioned bucket removes the object and a versioned one adds a delete marker.
 * Deleting what does not exist succeeds. COF_ERR_NO_BUCKET. Does not reply. */
cof_err ops_delete_version(struct srv_req *req, const char *bucket, const char *key,
                           const char *version_id, struct ops_deleted *out);

/* Bucket versioning (ops_versioning.c). */
enum ops_versioning { OPS_UNVERSIONED, OPS_VERSIONING_ENABLED, OPS_VERSIONING_SUSPENDED };
/* The bucket's state; a missing bucket reads as unversioned (the caller reports it). */
cof_err ops_versioning_get(struct srv_req *req, const char *bucket, enum ops_versioning *out);
/* The version id a new write (or delete marker) gets: a fresh id when enabled, else "null".
 * *out malloc'd. */
cof_err ops_version_new(enum ops_versioning st, char **out);
/* Whether v can be a version id ("null", or shaped like one); others are InvalidArgument. */
bool ops_version_id_valid(const char *v);
/* x-amz-version-id of an object version: sent when it has a real id or its bucket has a
 * versioning state. */
void ops_add_version_header(struct srv_req *req, enum ops_versioning st, const char *vid);
/* The ?versionId of the request: NULL when absent; replies 400 InvalidArgument itself (and
 * returns that error) when it cannot be a version id. */
cof_err ops_request_version(struct srv_req *req, const char **out);

/* ---- tagging (ops_tagging.c) ---- */
/* The object row (bucket, key, version_id) addresses: version_id NULL, "null" or the current
 * row's id is the current row; any other id is 404 NoSuchVersion (noncurrent versions are not
 * looked up yet). Replies NoSuchBucket / NoSuchKey / NoSuchVersion itself. out is cleaned by
 * the caller (sto_object_cleanup) on COF_OK. */
cof_err ops_object_version(struct srv_req *req, const char *bucket, const char *key,
                           const char *version_id, struct sto_object *out);
/* The request's x-amz-tagging (header, else a presigner's x-amz-tagging query parameter) as
 * canonical tags (*out_canon malloc'd), or NULL without one. Replies AWS's error itself
 * (InvalidArgument, InvalidTag, BadRequest). */
cof_err ops_tagging_header(struct srv_req *req, char **out_canon);
/* Sets the tagging line of a stored header block to canon (NULL or "" removes it). Takes *block
 * (replaced on success, untouched on failure). */
cof_err ops_set_tagging_line(char **block, const char *canon);
/* Replies for a refused tag set (InvalidTag with TagKey, BadRequest, InvalidArgument naming
 * x-amz-tagging with the header value); MalformedXML and NOMEM are left to the generic reply.
 * For POST Object's "tagging" field: srv_tagging_parse_xml, this on failure, srv_tagset_encode,
 * ops_set_tagging_line. */
cof_err ops_reply_tag_err(struct srv_req *req, const struct srv_tag_err *e, const char *header);

#endif

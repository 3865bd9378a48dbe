/* SPDX-License-Identifier: Apache-2.0 */
/* What the KMS API handlers (ops/kms_*.c) share, below them: the JSON 1.1 request body and its
 * members with AWS's validation errors, key lookup with the key-state rules AWS applies per
 * operation, KeyMetadata, encryption contexts, base64 blobs, pagination and the reply. Each
 * function that fails records the error on the request (srv_fail_service) and returns
 * COF_ERR_SERVICE (or another code the dispatcher answers), so handlers just return it. */
#ifndef OPS_KMSJSON_H
#define OPS_KMSJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "storage/kms.h"

struct srv_req;

/* The cap of a KMS request body: a 32 KiB key policy, or a 4 KiB plaintext in base64, with
 * room to spare. */
#define OPS_KMS_MAX_BODY (64u * 1024)
/* Largest canonical encryption context (AWS: 8 KiB of context). */
#define OPS_KMS_MAX_CONTEXT (16u * 1024)
/* Largest CiphertextBlob AWS accepts. */
#define OPS_KMS_MAX_BLOB 6144u

/* Key states an operation accepts (AWS's key-state table), as bits. */
enum ops_kms_states {
    OPS_KMS_ENABLED = 1,
    OPS_KMS_DISABLED = 2,
    OPS_KMS_PENDING = 4,
    OPS_KMS_ANY = 7,
};

/* The request body as a JSON object (*out: the caller json_decref()s it). An empty body is
 * {}. Fails: over the cap (ValidationException), not a JSON object (SerializationException). */
COF_MUST_CHECK cof_err ops_kms_body(struct srv_req *req, json_t **out);
/* String member name (*out borrowed from body, NULL when absent). field: AWS's camelCase name
 * for messages. required and absent, or present and not a string: ValidationException. */
COF_MUST_CHECK cof_err ops_kms_str(struct srv_req *req, json_t *body, const char *name,
                                   const char *field, bool required, const char **out);
/* Integer member name: *present false when absent. Not an integer: ValidationException. */
COF_MUST_CHECK cof_err ops_kms_int(struct srv_req *req, json_t *body, const char *name,
                                   bool *present, int64_t *out);
/* Fails with AWS's range message for field (ValidationException) unless lo <= v <= hi. */
COF_MUST_CHECK cof_err ops_kms_range(struct srv_req *req, const char *field, int64_t v, int64_t lo,
                                     int64_t hi);

/* Finds the key ref names (id, key ARN, alias, alias ARN) and checks its state is one of
 * allowed: NotFoundException, DisabledException, KMSInvalidStateException with AWS's
 * messages. *out is the caller's (sto_kms_key_cleanup) on COF_OK. */
COF_MUST_CHECK cof_err ops_kms_key(struct srv_req *req, const char *ref, unsigned allowed,
                                   struct sto_kms_key *out);
/* The key's ARN. */
void ops_kms_arn(const struct srv_req *req, const char *id, char *out, size_t n);
/* Epoch seconds (AWS's timestamps in JSON 1.1). */
json_t *ops_kms_date(int64_t ms);
/* KeyMetadata of k (NULL on allocation failure). */
json_t *ops_kms_metadata(const struct srv_req *req, const struct sto_kms_key *k);

/* The canonical form (object/kms.h) of the encryption context member name (absent: empty):
 * an object of string values, else ValidationException. */
COF_MUST_CHECK cof_err ops_kms_context(struct srv_req *req, json_t *body, const char *name,
                                       uint8_t *buf, size_t cap, size_t *len);
/* A base64 blob member: decoded into out (cap bytes). field: AWS's name. Absent when required,
 * not base64, empty, or over max bytes: ValidationException (AWS's messages). */
COF_MUST_CHECK cof_err ops_kms_blob(struct srv_req *req, json_t *body, const char *name,
                                    const char *field, size_t max, uint8_t *out, size_t *out_len);
/* Sets name to the base64 of n bytes. COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err ops_kms_set_b64(json_t *doc, const char *name, const uint8_t *p, size_t n);

/* Limit (1..1000, default 100) and Marker (an offset this server issued) of a list call. */
COF_MUST_CHECK cof_err ops_kms_page(struct srv_req *req, json_t *body, size_t *offset,
                                    size_t *limit);
/* Sends {field: list, "Truncated": ..., "NextMarker": ...} for the page of limit items from
 * offset, out of total (list is borrowed). */
COF_MUST_CHECK cof_err ops_kms_reply_page(struct srv_req *req, const char *field, json_t *list,
                                          size_t offset, size_t limit, size_t total);

/* Sends doc (taken, even on failure; NULL: COF_ERR_NOMEM) with 200. */
COF_MUST_CHECK cof_err ops_kms_reply(struct srv_req *req, json_t *doc);
/* A handler's last step: sends doc with 200 when err is COF_OK, else drops it and returns err.
 * Takes doc in every case. */
COF_MUST_CHECK cof_err ops_kms_finish(struct srv_req *req, cof_err err, json_t *doc);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* How x-amz-checksum values are kept at rest. A checksum is derived from the plaintext, so for
 * SSE-C and SSE-KMS objects it is stored sealed (crypto/envelope sealed values) under the same
 * key that wraps the object's data keys (the customer key / the KMS key's material), bound to
 * bucket, object key, a purpose label and the blob id. SSE-S3 objects keep it in clear, as
 * DESIGN allows: their ETag is the plaintext's MD5 anyway (as in AWS).
 * The version id is not bound: the blob id (128 random bits, one per stored body) already names
 * one version; a multipart object has no blob of its own and is bound to bucket and key only.
 * Stored forms: object header line "coffer-checksum:ALG value" (clear) or
 * "coffer-checksum-sealed:B64"; part row checksum "ALG value" (clear) or "sealed:B64". */
#ifndef SRV_CKSUM_STORE_H
#define SRV_CKSUM_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "s3/checksum.h"
#include "object/objio.h"
#include "storage/meta.h"

/* Room for a stored part checksum / an opened "ALG value". */
#define SRV_CKS_STORED_MAX 192
#define SRV_CKS_VALUE_MAX  96

/* Appends the object's checksum line "ALG value" to *block (takes *block): in clear for
 * SSE-S3, else sealed under seal->kek for (bucket, key, blob_hex). blob_hex: the object's blob
 * id, or NULL for a multipart object (which has none of its own). */
COF_MUST_CHECK cof_err srv_cks_add_object_line(char **block, const struct objio_seal *seal,
                                               const char *bucket, const char *key,
                                               const char *blob_hex, enum srv_cksum_alg alg,
                                               const char *value);
/* The checksum of object o as "ALG value" into out (SRV_CKS_VALUE_MAX): false when it has none,
 * or when it is sealed and keys cannot open it (no key given: a sealed checksum stays hidden). */
bool srv_cks_object(const struct sto_object *o, const struct objio_keys *keys, char *out,
                    size_t cap);
/* A part's checksum "ALG value" as the parts table keeps it (out: SRV_CKS_STORED_MAX): copied
 * for SSE-S3, else "sealed:B64" bound to the part's blob. */
COF_MUST_CHECK cof_err srv_cks_part_for_store(const struct objio_seal *seal, const char *bucket,
                                              const char *key, const char *blob_hex,
                                              const char *value, char *out, size_t cap);
/* A stored part checksum back as "ALG value" (out: SRV_CKS_VALUE_MAX); false when absent or
 * sealed and keys cannot open it. mode: the upload's SSE mode. */
bool srv_cks_part(enum cry_mode mode, const struct objio_keys *keys, const char *bucket,
                  const char *key, const struct sto_part *p, char *out, size_t cap);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The stored header block of an object row: "name:value\n" lines, the client's headers that S3
 * returns on GET (Content-Type, x-amz-meta-*, ...) and coffer's own bookkeeping lines, whose
 * names start with "coffer-" and are never sent to a client. Pure string work. */
#ifndef OBJ_STORED_H
#define OBJ_STORED_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "s3/checksum.h"

/* Prefix of coffer's internal lines. */
#define OBJ_STORED_INTERNAL_PREFIX "coffer-"
/* An SSE-KMS object's canonical encryption context. */
#define OBJ_STORED_CONTEXT "coffer-kms-context"
/* "true" on an SSE-KMS object written with an S3 Bucket Key. */
#define OBJ_STORED_BUCKET_KEY "coffer-bucket-key"
/* "true" on an object written asking for aws:kms:dsse (same encryption, echoed as asked). */
#define OBJ_STORED_DSSE "coffer-dsse"
/* An SSE-S3 object's checksum, in clear ("ALG value"); SSE-C and SSE-KMS objects keep theirs
 * sealed instead (object/cksum_store.h). */
#define OBJ_STORED_CHECKSUM "coffer-checksum"
/* An upload's declared x-amz-checksum-algorithm (composite checksum of its parts). */
#define OBJ_STORED_MPU_CHECKSUM "coffer-mpu-checksum"
/* "FULL_OBJECT" when the upload asked for the whole object's CRC (absent: COMPOSITE). */
#define OBJ_STORED_MPU_CHECKSUM_TYPE "coffer-mpu-checksum-type"

/* Calls fn(arg, name, value) for each line of block (NULL: none). Lines longer than the
 * internal caps (255-byte name, 8 KiB value) are skipped. */
void obj_stored_each(const char *block, void (*fn)(void *, const char *, const char *), void *arg);
/* Copies the value of the line `name` (case-sensitive) into out; false when the block has no
 * such line or it does not fit. */
bool obj_stored_value(const char *block, const char *name, char *out, size_t n);
/* Appends one "name:value" line (value formatted) to a block. Takes *block: replaced on
 * success, untouched on failure. COF_ERR_NOMEM, COF_ERR_TOO_LARGE (a block is capped at
 * 128 KiB). */
COF_MUST_CHECK cof_err obj_stored_append(char **block, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends "coffer-checksum:ALG value" to a block. Takes *block: replaced on success, untouched
 * on failure. COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err obj_stored_add_checksum(char **block, enum srv_cksum_alg alg,
                                               const char *b64);

#endif

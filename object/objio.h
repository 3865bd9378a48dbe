/* SPDX-License-Identifier: Apache-2.0 */
/* Object bodies at rest: an encrypting writer (plaintext in -> sealed 64 KiB segments -> blob
 * file, with the MD5 for the ETag) and a decrypting reader (random access by plaintext offset,
 * one segment decrypted and authenticated at a time). Part of the operations layer: it is where
 * storage and crypto meet. Memory: O(segment) per writer/reader, never O(object). */
#ifndef SRV_OBJIO_H
#define SRV_OBJIO_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "crypto/digest.h"
#include "crypto/envelope.h"
#include "crypto/key.h"
#include "object/ctx.h"
#include "storage/meta.h"

struct objio_writer;
struct objio_reader;
struct sto_blob_reader;

/* Starts a new blob with a fresh DEK. rid tags log lines (may be NULL). */
COF_MUST_CHECK cof_err objio_writer_new(struct obj_ctx *ctx, const char *rid,
                                        struct objio_writer **out);
/* Appends plaintext. COF_ERR_ENTITY_TOO_LARGE past max_size when set (0 = no cap). */
COF_MUST_CHECK cof_err objio_write(struct objio_writer *w, const void *p, size_t n);
/* Tells the blob store that the body will have exactly plain_size bytes (a Content-Length, a
 * copy's source): an upstream store then streams a large blob as one PUT. A body of another
 * size then fails with COF_ERR_INCOMPLETE_BODY. */
void objio_writer_expect(struct objio_writer *w, uint64_t plain_size);
/* Plaintext bytes so far. */
uint64_t objio_writer_size(const struct objio_writer *w);
/* How a blob's data key is wrapped: the mode, the key-encryption key (borrowed) and the id
 * stored to find it again (root key id; "customer" for SSE-C, whose key is never stored). */
struct objio_seal {
    enum cry_mode mode;
    const struct cry_key *kek;
    const char *kek_id;
    const char *enc_context; /* SSE-KMS encryption context bound into the wrap, or NULL */
};

/* What opening an object may need besides the root keyring (all borrowed, NULL when unused):
 * the customer's key (SSE-C), or the KMS key's material and the stored context (SSE-KMS). */
struct objio_keys {
    const struct cry_key *customer_key;
    const struct cry_key *kms_material;
    const char *enc_context;
};

/* SSE-S3: the active root key. */
void objio_seal_sse_s3(const struct obj_ctx *ctx, struct objio_seal *out);
/* SSE-C: the customer's key (borrowed). */
void objio_seal_sse_c(const struct cry_key *customer_key, struct objio_seal *out);
/* SSE-KMS: the KMS key's material and id, and the canonical context (all borrowed). */
void objio_seal_sse_kms(const struct cry_key *material, const char *key_id, const char *enc_context,
                        struct objio_seal *out);

/* Seals the last segment, commits the blob (a body of at most ctx->inline_max bytes is not
 * written to a file: its bytes go to o->inline_body, for sto_meta_put_object to store with the
 * row), wraps the DEK for (o->bucket, o->key,
 * o->version_id) per seal and fills o->size, blob_id, kek_id, wrapped_dek, sse_mode (o's
 * strings from then on are owned by o). md5_out gets the plaintext MD5.
 * After COF_OK the blob exists: if publishing fails the caller removes it. */
COF_MUST_CHECK cof_err objio_writer_finish(struct objio_writer *w, struct sto_object *o,
                                           const struct objio_seal *seal,
                                           uint8_t md5_out[CRY_MD5_LEN]);
/* The body is to be a blob file even if it is small (a multipart part: parts are rows of their
 * own, not objects). Call before objio_writer_finish. */
void objio_writer_keep_file(struct objio_writer *w);
/* Frees; an unfinished blob is aborted (tmp file removed). Accepts NULL. */
void objio_writer_free(struct objio_writer *w);

/* Opens a committed blob's bytes wherever they are: inline in the metadata store (a body of at
 * most ctx->inline_max bytes written since inline storage exists), else its file. stored_size is
 * what the blob should hold (cry_blob_stored_size): only blobs that small are looked for inline.
 * COF_ERR_NOT_FOUND when neither exists. */
COF_MUST_CHECK cof_err objio_blob_open(struct obj_ctx *ctx, const char *blob_id,
                                       uint64_t stored_size, struct sto_blob_reader **out);

/* Opens o's blob: unwraps its DEK (keys->customer_key for SSE-C, keys->kms_material for
 * SSE-KMS, else the root key named by o->kek_id; COF_ERR_KEY on failure, COF_ERR_KEY_ABSENT
 * when that root key is not in the keyring), checks the header
 * (COF_ERR_INTEGRITY), and that the blob has the size o says. COF_ERR_NOT_FOUND if the blob
 * file is missing. keys may be NULL for SSE-S3 objects. */
COF_MUST_CHECK cof_err objio_reader_open(struct obj_ctx *ctx, const struct sto_object *o,
                                         const struct objio_keys *keys, const char *rid,
                                         struct objio_reader **out);
/* Same for a multipart object made of parts[0..n) (from sto_meta_object_parts); each part is
 * its own blob with its own data key, all under o's mode and keys. */
COF_MUST_CHECK cof_err objio_reader_open_parts(struct obj_ctx *ctx, const struct sto_object *o,
                                               const struct sto_part *parts, size_t n_parts,
                                               const struct objio_keys *keys, const char *rid,
                                               struct objio_reader **out);
/* Whether keys unwrap a data key wrapped for o (its own, or one of its parts'): COF_OK or
 * COF_ERR_KEY. */
COF_MUST_CHECK cof_err objio_unwrap_check(struct obj_ctx *ctx, const struct sto_object *o,
                                          const char *blob_id, const char *kek_id,
                                          const uint8_t *wrapped, size_t wrapped_len,
                                          const struct objio_keys *keys, const char *rid);
/* Whether keys unwrap o's data key (HEAD of an SSE-C object): COF_OK or COF_ERR_KEY. */
COF_MUST_CHECK cof_err objio_check_key(struct obj_ctx *ctx, const struct sto_object *o,
                                       const struct objio_keys *keys, const char *rid);
/* Copies up to max plaintext bytes at pos into buf (at most to the end of pos's segment).
 * COF_ERR_INTEGRITY if the segment fails authentication (buf then holds nothing of it). */
COF_MUST_CHECK cof_err objio_read(struct objio_reader *r, uint64_t pos, void *buf, size_t max,
                                  size_t *out_n);
/* Decrypts and authenticates the segment holding pos now (kept for the objio_read that follows,
 * so it costs nothing extra): a GET of a one-segment object checks it before it answers, so a
 * damaged small object is a clean error rather than a response cut short. COF_ERR_INTEGRITY; pos at
 * or past the end is COF_OK. */
COF_MUST_CHECK cof_err objio_preload(struct objio_reader *r, uint64_t pos);
/* Accepts NULL. */
/* Hint: the reads to come cover plaintext bytes first..last (inclusive), in order. A blob store
 * that fetches over the network then asks for just those segments. */
void objio_reader_want(struct objio_reader *r, uint64_t first, uint64_t last);
void objio_reader_free(struct objio_reader *r);

#endif

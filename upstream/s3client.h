/* SPDX-License-Identifier: Apache-2.0 */
/* A small client of one bucket on an S3-compatible store (Ceph RGW, MinIO, AWS S3): the calls the
 * upstream blob backend needs, signed with coffer's own SigV4 signer (s3/sigv4.h) over libcurl,
 * path-style, with UNSIGNED-PAYLOAD (the bodies are ciphertext that authenticates itself).
 *
 * Connections are kept alive in a pool shared by all threads. Every call retries on connection
 * failures, timeouts, 5xx and SlowDown, with exponential backoff and full jitter, until the
 * configured retry time is spent; then it fails with COF_ERR_SERVICE_UNAVAILABLE. Other failures:
 * COF_ERR_NOT_FOUND (404), COF_ERR_IO (any other answer, logged with its status and <Code>). */
#ifndef UP_S3CLIENT_H
#define UP_S3CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct up_s3_config {
    const char *endpoint; /* "http://127.0.0.1:7480", "https://s3.example" (no path) */
    const char *region;   /* signing region, e.g. "us-east-1" */
    const char *bucket;
    const char *access_key;
    const char *secret_key;
    const char *ca_file; /* CA bundle for TLS; NULL: the system's */
    unsigned retry_ms;   /* how long one call may keep retrying */
};

struct up_s3;
struct up_s3_get;
struct up_s3_put;

/* Copies what it needs from c. COF_ERR_CONFIG (endpoint not http(s)://host[:port]),
 * COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err up_s3_new(const struct up_s3_config *c, struct up_s3 **out);
/* Accepts NULL. */
void up_s3_free(struct up_s3 *s);

/* PUT of a whole object from memory. */
COF_MUST_CHECK cof_err up_s3_put(struct up_s3 *s, const char *key, const uint8_t *body, size_t n);
/* A PUT whose body is pushed as it arrives: one request of exactly size bytes, on a connection
 * of its own, with no retry (the body is not kept; the caller's client retries the whole
 * write). up_s3_put_write returns once the connection took the bytes; up_s3_put_finish, after
 * size bytes in all, waits for the answer; both free p on failure (and finish always). Failures:
 * COF_ERR_SERVICE_UNAVAILABLE (no connection, a broken one, a 5xx answer), COF_ERR_IO (another
 * answer), COF_ERR_INCOMPLETE_BODY (more or fewer than size bytes). up_s3_put_abort cuts the
 * request and frees p: a store never completes a PUT short of its length. */
COF_MUST_CHECK cof_err up_s3_put_open(struct up_s3 *s, const char *key, uint64_t size,
                                      struct up_s3_put **out);
COF_MUST_CHECK cof_err up_s3_put_write(struct up_s3_put **p, const uint8_t *body, size_t n);
COF_MUST_CHECK cof_err up_s3_put_finish(struct up_s3_put **p);
/* Accepts NULL. */
void up_s3_put_abort(struct up_s3_put *p);
/* Multipart upload: start (*upload_id malloc'd), parts numbered from 1 (*etag malloc'd, quoted as
 * the store gave it), complete with every part's ETag in order, abort (best effort). */
COF_MUST_CHECK cof_err up_s3_mpu_start(struct up_s3 *s, const char *key, char **upload_id);
COF_MUST_CHECK cof_err up_s3_mpu_part(struct up_s3 *s, const char *key, const char *upload_id,
                                      unsigned part, const uint8_t *body, size_t n, char **etag);
COF_MUST_CHECK cof_err up_s3_mpu_complete(struct up_s3 *s, const char *key, const char *upload_id,
                                          char *const *etags, unsigned n);
void up_s3_mpu_abort(struct up_s3 *s, const char *key, const char *upload_id);
/* GET of a small object whole: up to cap bytes into buf (*out_n: how many; a longer object is
 * COF_ERR_TOO_LARGE). COF_ERR_NOT_FOUND. */
COF_MUST_CHECK cof_err up_s3_get_small(struct up_s3 *s, const char *key, void *buf, size_t cap,
                                       size_t *out_n);
/* DELETE; an absent object is COF_OK. */
COF_MUST_CHECK cof_err up_s3_delete(struct up_s3 *s, const char *key);
/* HEAD: size and Last-Modified (either pointer may be NULL). COF_ERR_NOT_FOUND. */
COF_MUST_CHECK cof_err up_s3_head(struct up_s3 *s, const char *key, uint64_t *size, int64_t *mtime);
/* ListObjectsV2 under prefix: every page, or with max_keys > 0 the first max_keys keys only. cb
 * gets each key and its Last-Modified (0 if the store left it out); a code other than COF_OK
 * from cb stops the listing and is returned. */
typedef cof_err (*up_s3_list_fn)(const char *key, int64_t mtime, void *arg);
COF_MUST_CHECK cof_err up_s3_list(struct up_s3 *s, const char *prefix, unsigned max_keys,
                                  up_s3_list_fn cb, void *arg);

/* One ListObjectsV2 answer: cb per Contents (Key, LastModified); *next is the continuation
 * token (malloc'd) when IsTruncated is true, else NULL. COF_ERR_IO for a document that is not
 * well-formed XML, carries a DOCTYPE, or is truncated without a token. (The parser of
 * up_s3_list, exposed for its tests.) */
COF_MUST_CHECK cof_err up_s3_parse_list_page(const char *body, size_t n, up_s3_list_fn cb,
                                             void *arg, char **next);

/* ListMultipartUploads under prefix, every page: cb gets each unfinished upload's key, id and
 * start time (0 if absent); a code other than COF_OK from cb stops and is returned. */
typedef cof_err (*up_s3_upload_fn)(const char *key, const char *upload_id, int64_t initiated,
                                   void *arg);
COF_MUST_CHECK cof_err up_s3_list_uploads(struct up_s3 *s, const char *prefix, up_s3_upload_fn cb,
                                          void *arg);
/* One ListMultipartUploads answer (the parser of up_s3_list_uploads, exposed for its tests):
 * *next_key and *next_upload are the markers of the next page when it is truncated, else NULL.
 * COF_ERR_IO as up_s3_parse_list_page. */
COF_MUST_CHECK cof_err up_s3_parse_uploads_page(const char *body, size_t len, up_s3_upload_fn cb,
                                                void *arg, char **next_key, char **next_upload);

/* A streamed ranged GET of bytes [first, end) of key. expect_total, when not UINT64_MAX, is
 * the object size the caller believes in: another size in the answer is COF_ERR_INTEGRITY.
 * The body is pulled by up_s3_get_read into a bounded buffer: the upstream connection is paused
 * while the caller does not read. A connection lost midway is resumed where it broke, within the
 * retry time. */
COF_MUST_CHECK cof_err up_s3_get_open(struct up_s3 *s, const char *key, uint64_t first,
                                      uint64_t end, uint64_t expect_total, struct up_s3_get **out);
/* Reads up to n bytes; fewer (0 at the end) only at end of range or of the object. */
COF_MUST_CHECK cof_err up_s3_get_read(struct up_s3_get *g, void *buf, size_t n, size_t *out_n);
/* Offset of the next byte up_s3_get_read returns. */
uint64_t up_s3_get_pos(const struct up_s3_get *g);
/* Accepts NULL. Drops the rest of the body (the connection is not reused if bytes remain). */
void up_s3_get_close(struct up_s3_get *g);

#endif

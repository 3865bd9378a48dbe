/* SPDX-License-Identifier: Apache-2.0 */
/* Blobs: opaque bytes (ciphertext) stored by id, never plaintext or keys. By default they are
 * files under DATA/ (written to tmp/<id>, fsynced with durability full, renamed into
 * blobs/xx/yy/<id>); a store may also keep them upstream (storage/blobstore.h: the backend
 * interface). Callers never know which.
 * Blob ids are 32 lowercase hex chars (128 random bits); nothing a client sends is a path.
 * All functions are thread-safe; a writer or reader is used by one thread at a time. */
#ifndef STO_BLOB_H
#define STO_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define STO_BLOB_ID_HEX 32 /* id string length, without NUL */

struct sto_blobs;
struct sto_blob_writer;
struct sto_blob_reader;

/* Opens (creating as needed) DATA/blobs and DATA/tmp, and empties tmp/. With fsync_full, writes
 * are fsynced before rename and the directory after. COF_ERR_IO.
 * DATA itself is created (mode 0700) if missing, not its parents. tmp/ is emptied only when no
 * other open store (in any process) has DATA open: each holds a shared flock on tmp/ until
 * close, so an fsck next to a running server does not delete the server's bodies in flight. */
COF_MUST_CHECK cof_err sto_blobs_open(const char *data_dir, bool fsync_full,
                                      struct sto_blobs **out);
/* Accepts NULL. */
void sto_blobs_close(struct sto_blobs *bs);
/* The backend's name ("file", "s3"), for log lines and fsck's report. */
const char *sto_blobs_kind(const struct sto_blobs *bs);

/* Fills out with a new random id (getrandom): 32 lowercase hex chars + NUL, and raw (may be
 * NULL) holds the same 16 bytes. COF_ERR_IO. */
COF_MUST_CHECK cof_err sto_blob_new_id(char out[STO_BLOB_ID_HEX + 1], uint8_t raw[16]);
/* Parses a 32-hex-char id into 16 raw bytes (raw may be NULL: validate only). COF_ERR_INVALID
 * if malformed: NULL, not exactly 32 chars, or any char outside [0-9a-f] (uppercase is rejected,
 * so each id has one spelling and one path). */
COF_MUST_CHECK cof_err sto_blob_id_parse(const char *id, uint8_t raw[16]);

/* Starts tmp/<id> (O_EXCL, 0600). COF_ERR_INVALID for a malformed id (every function taking an
 * id checks it before it becomes a path), COF_ERR_IO (also when tmp/<id> exists). */
COF_MUST_CHECK cof_err sto_blob_create(struct sto_blobs *bs, const char *id,
                                       struct sto_blob_writer **out);
/* Largest blob a writer holds in memory (sto_blob_create_held): one 64 KiB segment sealed, with
 * the header, and room to spare. Readers look for a blob in the metadata store only when its
 * stored size is at most this. */
#define STO_BLOB_HELD_MAX (80u * 1024)

/* Starts a blob whose bytes stay in memory while they total at most hold_max (capped at
 * STO_BLOB_HELD_MAX): no file is made for it until it outgrows that, then tmp/<id> is created and
 * it goes on as sto_blob_create's. A blob still held at the end is either taken
 * (sto_blob_take_held: the caller stores it elsewhere, e.g. inline in its metadata row) or
 * committed as a file like any other. COF_ERR_INVALID, COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err sto_blob_create_held(struct sto_blobs *bs, const char *id, size_t hold_max,
                                            struct sto_blob_writer **out);
/* Whether w still holds all its bytes in memory (no file exists for it). */
bool sto_blob_is_held(const struct sto_blob_writer *w);
/* Hands over a held writer's bytes (*bytes malloc'd, caller frees) and frees the writer, setting
 * *w to NULL. Only for a writer that sto_blob_is_held. */
void sto_blob_take_held(struct sto_blob_writer **w, uint8_t **bytes, size_t *len);

/* Appends n bytes (loops over short writes). COF_ERR_IO, COF_ERR_SLOW_DOWN (an upstream store
 * cannot be reached). */
COF_MUST_CHECK cof_err sto_blob_write(struct sto_blob_writer *w, const void *p, size_t n);
/* Tells the store that w's blob will have exactly size bytes in all, before or after some were
 * written: an upstream store then streams a large blob up as one PUT rather than in parts. A
 * blob that then ends up another size fails with COF_ERR_INCOMPLETE_BODY. */
void sto_blob_writer_expect(struct sto_blob_writer *w, uint64_t size);
/* fsync (per durability), rename into blobs/xx/yy/<id>, fsync the directory (a held writer's
 * bytes are written to tmp/<id> first). Takes ownership of
 * *w and sets it to NULL, even on failure (the tmp file is removed on failure). */
COF_MUST_CHECK cof_err sto_blob_commit(struct sto_blob_writer **w);
/* Removes the tmp file and frees. Takes ownership of *w, sets it to NULL. Accepts NULL, *w NULL. */
void sto_blob_abort(struct sto_blob_writer **w);

/* Opens a committed blob for reading. COF_ERR_NOT_FOUND if absent, COF_ERR_IO,
 * COF_ERR_SERVICE_UNAVAILABLE (an upstream store cannot be reached). */
COF_MUST_CHECK cof_err sto_blob_open(struct sto_blobs *bs, const char *id,
                                     struct sto_blob_reader **out);
/* The same for a blob whose stored size the caller knows (from its metadata): an upstream store
 * then needs no round trip to open it, and a blob of another size fails its reads with
 * COF_ERR_INTEGRITY. The reader's size is expect_size. */
COF_MUST_CHECK cof_err sto_blob_open_sized(struct sto_blobs *bs, const char *id,
                                           uint64_t expect_size, struct sto_blob_reader **out);
/* Hint: the reads to come are sequential within [off, off + len) (an upstream store fetches that
 * range in one request). Without it a reader fetches from the first read to the end. */
void sto_blob_reader_want(struct sto_blob_reader *r, uint64_t off, uint64_t len);
/* A reader of a blob kept elsewhere than in a file (inline in the metadata store): takes bytes
 * (freed with the reader, or at once on failure). COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err sto_blob_reader_of_bytes(uint8_t *bytes, size_t len,
                                                struct sto_blob_reader **out);
/* Reads up to n bytes at off; *out_n < n only at end of file (off at or past the end: 0 bytes,
 * COF_OK). Committed blobs are immutable: reads are bounded by the size seen at open.
 * COF_ERR_IO. */
COF_MUST_CHECK cof_err sto_blob_pread(struct sto_blob_reader *r, void *buf, size_t n, uint64_t off,
                                      size_t *out_n);
/* Total stored size in bytes. */
uint64_t sto_blob_reader_size(const struct sto_blob_reader *r);
/* Accepts NULL. */
void sto_blob_close(struct sto_blob_reader *r);

/* Unlinks a committed blob. A missing blob is COF_OK. COF_ERR_IO. */
COF_MUST_CHECK cof_err sto_blob_remove(struct sto_blobs *bs, const char *id);

/* Last modification time of a committed blob (fsck leaves young unreferenced blobs alone while a
 * server runs). COF_ERR_NOT_FOUND, COF_ERR_INVALID (bad id), COF_ERR_IO. */
COF_MUST_CHECK cof_err sto_blob_mtime(struct sto_blobs *bs, const char *id, int64_t *out_epoch_s);

/* Calls cb for every committed blob id (in no particular order); stops early and returns the
 * callback's code if it is not COF_OK. For fsck. Reports only regular files named by a valid id
 * inside their own blobs/xx/yy/ (the ones open/remove can address); anything else is skipped.
 * cb may remove the blob it is given. */
typedef cof_err (*sto_blob_visit_fn)(const char *id, void *arg);
COF_MUST_CHECK cof_err sto_blob_each(struct sto_blobs *bs, sto_blob_visit_fn cb, void *arg);

#endif

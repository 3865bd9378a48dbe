/* SPDX-License-Identifier: Apache-2.0 */
/* The upstream blob backend (storage/blobstore.h over upstream/s3client.h). */
#include "upstream/blobs3.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "storage/blobstore.h"

/* The first read of a reader that does not fall in its wanted window (a blob's header) fetches
 * this much exactly: a whole small blob, or the header and the first segment of a large one. */
#define FIRST_FETCH (64u * 1024 + 64)

/* A blob whose size is known before it is written (sto_blob_writer_expect) and larger than one
 * part goes up as one streamed PUT, up to S3's limit for one. RGW takes one PUT faster than the
 * same bytes in parts, even several in flight (measured on the one-node cluster: 50-75 MB/s for
 * a 64 MiB PUT against 42-46 for 8 MiB parts four at a time), and memory stays one buffer. */
#define STREAM_PUT_MAX (5ull << 30)
#define STREAM_BUF     (1u << 20) /* bytes a streamed PUT sends at once */
#define STREAM_HOLD_MS 1000       /* the longest a slow body's bytes wait for the buffer to fill */

struct bs3 {
    struct up_s3 *s;
    char *prefix;    /* "<prefix>blobs/" */
    size_t base_len; /* of "<prefix>": where side objects (owner, backups/) go */
    size_t part_size;
    bool defer_removal; /* removal marks blobs in graveyard/; the next backup deletes them */
};

/* A large blob of unknown size goes up in parts, from helper threads while the next part fills:
 * the body keeps arriving during the uploads, and several parts in flight use the upstream's
 * parallelism (RGW on one VM took 8 MiB parts at 29-33 MB/s one at a time, 42-46 four at a
 * time). At most UP_PARTS_IN_FLIGHT + 1 parts are in memory. */
#define UP_PARTS_IN_FLIGHT 4

struct part {
    uint8_t *buf;
    size_t len;
    unsigned num;
};

struct uploader {
    pthread_t th[UP_PARTS_IN_FLIGHT];
    unsigned n_threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct bs3_writer *w;
    struct part queue[UP_PARTS_IN_FLIGHT]; /* handed over, not yet taken by a thread */
    unsigned n_queued, n_busy;
    uint8_t *spare[UP_PARTS_IN_FLIGHT]; /* part buffers handed back */
    unsigned n_spare;
    bool stop;
    cof_err err; /* of the first failed upload */
};

struct bs3_writer {
    struct bs3 *b;
    char key[1024];
    uint8_t *buf; /* the part being filled; streamed, the bytes not yet sent */
    size_t len, cap;
    char *upload_id; /* once the blob outgrew one part */
    char **etags;    /* grown, and written by the uploader threads, under the uploader's mutex */
    unsigned n_parts, cap_parts; /* parts handed to the uploader */
    struct uploader *up;
    /* Streamed: the size given to bs3_expect, the PUT once the first byte comes, bytes taken so
     * far. The blob's last byte is kept back until the commit, so that the store cannot have
     * the blob complete before coffer decides to publish it. */
    uint64_t stream_size; /* 0: not streamed */
    struct up_s3_put *put;
    uint64_t taken;
    int64_t pushed_at; /* when bytes last went to the PUT */
};

struct bs3_reader {
    struct bs3 *b;
    char key[1024];
    uint64_t size;
    uint64_t expect;       /* size the metadata records, or STO_BLOB_SIZE_UNKNOWN */
    uint64_t win_a, win_b; /* the wanted window */
    struct up_s3_get *g;   /* the stream over part of the window, or NULL */
    uint8_t *fetched;      /* bytes of an exact fetch */
    uint64_t fetched_off;
    size_t fetched_len;
};

static cof_err blob_key(const struct bs3 *b, const char *id, char out[1024])
{
    int n = snprintf(out, 1024, "%s%s", b->prefix, id);
    return n > 0 && n < 1024 ? COF_OK : COF_ERR_TOO_LARGE;
}

/* Writes fail with SlowDown when the upstream cannot be reached: the client should retry. */
static cof_err write_err(cof_err err)
{
    return err == COF_ERR_SERVICE_UNAVAILABLE ? COF_ERR_SLOW_DOWN : err;
}

static cof_err writer_for(struct bs3 *b, const char *key, struct bs3_writer **out)
{
    *out = NULL;
    struct bs3_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return COF_ERR_NOMEM;
    w->b = b;
    int n = snprintf(w->key, sizeof(w->key), "%s", key);
    if (n < 0 || (size_t)n >= sizeof(w->key)) {
        free(w);
        return COF_ERR_TOO_LARGE;
    }
    *out = w;
    return COF_OK;
}

static cof_err bs3_create(void *impl, const char *id, void **out)
{
    struct bs3 *b = impl;
    char key[1024];
    *out = NULL;
    cof_err err = blob_key(b, id, key);
    struct bs3_writer *w = NULL;
    if (err == COF_OK)
        err = writer_for(b, key, &w);
    if (err != COF_OK) {
        free(w);
        return err;
    }
    *out = w;
    return COF_OK;
}

static void *uploader_main(void *arg)
{
    struct uploader *u = arg;
    struct bs3_writer *w = u->w;
    pthread_mutex_lock(&u->mu);
    for (;;) {
        while (u->n_queued == 0 && !u->stop)
            pthread_cond_wait(&u->cv, &u->mu);
        if (u->n_queued == 0)
            break;
        struct part pt = u->queue[0];
        memmove(u->queue, u->queue + 1, --u->n_queued * sizeof(u->queue[0]));
        u->n_busy++;
        /* A failed part loses the blob, and an abort stops it: spare the upstream the rest. */
        bool skip = u->err != COF_OK || u->stop;
        pthread_mutex_unlock(&u->mu);
        char *etag = NULL;
        cof_err err =
            skip ? COF_OK
                 : up_s3_mpu_part(w->b->s, w->key, w->upload_id, pt.num, pt.buf, pt.len, &etag);
        pthread_mutex_lock(&u->mu);
        if (u->err == COF_OK)
            u->err = err;
        w->etags[pt.num - 1] = etag;
        u->n_busy--;
        if (u->n_spare < UP_PARTS_IN_FLIGHT)
            u->spare[u->n_spare++] = pt.buf;
        else
            free(pt.buf);
        pthread_cond_broadcast(&u->cv);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

/* Waits, under u->mu, until fewer than limit parts are queued or in flight. */
static void uploader_drain_to(struct uploader *u, unsigned limit)
{
    while (u->n_queued + u->n_busy > limit)
        pthread_cond_wait(&u->cv, &u->mu);
}

/* Waits until no part is queued or in flight; returns the first upload failure. */
static cof_err uploader_wait(struct uploader *u)
{
    if (u == NULL)
        return COF_OK;
    pthread_mutex_lock(&u->mu);
    uploader_drain_to(u, 0);
    cof_err err = u->err;
    pthread_mutex_unlock(&u->mu);
    return err;
}

/* Stops the threads (parts in flight finish; queued ones are dropped) and frees the rest. */
static void uploader_free(struct uploader *u)
{
    if (u == NULL)
        return;
    pthread_mutex_lock(&u->mu);
    u->stop = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    for (unsigned i = 0; i < u->n_threads; i++)
        pthread_join(u->th[i], NULL);
    for (unsigned i = 0; i < u->n_spare; i++)
        free(u->spare[i]);
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    free(u);
}

static cof_err uploader_start(struct bs3_writer *w)
{
    struct uploader *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return COF_ERR_NOMEM;
    u->w = w;
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    for (; u->n_threads < UP_PARTS_IN_FLIGHT; u->n_threads++)
        if (pthread_create(&u->th[u->n_threads], NULL, uploader_main, u) != 0)
            break;
    if (u->n_threads == 0) {
        uploader_free(u);
        return COF_ERR_NOMEM;
    }
    w->up = u;
    return COF_OK;
}

/* Room for the ETag of part n_parts + 1; the caller holds the uploader's mutex. */
static cof_err grow_etags(struct bs3_writer *w)
{
    if (w->n_parts >= 10000) {
        cof_log_error(NULL, "upstream: %s needs more than 10000 parts; raise blob_store_part_size",
                      w->key);
        return COF_ERR_TOO_LARGE;
    }
    if (w->n_parts < w->cap_parts)
        return COF_OK;
    unsigned cap = w->cap_parts > 0 ? w->cap_parts * 2 : 16;
    char **t = realloc(w->etags, cap * sizeof(*t));
    if (t == NULL)
        return COF_ERR_NOMEM;
    memset(t + w->cap_parts, 0, (cap - w->cap_parts) * sizeof(*t));
    w->etags = t;
    w->cap_parts = cap;
    return COF_OK;
}

/* Hands the part in buf to the uploader (starting the multipart upload first if need be) once
 * fewer than UP_PARTS_IN_FLIGHT are queued or in flight, and goes on with a spare buffer. */
static cof_err flush_part(struct bs3_writer *w)
{
    cof_err err = COF_OK;
    if (w->upload_id == NULL)
        err = up_s3_mpu_start(w->b->s, w->key, &w->upload_id);
    if (err == COF_OK && w->up == NULL)
        err = uploader_start(w);
    if (err != COF_OK)
        return write_err(err);
    struct uploader *u = w->up;
    pthread_mutex_lock(&u->mu);
    uploader_drain_to(u, u->n_threads - 1);
    err = u->err;
    if (err == COF_OK)
        err = grow_etags(w);
    if (err == COF_OK) {
        u->queue[u->n_queued++] = (struct part){w->buf, w->len, ++w->n_parts};
        w->buf = u->n_spare > 0 ? u->spare[--u->n_spare] : NULL; /* NULL: bs3_write allocates */
        w->cap = w->buf != NULL ? w->b->part_size : 0;
        w->len = 0;
        pthread_cond_broadcast(&u->cv);
    }
    pthread_mutex_unlock(&u->mu);
    return write_err(err);
}

static void bs3_expect(void *wp, uint64_t size)
{
    struct bs3_writer *w = wp;
    if (w->upload_id == NULL && w->put == NULL && size > w->b->part_size &&
        size <= STREAM_PUT_MAX && w->len <= size)
        w->stream_size = size;
}

/* Sends the buffered bytes, but for the blob's very last byte, kept back for the commit. */
static cof_err stream_push(struct bs3_writer *w)
{
    size_t n = w->taken == w->stream_size ? w->len - 1 : w->len;
    w->pushed_at = cof_now_ms();
    cof_err err = n > 0 ? up_s3_put_write(&w->put, w->buf, n) : COF_OK;
    memmove(w->buf, w->buf + n, w->len - n);
    w->len -= n;
    return write_err(err);
}

/* Buffers n more bytes of the blob, sending a full buffer (fewer, larger sends than one per
 * sealed segment). */
static cof_err stream_write(struct bs3_writer *w, const uint8_t *p, size_t n)
{
    if (n > w->stream_size - w->taken)
        return COF_ERR_INCOMPLETE_BODY;
    w->taken += n;
    while (n > 0) {
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
        /* A slow client's bytes go on after a while: the upstream request must not idle
         * longer than the client does (stores cut idle requests; RGW after 65 s). */
        bool due = w->len == w->cap || cof_now_ms() - w->pushed_at >= STREAM_HOLD_MS;
        cof_err err = due ? stream_push(w) : COF_OK;
        if (err != COF_OK)
            return err;
    }
    return COF_OK;
}

/* Starts the streamed PUT; the bytes buffered before it go first. */
static cof_err stream_start(struct bs3_writer *w)
{
    uint8_t *t = realloc(w->buf, STREAM_BUF);
    if (t == NULL)
        return COF_ERR_NOMEM;
    w->buf = t;
    w->cap = STREAM_BUF;
    w->taken = w->len;
    w->pushed_at = cof_now_ms();
    return write_err(up_s3_put_open(w->b->s, w->key, w->stream_size, &w->put));
}

static cof_err bs3_write(void *wp, const uint8_t *p, size_t n)
{
    struct bs3_writer *w = wp;
    size_t part = w->b->part_size;
    if (w->stream_size > 0) {
        cof_err err = w->put == NULL ? stream_start(w) : COF_OK;
        return err == COF_OK ? stream_write(w, p, n) : err;
    }
    while (n > 0) {
        if (w->len == w->cap) {
            /* Grows by doubling up to one part: a small blob holds little. Once the blob is
             * known to be large, whole parts. */
            size_t cap = w->n_parts > 0 ? part : w->cap > 0 ? w->cap * 2 : 256u * 1024;
            if (cap > part)
                cap = part;
            uint8_t *t = realloc(w->buf, cap);
            if (t == NULL)
                return COF_ERR_NOMEM;
            w->buf = t;
            w->cap = cap;
        }
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, p, k);
        w->len += k;
        p += k;
        n -= k;
        if (w->len == part) {
            cof_err err = flush_part(w);
            if (err != COF_OK)
                return err;
        }
    }
    return COF_OK;
}

static void writer_free(struct bs3_writer *w)
{
    up_s3_put_abort(w->put);
    uploader_free(w->up); /* lets an upload in flight finish */
    for (unsigned i = 0; i < w->cap_parts; i++)
        free(w->etags[i]);
    free(w->etags);
    free(w->upload_id);
    free(w->buf);
    free(w);
}

static void bs3_abort(void *wp)
{
    struct bs3_writer *w = wp;
    uploader_free(w->up); /* no part may land after the abort */
    w->up = NULL;
    if (w->upload_id != NULL)
        up_s3_mpu_abort(w->b->s, w->key, w->upload_id);
    writer_free(w);
}

static cof_err bs3_commit(void *wp)
{
    struct bs3_writer *w = wp;
    cof_err err = COF_OK;
    if (w->stream_size > 0) {
        if (w->put == NULL)
            err = stream_start(w);
        if (err == COF_OK && w->taken != w->stream_size)
            err = COF_ERR_INCOMPLETE_BODY;
        if (err == COF_OK && w->len > 0)
            err = write_err(up_s3_put_write(&w->put, w->buf, w->len));
        if (err == COF_OK)
            err = write_err(up_s3_put_finish(&w->put));
        writer_free(w);
        return err;
    }
    if (w->upload_id == NULL) {
        err = write_err(up_s3_put(w->b->s, w->key, w->buf, w->len));
        writer_free(w);
        return err;
    }
    if (w->len > 0)
        err = flush_part(w);
    if (err == COF_OK)
        err = write_err(uploader_wait(w->up));
    if (err == COF_OK)
        err = write_err(up_s3_mpu_complete(w->b->s, w->key, w->upload_id, w->etags, w->n_parts));
    if (err != COF_OK) {
        bs3_abort(w);
        return err;
    }
    writer_free(w);
    return COF_OK;
}

static cof_err bs3_open(void *impl, const char *id, uint64_t expect_size, void **out,
                        uint64_t *out_size)
{
    struct bs3 *b = impl;
    *out = NULL;
    struct bs3_reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return COF_ERR_NOMEM;
    r->b = b;
    r->expect = expect_size;
    cof_err err = blob_key(b, id, r->key);
    if (err == COF_OK && expect_size == STO_BLOB_SIZE_UNKNOWN)
        err = up_s3_head(b->s, r->key, &r->size, NULL);
    else
        r->size = expect_size;
    if (err != COF_OK) {
        free(r);
        return err;
    }
    r->win_a = 0;
    r->win_b = r->size;
    *out_size = r->size;
    *out = r;
    return COF_OK;
}

static void bs3_want(void *rp, uint64_t off, uint64_t len)
{
    struct bs3_reader *r = rp;
    r->win_a = off;
    r->win_b = off + len;
    if (r->g != NULL && (up_s3_get_pos(r->g) < off || up_s3_get_pos(r->g) >= off + len)) {
        up_s3_get_close(r->g);
        r->g = NULL;
    }
}

/* Reads n bytes from the stream (fewer only where the blob ends early). */
static cof_err read_stream(struct bs3_reader *r, uint8_t *buf, size_t n, size_t *out_n)
{
    size_t got = 0;
    while (got < n) {
        size_t k = 0;
        cof_err err = up_s3_get_read(r->g, buf + got, n - got, &k);
        if (err != COF_OK)
            return err;
        if (k == 0)
            break;
        got += k;
    }
    *out_n = got;
    return COF_OK;
}

/* Fetches [off, end) whole into r->fetched. */
static cof_err fetch_exact(struct bs3_reader *r, uint64_t off, uint64_t end)
{
    struct up_s3_get *g = NULL;
    size_t n = (size_t)(end - off);
    uint8_t *buf = malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return COF_ERR_NOMEM;
    cof_err err = up_s3_get_open(r->b->s, r->key, off, end, r->expect, &g);
    size_t got = 0;
    if (err == COF_OK) {
        struct up_s3_get *keep = r->g;
        r->g = g;
        err = read_stream(r, buf, n, &got);
        r->g = keep;
    }
    up_s3_get_close(g);
    if (err != COF_OK) {
        free(buf);
        return err;
    }
    free(r->fetched);
    r->fetched = buf;
    r->fetched_off = off;
    r->fetched_len = got;
    return COF_OK;
}

static cof_err bs3_pread(void *rp, void *buf, size_t n, uint64_t off, size_t *out_n)
{
    struct bs3_reader *r = rp;
    *out_n = 0;
    if (r->fetched != NULL && off >= r->fetched_off && off + n <= r->fetched_off + r->fetched_len) {
        memcpy(buf, r->fetched + (off - r->fetched_off), n);
        *out_n = n;
        return COF_OK;
    }
    if (r->g != NULL && up_s3_get_pos(r->g) != off) {
        up_s3_get_close(r->g);
        r->g = NULL;
    }
    if (r->g == NULL && off >= r->win_a && off < r->win_b && !(off == 0 && n < FIRST_FETCH)) {
        cof_err err = up_s3_get_open(r->b->s, r->key, off, r->win_b, r->expect, &r->g);
        if (err != COF_OK)
            return err;
    }
    if (r->g != NULL)
        return read_stream(r, buf, n, out_n);
    /* Outside the window (or the header read): one exact fetch, which may cover what follows. */
    uint64_t end = off + (n > FIRST_FETCH ? n : FIRST_FETCH);
    if (end > r->size)
        end = r->size;
    cof_err err = fetch_exact(r, off, end);
    if (err != COF_OK)
        return err;
    size_t k = r->fetched_len < n ? r->fetched_len : n;
    memcpy(buf, r->fetched, k);
    *out_n = k;
    return COF_OK;
}

static void bs3_close(void *rp)
{
    struct bs3_reader *r = rp;
    up_s3_get_close(r->g);
    free(r->fetched);
    free(r);
}

static cof_err graveyard_key(const struct bs3 *b, const char *id, char out[1024])
{
    int n = snprintf(out, 1024, "%.*sgraveyard/%s", (int)b->base_len, b->prefix, id);
    return n > 0 && n < 1024 ? COF_OK : COF_ERR_TOO_LARGE;
}

static cof_err bs3_remove(void *impl, const char *id)
{
    struct bs3 *b = impl;
    char key[1024];
    cof_err err = b->defer_removal ? graveyard_key(b, id, key) : blob_key(b, id, key);
    if (err != COF_OK)
        return err;
    /* With backups, a blob outlives its last reference until a backup taken after that no
     * longer needs it: a restore from the latest backup then finds every blob it names. */
    if (b->defer_removal)
        return write_err(up_s3_put(b->s, key, (const uint8_t *)"", 0));
    return up_s3_delete(b->s, key);
}

static cof_err bs3_mtime(void *impl, const char *id, int64_t *out_epoch_s)
{
    struct bs3 *b = impl;
    char key[1024];
    cof_err err = blob_key(b, id, key);
    return err == COF_OK ? up_s3_head(b->s, key, NULL, out_epoch_s) : err;
}

struct each_arg {
    size_t prefix_len;
    sto_blob_visit_fn cb;
    void *arg;
};

static cof_err each_key(const char *key, int64_t mtime, void *arg)
{
    const struct each_arg *a = arg;
    (void)mtime;
    const char *id = key + a->prefix_len;
    /* Only names an id can address: anything else under the prefix is not ours to report. */
    if (strlen(key) < a->prefix_len || sto_blob_id_parse(id, NULL) != COF_OK)
        return COF_OK;
    return a->cb(id, a->arg);
}

static cof_err bs3_each(void *impl, sto_blob_visit_fn cb, void *arg)
{
    struct bs3 *b = impl;
    struct each_arg a = {strlen(b->prefix), cb, arg};
    return up_s3_list(b->s, b->prefix, 0, each_key, &a);
}

static void bs3_free(void *impl)
{
    struct bs3 *b = impl;
    if (b == NULL)
        return;
    up_s3_free(b->s);
    free(b->prefix);
    free(b);
}

static const struct sto_blob_backend bs3_backend = {
    .name = "s3",
    .create = bs3_create,
    .write = bs3_write,
    .expect = bs3_expect,
    .commit = bs3_commit,
    .abort = bs3_abort,
    .open = bs3_open,
    .pread = bs3_pread,
    .want = bs3_want,
    .close = bs3_close,
    .remove = bs3_remove,
    .mtime = bs3_mtime,
    .each = bs3_each,
    .free = bs3_free,
};

cof_err up_blobs_parse_url(const char *url, char **bucket, char **prefix)
{
    *bucket = *prefix = NULL;
    if (url == NULL || strncmp(url, "s3://", 5) != 0)
        return COF_ERR_CONFIG;
    const char *p = url + 5;
    size_t bl = strcspn(p, "/");
    /* S3 bucket names: 3-63 of [a-z0-9.-]. */
    if (bl < 3 || bl > 63 || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789.-") < bl)
        return COF_ERR_CONFIG;
    const char *rest = p[bl] == '/' ? p + bl + 1 : "";
    size_t rl = strlen(rest);
    if (rl > 512 || strstr(rest, "//") != NULL || rest[0] == '/')
        return COF_ERR_CONFIG;
    *bucket = strndup(p, bl);
    /* "a/b" -> "a/b/"; "" stays "". */
    *prefix = malloc(rl + 2);
    if (*bucket == NULL || *prefix == NULL) {
        free(*bucket);
        free(*prefix);
        *bucket = *prefix = NULL;
        return COF_ERR_NOMEM;
    }
    memcpy(*prefix, rest, rl + 1);
    if (rl > 0 && rest[rl - 1] != '/')
        strcat(*prefix, "/");
    return COF_OK;
}

static cof_err probe_key(const char *key, int64_t mtime, void *arg)
{
    (void)key;
    (void)mtime;
    (void)arg;
    return COF_OK;
}

#define OWNER_MAGIC "coffer-blob-store-owner v1 "

/* Checks <prefix>owner against c->owner; writes it when absent and c->claim. */
static cof_err check_owner(struct bs3 *b, const struct up_blobs_config *c, const char *prefix)
{
    char key[1024], want[128], got[128];
    size_t n = 0;
    snprintf(key, sizeof(key), "%sowner", prefix);
    int wl = snprintf(want, sizeof(want), OWNER_MAGIC "%s\n", c->owner);
    cof_err err = up_s3_get_small(b->s, key, got, sizeof(got), &n);
    if (err == COF_ERR_NOT_FOUND && c->claim)
        return up_s3_put(b->s, key, (const uint8_t *)want, (size_t)wl);
    if (err == COF_ERR_NOT_FOUND) {
        cof_log_error(NULL,
                      "upstream: %s is missing: this data dir's blobs are not under that "
                      "prefix (wrong --blob-store?)",
                      key);
        return COF_ERR_ACCESS_DENIED;
    }
    if (err == COF_ERR_TOO_LARGE || (err == COF_OK && (n != (size_t)wl || memcmp(got, want, n)))) {
        cof_log_error(NULL,
                      "upstream: %s belongs to another coffer data dir; give each data dir "
                      "its own prefix",
                      key);
        return COF_ERR_ACCESS_DENIED;
    }
    return err;
}

cof_err up_blobs_open(const struct up_blobs_config *c, struct sto_blobs **out)
{
    *out = NULL;
    size_t part = c->part_size > 0 ? c->part_size : UP_PART_SIZE_DEFAULT;
    if (part < UP_PART_SIZE_MIN)
        return COF_ERR_CONFIG;
    struct bs3 *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return COF_ERR_NOMEM;
    b->part_size = part;
    b->defer_removal = c->defer_removal;
    const char *pre = c->prefix != NULL ? c->prefix : "";
    size_t pl = strlen(pre);
    b->prefix = malloc(pl + sizeof("/blobs/"));
    cof_err err = b->prefix != NULL ? COF_OK : COF_ERR_NOMEM;
    if (err == COF_OK) {
        snprintf(b->prefix, pl + sizeof("/blobs/"), "%s%sblobs/", pre,
                 pl > 0 && pre[pl - 1] != '/' ? "/" : "");
        b->base_len = strlen(b->prefix) - strlen("blobs/");
    }
    if (err == COF_OK)
        err = up_s3_new(&c->s3, &b->s);
    if (err == COF_OK)
        err = up_s3_list(b->s, b->prefix, 1, probe_key, NULL);
    if (err == COF_OK && c->owner != NULL) {
        /* The claim sits beside blobs/, where listings of blobs never see it. */
        char owner_prefix[600];
        snprintf(owner_prefix, sizeof(owner_prefix), "%.*s", (int)b->base_len, b->prefix);
        err = check_owner(b, c, owner_prefix);
    }
    if (err != COF_OK) {
        bs3_free(b);
        return err;
    }
    return sto_blobs_new(&bs3_backend, b, out);
}

/* --- objects beside the blobs --- */

struct up_side_writer {
    struct bs3_writer *w;
};

struct up_side_reader {
    struct up_s3_get *g;
};

static cof_err side_key(struct sto_blobs *bs, const char *name, struct bs3 **b, char out[1024])
{
    *b = sto_blobs_impl(bs, &bs3_backend);
    if (*b == NULL)
        return COF_ERR_INVALID;
    int n = snprintf(out, 1024, "%.*s%s", (int)(*b)->base_len, (*b)->prefix, name);
    return n > 0 && n < 1024 ? COF_OK : COF_ERR_TOO_LARGE;
}

cof_err up_side_create(struct sto_blobs *bs, const char *name, struct up_side_writer **out)
{
    struct bs3 *b = NULL;
    char key[1024];
    *out = NULL;
    cof_err err = side_key(bs, name, &b, key);
    struct up_side_writer *sw = err == COF_OK ? calloc(1, sizeof(*sw)) : NULL;
    if (err == COF_OK && sw == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK)
        err = writer_for(b, key, &sw->w);
    if (err != COF_OK) {
        free(sw);
        return err;
    }
    *out = sw;
    return COF_OK;
}

cof_err up_side_write(struct up_side_writer *w, const void *p, size_t n)
{
    return bs3_write(w->w, p, n);
}

cof_err up_side_commit(struct up_side_writer *w)
{
    cof_err err = bs3_commit(w->w);
    free(w);
    return err;
}

void up_side_abort(struct up_side_writer *w)
{
    if (w == NULL)
        return;
    bs3_abort(w->w);
    free(w);
}

struct latest {
    size_t skip;
    char *out;
    size_t cap;
    bool found;
};

static cof_err take_latest(const char *key, int64_t mtime, void *arg)
{
    struct latest *l = arg;
    (void)mtime;
    size_t len = strlen(key);
    if (len <= l->skip || len - l->skip >= l->cap)
        return COF_OK;
    const char *name = key + l->skip;
    if (!l->found || strcmp(name, l->out) > 0) {
        memcpy(l->out, name, len - l->skip + 1); /* fits: checked above, with its NUL */
        l->found = true;
    }
    return COF_OK;
}

cof_err up_side_latest(struct sto_blobs *bs, const char *dir, char *out, size_t cap)
{
    struct bs3 *b = NULL;
    char key[1024];
    cof_err err = side_key(bs, dir, &b, key);
    if (err != COF_OK)
        return err;
    /* Names are returned with dir: what up_side_open takes. */
    struct latest l = {b->base_len, out, cap, false};
    err = up_s3_list(b->s, key, 0, take_latest, &l);
    if (err == COF_OK && !l.found)
        err = COF_ERR_NOT_FOUND;
    return err;
}

cof_err up_side_open(struct sto_blobs *bs, const char *name, struct up_side_reader **out)
{
    struct bs3 *b = NULL;
    char key[1024];
    uint64_t size = 0;
    *out = NULL;
    cof_err err = side_key(bs, name, &b, key);
    if (err == COF_OK)
        err = up_s3_head(b->s, key, &size, NULL);
    struct up_side_reader *r = err == COF_OK ? calloc(1, sizeof(*r)) : NULL;
    if (err == COF_OK && r == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK)
        err = up_s3_get_open(b->s, key, 0, size, size, &r->g);
    if (err != COF_OK) {
        free(r);
        return err;
    }
    *out = r;
    return COF_OK;
}

cof_err up_side_read(struct up_side_reader *r, void *buf, size_t n, size_t *out_n)
{
    size_t got = 0;
    while (got < n) {
        size_t k = 0;
        cof_err err = up_s3_get_read(r->g, (uint8_t *)buf + got, n - got, &k);
        if (err != COF_OK)
            return err;
        if (k == 0)
            break;
        got += k;
    }
    *out_n = got;
    return COF_OK;
}

void up_side_close(struct up_side_reader *r)
{
    if (r == NULL)
        return;
    up_s3_get_close(r->g);
    free(r);
}

cof_err up_side_owner(struct sto_blobs *bs, char out[33])
{
    struct bs3 *b = NULL;
    char key[1024], got[128];
    size_t n = 0;
    cof_err err = side_key(bs, "owner", &b, key);
    if (err == COF_OK)
        err = up_s3_get_small(b->s, key, got, sizeof(got) - 1, &n);
    if (err != COF_OK)
        return err;
    size_t ml = strlen(OWNER_MAGIC);
    char id[33];
    memcpy(id, got + (n >= ml ? ml : 0), 32);
    id[32] = '\0';
    if (n != ml + 33 || memcmp(got, OWNER_MAGIC, ml) != 0 || got[n - 1] != '\n' ||
        sto_blob_id_parse(id, NULL) != COF_OK)
        return COF_ERR_INTEGRITY;
    memcpy(out, id, 33);
    return COF_OK;
}

cof_err up_side_delete(struct sto_blobs *bs, const char *name)
{
    struct bs3 *b = NULL;
    char key[1024];
    cof_err err = side_key(bs, name, &b, key);
    return err == COF_OK ? up_s3_delete(b->s, key) : err;
}

/* Names listed under a prefix, without it (blob ids only, with ids_only). */
struct names {
    size_t skip;
    bool ids_only;
    char **v;
    size_t n, cap;
};

static cof_err take_name(const char *key, int64_t mtime, void *arg)
{
    struct names *l = arg;
    (void)mtime;
    if (strlen(key) <= l->skip || (l->ids_only && sto_blob_id_parse(key + l->skip, NULL) != COF_OK))
        return COF_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap > 0 ? l->cap * 2 : 32;
        char **t = realloc(l->v, cap * sizeof(*t));
        if (t == NULL)
            return COF_ERR_NOMEM;
        l->v = t;
        l->cap = cap;
    }
    l->v[l->n] = strdup(key + l->skip);
    if (l->v[l->n] == NULL)
        return COF_ERR_NOMEM;
    l->n++;
    return COF_OK;
}

cof_err up_blobs_graveyard(struct sto_blobs *bs, char ***ids, size_t *n)
{
    struct bs3 *b = NULL;
    char key[1024];
    *ids = NULL;
    *n = 0;
    cof_err err = side_key(bs, "graveyard/", &b, key);
    if (err != COF_OK)
        return err;
    struct names l = {strlen(key), true, NULL, 0, 0};
    err = up_s3_list(b->s, key, 0, take_name, &l);
    if (err != COF_OK) {
        up_blobs_graveyard_free(l.v, l.n);
        return err;
    }
    *ids = l.v;
    *n = l.n;
    return COF_OK;
}

cof_err up_blobs_reap(struct sto_blobs *bs, char **ids, size_t n, bool blobs_too,
                      size_t *out_reaped)
{
    struct bs3 *b = sto_blobs_impl(bs, &bs3_backend);
    *out_reaped = 0;
    if (b == NULL)
        return COF_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        char blob[1024], mark[1024];
        cof_err err = blob_key(b, ids[i], blob);
        if (err == COF_OK)
            err = graveyard_key(b, ids[i], mark);
        /* The blob first: a marker left behind is only reaped again. */
        if (err == COF_OK && blobs_too)
            err = up_s3_delete(b->s, blob);
        if (err == COF_OK)
            err = up_s3_delete(b->s, mark);
        if (err != COF_OK)
            return err;
        (*out_reaped)++;
    }
    return COF_OK;
}

void up_blobs_graveyard_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

struct each_upload {
    size_t skip;
    up_blobs_upload_fn cb;
    void *arg;
};

static cof_err upload_of_blob(const char *key, const char *upload_id, int64_t initiated, void *arg)
{
    const struct each_upload *e = arg;
    if (strlen(key) <= e->skip || sto_blob_id_parse(key + e->skip, NULL) != COF_OK)
        return COF_OK; /* not a blob's: not ours to judge */
    return e->cb(key + e->skip, upload_id, initiated, e->arg);
}

cof_err up_blobs_each_upload(struct sto_blobs *bs, up_blobs_upload_fn cb, void *arg)
{
    struct bs3 *b = sto_blobs_impl(bs, &bs3_backend);
    if (b == NULL)
        return COF_ERR_INVALID;
    struct each_upload e = {strlen(b->prefix), cb, arg};
    return up_s3_list_uploads(b->s, b->prefix, upload_of_blob, &e);
}

cof_err up_blobs_abort_upload(struct sto_blobs *bs, const char *id, const char *upload_id)
{
    struct bs3 *b = sto_blobs_impl(bs, &bs3_backend);
    char key[1024];
    if (b == NULL)
        return COF_ERR_INVALID;
    cof_err err = blob_key(b, id, key);
    if (err == COF_OK)
        up_s3_mpu_abort(b->s, key, upload_id);
    return err;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

cof_err up_side_keep_latest(struct sto_blobs *bs, const char *dir, size_t keep, size_t *deleted)
{
    struct bs3 *b = NULL;
    char key[1024];
    *deleted = 0;
    cof_err err = side_key(bs, dir, &b, key);
    if (err != COF_OK)
        return err;
    struct names l = {b->base_len, false, NULL, 0, 0};
    err = up_s3_list(b->s, key, 0, take_name, &l);
    if (err == COF_OK && l.n > keep) {
        qsort(l.v, l.n, sizeof(*l.v), cmp_names);
        for (size_t i = 0; err == COF_OK && i < l.n - keep; i++) {
            err = up_side_delete(bs, l.v[i]);
            if (err == COF_OK)
                (*deleted)++;
        }
    }
    up_blobs_graveyard_free(l.v, l.n);
    return err;
}

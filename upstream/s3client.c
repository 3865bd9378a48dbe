/* SPDX-License-Identifier: Apache-2.0 */
/* The upstream S3 client: request signing, a pool of kept-alive libcurl connections, retries,
 * and a pull-mode streamed GET (libcurl's multi interface with pause/unpause). */
#define _GNU_SOURCE /* memmem, strptime, timegm */
#include "upstream/s3client.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "s3/sigv4.h"
#include "s3/uri.h"
#include "s3/xmltree.h"
#include "upstream/curlapi.h"

#define IDLE_CONNS_MAX  32                 /* idle connections kept in the pool */
#define RESP_BODY_MAX   (4u * 1024 * 1024) /* an answer body we keep (list pages, errors) */
#define GET_BUF         (256u * 1024)      /* a streamed GET's buffer */
#define BACKOFF_MIN_MS  50
#define BACKOFF_MAX_MS  2000
#define CONNECT_TIMEOUT 3 /* seconds */
#define STALL_SECONDS   30

struct conn {
    CURL *easy;
    CURLM *multi; /* holds the kept-alive connection */
    struct conn *next;
};

struct up_s3 {
    char *base; /* "http://host:port", no trailing slash */
    char *host; /* "host:port" as in the endpoint: the signed Host header */
    char *region;
    char *bucket; /* percent-encoded */
    char *access_key;
    char *secret_key;
    char *ca_file;
    unsigned retry_ms;
    pthread_mutex_t mu;
    struct conn *idle;
    unsigned n_idle;
};

static char *dup_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

static cof_err encode_str(const char *s, bool keep_slash, char **out)
{
    struct cof_buf b;
    cof_buf_init(&b, 64 * 1024);
    cof_err err = srv_uri_encode(s, keep_slash, &b);
    if (err == COF_OK && b.len == 0)
        err = cof_buf_puts(&b, "");
    if (err == COF_OK)
        err = cof_buf_steal(&b, out);
    cof_buf_cleanup(&b);
    return err;
}

cof_err up_s3_new(const struct up_s3_config *c, struct up_s3 **out)
{
    *out = NULL;
    if (up_curl_load() != COF_OK)
        return COF_ERR_CONFIG;
    const char *ep = c->endpoint;
    size_t scheme = 0;
    if (ep != NULL && strncmp(ep, "http://", 7) == 0)
        scheme = 7;
    else if (ep != NULL && strncmp(ep, "https://", 8) == 0)
        scheme = 8;
    size_t hl = scheme > 0 ? strcspn(ep + scheme, "/?#") : 0;
    /* Nothing but an optional "/" after the authority: the bucket is the first path segment. */
    if (scheme == 0 || hl == 0 || (ep[scheme + hl] != '\0' && strcmp(ep + scheme + hl, "/") != 0) ||
        memchr(ep + scheme, '@', hl) != NULL || c->bucket == NULL || c->bucket[0] == '\0' ||
        c->access_key == NULL || c->secret_key == NULL)
        return COF_ERR_CONFIG;
    struct up_s3 *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return COF_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    s->base = strndup(ep, scheme + hl);
    s->host = strndup(ep + scheme, hl);
    s->region = strdup(c->region != NULL && c->region[0] != '\0' ? c->region : "us-east-1");
    s->access_key = strdup(c->access_key);
    s->secret_key = strdup(c->secret_key);
    s->ca_file = dup_or_null(c->ca_file);
    s->retry_ms = c->retry_ms;
    cof_err err = encode_str(c->bucket, false, &s->bucket);
    if (err == COF_OK && (s->base == NULL || s->host == NULL || s->region == NULL ||
                          s->access_key == NULL || s->secret_key == NULL ||
                          (c->ca_file != NULL && c->ca_file[0] != '\0' && s->ca_file == NULL)))
        err = COF_ERR_NOMEM;
    if (err != COF_OK) {
        up_s3_free(s);
        return err;
    }
    *out = s;
    return COF_OK;
}

static void conn_destroy(struct conn *c)
{
    if (c == NULL)
        return;
    curl_multi_cleanup(c->multi);
    curl_easy_cleanup(c->easy);
    free(c);
}

void up_s3_free(struct up_s3 *s)
{
    if (s == NULL)
        return;
    while (s->idle != NULL) {
        struct conn *c = s->idle;
        s->idle = c->next;
        conn_destroy(c);
    }
    pthread_mutex_destroy(&s->mu);
    free(s->base);
    free(s->host);
    free(s->region);
    free(s->bucket);
    free(s->access_key);
    if (s->secret_key != NULL)
        memset(s->secret_key, 0, strlen(s->secret_key));
    free(s->secret_key);
    free(s->ca_file);
    free(s);
}

static struct conn *conn_new(void)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->easy = curl_easy_init();
    c->multi = curl_multi_init();
    if (c->easy == NULL || c->multi == NULL) {
        conn_destroy(c);
        return NULL;
    }
    return c;
}

static struct conn *conn_get(struct up_s3 *s)
{
    pthread_mutex_lock(&s->mu);
    struct conn *c = s->idle;
    if (c != NULL) {
        s->idle = c->next;
        s->n_idle--;
    }
    pthread_mutex_unlock(&s->mu);
    return c != NULL ? c : conn_new();
}

static void conn_put(struct up_s3 *s, struct conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->n_idle < IDLE_CONNS_MAX) {
        c->next = s->idle;
        s->idle = c;
        s->n_idle++;
        c = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    conn_destroy(c);
}

/* One request, as built by the caller. */
struct req {
    const char *method; /* "GET", "PUT", "POST", "DELETE", "HEAD" */
    const char *key;    /* object key (not encoded); NULL: the bucket */
    const char *qname[4];
    const char *qval[4];
    size_t nq;
    const uint8_t *body; /* PUT/POST body */
    size_t body_len;
    uint64_t range_first, range_end; /* a Range when range_end > range_first */
    /* answer */
    long status;
    struct cof_buf resp;
    char etag[128];
    char content_range[128];
    int64_t mtime;
    uint64_t length;
    size_t body_sent;
    CURLcode cc;
};

struct hdrs {
    const char *host, *date, *sha;
};

static const char *hdr_lookup(void *arg, const char *name)
{
    const struct hdrs *h = arg;
    if (strcmp(name, "host") == 0)
        return h->host;
    if (strcmp(name, "x-amz-date") == 0)
        return h->date;
    if (strcmp(name, "x-amz-content-sha256") == 0)
        return h->sha;
    return NULL;
}

/* Path ("/bucket/key", encoded) and query ("a=b&c", encoded) of r. */
static cof_err build_target(const struct up_s3 *s, const struct req *r, char **path, char **query)
{
    struct cof_buf p, q;
    cof_buf_init(&p, 64 * 1024);
    cof_buf_init(&q, 64 * 1024);
    cof_err err = cof_buf_printf(&p, "/%s", s->bucket);
    if (err == COF_OK && r->key != NULL)
        err = cof_buf_puts(&p, "/");
    if (err == COF_OK && r->key != NULL)
        err = srv_uri_encode(r->key, true, &p);
    for (size_t i = 0; err == COF_OK && i < r->nq; i++) {
        if (i > 0)
            err = cof_buf_puts(&q, "&");
        if (err == COF_OK)
            err = srv_uri_encode(r->qname[i], false, &q);
        if (err == COF_OK)
            err = cof_buf_puts(&q, "=");
        if (err == COF_OK)
            err = srv_uri_encode(r->qval[i], false, &q);
    }
    if (err == COF_OK)
        err = cof_buf_puts(&q, ""); /* never NULL */
    if (err == COF_OK)
        err = cof_buf_steal(&p, path);
    if (err == COF_OK)
        err = cof_buf_steal(&q, query);
    cof_buf_cleanup(&p);
    cof_buf_cleanup(&q);
    return err;
}

/* The Authorization header value for r at amz_date. */
static cof_err sign(const struct up_s3 *s, const struct req *r, const char *path,
                    const char *amz_date, char *out, size_t cap)
{
    struct srv_query_param params[4];
    for (size_t i = 0; i < r->nq; i++)
        params[i] =
            (struct srv_query_param){(char *)(uintptr_t)r->qname[i], (char *)(uintptr_t)r->qval[i]};
    struct srv_query q = {params, r->nq};
    char scope[128];
    snprintf(scope, sizeof(scope), "%.8s/%s/s3/aws4_request", amz_date, s->region);
    struct hdrs h = {s->host, amz_date, "UNSIGNED-PAYLOAD"};
    struct srv_sigv4_in in = {
        .method = r->method,
        .raw_path = path,
        .query = &q,
        .presigned = false,
        .signed_headers = "host;x-amz-content-sha256;x-amz-date",
        .header = hdr_lookup,
        .header_arg = &h,
        .payload_hash = "UNSIGNED-PAYLOAD",
        .amz_date = amz_date,
        .scope = scope,
    };
    char sig[SRV_SIG_HEX_LEN + 1];
    cof_err err = srv_sigv4_sign(&in, s->secret_key, sig);
    if (err != COF_OK)
        return err;
    int n = snprintf(out, cap,
                     "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s, "
                     "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s",
                     s->access_key, scope, sig);
    return n > 0 && (size_t)n < cap ? COF_OK : COF_ERR_TOO_LARGE;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct req *r = arg;
    size_t len = size * n;
    /* Past the cap the rest is dropped: only list pages and error documents are kept. */
    if (r->resp.len + len <= RESP_BODY_MAX && cof_buf_append(&r->resp, p, len) != COF_OK)
        return 0;
    return len;
}

static size_t on_upload(char *p, size_t size, size_t n, void *arg)
{
    struct req *r = arg;
    size_t room = size * n;
    size_t left = r->body_len - r->body_sent;
    size_t k = left < room ? left : room;
    memcpy(p, r->body + r->body_sent, k);
    r->body_sent += k;
    return k;
}

/* Copies header value (trimmed) into dst when line is "name: value". */
static void take_header(const char *line, size_t len, const char *name, char *dst, size_t cap)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    size_t vl = len - nl - 1;
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vl--;
    }
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (vl >= cap)
        vl = cap - 1;
    memcpy(dst, v, vl);
    dst[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct req *r = arg;
    size_t len = size * n;
    take_header(p, len, "ETag", r->etag, sizeof(r->etag));
    take_header(p, len, "Content-Range", r->content_range, sizeof(r->content_range));
    return len;
}

/* Sets up c->easy for one attempt of r. */
static cof_err prepare(struct up_s3 *s, struct conn *c, struct req *r, struct curl_slist **hl,
                       curl_write_callback writer, void *warg)
{
    char *path = NULL, *query = NULL;
    cof_err err = build_target(s, r, &path, &query);
    char url[8192], auth[512], date_h[64], host_h[300], range_h[96], amz_date[17];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    if (err == COF_OK)
        err = sign(s, r, path, amz_date, auth, sizeof(auth));
    if (err == COF_OK) {
        int n = snprintf(url, sizeof(url), "%s%s%s%s", s->base, path, query[0] ? "?" : "", query);
        if (n < 0 || (size_t)n >= sizeof(url))
            err = COF_ERR_TOO_LARGE;
    }
    free(path);
    free(query);
    if (err != COF_OK)
        return err;
    snprintf(date_h, sizeof(date_h), "x-amz-date: %s", amz_date);
    snprintf(host_h, sizeof(host_h), "Host: %s", s->host);
    *hl = NULL;
    /* A neutral Content-Type on every request: curl's default for a POST would become the
     * stored type of a multipart upload's object. */
    const char *lines[] = {host_h,    date_h,    "x-amz-content-sha256: UNSIGNED-PAYLOAD", auth,
                           "Expect:", "Accept:", "Content-Type: application/octet-stream"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct curl_slist *t = curl_slist_append(*hl, lines[i]);
        if (t == NULL)
            return COF_ERR_NOMEM;
        *hl = t;
    }
    if (r->range_end > r->range_first) {
        snprintf(range_h, sizeof(range_h), "Range: bytes=%llu-%llu",
                 (unsigned long long)r->range_first, (unsigned long long)(r->range_end - 1));
        struct curl_slist *t = curl_slist_append(*hl, range_h);
        if (t == NULL)
            return COF_ERR_NOMEM;
        *hl = t;
    }
    CURL *e = c->easy;
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hl);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)STALL_SECONDS);
    curl_easy_setopt(e, CURLOPT_FILETIME, 1L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, writer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, warg);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (s->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
    r->body_sent = 0;
    if (strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body != NULL ? (const char *)r->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "DELETE") == 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    return COF_OK;
}

/* Drives c's multi until its transfer ends; returns the transfer's result. */
static CURLcode run_to_end(struct conn *c)
{
    int running = 1;
    CURLcode cc = CURLE_OK;
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK)
        return CURLE_FAILED_INIT;
    while (running > 0) {
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            cc = CURLE_FAILED_INIT;
            break;
        }
        if (running > 0)
            (void)curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
    }
    int left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg == CURLMSG_DONE)
            cc = m->data.result;
    }
    curl_multi_remove_handle(c->multi, c->easy);
    return cc;
}

static bool retryable_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static bool retryable_status(long st)
{
    return st == 500 || st == 502 || st == 503 || st == 504;
}

/* Sleeps a full-jitter exponential backoff for attempt k, within deadline; false when the
 * deadline has passed (no sleep). */
static bool backoff(unsigned k, int64_t deadline)
{
    int64_t now = cof_now_ms();
    if (now >= deadline)
        return false;
    uint64_t cap = (uint64_t)BACKOFF_MIN_MS << (k < 6 ? k : 6);
    if (cap > BACKOFF_MAX_MS)
        cap = BACKOFF_MAX_MS;
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        rnd = (uint32_t)now;
    int64_t ms = (int64_t)(rnd % (cap + 1));
    if (now + ms > deadline)
        ms = deadline - now;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return true;
}

/* The text of <Code> in an error document, for a log line. */
static void error_code(const struct cof_buf *b, char *out, size_t cap)
{
    out[0] = '\0';
    if (b->data == NULL)
        return;
    const char *end = b->data + b->len;
    const char *p = memmem(b->data, b->len, "<Code>", 6);
    if (p == NULL)
        return;
    p += 6;
    const char *q = memmem(p, (size_t)(end - p), "</Code>", 7);
    size_t n = q != NULL ? (size_t)(q - p) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static void log_failure(const struct req *r, const char *what)
{
    char code[64];
    error_code(&r->resp, code, sizeof(code));
    if (r->cc != CURLE_OK)
        cof_log_error(NULL, "upstream: %s %s: %s", r->method, r->key ? r->key : "(bucket)",
                      curl_easy_strerror(r->cc));
    else
        cof_log_error(NULL, "upstream: %s %s: HTTP %ld %s%s", r->method,
                      r->key ? r->key : "(bucket)", r->status, code, what);
}

/* Performs r with retries; the answer's body is in r->resp. */
static cof_err perform(struct up_s3 *s, struct req *r)
{
    int64_t deadline = cof_now_ms() + s->retry_ms;
    cof_buf_init(&r->resp, RESP_BODY_MAX);
    for (unsigned attempt = 0;; attempt++) {
        struct conn *c = conn_get(s);
        struct curl_slist *hl = NULL;
        if (c == NULL)
            return COF_ERR_NOMEM;
        cof_buf_reset(&r->resp);
        r->etag[0] = r->content_range[0] = '\0';
        r->status = 0;
        cof_err err = prepare(s, c, r, &hl, on_body, r);
        if (err != COF_OK) {
            curl_slist_free_all(hl);
            conn_put(s, c);
            return err;
        }
        r->cc = run_to_end(c);
        curl_slist_free_all(hl);
        if (r->cc == CURLE_OK) {
            curl_off_t ft = -1, cl = -1;
            curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r->status);
            curl_easy_getinfo(c->easy, CURLINFO_FILETIME_T, &ft);
            curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            r->mtime = ft > 0 ? (int64_t)ft : 0;
            r->length = cl > 0 ? (uint64_t)cl : 0;
        }
        bool again = r->cc != CURLE_OK ? retryable_curl(r->cc) : retryable_status(r->status);
        /* Only a connection that just worked goes back to the pool: one that failed (or was
         * answered 5xx, often with a close) is dropped, so that the next attempt takes a live
         * kept-alive connection rather than a dead one while the live one idles in the pool
         * holding one of the store's connection slots. */
        if (again)
            conn_destroy(c);
        else
            conn_put(s, c);
        if (!again)
            break;
        if (r->cc != CURLE_OK)
            cof_log(COF_LOG_DEBUG, NULL, "upstream: %s %s: %s; retry %u", r->method,
                    r->key ? r->key : "(bucket)", curl_easy_strerror(r->cc), attempt + 1);
        else
            cof_log(COF_LOG_DEBUG, NULL, "upstream: %s %s: HTTP %ld; retry %u", r->method,
                    r->key ? r->key : "(bucket)", r->status, attempt + 1);
        if (!backoff(attempt, deadline)) {
            log_failure(r, " (retries spent)");
            return COF_ERR_SERVICE_UNAVAILABLE;
        }
    }
    if (r->cc != CURLE_OK) {
        log_failure(r, "");
        return COF_ERR_IO;
    }
    if (r->status == 404)
        return COF_ERR_NOT_FOUND;
    if (r->status < 200 || r->status > 299) {
        log_failure(r, "");
        return COF_ERR_IO;
    }
    return COF_OK;
}

cof_err up_s3_put(struct up_s3 *s, const char *key, const uint8_t *body, size_t n)
{
    struct req r = {.method = "PUT", .key = key, .body = body, .body_len = n};
    cof_err err = perform(s, &r);
    cof_buf_cleanup(&r.resp);
    return err == COF_ERR_NOT_FOUND ? COF_ERR_IO : err;
}

/* One step of c's transfer; true once it is over (*cc: how). */
static bool multi_step(struct conn *c, CURLcode *cc)
{
    int running = 0;
    if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
        *cc = CURLE_FAILED_INIT;
        return true;
    }
    bool done = false;
    int left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg == CURLMSG_DONE) {
            done = true;
            *cc = m->data.result;
        }
    }
    return done || running == 0;
}

/* --- streamed PUT --- */

struct up_s3_put {
    struct up_s3 *s;
    struct conn *c;
    struct curl_slist *hl;
    char *key;
    struct req r;
    uint64_t size, pushed; /* bytes in all; bytes handed to up_s3_put_write so far */
    const uint8_t *cur;    /* bytes of the write in progress not yet taken */
    size_t cur_len;
    bool paused, done;
};

static size_t put_on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct up_s3_put *p = arg;
    if (p->cur_len == 0) {
        p->paused = true;
        return CURL_READFUNC_PAUSE;
    }
    size_t k = size * n < p->cur_len ? size * n : p->cur_len;
    memcpy(buf, p->cur, k);
    p->cur += k;
    p->cur_len -= k;
    return k;
}

static void put_free(struct up_s3_put *p)
{
    if (p == NULL)
        return;
    if (p->c != NULL) {
        curl_multi_remove_handle(p->c->multi, p->c->easy);
        conn_destroy(p->c);
    }
    curl_slist_free_all(p->hl);
    cof_buf_cleanup(&p->r.resp);
    free(p->key);
    free(p);
}

/* Moves the transfer on; waits for the connection when wait and it has nothing to do. */
static void put_pump(struct up_s3_put *p, bool wait)
{
    if (p->paused && p->cur_len > 0) {
        p->paused = false;
        curl_easy_pause(p->c->easy, CURLPAUSE_CONT); /* may call put_on_read at once */
    }
    p->done = multi_step(p->c, &p->r.cc);
    if (!p->done && wait)
        (void)curl_multi_poll(p->c->multi, NULL, 0, 1000, NULL);
}

/* The outcome of a transfer that is over; frees *pp. */
static cof_err put_outcome(struct up_s3_put **pp, bool all_sent)
{
    struct up_s3_put *p = *pp;
    *pp = NULL;
    cof_err err = COF_OK;
    if (p->r.cc == CURLE_OK)
        curl_easy_getinfo(p->c->easy, CURLINFO_RESPONSE_CODE, &p->r.status);
    if (p->r.cc != CURLE_OK)
        err = retryable_curl(p->r.cc) ? COF_ERR_SERVICE_UNAVAILABLE : COF_ERR_IO;
    else if (retryable_status(p->r.status))
        err = COF_ERR_SERVICE_UNAVAILABLE;
    else if (p->r.status < 200 || p->r.status > 299 || !all_sent)
        err = COF_ERR_IO;
    if (err != COF_OK) {
        log_failure(&p->r, " (streamed PUT)");
    } else {
        curl_multi_remove_handle(p->c->multi, p->c->easy);
        conn_put(p->s, p->c); /* it worked: kept alive for others */
        p->c = NULL;
    }
    put_free(p);
    return err;
}

cof_err up_s3_put_open(struct up_s3 *s, const char *key, uint64_t size, struct up_s3_put **out)
{
    *out = NULL;
    struct up_s3_put *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return COF_ERR_NOMEM;
    p->s = s;
    p->size = size;
    p->key = strdup(key);
    p->r.method = "PUT";
    p->r.key = p->key;
    cof_buf_init(&p->r.resp, RESP_BODY_MAX);
    /* A connection of its own: a pooled one the store closed meanwhile would fail the request,
     * and without the body there is no retry. */
    p->c = p->key != NULL ? conn_new() : NULL;
    cof_err err = p->c != NULL ? prepare(s, p->c, &p->r, &p->hl, on_body, &p->r) : COF_ERR_NOMEM;
    if (err == COF_OK) {
        CURL *e = p->c->easy;
        curl_easy_setopt(e, CURLOPT_READFUNCTION, put_on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, p);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
        /* The pace is the client's: the request idles while coffer waits for the body (its
         * body_timeout guards that side). A stall of the store is caught by put_wait. */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 0L);
        /* One read and one send per 1 MiB piece (the default 64 KiB: 16 of each). */
        curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
        if (curl_multi_add_handle(p->c->multi, e) != CURLM_OK)
            err = COF_ERR_NOMEM;
    }
    if (err != COF_OK) {
        if (p->c != NULL)
            conn_destroy(p->c);
        p->c = NULL;
        put_free(p);
        return err;
    }
    *out = p;
    return COF_OK;
}

/* Pumps until the write in progress is taken (or, with all, until the answer is in); false
 * when the store took nothing for STALL_SECONDS. */
static bool put_wait(struct up_s3_put *p, bool all)
{
    int64_t since = cof_now_ms();
    size_t left = p->cur_len;
    while (!p->done && (all || p->cur_len > 0)) {
        put_pump(p, true);
        int64_t now = cof_now_ms();
        if (p->cur_len < left) {
            left = p->cur_len;
            since = now;
        } else if (now - since > STALL_SECONDS * 1000) {
            cof_log_error(NULL, "upstream: PUT %s: the store took nothing for %d s", p->key,
                          STALL_SECONDS);
            return false;
        }
    }
    return true;
}

cof_err up_s3_put_write(struct up_s3_put **pp, const uint8_t *body, size_t n)
{
    struct up_s3_put *p = *pp;
    if (n > p->size - p->pushed) {
        up_s3_put_abort(p);
        *pp = NULL;
        return COF_ERR_INCOMPLETE_BODY;
    }
    p->pushed += n;
    p->cur = body;
    p->cur_len = n;
    if (!put_wait(p, false)) {
        up_s3_put_abort(p);
        *pp = NULL;
        return COF_ERR_SERVICE_UNAVAILABLE;
    }
    /* An answer before the whole body (an error, or a connection cut) ends the request. */
    return p->done ? put_outcome(pp, p->pushed == p->size && p->cur_len == 0) : COF_OK;
}

cof_err up_s3_put_finish(struct up_s3_put **pp)
{
    struct up_s3_put *p = *pp;
    if (p->pushed != p->size) {
        up_s3_put_abort(p);
        *pp = NULL;
        return COF_ERR_INCOMPLETE_BODY;
    }
    if (!put_wait(p, true)) {
        up_s3_put_abort(p);
        *pp = NULL;
        return COF_ERR_SERVICE_UNAVAILABLE;
    }
    return put_outcome(pp, true);
}

void up_s3_put_abort(struct up_s3_put *p)
{
    put_free(p); /* the connection goes with the request half sent */
}

/* The text of the first <name> element of an answer (malloc'd), or NULL. */
static char *first_elem(const struct cof_buf *b, const char *name)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    if (b->data == NULL)
        return NULL;
    const char *p = memmem(b->data, b->len, open, strlen(open));
    if (p == NULL)
        return NULL;
    p += strlen(open);
    const char *q = memmem(p, (size_t)(b->data + b->len - p), close, strlen(close));
    return q != NULL ? strndup(p, (size_t)(q - p)) : NULL;
}

cof_err up_s3_mpu_start(struct up_s3 *s, const char *key, char **upload_id)
{
    struct req r = {.method = "POST", .key = key, .qname = {"uploads"}, .qval = {""}, .nq = 1};
    *upload_id = NULL;
    cof_err err = perform(s, &r);
    if (err == COF_OK) {
        *upload_id = first_elem(&r.resp, "UploadId");
        if (*upload_id == NULL) {
            cof_log_error(NULL, "upstream: no UploadId for %s", key);
            err = COF_ERR_IO;
        }
    }
    cof_buf_cleanup(&r.resp);
    return err == COF_ERR_NOT_FOUND ? COF_ERR_IO : err;
}

cof_err up_s3_mpu_part(struct up_s3 *s, const char *key, const char *upload_id, unsigned part,
                       const uint8_t *body, size_t n, char **etag)
{
    char num[16];
    snprintf(num, sizeof(num), "%u", part);
    struct req r = {.method = "PUT",
                    .key = key,
                    .qname = {"partNumber", "uploadId"},
                    .qval = {num, upload_id},
                    .nq = 2,
                    .body = body,
                    .body_len = n};
    *etag = NULL;
    cof_err err = perform(s, &r);
    if (err == COF_OK) {
        *etag = r.etag[0] != '\0' ? strdup(r.etag) : NULL;
        if (*etag == NULL) {
            cof_log_error(NULL, "upstream: no ETag for part %u of %s", part, key);
            err = COF_ERR_IO;
        }
    }
    cof_buf_cleanup(&r.resp);
    return err == COF_ERR_NOT_FOUND ? COF_ERR_IO : err;
}

cof_err up_s3_mpu_complete(struct up_s3 *s, const char *key, const char *upload_id,
                           char *const *etags, unsigned n)
{
    struct cof_buf doc;
    cof_buf_init(&doc, 64u * 1024 * 1024);
    cof_err err = cof_buf_puts(&doc, "<CompleteMultipartUpload>");
    for (unsigned i = 0; err == COF_OK && i < n; i++)
        err = cof_buf_printf(&doc, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1,
                             etags[i]);
    if (err == COF_OK)
        err = cof_buf_puts(&doc, "</CompleteMultipartUpload>");
    struct req r = {.method = "POST",
                    .key = key,
                    .qname = {"uploadId"},
                    .qval = {upload_id},
                    .nq = 1,
                    .body = (const uint8_t *)doc.data,
                    .body_len = doc.len};
    if (err == COF_OK)
        err = perform(s, &r);
    /* A 200 whose body is an <Error> is a failure (S3 sends it once the upload has begun). */
    if (err == COF_OK && r.resp.data != NULL && memmem(r.resp.data, r.resp.len, "<Error>", 7)) {
        log_failure(&r, " (error in a 200 answer)");
        err = COF_ERR_IO;
    }
    cof_buf_cleanup(&r.resp);
    cof_buf_cleanup(&doc);
    return err == COF_ERR_NOT_FOUND ? COF_ERR_IO : err;
}

void up_s3_mpu_abort(struct up_s3 *s, const char *key, const char *upload_id)
{
    struct req r = {
        .method = "DELETE", .key = key, .qname = {"uploadId"}, .qval = {upload_id}, .nq = 1};
    (void)perform(s, &r);
    cof_buf_cleanup(&r.resp);
}

cof_err up_s3_get_small(struct up_s3 *s, const char *key, void *buf, size_t cap, size_t *out_n)
{
    struct req r = {.method = "GET", .key = key};
    *out_n = 0;
    cof_err err = perform(s, &r);
    if (err == COF_OK && r.resp.len > cap)
        err = COF_ERR_TOO_LARGE;
    if (err == COF_OK && r.resp.len > 0) {
        memcpy(buf, r.resp.data, r.resp.len);
        *out_n = r.resp.len;
    }
    cof_buf_cleanup(&r.resp);
    return err;
}

cof_err up_s3_delete(struct up_s3 *s, const char *key)
{
    struct req r = {.method = "DELETE", .key = key};
    cof_err err = perform(s, &r);
    cof_buf_cleanup(&r.resp);
    return err == COF_ERR_NOT_FOUND ? COF_OK : err;
}

cof_err up_s3_head(struct up_s3 *s, const char *key, uint64_t *size, int64_t *mtime)
{
    struct req r = {.method = "HEAD", .key = key};
    cof_err err = perform(s, &r);
    if (err == COF_OK && size != NULL)
        *size = r.length;
    if (err == COF_OK && mtime != NULL)
        *mtime = r.mtime;
    cof_buf_cleanup(&r.resp);
    return err;
}

/* "2026-12-05T22:10:00.000Z" -> epoch seconds; 0 if not in that form. */
static int64_t parse_iso8601(const char *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = t != NULL ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (end == NULL)
        return 0;
    return (int64_t)timegm(&tm);
}

/* Walks the elements under a listing page's root: IsTruncated is read here, every other one
 * goes to fn. COF_ERR_IO for a page that does not parse. */
static cof_err walk_page(const char *body, size_t len, cof_err (*fn)(xmlNode *n, void *ctx),
                         void *ctx, bool *truncated)
{
    xmlDocPtr doc = NULL;
    *truncated = false;
    cof_err err = srv_xmltree_parse(body != NULL ? body : "", len, RESP_BODY_MAX, &doc);
    if (err != COF_OK)
        return COF_ERR_IO;
    xmlNode *root = xmlDocGetRootElement(doc);
    for (xmlNode *n = root != NULL ? root->children : NULL; err == COF_OK && n != NULL;
         n = n->next) {
        if (srv_xmltree_is_elem(n, "IsTruncated")) {
            char *text = NULL;
            err = srv_xmltree_leaf_text(n, true, &text);
            *truncated = err == COF_OK && strcmp(text, "true") == 0;
            free(text);
        } else {
            err = fn(n, ctx);
        }
    }
    srv_xmltree_free(doc);
    return err;
}

/* Replaces *dst with n's text (trimmed when trim). */
static cof_err take_text(xmlNode *n, bool trim, char **dst)
{
    char *text = NULL;
    cof_err err = srv_xmltree_leaf_text(n, trim, &text);
    if (err == COF_OK) {
        free(*dst);
        *dst = text;
    }
    return err;
}

/* The texts of n's first children named names[0..k) into out[] (NULL where absent): the first
 * name's as it is (a key), the others trimmed. */
static cof_err child_texts(xmlNode *n, const char *const *names, size_t k, char **out)
{
    cof_err err = COF_OK;
    for (xmlNode *c = n->children; err == COF_OK && c != NULL; c = c->next) {
        for (size_t i = 0; i < k; i++) {
            if (out[i] == NULL && srv_xmltree_is_elem(c, names[i])) {
                err = srv_xmltree_leaf_text(c, i > 0, &out[i]);
                break;
            }
        }
    }
    return err;
}

struct list_page {
    up_s3_list_fn cb;
    void *arg;
    char **next;
};

static cof_err list_page_elem(xmlNode *n, void *ctx)
{
    struct list_page *lp = ctx;
    if (srv_xmltree_is_elem(n, "NextContinuationToken"))
        return take_text(n, true, lp->next);
    if (!srv_xmltree_is_elem(n, "Contents"))
        return COF_OK;
    static const char *const names[] = {"Key", "LastModified"};
    char *f[2] = {NULL, NULL};
    cof_err err = child_texts(n, names, 2, f);
    if (err == COF_OK && f[0] != NULL)
        err = lp->cb(f[0], parse_iso8601(f[1]), lp->arg);
    free(f[0]);
    free(f[1]);
    return err;
}

cof_err up_s3_parse_list_page(const char *body, size_t len, up_s3_list_fn cb, void *arg,
                              char **next)
{
    *next = NULL;
    struct list_page lp = {cb, arg, next};
    bool truncated = false;
    cof_err err = walk_page(body, len, list_page_elem, &lp, &truncated);
    if (err == COF_OK && truncated && (*next == NULL || (*next)[0] == '\0')) {
        cof_log_error(NULL, "upstream: truncated listing without a continuation token");
        err = COF_ERR_IO;
    }
    if (err != COF_OK || !truncated) {
        free(*next);
        *next = NULL;
    }
    return err;
}

cof_err up_s3_list(struct up_s3 *s, const char *prefix, unsigned max_keys, up_s3_list_fn cb,
                   void *arg)
{
    char *token = NULL;
    char mk[16];
    snprintf(mk, sizeof(mk), "%u", max_keys > 0 && max_keys < 1000 ? max_keys : 1000);
    cof_err err = COF_OK;
    do {
        struct req r = {.method = "GET",
                        .key = NULL,
                        .qname = {"list-type", "prefix", "max-keys", "continuation-token"},
                        .qval = {"2", prefix, mk, token},
                        .nq = token != NULL ? 4 : 3};
        err = perform(s, &r);
        free(token);
        token = NULL;
        if (err == COF_ERR_NOT_FOUND) {
            log_failure(&r, " (bucket missing?)");
            err = COF_ERR_IO;
        }
        if (err == COF_OK)
            err = up_s3_parse_list_page(r.resp.data, r.resp.len, cb, arg, &token);
        cof_buf_cleanup(&r.resp);
    } while (err == COF_OK && token != NULL && max_keys == 0);
    free(token);
    return err;
}

/* --- streamed GET --- */

struct up_s3_get {
    struct up_s3 *s;
    struct conn *c; /* while a transfer runs */
    struct curl_slist *hl;
    char *key;
    struct req r;
    uint64_t pos; /* offset of buf[head] */
    uint64_t end; /* end of the range */
    uint64_t expect_total;
    uint8_t *buf;
    size_t head, len; /* unread bytes are buf[head .. head + len) */
    bool paused;
    bool done; /* transfer over (r.cc, r.status tell how) */
    bool checked;
    cof_err err; /* a failure found in a callback */
    int64_t deadline;
    unsigned attempt;
};

static size_t get_on_body(char *p, size_t size, size_t n, void *arg)
{
    struct up_s3_get *g = arg;
    size_t len = size * n;
    long st = 0;
    curl_easy_getinfo(g->c->easy, CURLINFO_RESPONSE_CODE, &st);
    if (st != 206 && st != 200)
        return on_body(p, size, n, &g->r); /* an error document */
    if (g->head > 0 && g->head + g->len + len > GET_BUF) {
        memmove(g->buf, g->buf + g->head, g->len);
        g->head = 0;
    }
    if (g->len + len > GET_BUF) {
        g->paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    memcpy(g->buf + g->head + g->len, p, len);
    g->len += len;
    return len;
}

/* Checks the status and Content-Range of a started answer once its headers are in. */
static cof_err check_answer(struct up_s3_get *g)
{
    long st = 0;
    curl_easy_getinfo(g->c->easy, CURLINFO_RESPONSE_CODE, &st);
    g->r.status = st;
    if (st == 404)
        return COF_ERR_NOT_FOUND;
    if (st != 206) {
        if (retryable_status(st))
            return COF_ERR_SERVICE_UNAVAILABLE;
        log_failure(&g->r, " (ranged GET)");
        return COF_ERR_IO;
    }
    unsigned long long a = 0, b = 0, total = 0;
    if (sscanf(g->r.content_range, "bytes %llu-%llu/%llu", &a, &b, &total) != 3 || a != g->pos ||
        b + 1 > total) {
        cof_log_error(NULL, "upstream: GET %s: unexpected Content-Range '%s'", g->key,
                      g->r.content_range);
        return COF_ERR_INTEGRITY;
    }
    if (g->expect_total != UINT64_MAX && total != g->expect_total) {
        cof_log_error(NULL, "upstream: %s has %llu bytes, expected %llu", g->key, total,
                      (unsigned long long)g->expect_total);
        return COF_ERR_INTEGRITY;
    }
    if (b + 1 < g->end)
        g->end = b + 1; /* the object ends before the range did */
    return COF_OK;
}

static void get_stop(struct up_s3_get *g, bool reuse)
{
    if (g->c == NULL)
        return;
    curl_multi_remove_handle(g->c->multi, g->c->easy);
    if (reuse)
        conn_put(g->s, g->c);
    else
        conn_destroy(g->c);
    g->c = NULL;
    curl_slist_free_all(g->hl);
    g->hl = NULL;
}

/* Starts (or restarts) the transfer of [pos, end). */
static cof_err get_start(struct up_s3_get *g)
{
    g->c = conn_get(g->s);
    if (g->c == NULL)
        return COF_ERR_NOMEM;
    g->r.range_first = g->pos;
    g->r.range_end = g->end;
    g->r.etag[0] = g->r.content_range[0] = '\0';
    g->r.status = 0;
    g->r.cc = CURLE_OK;
    cof_buf_reset(&g->r.resp);
    g->done = g->checked = g->paused = false;
    cof_err err = prepare(g->s, g->c, &g->r, &g->hl, get_on_body, g);
    if (err == COF_OK && curl_multi_add_handle(g->c->multi, g->c->easy) != CURLM_OK)
        err = COF_ERR_NOMEM;
    if (err != COF_OK) {
        curl_slist_free_all(g->hl);
        g->hl = NULL;
        conn_destroy(g->c);
        g->c = NULL;
    }
    return err;
}

/* Moves the transfer on until some bytes are buffered or it ends. */
static void get_pump(struct up_s3_get *g)
{
    if (g->paused && g->len <= GET_BUF - CURL_MAX_WRITE_SIZE) {
        g->paused = false;
        curl_easy_pause(g->c->easy, CURLPAUSE_CONT); /* may call get_on_body at once */
    }
    g->done = multi_step(g->c, &g->r.cc);
    if (!g->done && g->len == 0 && !g->paused)
        (void)curl_multi_poll(g->c->multi, NULL, 0, 1000, NULL);
}

cof_err up_s3_get_open(struct up_s3 *s, const char *key, uint64_t first, uint64_t end,
                       uint64_t expect_total, struct up_s3_get **out)
{
    *out = NULL;
    struct up_s3_get *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return COF_ERR_NOMEM;
    g->s = s;
    g->key = strdup(key);
    g->buf = malloc(GET_BUF);
    g->pos = first;
    g->end = end;
    g->expect_total = expect_total;
    g->r.method = "GET";
    g->r.key = g->key;
    g->deadline = 0; /* set at the first failure */
    cof_buf_init(&g->r.resp, RESP_BODY_MAX);
    if (g->key == NULL || g->buf == NULL) {
        up_s3_get_close(g);
        return COF_ERR_NOMEM;
    }
    *out = g;
    return COF_OK;
}

uint64_t up_s3_get_pos(const struct up_s3_get *g)
{
    return g->pos;
}

/* After a transfer ended short of g->end, or failed before its answer: retry or give up. */
static cof_err get_failed(struct up_s3_get *g, cof_err why)
{
    bool transient = why == COF_ERR_SERVICE_UNAVAILABLE ||
                     (why == COF_OK && (g->r.cc == CURLE_OK || retryable_curl(g->r.cc)));
    get_stop(g, false);
    if (!transient)
        return why != COF_OK ? why : COF_ERR_IO;
    /* The retry time counts from the first failure since bytes last flowed: a stream paused
     * for long behind a slow client still gets all of it when its connection breaks. */
    if (g->deadline == 0)
        g->deadline = cof_now_ms() + g->s->retry_ms;
    if (!backoff(g->attempt++, g->deadline)) {
        log_failure(&g->r, " (retries spent)");
        return COF_ERR_SERVICE_UNAVAILABLE;
    }
    if (g->attempt == 1)
        cof_log_warn(NULL, "upstream: GET %s broke at byte %llu (%s); resuming there", g->key,
                     (unsigned long long)g->pos,
                     g->r.cc != CURLE_OK ? curl_easy_strerror(g->r.cc) : "answer cut short");
    return COF_OK; /* the caller starts again from g->pos */
}

cof_err up_s3_get_read(struct up_s3_get *g, void *buf, size_t n, size_t *out_n)
{
    *out_n = 0;
    while (g->len == 0 && g->pos < g->end) {
        cof_err err = COF_OK;
        if (g->c == NULL) {
            err = get_start(g);
            if (err != COF_OK)
                return err;
        }
        get_pump(g);
        /* Body bytes (or the end) mean the headers are all in: check them once per transfer. */
        if (!g->checked && (g->len > 0 || g->done)) {
            if (g->done && g->len == 0 && g->r.cc != CURLE_OK)
                err = COF_OK; /* broke before an answer: get_failed looks at r.cc */
            else if ((err = check_answer(g)) == COF_OK)
                g->checked = true;
            if (g->checked && g->len > 0) {
                g->deadline = 0; /* bytes flow again: a later break gets the whole retry time */
                g->attempt = 0;
            }
            if (!g->checked) {
                err = get_failed(g, err);
                if (err != COF_OK)
                    return err;
                continue;
            }
        }
        if (g->done && g->len == 0 && g->pos < g->end) {
            /* Ended (or broke) before the range did: resume from pos. */
            err = get_failed(g, COF_OK);
            if (err != COF_OK)
                return err;
        }
    }
    size_t k = g->len < n ? g->len : n;
    if (g->pos + k > g->end)
        k = (size_t)(g->end - g->pos);
    memcpy(buf, g->buf + g->head, k);
    g->head += k;
    g->len -= k;
    g->pos += k;
    if (g->len == 0)
        g->head = 0;
    if (g->pos >= g->end && g->c != NULL) {
        /* The range is read: let the transfer finish so that the connection can be reused. */
        while (!g->done)
            get_pump(g);
        get_stop(g, g->r.cc == CURLE_OK);
    }
    *out_n = k;
    return COF_OK;
}

void up_s3_get_close(struct up_s3_get *g)
{
    if (g == NULL)
        return;
    get_stop(g, false);
    cof_buf_cleanup(&g->r.resp);
    free(g->buf);
    free(g->key);
    free(g);
}

struct uploads_page {
    up_s3_upload_fn cb;
    void *arg;
    char **next_key, **next_upload;
};

static cof_err uploads_page_elem(xmlNode *n, void *ctx)
{
    struct uploads_page *up = ctx;
    if (srv_xmltree_is_elem(n, "NextKeyMarker"))
        return take_text(n, false, up->next_key);
    if (srv_xmltree_is_elem(n, "NextUploadIdMarker"))
        return take_text(n, false, up->next_upload);
    if (!srv_xmltree_is_elem(n, "Upload"))
        return COF_OK;
    static const char *const names[] = {"Key", "UploadId", "Initiated"};
    char *f[3] = {NULL, NULL, NULL};
    cof_err err = child_texts(n, names, 3, f);
    if (err == COF_OK && f[0] != NULL && f[1] != NULL && f[1][0] != '\0')
        err = up->cb(f[0], f[1], parse_iso8601(f[2]), up->arg);
    for (size_t i = 0; i < 3; i++)
        free(f[i]);
    return err;
}

cof_err up_s3_parse_uploads_page(const char *body, size_t len, up_s3_upload_fn cb, void *arg,
                                 char **next_key, char **next_upload)
{
    *next_key = *next_upload = NULL;
    struct uploads_page up = {cb, arg, next_key, next_upload};
    bool truncated = false;
    cof_err err = walk_page(body, len, uploads_page_elem, &up, &truncated);
    if (err == COF_OK && truncated && (*next_key == NULL || (*next_key)[0] == '\0')) {
        cof_log_error(NULL, "upstream: truncated upload listing without a marker");
        err = COF_ERR_IO;
    }
    if (err != COF_OK || !truncated) {
        free(*next_key);
        free(*next_upload);
        *next_key = *next_upload = NULL;
    }
    return err;
}

cof_err up_s3_list_uploads(struct up_s3 *s, const char *prefix, up_s3_upload_fn cb, void *arg)
{
    char *key = NULL, *upload = NULL;
    cof_err err = COF_OK;
    do {
        struct req r = {.method = "GET",
                        .key = NULL,
                        .qname = {"uploads", "prefix", "key-marker", "upload-id-marker"},
                        .qval = {"", prefix, key, upload != NULL ? upload : ""},
                        .nq = key != NULL ? 4 : 2};
        err = perform(s, &r);
        free(key);
        free(upload);
        key = upload = NULL;
        if (err == COF_ERR_NOT_FOUND)
            err = COF_ERR_IO;
        if (err == COF_OK)
            err = up_s3_parse_uploads_page(r.resp.data, r.resp.len, cb, arg, &key, &upload);
        cof_buf_cleanup(&r.resp);
    } while (err == COF_OK && key != NULL);
    free(key);
    free(upload);
    return err;
}

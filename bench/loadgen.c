/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loadgen: tiny HTTP/1.1 load generator for bench/run (coffer benchmark harness).
 *
 * Modes (one JSON object is printed on stdout per run):
 *   put-large  --key K --size BYTES        one PUT streamed from a 1 MiB pattern buffer
 *   get-large  --key K                     one GET; body read in 1 MiB chunks and discarded
 *   put-small  --size BYTES --conns C      keep-alive PUTs of distinct keys PREFIX%08d,
 *              (--duration S [--warmup S] | --count N) [--seq-start N]
 *   get-small  --nkeys N --conns C --duration S [--warmup S]   GETs of random PREFIX%08d, N keys
 *   delete     --count N --conns C [--seq-start N]            DELETE PREFIX%08d (cleanup)
 *   multipart  --key K --size BYTES --part-size BYTES [--conns N]
 *              CreateMultipartUpload, UploadPart 1..n (sequential on one keep-alive
 *              connection, or N connections taking the next part number in turn),
 *              CompleteMultipartUpload; the --header lines go on Create and every part
 *   req        --method M --path P         one request, no body; prints the status
 *   sink       --port N --size BYTES --duration S [--count N]
 *              a storage-less HTTP server: drops PUT bodies, answers GET with BYTES bytes
 *              (ceiling of one loopback stream on this machine)
 * Common options:
 *   --host IP --port N [--host-header H] --bucket B [--prefix P] [--timeout S]
 *   [--access-key AK --secret-key SK [--region R]]   sign with AWS SigV4 (UNSIGNED-PAYLOAD)
 *   [--header 'Name: value']...   extra request header (signed; up to 16); put-large, get-large,
 *                                 multipart (Create and parts, not Complete) and req
 *   [--body-file F]   put-large/multipart body: F repeated (sendfile() from F, so the body is
 *                     known to the caller, e.g. for x-amz-checksum-*); default: a 1 MiB pattern
 *
 * The small-object modes run every connection on one thread with epoll (level-triggered),
 * so the client spends as little CPU as possible on a machine it shares with the server.
 * Every loop is bounded: by --duration/--count plus a hard deadline (--timeout, default 60 s).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ------------------------------------------------------------------ SHA-256 / HMAC */

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} sha256_ctx;

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256_ctx *c, const uint8_t *p)
{
    uint32_t w[64], a, b, cc, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g, g = f, f = e, e = d + t1, d = cc, cc = b, b = a, a = t1 + t2;
    }
    c->h[0] += a, c->h[1] += b, c->h[2] += cc, c->h[3] += d;
    c->h[4] += e, c->h[5] += f, c->h[6] += g, c->h[7] += h;
}

static void sha256_init(sha256_ctx *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof(iv));
    c->len = 0;
    c->n = 0;
}

static void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->len += len;
    while (len > 0) {
        size_t take = 64 - c->n < len ? 64 - c->n : len;
        memcpy(c->buf + c->n, p, take);
        c->n += take, p += take, len -= take;
        if (c->n == 64) {
            sha256_block(c, c->buf);
            c->n = 0;
        }
    }
}

static void sha256_final(sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->len * 8;
    uint8_t pad = 0x80, zero = 0, lenb[8];
    sha256_update(c, &pad, 1);
    while (c->n != 56)
        sha256_update(c, &zero, 1);
    for (int i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(c, lenb, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

static void hmac_sha256(const uint8_t *key, size_t klen, const void *msg, size_t mlen,
                        uint8_t out[32])
{
    uint8_t k[64] = {0}, ipad[64], opad[64], inner[32];
    sha256_ctx c;
    if (klen > 64) {
        sha256_init(&c);
        sha256_update(&c, key, klen);
        sha256_final(&c, k);
    } else {
        memcpy(k, key, klen);
    }
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    sha256_init(&c);
    sha256_update(&c, ipad, 64);
    sha256_update(&c, msg, mlen);
    sha256_final(&c, inner);
    sha256_init(&c);
    sha256_update(&c, opad, 64);
    sha256_update(&c, inner, 32);
    sha256_final(&c, out);
}

static void hex32(const uint8_t in[32], char out[65])
{
    static const char *d = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[64] = 0;
}

/* ------------------------------------------------------------------ options */

static struct {
    const char *mode;
    const char *host;
    int port;
    const char *host_header;
    const char *bucket;
    const char *prefix;
    const char *key;
    const char *method;
    const char *path;
    const char *ak, *sk, *region;
    int conns;
    double duration, warmup, timeout;
    long long size;
    long long count;
    long long nkeys;
    long long seq_start;
    long long part_size;
    const char *body_file;
    const char *hdr[16]; /* extra headers "Name: value" */
    int nhdr;
} O = {.host = "127.0.0.1",
       .bucket = "bench",
       .prefix = "k",
       .region = "us-east-1",
       .conns = 1,
       .duration = 5,
       .timeout = 60,
       .size = 4096,
       .count = -1,
       .nkeys = 1000,
       .part_size = 8ll << 20};

static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static char g_hosthdr[300];

/* SigV4 state: the signing key depends on the date only (shared by the multipart threads) */
static char g_sk_day[9];
static uint8_t g_signkey[32];
static pthread_mutex_t g_sk_lock = PTHREAD_MUTEX_INITIALIZER;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SigV4 canonical query string of q (the part after '?', may be NULL): parameters sorted,
 * "name" becomes "name=". Values are used as given (the harness only sends URI-safe ones). */
static void canon_query(const char *q, char *out, size_t cap)
{
    char tmp[1024], *items[64], *save = NULL;
    int n = 0;
    size_t o = 0;
    out[0] = 0;
    if (q == NULL || *q == 0)
        return;
    snprintf(tmp, sizeof(tmp), "%s", q);
    for (char *t = strtok_r(tmp, "&", &save); t != NULL && n < 64; t = strtok_r(NULL, "&", &save))
        items[n++] = t;
    qsort(items, (size_t)n, sizeof(items[0]), cmp_str);
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s%s", i ? "&" : "", items[i],
                              strchr(items[i], '=') ? "" : "=");
}

/* Appends the auth headers (or nothing) for METHOD PATH (with its query) to dst; the extra
 * headers (when with_extra) are signed too. Returns length written. */
static int auth_headers(char *dst, size_t cap, const char *method, const char *path, int with_extra)
{
    if (O.ak == NULL)
        return 0;
    char amzdate[17], day[9], canon[8192], sts[512], hx[65], sig[65], uri[1024], query[1024];
    char lines[20][600], *sorted[20], signed_h[1024];
    uint8_t dig[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(amzdate, sizeof(amzdate), "%Y%m%dT%H%M%SZ", &tm);
    memcpy(day, amzdate, 8);
    day[8] = 0;
    pthread_mutex_lock(&g_sk_lock);
    if (strcmp(day, g_sk_day) != 0) {
        char k0[300];
        uint8_t k1[32], k2[32], k3[32];
        snprintf(k0, sizeof(k0), "AWS4%s", O.sk);
        hmac_sha256((uint8_t *)k0, strlen(k0), day, 8, k1);
        hmac_sha256(k1, 32, O.region, strlen(O.region), k2);
        hmac_sha256(k2, 32, "s3", 2, k3);
        hmac_sha256(k3, 32, "aws4_request", 12, g_signkey);
        memcpy(g_sk_day, day, 9);
    }
    uint8_t signkey[32];
    memcpy(signkey, g_signkey, 32);
    pthread_mutex_unlock(&g_sk_lock);
    const char *qm = strchr(path, '?');
    snprintf(uri, sizeof(uri), "%.*s", (int)(qm ? qm - path : (long)strlen(path)), path);
    canon_query(qm ? qm + 1 : NULL, query, sizeof(query));
    /* canonical headers "name:value", sorted by name */
    int nl = 0;
    snprintf(lines[nl++], sizeof(lines[0]), "host:%s", g_hosthdr);
    snprintf(lines[nl++], sizeof(lines[0]), "x-amz-content-sha256:UNSIGNED-PAYLOAD");
    snprintf(lines[nl++], sizeof(lines[0]), "x-amz-date:%s", amzdate);
    for (int i = 0; with_extra && i < O.nhdr; i++) {
        const char *c = strchr(O.hdr[i], ':'), *v = c + 1;
        size_t k = (size_t)(c - O.hdr[i]);
        while (*v == ' ' || *v == '\t')
            v++;
        char *l = lines[nl++]; /* k < 100 and the value < 400 bytes: checked in main */
        for (size_t j = 0; j < k; j++)
            l[j] = (char)tolower((unsigned char)O.hdr[i][j]);
        snprintf(l + k, sizeof(lines[0]) - k, ":%s", v);
    }
    for (int i = 0; i < nl; i++)
        sorted[i] = lines[i];
    qsort(sorted, (size_t)nl, sizeof(sorted[0]), cmp_str);
    int n = snprintf(canon, sizeof(canon), "%s\n%s\n%s\n", method, uri, query);
    size_t so = 0;
    for (int i = 0; i < nl; i++) {
        n += snprintf(canon + n, sizeof(canon) - (size_t)n, "%s\n", sorted[i]);
        so += (size_t)snprintf(signed_h + so, sizeof(signed_h) - so, "%s%.*s", i ? ";" : "",
                               (int)(strchr(sorted[i], ':') - sorted[i]), sorted[i]);
    }
    n += snprintf(canon + n, sizeof(canon) - (size_t)n, "\n%s\nUNSIGNED-PAYLOAD", signed_h);
    if ((size_t)n >= sizeof(canon) || so >= sizeof(signed_h))
        die("canonical request too long");
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, canon, (size_t)n);
    sha256_final(&c, dig);
    hex32(dig, hx);
    n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", amzdate, day,
                 O.region, hx);
    hmac_sha256(signkey, 32, sts, (size_t)n, dig);
    hex32(dig, sig);
    return snprintf(dst, cap,
                    "x-amz-date: %s\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
                    "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, "
                    "SignedHeaders=%s, Signature=%s\r\n",
                    amzdate, O.ak, day, O.region, signed_h, sig);
}

/* Request head (no body) into dst; content_length < 0 means no body. with_extra adds the
 * --header lines; ctype NULL means application/octet-stream. */
static int build_head_x(char *dst, size_t cap, const char *method, const char *path,
                        long long content_length, int with_extra, const char *ctype)
{
    int n = snprintf(dst, cap, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: coffer-bench\r\n", method,
                     path, g_hosthdr);
    if (content_length >= 0)
        n += snprintf(dst + n, cap - (size_t)n, "Content-Length: %lld\r\nContent-Type: %s\r\n",
                      content_length, ctype ? ctype : "application/octet-stream");
    for (int i = 0; with_extra && i < O.nhdr && (size_t)n < cap; i++)
        n += snprintf(dst + n, cap - (size_t)n, "%s\r\n", O.hdr[i]);
    if ((size_t)n < cap)
        n += auth_headers(dst + n, cap - (size_t)n, method, path, with_extra);
    if ((size_t)n < cap)
        n += snprintf(dst + n, cap - (size_t)n, "\r\n");
    if ((size_t)n >= cap)
        die("request head too long");
    return n;
}

static int build_head(char *dst, size_t cap, const char *method, const char *path,
                      long long content_length)
{
    return build_head_x(dst, cap, method, path, content_length, 0, NULL);
}

/* ------------------------------------------------------------------ response parser */

enum { R_HDR, R_BODY, R_EOFBODY, R_CSIZE, R_CDATA, R_CCRLF, R_TRAILER, R_DONE };

struct resp {
    int state;
    int status;
    int chunked;
    int close;
    int head;
    long long remain;
    long long body;
    double t_first; /* first response byte */
    char etag[128]; /* ETag header, quotes included */
    char *cap;      /* when set: the first capcap-1 body bytes are kept here, NUL-terminated */
    size_t capcap, caplen;
};

static void resp_reset(struct resp *r, int head)
{
    memset(r, 0, sizeof(*r));
    r->head = head;
}

static int parse_headers(struct resp *r, char *p, char *end)
{
    /* status line */
    if (end - p < 12 || strncmp(p, "HTTP/1.", 7) != 0)
        return -1;
    r->status = (int)strtol(p + 9, NULL, 10);
    long long clen = -1;
    r->chunked = 0;
    r->close = strncmp(p, "HTTP/1.0", 8) == 0;
    char *line = memchr(p, '\n', (size_t)(end - p));
    while (line != NULL && line < end) {
        line++;
        char *eol = memchr(line, '\n', (size_t)(end - line));
        if (eol == NULL)
            eol = end;
        size_t len = (size_t)(eol - line);
        if (len > 15 && strncasecmp(line, "content-length:", 15) == 0)
            clen = atoll(line + 15);
        else if (len > 5 && strncasecmp(line, "etag:", 5) == 0) {
            const char *v = line + 5;
            size_t vl = len - 5;
            while (vl > 0 && (*v == ' ' || *v == '\t'))
                v++, vl--;
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            snprintf(r->etag, sizeof(r->etag), "%.*s", (int)vl, v);
        } else if (len > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0)
            r->chunked = memmem(line, len, "chunked", 7) != NULL;
        else if (len > 11 && strncasecmp(line, "connection:", 11) == 0) {
            if (memmem(line, len, "close", 5) != NULL)
                r->close = 1;
            else if (memmem(line, len, "keep-alive", 10) != NULL)
                r->close = 0;
        }
        line = eol < end ? eol : NULL;
    }
    if (r->status >= 100 && r->status < 200)
        return 1; /* interim: expect another head */
    if (r->head || r->status == 204 || r->status == 304)
        r->state = R_DONE;
    else if (r->chunked)
        r->state = R_CSIZE;
    else if (clen >= 0) {
        r->remain = clen;
        r->state = clen > 0 ? R_BODY : R_DONE;
    } else {
        r->state = R_EOFBODY;
        r->close = 1;
    }
    return 0;
}

static void resp_keep(struct resp *r, const char *p, size_t n)
{
    if (r->cap == NULL || r->capcap == 0)
        return;
    size_t room = r->capcap - 1 - r->caplen;
    if (n > room)
        n = room;
    memcpy(r->cap + r->caplen, p, n);
    r->caplen += n;
    r->cap[r->caplen] = 0;
}

/* Consumes buf[0..*len); returns 1 when the response is complete, 0 for more, -1 on error.
 * Unconsumed bytes are moved to the front of buf and *len updated. */
static int resp_feed(struct resp *r, char *buf, size_t *len)
{
    size_t off = 0, n = *len;
    int rc = 0;
    for (;;) {
        if (r->state == R_DONE) {
            rc = 1;
            break;
        }
        if (off >= n)
            break;
        switch (r->state) {
        case R_HDR: {
            char *e = memmem(buf + off, n - off, "\r\n\r\n", 4);
            if (e == NULL)
                goto more;
            int h = parse_headers(r, buf + off, e + 2);
            if (h < 0)
                return -1;
            off = (size_t)(e + 4 - buf);
            if (h == 1)
                r->state = R_HDR;
            break;
        }
        case R_BODY:
        case R_CDATA: {
            size_t take = (size_t)r->remain < n - off ? (size_t)r->remain : n - off;
            resp_keep(r, buf + off, take);
            off += take;
            r->remain -= (long long)take;
            r->body += (long long)take;
            if (r->remain == 0)
                r->state = r->state == R_BODY ? R_DONE : R_CCRLF;
            break;
        }
        case R_EOFBODY:
            resp_keep(r, buf + off, n - off);
            r->body += (long long)(n - off);
            off = n;
            break;
        case R_CSIZE: {
            char *e = memmem(buf + off, n - off, "\r\n", 2);
            if (e == NULL)
                goto more;
            r->remain = strtoll(buf + off, NULL, 16);
            off = (size_t)(e + 2 - buf);
            if (r->remain < 0)
                return -1;
            r->state = r->remain == 0 ? R_TRAILER : R_CDATA;
            break;
        }
        case R_CCRLF:
            if (n - off < 2)
                goto more;
            off += 2;
            r->state = R_CSIZE;
            break;
        case R_TRAILER: {
            char *e = memmem(buf + off, n - off, "\r\n", 2);
            if (e == NULL)
                goto more;
            if (e == buf + off)
                r->state = R_DONE;
            off = (size_t)(e + 2 - buf);
            break;
        }
        default:
            return -1;
        }
    }
more:
    memmove(buf, buf + off, n - off);
    *len = n - off;
    return rc;
}

/* ------------------------------------------------------------------ sockets */

static void resolve(void)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    char port[16];
    snprintf(port, sizeof(port), "%d", O.port);
    int e = getaddrinfo(O.host, port, &hints, &res);
    if (e != 0)
        die("cannot resolve %s: %s", O.host, gai_strerror(e));
    memcpy(&g_addr, res->ai_addr, res->ai_addrlen);
    g_addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    if (O.host_header != NULL)
        snprintf(g_hosthdr, sizeof(g_hosthdr), "%s", O.host_header);
    else
        snprintf(g_hosthdr, sizeof(g_hosthdr), "%s:%d", O.host, O.port);
}

static int open_socket(int nonblock)
{
    int fd =
        socket(g_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int connect_blocking(void)
{
    int fd = open_socket(0);
    struct timeval tv = {.tv_sec = (long)O.timeout, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) != 0)
        die("connect %s:%d: %s", O.host, O.port, strerror(errno));
    return fd;
}

static void send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("send: %s", w < 0 ? strerror(errno) : "closed");
        p += w;
        len -= (size_t)w;
    }
}

/* Reads one response on a blocking socket; buf must be cap bytes. Returns the parsed state. */
static void recv_response(int fd, struct resp *r, char *buf, size_t cap, double deadline)
{
    size_t len = 0;
    for (;;) {
        if (now() > deadline)
            die("timeout waiting for the response");
        ssize_t got = recv(fd, buf + len, cap - len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            die("recv: %s", strerror(errno));
        if (got == 0) {
            if (r->state == R_EOFBODY)
                return;
            die("connection closed before the response was complete");
        }
        if (r->t_first == 0)
            r->t_first = now();
        len += (size_t)got;
        int rc = resp_feed(r, buf, &len);
        if (rc < 0)
            die("malformed response");
        if (rc == 1)
            return;
        if (len == cap)
            die("response head too large");
    }
}

static void key_path(char *dst, size_t cap, long long seq)
{
    snprintf(dst, cap, "/%s/%s%08lld", O.bucket, O.prefix, seq);
}

/* ------------------------------------------------------------------ large object modes */

#define BIG (1u << 20)

static void fill_pattern(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
}

/* Where a large body comes from: a file (--body-file, repeated) or a 1 MiB pattern in a memfd.
 * Byte i of the object is byte i % period of the source, so parts of a multipart upload
 * continue the pattern and the caller can compute checksums of the whole body in advance. */
struct body_src {
    int fd;        /* sendfile() source, or -1 */
    uint8_t *mem;  /* fallback for send() when there is no fd */
    size_t period; /* bytes before the source repeats */
};

static void body_open(struct body_src *b)
{
    b->fd = -1;
    b->mem = NULL;
    if (O.body_file != NULL) {
        struct stat st;
        b->fd = open(O.body_file, O_RDONLY | O_CLOEXEC);
        if (b->fd < 0 || fstat(b->fd, &st) != 0 || st.st_size <= 0 || st.st_size > (1ll << 30))
            die("--body-file %s: cannot open, empty or over 1 GiB", O.body_file);
        b->period = (size_t)st.st_size;
        return;
    }
    /* The body goes out with sendfile() from a 1 MiB in-memory file, so the client does not
     * copy hundreds of MiB through user space; plain send() is the fallback. */
    b->period = BIG;
    b->mem = malloc(BIG);
    if (b->mem == NULL)
        die("out of memory");
    fill_pattern(b->mem, BIG, 0x9e3779b97f4a7c15ull);
    b->fd = memfd_create("loadgen-pattern", MFD_CLOEXEC);
    if (b->fd >= 0 && write(b->fd, b->mem, BIG) != (ssize_t)BIG) {
        close(b->fd);
        b->fd = -1;
    }
}

/* Sends bytes [off, off+len) of the object. Safe to call from several threads at once. */
static void body_send(int fd, const struct body_src *b, long long off, long long len,
                      double deadline)
{
    while (len > 0) {
        if (now() > deadline)
            die("timeout while sending the body");
        size_t po = (size_t)(off % (long long)b->period);
        size_t n = b->period - po;
        if ((long long)n > len)
            n = (size_t)len;
        if (n > (8u << 20))
            n = 8u << 20;
        if (b->fd >= 0) {
            off_t o = (off_t)po;
            ssize_t w = sendfile(fd, b->fd, &o, n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                die("sendfile: %s", w < 0 ? strerror(errno) : "closed");
            n = (size_t)w;
        } else {
            send_all(fd, (const char *)b->mem + po, n);
        }
        off += (long long)n;
        len -= (long long)n;
    }
}

static int mode_put_large(void)
{
    char head[8192], path[600];
    char *rbuf = malloc(65536), ebody[512];
    if (rbuf == NULL)
        die("out of memory");
    struct body_src src;
    body_open(&src);
    snprintf(path, sizeof(path), "/%s/%s", O.bucket, O.key);
    int fd = connect_blocking();
    double deadline = now() + O.timeout;
    int hl = build_head_x(head, sizeof(head), "PUT", path, O.size, 1, NULL);
    double t0 = now();
    send_all(fd, head, (size_t)hl);
    body_send(fd, &src, 0, O.size, deadline);
    double t_sent = now();
    struct resp r;
    resp_reset(&r, 0);
    r.cap = ebody, r.capcap = sizeof(ebody);
    recv_response(fd, &r, rbuf, 65536, deadline);
    double t1 = now();
    close(fd);
    double s = t1 - t0;
    if (r.status < 200 || r.status >= 300)
        fprintf(stderr, "loadgen: PUT %s: status %d: %s\n", path, r.status, ebody);
    printf("{\"mode\":\"put-large\",\"status\":%d,\"bytes\":%lld,\"seconds\":%.6f,"
           "\"mb_per_s\":%.2f,\"mib_per_s\":%.2f,\"commit_ms\":%.3f}\n",
           r.status, O.size, s, (double)O.size / s / 1e6, (double)O.size / s / 1048576.0,
           (t1 - t_sent) * 1e3);
    return r.status >= 200 && r.status < 300 ? 0 : 1;
}

/* ------------------------------------------------------------------ multipart upload */

struct mp {
    const char *path;      /* /bucket/key */
    const char *upload_id; /* from CreateMultipartUpload */
    long long size, psize;
    int nparts;
    int next;   /* next part number to send (atomic) */
    int failed; /* status of the first failed part, or -1 (atomic) */
    char (*etag)[128];
    double *wait_ms; /* per part: from its last byte sent to its response (server commit) */
    struct body_src src;
    double deadline;
};

/* Sends parts until none is left (or one failed), on one keep-alive connection. */
static void *mp_worker(void *arg)
{
    struct mp *m = arg;
    char head[8192], path[1200], ebody[512];
    char *rbuf = malloc(65536);
    if (rbuf == NULL)
        die("out of memory");
    int fd = -1;
    for (;;) {
        if (__atomic_load_n(&m->failed, __ATOMIC_RELAXED) >= 0)
            break;
        int pn = __atomic_fetch_add(&m->next, 1, __ATOMIC_RELAXED);
        if (pn > m->nparts)
            break;
        long long off = (long long)(pn - 1) * m->psize;
        long long len = m->size - off < m->psize ? m->size - off : m->psize;
        if (fd < 0)
            fd = connect_blocking();
        snprintf(path, sizeof(path), "%s?partNumber=%d&uploadId=%s", m->path, pn, m->upload_id);
        int hl = build_head_x(head, sizeof(head), "PUT", path, len, 1, NULL);
        send_all(fd, head, (size_t)hl);
        body_send(fd, &m->src, off, len, m->deadline);
        double t_sent = now();
        struct resp r;
        resp_reset(&r, 0);
        r.cap = ebody, r.capcap = sizeof(ebody);
        recv_response(fd, &r, rbuf, 65536, m->deadline);
        m->wait_ms[pn] = (now() - t_sent) * 1e3;
        if (r.status != 200 || r.etag[0] == 0) {
            fprintf(stderr, "loadgen: UploadPart %d: status %d%s: %s\n", pn, r.status,
                    r.etag[0] ? "" : " (no ETag)", ebody);
            int none = -1;
            __atomic_compare_exchange_n(&m->failed, &none, r.status ? r.status : 599, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED);
            break;
        }
        memcpy(m->etag[pn], r.etag, sizeof(r.etag));
        if (r.close) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free(rbuf);
    return NULL;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One request with an optional in-memory body on a new connection; fills r (body captured). */
static void simple_request(const char *method, const char *path, const char *body, size_t blen,
                           int with_extra, const char *ctype, struct resp *r, char *cap,
                           size_t capcap, double deadline)
{
    char head[8192];
    char *rbuf = malloc(65536);
    if (rbuf == NULL)
        die("out of memory");
    int fd = connect_blocking();
    int hl = build_head_x(head, sizeof(head), method, path, body ? (long long)blen : 0, with_extra,
                          ctype);
    send_all(fd, head, (size_t)hl);
    if (body != NULL && blen > 0)
        send_all(fd, body, blen);
    resp_reset(r, 0);
    r->cap = cap, r->capcap = capcap;
    recv_response(fd, r, rbuf, 65536, deadline);
    close(fd);
    free(rbuf);
}

static int mode_multipart(void)
{
    char path[600], upath[1200], xml[4096], uid[512];
    struct mp m;
    memset(&m, 0, sizeof(m));
    if (O.part_size < 1 || O.size < 1)
        die("multipart needs --size and --part-size");
    long long np = (O.size + O.part_size - 1) / O.part_size;
    if (np > 10000)
        die("more than 10000 parts");
    snprintf(path, sizeof(path), "/%s/%s", O.bucket, O.key);
    m.path = path;
    m.size = O.size;
    m.psize = O.part_size;
    m.nparts = (int)np;
    m.next = 1;
    m.failed = -1;
    m.etag = calloc((size_t)np + 1, sizeof(*m.etag));
    m.wait_ms = calloc((size_t)np + 1, sizeof(double));
    if (m.etag == NULL || m.wait_ms == NULL)
        die("out of memory");
    body_open(&m.src);
    double t0 = now();
    m.deadline = t0 + O.timeout;
    struct resp r;
    /* CreateMultipartUpload */
    snprintf(upath, sizeof(upath), "%s?uploads", path);
    simple_request("POST", upath, NULL, 0, 1, NULL, &r, xml, sizeof(xml), m.deadline);
    const char *a = strstr(xml, "<UploadId>"), *e = a ? strstr(a, "</UploadId>") : NULL;
    if (r.status != 200 || a == NULL || e == NULL || e - a - 10 >= (long)sizeof(uid) ||
        e - a - 10 < 1) {
        fprintf(stderr, "loadgen: CreateMultipartUpload: status %d: %s\n", r.status, xml);
        printf("{\"mode\":\"multipart\",\"status\":%d,\"stage\":\"create\"}\n",
               r.status ? r.status : 599);
        return 1;
    }
    snprintf(uid, sizeof(uid), "%.*s", (int)(e - a - 10), a + 10);
    m.upload_id = uid;
    double t_created = now();
    /* UploadPart: N threads (the calling one when N = 1) */
    int nt = O.conns < m.nparts ? O.conns : m.nparts;
    pthread_t th[64];
    if (nt > 64)
        nt = 64;
    if (nt <= 1) {
        mp_worker(&m);
    } else {
        for (int i = 0; i < nt; i++)
            if (pthread_create(&th[i], NULL, mp_worker, &m) != 0)
                die("pthread_create failed");
        for (int i = 0; i < nt; i++)
            pthread_join(th[i], NULL);
    }
    double t_parts = now();
    if (m.failed >= 0) {
        snprintf(upath, sizeof(upath), "%s?uploadId=%s", path, uid); /* abort, best effort */
        simple_request("DELETE", upath, NULL, 0, 0, NULL, &r, xml, sizeof(xml), now() + 30);
        printf("{\"mode\":\"multipart\",\"status\":%d,\"stage\":\"part\",\"upload_id\":\"%s\"}\n",
               m.failed, uid);
        return 1;
    }
    /* CompleteMultipartUpload (no SSE-C headers: S3 does not want them there) */
    size_t cap = 128 + (size_t)np * 200, o = 0;
    char *body = malloc(cap);
    if (body == NULL)
        die("out of memory");
    o += (size_t)snprintf(body + o, cap - o, "<CompleteMultipartUpload>");
    for (int pn = 1; pn <= m.nparts; pn++)
        o += (size_t)snprintf(body + o, cap - o,
                              "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", pn,
                              m.etag[pn]);
    o += (size_t)snprintf(body + o, cap - o, "</CompleteMultipartUpload>");
    if (o >= cap)
        die("CompleteMultipartUpload body too long");
    snprintf(upath, sizeof(upath), "%s?uploadId=%s", path, uid);
    simple_request("POST", upath, body, o, 0, "application/xml", &r, xml, sizeof(xml), m.deadline);
    double t1 = now();
    free(body);
    /* S3 may answer 200 with an <Error> document once the body has started */
    int ok = r.status == 200 && strstr(xml, "<CompleteMultipartUploadResult") != NULL;
    if (!ok)
        fprintf(stderr, "loadgen: CompleteMultipartUpload: status %d: %s\n", r.status, xml);
    char etag[128] = ""; /* the object's ETag without quotes (also when sent as &quot;) */
    a = strstr(xml, "<ETag>");
    e = a ? strstr(a, "</ETag>") : NULL;
    for (const char *q = a ? a + 6 : NULL; q != NULL && q < e;) {
        size_t j = strlen(etag);
        if (*q == '"')
            q++;
        else if (strncmp(q, "&quot;", 6) == 0)
            q += 6;
        else if (j + 1 < sizeof(etag))
            etag[j] = *q++, etag[j + 1] = 0;
        else
            break;
    }
    double s = t1 - t0, sp = t_parts - t_created, wsum = 0;
    qsort(m.wait_ms + 1, (size_t)m.nparts, sizeof(double), cmp_dbl);
    for (int pn = 1; pn <= m.nparts; pn++)
        wsum += m.wait_ms[pn];
    printf("{\"mode\":\"multipart\",\"status\":%d,\"bytes\":%lld,\"parts\":%d,\"part_size\":%lld,"
           "\"conns\":%d,\"seconds\":%.6f,\"mb_per_s\":%.2f,\"parts_seconds\":%.6f,"
           "\"parts_mb_per_s\":%.2f,\"create_ms\":%.3f,\"complete_ms\":%.3f,"
           "\"part_wait_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"max\":%.3f,\"sum\":%.1f},"
           "\"etag\":\"%s\"}\n",
           ok ? r.status : (r.status == 200 ? 598 : r.status), O.size, m.nparts, O.part_size,
           nt < 1 ? 1 : nt, s, (double)O.size / s / 1e6, sp, (double)O.size / sp / 1e6,
           (t_created - t0) * 1e3, (t1 - t_parts) * 1e3, m.wait_ms[1 + (m.nparts - 1) / 2],
           m.wait_ms[1 + (m.nparts - 1) * 9 / 10], m.wait_ms[m.nparts], wsum, etag);
    free(m.wait_ms);
    free(m.etag);
    return ok ? 0 : 1;
}

static int mode_get_large(void)
{
    char head[8192], path[600];
    char *rbuf = malloc(BIG);
    if (rbuf == NULL)
        die("out of memory");
    snprintf(path, sizeof(path), "/%s/%s", O.bucket, O.key);
    int fd = connect_blocking();
    double deadline = now() + O.timeout;
    int hl = build_head_x(head, sizeof(head), "GET", path, -1, 1, NULL);
    double t0 = now();
    send_all(fd, head, (size_t)hl);
    struct resp r;
    resp_reset(&r, 0);
    size_t len = 0;
    /* head (and whatever body arrives with it) through the parser */
    while (r.state == R_HDR) {
        if (now() > deadline)
            die("timeout waiting for the response");
        ssize_t got = recv(fd, rbuf + len, BIG - len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            die("recv: %s", got < 0 ? strerror(errno) : "closed before the response head");
        if (r.t_first == 0)
            r.t_first = now();
        len += (size_t)got;
        if (resp_feed(&r, rbuf, &len) < 0 || len == BIG)
            die("malformed response");
    }
    /* A Content-Length body is discarded in the kernel (MSG_TRUNC: no copy to user space) so
     * that the client costs as little CPU as possible; anything else goes through the parser. */
    while (r.state == R_BODY && r.remain > 0) {
        if (now() > deadline)
            die("timeout while receiving the body");
        size_t want = r.remain > (1ll << 30) ? (1u << 30) : (size_t)r.remain;
        ssize_t got = recv(fd, NULL, want, MSG_TRUNC);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            die("recv: %s", got < 0 ? strerror(errno) : "closed before the body was complete");
        r.remain -= got;
        r.body += got;
    }
    if (r.state == R_BODY && r.remain == 0)
        r.state = R_DONE;
    if (r.state != R_DONE)
        recv_response(fd, &r, rbuf, BIG, deadline);
    double t1 = now();
    close(fd);
    double s = t1 - t0;
    printf("{\"mode\":\"get-large\",\"status\":%d,\"bytes\":%lld,\"seconds\":%.6f,"
           "\"mb_per_s\":%.2f,\"mib_per_s\":%.2f,\"ttfb_ms\":%.3f}\n",
           r.status, r.body, s, (double)r.body / s / 1e6, (double)r.body / s / 1048576.0,
           (r.t_first - t0) * 1e3);
    return r.status >= 200 && r.status < 300 ? 0 : 1;
}

static int mode_req(void)
{
    char head[8192];
    char *rbuf = malloc(BIG);
    if (rbuf == NULL || O.method == NULL || O.path == NULL)
        die("req needs --method and --path");
    int fd = connect_blocking();
    int hl = build_head_x(head, sizeof(head), O.method, O.path,
                          strcmp(O.method, "PUT") == 0 || strcmp(O.method, "POST") == 0 ? 0 : -1, 1,
                          NULL);
    send_all(fd, head, (size_t)hl);
    struct resp r;
    resp_reset(&r, strcmp(O.method, "HEAD") == 0);
    recv_response(fd, &r, rbuf, BIG, now() + O.timeout);
    close(fd);
    printf("{\"mode\":\"req\",\"status\":%d,\"body_bytes\":%lld}\n", r.status, r.body);
    return 0;
}

/* ------------------------------------------------------------------ small object modes */

struct conn {
    int fd;
    int connecting;
    int want_out;
    char *wbuf;
    size_t wlen, woff;
    char rbuf[16384];
    size_t rlen;
    struct resp r;
    double t0;
};

enum { K_PUT, K_GET, K_DEL };

static struct {
    int kind;
    int epfd;
    struct conn *c;
    uint8_t *body;
    long long seq; /* next key for PUT/DELETE */
    long long issued;
    double t_ws, t_we; /* measurement window */
    double t_stop;     /* no new requests after this */
    long long ok, bad_status, conn_errors, reconnects;
    long long status[600];
    uint32_t *lat_us;
    size_t nlat, caplat;
    uint64_t rng;
} S;

static void ep_set(struct conn *c, int out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
    c->want_out = out;
}

static void conn_open(struct conn *c)
{
    c->fd = open_socket(1);
    c->rlen = 0;
    c->connecting = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
    c->want_out = 0;
    if (connect(c->fd, (struct sockaddr *)&g_addr, g_addrlen) != 0) {
        if (errno != EINPROGRESS)
            die("connect %s:%d: %s", O.host, O.port, strerror(errno));
        c->connecting = 1;
        ep_set(c, 1);
    }
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(S.epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
}

static int want_more(double t)
{
    if (O.count >= 0)
        return S.issued < O.count && t < S.t_stop;
    return t < S.t_stop;
}

static int try_write(struct conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t w = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out)
                ep_set(c, 1);
            return 0;
        }
        if (w <= 0)
            return -1;
        c->woff += (size_t)w;
    }
    if (c->want_out)
        ep_set(c, 0);
    return 0;
}

static size_t wcap(void)
{
    return 2048 + (S.kind == K_PUT ? (size_t)O.size : 0);
}

static int start_request(struct conn *c)
{
    char path[600];
    long long seq;
    const char *method;
    if (S.kind == K_GET) {
        S.rng ^= S.rng << 13, S.rng ^= S.rng >> 7, S.rng ^= S.rng << 17;
        seq = (long long)(S.rng % (uint64_t)O.nkeys);
        method = "GET";
    } else {
        seq = S.seq++;
        method = S.kind == K_PUT ? "PUT" : "DELETE";
    }
    key_path(path, sizeof(path), seq);
    int hl = build_head(c->wbuf, 2048, method, path, S.kind == K_PUT ? O.size : -1);
    c->wlen = (size_t)hl;
    if (S.kind == K_PUT) {
        memcpy(c->wbuf + hl, S.body, (size_t)O.size);
        c->wlen += (size_t)O.size;
    }
    c->woff = 0;
    resp_reset(&c->r, 0);
    S.issued++;
    c->t0 = now();
    return try_write(c);
}

static void record(struct conn *c, double t)
{
    int st = c->r.status;
    if (st >= 0 && st < 600)
        S.status[st]++;
    if (t < S.t_ws || t > S.t_we || c->t0 < S.t_ws)
        return;
    if (st >= 200 && st < 300) {
        S.ok++;
        if (S.nlat < S.caplat)
            S.lat_us[S.nlat++] = (uint32_t)((t - c->t0) * 1e6);
    } else {
        S.bad_status++;
    }
}

/* Connection failed or closed: count it and reopen when the run continues. */
static void conn_fail(struct conn *c, int counted)
{
    if (counted)
        S.conn_errors++;
    conn_close(c);
    if (want_more(now())) {
        if (++S.reconnects > 100000)
            die("too many reconnects");
        conn_open(c);
        if (!c->connecting && start_request(c) < 0)
            conn_fail(c, 1);
    }
}

static void on_event(struct conn *c, uint32_t ev)
{
    if (c->connecting) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err != 0) {
            conn_fail(c, 1);
            return;
        }
        c->connecting = 0;
        ep_set(c, 0);
        if (start_request(c) < 0)
            conn_fail(c, 1);
        return;
    }
    if ((ev & EPOLLOUT) && c->woff < c->wlen) {
        if (try_write(c) < 0) {
            conn_fail(c, 1);
            return;
        }
    }
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        ssize_t got = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (got <= 0) {
            /* idle keep-alive close by the server between requests is not an error */
            int idle = c->r.state == R_HDR && c->rlen == 0 && c->woff == c->wlen && got == 0 &&
                       c->r.status == 0 && !want_more(now());
            conn_fail(c, !idle);
            return;
        }
        if (c->r.t_first == 0)
            c->r.t_first = now();
        c->rlen += (size_t)got;
        int rc = resp_feed(&c->r, c->rbuf, &c->rlen);
        if (rc < 0 || (rc == 0 && c->rlen == sizeof(c->rbuf))) {
            conn_fail(c, 1);
            return;
        }
        if (rc == 1) {
            double t = now();
            record(c, t);
            if (c->rlen != 0 || c->r.close) {
                c->rlen = 0;
                conn_fail(c, 0);
                return;
            }
            if (want_more(t)) {
                if (start_request(c) < 0)
                    conn_fail(c, 1);
            } else {
                conn_close(c);
            }
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    if (S.nlat == 0)
        return 0;
    size_t i = (size_t)(p * (double)(S.nlat - 1) + 0.5);
    return S.lat_us[i] / 1e3;
}

static int mode_small(int kind)
{
    S.kind = kind;
    S.seq = O.seq_start;
    S.rng = 0x2545F4914F6CDD1Dull ^ (uint64_t)getpid();
    S.epfd = epoll_create1(EPOLL_CLOEXEC);
    S.c = calloc((size_t)O.conns, sizeof(struct conn));
    S.caplat = 4u << 20;
    S.lat_us = malloc(S.caplat * sizeof(uint32_t));
    if (S.epfd < 0 || S.c == NULL || S.lat_us == NULL)
        die("setup failed");
    if (kind == K_PUT) {
        S.body = malloc((size_t)O.size + 8);
        if (S.body == NULL)
            die("out of memory");
        fill_pattern(S.body, (size_t)O.size + 8, 0x12345678abcdefull);
    }
    double t = now();
    if (O.count >= 0) {
        S.t_ws = t;
        S.t_we = t + O.timeout;
        S.t_stop = t + O.timeout;
    } else {
        S.t_ws = t + O.warmup;
        S.t_we = S.t_ws + O.duration;
        S.t_stop = S.t_we;
    }
    double hard = t + O.warmup + (O.count >= 0 ? O.timeout : O.duration + 15);
    for (int i = 0; i < O.conns; i++) {
        struct conn *c = &S.c[i];
        c->wbuf = malloc(wcap());
        if (c->wbuf == NULL)
            die("out of memory");
        c->fd = -1;
        if (!want_more(now()))
            break;
        conn_open(c);
        if (!c->connecting && start_request(c) < 0)
            conn_fail(c, 1);
    }
    struct epoll_event evs[256];
    for (;;) {
        int open = 0;
        for (int i = 0; i < O.conns; i++)
            open += S.c[i].fd >= 0;
        if (open == 0)
            break;
        if (now() > hard) {
            fprintf(stderr, "loadgen: hard deadline reached with %d connections busy\n", open);
            break;
        }
        int n = epoll_wait(S.epfd, evs, 256, 200);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events);
    }
    double t_end = now();
    double window = O.count >= 0 ? t_end - S.t_ws : S.t_we - S.t_ws;
    if (O.count < 0 && t_end < S.t_we) /* ended early (errors): shorten the window */
        window = t_end - S.t_ws;
    qsort(S.lat_us, S.nlat, sizeof(uint32_t), cmp_u32);
    const char *names[] = {"put-small", "get-small", "delete"};
    printf("{\"mode\":\"%s\",\"conns\":%d,\"size\":%lld,\"window_s\":%.3f,\"ok\":%lld,"
           "\"ops_per_s\":%.1f,\"bad_status\":%lld,\"conn_errors\":%lld,\"issued\":%lld,"
           "\"seq_end\":%lld,\"lat_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
           "\"status\":{",
           names[kind], O.conns, kind == K_PUT ? O.size : 0, window, S.ok,
           window > 0 ? (double)S.ok / window : 0.0, S.bad_status, S.conn_errors, S.issued, S.seq,
           pct(0.5), pct(0.9), pct(0.99), S.nlat ? S.lat_us[S.nlat - 1] / 1e3 : 0.0);
    int first = 1;
    for (int i = 0; i < 600; i++)
        if (S.status[i]) {
            printf("%s\"%d\":%lld", first ? "" : ",", i, S.status[i]);
            first = 0;
        }
    printf("}}\n");
    return 0;
}

/* ------------------------------------------------------------------ sink server */

/* A one-connection-at-a-time HTTP server with no storage: PUT bodies are read into a 1 MiB
 * buffer (copied to user space, as a real server must) and dropped; GET answers --size bytes
 * with sendfile() from a 1 MiB in-memory file. It gives the ceiling of a single stream over
 * loopback on this machine. Serves at most --count requests or until --duration expires. */
static int mode_sink(void)
{
    int ls = socket(g_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(ls, (struct sockaddr *)&g_addr, g_addrlen) != 0 || listen(ls, 16) != 0)
        die("sink: cannot listen on %s:%d: %s", O.host, O.port, strerror(errno));
    char *buf = malloc(BIG);
    uint8_t *pat = malloc(BIG);
    if (buf == NULL || pat == NULL)
        die("out of memory");
    fill_pattern(pat, BIG, 7);
    int mfd = memfd_create("sink-pattern", MFD_CLOEXEC);
    if (mfd < 0 || write(mfd, pat, BIG) != (ssize_t)BIG)
        die("sink: memfd: %s", strerror(errno));
    printf("Ready.\n");
    fflush(stdout);
    double end = now() + O.duration;
    long long served = 0, limit = O.count >= 0 ? O.count : 1000000;
    while (now() < end && served < limit) {
        struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
        setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        struct timeval tv2 = {.tv_sec = 30, .tv_usec = 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv2, sizeof(tv2));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv2, sizeof(tv2));
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        size_t len = 0;
        while (served < limit && now() < end) { /* requests on this connection */
            char *e = NULL;
            while ((e = memmem(buf, len, "\r\n\r\n", 4)) == NULL && len < 65536) {
                ssize_t got = recv(fd, buf + len, 65536 - len, 0);
                if (got <= 0)
                    goto next_conn;
                len += (size_t)got;
            }
            if (e == NULL)
                goto next_conn;
            *e = 0;
            long long clen = 0;
            char *cl = strcasestr(buf, "\r\ncontent-length:");
            if (cl != NULL)
                clen = atoll(cl + 17);
            int is_get = strncmp(buf, "GET ", 4) == 0;
            size_t head = (size_t)(e + 4 - buf);
            long long have = (long long)(len - head);
            long long left = clen - (have < clen ? have : clen);
            while (left > 0) {
                ssize_t got = recv(fd, buf, left < (long long)BIG ? (size_t)left : BIG, 0);
                if (got <= 0)
                    goto next_conn;
                left -= got;
            }
            len = 0;
            char resp[256];
            long long blen = is_get ? O.size : 0;
            int n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %lld\r\n\r\n",
                             blen);
            send_all(fd, resp, (size_t)n);
            while (blen > 0) {
                off_t off = 0;
                ssize_t w = sendfile(fd, mfd, &off, blen < (long long)BIG ? (size_t)blen : BIG);
                if (w <= 0)
                    goto next_conn;
                blen -= w;
            }
            served++;
        }
    next_conn:
        close(fd);
    }
    close(ls);
    return 0;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        die("usage: loadgen MODE [options] (see the comment at the top of loadgen.c)");
    O.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            die("option %s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--host"))
            O.host = v;
        else if (!strcmp(a, "--port"))
            O.port = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--host-header"))
            O.host_header = v;
        else if (!strcmp(a, "--bucket"))
            O.bucket = v;
        else if (!strcmp(a, "--prefix"))
            O.prefix = v;
        else if (!strcmp(a, "--key"))
            O.key = v;
        else if (!strcmp(a, "--method"))
            O.method = v;
        else if (!strcmp(a, "--path"))
            O.path = v;
        else if (!strcmp(a, "--access-key"))
            O.ak = v;
        else if (!strcmp(a, "--secret-key"))
            O.sk = v;
        else if (!strcmp(a, "--region"))
            O.region = v;
        else if (!strcmp(a, "--conns"))
            O.conns = (int)strtol(v, NULL, 10);
        else if (!strcmp(a, "--duration"))
            O.duration = atof(v);
        else if (!strcmp(a, "--warmup"))
            O.warmup = atof(v);
        else if (!strcmp(a, "--timeout"))
            O.timeout = atof(v);
        else if (!strcmp(a, "--size"))
            O.size = atoll(v);
        else if (!strcmp(a, "--count"))
            O.count = atoll(v);
        else if (!strcmp(a, "--nkeys"))
            O.nkeys = atoll(v);
        else if (!strcmp(a, "--seq-start"))
            O.seq_start = atoll(v);
        else if (!strcmp(a, "--part-size"))
            O.part_size = atoll(v);
        else if (!strcmp(a, "--body-file"))
            O.body_file = v;
        else if (!strcmp(a, "--header")) {
            const char *c = strchr(v, ':');
            if (O.nhdr >= 16 || c == NULL || c == v || c - v >= 100 || strlen(c) >= 400 ||
                strpbrk(v, "\r\n") != NULL)
                die("--header wants 'Name: value' (at most 16, name < 100, value < 400 bytes)");
            O.hdr[O.nhdr++] = v;
        } else
            die("unknown option %s", a);
    }
    if (O.port <= 0 || O.port > 65535)
        die("--port is required");
    if (O.conns < 1 || O.conns > 4096)
        die("--conns must be 1..4096");
    if (O.duration <= 0 || O.duration > 600 || O.warmup < 0 || O.warmup > 60 || O.timeout <= 0 ||
        O.timeout > 3600)
        die("--duration/--warmup/--timeout out of range");
    if (O.size < 0 || O.nkeys < 1)
        die("--size/--nkeys out of range");
    if ((O.ak == NULL) != (O.sk == NULL))
        die("--access-key and --secret-key go together");
    resolve();
    if (!strcmp(O.mode, "put-large") || !strcmp(O.mode, "get-large")) {
        if (O.key == NULL)
            die("--key is required");
        return O.mode[0] == 'p' ? mode_put_large() : mode_get_large();
    }
    if (!strcmp(O.mode, "multipart")) {
        if (O.key == NULL)
            die("--key is required");
        return mode_multipart();
    }
    if (!strcmp(O.mode, "put-small"))
        return mode_small(K_PUT);
    if (!strcmp(O.mode, "get-small"))
        return mode_small(K_GET);
    if (!strcmp(O.mode, "delete")) {
        if (O.count < 0)
            die("delete needs --count");
        return mode_small(K_DEL);
    }
    if (!strcmp(O.mode, "req"))
        return mode_req();
    if (!strcmp(O.mode, "sink"))
        return mode_sink();
    die("unknown mode %s", O.mode);
    return 2;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd glue. A request's life: URI log callback (allocates struct srv_req with the raw
 * target) -> access handler first call (ops_begin) -> body pieces (buffered under a cap or
 * streamed to ops_body) -> last call (ops_finish queues the response) -> completion callback
 * frees everything.
 * A connection's life: accepted by our acceptor thread -> admitted, refused (503 SlowDown) or
 * dropped by server/conns.c -> handed to the plain or TLS daemon -> headers phase (deadline
 * header_timeout) -> request (idle limit body_timeout) -> keep-alive idle (keepalive_timeout)
 * -> next request or closed. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "server/http.h"

#include <microhttpd.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/hex.h"
#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "crypto/tlscert.h"
#include "object/session.h"
#include "server/conns.h"
#include "server/dispatch.h"
#include "s3/s3err.h"
#include "s3/xml.h"

struct srv_http;

/* Which side of the shared port a daemon serves. */
struct side {
    struct srv_ctx *ctx;
    struct srv_http *h;
    bool tls;
};

#define MAX_PENDING  256
#define ACCEPT_BURST 64
#define SWEEP_MS     500 /* how often deadlines are checked */
#define EMFILE_PAUSE 100 /* ms without accepting when out of descriptors */
/* A refused request announcing at most this much body is answered after reading it, so that
 * the client reads the 503 instead of a reset. */
#define REFUSE_DRAIN_MAX (64 * 1024)
/* libmicrohttpd's memory per connection (request line, headers, read and write buffers). It
 * zeroes the pool after every request, and that makes all of it resident: with 128 KiB, 64
 * keep-alive connections held 8 MiB (peak RSS 29.4 MiB in bench/run against 23.6 with 32 KiB),
 * and each request paid 192 KiB of memset. 32 KiB takes request headers up to about 20 KiB (S3
 * allows 8); larger ones get 431. Large PUTs measured no slower (bench/run, same session). */
#ifndef CONN_POOL_BYTES
#define CONN_POOL_BYTES (32 * 1024)
#endif

/* A connection accepted but not yet handed over: waiting for its first byte. */
struct pending {
    int fd;
    struct sockaddr_storage addr;
    socklen_t len;
    int64_t since_ms;
};

/* One port, two protocols (as LocalStack): an acceptor thread peeks at each connection's first
 * byte, 0x16 (a TLS handshake record) goes to the TLS daemon, anything else to the plain one. */
struct srv_http {
    struct MHD_Daemon *plain;
    struct MHD_Daemon *tls;
    struct srv_ctx *ctx;
    struct side plain_side, tls_side;
    int listen_fd;
    int wake[2];
    pthread_t acceptor;
    bool acceptor_started;
    struct pending pending[MAX_PENDING];
    size_t n_pending;
    struct srv_conns *conns;
    int64_t header_ms;    /* connect to complete headers */
    unsigned keepalive_s; /* idle between requests */
    unsigned body_s;      /* idle inside a request */
    int64_t emfile_warned_ms;
    unsigned hard_cap; /* connections held at most (conns.c) */
};

static void make_request_ids(char rid[17], char id2[45])
{
    uint8_t r[16 + 33];
    if (cry_random(r, sizeof(r)) != COF_OK)
        memset(r, 0x5a, sizeof(r));
    cof_hex_encode_upper(r, 8, rid); /* 16 upper-case digits, as AWS's request ids */
    srv_base64_encode(r + 16, 33, id2);
}

static void make_ids(struct srv_req *req)
{
    make_request_ids(req->rid, req->id2);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The S3 error document for e, built without libxml2 (also used where no request exists). */
static int error_doc(cof_err e, const char *rid, const char *id2, char *out, size_t n)
{
    const struct srv_s3err *se = srv_s3err_lookup(e);
    return snprintf(out, n,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                    "<Message>%s</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>",
                    se->code, se->message, rid, id2);
}

/* The connection's entry in h->conns (set when libmicrohttpd started it), or NULL. */
static struct srv_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

static void set_idle_limit(struct MHD_Connection *conn, unsigned secs)
{
    if (MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, secs) != MHD_YES)
        cof_log_debug(NULL, "could not set a connection timeout");
}

/* libmicrohttpd started or closed a connection we handed over. It reports CLOSED before it
 * closes the socket, so an entry in h->conns always names an open socket of ours. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct srv_http *h = ((const struct side *)cls)->h;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci != NULL ? srv_conns_find(h->conns, ci->connect_fd) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL) {
        srv_conns_remove(h->conns, *socket_context);
        *socket_context = NULL;
    }
}

/* The client address as text, for aws:SourceIp. A dual-stack socket reports IPv4 clients as
 * ::ffff:a.b.c.d; show those as plain IPv4 so policies written with IPv4 ranges match. */
static void peer_text(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        (void)inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)n);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            (void)inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, out, (socklen_t)n);
        else
            (void)inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)n);
    }
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    const struct side *sd = cls;
    struct srv_ctx *ctx = sd->ctx;
    struct srv_req *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->ctx = ctx;
    req->tls = sd->tls;
    req->conn = conn;
    peer_text(conn, req->peer, sizeof(req->peer));
    req->raw_uri = strdup(uri != NULL ? uri : "/");
    make_ids(req);
    atomic_fetch_add(&ctx->active, 1);
    return req;
}

static void free_req(struct srv_req *req)
{
    srv_dispatch_cleanup(req);
    if (req->held != NULL)
        MHD_destroy_response(req->held);
    cry_digest_free(req->body_sha);
    if (req->chunk_auth != NULL) {
        cry_digest_free(req->chunk_auth->sha);
        cry_wipe(req->chunk_auth, sizeof(*req->chunk_auth));
        free(req->chunk_auth);
    }
    for (size_t i = 0; i < req->n_hdrs; i++) {
        free(req->hdrs[i].name);
        free(req->hdrs[i].value);
    }
    cof_buf_cleanup(&req->body);
    srv_failure_cleanup(&req->fail);
    srv_query_cleanup(&req->query);
    srv_query_cleanup(&req->form);
    srv_route_cleanup(&req->route);
    free(req->deferred_auth);
    if (req->session != NULL) {
        cry_wipe(req->session, sizeof(*req->session));
        free(req->session);
    }
    free(req->region);
    free(req->raw_path);
    free(req->raw_uri);
    free(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    const struct side *sd = cls;
    struct srv_ctx *ctx = sd->ctx;
    /* Answered: the connection idles until the next request (cut instead while stopping). */
    struct srv_conn *c = conn_of(conn);
    if (c != NULL && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        srv_conns_request_done(sd->h->conns, c, mono_ms());
        set_idle_limit(conn, sd->h->keepalive_s);
    }
    struct srv_req *req = *con_cls;
    if (req == NULL)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
        cof_log_debug(req->rid, "request ended early (code %d)", (int)toe);
    free_req(req);
    *con_cls = NULL;
    atomic_fetch_sub(&ctx->active, 1);
}

/* A request on a refused connection (over a cap), or one that arrives while stopping: 503 and
 * close. A request with a small body (or none) is answered once the body is read, so that the
 * client reads the answer instead of a reset; one that expects 100-continue, or announces a
 * large or chunked body, is answered at once and never sends it. Logged only in debug: the
 * saturation itself is logged by conns.c, at most every few seconds. */
static cof_err refuse(struct srv_req *req, bool stopping)
{
    char doc[512];
    cof_err e = stopping ? COF_ERR_SERVICE_UNAVAILABLE : COF_ERR_SLOW_DOWN;
    int n = error_doc(e, req->rid, req->id2, doc, sizeof(doc));
    const char *cl = srv_req_http_header(req, "Content-Length");
    bool drain = srv_req_http_header(req, "Expect") == NULL &&
                 srv_req_http_header(req, "Transfer-Encoding") == NULL &&
                 (cl == NULL || strtoull(cl, NULL, 10) <= REFUSE_DRAIN_MAX);
    srv_resp_add(req, "Connection", "close");
    req->in_body = drain; /* srv_reply holds the response until the body has been read */
    cof_err err = srv_reply(req, srv_s3err_lookup(e)->status, "application/xml", doc,
                            n > 0 && (size_t)n < sizeof(doc) ? (size_t)n : 0);
    req->in_body = false;
    return err;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    const struct side *sd = cls;
    (void)url;
    (void)version;
    struct srv_req *req = *con_cls;
    if (req == NULL || req->raw_uri == NULL)
        return MHD_NO;
    req->conn = conn;
    if (!req->started) {
        req->started = true;
        req->method = method;
        req->is_head = strcmp(method, "HEAD") == 0;
        /* Headers complete: from here the body and the response may only stall so long. */
        struct srv_conn *c = conn_of(conn);
        set_idle_limit(conn, sd->h->body_s);
        enum srv_conn_answer a =
            c != NULL ? srv_conns_request_start(sd->h->conns, c) : SRV_CONN_SERVE;
        if (a != SRV_CONN_SERVE) /* unanswered (out of memory): close the connection */
            return refuse(req, a == SRV_CONN_STOPPING) == COF_OK ? MHD_YES : MHD_NO;
        cof_err err = srv_dispatch_begin(req);
        if (err != COF_OK && !req->responded)
            (void)srv_reply_failure(req, err);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_sha != NULL)
            cry_digest_update(req->body_sha, upload_data, n);
        if (req->responded || req->body_err != COF_OK)
            return MHD_YES; /* discard the rest of a body we already refused */
        req->body_len += n;
        if (req->body_mode == SRV_BODY_BUFFER)
            req->body_err = cof_buf_append(&req->body, upload_data, n);
        else if (req->body_mode == SRV_BODY_STREAM) {
            req->in_body = true;
            req->body_err = srv_dispatch_body(req, upload_data, n);
            req->in_body = false;
        }
        return MHD_YES;
    }
    struct srv_conn *c = conn_of(conn); /* the body is all in */
    if (c != NULL)
        srv_conns_body_done(sd->h->conns, c);
    if (req->held != NULL) {
        struct MHD_Response *resp = req->held;
        req->held = NULL;
        if (MHD_queue_response(conn, req->held_status, resp) != MHD_YES)
            cof_log_error(req->rid, "could not queue the response");
        MHD_destroy_response(resp);
    } else if (!req->responded) {
        cof_err err = srv_dispatch_finish(req);
        /* A handler that returned COF_OK without answering recorded a failure, or has a bug. */
        if (!req->responded)
            (void)srv_reply_failure(req, err != COF_OK ? err : COF_ERR_INTERNAL);
    }
    return MHD_YES;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    cof_log_debug(NULL, "libmicrohttpd: %s", line);
}

/* Past every cap: a best-effort 503 SlowDown for a plain-HTTP client whose request has arrived
 * (read and discarded first, so that closing sends FIN rather than RST), before the close. */
static void answer_dropped(int fd)
{
    char buf[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n <= 0)
            break;
    }
    char rid[17], id2[45], doc[512];
    make_request_ids(rid, id2);
    int n = error_doc(COF_ERR_SLOW_DOWN, rid, id2, doc, sizeof(doc));
    if (n <= 0 || (size_t)n >= sizeof(doc))
        return;
    int k = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
                     "Content-Length: %d\r\nConnection: close\r\nx-amz-request-id: %s\r\n"
                     "x-amz-id-2: %s\r\nServer: coffer\r\n\r\n%s",
                     n, rid, id2, doc);
    if (k > 0 && (size_t)k < sizeof(buf))
        (void)send(fd, buf, (size_t)k, MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)shutdown(fd, SHUT_WR);
}

static void hand_over(struct srv_http *h, struct pending *p, bool tls)
{
    struct MHD_Daemon *d = tls ? h->tls : h->plain;
    enum srv_conn_verdict v = SRV_CONN_DROP;
    struct srv_conn *c = NULL;
    /* The header deadline counts from the accept, time spent waiting for the first byte
     * included. */
    if (d == NULL ||
        srv_conns_add(h->conns, p->fd, (const struct sockaddr *)&p->addr, p->since_ms, &v, &c) !=
            COF_OK ||
        v == SRV_CONN_DROP) {
        if (d != NULL && !tls)
            answer_dropped(p->fd);
        close(p->fd);
        return;
    }
    /* On failure MHD closes the socket itself ("closed in any case"): never close it here. The
     * entry goes only after that; nothing else adds entries, so none can name a reused fd. */
    if (MHD_add_connection(d, p->fd, (const struct sockaddr *)&p->addr, p->len) != MHD_YES) {
        srv_conns_remove(h->conns, c);
        cof_log_debug(NULL, "dropped a %s connection", tls ? "TLS" : "plain");
    }
}

/* Out of descriptors: stop accepting for a moment (the listening socket stays readable, so
 * polling it would spin), and say so at most every 10 s. */
static void out_of_fds(struct srv_http *h, int64_t now, int64_t *pause_until)
{
    *pause_until = now + EMFILE_PAUSE;
    if (now - h->emfile_warned_ms >= 10000) {
        h->emfile_warned_ms = now;
        cof_log_warn(NULL,
                     "accept: %s; not accepting for %d ms (raise the file limit, or "
                     "lower max_connections)",
                     strerror(errno), EMFILE_PAUSE);
    }
}

static void accept_burst(struct srv_http *h, int64_t now, int64_t *pause_until)
{
    for (int k = 0; k < ACCEPT_BURST; k++) {
        struct pending p;
        p.len = sizeof(p.addr);
        p.fd =
            accept4(h->listen_fd, (struct sockaddr *)&p.addr, &p.len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (p.fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                out_of_fds(h, now, pause_until);
            if (errno == ECONNABORTED || errno == EPROTO || errno == EINTR)
                continue;
            return; /* EAGAIN: nothing more to accept */
        }
        p.since_ms = now;
        /* Full: the connection that has waited longest without sending a byte (the first, the
         * list is in accept order) makes room. A client that connects and stays silent cannot
         * crowd out one that talks. */
        if (h->n_pending == MAX_PENDING) {
            close(h->pending[0].fd);
            memmove(&h->pending[0], &h->pending[1], (MAX_PENDING - 1) * sizeof(h->pending[0]));
            h->n_pending--;
        }
        h->pending[h->n_pending++] = p;
    }
}

static void *acceptor_main(void *arg)
{
    struct srv_http *h = arg;
    struct pollfd fds[2 + MAX_PENDING];
    int64_t pause_until = 0, next_sweep = 0;
    for (;;) {
        int64_t now = mono_ms();
        fds[0] = (struct pollfd){h->wake[0], POLLIN, 0};
        /* poll ignores a negative fd: the listener rests while out of descriptors */
        fds[1] = (struct pollfd){now >= pause_until ? h->listen_fd : -1, POLLIN, 0};
        for (size_t i = 0; i < h->n_pending; i++)
            fds[2 + i] = (struct pollfd){h->pending[i].fd, POLLIN, 0};
        int rc = poll(fds, 2 + h->n_pending, SWEEP_MS);
        if (rc < 0 && errno != EINTR)
            break;
        if (fds[0].revents != 0)
            break;
        /* First bytes of waiting connections, in the order they were accepted (admission is
         * first come, first served); the list stays in that order. */
        now = mono_ms();
        size_t kept = 0;
        for (size_t i = 0; i < h->n_pending; i++) {
            struct pending *p = &h->pending[i];
            bool done = true;
            if (rc > 0 && fds[2 + i].revents != 0) {
                unsigned char b = 0;
                ssize_t n = recv(p->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
                if (n == 1)
                    hand_over(h, p, b == 0x16);
                else if (n < 0 && (errno == EAGAIN || errno == EINTR))
                    done = false;
                else
                    close(p->fd);
            } else if (now - p->since_ms >= h->header_ms) {
                close(p->fd);
            } else {
                done = false;
            }
            if (!done)
                h->pending[kept++] = *p;
        }
        h->n_pending = kept;
        if (rc > 0 && fds[1].fd >= 0 && (fds[1].revents & POLLIN) != 0)
            accept_burst(h, now, &pause_until);
        if (now >= next_sweep) {
            unsigned cut = srv_conns_expire(h->conns, now);
            if (cut > 0)
                cof_log_debug(NULL, "closed %u connections past their deadline", cut);
            next_sweep = now + SWEEP_MS;
        }
    }
    for (size_t i = 0; i < h->n_pending; i++)
        close(h->pending[i].fd);
    h->n_pending = 0;
    return NULL;
}

static struct MHD_Daemon *start_daemon(struct srv_http *h, struct side *sd, unsigned threads,
                                       unsigned limit, const struct cry_tls_identity *tls)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    unsigned timeout = (unsigned)(h->header_ms / 1000);
    /* limit: conns.c enforces the real caps before MHD_add_connection. libmicrohttpd's own
     * limit is split evenly between its worker threads and checked without a lock when a
     * connection is handed over, so it is set where no worker can reach its share: a worker
     * that refuses a connection at its limit deadlocks on its own mutex in 0.9.75 (SIGTERM
     * then never finishes). */
    if (tls != NULL)
        return MHD_start_daemon(
            flags | MHD_USE_TLS, 0, NULL, NULL, on_request, sd, MHD_OPTION_THREAD_POOL_SIZE,
            threads, MHD_OPTION_URI_LOG_CALLBACK, on_uri, sd, MHD_OPTION_NOTIFY_COMPLETED,
            on_completed, sd, MHD_OPTION_NOTIFY_CONNECTION, on_connection, sd,
            MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)(CONN_POOL_BYTES), MHD_OPTION_CONNECTION_TIMEOUT, timeout,
            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_HTTPS_MEM_KEY, tls->key_pem,
            MHD_OPTION_HTTPS_MEM_CERT, tls->cert_pem, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, sd, MHD_OPTION_THREAD_POOL_SIZE,
                            threads, MHD_OPTION_URI_LOG_CALLBACK, on_uri, sd,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, sd,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, sd,
                            MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)(CONN_POOL_BYTES), MHD_OPTION_CONNECTION_TIMEOUT, timeout,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
}

/* libmicrohttpd's connection limit for a daemon of `threads` workers: each worker's share is
 * above everything conns.c lets through (see start_daemon). */
static unsigned mhd_limit(unsigned hard_cap, unsigned threads)
{
    uint64_t l = ((uint64_t)hard_cap + 1) * threads;
    return l > UINT_MAX / 2 ? UINT_MAX / 2 : (unsigned)l;
}

static void cut_socket(int fd)
{
    /* libmicrohttpd then reads the end of the stream and closes the connection itself */
    (void)shutdown(fd, SHUT_RDWR);
}

/* The caps, fitted into the descriptor limit (raised to the hard limit by main). */
static cof_err make_conns(struct srv_http *h, const struct srv_config *cfg)
{
    struct rlimit rl;
    uint64_t fd_limit = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        fd_limit = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (uint64_t)rl.rlim_cur;
    struct srv_conns_limits lim;
    bool lowered = false;
    h->header_ms = (int64_t)cfg->header_timeout * 1000;
    h->keepalive_s = cfg->keepalive_timeout;
    h->body_s = cfg->body_timeout;
    srv_conns_plan(fd_limit, cfg->max_connections, cfg->max_connections_per_client, h->header_ms,
                   (int64_t)cfg->keepalive_timeout * 1000, &lim, &lowered);
    if (lowered)
        cof_log_warn(NULL, "max_connections lowered from %u to %u to fit the file limit of %llu",
                     cfg->max_connections, lim.max_conns, (unsigned long long)fd_limit);
    cof_log_info(NULL,
                 "connections: %u served at once (%u per client address%s), %u held at most; "
                 "timeouts: headers %u s, keep-alive idle %u s, body idle %u s",
                 lim.max_conns, lim.max_per_client, lim.max_per_client == 0 ? ": no cap" : "",
                 lim.hard_cap, cfg->header_timeout, cfg->keepalive_timeout, cfg->body_timeout);
    h->hard_cap = lim.hard_cap;
    return srv_conns_new(&lim, cut_socket, &h->conns);
}

cof_err srv_http_start(struct srv_ctx *ctx, int listen_fd, unsigned threads,
                       const struct cry_tls_identity *tls, struct srv_http **out)
{
    struct srv_http *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return COF_ERR_NOMEM;
    h->ctx = ctx;
    h->listen_fd = listen_fd;
    h->wake[0] = h->wake[1] = -1;
    h->plain_side = (struct side){ctx, h, false};
    h->tls_side = (struct side){ctx, h, true};
    h->emfile_warned_ms = INT64_MIN / 2;
    cof_err err = make_conns(h, ctx->cfg);
    unsigned tls_threads = threads >= 8 ? threads / 4 : 2;
    if (err == COF_OK) {
        int fl = fcntl(listen_fd, F_GETFL);
        if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) != 0)
            err = COF_ERR_IO;
    }
    if (err == COF_OK) {
        h->plain = start_daemon(h, &h->plain_side, threads, mhd_limit(h->hard_cap, threads), NULL);
        if (h->plain == NULL)
            err = COF_ERR_IO;
        if (err == COF_OK && tls != NULL) {
            h->tls = start_daemon(h, &h->tls_side, tls_threads, mhd_limit(h->hard_cap, tls_threads),
                                  tls);
            if (h->tls == NULL)
                err = COF_ERR_IO;
        }
    }
    if (err == COF_OK && pipe2(h->wake, O_CLOEXEC) != 0)
        err = COF_ERR_IO;
    if (err == COF_OK && pthread_create(&h->acceptor, NULL, acceptor_main, h) != 0)
        err = COF_ERR_IO;
    if (err != COF_OK) {
        cof_log_error(NULL, "libmicrohttpd did not start");
        srv_http_stop(h, 0);
        return err;
    }
    h->acceptor_started = true;
    *out = h;
    return COF_OK;
}

void srv_http_stop(struct srv_http *h, unsigned grace_ms)
{
    if (h == NULL)
        return;
    if (h->acceptor_started) {
        ssize_t w = write(h->wake[1], "x", 1);
        (void)w;
        pthread_join(h->acceptor, NULL);
    }
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    /* Idle and half-received connections go at once; requests in flight get the grace period,
     * and their connections are cut as each one is answered. */
    if (h->conns != NULL) {
        int64_t t0 = mono_ms();
        unsigned cut = srv_conns_stop(h->conns);
        unsigned busy = srv_conns_busy(h->conns);
        cof_log_info(NULL,
                     "closed %u idle or half-received connections; %u requests in flight get "
                     "up to %u ms",
                     cut, busy, grace_ms);
        while (busy > 0 && mono_ms() - t0 < (int64_t)grace_ms) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            busy = srv_conns_busy(h->conns);
        }
        if (busy > 0)
            cof_log_warn(NULL,
                         "%u requests still in flight after %u ms: cut off (an upload among "
                         "them is not stored)",
                         busy, grace_ms);
    }
    if (h->plain != NULL)
        MHD_stop_daemon(h->plain);
    if (h->tls != NULL)
        MHD_stop_daemon(h->tls);
    srv_conns_free(h->conns);
    for (int i = 0; i < 2; i++)
        if (h->wake[i] >= 0)
            close(h->wake[i]);
    free(h);
}

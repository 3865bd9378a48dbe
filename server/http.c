/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd glue. A request's life: URI log callback (allocates struct srv_req with the raw
 * target) -> access handler first call (ops_begin) -> body pieces (buffered under a cap or
 * streamed to ops_body) -> last call (ops_finish queues the response) -> completion callback
 * frees everything. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "server/http.h"

#include <microhttpd.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
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
#include "server/dispatch.h"
#include "s3/s3err.h"
#include "s3/xml.h"

/* Which side of the shared port a daemon serves. */
struct side {
    struct srv_ctx *ctx;
    bool tls;
};

#define MAX_PENDING     256
#define PEEK_TIMEOUT_MS 10000

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
};

static void make_ids(struct srv_req *req)
{
    uint8_t r[16 + 33];
    if (cry_random(r, sizeof(r)) != COF_OK)
        memset(r, 0x5a, sizeof(r));
    cof_hex_encode_upper(r, 8, req->rid); /* 16 upper-case digits, as AWS's request ids */
    srv_base64_encode(r + 16, 33, req->id2);
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
    srv_route_cleanup(&req->route);
    free(req->region);
    free(req->raw_path);
    free(req->raw_uri);
    free(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct srv_ctx *ctx = ((const struct side *)cls)->ctx;
    (void)conn;
    struct srv_req *req = *con_cls;
    if (req == NULL)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
        cof_log_debug(req->rid, "request ended early (code %d)", (int)toe);
    free_req(req);
    *con_cls = NULL;
    atomic_fetch_sub(&ctx->active, 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
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

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    cof_log_debug(NULL, "libmicrohttpd: %s", line);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void hand_over(struct srv_http *h, struct pending *p, bool tls)
{
    struct MHD_Daemon *d = tls ? h->tls : h->plain;
    if (d == NULL) {
        close(p->fd);
        return;
    }
    /* On failure MHD closes the socket itself ("closed in any case"): never close it here. */
    if (MHD_add_connection(d, p->fd, (const struct sockaddr *)&p->addr, p->len) != MHD_YES)
        cof_log_debug(NULL, "dropped a %s connection", tls ? "TLS" : "plain");
}

static void *acceptor_main(void *arg)
{
    struct srv_http *h = arg;
    struct pollfd fds[2 + MAX_PENDING];
    for (;;) {
        fds[0] = (struct pollfd){h->wake[0], POLLIN, 0};
        fds[1] = (struct pollfd){h->listen_fd, POLLIN, 0};
        for (size_t i = 0; i < h->n_pending; i++)
            fds[2 + i] = (struct pollfd){h->pending[i].fd, POLLIN, 0};
        int rc = poll(fds, 2 + h->n_pending, 1000);
        if (rc < 0 && errno != EINTR)
            break;
        if (fds[0].revents != 0)
            break;
        /* First bytes of waiting connections (iterate backwards: entries are removed). */
        int64_t now = mono_ms();
        for (size_t i = h->n_pending; i-- > 0;) {
            struct pending *p = &h->pending[i];
            bool expired = now - p->since_ms > PEEK_TIMEOUT_MS;
            if (rc > 0 && fds[2 + i].revents != 0) {
                unsigned char b = 0;
                ssize_t n = recv(p->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
                if (n == 1)
                    hand_over(h, p, b == 0x16);
                else if (n < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                else
                    close(p->fd);
            } else if (expired) {
                close(p->fd);
            } else {
                continue;
            }
            h->pending[i] = h->pending[--h->n_pending];
        }
        if (rc > 0 && (fds[1].revents & POLLIN) != 0) {
            struct pending p;
            p.len = sizeof(p.addr);
            p.fd = accept4(h->listen_fd, (struct sockaddr *)&p.addr, &p.len, SOCK_CLOEXEC);
            if (p.fd >= 0) {
                p.since_ms = now;
                if (h->n_pending < MAX_PENDING)
                    h->pending[h->n_pending++] = p;
                else
                    hand_over(h, &p, false); /* overloaded: no peek, plain HTTP */
            }
        }
    }
    for (size_t i = 0; i < h->n_pending; i++)
        close(h->pending[i].fd);
    h->n_pending = 0;
    return NULL;
}

static struct MHD_Daemon *start_daemon(struct srv_http *h, struct side *sd, unsigned threads,
                                       const struct cry_tls_identity *tls)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    if (tls != NULL)
        return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, sd,
                                MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_URI_LOG_CALLBACK,
                                on_uri, sd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, sd,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
                                MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_EXTERNAL_LOGGER,
                                on_mhd_log, NULL, MHD_OPTION_HTTPS_MEM_KEY, tls->key_pem,
                                MHD_OPTION_HTTPS_MEM_CERT, tls->cert_pem, MHD_OPTION_END);
    (void)h;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, sd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, sd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, sd,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_CONNECTION_TIMEOUT,
        120u, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
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
    h->plain_side = (struct side){ctx, false};
    h->tls_side = (struct side){ctx, true};
    cof_err err = COF_OK;
    h->plain = start_daemon(h, &h->plain_side, threads, NULL);
    if (h->plain == NULL)
        err = COF_ERR_IO;
    if (err == COF_OK && tls != NULL) {
        h->tls = start_daemon(h, &h->tls_side, threads >= 8 ? threads / 4 : 2, tls);
        if (h->tls == NULL)
            err = COF_ERR_IO;
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
    unsigned waited = 0;
    while (atomic_load(&h->ctx->active) > 0 && waited < grace_ms) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited += 10;
    }
    if (h->plain != NULL)
        MHD_stop_daemon(h->plain);
    if (h->tls != NULL)
        MHD_stop_daemon(h->tls);
    for (int i = 0; i < 2; i++)
        if (h->wake[i] >= 0)
            close(h->wake[i]);
    free(h);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Connection admission for the HTTP front end: the global and per-client-address caps, the
 * phase of every connection (headers, request, keep-alive idle) and its deadline, and cutting
 * connections (shutdown(2) of their socket) at that deadline or at shutdown. It reads and writes
 * no socket; http.c accepts, hands over to libmicrohttpd and answers. Thread-safe: one mutex. */
#ifndef SRV_CONNS_H
#define SRV_CONNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

struct srv_conns;
struct srv_conn; /* one connection handed to libmicrohttpd */

/* Cuts a connection: http.c passes shutdown(fd, SHUT_RDWR), so that libmicrohttpd sees the end
 * of the stream and closes the connection itself; tests pass a recorder. */
typedef void (*srv_conn_cut_fn)(int fd);

struct srv_conns_limits {
    unsigned max_conns;      /* admitted connections, all clients together */
    unsigned max_per_client; /* admitted connections from one address (0: no per-address cap) */
    unsigned hard_cap;       /* connections held at all, admitted or refused (fd budget) */
    int64_t header_ms;       /* connect (or end of keep-alive idle) to complete request headers */
    int64_t keepalive_ms;    /* idle time allowed between requests */
};

enum srv_conn_verdict {
    SRV_CONN_ADMIT,  /* serve it */
    SRV_CONN_REFUSE, /* over a cap: hold it, answer each request 503 SlowDown and close */
    SRV_CONN_DROP,   /* over every cap (or stopping): close it now; nothing is tracked */
};

/* Fits the caps into the file descriptor limit: hard_cap stays under fd_limit less a reserve
 * for data files, max_conns under three quarters of hard_cap. Sets *out_lowered when max_conns
 * had to come down. Pure. */
void srv_conns_plan(uint64_t fd_limit, unsigned want_max, unsigned max_per_client,
                    int64_t header_ms, int64_t keepalive_ms, struct srv_conns_limits *out,
                    bool *out_lowered);

/* limits is copied; cut is called with the mutex held. */
COF_MUST_CHECK cof_err srv_conns_new(const struct srv_conns_limits *limits, srv_conn_cut_fn cut,
                                     struct srv_conns **out);
/* Frees every entry left. Accepts NULL. */
void srv_conns_free(struct srv_conns *cs);

/* Decides on a connection accepted at now_ms from sa (IPv4-mapped IPv6 counts as IPv4) and,
 * unless it is dropped, tracks it under fd with a header deadline. *out is the entry (NULL for
 * DROP), borrowed until srv_conns_remove. COF_ERR_NOMEM: nothing tracked; close the fd. */
COF_MUST_CHECK cof_err srv_conns_add(struct srv_conns *cs, int fd, const struct sockaddr *sa,
                                     int64_t now_ms, enum srv_conn_verdict *out_verdict,
                                     struct srv_conn **out);
/* The entry tracked under fd, or NULL. For libmicrohttpd's "connection started" callback. */
struct srv_conn *srv_conns_find(struct srv_conns *cs, int fd);
/* Forgets a connection (closed, or not handed over) and frees c. Accepts NULL. */
void srv_conns_remove(struct srv_conns *cs, struct srv_conn *c);

enum srv_conn_answer {
    SRV_CONN_SERVE,    /* run the request */
    SRV_CONN_SLOWDOWN, /* refused connection: 503 SlowDown, then close */
    SRV_CONN_STOPPING, /* the server stops: 503 ServiceUnavailable, then close */
};
/* Request headers are complete: no deadline until the request ends. Says how to answer. */
enum srv_conn_answer srv_conns_request_start(struct srv_conns *cs, struct srv_conn *c);
/* The request was answered: keep-alive idle, the next request's headers due within
 * keepalive_ms + header_ms. While stopping, the connection is cut instead. */
void srv_conns_request_done(struct srv_conns *cs, struct srv_conn *c, int64_t now_ms);

/* The request's body is all in (or it has none). */
void srv_conns_body_done(struct srv_conns *cs, struct srv_conn *c);
/* Cuts every connection whose deadline has passed, and every one whose client went away in the
 * middle of a request body; returns how many. */
unsigned srv_conns_expire(struct srv_conns *cs, int64_t now_ms);
/* Stops admitting and cuts every connection not inside a request (idle or half-received);
 * later ones are cut as their request ends. Returns how many were cut now. */
unsigned srv_conns_stop(struct srv_conns *cs);
/* Connections inside a request (headers complete, not yet answered). */
unsigned srv_conns_busy(struct srv_conns *cs);

/* Counts, for logs and tests. */
struct srv_conns_stats {
    unsigned held, admitted, refused, busy;
    uint64_t refused_total, dropped_total, cut_total;
};
void srv_conns_stats(struct srv_conns *cs, struct srv_conns_stats *out);

#endif

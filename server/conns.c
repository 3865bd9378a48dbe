/* SPDX-License-Identifier: Apache-2.0 */
/* Connection admission and deadlines (see conns.h). Two chained hash tables under one mutex:
 * connections by socket fd, and per-address counts; plus a list of every connection for the
 * deadline sweep, which runs about once a second over at most hard_cap entries. */
#define _GNU_SOURCE /* POLLRDHUP */
#include "server/conns.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"

#define CONN_BUCKETS    4096u
#define ADDR_BUCKETS    4096u
#define ADDR_KEY_LEN    17 /* family byte, then 4 (IPv4) or 16 (IPv6) address bytes */
#define WARN_EVERY_MS   10000
#define FD_RESERVE_MIN  64u
#define FD_RESERVE_MAX  8192u
#define REFUSED_MINIMUM 64u
#define CUT_BATCH       64u

enum phase {
    PHASE_HEADERS, /* connected (or idle ended): request headers not complete yet */
    PHASE_BUSY,    /* inside a request: body, handler, response */
    PHASE_IDLE,    /* keep-alive, between requests */
};

struct addr_slot {
    uint8_t key[ADDR_KEY_LEN];
    unsigned admitted;
    unsigned refused;
    struct addr_slot *next;
};

struct srv_conn {
    int fd;
    enum phase phase;
    bool refused;
    bool cut;             /* shutdown(2) done; libmicrohttpd will close it */
    int64_t deadline_ms;  /* 0: none (inside a request) */
    bool body_open;       /* inside a request whose body is not all in yet */
    unsigned gone_sweeps; /* sweeps in a row that found its client gone (peer_gone) */
    struct addr_slot *addr;
    struct srv_conn *next_fd;     /* hash chain */
    struct srv_conn *prev, *next; /* every connection */
};

struct srv_conns {
    pthread_mutex_t lock;
    struct srv_conns_limits lim;
    srv_conn_cut_fn cut;
    struct srv_conn *by_fd[CONN_BUCKETS];
    struct addr_slot *by_addr[ADDR_BUCKETS];
    struct srv_conn *head;
    unsigned held, admitted, refused, busy;
    uint64_t refused_total, dropped_total, cut_total;
    bool stopping;
    int64_t warned_ms;
};

void srv_conns_plan(uint64_t fd_limit, unsigned want_max, unsigned max_per_client,
                    int64_t header_ms, int64_t keepalive_ms, struct srv_conns_limits *out,
                    bool *out_lowered)
{
    /* Keep descriptors for blobs, the database and logs: one eighth of the limit, within
     * bounds (a GET of a multipart object holds one descriptor per part). */
    uint64_t reserve = fd_limit / 8;
    if (reserve < FD_RESERVE_MIN)
        reserve = FD_RESERVE_MIN;
    if (reserve > FD_RESERVE_MAX)
        reserve = FD_RESERVE_MAX;
    uint64_t budget = fd_limit > reserve + 16 ? fd_limit - reserve : 16;
    /* Room for as many refused connections as admitted ones: a refused client then reads a
     * 503 instead of a reset. */
    uint64_t hard = (uint64_t)want_max * 2;
    if (hard < (uint64_t)want_max + REFUSED_MINIMUM)
        hard = (uint64_t)want_max + REFUSED_MINIMUM;
    if (hard > budget)
        hard = budget;
    if (hard > 1u << 24)
        hard = 1u << 24;
    uint64_t max = want_max;
    *out_lowered = false;
    if (max > hard * 3 / 4) {
        max = hard * 3 / 4;
        *out_lowered = true;
    }
    if (max == 0)
        max = 1;
    out->max_conns = (unsigned)max;
    out->max_per_client = max_per_client;
    out->hard_cap = (unsigned)hard;
    out->header_ms = header_ms;
    out->keepalive_ms = keepalive_ms;
}

cof_err srv_conns_new(const struct srv_conns_limits *limits, srv_conn_cut_fn cut,
                      struct srv_conns **out)
{
    struct srv_conns *cs = calloc(1, sizeof(*cs));
    if (cs == NULL)
        return COF_ERR_NOMEM;
    if (pthread_mutex_init(&cs->lock, NULL) != 0) {
        free(cs);
        return COF_ERR_NOMEM;
    }
    cs->lim = *limits;
    cs->cut = cut;
    cs->warned_ms = INT64_MIN / 2;
    *out = cs;
    return COF_OK;
}

void srv_conns_free(struct srv_conns *cs)
{
    if (cs == NULL)
        return;
    while (cs->head != NULL)
        srv_conns_remove(cs, cs->head);
    for (size_t i = 0; i < ADDR_BUCKETS; i++) {
        while (cs->by_addr[i] != NULL) {
            struct addr_slot *a = cs->by_addr[i];
            cs->by_addr[i] = a->next;
            free(a);
        }
    }
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

/* IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4 client) keys as IPv4. */
static void addr_key(const struct sockaddr *sa, uint8_t key[ADDR_KEY_LEN])
{
    memset(key, 0, ADDR_KEY_LEN);
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        key[0] = 4;
        memcpy(key + 1, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            key[0] = 4;
            memcpy(key + 1, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, in6->sin6_addr.s6_addr, 16);
        }
    }
}

static size_t addr_hash(const uint8_t key[ADDR_KEY_LEN])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < ADDR_KEY_LEN; i++) {
        h ^= key[i];
        h *= 16777619u;
    }
    return h % ADDR_BUCKETS;
}

static struct addr_slot *addr_get(struct srv_conns *cs, const uint8_t key[ADDR_KEY_LEN])
{
    size_t b = addr_hash(key);
    for (struct addr_slot *a = cs->by_addr[b]; a != NULL; a = a->next)
        if (memcmp(a->key, key, ADDR_KEY_LEN) == 0)
            return a;
    struct addr_slot *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    memcpy(a->key, key, ADDR_KEY_LEN);
    a->next = cs->by_addr[b];
    cs->by_addr[b] = a;
    return a;
}

static void addr_put(struct srv_conns *cs, struct addr_slot *a)
{
    if (a->admitted > 0 || a->refused > 0)
        return;
    struct addr_slot **pp = &cs->by_addr[addr_hash(a->key)];
    while (*pp != a)
        pp = &(*pp)->next;
    *pp = a->next;
    free(a);
}

static void warn_saturated(struct srv_conns *cs, int64_t now_ms, const struct addr_slot *a,
                           bool dropped)
{
    if (now_ms - cs->warned_ms < WARN_EVERY_MS)
        return;
    cs->warned_ms = now_ms;
    cof_log_warn(NULL,
                 "connections saturated: %u admitted (cap %u), %u from one client (cap %u), "
                 "%u held (cap %u): %s (warned at most every %d s)",
                 cs->admitted, cs->lim.max_conns, a != NULL ? a->admitted : 0,
                 cs->lim.max_per_client, cs->held, cs->lim.hard_cap,
                 dropped ? "closing new connections" : "answering 503 SlowDown",
                 WARN_EVERY_MS / 1000);
}

cof_err srv_conns_add(struct srv_conns *cs, int fd, const struct sockaddr *sa, int64_t now_ms,
                      enum srv_conn_verdict *out_verdict, struct srv_conn **out)
{
    uint8_t key[ADDR_KEY_LEN];
    addr_key(sa, key);
    *out = NULL;
    *out_verdict = SRV_CONN_DROP;
    struct srv_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return COF_ERR_NOMEM;
    cof_err err = COF_OK;
    pthread_mutex_lock(&cs->lock);
    struct addr_slot *a = NULL;
    if (!cs->stopping && cs->held < cs->lim.hard_cap) {
        a = addr_get(cs, key);
        if (a == NULL)
            err = COF_ERR_NOMEM;
    }
    enum srv_conn_verdict v = SRV_CONN_DROP;
    if (a != NULL) {
        bool per_client_full = cs->lim.max_per_client > 0 && a->admitted >= cs->lim.max_per_client;
        if (!per_client_full && cs->admitted < cs->lim.max_conns)
            v = SRV_CONN_ADMIT;
        /* A client may hold as many refused connections as admitted ones; past that, and past
         * the hard cap, new connections are closed at once. */
        else if (cs->lim.max_per_client == 0 || a->refused < cs->lim.max_per_client)
            v = SRV_CONN_REFUSE;
    }
    if (v == SRV_CONN_DROP) {
        if (a != NULL)
            addr_put(cs, a);
        if (err == COF_OK) {
            cs->dropped_total++;
            warn_saturated(cs, now_ms, a, true);
        }
        pthread_mutex_unlock(&cs->lock);
        free(c);
        *out_verdict = v;
        return err;
    }
    c->fd = fd;
    c->phase = PHASE_HEADERS;
    c->refused = v == SRV_CONN_REFUSE;
    c->deadline_ms = now_ms + cs->lim.header_ms;
    c->addr = a;
    if (c->refused) {
        a->refused++;
        cs->refused++;
        cs->refused_total++;
        warn_saturated(cs, now_ms, a, false);
    } else {
        a->admitted++;
        cs->admitted++;
    }
    cs->held++;
    size_t b = (unsigned)fd % CONN_BUCKETS;
    c->next_fd = cs->by_fd[b];
    cs->by_fd[b] = c;
    c->next = cs->head;
    if (cs->head != NULL)
        cs->head->prev = c;
    cs->head = c;
    pthread_mutex_unlock(&cs->lock);
    *out_verdict = v;
    *out = c;
    return COF_OK;
}

struct srv_conn *srv_conns_find(struct srv_conns *cs, int fd)
{
    pthread_mutex_lock(&cs->lock);
    struct srv_conn *c = cs->by_fd[(unsigned)fd % CONN_BUCKETS];
    while (c != NULL && c->fd != fd)
        c = c->next_fd;
    pthread_mutex_unlock(&cs->lock);
    return c;
}

void srv_conns_remove(struct srv_conns *cs, struct srv_conn *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&cs->lock);
    struct srv_conn **pp = &cs->by_fd[(unsigned)c->fd % CONN_BUCKETS];
    while (*pp != NULL && *pp != c)
        pp = &(*pp)->next_fd;
    if (*pp == c)
        *pp = c->next_fd;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->phase == PHASE_BUSY)
        cs->busy--;
    if (c->refused) {
        c->addr->refused--;
        cs->refused--;
    } else {
        c->addr->admitted--;
        cs->admitted--;
    }
    cs->held--;
    addr_put(cs, c->addr);
    pthread_mutex_unlock(&cs->lock);
    free(c);
}

static void cut(struct srv_conns *cs, struct srv_conn *c)
{
    if (c->cut)
        return;
    c->cut = true;
    c->deadline_ms = 0;
    cs->cut_total++;
    cs->cut(c->fd);
}

enum srv_conn_answer srv_conns_request_start(struct srv_conns *cs, struct srv_conn *c)
{
    pthread_mutex_lock(&cs->lock);
    if (c->phase != PHASE_BUSY)
        cs->busy++;
    c->phase = PHASE_BUSY;
    c->deadline_ms = 0;
    c->body_open = true;
    c->gone_sweeps = 0;
    enum srv_conn_answer a = c->refused     ? SRV_CONN_SLOWDOWN
                             : cs->stopping ? SRV_CONN_STOPPING
                                            : SRV_CONN_SERVE;
    pthread_mutex_unlock(&cs->lock);
    return a;
}

void srv_conns_request_done(struct srv_conns *cs, struct srv_conn *c, int64_t now_ms)
{
    pthread_mutex_lock(&cs->lock);
    if (c->phase == PHASE_BUSY)
        cs->busy--;
    c->phase = PHASE_IDLE;
    c->body_open = false;
    /* The next request may trickle in slowly after the idle time: its headers are due by the
     * end of both, whatever arrives in between. */
    if (!c->cut)
        c->deadline_ms = now_ms + cs->lim.keepalive_ms + cs->lim.header_ms;
    if (cs->stopping)
        cut(cs, c);
    pthread_mutex_unlock(&cs->lock);
}

/* Cuts the connections `due` selects, CUT_BATCH per hold of the mutex: a flood expiring all at
 * once means thousands of shutdown(2) calls (about 60 us each), and the worker threads need the
 * mutex meanwhile to serve everyone else. Each batch walks the list again from the head (cut
 * entries are skipped): the list may change while the mutex is released. */
static unsigned cut_where(struct srv_conns *cs, bool (*due)(const struct srv_conn *, int64_t),
                          int64_t now_ms)
{
    unsigned total = 0, n = 0;
    do {
        n = 0;
        pthread_mutex_lock(&cs->lock);
        for (struct srv_conn *c = cs->head; c != NULL && n < CUT_BATCH; c = c->next) {
            if (!c->cut && due(c, now_ms)) {
                cut(cs, c);
                n++;
            }
        }
        pthread_mutex_unlock(&cs->lock);
        total += n;
        if (n == CUT_BATCH)
            sched_yield();
    } while (n == CUT_BATCH);
    return total;
}

static bool past_deadline(const struct srv_conn *c, int64_t now_ms)
{
    return c->deadline_ms != 0 && now_ms >= c->deadline_ms;
}

static bool not_busy(const struct srv_conn *c, int64_t now_ms)
{
    (void)now_ms;
    return c->phase != PHASE_BUSY;
}

void srv_conns_body_done(struct srv_conns *cs, struct srv_conn *c)
{
    pthread_mutex_lock(&cs->lock);
    c->body_open = false;
    pthread_mutex_unlock(&cs->lock);
}

/* Whether the client has closed its side and nothing it sent is left unread. */
static bool peer_gone(int fd)
{
    struct pollfd p = {fd, POLLRDHUP, 0};
    if (poll(&p, 1, 0) != 1 || (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0)
        return false;
    unsigned char b = 0;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* A body still coming from a client that is gone cannot complete. libmicrohttpd 0.9.75 (epoll,
 * edge-triggered) can miss the end of file that arrives right behind the last bytes it reads,
 * and would hold such a connection (in CLOSE-WAIT) until the body timeout; seen on two sweeps
 * in a row (so that one whose last bytes are still being taken in is spared), it is cut. */
static void mark_gone(struct srv_conns *cs)
{
    pthread_mutex_lock(&cs->lock);
    for (struct srv_conn *c = cs->head; c != NULL; c = c->next) {
        if (c->phase == PHASE_BUSY && c->body_open && !c->cut)
            c->gone_sweeps = peer_gone(c->fd) ? c->gone_sweeps + 1 : 0;
    }
    pthread_mutex_unlock(&cs->lock);
}

static bool past_deadline_or_gone(const struct srv_conn *c, int64_t now_ms)
{
    return past_deadline(c, now_ms) || (c->body_open && c->gone_sweeps >= 2);
}

unsigned srv_conns_expire(struct srv_conns *cs, int64_t now_ms)
{
    mark_gone(cs);
    return cut_where(cs, past_deadline_or_gone, now_ms);
}

unsigned srv_conns_stop(struct srv_conns *cs)
{
    pthread_mutex_lock(&cs->lock);
    cs->stopping = true;
    pthread_mutex_unlock(&cs->lock);
    return cut_where(cs, not_busy, 0);
}

unsigned srv_conns_busy(struct srv_conns *cs)
{
    pthread_mutex_lock(&cs->lock);
    unsigned n = cs->busy;
    pthread_mutex_unlock(&cs->lock);
    return n;
}

void srv_conns_stats(struct srv_conns *cs, struct srv_conns_stats *out)
{
    pthread_mutex_lock(&cs->lock);
    out->held = cs->held;
    out->admitted = cs->admitted;
    out->refused = cs->refused;
    out->busy = cs->busy;
    out->refused_total = cs->refused_total;
    out->dropped_total = cs->dropped_total;
    out->cut_total = cs->cut_total;
    pthread_mutex_unlock(&cs->lock);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* srv_conns: admission verdicts under the global and per-address caps, IPv4-mapped addresses,
 * deadlines per phase, shutdown cuts, and fitting the caps into the descriptor limit. */
#include "check.h"
#include "server/conns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* The fds cut so far, in order (the cut callback runs with the mutex held). */
static int cut_fds[64];
static size_t n_cut;

static void record_cut(int fd)
{
    if (n_cut < sizeof(cut_fds) / sizeof(cut_fds[0]))
        cut_fds[n_cut] = fd;
    n_cut++;
}

static bool was_cut(int fd)
{
    for (size_t i = 0; i < n_cut && i < sizeof(cut_fds) / sizeof(cut_fds[0]); i++)
        if (cut_fds[i] == fd)
            return true;
    return false;
}

static struct sockaddr_storage v4(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    CHECK_EQ_INT(inet_pton(AF_INET, ip, &in->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    CHECK_EQ_INT(inet_pton(AF_INET6, ip, &in6->sin6_addr), 1);
    return ss;
}

static enum srv_conn_verdict add(struct srv_conns *cs, int fd, const struct sockaddr_storage *ss,
                                 int64_t now, struct srv_conn **out)
{
    enum srv_conn_verdict v = SRV_CONN_DROP;
    CHECK_EQ_INT(srv_conns_add(cs, fd, (const struct sockaddr *)ss, now, &v, out), COF_OK);
    return v;
}

static struct srv_conns *make(unsigned max, unsigned per_client, unsigned hard)
{
    struct srv_conns_limits lim = {max, per_client, hard, 15000, 60000};
    struct srv_conns *cs = NULL;
    CHECK_EQ_INT(srv_conns_new(&lim, record_cut, &cs), COF_OK);
    n_cut = 0;
    return cs;
}

static void test_per_client_cap(void)
{
    struct srv_conns *cs = make(100, 2, 200);
    struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2");
    struct srv_conn *c[8] = {NULL};
    CHECK_EQ_INT(add(cs, 10, &a, 0, &c[0]), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 11, &a, 0, &c[1]), SRV_CONN_ADMIT);
    /* third and fourth from a: held and refused; fifth: nothing more is held for a */
    CHECK_EQ_INT(add(cs, 12, &a, 0, &c[2]), SRV_CONN_REFUSE);
    CHECK_EQ_INT(add(cs, 13, &a, 0, &c[3]), SRV_CONN_REFUSE);
    struct srv_conn *none = NULL;
    CHECK_EQ_INT(add(cs, 14, &a, 0, &none), SRV_CONN_DROP);
    CHECK(none == NULL);
    /* another address is served */
    CHECK_EQ_INT(add(cs, 15, &b, 0, &c[4]), SRV_CONN_ADMIT);
    CHECK_EQ_INT(srv_conns_request_start(cs, c[2]), SRV_CONN_SLOWDOWN);
    CHECK_EQ_INT(srv_conns_request_start(cs, c[0]), SRV_CONN_SERVE);
    struct srv_conns_stats st;
    srv_conns_stats(cs, &st);
    CHECK_EQ_INT(st.admitted, 3);
    CHECK_EQ_INT(st.refused, 2);
    CHECK_EQ_INT(st.held, 5);
    CHECK_EQ_INT(st.busy, 2);
    CHECK_EQ_INT(st.dropped_total, 1);
    /* a slot freed is a slot for a again */
    srv_conns_remove(cs, c[1]);
    CHECK(srv_conns_find(cs, 11) == NULL);
    CHECK(srv_conns_find(cs, 10) == c[0]);
    CHECK_EQ_INT(add(cs, 11, &a, 0, &c[1]), SRV_CONN_ADMIT);
    srv_conns_remove(cs, NULL);
    srv_conns_free(cs);
}

static void test_global_cap_and_hard_cap(void)
{
    struct srv_conns *cs = make(2, 0, 3);
    struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2"), d = v4("10.0.0.3");
    struct srv_conn *c = NULL;
    CHECK_EQ_INT(add(cs, 3, &a, 0, &c), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 4, &b, 0, &c), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 5, &d, 0, &c), SRV_CONN_REFUSE); /* global cap, no per-client cap */
    CHECK_EQ_INT(add(cs, 6, &d, 0, &c), SRV_CONN_DROP);   /* hard cap */
    srv_conns_free(cs);                                   /* frees what is left */
}

static void test_ipv4_mapped_is_ipv4(void)
{
    struct srv_conns *cs = make(100, 1, 200);
    struct sockaddr_storage a = v4("192.0.2.7"), m = v6("::ffff:192.0.2.7"), o = v6("2001:db8::7");
    struct srv_conn *c = NULL;
    CHECK_EQ_INT(add(cs, 3, &a, 0, &c), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 4, &m, 0, &c), SRV_CONN_REFUSE);
    CHECK_EQ_INT(add(cs, 5, &o, 0, &c), SRV_CONN_ADMIT);
    srv_conns_free(cs);
}

static void test_deadlines(void)
{
    struct srv_conns *cs = make(100, 0, 200);
    struct sockaddr_storage a = v4("10.0.0.1");
    struct srv_conn *hdr = NULL, *busy = NULL, *idle = NULL;
    CHECK_EQ_INT(add(cs, 20, &a, 1000, &hdr), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 21, &a, 1000, &busy), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 22, &a, 1000, &idle), SRV_CONN_ADMIT);
    CHECK_EQ_INT(srv_conns_request_start(cs, busy), SRV_CONN_SERVE);
    CHECK_EQ_INT(srv_conns_request_start(cs, idle), SRV_CONN_SERVE);
    srv_conns_request_done(cs, idle, 2000); /* next headers due by 2000 + 60000 + 15000 */
    CHECK_EQ_INT(srv_conns_busy(cs), 1);
    /* headers phase: the deadline is total, whatever trickles in */
    CHECK_EQ_INT(srv_conns_expire(cs, 15999), 0);
    CHECK_EQ_INT(srv_conns_expire(cs, 16000), 1);
    CHECK(was_cut(20));
    CHECK_EQ_INT(srv_conns_expire(cs, 16001), 0); /* cut once */
    /* inside a request: no deadline (libmicrohttpd's idle limit applies) */
    CHECK_EQ_INT(srv_conns_expire(cs, 76999), 0);
    CHECK_EQ_INT(srv_conns_expire(cs, 77000), 1);
    CHECK(was_cut(22));
    CHECK(!was_cut(21));
    CHECK_EQ_INT(srv_conns_expire(cs, 1000000), 0);
    srv_conns_free(cs);
}

static void test_stop(void)
{
    struct srv_conns *cs = make(100, 0, 200);
    struct sockaddr_storage a = v4("10.0.0.1");
    struct srv_conn *hdr = NULL, *busy = NULL, *idle = NULL, *c = NULL;
    CHECK_EQ_INT(add(cs, 30, &a, 0, &hdr), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 31, &a, 0, &busy), SRV_CONN_ADMIT);
    CHECK_EQ_INT(add(cs, 32, &a, 0, &idle), SRV_CONN_ADMIT);
    CHECK_EQ_INT(srv_conns_request_start(cs, busy), SRV_CONN_SERVE);
    CHECK_EQ_INT(srv_conns_request_start(cs, idle), SRV_CONN_SERVE);
    srv_conns_request_done(cs, idle, 10);
    /* idle and half-received go at once; the request in flight stays */
    CHECK_EQ_INT(srv_conns_stop(cs), 2);
    CHECK(was_cut(30) && was_cut(32) && !was_cut(31));
    CHECK_EQ_INT(srv_conns_busy(cs), 1);
    /* nothing new is admitted; the request in flight is cut once answered */
    CHECK_EQ_INT(add(cs, 33, &a, 20, &c), SRV_CONN_DROP);
    srv_conns_request_done(cs, busy, 30);
    CHECK(was_cut(31));
    CHECK_EQ_INT(srv_conns_busy(cs), 0);
    /* a request whose headers complete after the stop is answered 503 */
    CHECK_EQ_INT(srv_conns_request_start(cs, hdr), SRV_CONN_STOPPING);
    srv_conns_free(cs);
}

/* More due connections than one batch: all are cut, each once. */
static void test_mass_expiry(void)
{
    struct srv_conns *cs = make(1000, 0, 2000);
    struct sockaddr_storage a = v4("10.0.0.9");
    struct srv_conn *c = NULL;
    for (int fd = 100; fd < 400; fd++)
        CHECK_EQ_INT(add(cs, fd, &a, 0, &c), SRV_CONN_ADMIT);
    CHECK_EQ_INT(srv_conns_request_start(cs, c), SRV_CONN_SERVE); /* fd 399 is busy */
    CHECK_EQ_INT(srv_conns_expire(cs, 15000), 299);
    CHECK_EQ_INT(n_cut, 299);
    CHECK_EQ_INT(srv_conns_expire(cs, 15000), 0);
    CHECK_EQ_INT(srv_conns_stop(cs), 0); /* all left is busy */
    srv_conns_request_done(cs, c, 16000);
    CHECK_EQ_INT(n_cut, 300);
    srv_conns_free(cs);
}

static void test_plan(void)
{
    struct srv_conns_limits l;
    bool lowered = true;
    srv_conns_plan(20000, 8192, 1024, 15000, 60000, &l, &lowered);
    CHECK(!lowered);
    CHECK_EQ_INT(l.max_conns, 8192);
    CHECK_EQ_INT(l.hard_cap, 16384);
    CHECK_EQ_INT(l.max_per_client, 1024);
    CHECK(l.hard_cap < 20000);
    /* a small descriptor limit brings both down, under the limit with a reserve */
    srv_conns_plan(1024, 8192, 1024, 15000, 60000, &l, &lowered);
    CHECK(lowered);
    CHECK(l.hard_cap <= 1024 - 64);
    CHECK(l.max_conns <= l.hard_cap * 3 / 4);
    CHECK(l.max_conns > 0);
    /* a large one is not used up for nothing */
    srv_conns_plan(1u << 20, 100, 10, 15000, 60000, &l, &lowered);
    CHECK(!lowered);
    CHECK_EQ_INT(l.max_conns, 100);
    CHECK_EQ_INT(l.hard_cap, 200);
    /* degenerate limits still leave something to serve with */
    srv_conns_plan(10, 8192, 0, 15000, 60000, &l, &lowered);
    CHECK(l.max_conns >= 1);
    CHECK(l.hard_cap >= l.max_conns);
}

int main(void)
{
    test_per_client_cap();
    test_global_cap_and_hard_cap();
    test_ipv4_mapped_is_ipv4();
    test_deadlines();
    test_stop();
    test_mass_expiry();
    test_plan();
    return check_finish();
}

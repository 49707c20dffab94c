/* Non-blocking mode (API.md §1, §4, §6, §7): WOULD_BLOCK from read, recv,
 * recv_from, accept, write and connect; the non-blocking connect finished through
 * oxs_poll and through the poller, then OXS_OPT_ERROR = 0; a connect repeated during
 * the attempt; OXS_MSG_DONTWAIT on a blocking socket; non-blocking beats timeouts;
 * write_all/read_exact on a non-blocking handle return WOULD_BLOCK with the count.
 *
 * Usage: opts_nonblock. Exits non-zero on any failure. */
#include "oxsock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opts_check.h"

static unsigned char pattern(size_t i) { return (unsigned char)(i % 251); }

/* The call returned WOULD_BLOCK quickly (well under the timeouts set on the handle). */
static void expect_would_block(oxs_status st, long long t0, const char *rule)
{
    long long dt = now_ms() - t0;
    if (check_status(st, OXS_ERR_WOULD_BLOCK, "call", rule, __LINE__)) {
        CHECK(dt < 1000, rule, "took %lld ms", dt);
        CHECK(oxs_last_error()[0] != 0, "§1 WOULD_BLOCK records a message too", "empty");
    }
}

static void reads_and_accept(void)
{
    oxs_socket c, s;
    char buf[64];
    size_t n = 5;
    long long t0;
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(s, OXS_OPT_NONBLOCKING, 1));
    t0 = now_ms();
    expect_would_block(oxs_read(s, buf, sizeof buf, &n), t0, "§7 NONBLOCKING: read with nothing to read");
    CHECK(n == 0, "§1 a count is 0 on failure", "n=%zu", n);
    t0 = now_ms();
    expect_would_block(oxs_recv(s, buf, sizeof buf, 0, &n), t0, "§7 NONBLOCKING: recv with nothing to read");
    /* non-blocking beats a timeout */
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000));
    t0 = now_ms();
    expect_would_block(oxs_read(s, buf, sizeof buf, &n), t0, "§1 non-blocking beats READ_TIMEOUT_MS");
    /* read_exact returns WOULD_BLOCK with the count so far */
    SETUP(oxs_write_all(c, "0123456789", 10, NULL));
    sleep_ms(50);
    n = 0;
    t0 = now_ms();
    expect_would_block(oxs_read_exact(s, buf, 20, &n), t0, "§6 read_exact on a non-blocking handle");
    CHECK(n == 10 && memcmp(buf, "0123456789", 10) == 0, "§6 read_exact reports the count so far", "n=%zu", n);
    /* data present: a non-blocking read just works */
    SETUP(oxs_write_all(c, "ab", 2, NULL));
    sleep_ms(50);
    if (ST(oxs_read(s, buf, sizeof buf, &n), OXS_OK, "§7 NONBLOCKING read with data"))
        CHECK(n == 2, "§7 NONBLOCKING read with data", "n=%zu", n);
    /* back to blocking: MSG_DONTWAIT on a blocking handle, also beating a timeout */
    SETUP(oxs_setopt(s, OXS_OPT_NONBLOCKING, 0));
    t0 = now_ms();
    expect_would_block(oxs_recv(s, buf, sizeof buf, OXS_MSG_DONTWAIT, &n), t0,
                       "§6 MSG_DONTWAIT on a blocking socket (with a read timeout)");
    t0 = now_ms();
    expect_would_block(oxs_recv(s, buf, sizeof buf, OXS_MSG_DONTWAIT | OXS_MSG_PEEK, &n), t0,
                       "§6 MSG_DONTWAIT|MSG_PEEK on a blocking socket");
    oxs_close(c);
    oxs_close(s);

    oxs_socket u = OXS_INVALID;
    oxs_addr from;
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &u));
    SETUP(oxs_bind(u, "127.0.0.1:0"));
    SETUP(oxs_setopt(u, OXS_OPT_NONBLOCKING, 1));
    t0 = now_ms();
    from.len = 5;
    n = 5;
    expect_would_block(oxs_recv_from(u, buf, sizeof buf, &n, &from), t0, "§7 NONBLOCKING: recv_from on UDP");
    CHECK(n == 0, "§1 a count is 0 on failure", "n=%zu", n);
    CHECK(from.len == 0, "§1 an oxs_addr is len 0 on failure", "len=%u", from.len);
    SETUP(oxs_setopt(u, OXS_OPT_NONBLOCKING, 0));
    t0 = now_ms();
    expect_would_block(oxs_recv(u, buf, sizeof buf, OXS_MSG_DONTWAIT, &n), t0, "§6 MSG_DONTWAIT on blocking UDP");
    oxs_close(u);

    oxs_socket p[2];
    SETUP(oxs_socketpair(OXS_TYPE_STREAM, p));
    SETUP(oxs_setopt(p[0], OXS_OPT_NONBLOCKING, 1));
    t0 = now_ms();
    expect_would_block(oxs_read(p[0], buf, sizeof buf, &n), t0, "§7 NONBLOCKING: read on a Unix socketpair");
    oxs_close(p[0]);
    oxs_close(p[1]);

    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr), a = 1234;
    SETUP(oxs_setopt(l, OXS_OPT_NONBLOCKING, 1));
    SETUP(oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 3000));
    t0 = now_ms();
    expect_would_block(oxs_accept(l, &a, NULL), t0, "§7 NONBLOCKING: accept with nobody waiting (beats a timeout)");
    CHECK(a == OXS_INVALID, "§1 a handle out-parameter is OXS_INVALID on failure", "a=%" PRIu64, a);
    oxs_close(l);
}

static void writes(void)
{
    size_t len = 8 << 20, n = 0, total = 0;
    unsigned char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = pattern(i);
    oxs_socket c, s;
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(c, OXS_OPT_SEND_BUFFER, 4096));
    SETUP(oxs_setopt(s, OXS_OPT_RECV_BUFFER, 4096));
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    SETUP(oxs_setopt(c, OXS_OPT_WRITE_TIMEOUT_MS, 3000));
    /* write until the buffers are full: bounded by 8 MiB and 10000 calls */
    oxs_status st = OXS_OK;
    long long t0 = now_ms();
    for (int i = 0; i < 10000 && total < len; i++) {
        st = oxs_write(c, big + total, len - total > 65536 ? 65536 : len - total, &n);
        if (st != OXS_OK)
            break;
        total += n;
    }
    expect_would_block(st, t0, "§7 NONBLOCKING: write until the buffer is full (beats a timeout)");
    CHECK(n == 0, "§1 a count is 0 on failure", "n=%zu", n);
    t0 = now_ms();
    expect_would_block(oxs_write_all(c, big + total, len - total, &n), t0,
                       "§6 write_all on a full non-blocking socket");
    total += n; /* usually 0; any bytes that did move are counted and checked below */
    /* MSG_DONTWAIT on the (now blocking) full socket */
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 0));
    t0 = now_ms();
    expect_would_block(oxs_send(c, big + total, 1000, OXS_MSG_DONTWAIT, &n), t0,
                       "§6 MSG_DONTWAIT on a blocking socket whose buffer is full");
    /* drain what was sent, check it */
    unsigned char *in = malloc(len);
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 10000));
    SETUP(oxs_read_exact(s, in, total, &n));
    CHECK(memcmp(in, big, total) == 0, "§6 bytes written non-blocking arrive intact", "");
    /* write_all on a non-blocking handle with room for part of it: WOULD_BLOCK and the count */
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    n = 0;
    st = oxs_write_all(c, big, len, &n);
    expect_would_block(st, now_ms(), "§6 write_all on a non-blocking handle, more than fits");
    CHECK(n > 0 && n < len, "§6 write_all reports the count so far on WOULD_BLOCK", "n=%zu", n);
    size_t part = n;
    SETUP(oxs_shutdown(c, OXS_SHUT_WRITE));
    size_t got = 0;
    for (int i = 0; i < 100000; i++) {
        if (oxs_read(s, in + got, len - got, &n) != OXS_OK || n == 0)
            break;
        got += n;
    }
    CHECK(got == part && memcmp(in, big, part) == 0, "§6 the count is exactly the bytes that moved",
          "peer got %zu, count %zu", got, part);
    oxs_close(c);
    oxs_close(s);
    free(big);
    free(in);
}

static oxs_socket full_backlog(char *addr, size_t cap, oxs_socket held[], int *nheld)
{
    oxs_socket l = OXS_INVALID;
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &l));
    SETUP(oxs_bind(l, "127.0.0.1:0"));
    SETUP(oxs_listen(l, 1));
    local_text(l, addr, cap);
    *nheld = 0;
    for (int i = 0; i < 6; i++) {
        oxs_socket c = OXS_INVALID;
        SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
        SETUP(oxs_setopt(c, OXS_OPT_CONNECT_TIMEOUT_MS, 300));
        if (oxs_connect(c, addr) != OXS_OK) {
            oxs_close(c);
            break;
        }
        held[(*nheld)++] = c;
    }
    return l;
}

static void connects(void)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr), c = OXS_INVALID, s = OXS_INVALID;
    int64_t v = -1;
    size_t nr = 0;
    long long t0;

    /* finished through oxs_poll */
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    SETUP(oxs_setopt(c, OXS_OPT_CONNECT_TIMEOUT_MS, 3000));
    t0 = now_ms();
    expect_would_block(oxs_connect(c, addr), t0, "§4 a non-blocking connect returns WOULD_BLOCK (beats a timeout)");
    oxs_pollitem it = {c, OXS_POLL_OUT, 0};
    if (ST(oxs_poll(&it, 1, 5000, &nr), OXS_OK, "§4 wait for POLL_OUT"))
        CHECK(nr == 1 && (it.revents & OXS_POLL_OUT), "§4 a finished connect is POLL_OUT", "nr=%zu revents=%#x", nr,
              it.revents);
    if (ST(oxs_getopt(c, OXS_OPT_ERROR, &v), OXS_OK, "§4 OXS_OPT_ERROR gives the result"))
        CHECK(v == 0, "§4 OXS_OPT_ERROR is 0 after a successful connect", "got %" PRId64, v);
    ST(oxs_connect(c, addr), OXS_OK, "§4 a connect repeated once connected returns OK");
    SETUP(oxs_accept(l, &s, NULL));
    size_t n = 0;
    char b[4];
    SETUP(oxs_write_all(s, "ok", 2, NULL));
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 0));
    if (ST(oxs_read_exact(c, b, 2, &n), OXS_OK, "§4 the non-blocking connect gives a working connection"))
        CHECK(memcmp(b, "ok", 2) == 0, "§4 data flows", "");
    oxs_close(c);
    oxs_close(s);

    /* finished through the poller */
    oxs_poller p = OXS_INVALID;
    SETUP(oxs_poller_open(&p));
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    t0 = now_ms();
    expect_would_block(oxs_connect(c, addr), t0, "§4 a non-blocking connect returns WOULD_BLOCK");
    SETUP(oxs_poller_add(p, c, OXS_POLL_OUT, 77));
    oxs_event ev[4];
    size_t ne = 0;
    if (ST(oxs_poller_wait(p, ev, 4, 5000, &ne), OXS_OK, "§4 wait for POLL_OUT in the poller"))
        CHECK(ne == 1 && ev[0].token == 77 && (ev[0].events & OXS_POLL_OUT), "§4 a finished connect is POLL_OUT",
              "n=%zu token=%" PRIu64 " events=%#x", ne, ne ? ev[0].token : 0, ne ? ev[0].events : 0);
    if (ST(oxs_getopt(c, OXS_OPT_ERROR, &v), OXS_OK, "§4 OXS_OPT_ERROR gives the result"))
        CHECK(v == 0, "§4 OXS_OPT_ERROR is 0 after a successful connect", "got %" PRId64, v);
    ST(oxs_connect(c, addr), OXS_OK, "§4 a connect repeated once connected returns OK");
    SETUP(oxs_accept(l, &s, NULL));
    oxs_close(c);
    oxs_close(s);
    oxs_poller_close(p);
    oxs_close(l);

    /* a connect repeated while the attempt goes on (the listener's queue is full) */
    oxs_socket held[8];
    int nheld = 0;
    l = full_backlog(addr, sizeof addr, held, &nheld);
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    t0 = now_ms();
    expect_would_block(oxs_connect(c, addr), t0, "§4 a non-blocking connect returns WOULD_BLOCK");
    sleep_ms(100);
    t0 = now_ms();
    expect_would_block(oxs_connect(c, addr), t0, "§4 a connect repeated during the attempt returns WOULD_BLOCK");
    it.socket = c;
    it.events = OXS_POLL_OUT;
    if (ST(oxs_poll(&it, 1, 0, &nr), OXS_OK, "§9 poll"))
        CHECK(nr == 0 && it.revents == 0, "§4 a pending connect is not POLL_OUT", "revents=%#x", it.revents);
    oxs_close(c);
    for (int i = 0; i < nheld; i++)
        oxs_close(held[i]);
    oxs_close(l);
}

int main(void)
{
    reads_and_accept();
    writes();
    connects();
    return summary("opts_nonblock");
}

/* oxs_poll (API.md §9): revents for IN/OUT/HUP/ERR on TCP and Unix, IN kept while
 * data remains after the peer's close, POLL_INVALID for bad handles and for a handle
 * closed during the wait (still OXS_OK), nready counts, bad event bits, and the
 * timeouts -1/0/>0 and below -1.
 *
 * Usage: poll_poll. Exits non-zero on any failure. */
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

/* Polls one item; returns its revents (or -1000 when the call failed). */
static int32_t poll1(oxs_socket s, int32_t events, int32_t timeout, const char *rule)
{
    oxs_pollitem it = {s, events, 0x7fff};
    size_t nr = 99;
    if (!ST(oxs_poll(&it, 1, timeout, &nr), OXS_OK, rule))
        return -1000;
    CHECK(nr == (it.revents != 0 ? 1u : 0u), "§9 nready counts items with non-zero revents", "nr=%zu revents=%#x",
          nr, it.revents);
    return it.revents;
}

static void in_out(void)
{
    oxs_socket c, s;
    int32_t r;
    tcp_pair(&c, &s);
    r = poll1(s, OXS_POLL_IN, 0, "§9 poll");
    CHECK(r == 0, "§9 nothing to read: revents 0 (written, not left alone)", "revents=%#x", r);
    r = poll1(c, OXS_POLL_OUT, 0, "§9 poll");
    CHECK(r == OXS_POLL_OUT, "§9 a connected TCP socket is writable", "revents=%#x", r);
    r = poll1(c, OXS_POLL_IN | OXS_POLL_OUT, 0, "§9 poll");
    CHECK(r == OXS_POLL_OUT, "§9 IN|OUT asked, only OUT ready", "revents=%#x", r);
    SETUP(oxs_write_all(c, "hello", 5, NULL));
    r = poll1(s, OXS_POLL_IN, 5000, "§9 poll");
    CHECK(r == OXS_POLL_IN, "§9 data to read: IN", "revents=%#x", r);
    r = poll1(s, OXS_POLL_IN, 0, "§9 poll");
    CHECK(r == OXS_POLL_IN, "§9 IN stays while unread", "revents=%#x", r);
    r = poll1(s, 0, 0, "§9 poll with events 0");
    CHECK(r == 0, "§9 events 0: IN not reported", "revents=%#x", r);

    /* several items, nready counts the ones with revents */
    oxs_pollitem it[3] = {{s, OXS_POLL_IN, 0}, {c, OXS_POLL_IN, 0}, {c, OXS_POLL_OUT, 0}};
    size_t nr = 0;
    if (ST(oxs_poll(it, 3, 0, &nr), OXS_OK, "§9 poll of 3 items"))
        CHECK(nr == 2 && it[0].revents == OXS_POLL_IN && it[1].revents == 0 && it[2].revents == OXS_POLL_OUT,
              "§9 nready counts every item with a non-zero revents", "nr=%zu revents %#x %#x %#x", nr, it[0].revents,
              it[1].revents, it[2].revents);

    /* peer closes with data still queued: HUP, and IN stays while data remains */
    SETUP(oxs_close(c));
    r = poll1(s, OXS_POLL_IN, 5000, "§9 poll");
    CHECK((r & OXS_POLL_HUP) && (r & OXS_POLL_IN), "§9 TCP peer closed with data queued: IN|HUP", "revents=%#x", r);
    r = poll1(s, 0, 0, "§9 poll");
    CHECK((r & OXS_POLL_HUP), "§9 HUP is always reported (events 0)", "revents=%#x", r);
    char buf[8];
    size_t n;
    SETUP(oxs_read_exact(s, buf, 5, &n));
    r = poll1(s, OXS_POLL_IN, 0, "§9 poll");
    CHECK((r & OXS_POLL_HUP), "§9 TCP peer closed, data consumed: HUP stays", "revents=%#x", r);
    oxs_close(s);
}

static void hup_unix(void)
{
    oxs_socket p[2];
    int32_t r;
    SETUP(oxs_socketpair(OXS_TYPE_STREAM, p));
    SETUP(oxs_write_all(p[0], "abc", 3, NULL));
    SETUP(oxs_close(p[0]));
    r = poll1(p[1], OXS_POLL_IN, 5000, "§9 poll");
    CHECK((r & OXS_POLL_HUP) && (r & OXS_POLL_IN), "§9 Unix peer closed with data queued: IN|HUP", "revents=%#x", r);
    char buf[4];
    size_t n;
    SETUP(oxs_read_exact(p[1], buf, 3, &n));
    r = poll1(p[1], OXS_POLL_IN, 0, "§9 poll");
    CHECK((r & OXS_POLL_HUP), "§9 Unix peer closed, data consumed: HUP", "revents=%#x", r);
    oxs_close(p[1]);

    /* shutdown(WRITE) by the peer is also "will send nothing more" */
    oxs_socket c, s;
    tcp_pair(&c, &s);
    SETUP(oxs_shutdown(c, OXS_SHUT_WRITE));
    r = poll1(s, OXS_POLL_IN, 5000, "§9 poll");
    CHECK((r & OXS_POLL_HUP), "§9 TCP peer shut down writing: HUP", "revents=%#x", r);
    oxs_close(c);
    oxs_close(s);

    /* a reset: HUP (and ERR) */
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(c, OXS_OPT_LINGER_S, 0));
    SETUP(oxs_close(c));
    r = poll1(s, OXS_POLL_IN, 5000, "§9 poll");
    CHECK((r & OXS_POLL_HUP), "§9 a reset is HUP", "revents=%#x", r);
    CHECK((r & OXS_POLL_ERR), "§9 a reset is ERR (pending ECONNRESET)", "revents=%#x", r);
    oxs_close(s);
}

static void err(void)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr), c = OXS_INVALID;
    oxs_close(l);
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    oxs_status st = oxs_connect(c, addr);
    CHECK(st == OXS_ERR_WOULD_BLOCK, "§4 non-blocking connect returns WOULD_BLOCK", "got %d", st);
    int32_t r = poll1(c, OXS_POLL_OUT, 5000, "§9 poll");
    CHECK(r > 0 && (r & OXS_POLL_ERR), "§9 a refused connect is ERR", "revents=%#x", r);
    r = poll1(c, 0, 0, "§9 poll");
    CHECK(r > 0 && (r & OXS_POLL_ERR), "§9 ERR is always reported (events 0)", "revents=%#x", r);
    oxs_close(c);
}

struct closer {
    oxs_socket s;
    int delay_ms;
};

static void *closer_thread(void *arg)
{
    struct closer *c = arg;
    sleep_ms(c->delay_ms);
    oxs_close(c->s);
    return NULL;
}

static void invalid(void)
{
    oxs_socket c, s, dead = OXS_INVALID;
    oxs_poller p = OXS_INVALID;
    tcp_pair(&c, &s);
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &dead));
    SETUP(oxs_close(dead));
    SETUP(oxs_poller_open(&p));
    oxs_pollitem it[6] = {{OXS_INVALID, OXS_POLL_IN, 0}, {dead, OXS_POLL_IN, 0},
                          {0x5eed5eed5eed5eedULL, OXS_POLL_IN, 0}, {(oxs_socket)p, OXS_POLL_IN, 0},
                          {s, OXS_POLL_IN, 0}, {c, OXS_POLL_OUT, 0}};
    size_t nr = 0;
    if (ST(oxs_poll(it, 6, 0, &nr), OXS_OK, "§9 invalid handles do not fail oxs_poll")) {
        const char *what[4] = {"handle 0", "a closed handle", "a forged handle", "a poller"};
        for (int i = 0; i < 4; i++)
            CHECK(it[i].revents == OXS_POLL_INVALID, "§9 an invalid handle is marked POLL_INVALID", "%s: revents=%#x",
                  what[i], it[i].revents);
        CHECK(it[4].revents == 0 && it[5].revents == OXS_POLL_OUT, "§9 valid items beside invalid ones",
              "revents %#x %#x", it[4].revents, it[5].revents);
        CHECK(nr == 5, "§9 nready counts POLL_INVALID items", "nr=%zu", nr);
    }
    /* closed during the wait: OXS_OK, POLL_INVALID, promptly */
    struct closer cl = {s, 300};
    pthread_t th;
    pthread_create(&th, NULL, closer_thread, &cl);
    oxs_pollitem one = {s, OXS_POLL_IN, 0};
    long long t0 = now_ms();
    oxs_status st = oxs_poll(&one, 1, 8000, &nr);
    long long dt = now_ms() - t0;
    pthread_join(th, NULL);
    if (ST(st, OXS_OK, "§9 a handle closed during the wait: still OXS_OK")) {
        CHECK(one.revents & OXS_POLL_INVALID, "§9 a handle closed during the wait is POLL_INVALID", "revents=%#x",
              one.revents);
        CHECK(nr == 1, "§9 nready counts it", "nr=%zu", nr);
    }
    CHECK(dt >= 200 && dt < 4000, "§9 a close during the wait ends it promptly", "after %lld ms", dt);
    oxs_close(c);
    oxs_poller_close(p);
}

static void arguments(void)
{
    oxs_socket c, s;
    tcp_pair(&c, &s);
    oxs_pollitem it = {s, OXS_POLL_IN, 0};
    size_t nr = 7;
    int32_t bad[] = {0x2, OXS_POLL_ERR, OXS_POLL_HUP, OXS_POLL_INVALID, 0x40, 0x100, -1, INT32_MIN, INT32_MAX,
                     OXS_POLL_IN | 0x2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        it.events = bad[i];
        nr = 7;
        if (!ST(oxs_poll(&it, 1, 0, &nr), OXS_ERR_INVALID_ARGUMENT, "§9 events other than IN/OUT"))
            printf("   (events=%#x)\n", bad[i]);
        CHECK(nr == 0, "§1 a count is 0 on failure", "nr=%zu", nr);
    }
    it.events = OXS_POLL_IN;
    ST(oxs_poll(&it, 1, -2, &nr), OXS_ERR_INVALID_ARGUMENT, "§1 a wait timeout below -1");
    ST(oxs_poll(&it, 1, INT32_MIN, &nr), OXS_ERR_INVALID_ARGUMENT, "§1 a wait timeout below -1");
    ST(oxs_poll(&it, 1, 0, NULL), OXS_ERR_INVALID_ARGUMENT, "§1 NULL nready");
    ST(oxs_poll(NULL, 1, 0, &nr), OXS_ERR_INVALID_ARGUMENT, "§1 NULL items with n 1");
    ST(oxs_poll(&it, (size_t)PTRDIFF_MAX + 1, 0, &nr), OXS_ERR_INVALID_ARGUMENT, "§1 a count above PTRDIFF_MAX");
    ST(oxs_poll(&it, SIZE_MAX, 0, &nr), OXS_ERR_INVALID_ARGUMENT, "§1 a count of SIZE_MAX");

    /* timeouts */
    long long t0 = now_ms();
    int32_t r = poll1(s, OXS_POLL_IN, 0, "§1 wait timeout 0");
    CHECK(r == 0 && now_ms() - t0 < 1000, "§1 wait timeout 0 returns at once", "r=%#x", r);
    t0 = now_ms();
    r = poll1(s, OXS_POLL_IN, 300, "§1 wait timeout 300");
    long long dt = now_ms() - t0;
    CHECK(r == 0 && dt >= 250 && dt < 5000, "§1 wait timeout 300 waits ~300 ms", "r=%#x after %lld ms", r, dt);
    /* -1 = forever: data arrives from another thread after 300 ms */
    struct closer cl = {c, 300}; /* closing the peer makes s readable (HUP) */
    pthread_t th;
    pthread_create(&th, NULL, closer_thread, &cl);
    t0 = now_ms();
    r = poll1(s, OXS_POLL_IN, -1, "§1 wait timeout -1");
    dt = now_ms() - t0;
    pthread_join(th, NULL);
    CHECK(r > 0 && (r & OXS_POLL_HUP) && dt >= 200, "§1 wait timeout -1 waits until ready", "r=%#x after %lld ms", r,
          dt);
    /* n = 0: a plain sleep */
    t0 = now_ms();
    nr = 5;
    if (ST(oxs_poll(&it, 0, 200, &nr), OXS_OK, "§9 poll of 0 items"))
        CHECK(nr == 0 && now_ms() - t0 >= 150, "§9 poll of 0 items waits the timeout", "nr=%zu", nr);
    oxs_close(s);
}

int main(void)
{
    in_out();
    hup_unix();
    err();
    invalid();
    arguments();
    return summary("poll_poll");
}

/* The poller (API.md §9): add/modify/remove semantics, tokens, level triggering,
 * HUP, wake (kept until the next wait, several count as one, releases every waiting
 * thread), poller_close during a wait, closing a socket removes it from every
 * poller, bad cap/events/timeouts, and sockets and pollers mixed up (BAD_HANDLE).
 *
 * Usage: poll_poller. Exits non-zero on any failure. */
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

/* Waits once; returns the number of events (or -1 when the call failed). */
static int wait_events(oxs_poller p, oxs_event *ev, size_t cap, int32_t timeout, const char *rule)
{
    size_t n = 999;
    if (!ST(oxs_poller_wait(p, ev, cap, timeout, &n), OXS_OK, rule))
        return -1;
    CHECK(n <= cap, rule, "n=%zu above cap %zu", n, cap);
    return (int)n;
}

static void basics(void)
{
    oxs_socket c, s;
    oxs_poller p = OXS_INVALID;
    oxs_event ev[8];
    int n;
    tcp_pair(&c, &s);
    SETUP(oxs_poller_open(&p));
    CHECK(p != OXS_INVALID, "§9 poller_open gives a handle", "");
    ST(oxs_poller_add(p, s, OXS_POLL_IN, 42), OXS_OK, "§9 add");
    ST(oxs_poller_add(p, s, OXS_POLL_IN, 43), OXS_ERR_INVALID_ARGUMENT, "§9 adding a socket twice");
    ST(oxs_poller_modify(p, c, OXS_POLL_IN, 1), OXS_ERR_INVALID_ARGUMENT, "§9 modifying a socket not there");
    ST(oxs_poller_remove(p, c), OXS_ERR_INVALID_ARGUMENT, "§9 removing a socket not there");
    n = wait_events(p, ev, 8, 0, "§9 wait 0");
    CHECK(n == 0, "§9 nothing ready: 0 events", "n=%d", n);
    SETUP(oxs_write_all(c, "ping", 4, NULL));
    n = wait_events(p, ev, 8, 5000, "§9 wait");
    CHECK(n == 1 && ev[0].token == 42 && ev[0].events == OXS_POLL_IN, "§9 the token comes back with IN",
          "n=%d token=%" PRIu64 " events=%#x", n, n > 0 ? ev[0].token : 0, n > 0 ? ev[0].events : 0);
    n = wait_events(p, ev, 8, 0, "§9 wait");
    CHECK(n == 1 && ev[0].token == 42, "§9 level-triggered: reported again until read", "n=%d", n);
    n = wait_events(p, ev, 8, 0, "§9 wait");
    CHECK(n == 1 && ev[0].token == 42, "§9 level-triggered: reported again until read", "n=%d", n);
    char buf[8];
    size_t got;
    SETUP(oxs_read_exact(s, buf, 4, &got));
    n = wait_events(p, ev, 8, 0, "§9 wait");
    CHECK(n == 0, "§9 level-triggered: quiet once read", "n=%d", n);
    /* modify: new events, new token */
    ST(oxs_poller_modify(p, s, OXS_POLL_OUT, 7), OXS_OK, "§9 modify");
    n = wait_events(p, ev, 8, 1000, "§9 wait");
    CHECK(n == 1 && ev[0].token == 7 && ev[0].events == OXS_POLL_OUT, "§9 modify changes the events and the token",
          "n=%d token=%" PRIu64 " events=%#x", n, n > 0 ? ev[0].token : 0, n > 0 ? ev[0].events : 0);
    ST(oxs_poller_modify(p, s, OXS_POLL_IN | OXS_POLL_OUT, UINT64_MAX), OXS_OK, "§9 modify");
    ST(oxs_poller_add(p, c, OXS_POLL_OUT, 0), OXS_OK, "§9 add with token 0");
    n = wait_events(p, ev, 8, 1000, "§9 wait");
    {
        int seen_max = 0, seen_zero = 0;
        for (int i = 0; i < n; i++) {
            if (ev[i].token == UINT64_MAX && ev[i].events == OXS_POLL_OUT)
                seen_max = 1;
            if (ev[i].token == 0 && ev[i].events == OXS_POLL_OUT)
                seen_zero = 1;
        }
        CHECK(n == 2 && seen_max && seen_zero, "§9 tokens 0 and UINT64_MAX come back unchanged", "n=%d", n);
    }
    /* cap smaller than the ready set */
    n = wait_events(p, ev, 1, 1000, "§9 wait with cap 1");
    CHECK(n == 1, "§9 at most cap events", "n=%d", n);
    /* remove: no longer reported */
    ST(oxs_poller_remove(p, s), OXS_OK, "§9 remove");
    ST(oxs_poller_remove(p, s), OXS_ERR_INVALID_ARGUMENT, "§9 removing twice");
    ST(oxs_poller_modify(p, s, OXS_POLL_IN, 1), OXS_ERR_INVALID_ARGUMENT, "§9 modifying a removed socket");
    n = wait_events(p, ev, 8, 0, "§9 wait");
    CHECK(n == 1 && ev[0].token == 0, "§9 a removed socket is no longer reported", "n=%d", n);
    ST(oxs_poller_add(p, s, OXS_POLL_IN, 5), OXS_OK, "§9 adding again after remove");
    /* peer's close: HUP on TCP */
    SETUP(oxs_poller_remove(p, c));
    SETUP(oxs_close(c));
    n = wait_events(p, ev, 8, 5000, "§9 wait");
    CHECK(n == 1 && ev[0].token == 5 && (ev[0].events & OXS_POLL_HUP), "§9 TCP peer close: HUP",
          "n=%d events=%#x", n, n > 0 ? ev[0].events : 0);
    SETUP(oxs_poller_modify(p, s, 0, 6));
    n = wait_events(p, ev, 8, 0, "§9 wait");
    CHECK(n == 1 && (ev[0].events & OXS_POLL_HUP), "§9 HUP is always reported (events 0)", "n=%d", n);
    oxs_close(s);
    /* peer's close: HUP on Unix, IN while data remains */
    oxs_socket pr[2];
    SETUP(oxs_socketpair(OXS_TYPE_STREAM, pr));
    SETUP(oxs_poller_add(p, pr[1], OXS_POLL_IN, 9));
    SETUP(oxs_write_all(pr[0], "z", 1, NULL));
    SETUP(oxs_close(pr[0]));
    n = wait_events(p, ev, 8, 5000, "§9 wait");
    CHECK(n == 1 && ev[0].token == 9 && (ev[0].events & OXS_POLL_HUP) && (ev[0].events & OXS_POLL_IN),
          "§9 Unix peer close with data queued: IN|HUP", "n=%d events=%#x", n, n > 0 ? ev[0].events : 0);
    oxs_close(pr[1]);
    ST(oxs_poller_close(p), OXS_OK, "§9 poller_close");
    ST(oxs_poller_close(p), OXS_ERR_BAD_HANDLE, "§3 closing a poller twice");
}

static void arguments(void)
{
    oxs_socket c, s;
    oxs_poller p = OXS_INVALID, dead = OXS_INVALID;
    oxs_event ev[4];
    size_t n = 5;
    tcp_pair(&c, &s);
    SETUP(oxs_poller_open(&p));
    SETUP(oxs_poller_open(&dead));
    SETUP(oxs_poller_close(dead));
    int32_t bad[] = {0x2, OXS_POLL_ERR, OXS_POLL_HUP, OXS_POLL_INVALID, 0x100, -1, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!ST(oxs_poller_add(p, s, bad[i], 1), OXS_ERR_INVALID_ARGUMENT, "§9 add: events other than IN/OUT"))
            printf("   (events=%#x)\n", bad[i]);
    }
    SETUP(oxs_poller_add(p, s, OXS_POLL_IN, 1));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!ST(oxs_poller_modify(p, s, bad[i], 1), OXS_ERR_INVALID_ARGUMENT, "§9 modify: events other than IN/OUT"))
            printf("   (events=%#x)\n", bad[i]);
    }
    SETUP(oxs_write_all(c, "x", 1, NULL));
    /* cap 0 / events NULL: INVALID_ARGUMENT and the buffer never written */
    memset(ev, 0xab, sizeof ev);
    ST(oxs_poller_wait(p, ev, 0, 1000, &n), OXS_ERR_INVALID_ARGUMENT, "§9 wait with cap 0");
    CHECK(n == 0, "§1 a count is 0 on failure", "n=%zu", n);
    {
        unsigned char *b = (unsigned char *)ev;
        int untouched = 1;
        for (size_t i = 0; i < sizeof ev; i++)
            untouched = untouched && b[i] == 0xab;
        CHECK(untouched, "§9 cap 0: the events buffer is never written", "");
    }
    ST(oxs_poller_wait(p, NULL, 4, 1000, &n), OXS_ERR_INVALID_ARGUMENT, "§9 wait with events NULL");
    ST(oxs_poller_wait(p, NULL, 0, 1000, &n), OXS_ERR_INVALID_ARGUMENT, "§9 wait with events NULL and cap 0");
    ST(oxs_poller_wait(p, ev, 4, 0, NULL), OXS_ERR_INVALID_ARGUMENT, "§1 NULL n");
    ST(oxs_poller_wait(p, ev, 4, -2, &n), OXS_ERR_INVALID_ARGUMENT, "§1 a wait timeout below -1");
    ST(oxs_poller_wait(p, ev, 4, INT32_MIN, &n), OXS_ERR_INVALID_ARGUMENT, "§1 a wait timeout below -1");
    ST(oxs_poller_wait(p, ev, (size_t)PTRDIFF_MAX + 1, 0, &n), OXS_ERR_INVALID_ARGUMENT, "§1 cap above PTRDIFF_MAX");
    ST(oxs_poller_open(NULL), OXS_ERR_INVALID_ARGUMENT, "§1 NULL out");
    /* a socket where a poller is expected, and the reverse */
    ST(oxs_poller_wait((oxs_poller)s, ev, 4, 0, &n), OXS_ERR_BAD_HANDLE, "§2 a socket where a poller is expected");
    ST(oxs_poller_add((oxs_poller)s, c, OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE, "§2 a socket where a poller is expected");
    ST(oxs_poller_modify((oxs_poller)s, s, OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE, "§2 a socket where a poller is expected");
    ST(oxs_poller_remove((oxs_poller)s, s), OXS_ERR_BAD_HANDLE, "§2 a socket where a poller is expected");
    ST(oxs_poller_wake((oxs_poller)s), OXS_ERR_BAD_HANDLE, "§2 a socket where a poller is expected");
    ST(oxs_poller_close((oxs_poller)s), OXS_ERR_BAD_HANDLE, "§2 a socket where a poller is expected");
    ST(oxs_poller_add(p, (oxs_socket)p, OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE, "§2 a poller where a socket is expected");
    ST(oxs_poller_remove(p, (oxs_socket)p), OXS_ERR_BAD_HANDLE, "§2 a poller where a socket is expected");
    ST(oxs_close((oxs_socket)p), OXS_ERR_BAD_HANDLE, "§2 a poller where a socket is expected");
    char b[4];
    ST(oxs_read((oxs_socket)p, b, 4, &n), OXS_ERR_BAD_HANDLE, "§2 a poller where a socket is expected");
    ST(oxs_poller_add(p, OXS_INVALID, OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE, "§2 handle 0");
    ST(oxs_poller_wait(OXS_INVALID, ev, 4, 0, &n), OXS_ERR_BAD_HANDLE, "§2 handle 0");
    ST(oxs_poller_wait(dead, ev, 4, 0, &n), OXS_ERR_BAD_HANDLE, "§3 a closed poller");
    ST(oxs_poller_wake(dead), OXS_ERR_BAD_HANDLE, "§3 a closed poller");
    ST(oxs_poller_add(dead, c, OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE, "§3 a closed poller");
    /* still working after all that */
    int got = wait_events(p, ev, 4, 1000, "§9 wait");
    CHECK(got == 1 && ev[0].token == 1, "§9 the poller still works", "n=%d", got);
    oxs_poller_close(p);
    oxs_close(c);
    oxs_close(s);
}

static void close_removes(void)
{
    oxs_socket c, s, s2 = OXS_INVALID;
    oxs_poller p1 = OXS_INVALID, p2 = OXS_INVALID;
    oxs_event ev[4];
    int n;
    tcp_pair(&c, &s);
    SETUP(oxs_poller_open(&p1));
    SETUP(oxs_poller_open(&p2));
    SETUP(oxs_poller_add(p1, s, OXS_POLL_IN, 11));
    SETUP(oxs_poller_add(p2, s, OXS_POLL_IN, 22));
    SETUP(oxs_write_all(c, "x", 1, NULL));
    n = wait_events(p1, ev, 4, 5000, "§9 wait");
    CHECK(n == 1, "§9 readable socket reported", "n=%d", n);
    SETUP(oxs_close(s));
    n = wait_events(p1, ev, 4, 100, "§9 wait");
    CHECK(n == 0, "§9 closing a socket removes it from every poller (1st)", "n=%d token=%" PRIu64, n,
          n > 0 ? ev[0].token : 0);
    n = wait_events(p2, ev, 4, 100, "§9 wait");
    CHECK(n == 0, "§9 closing a socket removes it from every poller (2nd)", "n=%d", n);
    ST(oxs_poller_remove(p1, s), OXS_ERR_BAD_HANDLE, "§3 a closed socket is BAD_HANDLE");
    /* a new socket (likely on the same descriptor number) is not "already there" */
    tcp_pair(&s2, &s);
    ST(oxs_poller_add(p1, s, OXS_POLL_IN, 33), OXS_OK, "§9 a new socket after a close is not already added");
    ST(oxs_poller_add(p2, s, OXS_POLL_IN, 44), OXS_OK, "§9 a new socket after a close is not already added");
    SETUP(oxs_write_all(s2, "y", 1, NULL));
    n = wait_events(p2, ev, 4, 5000, "§9 wait");
    CHECK(n == 1 && ev[0].token == 44, "§9 the new socket is reported with its own token", "n=%d", n);
    /* oxs_into_fd also removes it from every poller */
    int32_t fd = -1;
    if (ST(oxs_into_fd(s, &fd), OXS_OK, "§10 into_fd")) {
        n = wait_events(p1, ev, 4, 100, "§9 wait");
        CHECK(n == 0, "§9 into_fd removes the socket from every poller", "n=%d", n);
        n = wait_events(p2, ev, 4, 100, "§9 wait");
        CHECK(n == 0, "§9 into_fd removes the socket from every poller", "n=%d", n);
        close(fd);
    }
    oxs_close(s2);
    oxs_close(c);
    oxs_poller_close(p1);
    oxs_poller_close(p2);
}

struct waiter {
    oxs_poller p;
    int32_t timeout;
    oxs_status st;
    size_t n;
    long long elapsed;
    int done;
};

static void *waiter_thread(void *arg)
{
    struct waiter *w = arg;
    oxs_event ev[4];
    long long t0 = now_ms();
    w->st = oxs_poller_wait(w->p, ev, 4, w->timeout, &w->n);
    w->elapsed = now_ms() - t0;
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void wakes(void)
{
    oxs_poller p = OXS_INVALID;
    oxs_event ev[4];
    size_t n = 9;
    long long t0;
    SETUP(oxs_poller_open(&p));
    /* a wake before any wait is kept until the next wait */
    ST(oxs_poller_wake(p), OXS_OK, "§9 wake");
    t0 = now_ms();
    if (ST(oxs_poller_wait(p, ev, 4, 5000, &n), OXS_OK, "§9 a kept wake ends the next wait"))
        CHECK(n == 0 && now_ms() - t0 < 2000, "§9 a wake kept until the next wait", "n=%zu after %lld ms", n,
              now_ms() - t0);
    /* several wakes count as one */
    ST(oxs_poller_wake(p), OXS_OK, "§9 wake");
    ST(oxs_poller_wake(p), OXS_OK, "§9 wake");
    ST(oxs_poller_wake(p), OXS_OK, "§9 wake");
    t0 = now_ms();
    ST(oxs_poller_wait(p, ev, 4, 5000, &n), OXS_OK, "§9 wait");
    CHECK(now_ms() - t0 < 2000, "§9 a kept wake ends the next wait", "after %lld ms", now_ms() - t0);
    t0 = now_ms();
    if (ST(oxs_poller_wait(p, ev, 4, 300, &n), OXS_OK, "§9 wait"))
        CHECK(n == 0 && now_ms() - t0 >= 250, "§9 several wakes count as one", "second wait returned after %lld ms",
              now_ms() - t0);
    /* a wake from another thread ends a wait in progress, and releases every waiter */
    struct waiter w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].p = p;
        w[i].timeout = i == 0 ? -1 : 8000;
        pthread_create(&th[i], NULL, waiter_thread, &w[i]);
    }
    sleep_ms(300);
    for (int i = 0; i < 3; i++)
        CHECK(!__atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST), "§9 waits block until woken", "waiter %d returned", i);
    ST(oxs_poller_wake(p), OXS_OK, "§9 wake");
    for (int k = 0; k < 400; k++) {
        int all = 1;
        for (int i = 0; i < 3; i++)
            all = all && __atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST);
        if (all)
            break;
        sleep_ms(10);
    }
    for (int i = 0; i < 3; i++) {
        int done = __atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST);
        CHECK(done, "§9 a wake releases every thread waiting", "waiter %d (timeout %d) still waiting 4 s later", i,
              w[i].timeout);
        if (!done && w[i].timeout == -1) {
            /* it would wait forever: let the close end it */
            oxs_poller_close(p);
        }
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ST(w[i].st, OXS_OK, "§9 a woken wait returns OK");
        CHECK(w[i].n == 0, "§9 a woken wait returns 0 events", "n=%zu", w[i].n);
    }
    oxs_poller_close(p);

    /* poller_close during a wait: CLOSED, promptly */
    SETUP(oxs_poller_open(&p));
    struct waiter cw;
    memset(&cw, 0, sizeof cw);
    cw.p = p;
    cw.timeout = -1;
    pthread_t ct;
    pthread_create(&ct, NULL, waiter_thread, &cw);
    sleep_ms(300);
    ST(oxs_poller_close(p), OXS_OK, "§9 poller_close with a wait in progress");
    for (int k = 0; k < 400 && !__atomic_load_n(&cw.done, __ATOMIC_SEQ_CST); k++)
        sleep_ms(10);
    if (!CHECK(__atomic_load_n(&cw.done, __ATOMIC_SEQ_CST), "§9 poller_close ends a wait", "still waiting after 4 s")) {
        printf("giving up: a wait is stuck\n");
        exit(summary("poll_poller") ? 1 : 1);
    }
    pthread_join(ct, NULL);
    ST(cw.st, OXS_ERR_CLOSED, "§9 poller_close during a wait makes it return CLOSED");
    ST(oxs_poller_wake(p), OXS_ERR_BAD_HANDLE, "§3 a closed poller is BAD_HANDLE");
}

int main(void)
{
    basics();
    arguments();
    close_removes();
    wakes();
    return summary("poll_poller");
}

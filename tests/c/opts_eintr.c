/* EINTR (API.md §1): a real signal (pthread_kill, handler installed without
 * SA_RESTART) delivered to a thread blocked in read, accept, write_all, oxs_poll and
 * oxs_poller_wait. On an INTERRUPTIBLE handle the call returns INTERRUPTED; on a
 * default handle it is retried (with the remaining time of its timeout) and completes
 * when it can; with SA_RESTART, a handle with a timeout + INTERRUPTIBLE still returns
 * INTERRUPTED; oxs_poll and oxs_poller_wait return INTERRUPTED whenever a handler runs.
 *
 * Usage: opts_eintr. Exits non-zero on any failure. */
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

static volatile sig_atomic_t g_handled;

static void on_signal(int sig)
{
    (void)sig;
    g_handled++;
}

static void install(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        exit(2);
    }
}

#define SIG_NORESTART SIGUSR1 /* handler without SA_RESTART (as CPython installs them) */
#define SIG_RESTART SIGUSR2   /* handler with SA_RESTART */

enum kind { K_READ, K_ACCEPT, K_WRITE_ALL, K_POLL, K_POLLER_WAIT };

struct blocked {
    enum kind kind;
    oxs_socket s;
    oxs_poller p;
    int started, done;
    oxs_status st;
    size_t n;
    long long elapsed;
    unsigned char *big;
    size_t biglen;
    pthread_t th;
};

static void *blocked_thread(void *arg)
{
    struct blocked *b = arg;
    char buf[16];
    oxs_socket a = OXS_INVALID;
    oxs_pollitem it = {b->s, OXS_POLL_IN, 0};
    oxs_event ev[4];
    __atomic_store_n(&b->started, 1, __ATOMIC_SEQ_CST);
    long long t0 = now_ms();
    switch (b->kind) {
    case K_READ:
        b->st = oxs_read(b->s, buf, sizeof buf, &b->n);
        break;
    case K_ACCEPT:
        b->st = oxs_accept(b->s, &a, NULL);
        if (b->st == OXS_OK)
            oxs_close(a);
        break;
    case K_WRITE_ALL:
        b->st = oxs_write_all(b->s, b->big, b->biglen, &b->n);
        break;
    case K_POLL:
        b->st = oxs_poll(&it, 1, -1, &b->n);
        break;
    case K_POLLER_WAIT:
        b->st = oxs_poller_wait(b->p, ev, 4, -1, &b->n);
        break;
    }
    b->elapsed = now_ms() - t0;
    __atomic_store_n(&b->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void start(struct blocked *b)
{
    pthread_create(&b->th, NULL, blocked_thread, b);
    for (int i = 0; i < 500 && !__atomic_load_n(&b->started, __ATOMIC_SEQ_CST); i++)
        sleep_ms(2);
    sleep_ms(150); /* let it enter the system call */
}

static int is_done(struct blocked *b) { return __atomic_load_n(&b->done, __ATOMIC_SEQ_CST); }

/* Sends `sig` to the blocked thread up to `tries` times, `spacing` ms apart, until
 * it returns (a signal that lands just before the system call interrupts nothing). */
static int signal_until_done(struct blocked *b, int sig, int tries, int spacing)
{
    for (int i = 0; i < tries && !is_done(b); i++) {
        pthread_kill(b->th, sig);
        for (int w = 0; w < spacing / 10 && !is_done(b); w++)
            sleep_ms(10);
    }
    return is_done(b);
}

static int wait_done(struct blocked *b, int ms)
{
    for (int w = 0; w < ms / 10 && !is_done(b); w++)
        sleep_ms(10);
    return is_done(b);
}

/* A thread is stuck in a call: the rest cannot run safely (it holds a stack frame). */
static void give_up(void)
{
    printf("giving up: a call is stuck\n");
    summary("opts_eintr");
    exit(1);
}

/* Signals a call on an interruptible handle: it must return INTERRUPTED. */
static void expect_interrupted(struct blocked *b, int sig, const char *rule)
{
    start(b);
    if (!CHECK(signal_until_done(b, sig, 20, 200), rule, "still blocked after 20 signals"))
        give_up();
    pthread_join(b->th, NULL);
    ST(b->st, OXS_ERR_INTERRUPTED, rule);
}

/* Signals a call on a default handle: it must keep waiting (the handler runs). */
static int expect_resumes(struct blocked *b, int sig, const char *rule)
{
    start(b);
    sig_atomic_t before = g_handled;
    for (int i = 0; i < 3; i++) {
        pthread_kill(b->th, sig);
        sleep_ms(100);
    }
    CHECK(g_handled - before >= 3, "setup: the handler ran", "ran %d times", (int)(g_handled - before));
    return CHECK(!is_done(b), rule, "the call returned %d (%s) after a signal", b->st, oxs_strerror(b->st));
}

static void reads(void)
{
    oxs_socket c, s;
    size_t n;
    /* interruptible: INTERRUPTED */
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(s, OXS_OPT_INTERRUPTIBLE, 1));
    struct blocked b1 = {K_READ, s, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_interrupted(&b1, SIG_NORESTART, "§1 EINTR: read on an INTERRUPTIBLE handle returns INTERRUPTED");
    /* the handle still works */
    char buf[8];
    SETUP(oxs_write_all(c, "after", 5, NULL));
    if (ST(oxs_read_exact(s, buf, 5, &n), OXS_OK, "§1 EINTR: the handle works after INTERRUPTED"))
        CHECK(memcmp(buf, "after", 5) == 0, "§1 EINTR: no data lost", "");
    /* default: resumes, then completes when data arrives */
    SETUP(oxs_setopt(s, OXS_OPT_INTERRUPTIBLE, 0));
    struct blocked b2 = {K_READ, s, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    if (expect_resumes(&b2, SIG_NORESTART, "§1 EINTR: read on a default handle is retried")) {
        SETUP(oxs_write_all(c, "data", 4, NULL));
        if (!CHECK(wait_done(&b2, 5000), "§1 EINTR: the retried read completes", "still blocked"))
            give_up();
        ST(b2.st, OXS_OK, "§1 EINTR: the retried read completes");
        CHECK(b2.n == 4, "§1 EINTR: the retried read gets the data", "n=%zu", b2.n);
    }
    pthread_join(b2.th, NULL);
    /* SA_RESTART + INTERRUPTIBLE + a timeout: INTERRUPTED */
    SETUP(oxs_setopt(s, OXS_OPT_INTERRUPTIBLE, 1));
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 8000));
    struct blocked b3 = {K_READ, s, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_interrupted(&b3, SIG_RESTART,
                       "§1 EINTR: with SA_RESTART, a handle with a timeout + INTERRUPTIBLE returns INTERRUPTED");
    CHECK(b3.elapsed < 6000, "§1 EINTR: interrupted before the timeout", "after %lld ms", b3.elapsed);
    /* SA_RESTART + INTERRUPTIBLE without a timeout: the kernel restarts the call */
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 0));
    struct blocked b4 = {K_READ, s, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    if (expect_resumes(&b4, SIG_RESTART,
                       "§1 EINTR: with SA_RESTART and no timeout the system call is restarted (not interrupted)")) {
        SETUP(oxs_write_all(c, "more", 4, NULL));
        if (!CHECK(wait_done(&b4, 5000), "§1 EINTR: the restarted read completes", "still blocked"))
            give_up();
        ST(b4.st, OXS_OK, "§1 EINTR: the restarted read completes");
    }
    pthread_join(b4.th, NULL);
    /* default handle with a timeout: retried with the remaining time, signals every
     * 100 ms for up to 3 s must not stretch a 700 ms timeout */
    SETUP(oxs_setopt(s, OXS_OPT_INTERRUPTIBLE, 0));
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 700));
    struct blocked b5 = {K_READ, s, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    start(&b5);
    signal_until_done(&b5, SIG_NORESTART, 30, 100);
    if (!CHECK(wait_done(&b5, 5000), "§1 EINTR: a retried call keeps its deadline", "still blocked"))
        give_up();
    {
        pthread_join(b5.th, NULL);
        ST(b5.st, OXS_ERR_TIMED_OUT, "§1 EINTR: retried with the remaining time, then TIMED_OUT");
        CHECK(b5.elapsed >= 600 && b5.elapsed < 2500, "§1 EINTR: retried with the remaining time (not the whole timeout)",
              "returned after %lld ms with a 700 ms timeout and a signal every 100 ms", b5.elapsed);
    }
    oxs_close(c);
    oxs_close(s);
}

static void accepts(void)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr), c = OXS_INVALID;
    SETUP(oxs_setopt(l, OXS_OPT_INTERRUPTIBLE, 1));
    struct blocked b1 = {K_ACCEPT, l, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_interrupted(&b1, SIG_NORESTART, "§1 EINTR: accept on an INTERRUPTIBLE handle returns INTERRUPTED");
    SETUP(oxs_setopt(l, OXS_OPT_INTERRUPTIBLE, 0));
    struct blocked b2 = {K_ACCEPT, l, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    if (expect_resumes(&b2, SIG_NORESTART, "§1 EINTR: accept on a default handle is retried")) {
        SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
        SETUP(oxs_connect(c, addr));
        if (!CHECK(wait_done(&b2, 5000), "§1 EINTR: the retried accept completes", "still blocked"))
            give_up();
        ST(b2.st, OXS_OK, "§1 EINTR: the retried accept completes");
        oxs_close(c);
    }
    pthread_join(b2.th, NULL);
    oxs_close(l);
}

static void write_alls(void)
{
    oxs_socket c, s;
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(c, OXS_OPT_SEND_BUFFER, 4096));
    SETUP(oxs_setopt(s, OXS_OPT_RECV_BUFFER, 4096));
    SETUP(oxs_setopt(c, OXS_OPT_INTERRUPTIBLE, 1));
    size_t len = 8 << 20;
    unsigned char *big = calloc(1, len);
    struct blocked b = {K_WRITE_ALL, c, 0, 0, 0, 0, 0, 0, big, len, 0};
    expect_interrupted(&b, SIG_NORESTART, "§1 EINTR: write_all on an INTERRUPTIBLE handle returns INTERRUPTED");
    CHECK(b.n > 0 && b.n < len, "§6 write_all reports the count so far on INTERRUPTED", "n=%zu", b.n);
    free(big);
    oxs_close(c);
    oxs_close(s);
}

static void waits(void)
{
    oxs_socket c, s;
    tcp_pair(&c, &s);
    oxs_poller p = OXS_INVALID;
    SETUP(oxs_poller_open(&p));
    SETUP(oxs_poller_add(p, s, OXS_POLL_IN, 1));
    struct blocked b1 = {K_POLL, s, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_interrupted(&b1, SIG_NORESTART, "§1 EINTR: oxs_poll returns INTERRUPTED when a handler runs");
    struct blocked b2 = {K_POLL, s, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_interrupted(&b2, SIG_RESTART, "§1 EINTR: oxs_poll returns INTERRUPTED when a handler runs (SA_RESTART)");
    struct blocked b3 = {K_POLLER_WAIT, s, p, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_interrupted(&b3, SIG_NORESTART, "§1 EINTR: oxs_poller_wait returns INTERRUPTED when a handler runs");
    struct blocked b4 = {K_POLLER_WAIT, s, p, 0, 0, 0, 0, 0, 0, 0, 0};
    expect_interrupted(&b4, SIG_RESTART,
                       "§1 EINTR: oxs_poller_wait returns INTERRUPTED when a handler runs (SA_RESTART)");
    /* INTERRUPTIBLE on a socket does not matter for waits; a wait still works after */
    SETUP(oxs_write_all(c, "x", 1, NULL));
    oxs_event ev[2];
    size_t n = 0;
    if (ST(oxs_poller_wait(p, ev, 2, 5000, &n), OXS_OK, "§9 the poller works after INTERRUPTED"))
        CHECK(n == 1 && ev[0].token == 1, "§9 the poller works after INTERRUPTED", "n=%zu", n);
    oxs_poller_close(p);
    oxs_close(c);
    oxs_close(s);
}

int main(void)
{
    install(SIG_NORESTART, 0);
    install(SIG_RESTART, SA_RESTART);
    reads();
    accepts();
    write_alls();
    waits();
    return summary("opts_eintr");
}

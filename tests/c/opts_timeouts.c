/* Timeouts (API.md §7, §6, §3): READ/WRITE/CONNECT timeouts fire within generous
 * bounds and report TIMED_OUT with oxs_last_os_error() == 0; they bound a whole
 * write_all/read_exact, which report the count so far; accept and connect
 * timeouts (the connect against a loopback listener whose backlog is full); a close
 * from another thread wakes a call waiting with a timeout (CLOSED).
 *
 * Usage: opts_timeouts SCRATCH_DIR. Exits non-zero on any failure. */
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

/* The call returned TIMED_OUT after lo..hi ms with no OS error (the handle's own timeout). */
static void expect_timeout(oxs_status st, long long t0, long long lo, long long hi, const char *rule)
{
    int32_t os = oxs_last_os_error();
    long long dt = now_ms() - t0;
    if (!check_status(st, OXS_ERR_TIMED_OUT, "call", rule, __LINE__))
        return;
    CHECK(os == 0, rule, "oxs_last_os_error() is %d, wanted 0 (own timeout)", (int)os);
    CHECK(dt >= lo && dt < hi, rule, "returned after %lld ms, wanted %lld..%lld", dt, lo, hi);
    CHECK(oxs_last_error()[0] != 0, "§1 a failure records a message", "empty");
}

static unsigned char pattern(size_t i) { return (unsigned char)(i % 251); }

static void read_side_timeouts(void)
{
    oxs_socket c, s;
    char buf[64];
    size_t n = 99;
    long long t0;
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 200));
    t0 = now_ms();
    expect_timeout(oxs_read(s, buf, sizeof buf, &n), t0, 150, 5000, "§7 READ_TIMEOUT_MS bounds oxs_read");
    CHECK(n == 0, "§1 a count is 0 on failure", "n=%zu", n);
    t0 = now_ms();
    expect_timeout(oxs_recv(s, buf, sizeof buf, 0, &n), t0, 150, 5000, "§7 READ_TIMEOUT_MS bounds oxs_recv");
    t0 = now_ms();
    n = 99;
    expect_timeout(oxs_read_exact(s, buf, 10, &n), t0, 150, 5000, "§7 READ_TIMEOUT_MS bounds oxs_read_exact");
    CHECK(n == 0, "§6 read_exact's count is the bytes moved", "n=%zu", n);
    /* the socket is intact and the call may be repeated */
    SETUP(oxs_write_all(c, "hello", 5, NULL));
    if (ST(oxs_read_exact(s, buf, 5, &n), OXS_OK, "§2 TIMED_OUT leaves the socket intact"))
        CHECK(n == 5 && memcmp(buf, "hello", 5) == 0, "§2 the call may be repeated", "n=%zu", n);
    oxs_close(c);
    oxs_close(s);

    oxs_socket u = OXS_INVALID;
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &u));
    SETUP(oxs_bind(u, "127.0.0.1:0"));
    SETUP(oxs_setopt(u, OXS_OPT_READ_TIMEOUT_MS, 200));
    oxs_addr from;
    from.len = 5;
    n = 5;
    t0 = now_ms();
    expect_timeout(oxs_recv_from(u, buf, sizeof buf, &n, &from), t0, 150, 5000,
                   "§7 READ_TIMEOUT_MS bounds oxs_recv_from");
    CHECK(from.len == 0, "§1 an oxs_addr is len 0 on failure", "len=%u", from.len);
    oxs_close(u);

    /* Unix stream, datagram and seqpacket sockets and a Unix listener */
    int32_t types[3] = {OXS_TYPE_STREAM, OXS_TYPE_DGRAM, OXS_TYPE_SEQPACKET};
    for (int i = 0; i < 3; i++) {
        oxs_socket p[2];
        SETUP(oxs_socketpair(types[i], p));
        SETUP(oxs_setopt(p[0], OXS_OPT_READ_TIMEOUT_MS, 200));
        t0 = now_ms();
        expect_timeout(oxs_read(p[0], buf, sizeof buf, &n), t0, 150, 5000,
                       "§7 READ_TIMEOUT_MS bounds oxs_read on a Unix socketpair");
        t0 = now_ms();
        expect_timeout(oxs_recv(p[0], buf, sizeof buf, OXS_MSG_PEEK, &n), t0, 150, 5000,
                       "§7 READ_TIMEOUT_MS bounds oxs_recv (PEEK) on a Unix socketpair");
        oxs_close(p[0]);
        oxs_close(p[1]);
    }
    oxs_socket ul = OXS_INVALID, ua = 77;
    char ep[64];
    snprintf(ep, sizeof ep, "unix://@oxsock-timeouts-%d", (int)getpid());
    SETUP(oxs_listen_on(ep, &ul));
    SETUP(oxs_setopt(ul, OXS_OPT_READ_TIMEOUT_MS, 200));
    t0 = now_ms();
    expect_timeout(oxs_accept(ul, &ua, NULL), t0, 150, 5000, "§7 READ_TIMEOUT_MS bounds accept on a Unix listener");
    oxs_close(ul);

    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr), a = 77;
    SETUP(oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 200));
    t0 = now_ms();
    expect_timeout(oxs_accept(l, &a, NULL), t0, 150, 5000, "§7 READ_TIMEOUT_MS bounds oxs_accept");
    CHECK(a == OXS_INVALID, "§1 a handle out-parameter is OXS_INVALID on failure", "got %" PRIu64, a);
    oxs_close(l);
}

/* Makes the send path of c small and the receive path of s small, so writes block soon. */
static void small_buffers(oxs_socket c, oxs_socket s)
{
    SETUP(oxs_setopt(c, OXS_OPT_SEND_BUFFER, 4096));
    SETUP(oxs_setopt(s, OXS_OPT_RECV_BUFFER, 4096));
}

struct drain {
    oxs_socket s;
    long long slow_for_ms; /* read slowly (2000 bytes per 50 ms) for this long, then wait */
    int stop;              /* set by main: drain everything to the end */
    size_t total;
    int bad;               /* a byte out of pattern */
    oxs_status last;
};

static void *drain_thread(void *arg)
{
    struct drain *d = arg;
    static unsigned char buf[65536];
    long long t0 = now_ms();
    oxs_setopt(d->s, OXS_OPT_READ_TIMEOUT_MS, 100);
    /* slow phase */
    for (int i = 0; i < 1000 && !__atomic_load_n(&d->stop, __ATOMIC_SEQ_CST); i++) {
        if (now_ms() - t0 < d->slow_for_ms) {
            size_t n = 0;
            oxs_status st = oxs_read(d->s, buf, 2000, &n);
            if (st != OXS_OK && st != OXS_ERR_TIMED_OUT)
                break;
            for (size_t k = 0; k < n; k++)
                if (buf[k] != pattern(d->total + k))
                    d->bad = 1;
            d->total += n;
        }
        sleep_ms(50);
    }
    /* drain to the end */
    oxs_setopt(d->s, OXS_OPT_READ_TIMEOUT_MS, 10000);
    for (int i = 0; i < 100000; i++) {
        size_t n = 0;
        d->last = oxs_read(d->s, buf, sizeof buf, &n);
        if (d->last != OXS_OK || n == 0)
            break;
        for (size_t k = 0; k < n; k++)
            if (buf[k] != pattern(d->total + k))
                d->bad = 1;
        d->total += n;
    }
    return NULL;
}

static void write_side_timeouts(void)
{
    size_t len = 8 << 20, n = 0;
    unsigned char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = pattern(i);
    oxs_socket c, s;
    long long t0;
    tcp_pair(&c, &s);
    small_buffers(c, s);
    SETUP(oxs_setopt(c, OXS_OPT_WRITE_TIMEOUT_MS, 300));
    t0 = now_ms();
    expect_timeout(oxs_write_all(c, big, len, &n), t0, 250, 5000, "§7 WRITE_TIMEOUT_MS bounds oxs_write_all");
    size_t moved = n;
    CHECK(moved > 0 && moved < len, "§6 write_all reports the count so far", "n=%zu", moved);
    size_t m = 99;
    t0 = now_ms();
    expect_timeout(oxs_write(c, big + moved, 65536, &m), t0, 250, 5000, "§7 WRITE_TIMEOUT_MS bounds oxs_write");
    CHECK(m == 0, "§1 a count is 0 on failure", "m=%zu", m);
    t0 = now_ms();
    expect_timeout(oxs_send(c, big + moved, 65536, 0, &m), t0, 250, 5000, "§7 WRITE_TIMEOUT_MS bounds oxs_send");
    /* every byte counted arrived, in order, and no more */
    struct drain d = {s, 0, 1, 0, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, drain_thread, &d);
    SETUP(oxs_shutdown(c, OXS_SHUT_WRITE));
    pthread_join(th, NULL);
    CHECK(d.total == moved && !d.bad, "§6 the count says how many bytes moved", "peer got %zu, count %zu, bad %d",
          d.total, moved, d.bad);
    oxs_close(c);
    oxs_close(s);

    /* The deadline is for the whole write_all: a slow reader keeps every single write
     * making progress for 6 s, yet a 500 ms timeout ends the call after ~500 ms. */
    tcp_pair(&c, &s);
    small_buffers(c, s);
    SETUP(oxs_setopt(c, OXS_OPT_WRITE_TIMEOUT_MS, 500));
    struct drain d2 = {s, 6000, 0, 0, 0, 0};
    pthread_create(&th, NULL, drain_thread, &d2);
    t0 = now_ms();
    expect_timeout(oxs_write_all(c, big, len, &n), t0, 450, 3000,
                   "§6 the timeout is a deadline for the whole write_all");
    __atomic_store_n(&d2.stop, 1, __ATOMIC_SEQ_CST);
    SETUP(oxs_shutdown(c, OXS_SHUT_WRITE));
    pthread_join(th, NULL);
    CHECK(n > 0 && n < len && d2.total == n && !d2.bad, "§6 write_all's count after TIMED_OUT is the bytes moved",
          "count %zu, peer got %zu, bad %d", n, d2.total, d2.bad);
    oxs_close(c);
    oxs_close(s);
    free(big);
}

struct trickle {
    oxs_socket s;
    int count;    /* bytes to send, one per interval */
    int interval; /* ms */
    int stop;
};

static void *trickle_thread(void *arg)
{
    struct trickle *t = arg;
    for (int i = 0; i < t->count && !__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST); i++) {
        unsigned char b = pattern((size_t)i);
        size_t n;
        if (oxs_write(t->s, &b, 1, &n) != OXS_OK)
            break;
        sleep_ms(t->interval);
    }
    return NULL;
}

static void read_exact_deadline(void)
{
    /* 60 bytes, one every 50 ms (3 s): every single read makes progress, but a
     * 500 ms timeout ends the whole read_exact after ~500 ms; then it resumes. */
    oxs_socket c, s;
    tcp_pair(&c, &s);
    struct trickle t = {c, 60, 50, 0};
    pthread_t th;
    unsigned char buf[64];
    size_t n = 0, n2 = 0;
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 500));
    pthread_create(&th, NULL, trickle_thread, &t);
    long long t0 = now_ms();
    expect_timeout(oxs_read_exact(s, buf, 60, &n), t0, 450, 2500,
                   "§6 the timeout is a deadline for the whole read_exact");
    CHECK(n >= 1 && n < 60, "§6 read_exact reports the count so far", "n=%zu", n);
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 10000));
    if (n < 60 && ST(oxs_read_exact(s, buf + n, 60 - n, &n2), OXS_OK, "§6 read_exact resumes after TIMED_OUT")) {
        int ok = n + n2 == 60;
        for (size_t i = 0; i < 60; i++)
            ok = ok && buf[i] == pattern(i);
        CHECK(ok, "§6 resumed read_exact gives every byte once, in order", "n=%zu n2=%zu", n, n2);
    }
    pthread_join(th, NULL);
    oxs_close(c);
    oxs_close(s);
}

/* A listener on 127.0.0.1 with backlog 1 and nobody accepting: after two
 * connections its queue is full and the next SYN is dropped, so a connect hangs. */
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
        oxs_status st = oxs_connect(c, addr);
        if (st != OXS_OK) {
            oxs_close(c);
            break;
        }
        held[(*nheld)++] = c;
    }
    return l;
}

static void connect_timeout(void)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket held[8];
    int nheld = 0;
    oxs_socket l = full_backlog(addr, sizeof addr, held, &nheld);
    CHECK(nheld >= 1 && nheld < 6, "setup: a backlog-1 listener fills up", "%d connects succeeded", nheld);
    /* CONNECT_TIMEOUT_MS bounds the connect; WRITE_TIMEOUT_MS (shorter) does not. */
    oxs_socket c = OXS_INVALID;
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    SETUP(oxs_setopt(c, OXS_OPT_CONNECT_TIMEOUT_MS, 700));
    SETUP(oxs_setopt(c, OXS_OPT_WRITE_TIMEOUT_MS, 50));
    SETUP(oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 60));
    long long t0 = now_ms();
    expect_timeout(oxs_connect(c, addr), t0, 600, 5000,
                   "§4 only CONNECT_TIMEOUT_MS bounds a connect (not write/read timeouts)");
    ST(oxs_close(c), OXS_OK, "§4 a timed-out connect's socket can be closed");
    /* A plain 250 ms connect timeout */
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    SETUP(oxs_setopt(c, OXS_OPT_CONNECT_TIMEOUT_MS, 250));
    t0 = now_ms();
    expect_timeout(oxs_connect(c, addr), t0, 200, 5000, "§7 CONNECT_TIMEOUT_MS bounds oxs_connect");
    oxs_close(c);
    for (int i = 0; i < nheld; i++)
        oxs_close(held[i]);
    oxs_close(l);
}

struct closer {
    oxs_socket s;
    int delay_ms;
    oxs_status st;
};

static void *closer_thread(void *arg)
{
    struct closer *c = arg;
    sleep_ms(c->delay_ms);
    c->st = oxs_close(c->s);
    return NULL;
}

/* Closes `s` from another thread after 300 ms while `call` is blocked in it. */
#define CLOSE_WAKES(s_, call, rule)                                                                  \
    do {                                                                                             \
        struct closer cl_ = {(s_), 300, 1};                                                          \
        pthread_t th_;                                                                               \
        pthread_create(&th_, NULL, closer_thread, &cl_);                                             \
        long long t0_ = now_ms();                                                                    \
        oxs_status st_ = (call);                                                                     \
        long long dt_ = now_ms() - t0_;                                                              \
        pthread_join(th_, NULL);                                                                     \
        if (ST(st_, OXS_ERR_CLOSED, rule))                                                           \
            CHECK(dt_ >= 200 && dt_ < 3000, rule, "returned after %lld ms (close at 300)", dt_);      \
        ST(cl_.st, OXS_OK, "§3 close with a call in flight returns OK");                             \
    } while (0)

static void close_wakes(void)
{
    oxs_socket c, s;
    char buf[64];
    size_t n;
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 8000));
    CLOSE_WAKES(s, oxs_read(s, buf, sizeof buf, &n), "§3 close wakes a read waiting with a timeout");
    ST(oxs_read(s, buf, sizeof buf, &n), OXS_ERR_BAD_HANDLE, "§3 a closed handle is BAD_HANDLE");
    oxs_close(c);

    tcp_pair(&c, &s);
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 8000));
    CLOSE_WAKES(s, oxs_read_exact(s, buf, sizeof buf, &n), "§3 close wakes a read_exact waiting with a timeout");
    oxs_close(c);

    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr), a;
    SETUP(oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 8000));
    CLOSE_WAKES(l, oxs_accept(l, &a, NULL), "§3 close wakes an accept waiting with a timeout");

    size_t len = 8 << 20;
    unsigned char *big = calloc(1, len);
    tcp_pair(&c, &s);
    small_buffers(c, s);
    SETUP(oxs_setopt(c, OXS_OPT_WRITE_TIMEOUT_MS, 8000));
    CLOSE_WAKES(c, oxs_write_all(c, big, len, &n), "§3 close wakes a write_all waiting with a timeout");
    oxs_close(s);
    free(big);

    oxs_socket held[8];
    int nheld = 0;
    l = full_backlog(addr, sizeof addr, held, &nheld);
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    SETUP(oxs_setopt(c, OXS_OPT_CONNECT_TIMEOUT_MS, 8000));
    CLOSE_WAKES(c, oxs_connect(c, addr), "§3 close wakes a connect waiting with a timeout");
    for (int i = 0; i < nheld; i++)
        oxs_close(held[i]);
    oxs_close(l);
}

struct late_writer {
    oxs_socket s;
    int delay_ms;
};

static void *late_writer_thread(void *arg)
{
    struct late_writer *w = arg;
    sleep_ms(w->delay_ms);
    oxs_write_all(w->s, "late", 4, NULL);
    return NULL;
}

static void zero_means_none(void)
{
    oxs_socket c, s;
    char buf[8];
    size_t n = 0;
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 200));
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 0));
    struct late_writer w = {c, 700};
    pthread_t th;
    pthread_create(&th, NULL, late_writer_thread, &w);
    long long t0 = now_ms();
    if (ST(oxs_read_exact(s, buf, 4, &n), OXS_OK, "§1 a timeout of 0 means none"))
        CHECK(now_ms() - t0 >= 600, "§1 a timeout of 0 means none", "returned after %lld ms", now_ms() - t0);
    pthread_join(th, NULL);
    oxs_close(c);
    oxs_close(s);
}

int main(void)
{
    read_side_timeouts();
    write_side_timeouts();
    read_exact_deadline();
    connect_timeout();
    close_wakes();
    zero_means_none();
    return summary("opts_timeouts");
}

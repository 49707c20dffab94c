/*
 * hard_defects.c - regression tests for the eight defects of the hardening review
 * (issue 11) and for calls made from signal handlers. Each section failed before its
 * fix; tests/hardening.rs runs each one as its own test, plainly and under valgrind.
 *
 *   unix_backlog_dial       1: oxs_dial to a Unix listener whose backlog is full
 *   unix_backlog_connect    2: a blocking oxs_connect there, with and without timeout
 *   close_wakes             3: oxs_close wakes every blocking call x every socket kind
 *   poller_close            4: a socket closed with a call in flight leaves its pollers
 *   from_fd_race            5: two threads adopting one descriptor: one wins
 *   fork_linger             6: fork() during a lingering final close
 *   connect_nonblock        7: a timed connect keeps another thread's NONBLOCKING 1
 *   unix_dot_slash          8: Unix names starting with ./ round-trip (§5)
 *   signal_wake             oxs_poller_wake from a signal handler (§14)
 *
 * Usage: hard_defects SCRATCH-FOLDER [SECTION]
 */
#include <sched.h>
#include <signal.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "core_util.h"

/* ---- helpers ----------------------------------------------------------------- */

static void bg_connect(bg_call *c) { c->st = oxs_connect(c->s, (const char *)c->buf); }
static void bg_send(bg_call *c) { c->st = oxs_send(c->s, c->buf, c->len, 0, &c->n); }
static void bg_send_to(bg_call *c) { c->st = oxs_send_to(c->s, c->buf, c->len, &c->addr, &c->n); }
static void bg_recv(bg_call *c) { c->st = oxs_recv(c->s, c->buf, c->len, 0, &c->n); }
static void bg_writev(bg_call *c)
{
    oxs_iovec iov[2];
    iov[0].base = c->buf;
    iov[0].len = c->len / 2;
    iov[1].base = (char *)c->buf + c->len / 2;
    iov[1].len = c->len - c->len / 2;
    c->st = oxs_writev(c->s, iov, 2, &c->n);
}
static void bg_send_fds(bg_call *c)
{
    int32_t fds[1] = {0};
    c->st = oxs_send_fds(c->s, c->buf, c->len, fds, 1, &c->n);
}
static void bg_send_batch(bg_call *c)
{
    oxs_datagram d[2];
    memset(d, 0, sizeof d);
    d[0].buf = d[1].buf = c->buf;
    d[0].len = d[1].len = c->len;
    c->st = oxs_send_batch(c->s, d, 2, &c->n);
}

static const char *dial_text;
static int32_t dial_timeout;
static void bg_dial(bg_call *c) { c->st = oxs_dial(dial_text, dial_timeout, &c->s2); }

/* A Unix stream listener at `path` with backlog 1 that nobody accepts from, already
 * holding as many connections as its queue takes (on Linux, backlog + 1). The queued
 * client handles go to held[] (count in *nheld). */
static oxs_socket full_unix_listener(const char *path, int type, oxs_socket held[4], int *nheld)
{
    char ep[256];
    oxs_socket l = 0;
    int i;
    snprintf(ep, sizeof ep, "%s://%s?backlog=1", type == OXS_TYPE_SEQPACKET ? "unixpacket" : "unix", path);
    REQUIRE_OK("setup: listen with backlog 1", oxs_listen_on(ep, &l));
    *nheld = 0;
    for (i = 0; i < 4; i++) {
        oxs_socket c = 0;
        REQUIRE_OK("setup: open client", oxs_socket_open(OXS_DOMAIN_UNIX, type, 0, &c));
        REQUIRE_OK("setup: client non-blocking", oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
        if (oxs_connect(c, path) != OXS_OK) {
            oxs_close(c);
            break;
        }
        held[(*nheld)++] = c;
    }
    REQUIRE("setup: the backlog fills (at most 4 queued)", *nheld < 4);
    return l;
}

static void close_all(oxs_socket *s, int n)
{
    int i;
    for (i = 0; i < n; i++)
        oxs_close(s[i]);
}

/* True when s is connected: it has a peer. */
static int is_connected(oxs_socket s)
{
    oxs_addr a;
    return oxs_peer_addr(s, &a) == OXS_OK;
}

/* ---- 1: oxs_dial to a full Unix backlog ---------------------------------------- */

static void unix_backlog_dial(void)
{
    oxs_socket held[4], l, acc = 0, s = 0;
    int nheld;
    int64_t t0, took;
    oxs_status st;
    char ep[128];
    bg_call b;

    l = full_unix_listener("dial.sock", OXS_TYPE_STREAM, held, &nheld);
    snprintf(ep, sizeof ep, "unix://dial.sock");

    /* With a timeout: the dial waits for room and then says TIMED_OUT. */
    t0 = check_now_ms();
    st = oxs_dial(ep, 500, &s);
    took = check_now_ms() - t0;
    CHECK_ST("§8 dial to a full Unix backlog with 500 ms: TIMED_OUT", st, OXS_ERR_TIMED_OUT);
    CHECK("§8 ... after waiting its timeout (>= 450 ms)", took >= 450);
    CHECK("§8 ... and not much longer (< 3 s)", took < 3000 * slow_factor());
    CHECK_INT("§8 ... TIMED_OUT of our own deadline: os error 0", oxs_last_os_error(), 0);
    CHECK_INT("§1 ... the handle out-parameter is OXS_INVALID", (long long)s, 0);
    if (st == OXS_OK) {
        CHECK("§8 a dial that says OK is connected", is_connected(s));
        oxs_close(s);
    }

    /* Without a timeout: the dial waits until the server accepts, then is connected. */
    memset(&b, 0, sizeof b);
    dial_text = ep;
    dial_timeout = 0;
    b.fn = bg_dial;
    bg_start(&b);
    sleep_ms(300 * (int)slow_factor());
    CHECK("§8 dial with no timeout to a full backlog waits", !__atomic_load_n(&b.done, __ATOMIC_SEQ_CST));
    REQUIRE_OK("setup: accept makes room", oxs_accept(l, &acc, NULL));
    if (CHECK("§8 the waiting dial returns once there is room (5 s bound)", bg_wait(&b, 5000 * (int)slow_factor()))) {
        CHECK_ST("§8 ... with OXS_OK", b.st, OXS_OK);
        if (b.st == OXS_OK) {
            CHECK("§8 ... and is connected", is_connected(b.s2));
            CHECK_OK("§8 ... and can write", oxs_write_all(b.s2, "x", 1, NULL));
            oxs_close(b.s2);
        }
    }
    oxs_close(acc);
    close_all(held, nheld);
    oxs_close(l);
}

/* ---- 2: blocking oxs_connect to a full Unix backlog ---------------------------- */

static void unix_backlog_connect(void)
{
    oxs_socket held[4], l, acc = 0, s = 0;
    int nheld;
    int64_t t0, took;
    oxs_status st;
    bg_call b;

    l = full_unix_listener("conn.sock", OXS_TYPE_STREAM, held, &nheld);

    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &s));
    REQUIRE_OK("setup: connect timeout 500", oxs_setopt(s, OXS_OPT_CONNECT_TIMEOUT_MS, 500));
    t0 = check_now_ms();
    st = oxs_connect(s, "conn.sock");
    took = check_now_ms() - t0;
    CHECK_ST("§4 blocking Unix connect with CONNECT_TIMEOUT 500 to a full backlog: TIMED_OUT", st,
             OXS_ERR_TIMED_OUT);
    CHECK("§4 ... after its timeout (>= 450 ms)", took >= 450);
    CHECK("§4 ... not much later (< 3 s)", took < 3000 * slow_factor());
    oxs_close(s);

    /* Non-blocking: WOULD_BLOCK at once (the kernel's EAGAIN). */
    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &s));
    REQUIRE_OK("setup: non-blocking", oxs_setopt(s, OXS_OPT_NONBLOCKING, 1));
    CHECK_ST("§4 non-blocking Unix connect to a full backlog: WOULD_BLOCK", oxs_connect(s, "conn.sock"),
             OXS_ERR_WOULD_BLOCK);
    oxs_close(s);

    /* Blocking with no timeout: waits until there is room, then OK and connected. */
    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &s));
    memset(&b, 0, sizeof b);
    b.fn = bg_connect;
    b.s = s;
    b.buf = (void *)"conn.sock";
    bg_start(&b);
    sleep_ms(300 * (int)slow_factor());
    CHECK("§4 blocking Unix connect with no timeout to a full backlog waits",
          !__atomic_load_n(&b.done, __ATOMIC_SEQ_CST));
    REQUIRE_OK("setup: accept makes room", oxs_accept(l, &acc, NULL));
    if (CHECK("§4 the waiting connect returns once there is room (5 s bound)", bg_wait(&b, 5000 * (int)slow_factor()))) {
        CHECK_ST("§4 ... OXS_OK", b.st, OXS_OK);
        CHECK("§4 ... and connected", is_connected(s));
    }
    oxs_close(s);
    oxs_close(acc);
    close_all(held, nheld);
    oxs_close(l);
}

/* ---- 3: close wakes every blocking call on every socket kind -------------------- */

static char big[1 << 16];

/* Runs c in a thread, waits until it blocks, closes its handle, and checks that the
 * call returns OXS_ERR_CLOSED promptly and the close returned at once. */
static void close_wakes_call(bg_call *c, const char *what)
{
    char rule[200];
    int64_t t0, t1;
    oxs_status st;

    bg_start(c);
    snprintf(rule, sizeof rule, "§3 %s blocks (set-up)", what);
    if (!CHECK(rule, wait_thread_blocked(c->tid) && !__atomic_load_n(&c->done, __ATOMIC_SEQ_CST))) {
        bg_wait(c, 5000);
        return;
    }
    t0 = check_now_ms();
    st = oxs_close(c->s);
    t1 = check_now_ms();
    snprintf(rule, sizeof rule, "§3 close during %s: OXS_OK at once", what);
    CHECK(rule, st == OXS_OK && t1 - t0 < 1000 * slow_factor());
    snprintf(rule, sizeof rule, "§3 %s returns after the close (5 s bound)", what);
    if (!CHECK(rule, bg_wait(c, 5000 * (int)slow_factor()))) {
        printf("  %s never returned: giving up on it\n", what);
        return;
    }
    snprintf(rule, sizeof rule, "§3 %s returns OXS_ERR_CLOSED", what);
    CHECK_ST(rule, c->st, OXS_ERR_CLOSED);
    snprintf(rule, sizeof rule, "§3 %s returns promptly (< 1 s)", what);
    CHECK(rule, c->done_ms - t0 < 1000 * slow_factor());
}

/* Fills s's send path (non-blocking writes until WOULD_BLOCK), then makes it blocking. */
static void fill_send(oxs_socket s, int dgram, const oxs_addr *to)
{
    int i;
    size_t n;
    REQUIRE_OK("setup: non-blocking", oxs_setopt(s, OXS_OPT_NONBLOCKING, 1));
    for (i = 0; i < 1000000; i++) {
        oxs_status st = to ? oxs_send_to(s, big, dgram ? 64 : sizeof big, to, &n)
                           : oxs_send(s, big, dgram ? 64 : sizeof big, 0, &n);
        if (st == OXS_ERR_WOULD_BLOCK)
            break;
        REQUIRE_OK("setup: fill the send path", st);
    }
    REQUIRE_OK("setup: blocking again", oxs_setopt(s, OXS_OPT_NONBLOCKING, 0));
}

static void blocked_connect(int type, int timeout_ms, const char *what)
{
    oxs_socket held[4], l, s = 0;
    int nheld;
    bg_call b;
    unlink("wake.sock");
    l = full_unix_listener("wake.sock", type, held, &nheld);
    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_UNIX, type, 0, &s));
    if (timeout_ms > 0)
        REQUIRE_OK("setup: timeout", oxs_setopt(s, OXS_OPT_CONNECT_TIMEOUT_MS, timeout_ms));
    memset(&b, 0, sizeof b);
    b.fn = bg_connect;
    b.s = s;
    b.buf = (void *)"wake.sock";
    close_wakes_call(&b, what);
    close_all(held, nheld);
    oxs_close(l);
}

static void blocked_tcp_connect(int v6, int timeout_ms, const char *what)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l, held[8], s = 0;
    int n = 0, i;
    bg_call b;
    REQUIRE_OK("setup: open", oxs_socket_open(v6 ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &l));
    REQUIRE_OK("setup: bind", oxs_bind(l, v6 ? "[::1]:0" : "127.0.0.1:0"));
    REQUIRE_OK("setup: listen 1", oxs_listen(l, 1));
    local_text(l, addr);
    /* A TCP listener whose accept queue is full drops SYNs: the next connect hangs. */
    for (i = 0; i < 8; i++) {
        oxs_socket c = 0;
        REQUIRE_OK("setup: open", oxs_socket_open(v6 ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
        REQUIRE_OK("setup: timeout", oxs_setopt(c, OXS_OPT_CONNECT_TIMEOUT_MS, 300));
        if (oxs_connect(c, addr) != OXS_OK) {
            oxs_close(c);
            break;
        }
        held[n++] = c;
    }
    REQUIRE_OK("setup: open", oxs_socket_open(v6 ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &s));
    if (timeout_ms > 0)
        REQUIRE_OK("setup: timeout", oxs_setopt(s, OXS_OPT_CONNECT_TIMEOUT_MS, timeout_ms));
    memset(&b, 0, sizeof b);
    b.fn = bg_connect;
    b.s = s;
    b.buf = addr;
    close_wakes_call(&b, what);
    close_all(held, n);
    oxs_close(l);
}

static void blocked_unixgram_send_fn(int connected, int nonblock_timeout, void (*fn)(bg_call *),
                                     const char *what)
{
    oxs_socket r = 0, s = 0;
    oxs_addr to;
    bg_call b;
    unlink("gram.sock");
    REQUIRE_OK("setup: receiver", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &r));
    REQUIRE_OK("setup: bind receiver", oxs_bind(r, "gram.sock"));
    REQUIRE_OK("setup: sender", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &s));
    REQUIRE_OK("setup: address", oxs_addr_parse("./gram.sock", &to));
    if (connected)
        REQUIRE_OK("setup: connect sender", oxs_connect(s, "gram.sock"));
    fill_send(s, 1, connected ? NULL : &to);
    if (nonblock_timeout)
        REQUIRE_OK("setup: write timeout", oxs_setopt(s, OXS_OPT_WRITE_TIMEOUT_MS, 20000));
    memset(&b, 0, sizeof b);
    b.s = s;
    b.buf = big;
    b.len = 64;
    b.addr = to;
    b.fn = fn != NULL ? fn : connected ? bg_send : bg_send_to;
    close_wakes_call(&b, what);
    oxs_close(r);
}

static void blocked_unixgram_send(int connected, int nonblock_timeout, const char *what)
{
    blocked_unixgram_send_fn(connected, nonblock_timeout, NULL, what);
}

static void blocked_stream_send(int domain, int type, const char *what)
{
    oxs_socket p[2] = {0, 0};
    bg_call b;
    if (domain == OXS_DOMAIN_UNIX)
        REQUIRE_OK("setup: socketpair", oxs_socketpair(type, p));
    else
        tcp_pair(domain == OXS_DOMAIN_INET6, &p[0], &p[1]);
    fill_send(p[0], type != OXS_TYPE_STREAM, NULL);
    memset(&b, 0, sizeof b);
    b.s = p[0];
    b.buf = big;
    b.len = type == OXS_TYPE_STREAM ? sizeof big : 64;
    b.fn = type == OXS_TYPE_STREAM ? bg_write_all : bg_send;
    close_wakes_call(&b, what);
    oxs_close(p[1]);
}

static void blocked_recv(int domain, int type, const char *what)
{
    oxs_socket s = 0, peer = 0;
    bg_call b;
    if (domain == OXS_DOMAIN_UNIX) {
        oxs_socket p[2];
        REQUIRE_OK("setup: socketpair", oxs_socketpair(type, p));
        s = p[0];
        peer = p[1];
    } else if (type == OXS_TYPE_STREAM) {
        tcp_pair(domain == OXS_DOMAIN_INET6, &s, &peer);
    } else {
        REQUIRE_OK("setup: udp", oxs_socket_open(domain, type, 0, &s));
        REQUIRE_OK("setup: bind", oxs_bind(s, domain == OXS_DOMAIN_INET6 ? "[::1]:0" : "127.0.0.1:0"));
    }
    memset(&b, 0, sizeof b);
    b.s = s;
    b.buf = big;
    b.len = sizeof big;
    b.fn = bg_recv;
    close_wakes_call(&b, what);
    if (peer)
        oxs_close(peer);
}

static void blocked_accept(int domain, int type, const char *what)
{
    oxs_socket l = 0;
    bg_call b;
    char ep[128];
    if (domain == OXS_DOMAIN_UNIX) {
        unlink("acc.sock");
        snprintf(ep, sizeof ep, "%s://acc.sock", type == OXS_TYPE_SEQPACKET ? "unixpacket" : "unix");
        REQUIRE_OK("setup: listen", oxs_listen_on(ep, &l));
    } else {
        l = tcp_listener(domain == OXS_DOMAIN_INET6, NULL);
    }
    memset(&b, 0, sizeof b);
    b.s = l;
    b.fn = bg_accept;
    close_wakes_call(&b, what);
    if (b.st == OXS_OK)
        oxs_close(b.s2);
}

static void close_wakes(void)
{
    blocked_connect(OXS_TYPE_STREAM, 0, "Unix stream connect to a full backlog");
    blocked_connect(OXS_TYPE_STREAM, 20000, "Unix stream connect to a full backlog, with timeout");
    blocked_connect(OXS_TYPE_SEQPACKET, 0, "Unix seqpacket connect to a full backlog");
    blocked_tcp_connect(0, 0, "TCP/IPv4 connect to a full accept queue");
    blocked_tcp_connect(0, 20000, "TCP/IPv4 connect to a full accept queue, with timeout");
    blocked_tcp_connect(1, 0, "TCP/IPv6 connect to a full accept queue");
    blocked_unixgram_send(1, 0, "connected unixgram send to a full receiver");
    blocked_unixgram_send(0, 0, "unixgram send_to a full receiver");
    blocked_unixgram_send(1, 1, "connected unixgram send with a write timeout");
    blocked_unixgram_send(0, 1, "unixgram send_to with a write timeout");
    blocked_unixgram_send_fn(1, 0, bg_writev, "connected unixgram writev to a full receiver");
    blocked_unixgram_send_fn(1, 0, bg_send_fds, "connected unixgram send_fds to a full receiver");
    blocked_unixgram_send_fn(1, 0, bg_send_batch, "connected unixgram send_batch to a full receiver");
    blocked_stream_send(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, "Unix stream write_all on a full buffer");
    blocked_stream_send(OXS_DOMAIN_UNIX, OXS_TYPE_SEQPACKET, "Unix seqpacket send on a full buffer");
    blocked_stream_send(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, "socketpair unixgram send on a full buffer");
    blocked_stream_send(OXS_DOMAIN_INET, OXS_TYPE_STREAM, "TCP/IPv4 write_all on a full buffer");
    blocked_stream_send(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, "TCP/IPv6 write_all on a full buffer");
    blocked_recv(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, "Unix stream recv");
    blocked_recv(OXS_DOMAIN_UNIX, OXS_TYPE_SEQPACKET, "Unix seqpacket recv");
    blocked_recv(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, "unixgram recv");
    blocked_recv(OXS_DOMAIN_INET, OXS_TYPE_STREAM, "TCP/IPv4 recv");
    blocked_recv(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, "TCP/IPv6 recv");
    blocked_recv(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, "UDP/IPv4 recv");
    blocked_recv(OXS_DOMAIN_INET6, OXS_TYPE_DGRAM, "UDP/IPv6 recv");
    blocked_accept(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, "Unix stream accept");
    blocked_accept(OXS_DOMAIN_UNIX, OXS_TYPE_SEQPACKET, "Unix seqpacket accept");
    blocked_accept(OXS_DOMAIN_INET, OXS_TYPE_STREAM, "TCP/IPv4 accept");
    blocked_accept(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, "TCP/IPv6 accept");
}

/* ---- 4: a socket closed with a call in flight leaves its pollers ---------------- */

static void poller_close(void)
{
    int rounds = slow_factor() > 1 ? 20 : 200, i, reported = 0, returned = 1;
    oxs_poller p = 0;
    REQUIRE_OK("setup: poller", oxs_poller_open(&p));
    for (i = 0; i < rounds; i++) {
        oxs_socket c, s;
        oxs_event ev[8];
        size_t n = 0, k;
        bg_call b;
        tcp_pair(0, &c, &s);
        REQUIRE_OK("setup: add", oxs_poller_add(p, c, OXS_POLL_IN, 0xC105ED));
        memset(&b, 0, sizeof b);
        b.fn = bg_read;
        b.s = c;
        b.buf = big;
        b.len = sizeof big;
        bg_start(&b);
        wait_thread_blocked(b.tid);
        REQUIRE_OK("setup: close with a read in flight", oxs_close(c));
        CHECK_OK("§9 wait after the close", oxs_poller_wait(p, ev, 8, 50, &n));
        for (k = 0; k < n; k++)
            if (ev[k].token == 0xC105ED)
                reported++;
        if (!bg_wait(&b, 5000 * (int)slow_factor()))
            returned = 0;
        oxs_close(s);
    }
    CHECK_INT("§9 a socket closed with a call in flight is in no poller after oxs_close returns "
              "(rounds in which its token was reported)", reported, 0);
    CHECK("§3 every blocked read returned", returned);
    /* The registration is gone too: its fd number may be reused by a new socket. */
    oxs_poller_close(p);
}

/* ---- 5: two threads adopting one descriptor ------------------------------------ */

static volatile int race_fd = -1;
static int race_round;     /* atomic: the round the threads should run */
static int race_done[2];   /* atomic: the last round each finished */
static oxs_socket race_out[2];
static oxs_status race_st[2];

static void *adopter(void *arg)
{
    int me = (int)(intptr_t)arg, seen = 0;
    for (;;) {
        int r;
        while ((r = __atomic_load_n(&race_round, __ATOMIC_ACQUIRE)) == seen)
            sched_yield();
        if (r < 0)
            return NULL;
        seen = r;
        race_st[me] = oxs_from_fd(race_fd, &race_out[me]);
        __atomic_store_n(&race_done[me], r, __ATOMIC_RELEASE);
    }
}

static void from_fd_race(void)
{
    pthread_t t[2];
    int rounds = slow_factor() > 1 ? 2000 : 200000, i, ran = 0, both = 0, none = 0, wrong = 0;
    int64_t end = check_now_ms() + 8000;
    for (i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, adopter, (void *)(intptr_t)i);
    for (i = 1; i <= rounds && check_now_ms() < end; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), wins = 0, k;
        if (fd < 0)
            break;
        ran++;
        race_fd = fd;
        __atomic_store_n(&race_round, i, __ATOMIC_RELEASE);
        while (__atomic_load_n(&race_done[0], __ATOMIC_ACQUIRE) != i ||
               __atomic_load_n(&race_done[1], __ATOMIC_ACQUIRE) != i)
            sched_yield();
        for (k = 0; k < 2; k++) {
            if (race_st[k] == OXS_OK)
                wins++;
            else if (race_st[k] != OXS_ERR_INVALID_ARGUMENT)
                wrong++;
        }
        if (wins == 2)
            both++;
        if (wins == 0)
            none++;
        for (k = 0; k < 2; k++)
            if (race_st[k] == OXS_OK)
                oxs_close(race_out[k]);
        if (wins == 0)
            close(fd);
    }
    __atomic_store_n(&race_round, -1, __ATOMIC_RELEASE);
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("  from_fd race: %d rounds\n", ran);
    CHECK("§10 the race ran (at least 100 rounds; 10 under valgrind)", ran >= (slow_factor() > 1 ? 10 : 100));
    CHECK_INT("§10 two threads adopting one fd: rounds in which both won", both, 0);
    CHECK_INT("§10 ... rounds in which neither won", none, 0);
    CHECK_INT("§10 ... the loser gets OXS_ERR_INVALID_ARGUMENT (other statuses)", wrong, 0);
}

/* ---- 6: fork() during a lingering final close ---------------------------------- */

static void *closer(void *arg)
{
    oxs_close(*(oxs_socket *)arg);
    return NULL;
}

static void fork_linger(void)
{
    oxs_socket c, s;
    pthread_t t;
    int fd, newfd = -1, status = 0, extra[64], nextra = 0, i;
    pid_t pid;
    int64_t t0;
    tcp_pair(0, &c, &s);
    fd = fd_of(c);
    /* Unsent data the peer will not read: a lingering close then blocks. */
    fill_send(c, 0, NULL);
    REQUIRE_OK("setup: linger 2 s", oxs_setopt(c, OXS_OPT_LINGER_S, 2));
    t0 = check_now_ms();
    pthread_create(&t, NULL, closer, &c);
    sleep_ms(300);
    /* The lingering close(2) has freed the number: a new socket takes it (the lower
     * free numbers are taken first, then given back). */
    while (nextra < 64) {
        newfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (newfd < 0 || newfd == fd)
            break;
        extra[nextra++] = newfd;
    }
    for (i = 0; i < nextra; i++)
        close(extra[i]);
    if (newfd != fd || check_now_ms() - t0 > 1500) {
        CHECK_SKIP("§1 fork during a lingering close", "the descriptor number was not reused in time");
        pthread_join(t, NULL);
        close(newfd);
        oxs_close(s);
        return;
    }
    pid = fork();
    if (pid == 0) {
        /* The child: the parent's unrelated descriptor must still be open here. */
        _exit(fcntl(newfd, F_GETFD) >= 0 ? 0 : 1);
    }
    REQUIRE("setup: fork", pid > 0);
    waitpid(pid, &status, 0);
    CHECK("§1 fork during a lingering final close: the child keeps an unrelated descriptor that "
          "took the number",
          WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pthread_join(t, NULL);
    CHECK("§3 the new descriptor is still open in the parent", fd_is_open(newfd));
    close(newfd);
    oxs_close(s);
}

/* ---- 7: a timed connect keeps another thread's NONBLOCKING 1 ------------------- */

static void connect_nonblock(void)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l, held[8], s = 0;
    int n = 0, i, fd;
    int64_t v = -1;
    bg_call b;
    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &l));
    REQUIRE_OK("setup: bind", oxs_bind(l, "127.0.0.1:0"));
    REQUIRE_OK("setup: listen 1", oxs_listen(l, 1));
    local_text(l, addr);
    for (i = 0; i < 8; i++) {
        oxs_socket c = 0;
        REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
        REQUIRE_OK("setup: timeout", oxs_setopt(c, OXS_OPT_CONNECT_TIMEOUT_MS, 300));
        if (oxs_connect(c, addr) != OXS_OK) {
            oxs_close(c);
            break;
        }
        held[n++] = c;
    }
    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &s));
    REQUIRE_OK("setup: connect timeout 800", oxs_setopt(s, OXS_OPT_CONNECT_TIMEOUT_MS, 800));
    fd = fd_of(s);
    memset(&b, 0, sizeof b);
    b.fn = bg_connect;
    b.s = s;
    b.buf = addr;
    bg_start(&b);
    wait_thread_blocked(b.tid);
    CHECK_OK("§7 NONBLOCKING 1 set during a timed connect", oxs_setopt(s, OXS_OPT_NONBLOCKING, 1));
    bg_wait(&b, 5000 * (int)slow_factor());
    CHECK_ST("setup: the connect timed out", b.st, OXS_ERR_TIMED_OUT);
    CHECK_OK("§7 getopt NONBLOCKING", oxs_getopt(s, OXS_OPT_NONBLOCKING, &v));
    CHECK_INT("§7 ... still 1 after the connect", v, 1);
    CHECK("§7 ... and the descriptor is still O_NONBLOCK", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);

    /* And the other way round: NONBLOCKING 0 during the connect leaves it blocking. */
    oxs_close(s);
    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &s));
    REQUIRE_OK("setup: connect timeout 800", oxs_setopt(s, OXS_OPT_CONNECT_TIMEOUT_MS, 800));
    REQUIRE_OK("setup: read timeout (the descriptor is then O_NONBLOCK)",
               oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 1000));
    fd = fd_of(s);
    b.s = s;
    bg_start(&b);
    wait_thread_blocked(b.tid);
    CHECK_OK("§7 read timeout cleared during a timed connect", oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 0));
    bg_wait(&b, 5000 * (int)slow_factor());
    CHECK("§7 ... the descriptor is blocking after the connect", (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
    oxs_close(s);
    close_all(held, n);
    oxs_close(l);
}

/* ---- 8: Unix names that start with ./ ------------------------------------------ */

static void round_trip(const char *sun_path, const char *want_text)
{
    struct sockaddr_un sun;
    oxs_addr a, b;
    char text[OXS_ADDR_STRLEN], rule[256];
    size_t n = 0;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, sun_path, strlen(sun_path));
    REQUIRE_OK("setup: from_sockaddr",
               oxs_addr_from_sockaddr(&sun, (uint32_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sun_path)),
                                      &a));
    snprintf(rule, sizeof rule, "§5 sun_path %s formats as %s", sun_path, want_text);
    CHECK_OK(rule, oxs_addr_format(&a, text, sizeof text, &n));
    CHECK_STR(rule, text, want_text);
    snprintf(rule, sizeof rule, "§5 %s parses back to sun_path %s", want_text, sun_path);
    if (CHECK_OK(rule, oxs_addr_parse(text, &b))) {
        const struct sockaddr_un *got = (const struct sockaddr_un *)(const void *)&b.storage;
        CHECK_STR(rule, got->sun_path, sun_path);
    }
}

static void unix_dot_slash(void)
{
    round_trip("x", "./x");
    round_trip("./x", "././x");
    round_trip("././x", "./././x");
    round_trip("a/b", "a/b");
    round_trip("./a/b", "././a/b");
    round_trip("@x", "./@x");
    round_trip("/abs/x", "/abs/x");
    round_trip("../x", "../x");
}

/* ---- signal handlers: oxs_poller_wake is async-signal-safe --------------------- */

static oxs_poller sig_poller, sig_dead_poller;
static volatile sig_atomic_t sig_count, sig_bad;

static void on_signal(int sig)
{
    int saved = errno;
    (void)sig;
    if (oxs_poller_wake(sig_poller) != OXS_OK)
        sig_bad = 1;
    if (oxs_poller_wake(sig_dead_poller) != OXS_ERR_BAD_HANDLE)
        sig_bad = 1;
    sig_count++;
    errno = saved;
}

static int sig_stop; /* atomic */
static void *signaller(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    while (!__atomic_load_n(&sig_stop, __ATOMIC_SEQ_CST)) {
        pthread_kill(target, SIGUSR1);
        usleep(200);
    }
    return NULL;
}

static void signal_wake(void)
{
    struct sigaction sa;
    pthread_t self = pthread_self(), t;
    int64_t end = check_now_ms() + 2000;
    long calls = 0;
    oxs_event ev[4];
    size_t n = 99;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    REQUIRE_OK("setup: poller", oxs_poller_open(&sig_poller));
    REQUIRE_OK("setup: a second poller", oxs_poller_open(&sig_dead_poller));
    REQUIRE_OK("setup: close it", oxs_poller_close(sig_dead_poller));
    sigaction(SIGUSR1, &sa, NULL);
    pthread_create(&t, NULL, signaller, &self);
    /* The handler interrupts this thread inside every kind of call: table inserts and
     * final closes (the free-slot lock), failures (the error record), messages. */
    while (check_now_ms() < end) {
        oxs_socket s = 0;
        size_t got;
        char buf[8];
        if (oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s) == OXS_OK) {
            oxs_setopt(s, OXS_OPT_NONBLOCKING, 1);
            oxs_recv(s, buf, sizeof buf, 0, &got);   /* fails: WOULD_BLOCK, recorded */
            (void)oxs_last_error();
            oxs_close(s);
        }
        oxs_close(s);                                 /* fails: BAD_HANDLE, recorded */
        (void)oxs_last_error();
        calls++;
    }
    __atomic_store_n(&sig_stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    signal(SIGUSR1, SIG_IGN);
    printf("  signal_wake: %ld loops, %ld signals\n", calls, (long)sig_count);
    CHECK("§14 signals were handled during the calls", sig_count > 10);
    CHECK("§14 oxs_poller_wake from a handler: OK on a live poller, BAD_HANDLE on a closed one", !sig_bad);
    CHECK_OK("§14 the woken poller's wait returns at once", oxs_poller_wait(sig_poller, ev, 4, 5000, &n));
    CHECK_INT("§14 ... with no events", n, 0);
    CHECK_OK("§14 the library still works", oxs_poller_close(sig_poller));
}

/* ---- main ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    void (*fn)(void);
} sections[] = {
    {"unix_backlog_dial", unix_backlog_dial},
    {"unix_backlog_connect", unix_backlog_connect},
    {"close_wakes", close_wakes},
    {"poller_close", poller_close},
    {"from_fd_race", from_fd_race},
    {"fork_linger", fork_linger},
    {"connect_nonblock", connect_nonblock},
    {"unix_dot_slash", unix_dot_slash},
    {"signal_wake", signal_wake},
};

int main(int argc, char **argv)
{
    size_t i;
    int ran = 0;
    enter_scratch(argc, argv);
    for (i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        if (argc > 2 && strcmp(argv[2], sections[i].name) != 0)
            continue;
        printf("== %s\n", sections[i].name);
        sections[i].fn();
        ran++;
    }
    if (!ran) {
        printf("unknown section %s\n", argv[2]);
        return 2;
    }
    return CHECK_SUMMARY("hard_defects");
}

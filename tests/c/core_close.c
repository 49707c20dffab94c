/*
 * core_close.c - contract §3 "Close": oxs_close while another thread is blocked in
 * read, accept (TCP and Unix), recv_from (UDP and Unix datagram), write on a full
 * send buffer, and read_exact. The close returns OXS_OK at once, the blocked call
 * returns OXS_ERR_CLOSED promptly, the peer sees the end of the stream, and the
 * descriptor is closed only once the call has left (never reused under it).
 * Usage: core_close [scratch-folder]
 */
#include <sys/un.h>

#include "core_util.h"

static char rbuf[1 << 16];

/* Starts c (already set up), waits until it blocks, closes its handle, and checks
 * what the contract promises. `what` names the blocked call. */
static void close_while_blocked(bg_call *c, const char *what, int fd)
{
    char rule[160];
    int64_t t0, t1;
    oxs_status st;
    int done;

    bg_start(c);
    snprintf(rule, sizeof rule, "§3 close while blocked in %s: the call is blocked", what);
    CHECK(rule, wait_thread_blocked(c->tid));
    CHECK(rule, !__atomic_load_n(&c->done, __ATOMIC_SEQ_CST));

    t0 = check_now_ms();
    st = oxs_close(c->s);
    t1 = check_now_ms();
    snprintf(rule, sizeof rule, "§3 close while blocked in %s returns OXS_OK", what);
    CHECK_ST(rule, st, OXS_OK);
    snprintf(rule, sizeof rule, "§3 close while blocked in %s returns at once (<1 s)", what);
    CHECK(rule, t1 - t0 < 1000 * slow_factor());

    done = bg_wait(c, 5000 * (int)slow_factor());
    snprintf(rule, sizeof rule, "§3 the call blocked in %s returns (bound 5 s)", what);
    if (!CHECK(rule, done)) {
        printf("  the blocked %s never returned: giving up on it\n", what);
        return;
    }
    snprintf(rule, sizeof rule, "§3 the call blocked in %s returns OXS_ERR_CLOSED", what);
    CHECK_ST(rule, c->st, OXS_ERR_CLOSED);
    snprintf(rule, sizeof rule, "§3 the call blocked in %s returns promptly (<1 s)", what);
    CHECK(rule, c->done_ms - t0 < 1000 * slow_factor());
    snprintf(rule, sizeof rule, "§3 after %s left, the handle is BAD_HANDLE", what);
    CHECK_ST(rule, oxs_close(c->s), OXS_ERR_BAD_HANDLE);
    if (fd >= 0) {
        snprintf(rule, sizeof rule,
                 "§3 the last call to leave (%s) closes the descriptor", what);
        CHECK(rule, fcntl(fd, F_GETFD) == -1 && errno == EBADF);
    }
}

static void tcp_read(void)
{
    oxs_socket c, s;
    bg_call b;
    size_t n = 99;
    int fd;
    tcp_pair(0, &c, &s);
    fd = fd_of(c);
    memset(&b, 0, sizeof b);
    b.fn = bg_read;
    b.s = c;
    b.buf = rbuf;
    b.len = sizeof rbuf;
    close_while_blocked(&b, "oxs_read (TCP)", fd);
    CHECK_OK("§3 peer read timeout", oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000));
    CHECK_OK("§3 the peer sees the end of the stream", oxs_read(s, rbuf, sizeof rbuf, &n));
    CHECK_INT("§3 the peer reads 0 (EOF)", n, 0);
    oxs_close(s);
}

static void unix_read_exact(void)
{
    oxs_socket p[2];
    bg_call b;
    size_t n = 99;
    int fd;
    REQUIRE_OK("§6 socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    CHECK_OK("§6 write 3 bytes", oxs_write(p[1], "abc", 3, &n));
    fd = fd_of(p[0]);
    memset(&b, 0, sizeof b);
    b.fn = bg_read_exact;
    b.s = p[0];
    b.buf = rbuf;
    b.len = 10;
    close_while_blocked(&b, "oxs_read_exact (Unix stream)", fd);
    CHECK_INT("§6 read_exact's count is the bytes moved before the close", b.n, 3);
    CHECK_OK("§3 peer read timeout", oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 3000));
    CHECK_OK("§3 the peer sees the end of the stream", oxs_read(p[1], rbuf, sizeof rbuf, &n));
    CHECK_INT("§3 the peer reads 0 (EOF)", n, 0);
    oxs_close(p[1]);
}

static void tcp_accept(void)
{
    bg_call b;
    oxs_socket c = 0;
    char addr[OXS_ADDR_STRLEN];
    oxs_status st;
    int fd;
    memset(&b, 0, sizeof b);
    b.s = tcp_listener(0, addr);
    b.fn = bg_accept;
    fd = fd_of(b.s);
    close_while_blocked(&b, "oxs_accept (TCP)", fd);
    CHECK_INT("§1 the failed accept's handle is OXS_INVALID", b.s2, OXS_INVALID);
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    st = oxs_connect(c, addr);
    CHECK_ST("§3 the closed listener no longer accepts", st, OXS_ERR_CONNECTION_REFUSED);
    oxs_close(c);
}

static void unix_accept(void)
{
    bg_call b;
    struct stat sb;
    memset(&b, 0, sizeof b);
    unlink("acc.sock");
    REQUIRE_OK("§8 listen_on unix", oxs_listen_on("unix://acc.sock", &b.s));
    b.fn = bg_accept;
    close_while_blocked(&b, "oxs_accept (Unix listener)", fd_of(b.s));
    CHECK("§8 the listener's file is removed once the last call has left",
          stat("acc.sock", &sb) != 0 && errno == ENOENT);
}

static void udp_recv_from(void)
{
    bg_call b;
    memset(&b, 0, sizeof b);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &b.s));
    REQUIRE_OK("§4 bind", oxs_bind(b.s, "127.0.0.1:0"));
    b.fn = bg_recv_from;
    b.buf = rbuf;
    b.len = sizeof rbuf;
    close_while_blocked(&b, "oxs_recv_from (unconnected UDP)", fd_of(b.s));
    CHECK_INT("§1 the failed recv_from's count is 0", b.n, 0);
    CHECK_INT("§1 the failed recv_from's address has len 0", b.addr.len, 0);
}

static void unix_dgram_recv_from(void)
{
    bg_call b;
    memset(&b, 0, sizeof b);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &b.s));
    unlink("dg.sock");
    REQUIRE_OK("§4 bind", oxs_bind(b.s, "dg.sock"));
    b.fn = bg_recv_from;
    b.buf = rbuf;
    b.len = sizeof rbuf;
    close_while_blocked(&b, "oxs_recv_from (Unix datagram)", fd_of(b.s));
    unlink("dg.sock");
}

/* Fills the send buffer of c (the peer s does not read), then blocks a write. */
static void write_full_buffer(int tcp)
{
    oxs_socket c, s;
    oxs_socket p[2];
    bg_call b;
    size_t n, total = 0;
    int i;
    int64_t end;
    static char chunk[65536];
    if (tcp) {
        tcp_pair(0, &c, &s);
    } else {
        REQUIRE_OK("§6 socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
        c = p[0];
        s = p[1];
    }
    oxs_setopt(c, OXS_OPT_SEND_BUFFER, 4096);
    oxs_setopt(s, OXS_OPT_RECV_BUFFER, 4096);
    for (i = 0; i < 10000; i++) {
        oxs_status st = oxs_send(c, chunk, sizeof chunk, OXS_MSG_DONTWAIT, &n);
        if (st == OXS_ERR_WOULD_BLOCK)
            break;
        if (!CHECK_OK("§6 filling the send buffer", st))
            break;
        total += n;
    }
    CHECK("§6 DONTWAIT send stops with WOULD_BLOCK on a full buffer", i < 10000);
    memset(&b, 0, sizeof b);
    b.fn = bg_write;
    b.s = c;
    b.buf = chunk;
    b.len = sizeof chunk;
    close_while_blocked(&b, tcp ? "oxs_write (TCP, full send buffer)"
                                : "oxs_write (Unix stream, full send buffer)",
                        -1);
    CHECK_INT("§1 the failed write's count is 0", b.n, 0);
    /* The peer drains what was sent, then sees the end (or a reset) within the bound. */
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 2000);
    end = check_now_ms() + 10000 * slow_factor();
    for (;;) {
        oxs_status st = oxs_read(s, chunk, sizeof chunk, &n);
        if (st != OXS_OK || n == 0 || check_now_ms() > end) {
            CHECK("§3 the peer sees the end of the stream after the data",
                  (st == OXS_OK && n == 0) || st == OXS_ERR_CONNECTION_RESET);
            break;
        }
    }
    oxs_close(s);
}

/* Stress: the descriptor number is not reused under a running call. Right after each
 * close, fresh sockets are opened (which would take a freed number) and fed data; the
 * blocked read must still end with OXS_ERR_CLOSED, never with their data. */
static void no_reuse_stress(void)
{
    int round, wrong = 0, stuck = 0;
    for (round = 0; round < 20; round++) {
        oxs_socket p[2], q[2];
        bg_call b;
        size_t n;
        int fds[4], k;
        if (oxs_socketpair(OXS_TYPE_STREAM, p) != OXS_OK) {
            CHECK("§6 socketpair", 0);
            return;
        }
        memset(&b, 0, sizeof b);
        b.fn = bg_read;
        b.s = p[0];
        b.buf = rbuf;
        b.len = sizeof rbuf;
        bg_start(&b);
        wait_thread_blocked(b.tid);
        oxs_close(p[0]);
        for (k = 0; k < 4; k++)
            fds[k] = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (oxs_socketpair(OXS_TYPE_STREAM, q) == OXS_OK) {
            oxs_write(q[1], "intruder", 8, &n);
            oxs_write(q[0], "intruder", 8, &n);
        }
        for (k = 0; k < 4; k++)
            if (fds[k] >= 0)
                (void)!write(fds[k], "x", 1);
        if (!bg_wait(&b, 5000 * (int)slow_factor())) {
            stuck++;
            break;
        }
        if (b.st != OXS_ERR_CLOSED)
            wrong++;
        for (k = 0; k < 4; k++)
            if (fds[k] >= 0)
                close(fds[k]);
        oxs_close(q[0]);
        oxs_close(q[1]);
        oxs_close(p[1]);
    }
    CHECK_INT("§3 a descriptor number is never reused under a running call (blocked calls "
              "returning something other than CLOSED)",
              wrong, 0);
    CHECK_INT("§3 blocked calls that never returned after close", stuck, 0);
}

/* Two calls in flight on one handle (a read and an accept cannot share, so: two
 * readers on a UDP socket); both return CLOSED. */
static void two_in_flight(void)
{
    bg_call a, b;
    oxs_socket s;
    int64_t t0;
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_DGRAM, 0, &s));
    REQUIRE_OK("§4 bind", oxs_bind(s, "[::1]:0"));
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.fn = b.fn = bg_recv_from;
    a.s = b.s = s;
    a.buf = rbuf;
    b.buf = rbuf + 100;
    a.len = b.len = 50;
    bg_start(&a);
    bg_start(&b);
    CHECK("§3 two readers blocked", wait_thread_blocked(a.tid) && wait_thread_blocked(b.tid));
    t0 = check_now_ms();
    CHECK_OK("§3 close with two calls in flight", oxs_close(s));
    CHECK("§3 close returns at once", check_now_ms() - t0 < 1000 * slow_factor());
    if (CHECK("§3 both calls return", bg_wait(&a, 5000 * (int)slow_factor()) &&
                                          bg_wait(&b, 5000 * (int)slow_factor()))) {
        CHECK_ST("§3 first call returns CLOSED", a.st, OXS_ERR_CLOSED);
        CHECK_ST("§3 second call returns CLOSED", b.st, OXS_ERR_CLOSED);
    }
}

int main(int argc, char **argv)
{
    enter_scratch(argc, argv);
    tcp_read();
    unix_read_exact();
    tcp_accept();
    unix_accept();
    udp_recv_from();
    unix_dgram_recv_from();
    write_full_buffer(1);
    write_full_buffer(0);
    two_in_flight();
    no_reuse_stress();
    return CHECK_SUMMARY("core_close");
}

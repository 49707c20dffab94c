/* The hostile-input suite (issue 5, item 1; API.md §1-§10): every exported
 * function called with NULL for each pointer, handle 0, closed handles, forged
 * handles, a poller where a socket belongs and the reverse, enum parameters at -1,
 * 0, 99, INT32_MIN and INT32_MAX, lengths 0, SIZE_MAX and PTRDIFF_MAX+1 with small
 * buffers, non-UTF-8 and 1 MB strings, Unix paths of 107, 108 and more bytes, ports
 * 0, 65535, 65536 and 99999, and bad oxs_addr values (len 0, 129, family mismatch).
 * Each call must return its documented status (one of the §2 codes) and leave a
 * fresh, non-empty oxs_last_error() when it fails; nothing may crash. Sockets used
 * for data are non-blocking, so a wrong answer shows as a status, never a hang.
 *
 * §14's functions (host text, unmap, resolve_host, foreign descriptors) get the same,
 * and so do the §13 message functions (issue 14).
 *
 * Usage: hostile SCRATCH_DIR. Prints "hostile: N calls tried, M failures". */
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

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static int g_calls, g_fail, g_sentinel_named;
#define SENTINEL "SENTINEL-not-an-address"

/* Records a known failure whose message names its argument, so that the next
 * call's message can be told apart from a stale one. */
static void sentinel(void)
{
    oxs_addr a;
    oxs_addr_parse(SENTINEL, &a);
}

static int known_status(oxs_status st) { return (st <= 0 && st >= -24) || st == -99 || st == -100; }

static int fresh_message(void)
{
    const char *m = oxs_last_error();
    if (m == NULL || m[0] == 0)
        return 0;
    return !(g_sentinel_named && strstr(m, SENTINEL) != NULL);
}

static void fail_line(int line, const char *expr, const char *why, oxs_status st, oxs_status w1, oxs_status w2)
{
    const char *m = oxs_last_error();
    g_fail++;
    printf("FAIL line %d: %.300s -> %d (%s), wanted %d (%s)", line, expr, (int)st, oxs_strerror(st), (int)w1,
           oxs_strerror(w1));
    if (w2 != w1)
        printf(" or %d (%s)", (int)w2, oxs_strerror(w2));
    printf(": %s; last_error \"%.200s%s\"\n", why, m ? m : "(NULL)", m && strlen(m) > 200 ? "..." : "");
    fflush(stdout);
}

static const char *g_last_expr = "";

static int hk(oxs_status st, oxs_status w1, oxs_status w2, const char *expr, int line)
{
    g_calls++;
    g_last_expr = expr;
    if (!known_status(st))
        fail_line(line, expr, "not a documented status", st, w1, w2);
    else if (st != w1 && st != w2)
        fail_line(line, expr, "wrong status", st, w1, w2);
    else if (st != OXS_OK && !fresh_message())
        fail_line(line, expr, "no fresh, non-empty oxs_last_error()", st, w1, w2);
    else
        return 1;
    return 0;
}

static int hk_notok(oxs_status st, const char *expr, int line)
{
    g_calls++;
    g_last_expr = expr;
    if (!known_status(st))
        fail_line(line, expr, "not a documented status", st, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_INVALID_ARGUMENT);
    else if (st == OXS_OK)
        fail_line(line, expr, "succeeded; wanted a failure", st, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_ADDRESS);
    else if (!fresh_message())
        fail_line(line, expr, "no fresh, non-empty oxs_last_error()", st, st, st);
    else
        return 1;
    return 0;
}

static void out_check(int ok, const char *expr, int line)
{
    if (ok)
        return;
    g_fail++;
    printf("FAIL line %d: out-parameter rule (§1) broken after %.200s: %s\n", line, g_last_expr, expr);
    fflush(stdout);
}

#define H(call, want) (sentinel(), hk((call), (want), (want), #call, __LINE__))
#define H2(call, w1, w2) (sentinel(), hk((call), (w1), (w2), #call, __LINE__))
#define HNOTOK(call) (sentinel(), hk_notok((call), #call, __LINE__))
#define OUT(cond) out_check((cond) != 0, #cond, __LINE__)
/* a plain value check on a function that cannot fail */
#define VAL(cond) (g_calls++, out_check((cond) != 0, #cond, __LINE__))

#define EINVAL_ OXS_ERR_INVALID_ARGUMENT
#define BADH OXS_ERR_BAD_HANDLE
#define EADDR OXS_ERR_ADDRESS

static const int32_t BAD_ENUMS[] = {-1, 0, 99, INT32_MIN, INT32_MAX};
#define NBAD_ENUMS 5
static const size_t HUGE_LENS[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1};

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* live handles, so that a forged value never names one of them */
static uint64_t g_live[64];
static int g_nlive;
static void live(uint64_t h) { g_live[g_nlive++] = h; }
static int is_live(uint64_t h)
{
    for (int i = 0; i < g_nlive; i++)
        if (g_live[i] == h)
            return 1;
    return 0;
}

static oxs_socket c, s, u, l, fresh, ux[2], dead;
static oxs_poller p, deadp;
static oxs_addr good4, good6;
static char l_addr[OXS_ADDR_STRLEN];
static const char *g_dir;
static int g_pipe[2] = {-1, -1};

static oxs_socket open_nb(int32_t d, int32_t t)
{
    oxs_socket x = OXS_INVALID;
    SETUP(oxs_socket_open(d, t, 0, &x));
    SETUP(oxs_setopt(x, OXS_OPT_NONBLOCKING, 1));
    live(x);
    return x;
}

static void setup(void)
{
    tcp_pair(&c, &s);
    live(c);
    live(s);
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    SETUP(oxs_setopt(s, OXS_OPT_NONBLOCKING, 1));
    u = open_nb(OXS_DOMAIN_INET, OXS_TYPE_DGRAM);
    SETUP(oxs_bind(u, "127.0.0.1:0"));
    l = tcp_listener(l_addr, sizeof l_addr);
    live(l);
    SETUP(oxs_setopt(l, OXS_OPT_NONBLOCKING, 1));
    fresh = open_nb(OXS_DOMAIN_INET, OXS_TYPE_STREAM);
    SETUP(oxs_socketpair(OXS_TYPE_STREAM, ux));
    live(ux[0]);
    live(ux[1]);
    SETUP(oxs_setopt(ux[0], OXS_OPT_NONBLOCKING, 1));
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &dead));
    SETUP(oxs_close(dead));
    SETUP(oxs_poller_open(&p));
    live(p);
    SETUP(oxs_poller_open(&deadp));
    SETUP(oxs_poller_close(deadp));
    SETUP(oxs_addr_parse("127.0.0.1:9", &good4));
    SETUP(oxs_addr_parse("[::1]:9", &good6));
    sentinel();
    g_sentinel_named = strstr(oxs_last_error(), SENTINEL) != NULL;
    if (!g_sentinel_named)
        printf("note: oxs_addr_parse's message does not quote its argument; only non-empty messages are checked\n");
}

/* §13 functions with a handle that is not a live socket: BAD_HANDLE, counts 0. */
static void messages_bad_handle(oxs_socket h)
{
    char buf[8] = "abcdefg";
    size_t n = 77, nf = 77;
    int32_t fds[2] = {0, 1};
    oxs_iovec iov = {buf, 4};
    oxs_datagram d[1];
    uint32_t len = 4;
    int v = 1;
    memset(d, 0, sizeof d);
    d[0].buf = buf;
    d[0].len = 4;
    H(oxs_writev(h, &iov, 1, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_readv(h, &iov, 1, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_send_fds(h, buf, 4, fds, 1, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_recv_fds(h, buf, 4, &n, fds, 2, &nf), BADH);
    OUT(n == 0 && nf == 0);
    n = 77;
    H(oxs_send_batch(h, d, 1, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_recv_batch(h, d, 1, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_sendfile(h, 0, 0, 4, &n), BADH);
    OUT(n == 0);
    H(oxs_setsockopt(h, SOL_SOCKET, SO_RCVBUF, &v, sizeof v), BADH);
    H(oxs_getsockopt(h, SOL_SOCKET, SO_RCVBUF, &v, &len), BADH);
    OUT(len == 0);
}

/* Every socket function with a handle that is not a live socket: BAD_HANDLE. */
static void bad_socket_handle(oxs_socket h)
{
    char buf[8] = "abcdefg";
    size_t n = 77;
    oxs_socket out = 77;
    oxs_addr a;
    int64_t v = 55;
    int32_t fd = 77;
    H(oxs_bind(h, "127.0.0.1:0"), BADH);
    H(oxs_listen(h, 1), BADH);
    H(oxs_accept(h, &out, NULL), BADH);
    OUT(out == OXS_INVALID);
    H(oxs_connect(h, "127.0.0.1:9"), BADH);
    n = 77;
    H(oxs_read(h, buf, sizeof buf, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_write(h, buf, sizeof buf, &n), BADH);
    OUT(n == 0);
    H(oxs_bind_addr(h, &good4), BADH);
    H(oxs_connect_addr(h, &good4), BADH);
    a.len = 5;
    H(oxs_local_addr(h, &a), BADH);
    OUT(a.len == 0);
    a.len = 5;
    H(oxs_peer_addr(h, &a), BADH);
    OUT(a.len == 0);
    n = 77;
    H(oxs_send(h, buf, sizeof buf, 0, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_recv(h, buf, sizeof buf, 0, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_send_to(h, buf, sizeof buf, &good4, &n), BADH);
    OUT(n == 0);
    n = 77;
    a.len = 5;
    H(oxs_recv_from(h, buf, sizeof buf, &n, &a), BADH);
    OUT(n == 0 && a.len == 0);
    n = 77;
    H(oxs_write_all(h, buf, sizeof buf, &n), BADH);
    OUT(n == 0);
    n = 77;
    H(oxs_read_exact(h, buf, sizeof buf, &n), BADH);
    OUT(n == 0);
    H(oxs_shutdown(h, OXS_SHUT_BOTH), BADH);
    H(oxs_setopt(h, OXS_OPT_TTL, 64), BADH);
    H(oxs_getopt(h, OXS_OPT_TTL, &v), BADH);
    OUT(v == 55);
    H(oxs_join_multicast(h, "239.1.2.3", "lo"), BADH);
    H(oxs_leave_multicast(h, "239.1.2.3", "lo"), BADH);
    H(oxs_poller_add(p, h, OXS_POLL_IN, 1), BADH);
    H(oxs_poller_modify(p, h, OXS_POLL_IN, 1), BADH);
    H(oxs_poller_remove(p, h), BADH);
    H(oxs_fd(h, &fd), BADH);
    OUT(fd == -1);
    fd = 77;
    H(oxs_into_fd(h, &fd), BADH);
    OUT(fd == -1);
    messages_bad_handle(h);
    H(oxs_close(h), BADH);
    oxs_pollitem it = {h, OXS_POLL_IN, 0};
    n = 77;
    if (H(oxs_poll(&it, 1, 0, &n), OXS_OK))
        OUT(it.revents == OXS_POLL_INVALID && n == 1);
}

static void bad_poller_handle(oxs_poller h)
{
    oxs_event ev[2];
    size_t n = 77;
    H(oxs_poller_add(h, s, OXS_POLL_IN, 1), BADH);
    H(oxs_poller_modify(h, s, OXS_POLL_IN, 1), BADH);
    H(oxs_poller_remove(h, s), BADH);
    H(oxs_poller_wait(h, ev, 2, 0, &n), BADH);
    OUT(n == 0);
    H(oxs_poller_wake(h), BADH);
    H(oxs_poller_add_fd(h, g_pipe[0], OXS_POLL_IN, 1), BADH);
    H(oxs_poller_modify_fd(h, g_pipe[0], OXS_POLL_IN, 1), BADH);
    H(oxs_poller_remove_fd(h, g_pipe[0]), BADH);
    H(oxs_poller_close(h), BADH);
}

static void handles(void)
{
    oxs_socket bad[16];
    int nb = 0;
    bad[nb++] = OXS_INVALID;
    bad[nb++] = dead;
    bad[nb++] = (oxs_socket)p;      /* a poller where a socket belongs */
    bad[nb++] = (oxs_socket)deadp;  /* a closed poller */
    bad[nb++] = UINT64_MAX;
    bad[nb++] = dead ^ (1ULL << 40); /* a neighbouring generation or slot */
    while (nb < 14) {
        uint64_t r = rnd();
        if (r != 0 && !is_live(r))
            bad[nb++] = r;
    }
    for (int i = 0; i < nb; i++)
        if (!is_live(bad[i]))
            bad_socket_handle(bad[i]);
    oxs_poller badp[12];
    int np = 0;
    badp[np++] = OXS_INVALID;
    badp[np++] = deadp;
    badp[np++] = (oxs_poller)s; /* a socket where a poller belongs */
    badp[np++] = (oxs_poller)dead;
    badp[np++] = UINT64_MAX;
    while (np < 10) {
        uint64_t r = rnd();
        if (r != 0 && !is_live(r))
            badp[np++] = r;
    }
    for (int i = 0; i < np; i++)
        if (!is_live(badp[i]))
            bad_poller_handle(badp[i]);
    /* the live ones still work */
    int64_t v = 0;
    H(oxs_getopt(s, OXS_OPT_TYPE, &v), OXS_OK);
    H(oxs_poller_wake(p), OXS_OK);
}

static void null_pointers(void)
{
    char buf[8] = "abcdefg";
    size_t n = 77, len = 77;
    oxs_socket out = 77;
    oxs_addr a;
    char text[64];
    H(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, NULL), EINVAL_);
    H(oxs_bind(fresh, NULL), EINVAL_);
    H(oxs_accept(l, NULL, NULL), EINVAL_);
    H(oxs_connect(fresh, NULL), EINVAL_);
    H(oxs_read(c, NULL, 4, &n), EINVAL_);
    OUT(n == 0);
    H(oxs_read(c, buf, 4, NULL), EINVAL_);
    H(oxs_write(c, NULL, 4, &n), EINVAL_);
    H(oxs_write(c, buf, 4, NULL), EINVAL_);
    n = 77;
    if (H(oxs_read(c, NULL, 0, &n), OXS_OK))
        OUT(n == 0);
    n = 77;
    if (H(oxs_write(c, NULL, 0, &n), OXS_OK))
        OUT(n == 0);
    H(oxs_addr_parse(NULL, &a), EINVAL_);
    H(oxs_addr_parse("1.2.3.4:5", NULL), EINVAL_);
    strcpy(text, "junk");
    H(oxs_addr_format(NULL, text, sizeof text, &len), EINVAL_);
    OUT(text[0] == 0 && len == 0);
    H(oxs_addr_format(&good4, NULL, 64, &len), EINVAL_);
    H(oxs_addr_format(&good4, text, sizeof text, NULL), EINVAL_);
    len = 0;
    if (H(oxs_addr_format(&good4, NULL, 0, &len), OXS_ERR_BUFFER_TOO_SMALL))
        OUT(len == strlen("127.0.0.1:9"));
    VAL(oxs_addr_domain(NULL) == 0);
    VAL(oxs_addr_port(NULL) == -1);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    H(oxs_addr_from_sockaddr(NULL, sizeof sin, &a), EINVAL_);
    H(oxs_addr_from_sockaddr(&sin, sizeof sin, NULL), EINVAL_);
    oxs_addr many[4];
    H(oxs_resolve(NULL, 0, many, 4, &n), EINVAL_);
    H(oxs_resolve("127.0.0.1:80", 0, NULL, 4, &n), EINVAL_);
    H(oxs_resolve("127.0.0.1:80", 0, many, 4, NULL), EINVAL_);
    n = 0;
    /* cap 0 asks for the count alone: one address found, room for none */
    if (H2(oxs_resolve("127.0.0.1:80", 0, NULL, 0, &n), OXS_OK, OXS_ERR_BUFFER_TOO_SMALL))
        OUT(n == 1);
    H(oxs_bind_addr(fresh, NULL), EINVAL_);
    H(oxs_connect_addr(fresh, NULL), EINVAL_);
    H(oxs_local_addr(s, NULL), EINVAL_);
    H(oxs_peer_addr(s, NULL), EINVAL_);
    H(oxs_send(c, NULL, 4, 0, &n), EINVAL_);
    H(oxs_send(c, buf, 4, 0, NULL), EINVAL_);
    H(oxs_recv(c, NULL, 4, 0, &n), EINVAL_);
    H(oxs_recv(c, buf, 4, 0, NULL), EINVAL_);
    H(oxs_send_to(u, NULL, 4, &good4, &n), EINVAL_);
    H(oxs_send_to(u, buf, 4, NULL, &n), EINVAL_);
    H(oxs_send_to(u, buf, 4, &good4, NULL), EINVAL_);
    H(oxs_recv_from(u, NULL, 4, &n, &a), EINVAL_);
    H(oxs_recv_from(u, buf, 4, NULL, &a), EINVAL_);
    H(oxs_recv_from(u, buf, 4, &n, NULL), OXS_ERR_WOULD_BLOCK); /* from may be NULL */
    H(oxs_write_all(c, NULL, 4, &n), EINVAL_);
    H(oxs_read_exact(c, NULL, 4, &n), EINVAL_);
    H(oxs_write_all(c, "", 0, NULL), OXS_OK); /* nwritten may be NULL */
    H(oxs_read_exact(c, NULL, 0, NULL), OXS_OK);
    H(oxs_socketpair(OXS_TYPE_STREAM, NULL), EINVAL_);
    H(oxs_getopt(s, OXS_OPT_TTL, NULL), EINVAL_);
    H(oxs_join_multicast(u, NULL, "lo"), EINVAL_);
    H(oxs_leave_multicast(u, NULL, "lo"), EINVAL_);
    out = 77;
    H(oxs_dial(NULL, 0, &out), EINVAL_);
    OUT(out == OXS_INVALID);
    H(oxs_dial("tcp://127.0.0.1:9", 0, NULL), EINVAL_);
    H(oxs_listen_on(NULL, &out), EINVAL_);
    H(oxs_listen_on("tcp://127.0.0.1:0", NULL), EINVAL_);
    oxs_pollitem it = {s, OXS_POLL_IN, 0};
    H(oxs_poll(NULL, 1, 0, &n), EINVAL_);
    H(oxs_poll(&it, 1, 0, NULL), EINVAL_);
    H(oxs_poller_open(NULL), EINVAL_);
    oxs_event ev[2];
    H(oxs_poller_wait(p, NULL, 2, 0, &n), EINVAL_);
    H(oxs_poller_wait(p, ev, 2, 0, NULL), EINVAL_);
    H(oxs_fd(s, NULL), EINVAL_);
    H(oxs_into_fd(s, NULL), EINVAL_);
    int64_t v = 0;
    H(oxs_getopt(s, OXS_OPT_TYPE, &v), OXS_OK); /* into_fd(NULL) left the handle alone */
    int raw = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    H(oxs_from_fd(raw, NULL), EINVAL_);
    OUT(fcntl(raw, F_GETFD) != -1); /* still the caller's, still open */
    close(raw);
}

static void enums(void)
{
    oxs_socket out, pair[2];
    size_t n;
    char buf[8] = "abcdefg";
    for (int i = 0; i < NBAD_ENUMS; i++) {
        int32_t e = BAD_ENUMS[i];
        out = 77;
        H(oxs_socket_open(e, OXS_TYPE_STREAM, 0, &out), EINVAL_);
        OUT(out == OXS_INVALID);
        out = 77;
        H(oxs_socket_open(OXS_DOMAIN_INET, e, 0, &out), EINVAL_);
        OUT(out == OXS_INVALID);
        H(oxs_shutdown(c, e == 0 ? 3 : e), EINVAL_);
        H(oxs_setopt(s, e, 1), EINVAL_);
        int64_t v = 5;
        H(oxs_getopt(s, e, &v), EINVAL_);
        OUT(v == 5);
        pair[0] = pair[1] = 77;
        H(oxs_socketpair(e, pair), EINVAL_);
        OUT(pair[0] == OXS_INVALID && pair[1] == OXS_INVALID);
        if (e != 0) {
            n = 77;
            H(oxs_send(c, buf, 1, e, &n), EINVAL_);
            OUT(n == 0);
            n = 77;
            H(oxs_recv(c, buf, 1, e, &n), EINVAL_);
            OUT(n == 0);
            oxs_addr many[2];
            H(oxs_resolve("127.0.0.1:80", e, many, 2, &n), EINVAL_);
            oxs_pollitem it = {s, e, 0};
            H(oxs_poll(&it, 1, 0, &n), EINVAL_);
            H(oxs_poller_add(p, s, e, 1), EINVAL_);
        }
        /* backlog: every value is valid (<= 0 means the system maximum) */
        oxs_socket b = OXS_INVALID;
        SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &b));
        SETUP(oxs_bind(b, "127.0.0.1:0"));
        H(oxs_listen(b, e), OXS_OK);
        oxs_close(b);
        /* from_fd with descriptors that are not open */
        if (e != 0 && fcntl(e, F_GETFD) == -1) {
            out = 77;
            H(oxs_from_fd(e, &out), EINVAL_);
            OUT(out == OXS_INVALID);
        }
    }
    H(oxs_shutdown(c, 3), EINVAL_);
    /* undocumented flag bits */
    H(oxs_send(c, buf, 1, 0x4, &n), EINVAL_);
    H(oxs_recv(c, buf, 1, 0x20, &n), EINVAL_);
    /* documented values the socket cannot do */
    out = 77;
    H(oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_RAW, 0, &out), OXS_ERR_UNSUPPORTED);
    OUT(out == OXS_INVALID);
    H(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_SEQPACKET, 0, &out), OXS_ERR_UNSUPPORTED);
    H(oxs_socketpair(OXS_TYPE_RAW, pair), OXS_ERR_UNSUPPORTED);
    H(oxs_send(u, buf, 1, OXS_MSG_OOB, &n), OXS_ERR_UNSUPPORTED);
    /* protocols */
    H(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, -1, &out), EINVAL_);
    H(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, INT32_MIN, &out), EINVAL_);
    H2(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 99, &out), EINVAL_, OXS_ERR_UNSUPPORTED);
    H2(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, INT32_MAX, &out), EINVAL_, OXS_ERR_UNSUPPORTED);
    /* wait timeouts below -1 */
    oxs_pollitem it = {s, OXS_POLL_IN, 0};
    oxs_event ev[2];
    int32_t below[] = {-2, -1000, INT32_MIN};
    for (int i = 0; i < 3; i++) {
        H(oxs_poll(&it, 1, below[i], &n), EINVAL_);
        H(oxs_poller_wait(p, ev, 2, below[i], &n), EINVAL_);
    }
    oxs_pollitem w = {c, OXS_POLL_OUT, 0};
    H(oxs_poll(&w, 1, INT32_MAX, &n), OXS_OK); /* ready at once */
    /* dial timeouts: every value is valid (<= 0 means none); the port is closed */
    int32_t dt[] = {-1, 0, INT32_MIN, INT32_MAX, 99};
    oxs_socket gone = OXS_INVALID;
    char gone_addr[OXS_ADDR_STRLEN], ep[OXS_ADDR_STRLEN + 16];
    gone = tcp_listener(gone_addr, sizeof gone_addr);
    oxs_close(gone);
    snprintf(ep, sizeof ep, "tcp://%s", gone_addr);
    for (int i = 0; i < 5; i++) {
        out = 77;
        H(oxs_dial(ep, dt[i], &out), OXS_ERR_CONNECTION_REFUSED);
        OUT(out == OXS_INVALID);
    }
    /* strerror */
    int32_t codes[] = {1, 99, -27, -98, -101, INT32_MIN, INT32_MAX};
    for (int i = 0; i < 7; i++) {
        const char *t = oxs_strerror(codes[i]);
        VAL(t != NULL && strcmp(t, "unknown status") == 0);
    }
    for (int32_t k = -26; k <= 0; k++)
        VAL(oxs_strerror(k) != NULL && oxs_strerror(k)[0] != 0 && strcmp(oxs_strerror(k), "unknown status") != 0);
    VAL(strcmp(oxs_strerror(-99), "unknown status") != 0 && strcmp(oxs_strerror(-100), "unknown status") != 0);
}

/* Extreme option values: never a silent truncation (2^32 + 64 must not become 64). */
static void option_values(void)
{
    oxs_socket t = OXS_INVALID;
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &t));
    SETUP(oxs_setopt(t, OXS_OPT_TTL, 7));
    for (int32_t o = OXS_OPT_REUSEADDR; o <= OXS_OPT_PEER_PID; o++) {
        int timeout = o == OXS_OPT_READ_TIMEOUT_MS || o == OXS_OPT_WRITE_TIMEOUT_MS || o == OXS_OPT_CONNECT_TIMEOUT_MS;
        int read_only = o >= OXS_OPT_ERROR;
        oxs_status other = read_only ? OXS_ERR_UNSUPPORTED : EINVAL_;
        if (o == OXS_OPT_V6ONLY || o == OXS_OPT_MULTICAST_TTL || o == OXS_OPT_MULTICAST_LOOP ||
            o == OXS_OPT_BROADCAST || o >= OXS_OPT_PEER_UID)
            other = OXS_ERR_UNSUPPORTED; /* does not apply to TCP over IPv4: either answer */
        H2(oxs_setopt(t, o, INT64_MIN), EINVAL_, other);
        H2(oxs_setopt(t, o, -1000000), EINVAL_, other);
        if (timeout) {
            H2(oxs_setopt(t, o, INT64_MAX), OXS_OK, EINVAL_);
            continue;
        }
        H2(oxs_setopt(t, o, INT64_MAX), EINVAL_, other);
        H2(oxs_setopt(t, o, ((int64_t)1 << 32) + 64), EINVAL_, other);
        H2(oxs_setopt(t, o, ((int64_t)1 << 31)), EINVAL_, other);
    }
    int64_t v = 0;
    if (H(oxs_getopt(t, OXS_OPT_TTL, &v), OXS_OK))
        OUT(v == 7); /* every refused value left it alone */
    oxs_close(t);
}

static void lengths(void)
{
    char buf[8] = "abcdefg";
    size_t n;
    oxs_addr a;
    for (int i = 0; i < 2; i++) {
        size_t L = HUGE_LENS[i];
        n = 77;
        H(oxs_read(c, buf, L, &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_write(c, buf, L, &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_send(c, buf, L, 0, &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_recv(c, buf, L, 0, &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_send_to(u, buf, L, &good4, &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_recv_from(u, buf, L, &n, &a), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_write_all(c, buf, L, &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_read_exact(c, buf, L, &n), EINVAL_);
        OUT(n == 0);
        char text[16];
        size_t len = 77;
        strcpy(text, "junk");
        H(oxs_addr_format(&good4, text, L, &len), EINVAL_);
        OUT(text[0] == 0 && len == 0);
        oxs_addr many[1];
        H(oxs_resolve("127.0.0.1:80", 0, many, L, &n), EINVAL_);
        oxs_pollitem it = {s, OXS_POLL_IN, 0};
        H(oxs_poll(&it, L, 0, &n), EINVAL_);
        oxs_event ev[1];
        H(oxs_poller_wait(p, ev, L, 0, &n), EINVAL_);
    }
    /* length 0 */
    n = 77;
    if (H(oxs_read(c, buf, 0, &n), OXS_OK))
        OUT(n == 0);
    n = 77;
    if (H(oxs_write(c, buf, 0, &n), OXS_OK))
        OUT(n == 0);
    n = 77;
    if (H(oxs_send(c, NULL, 0, 0, &n), OXS_OK))
        OUT(n == 0);
    n = 77;
    if (H(oxs_write_all(c, NULL, 0, &n), OXS_OK))
        OUT(n == 0);
    n = 77;
    if (H(oxs_read_exact(c, NULL, 0, &n), OXS_OK))
        OUT(n == 0);
    /* addr_format with small buffers */
    char text[4] = "xyz";
    size_t len = 0;
    if (H(oxs_addr_format(&good4, text, 0, &len), OXS_ERR_BUFFER_TOO_SMALL))
        OUT(len == 11 && text[0] == 'x');
    if (H(oxs_addr_format(&good4, text, 1, &len), OXS_ERR_BUFFER_TOO_SMALL))
        OUT(len == 11 && text[0] == 0);
    if (H(oxs_addr_format(&good4, text, sizeof text, &len), OXS_ERR_BUFFER_TOO_SMALL))
        OUT(len == 11 && text[0] == 0);
    /* addr_from_sockaddr lengths (the buffer behind is a whole sockaddr_storage) */
    struct sockaddr_storage sin;
    memset(&sin, 0, sizeof sin);
    sin.ss_family = AF_INET;
    uint32_t lens[] = {0, 1, 129, 4096, UINT32_MAX};
    for (int i = 0; i < 5; i++) {
        a.len = 5;
        H2(oxs_addr_from_sockaddr(&sin, lens[i], &a), EADDR, EINVAL_);
        OUT(a.len == 0);
    }
}

static char *repeat(char ch, size_t n, const char *prefix, const char *suffix)
{
    size_t lp = strlen(prefix), ls = strlen(suffix);
    char *t = malloc(lp + n + ls + 1);
    memcpy(t, prefix, lp);
    memset(t + lp, ch, n);
    memcpy(t + lp + n, suffix, ls + 1);
    return t;
}

static void strings(void)
{
    oxs_addr a;
    oxs_socket out = 77, t = OXS_INVALID, x = OXS_INVALID;
    size_t n;
    oxs_addr many[2];
    const char *nonutf[] = {"\xff\xfe\xfd:80", "127.0.0.1:8\xff", "[::1\xc0]:80", "\xc3\x28/x.sock", "@\xff\xfe",
                            "1\xe2\x82.2.3.4:80"};
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &t));
    SETUP(oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &x));
    for (int i = 0; i < 6; i++) {
        a.len = 5;
        H(oxs_addr_parse(nonutf[i], &a), EADDR);
        OUT(a.len == 0);
        H(oxs_bind(t, nonutf[i]), EADDR);
        H(oxs_connect(t, nonutf[i]), EADDR);
        H(oxs_bind(x, nonutf[i]), EADDR);
        H(oxs_connect(x, nonutf[i]), EADDR);
        H(oxs_resolve(nonutf[i], 0, many, 2, &n), EADDR);
        H(oxs_join_multicast(u, nonutf[i], "lo"), EADDR);
        HNOTOK(oxs_join_multicast(u, "239.1.2.3", nonutf[i]));
    }
    H(oxs_dial("tcp://\xff\xfe:80", 0, &out), EADDR);
    OUT(out == OXS_INVALID);
    H(oxs_dial("unix:///tmp/\xff.sock", 0, &out), EADDR);
    H2(oxs_listen_on("tcp://127.0.0.1:0?\xff=1", &out), EINVAL_, EADDR);
    H(oxs_listen_on("\xff://127.0.0.1:0", &out), EADDR);
    H(oxs_listen_on("tcp://127.0.0.1:0?nodelay=1&nodelay=1", &out), EINVAL_);
    H(oxs_listen_on("tcp://127.0.0.1:0?nodelay=%zz", &out), EINVAL_);
    H(oxs_dial("tcp://127.0.0.1:9?backlog=5", 0, &out), EINVAL_);
    H(oxs_listen_on("", &out), EADDR);
    H(oxs_dial("", 0, &out), EADDR);
    H(oxs_addr_parse("", &a), EADDR);
    H(oxs_bind(t, ""), EADDR);

    /* 1 MB strings */
    size_t MB = 1 << 20;
    char *big = repeat('a', MB, "", "");
    char *big_port = repeat('a', MB, "", ":80");
    char *big_tcp = repeat('a', MB, "tcp://", ":80");
    char *big_unix = repeat('a', MB, "unix:///", "");
    char *big_path = repeat('a', MB, "/", "");
    char *big_query = repeat('a', MB, "tcp://127.0.0.1:0?backlog=", "");
    H(oxs_addr_parse(big, &a), EADDR);
    H(oxs_addr_parse(big_path, &a), EADDR);
    H(oxs_bind(t, big), EADDR);
    H2(oxs_bind(t, big_port), EADDR, OXS_ERR_RESOLVE);
    H2(oxs_connect(t, big_port), EADDR, OXS_ERR_RESOLVE);
    H(oxs_bind(x, big_path), EADDR);
    H(oxs_connect(x, big_path), EADDR);
    H(oxs_resolve(big, 0, many, 2, &n), EADDR);
    H2(oxs_resolve(big_port, 0, many, 2, &n), EADDR, OXS_ERR_RESOLVE);
    H2(oxs_dial(big_tcp, 0, &out), EADDR, OXS_ERR_RESOLVE);
    H2(oxs_listen_on(big_tcp, &out), EADDR, OXS_ERR_RESOLVE);
    H(oxs_dial(big_unix, 0, &out), EADDR);
    H(oxs_listen_on(big_unix, &out), EADDR);
    H(oxs_dial(big, 0, &out), EADDR);
    H(oxs_listen_on(big_query, &out), EINVAL_);
    H(oxs_join_multicast(u, big, "lo"), EADDR);
    HNOTOK(oxs_join_multicast(u, "239.1.2.3", big));
    HNOTOK(oxs_leave_multicast(u, "239.1.2.3", big));
    free(big);
    free(big_port);
    free(big_tcp);
    free(big_unix);
    free(big_path);
    free(big_query);
    oxs_close(t);
    oxs_close(x);
}

static void unix_paths(void)
{
    char p107[300], p108[300], p200[300], ep[400], tmpdir[64] = "";
    const char *dir = g_dir;
    if (strlen(dir) + 2 > 100) { /* a deep checkout: use a short folder of our own */
        strcpy(tmpdir, "/tmp/oxs-hostile-XXXXXX");
        if (mkdtemp(tmpdir) == NULL) {
            printf("FAIL: no folder for the 107-byte path checks\n");
            g_fail++;
            return;
        }
        dir = tmpdir;
    }
    snprintf(p107, sizeof p107, "%s/", dir);
    while (strlen(p107) < 107)
        strcat(p107, "p");
    strcpy(p108, p107);
    strcat(p108, "q");
    strcpy(p200, p108);
    while (strlen(p200) < 200)
        strcat(p200, "r");
    oxs_socket x = OXS_INVALID, out = 77;
    oxs_addr a;
    SETUP(oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &x));
    H(oxs_bind(x, p108), EADDR);
    H(oxs_bind(x, p200), EADDR);
    H(oxs_bind(x, p107), OXS_OK);
    oxs_close(x);
    unlink(p107);
    H(oxs_addr_parse(p107, &a), OXS_OK);
    H(oxs_addr_parse(p108, &a), EADDR);
    H(oxs_addr_parse(p200, &a), EADDR);
    snprintf(ep, sizeof ep, "unix://%s", p107);
    if (H(oxs_listen_on(ep, &out), OXS_OK))
        oxs_close(out);
    snprintf(ep, sizeof ep, "unix://%s", p108);
    H(oxs_listen_on(ep, &out), EADDR);
    H(oxs_dial(ep, 0, &out), EADDR);
    SETUP(oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &x));
    H(oxs_connect(x, p108), EADDR);
    oxs_close(x);
    /* abstract names: at most 107 bytes after '@' */
    char ab107[120], ab108[120];
    strcpy(ab107, "@");
    while (strlen(ab107) < 108)
        strcat(ab107, "z");
    strcpy(ab108, ab107);
    strcat(ab108, "y");
    SETUP(oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &x));
    H(oxs_bind(x, ab108), EADDR);
    H(oxs_bind(x, ab107), OXS_OK);
    oxs_close(x);
    H(oxs_addr_parse(ab108, &a), EADDR);
    if (tmpdir[0])
        rmdir(tmpdir);
}

static void ports(void)
{
    oxs_addr a;
    oxs_socket t = OXS_INVALID, out = 77;
    if (H(oxs_addr_parse("127.0.0.1:0", &a), OXS_OK))
        VAL(oxs_addr_port(&a) == 0);
    if (H(oxs_addr_parse("127.0.0.1:65535", &a), OXS_OK))
        VAL(oxs_addr_port(&a) == 65535);
    if (H(oxs_addr_parse("[::1]:65535", &a), OXS_OK))
        VAL(oxs_addr_port(&a) == 65535);
    const char *bad[] = {"127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:", "127.0.0.1",
                         "[::1]:65536",     "[::1]:99999",     "127.0.0.1:4294967297", "127.0.0.1:18446744073709551617",
                         "127.0.0.1:80x",   "256.0.0.1:80",    "1.2.3:80"};
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &t));
    for (int i = 0; i < 12; i++) {
        a.len = 5;
        H(oxs_addr_parse(bad[i], &a), EADDR);
        OUT(a.len == 0);
        if (bad[i][0] != '[' && i < 10) { /* (bind/connect may resolve "1.2.3" as a host name) */
            H(oxs_bind(t, bad[i]), EADDR);
            H(oxs_connect(t, bad[i]), EADDR);
        }
    }
    oxs_close(t);
    H(oxs_dial("tcp://127.0.0.1:65536", 0, &out), EADDR);
    H(oxs_dial("tcp://127.0.0.1:99999", 0, &out), EADDR);
    H(oxs_dial("udp://127.0.0.1:65536", 0, &out), EADDR);
    H(oxs_listen_on("tcp://127.0.0.1:65536", &out), EADDR);
    H(oxs_listen_on("udp://127.0.0.1:99999", &out), EADDR);
    if (H(oxs_listen_on("tcp://127.0.0.1:0", &out), OXS_OK))
        oxs_close(out);
    HNOTOK(oxs_dial("tcp://127.0.0.1:0", 0, &out));
}

static void bad_addrs(void)
{
    oxs_addr bad[6];
    const char *what[6] = {"len 0", "len 129", "INET with INET6 length", "INET6 with INET length", "family 999",
                           "len UINT32_MAX"};
    memset(bad, 0, sizeof bad);
    bad[0] = good4;
    bad[0].len = 0;
    bad[1] = good4;
    bad[1].len = 129;
    bad[2] = good4;
    bad[2].len = sizeof(struct sockaddr_in6);
    bad[3] = good6;
    bad[3].len = sizeof(struct sockaddr_in);
    bad[4] = good4;
    ((struct sockaddr *)bad[4].storage)->sa_family = 999;
    bad[5] = good4;
    bad[5].len = UINT32_MAX;
    char buf[4] = "abc", text[64];
    size_t n, len;
    for (int i = 0; i < 6; i++) {
        printf("bad oxs_addr: %s\n", what[i]);
        oxs_socket t = OXS_INVALID;
        SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &t));
        H(oxs_bind_addr(t, &bad[i]), EADDR);
        H(oxs_connect_addr(t, &bad[i]), EADDR);
        oxs_close(t);
        n = 77;
        H(oxs_send_to(u, buf, 1, &bad[i], &n), EADDR);
        OUT(n == 0);
        strcpy(text, "junk");
        len = 77;
        H(oxs_addr_format(&bad[i], text, sizeof text, &len), EADDR);
        OUT(text[0] == 0 && len == 0);
        VAL(oxs_addr_domain(&bad[i]) == 0);
        VAL(oxs_addr_port(&bad[i]) == -1);
    }
    /* a valid address of the wrong domain for the socket */
    oxs_socket t = OXS_INVALID;
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &t));
    H(oxs_bind_addr(t, &good6), EADDR);
    H(oxs_connect_addr(t, &good6), EADDR);
    H(oxs_bind(t, "[::1]:0"), EADDR);
    H(oxs_bind(t, "/tmp/x.sock"), EADDR);
    oxs_close(t);
    H(oxs_send_to(u, buf, 1, &good6, &n), EADDR);
    oxs_addr up;
    SETUP(oxs_addr_parse("/tmp/hostile-nowhere.sock", &up));
    H(oxs_send_to(u, buf, 1, &up, &n), EADDR);
    oxs_socket x = OXS_INVALID;
    SETUP(oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &x));
    H(oxs_connect_addr(x, &good4), EADDR);
    oxs_close(x);
}

static void descriptors(void)
{
    oxs_socket out = 77;
    int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
    H(oxs_from_fd(f, &out), EINVAL_);
    OUT(out == OXS_INVALID && fcntl(f, F_GETFD) != -1);
    close(f);
    int32_t fd = -1;
    SETUP(oxs_fd(s, &fd));
    out = 77;
    H(oxs_from_fd(fd, &out), EINVAL_); /* already owned by a live handle */
    OUT(out == OXS_INVALID);
    int64_t v = 0;
    H(oxs_getopt(s, OXS_OPT_TYPE, &v), OXS_OK);
}

/* §14: host text, unmap, resolve_host and foreign descriptors, with every hostile
 * input the other functions get. */
static void porting_calls(void)
{
    char text[64];
    size_t len, n;
    oxs_addr a, many[2];
    /* NULL pointers */
    strcpy(text, "junk");
    len = 77;
    H(oxs_addr_host(NULL, text, sizeof text, &len), EINVAL_);
    OUT(text[0] == 0 && len == 0);
    H(oxs_addr_host(&good4, NULL, 64, &len), EINVAL_);
    H(oxs_addr_host(&good4, text, sizeof text, NULL), EINVAL_);
    len = 0;
    if (H(oxs_addr_host(&good4, NULL, 0, &len), OXS_ERR_BUFFER_TOO_SMALL))
        OUT(len == strlen("127.0.0.1"));
    a.len = 5;
    H(oxs_addr_unmap(NULL, &a), EINVAL_);
    OUT(a.len == 0);
    H(oxs_addr_unmap(&good6, NULL), EINVAL_);
    n = 77;
    H(oxs_resolve_host("127.0.0.1", "80", 0, many, 2, NULL), EINVAL_);
    H(oxs_resolve_host("127.0.0.1", "80", 0, NULL, 2, &n), EINVAL_);
    OUT(n == 0);
    n = 0;
    if (H2(oxs_resolve_host("127.0.0.1", "80", 0, NULL, 0, &n), OXS_OK, OXS_ERR_BUFFER_TOO_SMALL))
        OUT(n == 1);
    if (H(oxs_resolve_host(NULL, NULL, OXS_DOMAIN_INET, many, 2, &n), OXS_OK)) /* both may be NULL */
        OUT(n == 1 && oxs_addr_port(&many[0]) == 0);
    /* enums */
    for (int i = 0; i < NBAD_ENUMS; i++) {
        int32_t e = BAD_ENUMS[i];
        if (e == 0)
            continue;
        n = 77;
        H(oxs_resolve_host("127.0.0.1", "80", e, many, 2, &n), EINVAL_);
        OUT(n == 0);
        H(oxs_poller_add_fd(p, g_pipe[0], e, 1), EINVAL_);
        H(oxs_poller_add_fd(p, e, OXS_POLL_IN, 1), EINVAL_); /* not open (or -1 / 99: no such fd) */
        H(oxs_poller_modify_fd(p, e, OXS_POLL_IN, 1), EINVAL_);
        H(oxs_poller_remove_fd(p, e), EINVAL_);
    }
    H(oxs_resolve_host("127.0.0.1", "80", OXS_DOMAIN_UNIX, many, 2, &n), OXS_ERR_UNSUPPORTED);
    /* huge lengths */
    for (int i = 0; i < 2; i++) {
        size_t L = HUGE_LENS[i];
        strcpy(text, "junk");
        len = 77;
        H(oxs_addr_host(&good4, text, L, &len), EINVAL_);
        OUT(text[0] == 0 && len == 0);
        n = 77;
        H(oxs_resolve_host("127.0.0.1", "80", 0, many, L, &n), EINVAL_);
        OUT(n == 0);
    }
    /* small buffers */
    char small[4] = "xyz";
    if (H(oxs_addr_host(&good4, small, sizeof small, &len), OXS_ERR_BUFFER_TOO_SMALL))
        OUT(len == 9 && small[0] == 0);
    if (H(oxs_addr_host(&good4, small, 1, &len), OXS_ERR_BUFFER_TOO_SMALL))
        OUT(len == 9 && small[0] == 0);
    /* strings: non-UTF-8, 1 MB, brackets, empty */
    const char *nonutf[] = {"\xff\xfe", "127.0.0.\xff", "::\xc0", "h\xc3\x28st"};
    for (int i = 0; i < 4; i++) {
        n = 77;
        H(oxs_resolve_host(nonutf[i], "80", 0, many, 2, &n), EADDR);
        OUT(n == 0);
        H(oxs_resolve_host("127.0.0.1", nonutf[i], 0, many, 2, &n), EADDR);
    }
    char *big = repeat('a', 1 << 20, "", "");
    char *bigdigits = repeat('9', 1 << 20, "", "");
    H2(oxs_resolve_host(big, "80", 0, many, 2, &n), EADDR, OXS_ERR_RESOLVE);
    H2(oxs_resolve_host("127.0.0.1", big, 0, many, 2, &n), EADDR, OXS_ERR_RESOLVE);
    H(oxs_resolve_host("127.0.0.1", bigdigits, 0, many, 2, &n), EADDR);
    H2(oxs_resolve_host(NULL, big, 0, many, 2, &n), EADDR, OXS_ERR_RESOLVE);
    free(big);
    free(bigdigits);
    H(oxs_resolve_host("[::1]", "80", 0, many, 2, &n), EADDR);
    H(oxs_resolve_host("", "80", 0, many, 2, &n), EADDR);
    H(oxs_resolve_host("127.0.0.1", "", 0, many, 2, &n), EADDR);
    H(oxs_resolve_host("127.0.0.1", "-1", 0, many, 2, &n), OXS_ERR_RESOLVE); /* not decimal: a name */
    H(oxs_resolve_host("127.0.0.1", "99999", 0, many, 2, &n), EADDR);
    H(oxs_resolve_host("127.0.0.1", "18446744073709551617", 0, many, 2, &n), EADDR);
    H(oxs_resolve_host("127.0.0.1", "80", OXS_DOMAIN_INET6, many, 2, &n), OXS_ERR_RESOLVE);
    /* bad oxs_addr values */
    oxs_addr bad[4];
    bad[0] = good4;
    bad[0].len = 0;
    bad[1] = good4;
    bad[1].len = 129;
    bad[2] = good6;
    bad[2].len = sizeof(struct sockaddr_in);
    bad[3] = good4;
    bad[3].len = UINT32_MAX;
    for (int i = 0; i < 4; i++) {
        strcpy(text, "junk");
        len = 77;
        H(oxs_addr_host(&bad[i], text, sizeof text, &len), EADDR);
        OUT(text[0] == 0 && len == 0);
        a.len = 5;
        H(oxs_addr_unmap(&bad[i], &a), EADDR);
        OUT(a.len == 0);
        oxs_addr in_place = bad[i];
        H(oxs_addr_unmap(&in_place, &in_place), EADDR);
        OUT(in_place.len == 0);
    }
    /* foreign descriptors */
    int f = open("/dev/null", O_RDONLY | O_CLOEXEC);
    H(oxs_poller_add_fd(p, f, OXS_POLL_IN, 1), OXS_ERR_UNSUPPORTED);
    close(f);
    H(oxs_poller_add_fd(p, f, OXS_POLL_IN, 1), EINVAL_); /* closed now */
    int32_t owned = -1;
    SETUP(oxs_fd(s, &owned));
    H(oxs_poller_add_fd(p, owned, OXS_POLL_IN, 1), EINVAL_);
    H(oxs_poller_add_fd(p, INT32_MAX, OXS_POLL_IN, 1), EINVAL_);
    H(oxs_poller_add_fd(p, INT32_MIN, OXS_POLL_IN, 1), EINVAL_);
    H(oxs_poller_add_fd(p, g_pipe[0], OXS_POLL_IN, UINT64_MAX), OXS_OK);
    H(oxs_poller_add_fd(p, g_pipe[0], OXS_POLL_IN, 1), EINVAL_);
    H(oxs_poller_modify_fd(p, g_pipe[0], OXS_POLL_IN | OXS_POLL_OUT, 0), OXS_OK);
    H(oxs_poller_modify_fd(p, g_pipe[0], 0x4000, 0), EINVAL_);
    H(oxs_poller_remove_fd(p, g_pipe[1]), EINVAL_);
    H(oxs_poller_remove_fd(p, g_pipe[0]), OXS_OK);
    H(oxs_poller_remove_fd(p, g_pipe[0]), EINVAL_);
    H(oxs_poller_add_fd((oxs_poller)s, g_pipe[0], OXS_POLL_IN, 1), BADH); /* a socket where a poller belongs */
}

/* §13: NULL pointers, counts out of range, huge lengths, bad descriptors, options the
 * library owns, stream sockets where datagrams belong; every out-count 0 on failure. */
static void messages(void)
{
    char buf[8] = "abcdefg";
    size_t n, nf;
    int32_t fds[2] = {0, -1};
    oxs_iovec iov[2] = {{buf, 4}, {NULL, 0}};
    oxs_datagram d[2];
    uint32_t len;
    int v = 1;
    memset(d, 0, sizeof d);
    d[0].buf = buf;
    d[0].len = 4;
    size_t counts[] = {0, 1025, SIZE_MAX, (size_t)PTRDIFF_MAX + 1};
    for (int i = 0; i < 4; i++) {
        n = 77;
        H(oxs_writev(ux[0], iov, counts[i], &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_readv(ux[1], iov, counts[i], &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_send_batch(u, d, counts[i], &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_recv_batch(u, d, counts[i], &n), EINVAL_);
        OUT(n == 0);
        n = 77;
        H(oxs_send_fds(ux[0], buf, 1, fds, counts[i] == 1025 ? 254 : counts[i], &n), EINVAL_);
        OUT(n == 0);
    }
    for (int i = 0; i < 2; i++) {
        size_t L = HUGE_LENS[i];
        oxs_iovec big[1] = {{buf, L}};
        n = 77;
        H(oxs_writev(ux[0], big, 1, &n), EINVAL_);
        OUT(n == 0);
        H(oxs_readv(ux[1], big, 1, &n), EINVAL_);
        H(oxs_send_fds(ux[0], buf, L, fds, 1, &n), EINVAL_);
        nf = 77;
        H(oxs_recv_fds(ux[1], buf, L, &n, fds, 1, &nf), EINVAL_);
        OUT(n == 0 && nf == 0);
        H(oxs_recv_fds(ux[1], buf, 4, &n, fds, L, &nf), EINVAL_);
        oxs_datagram bd[1];
        memset(bd, 0, sizeof bd);
        bd[0].buf = buf;
        bd[0].len = L;
        H(oxs_send_batch(u, bd, 1, &n), EINVAL_);
        H(oxs_recv_batch(u, bd, 1, &n), EINVAL_);
        n = 77;
        H(oxs_sendfile(c, 0, 0, L, &n), EINVAL_);
        OUT(n == 0);
    }
    /* NULL pointers */
    H(oxs_writev(ux[0], NULL, 1, &n), EINVAL_);
    H(oxs_readv(ux[1], NULL, 1, &n), EINVAL_);
    H(oxs_readv(ux[1], iov, 1, NULL), EINVAL_);
    oxs_iovec nullbase[1] = {{NULL, 4}};
    H(oxs_writev(ux[0], nullbase, 1, &n), EINVAL_);
    H(oxs_readv(ux[1], nullbase, 1, &n), EINVAL_);
    H(oxs_send_fds(ux[0], NULL, 4, fds, 1, &n), EINVAL_);
    H(oxs_send_fds(ux[0], buf, 4, NULL, 1, &n), EINVAL_);
    H(oxs_send_fds(ux[0], buf, 0, fds, 1, &n), EINVAL_);
    H(oxs_send_fds(ux[0], buf, 4, fds + 1, 1, &n), EINVAL_); /* descriptor -1 */
    H(oxs_recv_fds(ux[1], NULL, 4, &n, fds, 1, &nf), EINVAL_);
    H(oxs_recv_fds(ux[1], buf, 4, NULL, fds, 1, &nf), EINVAL_);
    H(oxs_recv_fds(ux[1], buf, 4, &n, NULL, 1, &nf), EINVAL_);
    H(oxs_recv_fds(ux[1], buf, 4, &n, fds, 1, NULL), EINVAL_);
    H(oxs_send_batch(u, NULL, 1, &n), EINVAL_);
    H(oxs_send_batch(u, d, 1, NULL), EINVAL_);
    H(oxs_recv_batch(u, NULL, 1, &n), EINVAL_);
    H(oxs_recv_batch(u, d, 1, NULL), EINVAL_);
    d[1].buf = NULL;
    d[1].len = 4;
    H(oxs_send_batch(u, d, 2, &n), EINVAL_);
    H(oxs_recv_batch(u, d, 2, &n), EINVAL_);
    H(oxs_setsockopt(c, SOL_SOCKET, SO_RCVBUF, NULL, 4), EINVAL_);
    H(oxs_getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, NULL), EINVAL_);
    len = 4;
    H(oxs_getsockopt(c, SOL_SOCKET, SO_RCVBUF, NULL, &len), EINVAL_);
    OUT(len == 0);
    /* a bad address in a batch entry: ADDRESS, stored in the entry, none sent */
    memset(d, 0, sizeof d);
    d[0].buf = buf;
    d[0].len = 4;
    d[0].addr.len = 129;
    n = 77;
    if (H(oxs_send_batch(u, d, 1, &n), EADDR))
        OUT(n == 0 && d[0].status == EADDR);
    d[0].addr = good6; /* the wrong family for an IPv4 socket */
    H(oxs_send_batch(u, d, 1, &n), EADDR);
    /* descriptors, offsets, sockets of the wrong kind */
    int32_t odd[] = {-1, INT32_MIN, INT32_MAX, 999999};
    for (int i = 0; i < 4; i++) {
        n = 77;
        H(oxs_sendfile(c, odd[i], 0, 4, &n), EINVAL_);
        OUT(n == 0);
        H(oxs_send_fds(ux[0], buf, 1, &odd[i], 1, &n), EINVAL_);
    }
    int64_t offs[] = {-1, INT64_MIN};
    for (int i = 0; i < 2; i++)
        H(oxs_sendfile(c, 0, offs[i], 4, &n), EINVAL_);
    H(oxs_send_fds(c, buf, 1, fds, 1, &n), OXS_ERR_UNSUPPORTED);
    H(oxs_recv_fds(u, buf, 4, &n, fds, 1, &nf), OXS_ERR_UNSUPPORTED);
    H(oxs_send_batch(c, d, 1, &n), OXS_ERR_UNSUPPORTED);
    H(oxs_recv_batch(ux[0], d, 1, &n), OXS_ERR_UNSUPPORTED);
    struct timeval tv = {1, 0};
    H(oxs_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), OXS_ERR_UNSUPPORTED);
    H(oxs_setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), OXS_ERR_UNSUPPORTED);
    len = sizeof tv;
    H(oxs_getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), OXS_ERR_UNSUPPORTED);
    for (int i = 0; i < NBAD_ENUMS; i++) {
        int32_t e = BAD_ENUMS[i];
        len = sizeof v;
        H2(oxs_setsockopt(c, e, e, &v, sizeof v), OXS_ERR_UNSUPPORTED, EINVAL_);
        H2(oxs_getsockopt(c, e, e, &v, &len), OXS_ERR_UNSUPPORTED, EINVAL_);
    }
    /* non-blocking handles answer WOULD_BLOCK, with counts 0 */
    for (int i = 0; i < 1000 && oxs_read(ux[0], buf, sizeof buf, &n) == OXS_OK && n > 0; i++) {
    }
    for (int i = 0; i < 1000 && oxs_recv(u, buf, sizeof buf, 0, &n) == OXS_OK; i++) {
    }
    n = 77;
    H(oxs_readv(ux[0], iov, 2, &n), OXS_ERR_WOULD_BLOCK);
    OUT(n == 0);
    n = nf = 77;
    H(oxs_recv_fds(ux[0], buf, 4, &n, fds, 1, &nf), OXS_ERR_WOULD_BLOCK);
    OUT(n == 0 && nf == 0);
    n = 77;
    H(oxs_recv_batch(u, d, 1, &n), OXS_ERR_WOULD_BLOCK);
    OUT(n == 0);
}

static void misc(void)
{
    const char *v = oxs_version();
    int a, b, cc;
    VAL(v != NULL && sscanf(v, "%d.%d.%d", &a, &b, &cc) == 3);
    VAL(oxs_last_error() != NULL);
    (void)oxs_last_os_error();
    /* closing twice */
    oxs_socket t = OXS_INVALID;
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &t));
    H(oxs_close(t), OXS_OK);
    H(oxs_close(t), BADH);
    oxs_poller q = OXS_INVALID;
    SETUP(oxs_poller_open(&q));
    H(oxs_poller_close(q), OXS_OK);
    H(oxs_poller_close(q), BADH);
    /* listen on a datagram socket, accept on a non-listener */
    H(oxs_listen(u, 1), OXS_ERR_UNSUPPORTED);
    oxs_socket out = 77;
    HNOTOK(oxs_accept(c, &out, NULL));
    OUT(out == OXS_INVALID);
    /* the library survived all of it */
    size_t n = 0;
    char buf[4];
    H(oxs_write_all(ux[1], "ok", 2, NULL), OXS_OK);
    SETUP(oxs_setopt(ux[0], OXS_OPT_NONBLOCKING, 0));
    SETUP(oxs_setopt(ux[0], OXS_OPT_READ_TIMEOUT_MS, 5000));
    if (H(oxs_read_exact(ux[0], buf, 2, &n), OXS_OK))
        OUT(memcmp(buf, "ok", 2) == 0);
}

int main(int argc, char **argv)
{
    g_dir = argc > 1 ? argv[1] : "/tmp";
    if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        printf("FAIL: pipe2\n");
        return 1;
    }
    setup();
    handles();
    null_pointers();
    enums();
    option_values();
    lengths();
    strings();
    unix_paths();
    ports();
    bad_addrs();
    descriptors();
    porting_calls();
    messages();
    misc();
    printf("hostile: %d calls tried, %d failures\n", g_calls, g_fail);
    fflush(stdout);
    return g_fail == 0 ? 0 : 1;
}

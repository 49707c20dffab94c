/*
 * ports_endpoints.c - issue 12 on §8 and §1:
 * - bug 2: oxs_dial("udp4://BROADCAST:port?broadcast=1") works (SO_BROADCAST is set
 *   before the connect, which Linux refuses for a broadcast address without it), on
 *   the loopback's broadcast address 127.255.255.255;
 * - every query key of §8's table, checked at the moment it must already be in effect:
 *   backlog at listen, reuseaddr / reuseport / v6only / broadcast before bind or
 *   connect, nodelay / keepalive before accept (inherited) and when dial returns, mode
 *   before anyone connects, interruptible during the dial's own connect;
 * - bug 3: "tcp://::1:9" says the IPv6 literal needs brackets (and is not a wildcard);
 * - error messages that name a live handle also name its descriptor.
 * Usage: ports_endpoints SCRATCH_DIR.
 */
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "core_util.h"

static const char *g_dir = ".";

static int64_t getopt_or(oxs_socket s, int32_t o, int64_t dflt)
{
    int64_t v = dflt;
    if (oxs_getopt(s, o, &v) != OXS_OK)
        return dflt;
    return v;
}

static void broadcast_dial(void)
{
    oxs_socket r = 0, d = 0;
    char ep[200];
    REQUIRE_OK("setup: receiver", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &r));
    REQUIRE_OK("setup: bind the loopback broadcast address", oxs_bind(r, "127.255.255.255:0"));
    REQUIRE_OK("setup: read timeout", oxs_setopt(r, OXS_OPT_READ_TIMEOUT_MS, 5000 * slow_factor()));
    int port = local_port(r);
    snprintf(ep, sizeof ep, "udp4://127.255.255.255:%d", port);
    CHECK_ST("§8 udp dial to a broadcast address without broadcast=1: the kernel's EACCES", oxs_dial(ep, 0, &d),
             OXS_ERR_PERMISSION_DENIED);
    const char *schemes[] = {"udp4", "udp"};
    for (int i = 0; i < 2; i++) {
        snprintf(ep, sizeof ep, "%s://127.255.255.255:%d?broadcast=1", schemes[i], port);
        d = 0;
        if (!CHECK_OK("§8 bug 2: udp dial with ?broadcast=1 to a broadcast address", oxs_dial(ep, 0, &d)))
            continue;
        CHECK_INT("§8 broadcast=1 is in effect", getopt_or(d, OXS_OPT_BROADCAST, -1), 1);
        CHECK_OK("§8 send to the broadcast address", oxs_write_all(d, "bcast", 5, NULL));
        char buf[16];
        size_t n = 0;
        if (CHECK_OK("§8 the broadcast arrives", oxs_recv(r, buf, sizeof buf, 0, &n)))
            CHECK("§8 the broadcast's bytes", n == 5 && memcmp(buf, "bcast", 5) == 0);
        oxs_close(d);
    }
    /* interruptible too, in the same query */
    snprintf(ep, sizeof ep, "udp4://127.255.255.255:%d?broadcast=1&interruptible=1", port);
    if (CHECK_OK("§8 broadcast and interruptible", oxs_dial(ep, 0, &d))) {
        CHECK_INT("§8 interruptible=1 on a udp dial", getopt_or(d, OXS_OPT_INTERRUPTIBLE, -1), 1);
        oxs_close(d);
    }
    /* a listener's broadcast=1 is in effect when listen_on returns: it may send to one */
    oxs_socket l = 0;
    if (CHECK_OK("§8 udp listen with broadcast=1", oxs_listen_on("udp4://127.0.0.1:0?broadcast=1", &l))) {
        oxs_addr to;
        char text[64];
        size_t n = 0;
        snprintf(text, sizeof text, "127.255.255.255:%d", port);
        REQUIRE_OK("setup: parse", oxs_addr_parse(text, &to));
        CHECK_INT("§8 listener broadcast=1 is in effect", getopt_or(l, OXS_OPT_BROADCAST, -1), 1);
        CHECK_OK("§8 the listener sends to the broadcast address", oxs_send_to(l, "L", 1, &to, &n));
        char buf[4];
        CHECK_OK("§8 ... and it arrives", oxs_recv(r, buf, sizeof buf, 0, &n));
        oxs_close(l);
    }
    oxs_close(r);
}

/* A listener with backlog=1 holds 2 unaccepted Unix connections (Linux takes backlog+1):
 * the value reached listen(2). */
static void backlog_at_listen(void)
{
    const int backlogs[] = {1, 4};
    for (int b = 0; b < 2; b++) {
        char path[400], ep[460];
        snprintf(path, sizeof path, "%s/backlog%d.sock", g_dir, backlogs[b]);
        snprintf(ep, sizeof ep, "unix://%s?backlog=%d", path, backlogs[b]);
        oxs_socket l = 0, c[8];
        if (!CHECK_OK("§8 unix listen with backlog", oxs_listen_on(ep, &l)))
            continue;
        int ok = 0, refused = 0;
        for (int i = 0; i < 8; i++) {
            c[i] = 0;
            REQUIRE_OK("setup: client", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &c[i]));
            REQUIRE_OK("setup: non-blocking", oxs_setopt(c[i], OXS_OPT_NONBLOCKING, 1));
            oxs_status st = oxs_connect(c[i], path);
            if (st == OXS_OK)
                ok++;
            else if (!refused)
                refused = 1;
            if (refused)
                break;
        }
        CHECK_INT("§8 backlog=N: N+1 connections wait in the queue, then it is full", ok, backlogs[b] + 1);
        for (int i = 0; i < 8 && i <= ok; i++)
            oxs_close(c[i]);
        oxs_close(l);
    }
}

/* reuseaddr (default 1 for tcp) is set before bind: a port in TIME_WAIT binds again;
 * with reuseaddr=0 it does not. */
static void reuseaddr_before_bind(void)
{
    oxs_socket l = 0, c = 0, a = 0;
    char ep[100];
    REQUIRE_OK("setup: listen", oxs_listen_on("tcp://127.0.0.1:0", &l));
    int port = local_port(l);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    REQUIRE_OK("setup: dial", oxs_dial(ep, 5000, &c));
    REQUIRE_OK("setup: accept", oxs_accept(l, &a, NULL));
    oxs_close(a); /* the server closes first: its end goes to TIME_WAIT */
    char b;
    size_t n;
    REQUIRE_OK("setup: read timeout", oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 5000));
    oxs_read(c, &b, 1, &n); /* sees the FIN */
    oxs_close(c);
    oxs_close(l);
    sleep_ms(50);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d?reuseaddr=0", port);
    CHECK_ST("§8 reuseaddr=0: a port in TIME_WAIT is in use", oxs_listen_on(ep, &l), OXS_ERR_ADDRESS_IN_USE);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    if (CHECK_OK("§8 reuseaddr (default 1) is set before bind: TIME_WAIT binds", oxs_listen_on(ep, &l))) {
        CHECK_INT("§8 reuseaddr reads 1", getopt_or(l, OXS_OPT_REUSEADDR, -1), 1);
        oxs_close(l);
    }
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d?reuseaddr=1", port);
    if (CHECK_OK("§8 reuseaddr=1 before bind", oxs_listen_on(ep, &l)))
        oxs_close(l);
}

static void reuseport_before_bind(void)
{
    const char *schemes[] = {"tcp", "udp"};
    for (int i = 0; i < 2; i++) {
        oxs_socket a = 0, b = 0;
        char ep[100];
        snprintf(ep, sizeof ep, "%s://127.0.0.1:0?reuseport=1", schemes[i]);
        REQUIRE_OK("setup: first listener", oxs_listen_on(ep, &a));
        snprintf(ep, sizeof ep, "%s://127.0.0.1:%d?reuseport=1", schemes[i], local_port(a));
        if (CHECK_OK("§8 reuseport=1 is set before bind: a second listener on the port", oxs_listen_on(ep, &b)))
            oxs_close(b);
        snprintf(ep, sizeof ep, "%s://127.0.0.1:%d", schemes[i], local_port(a));
        CHECK_ST("§8 without reuseport the port is in use", oxs_listen_on(ep, &b), OXS_ERR_ADDRESS_IN_USE);
        oxs_close(a);
    }
}

/* IPV6_V6ONLY cannot change after bind, so a value read back was set before it. Linux
 * makes a socket bound to a specific, non-mapped IPv6 address V6ONLY itself, and refuses
 * to bind a V6ONLY socket to a v4-mapped address: so the v4-mapped loopback shows the
 * query's value at bind time without binding the wildcard. */
static void v6only_before_bind(void)
{
    const char *eps[] = {"tcp6://[::1]:0", "tcp6://[::ffff:127.0.0.1]:0?v6only=0", "tcp://[::1]:0?v6only=1",
                         "udp6://[::1]:0", "udp6://[::ffff:127.0.0.1]:0?v6only=0"};
    const int want[] = {1, 0, 1, 1, 0};
    for (int i = 0; i < 5; i++) {
        oxs_socket l = 0;
        char rule[200];
        snprintf(rule, sizeof rule, "§8 %s: V6ONLY set before bind", eps[i]);
        if (!CHECK_OK(rule, oxs_listen_on(eps[i], &l)))
            continue;
        CHECK_INT(rule, getopt_or(l, OXS_OPT_V6ONLY, -1), want[i]);
        CHECK("§8 (the kernel refuses V6ONLY changes after bind)", oxs_setopt(l, OXS_OPT_V6ONLY, !want[i]) != OXS_OK);
        if (want[i] == 0 && eps[i][0] == 't') {
            /* an IPv4 client reaches it */
            char ep[100];
            oxs_socket c = 0, a = 0;
            snprintf(ep, sizeof ep, "tcp4://127.0.0.1:%d", local_port(l));
            if (CHECK_OK("§8 v6only=0: an IPv4 client connects", oxs_dial(ep, 5000, &c))) {
                CHECK_OK("§8 v6only=0: accepted", oxs_accept(l, &a, NULL));
                oxs_close(a);
                oxs_close(c);
            }
        }
        oxs_close(l);
    }
    oxs_socket l = 0;
    CHECK("§8 tcp6 (v6only defaults to 1, set before bind): the v4-mapped loopback does not bind",
          oxs_listen_on("tcp6://[::ffff:127.0.0.1]:0", &l) != OXS_OK);
    CHECK("§8 v6only=1 before bind: the v4-mapped loopback does not bind",
          oxs_listen_on("udp6://[::ffff:127.0.0.1]:0?v6only=1", &l) != OXS_OK);
}

/* nodelay and keepalive: on the listener before any accept (accepted sockets inherit
 * them), and on a dialed socket when oxs_dial returns. */
static void nodelay_keepalive(void)
{
    oxs_socket l = 0, c = 0, a = 0;
    char ep[120];
    REQUIRE_OK("setup: listen", oxs_listen_on("tcp://127.0.0.1:0?nodelay=1&keepalive=1&backlog=8", &l));
    CHECK_INT("§8 listen nodelay=1", getopt_or(l, OXS_OPT_NODELAY, -1), 1);
    CHECK_INT("§8 listen keepalive=1", getopt_or(l, OXS_OPT_KEEPALIVE, -1), 1);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d?nodelay=1&keepalive=1", local_port(l));
    if (CHECK_OK("§8 dial nodelay keepalive", oxs_dial(ep, 5000, &c))) {
        CHECK_INT("§8 dial nodelay=1 when dial returns", getopt_or(c, OXS_OPT_NODELAY, -1), 1);
        CHECK_INT("§8 dial keepalive=1 when dial returns", getopt_or(c, OXS_OPT_KEEPALIVE, -1), 1);
        if (CHECK_OK("setup: accept", oxs_accept(l, &a, NULL))) {
            CHECK_INT("§8 the accepted socket inherited nodelay", getopt_or(a, OXS_OPT_NODELAY, -1), 1);
            CHECK_INT("§8 the accepted socket inherited keepalive", getopt_or(a, OXS_OPT_KEEPALIVE, -1), 1);
            oxs_close(a);
        }
        oxs_close(c);
    }
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d?nodelay=0&keepalive=0", local_port(l));
    if (CHECK_OK("§8 dial nodelay=0", oxs_dial(ep, 0, &c))) {
        CHECK_INT("§8 dial nodelay=0", getopt_or(c, OXS_OPT_NODELAY, -1), 0);
        CHECK_INT("§8 dial keepalive=0", getopt_or(c, OXS_OPT_KEEPALIVE, -1), 0);
        oxs_close(c);
    }
    oxs_close(l);
}

static void mode_before_connect(void)
{
    char path[400], ep[460];
    snprintf(path, sizeof path, "%s/mode.sock", g_dir);
    snprintf(ep, sizeof ep, "unix://%s?mode=0600", path);
    oxs_socket l = 0;
    if (!CHECK_OK("§8 unix listen mode=0600", oxs_listen_on(ep, &l)))
        return;
    struct stat st;
    CHECK("§8 the file has its mode when listen_on returns",
          stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
    oxs_socket d = 0;
    snprintf(ep, sizeof ep, "unix://%s?interruptible=1", path);
    if (CHECK_OK("§8 unix dial interruptible=1", oxs_dial(ep, 5000, &d))) {
        CHECK_INT("§8 unix dial: interruptible in effect when dial returns", getopt_or(d, OXS_OPT_INTERRUPTIBLE, -1), 1);
        oxs_close(d);
    }
    oxs_close(l);
    snprintf(ep, sizeof ep, "unixgram://%s?mode=0640", path);
    if (CHECK_OK("§8 unixgram listen mode=0640", oxs_listen_on(ep, &l))) {
        CHECK("§8 unixgram: the file has its mode", stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
        snprintf(ep, sizeof ep, "unixgram://%s?interruptible=1", path);
        if (CHECK_OK("§8 unixgram dial interruptible=1", oxs_dial(ep, 0, &d))) {
            CHECK_INT("§8 unixgram dial: interruptible", getopt_or(d, OXS_OPT_INTERRUPTIBLE, -1), 1);
            oxs_close(d);
        }
        oxs_close(l);
    }
}

static volatile sig_atomic_t g_alarms;
static void on_alarm(int sig)
{
    (void)sig;
    g_alarms++;
}

/* interruptible=1 is in effect during the dial's own connect: a connect to a listener
 * whose queue is full waits (the SYN is dropped), and a signal ends it. */
static void interruptible_during_connect(void)
{
    oxs_socket l = 0, q[4] = {0, 0, 0, 0}, d = 0, u = 0;
    char ep[160];
    REQUIRE_OK("setup: listen backlog=1", oxs_listen_on("tcp://127.0.0.1:0?backlog=1", &l));
    int port = local_port(l);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    int filled = 0, queued = 0;
    for (int i = 0; i < 4; i++) {
        if (oxs_dial(ep, 300 * (int)slow_factor(), &q[i]) != OXS_OK) {
            filled = 1;
            break;
        }
        queued++;
    }
    CHECK_INT("§8 tcp backlog=1 reached listen(2): 2 connections wait, the third gets no answer", queued, 2);
    if (!filled) {
        CHECK_SKIP("§8 interruptible during the connect", "the listener's queue never filled");
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm; /* no SA_RESTART */
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval it;
        memset(&it, 0, sizeof it);
        it.it_value.tv_usec = 150 * 1000;
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d?interruptible=1", port);
        setitimer(ITIMER_REAL, &it, NULL);
        int64_t t0 = check_now_ms();
        oxs_status st = oxs_dial(ep, 20000, &d);
        int64_t took = check_now_ms() - t0;
        CHECK_ST("§8 interruptible=1: a signal ends the dial's connect", st, OXS_ERR_INTERRUPTED);
        CHECK("§8 ... long before the 20 s deadline", took < 15000);
        CHECK_INT("§1 out is OXS_INVALID", d, OXS_INVALID);
        /* without it, the signal is absorbed and the deadline ends the dial */
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
        g_alarms = 0;
        setitimer(ITIMER_REAL, &it, NULL);
        st = oxs_dial(ep, 600 * (int)slow_factor(), &u);
        CHECK_ST("§8 without interruptible the dial goes on to its deadline", st, OXS_ERR_TIMED_OUT);
        CHECK("§8 ... and the signal did arrive", g_alarms > 0);
        if (st == OXS_OK)
            oxs_close(u);
        signal(SIGALRM, SIG_DFL);
    }
    for (int i = 0; i < 4; i++)
        if (q[i])
            oxs_close(q[i]);
    oxs_close(l);
}

static void brackets_message(void)
{
    oxs_socket s = 77;
    const char *eps[] = {"tcp://::1:9", "udp://::1:9", "tcp6://::1:9", "tcp://fe80::1:80"};
    for (int i = 0; i < 4; i++) {
        s = 77;
        char rule[120];
        snprintf(rule, sizeof rule, "§8 bug 3: oxs_dial(\"%s\")", eps[i]);
        CHECK_ST(rule, oxs_dial(eps[i], 0, &s), OXS_ERR_ADDRESS);
        CHECK_INT("§1 out is OXS_INVALID", s, OXS_INVALID);
        CHECK("§8 bug 3: the message says the IPv6 address needs brackets", contains(oxs_last_error(), "brackets"));
        CHECK("§8 bug 3: not the wildcard message", !contains(oxs_last_error(), "listening only"));
    }
    CHECK_ST("§8 dial tcp://::1:9", oxs_dial("tcp://::1:9", 0, &s), OXS_ERR_ADDRESS);
    CHECK("§8 the message shows the bracketed form", contains(oxs_last_error(), "[::1]:9"));
    CHECK_ST("§8 listen_on(tcp://::1:0) is not the wildcard", oxs_listen_on("tcp://::1:0", &s), OXS_ERR_ADDRESS);
    CHECK("§8 ... it needs brackets", contains(oxs_last_error(), "brackets"));
    CHECK_ST("§8 a dial with an empty host", oxs_dial("tcp://:9", 0, &s), OXS_ERR_ADDRESS);
    CHECK("§8 ... is for listening only", contains(oxs_last_error(), "listening only"));
    CHECK_ST("§8 a dial with host *", oxs_dial("tcp://*:9", 0, &s), OXS_ERR_ADDRESS);
}

static void fd_in_messages(void)
{
    oxs_socket pr[2];
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, pr));
    REQUIRE_OK("setup: non-blocking", oxs_setopt(pr[0], OXS_OPT_NONBLOCKING, 1));
    char buf[8], want[64], hex[64];
    size_t n;
    CHECK_ST("§6 read would block", oxs_read(pr[0], buf, sizeof buf, &n), OXS_ERR_WOULD_BLOCK);
    snprintf(want, sizeof want, "(fd %d)", fd_of(pr[0]));
    snprintf(hex, sizeof hex, "handle 0x%llx", (unsigned long long)pr[0]);
    CHECK("§1 the message names the handle", contains(oxs_last_error(), hex));
    CHECK("§1 issue 12: ... and its descriptor", contains(oxs_last_error(), want));
    oxs_socket lone = 0;
    oxs_addr a;
    REQUIRE_OK("setup: socket", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &lone));
    CHECK_ST("§5 peer_addr of an unconnected socket", oxs_peer_addr(lone, &a), OXS_ERR_NOT_CONNECTED);
    snprintf(want, sizeof want, "(fd %d)", fd_of(lone));
    CHECK("§1 issue 12: peer_addr's message names the descriptor", contains(oxs_last_error(), want));
    oxs_close(lone);
    oxs_socket dead = pr[0];
    oxs_close(pr[0]);
    CHECK_ST("§3 a closed handle", oxs_read(dead, buf, sizeof buf, &n), OXS_ERR_BAD_HANDLE);
    CHECK("§1 a dead handle has no descriptor to name", !contains(oxs_last_error(), "(fd "));
    oxs_close(pr[1]);
    oxs_poller p = 0;
    oxs_event ev[1];
    REQUIRE_OK("setup: poller", oxs_poller_open(&p));
    CHECK_ST("§9 wait with a bad timeout", oxs_poller_wait(p, ev, 1, -2, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK("§1 the poller's message names its handle", contains(oxs_last_error(), "handle 0x"));
    oxs_poller_close(p);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_dir = argv[1];
    broadcast_dial();
    backlog_at_listen();
    reuseaddr_before_bind();
    reuseport_before_bind();
    v6only_before_bind();
    nodelay_keepalive();
    mode_before_connect();
    interruptible_during_connect();
    brackets_message();
    fd_in_messages();
    return CHECK_SUMMARY("ports_endpoints");
}

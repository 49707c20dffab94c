/* Options (API.md §7): every option set and read back on the socket kinds it
 * applies to, read-only and unknown options, values out of range, OXS_OPT_ERROR,
 * DOMAIN/TYPE, PEER_*, LINGER, multicast membership, and what accepted sockets
 * inherit from their listener (§4).
 *
 * Usage: opts_options SCRATCH_DIR. Prints one FAIL line per broken rule and the
 * counts; exits non-zero on any failure. */
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

#include <net/if.h>
#include <sys/socket.h>

static const char *g_dir;

/* True when this thread's last error names `name`, compared without case,
 * underscores, spaces or dashes (so "OXS_OPT_RECV_BUFFER" matches "recv buffer"). */
static int msg_names(const char *name)
{
    char a[1024], b[128];
    size_t i, j = 0;
    const char *m = oxs_last_error();
    for (i = 0; m[i] && j + 1 < sizeof a; i++)
        if (m[i] != '_' && m[i] != ' ' && m[i] != '-')
            a[j++] = (char)(m[i] >= 'A' && m[i] <= 'Z' ? m[i] + 32 : m[i]);
    a[j] = 0;
    j = 0;
    for (i = 0; name[i] && j + 1 < sizeof b; i++)
        if (name[i] != '_' && name[i] != ' ' && name[i] != '-')
            b[j++] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    b[j] = 0;
    return strstr(a, b) != NULL;
}

static oxs_socket open_sock(int32_t domain, int32_t type)
{
    oxs_socket s = OXS_INVALID;
    SETUP(oxs_socket_open(domain, type, 0, &s));
    return s;
}

/* setopt then getopt must give `want` back. */
static void set_get(oxs_socket s, int32_t opt, const char *name, int64_t value, int64_t want, const char *kind)
{
    char rule[160];
    int64_t got = -12345;
    snprintf(rule, sizeof rule, "§7 %s on %s: set %" PRId64 " reads back %" PRId64, name, kind, value, want);
    if (!ST(oxs_setopt(s, opt, value), OXS_OK, rule))
        return;
    if (ST(oxs_getopt(s, opt, &got), OXS_OK, rule))
        CHECK(got == want, rule, "getopt gave %" PRId64, got);
}

/* setopt must fail with `want`; for INVALID_ARGUMENT the message must name the option. */
static void set_refused(oxs_socket s, int32_t opt, const char *name, int64_t value, oxs_status want,
                        const char *kind)
{
    char rule[160];
    snprintf(rule, sizeof rule, "§7 %s on %s: set %" PRId64 " refused with %s", name, kind, value,
             oxs_strerror(want));
    if (ST(oxs_setopt(s, opt, value), want, rule) && want == OXS_ERR_INVALID_ARGUMENT) {
        CHECK(msg_names(name + 8 /* skip OXS_OPT_ */), rule, "message does not name %s", name);
    }
}

static void get_refused(oxs_socket s, int32_t opt, const char *name, oxs_status want, const char *kind)
{
    char rule[160];
    int64_t v = 424242;
    snprintf(rule, sizeof rule, "§7 getopt %s on %s refused with %s", name, kind, oxs_strerror(want));
    if (ST(oxs_getopt(s, opt, &v), want, rule))
        CHECK(v == 424242, "§1 getopt's value is left alone on failure", "value became %" PRId64, v);
}

#define OPT(o) o, #o

struct kind {
    const char *name;
    oxs_socket s;
    int32_t domain, type;
};

static void boolean_options(struct kind *k, int nk)
{
    struct {
        int32_t opt;
        const char *name;
        int tcp, udp, unx, v6only; /* where it applies */
    } bools[] = {
        {OPT(OXS_OPT_REUSEADDR), 1, 1, 0, 0},  {OPT(OXS_OPT_REUSEPORT), 1, 1, 0, 0},
        {OPT(OXS_OPT_NODELAY), 1, 0, 0, 0},    {OPT(OXS_OPT_KEEPALIVE), 1, 0, 0, 0},
        {OPT(OXS_OPT_NONBLOCKING), 1, 1, 1, 0}, {OPT(OXS_OPT_BROADCAST), 0, 1, 0, 0},
        {OPT(OXS_OPT_V6ONLY), 0, 0, 0, 1},     {OPT(OXS_OPT_MULTICAST_LOOP), 0, 1, 0, 0},
        {OPT(OXS_OPT_INTERRUPTIBLE), 1, 1, 1, 0},
    };
    for (size_t b = 0; b < sizeof bools / sizeof bools[0]; b++) {
        for (int i = 0; i < nk; i++) {
            int tcp = k[i].type == OXS_TYPE_STREAM && k[i].domain != OXS_DOMAIN_UNIX;
            int udp = k[i].type == OXS_TYPE_DGRAM && k[i].domain != OXS_DOMAIN_UNIX;
            int unx = k[i].domain == OXS_DOMAIN_UNIX;
            int applies = (bools[b].tcp && tcp) || (bools[b].udp && udp) || (bools[b].unx && unx) ||
                          (bools[b].v6only && k[i].domain == OXS_DOMAIN_INET6);
            /* IPv6 has no broadcast: BROADCAST applies to UDP over IPv4 only */
            if (bools[b].opt == OXS_OPT_BROADCAST && k[i].domain == OXS_DOMAIN_INET6) {
                set_refused(k[i].s, bools[b].opt, bools[b].name, 1, OXS_ERR_UNSUPPORTED, k[i].name);
                continue;
            }
            if (applies) {
                set_get(k[i].s, bools[b].opt, bools[b].name, 1, 1, k[i].name);
                set_get(k[i].s, bools[b].opt, bools[b].name, 0, 0, k[i].name);
                set_refused(k[i].s, bools[b].opt, bools[b].name, -1, OXS_ERR_INVALID_ARGUMENT, k[i].name);
                set_refused(k[i].s, bools[b].opt, bools[b].name, 2, OXS_ERR_INVALID_ARGUMENT, k[i].name);
            }
        }
    }
    /* Options that do not fit the socket: UNSUPPORTED (the examples of §1 and §7). */
    for (int i = 0; i < nk; i++) {
        int udp = k[i].type == OXS_TYPE_DGRAM && k[i].domain != OXS_DOMAIN_UNIX;
        int unx = k[i].domain == OXS_DOMAIN_UNIX;
        if (udp || unx) {
            set_refused(k[i].s, OPT(OXS_OPT_NODELAY), 1, OXS_ERR_UNSUPPORTED, k[i].name);
            get_refused(k[i].s, OPT(OXS_OPT_NODELAY), OXS_ERR_UNSUPPORTED, k[i].name);
            set_refused(k[i].s, OPT(OXS_OPT_KEEPALIVE_IDLE_S), 30, OXS_ERR_UNSUPPORTED, k[i].name);
        }
        if (unx) {
            set_refused(k[i].s, OPT(OXS_OPT_TTL), 64, OXS_ERR_UNSUPPORTED, k[i].name);
            set_refused(k[i].s, OPT(OXS_OPT_V6ONLY), 1, OXS_ERR_UNSUPPORTED, k[i].name);
            set_refused(k[i].s, OPT(OXS_OPT_MULTICAST_TTL), 2, OXS_ERR_UNSUPPORTED, k[i].name);
        }
        if (k[i].domain == OXS_DOMAIN_INET) {
            set_refused(k[i].s, OPT(OXS_OPT_V6ONLY), 1, OXS_ERR_UNSUPPORTED, k[i].name);
            get_refused(k[i].s, OPT(OXS_OPT_V6ONLY), OXS_ERR_UNSUPPORTED, k[i].name);
        }
    }
}

static void numeric_options(struct kind *k, int nk)
{
    for (int i = 0; i < nk; i++) {
        int tcp = k[i].type == OXS_TYPE_STREAM && k[i].domain != OXS_DOMAIN_UNIX;
        int udp = k[i].type == OXS_TYPE_DGRAM && k[i].domain != OXS_DOMAIN_UNIX;
        const char *n = k[i].name;
        oxs_socket s = k[i].s;
        /* timeouts: every socket; library-kept, so they read back exactly */
        set_get(s, OPT(OXS_OPT_READ_TIMEOUT_MS), 200, 200, n);
        set_get(s, OPT(OXS_OPT_READ_TIMEOUT_MS), 0, 0, n);
        set_get(s, OPT(OXS_OPT_WRITE_TIMEOUT_MS), 1234, 1234, n);
        set_get(s, OPT(OXS_OPT_WRITE_TIMEOUT_MS), 0, 0, n);
        set_get(s, OPT(OXS_OPT_CONNECT_TIMEOUT_MS), 3000, 3000, n);
        set_get(s, OPT(OXS_OPT_CONNECT_TIMEOUT_MS), 0, 0, n);
        set_refused(s, OPT(OXS_OPT_READ_TIMEOUT_MS), -5, OXS_ERR_INVALID_ARGUMENT, n);
        set_refused(s, OPT(OXS_OPT_WRITE_TIMEOUT_MS), -5, OXS_ERR_INVALID_ARGUMENT, n);
        set_refused(s, OPT(OXS_OPT_CONNECT_TIMEOUT_MS), -5, OXS_ERR_INVALID_ARGUMENT, n);
        set_refused(s, OPT(OXS_OPT_READ_TIMEOUT_MS), INT64_MIN, OXS_ERR_INVALID_ARGUMENT, n);
        /* buffers: every socket; Linux doubles the value set, getopt reports the kernel's */
        set_get(s, OPT(OXS_OPT_RECV_BUFFER), 65536, 131072, n);
        set_get(s, OPT(OXS_OPT_SEND_BUFFER), 65536, 131072, n);
        set_refused(s, OPT(OXS_OPT_RECV_BUFFER), -1, OXS_ERR_INVALID_ARGUMENT, n);
        set_refused(s, OPT(OXS_OPT_SEND_BUFFER), -4096, OXS_ERR_INVALID_ARGUMENT, n);
        {
            int fd = -1, kv = 0;
            socklen_t kl = sizeof kv;
            int64_t got = 0;
            if (ST(oxs_fd(s, &fd), OXS_OK, "§10 oxs_fd") && ST(oxs_getopt(s, OXS_OPT_RECV_BUFFER, &got), OXS_OK, "§7 RECV_BUFFER")) {
                getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kv, &kl);
                CHECK(got == kv, "§7 RECV_BUFFER reports the kernel's value", "getopt %" PRId64 ", kernel %d on %s", got, kv, n);
            }
        }
        if (tcp) {
            set_get(s, OPT(OXS_OPT_KEEPALIVE_IDLE_S), 77, 77, n);
            set_get(s, OPT(OXS_OPT_KEEPALIVE_INTERVAL_S), 13, 13, n);
            set_get(s, OPT(OXS_OPT_KEEPALIVE_COUNT), 4, 4, n);
            set_refused(s, OPT(OXS_OPT_KEEPALIVE_IDLE_S), -1, OXS_ERR_INVALID_ARGUMENT, n);
            set_refused(s, OPT(OXS_OPT_KEEPALIVE_INTERVAL_S), -1, OXS_ERR_INVALID_ARGUMENT, n);
            set_refused(s, OPT(OXS_OPT_KEEPALIVE_COUNT), -1, OXS_ERR_INVALID_ARGUMENT, n);
            set_get(s, OPT(OXS_OPT_LINGER_S), 5, 5, n);
            set_get(s, OPT(OXS_OPT_LINGER_S), 0, 0, n);
            set_get(s, OPT(OXS_OPT_LINGER_S), -1, -1, n);
            set_refused(s, OPT(OXS_OPT_LINGER_S), -2, OXS_ERR_INVALID_ARGUMENT, n);
        }
        if (tcp || udp) {
            set_get(s, OPT(OXS_OPT_TTL), 1, 1, n);
            set_get(s, OPT(OXS_OPT_TTL), 255, 255, n);
            set_get(s, OPT(OXS_OPT_TTL), 64, 64, n);
            set_refused(s, OPT(OXS_OPT_TTL), 256, OXS_ERR_INVALID_ARGUMENT, n);
            set_refused(s, OPT(OXS_OPT_TTL), INT64_MAX, OXS_ERR_INVALID_ARGUMENT, n);
            set_refused(s, OPT(OXS_OPT_TTL), -2, OXS_ERR_INVALID_ARGUMENT, n);
        }
        if (udp) {
            set_get(s, OPT(OXS_OPT_MULTICAST_TTL), 5, 5, n);
            set_get(s, OPT(OXS_OPT_MULTICAST_TTL), 255, 255, n);
            set_refused(s, OPT(OXS_OPT_MULTICAST_TTL), 256, OXS_ERR_INVALID_ARGUMENT, n);
        }
        if (tcp) {
            set_refused(s, OPT(OXS_OPT_MULTICAST_TTL), 5, OXS_ERR_UNSUPPORTED, n);
            set_refused(s, OPT(OXS_OPT_MULTICAST_LOOP), 1, OXS_ERR_UNSUPPORTED, n);
        }
    }
}

static void read_only_and_unknown(struct kind *k, int nk)
{
    int32_t unknown[] = {0, -1, 26 + 1000, 99, INT32_MIN, INT32_MAX};
    for (int i = 0; i < nk; i++) {
        const char *n = k[i].name;
        int64_t v = -7;
        if (ST(oxs_getopt(k[i].s, OXS_OPT_DOMAIN, &v), OXS_OK, "§7 DOMAIN readable"))
            CHECK(v == k[i].domain, "§7 DOMAIN is the socket's domain", "%s: got %" PRId64 " want %d", n, v, k[i].domain);
        if (ST(oxs_getopt(k[i].s, OXS_OPT_TYPE, &v), OXS_OK, "§7 TYPE readable"))
            CHECK(v == k[i].type, "§7 TYPE is the socket's type", "%s: got %" PRId64 " want %d", n, v, k[i].type);
        if (ST(oxs_getopt(k[i].s, OXS_OPT_ERROR, &v), OXS_OK, "§7 ERROR readable"))
            CHECK(v == 0, "§7 ERROR of a fresh socket is 0", "%s: got %" PRId64, n, v);
        set_refused(k[i].s, OPT(OXS_OPT_ERROR), 0, OXS_ERR_UNSUPPORTED, n);
        set_refused(k[i].s, OPT(OXS_OPT_DOMAIN), k[i].domain, OXS_ERR_UNSUPPORTED, n);
        set_refused(k[i].s, OPT(OXS_OPT_TYPE), k[i].type, OXS_ERR_UNSUPPORTED, n);
        set_refused(k[i].s, OPT(OXS_OPT_PEER_UID), 0, OXS_ERR_UNSUPPORTED, n);
        set_refused(k[i].s, OPT(OXS_OPT_PEER_PID), 0, OXS_ERR_UNSUPPORTED, n);
        for (size_t u = 0; u < sizeof unknown / sizeof unknown[0]; u++) {
            int64_t val = 99;
            ST(oxs_setopt(k[i].s, unknown[u], 1), OXS_ERR_INVALID_ARGUMENT, "§1 unknown option number (setopt)");
            ST(oxs_getopt(k[i].s, unknown[u], &val), OXS_ERR_INVALID_ARGUMENT, "§1 unknown option number (getopt)");
            CHECK(val == 99, "§1 getopt's value is left alone on failure", "became %" PRId64, val);
        }
        ST(oxs_getopt(k[i].s, OXS_OPT_TTL, NULL), OXS_ERR_INVALID_ARGUMENT, "§1 NULL out-parameter");
        if (k[i].domain != OXS_DOMAIN_UNIX) {
            get_refused(k[i].s, OPT(OXS_OPT_PEER_UID), OXS_ERR_UNSUPPORTED, n);
            get_refused(k[i].s, OPT(OXS_OPT_PEER_PID), OXS_ERR_UNSUPPORTED, n);
        }
    }
}

static void peer_credentials(void)
{
    oxs_socket p[2];
    int64_t v = -1;
    SETUP(oxs_socketpair(OXS_TYPE_STREAM, p));
    if (ST(oxs_getopt(p[0], OXS_OPT_PEER_UID, &v), OXS_OK, "§7 PEER_UID on a socketpair"))
        CHECK(v == (int64_t)getuid(), "§7 PEER_UID is the peer's uid", "got %" PRId64, v);
    if (ST(oxs_getopt(p[1], OXS_OPT_PEER_PID, &v), OXS_OK, "§7 PEER_PID on a socketpair"))
        CHECK(v == (int64_t)getpid(), "§7 PEER_PID is the peer's pid", "got %" PRId64 " want %d", v, (int)getpid());
    oxs_close(p[0]);
    oxs_close(p[1]);

    /* through listen/accept on a Unix path */
    char path[600], ep[700];
    snprintf(path, sizeof path, "@oxsock-opts-cred-%d", (int)getpid()); /* abstract: no path length limits */
    snprintf(ep, sizeof ep, "unix://%s", path);
    oxs_socket l, c, s;
    SETUP(oxs_listen_on(ep, &l));
    c = open_sock(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM);
    get_refused(c, OPT(OXS_OPT_PEER_UID), OXS_ERR_NOT_CONNECTED, "unconnected Unix stream");
    get_refused(c, OPT(OXS_OPT_PEER_PID), OXS_ERR_NOT_CONNECTED, "unconnected Unix stream");
    SETUP(oxs_connect(c, path));
    SETUP(oxs_accept(l, &s, NULL));
    if (ST(oxs_getopt(s, OXS_OPT_PEER_PID, &v), OXS_OK, "§7 PEER_PID on an accepted Unix socket"))
        CHECK(v == (int64_t)getpid(), "§7 PEER_PID is the peer's pid", "got %" PRId64, v);
    if (ST(oxs_getopt(c, OXS_OPT_PEER_UID, &v), OXS_OK, "§7 PEER_UID on a connected Unix client"))
        CHECK(v == (int64_t)getuid(), "§7 PEER_UID is the peer's uid", "got %" PRId64, v);
    oxs_close(c);
    oxs_close(s);
    oxs_close(l);
}

static oxs_socket udp_bound(void)
{
    oxs_socket u = open_sock(OXS_DOMAIN_INET, OXS_TYPE_DGRAM);
    SETUP(oxs_bind(u, "127.0.0.1:0"));
    return u;
}

static void error_option(void)
{
    /* A connected UDP socket sends to a closed port: the ICMP port-unreachable leaves
     * ECONNREFUSED pending; reading OXS_OPT_ERROR reports it once, then 0. */
    char addr[OXS_ADDR_STRLEN];
    oxs_socket gone = udp_bound();
    local_text(gone, addr, sizeof addr);
    SETUP(oxs_close(gone));
    oxs_socket u = open_sock(OXS_DOMAIN_INET, OXS_TYPE_DGRAM);
    SETUP(oxs_connect(u, addr));
    size_t n = 0;
    SETUP(oxs_send(u, "x", 1, 0, &n));
    int64_t v = 0;
    for (int i = 0; i < 50 && v == 0; i++) { /* the ICMP comes back within microseconds */
        sleep_ms(20);
        SETUP(oxs_getopt(u, OXS_OPT_ERROR, &v));
    }
    CHECK(v == OXS_ERR_CONNECTION_REFUSED, "§7 ERROR reports the pending error as an oxs_status",
          "got %" PRId64 ", wanted %d", v, OXS_ERR_CONNECTION_REFUSED);
    if (ST(oxs_getopt(u, OXS_OPT_ERROR, &v), OXS_OK, "§7 ERROR readable"))
        CHECK(v == 0, "§7 reading ERROR clears it", "second read gave %" PRId64, v);
    oxs_close(u);

    /* A non-blocking TCP connect to a closed port: ERROR says refused, then 0. */
    char taddr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(taddr, sizeof taddr);
    oxs_close(l);
    oxs_socket c = open_sock(OXS_DOMAIN_INET, OXS_TYPE_STREAM);
    SETUP(oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    oxs_status st = oxs_connect(c, taddr);
    CHECK(st == OXS_ERR_WOULD_BLOCK || st == OXS_ERR_CONNECTION_REFUSED, "§4 non-blocking connect",
          "status %d", st);
    if (st == OXS_ERR_WOULD_BLOCK) {
        oxs_pollitem it = {c, OXS_POLL_OUT, 0};
        size_t nr = 0;
        ST(oxs_poll(&it, 1, 5000, &nr), OXS_OK, "§9 poll for the connect's end");
        if (ST(oxs_getopt(c, OXS_OPT_ERROR, &v), OXS_OK, "§7 ERROR readable"))
            CHECK(v == OXS_ERR_CONNECTION_REFUSED, "§4 ERROR gives the connect's result", "got %" PRId64, v);
        if (ST(oxs_getopt(c, OXS_OPT_ERROR, &v), OXS_OK, "§7 ERROR readable"))
            CHECK(v == 0, "§7 reading ERROR clears it", "got %" PRId64, v);
    }
    oxs_close(c);
}

static void linger(void)
{
    oxs_socket c, s;
    size_t n = 0;
    char buf[16];
    /* LINGER 0: close resets the connection; the peer sees CONNECTION_RESET. */
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(c, OXS_OPT_LINGER_S, 0));
    SETUP(oxs_close(c));
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 5000));
    ST(oxs_read(s, buf, sizeof buf, &n), OXS_ERR_CONNECTION_RESET, "§7 LINGER_S 0 resets the peer");
    oxs_close(s);
    /* LINGER -1 (off): an orderly close; the peer reads the data then the end. */
    tcp_pair(&c, &s);
    SETUP(oxs_setopt(c, OXS_OPT_LINGER_S, -1));
    SETUP(oxs_write_all(c, "bye", 3, NULL));
    SETUP(oxs_close(c));
    SETUP(oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 5000));
    if (ST(oxs_read_exact(s, buf, 3, &n), OXS_OK, "§7 LINGER_S -1 closes in order"))
        CHECK(memcmp(buf, "bye", 3) == 0, "§7 LINGER_S -1 keeps the data", "");
    if (ST(oxs_read(s, buf, sizeof buf, &n), OXS_OK, "§7 LINGER_S -1: the end of stream"))
        CHECK(n == 0, "§4 the orderly end reads 0", "n=%zu", n);
    oxs_close(s);
}

static void multicast(void)
{
    char idx[16];
    snprintf(idx, sizeof idx, "%u", if_nametoindex("lo"));
    oxs_socket u = open_sock(OXS_DOMAIN_INET, OXS_TYPE_DGRAM);
    ST(oxs_join_multicast(u, "239.1.2.3", "lo"), OXS_OK, "§7 join v4 group on lo by name");
    ST(oxs_leave_multicast(u, "239.1.2.3", "lo"), OXS_OK, "§7 leave v4 group on lo by name");
    ST(oxs_join_multicast(u, "239.1.2.4", idx), OXS_OK, "§7 join v4 group on lo by index");
    ST(oxs_leave_multicast(u, "239.1.2.4", idx), OXS_OK, "§7 leave v4 group on lo by index");
    ST(oxs_join_multicast(u, "239.1.2.5", "127.0.0.1"), OXS_OK, "§7 join v4 group by local address");
    ST(oxs_leave_multicast(u, "239.1.2.5", "127.0.0.1"), OXS_OK, "§7 leave v4 group by local address");
    CHECK(oxs_leave_multicast(u, "239.1.2.3", "lo") != OXS_OK, "§7 leaving a group not joined fails", "");
    CHECK(oxs_last_error()[0] != 0, "§1 a failure records a message", "");
    ST(oxs_join_multicast(u, "not-a-group", "lo"), OXS_ERR_ADDRESS, "§7 join: group that does not parse");
    ST(oxs_join_multicast(u, "ff02::1:3", "lo"), OXS_ERR_ADDRESS, "§7 join: v6 group on a v4 socket");
    ST(oxs_join_multicast(u, NULL, "lo"), OXS_ERR_INVALID_ARGUMENT, "§1 join: NULL group");
    ST(oxs_leave_multicast(u, NULL, "lo"), OXS_ERR_INVALID_ARGUMENT, "§1 leave: NULL group");
    CHECK(oxs_join_multicast(u, "127.0.0.1", "lo") != OXS_OK, "§7 join: a unicast address is no group", "");
    CHECK(oxs_join_multicast(u, "239.1.2.6", "nosuchif0") != OXS_OK, "§7 join: unknown interface", "");
    CHECK(oxs_last_error()[0] != 0, "§1 a failure records a message", "");
    oxs_close(u);

    oxs_socket u6 = open_sock(OXS_DOMAIN_INET6, OXS_TYPE_DGRAM);
    ST(oxs_join_multicast(u6, "ff02::1:3", "lo"), OXS_OK, "§7 join v6 group on lo by name");
    ST(oxs_leave_multicast(u6, "ff02::1:3", "lo"), OXS_OK, "§7 leave v6 group on lo by name");
    ST(oxs_join_multicast(u6, "ff15::1234", idx), OXS_OK, "§7 join v6 group on lo by index");
    ST(oxs_leave_multicast(u6, "ff15::1234", idx), OXS_OK, "§7 leave v6 group on lo by index");
    ST(oxs_join_multicast(u6, "ff02::zz", "lo"), OXS_ERR_ADDRESS, "§7 join v6: group that does not parse");
    CHECK(oxs_join_multicast(u6, "ff02::1:4", "nosuchif0") != OXS_OK, "§7 join v6: unknown interface", "");
    oxs_close(u6);

    oxs_socket t = open_sock(OXS_DOMAIN_INET, OXS_TYPE_STREAM);
    ST(oxs_join_multicast(t, "239.1.2.3", "lo"), OXS_ERR_UNSUPPORTED, "§7 join on a TCP socket");
    oxs_close(t);
    oxs_socket x = open_sock(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM);
    ST(oxs_join_multicast(x, "239.1.2.3", "lo"), OXS_ERR_UNSUPPORTED, "§7 join on a Unix socket");
    oxs_close(x);
}

static void expect_opt(oxs_socket s, int32_t opt, const char *name, int64_t want, const char *rule)
{
    int64_t v = -999;
    if (ST(oxs_getopt(s, opt, &v), OXS_OK, rule))
        CHECK(v == want, rule, "%s: accepted socket has %" PRId64 ", wanted %" PRId64, name, v, want);
}

static void inheritance(void)
{
    const char *rule = "§4 an accepted socket inherits the listener's options";
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr);
    SETUP(oxs_setopt(l, OXS_OPT_NODELAY, 1));
    SETUP(oxs_setopt(l, OXS_OPT_KEEPALIVE, 1));
    SETUP(oxs_setopt(l, OXS_OPT_KEEPALIVE_IDLE_S, 77));
    SETUP(oxs_setopt(l, OXS_OPT_KEEPALIVE_INTERVAL_S, 9));
    SETUP(oxs_setopt(l, OXS_OPT_KEEPALIVE_COUNT, 3));
    SETUP(oxs_setopt(l, OXS_OPT_LINGER_S, 2));
    SETUP(oxs_setopt(l, OXS_OPT_RECV_BUFFER, 65536));
    SETUP(oxs_setopt(l, OXS_OPT_TTL, 33));
    SETUP(oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 1234));
    SETUP(oxs_setopt(l, OXS_OPT_WRITE_TIMEOUT_MS, 2345));
    SETUP(oxs_setopt(l, OXS_OPT_INTERRUPTIBLE, 1));
    SETUP(oxs_setopt(l, OXS_OPT_NONBLOCKING, 1));
    oxs_socket c = open_sock(OXS_DOMAIN_INET, OXS_TYPE_STREAM), s = OXS_INVALID;
    SETUP(oxs_connect(c, addr));
    oxs_pollitem it = {l, OXS_POLL_IN, 0};
    size_t nr = 0;
    SETUP(oxs_poll(&it, 1, 5000, &nr));
    SETUP(oxs_accept(l, &s, NULL));
    expect_opt(s, OPT(OXS_OPT_NODELAY), 1, rule);
    expect_opt(s, OPT(OXS_OPT_KEEPALIVE), 1, rule);
    expect_opt(s, OPT(OXS_OPT_KEEPALIVE_IDLE_S), 77, rule);
    expect_opt(s, OPT(OXS_OPT_KEEPALIVE_INTERVAL_S), 9, rule);
    expect_opt(s, OPT(OXS_OPT_KEEPALIVE_COUNT), 3, rule);
    expect_opt(s, OPT(OXS_OPT_LINGER_S), 2, rule);
    expect_opt(s, OPT(OXS_OPT_RECV_BUFFER), 131072, rule);
    expect_opt(s, OPT(OXS_OPT_TTL), 33, rule);
    expect_opt(s, OPT(OXS_OPT_READ_TIMEOUT_MS), 1234, rule);
    expect_opt(s, OPT(OXS_OPT_WRITE_TIMEOUT_MS), 2345, rule);
    expect_opt(s, OPT(OXS_OPT_INTERRUPTIBLE), 1, rule);
    expect_opt(s, OPT(OXS_OPT_NONBLOCKING), 0, "§4 an accepted socket starts blocking");
    /* the accepted socket really blocks (with the inherited read timeout) */
    char b[4];
    size_t n = 0;
    long long t0 = now_ms();
    ST(oxs_read(s, b, sizeof b, &n), OXS_ERR_TIMED_OUT, "§4 accepted socket blocks, with the inherited read timeout");
    long long dt = now_ms() - t0;
    CHECK(dt >= 1000 && dt < 6000, "§4 inherited READ_TIMEOUT_MS 1234 applies", "returned after %lld ms", dt);
    oxs_close(s);
    oxs_close(c);
    oxs_close(l);

    /* Unix stream listener: timeouts and INTERRUPTIBLE inherited, NONBLOCKING not */
    char path[600], ep[700];
    snprintf(path, sizeof path, "@oxsock-opts-inherit-%d", (int)getpid());
    snprintf(ep, sizeof ep, "unix://%s", path);
    SETUP(oxs_listen_on(ep, &l));
    SETUP(oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 4321));
    SETUP(oxs_setopt(l, OXS_OPT_WRITE_TIMEOUT_MS, 999));
    SETUP(oxs_setopt(l, OXS_OPT_INTERRUPTIBLE, 1));
    SETUP(oxs_setopt(l, OXS_OPT_NONBLOCKING, 1));
    c = open_sock(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM);
    SETUP(oxs_connect(c, path));
    it.socket = l;
    SETUP(oxs_poll(&it, 1, 5000, &nr));
    SETUP(oxs_accept(l, &s, NULL));
    expect_opt(s, OPT(OXS_OPT_READ_TIMEOUT_MS), 4321, rule);
    expect_opt(s, OPT(OXS_OPT_WRITE_TIMEOUT_MS), 999, rule);
    expect_opt(s, OPT(OXS_OPT_INTERRUPTIBLE), 1, rule);
    expect_opt(s, OPT(OXS_OPT_NONBLOCKING), 0, "§4 an accepted socket starts blocking");
    oxs_close(s);
    oxs_close(c);
    oxs_close(l);
}

int main(int argc, char **argv)
{
    g_dir = argc > 1 ? argv[1] : "/tmp";
    struct kind k[] = {
        {"TCP v4", 0, OXS_DOMAIN_INET, OXS_TYPE_STREAM},  {"TCP v6", 0, OXS_DOMAIN_INET6, OXS_TYPE_STREAM},
        {"UDP v4", 0, OXS_DOMAIN_INET, OXS_TYPE_DGRAM},   {"UDP v6", 0, OXS_DOMAIN_INET6, OXS_TYPE_DGRAM},
        {"Unix stream", 0, OXS_DOMAIN_UNIX, OXS_TYPE_STREAM}, {"Unix dgram", 0, OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM},
        {"Unix seqpacket", 0, OXS_DOMAIN_UNIX, OXS_TYPE_SEQPACKET},
    };
    int nk = (int)(sizeof k / sizeof k[0]);
    for (int i = 0; i < nk; i++)
        k[i].s = open_sock(k[i].domain, k[i].type);
    boolean_options(k, nk);
    numeric_options(k, nk);
    read_only_and_unknown(k, nk);
    for (int i = 0; i < nk; i++)
        ST(oxs_close(k[i].s), OXS_OK, "§4 close");
    peer_credentials();
    error_option();
    linger();
    multicast();
    inheritance();
    return summary("opts_options");
}

/*
 * core_endpoints.c - contract §8: oxs_dial and oxs_listen_on for every scheme, the
 * query keys per scheme and call, ADDRESS vs INVALID_ARGUMENT, dual-stack listeners,
 * tcp6 V6ONLY, mode=, Unix socket file rules, dial errors and the dial timeout.
 * Usage: core_endpoints [scratch-folder]; OXS_TEST_DUAL_HOST (optional) names a host
 * resolving to 127.0.0.1 and ::1.
 */
#include <sys/un.h>

#include "core_util.h"

static int64_t opt(oxs_socket s, int o)
{
    int64_t v = -999;
    if (oxs_getopt(s, o, &v) != OXS_OK)
        return -999;
    return v;
}

/* listen_on(listen_ep), dial(dial_fmt with %d = port or the listener's text), move a
 * byte each way (or a datagram). */
static void scheme_round_trip(const char *listen_ep, const char *dial_ep_fmt, int domain, int type)
{
    oxs_socket l = 0, c = 0, a = 0;
    char dial_ep[600], rule[700], buf[16];
    size_t n = 0;
    snprintf(rule, sizeof rule, "§8 listen_on %s", listen_ep);
    if (!CHECK_OK(rule, oxs_listen_on(listen_ep, &l)))
        return;
    snprintf(dial_ep, sizeof dial_ep, dial_ep_fmt, local_port(l));
    snprintf(rule, sizeof rule, "§8 %s listener: DOMAIN", listen_ep);
    CHECK_INT(rule, opt(l, OXS_OPT_DOMAIN), domain);
    snprintf(rule, sizeof rule, "§8 %s listener: TYPE", listen_ep);
    CHECK_INT(rule, opt(l, OXS_OPT_TYPE), type);
    snprintf(rule, sizeof rule, "§8 dial %s", dial_ep);
    if (!CHECK_OK(rule, oxs_dial(dial_ep, 3000, &c))) {
        oxs_close(l);
        return;
    }
    CHECK_INT("§8 dialled socket TYPE", opt(c, OXS_OPT_TYPE), type);
    oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 3000);
    if (type == OXS_TYPE_DGRAM) {
        oxs_addr from;
        CHECK_OK("§8 dialled datagram socket sends", oxs_write(c, "d", 1, &n));
        CHECK_OK("§8 the listener receives", oxs_recv_from(l, buf, sizeof buf, &n, &from));
        CHECK_INT("§8 one byte", n, 1);
        CHECK_OK("§8 the listener replies to the sender", oxs_send_to(l, "r", 1, &from, &n));
        oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 3000);
        CHECK_OK("§8 the dialled socket gets the reply", oxs_read(c, buf, sizeof buf, &n));
    } else {
        CHECK_OK("§8 accept the dialled connection", oxs_accept(l, &a, NULL));
        CHECK_OK("§8 write", oxs_write(c, "s", 1, &n));
        oxs_setopt(a, OXS_OPT_READ_TIMEOUT_MS, 3000);
        CHECK_OK("§8 read", oxs_read(a, buf, sizeof buf, &n));
        CHECK_INT("§8 one byte", n, 1);
        oxs_close(a);
    }
    oxs_close(c);
    oxs_close(l);
}

static void schemes(void)
{
    char ep[600], cwd[300];
    long pid = (long)getpid();
    scheme_round_trip("tcp://127.0.0.1:0", "tcp://127.0.0.1:%d", OXS_DOMAIN_INET, OXS_TYPE_STREAM);
    scheme_round_trip("tcp4://localhost:0", "tcp4://localhost:%d", OXS_DOMAIN_INET, OXS_TYPE_STREAM);
    scheme_round_trip("tcp6://[::1]:0", "tcp6://[::1]:%d", OXS_DOMAIN_INET6, OXS_TYPE_STREAM);
    scheme_round_trip("tcp://[::1]:0", "tcp://[::1]:%d", OXS_DOMAIN_INET6, OXS_TYPE_STREAM);
    scheme_round_trip("udp://127.0.0.1:0", "udp://127.0.0.1:%d", OXS_DOMAIN_INET, OXS_TYPE_DGRAM);
    scheme_round_trip("udp4://127.0.0.1:0", "udp4://localhost:%d", OXS_DOMAIN_INET, OXS_TYPE_DGRAM);
    scheme_round_trip("udp6://[::1]:0", "udp6://[::1]:%d", OXS_DOMAIN_INET6, OXS_TYPE_DGRAM);
    unlink("rel.sock");
    scheme_round_trip("unix://rel.sock", "unix://rel.sock", OXS_DOMAIN_UNIX, OXS_TYPE_STREAM);
    if (getcwd(cwd, sizeof cwd) != NULL && strlen(cwd) < 80) {
        char d[600];
        snprintf(ep, sizeof ep, "unix://%s/abs.sock", cwd);
        snprintf(d, sizeof d, "unix://%s/abs.sock", cwd);
        scheme_round_trip(ep, d, OXS_DOMAIN_UNIX, OXS_TYPE_STREAM);
    }
    snprintf(ep, sizeof ep, "unix://@oxs-ep-%ld", pid);
    scheme_round_trip(ep, ep, OXS_DOMAIN_UNIX, OXS_TYPE_STREAM);
    unlink("pk.sock");
    scheme_round_trip("unixpacket://pk.sock", "unixpacket://pk.sock", OXS_DOMAIN_UNIX,
                      OXS_TYPE_SEQPACKET);
    unlink("gram.sock");
    scheme_round_trip("unixgram://gram.sock", "unixgram://gram.sock", OXS_DOMAIN_UNIX,
                      OXS_TYPE_DGRAM);
    snprintf(ep, sizeof ep, "unixgram://@oxs-gram-%ld", pid);
    scheme_round_trip(ep, ep, OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM);

    /* unix://rel/path is the relative path rel/path; the address is taken literally. */
    {
        oxs_socket l = 0;
        char t[OXS_ADDR_STRLEN];
        mkdir("d", 0700);
        unlink("d/x.sock");
        if (CHECK_OK("§8 unix://rel/path", oxs_listen_on("unix://d/x.sock", &l))) {
            CHECK("§8 unix://d/x.sock is the relative path d/x.sock", access("d/x.sock", F_OK) == 0);
            CHECK_STR("§8 local_addr", local_text(l, t), "d/x.sock");
            oxs_close(l);
        }
        unlink("a%41b.sock");
        if (CHECK_OK("§8 the address is not %-decoded", oxs_listen_on("unix://a%41b.sock", &l))) {
            CHECK("§8 a%41b.sock exists literally", access("a%41b.sock", F_OK) == 0);
            oxs_close(l);
        }
    }

    /* unixgram dial: bound to an autobound abstract name, so that the server can reply. */
    {
        oxs_socket l = 0, c = 0;
        char t[OXS_ADDR_STRLEN];
        unlink("g2.sock");
        if (CHECK_OK("§8 listen unixgram", oxs_listen_on("unixgram://g2.sock", &l)) &&
            CHECK_OK("§8 dial unixgram", oxs_dial("unixgram://g2.sock", 1000, &c))) {
            local_text(c, t);
            CHECK("§8 a unixgram client is bound to an autobound abstract name", t[0] == '@');
        }
        oxs_close(c);
        oxs_close(l);
    }
}

static void dual_stack(void)
{
    const char *eps[] = {"tcp://*:0", "tcp://[::]:0", "tcp://:0"};
    size_t i;
    for (i = 0; i < 3; i++) {
        oxs_socket l = 0, c = 0, a = 0;
        char rule[128], d[64];
        snprintf(rule, sizeof rule, "§8 listen_on %s", eps[i]);
        if (!CHECK_OK(rule, oxs_listen_on(eps[i], &l)))
            continue;
        snprintf(rule, sizeof rule, "§8 %s listens on IPv6", eps[i]);
        CHECK_INT(rule, opt(l, OXS_OPT_DOMAIN), OXS_DOMAIN_INET6);
        snprintf(rule, sizeof rule, "§8 %s has V6ONLY 0", eps[i]);
        CHECK_INT(rule, opt(l, OXS_OPT_V6ONLY), 0);
        snprintf(d, sizeof d, "tcp4://127.0.0.1:%d", local_port(l));
        snprintf(rule, sizeof rule, "§8 an IPv4 client reaches a %s listener", eps[i]);
        if (CHECK_OK(rule, oxs_dial(d, 3000, &c)))
            CHECK_OK(rule, oxs_accept(l, &a, NULL));
        oxs_close(a);
        oxs_close(c);
        snprintf(d, sizeof d, "tcp6://[::1]:%d", local_port(l));
        snprintf(rule, sizeof rule, "§8 an IPv6 client reaches a %s listener", eps[i]);
        if (CHECK_OK(rule, oxs_dial(d, 3000, &c)))
            CHECK_OK(rule, oxs_accept(l, &a, NULL));
        oxs_close(a);
        oxs_close(c);
        oxs_close(l);
    }
    {
        oxs_socket l = 0, c = 0;
        char d[64];
        if (CHECK_OK("§8 listen tcp6", oxs_listen_on("tcp6://[::]:0", &l))) {
            CHECK_INT("§8 tcp6:// sets V6ONLY 1", opt(l, OXS_OPT_V6ONLY), 1);
            snprintf(d, sizeof d, "tcp4://127.0.0.1:%d", local_port(l));
            CHECK_ST("§8 an IPv4 client does not reach a V6ONLY listener", oxs_dial(d, 2000, &c),
                     OXS_ERR_CONNECTION_REFUSED);
            oxs_close(l);
        }
        if (CHECK_OK("§8 listen tcp6 v6only=0", oxs_listen_on("tcp6://[::]:0?v6only=0", &l))) {
            CHECK_INT("§8 tcp6 ... unless the query says otherwise", opt(l, OXS_OPT_V6ONLY), 0);
            oxs_close(l);
        }
        if (CHECK_OK("§8 udp://*:0", oxs_listen_on("udp://*:0", &l))) {
            CHECK_INT("§8 UDP listeners never set SO_REUSEADDR", opt(l, OXS_OPT_REUSEADDR), 0);
            oxs_close(l);
        }
    }
    {
        oxs_socket s = 0;
        CHECK_ST("§8 * is for listen_on only", oxs_dial("tcp://*:80", 500, &s), OXS_ERR_ADDRESS);
        CHECK_ST("§8 an empty host is for listen_on only", oxs_dial("tcp://:80", 500, &s),
                 OXS_ERR_ADDRESS);
    }
}

typedef struct {
    const char *ep;
    int call; /* 0 listen_on, 1 dial */
    oxs_status want;
} ep_case;

static void query_keys(void)
{
    char lst[OXS_ADDR_STRLEN], ep[400];
    oxs_socket l = 0, s = 0, ul = 0;
    int port;
    size_t i;

    /* Keys that apply, and their effect. */
    if (CHECK_OK("§8 tcp listen keys",
                 oxs_listen_on("tcp://127.0.0.1:0?backlog=5&reuseaddr=0&reuseport=1&nodelay=1&keepalive=1",
                               &l))) {
        CHECK_INT("§8 reuseaddr=0", opt(l, OXS_OPT_REUSEADDR), 0);
        CHECK_INT("§8 reuseport=1", opt(l, OXS_OPT_REUSEPORT), 1);
        CHECK_INT("§8 nodelay=1", opt(l, OXS_OPT_NODELAY), 1);
        CHECK_INT("§8 keepalive=1", opt(l, OXS_OPT_KEEPALIVE), 1);
        oxs_close(l);
    }
    if (CHECK_OK("§8 tcp listen defaults", oxs_listen_on("tcp://127.0.0.1:0", &l))) {
        CHECK_INT("§8 tcp listen: reuseaddr defaults to 1", opt(l, OXS_OPT_REUSEADDR), 1);
        port = local_port(l);
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d?nodelay=1&keepalive=1&interruptible=1", port);
        if (CHECK_OK("§8 tcp dial keys", oxs_dial(ep, 2000, &s))) {
            CHECK_INT("§8 dial nodelay=1", opt(s, OXS_OPT_NODELAY), 1);
            CHECK_INT("§8 dial keepalive=1", opt(s, OXS_OPT_KEEPALIVE), 1);
            CHECK_INT("§8 dial interruptible=1", opt(s, OXS_OPT_INTERRUPTIBLE), 1);
            oxs_close(s);
        }
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d?nodelay=%%31", port);
        if (CHECK_OK("§8 query values are %-decoded", oxs_dial(ep, 2000, &s))) {
            CHECK_INT("§8 nodelay=%31 is nodelay=1", opt(s, OXS_OPT_NODELAY), 1);
            oxs_close(s);
        }
        oxs_close(l);
    }
    if (CHECK_OK("§8 tcp6 listen v6only=1", oxs_listen_on("tcp6://[::1]:0?v6only=1", &l))) {
        CHECK_INT("§8 v6only=1", opt(l, OXS_OPT_V6ONLY), 1);
        oxs_close(l);
    }
    if (CHECK_OK("§8 udp listen keys",
                 oxs_listen_on("udp://127.0.0.1:0?reuseport=1&broadcast=1", &l))) {
        CHECK_INT("§8 udp reuseport=1", opt(l, OXS_OPT_REUSEPORT), 1);
        CHECK_INT("§8 udp broadcast=1", opt(l, OXS_OPT_BROADCAST), 1);
        CHECK_INT("§8 UDP listeners never set SO_REUSEADDR", opt(l, OXS_OPT_REUSEADDR), 0);
        snprintf(ep, sizeof ep, "udp://127.0.0.1:%d?broadcast=1&interruptible=1", local_port(l));
        if (CHECK_OK("§8 udp dial keys", oxs_dial(ep, 2000, &s))) {
            CHECK_INT("§8 udp dial broadcast=1", opt(s, OXS_OPT_BROADCAST), 1);
            CHECK_INT("§8 udp dial interruptible=1", opt(s, OXS_OPT_INTERRUPTIBLE), 1);
            oxs_close(s);
        }
        oxs_close(l);
    }
    if (CHECK_OK("§8 udp6 v6only", oxs_listen_on("udp6://[::1]:0?v6only=1", &l))) {
        CHECK_INT("§8 udp6 v6only=1", opt(l, OXS_OPT_V6ONLY), 1);
        oxs_close(l);
    }
    unlink("q1.sock");
    if (CHECK_OK("§8 unix listen keys", oxs_listen_on("unix://q1.sock?backlog=3&mode=0600", &l))) {
        if (CHECK_OK("§8 unix dial interruptible", oxs_dial("unix://q1.sock?interruptible=1", 1000, &s))) {
            CHECK_INT("§8 unix dial interruptible=1", opt(s, OXS_OPT_INTERRUPTIBLE), 1);
            oxs_close(s);
        }
        oxs_close(l);
    }
    unlink("q2.sock");
    if (CHECK_OK("§8 unixpacket listen keys", oxs_listen_on("unixpacket://q2.sock?backlog=3&mode=0600", &l))) {
        if (CHECK_OK("§8 unixpacket dial interruptible",
                     oxs_dial("unixpacket://q2.sock?interruptible=1", 1000, &s)))
            oxs_close(s);
        oxs_close(l);
    }
    unlink("q3.sock");
    if (CHECK_OK("§8 unixgram listen mode", oxs_listen_on("unixgram://q3.sock?mode=0600", &l))) {
        if (CHECK_OK("§8 unixgram dial interruptible",
                     oxs_dial("unixgram://q3.sock?interruptible=1", 1000, &s)))
            oxs_close(s);
        oxs_close(l);
    }

    /* Keys not listed for the scheme and call, repeated keys, bad values. */
    l = tcp_listener(0, lst);
    port = local_port(l);
    unlink("q4.sock");
    ul = 0;
    CHECK_OK("§8 listen_on unix://q4.sock", oxs_listen_on("unix://q4.sock", &ul));
    {
        char e[40][200];
        ep_case cases[40];
        int k = 0;
#define CASE(cl_, wn_, ...)                                         \
    do {                                                              \
        snprintf(e[k], sizeof e[k], __VA_ARGS__);                     \
        cases[k].ep = e[k];                                           \
        cases[k].call = (cl_);                                        \
        cases[k].want = (wn_);                                        \
        k++;                                                          \
    } while (0)
        const oxs_status IA = OXS_ERR_INVALID_ARGUMENT;
        CASE(1, IA, "tcp://127.0.0.1:%d?backlog=5", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?reuseaddr=1", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?v6only=1", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?mode=0600", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?broadcast=1", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?foo=1", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?nodelay=1&nodelay=1", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?nodelay=yes", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?nodelay=2", port);
        CASE(1, IA, "tcp://127.0.0.1:%d?interruptible=", port);
        CASE(0, IA, "tcp://127.0.0.1:0?interruptible=1");
        CASE(0, IA, "tcp://127.0.0.1:0?broadcast=1");
        CASE(0, IA, "tcp://127.0.0.1:0?mode=0600");
        CASE(0, IA, "tcp://127.0.0.1:0?backlog=abc");
        CASE(0, IA, "tcp://127.0.0.1:0?backlog=1&backlog=2");
        CASE(0, IA, "tcp://127.0.0.1:0?reuseaddr=7");
        CASE(0, IA, "udp://127.0.0.1:0?reuseaddr=1");
        CASE(0, IA, "udp://127.0.0.1:0?nodelay=1");
        CASE(0, IA, "udp://127.0.0.1:0?backlog=1");
        CASE(0, IA, "udp://127.0.0.1:0?keepalive=1");
        CASE(1, IA, "udp://127.0.0.1:%d?reuseport=1", port);
        CASE(1, IA, "udp://127.0.0.1:%d?v6only=1", port);
        CASE(0, IA, "unix://q5.sock?v6only=1");
        CASE(0, IA, "unix://q5.sock?interruptible=1");
        CASE(0, IA, "unix://q5.sock?mode=999");
        CASE(0, IA, "unix://q5.sock?mode=rw");
        CASE(0, IA, "unix://q5.sock?mode=0600&mode=0600");
        CASE(1, IA, "unix://q4.sock?mode=0600");
        CASE(1, IA, "unix://q4.sock?backlog=1");
        CASE(0, IA, "unixgram://q5.sock?backlog=1");
        CASE(1, IA, "unixgram://q4.sock?mode=0600");
        CASE(0, IA, "unixpacket://q5.sock?nodelay=1");
        for (i = 0; i < (size_t)k; i++) {
            oxs_status st;
            s = 77;
            st = cases[i].call ? oxs_dial(cases[i].ep, 1000, &s) : oxs_listen_on(cases[i].ep, &s);
            if (!CHECK_ST("§8 a key not listed for the scheme and call, a repeated key or a bad "
                          "value is INVALID_ARGUMENT",
                          st, cases[i].want))
                printf("  %s %s\n", cases[i].call ? "oxs_dial" : "oxs_listen_on", cases[i].ep);
            CHECK_INT("§1 handle OXS_INVALID on failure", s, OXS_INVALID);
            if (st == OXS_OK)
                oxs_close(s);
        }
        CHECK("§8 a refused unix listen_on leaves no file", access("q5.sock", F_OK) != 0);
#undef CASE
    }

    /* Scheme, host, port or path that does not parse: ADDRESS. */
    {
        const char *bad[] = {"foo://127.0.0.1:80", "tcp:/127.0.0.1:80", "tcp//127.0.0.1:80",
                             "127.0.0.1:80", "tcp://127.0.0.1", "tcp://127.0.0.1:99999",
                             "tcp://127.0.0.1:8x", "tcp://[::1:80", "tcp4://[::1]:80",
                             "tcp6://127.0.0.1:80", "udp4://[::1]:80", "unix://", "unixgram://",
                             "TCP-ish://x:1", "", "tcp://1.2.3.4:-5"};
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            if (!CHECK_ST("§8 a scheme, host, port or path that does not parse is ADDRESS (dial)",
                          oxs_dial(bad[i], 500, &s), OXS_ERR_ADDRESS))
                printf("  endpoint \"%s\"\n", bad[i]);
            if (!CHECK_ST("§8 ... is ADDRESS (listen_on)", oxs_listen_on(bad[i], &s),
                          OXS_ERR_ADDRESS))
                printf("  endpoint \"%s\"\n", bad[i]);
        }
        CHECK_ST("§8 a host name that does not resolve is RESOLVE",
                 oxs_dial("tcp://no-such-host.invalid:80", 1000, &s), OXS_ERR_RESOLVE);
    }
    oxs_close(l);
    oxs_close(ul);
    unlink("q4.sock");
}

static void unix_files(void)
{
    oxs_socket l = 0, l2 = 0, c = 0;
    struct stat sb, sb2;
    int fd;
    struct sockaddr_un sun;
    char name[64];

    /* mode= */
    unlink("m.sock");
    if (CHECK_OK("§8 listen_on mode=0640", oxs_listen_on("unix://m.sock?mode=0640", &l))) {
        CHECK("§8 mode= is applied to the socket file",
              stat("m.sock", &sb) == 0 && (sb.st_mode & 0777) == 0640);
        oxs_close(l);
    }
    unlink("m2.sock");
    if (CHECK_OK("§8 unixgram mode=0602", oxs_listen_on("unixgram://m2.sock?mode=0602", &l))) {
        CHECK("§8 mode= on unixgram", stat("m2.sock", &sb) == 0 && (sb.st_mode & 0777) == 0602);
        oxs_close(l);
    }
    snprintf(name, sizeof name, "unix://@oxs-mode-%ld?mode=0600", (long)getpid());
    CHECK_ST2("§8 mode= is refused on abstract names", oxs_listen_on(name, &l),
              OXS_ERR_INVALID_ARGUMENT, OXS_ERR_ADDRESS);

    /* File removed on close. */
    unlink("rm.sock");
    if (CHECK_OK("§8 listen_on", oxs_listen_on("unix://rm.sock", &l))) {
        CHECK("§8 the file exists while listening", stat("rm.sock", &sb) == 0 && S_ISSOCK(sb.st_mode));
        CHECK_OK("§8 close", oxs_close(l));
        CHECK("§8 the listener's file is removed when it is closed",
              stat("rm.sock", &sb) != 0 && errno == ENOENT);
    }
    /* ... by its absolute path, even after a chdir. */
    mkdir("other", 0700);
    unlink("abs-rm.sock");
    if (CHECK_OK("§8 listen_on relative", oxs_listen_on("unix://abs-rm.sock", &l))) {
        CHECK("§8 chdir", chdir("other") == 0);
        CHECK_OK("§8 close after chdir", oxs_close(l));
        CHECK("§8 chdir back", chdir("..") == 0);
        CHECK("§8 the file is removed by its absolute path",
              stat("abs-rm.sock", &sb) != 0 && errno == ENOENT);
    }
    /* ... and not if replaced by another file. */
    unlink("rep.sock");
    if (CHECK_OK("§8 listen_on", oxs_listen_on("unix://rep.sock", &l))) {
        FILE *f;
        unlink("rep.sock");
        f = fopen("rep.sock", "w");
        if (f) {
            fputs("not yours", f);
            fclose(f);
        }
        CHECK_OK("§8 close", oxs_close(l));
        CHECK("§8 a file that replaced the socket is not removed",
              stat("rep.sock", &sb) == 0 && S_ISREG(sb.st_mode));
        unlink("rep.sock");
    }

    /* Stale socket file: replaced. */
    unlink("stale.sock");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, "stale.sock");
    CHECK("§8 make a stale socket file", bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
    close(fd);
    if (CHECK_OK("§8 a stale socket file is replaced", oxs_listen_on("unix://stale.sock", &l))) {
        CHECK_OK("§8 the new listener is live", oxs_dial("unix://stale.sock", 1000, &c));
        oxs_close(c);
        oxs_close(l);
    }

    /* Live listener: ADDRESS_IN_USE, file and listener left alone. */
    unlink("live.sock");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(sun.sun_path, "live.sock");
    CHECK("§8 make a live listener",
          bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0 && listen(fd, 4) == 0);
    stat("live.sock", &sb);
    CHECK_ST("§8 a live socket file gives ADDRESS_IN_USE", oxs_listen_on("unix://live.sock", &l2),
             OXS_ERR_ADDRESS_IN_USE);
    CHECK("§8 the live file is left alone",
          stat("live.sock", &sb2) == 0 && sb.st_ino == sb2.st_ino && sb.st_dev == sb2.st_dev);
    if (CHECK_OK("§8 the live listener still accepts", oxs_dial("unix://live.sock", 1000, &c))) {
        int a = accept(fd, NULL, NULL);
        CHECK("§8 accepted by the original owner", a >= 0);
        if (a >= 0)
            close(a);
        oxs_close(c);
    }
    close(fd);
    unlink("live.sock");

    /* A live datagram socket at the path: another answer (EPROTOTYPE) -> ADDRESS_IN_USE. */
    unlink("livedg.sock");
    fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    strcpy(sun.sun_path, "livedg.sock");
    CHECK("§8 make a live datagram socket", bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
    CHECK_ST("§8 a socket file answering otherwise than ECONNREFUSED gives ADDRESS_IN_USE",
             oxs_listen_on("unix://livedg.sock", &l2), OXS_ERR_ADDRESS_IN_USE);
    CHECK("§8 ... and is left alone", stat("livedg.sock", &sb) == 0 && S_ISSOCK(sb.st_mode));
    close(fd);
    unlink("livedg.sock");

    /* Not a socket: left alone. */
    {
        FILE *f = fopen("plain.txt", "w");
        char buf[32] = {0};
        if (f) {
            fputs("precious", f);
            fclose(f);
        }
        CHECK_ST("§8 a file that is not a socket gives ADDRESS_IN_USE",
                 oxs_listen_on("unix://plain.txt", &l2), OXS_ERR_ADDRESS_IN_USE);
        f = fopen("plain.txt", "r");
        if (f) {
            (void)!fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
        }
        CHECK_STR("§8 the non-socket file is left alone", buf, "precious");
        mkdir("adir", 0700);
        CHECK_ST("§8 a directory at the path gives ADDRESS_IN_USE",
                 oxs_listen_on("unix://adir", &l2), OXS_ERR_ADDRESS_IN_USE);
        CHECK("§8 the directory is left alone", stat("adir", &sb) == 0 && S_ISDIR(sb.st_mode));
    }

    /* Plain oxs_bind never probes and never removes anything. */
    unlink("pb.sock");
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(sun.sun_path, "pb.sock");
    bind(fd, (struct sockaddr *)&sun, sizeof sun);
    close(fd);
    stat("pb.sock", &sb);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &l));
    CHECK_ST("§8 plain bind on a stale file is ADDRESS_IN_USE (no probe, no removal)",
             oxs_bind(l, "pb.sock"), OXS_ERR_ADDRESS_IN_USE);
    CHECK("§8 plain bind left the stale file alone",
          stat("pb.sock", &sb2) == 0 && sb.st_ino == sb2.st_ino);
    oxs_close(l);
    unlink("pb.sock");
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &l));
    CHECK_OK("§4 plain bind", oxs_bind(l, "pb.sock"));
    CHECK_OK("§4 listen", oxs_listen(l, 1));
    CHECK_OK("§4 close", oxs_close(l));
    CHECK("§8 plain bind: close does not remove the file", access("pb.sock", F_OK) == 0);
    unlink("pb.sock");
}

/* A listener whose accept queue is full: further SYNs are dropped, so a dial hangs. */
static void dial_errors(void)
{
    oxs_socket s = 77, l = 0, fill[8];
    char ep[128], port_txt[16];
    int port, i;
    int64_t t0, el;
    oxs_status st;
    const char *dual = getenv("OXS_TEST_DUAL_HOST");

    port = refused_port();
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    CHECK_ST("§8 dial to a refused port", oxs_dial(ep, 2000, &s), OXS_ERR_CONNECTION_REFUSED);
    CHECK_INT("§1 handle OXS_INVALID on failure", s, OXS_INVALID);
    snprintf(port_txt, sizeof port_txt, ":%d", port);
    CHECK("§8 the message lists the address", contains(oxs_last_error(), "127.0.0.1") &&
                                                 contains(oxs_last_error(), port_txt));
    CHECK_ST("§8 dial with timeout <= 0 (none) to a refused port", oxs_dial(ep, 0, &s),
             OXS_ERR_CONNECTION_REFUSED);
    CHECK_ST("§8 dial with timeout -5 (none) to a refused port", oxs_dial(ep, -5, &s),
             OXS_ERR_CONNECTION_REFUSED);
    snprintf(ep, sizeof ep, "udp://127.0.0.1:%d", port);
    if (CHECK_OK("§8 udp dial does not probe (OK to a closed port)", oxs_dial(ep, 1000, &s))) {
        oxs_addr pa;
        CHECK_OK("§8 udp dial: the socket is connected", oxs_peer_addr(s, &pa));
        CHECK_INT("§8 udp dial: connected to the address", oxs_addr_port(&pa), port);
        oxs_close(s);
    }
    unlink("nobody.sock");
    CHECK_ST("§8 dial to a Unix path with no socket", oxs_dial("unix://nobody.sock", 1000, &s),
             OXS_ERR_CONNECTION_REFUSED);

    if (dual != NULL && dual[0] != '\0') {
        snprintf(ep, sizeof ep, "tcp://%s:%d", dual, port);
        CHECK_ST("§8 dial a name with two addresses, both refused", oxs_dial(ep, 3000, &s),
                 OXS_ERR_CONNECTION_REFUSED);
        CHECK("§8 the message lists each address (127.0.0.1)",
              contains(oxs_last_error(), "127.0.0.1"));
        CHECK("§8 the message lists each address (::1)", contains(oxs_last_error(), "::1"));
        /* Only the IPv6 address listens: the dial still succeeds via the other family. */
        {
            char le[64];
            oxs_socket l6 = 0, a = 0;
            snprintf(le, sizeof le, "tcp6://[::1]:%d", port);
            if (CHECK_OK("§8 listen on ::1 only", oxs_listen_on(le, &l6))) {
                CHECK_OK("§8 dial tries every address", oxs_dial(ep, 3000, &s));
                CHECK_OK("§8 the IPv6 listener gets it", oxs_accept(l6, &a, NULL));
                oxs_close(a);
                oxs_close(s);
                oxs_close(l6);
            }
        }
    } else {
        CHECK_SKIP("§8 dial error lists each address of a two-address name",
                   "OXS_TEST_DUAL_HOST not set");
    }

    /* Dial timeout bound: a listener with a full accept queue drops new SYNs. */
    l = 0;
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &l));
    REQUIRE_OK("§4 bind", oxs_bind(l, "127.0.0.1:0"));
    REQUIRE_OK("§4 listen 1", oxs_listen(l, 1));
    port = local_port(l);
    snprintf(ep, sizeof ep, "127.0.0.1:%d", port);
    for (i = 0; i < 8; i++) {
        fill[i] = 0;
        if (oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &fill[i]) == OXS_OK) {
            oxs_setopt(fill[i], OXS_OPT_NONBLOCKING, 1);
            oxs_connect(fill[i], ep);
        }
    }
    sleep_ms(300);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    t0 = check_now_ms();
    st = oxs_dial(ep, 500, &s);
    el = check_now_ms() - t0;
    CHECK_ST("§8 a dial that cannot connect in time returns TIMED_OUT", st, OXS_ERR_TIMED_OUT);
    CHECK("§8 timeout_ms bounds the connecting (took >= 400 ms)", el >= 400);
    if (!CHECK("§8 timeout_ms bounds the connecting (took < 3 s)", el < 3000 * slow_factor()))
        printf("  took %lld ms\n", (long long)el);
    if (st == OXS_OK)
        oxs_close(s);
    for (i = 0; i < 8; i++)
        oxs_close(fill[i]);
    oxs_close(l);
}

int main(int argc, char **argv)
{
    enter_scratch(argc, argv);
    schemes();
    dual_stack();
    query_keys();
    unix_files();
    dial_errors();
    return CHECK_SUMMARY("core_endpoints");
}

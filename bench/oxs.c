/* Contender (b): the program of posix.c written with the oxsock C API, function for
 * function, as its documentation suggests using it: oxs_listen_on / oxs_dial for endpoints,
 * oxs_read_exact / oxs_write_all for whole messages, the poller for many sockets.
 *
 *   oxs <workload> [secs] [extra]      prints "metric <name> <value> <unit>" lines
 *
 * Same workloads, same process structure (fork; the child serves), same compiler flags. */
#include "common.h"

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "oxsock.h"

static void ck(oxs_status st, const char *what)
{
    if (st != OXS_OK) {
        fprintf(stderr, "bench: %s: %s (%s)\n", what, oxs_strerror(st), oxs_last_error());
        exit(2);
    }
}

static int port_of(oxs_socket s)
{
    oxs_addr a;
    ck(oxs_local_addr(s, &a), "oxs_local_addr");
    return oxs_addr_port(&a);
}

static oxs_socket dial_port(const char *scheme, int port, const char *query)
{
    char ep[128];
    snprintf(ep, sizeof ep, "%s://127.0.0.1:%d%s", scheme, port, query);
    oxs_socket s;
    ck(oxs_dial(ep, 0, &s), ep);
    return s;
}

/* Server side of a stream ping-pong: echo 64-byte messages until EOF. */
static void echo_server(oxs_socket c)
{
    char buf[MSG_SIZE];
    for (;;) {
        oxs_status st = oxs_read_exact(c, buf, MSG_SIZE, NULL);
        if (st == OXS_ERR_UNEXPECTED_EOF)
            break;
        ck(st, "oxs_read_exact");
        ck(oxs_write_all(c, buf, MSG_SIZE, NULL), "oxs_write_all");
    }
    oxs_close(c);
}

/* Client side of a stream ping-pong: returns the round trips made. */
static uint64_t pingpong_client(oxs_socket s, double secs, struct meas *m)
{
    char buf[MSG_SIZE];
    memset(buf, 'x', sizeof buf);
    uint64_t limit = (uint64_t)(secs * 1e9), n = 0;
    meas_begin(m);
    for (;;) {
        for (int i = 0; i < CHECK_EVERY; i++) {
            ck(oxs_write_all(s, buf, MSG_SIZE, NULL), "oxs_write_all");
            ck(oxs_read_exact(s, buf, MSG_SIZE, NULL), "oxs_read_exact");
        }
        n += CHECK_EVERY;
        if (meas_elapsed(m) >= limit)
            break;
    }
    meas_end(m);
    oxs_close(s);
    return n;
}

/* 1. TCP ping-pong, 64-byte messages. */
static void w_tcp_pingpong(double secs)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        oxs_socket l, c;
        ck(oxs_listen_on("tcp://127.0.0.1:0?backlog=16&nodelay=1", &l), "oxs_listen_on");
        char line[32];
        snprintf(line, sizeof line, "%d\n", port_of(l));
        handoff_send(&h, line);
        ck(oxs_accept(l, &c, NULL), "oxs_accept");
        oxs_close(l);
        echo_server(c);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    oxs_socket s = dial_port("tcp", atoi(line), "?nodelay=1");
    struct meas m;
    uint64_t n = pingpong_client(s, secs, &m);
    reap(pid, 0);
    meas_print(&m, "tcp_pingpong", (double)n, 1, "rt/s", 1, "ns/rt");
}

/* 2. TCP bulk transfer, 256 KiB writes; the receiver acknowledges the total at the end. */
static void w_bulk(double secs)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        oxs_socket l, c;
        ck(oxs_listen_on("tcp://127.0.0.1:0?backlog=16", &l), "oxs_listen_on");
        char line[32];
        snprintf(line, sizeof line, "%d\n", port_of(l));
        handoff_send(&h, line);
        ck(oxs_accept(l, &c, NULL), "oxs_accept");
        oxs_close(l);
        char *buf = malloc(BULK_CHUNK);
        uint64_t total = 0;
        for (;;) {
            size_t n;
            ck(oxs_read(c, buf, BULK_CHUNK, &n), "oxs_read");
            if (n == 0)
                break;
            total += n;
        }
        ck(oxs_write_all(c, &total, sizeof total, NULL), "oxs_write_all");
        oxs_close(c);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    oxs_socket s = dial_port("tcp", atoi(line), "");
    char *buf = malloc(BULK_CHUNK);
    memset(buf, 'b', BULK_CHUNK);
    uint64_t limit = (uint64_t)(secs * 1e9), sent = 0;
    struct meas m;
    meas_begin(&m);
    do {
        ck(oxs_write_all(s, buf, BULK_CHUNK, NULL), "oxs_write_all");
        sent += BULK_CHUNK;
    } while (meas_elapsed(&m) < limit);
    ck(oxs_shutdown(s, OXS_SHUT_WRITE), "oxs_shutdown");
    uint64_t total = 0;
    ck(oxs_read_exact(s, &total, sizeof total, NULL), "oxs_read_exact");
    if (total != sent)
        die_msg("bulk", "receiver total differs");
    meas_end(&m);
    oxs_close(s);
    reap(pid, 0);
    /* ops: MiB moved; rate in GiB/s; CPU in microseconds per MiB */
    meas_print(&m, "bulk", (double)sent / 1048576.0, 1.0 / 1024, "GiB/s", 1000, "us/MiB");
}

/* 3. Connection set-up: connect + accept + close. `setup` connects with oxs_dial (an
 * endpoint text), `setup_addr` with oxs_socket_open + oxs_connect_addr (a parsed address,
 * the shape of the POSIX code). */
static void w_setup(double secs, int by_addr)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        exit_on_term();
        oxs_socket l;
        ck(oxs_listen_on("tcp://127.0.0.1:0?backlog=4096", &l), "oxs_listen_on");
        char line[32];
        snprintf(line, sizeof line, "%d\n", port_of(l));
        handoff_send(&h, line);
        for (;;) {
            oxs_socket c;
            oxs_status st = oxs_accept(l, &c, NULL);
            if (st == OXS_OK)
                oxs_close(c);
            else if (st != OXS_ERR_CONNECTION_ABORTED && st != OXS_ERR_INTERRUPTED)
                ck(st, "oxs_accept");
        }
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", atoi(line));
    oxs_addr addr;
    ck(oxs_addr_parse(ep + 6, &addr), "oxs_addr_parse");
    uint64_t limit = (uint64_t)(secs * 1e9), n = 0;
    struct meas m;
    meas_begin(&m);
    for (;;) {
        for (int i = 0; i < 16; i++) {
            oxs_socket s;
            if (by_addr) {
                ck(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &s), "oxs_socket_open");
                ck(oxs_connect_addr(s, &addr), "oxs_connect_addr");
            } else {
                ck(oxs_dial(ep, 0, &s), "oxs_dial");
            }
            ck(oxs_close(s), "oxs_close");
        }
        n += 16;
        if (meas_elapsed(&m) >= limit)
            break;
    }
    meas_end(&m);
    reap(pid, 1);
    meas_print(&m, by_addr ? "setup_addr" : "setup", (double)n, 1, "conn/s", 1, "ns/conn");
}

/* 4. UDP request/response, 64-byte datagrams. A 1-byte datagram stops the server. */
static void w_udp(double secs)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        oxs_socket u;
        ck(oxs_listen_on("udp://127.0.0.1:0", &u), "oxs_listen_on");
        char line[32];
        snprintf(line, sizeof line, "%d\n", port_of(u));
        handoff_send(&h, line);
        char buf[2048];
        for (;;) {
            oxs_addr from;
            size_t n, sent;
            ck(oxs_recv_from(u, buf, sizeof buf, &n, &from), "oxs_recv_from");
            if (n != MSG_SIZE)
                break;
            ck(oxs_send_to(u, buf, n, &from, &sent), "oxs_send_to");
        }
        oxs_close(u);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    oxs_socket s = dial_port("udp", atoi(line), "");
    char buf[2048];
    memset(buf, 'u', sizeof buf);
    uint64_t limit = (uint64_t)(secs * 1e9), n = 0;
    struct meas m;
    meas_begin(&m);
    for (;;) {
        for (int i = 0; i < CHECK_EVERY; i++) {
            size_t k;
            ck(oxs_send(s, buf, MSG_SIZE, 0, &k), "oxs_send");
            ck(oxs_recv(s, buf, sizeof buf, 0, &k), "oxs_recv");
            if (k != MSG_SIZE)
                die_msg("udp", "short datagram");
        }
        n += CHECK_EVERY;
        if (meas_elapsed(&m) >= limit)
            break;
    }
    meas_end(&m);
    size_t k;
    ck(oxs_send(s, buf, 1, 0, &k), "oxs_send");
    oxs_close(s);
    reap(pid, 0);
    meas_print(&m, "udp", (double)n, 1, "rt/s", 1, "ns/rt");
}

/* 5. Unix-domain stream ping-pong. */
static void w_unix_pingpong(double secs, const char *path)
{
    char ep[256];
    snprintf(ep, sizeof ep, "unix://%s", path);
    unlink(path);
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        oxs_socket l, c;
        ck(oxs_listen_on(ep, &l), "oxs_listen_on");
        handoff_send(&h, "ready\n");
        ck(oxs_accept(l, &c, NULL), "oxs_accept");
        oxs_close(l); /* removes the socket file */
        echo_server(c);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    oxs_socket s;
    ck(oxs_dial(ep, 0, &s), "oxs_dial unix");
    struct meas m;
    uint64_t n = pingpong_client(s, secs, &m);
    reap(pid, 0);
    meas_print(&m, "unix_pingpong", (double)n, 1, "rt/s", 1, "ns/rt");
}

/* 6. Many connections, server side: one thread, the oxsock poller (level-triggered).
 * Accepted sockets stay blocking; every call on them passes OXS_MSG_DONTWAIT, which costs
 * no system call (posix.c gets the same with accept4(SOCK_NONBLOCK)). */
#define MAX_CONNS 20000
struct conn {
    oxs_socket h;
    unsigned char got;
    char buf[MSG_SIZE];
};

static void w_many_server(int expect)
{
    raise_nofile();
    static struct conn conns[MAX_CONNS];
    static uint32_t free_list[MAX_CONNS];
    uint32_t nfree = 0;
    for (uint32_t i = MAX_CONNS; i > 0; i--)
        free_list[nfree++] = i - 1;
    oxs_socket l;
    oxs_poller p;
    ck(oxs_listen_on("tcp://127.0.0.1:0?backlog=4096", &l), "oxs_listen_on");
    ck(oxs_setopt(l, OXS_OPT_NONBLOCKING, 1), "oxs_setopt");
    ck(oxs_poller_open(&p), "oxs_poller_open");
    const uint64_t LISTENER = UINT64_MAX;
    ck(oxs_poller_add(p, l, OXS_POLL_IN, LISTENER), "oxs_poller_add");
    printf("port %d\n", port_of(l));
    fflush(stdout);
    int closed = 0;
    static oxs_event evs[1024];
    while (closed < expect) {
        size_t n;
        oxs_status st = oxs_poller_wait(p, evs, 1024, -1, &n);
        if (st == OXS_ERR_INTERRUPTED)
            continue;
        ck(st, "oxs_poller_wait");
        for (size_t i = 0; i < n; i++) {
            uint64_t tok = evs[i].token;
            if (tok == LISTENER) {
                for (;;) {
                    oxs_socket c;
                    st = oxs_accept(l, &c, NULL);
                    if (st != OXS_OK) {
                        if (st == OXS_ERR_WOULD_BLOCK || st == OXS_ERR_CONNECTION_ABORTED ||
                            st == OXS_ERR_INTERRUPTED)
                            break;
                        ck(st, "oxs_accept");
                    }
                    if (nfree == 0)
                        die_msg("accept", "too many connections");
                    uint32_t idx = free_list[--nfree];
                    conns[idx].h = c;
                    conns[idx].got = 0;
                    ck(oxs_poller_add(p, c, OXS_POLL_IN, idx), "oxs_poller_add");
                }
                continue;
            }
            struct conn *k = &conns[tok];
            size_t r;
            st = oxs_recv(k->h, k->buf + k->got, MSG_SIZE - k->got, OXS_MSG_DONTWAIT, &r);
            if (st == OXS_OK && r > 0) {
                k->got += (unsigned char)r;
                if (k->got == MSG_SIZE) {
                    k->got = 0;
                    size_t sent;
                    st = oxs_send(k->h, k->buf, MSG_SIZE, OXS_MSG_DONTWAIT, &sent);
                    if (st != OXS_OK || sent != MSG_SIZE) {
                        oxs_close(k->h); /* also leaves the poller */
                        free_list[nfree++] = (uint32_t)tok;
                        closed++;
                    }
                }
            } else if (st != OXS_ERR_WOULD_BLOCK && st != OXS_ERR_INTERRUPTED) {
                oxs_close(k->h);
                free_list[nfree++] = (uint32_t)tok;
                closed++;
            }
        }
    }
    exit(0);
}

/* Memory per open socket: RSS and heap growth over n sockets. */
static void w_mem(int n)
{
    oxs_socket *hs = calloc((size_t)n, sizeof(oxs_socket));
    memset(hs, 0xff, sizeof(oxs_socket) * (size_t)n); /* touch it before the baseline */
    raise_nofile();
    oxs_socket warm; /* the first call may set the library up: not per handle */
    ck(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &warm), "oxs_socket_open");
    oxs_close(warm);
    struct mallinfo2 m0 = mallinfo2();
    long r0 = rss_bytes(0);
    for (int i = 0; i < n; i++)
        ck(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &hs[i]), "oxs_socket_open");
    long r1 = rss_bytes(0);
    struct mallinfo2 m1 = mallinfo2();
    for (int i = 0; i < n; i++)
        oxs_close(hs[i]);
    double heap = ((double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd)) / n;
    printf("metric mem_rss %.6g B/handle\n", (double)(r1 - r0) / n);
    printf("metric mem_heap %.6g B/handle\n", heap);
}

/* Per-call cost of oxs_getopt on a live, connected TCP socket, and of a failing
 * non-blocking receive (OXS_ERR_WOULD_BLOCK), the hot path of a poll loop. */
static void w_getopt(long iters)
{
    oxs_socket l, s, c;
    ck(oxs_listen_on("tcp://127.0.0.1:0?backlog=16", &l), "oxs_listen_on");
    s = dial_port("tcp", port_of(l), "");
    ck(oxs_accept(l, &c, NULL), "oxs_accept");
    volatile int64_t sink = 0;
    /* The same probes as posix.c, and beside them the raw system calls on the handle's
     * own descriptor (oxs_fd), interleaved: their difference is the library's cost per
     * call, measured in one process at one moment. */
    int fd;
    ck(oxs_fd(s, &fd), "oxs_fd");
    double best[5] = {1e18, 1e18, 1e18, 1e18, 1e18};
    char buf[MSG_SIZE];
    long rounds = iters / MICRO_ROUND + 1;
    for (long round = 0; round < rounds; round++) {
        MICRO_TIME(best[0], round, {
            int64_t v;
            ck(oxs_getopt(s, OXS_OPT_NODELAY, &v), "oxs_getopt");
            sink += v;
        });
        MICRO_TIME(best[1], round, {
            int64_t v;
            ck(oxs_getopt(s, OXS_OPT_TYPE, &v), "oxs_getopt");
            sink += v;
        });
        MICRO_TIME(best[2], round, {
            size_t n;
            if (oxs_recv(s, buf, sizeof buf, OXS_MSG_DONTWAIT, &n) != OXS_ERR_WOULD_BLOCK)
                die_msg("oxs_recv", "should fail with OXS_ERR_WOULD_BLOCK");
        });
        MICRO_TIME(best[3], round, {
            int v;
            socklen_t len = sizeof v;
            if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0)
                die("getsockopt");
            sink += v;
        });
        MICRO_TIME(best[4], round, {
            if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
                die("recv should fail with EAGAIN");
        });
    }
    printf("metric getopt_nodelay %.6g ns/call\n", best[0]);
    printf("metric getopt_type %.6g ns/call\n", best[1]);
    printf("metric recv_eagain %.6g ns/call\n", best[2]);
    printf("metric getopt_raw %.6g ns/call\n", best[3]);
    printf("metric recv_raw %.6g ns/call\n", best[4]);
    (void)sink;
    oxs_close(c);
    oxs_close(s);
    oxs_close(l);
}

#include "msg_oxs.h" /* the §13 workloads (issue 14) */

int main(int argc, char **argv)
{
    if (argc < 2)
        die_msg("usage", "oxs <workload> [secs|n] [extra]");
    const char *w = argv[1];
    if (!strcmp(w, "tcp_pingpong"))
        w_tcp_pingpong(arg_secs(argc, argv, 2));
    else if (!strcmp(w, "bulk"))
        w_bulk(arg_secs(argc, argv, 2));
    else if (!strcmp(w, "setup"))
        w_setup(arg_secs(argc, argv, 2), 0);
    else if (!strcmp(w, "setup_addr"))
        w_setup(arg_secs(argc, argv, 2), 1);
    else if (!strcmp(w, "udp"))
        w_udp(arg_secs(argc, argv, 2));
    else if (!strcmp(w, "unix_pingpong") && argc > 3)
        w_unix_pingpong(arg_secs(argc, argv, 2), argv[3]);
    else if (!strcmp(w, "many_server") && argc > 2)
        w_many_server(atoi(argv[2]));
    else if (!strcmp(w, "mem") && argc > 2)
        w_mem(atoi(argv[2]));
    else if (!strcmp(w, "getopt") && argc > 2)
        w_getopt(atol(argv[2]));
    else if (!strcmp(w, "udp_recv") && argc > 3)
        w_udp_recv(arg_secs(argc, argv, 2), argv[3]);
    else if (!strcmp(w, "sendfile") && argc > 3)
        w_sendfile(arg_secs(argc, argv, 2), argv[3]);
    else
        die_msg("unknown workload", w);
    fflush(stdout);
    return 0;
}

/* Contender (a): plain POSIX C, written the way a careful C programmer writes it:
 * the fewest system calls (accept4 with flags, SOCK_CLOEXEC at creation, MSG_NOSIGNAL
 * instead of a SIGPIPE handler, one recv per message when it all arrived), partial reads
 * and writes and EINTR handled.
 *
 *   posix <workload> [secs] [extra]      prints "metric <name> <value> <unit>" lines
 *
 * Workloads: tcp_pingpong, bulk, setup, udp, unix_pingpong <path>, many_server <nconns>,
 * mem <n>, getopt <iterations>. oxs.c is the same program written with the oxsock C API;
 * the two files are kept side by side, function for function. */
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

static void set_int(int fd, int level, int opt, int v)
{
    if (setsockopt(fd, level, opt, &v, sizeof v) != 0)
        die("setsockopt");
}

static int read_full(int fd, char *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, b + got, n - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r == 0)
            return 0;
        else if (errno != EINTR)
            die("recv");
    }
    return 1;
}

static void write_full(int fd, const char *b, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = send(fd, b + done, n - done, MSG_NOSIGNAL);
        if (r >= 0)
            done += (size_t)r;
        else if (errno != EINTR)
            die("send");
    }
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

/* A TCP listener on 127.0.0.1:0; returns its fd and stores its port. */
static int tcp_listener(int backlog, int nodelay, int nonblock, uint16_t *port)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (l < 0)
        die("socket");
    set_int(l, SOL_SOCKET, SO_REUSEADDR, 1);
    if (nodelay)
        set_int(l, IPPROTO_TCP, TCP_NODELAY, 1); /* inherited by accepted sockets */
    struct sockaddr_in sa = loopback(0);
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind");
    if (listen(l, backlog) != 0)
        die("listen");
    socklen_t len = sizeof sa;
    if (getsockname(l, (struct sockaddr *)&sa, &len) != 0)
        die("getsockname");
    *port = ntohs(sa.sin_port);
    return l;
}

static int tcp_connect(uint16_t port, int nodelay)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    if (nodelay)
        set_int(s, IPPROTO_TCP, TCP_NODELAY, 1);
    struct sockaddr_in sa = loopback(port);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    return s;
}

/* Server side of a stream ping-pong: echo 64-byte messages until EOF. */
static void echo_server(int c)
{
    char buf[MSG_SIZE];
    while (read_full(c, buf, MSG_SIZE))
        write_full(c, buf, MSG_SIZE);
    close(c);
}

/* Client side of a stream ping-pong: returns the round trips made. */
static uint64_t pingpong_client(int s, double secs, struct meas *m)
{
    char buf[MSG_SIZE];
    memset(buf, 'x', sizeof buf);
    uint64_t limit = (uint64_t)(secs * 1e9), n = 0;
    meas_begin(m);
    for (;;) {
        for (int i = 0; i < CHECK_EVERY; i++) {
            write_full(s, buf, MSG_SIZE);
            if (!read_full(s, buf, MSG_SIZE))
                die_msg("pingpong", "server closed");
        }
        n += CHECK_EVERY;
        if (meas_elapsed(m) >= limit)
            break;
    }
    meas_end(m);
    close(s);
    return n;
}

/* 1. TCP ping-pong, 64-byte messages. */
static void w_tcp_pingpong(double secs)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        uint16_t port;
        int l = tcp_listener(16, 1, 0, &port);
        char line[32];
        snprintf(line, sizeof line, "%u\n", port);
        handoff_send(&h, line);
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            die("accept4");
        close(l);
        echo_server(c);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    int s = tcp_connect((uint16_t)atoi(line), 1);
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
        uint16_t port;
        int l = tcp_listener(16, 0, 0, &port);
        char line[32];
        snprintf(line, sizeof line, "%u\n", port);
        handoff_send(&h, line);
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            die("accept4");
        close(l);
        char *buf = malloc(BULK_CHUNK);
        uint64_t total = 0;
        for (;;) {
            ssize_t r = recv(c, buf, BULK_CHUNK, 0);
            if (r > 0)
                total += (uint64_t)r;
            else if (r == 0)
                break;
            else if (errno != EINTR)
                die("recv");
        }
        write_full(c, (const char *)&total, sizeof total);
        close(c);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    int s = tcp_connect((uint16_t)atoi(line), 0);
    char *buf = malloc(BULK_CHUNK);
    memset(buf, 'b', BULK_CHUNK);
    uint64_t limit = (uint64_t)(secs * 1e9), sent = 0;
    struct meas m;
    meas_begin(&m);
    do {
        write_full(s, buf, BULK_CHUNK);
        sent += BULK_CHUNK;
    } while (meas_elapsed(&m) < limit);
    if (shutdown(s, SHUT_WR) != 0)
        die("shutdown");
    uint64_t total = 0;
    if (!read_full(s, (char *)&total, sizeof total) || total != sent)
        die_msg("bulk", "receiver total differs");
    meas_end(&m);
    close(s);
    reap(pid, 0);
    /* ops: MiB moved; rate in GiB/s; CPU in microseconds per MiB */
    meas_print(&m, "bulk", (double)sent / 1048576.0, 1.0 / 1024, "GiB/s", 1000, "us/MiB");
}

/* 3. Connection set-up: connect + accept + close. */
static void w_setup(double secs, const char *metric)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        exit_on_term();
        uint16_t port;
        int l = tcp_listener(4096, 0, 0, &port);
        char line[32];
        snprintf(line, sizeof line, "%u\n", port);
        handoff_send(&h, line);
        for (;;) {
            int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0)
                close(c);
            else if (errno != EINTR && errno != ECONNABORTED)
                die("accept4");
        }
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    struct sockaddr_in sa = loopback((uint16_t)atoi(line));
    uint64_t limit = (uint64_t)(secs * 1e9), n = 0;
    struct meas m;
    meas_begin(&m);
    for (;;) {
        for (int i = 0; i < 16; i++) {
            int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (s < 0)
                die("socket");
            if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
                die("connect");
            close(s);
        }
        n += 16;
        if (meas_elapsed(&m) >= limit)
            break;
    }
    meas_end(&m);
    reap(pid, 1);
    /* POSIX has one way to connect: `setup` and `setup_addr` run the same code here;
     * in oxs.c they are oxs_dial and oxs_socket_open + oxs_connect_addr. */
    meas_print(&m, metric, (double)n, 1, "conn/s", 1, "ns/conn");
}

/* 4. UDP request/response, 64-byte datagrams. A 1-byte datagram stops the server. */
static void w_udp(double secs)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (u < 0)
            die("socket");
        struct sockaddr_in sa = loopback(0);
        if (bind(u, (struct sockaddr *)&sa, sizeof sa) != 0)
            die("bind");
        socklen_t len = sizeof sa;
        if (getsockname(u, (struct sockaddr *)&sa, &len) != 0)
            die("getsockname");
        char line[32];
        snprintf(line, sizeof line, "%u\n", ntohs(sa.sin_port));
        handoff_send(&h, line);
        char buf[2048];
        for (;;) {
            struct sockaddr_storage from;
            socklen_t flen = sizeof from;
            ssize_t r = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                die("recvfrom");
            }
            if (r != MSG_SIZE)
                break;
            if (sendto(u, buf, (size_t)r, 0, (struct sockaddr *)&from, flen) != r)
                die("sendto");
        }
        close(u);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    struct sockaddr_in sa = loopback((uint16_t)atoi(line));
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    char buf[2048];
    memset(buf, 'u', sizeof buf);
    uint64_t limit = (uint64_t)(secs * 1e9), n = 0;
    struct meas m;
    meas_begin(&m);
    for (;;) {
        for (int i = 0; i < CHECK_EVERY; i++) {
            if (send(s, buf, MSG_SIZE, 0) != MSG_SIZE)
                die("send");
            ssize_t r;
            while ((r = recv(s, buf, sizeof buf, 0)) < 0 && errno == EINTR) {
            }
            if (r != MSG_SIZE)
                die("recv");
        }
        n += CHECK_EVERY;
        if (meas_elapsed(&m) >= limit)
            break;
    }
    meas_end(&m);
    if (send(s, buf, 1, 0) != 1)
        die("send");
    close(s);
    reap(pid, 0);
    meas_print(&m, "udp", (double)n, 1, "rt/s", 1, "ns/rt");
}

/* 5. Unix-domain stream ping-pong. */
static void w_unix_pingpong(double secs, const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        die_msg("unix path", path);
    strcpy(sa.sun_path, path);
    unlink(path);
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (l < 0)
            die("socket");
        if (bind(l, (struct sockaddr *)&sa, sizeof sa) != 0)
            die("bind");
        if (listen(l, 16) != 0)
            die("listen");
        handoff_send(&h, "ready\n");
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            die("accept4");
        close(l);
        unlink(path);
        echo_server(c);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    struct meas m;
    uint64_t n = pingpong_client(s, secs, &m);
    reap(pid, 0);
    meas_print(&m, "unix_pingpong", (double)n, 1, "rt/s", 1, "ns/rt");
}

/* 6. Many connections, server side: one thread, a hand-written level-triggered epoll
 * loop. Prints "port N", serves 64-byte requests until `expect` connections have come
 * and gone, then exits. loadgen.c is the client. */
static void w_many_server(int expect)
{
    raise_nofile();
    uint16_t port;
    int l = tcp_listener(4096, 0, 1, &port);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) != 0)
        die("epoll_ctl");
    /* Per connection, indexed by fd: the same 80-byte record as oxs.c's (whose first
     * field is the handle), so that the two servers' RSS compare the libraries alone. */
    static struct {
        uint64_t unused;
        unsigned char got; /* bytes of the current request */
        char buf[MSG_SIZE];
    } conns[65536];
    printf("port %u\n", port);
    fflush(stdout);
    int accepted = 0, closed = 0;
    struct epoll_event evs[1024];
    while (closed < expect) {
        int n = epoll_wait(ep, evs, 1024, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                for (;;) {
                    int c = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) {
                        if (errno == EAGAIN || errno == ECONNABORTED || errno == EINTR)
                            break;
                        die("accept4");
                    }
                    if (c >= 65536)
                        die_msg("accept", "fd too large");
                    conns[c].got = 0;
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0)
                        die("epoll_ctl");
                    accepted++;
                }
                continue;
            }
            ssize_t r = recv(fd, conns[fd].buf + conns[fd].got, MSG_SIZE - conns[fd].got, 0);
            if (r > 0) {
                conns[fd].got += (unsigned char)r;
                if (conns[fd].got == MSG_SIZE) {
                    conns[fd].got = 0;
                    /* One request in flight per connection: the reply always fits. */
                    if (send(fd, conns[fd].buf, MSG_SIZE, MSG_NOSIGNAL) != MSG_SIZE) {
                        close(fd);
                        closed++;
                    }
                }
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(fd); /* also leaves the epoll set */
                closed++;
            }
        }
    }
    (void)accepted;
    exit(0);
}

/* Memory per open socket: RSS and heap growth over n sockets. */
static void w_mem(int n)
{
    int *fds = calloc((size_t)n, sizeof(int));
    memset(fds, 0xff, sizeof(int) * (size_t)n); /* touch it before the baseline */
    raise_nofile();
    int warm = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    close(warm);
    struct mallinfo2 m0 = mallinfo2();
    long r0 = rss_bytes(0);
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0)
            die("socket");
    }
    long r1 = rss_bytes(0);
    struct mallinfo2 m1 = mallinfo2();
    for (int i = 0; i < n; i++)
        close(fds[i]);
    double heap = ((double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd)) / n;
    printf("metric mem_rss %.6g B/handle\n", (double)(r1 - r0) / n);
    printf("metric mem_heap %.6g B/handle\n", heap);
}

/* Per-call cost of getsockopt on a live, connected TCP socket, and of a failing
 * non-blocking recv (EAGAIN), the hot path of a poll loop. */
static void w_getopt(long iters)
{
    uint16_t port;
    int l = tcp_listener(16, 0, 0, &port);
    int s = tcp_connect(port, 0);
    int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        die("accept4");
    volatile int sink = 0;
    double best[3] = {1e18, 1e18, 1e18};
    char buf[MSG_SIZE];
    long rounds = iters / MICRO_ROUND + 1;
    for (long round = 0; round < rounds; round++) {
        MICRO_TIME(best[0], round, {
            int v;
            socklen_t len = sizeof v;
            if (getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len) != 0)
                die("getsockopt");
            sink += v;
        });
        MICRO_TIME(best[1], round, {
            int v;
            socklen_t len = sizeof v;
            if (getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) != 0)
                die("getsockopt");
            sink += v;
        });
        MICRO_TIME(best[2], round, {
            if (recv(s, buf, sizeof buf, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
                die("recv should fail with EAGAIN");
        });
    }
    printf("metric getopt_nodelay %.6g ns/call\n", best[0]);
    printf("metric getopt_type %.6g ns/call\n", best[1]);
    printf("metric recv_eagain %.6g ns/call\n", best[2]);
    (void)sink;
    close(c);
    close(s);
    close(l);
}

#include "msg_posix.h" /* the §13 workloads (issue 14) */

int main(int argc, char **argv)
{
    if (argc < 2)
        die_msg("usage", "posix <workload> [secs|n] [extra]");
    const char *w = argv[1];
    if (!strcmp(w, "tcp_pingpong"))
        w_tcp_pingpong(arg_secs(argc, argv, 2));
    else if (!strcmp(w, "bulk"))
        w_bulk(arg_secs(argc, argv, 2));
    else if (!strcmp(w, "setup") || !strcmp(w, "setup_addr"))
        w_setup(arg_secs(argc, argv, 2), w);
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
    else if (!strcmp(w, "udp_blast") && argc > 3)
        w_udp_blast(atoi(argv[2]), atol(argv[3]));
    else if (!strcmp(w, "udp_recv") && argc > 3)
        w_udp_recv(arg_secs(argc, argv, 2), argv[3]);
    else if (!strcmp(w, "sendfile") && argc > 3)
        w_sendfile(arg_secs(argc, argv, 2), argv[3]);
    else
        die_msg("unknown workload", w);
    fflush(stdout);
    return 0;
}

/* The client of workload 6 (many connections), the same plain-C program for every server
 * contender: it opens `nconns` connections to 127.0.0.1:port, keeps one 64-byte request
 * in flight on each (an epoll loop), and after a warm-up counts the replies for `secs`.
 *
 *   loadgen <port> <nconns> <secs> <server-pid>
 *
 * It prints, as "metric" lines: requests per second; the server's RSS with every
 * connection open (VmRSS of <server-pid>); and the server's CPU time per request (from
 * /proc/<pid>/schedstat, nanosecond resolution) — the cost figure that does not depend
 * on which side is the bottleneck. Then it resets every connection (SO_LINGER 0, so
 * repeated runs leave no TIME_WAIT behind) and exits; the server exits when all are gone.
 * run.py starts it on the other CPU than the server. */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static uint64_t proc_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long long ns = 0;
    if (fscanf(f, "%llu", &ns) != 1)
        ns = 0;
    fclose(f);
    return ns;
}

int main(int argc, char **argv)
{
    if (argc < 5)
        die_msg("usage", "loadgen <port> <nconns> <secs> <server-pid>");
    int port = atoi(argv[1]), nconns = atoi(argv[2]);
    double secs = arg_secs(argc, argv, 3);
    pid_t server = (pid_t)atoi(argv[4]);
    raise_nofile();
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int *fds = calloc((size_t)nconns, sizeof(int));
    static unsigned char got[65536];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    char msg[MSG_SIZE];
    memset(msg, 'r', sizeof msg);
    /* Connect in batches, each connection served once before the next batch: the
     * server's accept queue never overflows (a connection whose handshake the server
     * dropped would never be accepted, and the server would wait for it at exit). */
    const int BATCH = 500;
    static uint32_t replies_of[65536];
    for (int first = 0; first < nconns; first += BATCH) {
        int last = first + BATCH < nconns ? first + BATCH : nconns;
        for (int i = first; i < last; i++) {
            int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (s < 0)
                die("socket");
            if (s >= 65536)
                die_msg("socket", "fd too large");
            if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
                die("connect");
            struct linger lg = {.l_onoff = 1, .l_linger = 0};
            setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            fds[i] = s;
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) != 0)
                die("epoll_ctl");
            if (send(s, msg, MSG_SIZE, MSG_NOSIGNAL | MSG_DONTWAIT) != MSG_SIZE)
                die("send");
        }
        int waiting = last - first, idle_waits = 0;
        struct epoll_event evs[1024];
        while (waiting > 0) {
            int n = epoll_wait(ep, evs, 1024, 1000);
            if (n < 0 && errno != EINTR)
                die("epoll_wait");
            if (n == 0 && ++idle_waits >= 20)
                die_msg("loadgen", "connections not served within 20 s");
            for (int i = 0; i < n; i++) {
                int fd = evs[i].data.fd;
                char buf[MSG_SIZE];
                ssize_t r = recv(fd, buf, MSG_SIZE - got[fd], MSG_DONTWAIT);
                if (r <= 0) {
                    if (r < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                    die_msg("loadgen", "server closed a connection");
                }
                got[fd] += (unsigned char)r;
                if (got[fd] == MSG_SIZE) {
                    got[fd] = 0;
                    if (replies_of[fd]++ == 0)
                        waiting--;
                }
            }
        }
    }
    /* Every connection is established and idle: one request in flight on each. */
    for (int i = 0; i < nconns; i++) {
        if (send(fds[i], msg, MSG_SIZE, MSG_NOSIGNAL | MSG_DONTWAIT) != MSG_SIZE)
            die("send");
    }
    /* Warm-up (a quarter of the run, at least 0.1 s), then the measured window. */
    uint64_t warm = (uint64_t)(secs * 0.25e9);
    if (warm < 100000000u)
        warm = 100000000u;
    uint64_t t0 = now_ns(), tstart = 0, cpu0 = 0, replies = 0, counted = 0;
    uint64_t limit = (uint64_t)(secs * 1e9);
    int measuring = 0, idle_waits = 0;
    struct epoll_event evs[1024];
    for (;;) {
        uint64_t t = now_ns();
        if (!measuring && t - t0 >= warm) {
            measuring = 1;
            tstart = t;
            cpu0 = proc_cpu_ns(server);
            counted = replies;
        } else if (measuring && t - tstart >= limit) {
            break;
        }
        int n = epoll_wait(ep, evs, 1024, 1000);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        if (n == 0 && ++idle_waits >= 10)
            die_msg("loadgen", "no reply for 10 s");
        if (n > 0)
            idle_waits = 0;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            char buf[MSG_SIZE];
            ssize_t r = recv(fd, buf, MSG_SIZE - got[fd], MSG_DONTWAIT);
            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                die_msg("loadgen", "server closed a connection");
            }
            got[fd] += (unsigned char)r;
            if (got[fd] == MSG_SIZE) {
                got[fd] = 0;
                replies++;
                if (send(fd, msg, MSG_SIZE, MSG_NOSIGNAL | MSG_DONTWAIT) != MSG_SIZE)
                    die("send");
            }
        }
    }
    uint64_t elapsed = now_ns() - tstart, cpu1 = proc_cpu_ns(server);
    uint64_t nreq = replies - counted;
    long rss = rss_bytes(server);
    printf("metric many %.6g req/s\n", (double)nreq / ((double)elapsed / 1e9));
    printf("metric many_rss %.6g MiB\n", (double)rss / 1048576.0);
    if (cpu1 > cpu0 && nreq > 0)
        printf("metric many_cpu %.6g ns/req\n", (double)(cpu1 - cpu0) / (double)nreq);
    fflush(stdout);
    for (int i = 0; i < nconns; i++)
        close(fds[i]);
    return 0;
}

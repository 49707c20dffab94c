/* The §13 workloads of posix.c (issue 14), included by posix.c after its helpers.
 *
 *   posix udp_blast PORT COUNT     the datagram source of workload udp_recv, the same for
 *                                  every contender: COUNT datagrams of 64 B, sendmmsg of 64
 *   posix udp_recv SECS POSIX      for SECS: runs POSIX udp_blast to fill its queue, then
 *                                  drains it, timed, with a hand-written recvmmsg loop (64
 *                                  per call, metric udp_recv) or, every other cycle, a
 *                                  recvfrom loop (metric udp_recvfrom)
 *   posix sendfile SECS FILE       sends FILE whole with a sendfile(2) loop, again and again
 *                                  for SECS, to a TCP receiver (metric sendfile, MiB/s)
 */
#include <sys/sendfile.h>
#include <sys/stat.h>

#define BATCH 64
#define UDP_ROOM 2048
#define UDP_FILL "40000"      /* datagrams per fill: well within the queue below */
#define UDP_QUEUE (64 << 20) /* bytes of receive queue (each 64 B datagram takes ~1 KiB) */

static void w_udp_blast(int port, long count)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    struct sockaddr_in sa = loopback((uint16_t)port);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    static char buf[MSG_SIZE];
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    memset(m, 0, sizeof m);
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = buf;
        iov[i].iov_len = MSG_SIZE;
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    for (long sent = 0; sent < count;) {
        int k = sendmmsg(s, m, BATCH, 0);
        if (k < 0 && errno != EINTR && errno != ENOBUFS)
            die("sendmmsg");
        if (k > 0)
            sent += k;
    }
    close(s);
}

/* Workload 7's source: `posix udp_blast PORT COUNT` (the same program for every
 * contender), run to its end while the receiver waits, so that the receiver's queue is
 * full when it starts to drain: the drain is timed, not the source. */
static void fill_queue(const char *posix, int port)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        execl(posix, posix, "udp_blast", p, UDP_FILL, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die_msg("udp_blast", "failed");
}

/* A non-blocking UDP socket on 127.0.0.1 with a 64 MiB receive queue (SO_RCVBUFFORCE,
 * root; else as much as SO_RCVBUF gives). */
static int udp_receiver(int *port)
{
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (u < 0)
        die("socket");
    int rcv = UDP_QUEUE;
    if (setsockopt(u, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0)
        setsockopt(u, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    struct sockaddr_in sa = loopback(0);
    if (bind(u, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind");
    socklen_t len = sizeof sa;
    if (getsockname(u, (struct sockaddr *)&sa, &len) != 0)
        die("getsockname");
    *port = ntohs(sa.sin_port);
    return u;
}

static uint64_t drain_recvfrom(int u)
{
    static char room[UDP_ROOM];
    uint64_t n = 0;
    for (;;) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        if (recvfrom(u, room, UDP_ROOM, 0, (struct sockaddr *)&from, &flen) < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return n;
            die("recvfrom");
        }
        n++;
    }
}

static uint64_t drain_recvmmsg(int u)
{
    static char room[BATCH][UDP_ROOM];
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage names[BATCH];
    uint64_t n = 0;
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = room[i];
            iov[i].iov_len = UDP_ROOM;
            memset(&mm[i].msg_hdr, 0, sizeof mm[i].msg_hdr);
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = &names[i];
            mm[i].msg_hdr.msg_namelen = sizeof names[i];
        }
        int k = recvmmsg(u, mm, BATCH, 0, NULL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return n;
            die("recvmmsg");
        }
        n += (uint64_t)k;
    }
}

/* Cycles of fill-then-drain for `secs`, alternating the two hand-written loops; each
 * drain timed alone (wall time and this process's CPU). */
static void w_udp_recv(double secs, const char *posix)
{
    int port;
    int u = udp_receiver(&port);
    uint64_t n[2] = {0, 0}, t[2] = {0, 0}, cpu[2] = {0, 0};
    uint64_t limit = (uint64_t)(secs * 1e9), start = now_ns();
    for (int cycle = 0; now_ns() - start < limit || cycle < 4; cycle++) {
        fill_queue(posix, port);
        int which = cycle & 1; /* 0: recvmmsg, 1: recvfrom */
        uint64_t c0 = cpu_ns(RUSAGE_SELF), t0 = now_ns();
        n[which] += which ? drain_recvfrom(u) : drain_recvmmsg(u);
        t[which] += now_ns() - t0;
        cpu[which] += cpu_ns(RUSAGE_SELF) - c0;
    }
    close(u);
    const char *names[2] = {"udp_recv", "udp_recvfrom"};
    for (int i = 0; i < 2; i++) {
        printf("metric %s %.6g dgram/s\n", names[i], (double)n[i] / ((double)t[i] / 1e9));
        printf("metric %s_cpu %.6g ns\n", names[i], (double)cpu[i] / (double)n[i]);
        printf("metric %s_ops %.6g ops\n", names[i], (double)n[i]);
    }
}

static void w_sendfile(double secs, const char *path)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof sa;
        if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4) != 0 ||
            getsockname(l, (struct sockaddr *)&sa, &len) != 0)
            die("listen");
        char line[32];
        snprintf(line, sizeof line, "%u\n", ntohs(sa.sin_port));
        handoff_send(&h, line);
        int c = accept(l, NULL, NULL);
        if (c < 0)
            die("accept");
        char *buf = malloc(BULK_CHUNK);
        uint64_t total = 0;
        for (;;) {
            ssize_t r = read(c, buf, BULK_CHUNK);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                die("read");
            if (r == 0)
                break;
            total += (uint64_t)r;
        }
        if (write(c, &total, sizeof total) != sizeof total)
            die("write");
        close(c);
        _exit(0);
    }
    char line[32];
    handoff_recv(&h, line, sizeof line);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        die("open the file");
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = loopback((uint16_t)atoi(line));
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    uint64_t limit = (uint64_t)(secs * 1e9), sent = 0;
    struct meas m;
    meas_begin(&m);
    do {
        off_t off = 0;
        while (off < st.st_size) {
            ssize_t r = sendfile(s, fd, &off, (size_t)(st.st_size - off));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                die("sendfile");
        }
        sent += (uint64_t)st.st_size;
    } while (meas_elapsed(&m) < limit);
    shutdown(s, SHUT_WR);
    uint64_t total = 0;
    if (read(s, &total, sizeof total) != sizeof total || total != sent)
        die_msg("sendfile", "receiver total differs");
    meas_end(&m);
    close(s);
    close(fd);
    reap(pid, 0);
    meas_print(&m, "sendfile", (double)sent / 1048576.0, 1.0, "MiB/s", 1000, "us/MiB");
}

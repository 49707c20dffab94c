/* The §13 workloads of posix.c (issue 14), included by posix.c after its helpers.
 *
 *   posix udp_blast PORT           the datagram source of workload udp_recv, the same for
 *                                  every contender: sendmmsg of 64 x 64 B, forever
 *   posix udp_recv SECS            receives for SECS with a hand-written recvfrom loop
 *                                  (metric udp_recvfrom), then as long with a recvmmsg loop,
 *                                  64 per call (metric udp_recv)
 *   posix sendfile SECS FILE       sends FILE whole with a sendfile(2) loop, again and again
 *                                  for SECS, to a TCP receiver (metric sendfile, MiB/s)
 */
#include <sys/sendfile.h>
#include <sys/stat.h>

#define BATCH 64
#define UDP_ROOM 2048

static void w_udp_blast(int port)
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
    for (;;)
        if (sendmmsg(s, m, BATCH, 0) < 0 && errno != EINTR && errno != ECONNREFUSED && errno != ENOBUFS)
            die("sendmmsg");
}

/* A UDP socket on 127.0.0.1 with a 4 MiB receive buffer; announces its port. */
static int udp_receiver(void)
{
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (u < 0)
        die("socket");
    int rcv = 4 << 20;
    setsockopt(u, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    struct sockaddr_in sa = loopback(0);
    if (bind(u, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind");
    socklen_t len = sizeof sa;
    if (getsockname(u, (struct sockaddr *)&sa, &len) != 0)
        die("getsockname");
    printf("port %u\n", ntohs(sa.sin_port));
    fflush(stdout);
    return u;
}

static void w_udp_recv(double secs)
{
    int u = udp_receiver();
    static char room[BATCH][UDP_ROOM];
    uint64_t limit = (uint64_t)(secs * 1e9), n = 0;
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    if (recvfrom(u, room[0], UDP_ROOM, 0, (struct sockaddr *)&from, &flen) < 0) /* the source runs */
        die("recvfrom");
    struct meas m;
    meas_begin(&m);
    do {
        for (int i = 0; i < BATCH; i++) {
            flen = sizeof from;
            if (recvfrom(u, room[i], UDP_ROOM, 0, (struct sockaddr *)&from, &flen) < 0 && errno != EINTR)
                die("recvfrom");
        }
        n += BATCH;
    } while (meas_elapsed(&m) < limit);
    meas_end(&m);
    meas_print(&m, "udp_recvfrom", (double)n, 1, "dgram/s", 1, "ns");

    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage names[BATCH];
    n = 0;
    meas_begin(&m);
    do {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = room[i];
            iov[i].iov_len = UDP_ROOM;
            memset(&mm[i].msg_hdr, 0, sizeof mm[i].msg_hdr);
            mm[i].msg_hdr.msg_iov = &iov[i];
            mm[i].msg_hdr.msg_iovlen = 1;
            mm[i].msg_hdr.msg_name = &names[i];
            mm[i].msg_hdr.msg_namelen = sizeof names[i];
        }
        int k = recvmmsg(u, mm, BATCH, MSG_WAITFORONE, NULL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die("recvmmsg");
        }
        n += (uint64_t)k;
    } while (meas_elapsed(&m) < limit);
    meas_end(&m);
    meas_print(&m, "udp_recv", (double)n, 1, "dgram/s", 1, "ns");
    close(u);
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

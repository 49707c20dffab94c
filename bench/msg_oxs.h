/* The §13 workloads of oxs.c (issue 14), included by oxs.c after its helpers: the
 * programs of msg_posix.h with the oxsock C API.
 *
 *   oxs udp_recv SECS POSIX    fills its queue with POSIX udp_blast, then drains it with
 *                              oxs_recv_batch, 64 per call, timed; for SECS
 *   oxs sendfile SECS FILE     sends FILE whole with oxs_sendfile, again and again
 */
#include <fcntl.h>
#include <sys/stat.h>

#define BATCH 64
#define UDP_ROOM 2048

/* As msg_posix.h: fill the queue with POSIX udp_blast, then drain it with
 * oxs_recv_batch (64 per call) on a non-blocking handle, timed. */
static void w_udp_recv(double secs, const char *posix)
{
    oxs_socket u;
    ck(oxs_listen_on("udp://127.0.0.1:0", &u), "oxs_listen_on");
    int rcv = 64 << 20;
    if (oxs_setsockopt(u, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != OXS_OK)
        ck(oxs_setopt(u, OXS_OPT_RECV_BUFFER, rcv), "oxs_setopt");
    ck(oxs_setopt(u, OXS_OPT_NONBLOCKING, 1), "oxs_setopt");
    char port[16];
    snprintf(port, sizeof port, "%d", port_of(u));
    static char room[BATCH][UDP_ROOM];
    static oxs_datagram d[BATCH];
    for (int i = 0; i < BATCH; i++) {
        d[i].buf = room[i];
        d[i].len = UDP_ROOM;
    }
    uint64_t n = 0, t = 0, cpu = 0;
    uint64_t limit = (uint64_t)(secs * 1e9), start = now_ns();
    for (int cycle = 0; now_ns() - start < limit || cycle < 4; cycle++) {
        pid_t pid = fork();
        if (pid == 0) {
            execl(posix, posix, "udp_blast", port, "40000", (char *)NULL);
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            die_msg("udp_blast", "failed");
        uint64_t c0 = cpu_ns(RUSAGE_SELF), t0 = now_ns();
        for (;;) {
            size_t k = 0;
            oxs_status s = oxs_recv_batch(u, d, BATCH, &k);
            if (s == OXS_ERR_WOULD_BLOCK)
                break;
            ck(s, "oxs_recv_batch");
            n += k;
        }
        t += now_ns() - t0;
        cpu += cpu_ns(RUSAGE_SELF) - c0;
    }
    oxs_close(u);
    printf("metric udp_recv %.6g dgram/s\n", (double)n / ((double)t / 1e9));
    printf("metric udp_recv_cpu %.6g ns\n", (double)cpu / (double)n);
    printf("metric udp_recv_ops %.6g ops\n", (double)n);
}

static void w_sendfile(double secs, const char *path)
{
    struct handoff h;
    handoff_init(&h);
    pid_t pid = fork();
    if (pid == 0) {
        oxs_socket l, c;
        ck(oxs_listen_on("tcp://127.0.0.1:0?backlog=4", &l), "oxs_listen_on");
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        die("open the file");
    oxs_socket s = dial_port("tcp", atoi(line), "");
    uint64_t limit = (uint64_t)(secs * 1e9), sent = 0;
    struct meas m;
    meas_begin(&m);
    do {
        ck(oxs_sendfile(s, fd, 0, 0, NULL), "oxs_sendfile");
        sent += (uint64_t)st.st_size;
    } while (meas_elapsed(&m) < limit);
    ck(oxs_shutdown(s, OXS_SHUT_WRITE), "oxs_shutdown");
    uint64_t total = 0;
    ck(oxs_read_exact(s, &total, sizeof total, NULL), "oxs_read_exact");
    if (total != sent)
        die_msg("sendfile", "receiver total differs");
    meas_end(&m);
    oxs_close(s);
    close(fd);
    reap(pid, 0);
    meas_print(&m, "sendfile", (double)sent / 1048576.0, 1.0, "MiB/s", 1000, "us/MiB");
}

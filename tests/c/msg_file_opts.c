/*
 * msg_file_opts.c - contract §13 "Files" and "Raw options".
 * oxs_sendfile: ranges, to the end (count 0), an offset at or past the end, a file that
 * ends before count (UNEXPECTED_EOF with the count sent), the file position unchanged,
 * a whole-call deadline with the exact count, non-blocking resume from the count, bad
 * descriptors and offsets. oxs_setsockopt / oxs_getsockopt: IP_TOS, TCP_CONGESTION (a
 * string), SO_RCVBUF round trips; SO_RCVTIMEO / SO_SNDTIMEO refused; unknown options
 * and options of another protocol UNSUPPORTED; argument rules.
 * Usage: msg_file_opts [scratch-folder]
 */
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>

#include "msg_util.h"

#define FILE_SIZE (6u << 20)

static int make_file(const char *name, size_t size)
{
    static unsigned char chunk[65536];
    size_t done = 0;
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE("setup: create file", fd >= 0);
    while (done < size) {
        size_t k = size - done < sizeof chunk ? size - done : sizeof chunk;
        fill_pat(chunk, k, done);
        REQUIRE("setup: write file", write(fd, chunk, k) == (ssize_t)k);
        done += k;
    }
    return fd;
}

static void sendfile_rules(void)
{
    oxs_socket c, s, p[2];
    int fd, wfd, dfd;
    size_t n = 9;
    drain d;
    oxs_status st;
    int64_t t0, el;

    fd = make_file("data.bin", FILE_SIZE);
    lseek(fd, 123, SEEK_SET);
    tcp_pair(0, &c, &s);

    drain_start(&d, s, 5000, 1000, 0);
    CHECK_OK("§13 sendfile of a range", oxs_sendfile(c, fd, 1000, 5000, &n));
    CHECK_INT("§13 sendfile count", n, 5000);
    drain_join(&d);
    CHECK("§13 exactly the range arrives", d.got == 5000 && d.bad_at == (size_t)-1);
    CHECK_INT("§13 the file's position is not moved", lseek(fd, 0, SEEK_CUR), 123);

    drain_start(&d, s, FILE_SIZE - 77, 77, 0);
    CHECK_OK("§13 sendfile count 0 sends to the end", oxs_sendfile(c, fd, 77, 0, &n));
    CHECK_INT("§13 to the end: the count is the rest of the file", n, FILE_SIZE - 77);
    drain_join(&d);
    CHECK("§13 to the end: every byte, in order", d.got == FILE_SIZE - 77 && d.bad_at == (size_t)-1);
    CHECK_INT("§13 the position is still not moved", lseek(fd, 0, SEEK_CUR), 123);

    CHECK_OK("§13 count 0 from the end sends nothing", oxs_sendfile(c, fd, FILE_SIZE, 0, &n));
    CHECK_INT("§13 nothing", n, 0);
    CHECK_OK("§13 count 0 from past the end sends nothing", oxs_sendfile(c, fd, FILE_SIZE + 10, 0, &n));

    drain_start(&d, s, 100, FILE_SIZE - 100, 0);
    CHECK_ST("§13 a file that ends before count is UNEXPECTED_EOF", oxs_sendfile(c, fd, FILE_SIZE - 100, 1000, &n),
             OXS_ERR_UNEXPECTED_EOF);
    CHECK_INT("§13 ... with the count sent", n, 100);
    drain_join(&d);
    CHECK("§13 ... those bytes arrived", d.got == 100 && d.bad_at == (size_t)-1);
    CHECK_ST("§13 count from past the end: UNEXPECTED_EOF with 0", oxs_sendfile(c, fd, FILE_SIZE, 5, &n),
             OXS_ERR_UNEXPECTED_EOF);
    CHECK_INT("§13 ... count 0", n, 0);

    /* arguments */
    n = 9;
    CHECK_ST("§13 a negative offset", oxs_sendfile(c, fd, -1, 10, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 count 0 on failure", n, 0);
    CHECK_ST("§13 fd -1", oxs_sendfile(c, -1, 0, 10, &n), OXS_ERR_INVALID_ARGUMENT);
    {
        int closed = dup(fd);
        close(closed);
        CHECK_ST("§13 fd not open", oxs_sendfile(c, closed, 0, 10, &n), OXS_ERR_INVALID_ARGUMENT);
    }
    wfd = open("data.bin", O_WRONLY | O_CLOEXEC);
    CHECK_ST("§13 fd not readable (O_WRONLY)", oxs_sendfile(c, wfd, 0, 10, &n), OXS_ERR_INVALID_ARGUMENT);
    close(wfd);
    dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK_ST("§13 a directory cannot be sent", oxs_sendfile(c, dfd, 0, 10, &n), OXS_ERR_INVALID_ARGUMENT);
    close(dfd);
    CHECK_ST("§1 count above PTRDIFF_MAX", oxs_sendfile(c, fd, 0, SIZE_MAX, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§3 sendfile on a closed handle", oxs_sendfile(9999, fd, 0, 10, &n), OXS_ERR_BAD_HANDLE);
    CHECK_OK("§13 nsent may be NULL", oxs_sendfile(c, fd, 0, 10, NULL));
    drain_start(&d, s, 10, 0, 0);
    drain_join(&d);
    oxs_close(c);
    oxs_close(s);

    /* A whole-call deadline with the exact count, then non-blocking resume. */
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    oxs_setopt(p[0], OXS_OPT_WRITE_TIMEOUT_MS, 300);
    t0 = check_now_ms();
    st = oxs_sendfile(p[0], fd, 0, 0, &n);
    el = check_now_ms() - t0;
    CHECK_ST("§13 sendfile with a write timeout to a peer that does not read", st, OXS_ERR_TIMED_OUT);
    CHECK("§13 ... the count is what moved (some, not all)", n > 0 && n < FILE_SIZE);
    CHECK("§13 ... one deadline for the whole call", el >= 250 && el < 3000 * slow_factor());
    {
        size_t total = n;
        int rounds;
        oxs_setopt(p[0], OXS_OPT_WRITE_TIMEOUT_MS, 0);
        oxs_setopt(p[0], OXS_OPT_NONBLOCKING, 1);
        st = oxs_sendfile(p[0], fd, (int64_t)total, 0, &n);
        CHECK_ST("§13 non-blocking sendfile on a full socket is WOULD_BLOCK", st, OXS_ERR_WOULD_BLOCK);
        CHECK_INT("§13 ... with the count so far", n, 0);
        drain_start(&d, p[1], FILE_SIZE, 0, 50);
        for (rounds = 0; rounds < 100000; rounds++) {
            st = oxs_sendfile(p[0], fd, (int64_t)total, 0, &n);
            total += n;
            if (st == OXS_ERR_WOULD_BLOCK) {
                wait_writable(p[0], 5000);
                continue;
            }
            break;
        }
        CHECK_OK("§13 resumed non-blocking sendfile ends", st);
        drain_join(&d);
        CHECK("§13 resuming at offset + count: every byte once, in order", total == FILE_SIZE &&
                                                                                d.got == FILE_SIZE &&
                                                                                d.bad_at == (size_t)-1);
    }
    CHECK_INT("§13 the position is still not moved", lseek(fd, 0, SEEK_CUR), 123);
    oxs_close(p[0]);
    oxs_close(p[1]);

    /* Unix datagram: sendfile of a small range is one datagram. */
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_SEQPACKET, p));
    {
        unsigned char buf[64];
        size_t i;
        CHECK_OK("§13 sendfile on a Unix seqpacket socket", oxs_sendfile(p[0], fd, 10, 20, &n));
        oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 5000);
        CHECK_OK("§13 ... arrives", oxs_recv(p[1], buf, sizeof buf, 0, &n));
        for (i = 0; i < n && buf[i] == pat(10 + i); i++) {
        }
        CHECK("§13 ... the range", n == 20 && i == 20);
    }
    oxs_close(p[0]);
    oxs_close(p[1]);
    close(fd);
}

static int rcvbuf_of(oxs_socket s)
{
    int64_t v = 0;
    oxs_getopt(s, OXS_OPT_RECV_BUFFER, &v);
    return (int)v;
}

static void raw_options(void)
{
    oxs_socket c, s, u = 0, p[2];
    int v;
    uint32_t len;
    char cc[32];
    struct timeval tv = {1, 0};
    tcp_pair(0, &c, &s);

    v = 0x10;
    CHECK_OK("§13 setsockopt IP_TOS", oxs_setsockopt(c, IPPROTO_IP, IP_TOS, &v, sizeof v));
    v = 0;
    len = sizeof v;
    CHECK_OK("§13 getsockopt IP_TOS", oxs_getsockopt(c, IPPROTO_IP, IP_TOS, &v, &len));
    CHECK("§13 IP_TOS round trip", v == 0x10 && len == sizeof v);

    CHECK_OK("§13 setsockopt TCP_CONGESTION (a string)", oxs_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
    memset(cc, 0, sizeof cc);
    len = sizeof cc;
    CHECK_OK("§13 getsockopt TCP_CONGESTION", oxs_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &len));
    CHECK_STR("§13 TCP_CONGESTION round trip", cc, "reno");
    CHECK("§13 *len out is the size the kernel reports", len > 0 && len <= sizeof cc);
    CHECK_ST("§13 an unknown congestion algorithm: the kernel's error mapped (ENOENT)",
             oxs_setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "no-such-cc", 10), OXS_ERR_OS);
    CHECK_INT("§13 ... the errno kept", oxs_last_os_error(), ENOENT);

    v = 65536;
    CHECK_OK("§13 setsockopt SO_RCVBUF", oxs_setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    v = 0;
    len = sizeof v;
    CHECK_OK("§13 getsockopt SO_RCVBUF", oxs_getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &len));
    CHECK_INT("§13 SO_RCVBUF round trip (Linux doubles it)", v, 131072);
    CHECK_INT("§13 the raw value is what OXS_OPT_RECV_BUFFER reads", rcvbuf_of(c), v);

    /* The two options the library's timeouts own. */
    CHECK_ST("§13 setsockopt SO_RCVTIMEO is UNSUPPORTED", oxs_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
             OXS_ERR_UNSUPPORTED);
    CHECK_ST("§13 setsockopt SO_SNDTIMEO is UNSUPPORTED", oxs_setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv),
             OXS_ERR_UNSUPPORTED);
    len = sizeof tv;
    CHECK_ST("§13 getsockopt SO_RCVTIMEO is UNSUPPORTED", oxs_getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, &len),
             OXS_ERR_UNSUPPORTED);
    len = sizeof tv;
    CHECK_ST("§13 getsockopt SO_SNDTIMEO is UNSUPPORTED", oxs_getsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, &len),
             OXS_ERR_UNSUPPORTED);
    CHECK_INT("§1 *len 0 on failure", len, 0);
    CHECK_ST("§13 the 64-bit-time SO_RCVTIMEO_NEW (66) too", oxs_setsockopt(c, SOL_SOCKET, 66, &tv, sizeof tv),
             OXS_ERR_UNSUPPORTED);
    CHECK_ST("§13 the 64-bit-time SO_SNDTIMEO_NEW (67) too", oxs_setsockopt(c, SOL_SOCKET, 67, &tv, sizeof tv),
             OXS_ERR_UNSUPPORTED);

    /* The kernel's errors, mapped. */
    v = 1;
    CHECK_ST("§13 an option the kernel does not know is UNSUPPORTED",
             oxs_setsockopt(c, SOL_SOCKET, 9999, &v, sizeof v), OXS_ERR_UNSUPPORTED);
    len = sizeof v;
    CHECK_ST("§13 ... for getsockopt too", oxs_getsockopt(c, SOL_SOCKET, 9999, &v, &len), OXS_ERR_UNSUPPORTED);
    REQUIRE_OK("setup: udp", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &u));
    CHECK_ST("§13 a TCP option on UDP is UNSUPPORTED", oxs_setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v),
             OXS_ERR_UNSUPPORTED);
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    CHECK_ST("§13 IP_TOS on a Unix socket is UNSUPPORTED", oxs_setsockopt(p[0], IPPROTO_IP, IP_TOS, &v, sizeof v),
             OXS_ERR_UNSUPPORTED);
    CHECK_ST("§13 a value too short (EINVAL) is INVALID_ARGUMENT", oxs_setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, 1),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§13 ... with the errno kept", oxs_last_os_error(), EINVAL);

    /* Arguments. */
    CHECK_ST("§1 setsockopt value NULL with len > 0", oxs_setsockopt(c, SOL_SOCKET, SO_RCVBUF, NULL, 4),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 getsockopt len NULL", oxs_getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, NULL), OXS_ERR_INVALID_ARGUMENT);
    len = 4;
    CHECK_ST("§1 getsockopt value NULL with *len > 0", oxs_getsockopt(c, SOL_SOCKET, SO_RCVBUF, NULL, &len),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 *len 0 on failure", len, 0);
    CHECK_ST("§3 setsockopt on a closed handle", oxs_setsockopt(9999, SOL_SOCKET, SO_RCVBUF, &v, sizeof v),
             OXS_ERR_BAD_HANDLE);
    len = sizeof v;
    CHECK_ST("§3 getsockopt on a closed handle", oxs_getsockopt(9999, SOL_SOCKET, SO_RCVBUF, &v, &len),
             OXS_ERR_BAD_HANDLE);
    /* SO_TYPE through the raw call agrees with the socket */
    len = sizeof v;
    CHECK_OK("§13 getsockopt SO_TYPE", oxs_getsockopt(u, SOL_SOCKET, SO_TYPE, &v, &len));
    CHECK_INT("§13 SO_TYPE of a UDP socket", v, SOCK_DGRAM);
    oxs_close(u);
    oxs_close(p[0]);
    oxs_close(p[1]);
    oxs_close(c);
    oxs_close(s);
}

int main(int argc, char **argv)
{
    enter_scratch(argc, argv);
    sendfile_rules();
    raw_options();
    return CHECK_SUMMARY("msg_file_opts");
}

/*
 * msg_fds.c - contract §13 "Passing descriptors": oxs_send_fds / oxs_recv_fds on Unix
 * stream, seqpacket and datagram sockets. Received descriptors are new, close-on-exec,
 * the same open files; when more arrive than there is room for, or a datagram is cut,
 * every one that arrived is closed (the /proc/self/fd count is checked before and after
 * every failure) and the call says so. Also the argument rules, UNSUPPORTED on IP
 * sockets, timeouts, non-blocking mode, close while blocked, a socket passed and adopted
 * with oxs_from_fd, 253 descriptors, and passing between processes.
 * Usage: msg_fds [scratch-folder]
 */
#include <sys/wait.h>

#include "msg_util.h"

static const char *type_name(int32_t t)
{
    return t == OXS_TYPE_STREAM ? "stream" : t == OXS_TYPE_DGRAM ? "dgram" : "seqpacket";
}

/* Three descriptors to pass: a pipe's write end, a file, a socket. */
typedef struct three {
    int pipe_r, pipe_w, file, sock[2];
} three;

static void three_open(three *t)
{
    int pp[2];
    REQUIRE("setup: pipe", pipe2(pp, O_CLOEXEC) == 0);
    t->pipe_r = pp[0];
    t->pipe_w = pp[1];
    t->file = open("passed.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE("setup: file", t->file >= 0);
    REQUIRE("setup: socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, t->sock) == 0);
}

static void three_close(three *t)
{
    close(t->pipe_r);
    close(t->pipe_w);
    close(t->file);
    close(t->sock[0]);
    close(t->sock[1]);
}

static int same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void one_type(int32_t type)
{
    oxs_socket p[2];
    three t;
    int32_t fds[3], got[8];
    char buf[64], rule[200];
    size_t n = 9, nf = 9, i;
    int before;
    const char *tn = type_name(type);
    REQUIRE_OK("setup: socketpair", oxs_socketpair(type, p));
    oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 5000);
    three_open(&t);
    fds[0] = t.pipe_w;
    fds[1] = t.file;
    fds[2] = t.sock[0];

    /* The good path. */
    before = count_fds();
    snprintf(rule, sizeof rule, "§13 send_fds with three descriptors (%s)", tn);
    CHECK_OK(rule, oxs_send_fds(p[0], "hello", 5, fds, 3, &n));
    CHECK_INT(rule, n, 5);
    CHECK("§13 the caller keeps its own copies", fd_is_open(t.pipe_w) && fd_is_open(t.file) &&
                                                     fd_is_open(t.sock[0]));
    for (i = 0; i < 8; i++)
        got[i] = -7;
    snprintf(rule, sizeof rule, "§13 recv_fds receives them (%s)", tn);
    CHECK_OK(rule, oxs_recv_fds(p[1], buf, sizeof buf, &n, got, 8, &nf));
    CHECK(rule, n == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK_INT(rule, nf, 3);
    CHECK_INT("§13 three new descriptors are open", count_fds(), before + 3);
    if (nf == 3) {
        char c = 0;
        ssize_t k;
        for (i = 0; i < 3; i++) {
            CHECK("§13 each received descriptor is new", got[i] != fds[0] && got[i] != fds[1] && got[i] != fds[2]);
            CHECK("§13 each received descriptor is close-on-exec (FD_CLOEXEC)", fd_is_cloexec(got[i]));
            CHECK("§13 each is the same file", same_file(got[i], fds[i]));
        }
        /* the same open file: write through one, read through the other */
        k = write(got[0], "P", 1);
        CHECK("§13 write through the received pipe end", k == 1);
        k = read(t.pipe_r, &c, 1);
        CHECK("§13 ... read through the original: the same open pipe", k == 1 && c == 'P');
        k = write(got[1], "file!", 5);
        CHECK("§13 the received file shares its offset (one open file description)",
              k == 5 && lseek(t.file, 0, SEEK_CUR) == 5);
        k = write(got[2], "S", 1);
        k = read(t.sock[1], &c, 1);
        CHECK("§13 the received socket is the same open socket", k == 1 && c == 'S');
        for (i = 0; i < 3; i++)
            close(got[i]);
    }
    CHECK_INT("§13 after closing them, the count is back", count_fds(), before);

    /* More descriptors than room: every one that arrived is closed. */
    before = count_fds();
    oxs_send_fds(p[0], "toomany", 7, fds, 3, &n);
    for (i = 0; i < 8; i++)
        got[i] = -7;
    snprintf(rule, sizeof rule, "§13 more descriptors than cap is BUFFER_TOO_SMALL (%s)", tn);
    CHECK_ST(rule, oxs_recv_fds(p[1], buf, sizeof buf, &n, got, 2, &nf), OXS_ERR_BUFFER_TOO_SMALL);
    CHECK_INT("§13 *nfds is 0", nf, 0);
    CHECK("§13 the bytes are still stored with their count", n == 7 && memcmp(buf, "toomany", 7) == 0);
    CHECK("§13 nothing is written to fds", got[0] == -7 && got[1] == -7);
    CHECK_INT("§13 every descriptor that arrived was closed (/proc/self/fd count unchanged)", count_fds(),
              before);
    CHECK("§1 oxs_last_error says what happened", contains(oxs_last_error(), "closed"));

    oxs_send_fds(p[0], "z", 1, fds, 1, &n);
    CHECK_ST("§13 cap 0 (fds NULL) with a descriptor arriving", oxs_recv_fds(p[1], buf, sizeof buf, &n, NULL, 0, &nf),
             OXS_ERR_BUFFER_TOO_SMALL);
    CHECK("§13 cap 0: nfds 0, the byte stored", nf == 0 && n == 1 && buf[0] == 'z');
    CHECK_INT("§13 cap 0: no descriptor leaked", count_fds(), before);

    /* A receive that brings none. */
    CHECK_OK("setup: plain send", oxs_send(p[0], "plain", 5, 0, &n));
    nf = 9;
    CHECK_OK("§13 a receive with no descriptors succeeds", oxs_recv_fds(p[1], buf, sizeof buf, &n, got, 8, &nf));
    CHECK("§13 ... with *nfds 0 and the bytes", nf == 0 && n == 5 && memcmp(buf, "plain", 5) == 0);

    if (type != OXS_TYPE_STREAM) {
        /* A cut datagram: MESSAGE_TOO_LONG, its full length, descriptors closed. */
        before = count_fds();
        oxs_send_fds(p[0], "0123456789", 10, fds, 3, &n);
        oxs_send(p[0], "after", 5, 0, &n);
        snprintf(rule, sizeof rule, "§13 a cut datagram with descriptors is MESSAGE_TOO_LONG (%s)", tn);
        CHECK_ST(rule, oxs_recv_fds(p[1], buf, 4, &n, got, 8, &nf), OXS_ERR_MESSAGE_TOO_LONG);
        CHECK_INT("§13 the count is the datagram's full length", n, 10);
        CHECK("§13 its first bytes are stored", memcmp(buf, "0123", 4) == 0);
        CHECK_INT("§13 *nfds 0 for a cut datagram", nf, 0);
        CHECK_INT("§13 every descriptor of the cut datagram was closed", count_fds(), before);
        CHECK_OK("§6 the next datagram follows", oxs_recv_fds(p[1], buf, sizeof buf, &n, got, 8, &nf));
        CHECK("§6 the next datagram follows", n == 5 && nf == 0 && memcmp(buf, "after", 5) == 0);
    } else {
        /* A stream: all of buf is sent as write_all does, the descriptors with the first
         * byte; a large message arrives whole. */
        static unsigned char big[4u << 20];
        drain d;
        size_t first = 0;
        fill_pat(big, sizeof big, 0);
        before = count_fds();
        CHECK_OK("§13 send_fds of 4 MiB while the peer reads: start",
                 oxs_send_fds(p[0], big, 1, fds, 1, &n)); /* one byte with the fd */
        CHECK_OK("§13 recv_fds takes the descriptor", oxs_recv_fds(p[1], buf, 1, &first, got, 8, &nf));
        CHECK("§13 one byte, one descriptor", first == 1 && nf == 1);
        if (nf == 1)
            close(got[0]);
        drain_start(&d, p[1], sizeof big, 0, 20);
        CHECK_OK("§13 send_fds sends all of a 4 MiB buffer, as write_all does",
                 oxs_send_fds(p[0], big, sizeof big, fds, 2, &n));
        CHECK_INT("§13 send_fds count is every byte", n, sizeof big);
        drain_join(&d);
        CHECK("§13 every byte arrives in order", d.got == sizeof big && d.bad_at == (size_t)-1);
        /* a plain read of the bytes that carried descriptors drops them (the kernel
         * closes them): none stays open in this process */
        CHECK_INT("§13 descriptors dropped by a plain read are not left open", count_fds(), before);
    }
    three_close(&t);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

static void args_and_unsupported(void)
{
    oxs_socket p[2], c, s, u = 0;
    int32_t fds[254], got[4];
    int fd, before;
    size_t n = 9, nf = 9, i;
    char buf[8];
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (i = 0; i < 254; i++)
        fds[i] = fd;
    before = count_fds();

    CHECK_ST("§13 nfds 0 is INVALID_ARGUMENT", oxs_send_fds(p[0], "x", 1, fds, 0, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 nsent 0 on failure", n, 0);
    CHECK_ST("§13 nfds 254 is INVALID_ARGUMENT", oxs_send_fds(p[0], "x", 1, fds, 254, &n),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§13 fds NULL", oxs_send_fds(p[0], "x", 1, NULL, 1, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§13 len 0 is INVALID_ARGUMENT (descriptors travel with a byte)",
             oxs_send_fds(p[0], "x", 0, fds, 1, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 buf NULL with len > 0", oxs_send_fds(p[0], NULL, 1, fds, 1, &n), OXS_ERR_INVALID_ARGUMENT);
    {
        int32_t bad[2];
        bad[0] = fd;
        bad[1] = -1;
        CHECK_ST("§13 a descriptor -1 is INVALID_ARGUMENT", oxs_send_fds(p[0], "x", 1, bad, 2, &n),
                 OXS_ERR_INVALID_ARGUMENT);
        bad[1] = dup(fd);
        close(bad[1]);
        CHECK_ST("§13 a closed descriptor is INVALID_ARGUMENT", oxs_send_fds(p[0], "x", 1, bad, 2, &n),
                 OXS_ERR_INVALID_ARGUMENT);
        CHECK_INT("§1 nsent 0 on failure", n, 0);
    }
    CHECK_ST("§1 recv_fds nrecv NULL", oxs_recv_fds(p[1], buf, 8, NULL, got, 4, &nf), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 recv_fds nfds NULL", oxs_recv_fds(p[1], buf, 8, &n, got, 4, NULL), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 recv_fds fds NULL with cap > 0", oxs_recv_fds(p[1], buf, 8, &n, NULL, 4, &nf),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 recv_fds buf NULL with len > 0", oxs_recv_fds(p[1], NULL, 8, &n, got, 4, &nf),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK("§1 counts 0 on failure", n == 0 && nf == 0);
    CHECK_ST("§3 send_fds on a closed handle", oxs_send_fds(9999, "x", 1, fds, 1, &n), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 recv_fds on a closed handle", oxs_recv_fds(9999, buf, 8, &n, got, 4, &nf), OXS_ERR_BAD_HANDLE);
    CHECK_INT("§13 no failed call changed the descriptor count", count_fds(), before);

    /* 253 descriptors: the most one message carries. */
    CHECK_OK("§13 send_fds with 253 descriptors", oxs_send_fds(p[0], "M", 1, fds, 253, &n));
    {
        static int32_t many[300];
        oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 5000);
        CHECK_OK("§13 recv_fds of 253 descriptors", oxs_recv_fds(p[1], buf, 8, &n, many, 300, &nf));
        CHECK_INT("§13 all 253 arrive", nf, 253);
        CHECK_INT("§13 253 new descriptors", count_fds(), before + 253);
        for (i = 0; i < nf; i++)
            close(many[i]);
        oxs_send_fds(p[0], "M", 1, fds, 253, &n);
        CHECK_ST("§13 253 arriving with room for 252", oxs_recv_fds(p[1], buf, 8, &n, many, 252, &nf),
                 OXS_ERR_BUFFER_TOO_SMALL);
        CHECK_INT("§13 all 253 were closed", count_fds(), before);
    }

    /* Unix sockets only. */
    tcp_pair(0, &c, &s);
    CHECK_ST("§13 send_fds on TCP is UNSUPPORTED", oxs_send_fds(c, "x", 1, fds, 1, &n), OXS_ERR_UNSUPPORTED);
    CHECK_ST("§13 recv_fds on TCP is UNSUPPORTED", oxs_recv_fds(s, buf, 8, &n, got, 4, &nf), OXS_ERR_UNSUPPORTED);
    REQUIRE_OK("setup: udp", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &u));
    CHECK_ST("§13 send_fds on UDP is UNSUPPORTED", oxs_send_fds(u, "x", 1, fds, 1, &n), OXS_ERR_UNSUPPORTED);
    CHECK_ST("§13 recv_fds on UDP is UNSUPPORTED", oxs_recv_fds(u, buf, 8, &n, got, 4, &nf), OXS_ERR_UNSUPPORTED);
    oxs_close(c);
    oxs_close(s);
    oxs_close(u);
    close(fd);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

static void bg_recv_fds(bg_call *c)
{
    int32_t got[4];
    size_t nf = 0;
    c->st = oxs_recv_fds(c->s, c->buf, c->len, &c->n, got, 4, &nf);
}

static void blocking_rules(void)
{
    oxs_socket p[2];
    int32_t got[4];
    char buf[8];
    size_t n, nf;
    bg_call bg;
    int before = count_fds();
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 100);
    CHECK_ST("§13 recv_fds with a read timeout", oxs_recv_fds(p[1], buf, 8, &n, got, 4, &nf), OXS_ERR_TIMED_OUT);
    oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 0);
    oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 1);
    CHECK_ST("§13 non-blocking recv_fds", oxs_recv_fds(p[1], buf, 8, &n, got, 4, &nf), OXS_ERR_WOULD_BLOCK);
    oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 0);
    memset(&bg, 0, sizeof bg);
    bg.fn = bg_recv_fds;
    bg.s = p[1];
    bg.buf = buf;
    bg.len = sizeof buf;
    bg_start(&bg);
    CHECK("§3 recv_fds blocks", wait_thread_blocked(bg.tid));
    CHECK_OK("§3 close while recv_fds is blocked", oxs_close(p[1]));
    if (CHECK("§3 the blocked recv_fds returns", bg_wait(&bg, 5000 * (int)slow_factor())))
        CHECK_ST("§3 the blocked recv_fds returns CLOSED", bg.st, OXS_ERR_CLOSED);
    oxs_close(p[0]);
    CHECK_INT("§13 no descriptor left behind", count_fds(), before);
}

/* A connected TCP socket handed over a Unix socket, adopted with oxs_from_fd, used. */
static void pass_socket(void)
{
    oxs_socket p[2], c, s, adopted = 0;
    int32_t fd, got[2];
    char buf[16];
    size_t n, nf;
    tcp_pair(0, &c, &s);
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_SEQPACKET, p));
    REQUIRE_OK("setup: oxs_fd", oxs_fd(s, &fd));
    CHECK_OK("§13 pass a TCP socket", oxs_send_fds(p[0], "conn", 4, &fd, 1, &n));
    oxs_close(s); /* our copy goes; the passed one keeps the connection */
    CHECK_OK("§13 receive it", oxs_recv_fds(p[1], buf, sizeof buf, &n, got, 2, &nf));
    if (CHECK_INT("§13 one descriptor", nf, 1)) {
        CHECK_OK("§13 oxs_from_fd adopts a socket among them", oxs_from_fd(got[0], &adopted));
        CHECK_OK("§13 the adopted socket talks to the peer", oxs_write_all(adopted, "ping", 4, &n));
        oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 5000);
        CHECK_OK("§13 ... which reads it", oxs_read_exact(c, buf, 4, &n));
        CHECK("§13 ... the same bytes", memcmp(buf, "ping", 4) == 0);
        oxs_close(adopted);
    }
    oxs_close(c);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

/* Between processes: a child receives a pipe's write end and writes through it. */
static void across_fork(void)
{
    oxs_socket p[2];
    int pp[2], status = 0;
    int32_t w;
    size_t n;
    pid_t pid;
    char c = 0;
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_DGRAM, p));
    REQUIRE("setup: pipe", pipe2(pp, O_CLOEXEC) == 0);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int32_t got[2];
        size_t nn = 0, nf = 0;
        char b[8];
        close(pp[1]);
        oxs_close(p[0]);
        if (oxs_recv_fds(p[1], b, sizeof b, &nn, got, 2, &nf) != OXS_OK || nf != 1)
            _exit(3);
        if (write(got[0], "K", 1) != 1)
            _exit(4);
        _exit(0);
    }
    oxs_close(p[1]);
    w = pp[1];
    CHECK_OK("§13 send a pipe end to another process", oxs_send_fds(p[0], "w", 1, &w, 1, &n));
    close(pp[1]);
    CHECK("§13 the other process writes through it", read(pp[0], &c, 1) == 1 && c == 'K');
    waitpid(pid, &status, 0);
    CHECK("§13 the child succeeded", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pp[0]);
    oxs_close(p[0]);
}

int main(int argc, char **argv)
{
    int start;
    enter_scratch(argc, argv);
    start = count_fds();
    one_type(OXS_TYPE_STREAM);
    one_type(OXS_TYPE_SEQPACKET);
    one_type(OXS_TYPE_DGRAM);
    args_and_unsupported();
    blocking_rules();
    pass_socket();
    across_fork();
    CHECK_INT("§13 no descriptor leaked over the whole program", count_fds(), start);
    return CHECK_SUMMARY("msg_fds");
}

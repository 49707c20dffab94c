/*
 * core_fd.c - contract §10 (oxs_fd, oxs_from_fd, oxs_into_fd), §1 close-on-exec for
 * every descriptor the library creates, and §1 fork(): a child uses and closes an
 * inherited handle and never unlinks the parent's socket file.
 * Usage: core_fd [scratch-folder]
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/if_ether.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "core_util.h"

static void fd_borrow(void)
{
    oxs_socket c, s;
    int32_t fd = -5;
    struct stat sb;
    int type = 0;
    socklen_t tl = sizeof type;
    char buf[8];
    tcp_pair(0, &c, &s);
    CHECK_OK("§10 oxs_fd", oxs_fd(c, &fd));
    CHECK("§10 oxs_fd gives a socket descriptor", fd >= 0 && fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode));
    CHECK("§10 the descriptor is the handle's socket",
          getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM);
    CHECK("§10 write(2) on the borrowed descriptor", write(fd, "b", 1) == 1);
    {
        size_t n = 0;
        oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000);
        CHECK_OK("§10 the handle's peer reads it", oxs_read(s, buf, 1, &n));
        CHECK("§10 byte from write(2)", n == 1 && buf[0] == 'b');
    }
    {
        size_t n = 0;
        CHECK_OK("§10 the handle stays owner after oxs_fd", oxs_write(c, "x", 1, &n));
    }
    oxs_close(c);
    oxs_close(s);
}

static void from_fd_rules(void)
{
    oxs_socket h = 77, c, s;
    int fd, fl;
    int64_t v;
    struct timeval tv = {2, 0};
    char buf[8];
    size_t n;

    /* Not a socket: a regular file. */
    fd = open("/proc/self/stat", O_RDONLY);
    h = 77;
    CHECK_ST("§10 from_fd of a descriptor that is not a socket", oxs_from_fd(fd, &h),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 handle OXS_INVALID on failure", h, OXS_INVALID);
    CHECK("§10 on failure the caller still owns the descriptor (still open)", fd_is_open(fd));
    close(fd);
    /* A pipe. */
    {
        int p[2];
        if (pipe(p) == 0) {
            CHECK_ST("§10 from_fd of a pipe", oxs_from_fd(p[0], &h), OXS_ERR_INVALID_ARGUMENT);
            CHECK("§10 the pipe is still open", fd_is_open(p[0]));
            close(p[0]);
            close(p[1]);
        }
    }
    /* Not open. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    close(fd);
    CHECK_ST("§10 from_fd of a closed descriptor", oxs_from_fd(fd, &h), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§10 from_fd(-1)", oxs_from_fd(-1, &h), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§10 from_fd(INT32_MIN)", oxs_from_fd(INT32_MIN, &h), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§10 from_fd(100000)", oxs_from_fd(100000, &h), OXS_ERR_INVALID_ARGUMENT);

    /* Already owned by a live handle. */
    tcp_pair(0, &c, &s);
    fd = fd_of(c);
    CHECK_ST("§10 from_fd of a descriptor owned by a live handle", oxs_from_fd(fd, &h),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 handle OXS_INVALID", h, OXS_INVALID);
    CHECK_OK("§10 the owning handle still works", oxs_write(c, "o", 1, &n));
    CHECK_OK("§10 the owning handle still works (peer)", oxs_read(s, buf, 1, &n));
    oxs_close(c);
    oxs_close(s);

    /* Another family: netlink (and packet, as root) -> UNSUPPORTED, fd untouched. */
    fd = socket(AF_NETLINK, SOCK_RAW, 0);
    if (fd >= 0) {
        fl = fcntl(fd, F_GETFL);
        CHECK_ST("§10 from_fd of a netlink socket is UNSUPPORTED", oxs_from_fd(fd, &h),
                 OXS_ERR_UNSUPPORTED);
        CHECK("§10 the refused netlink descriptor is left open and untouched",
              fd_is_open(fd) && fcntl(fd, F_GETFL) == fl);
        close(fd);
    } else {
        CHECK_SKIP("§10 from_fd of a netlink socket", "cannot open AF_NETLINK here");
    }
    fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
    if (fd >= 0) {
        CHECK_ST("§10 from_fd of a packet socket is UNSUPPORTED", oxs_from_fd(fd, &h),
                 OXS_ERR_UNSUPPORTED);
        CHECK("§10 the refused packet descriptor is left open", fd_is_open(fd));
        close(fd);
    } else {
        CHECK_SKIP("§10 from_fd of a packet socket", "cannot open AF_PACKET (not root?)");
    }

    /* Success: flags as they were, NONBLOCKING reports O_NONBLOCK, timeouts read 0. */
    {
        int sv[2];
        CHECK("§10 socketpair(2)", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
        setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        fl = fcntl(sv[0], F_GETFL);
        if (CHECK_OK("§10 from_fd of a Unix socket", oxs_from_fd(sv[0], &h))) {
            CHECK("§10 adopted: a live handle", h != OXS_INVALID);
            CHECK_INT("§10 adopted: O_NONBLOCK left as it was", fcntl(sv[0], F_GETFL), fl);
            CHECK_INT("§10 adopted: FD_CLOEXEC left as it was (was off)",
                      fd_is_cloexec(sv[0]), 0);
            v = -1;
            CHECK_OK("§10 getopt NONBLOCKING", oxs_getopt(h, OXS_OPT_NONBLOCKING, &v));
            CHECK_INT("§10 NONBLOCKING reports O_NONBLOCK (1)", v, 1);
            v = -1;
            CHECK_OK("§10 getopt READ_TIMEOUT", oxs_getopt(h, OXS_OPT_READ_TIMEOUT_MS, &v));
            CHECK_INT("§10 adopted: its timeouts read 0", v, 0);
            CHECK_OK("§10 getopt WRITE_TIMEOUT", oxs_getopt(h, OXS_OPT_WRITE_TIMEOUT_MS, &v));
            CHECK_INT("§10 adopted: its timeouts read 0 (write)", v, 0);
            CHECK_OK("§10 getopt DOMAIN", oxs_getopt(h, OXS_OPT_DOMAIN, &v));
            CHECK_INT("§10 adopted: DOMAIN", v, OXS_DOMAIN_UNIX);
            CHECK_OK("§10 getopt TYPE", oxs_getopt(h, OXS_OPT_TYPE, &v));
            CHECK_INT("§10 adopted: TYPE", v, OXS_TYPE_STREAM);
            CHECK_OK("§10 the adopted handle writes", oxs_write(h, "q", 1, &n));
            CHECK("§10 the other end reads", read(sv[1], buf, 1) == 1 && buf[0] == 'q');
            CHECK_ST("§10 the same fd again is already owned", oxs_from_fd(sv[0], &c),
                     OXS_ERR_INVALID_ARGUMENT);
            CHECK_OK("§10 close the adopted handle", oxs_close(h));
            CHECK("§10 closing the handle closes the descriptor", !fd_is_open(sv[0]));
        }
        close(sv[1]);
        CHECK("§10 socket(2)", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
        if (CHECK_OK("§10 from_fd of a blocking datagram socket", oxs_from_fd(sv[0], &h))) {
            CHECK_OK("§10 getopt NONBLOCKING", oxs_getopt(h, OXS_OPT_NONBLOCKING, &v));
            CHECK_INT("§10 NONBLOCKING reports O_NONBLOCK (0)", v, 0);
            CHECK_OK("§10 getopt TYPE", oxs_getopt(h, OXS_OPT_TYPE, &v));
            CHECK_INT("§10 adopted: TYPE DGRAM", v, OXS_TYPE_DGRAM);
            oxs_close(h);
        }
        close(sv[1]);
    }
    fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (CHECK_OK("§10 from_fd of an INET6 socket", oxs_from_fd(fd, &h))) {
        CHECK_OK("§10 getopt DOMAIN", oxs_getopt(h, OXS_OPT_DOMAIN, &v));
        CHECK_INT("§10 adopted: DOMAIN INET6", v, OXS_DOMAIN_INET6);
        CHECK_OK("§10 adopted socket binds", oxs_bind(h, "[::1]:0"));
        oxs_close(h);
    }
}

static void into_fd_rules(void)
{
    oxs_socket c, s, l = 0;
    int32_t fd = 5;
    char buf[8];
    struct timeval tv;
    socklen_t tl = sizeof tv;
    size_t n;

    tcp_pair(0, &c, &s);
    CHECK_OK("§7 NONBLOCKING 1", oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    CHECK_OK("§7 READ_TIMEOUT 700", oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 700));
    CHECK_OK("§7 WRITE_TIMEOUT 700", oxs_setopt(c, OXS_OPT_WRITE_TIMEOUT_MS, 700));
    if (CHECK_OK("§10 into_fd", oxs_into_fd(c, &fd))) {
        CHECK("§10 into_fd gives a descriptor", fd >= 0);
        CHECK("§10 O_NONBLOCK matches NONBLOCKING (1)", (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
        memset(&tv, 0xff, sizeof tv);
        CHECK("§10 no kernel read timeout the library set",
              getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl) == 0 && tv.tv_sec == 0 && tv.tv_usec == 0);
        tl = sizeof tv;
        CHECK("§10 no kernel write timeout the library set",
              getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl) == 0 && tv.tv_sec == 0 && tv.tv_usec == 0);
        CHECK_ST("§10 the handle ends", oxs_write(c, "x", 1, &n), OXS_ERR_BAD_HANDLE);
        CHECK_ST("§10 the handle ends (close)", oxs_close(c), OXS_ERR_BAD_HANDLE);
        CHECK("§10 the caller owns a working descriptor", write(fd, "w", 1) == 1);
        oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000);
        CHECK_OK("§10 the peer reads it", oxs_read(s, buf, 1, &n));
        CHECK("§1 the descriptor keeps FD_CLOEXEC", fd_is_cloexec(fd));
        CHECK("§10 the caller can adopt it again", oxs_from_fd(fd, &c) == OXS_OK);
        oxs_close(c);
    }
    oxs_close(s);

    /* Blocking one: O_NONBLOCK off. */
    tcp_pair(0, &c, &s);
    oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 500);
    if (CHECK_OK("§10 into_fd (blocking)", oxs_into_fd(c, &fd))) {
        CHECK("§10 O_NONBLOCK matches NONBLOCKING (0)", (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
        tl = sizeof tv;
        CHECK("§10 no kernel read timeout the library set (blocking)",
              getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl) == 0 && tv.tv_sec == 0 && tv.tv_usec == 0);
        close(fd);
    }
    oxs_close(s);

    /* BUSY with a call in flight: nothing changes. */
    tcp_pair(0, &c, &s);
    {
        bg_call b;
        memset(&b, 0, sizeof b);
        b.fn = bg_read;
        b.s = c;
        b.buf = buf;
        b.len = sizeof buf;
        bg_start(&b);
        CHECK("§10 reader blocked", wait_thread_blocked(b.tid));
        fd = 5;
        CHECK_ST("§10 into_fd with a call in flight is BUSY", oxs_into_fd(c, &fd), OXS_ERR_BUSY);
        CHECK_INT("§1 fd -1 on failure", fd, -1);
        CHECK_OK("§10 BUSY changed nothing: the peer writes", oxs_write(s, "k", 1, &n));
        if (CHECK("§10 the blocked read completes", bg_wait(&b, 5000 * (int)slow_factor()))) {
            CHECK_OK("§10 the blocked read got the byte", b.st);
            CHECK_INT("§10 one byte", b.n, 1);
        }
        CHECK_OK("§10 the handle is still live after BUSY", oxs_write(c, "z", 1, &n));
    }
    oxs_close(c);
    oxs_close(s);

    /* A Unix listener's file stays. */
    unlink("keep.sock");
    if (CHECK_OK("§8 listen_on", oxs_listen_on("unix://keep.sock", &l))) {
        CHECK_OK("§10 into_fd of a Unix listener", oxs_into_fd(l, &fd));
        CHECK("§10 ... its file stays", access("keep.sock", F_OK) == 0);
        close(fd);
        CHECK("§10 ... and stays after the caller closes the fd", access("keep.sock", F_OK) == 0);
        unlink("keep.sock");
    }

    /* into_fd removes the socket from pollers. */
    {
        oxs_poller p = 0;
        oxs_event ev[4];
        oxs_socket q[2];
        if (CHECK_OK("§9 poller_open", oxs_poller_open(&p)) &&
            CHECK_OK("§6 socketpair", oxs_socketpair(OXS_TYPE_STREAM, q))) {
            CHECK_OK("§9 poller_add", oxs_poller_add(p, q[0], OXS_POLL_IN, 7));
            CHECK_OK("§10 into_fd", oxs_into_fd(q[0], &fd));
            CHECK_OK("§6 write", oxs_write(q[1], "r", 1, &n));
            n = 9;
            CHECK_OK("§9 wait", oxs_poller_wait(p, ev, 4, 100, &n));
            CHECK_INT("§10 into_fd: the socket left every poller", n, 0);
            close(fd);
            oxs_close(q[1]);
            oxs_poller_close(p);
        }
    }
}

/* Every descriptor the library creates has FD_CLOEXEC: look at each, and at every
 * descriptor that appeared in /proc/self/fd (pollers' internals included). */
static void cloexec_everywhere(void)
{
    static char before[4096];
    oxs_socket hs[64];
    int nh = 0, i, bad = 0;
    oxs_poller p = 0;
    char ep[256];
    DIR *d;
    struct dirent *e;
    oxs_socket l;

    memset(before, 0, sizeof before);
    d = opendir("/proc/self/fd");
    while (d && (e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd >= 0 && fd < 4096)
            before[fd] = 1;
    }
    if (d)
        closedir(d);

    {
        int dom, ty;
        for (dom = OXS_DOMAIN_UNIX; dom <= OXS_DOMAIN_INET6; dom++)
            for (ty = OXS_TYPE_STREAM; ty <= OXS_TYPE_SEQPACKET; ty++) {
                oxs_socket s;
                int proto = ty == OXS_TYPE_RAW ? (dom == OXS_DOMAIN_INET ? 1 : 58) : 0;
                if (oxs_socket_open(dom, ty, proto, &s) == OXS_OK)
                    hs[nh++] = s;
            }
    }
    {
        oxs_socket pr[2];
        int t;
        for (t = OXS_TYPE_STREAM; t <= OXS_TYPE_SEQPACKET; t++)
            if (t != OXS_TYPE_RAW && oxs_socketpair(t, pr) == OXS_OK) {
                hs[nh++] = pr[0];
                hs[nh++] = pr[1];
            }
    }
    {
        oxs_socket c, s;
        tcp_pair(0, &c, &s);
        hs[nh++] = c;
        hs[nh++] = s; /* accepted */
    }
    if (oxs_listen_on("tcp://127.0.0.1:0", &l) == OXS_OK) {
        oxs_socket c;
        hs[nh++] = l;
        snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", local_port(l));
        if (oxs_dial(ep, 2000, &c) == OXS_OK)
            hs[nh++] = c;
    }
    if (oxs_listen_on("tcp://*:0", &l) == OXS_OK)
        hs[nh++] = l;
    if (oxs_listen_on("udp://127.0.0.1:0", &l) == OXS_OK) {
        oxs_socket c;
        hs[nh++] = l;
        snprintf(ep, sizeof ep, "udp://127.0.0.1:%d", local_port(l));
        if (oxs_dial(ep, 2000, &c) == OXS_OK)
            hs[nh++] = c;
    }
    unlink("cx.sock");
    unlink("cxg.sock");
    unlink("cxp.sock");
    if (oxs_listen_on("unix://cx.sock", &l) == OXS_OK) {
        oxs_socket c;
        hs[nh++] = l;
        if (oxs_dial("unix://cx.sock", 2000, &c) == OXS_OK)
            hs[nh++] = c;
    }
    if (oxs_listen_on("unixgram://cxg.sock", &l) == OXS_OK) {
        oxs_socket c;
        hs[nh++] = l;
        if (oxs_dial("unixgram://cxg.sock", 2000, &c) == OXS_OK)
            hs[nh++] = c;
    }
    if (oxs_listen_on("unixpacket://cxp.sock", &l) == OXS_OK)
        hs[nh++] = l;
    CHECK_OK("§9 poller_open", oxs_poller_open(&p));
    CHECK("§1 created a good number of sockets to inspect", nh >= 20);

    for (i = 0; i < nh; i++) {
        int fd = fd_of(hs[i]);
        if (!fd_is_cloexec(fd)) {
            bad++;
            printf("  handle %d (fd %d) has no FD_CLOEXEC\n", i, fd);
        }
    }
    CHECK_INT("§1 every socket the library creates has FD_CLOEXEC (sockets without it)", bad, 0);
    bad = 0;
    d = opendir("/proc/self/fd");
    while (d && (e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd < 0 || fd >= 4096 || before[fd] || fd == dirfd(d))
            continue;
        if (!fd_is_cloexec(fd)) {
            char lnk[64], tgt[256];
            ssize_t k;
            snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", fd);
            k = readlink(lnk, tgt, sizeof tgt - 1);
            tgt[k > 0 ? k : 0] = '\0';
            printf("  fd %d (%s) has no FD_CLOEXEC\n", fd, tgt);
            bad++;
        }
    }
    if (d)
        closedir(d);
    CHECK_INT("§1 every descriptor the library creates has FD_CLOEXEC (pollers included)", bad, 0);
    for (i = 0; i < nh; i++)
        oxs_close(hs[i]);
    oxs_poller_close(p);
}

/* fork(): the child uses and closes an inherited handle, even one that has a call in
 * flight in the parent, and does not unlink the parent's socket file. */
static void fork_rules(void)
{
    oxs_socket c, s, l = 0, c2, s2;
    pid_t pid;
    int status = -1, res[2];
    char buf[16];
    size_t n;
    bg_call b;

    tcp_pair(0, &c, &s);
    tcp_pair(0, &c2, &s2);
    unlink("parent.sock");
    REQUIRE_OK("§8 listen_on", oxs_listen_on("unix://parent.sock", &l));
    memset(&b, 0, sizeof b);
    b.fn = bg_read;
    b.s = c2;
    b.buf = buf;
    b.len = 1;
    bg_start(&b);
    CHECK("§1 a call in flight in the parent", wait_thread_blocked(b.tid));
    fflush(stdout);
    if (pipe(res) != 0)
        res[0] = res[1] = -1;
    pid = fork();
    if (pid == 0) {
        /* Child: exit code bits say what failed. */
        int code = 0;
        size_t m = 0;
        int32_t fd = -1;
        if (oxs_write(c, "child", 5, &m) != OXS_OK || m != 5)
            code |= 1;
        if (oxs_close(c) != OXS_OK)
            code |= 2;
        if (oxs_close(l) != OXS_OK)
            code |= 4;
        /* The in-flight count was reset in the child: into_fd is not BUSY. */
        if (oxs_into_fd(c2, &fd) != OXS_OK)
            code |= 8;
        else
            close(fd);
        if (oxs_close(c) != OXS_ERR_BAD_HANDLE)
            code |= 16;
        /* The result goes through a pipe, not the exit status, which valgrind replaces
         * when its leak check in the child finds the parent's threads' memory. */
        {
            unsigned char b = (unsigned char)code;
            if (write(res[1], &b, 1) != 1)
                _exit(99);
        }
        _exit(0);
    }
    CHECK("§1 fork", pid > 0);
    if (pid > 0) {
        int i;
        for (i = 0; i < 500; i++) {
            if (waitpid(pid, &status, WNOHANG) == pid)
                break;
            sleep_ms(10);
        }
        if (!CHECK("§1 the child finishes", i < 500)) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        CHECK("§1 the child exited normally", WIFEXITED(status));
        {
            unsigned char b = 255;
            int code;
            close(res[1]);
            if (read(res[0], &b, 1) != 1)
                b = 255;
            close(res[0]);
            code = b;
            CHECK_INT("§1 child: write on an inherited handle (bit 1)", code & 1, 0);
            CHECK_INT("§1 child: close of an inherited handle (bit 2)", code & 2, 0);
            CHECK_INT("§1 child: close of an inherited Unix listener (bit 4)", code & 4, 0);
            CHECK_INT("§1 child: in-flight counts reset (into_fd not BUSY) (bit 8)", code & 8, 0);
            CHECK_INT("§1 child: a closed handle is BAD_HANDLE (bit 16)", code & 16, 0);
        }
        oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000);
        CHECK_OK("§1 the parent's peer gets the child's write", oxs_read_exact(s, buf, 5, &n));
        CHECK("§1 child's bytes", memcmp(buf, "child", 5) == 0);
        CHECK("§1 a child never unlinks a Unix socket file it did not bind",
              access("parent.sock", F_OK) == 0);
        CHECK_OK("§1 the parent's handle still works after the child closed its copy",
                 oxs_write(c, "p", 1, &n));
        CHECK_OK("§1 peer reads the parent's byte", oxs_read(s, buf, 1, &n));
        {
            oxs_socket cc = 0;
            CHECK_OK("§1 the parent's listener still accepts",
                     oxs_dial("unix://parent.sock", 1000, &cc));
            oxs_close(cc);
        }
        CHECK_OK("§1 parent writes to unblock its reader", oxs_write(s2, "u", 1, &n));
        if (CHECK("§1 parent's reader returns", bg_wait(&b, 5000 * (int)slow_factor())))
            CHECK_OK("§1 parent's in-flight read is unaffected by the child", b.st);
        CHECK_OK("§8 parent closes its listener", oxs_close(l));
        CHECK("§8 the parent (which bound it) removes the file", access("parent.sock", F_OK) != 0);
    }
    oxs_close(c);
    oxs_close(s);
    oxs_close(c2);
    oxs_close(s2);
}

int main(int argc, char **argv)
{
    enter_scratch(argc, argv);
    fd_borrow();
    from_fd_rules();
    into_fd_rules();
    cloexec_everywhere();
    fork_rules();
    return CHECK_SUMMARY("core_fd");
}

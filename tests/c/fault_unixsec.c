/*
 * fault_unixsec.c - Unix socket security checks for tests/unix_security.rs that need a
 * process of their own (umask, chdir, fork, setuid).
 *
 *   fault_unixsec mode-race DIR ITERATIONS oxsock|naive
 *       umask(0), so a socket file gets mode 0777 unless the library sets the mode
 *       before the file appears. A forked child running as uid/gid 65534 spins
 *       connecting to DIR/s.sock and sending datagrams to DIR/g.sock; a thread of this
 *       process spins lstat() on both. Meanwhile this process, ITERATIONS times, opens
 *       `unix://DIR/s.sock?mode=0600` and `unixgram://DIR/g.sock?mode=0600` with
 *       oxs_listen_on (or, for `naive`, the bind + listen + chmod a careless library
 *       would do: the control that shows the detectors can see a window) and looks for
 *       a connection or datagram that got in. The stranger also connects datagram
 *       sockets and keeps sending on them for 5 ms. Prints "MODE-RACE impl=X
 *       iterations=N stream_in=.. dgram_in=.. attacker_connects=.. attacker_sends=..
 *       attacker_dgram_connects=.. bad_modes_stream=.. bad_modes_dgram=.. stats=.."
 *       and exits 0 unless a check failed (the Rust test judges the figures).
 *   fault_unixsec fork-close DIR
 *       a listener whose forked child closes its copy: the file stays, the parent still
 *       accepts, and the parent's close removes it.
 *   fault_unixsec chdir-close DIR
 *       a listener on a relative path, closed after chdir(): the listener's own file
 *       (by absolute path) is removed; a same-named file in the new folder is not.
 *   fault_unixsec dial-report ENDPOINT
 *       dials, writes "pid=P uid=U", and waits for the peer's end (at most 20 s).
 *
 * Checks use tests/c/check.h: the program prints FAIL lines and a SUMMARY line.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static char s_path[256], g_path[256];
static volatile int stop_flag;
static long bad_modes[2], stats_seen;

static void *stat_spinner(void *arg)
{
    const char *paths[2] = {s_path, g_path};
    struct stat st;
    int k;
    (void)arg;
    while (!__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
        for (k = 0; k < 2; k++) {
            if (lstat(paths[k], &st) != 0)
                continue;
            __atomic_add_fetch(&stats_seen, 1, __ATOMIC_RELAXED);
            if (S_ISSOCK(st.st_mode) && (st.st_mode & 07777) != 0600)
                __atomic_add_fetch(&bad_modes[k], 1, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

/* The unprivileged attacker: runs until killed (or 120 s). Writes how many times it
 * got in to the pipe `out` when it gets SIGTERM. */
static volatile sig_atomic_t attacker_stop;
static void on_term(int sig)
{
    (void)sig;
    attacker_stop = 1;
}

static void attacker(int out)
{
    struct sockaddr_un sa_s, sa_g;
    long in_stream = 0, in_dgram = 0, dgram_connects = 0;
    time_t t0 = time(NULL);
    char msg[64];
    signal(SIGTERM, on_term);
    if (setgroups(0, NULL) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
        perror("drop privileges");
        _exit(3);
    }
    memset(&sa_s, 0, sizeof sa_s);
    sa_s.sun_family = AF_UNIX;
    strcpy(sa_s.sun_path, s_path);
    sa_g = sa_s;
    strcpy(sa_g.sun_path, g_path);
    while (!attacker_stop && time(NULL) - t0 < 120) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            if (connect(fd, (struct sockaddr *)&sa_s, sizeof sa_s) == 0) {
                in_stream++;
                (void)!write(fd, "X", 1);
            }
            close(fd);
        }
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            if (sendto(fd, "X", 1, MSG_DONTWAIT, (struct sockaddr *)&sa_g, sizeof sa_g) == 1)
                in_dgram++;
            close(fd);
        }
        /* A connected datagram sender: the path's permission is checked once, at
         * connect; later sends go through whatever the mode becomes. So one that
         * connects in a window keeps sending after the listener drained its queue. */
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            if (connect(fd, (struct sockaddr *)&sa_g, sizeof sa_g) == 0) {
                int k;
                dgram_connects++;
                for (k = 0; k < 50; k++) {
                    (void)!send(fd, "C", 1, MSG_DONTWAIT);
                    usleep(100);
                }
            }
            close(fd);
        }
    }
    snprintf(msg, sizeof msg, "%ld %ld %ld\n", in_stream, in_dgram, dgram_connects);
    (void)!write(out, msg, strlen(msg));
    _exit(0);
}

/* What a careless library would do: bind (file made with the umask's mode), listen,
 * then chmod. */
static int naive_listen(const char *path, int type)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    if (type == SOCK_STREAM && listen(fd, 64) != 0)
        return -1;
    chmod(path, 0600);
    return fd;
}

static int mode_race(const char *dir, long iters, int naive)
{
    int pfd[2];
    pid_t kid;
    pthread_t spinner;
    long i, stream_in = 0, dgram_in = 0, att_s = -1, att_g = -1, att_gc = -1;
    char ep_s[300], ep_g[300], got[64] = {0};
    snprintf(s_path, sizeof s_path, "%s/s.sock", dir);
    snprintf(g_path, sizeof g_path, "%s/g.sock", dir);
    snprintf(ep_s, sizeof ep_s, "unix://%s?mode=0600", s_path);
    snprintf(ep_g, sizeof ep_g, "unixgram://%s?mode=0600", g_path);
    umask(0);
    REQUIRE("setup", pipe(pfd) == 0);
    kid = fork();
    REQUIRE("setup", kid >= 0);
    if (kid == 0) {
        close(pfd[0]);
        attacker(pfd[1]);
    }
    close(pfd[1]);
    REQUIRE("setup", pthread_create(&spinner, NULL, stat_spinner, NULL) == 0);
    usleep(20000);
    for (i = 0; i < iters; i++) {
        if (naive) {
            int ls = naive_listen(s_path, SOCK_STREAM), lg = naive_listen(g_path, SOCK_DGRAM), c;
            char b[8];
            REQUIRE("naive", ls >= 0 && lg >= 0);
            usleep(300);
            fcntl(ls, F_SETFL, O_NONBLOCK);
            while ((c = accept(ls, NULL, NULL)) >= 0) {
                stream_in++;
                close(c);
            }
            while (recv(lg, b, sizeof b, MSG_DONTWAIT) >= 0)
                dgram_in++;
            unlink(s_path);
            unlink(g_path);
            close(ls);
            close(lg);
        } else {
            oxs_socket ls, lg, c;
            char b[8];
            size_t n;
            struct stat st;
            if (!CHECK_OK("§8 listen_on unix mode", oxs_listen_on(ep_s, &ls)))
                break;
            if (!CHECK_OK("§8 listen_on unixgram mode", oxs_listen_on(ep_g, &lg))) {
                oxs_close(ls);
                break;
            }
            if (CHECK("§8 mode applied", lstat(s_path, &st) == 0))
                CHECK_INT("§8 mode=0600 on the stream socket file", st.st_mode & 07777, 0600);
            if (CHECK("§8 mode applied", lstat(g_path, &st) == 0))
                CHECK_INT("§8 mode=0600 on the datagram socket file", st.st_mode & 07777, 0600);
            /* Give a sender that got in during listen_on time to send. */
            usleep(300);
            oxs_setopt(ls, OXS_OPT_NONBLOCKING, 1);
            while (oxs_accept(ls, &c, NULL) == OXS_OK) {
                stream_in++;
                oxs_close(c);
            }
            while (oxs_recv(lg, b, sizeof b, OXS_MSG_DONTWAIT, &n) == OXS_OK)
                dgram_in++;
            CHECK_OK("close", oxs_close(ls));
            CHECK_OK("close", oxs_close(lg));
        }
    }
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
    pthread_join(spinner, NULL);
    kill(kid, SIGTERM);
    waitpid(kid, NULL, 0);
    if (read(pfd[0], got, sizeof got - 1) > 0)
        sscanf(got, "%ld %ld %ld", &att_s, &att_g, &att_gc);
    printf("MODE-RACE impl=%s iterations=%ld stream_in=%ld dgram_in=%ld attacker_connects=%ld "
           "attacker_sends=%ld attacker_dgram_connects=%ld bad_modes_stream=%ld bad_modes_dgram=%ld "
           "stats=%ld\n",
           naive ? "naive" : "oxsock", i, stream_in, dgram_in, att_s, att_g, att_gc, bad_modes[0],
           bad_modes[1], stats_seen);
    return CHECK_SUMMARY("fault_unixsec mode-race");
}

static int fork_close(const char *dir)
{
    char path[256], ep[300];
    oxs_socket l, c, s;
    struct stat before, after;
    pid_t kid;
    int wst = 0;
    snprintf(path, sizeof path, "%s/fork.sock", dir);
    snprintf(ep, sizeof ep, "unix://%s", path);
    REQUIRE_OK("setup", oxs_listen_on(ep, &l));
    REQUIRE("setup", lstat(path, &before) == 0);
    kid = fork();
    REQUIRE("setup", kid >= 0);
    if (kid == 0) {
        /* The child closes its copy of the parent's listener. */
        int ok = oxs_close(l) == OXS_OK && access(path, F_OK) == 0;
        _exit(ok ? 0 : 1);
    }
    REQUIRE("setup", waitpid(kid, &wst, 0) == kid);
    CHECK("§1 fork: the child's close returned OK and left the file", WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    if (CHECK("§8 a child never unlinks a file it did not bind", lstat(path, &after) == 0))
        CHECK("§8 still the same file", before.st_ino == after.st_ino && before.st_dev == after.st_dev);
    /* The parent's listener still works. */
    if (CHECK_OK("§1 fork: the parent's listener survives the child's close", oxs_dial(ep, 5000, &c))) {
        oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 5000);
        if (CHECK_OK("accept after the child's close", oxs_accept(l, &s, NULL)))
            oxs_close(s);
        oxs_close(c);
    }
    CHECK_OK("close", oxs_close(l));
    CHECK("§8 the binding process's close removes its file", access(path, F_OK) != 0 && errno == ENOENT);
    return CHECK_SUMMARY("fault_unixsec fork-close");
}

static int chdir_close(const char *dir)
{
    char one[256], two[256], mine[300], other[300];
    oxs_socket l;
    int fd;
    snprintf(one, sizeof one, "%s/one", dir);
    snprintf(two, sizeof two, "%s/two", dir);
    snprintf(mine, sizeof mine, "%s/rel.sock", one);
    snprintf(other, sizeof other, "%s/rel.sock", two);
    REQUIRE("setup", mkdir(one, 0755) == 0 && mkdir(two, 0755) == 0);
    REQUIRE("setup", chdir(one) == 0);
    REQUIRE_OK("setup", oxs_listen_on("unix://rel.sock", &l));
    CHECK("the listener's file is in the first folder", access(mine, F_OK) == 0);
    REQUIRE("setup", chdir(two) == 0);
    fd = open("rel.sock", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    REQUIRE("setup", fd >= 0);
    close(fd);
    CHECK_OK("close", oxs_close(l));
    CHECK("§8 the listener's own file (absolute path) is removed", access(mine, F_OK) != 0);
    CHECK("§8 a same-named file in the new current folder is left alone", access(other, F_OK) == 0);
    return CHECK_SUMMARY("fault_unixsec chdir-close");
}

static int dial_report(const char *ep)
{
    oxs_socket s;
    char msg[64], b[16];
    size_t n;
    REQUIRE_OK("dial", oxs_dial(ep, 5000, &s));
    snprintf(msg, sizeof msg, "pid=%d uid=%d", (int)getpid(), (int)getuid());
    REQUIRE_OK("write", oxs_write_all(s, msg, strlen(msg), NULL));
    REQUIRE_OK("shutdown", oxs_shutdown(s, OXS_SHUT_WRITE));
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 20000);
    oxs_read(s, b, sizeof b, &n);
    oxs_close(s);
    return CHECK_SUMMARY("fault_unixsec dial-report");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "mode-race") == 0 && argc > 4)
        return mode_race(argv[2], atol(argv[3]), strcmp(argv[4], "naive") == 0);
    if (strcmp(mode, "fork-close") == 0 && argc > 2)
        return fork_close(argv[2]);
    if (strcmp(mode, "chdir-close") == 0 && argc > 2)
        return chdir_close(argv[2]);
    if (strcmp(mode, "dial-report") == 0 && argc > 2)
        return dial_report(argv[2]);
    fprintf(stderr, "usage: see the comment at the top of fault_unixsec.c\n");
    return 64;
}

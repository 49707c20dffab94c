/*
 * core_util.h - helpers shared by the core contract programs (core_*.c):
 * loopback pairs, address text, threads with a bounded join, descriptor checks.
 * Include after check.h, in one .c file per program.
 */
#ifndef OXS_TEST_CORE_UTIL_H
#define OXS_TEST_CORE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "check.h"

#define U_ CHECK_UNUSED_

/* Slower machines (valgrind) stretch the time bounds by this factor. */
U_ static int64_t slow_factor(void)
{
    const char *s = getenv("OXS_TEST_SLOW");
    return (s != NULL && s[0] != '\0' && s[0] != '0') ? 4 : 1;
}

U_ static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Formats an address into a static-per-call buffer owned by the caller. */
U_ static const char *fmt(const oxs_addr *a, char buf[OXS_ADDR_STRLEN])
{
    size_t n = 0;
    if (oxs_addr_format(a, buf, OXS_ADDR_STRLEN, &n) != OXS_OK)
        snprintf(buf, OXS_ADDR_STRLEN, "(format failed)");
    return buf;
}

/* The local address of s as text ("" on failure). */
U_ static const char *local_text(oxs_socket s, char buf[OXS_ADDR_STRLEN])
{
    oxs_addr a;
    buf[0] = '\0';
    if (oxs_local_addr(s, &a) != OXS_OK)
        return buf;
    return fmt(&a, buf);
}

U_ static int local_port(oxs_socket s)
{
    oxs_addr a;
    if (oxs_local_addr(s, &a) != OXS_OK)
        return -1;
    return oxs_addr_port(&a);
}

/* A listening TCP socket on 127.0.0.1 (or [::1] when v6), port chosen by the kernel.
 * Its address text goes to addr (may be NULL). Exits on failure. */
U_ static oxs_socket tcp_listener(int v6, char addr[OXS_ADDR_STRLEN])
{
    oxs_socket l = 0;
    char tmp[OXS_ADDR_STRLEN];
    REQUIRE_OK("setup: open listener",
               oxs_socket_open(v6 ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &l));
    REQUIRE_OK("setup: bind listener", oxs_bind(l, v6 ? "[::1]:0" : "127.0.0.1:0"));
    REQUIRE_OK("setup: listen", oxs_listen(l, 16));
    local_text(l, addr ? addr : tmp);
    return l;
}

/* A connected TCP pair over loopback: *c the client, *s the accepted side. */
U_ static void tcp_pair(int v6, oxs_socket *c, oxs_socket *s)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(v6, addr);
    REQUIRE_OK("setup: open client",
               oxs_socket_open(v6 ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, c));
    REQUIRE_OK("setup: connect client", oxs_connect(*c, addr));
    REQUIRE_OK("setup: accept", oxs_accept(l, s, NULL));
    oxs_close(l);
}

/* A TCP port on 127.0.0.1 where nothing listens: bound by a socket we then close. */
U_ static int refused_port(void)
{
    oxs_socket s = 0;
    int port;
    REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &s));
    REQUIRE_OK("setup: bind", oxs_bind(s, "127.0.0.1:0"));
    port = local_port(s);
    oxs_close(s);
    return port;
}

U_ static int fd_is_cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f >= 0 && (f & FD_CLOEXEC) != 0;
}

U_ static int fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0 || errno != EBADF; }

U_ static int fd_of(oxs_socket s)
{
    int32_t fd = -1;
    if (oxs_fd(s, &fd) != OXS_OK)
        return -1;
    return fd;
}

U_ static int contains(const char *hay, const char *needle)
{
    return hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
}

U_ static long my_tid(void) { return (long)syscall(SYS_gettid); }

/* Waits until thread `tid` of this process sleeps in the kernel (state S or D), up to
 * 5 s, then 50 ms more (400 ms under valgrind, where threads waiting for its lock
 * sleep too): a cheap way to know a blocking call has started. */
U_ static int wait_thread_blocked(long tid)
{
    char path[64], buf[512];
    int64_t end = check_now_ms() + 5000 * slow_factor();
    snprintf(path, sizeof path, "/proc/self/task/%ld/stat", tid);
    while (check_now_ms() < end) {
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = '\0';
            {
                char *p = strrchr(buf, ')');
                if (p != NULL && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D')) {
                    sleep_ms(slow_factor() > 1 ? 400 : 50);
                    return 1;
                }
            }
        }
        sleep_ms(5);
    }
    return 0;
}

/* A thread running one blocking call, joined with a time bound. */
typedef struct bg_call {
    pthread_t th;
    void (*fn)(struct bg_call *);
    oxs_socket s;
    oxs_socket s2;
    void *buf;
    size_t len;
    size_t n;
    oxs_addr addr;
    oxs_status st;
    volatile long tid;
    int done;          /* atomic */
    int64_t done_ms;   /* when the call returned */
} bg_call;

U_ static void *bg_main_(void *arg)
{
    bg_call *c = (bg_call *)arg;
    __atomic_store_n(&c->tid, my_tid(), __ATOMIC_SEQ_CST);
    c->fn(c);
    c->done_ms = check_now_ms();
    __atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

U_ static void bg_start(bg_call *c)
{
    c->done = 0;
    c->tid = 0;
    if (pthread_create(&c->th, NULL, bg_main_, c) != 0) {
        printf("pthread_create failed\n");
        exit(2);
    }
    while (__atomic_load_n(&c->tid, __ATOMIC_SEQ_CST) == 0)
        sleep_ms(1);
}

/* Waits up to ms for the call to return; joins it when it did. Returns 1 if done. */
U_ static int bg_wait(bg_call *c, int ms)
{
    int64_t end = check_now_ms() + ms;
    while (!__atomic_load_n(&c->done, __ATOMIC_SEQ_CST) && check_now_ms() < end)
        sleep_ms(2);
    if (!__atomic_load_n(&c->done, __ATOMIC_SEQ_CST))
        return 0;
    pthread_join(c->th, NULL);
    return 1;
}

U_ static void bg_read(bg_call *c) { c->st = oxs_read(c->s, c->buf, c->len, &c->n); }
U_ static void bg_write(bg_call *c) { c->st = oxs_write(c->s, c->buf, c->len, &c->n); }
U_ static void bg_write_all(bg_call *c) { c->st = oxs_write_all(c->s, c->buf, c->len, &c->n); }
U_ static void bg_read_exact(bg_call *c) { c->st = oxs_read_exact(c->s, c->buf, c->len, &c->n); }
U_ static void bg_accept(bg_call *c) { c->st = oxs_accept(c->s, &c->s2, &c->addr); }
U_ static void bg_recv_from(bg_call *c)
{
    c->st = oxs_recv_from(c->s, c->buf, c->len, &c->n, &c->addr);
}

/* Program set-up: argv[1] is this program's own scratch folder; chdir into it. */
U_ static const char *enter_scratch(int argc, char **argv)
{
    static char dir[4096];
    if (argc < 2) {
        snprintf(dir, sizeof dir, "/tmp/oxs-core-%ld", (long)getpid());
        mkdir(dir, 0700);
    } else {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    }
    if (chdir(dir) != 0) {
        printf("cannot enter scratch folder %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return dir;
}

#endif /* OXS_TEST_CORE_UTIL_H */

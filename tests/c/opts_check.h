/* Check helpers shared by the options, polling and hostile-input C tests
 * (opts_*.c, poll_*.c, hostile.c): thread-safe counters, a status comparison that
 * prints one FAIL line naming the rule, and small loopback set-up helpers.
 * Include after oxsock.h and the C headers each test needs. */
#ifndef OXS_OPTS_CHECK_H
#define OXS_OPTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small self-contained check helpers (thread-safe counters) ---- */
__attribute__((unused)) static int g_checks;
__attribute__((unused)) static int g_failures;

__attribute__((unused)) static void note_check(void) { __atomic_add_fetch(&g_checks, 1, __ATOMIC_SEQ_CST); }
__attribute__((unused)) static void note_failure(void) { __atomic_add_fetch(&g_failures, 1, __ATOMIC_SEQ_CST); }

/* Compares a status with the one wanted; prints a failure line naming the rule. */
__attribute__((unused)) static int check_status(oxs_status got, oxs_status want, const char *expr, const char *rule, int line)
{
    note_check();
    if (got == want)
        return 1;
    note_failure();
    printf("FAIL line %d [%s]: %s -> %d (%s), wanted %d (%s); last_error: \"%s\" (os %d)\n", line, rule,
           expr, (int)got, oxs_strerror(got), (int)want, oxs_strerror(want), oxs_last_error(),
           (int)oxs_last_os_error());
    fflush(stdout);
    return 0;
}

/* Checks a condition; on failure prints the rule, the expression and a formatted detail. */
__attribute__((unused)) static int check_true(int ok, const char *expr, const char *rule, int line, const char *fmt, ...)
{
    note_check();
    if (ok)
        return 1;
    note_failure();
    printf("FAIL line %d [%s]: %s is false: ", line, rule, expr);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("; last_error: \"%s\" (os %d)\n", oxs_last_error(), (int)oxs_last_os_error());
    fflush(stdout);
    return 0;
}

#define ST(call, want, rule) check_status((call), (want), #call, (rule), __LINE__)
#define CHECK(cond, rule, ...) check_true((cond) != 0, #cond, (rule), __LINE__, __VA_ARGS__)

/* A setup step that must work for the rest to mean anything: exits on failure. */
#define SETUP(call)                                                                                  \
    do {                                                                                             \
        oxs_status st_ = (call);                                                                     \
        if (st_ != OXS_OK) {                                                                         \
            printf("SETUP FAILED line %d: %s -> %d (%s); last_error: \"%s\"\n", __LINE__, #call,     \
                   (int)st_, oxs_strerror(st_), oxs_last_error());                                   \
            printf("%d checks, %d failures before setup failure\n", g_checks, g_failures + 1);       \
            exit(2);                                                                                 \
        }                                                                                            \
    } while (0)

__attribute__((unused)) static int summary(const char *name)
{
    printf("%s: %d checks, %d failures\n", name, g_checks, g_failures);
    fflush(stdout);
    return g_failures == 0 ? 0 : 1;
}

__attribute__((unused)) static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

__attribute__((unused)) static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {
    }
}

/* Formats a socket's local address ("127.0.0.1:PORT") into buf. */
__attribute__((unused)) static void local_text(oxs_socket s, char *buf, size_t cap)
{
    oxs_addr a;
    size_t len = 0;
    SETUP(oxs_local_addr(s, &a));
    SETUP(oxs_addr_format(&a, buf, cap, &len));
}

/* A TCP listener on 127.0.0.1 with a kernel-chosen port; its address in addr. */
__attribute__((unused)) static oxs_socket tcp_listener(char *addr, size_t cap)
{
    oxs_socket l = OXS_INVALID;
    SETUP(oxs_listen_on("tcp://127.0.0.1:0", &l));
    local_text(l, addr, cap);
    return l;
}

/* A connected loopback TCP pair: *c is the client, *s the accepted server side. */
__attribute__((unused)) static void tcp_pair(oxs_socket *c, oxs_socket *s)
{
    char addr[OXS_ADDR_STRLEN];
    oxs_socket l = tcp_listener(addr, sizeof addr);
    SETUP(oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, c));
    SETUP(oxs_connect(*c, addr));
    SETUP(oxs_accept(l, s, NULL));
    SETUP(oxs_close(l));
}
/* ---- end of check helpers ---- */

#endif

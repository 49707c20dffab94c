/*
 * check.h - tiny assertion macros for the C contract tests (the tests/c programs).
 *
 * Each check names the contract rule it tests. A passing check only counts;
 * a failing one prints one line to stdout:
 *
 *   FAIL file.c:LINE [rule] expression -> GOT, want WANT; last_error: "..."
 *
 * and the program ends with CHECK_SUMMARY(), which prints
 *
 *   SUMMARY <program>: <n> checks, <f> failures, <s> skipped
 *
 * and returns the exit status (0 only when nothing failed). Checks may run in
 * several threads at once (the counters are atomic, each line is written whole).
 *
 * The macros (their meaning is fixed; other test programs rely on it):
 *   CHECK(rule, cond)                 cond is true
 *   CHECK_ST(rule, expr, want)        the oxs_status expr equals want
 *   CHECK_OK(rule, expr)              CHECK_ST(rule, expr, OXS_OK)
 *   CHECK_ST2(rule, expr, w1, w2)     the status is w1 or w2
 *   CHECK_INT(rule, got, want)        two integers (compared as long long) are equal
 *   CHECK_STR(rule, got, want)        two C strings are equal (NULL never equals)
 *   CHECK_SKIP(rule, why)             a check that could not run here, said loudly
 *   REQUIRE(rule, cond), REQUIRE_OK(rule, expr)
 *                                     like CHECK/CHECK_OK, but on failure print the
 *                                     summary and exit(1): for set-up steps that
 *                                     every later check depends on
 *   CHECK_SUMMARY(name)               print the summary; evaluates to the exit status
 * Every CHECK_* macro evaluates its arguments once and is an expression worth 1
 * on pass and 0 on failure, so `if (CHECK_OK(...)) { ... }` works.
 *
 * Also: check_status_name(status) -> "OXS_ERR_..." text, check_now_ms() -> a
 * monotonic clock in milliseconds.
 *
 * Every function here is static: include this header in one .c file per program.
 */
#ifndef OXS_TEST_CHECK_H
#define OXS_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oxsock.h"

#define CHECK_UNUSED_ __attribute__((unused))

static int check_total_;
static int check_failed_;
static int check_skipped_;

CHECK_UNUSED_ static const char *check_status_name(oxs_status s)
{
    switch (s) {
    case OXS_OK: return "OXS_OK";
    case OXS_ERR_INVALID_ARGUMENT: return "OXS_ERR_INVALID_ARGUMENT";
    case OXS_ERR_BAD_HANDLE: return "OXS_ERR_BAD_HANDLE";
    case OXS_ERR_ADDRESS: return "OXS_ERR_ADDRESS";
    case OXS_ERR_RESOLVE: return "OXS_ERR_RESOLVE";
    case OXS_ERR_WOULD_BLOCK: return "OXS_ERR_WOULD_BLOCK";
    case OXS_ERR_TIMED_OUT: return "OXS_ERR_TIMED_OUT";
    case OXS_ERR_INTERRUPTED: return "OXS_ERR_INTERRUPTED";
    case OXS_ERR_CLOSED: return "OXS_ERR_CLOSED";
    case OXS_ERR_UNEXPECTED_EOF: return "OXS_ERR_UNEXPECTED_EOF";
    case OXS_ERR_CONNECTION_REFUSED: return "OXS_ERR_CONNECTION_REFUSED";
    case OXS_ERR_CONNECTION_RESET: return "OXS_ERR_CONNECTION_RESET";
    case OXS_ERR_CONNECTION_ABORTED: return "OXS_ERR_CONNECTION_ABORTED";
    case OXS_ERR_NOT_CONNECTED: return "OXS_ERR_NOT_CONNECTED";
    case OXS_ERR_BROKEN_PIPE: return "OXS_ERR_BROKEN_PIPE";
    case OXS_ERR_ADDRESS_IN_USE: return "OXS_ERR_ADDRESS_IN_USE";
    case OXS_ERR_ADDRESS_NOT_AVAILABLE: return "OXS_ERR_ADDRESS_NOT_AVAILABLE";
    case OXS_ERR_PERMISSION_DENIED: return "OXS_ERR_PERMISSION_DENIED";
    case OXS_ERR_HOST_UNREACHABLE: return "OXS_ERR_HOST_UNREACHABLE";
    case OXS_ERR_NETWORK_UNREACHABLE: return "OXS_ERR_NETWORK_UNREACHABLE";
    case OXS_ERR_UNSUPPORTED: return "OXS_ERR_UNSUPPORTED";
    case OXS_ERR_BUFFER_TOO_SMALL: return "OXS_ERR_BUFFER_TOO_SMALL";
    case OXS_ERR_MESSAGE_TOO_LONG: return "OXS_ERR_MESSAGE_TOO_LONG";
    case OXS_ERR_TOO_MANY_OPEN: return "OXS_ERR_TOO_MANY_OPEN";
    case OXS_ERR_BUSY: return "OXS_ERR_BUSY";
    case OXS_ERR_TLS: return "OXS_ERR_TLS";
    case OXS_ERR_CERTIFICATE: return "OXS_ERR_CERTIFICATE";
    case OXS_ERR_OS: return "OXS_ERR_OS";
    case OXS_ERR_PANIC: return "OXS_ERR_PANIC";
    default: return "(unknown status)";
    }
}

CHECK_UNUSED_ static int64_t check_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

CHECK_UNUSED_ static void check_count_(void) { __atomic_add_fetch(&check_total_, 1, __ATOMIC_SEQ_CST); }

CHECK_UNUSED_ static void check_fail_line_(const char *file, int line, const char *rule, const char *what,
                             const char *got, const char *want)
{
    const char *le = oxs_last_error();
    __atomic_add_fetch(&check_failed_, 1, __ATOMIC_SEQ_CST);
    flockfile(stdout);
    printf("FAIL %s:%d [%s] %s", file, line, rule, what);
    if (got != NULL)
        printf(" -> %s, want %s", got, want);
    printf("; last_error: \"%s\" (os error %d)\n", le ? le : "(NULL!)", (int)oxs_last_os_error());
    fflush(stdout);
    funlockfile(stdout);
}

CHECK_UNUSED_ static int check_cond_(const char *file, int line, const char *rule, const char *what, int ok)
{
    check_count_();
    if (!ok)
        check_fail_line_(file, line, rule, what, NULL, NULL);
    return ok != 0;
}

CHECK_UNUSED_ static int check_st_(const char *file, int line, const char *rule, const char *what,
                     oxs_status got, oxs_status want1, oxs_status want2)
{
    char g[64], w[96];
    check_count_();
    if (got == want1 || got == want2)
        return 1;
    snprintf(g, sizeof g, "%s (%d)", check_status_name(got), (int)got);
    if (want1 == want2)
        snprintf(w, sizeof w, "%s (%d)", check_status_name(want1), (int)want1);
    else
        snprintf(w, sizeof w, "%s (%d) or %s (%d)", check_status_name(want1), (int)want1,
                 check_status_name(want2), (int)want2);
    check_fail_line_(file, line, rule, what, g, w);
    return 0;
}

CHECK_UNUSED_ static int check_int_(const char *file, int line, const char *rule, const char *what,
                      long long got, long long want)
{
    char g[32], w[32];
    check_count_();
    if (got == want)
        return 1;
    snprintf(g, sizeof g, "%lld", got);
    snprintf(w, sizeof w, "%lld", want);
    check_fail_line_(file, line, rule, what, g, w);
    return 0;
}

CHECK_UNUSED_ static int check_str_(const char *file, int line, const char *rule, const char *what,
                      const char *got, const char *want)
{
    char g[600], w[600];
    check_count_();
    if (got != NULL && want != NULL && strcmp(got, want) == 0)
        return 1;
    snprintf(g, sizeof g, got ? "\"%s\"" : "%s", got ? got : "NULL");
    snprintf(w, sizeof w, want ? "\"%s\"" : "%s", want ? want : "NULL");
    check_fail_line_(file, line, rule, what, g, w);
    return 0;
}

CHECK_UNUSED_ static int check_summary_(const char *name)
{
    int total = __atomic_load_n(&check_total_, __ATOMIC_SEQ_CST);
    int failed = __atomic_load_n(&check_failed_, __ATOMIC_SEQ_CST);
    int skipped = __atomic_load_n(&check_skipped_, __ATOMIC_SEQ_CST);
    printf("SUMMARY %s: %d checks, %d failures, %d skipped\n", name, total, failed, skipped);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

#define CHECK(rule, cond) check_cond_(__FILE__, __LINE__, (rule), #cond, (cond) ? 1 : 0)
#define CHECK_ST(rule, expr, want) \
    check_st_(__FILE__, __LINE__, (rule), #expr, (expr), (want), (want))
#define CHECK_ST2(rule, expr, w1, w2) \
    check_st_(__FILE__, __LINE__, (rule), #expr, (expr), (w1), (w2))
#define CHECK_OK(rule, expr) CHECK_ST(rule, expr, OXS_OK)
#define CHECK_INT(rule, got, want) \
    check_int_(__FILE__, __LINE__, (rule), #got, (long long)(got), (long long)(want))
#define CHECK_STR(rule, got, want) check_str_(__FILE__, __LINE__, (rule), #got, (got), (want))
#define CHECK_SKIP(rule, why)                                                            \
    do {                                                                                 \
        __atomic_add_fetch(&check_skipped_, 1, __ATOMIC_SEQ_CST);                        \
        printf("SKIP %s:%d [%s] %s\n", __FILE__, __LINE__, (rule), (why));              \
        fflush(stdout);                                                                  \
    } while (0)
#define CHECK_SUMMARY(name) check_summary_(name)
#define REQUIRE(rule, cond)                                                  \
    do {                                                                     \
        if (!CHECK(rule, cond)) {                                            \
            printf("REQUIRE failed: cannot go on\n");                        \
            exit(check_summary_(__FILE__) | 1);                              \
        }                                                                    \
    } while (0)
#define REQUIRE_OK(rule, expr)                                               \
    do {                                                                     \
        if (!CHECK_OK(rule, expr)) {                                         \
            printf("REQUIRE failed: cannot go on\n");                        \
            exit(check_summary_(__FILE__) | 1);                              \
        }                                                                    \
    } while (0)

#endif /* OXS_TEST_CHECK_H */

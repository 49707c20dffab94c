/* example.h: the few helpers the oxsock examples share, so that each example
 * shows only its own socket calls. Everything here is plain C99 + POSIX.
 *
 *   stop_requested / catch_stop_signals()  SIGINT and SIGTERM set a flag
 *   fail(prog)                             prints "prog: <oxs_last_error()>", returns 1
 *   addr_text(addr, buf)                   an oxs_addr as text ("127.0.0.1:7000", "@name")
 *   next_line(...)                         the lines a client sends: its arguments, or stdin
 *   read_line(s, ...)                      reads one reply line (or one datagram)
 *
 * The examples check the status of every call; on a path that is already
 * failing they close what they opened without checking again (closing
 * OXS_INVALID just answers OXS_ERR_BAD_HANDLE): the first failure is the one
 * worth printing.
 */
#ifndef OXSOCK_EXAMPLE_H
#define OXSOCK_EXAMPLE_H

#include <oxsock.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_BYTES 4096

/* Set by SIGINT or SIGTERM; servers check it after every interrupted call. */
static volatile sig_atomic_t stop_requested = 0;

static inline void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Installs on_stop_signal for SIGINT and SIGTERM WITHOUT SA_RESTART, so that a
 * call blocked on a handle with OXS_OPT_INTERRUPTIBLE set returns
 * OXS_ERR_INTERRUPTED instead of being retried. Returns 0, or -1 (errno set).
 * As with any flag set by a handler, a signal that lands after the loop has
 * checked stop_requested but before the call blocks is noticed only when the
 * call returns for another reason (a second Ctrl-C does it). */
static inline int catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: let blocked calls return */
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        perror("sigaction");
        return -1;
    }
    return 0;
}

/* Prints the library's message for this thread's last failure; returns 1. */
static inline int fail(const char *prog)
{
    fprintf(stderr, "%s: %s\n", prog, oxs_last_error());
    return 1;
}

/* Formats an address into buf (OXS_ADDR_STRLEN bytes); "?" if it cannot. */
static inline const char *addr_text(const oxs_addr *a, char *buf)
{
    size_t len = 0;
    if (oxs_addr_format(a, buf, OXS_ADDR_STRLEN, &len) != OXS_OK)
        snprintf(buf, OXS_ADDR_STRLEN, "?");
    return buf;
}

/* The next line a client sends, ending in "\n": argv[*i] while *i < argc,
 * or, when the command line had no lines at all (first == argc), the next line
 * of stdin. Returns its length, or 0 when there is none left. */
static inline size_t next_line(int argc, char **argv, int first, int *i, char *buf, size_t cap)
{
    size_t len;
    if (first < argc) {
        if (*i >= argc)
            return 0;
        snprintf(buf, cap - 1, "%s", argv[(*i)++]);
    } else if (fgets(buf, (int)cap - 1, stdin) == NULL) {
        return 0;
    }
    len = strcspn(buf, "\n");
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

/* Reads one reply into buf (cap bytes, NUL-terminated, trailing newline cut):
 * on a stream, bytes until a newline; on a datagram or seqpacket socket, one
 * message. *len == 0 with OXS_OK means the peer closed the connection. */
static inline oxs_status read_line(oxs_socket s, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    for (;;) {
        size_t n = 0;
        oxs_status st = oxs_read(s, buf + *len, cap - 1 - *len, &n);
        if (st != OXS_OK)
            return st;
        *len += n;
        buf[*len] = '\0';
        if (n == 0 || memchr(buf + *len - n, '\n', n) != NULL || *len == cap - 1)
            break;
    }
    if (*len > 0 && buf[*len - 1] == '\n')
        buf[*len - 1] = '\0';
    return OXS_OK;
}

#endif

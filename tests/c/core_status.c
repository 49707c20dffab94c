/*
 * core_status.c - contract §1 (conventions), §2 (status codes, strerror, last_error,
 * last_os_error, version) and §3 (handles), through the C ABI.
 * Usage: core_status [scratch-folder]
 */
#include <stddef.h>

#include "core_util.h"

#define BIG_LEN ((size_t)PTRDIFF_MAX + 1)

static const oxs_status all_codes[] = {
    OXS_ERR_INVALID_ARGUMENT, OXS_ERR_BAD_HANDLE, OXS_ERR_ADDRESS, OXS_ERR_RESOLVE,
    OXS_ERR_WOULD_BLOCK, OXS_ERR_TIMED_OUT, OXS_ERR_INTERRUPTED, OXS_ERR_CLOSED,
    OXS_ERR_UNEXPECTED_EOF, OXS_ERR_CONNECTION_REFUSED, OXS_ERR_CONNECTION_RESET,
    OXS_ERR_CONNECTION_ABORTED, OXS_ERR_NOT_CONNECTED, OXS_ERR_BROKEN_PIPE,
    OXS_ERR_ADDRESS_IN_USE, OXS_ERR_ADDRESS_NOT_AVAILABLE, OXS_ERR_PERMISSION_DENIED,
    OXS_ERR_HOST_UNREACHABLE, OXS_ERR_NETWORK_UNREACHABLE, OXS_ERR_UNSUPPORTED,
    OXS_ERR_BUFFER_TOO_SMALL, OXS_ERR_MESSAGE_TOO_LONG, OXS_ERR_TOO_MANY_OPEN, OXS_ERR_BUSY,
    OXS_ERR_TLS, OXS_ERR_CERTIFICATE,
    OXS_ERR_OS, OXS_ERR_PANIC,
};

static void status_values(void)
{
    const char *R = "§2 status values are fixed";
    CHECK_INT(R, OXS_OK, 0);
    CHECK_INT(R, OXS_ERR_INVALID_ARGUMENT, -1);
    CHECK_INT(R, OXS_ERR_BAD_HANDLE, -2);
    CHECK_INT(R, OXS_ERR_ADDRESS, -3);
    CHECK_INT(R, OXS_ERR_RESOLVE, -4);
    CHECK_INT(R, OXS_ERR_WOULD_BLOCK, -5);
    CHECK_INT(R, OXS_ERR_TIMED_OUT, -6);
    CHECK_INT(R, OXS_ERR_INTERRUPTED, -7);
    CHECK_INT(R, OXS_ERR_CLOSED, -8);
    CHECK_INT(R, OXS_ERR_UNEXPECTED_EOF, -9);
    CHECK_INT(R, OXS_ERR_CONNECTION_REFUSED, -10);
    CHECK_INT(R, OXS_ERR_CONNECTION_RESET, -11);
    CHECK_INT(R, OXS_ERR_CONNECTION_ABORTED, -12);
    CHECK_INT(R, OXS_ERR_NOT_CONNECTED, -13);
    CHECK_INT(R, OXS_ERR_BROKEN_PIPE, -14);
    CHECK_INT(R, OXS_ERR_ADDRESS_IN_USE, -15);
    CHECK_INT(R, OXS_ERR_ADDRESS_NOT_AVAILABLE, -16);
    CHECK_INT(R, OXS_ERR_PERMISSION_DENIED, -17);
    CHECK_INT(R, OXS_ERR_HOST_UNREACHABLE, -18);
    CHECK_INT(R, OXS_ERR_NETWORK_UNREACHABLE, -19);
    CHECK_INT(R, OXS_ERR_UNSUPPORTED, -20);
    CHECK_INT(R, OXS_ERR_BUFFER_TOO_SMALL, -21);
    CHECK_INT(R, OXS_ERR_MESSAGE_TOO_LONG, -22);
    CHECK_INT(R, OXS_ERR_TOO_MANY_OPEN, -23);
    CHECK_INT(R, OXS_ERR_BUSY, -24);
    CHECK_INT(R, OXS_ERR_OS, -99);
    CHECK_INT(R, OXS_ERR_PANIC, -100);
    CHECK_INT("§1 oxs_status is int32_t", sizeof(oxs_status), 4);
    CHECK("§1 oxs_status is signed", (oxs_status)-1 < 0);
    CHECK_INT("§3 OXS_INVALID is 0", OXS_INVALID, 0);
    CHECK_INT("§3 handles are 64-bit", sizeof(oxs_socket), 8);
    CHECK_INT("§3 poller handles are 64-bit", sizeof(oxs_poller), 8);
}

static void strerror_rules(void)
{
    size_t i, j;
    const oxs_status unknown[] = {1, 2, -27, -98, -101, INT32_MIN, INT32_MAX};
    const char *ok = oxs_strerror(OXS_OK);
    CHECK("§2 strerror(OK) is never NULL", ok != NULL);
    CHECK("§2 strerror(OK) is not \"unknown status\"", ok && strcmp(ok, "unknown status") != 0);
    for (i = 0; i < sizeof all_codes / sizeof all_codes[0]; i++) {
        const char *t = oxs_strerror(all_codes[i]);
        if (!CHECK("§2 strerror of a known code is never NULL", t != NULL))
            continue;
        CHECK("§2 strerror of a known code is not \"unknown status\"",
              strcmp(t, "unknown status") != 0 && t[0] != '\0');
        CHECK("§2 strerror text is static (same pointer twice)", oxs_strerror(all_codes[i]) == t);
        for (j = 0; j < i; j++) {
            const char *u = oxs_strerror(all_codes[j]);
            if (u && !CHECK("§2 every code has its own text", strcmp(u, t) != 0))
                printf("  codes %d and %d share \"%s\"\n", all_codes[i], all_codes[j], t);
        }
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        CHECK_STR("§2 strerror: \"unknown status\" for unknown codes", oxs_strerror(unknown[i]),
                  "unknown status");
}

static void version_rules(void)
{
    const char *v = oxs_version();
    char want[64];
    int maj = -1, min = -1, pat = -1, used = 0;
    snprintf(want, sizeof want, "%d.%d.%d", OXS_VERSION_MAJOR, OXS_VERSION_MINOR,
             OXS_VERSION_PATCH);
    if (!CHECK("§2 oxs_version never NULL", v != NULL))
        return;
    CHECK("§2 version is MAJOR.MINOR.PATCH",
          sscanf(v, "%d.%d.%d%n", &maj, &min, &pat, &used) == 3 && (size_t)used == strlen(v));
    CHECK_STR("§2 version matches OXS_VERSION_MAJOR/MINOR/PATCH", v, want);
}

/* A new thread's last error is "" and its os error 0, whatever other threads did. */
static void *fresh_thread(void *arg)
{
    int *ok = (int *)arg;
    const char *le = oxs_last_error();
    ok[0] = le != NULL && le[0] == '\0';
    ok[1] = oxs_last_os_error() == 0;
    /* A failure here must not change the main thread's text. */
    ok[2] = oxs_close((oxs_socket)0x7777) == OXS_ERR_BAD_HANDLE;
    return NULL;
}

static void last_error_rules(void)
{
    const char *p1, *p2;
    char saved[1024];
    oxs_socket s = 0, l = 0;
    int port, res[3] = {0, 0, 0};
    pthread_t th;
    char ep[128], want[128];

    /* Called first thing in main: nothing failed yet in this thread. */
    p1 = oxs_last_error();
    CHECK("§2 last_error never NULL", p1 != NULL);
    CHECK_STR("§2 last_error is \"\" before any failure", p1, "");
    CHECK_INT("§2 last_os_error is 0 before any failure", oxs_last_os_error(), 0);

    /* The message names the operation and its argument. */
    port = refused_port();
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    CHECK_ST("§2 dial to a refused port", oxs_dial(ep, 2000, &s), OXS_ERR_CONNECTION_REFUSED);
    p1 = oxs_last_error();
    CHECK("§1 last_error names the operation (oxs_dial)", contains(p1, "oxs_dial"));
    CHECK("§1 last_error names the argument (the endpoint)", contains(p1, ep));
    CHECK_INT("§2 last_os_error is the errno (ECONNREFUSED)", oxs_last_os_error(), ECONNREFUSED);
    p2 = oxs_last_error();
    CHECK("§2 last_error: repeated calls return the same pointer", p1 == p2);
    snprintf(saved, sizeof saved, "%s", p1);

    /* Success leaves it alone. */
    CHECK_OK("§2 socket_open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &s));
    CHECK_OK("§2 bind", oxs_bind(s, "127.0.0.1:0"));
    CHECK("§2 success leaves last_error alone (same pointer)", oxs_last_error() == p1);
    CHECK_STR("§2 success leaves last_error alone (same text)", oxs_last_error(), saved);
    CHECK_INT("§2 success leaves last_os_error alone", oxs_last_os_error(), ECONNREFUSED);

    /* Other threads: fresh thread sees "", and its failure does not touch ours. */
    if (CHECK("§2 thread start", pthread_create(&th, NULL, fresh_thread, res) == 0)) {
        pthread_join(th, NULL);
        CHECK("§2 last_error is \"\" initially in a new thread", res[0]);
        CHECK("§2 last_os_error is 0 initially in a new thread", res[1]);
        CHECK("§3 forged handle in a thread", res[2]);
        CHECK_STR("§2 last_error is per thread", oxs_last_error(), saved);
    }

    /* A non-OS failure: os error 0; message names operation and argument. */
    CHECK_ST("§4 bind with text that does not parse", oxs_bind(s, "not an address"),
             OXS_ERR_ADDRESS);
    CHECK("§1 last_error names oxs_bind", contains(oxs_last_error(), "oxs_bind"));
    CHECK("§1 last_error names the bad argument", contains(oxs_last_error(), "not an address"));
    CHECK_INT("§2 last_os_error 0 for a non-OS failure", oxs_last_os_error(), 0);

    /* WOULD_BLOCK records a message too. */
    l = tcp_listener(0, NULL);
    CHECK_OK("§7 nonblocking", oxs_setopt(l, OXS_OPT_NONBLOCKING, 1));
    {
        oxs_socket a = 12345;
        CHECK_ST("§4 accept on a non-blocking listener", oxs_accept(l, &a, NULL),
                 OXS_ERR_WOULD_BLOCK);
        CHECK_INT("§1 failed accept sets the handle to OXS_INVALID", a, OXS_INVALID);
        CHECK("§1 WOULD_BLOCK records a message naming the operation",
              contains(oxs_last_error(), "oxs_accept"));
        CHECK_INT("§2 WOULD_BLOCK keeps the errno", oxs_last_os_error(), EAGAIN);
    }
    oxs_close(l);

    /* RESOLVE: last_os_error is 0. */
    {
        size_t n = 99;
        oxs_addr out[2];
        CHECK_ST("§2 resolve of a name that does not exist",
                 oxs_resolve("no-such-host.invalid:80", 0, out, 2, &n), OXS_ERR_RESOLVE);
        CHECK_INT("§2 RESOLVE: last_os_error is 0", oxs_last_os_error(), 0);
        CHECK_INT("§1 count is 0 on failure", n, 0);
        CHECK("§1 resolve message names the operation", contains(oxs_last_error(), "oxs_resolve"));
        CHECK("§1 resolve message names the argument",
              contains(oxs_last_error(), "no-such-host.invalid"));
    }
    oxs_close(s);
    snprintf(want, sizeof want, "%s", "");
    (void)want;
}

static void out_params_on_failure(void)
{
    oxs_socket s = 99, pair[2] = {5, 6}, c, sv;
    size_t n = 77;
    oxs_addr a;
    int32_t fd = 42;
    int64_t v = 1234;
    char buf[64];
    const oxs_socket forged = (oxs_socket)0x0123456789abcdefULL;

    CHECK_ST("§1 socket_open with unknown domain", oxs_socket_open(99, OXS_TYPE_STREAM, 0, &s),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 handle out-param is OXS_INVALID on failure", s, OXS_INVALID);
    CHECK_ST("§1 socketpair with unknown type", oxs_socketpair(77, pair),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK("§1 both socketpair handles are OXS_INVALID on failure",
          pair[0] == OXS_INVALID && pair[1] == OXS_INVALID);
    CHECK_ST("§3 read on a forged handle", oxs_read(forged, buf, sizeof buf, &n),
             OXS_ERR_BAD_HANDLE);
    CHECK_INT("§1 count is 0 on failure", n, 0);
    n = 77;
    CHECK_ST("§3 write on a forged handle", oxs_write(forged, "x", 1, &n), OXS_ERR_BAD_HANDLE);
    CHECK_INT("§1 count is 0 on failure (write)", n, 0);
    memset(&a, 0xab, sizeof a);
    CHECK_ST("§3 local_addr on a forged handle", oxs_local_addr(forged, &a), OXS_ERR_BAD_HANDLE);
    CHECK_INT("§1 oxs_addr len is 0 on failure", a.len, 0);
    memset(&a, 0xab, sizeof a);
    CHECK_ST("§3 peer_addr on a forged handle", oxs_peer_addr(forged, &a), OXS_ERR_BAD_HANDLE);
    CHECK_INT("§1 oxs_addr len is 0 on failure (peer_addr)", a.len, 0);
    CHECK_ST("§3 oxs_fd on a forged handle", oxs_fd(forged, &fd), OXS_ERR_BAD_HANDLE);
    CHECK_INT("§1 fd is -1 on failure", fd, -1);
    fd = 42;
    CHECK_ST("§3 oxs_into_fd on a forged handle", oxs_into_fd(forged, &fd), OXS_ERR_BAD_HANDLE);
    CHECK_INT("§1 fd is -1 on failure (into_fd)", fd, -1);
    CHECK_ST("§3 getopt on a forged handle", oxs_getopt(forged, OXS_OPT_TYPE, &v),
             OXS_ERR_BAD_HANDLE);
    CHECK_INT("§1 getopt's value is left alone on failure", v, 1234);
    memset(&a, 0, sizeof a);
    strcpy(buf, "untouched");
    n = 77;
    CHECK("§5 format of an invalid address fails", oxs_addr_format(&a, buf, sizeof buf, &n) != OXS_OK);
    CHECK_STR("§1 addr_format writes \"\" on failure when cap > 0", buf, "");
    s = 99;
    CHECK_ST("§8 dial with a bad scheme", oxs_dial("nope://127.0.0.1:1", 1000, &s), OXS_ERR_ADDRESS);
    CHECK_INT("§1 dial's handle is OXS_INVALID on failure", s, OXS_INVALID);
    s = 99;
    CHECK_ST("§8 listen_on with a bad scheme", oxs_listen_on("nope://127.0.0.1:0", &s),
             OXS_ERR_ADDRESS);
    CHECK_INT("§1 listen_on's handle is OXS_INVALID on failure", s, OXS_INVALID);

    /* Required pointers that are NULL. */
    tcp_pair(0, &c, &sv);
    {
        const char *R = "§1 a required pointer that is NULL is INVALID_ARGUMENT";
        oxs_poller p = 0;
        CHECK_ST(R, oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, NULL),
                 OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_socketpair(OXS_TYPE_STREAM, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_bind(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_connect(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_accept(c, NULL, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_read(c, buf, sizeof buf, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_read(c, NULL, 5, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_write(c, "x", 1, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_write(c, NULL, 5, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_send(c, NULL, 5, 0, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_send(c, "x", 1, 0, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_recv(c, buf, 1, 0, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_recv(c, NULL, 1, 0, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_send_to(c, "x", 1, NULL, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_recv_from(c, buf, 1, NULL, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_write_all(c, NULL, 3, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_read_exact(c, NULL, 3, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_local_addr(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_peer_addr(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_bind_addr(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_connect_addr(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_getopt(c, OXS_OPT_TYPE, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_fd(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_into_fd(c, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_from_fd(0, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_addr_parse(NULL, &a), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_addr_parse("127.0.0.1:1", NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_addr_format(NULL, buf, sizeof buf, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_addr_from_sockaddr(NULL, 16, &a), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_resolve(NULL, 0, &a, 1, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_resolve("127.0.0.1:1", 0, &a, 1, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_dial(NULL, 0, &s), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_dial("tcp://127.0.0.1:1", 0, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_listen_on(NULL, &s), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_listen_on("tcp://127.0.0.1:0", NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_poller_open(NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_INT("§2 INVALID_ARGUMENT is not an OS error", oxs_last_os_error(), 0);
        CHECK_INT("§2 oxs_addr_domain(NULL) is 0", oxs_addr_domain(NULL), 0);
        CHECK_INT("§2 oxs_addr_port(NULL) is -1", oxs_addr_port(NULL), -1);
        /* The handles still work after all that. */
        CHECK_OK("§1 handle works after refused calls", oxs_write(c, "z", 1, &n));
        CHECK_OK("§1 handle works after refused calls", oxs_read(sv, buf, 1, &n));
        CHECK_INT("§1 the byte arrived", n, 1);
        (void)p;
    }

    /* A buf may be NULL when its length is 0. */
    CHECK_OK("§1 NULL buf with len 0 (write)", oxs_write(c, NULL, 0, &n));
    CHECK_INT("§1 NULL buf with len 0 writes 0", n, 0);
    CHECK_OK("§1 NULL buf with len 0 (read)", oxs_read(c, NULL, 0, &n));
    CHECK_INT("§4 read len 0 returns 0", n, 0);
    CHECK_OK("§1 NULL buf with len 0 (send)", oxs_send(c, NULL, 0, 0, &n));
    CHECK_OK("§1 NULL buf with len 0 (write_all)", oxs_write_all(c, NULL, 0, &n));
    CHECK_OK("§1 NULL buf with len 0 (read_exact)", oxs_read_exact(c, NULL, 0, &n));
    CHECK_INT("§6 read_exact of 0 moves 0", n, 0);

    /* A length above PTRDIFF_MAX is INVALID_ARGUMENT, count 0. */
    {
        const char *R = "§1 a length above PTRDIFF_MAX is INVALID_ARGUMENT";
        oxs_addr to;
        oxs_addr_parse("127.0.0.1:9", &to);
        n = 5;
        CHECK_ST(R, oxs_read(c, buf, BIG_LEN, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_INT("§1 count 0 on failure", n, 0);
        CHECK_ST(R, oxs_write(c, buf, BIG_LEN, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_send(c, buf, BIG_LEN, 0, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_recv(c, buf, BIG_LEN, 0, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_recv_from(c, buf, BIG_LEN, &n, NULL), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_send_to(c, buf, BIG_LEN, &to, &n), OXS_ERR_INVALID_ARGUMENT);
        n = 5;
        CHECK_ST(R, oxs_write_all(c, buf, BIG_LEN, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_INT("§6 write_all count is bytes moved (0)", n, 0);
        n = 5;
        CHECK_ST(R, oxs_read_exact(c, buf, BIG_LEN, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_INT("§6 read_exact count is bytes moved (0)", n, 0);
        CHECK_ST(R, oxs_read(c, buf, (size_t)-1, &n), OXS_ERR_INVALID_ARGUMENT);
    }

    /* Enums outside the documented set. */
    {
        const char *R = "§1 a number outside the documented set is INVALID_ARGUMENT";
        int32_t bad_domains[] = {0, 4, -1, 10, INT32_MAX, INT32_MIN};
        int32_t bad_types[] = {0, 5, -1, 6, INT32_MIN};
        size_t i;
        for (i = 0; i < sizeof bad_domains / sizeof bad_domains[0]; i++)
            CHECK_ST(R, oxs_socket_open(bad_domains[i], OXS_TYPE_STREAM, 0, &s),
                     OXS_ERR_INVALID_ARGUMENT);
        for (i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++)
            CHECK_ST(R, oxs_socket_open(OXS_DOMAIN_INET, bad_types[i], 0, &s),
                     OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_shutdown(c, 3), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_shutdown(c, -1), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_send(c, "x", 1, 0x8000, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_send(c, "x", 1, 0x20 /* MSG_TRUNC */, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_recv(c, buf, 1, 0x4 /* MSG_DONTROUTE */, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_recv(c, buf, 1, -1, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_socketpair(0, pair), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_resolve("127.0.0.1:80", 9, &a, 1, &n), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_getopt(c, 0, &v), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_getopt(c, 9999, &v), OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST(R, oxs_setopt(c, -3, 1), OXS_ERR_INVALID_ARGUMENT);
    }

    /* Strings that are not UTF-8 are ADDRESS, never a crash. */
    {
        const char *R = "§1 non-UTF-8 address or endpoint text is OXS_ERR_ADDRESS";
        CHECK_ST(R, oxs_bind(c, "\xff\xfe:80"), OXS_ERR_ADDRESS);
        CHECK_ST(R, oxs_connect(c, "127.0.0.\xc3:80"), OXS_ERR_ADDRESS);
        CHECK_ST(R, oxs_addr_parse("/tmp/\xff.sock", &a), OXS_ERR_ADDRESS);
        CHECK_ST(R, oxs_addr_parse("@\xc3\x28", &a), OXS_ERR_ADDRESS);
        CHECK_ST(R, oxs_dial("tcp://\xff\xff:80", 500, &s), OXS_ERR_ADDRESS);
        CHECK_ST(R, oxs_listen_on("unix:///tmp/\xfe.sock", &s), OXS_ERR_ADDRESS);
        CHECK_ST(R, oxs_resolve("\xff:80", 0, &a, 1, &n), OXS_ERR_ADDRESS);
    }
    oxs_close(c);
    oxs_close(sv);
}

static void handle_rules(void)
{
    oxs_socket s = 0, s2 = 0, c, sv;
    oxs_poller p = 0;
    size_t n;
    char buf[16];
    int fd;
    int64_t v;
    const char *R;

    R = "§3 0 is never a live handle";
    CHECK_ST(R, oxs_close(0), OXS_ERR_BAD_HANDLE);
    CHECK_ST(R, oxs_read(0, buf, 1, &n), OXS_ERR_BAD_HANDLE);
    CHECK_ST(R, oxs_getopt(0, OXS_OPT_TYPE, &v), OXS_ERR_BAD_HANDLE);
    CHECK_ST(R, oxs_poller_close(0), OXS_ERR_BAD_HANDLE);

    R = "§3 a forged handle is BAD_HANDLE";
    CHECK_ST(R, oxs_close((oxs_socket)1), OXS_ERR_BAD_HANDLE);
    CHECK_ST(R, oxs_close((oxs_socket)-1), OXS_ERR_BAD_HANDLE);
    CHECK_ST(R, oxs_bind((oxs_socket)0xdeadbeefULL, "127.0.0.1:0"), OXS_ERR_BAD_HANDLE);
    CHECK_ST(R, oxs_listen((oxs_socket)0xffffffff00000001ULL, 1), OXS_ERR_BAD_HANDLE);
    CHECK_ST(R, oxs_shutdown((oxs_socket)42, OXS_SHUT_BOTH), OXS_ERR_BAD_HANDLE);

    /* Closed, double close, stale generation. */
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
    CHECK("§3 a live handle is not 0", s != OXS_INVALID);
    fd = fd_of(s);
    CHECK("§10 oxs_fd gives a descriptor", fd >= 0);
    CHECK_OK("§3 close", oxs_close(s));
    CHECK("§3 close with no call in flight is close(2): the descriptor is closed",
          fcntl(fd, F_GETFD) == -1 && errno == EBADF);
    CHECK_ST("§3 closing twice is BAD_HANDLE", oxs_close(s), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 a call on a closed handle is BAD_HANDLE", oxs_read(s, buf, 1, &n),
             OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 a call on a closed handle is BAD_HANDLE", oxs_getopt(s, OXS_OPT_TYPE, &v),
             OXS_ERR_BAD_HANDLE);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s2));
    CHECK("§3 a closed handle's value is never issued again", s2 != s);
    CHECK_ST("§3 the stale handle stays BAD_HANDLE after its slot is reused",
             oxs_getopt(s, OXS_OPT_TYPE, &v), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 stale close does not close the new handle", oxs_close(s), OXS_ERR_BAD_HANDLE);
    CHECK_OK("§3 the new handle works", oxs_getopt(s2, OXS_OPT_TYPE, &v));
    CHECK_INT("§3 the new handle is the new socket", v, OXS_TYPE_DGRAM);
    CHECK_OK("§3 close", oxs_close(s2));

    /* Many open/close cycles: every value is new. */
    {
        enum { N = 2000 };
        static oxs_socket seen[N];
        int i, j, dup = 0, bad = 0;
        for (i = 0; i < N; i++) {
            if (oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &seen[i]) != OXS_OK ||
                oxs_close(seen[i]) != OXS_OK)
                bad++;
        }
        CHECK_INT("§3 open/close cycles succeed", bad, 0);
        for (i = 0; i < N && !dup; i++)
            for (j = i + 1; j < N; j++)
                if (seen[i] == seen[j]) {
                    dup = 1;
                    break;
                }
        CHECK("§3 a closed handle's value is never issued again (2000 cycles)", !dup);
        for (i = 0, bad = 0; i < N; i++)
            if (oxs_getopt(seen[i], OXS_OPT_TYPE, &v) != OXS_ERR_BAD_HANDLE)
                bad++;
        CHECK_INT("§3 every one of them is BAD_HANDLE now", bad, 0);
    }

    /* A poller where a socket is expected, and the other way round. */
    if (CHECK_OK("§9 poller_open", oxs_poller_open(&p))) {
        R = "§3 a poller where a socket is expected is BAD_HANDLE";
        CHECK_ST(R, oxs_read((oxs_socket)p, buf, 1, &n), OXS_ERR_BAD_HANDLE);
        CHECK_ST(R, oxs_getopt((oxs_socket)p, OXS_OPT_TYPE, &v), OXS_ERR_BAD_HANDLE);
        CHECK_ST(R, oxs_close((oxs_socket)p), OXS_ERR_BAD_HANDLE);
        CHECK_ST(R, oxs_into_fd((oxs_socket)p, &fd), OXS_ERR_BAD_HANDLE);
        REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
        CHECK_ST("§3 a socket where a poller is expected is BAD_HANDLE",
                 oxs_poller_close((oxs_poller)s), OXS_ERR_BAD_HANDLE);
        CHECK_ST("§3 a socket where a poller is expected is BAD_HANDLE",
                 oxs_poller_add((oxs_poller)s, s, OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE);
        CHECK_OK("§3 the socket survives being offered as a poller", oxs_close(s));
        CHECK_OK("§3 the poller survives being offered as a socket", oxs_poller_close(p));
        CHECK_ST("§3 closing a poller twice is BAD_HANDLE", oxs_poller_close(p),
                 OXS_ERR_BAD_HANDLE);
    }

    /* One handle used by two threads at once: one reads while another writes. */
    tcp_pair(0, &c, &sv);
    {
        static char big[1 << 20], got[1 << 20];
        bg_call w;
        size_t i;
        for (i = 0; i < sizeof big; i++)
            big[i] = (char)(i * 7 + 3);
        memset(&w, 0, sizeof w);
        w.fn = bg_write_all;
        w.s = c;
        w.buf = big;
        w.len = sizeof big;
        bg_start(&w);
        /* Meanwhile this thread reads an echo on the same handle c. */
        CHECK_OK("§3 write on sv while c is busy", oxs_write_all(sv, "ping", 4, &n));
        CHECK_OK("§3 read on c while another thread writes on c", oxs_read_exact(c, buf, 4, &n));
        CHECK("§3 concurrent read got the data", memcmp(buf, "ping", 4) == 0);
        CHECK_OK("§3 read the bulk on the other side", oxs_read_exact(sv, got, sizeof got, &n));
        if (CHECK("§3 writer finishes", bg_wait(&w, 10000 * (int)slow_factor()))) {
            CHECK_OK("§3 concurrent write_all", w.st);
            CHECK_INT("§6 write_all count", w.n, sizeof big);
        }
        CHECK("§3 bulk data intact", memcmp(big, got, sizeof big) == 0);
    }
    oxs_close(c);
    oxs_close(sv);
}

int main(int argc, char **argv)
{
    enter_scratch(argc, argv);
    last_error_rules(); /* first: checks the "nothing failed yet" state */
    status_values();
    strerror_rules();
    version_rules();
    out_params_on_failure();
    handle_rules();
    return CHECK_SUMMARY("core_status");
}

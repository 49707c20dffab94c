/* tcp_server.c: the textbook TCP echo server, one oxsock call per POSIX call:
 * socket, setsockopt(SO_REUSEADDR), bind, listen, then accept in a loop and
 * echo every line of each connection back, one connection at a time.
 *
 *   usage: tcp_server ADDRESS        e.g. 127.0.0.1:7000, [::1]:7000, localhost:7000
 *                                    (port 0 picks a free port; "[" means IPv6)
 *
 * Prints "listening on ADDRESS" once ready and "connection from PEER" per
 * connection. SIGINT or SIGTERM stops it: the handler has no SA_RESTART and the
 * listener is OXS_OPT_INTERRUPTIBLE, so a blocked accept or read returns
 * OXS_ERR_INTERRUPTED; the server then closes everything and exits 0.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

static const char *prog = "tcp_server";

/* Echoes one connection until the client closes it (or a signal arrives). */
static void serve(oxs_socket conn)
{
    char buf[LINE_MAX_BYTES];
    for (;;) {
        size_t n = 0, done = 0;
        oxs_status st = oxs_read(conn, buf, sizeof buf, &n);
        if (st != OXS_OK) {
            if (st != OXS_ERR_INTERRUPTED)
                fail(prog);
            return;
        }
        if (n == 0)
            return; /* the client closed its side */
        while (done < n) { /* write(2) may write less than asked: loop */
            size_t w = 0;
            if (oxs_write(conn, buf + done, n - done, &w) != OXS_OK) {
                fail(prog);
                return;
            }
            done += w;
        }
    }
}

int main(int argc, char **argv)
{
    oxs_socket lis = OXS_INVALID;
    oxs_addr local;
    char text[OXS_ADDR_STRLEN];
    int32_t domain;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ADDRESS   (e.g. 127.0.0.1:7000 or [::1]:7000)\n", prog);
        return 2;
    }
    if (catch_stop_signals() != 0)
        return 1;
    domain = argv[1][0] == '[' ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET;

    if (oxs_socket_open(domain, OXS_TYPE_STREAM, 0, &lis) != OXS_OK
        || oxs_setopt(lis, OXS_OPT_REUSEADDR, 1) != OXS_OK
        || oxs_setopt(lis, OXS_OPT_INTERRUPTIBLE, 1) != OXS_OK
        || oxs_bind(lis, argv[1]) != OXS_OK
        || oxs_listen(lis, 0) != OXS_OK
        || oxs_local_addr(lis, &local) != OXS_OK) {
        rc = fail(prog);
        oxs_close(lis);
        return rc;
    }
    printf("listening on %s\n", addr_text(&local, text));
    fflush(stdout);

    while (!stop_requested) {
        oxs_socket conn = OXS_INVALID;
        oxs_addr peer;
        oxs_status st = oxs_accept(lis, &conn, &peer);
        if (st == OXS_ERR_INTERRUPTED)
            continue; /* a signal: the loop condition decides */
        if (st == OXS_ERR_CONNECTION_ABORTED)
            continue; /* the client left before we accepted it */
        if (st != OXS_OK) {
            rc = fail(prog);
            break;
        }
        printf("connection from %s\n", addr_text(&peer, text));
        fflush(stdout);
        serve(conn);
        if (oxs_close(conn) != OXS_OK)
            fail(prog);
    }

    if (oxs_close(lis) != OXS_OK)
        rc = fail(prog);
    return rc;
}

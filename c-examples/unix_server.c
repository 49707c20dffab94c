/* unix_server.c: the textbook Unix-domain stream echo server with the
 * low-level calls: socket(AF_UNIX), bind, listen, accept in a loop, echo lines.
 *
 *   usage: unix_server PATH        e.g. /tmp/echo.sock
 *          unix_server @NAME       a Linux abstract name (no file at all)
 *
 * Prints "listening on PATH" once ready and "connection from PEER" per
 * connection (a client that did not bind shows as "(unnamed)"). SIGINT or
 * SIGTERM stops it (exit 0). Plain oxs_bind neither probes nor removes a file,
 * so, as in C, the server removes its socket file itself when it stops, and a
 * file left behind by a crash makes the next bind fail with "address in use"
 * (oxs_listen_on("unix://PATH") replaces such a stale file safely).
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"
#include <unistd.h>

static const char *prog = "unix_server";

static void serve(oxs_socket conn)
{
    char buf[LINE_MAX_BYTES];
    for (;;) {
        size_t n = 0;
        oxs_status st = oxs_read(conn, buf, sizeof buf, &n);
        if (st != OXS_OK) {
            if (st != OXS_ERR_INTERRUPTED)
                fail(prog);
            return;
        }
        if (n == 0)
            return; /* the client closed its side */
        if (oxs_write_all(conn, buf, n, NULL) != OXS_OK) {
            fail(prog);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    oxs_socket lis = OXS_INVALID;
    char text[OXS_ADDR_STRLEN];
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH|@NAME\n", prog);
        return 2;
    }
    if (catch_stop_signals() != 0)
        return 1;

    if (oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &lis) != OXS_OK
        || oxs_setopt(lis, OXS_OPT_INTERRUPTIBLE, 1) != OXS_OK
        || oxs_bind(lis, argv[1]) != OXS_OK) {
        rc = fail(prog);
        oxs_close(lis);
        return rc;
    }
    if (oxs_listen(lis, 0) != OXS_OK) {
        rc = fail(prog);
        goto out;
    }
    printf("listening on %s\n", argv[1]);
    fflush(stdout);

    while (!stop_requested) {
        oxs_socket conn = OXS_INVALID;
        oxs_addr peer;
        oxs_status st = oxs_accept(lis, &conn, &peer);
        if (st == OXS_ERR_INTERRUPTED || st == OXS_ERR_CONNECTION_ABORTED)
            continue;
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

out:
    if (oxs_close(lis) != OXS_OK)
        rc = fail(prog);
    if (argv[1][0] != '@' && unlink(argv[1]) != 0) /* we bound it: remove the file */
        perror("unlink");
    return rc;
}

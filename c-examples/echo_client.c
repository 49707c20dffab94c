/* echo_client.c: an echo client for ANY endpoint, with oxs_dial: sends each
 * line and prints the reply. The same code serves streams, datagrams and
 * seqpacket, because oxs_dial returns a connected socket for all of them.
 *
 *   usage: echo_client ENDPOINT [LINE...]      (no LINE: the lines of stdin)
 *     tcp://127.0.0.1:7000   tcp6://[::1]:7000   unix:///tmp/echo.sock   unix://@name
 *     unixpacket:///tmp/p.sock   udp://127.0.0.1:7000   unixgram:///tmp/g.sock
 *
 * Datagrams may be lost, so on a datagram socket each reply is awaited for at
 * most 3 seconds. Prints each reply on its own line; exits 0, or 1 with
 * oxs_last_error().
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

static const char *prog = "echo_client";

int main(int argc, char **argv)
{
    oxs_socket s = OXS_INVALID;
    char line[LINE_MAX_BYTES], reply[LINE_MAX_BYTES];
    int64_t type = 0;
    size_t len;
    int i = 2, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s ENDPOINT [LINE...]\n", prog);
        return 2;
    }
    if (oxs_dial(argv[1], 10000, &s) != OXS_OK /* at most 10 s to connect */
        || oxs_getopt(s, OXS_OPT_TYPE, &type) != OXS_OK
        || (type == OXS_TYPE_DGRAM && oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000) != OXS_OK)) {
        rc = fail(prog);
        oxs_close(s);
        return rc;
    }

    while ((len = next_line(argc, argv, 2, &i, line, sizeof line)) > 0) {
        size_t got = 0;
        if (oxs_write_all(s, line, len, NULL) != OXS_OK
            || read_line(s, reply, sizeof reply, &got) != OXS_OK) {
            rc = fail(prog);
            break;
        }
        if (got == 0) {
            fprintf(stderr, "%s: the server closed the connection\n", prog);
            rc = 1;
            break;
        }
        printf("%s\n", reply);
        fflush(stdout);
    }

    if (oxs_close(s) != OXS_OK)
        rc = fail(prog);
    return rc;
}

/* tcp_client.c: the textbook TCP client, one oxsock call per POSIX call:
 * socket, connect, then write a line and read the reply for each line, close.
 *
 *   usage: tcp_client ADDRESS [LINE...]     e.g. tcp_client 127.0.0.1:7000 hello world
 *          ADDRESS is 127.0.0.1:7000, [::1]:7000 or localhost:7000 ("[" means IPv6);
 *          with no LINE arguments the lines come from stdin.
 *
 * Prints each reply on its own line; exits 0, or 1 with oxs_last_error().
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

static const char *prog = "tcp_client";

int main(int argc, char **argv)
{
    oxs_socket s = OXS_INVALID;
    char line[LINE_MAX_BYTES], reply[LINE_MAX_BYTES];
    size_t len;
    int i = 2, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s ADDRESS [LINE...]\n", prog);
        return 2;
    }
    if (oxs_socket_open(argv[1][0] == '[' ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET,
                        OXS_TYPE_STREAM, 0, &s) != OXS_OK)
        return fail(prog);
    if (oxs_connect(s, argv[1]) != OXS_OK) {
        rc = fail(prog);
        oxs_close(s);
        return rc;
    }

    while ((len = next_line(argc, argv, 2, &i, line, sizeof line)) > 0) {
        size_t done = 0, got = 0;
        while (done < len) { /* write(2) may write less than asked: loop */
            size_t w = 0;
            if (oxs_write(s, line + done, len - done, &w) != OXS_OK)
                break;
            done += w;
        }
        if (done < len || read_line(s, reply, sizeof reply, &got) != OXS_OK) {
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

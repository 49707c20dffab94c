/* udp_talker.c: the textbook UDP client with the low-level calls:
 * socket(SOCK_DGRAM), then sendto / recvfrom for each line: one datagram out,
 * one datagram back. UDP may lose datagrams, so each reply is awaited for at
 * most 3 seconds (OXS_OPT_READ_TIMEOUT_MS, i.e. SO_RCVTIMEO).
 *
 *   usage: udp_talker ADDRESS [LINE...]    ADDRESS numeric: 127.0.0.1:7000, [::1]:7000
 *                                          (no LINE: the lines of stdin)
 *
 * Prints each reply on its own line; exits 0, or 1 with oxs_last_error().
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

static const char *prog = "udp_talker";

int main(int argc, char **argv)
{
    oxs_socket s = OXS_INVALID;
    oxs_addr server;
    char line[LINE_MAX_BYTES], reply[LINE_MAX_BYTES];
    size_t len;
    int i = 2, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s ADDRESS [LINE...]\n", prog);
        return 2;
    }
    if (oxs_addr_parse(argv[1], &server) != OXS_OK
        || oxs_socket_open(oxs_addr_domain(&server), OXS_TYPE_DGRAM, 0, &s) != OXS_OK
        || oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000) != OXS_OK) {
        rc = fail(prog);
        oxs_close(s);
        return rc;
    }

    while ((len = next_line(argc, argv, 2, &i, line, sizeof line)) > 0) {
        oxs_addr from;
        size_t sent = 0, got = 0;
        if (oxs_send_to(s, line, len, &server, &sent) != OXS_OK
            || oxs_recv_from(s, reply, sizeof reply - 1, &got, &from) != OXS_OK) {
            rc = fail(prog);
            break;
        }
        reply[got] = '\0';
        reply[strcspn(reply, "\n")] = '\0';
        printf("%s\n", reply);
        fflush(stdout);
    }

    if (oxs_close(s) != OXS_OK)
        rc = fail(prog);
    return rc;
}

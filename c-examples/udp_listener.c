/* udp_listener.c: the textbook UDP echo server with the low-level calls:
 * socket(SOCK_DGRAM), bind, then recvfrom / sendto in a loop: every datagram
 * goes back to the address it came from.
 *
 *   usage: udp_listener ADDRESS       e.g. 127.0.0.1:7000 or [::1]:7000 (port 0: any)
 *
 * Prints "listening on ADDRESS" once ready and "datagram from PEER (N bytes)"
 * per datagram. SIGINT or SIGTERM stops it (exit 0).
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

static const char *prog = "udp_listener";

int main(int argc, char **argv)
{
    static char buf[65536]; /* the largest UDP payload fits */
    oxs_socket s = OXS_INVALID;
    oxs_addr local;
    char text[OXS_ADDR_STRLEN];
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ADDRESS   (e.g. 127.0.0.1:7000 or [::1]:7000)\n", prog);
        return 2;
    }
    if (catch_stop_signals() != 0)
        return 1;

    if (oxs_socket_open(argv[1][0] == '[' ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET,
                        OXS_TYPE_DGRAM, 0, &s) != OXS_OK
        || oxs_setopt(s, OXS_OPT_INTERRUPTIBLE, 1) != OXS_OK
        || oxs_bind(s, argv[1]) != OXS_OK
        || oxs_local_addr(s, &local) != OXS_OK) {
        rc = fail(prog);
        oxs_close(s);
        return rc;
    }
    printf("listening on %s\n", addr_text(&local, text));
    fflush(stdout);

    while (!stop_requested) {
        oxs_addr from;
        size_t n = 0, sent = 0;
        oxs_status st = oxs_recv_from(s, buf, sizeof buf, &n, &from);
        if (st == OXS_ERR_INTERRUPTED)
            continue;
        if (st == OXS_ERR_CONNECTION_REFUSED)
            continue; /* an ICMP error for an earlier reply: not fatal for a server */
        if (st != OXS_OK) {
            rc = fail(prog);
            break;
        }
        printf("datagram from %s (%zu bytes)\n", addr_text(&from, text), n);
        fflush(stdout);
        if (oxs_send_to(s, buf, n, &from, &sent) != OXS_OK)
            fail(prog); /* one lost reply is no reason to stop */
    }

    if (oxs_close(s) != OXS_OK)
        rc = fail(prog);
    return rc;
}

/* udp_batch_server.c: a UDP echo server that moves up to 64 datagrams per call in
 * each direction (oxs_recv_batch / oxs_send_batch, recvmmsg(2) / sendmmsg(2)).
 *
 *   usage: udp_batch_server ADDRESS    e.g. 127.0.0.1:7000 or [::1]:7000 (port 0: any)
 *
 * Each oxs_recv_batch waits for one datagram, then takes every datagram already
 * queued (up to 64) without waiting more; the replies go back in one oxs_send_batch,
 * each to the address its datagram came from. An entry the kernel refuses is skipped
 * and the rest of the batch still goes. Prints "listening on ADDRESS" once ready and
 * "batch of N datagrams" per batch. SIGINT or SIGTERM stops it (exit 0).
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

#define BATCH 64

static const char *prog = "udp_batch_server";

int main(int argc, char **argv)
{
    static char room[BATCH][65536]; /* the largest UDP payload fits: nothing is cut */
    static oxs_datagram d[BATCH];
    oxs_socket s = OXS_INVALID;
    oxs_addr local;
    char text[OXS_ADDR_STRLEN];
    int i, rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ADDRESS   (e.g. 127.0.0.1:7000 or [::1]:7000)\n", prog);
        return 2;
    }
    if (catch_stop_signals() != 0)
        return 1;
    if (oxs_socket_open(argv[1][0] == '[' ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s) != OXS_OK
        || oxs_setopt(s, OXS_OPT_INTERRUPTIBLE, 1) != OXS_OK || oxs_bind(s, argv[1]) != OXS_OK
        || oxs_local_addr(s, &local) != OXS_OK) {
        rc = fail(prog);
        oxs_close(s);
        return rc;
    }
    printf("listening on %s\n", addr_text(&local, text));
    fflush(stdout);

    while (!stop_requested) {
        size_t got = 0, done = 0;
        oxs_status st;
        for (i = 0; i < BATCH; i++) {
            d[i].buf = room[i];
            d[i].len = sizeof room[i];
        }
        st = oxs_recv_batch(s, d, BATCH, &got);
        if (st == OXS_ERR_INTERRUPTED || st == OXS_ERR_CONNECTION_REFUSED)
            continue; /* a signal, or an ICMP error for an earlier reply */
        if (st != OXS_OK) {
            rc = fail(prog);
            break;
        }
        printf("batch of %zu datagrams\n", got);
        fflush(stdout);
        /* Each entry now holds a datagram and its sender: send it back as it is. */
        for (i = 0; i < (int)got; i++)
            d[i].len = d[i].nbytes;
        while (done < got) {
            size_t sent = 0;
            st = oxs_send_batch(s, d + done, got - done, &sent);
            done += sent;
            if (st == OXS_OK)
                break;
            if (st != OXS_ERR_INTERRUPTED) {
                fail(prog); /* one lost reply is no reason to stop: skip that entry */
                done++;
            }
        }
    }

    if (oxs_close(s) != OXS_OK)
        rc = fail(prog);
    return rc;
}

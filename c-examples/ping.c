/* ping.c: ICMP echo over a raw IPv4 socket, oxs_socket_open(INET, RAW, 1):
 * sends COUNT echo requests, one a second, and prints each round trip time.
 *
 *   usage: ping HOST_OR_ADDR [COUNT]       e.g. ping 127.0.0.1 3   (COUNT: 4)
 *
 * Raw sockets need root or CAP_NET_RAW: without them it says so and exits 2.
 * Exit status: 0 when every request got a reply, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY 0
#define PAYLOAD 56

static const char *prog = "ping";

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* The Internet checksum (RFC 1071) of len bytes. */
static uint16_t checksum(const unsigned char *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Waits up to 1 second for the reply to (id, seq). Returns 1 when it came,
 * 0 on timeout, -1 on an error. */
static int await_reply(oxs_socket s, unsigned id, unsigned seq, double sent_at)
{
    unsigned char buf[1500];
    for (;;) {
        double left = sent_at + 1000.0 - now_ms();
        size_t n = 0, ihl;
        oxs_addr from;
        oxs_status st;
        if (left < 1)
            return 0;
        if (oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, (int64_t)left) != OXS_OK)
            return -1;
        st = oxs_recv_from(s, buf, sizeof buf, &n, &from);
        if (st == OXS_ERR_TIMED_OUT)
            return 0;
        if (st == OXS_ERR_MESSAGE_TOO_LONG)
            continue; /* not ours */
        if (st != OXS_OK)
            return -1;
        /* A raw IPv4 socket hands over the IP header too: skip it. */
        ihl = (size_t)(buf[0] & 0x0f) * 4;
        if (n < ihl + 8)
            continue;
        if (buf[ihl] == ICMP_ECHO_REPLY && (unsigned)(buf[ihl + 4] << 8 | buf[ihl + 5]) == id
            && (unsigned)(buf[ihl + 6] << 8 | buf[ihl + 7]) == seq) {
            char text[OXS_ADDR_STRLEN];
            char *port;
            addr_text(&from, text);
            if ((port = strrchr(text, ':')) != NULL)
                *port = '\0'; /* a raw socket has no port: drop ":0" */
            printf("%zu bytes from %s: icmp_seq=%u time=%.3f ms\n", n - ihl, text, seq,
                   now_ms() - sent_at);
            fflush(stdout);
            return 1;
        } /* else: our own request seen on loopback, or someone else's reply */
    }
}

int main(int argc, char **argv)
{
    oxs_socket s = OXS_INVALID;
    oxs_addr to;
    char host_port[600];
    unsigned char pkt[8 + PAYLOAD];
    unsigned id = (unsigned)getpid() & 0xffff, seq;
    long count = argc > 2 ? strtol(argv[2], NULL, 10) : 4;
    size_t n = 0;
    int received = 0;
    oxs_status st;

    if (argc < 2 || argc > 3 || count < 1 || count > 100000) {
        fprintf(stderr, "usage: %s HOST_OR_ADDR [COUNT]\n", prog);
        return 2;
    }
    /* oxs_resolve reads "host:port"; ICMP has no port, so any will do. */
    snprintf(host_port, sizeof host_port, "%s:0", argv[1]);
    st = oxs_resolve(host_port, OXS_DOMAIN_INET, &to, 1, &n);
    if (st != OXS_OK && st != OXS_ERR_BUFFER_TOO_SMALL) /* more than one: use the first */
        return fail(prog);

    st = oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_RAW, 1 /* ICMP */, &s);
    if (st == OXS_ERR_PERMISSION_DENIED) {
        fprintf(stderr, "%s: raw sockets need root or CAP_NET_RAW (%s)\n", prog, oxs_last_error());
        return 2;
    }
    if (st != OXS_OK)
        return fail(prog);

    printf("PING %s: %d data bytes\n", argv[1], PAYLOAD);
    for (seq = 1; seq <= (unsigned)count; seq++) {
        double sent_at = now_ms();
        size_t sent = 0;
        int got;
        uint16_t sum;
        memset(pkt, 0, sizeof pkt);
        pkt[0] = ICMP_ECHO_REQUEST;
        pkt[4] = (unsigned char)(id >> 8), pkt[5] = (unsigned char)id;
        pkt[6] = (unsigned char)(seq >> 8), pkt[7] = (unsigned char)seq;
        memcpy(pkt + 8, "oxsock ping payload", 19);
        sum = checksum(pkt, sizeof pkt);
        pkt[2] = (unsigned char)(sum >> 8), pkt[3] = (unsigned char)sum;

        if (oxs_send_to(s, pkt, sizeof pkt, &to, &sent) != OXS_OK
            || (got = await_reply(s, id, seq, sent_at)) < 0) {
            fail(prog);
            break;
        }
        if (got)
            received++;
        else
            printf("no reply for icmp_seq=%u within 1 s\n", seq);
        if (seq < (unsigned)count) {
            double wait = sent_at + 1000.0 - now_ms();
            if (wait > 0) {
                struct timespec ts = { 0, (long)(wait * 1e6) };
                nanosleep(&ts, NULL);
            }
        }
    }
    printf("%ld packets transmitted, %d received\n", count, received);
    if (oxs_close(s) != OXS_OK)
        return fail(prog);
    return received == count ? 0 : 1;
}

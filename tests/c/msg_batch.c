/*
 * msg_batch.c - contract §13 "Batches": oxs_send_batch / oxs_recv_batch over UDP (v4
 * and v6), Unix datagram and seqpacket sockets. recv_batch waits for the first
 * datagram, then takes what is queued without waiting for n; cut datagrams are flagged
 * per entry and the batch goes on; send_batch stops at the failing entry with the
 * earlier ones sent and counted; the oxs_datagram layout; argument rules, STREAM
 * UNSUPPORTED, timeouts, non-blocking mode and close while blocked.
 * Usage: msg_batch [scratch-folder]
 */
#include <stddef.h>

#include "msg_util.h"

static void layout(void)
{
    CHECK_INT("§13 oxs_datagram is 168 bytes", sizeof(oxs_datagram), 168);
    CHECK_INT("§13 oxs_datagram.len at 8", offsetof(oxs_datagram, len), 8);
    CHECK_INT("§13 oxs_datagram.nbytes at 16", offsetof(oxs_datagram, nbytes), 16);
    CHECK_INT("§13 oxs_datagram.status at 24", offsetof(oxs_datagram, status), 24);
    CHECK_INT("§13 oxs_datagram.addr at 32", offsetof(oxs_datagram, addr), 32);
}

static void set_entry(oxs_datagram *d, void *buf, size_t len, const oxs_addr *to)
{
    memset(d, 0, sizeof *d);
    d->buf = buf;
    d->len = len;
    d->nbytes = 12345;
    d->status = 77;
    if (to != NULL)
        d->addr = *to;
}

/* Unconnected sockets of one IP family: a sender and a receiver. */
static void udp(int v6)
{
    oxs_socket a = 0, b = 0;
    oxs_addr to, from_a;
    oxs_datagram d[64];
    static char rooms[64][16];
    char text[OXS_ADDR_STRLEN], want[OXS_ADDR_STRLEN];
    const char *msgs[5] = {"one", "twenty-bytes-long!!!", "", "eight888", "nine99999"};
    size_t n = 99, i;
    int64_t t0;
    int32_t dom = v6 ? OXS_DOMAIN_INET6 : OXS_DOMAIN_INET;
    REQUIRE_OK("setup: udp", oxs_socket_open(dom, OXS_TYPE_DGRAM, 0, &a));
    REQUIRE_OK("setup: udp", oxs_socket_open(dom, OXS_TYPE_DGRAM, 0, &b));
    REQUIRE_OK("setup: bind", oxs_bind(a, v6 ? "[::1]:0" : "127.0.0.1:0"));
    REQUIRE_OK("setup: bind", oxs_bind(b, v6 ? "[::1]:0" : "127.0.0.1:0"));
    REQUIRE_OK("setup: addr", oxs_local_addr(b, &to));
    REQUIRE_OK("setup: addr", oxs_local_addr(a, &from_a));
    fmt(&from_a, want);

    for (i = 0; i < 5; i++)
        set_entry(&d[i], (void *)msgs[i], strlen(msgs[i]), &to);
    CHECK_OK("§13 send_batch of five datagrams", oxs_send_batch(a, d, 5, &n));
    CHECK_INT("§13 send_batch count", n, 5);
    for (i = 0; i < 5; i++) {
        CHECK_INT("§13 each sent entry's nbytes", d[i].nbytes, strlen(msgs[i]));
        CHECK_ST("§13 each sent entry's status", d[i].status, OXS_OK);
    }

    /* Rooms of 8 bytes: whole and cut datagrams mixed. */
    for (i = 0; i < 64; i++)
        set_entry(&d[i], rooms[i], 8, NULL);
    oxs_setopt(b, OXS_OPT_READ_TIMEOUT_MS, 5000);
    t0 = check_now_ms();
    n = 0;
    CHECK_OK("§13 recv_batch with cut datagrams in it still returns OK", oxs_recv_batch(b, d, 64, &n));
    CHECK("§13 recv_batch returns what is queued without waiting for n (well before the timeout)",
          check_now_ms() - t0 < 2000 * slow_factor());
    /* Loopback delivers all five before the call; allow them to come over two calls. */
    if (n < 5) {
        size_t more = 0;
        CHECK_OK("§13 recv_batch the rest", oxs_recv_batch(b, d + n, 64 - n, &more));
        n += more;
    }
    CHECK_INT("§13 all five arrive, each as one entry", n, 5);
    CHECK("§13 whole: status OK, nbytes its length", d[0].status == OXS_OK && d[0].nbytes == 3 &&
                                                         memcmp(rooms[0], "one", 3) == 0);
    CHECK_ST("§13 cut: status MESSAGE_TOO_LONG", d[1].status, OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§13 cut: nbytes the full length", d[1].nbytes, 20);
    CHECK("§13 cut: stored cut to len", memcmp(rooms[1], "twenty-b", 8) == 0);
    CHECK("§13 an empty datagram is an entry of 0 bytes", d[2].status == OXS_OK && d[2].nbytes == 0);
    CHECK("§13 exactly len bytes is whole", d[3].status == OXS_OK && d[3].nbytes == 8);
    CHECK("§13 one byte over is cut", d[4].status == OXS_ERR_MESSAGE_TOO_LONG && d[4].nbytes == 9);
    for (i = 0; i < 5; i++)
        CHECK_STR("§13 addr is the sender's", fmt(&d[i].addr, text), want);
    CHECK("§13 entries past *nrecv are untouched", d[5].nbytes == 12345 && d[5].status == 77);

    /* n smaller than the queue: takes n, the rest stays. */
    for (i = 0; i < 5; i++)
        set_entry(&d[i], (void *)msgs[0], 3, &to);
    oxs_send_batch(a, d, 5, &n);
    for (i = 0; i < 5; i++)
        set_entry(&d[i], rooms[i], 16, NULL);
    CHECK_OK("§13 recv_batch n 2 with 5 queued", oxs_recv_batch(b, d, 2, &n));
    CHECK_INT("§13 at most n", n, 2);
    oxs_setopt(b, OXS_OPT_NONBLOCKING, 1);
    {
        size_t total = 0;
        int k;
        for (k = 0; k < 10 && total < 3; k++) {
            if (oxs_recv_batch(b, d, 64, &n) == OXS_OK)
                total += n;
        }
        CHECK_INT("§13 the rest stayed queued", total, 3);
    }
    CHECK_ST("§13 non-blocking recv_batch with nothing queued", oxs_recv_batch(b, d, 64, &n),
             OXS_ERR_WOULD_BLOCK);
    CHECK_INT("§1 nrecv 0 on failure", n, 0);
    oxs_setopt(b, OXS_OPT_NONBLOCKING, 0);
    oxs_setopt(b, OXS_OPT_READ_TIMEOUT_MS, 100);
    t0 = check_now_ms();
    CHECK_ST("§13 recv_batch waits for the first as recv_from does: its timeout", oxs_recv_batch(b, d, 64, &n),
             OXS_ERR_TIMED_OUT);
    CHECK("§13 ... after about the timeout", check_now_ms() - t0 >= 90);

    /* send_batch stops at the failing entry: entries 0 and 1 sent, 2 too large. */
    {
        static char huge[70000];
        oxs_addr wrong;
        for (i = 0; i < 4; i++)
            set_entry(&d[i], (void *)msgs[3], 8, &to);
        set_entry(&d[2], huge, sizeof huge, &to);
        CHECK_ST("§13 send_batch stops at a datagram too large", oxs_send_batch(a, d, 4, &n),
                 OXS_ERR_MESSAGE_TOO_LONG);
        CHECK_INT("§13 *nsent counts those sent before it", n, 2);
        CHECK("§13 the sent entries have nbytes and status", d[0].status == OXS_OK && d[0].nbytes == 8 &&
                                                                 d[1].status == OXS_OK && d[1].nbytes == 8);
        CHECK_ST("§13 the failing entry's status is stored", d[2].status, OXS_ERR_MESSAGE_TOO_LONG);
        CHECK("§13 the entries after it are untouched", d[3].status == 77 && d[3].nbytes == 12345);
        oxs_setopt(b, OXS_OPT_READ_TIMEOUT_MS, 5000);
        for (i = 0; i < 4; i++)
            set_entry(&d[i], rooms[i], 16, NULL);
        n = 0;
        oxs_recv_batch(b, d, 4, &n);
        if (n < 2) {
            size_t more = 0;
            oxs_recv_batch(b, d + n, 4 - n, &more);
            n += more;
        }
        CHECK_INT("§13 exactly the two before it arrived", n, 2);
        oxs_setopt(b, OXS_OPT_NONBLOCKING, 1);
        CHECK_ST("§13 ... and nothing after it", oxs_recv_batch(b, d, 4, &n), OXS_ERR_WOULD_BLOCK);
        oxs_setopt(b, OXS_OPT_NONBLOCKING, 0);

        REQUIRE_OK("setup: wrong family", oxs_addr_parse(v6 ? "127.0.0.1:9" : "[::1]:9", &wrong));
        for (i = 0; i < 3; i++)
            set_entry(&d[i], (void *)msgs[0], 3, &to);
        d[1].addr = wrong;
        CHECK_ST("§13 an entry whose address does not fit stops the batch: ADDRESS",
                 oxs_send_batch(a, d, 3, &n), OXS_ERR_ADDRESS);
        CHECK("§13 ... after the entries before it", n == 1 && d[0].status == OXS_OK &&
                                                         d[1].status == OXS_ERR_ADDRESS && d[2].status == 77);
        for (i = 0; i < 2; i++)
            set_entry(&d[i], (void *)msgs[0], 3, i == 0 ? &to : NULL);
        CHECK_ST("§13 an entry with addr.len 0 on an unconnected socket is NOT_CONNECTED",
                 oxs_send_batch(a, d, 2, &n), OXS_ERR_NOT_CONNECTED);
        CHECK("§13 ... stored in its entry, the one before sent", n == 1 && d[1].status == OXS_ERR_NOT_CONNECTED);
        /* drain */
        oxs_recv_batch(b, d + 4, 8, &n);
    }

    /* Connected: addr.len 0 goes to the peer. */
    REQUIRE_OK("setup: connect", oxs_connect_addr(a, &to));
    for (i = 0; i < 3; i++)
        set_entry(&d[i], (void *)msgs[0], 3, NULL);
    CHECK_OK("§13 addr.len 0 goes to the connected peer", oxs_send_batch(a, d, 3, &n));
    CHECK_INT("§13 connected send_batch count", n, 3);
    for (i = 0; i < 3; i++)
        set_entry(&d[i], rooms[i], 16, NULL);
    n = 0;
    oxs_recv_batch(b, d, 3, &n);
    CHECK("§13 the connected peer got them", n >= 1 && d[0].nbytes == 3);
    if (n < 3) {
        size_t more = 0;
        oxs_recv_batch(b, d + n, 3 - n, &more);
    }
    oxs_close(a);
    oxs_close(b);
}

static void bg_recv_batch(bg_call *c)
{
    oxs_datagram d[4];
    size_t i;
    for (i = 0; i < 4; i++)
        set_entry(&d[i], (char *)c->buf + 16 * i, 16, NULL);
    c->st = oxs_recv_batch(c->s, d, 4, &c->n);
    c->addr = d[0].addr;
}

static void bg_send_later(bg_call *c)
{
    size_t n;
    sleep_ms(150);
    c->st = oxs_send(c->s, "late", 4, 0, &n);
}

/* Unix datagram and seqpacket pairs: unnamed senders, waiting for the first, close
 * while blocked, non-blocking and timed send_batch on a full queue. */
static void unix_pair(int32_t type)
{
    oxs_socket p[2];
    oxs_datagram d[1024];
    static char room[64 * 16];
    static char payload[1024];
    char text[OXS_ADDR_STRLEN];
    size_t n = 0, i, sent;
    bg_call bg, later;
    REQUIRE_OK("setup: socketpair", oxs_socketpair(type, p));

    /* recv_batch waits for the first datagram. */
    memset(&bg, 0, sizeof bg);
    bg.fn = bg_recv_batch;
    bg.s = p[1];
    bg.buf = room;
    memset(&later, 0, sizeof later);
    later.fn = bg_send_later;
    later.s = p[0];
    bg_start(&bg);
    bg_start(&later);
    if (CHECK("§13 recv_batch blocks until the first datagram", bg_wait(&bg, 5000 * (int)slow_factor()))) {
        CHECK_OK("§13 recv_batch returns once the first datagram comes", bg.st);
        CHECK("§13 ... with at least 1 (and not waiting for n)", bg.n >= 1 && memcmp(room, "late", 4) == 0);
        CHECK_STR("§13 an unnamed Unix sender formats as (unnamed)", fmt(&bg.addr, text), "(unnamed)");
    }
    bg_wait(&later, 5000);

    /* close while blocked */
    memset(&bg, 0, sizeof bg);
    bg.fn = bg_recv_batch;
    bg.s = p[1];
    bg.buf = room;
    bg_start(&bg);
    CHECK("§3 recv_batch blocks", wait_thread_blocked(bg.tid));
    CHECK_OK("§3 close while recv_batch is blocked", oxs_close(p[1]));
    if (CHECK("§3 the blocked recv_batch returns", bg_wait(&bg, 5000 * (int)slow_factor())))
        CHECK_ST("§3 the blocked recv_batch returns CLOSED", bg.st, OXS_ERR_CLOSED);
    oxs_close(p[0]);

    /* A full queue: non-blocking send_batch returns WOULD_BLOCK with the count so far,
     * a timed one TIMED_OUT with it; the receiver gets exactly that many. */
    REQUIRE_OK("setup: socketpair", oxs_socketpair(type, p));
    for (i = 0; i < 1024; i++)
        set_entry(&d[i], payload, sizeof payload, NULL);
    oxs_setopt(p[0], OXS_OPT_NONBLOCKING, 1);
    CHECK_ST("§13 non-blocking send_batch on a full queue is WOULD_BLOCK", oxs_send_batch(p[0], d, 1024, &n),
             OXS_ERR_WOULD_BLOCK);
    CHECK("§13 ... with the count of those sent", n > 0 && n < 1024);
    CHECK("§13 ... the sent ones OK, the failing one WOULD_BLOCK",
          d[0].status == OXS_OK && d[n - 1].status == OXS_OK && d[n].status == OXS_ERR_WOULD_BLOCK);
    sent = n;
    oxs_setopt(p[0], OXS_OPT_NONBLOCKING, 0);
    oxs_setopt(p[0], OXS_OPT_WRITE_TIMEOUT_MS, 150);
    CHECK_ST("§13 send_batch with a write timeout on a full queue is TIMED_OUT", oxs_send_batch(p[0], d, 4, &n),
             OXS_ERR_TIMED_OUT);
    CHECK_INT("§13 ... with nsent 0 (nothing went)", n, 0);
    {
        size_t total = 0;
        int k;
        oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 1);
        for (k = 0; k < 10000; k++) {
            oxs_datagram r[64];
            size_t j;
            for (j = 0; j < 64; j++)
                set_entry(&r[j], room + 0, 16, NULL);
            if (oxs_recv_batch(p[1], r, 64, &n) != OXS_OK)
                break;
            total += n;
        }
        CHECK_INT("§13 the receiver gets exactly the count send_batch reported", total, sent);
    }
    oxs_close(p[0]);
    oxs_close(p[1]);
}

static void args(void)
{
    oxs_socket p[2], c, s, u = 0;
    oxs_datagram d[2];
    static oxs_datagram many[1025];
    size_t n = 9;
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_DGRAM, p));
    set_entry(&d[0], "x", 1, NULL);
    set_entry(&d[1], "y", 1, NULL);
    CHECK_ST("§13 send_batch n 0", oxs_send_batch(p[0], d, 0, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 nsent 0 on failure", n, 0);
    CHECK_ST("§13 send_batch n 1025", oxs_send_batch(p[0], many, 1025, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§13 recv_batch n 1025", oxs_recv_batch(p[1], many, 1025, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§13 recv_batch n 0", oxs_recv_batch(p[1], d, 0, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 send_batch d NULL", oxs_send_batch(p[0], NULL, 1, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 recv_batch d NULL", oxs_recv_batch(p[1], NULL, 1, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 send_batch nsent NULL", oxs_send_batch(p[0], d, 1, NULL), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 recv_batch nrecv NULL", oxs_recv_batch(p[1], d, 1, NULL), OXS_ERR_INVALID_ARGUMENT);
    set_entry(&d[1], NULL, 5, NULL);
    CHECK_ST("§1 an entry with buf NULL and len > 0: nothing is sent", oxs_send_batch(p[0], d, 2, &n),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 nothing sent", n, 0);
    oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 1);
    CHECK_ST("§1 ... and nothing arrived", oxs_recv_batch(p[1], d, 1, &n), OXS_ERR_WOULD_BLOCK);
    set_entry(&d[1], NULL, 5, NULL);
    CHECK_ST("§1 recv_batch entry with buf NULL and len > 0", oxs_recv_batch(p[1], d, 2, &n),
             OXS_ERR_INVALID_ARGUMENT);
    set_entry(&d[0], NULL, 0, NULL);
    CHECK_OK("§1 an entry with buf NULL and len 0 sends an empty datagram", oxs_send_batch(p[0], d, 1, &n));
    CHECK_OK("§1 ... received into an entry with buf NULL and len 0", oxs_recv_batch(p[1], d, 1, &n));
    CHECK("§1 ... an empty datagram", n == 1 && d[0].nbytes == 0 && d[0].status == OXS_OK);
    set_entry(&d[0], "x", 1, NULL);
    CHECK_ST("§3 send_batch on a closed handle", oxs_send_batch(9999, d, 1, &n), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 recv_batch on a closed handle", oxs_recv_batch(9999, d, 1, &n), OXS_ERR_BAD_HANDLE);

    tcp_pair(0, &c, &s);
    CHECK_ST("§13 send_batch on a STREAM socket is UNSUPPORTED", oxs_send_batch(c, d, 1, &n), OXS_ERR_UNSUPPORTED);
    CHECK_ST("§13 recv_batch on a STREAM socket is UNSUPPORTED", oxs_recv_batch(s, d, 1, &n), OXS_ERR_UNSUPPORTED);
    oxs_close(c);
    oxs_close(s);
    {
        oxs_socket q[2];
        REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, q));
        CHECK_ST("§13 recv_batch on a Unix STREAM socket is UNSUPPORTED", oxs_recv_batch(q[0], d, 1, &n),
                 OXS_ERR_UNSUPPORTED);
        oxs_close(q[0]);
        oxs_close(q[1]);
    }
    /* RAW: as root, ICMP echo to 127.0.0.1 comes back as a batch entry. */
    if (oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_RAW, 1, &u) == OXS_OK) {
        unsigned char echo[8] = {8, 0, 0xf7, 0xff, 0, 0, 0, 0}; /* type 8, checksum of the rest */
        unsigned char room[128];
        oxs_addr lo;
        oxs_addr_parse("127.0.0.1:0", &lo);
        set_entry(&d[0], echo, sizeof echo, &lo);
        CHECK_OK("§13 send_batch on a RAW socket", oxs_send_batch(u, d, 1, &n));
        set_entry(&d[0], room, sizeof room, NULL);
        oxs_setopt(u, OXS_OPT_READ_TIMEOUT_MS, 2000);
        CHECK_OK("§13 recv_batch on a RAW socket", oxs_recv_batch(u, d, 1, &n));
        CHECK("§13 a raw datagram (IP header and ICMP)", n == 1 && d[0].nbytes >= 28);
        oxs_close(u);
    } else {
        CHECK_SKIP("§13 batches on RAW sockets", "no permission for a raw socket");
    }
    oxs_close(p[0]);
    oxs_close(p[1]);
}

/* §1 EINTR through recv_batch: INTERRUPTED on an interruptible handle; retried on a
 * default one, which then returns the datagram that comes. */
static void eintr(void)
{
    static char room[64 * 16];
    oxs_socket p[2];
    bg_call bg;
    size_t n;
    int pass;
    install_usr1();
    for (pass = 0; pass < 2; pass++) {
        int interruptible = pass == 0;
        REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_DGRAM, p));
        oxs_setopt(p[1], OXS_OPT_INTERRUPTIBLE, interruptible);
        memset(&bg, 0, sizeof bg);
        bg.fn = bg_recv_batch;
        bg.s = p[1];
        bg.buf = room;
        bg_start(&bg);
        CHECK("§1 recv_batch blocks", wait_thread_blocked(bg.tid));
        pthread_kill(bg.th, SIGUSR1);
        if (interruptible) {
            if (CHECK("§1 a signal ends recv_batch on an INTERRUPTIBLE handle", bg_wait(&bg, 5000 * (int)slow_factor()))) {
                CHECK_ST("§1 recv_batch returns INTERRUPTED", bg.st, OXS_ERR_INTERRUPTED);
                CHECK_INT("§1 ... with nrecv 0", bg.n, 0);
            }
        } else {
            sleep_ms(100);
            CHECK("§1 a signal does not end recv_batch on a default handle", !__atomic_load_n(&bg.done, __ATOMIC_SEQ_CST));
            oxs_send(p[0], "after", 5, 0, &n);
            if (CHECK("§1 the retried recv_batch returns", bg_wait(&bg, 5000 * (int)slow_factor()))) {
                CHECK_OK("§1 the retried recv_batch gets the datagram", bg.st);
                CHECK("§1 ... one datagram", bg.n == 1 && memcmp(room, "after", 5) == 0);
            }
        }
        oxs_close(p[0]);
        oxs_close(p[1]);
    }
}

int main(int argc, char **argv)
{
    enter_scratch(argc, argv);
    layout();
    udp(0);
    udp(1);
    unix_pair(OXS_TYPE_DGRAM);
    unix_pair(OXS_TYPE_SEQPACKET);
    args();
    eintr();
    return CHECK_SUMMARY("msg_batch");
}

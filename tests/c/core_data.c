/*
 * core_data.c - contract §6 (and the §1 "no signals" rule): send/recv flags, send_to /
 * recv_from, MESSAGE_TOO_LONG with the full length and the PEEK size query,
 * write_all / read_exact counts, UNEXPECTED_EOF, shutdown, socketpair, no SIGPIPE,
 * CONNECTION_REFUSED on a connected UDP socket.
 * Usage: core_data [scratch-folder]
 */
#include <signal.h>

#include "core_util.h"

/* Sends 100 bytes twice, 100 ms apart. */
static void bg_pieces(bg_call *c)
{
    size_t n;
    sleep_ms(100);
    c->st = oxs_send(c->s, c->buf, 100, 0, &n);
    sleep_ms(100);
    if (c->st == OXS_OK)
        c->st = oxs_send(c->s, c->buf, 100, 0, &n);
}

static void flags_tcp(void)
{
    oxs_socket c, s;
    char buf[512];
    size_t n = 9;
    oxs_status st;
    int i;
    tcp_pair(0, &c, &s);

    n = 9;
    CHECK_ST("§6 DONTWAIT recv with nothing queued is WOULD_BLOCK",
             oxs_recv(s, buf, sizeof buf, OXS_MSG_DONTWAIT, &n), OXS_ERR_WOULD_BLOCK);
    CHECK_INT("§1 count 0 on WOULD_BLOCK", n, 0);
    {
        int64_t v = -1;
        oxs_getopt(s, OXS_OPT_NONBLOCKING, &v);
        CHECK_INT("§6 DONTWAIT does not make the handle non-blocking", v, 0);
    }
    CHECK_OK("§6 send", oxs_send(c, "peekaboo", 8, 0, &n));
    CHECK_INT("§6 send count", n, 8);
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000);
    CHECK_OK("§6 recv PEEK|WAITALL", oxs_recv(s, buf, 8, OXS_MSG_PEEK | OXS_MSG_WAITALL, &n));
    CHECK("§6 PEEK sees the data", n == 8 && memcmp(buf, "peekaboo", 8) == 0);
    memset(buf, 0, sizeof buf);
    CHECK_OK("§6 recv after PEEK", oxs_recv(s, buf, 4, 0, &n));
    CHECK("§6 PEEK left the data queued", n == 4 && memcmp(buf, "peek", 4) == 0);
    CHECK_OK("§6 recv DONTWAIT with data queued", oxs_recv(s, buf, 100, OXS_MSG_DONTWAIT, &n));
    CHECK("§6 DONTWAIT recv gets what is there", n == 4 && memcmp(buf, "aboo", 4) == 0);

    /* WAITALL: the sender sends in three pieces; one recv gets all 300 bytes. */
    {
        bg_call w;
        static char big[300];
        memset(big, 'w', sizeof big);
        CHECK_OK("§6 send part 1", oxs_send(c, big, 100, 0, &n));
        memset(&w, 0, sizeof w);
        w.fn = bg_pieces;
        w.s = c;
        w.buf = big;
        bg_start(&w);
        CHECK_OK("§6 recv WAITALL", oxs_recv(s, buf, 300, OXS_MSG_WAITALL, &n));
        CHECK_INT("§6 WAITALL waits for the whole buffer", n, 300);
        if (CHECK("§6 sender thread ends", bg_wait(&w, 5000 * (int)slow_factor())))
            CHECK_OK("§6 sends in pieces", w.st);
    }

    /* OOB on TCP. */
    CHECK_OK("§6 send OOB on TCP", oxs_send(c, "!", 1, OXS_MSG_OOB, &n));
    CHECK_INT("§6 OOB send count", n, 1);
    st = OXS_ERR_WOULD_BLOCK;
    for (i = 0; i < 200 && st != OXS_OK; i++) {
        st = oxs_recv(s, buf, 1, OXS_MSG_OOB, &n);
        if (st != OXS_OK)
            sleep_ms(10);
    }
    CHECK_ST("§6 recv OOB on TCP", st, OXS_OK);
    CHECK("§6 the urgent byte", n == 1 && buf[0] == '!');

    /* Unknown flag bits. */
    CHECK_ST("§1 an unknown flag is INVALID_ARGUMENT", oxs_send(c, "x", 1, 0x10000, &n),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§1 an unknown flag is INVALID_ARGUMENT",
             oxs_recv(s, buf, 1, OXS_MSG_PEEK | 0x80, &n), OXS_ERR_INVALID_ARGUMENT);
    oxs_close(c);
    oxs_close(s);
}

/* The sender w bound a wildcard address when it first sent: compare the port (IP) or
 * the whole text (Unix). */
static void check_sender(const oxs_addr *from, oxs_socket w, const char *rule)
{
    oxs_addr la;
    char t1[OXS_ADDR_STRLEN], t2[OXS_ADDR_STRLEN];
    if (!CHECK_OK(rule, oxs_local_addr(w, &la)))
        return;
    CHECK_INT(rule, oxs_addr_domain(from), oxs_addr_domain(&la));
    if (oxs_addr_domain(&la) == OXS_DOMAIN_UNIX)
        CHECK_STR(rule, fmt(from, t1), fmt(&la, t2));
    else
        CHECK_INT(rule, oxs_addr_port(from), oxs_addr_port(&la));
}

static void datagrams(int domain, const char *bind_text, int unbound_sender)
{
    oxs_socket r = 0, w = 0;
    char raddr[OXS_ADDR_STRLEN], t1[OXS_ADDR_STRLEN];
    char rule[128], buf[256];
    static char msg[100];
    oxs_addr to, from;
    size_t n = 0;
    int i;
    for (i = 0; i < 100; i++)
        msg[i] = (char)('a' + i % 26);
    snprintf(rule, sizeof rule, "§6 datagrams on %s", bind_text);
    REQUIRE_OK(rule, oxs_socket_open(domain, OXS_TYPE_DGRAM, 0, &r));
    REQUIRE_OK(rule, oxs_bind(r, bind_text));
    oxs_setopt(r, OXS_OPT_READ_TIMEOUT_MS, 3000);
    local_text(r, raddr);
    REQUIRE_OK(rule, oxs_socket_open(domain, OXS_TYPE_DGRAM, 0, &w));
    if (!unbound_sender && domain == OXS_DOMAIN_UNIX) {
        char wname[64];
        snprintf(wname, sizeof wname, "@oxs-data-w-%ld", (long)getpid());
        oxs_bind(w, wname);
    }
    REQUIRE_OK("§5 parse", oxs_addr_parse(raddr, &to));

    CHECK_OK("§6 send_to", oxs_send_to(w, msg, 100, &to, &n));
    CHECK_INT("§6 send_to count", n, 100);
    n = 0;
    CHECK_OK("§6 recv_from", oxs_recv_from(r, buf, sizeof buf, &n, &from));
    CHECK("§6 recv_from gets the datagram", n == 100 && memcmp(buf, msg, 100) == 0);
    if (unbound_sender)
        CHECK_STR("§5 an unbound datagram sender arrives as (unnamed)", fmt(&from, t1),
                  "(unnamed)");
    else
        check_sender(&from, w, "§6 recv_from's address is the sender's");
    CHECK_OK("§6 recv_from with from NULL (send first)", oxs_send_to(w, "z", 1, &to, &n));
    CHECK_OK("§6 recv_from with from NULL", oxs_recv_from(r, buf, sizeof buf, &n, NULL));

    /* Too long: recv, recv_from, read each consume and report the full length. */
    CHECK_OK("§6 send_to", oxs_send_to(w, msg, 100, &to, &n));
    n = 0;
    CHECK_ST("§6 PEEK with len 0 gives the size of the next datagram",
             oxs_recv(r, NULL, 0, OXS_MSG_PEEK, &n), OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 PEEK size query: the datagram's full length", n, 100);
    n = 0;
    memset(buf, 0, sizeof buf);
    CHECK_ST("§6 PEEK into a small buffer", oxs_recv(r, buf, 10, OXS_MSG_PEEK, &n),
             OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 PEEK: count is the full length", n, 100);
    CHECK("§6 PEEK: first len bytes stored", memcmp(buf, msg, 10) == 0);
    n = 0;
    memset(buf, 0, sizeof buf);
    CHECK_ST("§6 recv into a small buffer is MESSAGE_TOO_LONG", oxs_recv(r, buf, 10, 0, &n),
             OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 MESSAGE_TOO_LONG: count is the full length", n, 100);
    CHECK("§6 MESSAGE_TOO_LONG: first len bytes stored", memcmp(buf, msg, 10) == 0);
    CHECK_ST("§6 the long datagram was consumed",
             oxs_recv(r, buf, sizeof buf, OXS_MSG_DONTWAIT, &n), OXS_ERR_WOULD_BLOCK);

    CHECK_OK("§6 send_to", oxs_send_to(w, msg, 100, &to, &n));
    n = 0;
    memset(&from, 0, sizeof from);
    CHECK_ST("§6 recv_from into a small buffer is MESSAGE_TOO_LONG",
             oxs_recv_from(r, buf, 20, &n, &from), OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 recv_from MESSAGE_TOO_LONG: full length", n, 100);
    CHECK("§6 recv_from MESSAGE_TOO_LONG fills from", from.len > 0);
    if (unbound_sender)
        CHECK_STR("§6 recv_from MESSAGE_TOO_LONG: from", fmt(&from, t1), "(unnamed)");
    else
        check_sender(&from, w, "§6 recv_from MESSAGE_TOO_LONG: from is the sender's");

    CHECK_OK("§6 send_to", oxs_send_to(w, msg, 100, &to, &n));
    n = 0;
    CHECK_ST("§6 read into a small buffer is MESSAGE_TOO_LONG", oxs_read(r, buf, 30, &n),
             OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 read MESSAGE_TOO_LONG: full length", n, 100);
    CHECK_ST("§6 consumed", oxs_recv(r, buf, sizeof buf, OXS_MSG_DONTWAIT, &n),
             OXS_ERR_WOULD_BLOCK);

    /* An empty datagram: PEEK size 0, OK. */
    CHECK_OK("§6 send_to an empty datagram", oxs_send_to(w, NULL, 0, &to, &n));
    n = 9;
    CHECK_OK("§6 PEEK size of an empty datagram", oxs_recv(r, NULL, 0, OXS_MSG_PEEK, &n));
    CHECK_INT("§6 PEEK size of an empty datagram is 0", n, 0);
    CHECK_OK("§6 recv the empty datagram", oxs_recv(r, buf, sizeof buf, 0, &n));
    CHECK_INT("§6 empty datagram is 0 bytes", n, 0);

    /* An exact fit is not too long. */
    CHECK_OK("§6 send_to", oxs_send_to(w, msg, 100, &to, &n));
    CHECK_OK("§6 a datagram exactly the buffer's size", oxs_recv(r, buf, 100, 0, &n));
    CHECK_INT("§6 exact fit", n, 100);

    if (domain != OXS_DOMAIN_UNIX) {
        CHECK_ST("§1 OOB on UDP is UNSUPPORTED (send)", oxs_send(w, "x", 1, OXS_MSG_OOB, &n),
                 OXS_ERR_UNSUPPORTED);
        CHECK_ST("§1 OOB on UDP is UNSUPPORTED (recv)", oxs_recv(r, buf, 1, OXS_MSG_OOB, &n),
                 OXS_ERR_UNSUPPORTED);
    }
    {
        oxs_addr other;
        oxs_addr_parse(domain == OXS_DOMAIN_UNIX ? "[::1]:5" : "/tmp/nope.sock", &other);
        CHECK_ST("§5 send_to an address of another domain is OXS_ERR_ADDRESS",
                 oxs_send_to(w, "x", 1, &other, &n), OXS_ERR_ADDRESS);
    }
    oxs_close(w);
    oxs_close(r);
}

static void seqpacket_too_long(void)
{
    oxs_socket p[2];
    char buf[16];
    size_t n = 0;
    REQUIRE_OK("§6 socketpair SEQPACKET", oxs_socketpair(OXS_TYPE_SEQPACKET, p));
    CHECK_OK("§6 write a 50-byte record", oxs_write(p[0], "0123456789012345678901234567890123456789012345678", 50, &n));
    CHECK_ST("§6 PEEK size query on SEQPACKET", oxs_recv(p[1], NULL, 0, OXS_MSG_PEEK, &n),
             OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 SEQPACKET PEEK: full length", n, 50);
    CHECK_ST("§6 SEQPACKET record larger than the buffer", oxs_read(p[1], buf, 16, &n),
             OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 SEQPACKET MESSAGE_TOO_LONG: full length", n, 50);
    CHECK("§6 SEQPACKET: first bytes", memcmp(buf, "0123456789012345", 16) == 0);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

static void whole_buffer(void)
{
    oxs_socket p[2];
    static char big[1 << 21], got[1 << 21];
    bg_call r;
    size_t n = 0, i;
    char buf[64];
    for (i = 0; i < sizeof big; i++)
        big[i] = (char)(i ^ (i >> 8));

    /* write_all of 2 MiB, read_exact of 2 MiB in another thread. */
    REQUIRE_OK("§6 socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    memset(&r, 0, sizeof r);
    r.fn = bg_read_exact;
    r.s = p[1];
    r.buf = got;
    r.len = sizeof got;
    bg_start(&r);
    CHECK_OK("§6 write_all 2 MiB", oxs_write_all(p[0], big, sizeof big, &n));
    CHECK_INT("§6 write_all count", n, sizeof big);
    if (CHECK("§6 read_exact returns", bg_wait(&r, 20000 * (int)slow_factor()))) {
        CHECK_OK("§6 read_exact 2 MiB", r.st);
        CHECK_INT("§6 read_exact count", r.n, sizeof got);
        CHECK("§6 data intact", memcmp(big, got, sizeof big) == 0);
    }
    CHECK_OK("§6 write_all with nwritten NULL", oxs_write_all(p[0], "abc", 3, NULL));
    CHECK_OK("§6 read_exact with nread NULL", oxs_read_exact(p[1], buf, 3, NULL));

    /* Non-blocking: read_exact returns WOULD_BLOCK with the count so far. */
    CHECK_OK("§6 write 10", oxs_write_all(p[0], "0123456789", 10, &n));
    CHECK_OK("§7 NONBLOCKING", oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 1));
    n = 0;
    CHECK_ST("§6 non-blocking read_exact short of data", oxs_read_exact(p[1], buf, 20, &n),
             OXS_ERR_WOULD_BLOCK);
    CHECK_INT("§6 ... count is the bytes moved", n, 10);
    CHECK_OK("§7 NONBLOCKING off", oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 0));

    /* Timeout: read_exact TIMED_OUT with the count so far, os error 0. */
    CHECK_OK("§6 write 5", oxs_write_all(p[0], "abcde", 5, &n));
    CHECK_OK("§7 READ_TIMEOUT 200", oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 200));
    n = 0;
    CHECK_ST("§6 read_exact past the timeout", oxs_read_exact(p[1], buf, 8, &n),
             OXS_ERR_TIMED_OUT);
    CHECK_INT("§6 TIMED_OUT read_exact: count is the bytes moved", n, 5);
    CHECK_INT("§2 the handle's own timeout: last_os_error 0", oxs_last_os_error(), 0);
    CHECK_OK("§7 READ_TIMEOUT 0", oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 0));

    /* write_all past the timeout: the count is exactly what the peer can read. */
    {
        size_t moved = 0, drained = 0;
        oxs_status st;
        oxs_setopt(p[0], OXS_OPT_WRITE_TIMEOUT_MS, 300);
        oxs_setopt(p[0], OXS_OPT_SEND_BUFFER, 8192);
        st = oxs_write_all(p[0], big, sizeof big, &moved);
        CHECK_ST("§6 write_all to a peer that does not read times out", st, OXS_ERR_TIMED_OUT);
        CHECK("§6 TIMED_OUT write_all: count > 0 and < len", moved > 0 && moved < sizeof big);
        oxs_shutdown(p[0], OXS_SHUT_WRITE);
        oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 3000);
        for (i = 0; i < 100000; i++) {
            st = oxs_read(p[1], got, sizeof got, &n);
            if (st != OXS_OK || n == 0)
                break;
            drained += n;
        }
        CHECK_INT("§6 write_all's count is exactly the bytes that moved", drained, moved);
    }
    oxs_close(p[0]);
    oxs_close(p[1]);

    /* UNEXPECTED_EOF. */
    REQUIRE_OK("§6 socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    CHECK_OK("§6 write 40", oxs_write_all(p[0], big, 40, &n));
    oxs_close(p[0]);
    n = 0;
    CHECK_ST("§6 read_exact when the stream ends first", oxs_read_exact(p[1], got, 100, &n),
             OXS_ERR_UNEXPECTED_EOF);
    CHECK_INT("§6 UNEXPECTED_EOF: count is the bytes moved", n, 40);
    CHECK("§6 UNEXPECTED_EOF: bytes stored", memcmp(got, big, 40) == 0);
    oxs_close(p[1]);
}

static void shutdown_rules(void)
{
    oxs_socket c, s, u = 0;
    char buf[16];
    size_t n = 9;
    tcp_pair(0, &c, &s);
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 3000);
    oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 3000);
    CHECK_OK("§6 shutdown WRITE", oxs_shutdown(c, OXS_SHUT_WRITE));
    CHECK_OK("§6 the peer reads EOF after SHUT_WRITE", oxs_read(s, buf, sizeof buf, &n));
    CHECK_INT("§6 EOF", n, 0);
    CHECK_OK("§6 the other way still works", oxs_write(s, "back", 4, &n));
    CHECK_OK("§6 read after own SHUT_WRITE", oxs_read_exact(c, buf, 4, &n));
    CHECK_ST2("§6 write after SHUT_WRITE fails", oxs_write(c, "x", 1, &n), OXS_ERR_BROKEN_PIPE,
              OXS_ERR_CONNECTION_RESET);
    CHECK_OK("§6 shutdown READ", oxs_shutdown(s, OXS_SHUT_READ));
    n = 9;
    CHECK_OK("§6 read after SHUT_READ returns at once", oxs_read(s, buf, sizeof buf, &n));
    CHECK_INT("§6 read after SHUT_READ gives 0", n, 0);
    CHECK_OK("§6 shutdown BOTH", oxs_shutdown(s, OXS_SHUT_BOTH));
    CHECK_OK("§6 the peer reads EOF after SHUT_BOTH", oxs_read(c, buf, sizeof buf, &n));
    CHECK_INT("§6 EOF after SHUT_BOTH", n, 0);
    CHECK_INT("§6 OXS_SHUT_READ is SHUT_RD", OXS_SHUT_READ, (int)SHUT_RD);
    CHECK_INT("§6 OXS_SHUT_WRITE is SHUT_WR", OXS_SHUT_WRITE, (int)SHUT_WR);
    CHECK_INT("§6 OXS_SHUT_BOTH is SHUT_RDWR", OXS_SHUT_BOTH, (int)SHUT_RDWR);
    oxs_close(c);
    oxs_close(s);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &u));
    CHECK_ST("§6 shutdown of an unconnected TCP socket is NOT_CONNECTED",
             oxs_shutdown(u, OXS_SHUT_BOTH), OXS_ERR_NOT_CONNECTED);
    oxs_close(u);
    CHECK_INT("§6 OXS_MSG_OOB is MSG_OOB", OXS_MSG_OOB, (int)MSG_OOB);
    CHECK_INT("§6 OXS_MSG_PEEK is MSG_PEEK", OXS_MSG_PEEK, (int)MSG_PEEK);
    CHECK_INT("§6 OXS_MSG_DONTWAIT is MSG_DONTWAIT", OXS_MSG_DONTWAIT, (int)MSG_DONTWAIT);
    CHECK_INT("§6 OXS_MSG_WAITALL is MSG_WAITALL", OXS_MSG_WAITALL, (int)MSG_WAITALL);
}

static void socketpairs(void)
{
    int types[] = {OXS_TYPE_STREAM, OXS_TYPE_DGRAM, OXS_TYPE_SEQPACKET};
    int i;
    for (i = 0; i < 3; i++) {
        oxs_socket p[2] = {0, 0};
        int64_t v = 0;
        char buf[8];
        size_t n = 0;
        if (!CHECK_OK("§6 socketpair of each type", oxs_socketpair(types[i], p)))
            continue;
        CHECK("§6 two distinct live handles", p[0] != 0 && p[1] != 0 && p[0] != p[1]);
        CHECK_OK("§6 getopt DOMAIN", oxs_getopt(p[0], OXS_OPT_DOMAIN, &v));
        CHECK_INT("§6 socketpair is Unix domain", v, OXS_DOMAIN_UNIX);
        CHECK_OK("§6 getopt TYPE", oxs_getopt(p[1], OXS_OPT_TYPE, &v));
        CHECK_INT("§6 socketpair has the type asked", v, types[i]);
        CHECK_OK("§6 socketpair: 0 -> 1", oxs_write(p[0], "ab", 2, &n));
        CHECK_OK("§6 socketpair: 1 reads", oxs_read(p[1], buf, sizeof buf, &n));
        CHECK_INT("§6 socketpair data", n, 2);
        CHECK_OK("§6 socketpair: 1 -> 0", oxs_write(p[1], "c", 1, &n));
        CHECK_OK("§6 socketpair: 0 reads", oxs_read(p[0], buf, sizeof buf, &n));
        oxs_close(p[0]);
        oxs_close(p[1]);
    }
    {
        oxs_socket p[2] = {3, 4};
        CHECK_ST("§6 socketpair RAW is UNSUPPORTED", oxs_socketpair(OXS_TYPE_RAW, p),
                 OXS_ERR_UNSUPPORTED);
        CHECK("§1 both handles OXS_INVALID", p[0] == 0 && p[1] == 0);
        CHECK_ST("§1 socketpair type 5", oxs_socketpair(5, p), OXS_ERR_INVALID_ARGUMENT);
    }
}

static void no_sigpipe(void)
{
    oxs_socket p[2], c, s;
    size_t n;
    oxs_status st = OXS_OK;
    int i;
    static char chunk[4096];
    signal(SIGPIPE, SIG_DFL);

    REQUIRE_OK("§6 socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    oxs_close(p[1]);
    CHECK_ST("§1 write after the Unix peer closed: BROKEN_PIPE, no SIGPIPE",
             oxs_write(p[0], "x", 1, &n), OXS_ERR_BROKEN_PIPE);
    CHECK_INT("§2 errno EPIPE kept", oxs_last_os_error(), EPIPE);
    CHECK_ST("§1 send after the peer closed", oxs_send(p[0], "x", 1, 0, &n), OXS_ERR_BROKEN_PIPE);
    CHECK_ST("§1 write_all after the peer closed", oxs_write_all(p[0], "xyz", 3, &n),
             OXS_ERR_BROKEN_PIPE);
    CHECK_INT("§6 write_all count 0", n, 0);
    oxs_close(p[0]);

    REQUIRE_OK("§6 socketpair SEQPACKET", oxs_socketpair(OXS_TYPE_SEQPACKET, p));
    oxs_close(p[1]);
    CHECK_ST("§1 SEQPACKET write after the peer closed", oxs_write(p[0], "x", 1, &n),
             OXS_ERR_BROKEN_PIPE);
    oxs_close(p[0]);

    tcp_pair(0, &c, &s);
    oxs_close(s);
    for (i = 0; i < 200; i++) {
        st = oxs_write(c, chunk, sizeof chunk, &n);
        if (st != OXS_OK)
            break;
        sleep_ms(5);
    }
    CHECK_ST2("§1 TCP write after the peer closed: BROKEN_PIPE or CONNECTION_RESET, no SIGPIPE",
              st, OXS_ERR_BROKEN_PIPE, OXS_ERR_CONNECTION_RESET);
    st = oxs_write(c, chunk, sizeof chunk, &n);
    CHECK_ST2("§1 and again, still no SIGPIPE", st, OXS_ERR_BROKEN_PIPE,
              OXS_ERR_CONNECTION_RESET);
    oxs_close(c);
    CHECK("§1 the process is still alive (SIGPIPE disposition default)", 1);
    {
        struct sigaction sa;
        sigaction(SIGPIPE, NULL, &sa);
        CHECK("§1 the library installs no signal handlers (SIGPIPE still SIG_DFL)",
              sa.sa_handler == SIG_DFL);
    }
}

static void udp_refused(void)
{
    oxs_socket u = 0, hole = 0;
    char dst[64], buf[16];
    size_t n;
    oxs_status st = OXS_OK;
    int i;
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &hole));
    REQUIRE_OK("§4 bind", oxs_bind(hole, "127.0.0.1:0"));
    snprintf(dst, sizeof dst, "127.0.0.1:%d", local_port(hole));
    oxs_close(hole);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &u));
    CHECK_OK("§6 a datagram connect never fails for an unreachable peer", oxs_connect(u, dst));
    oxs_setopt(u, OXS_OPT_READ_TIMEOUT_MS, 500);
    for (i = 0; i < 10; i++) {
        st = oxs_write(u, "ping", 4, &n);
        if (st != OXS_OK)
            break;
        st = oxs_read(u, buf, sizeof buf, &n);
        if (st != OXS_ERR_TIMED_OUT)
            break;
    }
    CHECK_ST("§6 a later call on a connected UDP socket fails with CONNECTION_REFUSED", st,
             OXS_ERR_CONNECTION_REFUSED);
    CHECK_INT("§2 errno ECONNREFUSED", oxs_last_os_error(), ECONNREFUSED);
    oxs_close(u);
}

int main(int argc, char **argv)
{
    char name[64];
    enter_scratch(argc, argv);
    flags_tcp();
    datagrams(OXS_DOMAIN_INET, "127.0.0.1:0", 0);
    datagrams(OXS_DOMAIN_INET6, "[::1]:0", 0);
    unlink("dg-recv.sock");
    datagrams(OXS_DOMAIN_UNIX, "dg-recv.sock", 1);
    snprintf(name, sizeof name, "@oxs-data-r-%ld", (long)getpid());
    datagrams(OXS_DOMAIN_UNIX, name, 0);
    seqpacket_too_long();
    whole_buffer();
    shutdown_rules();
    socketpairs();
    no_sigpipe();
    udp_refused();
    return CHECK_SUMMARY("core_data");
}

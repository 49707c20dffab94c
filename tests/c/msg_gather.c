/*
 * msg_gather.c - contract §13 "Gathered I/O": oxs_writev (every byte of every buffer,
 * in order, one deadline for the whole call, the count on every return, resumable)
 * and oxs_readv (one read scattered over the buffers; datagrams never silently cut),
 * with their argument rules, timeouts, non-blocking mode and close while blocked.
 * Usage: msg_gather [scratch-folder]
 */
#include <signal.h>

#include "msg_util.h"

#define BIG (8u << 20)

static void args(void)
{
    oxs_socket p[2];
    oxs_iovec iov[2];
    static oxs_iovec many[1025];
    char b[4];
    size_t n = 9, i;
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));

    iov[0].base = b;
    iov[0].len = 1;
    CHECK_ST("§13 writev n 0 is INVALID_ARGUMENT", oxs_writev(p[0], iov, 0, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 writev count 0 on failure", n, 0);
    n = 9;
    CHECK_ST("§13 writev iov NULL", oxs_writev(p[0], NULL, 1, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 writev count 0 on failure", n, 0);
    for (i = 0; i < 1025; i++) {
        many[i].base = b;
        many[i].len = 1;
    }
    CHECK_ST("§13 writev n 1025 is INVALID_ARGUMENT", oxs_writev(p[0], many, 1025, &n), OXS_ERR_INVALID_ARGUMENT);
    n = 9;
    CHECK_ST("§13 readv n 1025 is INVALID_ARGUMENT", oxs_readv(p[1], many, 1025, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 readv count 0 on failure", n, 0);
    CHECK_ST("§13 readv n 0", oxs_readv(p[1], many, 0, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§13 readv nread NULL", oxs_readv(p[1], many, 1, NULL), OXS_ERR_INVALID_ARGUMENT);

    iov[0].base = NULL;
    iov[0].len = 3;
    CHECK_ST("§13 a NULL base with len > 0 (writev)", oxs_writev(p[0], iov, 1, NULL), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§13 a NULL base with len > 0 (readv)", oxs_readv(p[1], iov, 1, &n), OXS_ERR_INVALID_ARGUMENT);
    iov[0].base = b;
    iov[0].len = ((size_t)PTRDIFF_MAX / 2) + 1;
    iov[1].base = b;
    iov[1].len = ((size_t)PTRDIFF_MAX / 2) + 1;
    CHECK_ST("§13 a total above PTRDIFF_MAX (writev)", oxs_writev(p[0], iov, 2, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§13 a total above PTRDIFF_MAX (readv)", oxs_readv(p[1], iov, 2, &n), OXS_ERR_INVALID_ARGUMENT);
    iov[0].len = SIZE_MAX;
    CHECK_ST("§1 a length above PTRDIFF_MAX", oxs_writev(p[0], iov, 1, &n), OXS_ERR_INVALID_ARGUMENT);

    /* len 0 entries may be NULL; nwritten may be NULL. */
    iov[0].base = NULL;
    iov[0].len = 0;
    iov[1].base = "ab";
    iov[1].len = 2;
    CHECK_OK("§13 writev: a len 0 entry may have base NULL; nwritten may be NULL", oxs_writev(p[0], iov, 2, NULL));
    iov[1].base = b;
    iov[1].len = 4;
    CHECK_OK("§13 readv: a len 0 entry may have base NULL", oxs_readv(p[1], iov, 2, &n));
    CHECK("§13 readv got the bytes", n == 2 && memcmp(b, "ab", 2) == 0);
    iov[1].len = 0;
    n = 9;
    CHECK_OK("§13 readv with a total of 0 reads nothing", oxs_readv(p[1], iov, 2, &n));
    CHECK_INT("§13 readv total 0 count", n, 0);

    /* 1024 one-byte buffers: the most one call takes. */
    {
        static char src[1024], dst[1024];
        size_t got = 0;
        for (i = 0; i < 1024; i++) {
            src[i] = (char)(i & 0x7f);
            many[i].base = src + i;
            many[i].len = 1;
        }
        CHECK_OK("§13 writev n 1024", oxs_writev(p[0], many, 1024, &n));
        CHECK_INT("§13 writev n 1024 count", n, 1024);
        for (i = 0; i < 1024; i++) {
            many[i].base = dst + 1023 - i; /* reversed: proves the order of the scatter */
            many[i].len = 1;
        }
        oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 5000);
        while (got < 1024) {
            CHECK_OK("§13 readv n 1024", oxs_readv(p[1], many, 1024, &n));
            if (n == 0)
                break;
            /* a partial read: scatter the rest over the remaining buffers */
            memmove(many, many + n, (1024 - got - n) * sizeof many[0]);
            got += n;
            if (got < 1024 && !CHECK("§13 readv progress", n > 0))
                break;
            if (got < 1024) {
                size_t left = 1024 - got;
                CHECK_OK("§13 readv the rest", oxs_readv(p[1], many, left, &n));
                got += n;
            }
        }
        for (i = 0; i < 1024; i++)
            if (dst[1023 - i] != src[i])
                break;
        CHECK("§13 readv scatters in buffer order, writev gathers in order", i == 1024);
    }

    CHECK_ST("§3 writev on a closed handle", oxs_writev(9999, iov, 1, &n), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 readv on a closed handle", oxs_readv(9999, iov, 1, &n), OXS_ERR_BAD_HANDLE);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

/* Header and body without a copy, over TCP and Unix streams; big buffers that take
 * many system calls arrive whole and in order. */
static void whole(oxs_socket c, oxs_socket s, const char *what)
{
    static unsigned char big[BIG];
    oxs_iovec iov[4];
    char rule[160];
    char hdr[8], body[32];
    oxs_iovec riov[2];
    size_t n = 0;
    drain d;

    iov[0].base = "HDR:";
    iov[0].len = 4;
    iov[1].base = "hello, world";
    iov[1].len = 12;
    snprintf(rule, sizeof rule, "§13 writev header + body (%s)", what);
    CHECK_OK(rule, oxs_writev(c, iov, 2, &n));
    CHECK_INT(rule, n, 16);
    riov[0].base = hdr;
    riov[0].len = 4;
    riov[1].base = body;
    riov[1].len = sizeof body;
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 5000);
    snprintf(rule, sizeof rule, "§13 readv header + body (%s)", what);
    CHECK_OK(rule, oxs_readv(s, riov, 2, &n));
    CHECK(rule, n >= 4 && memcmp(hdr, "HDR:", 4) == 0);
    if (n < 16) {
        size_t m = 0;
        oxs_read_exact(s, body + (n - 4), 16 - n, &m);
    }
    CHECK(rule, memcmp(body, "hello, world", 12) == 0);
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 0);

    fill_pat(big, BIG, 0);
    iov[0].base = big;
    iov[0].len = 1;
    iov[1].base = big + 1;
    iov[1].len = BIG / 2 - 1;
    iov[2].base = NULL;
    iov[2].len = 0;
    iov[3].base = big + BIG / 2;
    iov[3].len = BIG / 2;
    drain_start(&d, s, BIG, 0, 0);
    snprintf(rule, sizeof rule, "§13 writev of %u bytes in four buffers (%s)", BIG, what);
    CHECK_OK(rule, oxs_writev(c, iov, 4, &n));
    CHECK_INT(rule, n, BIG);
    drain_join(&d);
    snprintf(rule, sizeof rule, "§13 every byte of every buffer arrives, in order (%s)", what);
    CHECK(rule, d.got == BIG && d.bad_at == (size_t)-1);
}

/* The deadline is for the whole call, the count is exact on every return, and a
 * caller resumes from it. */
static void deadline_and_resume(void)
{
    static unsigned char big[BIG];
    oxs_socket p[2];
    oxs_iovec iov[2];
    size_t n = 0, total = 0;
    int64_t t0, el;
    oxs_status st;
    drain d;
    int rounds;
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    fill_pat(big, BIG, 0);
    iov[0].base = big;
    iov[0].len = BIG / 2;
    iov[1].base = big + BIG / 2;
    iov[1].len = BIG / 2;

    oxs_setopt(p[0], OXS_OPT_WRITE_TIMEOUT_MS, 300);
    t0 = check_now_ms();
    st = oxs_writev(p[0], iov, 2, &n);
    el = check_now_ms() - t0;
    CHECK_ST("§13 writev with a write timeout and a peer that does not read", st, OXS_ERR_TIMED_OUT);
    CHECK_INT("§2 TIMED_OUT by the handle's timeout has os error 0", oxs_last_os_error(), 0);
    CHECK("§13 writev's count on TIMED_OUT is the bytes moved (some, not all)", n > 0 && n < BIG);
    CHECK("§13 the deadline is for the whole call (returned after ~300 ms, not per system call)",
          el >= 250 && el < 3000 * slow_factor());
    total = n;

    /* Non-blocking: WOULD_BLOCK with the count so far; resume until done while a
     * reader drains; the reader sees one unbroken pattern. */
    oxs_setopt(p[0], OXS_OPT_WRITE_TIMEOUT_MS, 0);
    oxs_setopt(p[0], OXS_OPT_NONBLOCKING, 1);
    st = oxs_writev(p[0], iov, 2, &n);
    CHECK_ST("§13 non-blocking writev on a full socket is WOULD_BLOCK", st, OXS_ERR_WOULD_BLOCK);
    CHECK_INT("§13 ... with the count so far (0 here)", n, 0);
    drain_start(&d, p[1], BIG, 0, 50);
    for (rounds = 0; total < BIG && rounds < 100000; rounds++) {
        oxs_iovec rest[2];
        int k = 0;
        if (total < BIG / 2) {
            rest[k].base = big + total;
            rest[k++].len = BIG / 2 - total;
            rest[k].base = big + BIG / 2;
            rest[k++].len = BIG / 2;
        } else {
            rest[k].base = big + total;
            rest[k++].len = BIG - total;
        }
        st = oxs_writev(p[0], rest, (size_t)k, &n);
        total += n;
        if (st == OXS_ERR_WOULD_BLOCK) {
            wait_writable(p[0], 5000);
            continue;
        }
        CHECK_OK("§13 resumed non-blocking writev", st);
        break;
    }
    drain_join(&d);
    CHECK("§13 resuming from the count loses and repeats nothing", total == BIG && d.got == BIG &&
                                                                        d.bad_at == (size_t)-1);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

static void bg_writev(bg_call *c)
{
    oxs_iovec iov[1];
    iov[0].base = c->buf;
    iov[0].len = c->len;
    c->st = oxs_writev(c->s, iov, 1, &c->n);
}

static void bg_readv(bg_call *c)
{
    oxs_iovec iov[2];
    iov[0].base = c->buf;
    iov[0].len = 1;
    iov[1].base = (char *)c->buf + 1;
    iov[1].len = c->len - 1;
    c->st = oxs_readv(c->s, iov, 2, &c->n);
}

static void blocking_rules(void)
{
    static unsigned char big[BIG];
    oxs_socket p[2];
    oxs_iovec iov[2];
    char b[16];
    size_t n = 7;
    bg_call bg;
    signal(SIGPIPE, SIG_DFL);

    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    iov[0].base = b;
    iov[0].len = 8;
    iov[1].base = b + 8;
    iov[1].len = 8;
    oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 100);
    CHECK_ST("§13 readv with a read timeout and nothing to read", oxs_readv(p[1], iov, 2, &n), OXS_ERR_TIMED_OUT);
    CHECK_INT("§1 readv count 0 on failure", n, 0);
    oxs_setopt(p[1], OXS_OPT_READ_TIMEOUT_MS, 0);
    oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 1);
    CHECK_ST("§13 non-blocking readv", oxs_readv(p[1], iov, 2, &n), OXS_ERR_WOULD_BLOCK);
    oxs_setopt(p[1], OXS_OPT_NONBLOCKING, 0);

    /* close while blocked, in readv and in writev */
    memset(&bg, 0, sizeof bg);
    bg.fn = bg_readv;
    bg.s = p[1];
    bg.buf = b;
    bg.len = sizeof b;
    bg_start(&bg);
    CHECK("§3 readv blocks", wait_thread_blocked(bg.tid));
    CHECK_OK("§3 close while readv is blocked", oxs_close(p[1]));
    if (CHECK("§3 the blocked readv returns", bg_wait(&bg, 5000 * (int)slow_factor())))
        CHECK_ST("§3 the blocked readv returns CLOSED", bg.st, OXS_ERR_CLOSED);

    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    memset(&bg, 0, sizeof bg);
    bg.fn = bg_writev;
    bg.s = p[0];
    bg.buf = big;
    bg.len = BIG;
    bg_start(&bg);
    CHECK("§3 writev blocks on a full socket", wait_thread_blocked(bg.tid));
    CHECK_OK("§3 close while writev is blocked", oxs_close(p[0]));
    if (CHECK("§3 the blocked writev returns", bg_wait(&bg, 5000 * (int)slow_factor()))) {
        CHECK_ST("§3 the blocked writev returns CLOSED", bg.st, OXS_ERR_CLOSED);
        CHECK("§13 with the count of bytes moved", bg.n > 0 && bg.n < BIG);
    }
    /* the peer has gone: no SIGPIPE, BROKEN_PIPE */
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p + 0));
    oxs_close(p[1]);
    iov[0].base = "x";
    iov[0].len = 1;
    CHECK_ST2("§1 writev to a closed peer: no SIGPIPE, BROKEN_PIPE", oxs_writev(p[0], iov, 1, &n),
              OXS_ERR_BROKEN_PIPE, OXS_ERR_CONNECTION_RESET);
    oxs_close(p[0]);
}

/* Datagrams: one writev is one datagram; readv scatters one, never silently cut. */
static void datagrams(int32_t type)
{
    oxs_socket p[2];
    oxs_iovec iov[3];
    char a[3], b[3], c[64];
    size_t n = 0;
    REQUIRE_OK("setup: socketpair", oxs_socketpair(type, p));
    iov[0].base = "abc";
    iov[0].len = 3;
    iov[1].base = "defgh";
    iov[1].len = 5;
    CHECK_OK("§13 writev on a datagram socket", oxs_writev(p[0], iov, 2, &n));
    CHECK_INT("§13 writev datagram count", n, 8);
    iov[0].base = a;
    iov[0].len = 3;
    iov[1].base = b;
    iov[1].len = 3;
    iov[2].base = c;
    iov[2].len = sizeof c;
    CHECK_OK("§13 readv of a datagram that fits", oxs_readv(p[1], iov, 3, &n));
    CHECK("§13 one datagram, scattered", n == 8 && memcmp(a, "abc", 3) == 0 && memcmp(b, "def", 3) == 0 &&
                                                  memcmp(c, "gh", 2) == 0);

    iov[0].base = "0123456789";
    iov[0].len = 10;
    oxs_writev(p[0], iov, 1, &n);
    oxs_send(p[0], "next", 4, 0, &n);
    iov[0].base = a;
    iov[0].len = 3;
    iov[1].base = b;
    iov[1].len = 3;
    CHECK_ST("§13 readv of a datagram larger than every buffer together", oxs_readv(p[1], iov, 2, &n),
             OXS_ERR_MESSAGE_TOO_LONG);
    CHECK_INT("§6 the count is the datagram's full length", n, 10);
    CHECK("§6 its first bytes are stored, scattered", memcmp(a, "012", 3) == 0 && memcmp(b, "345", 3) == 0);
    CHECK_OK("§6 the cut datagram was consumed", oxs_readv(p[1], iov, 2, &n));
    CHECK("§6 the next datagram follows", n == 4 && memcmp(a, "nex", 3) == 0);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

static void udp(void)
{
    oxs_socket a = 0, b = 0;
    char addr[OXS_ADDR_STRLEN];
    oxs_iovec iov[2];
    char buf[32];
    size_t n = 0;
    REQUIRE_OK("setup: udp", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &a));
    REQUIRE_OK("setup: udp", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &b));
    REQUIRE_OK("setup: bind", oxs_bind(b, "127.0.0.1:0"));
    REQUIRE_OK("setup: connect", oxs_connect(a, local_text(b, addr)));
    iov[0].base = "udp-";
    iov[0].len = 4;
    iov[1].base = "gathered";
    iov[1].len = 8;
    CHECK_OK("§13 writev on connected UDP", oxs_writev(a, iov, 2, &n));
    oxs_setopt(b, OXS_OPT_READ_TIMEOUT_MS, 5000);
    CHECK_OK("§13 the UDP datagram arrives whole", oxs_recv(b, buf, sizeof buf, 0, &n));
    CHECK("§13 one datagram of both buffers", n == 12 && memcmp(buf, "udp-gathered", 12) == 0);
    oxs_close(a);
    oxs_close(b);
}

/* §1 EINTR through writev: an interruptible handle returns INTERRUPTED with the exact
 * count; a default handle retries and completes. */
static void eintr(void)
{
    static unsigned char big[BIG];
    oxs_socket p[2];
    bg_call bg;
    drain d;
    int pass;
    install_usr1();
    fill_pat(big, BIG, 0);
    for (pass = 0; pass < 2; pass++) {
        int interruptible = pass == 0;
        REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
        oxs_setopt(p[0], OXS_OPT_INTERRUPTIBLE, interruptible);
        memset(&bg, 0, sizeof bg);
        bg.fn = bg_writev;
        bg.s = p[0];
        bg.buf = big;
        bg.len = BIG;
        bg_start(&bg);
        CHECK("§1 writev blocks on a full socket", wait_thread_blocked(bg.tid));
        pthread_kill(bg.th, SIGUSR1);
        if (interruptible) {
            if (CHECK("§1 a signal ends writev on an INTERRUPTIBLE handle", bg_wait(&bg, 5000 * (int)slow_factor()))) {
                CHECK_ST("§1 writev returns INTERRUPTED", bg.st, OXS_ERR_INTERRUPTED);
                CHECK("§13 ... with the count so far", bg.n > 0 && bg.n < BIG);
                drain_start(&d, p[1], bg.n, 0, 0);
                drain_join(&d);
                CHECK("§13 ... exactly the bytes that went", d.got == bg.n && d.bad_at == (size_t)-1);
            }
        } else {
            sleep_ms(100);
            CHECK("§1 a signal does not end writev on a default handle", !__atomic_load_n(&bg.done, __ATOMIC_SEQ_CST));
            drain_start(&d, p[1], BIG, 0, 0);
            if (CHECK("§1 the retried writev completes", bg_wait(&bg, 10000 * (int)slow_factor()))) {
                CHECK_OK("§1 the retried writev completes", bg.st);
                CHECK_INT("§1 ... with every byte", bg.n, BIG);
            }
            drain_join(&d);
            CHECK("§1 ... each once, in order", d.got == BIG && d.bad_at == (size_t)-1);
        }
        oxs_close(p[0]);
        oxs_close(p[1]);
    }
}

int main(int argc, char **argv)
{
    oxs_socket c, s, p[2];
    enter_scratch(argc, argv);
    args();
    tcp_pair(0, &c, &s);
    whole(c, s, "TCP");
    oxs_close(c);
    oxs_close(s);
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, p));
    whole(p[0], p[1], "Unix stream");
    oxs_close(p[0]);
    oxs_close(p[1]);
    deadline_and_resume();
    blocking_rules();
    datagrams(OXS_TYPE_DGRAM);
    datagrams(OXS_TYPE_SEQPACKET);
    udp();
    eintr();
    return CHECK_SUMMARY("msg_gather");
}

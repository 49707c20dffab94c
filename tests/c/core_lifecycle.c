/*
 * core_lifecycle.c - contract §4: oxs_socket_open for every domain x type, bind,
 * listen, accept, connect, read, write, close; address text per domain; EOF and
 * datagram semantics; accepted sockets' inherited options; non-blocking connect.
 * Usage: core_lifecycle [scratch-folder]
 */
#include <stddef.h>
#include <sys/un.h>

#include "core_util.h"

static const char *dname(int d)
{
    return d == OXS_DOMAIN_UNIX ? "UNIX" : d == OXS_DOMAIN_INET ? "INET" : "INET6";
}
static const char *tname(int t)
{
    return t == OXS_TYPE_STREAM ? "STREAM"
           : t == OXS_TYPE_DGRAM ? "DGRAM"
           : t == OXS_TYPE_RAW   ? "RAW"
                                 : "SEQPACKET";
}

static void open_matrix(void)
{
    int d, t;
    char rule[128];
    for (d = OXS_DOMAIN_UNIX; d <= OXS_DOMAIN_INET6; d++) {
        for (t = OXS_TYPE_STREAM; t <= OXS_TYPE_SEQPACKET; t++) {
            oxs_socket s = 77;
            int64_t v = -5;
            oxs_status st;
            int proto = 0;
            if (t == OXS_TYPE_RAW && d == OXS_DOMAIN_INET)
                proto = 1; /* ICMP */
            if (t == OXS_TYPE_RAW && d == OXS_DOMAIN_INET6)
                proto = 58; /* ICMPv6 */
            st = oxs_socket_open(d, t, proto, &s);
            snprintf(rule, sizeof rule, "§4 socket_open %s+%s", dname(d), tname(t));
            if ((d == OXS_DOMAIN_UNIX && t == OXS_TYPE_RAW) ||
                (d != OXS_DOMAIN_UNIX && t == OXS_TYPE_SEQPACKET)) {
                strcat(rule, " is UNSUPPORTED");
                CHECK_ST(rule, st, OXS_ERR_UNSUPPORTED);
                CHECK_INT("§1 handle is OXS_INVALID on failure", s, OXS_INVALID);
                continue;
            }
            if (t == OXS_TYPE_RAW && geteuid() != 0) {
                strcat(rule, " without root is PERMISSION_DENIED");
                CHECK_ST(rule, st, OXS_ERR_PERMISSION_DENIED);
                continue;
            }
            if (!CHECK_OK(rule, st))
                continue;
            CHECK("§3 a live handle is not 0", s != OXS_INVALID);
            CHECK_OK("§7 getopt DOMAIN", oxs_getopt(s, OXS_OPT_DOMAIN, &v));
            CHECK_INT("§7 DOMAIN is the domain opened", v, d);
            CHECK_OK("§7 getopt TYPE", oxs_getopt(s, OXS_OPT_TYPE, &v));
            CHECK_INT("§7 TYPE is the type opened", v, t);
            CHECK_OK("§4 close", oxs_close(s));
        }
    }
    {
        oxs_socket s = 5;
        CHECK_ST("§4 INET RAW with protocol 0 is UNSUPPORTED (EPROTONOSUPPORT)",
                 oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_RAW, 0, &s), OXS_ERR_UNSUPPORTED);
        CHECK_ST("§4 INET STREAM with protocol UDP (17) is UNSUPPORTED",
                 oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 17, &s), OXS_ERR_UNSUPPORTED);
        CHECK_OK("§4 INET STREAM with protocol TCP (6)",
                 oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 6, &s));
        oxs_close(s);
        CHECK_OK("§4 INET6 DGRAM with protocol UDP (17)",
                 oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_DGRAM, 17, &s));
        oxs_close(s);
    }
}

/* listen/connect/accept/write/read/EOF for one stream-like kind. */
static void stream_lifecycle(int d, int t, const char *bind_text)
{
    oxs_socket l = 0, c = 0, a = 0, a2 = 0;
    oxs_addr peer, loc;
    char addr[OXS_ADDR_STRLEN], ptxt[OXS_ADDR_STRLEN], ltxt[OXS_ADDR_STRLEN], rule[160];
    char buf[64];
    size_t n = 9;
    int64_t v;

    snprintf(rule, sizeof rule, "§4 %s+%s lifecycle (%s)", dname(d), tname(t), bind_text);
    if (!CHECK_OK(rule, oxs_socket_open(d, t, 0, &l)))
        return;
    CHECK_OK(rule, oxs_bind(l, bind_text));
    CHECK_OK("§4 listen with backlog <= 0 (system maximum)", oxs_listen(l, 0));
    local_text(l, addr);
    CHECK_OK(rule, oxs_socket_open(d, t, 0, &c));
    CHECK_OK("§4 connect", oxs_connect(c, addr));
    memset(&peer, 0xee, sizeof peer);
    CHECK_OK("§4 accept with a peer address", oxs_accept(l, &a, &peer));
    CHECK("§4 accept gives a live handle", a != OXS_INVALID);
    CHECK_OK("§5 local_addr of the client", oxs_local_addr(c, &loc));
    fmt(&peer, ptxt);
    fmt(&loc, ltxt);
    CHECK_STR("§4 accept's peer is the client's local address", ptxt, ltxt);
    CHECK_INT("§5 reserved is 0", peer.reserved, 0);
    CHECK_OK("§4 getopt TYPE of accepted", oxs_getopt(a, OXS_OPT_TYPE, &v));
    CHECK_INT("§4 accepted socket has the listener's type", v, t);

    CHECK_OK("§4 write", oxs_write(c, "hello", 5, &n));
    CHECK_INT("§4 write count", n, 5);
    CHECK_OK("§4 read len 0 returns 0 without reading", oxs_read(a, buf, 0, &n));
    CHECK_INT("§4 read len 0 returns 0", n, 0);
    n = 0;
    CHECK_OK("§4 read", oxs_read_exact(a, buf, 5, &n));
    CHECK("§4 read gets the bytes written", n == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK_OK("§4 write back", oxs_write(a, "ok", 2, &n));
    CHECK_OK("§4 read back", oxs_read_exact(c, buf, 2, &n));

    /* A second connection accepted with peer NULL. */
    {
        oxs_socket c2 = 0;
        CHECK_OK(rule, oxs_socket_open(d, t, 0, &c2));
        CHECK_OK("§4 connect a second client", oxs_connect(c2, addr));
        CHECK_OK("§4 accept with peer NULL", oxs_accept(l, &a2, NULL));
        oxs_close(c2);
        oxs_close(a2);
    }

    CHECK_OK("§4 close the client", oxs_close(c));
    n = 99;
    oxs_setopt(a, OXS_OPT_READ_TIMEOUT_MS, 3000);
    CHECK_OK("§4 read at the end of the stream returns OXS_OK", oxs_read(a, buf, sizeof buf, &n));
    CHECK_INT("§4 read at the end of the stream gives 0", n, 0);
    if (t == OXS_TYPE_SEQPACKET) {
        oxs_pollitem it = {a, OXS_POLL_IN, 0};
        CHECK_OK("§4 SEQPACKET: poll tells the end", oxs_poll(&it, 1, 2000, &n));
        CHECK("§4 SEQPACKET: the end shows OXS_POLL_HUP", (it.revents & OXS_POLL_HUP) != 0);
    }
    CHECK_OK("§4 close accepted", oxs_close(a));
    CHECK_OK("§4 close listener", oxs_close(l));
}

static void seqpacket_records(void)
{
    oxs_socket p[2];
    char buf[64];
    size_t n = 9;
    oxs_pollitem it;
    REQUIRE_OK("§6 socketpair SEQPACKET", oxs_socketpair(OXS_TYPE_SEQPACKET, p));
    CHECK_OK("§4 write record 1", oxs_write(p[0], "abc", 3, &n));
    CHECK_OK("§4 write an empty record", oxs_write(p[0], NULL, 0, &n));
    CHECK_OK("§4 write record 3", oxs_write(p[0], "defg", 4, &n));
    CHECK_OK("§4 SEQPACKET read keeps record boundaries", oxs_read(p[1], buf, sizeof buf, &n));
    CHECK_INT("§4 first record", n, 3);
    n = 9;
    CHECK_OK("§4 SEQPACKET empty record", oxs_read(p[1], buf, sizeof buf, &n));
    CHECK_INT("§4 SEQPACKET empty record reads as 0", n, 0);
    it.socket = p[1];
    it.events = OXS_POLL_IN;
    it.revents = 0;
    CHECK_OK("§4 poll after an empty record", oxs_poll(&it, 1, 0, &n));
    CHECK("§4 no HUP after an empty record", (it.revents & OXS_POLL_HUP) == 0);
    CHECK_OK("§4 third record", oxs_read(p[1], buf, sizeof buf, &n));
    CHECK_INT("§4 third record length", n, 4);
    oxs_close(p[0]);
    oxs_close(p[1]);
}

static void dgram_lifecycle(int d, const char *bind_text)
{
    oxs_socket r = 0, w = 0;
    char addr[OXS_ADDR_STRLEN], rule[128], buf[64];
    size_t n = 9;
    snprintf(rule, sizeof rule, "§4 %s DGRAM lifecycle (%s)", dname(d), bind_text);
    if (!CHECK_OK(rule, oxs_socket_open(d, OXS_TYPE_DGRAM, 0, &r)))
        return;
    CHECK_OK(rule, oxs_bind(r, bind_text));
    local_text(r, addr);
    CHECK_OK(rule, oxs_socket_open(d, OXS_TYPE_DGRAM, 0, &w));
    CHECK_OK("§4 connect a datagram socket", oxs_connect(w, addr));
    CHECK_OK("§4 write datagram 1", oxs_write(w, "one", 3, &n));
    CHECK_OK("§4 write an empty datagram", oxs_write(w, "", 0, &n));
    CHECK_OK("§4 write datagram 3", oxs_write(w, "three", 5, &n));
    oxs_setopt(r, OXS_OPT_READ_TIMEOUT_MS, 3000);
    CHECK_OK("§4 read datagram 1", oxs_read(r, buf, sizeof buf, &n));
    CHECK("§4 one read is one datagram", n == 3 && memcmp(buf, "one", 3) == 0);
    n = 9;
    CHECK_OK("§4 read the empty datagram", oxs_read(r, buf, sizeof buf, &n));
    CHECK_INT("§4 an empty datagram reads as OXS_OK with 0", n, 0);
    CHECK_OK("§4 read datagram 3", oxs_read(r, buf, sizeof buf, &n));
    CHECK("§4 datagram 3 intact", n == 5 && memcmp(buf, "three", 5) == 0);
    CHECK_OK("§4 close", oxs_close(w));
    CHECK_OK("§4 close", oxs_close(r));
}

static uint16_t csum(const void *data, size_t len)
{
    const uint8_t *p = data;
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

static void raw_icmp(void)
{
    oxs_socket s = 0;
    uint8_t pkt[16], buf[256];
    uint16_t c;
    size_t n = 0;
    int i, seen_reply = 0;
    if (geteuid() != 0) {
        CHECK_SKIP("§4 RAW ICMP round trip", "not root");
        return;
    }
    if (!CHECK_OK("§4 open INET RAW ICMP", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_RAW, 1, &s)))
        return;
    CHECK_OK("§4 connect a raw socket", oxs_connect(s, "127.0.0.1:0"));
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 8; /* echo request */
    pkt[4] = 0x12;
    pkt[5] = 0x34;
    pkt[7] = 1;
    memcpy(pkt + 8, "oxsping!", 8);
    c = csum(pkt, sizeof pkt);
    pkt[2] = (uint8_t)(c >> 8);
    pkt[3] = (uint8_t)c;
    CHECK_OK("§4 write an ICMP echo on a raw socket", oxs_write(s, pkt, sizeof pkt, &n));
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 2000);
    for (i = 0; i < 4 && !seen_reply; i++) {
        if (!CHECK_OK("§4 read on a raw socket", oxs_read(s, buf, sizeof buf, &n)))
            break;
        if (n >= 28 && buf[20] == 0 && memcmp(buf + 28, "oxsping!", 8) == 0)
            seen_reply = 1;
    }
    CHECK("§4 raw ICMP: the echo reply (with IP header) is read", seen_reply);
    oxs_close(s);
}

static void inherited_options(void)
{
    oxs_socket l, c = 0, a = 0;
    char addr[OXS_ADDR_STRLEN];
    oxs_pollitem it;
    size_t n;
    int64_t v;
    int i;
    l = tcp_listener(0, addr);
    CHECK_OK("§7 set READ_TIMEOUT on listener", oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 1234));
    CHECK_OK("§7 set WRITE_TIMEOUT", oxs_setopt(l, OXS_OPT_WRITE_TIMEOUT_MS, 2345));
    CHECK_OK("§7 set CONNECT_TIMEOUT", oxs_setopt(l, OXS_OPT_CONNECT_TIMEOUT_MS, 3456));
    CHECK_OK("§7 set INTERRUPTIBLE", oxs_setopt(l, OXS_OPT_INTERRUPTIBLE, 1));
    CHECK_OK("§7 set NODELAY", oxs_setopt(l, OXS_OPT_NODELAY, 1));
    CHECK_OK("§7 set KEEPALIVE", oxs_setopt(l, OXS_OPT_KEEPALIVE, 1));
    CHECK_OK("§7 set NONBLOCKING", oxs_setopt(l, OXS_OPT_NONBLOCKING, 1));
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    CHECK_OK("§4 connect", oxs_connect(c, addr));
    it.socket = l;
    it.events = OXS_POLL_IN;
    oxs_poll(&it, 1, 3000, &n);
    CHECK_OK("§4 accept on the non-blocking listener", oxs_accept(l, &a, NULL));
    {
        struct {
            int opt;
            int64_t want;
            const char *rule;
        } w[] = {
            {OXS_OPT_READ_TIMEOUT_MS, 1234, "§4 accepted socket inherits READ_TIMEOUT_MS"},
            {OXS_OPT_WRITE_TIMEOUT_MS, 2345, "§4 accepted socket inherits WRITE_TIMEOUT_MS"},
            {OXS_OPT_CONNECT_TIMEOUT_MS, 3456, "§4 accepted socket inherits CONNECT_TIMEOUT_MS"},
            {OXS_OPT_INTERRUPTIBLE, 1, "§4 accepted socket inherits INTERRUPTIBLE"},
            {OXS_OPT_NODELAY, 1, "§4 accepted socket inherits NODELAY"},
            {OXS_OPT_KEEPALIVE, 1, "§4 accepted socket inherits KEEPALIVE"},
            {OXS_OPT_NONBLOCKING, 0, "§4 accepted socket starts with NONBLOCKING 0"},
        };
        for (i = 0; i < (int)(sizeof w / sizeof w[0]); i++) {
            v = -77;
            CHECK_OK(w[i].rule, oxs_getopt(a, w[i].opt, &v));
            CHECK_INT(w[i].rule, v, w[i].want);
        }
    }
    {
        /* NONBLOCKING 0 in deed: a read with nothing to read waits for the inherited
         * timeout (TIMED_OUT), it does not return WOULD_BLOCK at once. */
        char b1[4];
        int64_t t0 = check_now_ms();
        CHECK_ST("§4 the accepted socket blocks (inherited timeout, not WOULD_BLOCK)",
                 oxs_read(a, b1, sizeof b1, &n), OXS_ERR_TIMED_OUT);
        CHECK("§4 ... after about the inherited READ_TIMEOUT (>= 1 s)", check_now_ms() - t0 >= 1000);
    }
    oxs_close(a);
    oxs_close(c);
    oxs_close(l);
}

static void nonblocking_connect(void)
{
    oxs_socket l, c = 0;
    char addr[OXS_ADDR_STRLEN], bad[64];
    oxs_pollitem it;
    oxs_status st;
    size_t n;
    int64_t v = 99;
    int i;

    l = tcp_listener(0, addr);
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    CHECK_OK("§7 NONBLOCKING 1", oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    st = oxs_connect(c, addr);
    CHECK_ST2("§4 a non-blocking connect returns WOULD_BLOCK (or OK at once)", st,
              OXS_ERR_WOULD_BLOCK, OXS_OK);
    if (st == OXS_ERR_WOULD_BLOCK) {
        st = oxs_connect(c, addr);
        CHECK_ST2("§4 a connect repeated during the attempt: WOULD_BLOCK, or OK once connected",
                  st, OXS_ERR_WOULD_BLOCK, OXS_OK);
    }
    it.socket = c;
    it.events = OXS_POLL_OUT;
    it.revents = 0;
    CHECK_OK("§4 wait for OXS_POLL_OUT", oxs_poll(&it, 1, 3000, &n));
    CHECK("§4 POLL_OUT after the connect", (it.revents & OXS_POLL_OUT) != 0);
    CHECK_OK("§4 OXS_OPT_ERROR gives the result", oxs_getopt(c, OXS_OPT_ERROR, &v));
    CHECK_INT("§4 OXS_OPT_ERROR is OXS_OK for a connect that worked", v, OXS_OK);
    for (i = 0, st = OXS_ERR_WOULD_BLOCK; i < 100 && st == OXS_ERR_WOULD_BLOCK; i++)
        st = oxs_connect(c, addr);
    CHECK_ST("§4 a repeated connect returns OXS_OK once connected", st, OXS_OK);
    oxs_close(c);
    oxs_close(l);

    /* Refused: the result comes through OXS_OPT_ERROR, which reading clears. */
    snprintf(bad, sizeof bad, "127.0.0.1:%d", refused_port());
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    CHECK_OK("§7 NONBLOCKING 1", oxs_setopt(c, OXS_OPT_NONBLOCKING, 1));
    st = oxs_connect(c, bad);
    CHECK_ST2("§4 non-blocking connect to a refused port", st, OXS_ERR_WOULD_BLOCK,
              OXS_ERR_CONNECTION_REFUSED);
    if (st == OXS_ERR_WOULD_BLOCK) {
        it.socket = c;
        it.events = OXS_POLL_OUT;
        it.revents = 0;
        CHECK_OK("§4 wait for the refused connect", oxs_poll(&it, 1, 3000, &n));
        CHECK_OK("§4 OXS_OPT_ERROR", oxs_getopt(c, OXS_OPT_ERROR, &v));
        CHECK_INT("§4 OXS_OPT_ERROR is CONNECTION_REFUSED", v, OXS_ERR_CONNECTION_REFUSED);
        CHECK_OK("§7 OXS_OPT_ERROR again", oxs_getopt(c, OXS_OPT_ERROR, &v));
        CHECK_INT("§7 reading OXS_OPT_ERROR clears it", v, OXS_OK);
    }
    CHECK_OK("§4 after a failed connect the socket can be closed", oxs_close(c));

    /* Blocking connect refused. */
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    CHECK_ST("§4 blocking connect to a refused port", oxs_connect(c, bad),
             OXS_ERR_CONNECTION_REFUSED);
    CHECK_INT("§2 the errno is ECONNREFUSED", oxs_last_os_error(), ECONNREFUSED);
    CHECK("§1 the message names oxs_connect and the address",
          contains(oxs_last_error(), "oxs_connect") && contains(oxs_last_error(), bad));
    CHECK_OK("§4 close after a failed connect", oxs_close(c));
}

static void address_text(void)
{
    oxs_socket s = 0, l = 0, c = 0, a = 0;
    char txt[OXS_ADDR_STRLEN], want[OXS_ADDR_STRLEN], path[256];
    int port;
    oxs_status st;
    size_t i;

    /* INET */
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &l));
    CHECK_OK("§4 INET bind with a host name (localhost:0)", oxs_bind(l, "localhost:0"));
    port = local_port(l);
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    CHECK_STR("§4 localhost binds its first IPv4 address", local_text(l, txt), want);
    CHECK_OK("§4 listen", oxs_listen(l, 4));
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &c));
    snprintf(want, sizeof want, "localhost:%d", port);
    CHECK_OK("§4 INET connect with a host name", oxs_connect(c, want));
    CHECK_OK("§4 accept", oxs_accept(l, &a, NULL));
    oxs_close(a);
    oxs_close(c);
    {
        const char *bad[] = {"[::1]:80", "1.2.3:80", "1.2.3.4.5:80", "1.2.3.4", "1.2.3.4:",
                             "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:8x", "/tmp/x.sock",
                             "@abstract", "", ":80", "[127.0.0.1]:80"};
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            st = oxs_bind(s, bad[i]);
            /* "1.2.3:80" and "1.2.3.4.5:80" are not four octets; if taken as host names
             * they must not resolve (RESOLVE), never bind some other address. */
            if (!CHECK_ST2("§4 INET: text that does not fit the domain is OXS_ERR_ADDRESS", st,
                           OXS_ERR_ADDRESS, OXS_ERR_RESOLVE))
                printf("  text was \"%s\"\n", bad[i]);
        }
        CHECK_OK("§4 INET bind after refused texts", oxs_bind(s, "127.0.0.1:0"));
        oxs_close(s);
        /* inet_aton's short forms are not four octets either: 127.1 must not become
         * 127.0.0.1 by way of the resolver. */
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
        st = oxs_connect(s, "127.1:9");
        CHECK_ST2("§4 INET: \"127.1:9\" (not four octets) is OXS_ERR_ADDRESS", st, OXS_ERR_ADDRESS,
                  OXS_ERR_RESOLVE);
        oxs_close(s);
    }
    oxs_close(l);

    /* INET6 */
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, 0, &l));
    CHECK_OK("§4 INET6 bind [::1]:0", oxs_bind(l, "[::1]:0"));
    snprintf(want, sizeof want, "[::1]:%d", local_port(l));
    CHECK_STR("§5 [::1] formats back", local_text(l, txt), want);
    oxs_close(l);
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_DGRAM, 0, &s));
    st = oxs_connect(s, "[fe80::1%lo]:9");
    CHECK("§4 INET6 accepts a scope by interface name ([fe80::1%lo]) as address text",
          st != OXS_ERR_ADDRESS);
    st = oxs_connect(s, "[fe80::1%1]:9");
    CHECK("§4 INET6 accepts a scope by number ([fe80::1%1]) as address text",
          st != OXS_ERR_ADDRESS);
    oxs_close(s);
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_DGRAM, 0, &s));
    CHECK_ST("§4 INET6: an unknown scope name is OXS_ERR_ADDRESS",
             oxs_connect(s, "[fe80::1%nosuchif9]:9"), OXS_ERR_ADDRESS);
    CHECK_ST("§4 INET6: /path is OXS_ERR_ADDRESS", oxs_bind(s, "/tmp/x.sock"), OXS_ERR_ADDRESS);
    CHECK_ST("§4 INET6: [::1] without port is OXS_ERR_ADDRESS", oxs_bind(s, "[::1]"),
             OXS_ERR_ADDRESS);
    CHECK_ST("§4 INET6: ::1:80 without brackets is OXS_ERR_ADDRESS", oxs_bind(s, "::1:80"),
             OXS_ERR_ADDRESS);
    oxs_close(s);

    /* v4 on a v6 socket with V6ONLY 0: used in its v4-mapped form. */
    l = tcp_listener(0, txt);
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, 0, &c));
    CHECK_OK("§7 V6ONLY 0", oxs_setopt(c, OXS_OPT_V6ONLY, 0));
    CHECK_OK("§4 INET address given to an INET6 socket with V6ONLY 0", oxs_connect(c, txt));
    {
        oxs_addr pa;
        char p[OXS_ADDR_STRLEN];
        snprintf(want, sizeof want, "[::ffff:127.0.0.1]:%d", local_port(l));
        CHECK_OK("§5 peer_addr", oxs_peer_addr(c, &pa));
        CHECK_STR("§4 the INET address is used in its v4-mapped form", fmt(&pa, p), want);
        CHECK_INT("§5 a v4-mapped address stays INET6", oxs_addr_domain(&pa), OXS_DOMAIN_INET6);
    }
    CHECK_OK("§4 accept the v4-mapped client", oxs_accept(l, &a, NULL));
    oxs_close(a);
    oxs_close(c);
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, 0, &c));
    CHECK_OK("§7 V6ONLY 1", oxs_setopt(c, OXS_OPT_V6ONLY, 1));
    st = oxs_connect(c, txt);
    CHECK("§4 INET address on an INET6 socket with V6ONLY 1 does not connect", st != OXS_OK);
    oxs_close(c);
    oxs_close(l);

    /* UNIX: relative, absolute, 107/108 bytes, abstract. */
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &l));
    mkdir("sub", 0700);
    unlink("sub/app.sock");
    CHECK_OK("§4 UNIX bind a relative path rel/app.sock", oxs_bind(l, "sub/app.sock"));
    CHECK_STR("§5 a relative path with a / formats as itself", local_text(l, txt), "sub/app.sock");
    CHECK_OK("§4 listen", oxs_listen(l, 1));
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &c));
    CHECK_OK("§4 UNIX connect a relative path", oxs_connect(c, "sub/app.sock"));
    CHECK_STR("§5 an unbound Unix client formats as (unnamed)", local_text(c, txt), "(unnamed)");
    CHECK_OK("§4 accept", oxs_accept(l, &a, NULL));
    oxs_close(a);
    oxs_close(c);
    oxs_close(l);
    CHECK("§8 plain bind: the file stays after close", access("sub/app.sock", F_OK) == 0);
    unlink("sub/app.sock");

    if (getcwd(path, sizeof path) != NULL && strlen(path) < 80) {
        char abs[OXS_ADDR_STRLEN];
        snprintf(abs, sizeof abs, "%s/abs.sock", path);
        unlink(abs);
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &s));
        CHECK_OK("§4 UNIX bind an absolute path", oxs_bind(s, abs));
        CHECK_STR("§5 an absolute path formats as itself", local_text(s, txt), abs);
        oxs_close(s);
        unlink(abs);
    }
    {
        char p107[200], p108[200];
        memset(p107, 'a', 107);
        p107[107] = '\0';
        memset(p108, 'b', 108);
        p108[108] = '\0';
        unlink(p107);
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &s));
        CHECK_ST("§4 a Unix path of 108 bytes is OXS_ERR_ADDRESS", oxs_bind(s, p108),
                 OXS_ERR_ADDRESS);
        CHECK_OK("§4 a Unix path of 107 bytes binds", oxs_bind(s, p107));
        snprintf(want, sizeof want, "./%s", p107);
        CHECK_STR("§5 a path without / formats with ./", local_text(s, txt), want);
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &c));
        CHECK_OK("§4 connect to a 107-byte path", oxs_connect(c, p107));
        CHECK_ST("§4 connect to a 108-byte path is OXS_ERR_ADDRESS", oxs_connect(c, p108),
                 OXS_ERR_ADDRESS);
        oxs_close(c);
        oxs_close(s);
        unlink(p107);
    }
    {
        char name[64];
        struct sockaddr_un sun;
        socklen_t sl = sizeof sun;
        int fd;
        snprintf(name, sizeof name, "@oxs-core-%ld", (long)getpid());
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &l));
        CHECK_OK("§4 UNIX bind @abstract", oxs_bind(l, name));
        CHECK_STR("§5 an abstract name formats as @name", local_text(l, txt), name);
        fd = fd_of(l);
        memset(&sun, 0, sizeof sun);
        CHECK("§4 getsockname", getsockname(fd, (struct sockaddr *)&sun, &sl) == 0);
        CHECK_INT("§4 the abstract name is exactly the bytes after @, never padded", sl,
                  offsetof(struct sockaddr_un, sun_path) + strlen(name));
        CHECK("§4 abstract name bytes",
              sun.sun_path[0] == '\0' && memcmp(sun.sun_path + 1, name + 1, strlen(name) - 1) == 0);
        CHECK_OK("§4 listen", oxs_listen(l, 1));
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &c));
        CHECK_OK("§4 connect to @abstract", oxs_connect(c, name));
        CHECK_OK("§4 accept", oxs_accept(l, &a, NULL));
        oxs_close(a);
        oxs_close(c);
        oxs_close(l);
    }
    CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &c));
    CHECK_ST("§4 UNIX: an empty path is OXS_ERR_ADDRESS", oxs_connect(c, ""), OXS_ERR_ADDRESS);
    unlink("nothing-here.sock");
    CHECK_ST("§2 Unix connect to a path with no socket is CONNECTION_REFUSED",
             oxs_connect(c, "nothing-here.sock"), OXS_ERR_CONNECTION_REFUSED);
    CHECK_INT("§2 ... and the errno (ENOENT) is kept", oxs_last_os_error(), ENOENT);
    oxs_close(c);
    {
        oxs_socket d = 0;
        unlink("dgram.sock");
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &d));
        CHECK_OK("§4 bind", oxs_bind(d, "dgram.sock"));
        CHECK_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &c));
        CHECK_ST("§2 Unix connect to a socket of another type is CONNECTION_REFUSED",
                 oxs_connect(c, "dgram.sock"), OXS_ERR_CONNECTION_REFUSED);
        CHECK_INT("§2 ... and the errno (EPROTOTYPE) is kept", oxs_last_os_error(), EPROTOTYPE);
        oxs_close(c);
        oxs_close(d);
        unlink("dgram.sock");
    }
}

int main(int argc, char **argv)
{
    char path[64];
    enter_scratch(argc, argv);
    open_matrix();
    stream_lifecycle(OXS_DOMAIN_INET, OXS_TYPE_STREAM, "127.0.0.1:0");
    stream_lifecycle(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, "[::1]:0");
    unlink("life-stream.sock");
    stream_lifecycle(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, "life-stream.sock");
    unlink("life-seq.sock");
    stream_lifecycle(OXS_DOMAIN_UNIX, OXS_TYPE_SEQPACKET, "life-seq.sock");
    snprintf(path, sizeof path, "@oxs-life-%ld", (long)getpid());
    stream_lifecycle(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, path);
    seqpacket_records();
    dgram_lifecycle(OXS_DOMAIN_INET, "127.0.0.1:0");
    dgram_lifecycle(OXS_DOMAIN_INET6, "[::1]:0");
    unlink("life-dgram.sock");
    dgram_lifecycle(OXS_DOMAIN_UNIX, "life-dgram.sock");
    raw_icmp();
    inherited_options();
    nonblocking_connect();
    address_text();
    return CHECK_SUMMARY("core_lifecycle");
}

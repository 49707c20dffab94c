/*
 * core_addr.c - contract §5: oxs_addr_parse / oxs_addr_format round trips for every
 * shape (\xHH escapes, (unnamed), ./rel), BUFFER_TOO_SMALL with the needed length,
 * "" on failure, oxs_addr_domain / oxs_addr_port, oxs_addr_from_sockaddr (unaligned),
 * oxs_resolve (cap 0, small cap, order), a caller's oxs_addr with a bad len, and
 * bind_addr / connect_addr / local_addr / peer_addr.
 * Usage: core_addr [scratch-folder]; OXS_TEST_DUAL_HOST names a host that resolves
 * to both 127.0.0.1 and ::1 (set by the test runner in a private mount namespace).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <strings.h>
#include <sys/un.h>

#include "core_util.h"

static int addr_eq(const oxs_addr *a, const oxs_addr *b)
{
    return a->len == b->len && memcmp(a->storage, b->storage, a->len) == 0;
}

/* parse(text) -> format gives `want` (case-insensitively for \xHH digits), and
 * parse(format) gives the same address back. */
static void round_trip(const char *text, const char *want, int domain, int port)
{
    oxs_addr a, b;
    char out[OXS_ADDR_STRLEN], rule[600];
    size_t n = 0;
    snprintf(rule, sizeof rule, "§5 parse \"%s\"", text);
    if (!CHECK_OK(rule, oxs_addr_parse(text, &a)))
        return;
    CHECK_INT("§5 reserved is 0", a.reserved, 0);
    CHECK("§5 len is at most 128", a.len > 0 && a.len <= 128);
    snprintf(rule, sizeof rule, "§5 format(parse(\"%s\"))", text);
    if (!CHECK_OK(rule, oxs_addr_format(&a, out, sizeof out, &n)))
        return;
    snprintf(rule, sizeof rule, "§5 format(parse(\"%s\")) is \"%s\"", text, want);
    if (!CHECK(rule, strcasecmp(out, want) == 0))
        printf("  got \"%s\"\n", out);
    CHECK_INT("§5 *len is strlen of the text", n, strlen(out));
    snprintf(rule, sizeof rule, "§5 parse(format(a)) == a for \"%s\"", text);
    if (CHECK_OK(rule, oxs_addr_parse(out, &b)))
        CHECK(rule, addr_eq(&a, &b));
    snprintf(rule, sizeof rule, "§5 oxs_addr_domain of \"%s\"", text);
    CHECK_INT(rule, oxs_addr_domain(&a), domain);
    snprintf(rule, sizeof rule, "§5 oxs_addr_port of \"%s\"", text);
    CHECK_INT(rule, oxs_addr_port(&a), port);
}

static void parse_format(void)
{
    char want[64];
    char p107[120], p108[120];
    size_t i;
    oxs_addr a;
    round_trip("127.0.0.1:80", "127.0.0.1:80", OXS_DOMAIN_INET, 80);
    round_trip("0.0.0.0:0", "0.0.0.0:0", OXS_DOMAIN_INET, 0);
    round_trip("255.255.255.255:65535", "255.255.255.255:65535", OXS_DOMAIN_INET, 65535);
    round_trip("[::1]:80", "[::1]:80", OXS_DOMAIN_INET6, 80);
    round_trip("[::]:0", "[::]:0", OXS_DOMAIN_INET6, 0);
    round_trip("[2001:db8::1]:443", "[2001:db8::1]:443", OXS_DOMAIN_INET6, 443);
    round_trip("[::ffff:127.0.0.1]:80", "[::ffff:127.0.0.1]:80", OXS_DOMAIN_INET6, 80);
    round_trip("[fe80::1%lo]:80", "[fe80::1%lo]:80", OXS_DOMAIN_INET6, 80);
    snprintf(want, sizeof want, "[fe80::1%%lo]:80");
    round_trip("[fe80::1%1]:80", want, OXS_DOMAIN_INET6, 80); /* lo is index 1 */
    if (if_indextoname(4000, want) == NULL)
        round_trip("[fe80::1%4000]:80", "[fe80::1%4000]:80", OXS_DOMAIN_INET6, 80);
    round_trip("/run/app.sock", "/run/app.sock", OXS_DOMAIN_UNIX, -1);
    round_trip("./app.sock", "./app.sock", OXS_DOMAIN_UNIX, -1);
    round_trip("rel/app.sock", "rel/app.sock", OXS_DOMAIN_UNIX, -1);
    round_trip("./@notabstract", "./@notabstract", OXS_DOMAIN_UNIX, -1);
    round_trip("@name", "@name", OXS_DOMAIN_UNIX, -1);
    round_trip("@a\\x00b", "@a\\x00b", OXS_DOMAIN_UNIX, -1);
    round_trip("@back\\x5cslash", "@back\\x5cslash", OXS_DOMAIN_UNIX, -1);
    round_trip("/tmp/\\xff.sock", "/tmp/\\xff.sock", OXS_DOMAIN_UNIX, -1);
    round_trip("/tmp/caf\xc3\xa9.sock", "/tmp/caf\xc3\xa9.sock", OXS_DOMAIN_UNIX, -1);

    /* What an escape parses to. */
    if (CHECK_OK("§5 parse @a\\x00b", oxs_addr_parse("@a\\x00b", &a))) {
        const struct sockaddr_un *u = (const struct sockaddr_un *)(const void *)a.storage;
        CHECK_INT("§5 @a\\x00b is a 3-byte abstract name", a.len,
                  offsetof(struct sockaddr_un, sun_path) + 4);
        CHECK("§5 \\x00 is a NUL byte",
              u->sun_path[0] == 0 && u->sun_path[1] == 'a' && u->sun_path[2] == 0 &&
                  u->sun_path[3] == 'b');
        CHECK_INT("§5 family AF_UNIX", u->sun_family, AF_UNIX);
    }

    /* Parse by shape only. */
    {
        const char *bad[] = {"localhost:80", "app.sock", "1.2.3.4", "[::1]", "[::1]:65536",
                             "1.2.3.4:-1", "", "(unnamed)", "1.2.3:80", "[::1:80",
                             "example.com:443", "127.0.0.1:80x", "[fe80::1%nosuchif9]:1"};
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            a.len = 77;
            if (!CHECK_ST("§5 parse: anything but the four shapes is OXS_ERR_ADDRESS",
                          oxs_addr_parse(bad[i], &a), OXS_ERR_ADDRESS))
                printf("  text was \"%s\"\n", bad[i]);
            CHECK_INT("§1 oxs_addr len 0 on failure", a.len, 0);
        }
    }
    memset(p107, 0, sizeof p107);
    p107[0] = '/';
    memset(p107 + 1, 'p', 106);
    memset(p108, 0, sizeof p108);
    p108[0] = '/';
    memset(p108 + 1, 'q', 107);
    CHECK_OK("§5 parse a 107-byte path", oxs_addr_parse(p107, &a));
    CHECK_ST("§5 parse a 108-byte path is OXS_ERR_ADDRESS", oxs_addr_parse(p108, &a),
             OXS_ERR_ADDRESS);
}

static void format_buffers(void)
{
    oxs_addr a;
    char buf[64];
    size_t n = 0;
    REQUIRE_OK("§5 parse", oxs_addr_parse("127.0.0.1:80", &a));
    strcpy(buf, "xxxxxxxxxxxxxxxxxxxxx");
    CHECK_ST("§5 format into a buffer of strlen bytes is BUFFER_TOO_SMALL",
             oxs_addr_format(&a, buf, 12, &n), OXS_ERR_BUFFER_TOO_SMALL);
    CHECK_INT("§5 BUFFER_TOO_SMALL reports the length needed (without NUL)", n, 12);
    CHECK_STR("§1 format writes \"\" on failure when cap > 0", buf, "");
    n = 0;
    CHECK_OK("§5 format with cap = len + 1", oxs_addr_format(&a, buf, 13, &n));
    CHECK_STR("§5 formatted text", buf, "127.0.0.1:80");
    CHECK_INT("§5 *len on success", n, 12);
    n = 0;
    CHECK_ST("§5 cap 0 with buf NULL asks for the length",
             oxs_addr_format(&a, NULL, 0, &n), OXS_ERR_BUFFER_TOO_SMALL);
    CHECK_INT("§5 cap 0: the needed length", n, 12);
    strcpy(buf, "zz");
    CHECK_ST("§5 cap 1", oxs_addr_format(&a, buf, 1, &n), OXS_ERR_BUFFER_TOO_SMALL);
    CHECK_INT("§1 cap 1: \"\" written", buf[0], 0);
    CHECK_ST("§1 format with len NULL is INVALID_ARGUMENT", oxs_addr_format(&a, buf, 64, NULL),
             OXS_ERR_INVALID_ARGUMENT);

    /* Invalid addresses: "" on failure, domain 0, port -1. */
    memset(&a, 0, sizeof a);
    strcpy(buf, "junk");
    CHECK_ST("§5 format of an oxs_addr with len 0 is OXS_ERR_ADDRESS",
             oxs_addr_format(&a, buf, sizeof buf, &n), OXS_ERR_ADDRESS);
    CHECK_STR("§1 \"\" on failure", buf, "");
    CHECK_INT("§5 addr_domain of an invalid address is 0", oxs_addr_domain(&a), 0);
    CHECK_INT("§5 addr_port of an invalid address is -1", oxs_addr_port(&a), -1);

    /* A caller's oxs_addr whose len exceeds 128 or does not match its family. */
    {
        oxs_socket s = 0;
        oxs_addr bad;
        REQUIRE_OK("§5 parse", oxs_addr_parse("127.0.0.1:80", &bad));
        bad.len = 200;
        strcpy(buf, "junk");
        CHECK_ST("§5 len > 128 is OXS_ERR_ADDRESS (format)",
                 oxs_addr_format(&bad, buf, sizeof buf, &n), OXS_ERR_ADDRESS);
        CHECK_STR("§1 \"\" on failure", buf, "");
        CHECK_INT("§5 len > 128: domain 0", oxs_addr_domain(&bad), 0);
        CHECK_INT("§5 len > 128: port -1", oxs_addr_port(&bad), -1);
        REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
        CHECK_ST("§5 len > 128 is OXS_ERR_ADDRESS (bind_addr)", oxs_bind_addr(s, &bad),
                 OXS_ERR_ADDRESS);
        CHECK_ST("§5 len > 128 is OXS_ERR_ADDRESS (connect_addr)", oxs_connect_addr(s, &bad),
                 OXS_ERR_ADDRESS);
        CHECK_ST("§5 len > 128 is OXS_ERR_ADDRESS (send_to)",
                 oxs_send_to(s, "x", 1, &bad, &n), OXS_ERR_ADDRESS);
        bad.len = 129;
        CHECK_ST("§5 len 129 is OXS_ERR_ADDRESS", oxs_connect_addr(s, &bad), OXS_ERR_ADDRESS);
        bad.len = 8; /* AF_INET needs 16 */
        CHECK_ST("§5 a len that does not match the family (format)",
                 oxs_addr_format(&bad, buf, sizeof buf, &n), OXS_ERR_ADDRESS);
        CHECK_ST("§5 a len that does not match the family (connect_addr)",
                 oxs_connect_addr(s, &bad), OXS_ERR_ADDRESS);
        CHECK_INT("§5 a len that does not match the family: domain 0", oxs_addr_domain(&bad), 0);
        REQUIRE_OK("§5 parse", oxs_addr_parse("[::1]:80", &bad));
        bad.len = 16; /* AF_INET6 needs 28 */
        CHECK_ST("§5 an INET6 address with len 16 is OXS_ERR_ADDRESS",
                 oxs_addr_format(&bad, buf, sizeof buf, &n), OXS_ERR_ADDRESS);
        memset(&bad, 0, sizeof bad);
        bad.len = 16;
        ((struct sockaddr *)(void *)bad.storage)->sa_family = 12345;
        CHECK_ST("§5 an unknown family is OXS_ERR_ADDRESS",
                 oxs_addr_format(&bad, buf, sizeof buf, &n), OXS_ERR_ADDRESS);
        oxs_close(s);
    }
}

static void from_sockaddr(void)
{
    static unsigned char raw[256];
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    struct sockaddr_un sun;
    oxs_addr a;
    char out[OXS_ADDR_STRLEN];

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(4567);
    sin.sin_addr.s_addr = htonl(0x0a010203);
    memcpy(raw + 1, &sin, sizeof sin);
    CHECK_OK("§5 from_sockaddr with an unaligned sockaddr_in",
             oxs_addr_from_sockaddr(raw + 1, sizeof sin, &a));
    CHECK_STR("§5 from_sockaddr v4 formats", fmt(&a, out), "10.1.2.3:4567");
    CHECK_INT("§5 from_sockaddr v4 port", oxs_addr_port(&a), 4567);
    CHECK_INT("§5 from_sockaddr v4 domain", oxs_addr_domain(&a), OXS_DOMAIN_INET);

    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(53);
    inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr);
    memcpy(raw + 3, &sin6, sizeof sin6);
    CHECK_OK("§5 from_sockaddr with an unaligned sockaddr_in6",
             oxs_addr_from_sockaddr(raw + 3, sizeof sin6, &a));
    CHECK_STR("§5 from_sockaddr v6 formats", fmt(&a, out), "[2001:db8::5]:53");
    sin6.sin6_scope_id = 1;
    inet_pton(AF_INET6, "fe80::2", &sin6.sin6_addr);
    memcpy(raw + 5, &sin6, sizeof sin6);
    CHECK_OK("§5 from_sockaddr scoped v6", oxs_addr_from_sockaddr(raw + 5, sizeof sin6, &a));
    CHECK_STR("§5 a scope formats by interface name", fmt(&a, out), "[fe80::2%lo]:53");

    /* Unix: unnamed, path, a path needing ./, escapes. */
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(raw + 1, &sun, sizeof sun);
    CHECK_OK("§5 from_sockaddr unnamed Unix (len = sizeof(sa_family_t))",
             oxs_addr_from_sockaddr(raw + 1, sizeof(sa_family_t), &a));
    CHECK_STR("§5 an unnamed Unix socket formats as (unnamed)", fmt(&a, out), "(unnamed)");
    CHECK_INT("§5 unnamed: domain UNIX", oxs_addr_domain(&a), OXS_DOMAIN_UNIX);
    CHECK_INT("§5 unnamed: port -1", oxs_addr_port(&a), -1);
    {
        oxs_addr b;
        CHECK_ST("§5 (unnamed) is output only", oxs_addr_parse("(unnamed)", &b), OXS_ERR_ADDRESS);
    }
    strcpy(sun.sun_path, "plain.sock");
    memcpy(raw + 1, &sun, sizeof sun);
    CHECK_OK("§5 from_sockaddr Unix path",
             oxs_addr_from_sockaddr(raw + 1,
                                    (uint32_t)(offsetof(struct sockaddr_un, sun_path) + 11), &a));
    CHECK_STR("§5 a Unix path without / gets ./", fmt(&a, out), "./plain.sock");
    strcpy(sun.sun_path, "@lookslikeabstract");
    memcpy(raw + 1, &sun, sizeof sun);
    CHECK_OK("§5 from_sockaddr Unix path starting with @",
             oxs_addr_from_sockaddr(raw + 1,
                                    (uint32_t)(offsetof(struct sockaddr_un, sun_path) + 19), &a));
    CHECK_STR("§5 a Unix path starting with @ gets ./", fmt(&a, out), "./@lookslikeabstract");
    {
        oxs_addr b;
        if (CHECK_OK("§5 ./@... parses back", oxs_addr_parse(out, &b)))
        {
            const char *got = ((const struct sockaddr_un *)(const void *)b.storage)->sun_path;
            CHECK("§5 ./@... parses back to the same file (./@x or @x), not an abstract name",
                  strcmp(got, "@lookslikeabstract") == 0 ||
                      strcmp(got, "./@lookslikeabstract") == 0);
        }
    }
    memcpy(sun.sun_path, "/t/a\\b\xff\x01.s", 11);
    sun.sun_path[11] = 0;
    memcpy(raw + 1, &sun, sizeof sun);
    CHECK_OK("§5 from_sockaddr Unix path with odd bytes",
             oxs_addr_from_sockaddr(raw + 1,
                                    (uint32_t)(offsetof(struct sockaddr_un, sun_path) + 11), &a));
    fmt(&a, out);
    if (!CHECK("§5 backslash and non-UTF-8 bytes are written \\xHH",
               strcasecmp(out, "/t/a\\x5cb\\xff\x01.s") == 0 ||
                   strcasecmp(out, "/t/a\\x5cb\\xff\\x01.s") == 0))
        printf("  got \"%s\"\n", out);
    {
        oxs_addr b;
        if (CHECK_OK("§5 the escaped text parses", oxs_addr_parse(out, &b)))
            CHECK("§5 every Unix name round-trips", addr_eq(&a, &b));
    }
    /* abstract with a NUL inside */
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, "\0ab\0c", 5);
    memcpy(raw + 1, &sun, sizeof sun);
    CHECK_OK("§5 from_sockaddr abstract with NUL",
             oxs_addr_from_sockaddr(raw + 1,
                                    (uint32_t)(offsetof(struct sockaddr_un, sun_path) + 5), &a));
    CHECK_STR("§5 a NUL in an abstract name is \\x00", fmt(&a, out), "@ab\\x00c");

    /* Bad input. */
    CHECK_ST("§5 from_sockaddr with len 0", oxs_addr_from_sockaddr(&sin, 0, &a), OXS_ERR_ADDRESS);
    CHECK_INT("§1 len 0 on failure", a.len, 0);
    CHECK_ST("§5 from_sockaddr v4 too short", oxs_addr_from_sockaddr(&sin, 8, &a),
             OXS_ERR_ADDRESS);
    CHECK_ST("§5 from_sockaddr with len > 128", oxs_addr_from_sockaddr(raw, 200, &a),
             OXS_ERR_ADDRESS);
    CHECK_ST("§5 from_sockaddr v6 too short", oxs_addr_from_sockaddr(&sin6, 20, &a),
             OXS_ERR_ADDRESS);
    memset(raw, 0, 32);
    raw[0] = 17; /* AF_PACKET in the low byte of sa_family (little endian) */
    {
        oxs_status st = oxs_addr_from_sockaddr(raw, 20, &a);
        CHECK_ST2("§5 from_sockaddr of another family", st, OXS_ERR_ADDRESS, OXS_ERR_UNSUPPORTED);
    }
}

static void resolve_rules(void)
{
    oxs_addr out[8];
    size_t n = 0, i;
    oxs_status st;
    const char *dual = getenv("OXS_TEST_DUAL_HOST");
    char txt[OXS_ADDR_STRLEN], q[300];

    st = oxs_resolve("localhost:80", 0, NULL, 0, &n);
    CHECK_ST2("§5 resolve cap 0 with out NULL asks for the count", st, OXS_OK,
              OXS_ERR_BUFFER_TOO_SMALL);
    CHECK("§5 resolve cap 0 gives the count", n >= 1);
    n = 0;
    st = oxs_resolve("localhost:80", 0, out, 0, &n);
    CHECK_ST2("§5 resolve cap 0 with out non-NULL", st, OXS_OK, OXS_ERR_BUFFER_TOO_SMALL);
    CHECK("§5 resolve cap 0 (out non-NULL) gives the count", n >= 1);
    CHECK_OK("§5 resolve localhost", oxs_resolve("localhost:80", OXS_DOMAIN_INET, out, 8, &n));
    CHECK_INT("§5 localhost has one IPv4 address here", n, 1);
    CHECK_STR("§5 resolve localhost:80", fmt(&out[0], txt), "127.0.0.1:80");
    CHECK_OK("§5 resolve a numeric v4", oxs_resolve("10.0.0.1:5", 0, out, 8, &n));
    CHECK_INT("§5 numeric: one address", n, 1);
    CHECK_STR("§5 numeric v4", fmt(&out[0], txt), "10.0.0.1:5");
    CHECK_OK("§5 resolve a numeric v6", oxs_resolve("[::1]:7", 0, out, 8, &n));
    CHECK_STR("§5 numeric v6", fmt(&out[0], txt), "[::1]:7");
    CHECK_ST("§5 resolve without a port", oxs_resolve("localhost", 0, out, 8, &n),
             OXS_ERR_ADDRESS);
    CHECK_INT("§1 count 0 on failure", n, 0);
    CHECK_ST("§5 resolve with a bad port", oxs_resolve("localhost:99999", 0, out, 8, &n),
             OXS_ERR_ADDRESS);
    CHECK_ST("§1 resolve with out NULL and cap > 0", oxs_resolve("localhost:80", 0, NULL, 2, &n),
             OXS_ERR_INVALID_ARGUMENT);

    if (dual == NULL || dual[0] == '\0') {
        CHECK_SKIP("§5 resolve order / small cap with a name of two addresses",
                   "OXS_TEST_DUAL_HOST not set");
        return;
    }
    snprintf(q, sizeof q, "%s:8080", dual);
    n = 0;
    oxs_resolve(q, 0, NULL, 0, &n);
    CHECK_INT("§5 a name with an IPv4 and an IPv6 address counts 2", n, 2);
    memset(out, 0, sizeof out);
    n = 0;
    CHECK_ST("§5 more addresses than cap: BUFFER_TOO_SMALL", oxs_resolve(q, 0, out, 1, &n),
             OXS_ERR_BUFFER_TOO_SMALL);
    CHECK_INT("§5 *n is how many were found in all", n, 2);
    CHECK("§5 the first cap addresses are stored", out[0].len > 0 && out[1].len == 0);
    {
        struct addrinfo hints, *res = NULL, *r;
        oxs_addr all[8];
        size_t k = 0;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        CHECK_OK("§5 resolve all", oxs_resolve(q, 0, all, 8, &n));
        if (getaddrinfo(dual, "8080", &hints, &res) == 0) {
            for (r = res; r != NULL && k < n; r = r->ai_next, k++) {
                oxs_addr g;
                oxs_addr_from_sockaddr(r->ai_addr, (uint32_t)r->ai_addrlen, &g);
                CHECK("§5 resolve gives the addresses in getaddrinfo's order",
                      addr_eq(&g, &all[k]));
            }
            freeaddrinfo(res);
        }
        CHECK_INT("§5 one entry per address", k, n);
        CHECK("§5 stored first of cap 1 is the first in order", addr_eq(&out[0], &all[0]));
        n = 0;
        CHECK_OK("§5 resolve INET only", oxs_resolve(q, OXS_DOMAIN_INET, all, 8, &n));
        CHECK_INT("§5 INET only: one", n, 1);
        CHECK_INT("§5 INET only: INET", oxs_addr_domain(&all[0]), OXS_DOMAIN_INET);
        CHECK_OK("§5 resolve INET6 only", oxs_resolve(q, OXS_DOMAIN_INET6, all, 8, &n));
        CHECK_INT("§5 INET6 only: one", n, 1);
        CHECK_STR("§5 INET6 only: ::1", fmt(&all[0], txt), "[::1]:8080");
    }
    for (i = 0; i < 1; i++)
        (void)i;
}

static void socket_addrs(void)
{
    oxs_socket s = 0, r = 0, c = 0;
    oxs_addr a, b, lo;
    char t1[OXS_ADDR_STRLEN], t2[OXS_ADDR_STRLEN];
    size_t n;
    char buf[8];

    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &r));
    REQUIRE_OK("§5 parse", oxs_addr_parse("127.0.0.1:0", &a));
    CHECK_OK("§5 bind_addr", oxs_bind_addr(r, &a));
    CHECK_OK("§5 local_addr", oxs_local_addr(r, &lo));
    CHECK("§5 local_addr has the kernel's port", oxs_addr_port(&lo) > 0);
    memset(&b, 0xcc, sizeof b);
    CHECK_ST("§5 peer_addr on an unconnected socket is NOT_CONNECTED", oxs_peer_addr(r, &b),
             OXS_ERR_NOT_CONNECTED);
    CHECK_INT("§1 len 0 on failure", b.len, 0);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
    CHECK_OK("§5 connect_addr", oxs_connect_addr(s, &lo));
    CHECK_OK("§5 peer_addr", oxs_peer_addr(s, &b));
    CHECK_STR("§5 peer_addr is what connect_addr got", fmt(&b, t1), fmt(&lo, t2));
    CHECK_OK("§6 write", oxs_write(s, "hi", 2, &n));
    oxs_setopt(r, OXS_OPT_READ_TIMEOUT_MS, 3000);
    CHECK_OK("§6 recv_from", oxs_recv_from(r, buf, sizeof buf, &n, &b));
    CHECK_OK("§5 local_addr of sender", oxs_local_addr(s, &a));
    CHECK_STR("§6 recv_from's address is the sender's", fmt(&b, t1), fmt(&a, t2));
    {
        oxs_addr v6;
        oxs_addr_parse("[::1]:9", &v6);
        CHECK_ST("§5 an INET6 address on an INET socket is OXS_ERR_ADDRESS",
                 oxs_connect_addr(s, &v6), OXS_ERR_ADDRESS);
        oxs_addr_parse("/tmp/x.sock", &v6);
        CHECK_ST("§5 a Unix address on an INET socket is OXS_ERR_ADDRESS",
                 oxs_bind_addr(s, &v6), OXS_ERR_ADDRESS);
    }
    oxs_close(s);
    oxs_close(r);
    REQUIRE_OK("§4 open", oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_DGRAM, 0, &c));
    CHECK_OK("§5 local_addr of an unbound Unix socket", oxs_local_addr(c, &a));
    CHECK_STR("§5 an unbound Unix socket formats as (unnamed)", fmt(&a, t1), "(unnamed)");
    unlink("addr.sock");
    oxs_addr_parse("./addr.sock", &a);
    CHECK_OK("§5 bind_addr ./addr.sock", oxs_bind_addr(c, &a));
    CHECK_STR("§5 local_addr of ./addr.sock", local_text(c, t1), "./addr.sock");
    oxs_close(c);
    unlink("addr.sock");
}

int main(int argc, char **argv)
{
    enter_scratch(argc, argv);
    CHECK_INT("§5 sizeof(oxs_addr) is 136", sizeof(oxs_addr), 136);
    CHECK_INT("§5 OXS_ADDR_STRLEN is 512", OXS_ADDR_STRLEN, 512);
    CHECK_INT("§5 oxs_addr.len at offset 128", offsetof(oxs_addr, len), 128);
    parse_format();
    format_buffers();
    from_sockaddr();
    resolve_rules();
    socket_addrs();
    return CHECK_SUMMARY("core_addr");
}

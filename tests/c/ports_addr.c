/*
 * ports_addr.c - contract §14 (and §5's domain rule): oxs_addr_host writes what
 * inet_ntop writes (checked against glibc's inet_ntop itself), with oxs_addr_format's
 * buffer rules; oxs_addr_unmap, also on a real dual-stack accept; oxs_resolve_host is
 * getaddrinfo(host, service) (checked against glibc's getaddrinfo: same addresses, same
 * order), NULL host = the wildcard, service names, a bracketed host is
 * OXS_ERR_ADDRESS, an unknown service OXS_ERR_RESOLVE, every result filtered by domain,
 * numeric hosts included, and oxs_resolve's numeric hosts too (issue 12, bug 1).
 * Usage: ports_addr [scratch-folder]; OXS_TEST_DUAL_HOST names a host that resolves to
 * both 127.0.0.1 and ::1 (set by the test runner in a private mount namespace).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "core_util.h"

static oxs_addr parse(const char *text)
{
    oxs_addr a;
    memset(&a, 0, sizeof a);
    REQUIRE_OK("setup: parse", oxs_addr_parse(text, &a));
    return a;
}

static const char *host_of(const oxs_addr *a, char buf[OXS_ADDR_STRLEN])
{
    size_t n = 0;
    if (oxs_addr_host(a, buf, OXS_ADDR_STRLEN, &n) != OXS_OK)
        snprintf(buf, OXS_ADDR_STRLEN, "(oxs_addr_host failed: %s)", oxs_last_error());
    else
        CHECK_INT("§14 addr_host: *len is strlen", n, strlen(buf));
    return buf;
}

/* addr_host(parse(text)) is `want`, and for an IP address also what inet_ntop writes. */
static void host_is(const char *text, const char *want)
{
    char buf[OXS_ADDR_STRLEN], rule[700];
    oxs_addr a = parse(text);
    snprintf(rule, sizeof rule, "§14 addr_host(\"%s\") is \"%s\"", text, want);
    CHECK_STR(rule, host_of(&a, buf), want);
    struct sockaddr *sa = (struct sockaddr *)a.storage;
    char ntop[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ntop, sizeof ntop);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ntop, sizeof ntop);
        if (s6->sin6_scope_id != 0) {
            char ifname[IF_NAMESIZE];
            size_t l = strlen(ntop);
            if (if_indextoname(s6->sin6_scope_id, ifname) != NULL)
                snprintf(ntop + l, sizeof ntop - l, "%%%s", ifname);
            else
                snprintf(ntop + l, sizeof ntop - l, "%%%u", (unsigned)s6->sin6_scope_id);
        }
    } else {
        return;
    }
    snprintf(rule, sizeof rule, "§14 addr_host(\"%s\") is what inet_ntop writes", text);
    CHECK_STR(rule, buf, ntop);
}

static void addr_host(void)
{
    host_is("127.0.0.1:80", "127.0.0.1");
    host_is("10.1.2.3:0", "10.1.2.3");
    host_is("[::1]:80", "::1");
    host_is("[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1");
    host_is("[::]:1", "::");
    host_is("[fe80::1%lo]:80", "fe80::1%lo");
    host_is("[fe80::1%1]:80", "fe80::1%lo"); /* the scope by name when it has one */
    host_is("[fe80::1%999]:80", "fe80::1%999");
    host_is("[::7f00:1]:80", "::127.0.0.1"); /* inet_ntop's form, not [::7f00:1] */
    host_is("[2001:db8::ff00:42:8329]:443", "2001:db8::ff00:42:8329");
    host_is("[1:0:0:1:0:0:0:1]:1", "1:0:0:1::1");
    host_is("[::ffff:0.0.0.0]:1", "::ffff:0.0.0.0");

    /* Unix: the same text as oxs_addr_format */
    const char *unix_texts[] = {"/run/app.sock", "./app.sock", "@abstract", "./@x", "/tmp/a\\x01b"};
    for (int i = 0; i < 5; i++) {
        char h[OXS_ADDR_STRLEN], f[OXS_ADDR_STRLEN];
        oxs_addr a = parse(unix_texts[i]);
        CHECK_STR("§14 addr_host of a Unix address is oxs_addr_format's text", host_of(&a, h), fmt(&a, f));
    }
    oxs_socket pair[2];
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, pair));
    oxs_addr un;
    REQUIRE_OK("setup: local_addr", oxs_local_addr(pair[0], &un));
    char h[OXS_ADDR_STRLEN];
    CHECK_STR("§14 addr_host of an unnamed Unix socket", host_of(&un, h), "(unnamed)");
    oxs_close(pair[0]);
    oxs_close(pair[1]);

    /* buffer rules of oxs_addr_format (§5) */
    oxs_addr a = parse("127.0.0.1:80");
    char buf[16];
    size_t n = 77;
    if (CHECK_ST("§14 addr_host: cap 0 asks for the length", oxs_addr_host(&a, NULL, 0, &n),
                 OXS_ERR_BUFFER_TOO_SMALL))
        CHECK_INT("§14 addr_host: *len on BUFFER_TOO_SMALL is the text's length", n, 9);
    memset(buf, 'x', sizeof buf);
    n = 0;
    if (CHECK_ST("§14 addr_host: cap == len is too small (the NUL)", oxs_addr_host(&a, buf, 9, &n),
                 OXS_ERR_BUFFER_TOO_SMALL)) {
        CHECK_INT("§14 addr_host: *len", n, 9);
        CHECK_INT("§14 addr_host: buf is \"\" on failure", buf[0], 0);
    }
    n = 0;
    if (CHECK_OK("§14 addr_host: cap == len + 1 fits", oxs_addr_host(&a, buf, 10, &n)))
        CHECK_STR("§14 addr_host text", buf, "127.0.0.1");
    memset(buf, 'x', sizeof buf);
    n = 77;
    CHECK_ST("§14 addr_host(NULL)", oxs_addr_host(NULL, buf, sizeof buf, &n), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 addr_host(NULL): buf \"\"", buf[0], 0);
    CHECK_INT("§1 addr_host(NULL): len 0", n, 0);
    CHECK_ST("§14 addr_host: len NULL", oxs_addr_host(&a, buf, sizeof buf, NULL), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 addr_host: buf NULL with cap > 0", oxs_addr_host(&a, NULL, 8, &n), OXS_ERR_INVALID_ARGUMENT);
    oxs_addr bad = a;
    bad.len = 0;
    memset(buf, 'x', sizeof buf);
    CHECK_ST("§14 addr_host: an oxs_addr with len 0", oxs_addr_host(&bad, buf, sizeof buf, &n), OXS_ERR_ADDRESS);
    CHECK_INT("§1 addr_host failure: buf \"\"", buf[0], 0);
    bad.len = 129;
    CHECK_ST("§14 addr_host: len 129", oxs_addr_host(&bad, buf, sizeof buf, &n), OXS_ERR_ADDRESS);
}

static void unmap_is(const char *text, const char *want)
{
    char rule[600], f[OXS_ADDR_STRLEN];
    oxs_addr a = parse(text), out;
    memset(&out, 0x55, sizeof out);
    snprintf(rule, sizeof rule, "§14 addr_unmap(\"%s\")", text);
    if (!CHECK_OK(rule, oxs_addr_unmap(&a, &out)))
        return;
    snprintf(rule, sizeof rule, "§14 addr_unmap(\"%s\") is %s", text, want);
    CHECK_STR(rule, fmt(&out, f), want);
    CHECK_INT("§14 addr_unmap: reserved 0", out.reserved, 0);
    /* in place */
    oxs_addr b = a;
    snprintf(rule, sizeof rule, "§14 addr_unmap(\"%s\") in place (out == a)", text);
    if (CHECK_OK(rule, oxs_addr_unmap(&b, &b)))
        CHECK_STR(rule, fmt(&b, f), want);
}

static void addr_unmap(void)
{
    unmap_is("[::ffff:127.0.0.1]:8080", "127.0.0.1:8080");
    unmap_is("[::ffff:10.0.0.1]:0", "10.0.0.1:0");
    unmap_is("[::ffff:255.255.255.255]:65535", "255.255.255.255:65535");
    unmap_is("127.0.0.1:80", "127.0.0.1:80");
    unmap_is("[::1]:80", "[::1]:80");
    unmap_is("[::7f00:1]:80", "[::7f00:1]:80"); /* v4-compatible is not v4-mapped */
    unmap_is("[fe80::1%lo]:80", "[fe80::1%lo]:80");
    unmap_is("/run/app.sock", "/run/app.sock");
    unmap_is("@name", "@name");
    oxs_addr a = parse("[::ffff:127.0.0.1]:8080"), out;
    CHECK_INT("§14 addr_unmap: the IPv4 result's domain", (oxs_addr_unmap(&a, &out), oxs_addr_domain(&out)),
              OXS_DOMAIN_INET);
    CHECK_INT("§14 addr_unmap: the port stays", oxs_addr_port(&out), 8080);
    memset(&out, 0x55, sizeof out);
    CHECK_ST("§14 addr_unmap(NULL, out)", oxs_addr_unmap(NULL, &out), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§1 addr_unmap failure: out.len 0", out.len, 0);
    CHECK_ST("§14 addr_unmap(a, NULL)", oxs_addr_unmap(&a, NULL), OXS_ERR_INVALID_ARGUMENT);
    oxs_addr bad = a;
    bad.len = 16; /* INET6 with INET's length */
    memset(&out, 0x55, sizeof out);
    CHECK_ST("§14 addr_unmap: an invalid address", oxs_addr_unmap(&bad, &out), OXS_ERR_ADDRESS);
    CHECK_INT("§1 addr_unmap failure: out.len 0", out.len, 0);
    bad = a;
    bad.len = 0;
    CHECK_ST("§14 addr_unmap: len 0 in place", oxs_addr_unmap(&bad, &bad), OXS_ERR_ADDRESS);
    CHECK_INT("§1 addr_unmap failure in place: len 0", bad.len, 0);

    /* A real dual-stack listener (INET6, V6ONLY 0, bound to the v4-mapped loopback) and
     * a plain POSIX IPv4 client: the accepted peer is [::ffff:127.0.0.1]:p, and unmap
     * gives the client's own getsockname. */
    oxs_socket l = 0, c = 0;
    oxs_addr peer, un;
    REQUIRE_OK("setup: INET6 listener", oxs_socket_open(OXS_DOMAIN_INET6, OXS_TYPE_STREAM, 0, &l));
    REQUIRE_OK("setup: V6ONLY 0", oxs_setopt(l, OXS_OPT_V6ONLY, 0));
    REQUIRE_OK("setup: bind the v4-mapped loopback", oxs_bind(l, "[::ffff:127.0.0.1]:0"));
    REQUIRE_OK("setup: listen", oxs_listen(l, 4));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)local_port(l));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE("setup: POSIX connect", connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0);
    REQUIRE_OK("setup: accept", oxs_accept(l, &c, &peer));
    char f[OXS_ADDR_STRLEN], g[OXS_ADDR_STRLEN], hh[OXS_ADDR_STRLEN];
    CHECK_INT("§5 a dual-stack listener sees an IPv4 peer as INET6", oxs_addr_domain(&peer), OXS_DOMAIN_INET6);
    CHECK_STR("§14 addr_host of a v4-mapped peer", host_of(&peer, hh), "::ffff:127.0.0.1");
    if (CHECK_OK("§14 addr_unmap of an accepted dual-stack peer", oxs_addr_unmap(&peer, &un))) {
        struct sockaddr_in mine;
        socklen_t ml = sizeof mine;
        getsockname(fd, (struct sockaddr *)&mine, &ml);
        snprintf(g, sizeof g, "127.0.0.1:%d", ntohs(mine.sin_port));
        CHECK_STR("§14 the unmapped peer is the client's own address", fmt(&un, f), g);
        CHECK_STR("§14 addr_host of the unmapped peer", host_of(&un, hh), "127.0.0.1");
    }
    close(fd);
    oxs_close(c);
    oxs_close(l);
}

/* The addresses glibc's getaddrinfo gives, one per address, in its order. */
static size_t gai(const char *host, const char *service, int family, int flags, oxs_addr *out, size_t cap)
{
    struct addrinfo hints, *res = NULL, *p;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_flags = flags;
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return 0;
    size_t n = 0;
    for (p = res; p != NULL && n < cap; p = p->ai_next) {
        oxs_addr a;
        if (oxs_addr_from_sockaddr(p->ai_addr, p->ai_addrlen, &a) != OXS_OK)
            continue;
        int dup = 0;
        for (size_t i = 0; i < n; i++)
            dup |= out[i].len == a.len && memcmp(out[i].storage, a.storage, a.len) == 0;
        if (!dup)
            out[n++] = a;
    }
    freeaddrinfo(res);
    return n;
}

/* oxs_resolve_host(host, service, domain) gives exactly glibc's addresses, in order. */
static void same_as_getaddrinfo(const char *host, const char *service, int32_t domain)
{
    oxs_addr got[16], want[16];
    size_t n = 0;
    int family = domain == OXS_DOMAIN_INET ? AF_INET : domain == OXS_DOMAIN_INET6 ? AF_INET6 : AF_UNSPEC;
    size_t nw = gai(host, service, family, host == NULL ? AI_PASSIVE : 0, want, 16);
    char rule[600], a[OXS_ADDR_STRLEN], b[OXS_ADDR_STRLEN];
    snprintf(rule, sizeof rule, "§14 resolve_host(%s, %s, %d) as getaddrinfo", host ? host : "NULL",
             service ? service : "NULL", (int)domain);
    REQUIRE(rule, nw > 0);
    if (!CHECK_OK(rule, oxs_resolve_host(host, service, domain, got, 16, &n)))
        return;
    CHECK_INT(rule, n, nw);
    for (size_t i = 0; i < n && i < nw; i++)
        CHECK_STR(rule, fmt(&got[i], a), fmt(&want[i], b));
}

/* The one address resolve_host gives, as text. */
static void resolves_to(const char *host, const char *service, int32_t domain, const char *want)
{
    oxs_addr out[4];
    size_t n = 77;
    char rule[600], f[OXS_ADDR_STRLEN];
    snprintf(rule, sizeof rule, "§14 resolve_host(%s, %s, %d) is %s", host ? host : "NULL",
             service ? service : "NULL", (int)domain, want);
    if (CHECK_OK(rule, oxs_resolve_host(host, service, domain, out, 4, &n)) && CHECK_INT(rule, n, 1))
        CHECK_STR(rule, fmt(&out[0], f), want);
}

static void fails(const char *host, const char *service, int32_t domain, oxs_status want, const char *rule)
{
    oxs_addr out[2];
    size_t n = 77;
    out[0].len = 5;
    CHECK_ST(rule, oxs_resolve_host(host, service, domain, out, 2, &n), want);
    CHECK_INT("§1 resolve_host failure: *n is 0", n, 0);
    if (want == OXS_ERR_RESOLVE)
        CHECK_INT("§2 RESOLVE: oxs_last_os_error() is 0", oxs_last_os_error(), 0);
}

static void resolve_host(void)
{
    /* bare numeric hosts, decimal ports and service names */
    resolves_to("127.0.0.1", "80", 0, "127.0.0.1:80");
    resolves_to("::1", "80", 0, "[::1]:80");
    resolves_to("::ffff:127.0.0.1", "7", 0, "[::ffff:127.0.0.1]:7");
    resolves_to("fe80::1%lo", "80", 0, "[fe80::1%lo]:80");
    resolves_to("127.0.0.1", NULL, 0, "127.0.0.1:0");
    resolves_to("127.0.0.1", "0", 0, "127.0.0.1:0");
    resolves_to("127.0.0.1", "65535", 0, "127.0.0.1:65535");
    resolves_to("127.0.0.1", "http", 0, "127.0.0.1:80");
    resolves_to("::1", "domain", 0, "[::1]:53");
    resolves_to("127.0.0.1", "syslog", 0, "127.0.0.1:514"); /* a UDP-only service */
    resolves_to("localhost", "http", OXS_DOMAIN_INET, "127.0.0.1:80");
    same_as_getaddrinfo("localhost", "http", 0);
    same_as_getaddrinfo("localhost", "8080", OXS_DOMAIN_INET);
    same_as_getaddrinfo("127.0.0.1", "http", 0);
    same_as_getaddrinfo("::1", "443", 0);

    /* NULL host: the wildcard addresses, for binding */
    same_as_getaddrinfo(NULL, "8080", 0);
    same_as_getaddrinfo(NULL, "http", 0);
    resolves_to(NULL, "8080", OXS_DOMAIN_INET, "0.0.0.0:8080");
    resolves_to(NULL, "8080", OXS_DOMAIN_INET6, "[::]:8080");
    resolves_to(NULL, NULL, OXS_DOMAIN_INET, "0.0.0.0:0");
    oxs_addr w[2];
    size_t n = 0;
    if (CHECK_OK("§14 resolve_host(NULL, \"0\", INET) for a bind", oxs_resolve_host(NULL, "0", OXS_DOMAIN_INET, w, 2, &n))) {
        oxs_socket s = 0;
        REQUIRE_OK("setup: open", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
        CHECK_OK("§14 the wildcard address binds", oxs_bind_addr(s, &w[0]));
        oxs_close(s);
    }

    /* cap, *n, BUFFER_TOO_SMALL as oxs_resolve (§5) */
    n = 77;
    if (CHECK_ST("§14 resolve_host cap 0 asks for the count", oxs_resolve_host(NULL, "80", 0, NULL, 0, &n),
                 OXS_ERR_BUFFER_TOO_SMALL))
        CHECK_INT("§14 resolve_host: the count with cap 0 (both wildcards)", n, 2);
    n = 77;
    memset(w, 0, sizeof w);
    if (CHECK_ST("§14 resolve_host cap 1 of 2", oxs_resolve_host(NULL, "80", 0, w, 1, &n), OXS_ERR_BUFFER_TOO_SMALL)) {
        CHECK_INT("§14 resolve_host: *n is the count found", n, 2);
        CHECK("§14 resolve_host: the first cap are stored", oxs_addr_port(&w[0]) == 80 && w[1].len == 0);
    }
    CHECK_ST("§14 resolve_host: n NULL", oxs_resolve_host("127.0.0.1", "80", 0, w, 2, NULL), OXS_ERR_INVALID_ARGUMENT);
    {
        size_t k = 77;
        CHECK_ST("§14 resolve_host: out NULL with cap > 0", oxs_resolve_host("127.0.0.1", "80", 0, NULL, 2, &k),
                 OXS_ERR_INVALID_ARGUMENT);
        CHECK_INT("§1 *n 0", k, 0);
    }
    fails("127.0.0.1", "80", 99, OXS_ERR_INVALID_ARGUMENT, "§1 resolve_host: unknown domain");
    fails("127.0.0.1", "80", -1, OXS_ERR_INVALID_ARGUMENT, "§1 resolve_host: domain -1");
    fails("127.0.0.1", "80", OXS_DOMAIN_UNIX, OXS_ERR_UNSUPPORTED, "§1 resolve_host: UNIX domain");

    /* bare hosts only; errors */
    fails("[::1]", "80", 0, OXS_ERR_ADDRESS, "§14 a bracketed host is OXS_ERR_ADDRESS");
    fails("[::1]:80", NULL, 0, OXS_ERR_ADDRESS, "§14 host:port text is not a bare host");
    fails("", "80", 0, OXS_ERR_ADDRESS, "§14 an empty host");
    fails("\xff\xfe", "80", 0, OXS_ERR_ADDRESS, "§1 a non-UTF-8 host");
    fails("127.0.0.1", "no-such-service-oxs", 0, OXS_ERR_RESOLVE, "§14 an unknown service is OXS_ERR_RESOLVE");
    fails(NULL, "no-such-service-oxs", 0, OXS_ERR_RESOLVE, "§14 an unknown service with a NULL host");
    fails("127.0.0.1", "65536", 0, OXS_ERR_ADDRESS, "§14 a decimal service above 65535");
    fails("127.0.0.1", "", 0, OXS_ERR_ADDRESS, "§14 an empty service");
    fails("no-such-host.invalid", "80", 0, OXS_ERR_RESOLVE, "§14 a name that does not resolve");

    /* domain filters every result, numeric hosts included */
    fails("127.0.0.1", "80", OXS_DOMAIN_INET6, OXS_ERR_RESOLVE, "§14 127.0.0.1 asked for INET6 finds nothing");
    fails("::1", "80", OXS_DOMAIN_INET, OXS_ERR_RESOLVE, "§14 ::1 asked for INET finds nothing");
    fails("fe80::1%lo", "80", OXS_DOMAIN_INET, OXS_ERR_RESOLVE, "§14 a scoped IPv6 host asked for INET");
    resolves_to("127.0.0.1", "80", OXS_DOMAIN_INET, "127.0.0.1:80");
    resolves_to("::1", "80", OXS_DOMAIN_INET6, "[::1]:80");
    fails("localhost", "80", OXS_DOMAIN_INET6, OXS_ERR_RESOLVE, "§14 localhost (IPv4 only here) asked for INET6");

    /* oxs_resolve too (issue 12, bug 1) */
    oxs_addr r[2];
    size_t k = 77;
    CHECK_ST("§5/§14 oxs_resolve(127.0.0.1:4950, INET6) finds nothing",
             oxs_resolve("127.0.0.1:4950", OXS_DOMAIN_INET6, r, 2, &k), OXS_ERR_RESOLVE);
    CHECK_INT("§1 *n 0", k, 0);
    CHECK_ST("§5/§14 oxs_resolve([::1]:4950, INET) finds nothing", oxs_resolve("[::1]:4950", OXS_DOMAIN_INET, r, 2, &k),
             OXS_ERR_RESOLVE);
    CHECK_ST("§5/§14 oxs_resolve([fe80::1%lo]:1, INET)", oxs_resolve("[fe80::1%lo]:1", OXS_DOMAIN_INET, r, 2, &k),
             OXS_ERR_RESOLVE);
    if (CHECK_OK("§5 oxs_resolve(127.0.0.1:4950, INET)", oxs_resolve("127.0.0.1:4950", OXS_DOMAIN_INET, r, 2, &k)))
        CHECK_INT("§5 one address", k, 1);
    if (CHECK_OK("§5 oxs_resolve([::1]:4950, INET6)", oxs_resolve("[::1]:4950", OXS_DOMAIN_INET6, r, 2, &k)))
        CHECK_INT("§5 one address", k, 1);

    /* a name with both families */
    const char *dual = getenv("OXS_TEST_DUAL_HOST");
    if (dual == NULL) {
        CHECK_SKIP("§14 resolve_host of a two-address name", "OXS_TEST_DUAL_HOST not set");
        return;
    }
    same_as_getaddrinfo(dual, "http", 0);
    same_as_getaddrinfo(dual, "9", OXS_DOMAIN_INET6);
    resolves_to(dual, "http", OXS_DOMAIN_INET, "127.0.0.1:80");
    resolves_to(dual, "http", OXS_DOMAIN_INET6, "[::1]:80");
    n = 0;
    if (CHECK_OK("§14 resolve_host of a two-address name", oxs_resolve_host(dual, "80", 0, w, 2, &n)))
        CHECK_INT("§14 both addresses", n, 2);
}

int main(void)
{
    addr_host();
    addr_unmap();
    resolve_host();
    return CHECK_SUMMARY("ports_addr");
}

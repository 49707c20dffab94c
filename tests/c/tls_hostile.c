/*
 * tls_hostile.c - 10,000 hostile calls on TLS configs and TLS sockets (contract §12,
 * §1): forged and stale handles, handles of the wrong kind, NULLs, random keys and
 * values, garbage PEM, random info queries and random tls:// endpoint text. Every call
 * must return a status from its documented set, never crash, never leak.
 *
 * usage: tls_hostile CERT_DIR   (OXS_TEST_SLOW=1: 2,000 calls, for valgrind)
 */
#include "check.h"

#include <unistd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int one_of(oxs_status st, const oxs_status *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (st == set[i])
            return 1;
    return 0;
}

#define ALLOWED(rule, st, ...)                                                              \
    do {                                                                                    \
        const oxs_status set_[] = { __VA_ARGS__ };                                          \
        oxs_status s_ = (st);                                                               \
        if (!one_of(s_, set_, sizeof set_ / sizeof set_[0]))                                \
            CHECK_ST(rule, s_, set_[0]);                                                    \
        else                                                                                \
            check_count_();                                                                 \
    } while (0)

static void random_text(char *buf, size_t cap)
{
    static const char *pieces[] = { "-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                    "-----BEGIN PRIVATE KEY-----\n", "MIIB", "AAAA", "\n", "h2", ",",
                                    "1.2", "1.3", "peer", "none", "require", "optional", "%", "\xff\xfe",
                                    "/dev/null", "/nonexistent", "", "====" };
    size_t len = 0, parts = next() % 8;
    buf[0] = 0;
    for (size_t i = 0; i < parts; i++) {
        const char *p = pieces[next() % (sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(p);
        if (len + pl + 1 >= cap)
            break;
        memcpy(buf + len, p, pl);
        len += pl;
        buf[len] = 0;
    }
}

int main(int argc, char **argv)
{
    int rounds = getenv("OXS_TEST_SLOW") ? 2000 : 10000;
    char text[512], ep[1024], out[256];
    size_t n;
    const char *dir = argc > 1 ? argv[1] : ".";
    oxs_tls_config live_client, live_server;
    oxs_socket a, b, l;
    REQUIRE_OK("setup: client config", oxs_tls_config_open(OXS_TLS_CLIENT, &live_client));
    REQUIRE_OK("setup: server config", oxs_tls_config_open(OXS_TLS_SERVER, &live_server));
    snprintf(text, sizeof text, "%s/server.pem", dir);
    CHECK_OK("setup: cert", oxs_tls_config_set(live_server, OXS_TLS_CERT_FILE, text));
    snprintf(text, sizeof text, "%s/server.key", dir);
    CHECK_OK("setup: key", oxs_tls_config_set(live_server, OXS_TLS_KEY_FILE, text));
    oxs_socket pair[2];
    REQUIRE_OK("setup: pair", oxs_socketpair(OXS_TYPE_STREAM, pair));
    a = pair[0];
    b = pair[1];
    REQUIRE_OK("setup: listener", oxs_listen_on("tcp://127.0.0.1:0", &l));
    /* b is a TLS server whose client never comes: every data call on it fails. */
    oxs_setopt(a, OXS_OPT_NONBLOCKING, 1);
    oxs_setopt(b, OXS_OPT_NONBLOCKING, 1);
    CHECK_ST("setup: accept_tls non-blocking", oxs_tls_accept(b, live_server), OXS_ERR_WOULD_BLOCK);

    for (int i = 0; i < rounds; i++) {
        uint64_t handles[] = { 0, next(), live_client, live_server, a, b, l, live_client ^ (1ull << 33),
                               a + 1 };
        uint64_t h = handles[next() % (sizeof handles / sizeof handles[0])];
        int32_t key = (int32_t)(next() % 15) - 2;
        random_text(text, sizeof text);
        switch (next() % 8) {
        case 0:
            ALLOWED("hostile: config_set", oxs_tls_config_set(h, key, (next() & 7) ? text : NULL), OXS_OK,
                    OXS_ERR_BAD_HANDLE, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_TLS, OXS_ERR_OS, OXS_ERR_ADDRESS,
                    OXS_ERR_PERMISSION_DENIED);
            break;
        case 1: {
            oxs_tls_config c = 7;
            oxs_status st = oxs_tls_config_open(key, (next() & 7) ? &c : NULL);
            ALLOWED("hostile: config_open", st, OXS_OK, OXS_ERR_INVALID_ARGUMENT);
            if (st == OXS_OK)
                CHECK_OK("hostile: config_close", oxs_tls_config_close(c));
            break;
        }
        case 2:
            ALLOWED("hostile: tls_connect", oxs_tls_connect(h, handles[next() % 9], (next() & 1) ? text : NULL),
                    OXS_ERR_BAD_HANDLE, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_UNSUPPORTED, OXS_ERR_NOT_CONNECTED,
                    OXS_ERR_ADDRESS, OXS_ERR_WOULD_BLOCK, OXS_ERR_TLS, OXS_ERR_CERTIFICATE);
            break;
        case 3:
            ALLOWED("hostile: tls_accept", oxs_tls_accept(h, handles[next() % 9]), OXS_ERR_BAD_HANDLE,
                    OXS_ERR_INVALID_ARGUMENT, OXS_ERR_UNSUPPORTED, OXS_ERR_NOT_CONNECTED, OXS_ERR_TLS,
                    OXS_ERR_WOULD_BLOCK, OXS_ERR_CERTIFICATE);
            break;
        case 4: {
            size_t cap = next() % 300;
            ALLOWED("hostile: tls_info", oxs_tls_info(h, key, (next() & 7) ? out : NULL, cap < sizeof out ? cap : 0,
                                                      (next() & 7) ? &n : NULL),
                    OXS_ERR_BAD_HANDLE, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_UNSUPPORTED, OXS_ERR_NOT_CONNECTED);
            break;
        }
        case 5:
            ALLOWED("hostile: tls_handshake", oxs_tls_handshake(h), OXS_ERR_BAD_HANDLE, OXS_ERR_UNSUPPORTED,
                    OXS_ERR_WOULD_BLOCK, OXS_ERR_TLS, OXS_ERR_CERTIFICATE, OXS_ERR_UNEXPECTED_EOF);
            break;
        case 6: {
            oxs_socket s = 9;
            snprintf(ep, sizeof ep, "tls%s://%s:%d?%s=%s", (next() & 1) ? "" : "6", (next() & 1) ? "[::1" : "127.0.0.1",
                     (int)(next() % 3), (next() & 1) ? "alpn" : "ca", text);
            oxs_status st = (next() & 1) ? oxs_dial(ep, 200, &s) : oxs_dial_tls(ep, h, 200, &s);
            ALLOWED("hostile: dial tls", st, OXS_ERR_ADDRESS, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_BAD_HANDLE,
                    OXS_ERR_TLS, OXS_ERR_OS, OXS_ERR_CONNECTION_REFUSED, OXS_ERR_RESOLVE, OXS_ERR_TIMED_OUT,
                    OXS_ERR_ADDRESS_NOT_AVAILABLE, OXS_ERR_NETWORK_UNREACHABLE);
            CHECK_INT("hostile: dial out", s, OXS_INVALID);
            break;
        }
        default: {
            /* Data calls on the TLS socket that never shook hands. */
            char buf[16];
            ALLOWED("hostile: data on a pending TLS socket", oxs_recv(b, buf, sizeof buf, (int32_t)(next() % 0x200), &n),
                    OXS_ERR_WOULD_BLOCK, OXS_ERR_INVALID_ARGUMENT, OXS_ERR_UNSUPPORTED, OXS_ERR_TLS,
                    OXS_ERR_CERTIFICATE, OXS_ERR_UNEXPECTED_EOF);
            break;
        }
        }
    }
    CHECK_OK("hostile: the live client config survived", oxs_tls_config_close(live_client));
    CHECK_OK("hostile: the live server config survived", oxs_tls_config_close(live_server));
    oxs_close(a);
    oxs_close(b);
    oxs_close(l);
    return CHECK_SUMMARY("tls_hostile");
}

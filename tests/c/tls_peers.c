/*
 * tls_peers.c - contract §12 against independent peers on loopback:
 *   - oxsock client -> `openssl s_server -rev` (ECDSA, TLS 1.3): echo reversed, info;
 *   - oxsock client -> `openssl s_server -tls1_2` (RSA): TLS 1.2, a TLS 1.2 suite name,
 *     and MIN_VERSION "1.3" refused;
 *   - oxsock client -> CPython's ssl server: ALPN, close_notify on shutdown;
 *   - `openssl s_client` -> oxsock tls:// server, verifying our certificate;
 *   - CPython's ssl client -> oxsock server, with a client certificate (mTLS) and SNI.
 * The Rust driver (tests/tls.rs) starts the servers and passes their ports in
 * OXS_REV_PORT, OXS_TLS12_PORT, OXS_PY_PORT.
 *
 * usage: tls_peers CERT_DIR
 */
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

static const char *D;

static const char *P(const char *name)
{
    static __thread char buf[8][600];
    static __thread int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", D, name);
    return buf[i];
}

static int env_port(const char *name)
{
    const char *v = getenv(name);
    return v ? atoi(v) : 0;
}

static void t_openssl_server(void)
{
    oxs_socket c;
    char ep[1024], b[256];
    size_t n = 0;
    int port = env_port("OXS_REV_PORT");
    REQUIRE("s_server: port given", port > 0);
    snprintf(ep, sizeof ep, "tls://localhost:%d?ca=%s", port, P("ca.pem"));
    REQUIRE_OK("s_server: dial", oxs_dial(ep, 10000, &c));
    oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 10000);
    CHECK_OK("s_server: write a line", oxs_write_all(c, "hello\n", 6, NULL));
    CHECK_OK("s_server: read the reversed line", oxs_read_exact(c, b, 6, &n));
    CHECK("s_server: reversed", memcmp(b, "olleh\n", 6) == 0);
    CHECK_OK("s_server: VERSION", oxs_tls_info(c, OXS_TLS_INFO_VERSION, b, sizeof b, &n));
    CHECK_STR("s_server: TLS 1.3", b, "TLSv1.3");
    CHECK_OK("s_server: CIPHER", oxs_tls_info(c, OXS_TLS_INFO_CIPHER, b, sizeof b, &n));
    CHECK("s_server: an IANA name", strncmp(b, "TLS_AES_", 8) == 0 || strncmp(b, "TLS_CHACHA20_", 13) == 0);
    printf("s_server negotiated %s\n", b);
    CHECK_OK("s_server: shutdown sends close_notify", oxs_shutdown(c, OXS_SHUT_WRITE));
    CHECK_OK("s_server: close", oxs_close(c));

    /* The same server, a client that trusts another CA. */
    snprintf(ep, sizeof ep, "tls://localhost:%d?ca=%s", port, P("other-ca.pem"));
    CHECK_ST("s_server: untrusted", oxs_dial(ep, 10000, &c), OXS_ERR_CERTIFICATE);
    snprintf(ep, sizeof ep, "tls://127.0.0.1:%d?ca=%s&servername=other.example", port, P("ca.pem"));
    CHECK_ST("s_server: wrong name", oxs_dial(ep, 10000, &c), OXS_ERR_CERTIFICATE);
}

static void t_openssl_tls12(void)
{
    oxs_socket c;
    char ep[1024], b[256];
    size_t n = 0;
    int port = env_port("OXS_TLS12_PORT");
    REQUIRE("tls12: port given", port > 0);
    snprintf(ep, sizeof ep, "tls://localhost:%d?ca=%s", port, P("ca.pem"));
    REQUIRE_OK("tls12: dial", oxs_dial(ep, 10000, &c));
    CHECK_OK("tls12: VERSION", oxs_tls_info(c, OXS_TLS_INFO_VERSION, b, sizeof b, &n));
    CHECK_STR("tls12: TLS 1.2", b, "TLSv1.2");
    CHECK_OK("tls12: CIPHER", oxs_tls_info(c, OXS_TLS_INFO_CIPHER, b, sizeof b, &n));
    CHECK("tls12: an IANA TLS 1.2 name", strncmp(b, "TLS_ECDHE_RSA_WITH_", 19) == 0);
    printf("s_server -tls1_2 negotiated %s\n", b);
    CHECK_OK("tls12: write", oxs_write_all(c, "abc\n", 4, NULL));
    oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 10000);
    CHECK_OK("tls12: read", oxs_read_exact(c, b, 4, &n));
    CHECK("tls12: reversed", memcmp(b, "cba\n", 4) == 0);
    oxs_close(c);
    snprintf(ep, sizeof ep, "tls://localhost:%d?ca=%s&minversion=1.3", port, P("ca.pem"));
    CHECK_ST("tls12: MIN_VERSION 1.3 against a TLS 1.2 server", oxs_dial(ep, 10000, &c), OXS_ERR_TLS);
}

static void t_python_server(void)
{
    oxs_socket c;
    char ep[1024], b[256];
    size_t n = 0;
    int port = env_port("OXS_PY_PORT");
    REQUIRE("python: port given", port > 0);
    snprintf(ep, sizeof ep, "tls://localhost:%d?ca=%s&alpn=http/1.1", port, P("ca.pem"));
    REQUIRE_OK("python: dial", oxs_dial(ep, 10000, &c));
    oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 10000);
    CHECK_OK("python: ALPN", oxs_tls_info(c, OXS_TLS_INFO_ALPN, b, sizeof b, &n));
    CHECK_STR("python: ALPN agreed", b, "http/1.1");
    CHECK_OK("python: write", oxs_write_all(c, "ping", 4, NULL));
    CHECK_OK("python: echo", oxs_read_exact(c, b, 4, &n));
    CHECK("python: echo bytes", memcmp(b, "ping", 4) == 0);
    CHECK_OK("python: shutdown sends close_notify", oxs_shutdown(c, OXS_SHUT_WRITE));
    /* CPython answers our close_notify with its own (unwrap): the end, not a cut. */
    CHECK_OK("python: its close_notify", oxs_read(c, b, sizeof b, &n));
    CHECK_INT("python: 0 bytes", n, 0);
    oxs_close(c);
}

/* ---------------------------------------------------------------- clients to our server */

typedef struct {
    oxs_socket l;
    oxs_status st;
    size_t peer_cert_len;
    char sni[256];
} one_t;

static void *serve_one(void *arg)
{
    one_t *o = arg;
    oxs_socket c;
    char b[4096];
    size_t n = 0, len = 0;
    o->st = oxs_accept(o->l, &c, NULL);
    if (o->st != OXS_OK)
        return NULL;
    oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 15000);
    o->st = oxs_read(c, b, sizeof b, &n);
    if (o->st == OXS_OK) {
        oxs_tls_info(c, OXS_TLS_INFO_PEER_CERT, NULL, 0, &len);
        o->peer_cert_len = len;
        oxs_tls_info(c, OXS_TLS_INFO_SERVER_NAME, o->sni, sizeof o->sni, &len);
        oxs_write_all(c, b, n, NULL);
        oxs_shutdown(c, OXS_SHUT_BOTH);
    }
    oxs_close(c);
    return NULL;
}

static int port_of(oxs_socket l)
{
    oxs_addr a;
    oxs_local_addr(l, &a);
    return oxs_addr_port(&a);
}

/* Runs a shell command, returns its stdout (at most cap-1 bytes). */
static void run_cmd(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    size_t got = 0;
    out[0] = 0;
    if (!f)
        return;
    while (got + 1 < cap) {
        size_t n = fread(out + got, 1, cap - 1 - got, f);
        if (n == 0)
            break;
        got += n;
    }
    out[got] = 0;
    pclose(f);
}

static void t_openssl_client(void)
{
    oxs_socket l;
    one_t o;
    pthread_t th;
    char ep[1024], cmd[2048], out[8192];
    snprintf(ep, sizeof ep, "tls://127.0.0.1:0?cert=%s&key=%s", P("server.pem"), P("server.key"));
    REQUIRE_OK("s_client: listener", oxs_listen_on(ep, &l));
    memset(&o, 0, sizeof o);
    o.l = l;
    pthread_create(&th, NULL, serve_one, &o);
    snprintf(cmd, sizeof cmd,
             "printf 'from-s_client\\n' | timeout 20 openssl s_client -connect 127.0.0.1:%d -servername localhost "
             "-CAfile %s -verify_return_error -quiet 2>/dev/null",
             port_of(l), P("ca.pem"));
    run_cmd(cmd, out, sizeof out);
    pthread_join(th, NULL);
    CHECK_OK("s_client: the server's read", o.st);
    CHECK("s_client: echoed back to openssl", strstr(out, "from-s_client") != NULL);
    CHECK_STR("s_client: SNI received", o.sni, "localhost");
    oxs_close(l);
}

static void t_python_client(void)
{
    oxs_socket l;
    one_t o;
    pthread_t th;
    char ep[1024], cmd[4096], out[8192];
    snprintf(ep, sizeof ep, "tls://127.0.0.1:0?cert=%s&key=%s&verify=require&ca=%s", P("rsa.pem"), P("rsa.key"),
             P("ca.pem"));
    REQUIRE_OK("python client: listener", oxs_listen_on(ep, &l));
    memset(&o, 0, sizeof o);
    o.l = l;
    pthread_create(&th, NULL, serve_one, &o);
    snprintf(cmd, sizeof cmd,
             "timeout 20 python3 -c '\n"
             "import socket, ssl, sys\n"
             "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
             "ctx.load_cert_chain(sys.argv[2], sys.argv[3])\n"
             "with socket.create_connection((\"127.0.0.1\", int(sys.argv[4]))) as s:\n"
             "    with ctx.wrap_socket(s, server_hostname=\"localhost\") as t:\n"
             "        t.sendall(b\"from-python\")\n"
             "        data = t.recv(100)\n"
             "        end = t.recv(100)\n"
             "        print(data.decode(), t.version(), \"end=%%r\" %% end)\n"
             "' %s %s %s %d 2>&1",
             P("ca.pem"), P("client.pem"), P("client.key"), port_of(l));
    run_cmd(cmd, out, sizeof out);
    pthread_join(th, NULL);
    CHECK_OK("python client: the server's read", o.st);
    CHECK("python client: echo, TLS 1.3, then close_notify (b'')",
          strstr(out, "from-python TLSv1.3 end=b''") != NULL);
    if (!strstr(out, "from-python"))
        printf("python said: %s\n", out);
    CHECK("python client: its certificate reached the server", o.peer_cert_len > 100);
    CHECK_STR("python client: SNI", o.sni, "localhost");
    oxs_close(l);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CERT_DIR\n", argv[0]);
        return 2;
    }
    D = argv[1];
    t_openssl_server();
    t_openssl_tls12();
    t_python_server();
    t_openssl_client();
    t_python_client();
    return CHECK_SUMMARY("tls_peers");
}

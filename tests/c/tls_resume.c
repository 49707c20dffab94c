/*
 * tls_resume.c - contract §12, Configuration: "client sessions made with one config
 * resume one another (TLS session resumption), and servers issue resumption tickets",
 * TLS 1.3 and TLS 1.2, seen by independent peers (oxsock exposes no "resumed" flag):
 *   - oxsock clients -> CPython ssl servers (1.3 and 1.2 only) that answer each
 *     connection with "<SSLSocket.session_reused> <version>": the second connection of
 *     one config resumes; another config's first does not; setting a key forgets them;
 *   - CPython ssl clients -> oxsock servers: a session from one server config resumes
 *     on it (tickets, or TLS 1.2 session ids), and not on another server config.
 * The Rust driver (tests/tls.rs) starts the CPython server (ports in OXS_PY13_PORT,
 * OXS_PY12_PORT) and writes the CPython client script (OXS_RESUME_CLIENT).
 *
 * usage: tls_resume CERT_DIR
 */
#include "check.h"

#include <pthread.h>

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

/* One connection with config c to the CPython server on `port`: its answer line. */
static void ask(oxs_tls_config c, int port, char *line, size_t cap)
{
    oxs_socket s = 0;
    char ep[256];
    size_t n = 0;
    line[0] = 0;
    snprintf(ep, sizeof ep, "tls://localhost:%d", port);
    oxs_status st = oxs_dial_tls(ep, c, 10000, &s);
    if (st != OXS_OK) {
        snprintf(line, cap, "dial: %s", oxs_strerror(st));
        return;
    }
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 10000);
    /* The line comes after the server's TLS 1.3 tickets, which this read takes in. */
    while (n + 1 < cap) {
        size_t got = 0;
        if (oxs_read(s, line + n, 1, &got) != OXS_OK || got == 0)
            break;
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    oxs_shutdown(s, OXS_SHUT_BOTH);
    oxs_close(s);
}

static oxs_tls_config client_config(void)
{
    oxs_tls_config c = 0;
    if (oxs_tls_config_open(OXS_TLS_CLIENT, &c) != OXS_OK)
        return 0;
    if (oxs_tls_config_set(c, OXS_TLS_CA_FILE, P("ca.pem")) != OXS_OK) {
        oxs_tls_config_close(c);
        return 0;
    }
    return c;
}

static void t_client_resumes(const char *ver, int port)
{
    char rule[128], line[256], want[64];
    oxs_tls_config a = client_config(), b = client_config();
    snprintf(rule, sizeof rule, "client %s: configs", ver);
    REQUIRE(rule, a && b && port > 0);
#define ASK(cfg, resumed, what)                                              \
    do {                                                                     \
        ask(cfg, port, line, sizeof line);                                   \
        snprintf(want, sizeof want, "%d TLSv%s", resumed, ver);              \
        snprintf(rule, sizeof rule, "client %s: %s", ver, what);             \
        CHECK_STR(rule, line, want);                                         \
    } while (0)
    ASK(a, 0, "config A's first connection is a full handshake");
    ASK(a, 1, "config A's second connection resumes");
    ASK(a, 1, "config A's third connection resumes");
    ASK(b, 0, "config B does not resume A's session");
    ASK(b, 1, "config B's second connection resumes");
    /* Setting any key forgets the config's resumable sessions. */
    CHECK_OK("client: set ALPN", oxs_tls_config_set(a, OXS_TLS_ALPN, "x-test"));
    ASK(a, 0, "setting a key forgets the sessions");
    ASK(a, 1, "and the next connection resumes again");
#undef ASK
    oxs_tls_config_close(a);
    oxs_tls_config_close(b);
}

/* Serves `n` connections on listener l: echoes one line each. */
typedef struct {
    oxs_socket l;
    int n;
    int served;
} serve_t;

static void *serve(void *arg)
{
    serve_t *sv = arg;
    for (int i = 0; i < sv->n; i++) {
        oxs_pollitem it = {sv->l, OXS_POLL_IN, 0};
        size_t ready = 0;
        if (oxs_poll(&it, 1, 20000, &ready) != OXS_OK || ready == 0)
            return NULL;
        oxs_socket c = 0;
        if (oxs_accept(sv->l, &c, NULL) != OXS_OK)
            return NULL;
        oxs_setopt(c, OXS_OPT_READ_TIMEOUT_MS, 10000);
        oxs_setopt(c, OXS_OPT_WRITE_TIMEOUT_MS, 10000);
        char b[256];
        size_t n = 0;
        while (n < sizeof b) {
            size_t got = 0;
            if (oxs_read(c, b + n, 1, &got) != OXS_OK || got == 0)
                break;
            if (b[n++] == '\n')
                break;
        }
        if (n > 0 && oxs_write_all(c, b, n, NULL) == OXS_OK)
            sv->served++;
        oxs_shutdown(c, OXS_SHUT_BOTH);
        oxs_close(c);
    }
    return NULL;
}

static oxs_tls_config server_config(void)
{
    oxs_tls_config s = 0;
    if (oxs_tls_config_open(OXS_TLS_SERVER, &s) != OXS_OK)
        return 0;
    if (oxs_tls_config_set(s, OXS_TLS_CERT_FILE, P("server.pem")) != OXS_OK ||
        oxs_tls_config_set(s, OXS_TLS_KEY_FILE, P("server.key")) != OXS_OK) {
        oxs_tls_config_close(s);
        return 0;
    }
    return s;
}

static int port_of(oxs_socket l)
{
    oxs_addr a;
    oxs_local_addr(l, &a);
    return oxs_addr_port(&a);
}

static void t_server_resumes(void)
{
    const char *script = getenv("OXS_RESUME_CLIENT");
    REQUIRE("server: client script given", script != NULL);
    oxs_tls_config s1 = server_config(), s2 = server_config();
    REQUIRE("server: configs", s1 && s2);
    oxs_socket l1 = 0, l2 = 0;
    REQUIRE_OK("server: listener 1", oxs_listen_tls("tls://127.0.0.1:0", s1, &l1));
    REQUIRE_OK("server: listener 2", oxs_listen_tls("tls://127.0.0.1:0", s2, &l2));
    /* Per version: two connections to listener 1, then one to listener 2 with listener
     * 1's session. */
    serve_t sv1 = {l1, 4, 0}, sv2 = {l2, 2, 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, serve, &sv1);
    pthread_create(&t2, NULL, serve, &sv2);
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "timeout 60 python3 %s %d %d %s", script, port_of(l1), port_of(l2), P("ca.pem"));
    FILE *f = popen(cmd, "r");
    size_t got = 0;
    if (f) {
        while (got + 1 < sizeof out) {
            size_t n = fread(out + got, 1, sizeof out - 1 - got, f);
            if (n == 0)
                break;
            got += n;
        }
        pclose(f);
    }
    out[got] = 0;
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    printf("CPython client:\n%s", out);
    CHECK_INT("server: listener 1 served its connections", sv1.served, 4);
    CHECK_INT("server: listener 2 served its connections", sv2.served, 2);
    CHECK("server 1.3: a CPython client resumes on the same server config (ticket)",
          strstr(out, "TLSv1.3 first=False second=True other=False ticket=True") != NULL);
    CHECK("server 1.2: a CPython client resumes on the same server config (ticket)",
          strstr(out, "TLSv1.2 first=False second=True other=False ticket=True") != NULL);
    oxs_close(l1);
    oxs_close(l2);
    oxs_tls_config_close(s1);
    oxs_tls_config_close(s2);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CERT_DIR\n", argv[0]);
        return 2;
    }
    D = argv[1];
    t_client_resumes("1.3", env_port("OXS_PY13_PORT"));
    t_client_resumes("1.2", env_port("OXS_PY12_PORT"));
    t_server_resumes();
    return CHECK_SUMMARY("tls_resume");
}

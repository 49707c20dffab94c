/* tls_oxs.c: the TLS benchmark's workloads over oxsock (see tls_common.h). */
#include "tls_common.h"
#include "oxsock.h"

struct conn { oxs_socket s; };
static oxs_socket listeners[1];
static oxs_tls_config client_cfg;

static int t_listen(const char *dir, int *port)
{
    char ep[1024];
    oxs_addr a;
    snprintf(ep, sizeof ep, "tls://127.0.0.1:0?cert=%s/server.pem&key=%s/server.key", dir, dir);
    if (oxs_listen_on(ep, &listeners[0]) != OXS_OK || oxs_local_addr(listeners[0], &a) != OXS_OK)
        return -1;
    *port = oxs_addr_port(&a);
    snprintf(ep, sizeof ep, "%s/ca.pem", dir);
    if (oxs_tls_config_open(OXS_TLS_CLIENT, &client_cfg) != OXS_OK
        || oxs_tls_config_set(client_cfg, OXS_TLS_CA_FILE, ep) != OXS_OK
        /* the same work as the OpenSSL baseline: a numeric connect, SNI and verification
           for "localhost" */
        || oxs_tls_config_set(client_cfg, OXS_TLS_SERVER_NAME, "localhost") != OXS_OK)
        return -1;
    return 0;
}

static conn_t *t_accept(int l)
{
    conn_t *c = malloc(sizeof *c);
    if (oxs_accept(listeners[l], &c->s, NULL) != OXS_OK || oxs_tls_handshake(c->s) != OXS_OK) {
        oxs_close(c->s);
        free(c);
        return NULL;
    }
    oxs_setopt(c->s, OXS_OPT_NODELAY, 1);
    return c;
}

static conn_t *t_connect(const char *dir, int port)
{
    char ep[256];
    conn_t *c = malloc(sizeof *c);
    (void)dir;
    snprintf(ep, sizeof ep, "tls://127.0.0.1:%d?nodelay=1", port);
    if (oxs_dial_tls(ep, client_cfg, 10000, &c->s) != OXS_OK) {
        fprintf(stderr, "%s\n", oxs_last_error());
        free(c);
        return NULL;
    }
    return c;
}

static int t_write_all(conn_t *c, const void *b, size_t n) { return oxs_write_all(c->s, b, n, NULL) == OXS_OK ? 0 : -1; }
static int t_read_exact(conn_t *c, void *b, size_t n) { return oxs_read_exact(c->s, b, n, NULL) == OXS_OK ? 0 : -1; }

static long t_read_some(conn_t *c, void *b, size_t n)
{
    size_t got = 0;
    return oxs_read(c->s, b, n, &got) == OXS_OK ? (long)got : 0;
}

static void t_close(conn_t *c)
{
    oxs_close(c->s);
    free(c);
}

static void t_info(conn_t *c, char *version, char *cipher)
{
    size_t n;
    oxs_tls_info(c->s, OXS_TLS_INFO_VERSION, version, 64, &n);
    oxs_tls_info(c->s, OXS_TLS_INFO_CIPHER, cipher, 128, &n);
}

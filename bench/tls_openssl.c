/* tls_openssl.c: the TLS benchmark's workloads written by hand with OpenSSL over
 * POSIX sockets, the baseline for tls_oxs.c (see tls_common.h). */
#include "tls_common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn { int fd; SSL *ssl; };
static int lfd;
static SSL_CTX *sctx, *cctx;

static int t_listen(const char *dir, int *port)
{
    char path[1024];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int one = 1;
    signal(SIGPIPE, SIG_IGN); /* SSL_shutdown to a peer that has gone */
    sctx = SSL_CTX_new(TLS_server_method());
    cctx = SSL_CTX_new(TLS_client_method());
    snprintf(path, sizeof path, "%s/server.pem", dir);
    if (SSL_CTX_use_certificate_chain_file(sctx, path) != 1)
        return -1;
    snprintf(path, sizeof path, "%s/server.key", dir);
    if (SSL_CTX_use_PrivateKey_file(sctx, path, SSL_FILETYPE_PEM) != 1)
        return -1;
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    if (SSL_CTX_load_verify_locations(cctx, path, NULL) != 1)
        return -1;
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 128) != 0
        || getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return 0;
}

static conn_t *t_accept(int l)
{
    int one = 1;
    conn_t *c = malloc(sizeof *c);
    (void)l;
    c->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c->fd < 0) {
        free(c);
        return NULL;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ssl = SSL_new(sctx);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_accept(c->ssl) != 1) {
        SSL_free(c->ssl);
        close(c->fd);
        free(c);
        return NULL;
    }
    return c;
}

static conn_t *t_connect(const char *dir, int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;
    conn_t *c = malloc(sizeof *c);
    (void)dir;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        free(c);
        return NULL;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ssl = SSL_new(cctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) {
        ERR_print_errors_fp(stderr);
        SSL_free(c->ssl);
        close(c->fd);
        free(c);
        return NULL;
    }
    return c;
}

static int t_write_all(conn_t *c, const void *b, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t w = 0;
        if (SSL_write_ex(c->ssl, (const char *)b + done, n - done, &w) != 1)
            return -1;
        done += w;
    }
    return 0;
}

static int t_read_exact(conn_t *c, void *b, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t r = 0;
        if (SSL_read_ex(c->ssl, (char *)b + done, n - done, &r) != 1)
            return -1;
        done += r;
    }
    return 0;
}

static long t_read_some(conn_t *c, void *b, size_t n)
{
    size_t r = 0;
    return SSL_read_ex(c->ssl, b, n, &r) == 1 ? (long)r : 0;
}

static void t_close(conn_t *c)
{
    SSL_shutdown(c->ssl); /* close_notify, as oxs_close sends */
    SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

static void t_info(conn_t *c, char *version, char *cipher)
{
    snprintf(version, 64, "%s", SSL_get_version(c->ssl));
    snprintf(cipher, 128, "%s", SSL_CIPHER_standard_name(SSL_get_current_cipher(c->ssl)));
}

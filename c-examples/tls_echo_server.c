/* tls_echo_server.c: a TLS line echo server for many clients in ONE thread, with
 * one oxs_poller and non-blocking sockets: poll_server.c with TLS.
 *
 *   usage: tls_echo_server CERT.pem KEY.pem [ENDPOINT]
 *          ENDPOINT defaults to tls://127.0.0.1:7443 (tls://, tls4:// or tls6://)
 *
 * The certificate and key go into a server oxs_tls_config, and oxs_listen_tls
 * listens with it. Every accepted socket is a TLS server whose handshake has not
 * started: accept never waits for a client, and the handshake runs in the
 * client's first oxs_read. A non-blocking socket checks its handshake deadline
 * (OXS_OPT_HANDSHAKE_TIMEOUT_MS, inherited from the listener) only when it is
 * called, so a client that connects and stays silent is cut here, by the
 * poller's one-second wait timeout and a sweep over the clients whose handshake
 * is not done after HANDSHAKE_MS. Prints "listening on ADDRESS", then per client
 * "connection from PEER", "PEER: TLSv1.3 TLS_AES_256_GCM_SHA384 alpn=" once its
 * handshake is done, or "PEER: cut, no TLS handshake within 5000 ms". SIGINT or
 * SIGTERM: closes every socket (each sends close_notify) and exits 0.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"
#include <stdlib.h>
#include <time.h>

#define MAX_CLIENTS 4096
#define OUT_CAP 65536
#define LISTENER_TOKEN 0 /* client i has token i + 1 */

static const char *prog = "tls_echo_server";

#define HANDSHAKE_MS 5000

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct client {
    oxs_socket s;
    int32_t interest; /* what the poller watches for it now */
    int eof;          /* the client closed its side: flush, then close */
    size_t off, len;  /* out[off, len) is still to be written */
    int secure;       /* the TLS handshake is done */
    int64_t since;    /* when it was accepted */
    char peer[OXS_ADDR_STRLEN];
    char out[OUT_CAP];
};

static struct client *clients[MAX_CLIENTS];
static oxs_poller poller = OXS_INVALID;

static void drop(size_t i)
{
    if (oxs_close(clients[i]->s) != OXS_OK) /* also removes it from the poller */
        fail(prog);
    free(clients[i]);
    clients[i] = NULL;
}

/* Reads what is there, writes what it can, then updates the interest.
 * Returns -1 when the client is gone (and dropped). */
static int pump(size_t i)
{
    struct client *c = clients[i];
    int32_t want;
    oxs_status st = OXS_OK;
    size_t n;

    if (!c->eof && c->len < OUT_CAP) {
        st = oxs_read(c->s, c->out + c->len, OUT_CAP - c->len, &n);
        if (st == OXS_OK && n == 0)
            c->eof = 1;
        else if (st == OXS_OK)
            c->len += n;
        else if (st != OXS_ERR_WOULD_BLOCK)
            goto gone;
    }
    while (c->off < c->len) {
        st = oxs_write(c->s, c->out + c->off, c->len - c->off, &n);
        if (st == OXS_ERR_WOULD_BLOCK)
            break; /* the rest waits for OXS_POLL_OUT */
        if (st != OXS_OK)
            goto gone;
        c->off += n;
    }
    if (!c->secure) {
        char version[32], cipher[96], alpn[256];
        size_t len;
        if (oxs_tls_info(c->s, OXS_TLS_INFO_VERSION, version, sizeof version, &len) == OXS_OK
            && oxs_tls_info(c->s, OXS_TLS_INFO_CIPHER, cipher, sizeof cipher, &len) == OXS_OK
            && oxs_tls_info(c->s, OXS_TLS_INFO_ALPN, alpn, sizeof alpn, &len) == OXS_OK) {
            c->secure = 1;
            printf("%s: %s %s alpn=%s\n", c->peer, version, cipher, alpn);
            fflush(stdout);
        }
    }
    if (c->off == c->len)
        c->off = c->len = 0;
    else if (c->off > 0 && c->len == OUT_CAP) { /* make room at the end */
        memmove(c->out, c->out + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->eof && c->len == 0) {
        drop(i);
        return -1;
    }
    want = (c->len > 0 ? OXS_POLL_OUT : 0) | (!c->eof && c->len < OUT_CAP ? OXS_POLL_IN : 0);
    if (want != c->interest) {
        if (oxs_poller_modify(poller, c->s, want, i + 1) != OXS_OK)
            goto gone;
        c->interest = want;
    }
    return 0;
gone:
    if (st == OXS_ERR_TLS || st == OXS_ERR_CERTIFICATE || st == OXS_ERR_UNEXPECTED_EOF || st == OXS_ERR_TIMED_OUT)
        fprintf(stderr, "%s: %s: %s\n", prog, c->peer, oxs_last_error()); /* that client's problem */
    else if (st != OXS_ERR_CONNECTION_RESET && st != OXS_ERR_BROKEN_PIPE)
        fail(prog);
    drop(i);
    return -1;
}

/* Cuts the clients whose TLS handshake is not done after HANDSHAKE_MS. */
static void cut_silent_clients(void)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i] != NULL && !clients[i]->secure && now - clients[i]->since > HANDSHAKE_MS) {
            printf("%s: cut, no TLS handshake within %d ms\n", clients[i]->peer, HANDSHAKE_MS);
            fflush(stdout);
            drop(i);
        }
    }
}

/* Accepts every pending connection. */
static void accept_all(oxs_socket lis)
{
    char text[OXS_ADDR_STRLEN];
    for (;;) {
        oxs_socket s = OXS_INVALID;
        oxs_addr peer;
        size_t i;
        oxs_status st = oxs_accept(lis, &s, &peer);
        if (st == OXS_ERR_WOULD_BLOCK)
            return;
        if (st != OXS_OK) {
            fail(prog); /* e.g. too many open files: try again later */
            return;
        }
        for (i = 0; i < MAX_CLIENTS && clients[i] != NULL; i++)
            ;
        if (i == MAX_CLIENTS || (clients[i] = calloc(1, sizeof **clients)) == NULL) {
            fprintf(stderr, "%s: no room for another client\n", prog);
            oxs_close(s);
            continue;
        }
        clients[i]->s = s;
        clients[i]->interest = OXS_POLL_IN;
        clients[i]->since = now_ms();
        addr_text(&peer, clients[i]->peer);
        if (oxs_setopt(s, OXS_OPT_NONBLOCKING, 1) != OXS_OK /* accepted sockets start blocking */
            || oxs_poller_add(poller, s, OXS_POLL_IN, i + 1) != OXS_OK) {
            fail(prog);
            drop(i);
            continue;
        }
        printf("connection from %s\n", addr_text(&peer, text));
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    oxs_socket lis = OXS_INVALID;
    oxs_tls_config config = OXS_INVALID;
    const char *endpoint = argc > 3 ? argv[3] : "tls://127.0.0.1:7443";
    oxs_addr local;
    oxs_event events[64];
    char text[OXS_ADDR_STRLEN];
    int64_t type = 0;
    size_t i;
    int rc = 0;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s CERT.pem KEY.pem [ENDPOINT]   (default tls://127.0.0.1:7443)\n", prog);
        return 2;
    }
    if (catch_stop_signals() != 0)
        return 1;
    if (oxs_tls_config_open(OXS_TLS_SERVER, &config) != OXS_OK
        || oxs_tls_config_set(config, OXS_TLS_CERT_FILE, argv[1]) != OXS_OK
        || oxs_tls_config_set(config, OXS_TLS_KEY_FILE, argv[2]) != OXS_OK
        || oxs_listen_tls(endpoint, config, &lis) != OXS_OK
        || oxs_tls_config_close(config) != OXS_OK /* the listener keeps its snapshot */
        || oxs_setopt(lis, OXS_OPT_HANDSHAKE_TIMEOUT_MS, HANDSHAKE_MS) != OXS_OK
        || oxs_getopt(lis, OXS_OPT_TYPE, &type) != OXS_OK
        || oxs_setopt(lis, OXS_OPT_NONBLOCKING, 1) != OXS_OK
        || oxs_local_addr(lis, &local) != OXS_OK
        || oxs_poller_open(&poller) != OXS_OK
        || oxs_poller_add(poller, lis, OXS_POLL_IN, LISTENER_TOKEN) != OXS_OK) {
        rc = fail(prog);
        goto out;
    }
    if (type != OXS_TYPE_STREAM) {
        fprintf(stderr, "%s: %s is not a stream endpoint\n", prog, endpoint);
        rc = 2;
        goto out;
    }
    printf("listening on %s\n", addr_text(&local, text));
    fflush(stdout);

    while (!stop_requested) {
        size_t n = 0, k;
        oxs_status st = oxs_poller_wait(poller, events, 64, 1000, &n);
        cut_silent_clients();
        if (st == OXS_ERR_INTERRUPTED)
            continue; /* a signal: the loop condition decides */
        if (st != OXS_OK) {
            rc = fail(prog);
            break;
        }
        for (k = 0; k < n; k++) {
            if (events[k].token == LISTENER_TOKEN)
                accept_all(lis);
            else if (clients[events[k].token - 1] != NULL)
                pump((size_t)events[k].token - 1);
        }
    }

out:
    for (i = 0; i < MAX_CLIENTS; i++)
        if (clients[i] != NULL)
            drop(i);
    if (poller != OXS_INVALID && oxs_poller_close(poller) != OXS_OK)
        rc = fail(prog);
    if (lis != OXS_INVALID && oxs_close(lis) != OXS_OK)
        rc = fail(prog);
    return rc;
}

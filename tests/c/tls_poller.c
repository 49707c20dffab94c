/*
 * tls_poller.c - contract §12 (Waiting): a level-triggered poller loop that asks only
 * for OXS_POLL_IN never stalls during a handshake, nor while a non-blocking write keeps
 * encrypted bytes the kernel would not take yet.
 *
 * Both ends of a Unix socketpair with the smallest kernel buffers, non-blocking, TLS,
 * each registered in one poller for OXS_POLL_IN only; the client sends a certificate
 * chain of ~40 KB (the server requires one), so its second flight fills the kernel
 * buffers: the client must write again once the server has read, while it asks only for
 * IN and the server sends nothing until it has the whole flight. The loop only reacts to the poller's events (reading until
 * OXS_ERR_WOULD_BLOCK), as a program would; it is bounded in rounds and time. Then the
 * same with a write that leaves encrypted bytes pending.
 *
 * usage: tls_poller CERT_DIR
 */
#include "check.h"

#include <errno.h>
#include <time.h>

static const char *D;

static const char *P(const char *name)
{
    static char buf[8][600];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", D, name);
    return buf[i];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *out = malloc(n + 1);
    if (out)
        memcpy(out, buf, n + 1);
    return out;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A config of `side` whose chain is `leaf` and then 30 RSA certificates (~40 KB). */
static oxs_tls_config big_chain(int side, const char *leaf_name, const char *key_name)
{
    oxs_tls_config c = 0;
    char *leaf = slurp(P(leaf_name)), *rsa = slurp(P("rsa.pem"));
    size_t ll = leaf ? strlen(leaf) : 0, rl = rsa ? strlen(rsa) : 0;
    char *chain = leaf && rsa ? malloc(ll + 30 * rl + 1) : NULL;
    if (chain) {
        memcpy(chain, leaf, ll);
        for (int i = 0; i < 30; i++)
            memcpy(chain + ll + i * rl, rsa, rl);
        chain[ll + 30 * rl] = 0;
        if (oxs_tls_config_open(side, &c) != OXS_OK || oxs_tls_config_set(c, OXS_TLS_CERT_PEM, chain) != OXS_OK ||
            oxs_tls_config_set(c, OXS_TLS_KEY_FILE, P(key_name)) != OXS_OK) {
            oxs_tls_config_close(c);
            c = 0;
        }
    }
    free(chain);
    free(leaf);
    free(rsa);
    return c;
}

/* A socketpair with the kernel's smallest buffers, both ends non-blocking. */
static int tiny_pair(oxs_socket sp[2])
{
    if (oxs_socketpair(OXS_TYPE_STREAM, sp) != OXS_OK)
        return 0;
    for (int i = 0; i < 2; i++) {
        oxs_setopt(sp[i], OXS_OPT_SEND_BUFFER, 1024);
        oxs_setopt(sp[i], OXS_OPT_RECV_BUFFER, 1024);
        oxs_setopt(sp[i], OXS_OPT_NONBLOCKING, 1);
    }
    return 1;
}

/* Reads until OXS_ERR_WOULD_BLOCK; returns the last status, adds plaintext to *got. */
static oxs_status drain(oxs_socket s, size_t *got)
{
    char b[4096];
    for (int i = 0; i < 10000; i++) {
        size_t n = 0;
        oxs_status st = oxs_read(s, b, sizeof b, &n);
        if (st != OXS_OK)
            return st;
        if (n == 0)
            return OXS_OK; /* close_notify */
        *got += n;
    }
    return OXS_ERR_WOULD_BLOCK;
}

/* The poller loop: waits, reads every socket reported, until `done` says so. Returns
 * the number of rounds, or -1 when the time bound or the round bound ran out. */
static int loop(oxs_poller p, oxs_socket sp[2], size_t got[2], int (*done)(oxs_socket *, size_t *))
{
    double start = now_s();
    for (int round = 0; round < 20000; round++) {
        if (done(sp, got))
            return round;
        if (now_s() - start > 10)
            return -1;
        oxs_event ev[4];
        size_t n = 0;
        oxs_status st = oxs_poller_wait(p, ev, 4, 200, &n);
        if (st != OXS_OK && st != OXS_ERR_INTERRUPTED)
            return -1;
        for (size_t i = 0; i < n; i++) {
            int k = (int)ev[i].token;
            if (getenv("OXS_TEST_DEBUG")) {
                int64_t w0 = 0, w1 = 0;
                oxs_getopt(sp[0], OXS_OPT_TLS_WANTS, &w0);
                oxs_getopt(sp[1], OXS_OPT_TLS_WANTS, &w1);
                printf("round %d: token %d events %d; wants %lld %lld\n", round, k, ev[i].events,
                       (long long)w0, (long long)w1);
            }
            if (!(ev[i].events & OXS_POLL_IN) && !(ev[i].events & (OXS_POLL_ERR | OXS_POLL_HUP)))
                continue;
            oxs_status r = drain(sp[k], &got[k]);
            if (r != OXS_OK && r != OXS_ERR_WOULD_BLOCK) {
                printf("side %d: read %s\n", k, oxs_strerror(r));
                return -1;
            }
        }
    }
    return -1;
}

static int handshakes_done(oxs_socket *sp, size_t *got)
{
    /* oxs_tls_info does not drive the handshake: NOT_CONNECTED until it is done. */
    char b[64];
    size_t n = 0;
    (void)got;
    return oxs_tls_info(sp[0], OXS_TLS_INFO_VERSION, b, sizeof b, &n) == OXS_OK &&
           oxs_tls_info(sp[1], OXS_TLS_INFO_VERSION, b, sizeof b, &n) == OXS_OK;
}

static int nothing_pending(oxs_socket *sp, size_t *got)
{
    int64_t w0 = -1, w1 = -1;
    (void)got;
    oxs_getopt(sp[0], OXS_OPT_TLS_WANTS, &w0);
    oxs_getopt(sp[1], OXS_OPT_TLS_WANTS, &w1);
    return !(w0 & OXS_POLL_OUT) && !(w1 & OXS_POLL_OUT);
}

static size_t want_bytes;
static int all_received(oxs_socket *sp, size_t *got)
{
    (void)sp;
    return got[1] >= want_bytes;
}

static void t_handshake_in_only(void)
{
    oxs_tls_config s = 0, c = big_chain(OXS_TLS_CLIENT, "client.pem", "client.key");
    oxs_socket sp[2] = {0, 0};
    oxs_poller p = 0;
    REQUIRE("in-only: client config with a big chain", c != 0);
    CHECK_OK("in-only: client VERIFY none", oxs_tls_config_set(c, OXS_TLS_VERIFY, "none"));
    REQUIRE_OK("in-only: server config", oxs_tls_config_open(OXS_TLS_SERVER, &s));
    CHECK_OK("in-only: server cert", oxs_tls_config_set(s, OXS_TLS_CERT_FILE, P("server.pem")));
    CHECK_OK("in-only: server key", oxs_tls_config_set(s, OXS_TLS_KEY_FILE, P("server.key")));
    CHECK_OK("in-only: server CA", oxs_tls_config_set(s, OXS_TLS_CA_FILE, P("ca.pem")));
    CHECK_OK("in-only: server asks for a client certificate", oxs_tls_config_set(s, OXS_TLS_VERIFY, "require"));
    REQUIRE("in-only: socketpair", tiny_pair(sp));
    int64_t v = 0;
    oxs_getopt(sp[0], OXS_OPT_SEND_BUFFER, &v);
    printf("send buffer %lld bytes\n", (long long)v);
    REQUIRE_OK("in-only: poller", oxs_poller_open(&p));
    /* sp[0] client (token 0), sp[1] server (token 1); both asking only for IN. */
    CHECK_ST("in-only: client connect starts", oxs_tls_connect(sp[0], c, NULL), OXS_ERR_WOULD_BLOCK);
    CHECK_ST("in-only: server accept starts", oxs_tls_accept(sp[1], s), OXS_ERR_WOULD_BLOCK);
    CHECK_OK("in-only: add client, IN", oxs_poller_add(p, sp[0], OXS_POLL_IN, 0));
    CHECK_OK("in-only: add server, IN", oxs_poller_add(p, sp[1], OXS_POLL_IN, 1));
    size_t got[2] = {0, 0};
    int rounds = loop(p, sp, got, handshakes_done);
    printf("handshake over the poller: %d rounds\n", rounds);
    CHECK("in-only: the handshake ends, driven by IN events only", rounds >= 0);
    /* The server's tickets may still wait for the kernel: the same loop sends them. */
    rounds = loop(p, sp, got, nothing_pending);
    CHECK("in-only: the tickets leave, driven by IN events only", rounds >= 0);
    int64_t w = -1;

    /* Done: after reading until OXS_ERR_WOULD_BLOCK (the server's tickets), the poller
     * is back to IN only, and an idle pair reports nothing. */
    CHECK_ST("in-only: client drained", drain(sp[0], &got[0]), OXS_ERR_WOULD_BLOCK);
    CHECK_ST("in-only: server drained", drain(sp[1], &got[1]), OXS_ERR_WOULD_BLOCK);
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        oxs_event ev[4];
        size_t n = 0;
        oxs_poller_wait(p, ev, 4, 100, &n);
        for (size_t j = 0; j < n; j++)
            printf("idle: token %d events %d\n", (int)ev[j].token, ev[j].events);
        total += n;
    }
    CHECK("in-only: no busy OUT wake-ups once the handshake is done", total == 0);

    /* A non-blocking write that leaves encrypted bytes pending, then only IN events:
     * the poller wakes the writer when the kernel takes them (its read sends them). */
    static char big[200000];
    memset(big, 'x', sizeof big);
    size_t sent = 0;
    for (int i = 0; i < 1000 && sent < sizeof big; i++) {
        size_t n = 0;
        oxs_status st = oxs_write(sp[0], big + sent, sizeof big - sent, &n);
        sent += n;
        if (st == OXS_ERR_WOULD_BLOCK || n == 0)
            break;
    }
    CHECK_OK("pending: TLS_WANTS", oxs_getopt(sp[0], OXS_OPT_TLS_WANTS, &w));
    printf("written %zu bytes, wants %lld\n", sent, (long long)w);
    CHECK("pending: the writer has encrypted bytes waiting", (w & OXS_POLL_OUT) != 0);
    want_bytes = sent;
    rounds = loop(p, sp, got, all_received);
    printf("pending bytes over the poller: %d rounds, %zu of %zu bytes\n", rounds, got[1], sent);
    CHECK("pending: every accepted byte arrives, driven by IN events only", rounds >= 0 && got[1] == sent);

    oxs_close(sp[0]);
    oxs_close(sp[1]);
    oxs_poller_close(p);
    oxs_tls_config_close(c);
    oxs_tls_config_close(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CERT_DIR\n", argv[0]);
        return 2;
    }
    D = argv[1];
    t_handshake_in_only();
    return CHECK_SUMMARY("tls_poller");
}

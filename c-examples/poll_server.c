/* poll_server.c: a line echo server for many clients in ONE thread, with one
 * oxs_poller (epoll/kqueue) and non-blocking sockets.
 *
 *   usage: poll_server ENDPOINT      a stream endpoint: tcp://127.0.0.1:7000,
 *                                    tcp6://[::1]:0, unix:///tmp/poll.sock, unix://@name
 *
 * Each client has an output buffer. What it sends is appended there and
 * written as far as the socket takes it; a partial write keeps the rest and
 * asks the poller for OXS_POLL_OUT, and a full buffer stops reading that
 * client (no OXS_POLL_IN) until it drains, so a client that sends without
 * reading cannot make the server grow without bound. Prints "listening on
 * ADDRESS" once ready and "connection from PEER" per connection. SIGINT or
 * SIGTERM makes oxs_poller_wait return OXS_ERR_INTERRUPTED: it closes every
 * socket and exits 0.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"
#include <stdlib.h>

#define MAX_CLIENTS 4096
#define OUT_CAP 65536
#define LISTENER_TOKEN 0 /* client i has token i + 1 */

static const char *prog = "poll_server";

struct client {
    oxs_socket s;
    int32_t interest; /* what the poller watches for it now */
    int eof;          /* the client closed its side: flush, then close */
    size_t off, len;  /* out[off, len) is still to be written */
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
    if (st != OXS_ERR_CONNECTION_RESET && st != OXS_ERR_BROKEN_PIPE)
        fail(prog);
    drop(i);
    return -1;
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
    oxs_addr local;
    oxs_event events[64];
    char text[OXS_ADDR_STRLEN];
    int64_t type = 0;
    size_t i;
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ENDPOINT   (e.g. tcp://127.0.0.1:7000)\n", prog);
        return 2;
    }
    if (catch_stop_signals() != 0)
        return 1;
    if (oxs_listen_on(argv[1], &lis) != OXS_OK
        || oxs_getopt(lis, OXS_OPT_TYPE, &type) != OXS_OK
        || oxs_setopt(lis, OXS_OPT_NONBLOCKING, 1) != OXS_OK
        || oxs_local_addr(lis, &local) != OXS_OK
        || oxs_poller_open(&poller) != OXS_OK
        || oxs_poller_add(poller, lis, OXS_POLL_IN, LISTENER_TOKEN) != OXS_OK) {
        rc = fail(prog);
        goto out;
    }
    if (type != OXS_TYPE_STREAM) {
        fprintf(stderr, "%s: %s is not a stream endpoint\n", prog, argv[1]);
        rc = 2;
        goto out;
    }
    printf("listening on %s\n", addr_text(&local, text));
    fflush(stdout);

    while (!stop_requested) {
        size_t n = 0, k;
        oxs_status st = oxs_poller_wait(poller, events, 64, -1, &n);
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

/* kv_oxsock.c: kv_posix.c, the classic POSIX key-value server, ported to
 * oxsock with as small a diff as possible: `diff -u kv_posix.c kv_oxsock.c`.
 * Sockets are oxs_socket handles, poll() is oxs_poll(), the getaddrinfo loop is
 * oxs_listen_on(), the partial-write loop is oxs_write_all(), and there is no
 * SIGPIPE or EINTR handling to get wrong.
 *
 *   usage: kv_oxsock HOST PORT        (PORT 0 picks a free port; HOST * = every address)
 *
 * Protocol: one command per line (LF or CRLF), one reply line per command.
 *   SET key value   OK                        (the value is the rest of the line)
 *   GET key         VALUE value | NOT_FOUND
 *   DEL key         OK | NOT_FOUND
 *   QUIT            OK, then the server closes the connection
 *   anything else   ERR <reason>
 * Many clients at once: one thread, oxs_poll(), non-blocking sockets, replies
 * buffered per client and written with oxs_write_all().
 */
#define _POSIX_C_SOURCE 200809L

#include <oxsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLIENTS 64
#define LINE_CAP 1024                /* longest command line, without its newline */
#define OUT_CAP (4 * LINE_CAP)       /* per-client reply buffer */
#define REPLY_ROOM (LINE_CAP + 16)   /* room one reply may need */
#define NBUCKETS 256
#define NO_SOCK OXS_INVALID

/* ---- the store (untouched by the port) ---------------------------------- */

struct entry {
    char *key;
    char *value;
    struct entry *next;
};
static struct entry *buckets[NBUCKETS];

static unsigned hash(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h % NBUCKETS;
}

static struct entry **find(const char *key)
{
    struct entry **p = &buckets[hash(key)];
    while (*p && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

static int store_set(const char *key, const char *value)
{
    struct entry **p = find(key);
    char *v = strdup(value);
    if (!v)
        return -1;
    if (*p) {
        free((*p)->value);
        (*p)->value = v;
        return 0;
    }
    struct entry *e = malloc(sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        free(v);
        return -1;
    }
    e->value = v;
    e->next = NULL;
    *p = e;
    return 0;
}

static const char *store_get(const char *key)
{
    struct entry *e = *find(key);
    return e ? e->value : NULL;
}

static int store_del(const char *key)
{
    struct entry **p = find(key), *e = *p;
    if (!e)
        return 0;
    *p = e->next;
    free(e->key);
    free(e->value);
    free(e);
    return 1;
}

/* ---- clients ------------------------------------------------------------ */

struct client {
    oxs_socket sock;          /* NO_SOCK: a free slot */
    char in[LINE_CAP + 1];    /* bytes received, not yet a whole line */
    size_t inlen;
    char out[OUT_CAP];        /* replies not yet written */
    size_t outlen;
    int eof;                  /* the peer sent its last byte */
    int quit;                 /* QUIT or a protocol error: close once out is written */
};
static struct client clients[MAX_CLIENTS];

static void reply(struct client *c, const char *word, const char *text)
{
    int n = snprintf(c->out + c->outlen, OUT_CAP - c->outlen, "%s%s%s\n", word,
                     text ? " " : "", text ? text : "");
    if (n > 0 && (size_t)n < OUT_CAP - c->outlen)
        c->outlen += (size_t)n;
}

/* Runs one command line (NUL-terminated, newline removed) and queues its reply. */
static void run_command(struct client *c, char *line)
{
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';

    if (strcmp(line, "SET") == 0) {
        char *value = arg ? strchr(arg, ' ') : NULL;
        if (!value || value == arg) {
            reply(c, "ERR", "usage: SET key value");
            return;
        }
        *value++ = '\0';
        if (store_set(arg, value) != 0)
            reply(c, "ERR", "out of memory");
        else
            reply(c, "OK", NULL);
    } else if (strcmp(line, "GET") == 0 || strcmp(line, "DEL") == 0) {
        if (!arg || !*arg || strchr(arg, ' ')) {
            reply(c, "ERR", line[0] == 'G' ? "usage: GET key" : "usage: DEL key");
            return;
        }
        if (line[0] == 'G') {
            const char *value = store_get(arg);
            if (value)
                reply(c, "VALUE", value);
            else
                reply(c, "NOT_FOUND", NULL);
        } else {
            reply(c, store_del(arg) ? "OK" : "NOT_FOUND", NULL);
        }
    } else if (strcmp(line, "QUIT") == 0 && !arg) {
        reply(c, "OK", NULL);
        c->quit = 1;
    } else if (line[0] == '\0') {
        reply(c, "ERR", "empty command");
    } else {
        reply(c, "ERR", "unknown command");
    }
}

/* Runs every whole line received, as long as the reply buffer has room. */
static void run_lines(struct client *c)
{
    while (!c->quit && OUT_CAP - c->outlen >= REPLY_ROOM) {
        char *nl = memchr(c->in, '\n', c->inlen);
        if (!nl) {
            if (c->inlen >= LINE_CAP) {
                reply(c, "ERR", "line too long");
                c->quit = 1;
            }
            return;
        }
        *nl = '\0';
        run_command(c, c->in);
        size_t used = (size_t)(nl + 1 - c->in);
        memmove(c->in, nl + 1, c->inlen - used);
        c->inlen -= used;
    }
}

static int set_nonblocking(oxs_socket sock)
{
    if (oxs_setopt(sock, OXS_OPT_NONBLOCKING, 1) != OXS_OK)
        return -1;
    return 0;
}

static void drop_client(struct client *c)
{
    oxs_close(c->sock);
    c->sock = NO_SOCK;
}

/* Reads what the socket has. Returns -1 when the connection failed. */
static int read_client(struct client *c)
{
    while (!c->eof && c->inlen < LINE_CAP) {
        size_t n;
        oxs_status st = oxs_read(c->sock, c->in + c->inlen, LINE_CAP - c->inlen, &n);
        if (st == OXS_ERR_WOULD_BLOCK)
            return 0;
        if (st != OXS_OK) {
            fprintf(stderr, "kv_oxsock: %s\n", oxs_last_error());
            return -1;
        }
        if (n == 0)
            c->eof = 1;
        c->inlen += n;
        run_lines(c);
    }
    return 0;
}

/* Writes queued replies: oxs_write_all is the partial-write loop, and on a
 * non-blocking handle it stops at OXS_ERR_WOULD_BLOCK with the count so far.
 * Returns -1 when the connection failed. */
static int flush_client(struct client *c)
{
    size_t done = 0;
    oxs_status st = oxs_write_all(c->sock, c->out, c->outlen, &done);
    if (st != OXS_OK && st != OXS_ERR_WOULD_BLOCK) {
        fprintf(stderr, "kv_oxsock: %s\n", oxs_last_error());
        return -1;
    }
    memmove(c->out, c->out + done, c->outlen - done);
    c->outlen -= done;
    return 0;
}

static void accept_clients(oxs_socket listener)
{
    for (;;) {
        oxs_socket sock;
        oxs_status st = oxs_accept(listener, &sock, NULL);
        if (st == OXS_ERR_CONNECTION_ABORTED)
            continue;
        if (st != OXS_OK) {
            if (st != OXS_ERR_WOULD_BLOCK)
                fprintf(stderr, "kv_oxsock: %s\n", oxs_last_error());
            return;
        }
        struct client *c = NULL;
        for (int i = 0; i < MAX_CLIENTS && !c; i++)
            if (clients[i].sock == NO_SOCK)
                c = &clients[i];
        if (!c || set_nonblocking(sock) != 0) {
            static const char full[] = "ERR server full\n";
            size_t sent;
            (void)oxs_send(sock, full, sizeof full - 1, OXS_MSG_DONTWAIT, &sent);
            oxs_close(sock);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->sock = sock;
    }
}

/* ---- the listener ------------------------------------------------------- */

static oxs_socket open_listener(const char *host, const char *port)
{
    char endpoint[600];
    const char *fmt = strchr(host, ':') ? "tcp://[%s]:%s" : "tcp://%s:%s";
    oxs_socket sock = NO_SOCK;
    if (snprintf(endpoint, sizeof endpoint, fmt, host, port) >= (int)sizeof endpoint
        || oxs_listen_on(endpoint, &sock) != OXS_OK) {
        fprintf(stderr, "kv_oxsock: %s\n", oxs_last_error());
        return NO_SOCK;
    }
    if (set_nonblocking(sock) != 0) {
        fprintf(stderr, "kv_oxsock: %s\n", oxs_last_error());
        oxs_close(sock);
        return NO_SOCK;
    }
    return sock;
}

static int print_listening(oxs_socket listener)
{
    oxs_addr a;
    size_t len;
    char text[OXS_ADDR_STRLEN];
    if (oxs_local_addr(listener, &a) != OXS_OK
        || oxs_addr_format(&a, text, sizeof text, &len) != OXS_OK) {
        fprintf(stderr, "kv_oxsock: %s\n", oxs_last_error());
        return -1;
    }
    printf("listening on %s\n", text);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    oxs_socket listener = open_listener(argv[1], argv[2]);
    if (listener == NO_SOCK || print_listening(listener) != 0)
        return 1;
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].sock = NO_SOCK;

    oxs_pollitem pfds[MAX_CLIENTS + 1];
    struct client *owner[MAX_CLIENTS + 1];
    for (;;) {
        size_t n = 0, nready;
        pfds[n].socket = listener;
        pfds[n].events = OXS_POLL_IN;
        owner[n++] = NULL;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            if (c->sock == NO_SOCK)
                continue;
            pfds[n].socket = c->sock;
            pfds[n].events = 0;
            if (!c->eof && !c->quit && c->inlen < LINE_CAP)
                pfds[n].events |= OXS_POLL_IN;
            if (c->outlen > 0)
                pfds[n].events |= OXS_POLL_OUT;
            owner[n++] = c;
        }

        oxs_status st = oxs_poll(pfds, n, -1, &nready);
        if (st != OXS_OK) {
            if (st == OXS_ERR_INTERRUPTED)
                continue;
            fprintf(stderr, "kv_oxsock: %s\n", oxs_last_error());
            return 1;
        }
        if (pfds[0].revents & OXS_POLL_IN)
            accept_clients(listener);

        for (size_t k = 1; k < n; k++) {
            struct client *c = owner[k];
            int32_t ev = pfds[k].revents;
            if (ev == 0)
                continue;
            if ((ev & (OXS_POLL_IN | OXS_POLL_HUP | OXS_POLL_ERR)) && read_client(c) != 0) {
                drop_client(c);
                continue;
            }
            run_lines(c);
            if (flush_client(c) != 0) {
                drop_client(c);
                continue;
            }
            run_lines(c);
            int finished = c->quit || (c->eof && !memchr(c->in, '\n', c->inlen));
            if (finished && c->outlen == 0)
                drop_client(c);
        }
    }
}

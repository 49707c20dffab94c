/* kv_posix.c: a small line-based key-value server, written the classic way
 * against POSIX sockets. It is the "before" of a port: kv_oxsock.c is the same
 * program on oxsock, and `diff -u kv_posix.c kv_oxsock.c` shows the port.
 *
 *   usage: kv_posix HOST PORT        (PORT 0 picks a free port; HOST * = every address)
 *
 * Protocol: one command per line (LF or CRLF), one reply line per command.
 *   SET key value   OK                        (the value is the rest of the line)
 *   GET key         VALUE value | NOT_FOUND
 *   DEL key         OK | NOT_FOUND
 *   QUIT            OK, then the server closes the connection
 *   anything else   ERR <reason>
 * Many clients at once: one thread, poll(), non-blocking sockets, replies
 * buffered per client and written with partial-write loops.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define LINE_CAP 1024                /* longest command line, without its newline */
#define OUT_CAP (4 * LINE_CAP)       /* per-client reply buffer */
#define REPLY_ROOM (LINE_CAP + 16)   /* room one reply may need */
#define NBUCKETS 256
#define NO_SOCK (-1)

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
    int sock;                 /* NO_SOCK: a free slot */
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

static int set_nonblocking(int sock)
{
    int flags = fcntl(sock, F_GETFL);
    if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

static void drop_client(struct client *c)
{
    close(c->sock);
    c->sock = NO_SOCK;
}

/* Reads what the socket has. Returns -1 when the connection failed. */
static int read_client(struct client *c)
{
    while (!c->eof && c->inlen < LINE_CAP) {
        ssize_t n = read(c->sock, c->in + c->inlen, LINE_CAP - c->inlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0) {
            fprintf(stderr, "kv_posix: read: %s\n", strerror(errno));
            return -1;
        }
        if (n == 0)
            c->eof = 1;
        c->inlen += (size_t)n;
        run_lines(c);
    }
    return 0;
}

/* Writes queued replies: a partial-write loop. Returns -1 when the connection failed. */
static int flush_client(struct client *c)
{
    size_t done = 0;
    while (done < c->outlen) {
        ssize_t n = send(c->sock, c->out + done, c->outlen - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            fprintf(stderr, "kv_posix: send: %s\n", strerror(errno));
            return -1;
        }
        done += (size_t)n;
    }
    memmove(c->out, c->out + done, c->outlen - done);
    c->outlen -= done;
    return 0;
}

static void accept_clients(int listener)
{
    for (;;) {
        int sock = accept(listener, NULL, NULL);
        if (sock < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (sock < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "kv_posix: accept: %s\n", strerror(errno));
            return;
        }
        struct client *c = NULL;
        for (int i = 0; i < MAX_CLIENTS && !c; i++)
            if (clients[i].sock == NO_SOCK)
                c = &clients[i];
        if (!c || set_nonblocking(sock) != 0) {
            static const char full[] = "ERR server full\n";
            (void)send(sock, full, sizeof full - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(sock);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->sock = sock;
    }
}

/* ---- the listener ------------------------------------------------------- */

static int open_listener(const char *host, const char *port)
{
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int err = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "kv_posix: %s:%s: %s\n", host, port, gai_strerror(err));
        return NO_SOCK;
    }
    int sock = NO_SOCK, saved = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        sock = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (sock < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        (void)setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(sock, ai->ai_addr, ai->ai_addrlen) == 0 && listen(sock, SOMAXCONN) == 0)
            break;
        saved = errno;
        close(sock);
        sock = NO_SOCK;
    }
    freeaddrinfo(res);
    if (sock == NO_SOCK) {
        fprintf(stderr, "kv_posix: listen on %s:%s: %s\n", host, port, strerror(saved));
        return NO_SOCK;
    }
    if (set_nonblocking(sock) != 0) {
        fprintf(stderr, "kv_posix: fcntl: %s\n", strerror(errno));
        close(sock);
        return NO_SOCK;
    }
    return sock;
}

static int print_listening(int listener)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char text[INET6_ADDRSTRLEN];
    if (getsockname(listener, (struct sockaddr *)&ss, &len) != 0) {
        fprintf(stderr, "kv_posix: getsockname: %s\n", strerror(errno));
        return -1;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        printf("listening on [%s]:%u\n", text, (unsigned)ntohs(sin6->sin6_port));
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        printf("listening on %s:%u\n", text, (unsigned)ntohs(sin->sin_port));
    }
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    int listener = open_listener(argv[1], argv[2]);
    if (listener == NO_SOCK || print_listening(listener) != 0)
        return 1;
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].sock = NO_SOCK;

    struct pollfd pfds[MAX_CLIENTS + 1];
    struct client *owner[MAX_CLIENTS + 1];
    for (;;) {
        nfds_t n = 0;
        pfds[n].fd = listener;
        pfds[n].events = POLLIN;
        owner[n++] = NULL;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            struct client *c = &clients[i];
            if (c->sock == NO_SOCK)
                continue;
            pfds[n].fd = c->sock;
            pfds[n].events = 0;
            if (!c->eof && !c->quit && c->inlen < LINE_CAP)
                pfds[n].events |= POLLIN;
            if (c->outlen > 0)
                pfds[n].events |= POLLOUT;
            owner[n++] = c;
        }

        if (poll(pfds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "kv_posix: poll: %s\n", strerror(errno));
            return 1;
        }
        if (pfds[0].revents & POLLIN)
            accept_clients(listener);

        for (nfds_t k = 1; k < n; k++) {
            struct client *c = owner[k];
            short ev = pfds[k].revents;
            if (ev == 0)
                continue;
            if ((ev & (POLLIN | POLLHUP | POLLERR)) && read_client(c) != 0) {
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

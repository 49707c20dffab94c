/* echo_server.c: an echo server for ANY endpoint, with oxs_listen_on.
 *
 *   usage: echo_server ENDPOINT
 *     tcp://127.0.0.1:7000   tcp6://[::1]:7000   unix:///tmp/echo.sock   unix://@name
 *     unixpacket:///tmp/p.sock   udp://127.0.0.1:7000   unixgram:///tmp/g.sock
 *     (port 0 picks a free port; the "listening on" line shows the one chosen)
 *
 * Stream and seqpacket endpoints: one thread per connection echoes what it
 * reads. Datagram endpoints: every datagram goes back to its sender
 * (oxs_recv_from / oxs_send_to). Prints "listening on ADDRESS" once ready and
 * one line per connection (or datagram). SIGINT or SIGTERM stops it: the main
 * thread's blocked call returns OXS_ERR_INTERRUPTED, the open connections are
 * shut down, their threads finish, and it exits 0. oxs_listen_on removes a
 * Unix socket file when the listener is closed.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"
#include <errno.h>
#include <pthread.h>
#include <time.h>

#define MAX_CONNS 256

static const char *prog = "echo_server";

/* The open connections, so that a stop can shut them down. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_done = PTHREAD_COND_INITIALIZER;
static oxs_socket conns[MAX_CONNS];
static int nconns = 0;

static void *serve_connection(void *arg)
{
    char buf[65536]; /* seqpacket: a longer record fails with OXS_ERR_MESSAGE_TOO_LONG */
    oxs_socket conn = *(oxs_socket *)arg;
    int i;
    for (;;) {
        size_t n = 0;
        oxs_status st = oxs_read(conn, buf, sizeof buf, &n);
        if (st != OXS_OK) {
            if (st != OXS_ERR_CLOSED)
                fail(prog);
            break;
        }
        if (n == 0)
            break; /* the end of the stream (or, on seqpacket, of the records) */
        if (oxs_write_all(conn, buf, n, NULL) != OXS_OK) {
            fail(prog);
            break;
        }
    }
    pthread_mutex_lock(&conns_lock);
    for (i = 0; i < MAX_CONNS; i++)
        if (conns[i] == conn)
            conns[i] = OXS_INVALID;
    if (oxs_close(conn) != OXS_OK)
        fail(prog);
    nconns--;
    pthread_cond_signal(&conns_done);
    pthread_mutex_unlock(&conns_lock);
    return NULL;
}

/* Starts a thread for conn, with SIGINT/SIGTERM blocked so that they reach the
 * main thread. Returns 0, or -1 when the server is full or the thread fails. */
static int start_connection(oxs_socket conn)
{
    sigset_t stop, old;
    pthread_t t;
    int i, err;
    pthread_mutex_lock(&conns_lock);
    for (i = 0; i < MAX_CONNS && conns[i] != OXS_INVALID; i++)
        ;
    if (i == MAX_CONNS) {
        pthread_mutex_unlock(&conns_lock);
        fprintf(stderr, "%s: too many connections\n", prog);
        return -1;
    }
    conns[i] = conn;
    nconns++;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    err = pthread_create(&t, NULL, serve_connection, &conns[i]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        conns[i] = OXS_INVALID;
        nconns--;
    } else {
        pthread_detach(t);
    }
    pthread_mutex_unlock(&conns_lock); /* the thread reads conns[i] only after this */
    if (err != 0)
        fprintf(stderr, "%s: pthread_create: %s\n", prog, strerror(err));
    return err != 0 ? -1 : 0;
}

/* Shuts every open connection down (their reads return 0) and waits, at most
 * 5 seconds, for their threads to close them. */
static void stop_connections(void)
{
    struct timespec deadline;
    int i;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&conns_lock);
    for (i = 0; i < MAX_CONNS; i++)
        if (conns[i] != OXS_INVALID)
            oxs_shutdown(conns[i], OXS_SHUT_BOTH); /* a failure means it is ending anyway */
    while (nconns > 0)
        if (pthread_cond_timedwait(&conns_done, &conns_lock, &deadline) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&conns_lock);
}

static int serve_stream(oxs_socket lis)
{
    char text[OXS_ADDR_STRLEN];
    while (!stop_requested) {
        oxs_socket conn = OXS_INVALID;
        oxs_addr peer;
        oxs_status st = oxs_accept(lis, &conn, &peer);
        if (st == OXS_ERR_INTERRUPTED || st == OXS_ERR_CONNECTION_ABORTED)
            continue;
        if (st != OXS_OK)
            return fail(prog);
        printf("connection from %s\n", addr_text(&peer, text));
        fflush(stdout);
        if (start_connection(conn) != 0)
            oxs_close(conn);
    }
    return 0;
}

static int serve_datagrams(oxs_socket s)
{
    static char buf[65536];
    char text[OXS_ADDR_STRLEN];
    while (!stop_requested) {
        oxs_addr from;
        size_t n = 0, sent = 0;
        oxs_status st = oxs_recv_from(s, buf, sizeof buf, &n, &from);
        if (st == OXS_ERR_INTERRUPTED)
            continue;
        if (st == OXS_ERR_CONNECTION_REFUSED || st == OXS_ERR_MESSAGE_TOO_LONG) {
            fail(prog); /* an ICMP error for an earlier reply, or a huge datagram: go on */
            continue;
        }
        if (st != OXS_OK)
            return fail(prog);
        printf("datagram from %s (%zu bytes)\n", addr_text(&from, text), n);
        fflush(stdout);
        if (oxs_send_to(s, buf, n, &from, &sent) != OXS_OK)
            fail(prog); /* e.g. an unnamed sender cannot be answered: go on */
    }
    return 0;
}

int main(int argc, char **argv)
{
    oxs_socket lis = OXS_INVALID;
    oxs_addr local;
    char text[OXS_ADDR_STRLEN];
    int64_t type = 0;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s ENDPOINT   (e.g. tcp://127.0.0.1:7000, unix:///tmp/x.sock)\n", prog);
        return 2;
    }
    if (catch_stop_signals() != 0)
        return 1;
    if (oxs_listen_on(argv[1], &lis) != OXS_OK
        || oxs_setopt(lis, OXS_OPT_INTERRUPTIBLE, 1) != OXS_OK
        || oxs_getopt(lis, OXS_OPT_TYPE, &type) != OXS_OK
        || oxs_local_addr(lis, &local) != OXS_OK) {
        rc = fail(prog);
        oxs_close(lis);
        return rc;
    }
    printf("listening on %s\n", addr_text(&local, text));
    fflush(stdout);

    rc = type == OXS_TYPE_DGRAM ? serve_datagrams(lis) : serve_stream(lis);

    if (oxs_close(lis) != OXS_OK) /* also removes a Unix socket file */
        rc = fail(prog);
    stop_connections();
    return rc;
}

/* fd_pass_server.c: a listener process that hands each accepted connection to a
 * worker process over a Unix socket (SCM_RIGHTS, oxs_send_fds / oxs_recv_fds): the
 * classic privilege-separation and pre-fork shape. Only the listener holds the
 * listening socket (it could keep a privileged port and drop nothing else); the
 * workers, which could drop every privilege, see only the connections they are given.
 *
 *   usage: fd_pass_server ENDPOINT [WORKERS]
 *     ENDPOINT a stream endpoint: tcp://127.0.0.1:7000, tcp6://[::1]:0, unix:///tmp/e.sock
 *     WORKERS  worker processes (default 2, at most 16)
 *
 * The listener and the workers share one Unix seqpacket socketpair: each accepted
 * connection goes down it as one record carrying one descriptor, and whichever
 * worker is idle receives it (each record goes to exactly one reader), then echoes
 * what the client sends until the client closes. Prints "listening on ADDRESS",
 * "handed PEER to a worker" per connection, and "worker PID serves a connection" from
 * the worker that took it. SIGINT or SIGTERM stops the listener; it closes its end of
 * the socketpair, the workers see the end of it and exit, and it waits for them
 * (exit 0).
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 16

static const char *prog = "fd_pass_server";

/* Echoes one connection until the client closes it. */
static void echo(oxs_socket conn)
{
    static char buf[65536];
    for (;;) {
        size_t n = 0;
        if (oxs_read(conn, buf, sizeof buf, &n) != OXS_OK) {
            fail(prog);
            return;
        }
        if (n == 0)
            return;
        if (oxs_write_all(conn, buf, n, NULL) != OXS_OK) {
            fail(prog);
            return;
        }
    }
}

/* A worker: takes one connection at a time from the channel until it ends. */
static int worker(oxs_socket chan)
{
    for (;;) {
        char tag[8];
        int32_t fd = -1;
        size_t n = 0, nfds = 0;
        oxs_socket conn = OXS_INVALID;
        oxs_status st = oxs_recv_fds(chan, tag, sizeof tag, &n, &fd, 1, &nfds);
        if (st == OXS_ERR_INTERRUPTED)
            continue;
        if (st != OXS_OK)
            return fail(prog);
        if (n == 0)
            return 0; /* the listener closed the channel: time to go */
        if (nfds != 1)
            continue; /* a record without a descriptor: nothing to serve */
        /* The descriptor is ours now (close-on-exec); the handle adopts it. */
        if (oxs_from_fd(fd, &conn) != OXS_OK) {
            fail(prog);
            close(fd);
            continue;
        }
        printf("worker %ld serves a connection\n", (long)getpid());
        fflush(stdout);
        echo(conn);
        oxs_close(conn);
    }
}

int main(int argc, char **argv)
{
    oxs_socket listener = OXS_INVALID, chan[2] = {OXS_INVALID, OXS_INVALID};
    pid_t workers[MAX_WORKERS];
    int nworkers = argc > 2 ? atoi(argv[2]) : 2, i, rc = 0;
    oxs_addr local;
    char text[OXS_ADDR_STRLEN];

    if (argc < 2 || argc > 3 || nworkers < 1 || nworkers > MAX_WORKERS) {
        fprintf(stderr, "usage: %s ENDPOINT [WORKERS]   (e.g. tcp://127.0.0.1:7000 2)\n", prog);
        return 2;
    }
    if (oxs_listen_on(argv[1], &listener) != OXS_OK || oxs_local_addr(listener, &local) != OXS_OK
        || oxs_socketpair(OXS_TYPE_SEQPACKET, chan) != OXS_OK) {
        rc = fail(prog);
        oxs_close(listener);
        return rc;
    }
    /* Before the fork, so that the workers have the handlers too: a Ctrl-C reaches the
     * whole process group, and a worker goes on until the listener closes the channel
     * (its handles are not interruptible, so its calls are retried). */
    if (catch_stop_signals() != 0)
        return 1;
    fflush(stdout);
    for (i = 0; i < nworkers; i++) {
        workers[i] = fork();
        if (workers[i] < 0) {
            perror("fork");
            nworkers = i;
            rc = 1;
            break;
        }
        if (workers[i] == 0) {
            /* The worker keeps only its end of the channel: no listener, no
             * listener's end (so that it sees the end when the listener goes). A
             * child never removes the listener's Unix socket file. */
            oxs_close(listener);
            oxs_close(chan[0]);
            rc = worker(chan[1]);
            oxs_close(chan[1]);
            fflush(stdout);
            _exit(rc);
        }
    }
    oxs_close(chan[1]);
    if (rc == 0 && oxs_setopt(listener, OXS_OPT_INTERRUPTIBLE, 1) != OXS_OK)
        rc = fail(prog);
    if (rc == 0) {
        printf("listening on %s\n", addr_text(&local, text));
        fflush(stdout);
    }

    while (rc == 0 && !stop_requested) {
        oxs_socket conn = OXS_INVALID;
        oxs_addr peer;
        int32_t fd = -1;
        oxs_status st = oxs_accept(listener, &conn, &peer);
        if (st == OXS_ERR_INTERRUPTED)
            continue;
        if (st != OXS_OK) {
            rc = fail(prog);
            break;
        }
        /* Hand the connection over with one byte; our copy is closed at once. */
        if (oxs_fd(conn, &fd) != OXS_OK || oxs_send_fds(chan[0], "c", 1, &fd, 1, NULL) != OXS_OK)
            fail(prog);
        else
            printf("handed %s to a worker\n", addr_text(&peer, text));
        fflush(stdout);
        oxs_close(conn);
    }

    oxs_close(chan[0]); /* the workers read the end of the channel and exit */
    if (oxs_close(listener) != OXS_OK)
        rc = fail(prog);
    for (i = 0; i < nworkers; i++) {
        int status = 0;
        while (waitpid(workers[i], &status, 0) < 0) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = 1;
    }
    return rc;
}

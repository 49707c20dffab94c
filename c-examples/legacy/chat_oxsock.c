/* chat_oxsock.c: a multi-client chat server written the textbook way, ported from
 * select() and an fd_set to oxsock: the list of connections is an array of
 * handles, and a poller watches the listener, the connections and standard input
 * (a descriptor that is not a socket handle: oxs_poller_add_fd). It is the "after"
 * of a port: `diff -u chat_posix.c chat_oxsock.c` shows the port.
 *
 *   usage: chat_oxsock HOST PORT     (PORT 0 picks a free port)
 *
 * Whatever a client sends is relayed to every other client. The server also
 * watches its standard input: each line the operator types there is sent to every
 * client as "[server] line", and the end of standard input shuts the server down.
 * It logs to standard output:
 *   chat: listening on HOST port PORT
 *   chat: new connection from HOST
 *   chat: a client hung up
 *   chat: stdin closed, shutting down
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oxsock.h"

#define BACKLOG 10
#define BUF_SIZE 512
#define MAX_CONNS 1024       /* no FD_SETSIZE: as many as this array holds */
#define STDIN_TOKEN 0        /* OXS_INVALID is never a handle: free to mean stdin */

/* a listening socket on host:port, or OXS_INVALID */
static oxs_socket get_listener_socket(const char *host, const char *port)
{
    oxs_addr ai[8];
    oxs_socket listener = OXS_INVALID;
    size_t n = 0, p;
    oxs_status rv;

    if ((rv = oxs_resolve_host(host, port, 0, ai, 8, &n)) != OXS_OK && rv != OXS_ERR_BUFFER_TOO_SMALL) {
        fprintf(stderr, "chat: %s\n", oxs_last_error());
        return OXS_INVALID;
    }
    for (p = 0; p < n && p < 8; p++) {
        if (oxs_socket_open(oxs_addr_domain(&ai[p]), OXS_TYPE_STREAM, 0, &listener) != OXS_OK)
            continue;
        oxs_setopt(listener, OXS_OPT_REUSEADDR, 1);
        if (oxs_bind_addr(listener, &ai[p]) != OXS_OK) {
            oxs_close(listener);
            listener = OXS_INVALID;
            continue;
        }
        break;
    }
    if (listener == OXS_INVALID)
        return OXS_INVALID;
    if (oxs_listen(listener, BACKLOG) != OXS_OK) {
        oxs_close(listener);
        return OXS_INVALID;
    }
    return listener;
}

/* sends len bytes of buf to every client but `except` */
static void broadcast(oxs_socket *conns, oxs_socket except, const char *buf, size_t len)
{
    for (int j = 0; j < MAX_CONNS; j++) {
        if (conns[j] != OXS_INVALID && conns[j] != except) {
            if (oxs_write_all(conns[j], buf, len, NULL) != OXS_OK)
                fprintf(stderr, "chat: send: %s\n", oxs_last_error());
        }
    }
}

int main(int argc, char **argv)
{
    static oxs_socket conns[MAX_CONNS]; /* the list of connections (all OXS_INVALID) */
    oxs_poller poller;
    oxs_event events[64];
    oxs_socket listener, newfd;
    oxs_addr remoteaddr;
    char buf[BUF_SIZE], line[BUF_SIZE + 16];
    char remote_ip[OXS_ADDR_STRLEN];
    size_t len, nev, nbytes;
    oxs_status st;

    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    listener = get_listener_socket(argv[1], argv[2]);
    if (listener == OXS_INVALID) {
        fprintf(stderr, "chat: cannot listen on %s port %s\n", argv[1], argv[2]);
        return 1;
    }
    oxs_local_addr(listener, &remoteaddr);
    oxs_addr_host(&remoteaddr, remote_ip, sizeof remote_ip, &len);
    printf("chat: listening on %s port %d\n", remote_ip, oxs_addr_port(&remoteaddr));
    fflush(stdout);

    if (oxs_poller_open(&poller) != OXS_OK || oxs_poller_add(poller, listener, OXS_POLL_IN, listener) != OXS_OK ||
        oxs_poller_add_fd(poller, STDIN_FILENO, OXS_POLL_IN, STDIN_TOKEN) != OXS_OK) {
        fprintf(stderr, "chat: poller: %s\n", oxs_last_error());
        return 1;
    }

    for (;;) {
        st = oxs_poller_wait(poller, events, 64, -1, &nev);
        if (st != OXS_OK) {
            if (st == OXS_ERR_INTERRUPTED)
                continue;
            fprintf(stderr, "chat: %s\n", oxs_last_error());
            return 1;
        }
        for (size_t k = 0; k < nev; k++) {
            oxs_socket i = events[k].token; /* a handle, or STDIN_TOKEN */
            if (i == listener) {
                st = oxs_accept(listener, &newfd, &remoteaddr);
                if (st != OXS_OK) {
                    fprintf(stderr, "chat: %s\n", oxs_last_error());
                    continue;
                }
                int slot = 0;
                while (slot < MAX_CONNS && conns[slot] != OXS_INVALID)
                    slot++;
                if (slot == MAX_CONNS || oxs_poller_add(poller, newfd, OXS_POLL_IN, newfd) != OXS_OK) {
                    oxs_close(newfd);
                    continue;
                }
                conns[slot] = newfd;
                oxs_addr_host(&remoteaddr, remote_ip, sizeof remote_ip, &len);
                printf("chat: new connection from %s\n", remote_ip);
                fflush(stdout);
            } else if (i == STDIN_TOKEN) {
                ssize_t r = read(STDIN_FILENO, buf, sizeof buf - 1);
                if (r <= 0) {
                    printf("chat: stdin closed, shutting down\n");
                    fflush(stdout);
                    oxs_poller_remove_fd(poller, STDIN_FILENO);
                    for (int j = 0; j < MAX_CONNS; j++)
                        if (conns[j] != OXS_INVALID)
                            oxs_close(conns[j]);
                    oxs_close(listener);
                    oxs_poller_close(poller);
                    return 0;
                }
                buf[r] = '\0';
                int n = snprintf(line, sizeof line, "[server] %s", buf);
                broadcast(conns, OXS_INVALID, line, (size_t)n);
            } else {
                int slot = 0; /* a handle is never reused: a stale event finds no slot */
                while (slot < MAX_CONNS && conns[slot] != i)
                    slot++;
                if (slot == MAX_CONNS)
                    continue;
                st = oxs_recv(i, buf, sizeof buf, 0, &nbytes);
                if (st != OXS_OK || nbytes == 0) {
                    if (st == OXS_OK)
                        printf("chat: a client hung up\n");
                    else
                        fprintf(stderr, "chat: recv: %s\n", oxs_last_error());
                    fflush(stdout);
                    oxs_close(i); /* also leaves the poller */
                    conns[slot] = OXS_INVALID;
                } else {
                    broadcast(conns, i, buf, nbytes);
                }
            }
        }
    }
}

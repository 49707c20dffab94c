/* chat_posix.c: a multi-client chat server written the textbook way, with select()
 * and an fd_set as its list of connections. It is the "before" of a port:
 * chat_oxsock.c is the same program on oxsock, and `diff -u chat_posix.c
 * chat_oxsock.c` shows the port.
 *
 *   usage: chat_posix HOST PORT      (PORT 0 picks a free port)
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

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define BACKLOG 10
#define BUF_SIZE 512

/* the IPv4 or IPv6 address inside a sockaddr */
static void *get_in_addr(struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return &(((struct sockaddr_in *)sa)->sin_addr);
    return &(((struct sockaddr_in6 *)sa)->sin6_addr);
}

static int get_in_port(struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((struct sockaddr_in *)sa)->sin_port);
    return ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
}

/* a listening socket on host:port, or -1 */
static int get_listener_socket(const char *host, const char *port)
{
    struct addrinfo hints, *ai, *p;
    int listener = -1, yes = 1, rv;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if ((rv = getaddrinfo(host, port, &hints, &ai)) != 0) {
        fprintf(stderr, "chat: %s\n", gai_strerror(rv));
        return -1;
    }
    for (p = ai; p != NULL; p = p->ai_next) {
        listener = socket(p->ai_family, p->ai_socktype, p->ai_protocol);
        if (listener < 0)
            continue;
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (bind(listener, p->ai_addr, p->ai_addrlen) < 0) {
            close(listener);
            listener = -1;
            continue;
        }
        break;
    }
    freeaddrinfo(ai);
    if (listener == -1)
        return -1;
    if (listen(listener, BACKLOG) == -1) {
        close(listener);
        return -1;
    }
    return listener;
}

/* sends len bytes of buf to every client but the listener and `except` */
static void broadcast(fd_set *master, int fdmax, int listener, int except, const char *buf, int len)
{
    for (int j = 0; j <= fdmax; j++) {
        if (FD_ISSET(j, master) && j != listener && j != except && j != STDIN_FILENO) {
            if (send(j, buf, len, 0) == -1)
                perror("send");
        }
    }
}

int main(int argc, char **argv)
{
    fd_set master;   /* the list of connections */
    fd_set read_fds; /* select()'s copy */
    int fdmax, listener, newfd;
    struct sockaddr_storage remoteaddr;
    socklen_t addrlen;
    char buf[BUF_SIZE], line[BUF_SIZE + 16];
    char remote_ip[INET6_ADDRSTRLEN];
    int nbytes;

    if (argc != 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    listener = get_listener_socket(argv[1], argv[2]);
    if (listener == -1) {
        fprintf(stderr, "chat: cannot listen on %s port %s\n", argv[1], argv[2]);
        return 1;
    }
    addrlen = sizeof remoteaddr;
    getsockname(listener, (struct sockaddr *)&remoteaddr, &addrlen);
    printf("chat: listening on %s port %d\n",
           inet_ntop(remoteaddr.ss_family, get_in_addr((struct sockaddr *)&remoteaddr), remote_ip,
                     sizeof remote_ip),
           get_in_port((struct sockaddr *)&remoteaddr));
    fflush(stdout);

    FD_ZERO(&master);
    FD_ZERO(&read_fds);
    FD_SET(listener, &master);
    FD_SET(STDIN_FILENO, &master);
    fdmax = listener;

    for (;;) {
        read_fds = master;
        if (select(fdmax + 1, &read_fds, NULL, NULL, NULL) == -1) {
            if (errno == EINTR)
                continue;
            perror("select");
            return 1;
        }
        for (int i = 0; i <= fdmax; i++) {
            if (!FD_ISSET(i, &read_fds))
                continue;
            if (i == listener) {
                addrlen = sizeof remoteaddr;
                newfd = accept(listener, (struct sockaddr *)&remoteaddr, &addrlen);
                if (newfd == -1) {
                    perror("accept");
                    continue;
                }
                if (newfd >= FD_SETSIZE) { /* select() cannot watch it */
                    close(newfd);
                    continue;
                }
                FD_SET(newfd, &master);
                if (newfd > fdmax)
                    fdmax = newfd;
                printf("chat: new connection from %s\n",
                       inet_ntop(remoteaddr.ss_family, get_in_addr((struct sockaddr *)&remoteaddr), remote_ip,
                                 sizeof remote_ip));
                fflush(stdout);
            } else if (i == STDIN_FILENO) {
                nbytes = read(STDIN_FILENO, buf, sizeof buf - 1);
                if (nbytes <= 0) {
                    printf("chat: stdin closed, shutting down\n");
                    fflush(stdout);
                    for (int j = 0; j <= fdmax; j++)
                        if (FD_ISSET(j, &master) && j != STDIN_FILENO)
                            close(j);
                    return 0;
                }
                buf[nbytes] = '\0';
                nbytes = snprintf(line, sizeof line, "[server] %s", buf);
                broadcast(&master, fdmax, listener, -1, line, nbytes);
            } else {
                nbytes = recv(i, buf, sizeof buf, 0);
                if (nbytes <= 0) {
                    if (nbytes == 0)
                        printf("chat: a client hung up\n");
                    else
                        perror("recv");
                    fflush(stdout);
                    close(i);
                    FD_CLR(i, &master);
                } else {
                    broadcast(&master, fdmax, listener, i, buf, nbytes);
                }
            }
        }
    }
}

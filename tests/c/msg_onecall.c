/*
 * msg_onecall.c - run under strace by tests/messages.rs: each §13 call that the kernel
 * can complete at once is one system call. Does, in this order and nothing else of these
 * kinds: one oxs_writev of three buffers (one sendmsg), one oxs_readv of them (one
 * recvmsg), one oxs_send_batch of 10 datagrams (one sendmmsg), one oxs_recv_batch of the
 * 10 queued (one recvmmsg), one oxs_sendfile of a small file (one sendfile). Prints
 * "done" when every call succeeded.
 * Usage: msg_onecall FILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oxsock.h"

int main(int argc, char **argv)
{
    oxs_socket st[2], dg[2];
    char a[100], b[200], c[300], room[10][64];
    oxs_iovec iov[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
    oxs_datagram d[10];
    size_t n = 0, i;
    int fd;
    if (argc != 2 || (fd = open(argv[1], O_RDONLY)) < 0)
        return 2;
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    memset(c, 'c', sizeof c);
    if (oxs_socketpair(OXS_TYPE_STREAM, st) != OXS_OK || oxs_socketpair(OXS_TYPE_DGRAM, dg) != OXS_OK)
        return 3;
    if (oxs_writev(st[0], iov, 3, &n) != OXS_OK || n != 600)
        return 4;
    if (oxs_readv(st[1], iov, 3, &n) != OXS_OK || n != 600)
        return 5;
    memset(d, 0, sizeof d);
    for (i = 0; i < 10; i++) {
        d[i].buf = a;
        d[i].len = 10;
    }
    if (oxs_send_batch(dg[0], d, 10, &n) != OXS_OK || n != 10)
        return 6;
    for (i = 0; i < 10; i++) {
        d[i].buf = room[i];
        d[i].len = sizeof room[i];
    }
    if (oxs_recv_batch(dg[1], d, 10, &n) != OXS_OK || n != 10)
        return 7;
    if (oxs_sendfile(st[0], fd, 0, 0, &n) != OXS_OK || n == 0)
        return 8;
    printf("done\n");
    return 0;
}

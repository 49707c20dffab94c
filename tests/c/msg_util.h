/*
 * msg_util.h - helpers shared by the §13 programs (msg_*.c): open-descriptor counts,
 * a reader thread that drains a stream, byte patterns. Include after core_util.h.
 */
#ifndef OXS_TEST_MSG_UTIL_H
#define OXS_TEST_MSG_UTIL_H

#include <dirent.h>
#include <poll.h>
#include <signal.h>

#include "core_util.h"

/* How many descriptors this process has open (entries of /proc/self/fd, less the one
 * opendir uses). */
U_ static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

/* The byte at position i of the test pattern. */
U_ static unsigned char pat(size_t i) { return (unsigned char)((i * 7 + i / 251) & 0xff); }

U_ static void fill_pat(unsigned char *buf, size_t len, size_t from)
{
    size_t i;
    for (i = 0; i < len; i++)
        buf[i] = pat(from + i);
}

/* A thread that reads a stream until its end (or `want` bytes when want > 0), checking
 * every byte against the pattern starting at `from`. */
typedef struct drain {
    pthread_t th;
    oxs_socket s;
    size_t want;
    size_t from;
    size_t got;
    size_t bad_at; /* first position that differs, or (size_t)-1 */
    int delay_ms;  /* wait before reading */
    oxs_status st;
} drain;

U_ static void *drain_main_(void *arg)
{
    drain *d = (drain *)arg;
    static __thread unsigned char buf[65536];
    size_t i, n;
    d->bad_at = (size_t)-1;
    if (d->delay_ms > 0)
        sleep_ms(d->delay_ms);
    for (;;) {
        size_t room = sizeof buf;
        if (d->want > 0 && d->want - d->got < room)
            room = d->want - d->got;
        if (room == 0)
            break;
        d->st = oxs_read(d->s, buf, room, &n);
        if (d->st != OXS_OK || n == 0)
            break;
        for (i = 0; i < n && d->bad_at == (size_t)-1; i++)
            if (buf[i] != pat(d->from + d->got + i))
                d->bad_at = d->got + i;
        d->got += n;
    }
    return NULL;
}

U_ static void drain_start(drain *d, oxs_socket s, size_t want, size_t from, int delay_ms)
{
    memset(d, 0, sizeof *d);
    d->s = s;
    d->want = want;
    d->from = from;
    d->delay_ms = delay_ms;
    if (pthread_create(&d->th, NULL, drain_main_, d) != 0) {
        printf("pthread_create failed\n");
        exit(2);
    }
}

U_ static void drain_join(drain *d) { pthread_join(d->th, NULL); }

/* Waits until s is writable (bounded). */
U_ static int wait_writable(oxs_socket s, int ms)
{
    oxs_pollitem it = {s, OXS_POLL_OUT, 0};
    size_t n = 0;
    return oxs_poll(&it, 1, ms, &n) == OXS_OK && n == 1;
}

static void on_usr1_(int sig) { (void)sig; }

/* A SIGUSR1 handler installed without SA_RESTART (as CPython installs its own). */
U_ static void install_usr1(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1_;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
}

#endif /* OXS_TEST_MSG_UTIL_H */

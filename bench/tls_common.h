/* tls_common.h: the TLS benchmark's workloads, shared by tls_openssl.c (the
 * hand-written OpenSSL baseline) and tls_oxs.c (oxsock): each defines the small
 * transport API below, and this file runs the same three workloads on it.
 *
 *   PROG bulk|handshake|pingpong SECS CERT_DIR
 *
 * A server thread and the client run in one process on loopback (pin the process to
 * one CPU with taskset for stable figures). Prints "RESULT <metric> <value> <unit>"
 * and "CIPHER <version> <suite>" (what the client negotiated).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct conn conn_t;
static int t_listen(const char *dir, int *port);         /* returns a listener id */
static conn_t *t_accept(int listener);                    /* handshake done */
static conn_t *t_connect(const char *dir, int port);      /* handshake done */
static int t_write_all(conn_t *c, const void *b, size_t n);
static int t_read_exact(conn_t *c, void *b, size_t n);
static long t_read_some(conn_t *c, void *b, size_t n);  /* 0: the end */
static void t_close(conn_t *c);
static void t_info(conn_t *c, char *version, char *cipher);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int g_listener, g_mode;
static volatile int g_stop;

static void *server(void *arg)
{
    static char buf[262144];
    (void)arg;
    for (;;) {
        conn_t *c = t_accept(g_listener);
        if (!c) {
            if (g_stop)
                return NULL;
            continue; /* a handshake that failed (a client that left early) */
        }
        if (g_mode == 0) { /* bulk: read and drop, then report the total */
            uint64_t total = 0;
            long n;
            while ((n = t_read_some(c, buf, sizeof buf)) > 0)
                total += (uint64_t)n;
        } else if (g_mode == 2) { /* ping-pong */
            while (t_read_exact(c, buf, 64) == 0 && t_write_all(c, buf, 64) == 0)
                ;
        } else {
            char b;
            t_read_some(c, &b, 1); /* until the client closes */
        }
        t_close(c);
        if (g_stop)
            return NULL;
    }
}

static void die(const char *what)
{
    fprintf(stderr, "tls bench: %s failed\n", what);
    exit(1);
}

int main(int argc, char **argv)
{
    pthread_t th;
    int port;
    char version[64] = "", cipher[128] = "";
    static char chunk[262144];
    if (argc != 4) {
        fprintf(stderr, "usage: %s bulk|handshake|pingpong SECS CERT_DIR\n", argv[0]);
        return 2;
    }
    double secs = atof(argv[2]);
    const char *dir = argv[3];
    g_mode = !strcmp(argv[1], "bulk") ? 0 : !strcmp(argv[1], "handshake") ? 1 : 2;
    g_listener = t_listen(dir, &port);
    if (g_listener < 0)
        die("listen");
    pthread_create(&th, NULL, server, NULL);
    double start = now_s(), end = start + secs, t;
    if (g_mode == 0) {
        conn_t *c = t_connect(dir, port);
        uint64_t sent = 0;
        if (!c)
            die("connect");
        t_info(c, version, cipher);
        while ((t = now_s()) < end) {
            if (t_write_all(c, chunk, sizeof chunk) != 0)
                die("write");
            sent += sizeof chunk;
        }
        g_stop = 1;
        t_close(c);
        printf("RESULT tls_bulk %.3f GiB/s\n", sent / (now_s() - start) / 1073741824.0);
    } else if (g_mode == 1) {
        long n = 0;
        for (;;) {
            conn_t *c = t_connect(dir, port);
            if (!c)
                die("connect");
            if (n == 0)
                t_info(c, version, cipher);
            n++;
            int last = now_s() >= end;
            if (last)
                g_stop = 1; /* the server leaves after this connection */
            t_close(c);
            if (last)
                break;
        }
        printf("RESULT tls_handshakes %.1f hs/s\n", n / (now_s() - start));
    } else {
        conn_t *c = t_connect(dir, port);
        char b[64] = { 0 };
        long n = 0;
        if (!c)
            die("connect");
        t_info(c, version, cipher);
        while (now_s() < end) {
            if (t_write_all(c, b, 64) != 0 || t_read_exact(c, b, 64) != 0)
                die("ping-pong");
            n++;
        }
        g_stop = 1;
        t_close(c);
        printf("RESULT tls_pingpong %.1f rt/s\n", n / (now_s() - start));
    }
    pthread_join(th, NULL);
    printf("CIPHER %s %s\n", version, cipher);
    return 0;
}

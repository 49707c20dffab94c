/* A poller server holding 2,000 concurrent loopback connections (API.md §9: the
 * poller scales): one thread runs a non-blocking echo server on a poller; the main
 * thread opens 2,000 blocking client connections, keeps them all open, sends one
 * message on each and checks that every one gets its own echo back.
 * RLIMIT_NOFILE is raised to 20,000 (about 4,000 descriptors are needed).
 *
 * Usage: poll_scale. Exits non-zero on any failure. */
#include "oxsock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opts_check.h"

#include <sys/resource.h>

#define NCONN 2000
#define MSG 16
#define LISTENER_TOKEN UINT64_MAX

static oxs_poller g_p;
static oxs_socket g_l;
static oxs_socket g_srv[NCONN + 16];
static int g_accepted, g_stop, g_server_errors, g_echoed;

static void server_error(const char *what, oxs_status st)
{
    if (__atomic_add_fetch(&g_server_errors, 1, __ATOMIC_SEQ_CST) <= 10)
        printf("server: %s -> %d (%s): %s\n", what, st, oxs_strerror(st), oxs_last_error());
}

static void *server_thread(void *arg)
{
    (void)arg;
    static oxs_event ev[256];
    long long t0 = now_ms();
    while (!__atomic_load_n(&g_stop, __ATOMIC_SEQ_CST) && now_ms() - t0 < 90000) {
        size_t n = 0;
        oxs_status st = oxs_poller_wait(g_p, ev, 256, 1000, &n);
        if (st != OXS_OK) {
            server_error("poller_wait", st);
            if (st != OXS_ERR_INTERRUPTED)
                break;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (ev[i].token == LISTENER_TOKEN) {
                for (int k = 0; k < 4096; k++) { /* accept until WOULD_BLOCK */
                    oxs_socket a = OXS_INVALID;
                    st = oxs_accept(g_l, &a, NULL);
                    if (st == OXS_ERR_WOULD_BLOCK)
                        break;
                    if (st != OXS_OK) {
                        server_error("accept", st);
                        break;
                    }
                    int idx = __atomic_load_n(&g_accepted, __ATOMIC_SEQ_CST);
                    if (idx >= NCONN + 16) {
                        server_error("too many connections", OXS_OK);
                        oxs_close(a);
                        continue;
                    }
                    g_srv[idx] = a;
                    if ((st = oxs_setopt(a, OXS_OPT_NONBLOCKING, 1)) != OXS_OK)
                        server_error("setopt NONBLOCKING", st);
                    if ((st = oxs_poller_add(g_p, a, OXS_POLL_IN, (uint64_t)idx)) != OXS_OK)
                        server_error("poller_add", st);
                    __atomic_store_n(&g_accepted, idx + 1, __ATOMIC_SEQ_CST);
                }
                continue;
            }
            uint64_t idx = ev[i].token;
            if (idx >= (uint64_t)g_accepted) {
                server_error("unknown token", OXS_OK);
                continue;
            }
            oxs_socket s = g_srv[idx];
            char buf[256];
            size_t got = 0, put = 0;
            st = oxs_read(s, buf, sizeof buf, &got);
            if (st == OXS_ERR_WOULD_BLOCK)
                continue; /* level-triggered: reported again */
            if (st != OXS_OK || got == 0) {
                if (st != OXS_OK)
                    server_error("read", st);
                oxs_poller_remove(g_p, s);
                continue;
            }
            st = oxs_write_all(s, buf, got, &put);
            if (st != OXS_OK)
                server_error("write_all (echo)", st);
            else
                __atomic_add_fetch(&g_echoed, 1, __ATOMIC_SEQ_CST);
        }
    }
    return NULL;
}

int main(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t want = 20000;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        want = rl.rlim_max;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || want < 2 * NCONN + 64) {
        printf("FAIL setup: cannot raise RLIMIT_NOFILE to %d (hard limit %llu)\n", 2 * NCONN + 64,
               (unsigned long long)rl.rlim_max);
        return 1;
    }
    char addr[OXS_ADDR_STRLEN];
    g_l = tcp_listener(addr, sizeof addr); /* default backlog: the system maximum */
    SETUP(oxs_setopt(g_l, OXS_OPT_NONBLOCKING, 1));
    SETUP(oxs_poller_open(&g_p));
    SETUP(oxs_poller_add(g_p, g_l, OXS_POLL_IN, LISTENER_TOKEN));
    pthread_t th;
    pthread_create(&th, NULL, server_thread, NULL);

    static oxs_socket cl[NCONN];
    int connected = 0;
    long long t0 = now_ms();
    for (int i = 0; i < NCONN; i++) {
        oxs_status st = oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_STREAM, 0, &cl[i]);
        if (st == OXS_OK) {
            oxs_setopt(cl[i], OXS_OPT_CONNECT_TIMEOUT_MS, 10000);
            st = oxs_connect(cl[i], addr);
        }
        if (!ST(st, OXS_OK, "§9 scale: client connect")) {
            printf("   (connection %d)\n", i);
            break;
        }
        connected++;
    }
    long long t_connect = now_ms() - t0;
    for (int k = 0; k < 1000 && __atomic_load_n(&g_accepted, __ATOMIC_SEQ_CST) < connected; k++)
        sleep_ms(10);
    CHECK(connected == NCONN && g_accepted == NCONN, "§9 scale: 2,000 connections open at once",
          "%d connected, %d accepted", connected, g_accepted);
    /* every connection sends its own message while all are open */
    char msg[MSG + 1];
    int sent = 0, echoed = 0;
    for (int i = 0; i < connected; i++) {
        snprintf(msg, sizeof msg, "conn-%05d-echo!", i);
        if (oxs_write_all(cl[i], msg, MSG, NULL) == OXS_OK)
            sent++;
    }
    CHECK(sent == connected, "§9 scale: every client sends", "%d of %d", sent, connected);
    for (int i = 0; i < connected; i++) {
        char in[MSG + 1] = {0};
        size_t n = 0;
        snprintf(msg, sizeof msg, "conn-%05d-echo!", i);
        oxs_setopt(cl[i], OXS_OPT_READ_TIMEOUT_MS, 10000);
        oxs_status st = oxs_read_exact(cl[i], in, MSG, &n);
        if (st == OXS_OK && memcmp(in, msg, MSG) == 0)
            echoed++;
        else if (connected - echoed < 10)
            printf("connection %d: read_exact -> %d (%s), got \"%.*s\"\n", i, st, oxs_strerror(st), (int)n, in);
    }
    CHECK(echoed == NCONN, "§9 scale: all 2,000 connections get their own echo", "%d of %d", echoed, NCONN);
    long long t_all = now_ms() - t0;
    __atomic_store_n(&g_stop, 1, __ATOMIC_SEQ_CST);
    SETUP(oxs_poller_wake(g_p));
    pthread_join(th, NULL);
    CHECK(g_server_errors == 0, "§9 scale: the server saw no errors", "%d errors", g_server_errors);
    for (int i = 0; i < connected; i++)
        oxs_close(cl[i]);
    for (int i = 0; i < g_accepted; i++)
        oxs_close(g_srv[i]);
    oxs_poller_close(g_p);
    oxs_close(g_l);
    printf("poll_scale: %d connections, connect phase %lld ms, total %lld ms\n", connected, t_connect, t_all);
    return summary("poll_scale");
}

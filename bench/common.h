/* Shared plumbing of the C benchmark programs (posix.c, oxs.c, loadgen.c).
 *
 * Nothing here is on a measured path except now_ns() (clock_gettime through the vDSO,
 * read once every CHECK_EVERY iterations), so both contenders pay exactly the same for it.
 *
 * Process structure, identical for every contender: the program forks; the child is the
 * server, creates its socket and writes its port (or "ready") to a pipe; the parent is the
 * client, reads that line, runs the timed loop, stops the server and prints lines
 *     metric <name> <value> <unit>
 * which bench/run.py parses: the rate, and <name>_cpu, the CPU time of client and server
 * together per operation. Both processes inherit the CPU pinning of the program
 * (run.py starts it under `taskset -c 0`). */
#ifndef OXS_BENCH_COMMON_H
#define OXS_BENCH_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE 64
#define BULK_CHUNK (256 * 1024)
#define CHECK_EVERY 64 /* iterations between two clock reads */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void die(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static inline void die_msg(const char *what, const char *detail)
{
    fprintf(stderr, "bench: %s: %s\n", what, detail);
    exit(2);
}

/* Raises the soft descriptor limit to the hard one (20,000 here). */
static inline void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The server/client handshake: the child writes one line, the parent reads it. */
struct handoff {
    int fds[2];
};

static inline void handoff_init(struct handoff *h)
{
    if (pipe(h->fds) != 0)
        die("pipe");
}

static inline void handoff_send(struct handoff *h, const char *line)
{
    size_t n = strlen(line);
    if (write(h->fds[1], line, n) != (ssize_t)n)
        die("handoff write");
    close(h->fds[1]);
    close(h->fds[0]);
}

static inline void handoff_recv(struct handoff *h, char *buf, size_t cap)
{
    close(h->fds[1]);
    size_t got = 0;
    for (;;) {
        ssize_t r = read(h->fds[0], buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == cap - 1)
            break;
    }
    buf[got] = 0;
    close(h->fds[0]);
    if (got == 0)
        die_msg("handoff", "server did not start");
}

/* A server that loops forever (set-up) ends on SIGTERM through _exit, so that a tool
 * watching it (valgrind --tool=callgrind, run.py --instructions) still sees it exit. */
static inline void on_term(int sig)
{
    (void)sig;
    _exit(0);
}

static inline void exit_on_term(void)
{
    signal(SIGTERM, on_term);
}

/* Waits for the server child; with kill_it, stops it first (SIGTERM). */
static inline void reap(pid_t pid, int kill_it)
{
    if (kill_it)
        kill(pid, SIGTERM);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!kill_it && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        die_msg("server", "exited abnormally");
}

/* CPU time (user + system) of this process (RUSAGE_SELF) or of its reaped children
 * (RUSAGE_CHILDREN), in ns. The kernel derives the sum from its nanosecond runtime
 * count, so it is exact to the microsecond; it counts only time on a CPU, so other
 * processes of this shared machine change it far less than they change wall-clock rates. */
static inline uint64_t cpu_ns(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

/* One timed loop: wall time and the CPU time of client and server. */
struct meas {
    uint64_t t0, t, cpu0, cpu, children0;
};

static inline void meas_begin(struct meas *m)
{
    m->children0 = cpu_ns(RUSAGE_CHILDREN); /* 0 here, unless an exec'd launcher had children */
    m->cpu0 = cpu_ns(RUSAGE_SELF);
    m->t0 = now_ns();
}

static inline uint64_t meas_elapsed(const struct meas *m)
{
    return now_ns() - m->t0;
}

static inline void meas_end(struct meas *m)
{
    m->t = now_ns() - m->t0;
    m->cpu = cpu_ns(RUSAGE_SELF) - m->cpu0;
}

/* After the server was reaped: prints the rate (ops per second, times `scale`) and the
 * CPU time of both processes per op (divided by `cpu_div`). */
static inline void meas_print(const struct meas *m, const char *name, double ops, double scale,
                              const char *unit, double cpu_div, const char *cpu_unit)
{
    double cpu = (double)(m->cpu + cpu_ns(RUSAGE_CHILDREN) - m->children0);
    printf("metric %s %.6g %s\n", name, ops * scale / ((double)m->t / 1e9), unit);
    printf("metric %s_cpu %.6g %s\n", name, cpu / ops / cpu_div, cpu_unit);
    printf("metric %s_ops %.6g ops\n", name, ops);
}

/* Resident set size of a process in bytes (VmRSS), or -1. pid 0: this process. */
static inline long rss_bytes(pid_t pid)
{
    char path[64];
    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/status");
    else
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

static inline double arg_secs(int argc, char **argv, int i)
{
    if (argc <= i)
        return 1.0;
    double s = atof(argv[i]);
    if (!(s > 0 && s < 600))
        die_msg("duration", argv[i]);
    return s;
}

/* Micro-benchmarks: rounds of MICRO_ROUND calls, each probe timed per round, the
 * probes of one program interleaved round by round; a figure is the fastest round of its
 * probe (round 0 warms up). A round lasts well under a scheduler time slice, so the
 * fastest ones ran undisturbed by the other processes of a shared machine. */
#define MICRO_ROUND 1000
#define MICRO_TIME(best, round, body)                                                  \
    do {                                                                               \
        uint64_t t_ = now_ns();                                                        \
        for (long i_ = 0; i_ < MICRO_ROUND; i_++) {                                    \
            body;                                                                      \
        }                                                                              \
        double d_ = (double)(now_ns() - t_) / MICRO_ROUND;                             \
        if ((round) > 0 && d_ < (best))                                                \
            (best) = d_;                                                               \
    } while (0)

#endif

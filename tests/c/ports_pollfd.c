/*
 * ports_pollfd.c - contract §14, foreign descriptors in a poller: oxs_poller_add_fd,
 * oxs_poller_modify_fd and oxs_poller_remove_fd watch a pipe, stdin, an eventfd, a
 * timerfd and a socket that other code owns, with §9's events, tokens and
 * level-triggered rules, next to socket handles in the same poller. Every error of
 * §14: not open / owned by a live handle -> INVALID_ARGUMENT, a regular file ->
 * UNSUPPORTED, twice / not there -> INVALID_ARGUMENT, removing one closed while
 * registered -> OXS_OK; and a number closed while registered that comes back as
 * another file or as a socket handle's descriptor.
 * Usage: ports_pollfd [scratch-folder].
 */
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include "core_util.h"

static const char *g_dir = ".";

/* One wait (timeout ms); returns the number of events, copies them to ev. */
static size_t wait_events(oxs_poller p, oxs_event *ev, size_t cap, int ms)
{
    size_t n = 0;
    oxs_status st = oxs_poller_wait(p, ev, cap, ms, &n);
    if (st != OXS_OK) {
        CHECK_OK("§9 wait", st);
        return 0;
    }
    return n;
}

/* The events reported for `token` in one wait (0 when none). */
static int events_for(oxs_poller p, uint64_t token, int ms)
{
    oxs_event ev[16];
    size_t n = wait_events(p, ev, 16, ms);
    int e = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].token == token)
            e |= ev[i].events;
    return e;
}

static void pipes(oxs_poller p)
{
    int fds[2];
    char b = 'x';
    REQUIRE("setup: pipe", pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    CHECK_OK("§14 add_fd: a pipe's read end", oxs_poller_add_fd(p, fds[0], OXS_POLL_IN, 0xfeedface12345678ULL));
    CHECK_INT("§14 nothing to read: no event", events_for(p, 0xfeedface12345678ULL, 0), 0);
    REQUIRE("setup: write", write(fds[1], &b, 1) == 1);
    CHECK_INT("§14 readable pipe: IN with its token", events_for(p, 0xfeedface12345678ULL, 5000), OXS_POLL_IN);
    CHECK_INT("§14 level-triggered: still IN", events_for(p, 0xfeedface12345678ULL, 0), OXS_POLL_IN);
    REQUIRE("setup: read", read(fds[0], &b, 1) == 1);
    CHECK_INT("§14 drained: no event", events_for(p, 0xfeedface12345678ULL, 0), 0);

    /* the write end, for OUT; a full pipe is not writable */
    CHECK_OK("§14 add_fd: a pipe's write end", oxs_poller_add_fd(p, fds[1], OXS_POLL_OUT, 2));
    CHECK_INT("§14 writable pipe: OUT", events_for(p, 2, 5000), OXS_POLL_OUT);
    char chunk[4096];
    memset(chunk, 'y', sizeof chunk);
    for (int i = 0; i < 1024 && write(fds[1], chunk, sizeof chunk) > 0; i++) {
    }
    CHECK_INT("§14 a full pipe: no OUT", events_for(p, 2, 0), 0);
    CHECK_INT("§14 ... while the read end reports IN", events_for(p, 0xfeedface12345678ULL, 0), OXS_POLL_IN);
    while (read(fds[0], chunk, sizeof chunk) > 0) {
    }
    /* modify: both events, new token */
    CHECK_OK("§14 modify_fd", oxs_poller_modify_fd(p, fds[1], OXS_POLL_IN | OXS_POLL_OUT, 3));
    CHECK_INT("§14 modify_fd: the new token", events_for(p, 3, 5000), OXS_POLL_OUT);
    CHECK_INT("§14 modify_fd: the old token is gone", events_for(p, 2, 0), 0);
    CHECK_OK("§14 remove_fd: the write end", oxs_poller_remove_fd(p, fds[1]));
    CHECK_INT("§14 removed: no event", events_for(p, 3, 0), 0);
    /* the reader sees HUP when the writer closes (HUP is always reported) */
    close(fds[1]);
    CHECK("§14 the writer's close: HUP on the read end",
          (events_for(p, 0xfeedface12345678ULL, 5000) & OXS_POLL_HUP) != 0);
    CHECK_OK("§14 remove_fd: the read end", oxs_poller_remove_fd(p, fds[0]));
    CHECK("§14 the descriptor stays the caller's (still open after remove)", fd_is_open(fds[0]));
    close(fds[0]);
}

static void stdin_and_friends(oxs_poller p)
{
    /* stdin: the test runner gives /dev/null, which epoll cannot watch; make it a pipe */
    int fds[2], saved = dup(0);
    REQUIRE("setup: pipe", pipe2(fds, O_CLOEXEC) == 0);
    REQUIRE("setup: dup2 onto stdin", dup2(fds[0], 0) == 0);
    close(fds[0]);
    CHECK_OK("§14 add_fd: stdin", oxs_poller_add_fd(p, 0, OXS_POLL_IN, 10));
    CHECK_INT("§14 stdin: quiet", events_for(p, 10, 0), 0);
    REQUIRE("setup: a line on stdin", write(fds[1], "hi\n", 3) == 3);
    CHECK_INT("§14 stdin: IN", events_for(p, 10, 5000), OXS_POLL_IN);
    CHECK_OK("§14 remove_fd: stdin", oxs_poller_remove_fd(p, 0));
    close(fds[1]);
    dup2(saved, 0);
    close(saved);

    /* an eventfd */
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    REQUIRE("setup: eventfd", efd >= 0);
    CHECK_OK("§14 add_fd: an eventfd", oxs_poller_add_fd(p, efd, OXS_POLL_IN, 11));
    CHECK_INT("§14 eventfd: quiet", events_for(p, 11, 0), 0);
    uint64_t one = 1;
    REQUIRE("setup: eventfd write", write(efd, &one, 8) == 8);
    CHECK_INT("§14 eventfd: IN", events_for(p, 11, 5000), OXS_POLL_IN);
    CHECK_OK("§14 modify_fd: eventfd for OUT too", oxs_poller_modify_fd(p, efd, OXS_POLL_IN | OXS_POLL_OUT, 12));
    CHECK_INT("§14 eventfd: IN|OUT, new token", events_for(p, 12, 5000), OXS_POLL_IN | OXS_POLL_OUT);
    CHECK_OK("§14 remove_fd: eventfd", oxs_poller_remove_fd(p, efd));
    close(efd);

    /* a timerfd */
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    REQUIRE("setup: timerfd", tfd >= 0);
    CHECK_OK("§14 add_fd: a timerfd", oxs_poller_add_fd(p, tfd, OXS_POLL_IN, 13));
    CHECK_INT("§14 timerfd: unarmed, quiet", events_for(p, 13, 0), 0);
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 20 * 1000000L;
    REQUIRE("setup: arm the timer", timerfd_settime(tfd, 0, &its, NULL) == 0);
    int got = 0;
    for (int i = 0; i < 50 && !got; i++) /* bounded: 50 waits of up to 200 ms */
        got = events_for(p, 13, 200);
    CHECK_INT("§14 timerfd: IN when it expires", got, OXS_POLL_IN);
    CHECK_OK("§14 remove_fd: timerfd", oxs_poller_remove_fd(p, tfd));
    close(tfd);

    /* a socket other code owns (never given to oxsock), next to socket handles */
    int sv[2];
    REQUIRE("setup: socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    oxs_socket hp[2];
    REQUIRE_OK("setup: oxs_socketpair", oxs_socketpair(OXS_TYPE_STREAM, hp));
    CHECK_OK("§14 add_fd: a socket other code owns", oxs_poller_add_fd(p, sv[0], OXS_POLL_IN, 14));
    CHECK_OK("§9 a socket handle in the same poller", oxs_poller_add(p, hp[0], OXS_POLL_IN, 15));
    REQUIRE("setup: send", send(sv[1], "a", 1, MSG_NOSIGNAL) == 1);
    REQUIRE_OK("setup: write", oxs_write_all(hp[1], "b", 1, NULL));
    oxs_event ev[8];
    int seen14 = 0, seen15 = 0;
    for (int i = 0; i < 20 && !(seen14 && seen15); i++) {
        size_t n = wait_events(p, ev, 8, 200);
        for (size_t k = 0; k < n; k++) {
            seen14 |= ev[k].token == 14 && ev[k].events == OXS_POLL_IN;
            seen15 |= ev[k].token == 15 && ev[k].events == OXS_POLL_IN;
        }
    }
    CHECK("§14 a foreign socket and a handle report side by side", seen14 && seen15);
    close(sv[1]);
    CHECK("§14 the peer's close: HUP on the foreign socket", (events_for(p, 14, 5000) & OXS_POLL_HUP) != 0);
    oxs_close(hp[0]); /* a handle's close leaves the foreign registration alone */
    CHECK("§14 still registered after a handle's close", (events_for(p, 14, 0) & OXS_POLL_IN) != 0);
    CHECK_OK("§14 remove_fd: the foreign socket", oxs_poller_remove_fd(p, sv[0]));
    close(sv[0]);

    /* a foreign socket adopted by oxs_from_fd while registered: not added twice */
    REQUIRE("setup: socketpair", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK_OK("§14 add_fd: a raw socket", oxs_poller_add_fd(p, sv[0], OXS_POLL_IN, 16));
    oxs_socket adopted = 0;
    REQUIRE_OK("setup: adopt it", oxs_from_fd(sv[0], &adopted));
    CHECK_ST("§9 oxs_poller_add of a descriptor already added with add_fd", oxs_poller_add(p, adopted, OXS_POLL_IN, 17),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_OK("§14 remove_fd of it (now owned by the handle)", oxs_poller_remove_fd(p, sv[0]));
    CHECK_OK("§9 then oxs_poller_add", oxs_poller_add(p, adopted, OXS_POLL_IN, 17));
    REQUIRE("setup: send", send(sv[1], "e", 1, MSG_NOSIGNAL) == 1);
    CHECK_INT("§9 the adopted socket reports with its token", events_for(p, 17, 5000), OXS_POLL_IN);
    oxs_close(adopted);
    close(sv[1]);
    oxs_close(hp[1]);
    CHECK_OK("§9 a wake still works", oxs_poller_wake(p));
    size_t n = 77;
    CHECK_OK("§9 woken wait", oxs_poller_wait(p, ev, 8, 5000, &n));
}

static void errors(oxs_poller p)
{
    int fds[2];
    REQUIRE("setup: pipe", pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    /* not open */
    int closed_fd = dup(fds[0]);
    close(closed_fd);
    CHECK_ST("§14 add_fd: a descriptor that is not open", oxs_poller_add_fd(p, closed_fd, OXS_POLL_IN, 1),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK("§14 ... the message names the descriptor", contains(oxs_last_error(), "not open"));
    CHECK_ST("§14 add_fd: -1", oxs_poller_add_fd(p, -1, OXS_POLL_IN, 1), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 add_fd: INT32_MIN", oxs_poller_add_fd(p, INT32_MIN, OXS_POLL_IN, 1), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 add_fd: INT32_MAX", oxs_poller_add_fd(p, INT32_MAX, OXS_POLL_IN, 1), OXS_ERR_INVALID_ARGUMENT);
    /* owned by a live handle */
    oxs_socket s = 0;
    REQUIRE_OK("setup: socket", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &s));
    CHECK_ST("§14 add_fd: a live handle's descriptor", oxs_poller_add_fd(p, fd_of(s), OXS_POLL_IN, 1),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK("§14 ... the message says to use oxs_poller_add", contains(oxs_last_error(), "oxs_poller_add"));
    CHECK_ST("§14 remove_fd: a live handle's descriptor is not a foreign one", oxs_poller_remove_fd(p, fd_of(s)),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_OK("§9 the handle itself can be added", oxs_poller_add(p, s, OXS_POLL_IN, 1));
    CHECK_ST("§14 remove_fd of a registered handle's descriptor", oxs_poller_remove_fd(p, fd_of(s)),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 modify_fd of a registered handle's descriptor", oxs_poller_modify_fd(p, fd_of(s), OXS_POLL_IN, 1),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_OK("§9 the handle is still registered", oxs_poller_remove(p, s));
    oxs_close(s);
    /* cannot be watched */
    char path[600];
    snprintf(path, sizeof path, "%s/regular.txt", g_dir);
    int rf = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    REQUIRE("setup: a regular file", rf >= 0);
    CHECK_ST("§14 add_fd: a regular file is UNSUPPORTED", oxs_poller_add_fd(p, rf, OXS_POLL_IN, 1),
             OXS_ERR_UNSUPPORTED);
    CHECK_ST("§14 remove_fd: the refused file is not there", oxs_poller_remove_fd(p, rf), OXS_ERR_INVALID_ARGUMENT);
    close(rf);
    unlink(path);
    int dir = open(g_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE("setup: a directory", dir >= 0);
    CHECK_ST("§14 add_fd: a directory is UNSUPPORTED", oxs_poller_add_fd(p, dir, OXS_POLL_IN, 1), OXS_ERR_UNSUPPORTED);
    close(dir);
    int dn = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK_ST("§14 add_fd: /dev/null (no poll support) is UNSUPPORTED", oxs_poller_add_fd(p, dn, OXS_POLL_IN, 1),
             OXS_ERR_UNSUPPORTED);
    close(dn);
    /* events */
    int32_t bad_events[] = {0x2, 0x8, 0x10, 0x20, -1, INT32_MIN, INT32_MAX};
    for (int i = 0; i < 7; i++) {
        CHECK_ST("§14/§9 add_fd: events outside IN|OUT", oxs_poller_add_fd(p, fds[0], bad_events[i], 1),
                 OXS_ERR_INVALID_ARGUMENT);
    }
    CHECK_OK("§14 add_fd with no events (ERR and HUP only)", oxs_poller_add_fd(p, fds[0], 0, 1));
    CHECK_ST("§14 add_fd twice", oxs_poller_add_fd(p, fds[0], OXS_POLL_IN, 2), OXS_ERR_INVALID_ARGUMENT);
    CHECK("§14 ... already in this poller", contains(oxs_last_error(), "already"));
    CHECK_ST("§14 modify_fd: bad events", oxs_poller_modify_fd(p, fds[0], 0x40, 1), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 modify_fd: not there", oxs_poller_modify_fd(p, fds[1], OXS_POLL_OUT, 1), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 remove_fd: not there", oxs_poller_remove_fd(p, fds[1]), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 remove_fd: -1", oxs_poller_remove_fd(p, -1), OXS_ERR_INVALID_ARGUMENT);
    CHECK_OK("§14 remove_fd", oxs_poller_remove_fd(p, fds[0]));
    CHECK_ST("§14 remove_fd twice", oxs_poller_remove_fd(p, fds[0]), OXS_ERR_INVALID_ARGUMENT);
    CHECK_ST("§14 modify_fd after remove", oxs_poller_modify_fd(p, fds[0], OXS_POLL_IN, 1), OXS_ERR_INVALID_ARGUMENT);
    /* the poller's handle */
    oxs_poller dead = 0;
    REQUIRE_OK("setup: poller", oxs_poller_open(&dead));
    REQUIRE_OK("setup: close poller", oxs_poller_close(dead));
    CHECK_ST("§3 add_fd on a closed poller", oxs_poller_add_fd(dead, fds[0], OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 modify_fd on a closed poller", oxs_poller_modify_fd(dead, fds[0], OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 remove_fd on a closed poller", oxs_poller_remove_fd(dead, fds[0]), OXS_ERR_BAD_HANDLE);
    CHECK_ST("§3 add_fd on handle 0", oxs_poller_add_fd(OXS_INVALID, fds[0], OXS_POLL_IN, 1), OXS_ERR_BAD_HANDLE);
    oxs_socket sock = 0;
    REQUIRE_OK("setup: socket", oxs_socket_open(OXS_DOMAIN_INET, OXS_TYPE_DGRAM, 0, &sock));
    CHECK_ST("§3 add_fd on a socket handle", oxs_poller_add_fd((oxs_poller)sock, fds[0], OXS_POLL_IN, 1),
             OXS_ERR_BAD_HANDLE);
    oxs_close(sock);
    /* one poller watching another's descriptor is fine; the same descriptor in two pollers too */
    oxs_poller q = 0;
    REQUIRE_OK("setup: second poller", oxs_poller_open(&q));
    CHECK_OK("§14 the same pipe in two pollers (1)", oxs_poller_add_fd(p, fds[0], OXS_POLL_IN, 21));
    CHECK_OK("§14 the same pipe in two pollers (2)", oxs_poller_add_fd(q, fds[0], OXS_POLL_IN, 22));
    REQUIRE("setup: write", write(fds[1], "z", 1) == 1);
    CHECK_INT("§14 poller 1 reports it", events_for(p, 21, 5000), OXS_POLL_IN);
    CHECK_INT("§14 poller 2 reports it", events_for(q, 22, 5000), OXS_POLL_IN);
    CHECK_OK("§9 closing a poller", oxs_poller_close(q));
    CHECK("§14 closing a poller leaves the caller's descriptor open", fd_is_open(fds[0]));
    CHECK_OK("§14 remove_fd", oxs_poller_remove_fd(p, fds[0]));
    close(fds[0]);
    close(fds[1]);
}

static void closed_while_registered(oxs_poller p)
{
    int a[2], b[2];
    char c = 'c';
    /* 1. closed, then removed: OXS_OK */
    REQUIRE("setup: pipe", pipe2(a, O_CLOEXEC | O_NONBLOCK) == 0);
    CHECK_OK("§14 add_fd", oxs_poller_add_fd(p, a[0], OXS_POLL_IN, 31));
    REQUIRE("setup: write", write(a[1], &c, 1) == 1);
    close(a[0]);
    CHECK_INT("§14 closed while registered: its file is still watched until removed", events_for(p, 31, 5000),
              OXS_POLL_IN);
    CHECK_ST("§14 modify_fd of one closed while registered", oxs_poller_modify_fd(p, a[0], OXS_POLL_IN, 1),
             OXS_ERR_INVALID_ARGUMENT);
    CHECK_OK("§14 removing a descriptor closed while registered is OXS_OK", oxs_poller_remove_fd(p, a[0]));
    CHECK_ST("§14 ... and it is forgotten", oxs_poller_remove_fd(p, a[0]), OXS_ERR_INVALID_ARGUMENT);
    CHECK_INT("§14 ... and its events are gone", events_for(p, 31, 0), 0);
    close(a[1]);

    /* 1b. closed while registered, its file still open elsewhere (a dup) and ready:
     * removing it really stops the kernel watching it (no wait spins on it after) */
    REQUIRE("setup: pipe", pipe2(a, O_CLOEXEC | O_NONBLOCK) == 0);
    int other = dup(a[0]);
    CHECK_OK("§14 add_fd", oxs_poller_add_fd(p, a[0], OXS_POLL_IN, 32));
    REQUIRE("setup: write", write(a[1], &c, 1) == 1);
    close(a[0]);
    CHECK_OK("§14 remove_fd of one closed while its file lives on", oxs_poller_remove_fd(p, a[0]));
    {
        struct timespec c0, c1;
        oxs_event ev[4];
        size_t n = 77;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        CHECK_OK("§14 a wait after it", oxs_poller_wait(p, ev, 4, 300, &n));
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        CHECK_INT("§14 nothing reported for the removed file", n, 0);
        int64_t cpu_ms = (c1.tv_sec - c0.tv_sec) * 1000 + (c1.tv_nsec - c0.tv_nsec) / 1000000;
        CHECK("§14 the wait slept instead of spinning on the removed (ready) file", cpu_ms < 150);
    }
    close(other);
    close(a[1]);

    /* 2. closed, its number comes back as another pipe: adding it again is not "twice" */
    REQUIRE("setup: pipe", pipe2(a, O_CLOEXEC | O_NONBLOCK) == 0);
    int num = a[0];
    CHECK_OK("§14 add_fd", oxs_poller_add_fd(p, num, OXS_POLL_IN, 41));
    close(a[0]);
    close(a[1]);
    REQUIRE("setup: pipe", pipe2(b, O_CLOEXEC | O_NONBLOCK) == 0);
    if (b[0] != num) {
        int moved = dup3(b[0], num, O_CLOEXEC);
        REQUIRE("setup: move the new pipe to the old number", moved == num);
        close(b[0]);
        b[0] = num;
    }
    CHECK_OK("§14 a number closed while registered, reused by a new file, can be added",
             oxs_poller_add_fd(p, num, OXS_POLL_IN, 42));
    REQUIRE("setup: write", write(b[1], &c, 1) == 1);
    CHECK_INT("§14 the new file reports with its new token", events_for(p, 42, 5000), OXS_POLL_IN);
    CHECK_INT("§14 the old token is gone", events_for(p, 41, 0), 0);
    CHECK_ST("§14 and adding it again is twice", oxs_poller_add_fd(p, num, OXS_POLL_IN, 43), OXS_ERR_INVALID_ARGUMENT);
    CHECK_OK("§14 remove_fd", oxs_poller_remove_fd(p, num));
    close(b[0]);
    close(b[1]);

    /* 3. closed, its number comes back as a socket handle's, added to the same poller:
     * removing the foreign one forgets it and leaves the socket's registration alone */
    REQUIRE("setup: pipe", pipe2(a, O_CLOEXEC | O_NONBLOCK) == 0);
    num = a[0];
    CHECK_OK("§14 add_fd", oxs_poller_add_fd(p, num, OXS_POLL_IN, 51));
    close(a[0]);
    oxs_socket pr[2];
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, pr));
    if (fd_of(pr[0]) != num) {
        CHECK_SKIP("§14 a number reused by a socket handle", "the socket did not get the freed number");
    } else {
        CHECK_OK("§9 the socket handle with the reused number", oxs_poller_add(p, pr[0], OXS_POLL_IN, 52));
        CHECK_ST("§14 add_fd of the number now owned by a handle", oxs_poller_add_fd(p, num, OXS_POLL_IN, 53),
                 OXS_ERR_INVALID_ARGUMENT);
        CHECK_ST("§14 modify_fd of the stale foreign entry", oxs_poller_modify_fd(p, num, OXS_POLL_IN, 53),
                 OXS_ERR_INVALID_ARGUMENT);
        CHECK_OK("§14 remove_fd of the stale foreign entry is OXS_OK", oxs_poller_remove_fd(p, num));
        REQUIRE_OK("setup: write", oxs_write_all(pr[1], "d", 1, NULL));
        CHECK_INT("§14 the socket handle's registration survived", events_for(p, 52, 5000), OXS_POLL_IN);
        CHECK_OK("§9 remove the handle", oxs_poller_remove(p, pr[0]));
    }
    close(a[1]);
    oxs_close(pr[0]);
    oxs_close(pr[1]);

    /* 4. a socket handle closes (and forgets its number) while a foreign descriptor of a
     * different number stays registered; then its freed number becomes a foreign pipe */
    oxs_socket h[2];
    REQUIRE_OK("setup: socketpair", oxs_socketpair(OXS_TYPE_STREAM, h));
    int hnum = fd_of(h[0]);
    CHECK_OK("§9 add the handle", oxs_poller_add(p, h[0], OXS_POLL_IN, 61));
    oxs_close(h[0]);
    oxs_close(h[1]);
    REQUIRE("setup: pipe", pipe2(a, O_CLOEXEC | O_NONBLOCK) == 0);
    if (a[0] != hnum) {
        CHECK_SKIP("§14 a closed handle's number as a foreign descriptor", "the pipe did not get the freed number");
    } else {
        CHECK_OK("§14 add_fd of a closed handle's number", oxs_poller_add_fd(p, hnum, OXS_POLL_IN, 62));
        REQUIRE("setup: write", write(a[1], &c, 1) == 1);
        CHECK_INT("§14 it reports with its own token", events_for(p, 62, 5000), OXS_POLL_IN);
        CHECK_OK("§14 remove_fd", oxs_poller_remove_fd(p, hnum));
    }
    close(a[0]);
    close(a[1]);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_dir = argv[1];
    oxs_poller p = 0;
    REQUIRE_OK("setup: poller", oxs_poller_open(&p));
    pipes(p);
    stdin_and_friends(p);
    errors(p);
    closed_while_registered(p);
    size_t n = 77;
    oxs_event ev[4];
    CHECK_OK("§14 nothing left registered: a quiet wait", oxs_poller_wait(p, ev, 4, 0, &n));
    CHECK_INT("§14 no stray events", n, 0);
    CHECK_OK("§9 close", oxs_poller_close(p));
    return CHECK_SUMMARY("ports_pollfd");
}

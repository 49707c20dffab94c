/* timeout_client.c: a client that never waits forever. It dials with a
 * timeout, sets OXS_OPT_READ_TIMEOUT_MS, sends one line and waits for the
 * reply; when the peer says nothing, the read fails with OXS_ERR_TIMED_OUT and
 * the program prints what the library says, e.g.
 *     timeout_client: oxs_read ...: timed out
 *
 *   usage: timeout_client ENDPOINT TIMEOUT_MS [LINE]   e.g. tcp://127.0.0.1:7000 500
 *
 * Exit status: 0 with the reply printed; 3 when the dial or the reply timed
 * out; 1 on any other failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"
#include <stdlib.h>

static const char *prog = "timeout_client";

int main(int argc, char **argv)
{
    oxs_socket s = OXS_INVALID;
    char line[LINE_MAX_BYTES], reply[LINE_MAX_BYTES];
    const char *text = argc > 3 ? argv[3] : "hello";
    size_t got = 0;
    long ms;
    oxs_status st;
    int rc = 0;

    if (argc < 3 || argc > 4 || (ms = strtol(argv[2], NULL, 10)) <= 0 || ms > 86400000L) {
        fprintf(stderr, "usage: %s ENDPOINT TIMEOUT_MS [LINE]   (TIMEOUT_MS > 0)\n", prog);
        return 2;
    }
    st = oxs_dial(argv[1], (int32_t)ms, &s);
    if (st != OXS_OK) {
        fail(prog);
        return st == OXS_ERR_TIMED_OUT ? 3 : 1;
    }
    snprintf(line, sizeof line, "%s\n", text);
    if (oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, ms) != OXS_OK
        || oxs_setopt(s, OXS_OPT_WRITE_TIMEOUT_MS, ms) != OXS_OK
        || (st = oxs_write_all(s, line, strlen(line), NULL)) != OXS_OK
        || (st = read_line(s, reply, sizeof reply, &got)) != OXS_OK) {
        fail(prog);
        if (st == OXS_ERR_TIMED_OUT)
            fprintf(stderr, "%s: no reply within %ld ms\n", prog, ms);
        rc = st == OXS_ERR_TIMED_OUT ? 3 : 1;
    } else if (got == 0) {
        fprintf(stderr, "%s: the server closed the connection without replying\n", prog);
        rc = 1;
    } else {
        printf("%s\n", reply);
    }
    if (oxs_close(s) != OXS_OK)
        rc = fail(prog);
    return rc;
}

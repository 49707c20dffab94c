/* unix_client.c: the textbook Unix-domain stream client with the low-level
 * calls: socket(AF_UNIX), connect, write a line and read the reply, close.
 *
 *   usage: unix_client PATH|@NAME [LINE...]      (no LINE: the lines of stdin)
 *
 * Prints each reply on its own line; exits 0, or 1 with oxs_last_error().
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

static const char *prog = "unix_client";

int main(int argc, char **argv)
{
    oxs_socket s = OXS_INVALID;
    char line[LINE_MAX_BYTES], reply[LINE_MAX_BYTES];
    size_t len;
    int i = 2, rc = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH|@NAME [LINE...]\n", prog);
        return 2;
    }
    if (oxs_socket_open(OXS_DOMAIN_UNIX, OXS_TYPE_STREAM, 0, &s) != OXS_OK)
        return fail(prog);
    if (oxs_connect(s, argv[1]) != OXS_OK) {
        rc = fail(prog);
        oxs_close(s);
        return rc;
    }

    while ((len = next_line(argc, argv, 2, &i, line, sizeof line)) > 0) {
        size_t got = 0;
        if (oxs_write_all(s, line, len, NULL) != OXS_OK
            || read_line(s, reply, sizeof reply, &got) != OXS_OK) {
            rc = fail(prog);
            break;
        }
        if (got == 0) {
            fprintf(stderr, "%s: the server closed the connection\n", prog);
            rc = 1;
            break;
        }
        printf("%s\n", reply);
        fflush(stdout);
    }

    if (oxs_close(s) != OXS_OK)
        rc = fail(prog);
    return rc;
}

/* tls_client.c: dials a TLS endpoint, sends a line (or an HTTP/1.0 request), prints
 * the reply, then what the handshake agreed.
 *
 *   usage: tls_client ENDPOINT [LINE]
 *     ENDPOINT  tls://host:port with optional query keys: ca=FILE (trust anchors
 *               instead of the system's store), alpn=h2,http/1.1, servername=NAME,
 *               verify=none, minversion=1.3, cert=FILE&key=FILE (a client certificate)
 *     LINE      sent with a newline; one reply line is printed. Without LINE an
 *               HTTP/1.0 "GET /" is sent and the whole reply is printed.
 *
 *   tls_client 'tls://localhost:7443?ca=ca.pem' hello
 *   tls_client tls://example.org:443
 *
 * The dial verifies the server's certificate for the endpoint's host (a failure is
 * OXS_ERR_CERTIFICATE with the reason), within 10 seconds for connect and handshake.
 * Prints "TLSv1.3 TLS_AES_256_GCM_SHA384 alpn=h2" to stderr at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include "example.h"

static const char *prog = "tls_client";

int main(int argc, char **argv)
{
    oxs_socket s = OXS_INVALID;
    char buf[LINE_MAX_BYTES], version[32] = "", cipher[96] = "", alpn[256] = "";
    size_t len = 0;
    oxs_status st;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s ENDPOINT [LINE]   (e.g. 'tls://localhost:7443?ca=ca.pem' hello)\n", prog);
        return 2;
    }
    if (oxs_dial(argv[1], 10000, &s) != OXS_OK)
        return fail(prog);
    oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 10000);
    if (argc == 3) {
        snprintf(buf, sizeof buf, "%s\n", argv[2]);
        if (oxs_write_all(s, buf, strlen(buf), NULL) != OXS_OK || read_line(s, buf, sizeof buf, &len) != OXS_OK) {
            fail(prog);
            oxs_close(s);
            return 1;
        }
        printf("%s\n", buf);
    } else {
        /* The host for the Host header: between "://" and the port. */
        const char *host = strstr(argv[1], "://") + 3;
        size_t hl = strcspn(host, "?");
        const char *colon = host + hl;
        while (colon > host && *colon != ':')
            colon--;
        snprintf(buf, sizeof buf, "GET / HTTP/1.0\r\nHost: %.*s\r\nConnection: close\r\n\r\n",
                 (int)(colon > host ? colon - host : (long)hl), host);
        if (oxs_write_all(s, buf, strlen(buf), NULL) != OXS_OK) {
            fail(prog);
            oxs_close(s);
            return 1;
        }
        for (;;) {
            st = oxs_read(s, buf, sizeof buf, &len);
            if (st != OXS_OK || len == 0)
                break;
            fwrite(buf, 1, len, stdout);
        }
        /* Many HTTPS servers end without close_notify: that is OXS_ERR_UNEXPECTED_EOF. */
        if (st != OXS_OK && st != OXS_ERR_UNEXPECTED_EOF) {
            fail(prog);
            oxs_close(s);
            return 1;
        }
    }
    oxs_tls_info(s, OXS_TLS_INFO_VERSION, version, sizeof version, &len);
    oxs_tls_info(s, OXS_TLS_INFO_CIPHER, cipher, sizeof cipher, &len);
    oxs_tls_info(s, OXS_TLS_INFO_ALPN, alpn, sizeof alpn, &len);
    fprintf(stderr, "%s %s alpn=%s\n", version, cipher, alpn);
    oxs_shutdown(s, OXS_SHUT_WRITE); /* close_notify, and know it left */
    if (oxs_close(s) != OXS_OK)
        return fail(prog);
    return 0;
}

/*
 * fault_netpeer.c - one end of a TCP connection for tests/netfaults.rs, run inside a
 * network namespace with `ip netns exec`. Every mode is bounded in time.
 *
 *   fault_netpeer sink   ENDPOINT           listen, accept one, read to the end of the
 *                                           stream, checking every byte against the
 *                                           deterministic pattern; print
 *                                           "RECV bytes=N sha256=HEX bad_at=-1 status=S"
 *   fault_netpeer source ENDPOINT BYTES     dial, write BYTES of the pattern, shut the
 *                                           write side, wait for the peer's end; print
 *                                           "SENT bytes=N sha256=HEX ms=T status=S"
 *   fault_netpeer stream ENDPOINT           listen, accept one, write the pattern until a
 *                                           write fails (at most 100 s); print "STREAM ..."
 *   fault_netpeer reset-after ENDPOINT BYTES
 *                                           listen, accept one, write BYTES, then close
 *                                           with OXS_OPT_LINGER_S 0 (a reset)
 *   fault_netpeer read-then-reset ENDPOINT BYTES
 *                                           listen, accept one, read BYTES, then close
 *                                           with OXS_OPT_LINGER_S 0 (a reset)
 *   fault_netpeer reader ENDPOINT TIMEOUT_MS READY_BYTES
 *                                           dial, set the read timeout, print "READY"
 *                                           once READY_BYTES arrived, read until a read
 *                                           fails or the stream ends; print
 *                                           "RESULT status=S name=N os=E bytes=B ms=T"
 *                                           (ms: from the last byte received to the end)
 *   fault_netpeer writer ENDPOINT           dial, write until a write fails (at most
 *                                           100 s); print "RESULT status=S name=N ..."
 *
 * Listeners print "LISTENING" once they accept connections. The pattern byte at offset
 * i is byte i%8 of splitmix64(i/8), so each side can check or regenerate any offset.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oxsock.h"

/* ---- SHA-256 (FIPS 180-4), compact ---- */
typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t n;
} sha256_ctx;

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(sha256_ctx *c, const uint8_t *p)
{
    uint32_t w[64], a, b, d, e, f, g, h, cc, t1, t2;
    int i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
               p[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
    e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g; g = f; f = e; e = d + t1; d = cc; cc = b; b = a; a = t1 + t2;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
    c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

static void sha256_init(sha256_ctx *c)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, iv, sizeof iv);
    c->len = 0;
    c->n = 0;
}

static void sha256_update(sha256_ctx *c, const uint8_t *p, size_t n)
{
    c->len += n;
    while (n > 0) {
        size_t k = 64 - c->n < n ? 64 - c->n : n;
        memcpy(c->buf + c->n, p, k);
        c->n += k;
        p += k;
        n -= k;
        if (c->n == 64) {
            sha256_block(c, c->buf);
            c->n = 0;
        }
    }
}

static void sha256_hex(sha256_ctx *c, char out[65])
{
    uint64_t bits = c->len * 8;
    uint8_t pad = 0x80, zero = 0, lenb[8];
    int i;
    sha256_update(c, &pad, 1);
    while (c->n != 56)
        sha256_update(c, &zero, 1);
    for (i = 0; i < 8; i++)
        lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(c, lenb, 8);
    for (i = 0; i < 8; i++)
        sprintf(out + 8 * i, "%08" PRIx32, c->h[i]);
    out[64] = 0;
}

/* ---- the pattern ---- */
static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void pattern(uint64_t off, uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        uint64_t o = off + i;
        p[i] = (uint8_t)(splitmix64(o / 8) >> (8 * (o % 8)));
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what, oxs_status st)
{
    printf("ERROR %s: status=%d %s (os %d)\n", what, (int)st, oxs_last_error(), (int)oxs_last_os_error());
    fflush(stdout);
    exit(2);
}

static oxs_socket listen_accept(const char *ep)
{
    oxs_socket l, s;
    oxs_status st = oxs_listen_on(ep, &l);
    if (st != OXS_OK)
        die("listen_on", st);
    /* The listener's read timeout bounds the accept. */
    if ((st = oxs_setopt(l, OXS_OPT_READ_TIMEOUT_MS, 60000)) != OXS_OK)
        die("setopt accept timeout", st);
    printf("LISTENING\n");
    fflush(stdout);
    if ((st = oxs_accept(l, &s, NULL)) != OXS_OK)
        die("accept", st);
    oxs_close(l);
    return s;
}

static oxs_socket dial(const char *ep)
{
    oxs_socket s;
    oxs_status st = oxs_dial(ep, 10000, &s);
    if (st != OXS_OK)
        die("dial", st);
    return s;
}

static void result(oxs_status st, uint64_t bytes, int64_t ms)
{
    printf("RESULT status=%d name=%s os=%d bytes=%" PRIu64 " ms=%" PRId64 " msg=%s\n", (int)st,
           oxs_strerror(st), st == OXS_OK ? 0 : (int)oxs_last_os_error(), bytes, ms,
           st == OXS_OK ? "" : oxs_last_error());
    fflush(stdout);
}

enum { CHUNK = 256 * 1024 };
static uint8_t buf[CHUNK], want[CHUNK];

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *ep = argc > 2 ? argv[2] : "";
    oxs_status st;
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (strcmp(mode, "sink") == 0) {
        oxs_socket s = listen_accept(ep);
        sha256_ctx h;
        uint64_t total = 0;
        int64_t bad_at = -1;
        char hex[65];
        size_t n;
        sha256_init(&h);
        oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 30000);
        for (;;) {
            st = oxs_read(s, buf, sizeof buf, &n);
            if (st != OXS_OK || n == 0)
                break;
            sha256_update(&h, buf, n);
            if (bad_at < 0) {
                size_t i;
                pattern(total, want, n);
                for (i = 0; i < n; i++)
                    if (buf[i] != want[i]) {
                        bad_at = (int64_t)(total + i);
                        break;
                    }
            }
            total += n;
        }
        sha256_hex(&h, hex);
        printf("RECV bytes=%" PRIu64 " sha256=%s bad_at=%" PRId64 " status=%d %s\n", total, hex, bad_at,
               (int)st, st == OXS_OK ? "" : oxs_last_error());
        oxs_close(s);
        return st == OXS_OK && bad_at < 0 ? 0 : 1;
    }
    if (strcmp(mode, "source") == 0 && argc > 3) {
        uint64_t bytes = strtoull(argv[3], NULL, 10), off = 0;
        oxs_socket s = dial(ep);
        sha256_ctx h;
        char hex[65];
        int64_t t0 = now_ms();
        size_t n;
        sha256_init(&h);
        oxs_setopt(s, OXS_OPT_WRITE_TIMEOUT_MS, 60000);
        st = OXS_OK;
        while (off < bytes) {
            size_t k = bytes - off < CHUNK ? (size_t)(bytes - off) : CHUNK;
            pattern(off, buf, k);
            sha256_update(&h, buf, k);
            st = oxs_write_all(s, buf, k, &n);
            off += n;
            if (st != OXS_OK)
                break;
        }
        if (st == OXS_OK)
            st = oxs_shutdown(s, OXS_SHUT_WRITE);
        if (st == OXS_OK) {
            /* Wait for the sink's end of stream: everything arrived. */
            oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 60000);
            st = oxs_read(s, buf, sizeof buf, &n);
        }
        sha256_hex(&h, hex);
        printf("SENT bytes=%" PRIu64 " sha256=%s ms=%" PRId64 " status=%d %s\n", off, hex, now_ms() - t0,
               (int)st, st == OXS_OK ? "" : oxs_last_error());
        oxs_close(s);
        return st == OXS_OK ? 0 : 1;
    }
    if (strcmp(mode, "stream") == 0) {
        oxs_socket s = listen_accept(ep);
        uint64_t off = 0;
        int64_t t0 = now_ms();
        size_t n;
        oxs_setopt(s, OXS_OPT_WRITE_TIMEOUT_MS, 1000);
        do {
            pattern(off, buf, CHUNK);
            st = oxs_write_all(s, buf, CHUNK, &n);
            off += n;
        } while ((st == OXS_OK || st == OXS_ERR_TIMED_OUT) && now_ms() - t0 < 100000);
        printf("STREAM bytes=%" PRIu64 " status=%d\n", off, (int)st);
        oxs_close(s);
        return 0;
    }
    if (strcmp(mode, "reset-after") == 0 && argc > 3) {
        uint64_t bytes = strtoull(argv[3], NULL, 10), off = 0;
        oxs_socket s = listen_accept(ep);
        size_t n;
        while (off < bytes) {
            size_t k = bytes - off < CHUNK ? (size_t)(bytes - off) : CHUNK;
            pattern(off, buf, k);
            if ((st = oxs_write_all(s, buf, k, &n)) != OXS_OK)
                die("write", st);
            off += k;
        }
        if ((st = oxs_setopt(s, OXS_OPT_LINGER_S, 0)) != OXS_OK)
            die("setopt linger 0", st);
        if ((st = oxs_close(s)) != OXS_OK)
            die("close", st);
        printf("RESET after %" PRIu64 " bytes\n", off);
        return 0;
    }
    if (strcmp(mode, "read-then-reset") == 0 && argc > 3) {
        uint64_t bytes = strtoull(argv[3], NULL, 10), off = 0;
        oxs_socket s = listen_accept(ep);
        size_t n;
        oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, 30000);
        while (off < bytes) {
            size_t k = bytes - off < CHUNK ? (size_t)(bytes - off) : CHUNK;
            if ((st = oxs_read_exact(s, buf, k, &n)) != OXS_OK)
                die("read", st);
            off += k;
        }
        if ((st = oxs_setopt(s, OXS_OPT_LINGER_S, 0)) != OXS_OK)
            die("setopt linger 0", st);
        if ((st = oxs_close(s)) != OXS_OK)
            die("close", st);
        printf("RESET after reading %" PRIu64 " bytes\n", off);
        return 0;
    }
    if (strcmp(mode, "reader") == 0 && argc > 4) {
        int32_t timeout = (int32_t)atoi(argv[3]);
        uint64_t ready = strtoull(argv[4], NULL, 10), total = 0;
        oxs_socket s = dial(ep);
        int said_ready = 0;
        int64_t t0 = now_ms(), last = t0;
        size_t n;
        if ((st = oxs_setopt(s, OXS_OPT_READ_TIMEOUT_MS, timeout)) != OXS_OK)
            die("setopt read timeout", st);
        for (;;) {
            st = oxs_read(s, buf, sizeof buf, &n);
            if (st != OXS_OK || n == 0)
                break;
            total += n;
            last = now_ms();
            if (!said_ready && total >= ready) {
                printf("READY\n");
                said_ready = 1;
            }
            if (last - t0 > 100000)
                break;
        }
        result(st, total, now_ms() - last);
        oxs_close(s);
        return 0;
    }
    if (strcmp(mode, "writer") == 0) {
        oxs_socket s = dial(ep);
        uint64_t total = 0;
        int64_t t0 = now_ms();
        size_t n;
        oxs_setopt(s, OXS_OPT_WRITE_TIMEOUT_MS, 20000);
        do {
            pattern(total, buf, CHUNK);
            st = oxs_write(s, buf, CHUNK, &n);
            total += n;
        } while (st == OXS_OK && now_ms() - t0 < 100000);
        result(st, total, now_ms() - t0);
        oxs_close(s);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of fault_netpeer.c\n");
    return 64;
}

#!/usr/bin/env python3
"""tls_echo_server.py CERT KEY [ENDPOINT] -- a TLS echo server, a thread per client.

ENDPOINT defaults to ``tls://127.0.0.1:7443``. The certificate and key go into an
``oxsock.TLSConfig``; ``oxsock.listen(endpoint, tls=config)`` listens, and every
accepted socket runs its handshake in its first read, within the listener's
handshake timeout (5 s here), so a client that never speaks TLS is cut and holds
nobody up. Prints ``listening on ADDRESS``, then per client ``PEER: TLSv1.3 CIPHER``
and how it ended; SIGINT or SIGTERM stops it (exit 0).
"""

import signal
import sys
import threading

import _path  # noqa: F401
import oxsock


class Stop(Exception):
    """Raised by the signal handler inside the blocked call."""


def on_signal(signum, frame):
    raise Stop()


def serve(conn: oxsock.Socket, peer: str) -> None:
    buf = bytearray(65536)
    try:
        with conn:
            n = conn.recv_into(buf)  # runs the handshake first
            print(f"{peer}: {conn.tls_version} {conn.tls_cipher}", flush=True)
            while n:
                conn.sendall(memoryview(buf)[:n])
                n = conn.recv_into(buf)
            print(f"{peer}: closed with close_notify", flush=True)
    except oxsock.Error as e:
        print(f"{peer}: {e}", file=sys.stderr, flush=True)


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    endpoint = sys.argv[3] if len(sys.argv) == 4 else "tls://127.0.0.1:7443"
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with oxsock.TLSConfig("server", cert=sys.argv[1], key=sys.argv[2]) as config:
        srv = oxsock.listen(endpoint, tls=config)  # the listener keeps a snapshot
    srv.setopt(oxsock.Option.HANDSHAKE_TIMEOUT_MS, 5000)  # inherited by every client
    print(f"listening on {srv.local_addr}", flush=True)
    try:
        while True:
            conn, peer = srv.accept()
            threading.Thread(target=serve, args=(conn, peer), daemon=True).start()
    except Stop:
        pass
    finally:
        srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""echo_server.py ENDPOINT -- an echo server for any endpoint, with ``oxsock.listen``.

ENDPOINT: ``tcp://127.0.0.1:7000``, ``tcp6://[::1]:7000``, ``unix:///tmp/x.sock``,
``unix://@name``, ``unixpacket://…`` (a thread per connection echoes what it reads),
or ``udp://127.0.0.1:7000``, ``unixgram://…`` (each datagram goes back to its sender).
Prints ``listening on ADDRESS`` once ready and one line per connection (per datagram
for datagram endpoints); SIGINT or SIGTERM stops it cleanly (exit 0).
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


def serve_connection(conn: oxsock.Socket, peer: str, records: bool) -> None:
    """Echoes until the peer closes (or the server closes ``conn``)."""
    buf = bytearray(65536)
    view = memoryview(buf)
    try:
        with conn:
            while True:
                n = conn.recv_into(buf)
                if n == 0:
                    if not records:
                        break  # the end of the stream
                    # SEQPACKET: an empty record, or the end when the peer hung up.
                    ready = oxsock.poll([(conn, oxsock.POLL_IN)], 0)
                    if ready and ready[0][1] & oxsock.POLL_HUP:
                        break
                conn.sendall(view[:n])
    except (oxsock.Closed, oxsock.BadHandle):
        pass  # the server is stopping
    except oxsock.Error as e:
        print(f"connection from {peer} ended: {e}", file=sys.stderr, flush=True)


def serve_stream(srv: oxsock.Socket, records: bool) -> None:
    live = set()
    try:
        while True:
            conn, peer = srv.accept()
            print(f"connection from {peer}", flush=True)
            live.add(conn)
            t = threading.Thread(target=serve_connection, args=(conn, peer, records), daemon=True)
            t.start()
            live = {c for c in live if not c.closed}
    finally:
        for c in live:
            c.close()  # wakes its thread with Status.CLOSED


def serve_datagrams(srv: oxsock.Socket) -> None:
    while True:
        data, peer = srv.recvfrom(65536)
        print(f"datagram from {peer}", flush=True)
        srv.sendto(data, peer)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: echo_server.py ENDPOINT   (e.g. tcp://127.0.0.1:7000)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        with oxsock.listen(sys.argv[1]) as srv:
            print(f"listening on {srv.local_addr}", flush=True)
            kind = srv.getopt(oxsock.Option.TYPE)
            if kind == oxsock.DGRAM:
                serve_datagrams(srv)
            else:
                serve_stream(srv, records=(kind == oxsock.SEQPACKET))
    except Stop:
        return 0
    except oxsock.Error as e:
        print(f"echo_server: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

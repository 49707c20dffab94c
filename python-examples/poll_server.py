#!/usr/bin/env python3
"""poll_server.py ENDPOINT -- one thread, one ``oxsock.Poller``, many clients.

A line echo server on a stream ENDPOINT (``tcp://127.0.0.1:7000``,
``unix:///tmp/x.sock``, ...): every socket is non-blocking; what a client sends is
queued and written back as the socket accepts it (partial writes keep the rest for
the next ``POLL_OUT``; a client that does not read stops being read once 1 MiB is
queued). Prints ``listening on ADDRESS`` once ready and ``connection from PEER`` per
connection; SIGINT or SIGTERM stops it cleanly (exit 0).
"""

import signal
import sys

import _path  # noqa: F401
import oxsock

MAX_QUEUED = 1 << 20


class Stop(Exception):
    """Raised by the signal handler inside the blocked wait."""


def on_signal(signum, frame):
    raise Stop()


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: poll_server.py ENDPOINT   (e.g. tcp://127.0.0.1:7000)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    queued = {}  # Socket -> bytearray still to write
    buf = bytearray(65536)
    try:
        with oxsock.listen(sys.argv[1]) as srv, oxsock.Poller() as poller:
            srv.setopt(oxsock.Option.NONBLOCKING, 1)
            poller.add(srv, oxsock.POLL_IN)
            print(f"listening on {srv.local_addr}", flush=True)

            def drop(conn):
                poller.remove(conn)
                del queued[conn]
                conn.close()

            def want(conn):
                out = queued[conn]
                ev = (oxsock.POLL_OUT if out else 0) | (oxsock.POLL_IN if len(out) < MAX_QUEUED else 0)
                poller.modify(conn, ev)

            while True:
                for sock, events in poller.wait():
                    if sock is srv:
                        while True:  # accept every waiting connection
                            try:
                                conn, peer = srv.accept()
                            except oxsock.WouldBlock:
                                break
                            print(f"connection from {peer}", flush=True)
                            conn.setopt(oxsock.Option.NONBLOCKING, 1)
                            queued[conn] = bytearray()
                            poller.add(conn, oxsock.POLL_IN)
                        continue
                    conn = sock
                    out = queued[conn]
                    try:
                        if events & (oxsock.POLL_IN | oxsock.POLL_HUP | oxsock.POLL_ERR) and len(out) < MAX_QUEUED:
                            n = 0
                            try:
                                n = conn.recv_into(buf)
                            except oxsock.WouldBlock:
                                n = -1
                            if n == 0:  # the client is done sending: finish writing, then close
                                if out:
                                    conn.setopt(oxsock.Option.NONBLOCKING, 0)
                                    conn.write_timeout = 5.0
                                    conn.sendall(out)
                                drop(conn)
                                continue
                            if n > 0:
                                out += memoryview(buf)[:n]
                        if out:
                            try:
                                sent = conn.send(out)
                                del out[:sent]
                            except oxsock.WouldBlock:
                                pass
                        want(conn)
                    except oxsock.Error as e:
                        print(f"connection ended: {e}", file=sys.stderr, flush=True)
                        drop(conn)
    except Stop:
        for conn in queued:
            conn.close()
        return 0
    except oxsock.Error as e:
        print(f"poll_server: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tcp_server.py ADDRESS -- the textbook TCP server, one library call per POSIX call.

ADDRESS is ``127.0.0.1:7000`` or ``[::1]:7000`` (the domain follows the text; port 0
picks a free port). Opens a socket, sets REUSEADDR, binds, listens, then accepts
connections one after another and echoes every byte (so every line) back. Prints
``listening on ADDRESS`` once ready and ``connection from PEER`` per connection;
SIGINT or SIGTERM stops it cleanly (exit 0).
"""

import signal
import sys

import _path  # noqa: F401  (finds the checkout's python/ folder when needed)
import oxsock


class Stop(Exception):
    """Raised by the SIGTERM handler inside the blocked call."""


def on_signal(signum, frame):
    raise Stop()


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: tcp_server.py ADDRESS   (e.g. 127.0.0.1:7000 or [::1]:7000)", file=sys.stderr)
        return 2
    address = sys.argv[1]
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    domain = oxsock.INET6 if address.startswith("[") else oxsock.INET
    try:
        with oxsock.Socket(domain, oxsock.STREAM) as srv:
            srv.setopt(oxsock.Option.REUSEADDR, 1)
            srv.bind(address)
            srv.listen(16)
            print(f"listening on {srv.local_addr}", flush=True)
            buf = bytearray(65536)
            while True:
                conn, peer = srv.accept()
                print(f"connection from {peer}", flush=True)
                with conn:
                    try:
                        while True:
                            n = conn.recv_into(buf)
                            if n == 0:
                                break
                            conn.sendall(memoryview(buf)[:n])
                    except (oxsock.ConnectionReset, oxsock.BrokenPipe) as e:
                        print(f"connection from {peer} ended: {e}", file=sys.stderr)
    except Stop:
        return 0
    except oxsock.Error as e:
        print(f"tcp_server: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

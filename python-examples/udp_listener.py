#!/usr/bin/env python3
"""udp_listener.py ADDRESS -- a UDP echo server with the low-level calls.

ADDRESS is ``127.0.0.1:7000`` or ``[::1]:7000`` (the domain follows the text). Opens
a datagram socket, binds it, and sends every datagram back to its sender
(``recvfrom``/``sendto``), printing ``datagram from PEER`` for each. Prints
``listening on ADDRESS`` once ready; SIGINT or SIGTERM stops it cleanly (exit 0).
"""

import signal
import sys

import _path  # noqa: F401
import oxsock


class Stop(Exception):
    """Raised by the signal handler inside the blocked call."""


def on_signal(signum, frame):
    raise Stop()


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: udp_listener.py ADDRESS   (e.g. 127.0.0.1:7000)", file=sys.stderr)
        return 2
    address = sys.argv[1]
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    domain = oxsock.INET6 if address.startswith("[") else oxsock.INET
    try:
        with oxsock.Socket(domain, oxsock.DGRAM) as s:
            s.bind(address)
            print(f"listening on {s.local_addr}", flush=True)
            while True:
                data, peer = s.recvfrom(65536)
                print(f"datagram from {peer}", flush=True)
                s.sendto(data, peer)
    except Stop:
        return 0
    except oxsock.Error as e:
        print(f"udp_listener: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

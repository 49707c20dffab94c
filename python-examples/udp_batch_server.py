#!/usr/bin/env python3
"""udp_batch_server.py ADDRESS -- a UDP echo server that moves up to 64 datagrams per
call in each direction (``Socket.recv_batch`` / ``Socket.send_batch``).

ADDRESS is ``127.0.0.1:7000`` or ``[::1]:7000``. Each ``recv_batch`` waits for one
datagram, then takes every one already queued (up to 64) without waiting more; the
replies go back in one ``send_batch``, each to its sender. Prints ``listening on
ADDRESS`` and ``batch of N datagrams`` per batch; SIGINT or SIGTERM stops it (exit 0).
The twin of ``c-examples/udp_batch_server.c``.
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
        print("usage: udp_batch_server.py ADDRESS   (e.g. 127.0.0.1:7000)", file=sys.stderr)
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
                try:
                    batch = s.recv_batch(64, 65536)
                except oxsock.ConnectionRefused:
                    continue  # an ICMP error for an earlier reply
                print(f"batch of {len(batch)} datagrams", flush=True)
                replies = [(d.data, d.address) for d in batch]
                while replies:
                    try:
                        s.send_batch(replies)
                        break
                    except oxsock.Error as e:  # skip the refused entry, send the rest
                        print(f"udp_batch_server: {e}", file=sys.stderr)
                        replies = replies[getattr(e, "count", 0) + 1 :]
    except Stop:
        return 0
    except oxsock.Error as e:
        print(f"udp_batch_server: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

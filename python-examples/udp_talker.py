#!/usr/bin/env python3
"""udp_talker.py ADDRESS [LINE...] -- sends each LINE (or each line of stdin) as one
datagram to ADDRESS (``127.0.0.1:7000`` or ``[::1]:7000``) with ``sendto`` and prints
each reply (``recvfrom``). Exit 0 on success, 1 with the library's message on
failure, including a reply that does not come within 5 seconds.
"""

import sys

import _path  # noqa: F401
import oxsock


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: udp_talker.py ADDRESS [LINE...]", file=sys.stderr)
        return 2
    address = sys.argv[1]
    lines = sys.argv[2:] or (l.rstrip("\n") for l in sys.stdin)
    domain = oxsock.INET6 if address.startswith("[") else oxsock.INET
    try:
        with oxsock.Socket(domain, oxsock.DGRAM) as s:
            s.read_timeout = 5.0
            for line in lines:
                s.sendto(line.encode() + b"\n", address)
                reply, _peer = s.recvfrom(65536)
                print(reply.decode(errors="replace").rstrip("\n"), flush=True)
    except oxsock.Error as e:
        print(f"udp_talker: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

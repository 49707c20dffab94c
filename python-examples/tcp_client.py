#!/usr/bin/env python3
"""tcp_client.py ADDRESS [LINE...] -- the textbook TCP client, one library call per
POSIX call.

Opens a socket (the domain follows ADDRESS: ``127.0.0.1:7000`` or ``[::1]:7000``),
connects, and for each LINE (or, with none, each line of stdin) writes it with a
newline, reads the reply line and prints it. Exit 0 on success, 1 with the library's
message on failure.
"""

import sys

import _path  # noqa: F401
import oxsock


def read_line(sock: oxsock.Socket, pending: bytearray) -> bytes:
    """The next line from ``sock`` (without its newline); ``pending`` keeps what came after."""
    while b"\n" not in pending:
        chunk = sock.recv(4096)
        if not chunk:
            raise oxsock.Error(oxsock.Status.UNEXPECTED_EOF, "the server closed the connection")
        pending += chunk
    line, _, rest = bytes(pending).partition(b"\n")
    pending[:] = rest
    return line


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: tcp_client.py ADDRESS [LINE...]", file=sys.stderr)
        return 2
    address = sys.argv[1]
    lines = sys.argv[2:] or (l.rstrip("\n") for l in sys.stdin)
    domain = oxsock.INET6 if address.startswith("[") else oxsock.INET
    try:
        with oxsock.Socket(domain, oxsock.STREAM) as s:
            s.connect(address)
            pending = bytearray()
            for line in lines:
                s.sendall(line.encode() + b"\n")
                print(read_line(s, pending).decode(errors="replace"), flush=True)
    except oxsock.Error as e:
        print(f"tcp_client: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

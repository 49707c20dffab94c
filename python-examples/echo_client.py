#!/usr/bin/env python3
"""echo_client.py ENDPOINT [LINE...] -- an echo client for any endpoint, with
``oxsock.dial``.

Sends each LINE (or, with none, each line of stdin) and prints the reply. On stream
endpoints (``tcp://``, ``tcp6://``, ``unix://``) a line goes out with its newline and
the reply is read up to the next newline; on record endpoints (``udp://``,
``unixgram://``, ``unixpacket://``) each line is one datagram and so is its reply.
Exit 0 on success, 1 with the library's message on failure (a datagram reply that
does not come within 5 seconds counts as a failure).
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
        print("usage: echo_client.py ENDPOINT [LINE...]", file=sys.stderr)
        return 2
    lines = sys.argv[2:] or (l.rstrip("\n") for l in sys.stdin)
    try:
        with oxsock.dial(sys.argv[1], timeout=10) as s:
            kind = s.getopt(oxsock.Option.TYPE)
            if kind == oxsock.STREAM:
                pending = bytearray()
                for line in lines:
                    s.sendall(line.encode() + b"\n")
                    print(read_line(s, pending).decode(errors="replace"), flush=True)
            else:
                s.read_timeout = 5.0
                for line in lines:
                    s.send(line.encode() + b"\n")
                    reply = s.recv(65536)
                    print(reply.decode(errors="replace").rstrip("\n"), flush=True)
    except oxsock.Error as e:
        print(f"echo_client: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

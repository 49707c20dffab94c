#!/usr/bin/env python3
"""fd_pass_server.py ENDPOINT [WORKERS] -- a listener process that hands each accepted
connection to a worker process over a Unix socket (``Socket.send_fds`` /
``Socket.recv_fds``): the privilege-separation and pre-fork shape.

ENDPOINT is a stream endpoint (``tcp://127.0.0.1:7000``, ``unix:///tmp/e.sock``);
WORKERS (default 2) worker processes share one Unix seqpacket socketpair with the
listener, and whichever is idle takes the next connection (one record, one
descriptor) and echoes it until the client closes. Prints ``listening on ADDRESS``,
``handed PEER to a worker`` and ``worker PID serves a connection``. SIGINT or SIGTERM
stops the listener; it closes the socketpair, the workers see its end and exit, and it
waits for them (exit 0). The twin of ``c-examples/fd_pass_server.c``.
"""

import os
import signal
import sys

import _path  # noqa: F401
import oxsock


class Stop(Exception):
    """Raised by the signal handler inside the blocked call."""


def on_signal(signum, frame):
    raise Stop()


def say(line: str) -> None:
    """One write per line: the listener and the workers share one stdout."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def worker(chan: oxsock.Socket) -> int:
    while True:
        tag, fds = chan.recv_fds(8, 1)
        if not tag:
            return 0  # the listener closed the channel
        if not fds:
            continue
        with oxsock.Socket.from_fd(fds[0]) as conn:
            say(f"worker {os.getpid()} serves a connection")
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)


def main() -> int:
    if not 2 <= len(sys.argv) <= 3:
        print("usage: fd_pass_server.py ENDPOINT [WORKERS]", file=sys.stderr)
        return 2
    nworkers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    try:
        listener = oxsock.listen(sys.argv[1])
        near, far = oxsock.socketpair(oxsock.SEQPACKET)
    except oxsock.Error as e:
        print(f"fd_pass_server: {e}", file=sys.stderr)
        return 1
    sys.stdout.flush()
    pids = []
    for _ in range(nworkers):
        pid = os.fork()
        if pid == 0:
            # The worker: only its end of the channel. A signal to the whole group
            # (Ctrl-C) is ignored here; the end of the channel stops the worker.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            listener.close()
            near.close()
            try:
                code = worker(far)
            except oxsock.Error as e:
                print(f"fd_pass_server worker: {e}", file=sys.stderr)
                code = 1
            sys.stdout.flush()
            os._exit(code)
        pids.append(pid)
    far.close()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    say(f"listening on {listener.local_addr}")
    code = 0
    try:
        while True:
            conn, peer = listener.accept()
            with conn:
                near.send_fds(b"c", [conn.fileno()])
            say(f"handed {peer} to a worker")
    except Stop:
        pass
    except oxsock.Error as e:
        print(f"fd_pass_server: {e}", file=sys.stderr)
        code = 1
    near.close()
    listener.close()
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())

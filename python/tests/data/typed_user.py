"""A user program, type-checked with ``mypy --strict`` against the installed package
(tests/python_package.rs) and run. It uses the public names as a user would: nothing
here may need a ``type: ignore``."""

from __future__ import annotations

import array
import asyncio
import socket
from typing import List, Optional, Tuple

import oxsock
from oxsock import Option, Socket, Status


def echo_once(srv: Socket) -> Tuple[bytes, str]:
    conn, peer = srv.accept()
    with conn:
        data: bytes = conn.recv(100)
        conn.sendall(data)
        return data, peer


def main() -> None:
    with oxsock.listen("tcp://127.0.0.1:0") as srv:
        srv.setopt(Option.REUSEADDR, 1)
        port: int = int(srv.getsockname()[1])
        with oxsock.dial(f"tcp://127.0.0.1:{port}", timeout=5.0) as c:
            c.settimeout(5)
            timeout: Optional[float] = c.gettimeout()
            assert timeout == 5.0
            c.sendall(b"typed")
            data, peer = echo_once(srv)
            assert data == b"typed" and peer == c.local_addr
            buf = bytearray(5)
            n: int = c.recv_into(buf)
            c.recv_into(memoryview(buf)[n:])
            c.send(array.array("b", [1, 2, 3]))  # any buffer
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            assert c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            fam: socket.AddressFamily = c.family
            kind: socket.SocketKind = c.type
            assert (fam, kind) == (socket.AF_INET, socket.SOCK_STREAM)
            f = c.makefile("rb")
            f.close()

    a, b = oxsock.socketpair()
    with a, b:
        a.sendall(memoryview(b"pair"))
        assert b.recv_exact(4) == b"pair"
        ready: List[Tuple[Socket, int]] = oxsock.poll([(a, oxsock.POLL_OUT)], 0)
        assert ready and ready[0][0] is a

    with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        u.sendto(b"self", u.getsockname())
        got, sender = u.recvfrom(10)
        into = bytearray(10)
        u.sendto(b"again", u.local_addr)
        k, sender2 = u.recvfrom_into(into)
        assert got == b"self" and sender == sender2 and k == 5

    try:
        oxsock.dial("tcp://no-such-host.invalid:80", 1)
    except socket.gaierror as e:
        assert isinstance(e, oxsock.ResolveError)
    except oxsock.Error as e:
        status: Status | int = e.status
        print("resolve failed differently:", status)

    try:
        with oxsock.Socket(oxsock.UNIX, oxsock.STREAM) as s:
            s.connect("/nonexistent/typed.sock")
    except FileNotFoundError as e:
        assert isinstance(e, oxsock.Error)
        assert str(e.status) in ("CONNECTION_REFUSED", "OS", "ADDRESS_NOT_AVAILABLE")

    err: oxsock.TimedOut = oxsock.TimedOut(Status.TIMED_OUT, "made up")
    assert isinstance(err, TimeoutError)

    with oxsock.Poller() as p:
        p.wake()
        events: List[Tuple[object, int]] = p.wait(0)
        assert events == []

    async def serve() -> bytes:
        listener = oxsock.listen("unix://@oxsock-typed-user")

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            w.write(await r.readline())
            await w.drain()
            w.close()

        server = await asyncio.start_server(handle, sock=listener)
        async with server:
            cl = oxsock.Socket(oxsock.UNIX, oxsock.STREAM)
            cl.connect("@oxsock-typed-user")
            r, w = await asyncio.open_unix_connection(sock=cl)
            w.write(b"line\n")
            line = await r.readline()
            w.close()
            return line

    assert asyncio.run(serve()) == b"line\n"
    print("typed user program ok", oxsock.library_version())


if __name__ == "__main__":
    main()

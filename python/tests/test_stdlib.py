"""Standard-library code that expects a ``socket.socket``, given an oxsock Socket
(contract §11, Behaving like socket.socket): ``http.client`` over ``makefile()``
against ``python -m http.server`` (a separate process), asyncio's ``loop.sock_*``
functions, and ``asyncio.start_server(sock=oxsock.listen(...))`` serving
``asyncio.open_connection`` clients.

asyncio over TCP reads ``SO_ERROR`` after a non-blocking connect and sets
``TCP_NODELAY`` on every TCP transport with the raw ``getsockopt``/``setsockopt`` of
§13."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import subprocess
import sys
import time
import unittest
from typing import Any, List, Tuple

import oxsock

from .helpers import BOUND, EXAMPLES_DIR, ScratchMixin



class HttpClient(ScratchMixin):
    """http.client against CPython's http.server, run as its own process."""

    def setUp(self) -> None:
        super().setUp()
        self.body = b"".join(b"line %06d of the served file\n" % i for i in range(20000))
        with open(os.path.join(self.tmp, "file.txt"), "wb") as f:
            f.write(self.body)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", self.tmp, str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.addCleanup(self.stop)
        end = time.monotonic() + BOUND
        while True:
            try:
                oxsock.dial(f"tcp://127.0.0.1:{self.port}", BOUND).close()
                break
            except ConnectionRefusedError:
                if time.monotonic() > end or self.server.poll() is not None:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(BOUND)

    def test_http_response_over_makefile(self) -> None:
        sock = oxsock.dial(f"tcp://127.0.0.1:{self.port}", BOUND)
        sock.sendall(b"GET /file.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        resp = http.client.HTTPResponse(sock)  # type: ignore[arg-type]
        resp.begin()
        self.assertEqual(resp.status, 200)
        self.assertEqual(int(resp.getheader("Content-Length", "0")), len(self.body))
        # The caller closes the socket while the response is being read, as
        # http.client does: the close waits for the response's file.
        sock.close()
        self.assertNotEqual(sock.fileno(), -1)
        self.assertEqual(resp.read(), self.body)
        resp.close()
        self.assertEqual(sock.fileno(), -1, "closing the response closed the socket")

    def test_http_get_example(self) -> None:
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES_DIR, "http_get.py"),
                            f"http://127.0.0.1:{self.port}/file.txt"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, self.body)
        self.assertIn(b"200 OK", r.stderr)
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES_DIR, "http_get.py"),
                            f"http://127.0.0.1:{self.port}/missing"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"404", r.stderr)

    def test_http_connection_with_oxsock(self) -> None:
        class OxsockHTTPConnection(http.client.HTTPConnection):
            def connect(self) -> None:
                self.sock = oxsock.dial(f"tcp://{self.host}:{self.port}", BOUND)

        conn = OxsockHTTPConnection("127.0.0.1", self.port)
        for path, status in (("/file.txt", 200), ("/missing", 404), ("/file.txt", 200)):
            conn.request("GET", path)
            resp = conn.getresponse()
            data = resp.read()
            self.assertEqual(resp.status, status)
            if status == 200:
                self.assertEqual(data, self.body)
            conn.close()  # http.server speaks HTTP/1.0: one request per connection
        self.assertIsNone(conn.sock)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, BOUND))


class AsyncioSockFunctions(ScratchMixin):
    """loop.sock_accept / sock_connect / sock_sendall / sock_recv on oxsock Sockets,
    with a payload larger than the socket buffers (so both sides wait in the loop)."""

    N = 1 << 20

    async def exchange(self, srv: oxsock.Socket, client: oxsock.Socket, address: Any) -> None:
        loop = asyncio.get_running_loop()
        srv.setblocking(False)
        client.setblocking(False)
        accepting = asyncio.ensure_future(loop.sock_accept(srv))
        await loop.sock_connect(client, address)
        conn, peer = await accepting
        self.assertIsInstance(conn, oxsock.Socket)
        with conn:
            self.assertEqual(conn.gettimeout(), 0.0, "sock_accept made it non-blocking")
            payload = os.urandom(self.N)

            async def reader() -> bytes:
                got = bytearray()
                while len(got) < self.N:
                    chunk = await loop.sock_recv(conn, 65536)
                    self.assertTrue(chunk, "early end of stream")
                    got += chunk
                return bytes(got)

            _, got = await asyncio.gather(loop.sock_sendall(client, payload), reader())
            self.assertEqual(got, payload)
            # And back, into a buffer.
            await loop.sock_sendall(conn, b"pong")
            buf = bytearray(4)
            n = 0
            while n < 4:
                n += await loop.sock_recv_into(client, memoryview(buf)[n:])
            self.assertEqual(buf, b"pong")

    def test_unix(self) -> None:
        path = os.path.join(self.tmp, "a.sock")
        with oxsock.listen("unix://" + path) as srv, oxsock.Socket(oxsock.UNIX, oxsock.STREAM) as c:
            run(self.exchange(srv, c, path))

    def test_tcp(self) -> None:
        with oxsock.listen("tcp://127.0.0.1:0") as srv, oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
            run(self.exchange(srv, c, srv.getsockname()))

    def test_udp(self) -> None:
        async def main() -> None:
            loop = asyncio.get_running_loop()
            with oxsock.listen("udp://127.0.0.1:0") as a, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.setblocking(False)
                b.setblocking(False)
                b.bind(("127.0.0.1", 0))
                await loop.sock_sendto(b, b"datagram", a.getsockname())
                data, addr = await loop.sock_recvfrom(a, 100)
                self.assertEqual((data, addr), (b"datagram", "127.0.0.1:%d" % b.getsockname()[1]))
                await loop.sock_sendto(a, b"reply", b.getsockname())
                self.assertEqual(await loop.sock_recv(b, 100), b"reply")

        if sys.version_info < (3, 11):
            self.skipTest("loop.sock_sendto/sock_recvfrom are new in Python 3.11")
        run(main())


class AsyncioServer(ScratchMixin):
    """asyncio.start_server over an oxsock listener, serving asyncio clients."""

    CLIENTS = 20

    async def serve(self, listener: oxsock.Socket, connect: Any) -> List[bytes]:
        seen: List[Tuple[Any, Any]] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append((writer.get_extra_info("sockname"), writer.get_extra_info("socket")))
            while line := await reader.readline():
                writer.write(line.upper())
                await writer.drain()
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(handle, sock=listener)

        async def client(i: int) -> bytes:
            reader, writer = await connect()
            writer.write(b"hello %d\n" % i)
            writer.write(b"bye %d\n" % i)
            await writer.drain()
            got = await reader.readline() + await reader.readline()
            writer.close()
            await writer.wait_closed()
            return got

        async with server:
            replies = await asyncio.gather(*(client(i) for i in range(self.CLIENTS)))
        self.assertEqual(len(seen), self.CLIENTS)
        self.assertTrue(listener.closed, "closing the server closed the oxsock listener")
        return list(replies)

    def check(self, replies: List[bytes]) -> None:
        self.assertEqual(replies, [b"HELLO %d\nBYE %d\n" % (i, i) for i in range(self.CLIENTS)])

    def test_unix(self) -> None:
        path = os.path.join(self.tmp, "srv.sock")
        listener = oxsock.listen("unix://" + path)
        self.check(run(self.serve(listener, lambda: asyncio.open_unix_connection(path))))

    def test_tcp(self) -> None:
        listener = oxsock.listen("tcp://127.0.0.1:0")
        host, port = listener.getsockname()[:2]
        self.check(run(self.serve(listener, lambda: asyncio.open_connection(host, port))))

    def test_open_connection_over_an_oxsock_socket(self) -> None:
        async def main() -> None:
            with socket.socket() as srv:
                srv.bind(("127.0.0.1", 0))
                srv.listen()
                srv.setblocking(False)

                async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                    w.write(await r.readline())
                    await w.drain()
                    w.close()

                server = await asyncio.start_server(handle, sock=srv)
                async with server:
                    c = oxsock.dial("tcp://127.0.0.1:%d" % srv.getsockname()[1], BOUND)
                    reader, writer = await asyncio.open_connection(sock=c)  # type: ignore[arg-type]
                    writer.write(b"echo me\n")
                    self.assertEqual(await reader.readline(), b"echo me\n")
                    writer.close()
                    await writer.wait_closed()

        run(main())


class AsyncioEchoServerExample(ScratchMixin):
    """python-examples/asyncio_echo_server.py, with oxsock and CPython clients."""

    def run_server(self, endpoint: str, connect: Any) -> None:
        proc = subprocess.Popen([sys.executable, os.path.join(EXAMPLES_DIR, "asyncio_echo_server.py"), endpoint],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line.startswith("listening on "):
                proc.kill()
                self.fail(f"expected `listening on`, got {line!r}: {proc.communicate(timeout=BOUND)[1]}")
            for i in range(3):
                with connect() as c:
                    c.settimeout(BOUND)
                    c.sendall(b"line %d\nand another\n" % i)
                    got = b""
                    while got.count(b"\n") < 2:
                        chunk = c.recv(100)
                        self.assertTrue(chunk)
                        got += chunk
                    self.assertEqual(got, b"line %d\nand another\n" % i)
            echo = subprocess.run([sys.executable, os.path.join(EXAMPLES_DIR, "echo_client.py"), endpoint,
                                   "from echo_client.py"], capture_output=True, text=True, timeout=60)
            self.assertEqual((echo.returncode, echo.stdout), (0, "from echo_client.py\n"), echo.stderr)
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=BOUND)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.count("connection from "), 4, out)

    def test_unix(self) -> None:
        path = os.path.join(self.tmp, "echo.sock")

        def connect() -> socket.socket:
            c = socket.socket(socket.AF_UNIX)
            c.connect(path)
            return c

        self.run_server("unix://" + path, connect)
        self.assertFalse(os.path.exists(path), "the listener's path is removed when the server stops")

    def test_tcp(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.run_server(f"tcp://127.0.0.1:{port}", lambda: socket.create_connection(("127.0.0.1", port)))


if __name__ == "__main__":
    unittest.main()

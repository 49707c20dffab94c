"""The binding against CPython's ``socket`` module as the peer, both directions, over
TCP v4 and v6, UDP v4 and v6, Unix stream (path and abstract) and Unix datagram."""

from __future__ import annotations

import hashlib
import os
import socket
import unittest

import oxsock

from .helpers import BOUND, ScratchMixin, Worker, has_ipv6, recv_all_cpython


def _cpython_echo_once(srv: socket.socket) -> bytes:
    """Accepts one connection, echoes until EOF, returns everything it got."""
    conn, _ = srv.accept()
    got = bytearray()
    with conn:
        conn.settimeout(BOUND)
        while True:
            b = conn.recv(65536)
            if not b:
                break
            got += b
            conn.sendall(b)
    return bytes(got)


class TcpInterop(unittest.TestCase):
    family = socket.AF_INET
    host = "127.0.0.1"
    scheme = "tcp"

    def fmt(self, port: int) -> str:
        return f"[{self.host}]:{port}" if self.family == socket.AF_INET6 else f"{self.host}:{port}"

    def test_oxsock_client_cpython_server(self) -> None:
        with socket.socket(self.family, socket.SOCK_STREAM) as srv:
            srv.bind((self.host, 0))
            srv.listen()
            srv.settimeout(BOUND)
            port = srv.getsockname()[1]
            w = Worker(_cpython_echo_once, srv)
            w.start()
            with oxsock.dial(f"{self.scheme}://{self.fmt(port)}", timeout=BOUND) as c:
                c.read_timeout = BOUND
                self.assertEqual(c.peer_addr, self.fmt(port))
                c.sendall(b"hello\n")
                self.assertEqual(c.recv_exact(6), b"hello\n")
                self.assertEqual(c.send(b"abc"), 3)
                self.assertEqual(c.recv_exact(3), b"abc")
                c.shutdown(oxsock.SHUT_WRITE)
                self.assertEqual(c.recv(10), b"")
            self.assertEqual(w.result(), b"hello\nabc")

    def test_cpython_client_oxsock_server(self) -> None:
        h = f"[{self.host}]" if self.family == socket.AF_INET6 else self.host
        with oxsock.listen(f"{self.scheme}://{h}:0") as srv:
            port = int(srv.local_addr.rsplit(":", 1)[1])
            self.assertEqual(srv.local_addr, self.fmt(port))
            with socket.create_connection((self.host, port), timeout=BOUND) as c:
                conn, peer = srv.accept()
                with conn:
                    self.assertEqual(peer, self.fmt(c.getsockname()[1]))
                    self.assertEqual(conn.peer_addr, peer)
                    self.assertEqual(conn.getopt(oxsock.Option.INTERRUPTIBLE), 1)
                    c.sendall(b"ping")
                    self.assertEqual(conn.recv_exact(4), b"ping")
                    conn.sendall(b"pong")
                    self.assertEqual(recv_all_cpython(c, 4), b"pong")
                    c.shutdown(socket.SHUT_WR)
                    self.assertEqual(conn.recv(100), b"")

    def test_bulk_both_directions(self) -> None:
        data = os.urandom(1 << 20) * 4
        h = f"[{self.host}]" if self.family == socket.AF_INET6 else self.host
        with oxsock.listen(f"{self.scheme}://{h}:0") as srv:
            port = int(srv.local_addr.rsplit(":", 1)[1])
            with socket.create_connection((self.host, port), timeout=BOUND) as c:
                conn, _ = srv.accept()
                with conn:
                    conn.write_timeout = BOUND
                    conn.read_timeout = BOUND
                    w = Worker(recv_all_cpython, c, len(data))
                    w.start()
                    conn.sendall(data)
                    self.assertEqual(hashlib.sha256(w.result()).digest(), hashlib.sha256(data).digest())
                    w2 = Worker(c.sendall, data)
                    w2.start()
                    got = conn.recv_exact(len(data))
                    w2.result()
                    self.assertTrue(got == data)


@unittest.skipUnless(has_ipv6(), "no IPv6 loopback")
class Tcp6Interop(TcpInterop):
    family = socket.AF_INET6
    host = "::1"
    scheme = "tcp6"


class UdpInterop(unittest.TestCase):
    family = socket.AF_INET
    host = "127.0.0.1"
    scheme = "udp"
    domain = oxsock.INET

    def fmt(self, port: int) -> str:
        return f"[{self.host}]:{port}" if self.family == socket.AF_INET6 else f"{self.host}:{port}"

    def test_oxsock_listener_cpython_sender(self) -> None:
        h = f"[{self.host}]" if self.family == socket.AF_INET6 else self.host
        with oxsock.listen(f"{self.scheme}://{h}:0") as srv, socket.socket(self.family, socket.SOCK_DGRAM) as c:
            srv.read_timeout = BOUND
            c.settimeout(BOUND)
            port = int(srv.local_addr.rsplit(":", 1)[1])
            c.sendto(b"datagram-1", (self.host, port))
            data, peer = srv.recvfrom(100)
            self.assertEqual(data, b"datagram-1")
            self.assertEqual(peer, self.fmt(c.getsockname()[1]))
            self.assertEqual(srv.sendto(b"reply", peer), 5)
            data, addr = c.recvfrom(100)
            self.assertEqual((data, addr[1]), (b"reply", port))

    def test_oxsock_dial_cpython_server(self) -> None:
        with socket.socket(self.family, socket.SOCK_DGRAM) as srv:
            srv.bind((self.host, 0))
            srv.settimeout(BOUND)
            port = srv.getsockname()[1]
            with oxsock.dial(f"{self.scheme}://{self.fmt(port)}") as c:
                c.read_timeout = BOUND
                self.assertEqual(c.getopt(oxsock.Option.TYPE), oxsock.DGRAM)
                self.assertEqual(c.getopt(oxsock.Option.INTERRUPTIBLE), 1)
                self.assertEqual(c.send(b"one"), 3)
                data, addr = srv.recvfrom(100)
                self.assertEqual(data, b"one")
                self.assertEqual(self.fmt(addr[1]), c.local_addr)
                srv.sendto(b"two", addr)
                self.assertEqual(c.recv(100), b"two")
                # An empty datagram is a datagram, not an end of stream.
                srv.sendto(b"", addr)
                self.assertEqual(c.recv(100), b"")

    def test_low_level_socket_sendto(self) -> None:
        with socket.socket(self.family, socket.SOCK_DGRAM) as srv, oxsock.Socket(self.domain, oxsock.DGRAM) as c:
            srv.bind((self.host, 0))
            srv.settimeout(BOUND)
            port = srv.getsockname()[1]
            c.read_timeout = BOUND
            self.assertEqual(c.sendto(bytearray(b"xyz"), self.fmt(port)), 3)
            data, addr = srv.recvfrom(100)
            self.assertEqual(data, b"xyz")
            srv.sendto(b"back", addr)
            self.assertEqual(c.recvfrom(100), (b"back", self.fmt(port)))


@unittest.skipUnless(has_ipv6(), "no IPv6 loopback")
class Udp6Interop(UdpInterop):
    family = socket.AF_INET6
    host = "::1"
    scheme = "udp6"
    domain = oxsock.INET6


class UnixInterop(ScratchMixin):
    def test_oxsock_listener_path_cpython_client(self) -> None:
        path = os.path.join(self.tmp, "srv.sock")
        with oxsock.listen(f"unix://{path}") as srv:
            self.assertEqual(srv.local_addr, path)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(BOUND)
                c.connect(path)
                conn, peer = srv.accept()
                with conn:
                    self.assertEqual(peer, "(unnamed)")
                    self.assertEqual(conn.getopt(oxsock.Option.PEER_PID), os.getpid())
                    c.sendall(b"over unix")
                    self.assertEqual(conn.recv_exact(9), b"over unix")
                    conn.sendall(b"ok")
                    self.assertEqual(recv_all_cpython(c, 2), b"ok")
        self.assertFalse(os.path.exists(path), "the listener's file is removed on close")

    def test_oxsock_dial_cpython_listener_path(self) -> None:
        path = os.path.join(self.tmp, "cpy.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
            srv.bind(path)
            srv.listen()
            srv.settimeout(BOUND)
            w = Worker(_cpython_echo_once, srv)
            w.start()
            with oxsock.dial(f"unix://{path}") as c:
                c.read_timeout = BOUND
                self.assertEqual(c.peer_addr, path)
                c.sendall(b"abc\n")
                self.assertEqual(c.recv_exact(4), b"abc\n")
                c.shutdown(oxsock.SHUT_WRITE)
                self.assertEqual(c.recv(1), b"")
            self.assertEqual(w.result(), b"abc\n")

    def test_abstract_both_ways(self) -> None:
        name = f"oxsock-pytest-{os.getpid()}-{id(self)}"
        with oxsock.listen(f"unix://@{name}") as srv:
            self.assertEqual(srv.local_addr, "@" + name)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(BOUND)
                c.connect("\0" + name)
                conn, _ = srv.accept()
                with conn:
                    c.sendall(b"x")
                    self.assertEqual(conn.recv(1), b"x")
        name2 = name + "-cpy"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv2:
            srv2.bind("\0" + name2)
            srv2.listen()
            srv2.settimeout(BOUND)
            w = Worker(_cpython_echo_once, srv2)
            w.start()
            with oxsock.dial(f"unix://@{name2}") as c2:
                c2.read_timeout = BOUND
                self.assertEqual(c2.peer_addr, "@" + name2)
                c2.sendall(b"abstract")
                self.assertEqual(c2.recv_exact(8), b"abstract")
            self.assertEqual(w.result(), b"abstract")

    def test_unix_datagram_both_ways(self) -> None:
        spath = os.path.join(self.tmp, "dg.sock")
        cpath = os.path.join(self.tmp, "cpy-dg.sock")
        with oxsock.Socket(oxsock.UNIX, oxsock.DGRAM) as srv, socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as c:
            srv.bind(spath)
            srv.read_timeout = BOUND
            c.bind(cpath)
            c.settimeout(BOUND)
            c.sendto(b"to oxsock", spath)
            data, peer = srv.recvfrom(100)
            self.assertEqual((data, peer), (b"to oxsock", cpath))
            self.assertEqual(srv.sendto(memoryview(b"to cpython"), peer), 10)
            self.assertEqual(c.recvfrom(100), (b"to cpython", spath))

    def test_unixgram_dial_autobinds(self) -> None:
        path = os.path.join(self.tmp, "g.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as srv:
            srv.bind(path)
            srv.settimeout(BOUND)
            with oxsock.dial(f"unixgram://{path}") as c:
                c.read_timeout = BOUND
                c.send(b"hi")
                data, addr = srv.recvfrom(100)
                self.assertEqual(data, b"hi")
                # CPython gives an abstract name as bytes starting with NUL.
                self.assertTrue(isinstance(addr, bytes) and addr.startswith(b"\0"), f"autobound abstract name: {addr!r}")
                self.assertTrue(c.local_addr.startswith("@"))
                srv.sendto(b"re", addr)
                self.assertEqual(c.recv(100), b"re")


if __name__ == "__main__":
    unittest.main()

"""A Socket where Python code expects a ``socket.socket`` (contract §11, Behaving like
socket.socket), checked against CPython's own socket module on the other side:
CPython's address forms in and out, settimeout/gettimeout/setblocking, family/type/proto,
makefile with the deferred close, connect_ex, recvfrom_into, dup, Option-only
setopt/getopt, and every Socket the binding returns being interruptible."""

from __future__ import annotations

import errno
import io
import os
import socket
import threading
import time
import unittest

import oxsock
from oxsock import Option

from .helpers import BOUND, ScratchMixin, Worker, has_ipv6, tcp_pair


def cpython_listener(family: int = socket.AF_INET, host: str = "127.0.0.1") -> socket.socket:
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.settimeout(BOUND)
    srv.bind((host, 0))
    srv.listen()
    return srv


class Addresses(ScratchMixin):
    def test_ipv4_tuples_in_and_out(self) -> None:
        with cpython_listener() as srv:
            port = srv.getsockname()[1]
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
                c.bind(("127.0.0.1", 0))
                c.connect(("127.0.0.1", port))
                peer, addr = srv.accept()
                with peer:
                    # What each side sees of the other, in CPython's forms.
                    self.assertEqual(c.getsockname(), addr)
                    self.assertEqual(c.getpeername(), ("127.0.0.1", port))
                    self.assertEqual(c.getsockname(), peer.getpeername())
                    self.assertEqual(c.getpeername(), peer.getsockname())
                    # The text stays in local_addr / peer_addr.
                    self.assertEqual(c.local_addr, f"127.0.0.1:{addr[1]}")
                    self.assertEqual(c.peer_addr, f"127.0.0.1:{port}")

    def test_wildcard_and_host_names(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            s.bind(("", 0))  # '' is INADDR_ANY, as in CPython
            self.assertEqual(s.getsockname()[0], "0.0.0.0")
        with cpython_listener() as srv:
            port = srv.getsockname()[1]
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
                c.connect(("localhost", port))  # a name, resolved as CPython does
                srv.accept()[0].close()
                self.assertEqual(c.getpeername(), ("127.0.0.1", port))

    @unittest.skipUnless(has_ipv6(), "no IPv6 loopback")
    def test_ipv6_tuples(self) -> None:
        with cpython_listener(socket.AF_INET6, "::1") as srv:
            port = srv.getsockname()[1]
            for addr in (("::1", port), ("::1", port, 0, 0)):
                with oxsock.Socket(oxsock.INET6, oxsock.STREAM) as c:
                    c.connect(addr)
                    peer, paddr = srv.accept()
                    with peer:
                        self.assertEqual(c.getpeername(), peer.getsockname())
                        self.assertEqual(c.getsockname(), peer.getpeername())
                        self.assertEqual(c.getsockname(), paddr)
                        self.assertEqual(len(c.getsockname()), 4)
        with oxsock.Socket(oxsock.INET6, oxsock.STREAM) as s:
            s.bind(("", 0))
            self.assertEqual(s.getsockname()[0], "::")

    def test_udp_sendto_tuple_and_recvfrom_into(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer, \
                oxsock.Socket(oxsock.INET, oxsock.DGRAM) as u:
            peer.settimeout(BOUND)
            peer.bind(("127.0.0.1", 0))
            u.bind(("127.0.0.1", 0))
            u.read_timeout = BOUND
            self.assertEqual(u.sendto(b"to a tuple", peer.getsockname()), 10)
            data, src = peer.recvfrom(100)
            self.assertEqual((data, src), (b"to a tuple", u.getsockname()))
            peer.sendto(b"into a buffer", u.getsockname())
            buf = bytearray(64)
            n, addr = u.recvfrom_into(buf)
            self.assertEqual((bytes(buf[:n]), addr), (b"into a buffer", "127.0.0.1:%d" % peer.getsockname()[1]))
            peer.sendto(b"abc", u.getsockname())
            mv = memoryview(bytearray(10))
            n, _ = u.recvfrom_into(mv[2:], 5)
            self.assertEqual(mv.tobytes(), b"\0\0abc\0\0\0\0\0")
            with self.assertRaises(ValueError):
                u.recvfrom_into(bytearray(4), 5)  # nbytes larger than the buffer
            with self.assertRaises(ValueError):
                u.recvfrom_into(bytearray(4), 0, oxsock.MSG_PEEK)  # no flags
            peer.sendto(b"too long for four", u.getsockname())
            with self.assertRaises(oxsock.MessageTooLong):
                u.recvfrom_into(bytearray(4))

    def test_unix_paths_as_bytes_and_str(self) -> None:
        path = os.path.join(self.tmp, "s.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
            srv.settimeout(BOUND)
            srv.bind(path)
            srv.listen()
            for addr in (path, os.fsencode(path)):
                with oxsock.Socket(oxsock.UNIX, oxsock.STREAM) as c:
                    c.connect(addr)
                    peer, _ = srv.accept()
                    with peer:
                        self.assertEqual(c.getpeername(), path)  # a str, as CPython's
                        self.assertEqual(c.getsockname(), "")  # unnamed
                        self.assertEqual(peer.getpeername(), c.getsockname())
        # bind with bytes, a CPython client sees the same path.
        path2 = os.path.join(self.tmp, "t.sock")
        with oxsock.Socket(oxsock.UNIX, oxsock.STREAM) as s:
            s.bind(os.fsencode(path2))
            s.listen()
            self.assertEqual(s.getsockname(), path2)
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(path2)
                conn, _ = s.accept()
                with conn:
                    self.assertEqual(conn.getsockname(), c.getpeername())

    def test_unix_abstract_name_as_bytes(self) -> None:
        name = b"\0oxsock-compat-%d" % os.getpid()
        with oxsock.Socket(oxsock.UNIX, oxsock.STREAM) as s:
            s.bind(name)
            s.listen()
            self.assertEqual(s.getsockname(), name)  # bytes, as CPython gives it
            self.assertEqual(s.local_addr, "@" + name[1:].decode())
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(name)
                conn, _ = s.accept()
                with conn:
                    self.assertEqual(conn.getsockname(), c.getpeername())

    def test_address_type_errors(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            for bad in (("127.0.0.1",), ("127.0.0.1", 1, 2), ("127.0.0.1", "80"), (1, 80), 5, None):
                with self.assertRaises(TypeError, msg=repr(bad)):
                    s.bind(bad)  # type: ignore[arg-type]
            with self.assertRaises(OverflowError):
                s.bind(("127.0.0.1", 70000))
            with self.assertRaises(socket.gaierror):
                s.connect(("no-such-host.invalid", 80))
        with oxsock.Socket(oxsock.UNIX, oxsock.STREAM) as u:
            with self.assertRaises(TypeError):
                u.bind(("127.0.0.1", 0))


class Timeouts(unittest.TestCase):
    def test_settimeout_gettimeout_setblocking(self) -> None:
        c, s = tcp_pair()
        with c, s:
            self.assertIsNone(c.gettimeout())
            self.assertTrue(c.getblocking())
            c.settimeout(0.25)
            self.assertEqual(c.gettimeout(), 0.25)
            self.assertEqual((c.read_timeout, c.write_timeout, c.connect_timeout), (0.25, 0.25, 0.25))
            with self.assertRaises(socket.timeout):  # TimeoutError, as CPython raises
                c.recv(1)
            c.settimeout(0.0001)  # rounded up to whole milliseconds
            self.assertEqual(c.read_timeout, 0.001)
            c.settimeout(0)
            self.assertEqual(c.gettimeout(), 0.0)
            self.assertFalse(c.getblocking())
            with self.assertRaises(BlockingIOError):
                c.recv(1)
            c.setblocking(True)
            self.assertIsNone(c.gettimeout())
            self.assertEqual(c.getopt(Option.NONBLOCKING), 0)
            self.assertIsNone(c.read_timeout)
            c.setblocking(False)
            self.assertEqual(c.getopt(Option.NONBLOCKING), 1)
            c.settimeout(None)
            self.assertEqual((c.gettimeout(), c.getopt(Option.NONBLOCKING)), (None, 0))
            s.sendall(b"x")
            self.assertEqual(c.recv(1), b"x")
            for bad, exc in ((-1, ValueError), (float("nan"), ValueError), ("1", TypeError), ([], TypeError)):
                with self.assertRaises(exc, msg=repr(bad)):
                    c.settimeout(bad)  # type: ignore[arg-type]

    def test_timeout_bounds_connect(self) -> None:
        # A TCP listener whose accept queue is full drops new SYNs: the connect
        # timeout set by settimeout ends the attempt with TimeoutError.
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            addr = srv.getsockname()
            fillers = []
            try:
                for _ in range(8):
                    f = socket.socket()
                    fillers.append(f)
                    f.setblocking(False)
                    f.connect_ex(addr)
                c = oxsock.Socket(oxsock.INET, oxsock.STREAM)
                fillers.append(c)  # type: ignore[arg-type]
                c.settimeout(0.3)
                with self.assertRaises(TimeoutError):
                    c.connect(addr)
            finally:
                for f in fillers:
                    f.close()


class FamilyTypeProto(ScratchMixin):
    def test_as_cpython_enums(self) -> None:
        cases = [
            (oxsock.Socket(oxsock.INET, oxsock.STREAM), socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP),
            (oxsock.Socket(oxsock.INET, oxsock.DGRAM), socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
            (oxsock.Socket(oxsock.UNIX, oxsock.STREAM), socket.AF_UNIX, socket.SOCK_STREAM, 0),
            (oxsock.Socket(oxsock.UNIX, oxsock.SEQPACKET), socket.AF_UNIX, socket.SOCK_SEQPACKET, 0),
            (oxsock.listen("udp://127.0.0.1:0"), socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
        ]
        if has_ipv6():
            cases.append((oxsock.Socket(oxsock.INET6, oxsock.STREAM), socket.AF_INET6, socket.SOCK_STREAM, 6))
        for s, fam, kind, proto in cases:
            with s:
                self.assertIs(s.family, fam)
                self.assertIsInstance(s.family, socket.AddressFamily)
                self.assertIs(s.type, kind)
                self.assertIsInstance(s.type, socket.SocketKind)
                self.assertEqual(s.proto, proto)
                # What CPython itself says of the same descriptor.
                with socket.socket(fileno=os.dup(s.fileno())) as cp:
                    self.assertEqual((cp.family, cp.type, cp.proto), (s.family, s.type, s.proto))


class MakeFile(ScratchMixin):
    def test_binary_read_write_and_deferred_close(self) -> None:
        with cpython_listener() as srv:
            c = oxsock.dial("tcp://127.0.0.1:%d" % srv.getsockname()[1], BOUND)
            peer, _ = srv.accept()
            with peer:
                r = c.makefile("rb")
                w = c.makefile("wb")
                w.write(b"line one\nline two\n")
                w.flush()
                self.assertEqual(peer.recv(100), b"line one\nline two\n")
                peer.sendall(b"reply 1\nreply 2\n")
                self.assertEqual(r.readline(), b"reply 1\n")
                # close() on the Socket waits for the files, as CPython's does.
                c.close()
                self.assertTrue(c.closed)
                self.assertNotEqual(c.fileno(), -1)
                self.assertEqual(r.readline(), b"reply 2\n")
                w.close()
                self.assertNotEqual(c.fileno(), -1, "one file is still open")
                peer.sendall(b"last")
                peer.shutdown(socket.SHUT_WR)
                self.assertEqual(r.read(), b"last")
                r.close()
                self.assertEqual(c.fileno(), -1, "the last file closed the socket")
                self.assertEqual(peer.recv(10), b"", "the peer sees the close")

    def test_text_modes_and_arguments(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            f = a.makefile("rw", encoding="utf-8", newline="")
            self.assertIsInstance(f, io.TextIOWrapper)
            self.assertEqual(f.mode, "rw")
            f.write("héllo\r\n")
            f.flush()
            self.assertEqual(b.recv_exact(8), "héllo\r\n".encode())
            b.sendall("wörld\n".encode())
            self.assertEqual(f.readline(), "wörld\n")
            f.close()
            raw = a.makefile("rb", buffering=0)
            self.assertIsInstance(raw, socket.SocketIO)
            b.sendall(b"raw")
            self.assertEqual(raw.read(3), b"raw")
            raw.close()
            with self.assertRaises(ValueError):
                a.makefile("r", buffering=0)  # unbuffered text
            with self.assertRaises(ValueError):
                a.makefile("x")
        self.assertEqual(a.fileno(), -1)

    def test_timeout_in_a_file_then_close(self) -> None:
        a, b = oxsock.socketpair()
        with b:
            a.settimeout(0.05)
            f = a.makefile("rb", buffering=0)
            with self.assertRaises(TimeoutError):
                f.read(1)
            f.close()
            a.close()
            self.assertEqual(a.fileno(), -1)


class ConnectEx(unittest.TestCase):
    def test_results(self) -> None:
        with cpython_listener() as srv:
            port = srv.getsockname()[1]
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
                self.assertEqual(c.connect_ex(("127.0.0.1", port)), 0)
                srv.accept()[0].close()
        with socket.socket() as tmp:
            tmp.bind(("127.0.0.1", 0))
            closed_port = tmp.getsockname()[1]  # bound, not listening: refused
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
                self.assertEqual(c.connect_ex("127.0.0.1:%d" % closed_port), errno.ECONNREFUSED)
        with cpython_listener() as srv:
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
                c.setblocking(False)
                self.assertIn(c.connect_ex(srv.getsockname()), (0, errno.EINPROGRESS))
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
            with self.assertRaises(oxsock.AddressError):  # no errno: raised, as CPython does
                c.connect_ex("not an address")


class Dup(unittest.TestCase):
    def test_dup_shares_the_connection_with_its_own_mode(self) -> None:
        c, s = tcp_pair()
        with c, s:
            c.settimeout(3.5)
            d = c.dup()
            with d:
                self.assertNotEqual(d.fileno(), c.fileno())
                self.assertNotEqual(d.handle, c.handle)
                self.assertEqual(d.gettimeout(), 3.5, "the timeout is copied, as CPython's dup does")
                self.assertEqual(d.getpeername(), c.getpeername())
                self.assertEqual(d.getopt(Option.INTERRUPTIBLE), 1)
                self.assertFalse(os.get_inheritable(d.fileno()))
                d.sendall(b"via dup")
                self.assertEqual(s.recv_exact(7), b"via dup")
                # Each handle keeps its own mode: c non-blocking makes the shared
                # descriptor O_NONBLOCK; d, blocking, still waits (in poll) for data.
                d.settimeout(None)
                c.setblocking(False)
                self.assertEqual((c.gettimeout(), d.gettimeout()), (0.0, None))
                with self.assertRaises(BlockingIOError):
                    c.recv(1)
                w = Worker(d.recv, 5)
                w.start()
                time.sleep(0.05)
                s.sendall(b"later")
                self.assertEqual(w.result(), b"later")
            # Closing the dup leaves the original working.
            c.setblocking(True)
            s.sendall(b"still")
            self.assertEqual(c.recv_exact(5), b"still")


class Interruptible(ScratchMixin):
    def test_every_returned_socket_is_interruptible(self) -> None:
        made = []
        with oxsock.listen("tcp://127.0.0.1:0") as srv:
            srv.setopt(Option.INTERRUPTIBLE, 0)  # the caller's choice for the listener
            self.assertEqual(srv.getopt(Option.INTERRUPTIBLE), 0)
            c = oxsock.dial("tcp://" + srv.local_addr, BOUND)
            conn, _ = srv.accept()
            made += [("dial", c), ("accept", conn), ("dup", conn.dup())]
            srv.setopt(Option.INTERRUPTIBLE, 1)
            c2 = oxsock.dial("tcp://" + srv.local_addr, BOUND)
            conn2, _ = srv.accept()
            made += [("dial", c2), ("accept after 1", conn2)]
        made.append(("Socket()", oxsock.Socket(oxsock.INET, oxsock.DGRAM)))
        made.append(("listen", oxsock.listen("udp://127.0.0.1:0")))
        a, b = oxsock.socketpair()
        made += [("socketpair a", a), ("socketpair b", b)]
        cp = socket.socket()
        made.append(("from_fd", oxsock.Socket.from_fd(cp.detach())))
        for what, s in made:
            with s:
                self.assertEqual(s.getopt(Option.INTERRUPTIBLE), 1, what)

    def test_plain_int_options_are_refused(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            with self.assertRaises(TypeError):
                s.setopt(socket.TCP_NODELAY, 1)  # type: ignore[arg-type]
            self.assertEqual(s.getopt(Option.REUSEADDR), 0, "nothing was set")
            with self.assertRaises(TypeError):
                s.getopt(1)  # type: ignore[arg-type]


class ThreadedMakefile(unittest.TestCase):
    def test_reader_thread_and_close(self) -> None:
        # A file read in one thread while the Socket is closed in another: the close
        # waits for the file, which still reads to the end.
        a, b = oxsock.socketpair()
        with b:
            f = a.makefile("rb")
            got = []
            t = threading.Thread(target=lambda: got.append(f.read()), daemon=True)
            t.start()
            a.close()
            b.sendall(b"x" * 100000)
            b.shutdown(oxsock.SHUT_WRITE)
            t.join(BOUND)
            self.assertFalse(t.is_alive())
            self.assertEqual(len(got[0]), 100000)
            f.close()
            self.assertEqual(a.fileno(), -1)


if __name__ == "__main__":
    unittest.main()

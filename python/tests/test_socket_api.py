"""Every §11 function, method and property of Socket, the constants, and timeouts."""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
import unittest

import oxsock
from oxsock import Option
from oxsock._socket import _with_interruptible

from .helpers import BOUND, ScratchMixin, Worker, has_ipv6, tcp_pair

CONTRACT_OPTIONS = {
    "REUSEADDR": 1, "REUSEPORT": 2, "NODELAY": 3, "KEEPALIVE": 4, "KEEPALIVE_IDLE_S": 5,
    "KEEPALIVE_INTERVAL_S": 6, "KEEPALIVE_COUNT": 7, "LINGER_S": 8, "RECV_BUFFER": 9,
    "SEND_BUFFER": 10, "READ_TIMEOUT_MS": 11, "WRITE_TIMEOUT_MS": 12, "CONNECT_TIMEOUT_MS": 13,
    "NONBLOCKING": 14, "BROADCAST": 15, "TTL": 16, "V6ONLY": 17, "MULTICAST_TTL": 18,
    "MULTICAST_LOOP": 19, "INTERRUPTIBLE": 20, "ERROR": 21, "DOMAIN": 22, "TYPE": 23,
    "PEER_UID": 24, "PEER_PID": 25, "HANDSHAKE_TIMEOUT_MS": 26, "TLS": 27, "TLS_WANTS": 28,
}


def full_backlog_listener():
    """A CPython TCP listener that never accepts, its accept queue filled, so that a
    further connect to it hangs (Linux drops the SYN) until the connect times out.
    Returns (listener, fillers)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(srv.getsockname())
        except BlockingIOError:
            pass
        fillers.append(f)
    time.sleep(0.1)
    return srv, fillers


class Constants(unittest.TestCase):
    def test_values(self) -> None:
        self.assertEqual((oxsock.UNIX, oxsock.INET, oxsock.INET6), (1, 2, 3))
        self.assertEqual((oxsock.STREAM, oxsock.DGRAM, oxsock.RAW, oxsock.SEQPACKET), (1, 2, 3, 4))
        self.assertEqual((oxsock.SHUT_READ, oxsock.SHUT_WRITE, oxsock.SHUT_BOTH), (0, 1, 2))
        self.assertEqual((oxsock.SHUT_READ, oxsock.SHUT_WRITE, oxsock.SHUT_BOTH),
                         (socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR))
        self.assertEqual((oxsock.MSG_OOB, oxsock.MSG_PEEK, oxsock.MSG_DONTWAIT, oxsock.MSG_WAITALL),
                         (socket.MSG_OOB, socket.MSG_PEEK, socket.MSG_DONTWAIT, socket.MSG_WAITALL))
        self.assertEqual((oxsock.POLL_IN, oxsock.POLL_OUT, oxsock.POLL_ERR, oxsock.POLL_HUP, oxsock.POLL_INVALID),
                         (0x1, 0x4, 0x8, 0x10, 0x20))
        self.assertEqual({o.name: o.value for o in Option}, CONTRACT_OPTIONS)

    def test_library_identity(self) -> None:
        v = oxsock.library_version()
        parts = v.split(".")
        self.assertEqual(len(parts), 3, v)
        self.assertTrue(all(p.isdigit() for p in parts), v)
        self.assertTrue(os.path.exists(oxsock.library_path) or "/" not in oxsock.library_path)
        for name in oxsock.__all__:
            self.assertTrue(hasattr(oxsock, name), name)

    def test_every_public_name_has_a_docstring(self) -> None:
        for name in ("Socket", "Poller", "dial", "listen", "socketpair", "poll", "Error", "Status", "Option",
                     "library_version"):
            self.assertTrue(getattr(oxsock, name).__doc__, name)
        for name, member in vars(oxsock.Socket).items():
            if not name.startswith("_"):
                doc = member.__doc__ if not isinstance(member, classmethod) else member.__func__.__doc__
                self.assertTrue(doc, f"Socket.{name}")
        for name, member in vars(oxsock.Poller).items():
            if not name.startswith("_"):
                self.assertTrue(member.__doc__, f"Poller.{name}")


class Lifecycle(ScratchMixin):
    def test_low_level_tcp_lifecycle(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as srv:
            self.assertEqual(srv.getopt(Option.INTERRUPTIBLE), 1)
            self.assertEqual(srv.getopt(Option.DOMAIN), oxsock.INET)
            self.assertEqual(srv.getopt(Option.TYPE), oxsock.STREAM)
            srv.setopt(Option.REUSEADDR, 1)
            self.assertEqual(srv.getopt(Option.REUSEADDR), 1)
            srv.bind("127.0.0.1:0")
            srv.listen()
            addr = srv.local_addr
            self.assertTrue(addr.startswith("127.0.0.1:"))
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as c:
                c.connect(addr)
                conn, peer = srv.accept()
                with conn:
                    self.assertIsInstance(conn, oxsock.Socket)
                    self.assertEqual(peer, c.local_addr)
                    self.assertEqual(conn.peer_addr, c.local_addr)
                    self.assertEqual(c.peer_addr, addr)
                    self.assertEqual(conn.getopt(Option.INTERRUPTIBLE), 1)
                    self.assertEqual(conn.getopt(Option.NONBLOCKING), 0)
                    c.sendall(b"hello")
                    self.assertEqual(conn.recv(5), b"hello")
                    conn.send(b"back")
                    self.assertEqual(c.recv_exact(4), b"back")
                    c.shutdown(oxsock.SHUT_WRITE)
                    self.assertEqual(conn.recv(10), b"")
                    conn.shutdown(oxsock.SHUT_BOTH)
                    self.assertEqual(c.recv(10), b"")

    @unittest.skipUnless(has_ipv6(), "no IPv6 loopback")
    def test_ipv6_addresses(self) -> None:
        c, s = tcp_pair("::1")
        with c, s:
            self.assertTrue(c.peer_addr.startswith("[::1]:"))
            self.assertEqual(c.getopt(Option.DOMAIN), oxsock.INET6)

    def test_every_returned_socket_is_interruptible(self) -> None:
        socks = []
        try:
            socks.append(oxsock.Socket(oxsock.INET, oxsock.DGRAM))
            srv = oxsock.listen("tcp://127.0.0.1:0")
            socks.append(srv)
            c = oxsock.dial(f"tcp://{srv.local_addr}")
            socks.append(c)
            socks.append(srv.accept()[0])
            socks.extend(oxsock.socketpair())
            socks.extend(oxsock.socketpair(oxsock.DGRAM))
            cp = socket.socket()
            socks.append(oxsock.Socket.from_fd(cp.detach()))
            socks.append(oxsock.dial(f"tcp://{srv.local_addr}?nodelay=1"))
            socks.append(oxsock.listen("udp://127.0.0.1:0"))
            for s in socks:
                self.assertEqual(s.getopt(Option.INTERRUPTIBLE), 1, repr(s))
            self.assertEqual(socks[-2].getopt(Option.NODELAY), 1)
            explicit = oxsock.dial(f"tcp://{srv.local_addr}?interruptible=0")
            socks.append(explicit)
            self.assertEqual(explicit.getopt(Option.INTERRUPTIBLE), 0, "an explicit key is kept")
        finally:
            for s in socks:
                s.close()

    def test_interruptible_query_rewrite(self) -> None:
        self.assertEqual(_with_interruptible(b"tcp://h:1"), b"tcp://h:1?interruptible=1")
        self.assertEqual(_with_interruptible(b"tcp://h:1?nodelay=1"), b"tcp://h:1?nodelay=1&interruptible=1")
        self.assertEqual(_with_interruptible(b"tcp://h:1?"), b"tcp://h:1?interruptible=1")
        self.assertEqual(_with_interruptible(b"tcp://h:1?interruptible=0"), b"tcp://h:1?interruptible=0")
        self.assertEqual(_with_interruptible(b"tcp://h:1?a=1&interruptible=1"), b"tcp://h:1?a=1&interruptible=1")
        self.assertEqual(_with_interruptible(b"tcp://h:1?xinterruptible=0"),
                         b"tcp://h:1?xinterruptible=0&interruptible=1")

    def test_socketpair_kinds(self) -> None:
        for kind in (oxsock.STREAM, oxsock.DGRAM, oxsock.SEQPACKET):
            a, b = oxsock.socketpair(kind)
            with a, b:
                self.assertEqual(a.getopt(Option.TYPE), kind)
                self.assertEqual(a.getopt(Option.DOMAIN), oxsock.UNIX)
                a.send(b"rec")
                self.assertEqual(b.recv(10), b"rec")
                self.assertEqual(b.getopt(Option.PEER_PID), os.getpid())
                self.assertEqual(b.getopt(Option.PEER_UID), os.getuid())
        a, b = oxsock.socketpair()
        with a, b:
            self.assertEqual(a.getopt(Option.TYPE), oxsock.STREAM, "the default type is STREAM")

    def test_fileno_detach_and_from_fd(self) -> None:
        a, b = oxsock.socketpair()
        with b:
            fd = a.fileno()
            self.assertGreaterEqual(fd, 0)
            os.fstat(fd)
            self.assertEqual(a.fileno(), fd)
            fd2 = a.detach()
            self.assertEqual(fd2, fd)
            self.assertTrue(a.closed)
            self.assertEqual(a.fileno(), -1)
            with socket.socket(fileno=fd2) as cp:  # the caller owns it now
                cp.sendall(b"via cpython")
                self.assertEqual(b.recv_exact(11), b"via cpython")
                a2 = oxsock.Socket.from_fd(cp.detach())
            with a2:
                self.assertEqual(a2.fileno(), fd2, "from_fd adopts the descriptor, no duplicate")
                self.assertEqual(a2.read_timeout, None)
                a2.sendall(b"adopted")
                self.assertEqual(b.recv_exact(7), b"adopted")
            with self.assertRaises(OSError) as cm:
                os.fstat(fd2)
            self.assertEqual(cm.exception.errno, errno.EBADF, "closing the Socket closed the adopted fd")

    def test_from_fd_refusal_leaves_fd_open(self) -> None:
        r, w = os.pipe()
        try:
            with self.assertRaises(oxsock.InvalidArgument):
                oxsock.Socket.from_fd(r)
            os.fstat(r)  # still open
            os.write(w, b"x")
            self.assertEqual(os.read(r, 1), b"x")
        finally:
            os.close(r)
            os.close(w)
        a, b = oxsock.socketpair()
        with a, b:
            with self.assertRaises(oxsock.InvalidArgument):
                oxsock.Socket.from_fd(a.fileno())  # already owned by a live handle

    def test_context_manager_and_repr(self) -> None:
        with oxsock.listen("tcp://127.0.0.1:0") as srv:
            r = repr(srv)
            self.assertIn(srv.local_addr, r)
            self.assertIn("oxsock.Socket", r)
            with oxsock.dial(f"tcp://{srv.local_addr}") as c:
                self.assertIn(f"peer={srv.local_addr}", repr(c))
        self.assertTrue(srv.closed)
        self.assertTrue(c.closed)
        self.assertEqual(repr(srv), "<oxsock.Socket [closed]>")
        self.assertEqual(srv.handle, 0)

    def test_unix_listener_file_removed_on_close(self) -> None:
        path = os.path.join(self.tmp, "l.sock")
        s = oxsock.listen(f"unix://{path}?mode=0600")
        self.assertTrue(os.path.exists(path))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        s.close()
        self.assertFalse(os.path.exists(path))

    def test_unixpacket_records(self) -> None:
        path = os.path.join(self.tmp, "p.sock")
        with oxsock.listen(f"unixpacket://{path}") as srv, oxsock.dial(f"unixpacket://{path}") as c:
            conn, _ = srv.accept()
            with conn:
                c.send(b"one")
                c.send(b"two")
                self.assertEqual(conn.recv(100), b"one")
                self.assertEqual(conn.recv(100), b"two")

    def test_peek_and_dontwait_flags(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            a.sendall(b"peekaboo")
            self.assertEqual(b.recv(4, oxsock.MSG_PEEK), b"peek")
            buf = bytearray(8)
            self.assertEqual(b.recv_into(buf, 0, oxsock.MSG_PEEK | oxsock.MSG_DONTWAIT), 8)
            self.assertEqual(b.recv(8, oxsock.MSG_WAITALL), b"peekaboo")
            with self.assertRaises(oxsock.WouldBlock):
                b.recv(1, oxsock.MSG_DONTWAIT)
            self.assertEqual(a.send(b"x", oxsock.MSG_DONTWAIT), 1)

    def test_datagram_sendto_recvfrom(self) -> None:
        with oxsock.listen("udp://127.0.0.1:0") as srv, oxsock.Socket(oxsock.INET, oxsock.DGRAM) as c:
            srv.read_timeout = BOUND
            c.read_timeout = BOUND
            c.bind("127.0.0.1:0")
            self.assertEqual(c.sendto(b"ping", srv.local_addr), 4)
            data, peer = srv.recvfrom(100)
            self.assertEqual((data, peer), (b"ping", c.local_addr))
            srv.sendto(b"pong", peer)
            self.assertEqual(c.recvfrom(100), (b"pong", srv.local_addr))
            # A connected datagram socket with connect().
            c.connect(srv.local_addr)
            c.send(b"conn")
            self.assertEqual(srv.recv(100), b"conn")

    def test_options_roundtrip(self) -> None:
        c, s = tcp_pair()
        with c, s:
            c.setopt(Option.NODELAY, 1)
            self.assertEqual(c.getopt(Option.NODELAY), 1)
            c.setopt(Option.NODELAY, False)
            self.assertEqual(c.getopt(Option.NODELAY), 0)
            c.setopt(Option.RECV_BUFFER, 65536)
            self.assertGreaterEqual(c.getopt(Option.RECV_BUFFER), 65536)
            c.setopt(Option.KEEPALIVE, 1)
            c.setopt(Option.KEEPALIVE_IDLE_S, 30)
            self.assertEqual(c.getopt(Option.KEEPALIVE_IDLE_S), 30)
            c.setopt(Option.TTL, 17)
            self.assertEqual(c.getopt(Option.TTL), 17)
            self.assertEqual(c.getopt(Option.ERROR), 0)
            c.setopt(Option.LINGER_S, 5)
            self.assertEqual(c.getopt(Option.LINGER_S), 5)
            # An Option only: a plain int (another library's number) is a TypeError.
            with self.assertRaises(TypeError):
                c.setopt(int(Option.LINGER_S), 5)
            with self.assertRaises(TypeError):
                c.getopt(int(Option.LINGER_S))

    def test_multicast_join_leave(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as u:
            u.bind("0.0.0.0:0")
            with self.assertRaises(oxsock.Error):
                u.join_multicast("not a group")
            try:
                u.join_multicast("239.255.77.1", "127.0.0.1")
            except oxsock.Error as e:  # loopback without multicast on some hosts
                self.assertIn(e.status, (oxsock.Status.ADDRESS_NOT_AVAILABLE, oxsock.Status.OS), str(e))
                return
            u.leave_multicast("239.255.77.1", "127.0.0.1")


class Timeouts(unittest.TestCase):
    def test_properties(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            for prop, opt in (("read_timeout", Option.READ_TIMEOUT_MS), ("write_timeout", Option.WRITE_TIMEOUT_MS),
                              ("connect_timeout", Option.CONNECT_TIMEOUT_MS)):
                self.assertIsNone(getattr(s, prop))
                setattr(s, prop, 1.5)
                self.assertEqual(getattr(s, prop), 1.5)
                self.assertEqual(s.getopt(opt), 1500)
                setattr(s, prop, 0.0001)  # rounded up to whole milliseconds
                self.assertEqual(s.getopt(opt), 1)
                setattr(s, prop, 2)
                self.assertEqual(s.getopt(opt), 2000)
                setattr(s, prop, None)
                self.assertIsNone(getattr(s, prop))
                self.assertEqual(s.getopt(opt), 0)

    def test_read_timeout_bounds_recv_and_accept(self) -> None:
        with oxsock.listen("tcp://127.0.0.1:0") as srv:
            srv.read_timeout = 0.1
            t0 = time.monotonic()
            with self.assertRaises(oxsock.TimedOut):
                srv.accept()
            self.assertLess(time.monotonic() - t0, BOUND)
            c = oxsock.dial(f"tcp://{srv.local_addr}")
            conn, _ = srv.accept()
            with c, conn:
                self.assertEqual(conn.read_timeout, 0.1, "accepted sockets inherit the timeout")
                for call in (lambda: conn.recv(1), lambda: conn.recv_exact(4), lambda: conn.recv_into(bytearray(1)),
                             lambda: conn.recvfrom(1)):
                    t0 = time.monotonic()
                    with self.assertRaises(TimeoutError):
                        call()
                    elapsed = time.monotonic() - t0
                    self.assertGreaterEqual(elapsed, 0.05)
                    self.assertLess(elapsed, BOUND)

    def test_write_timeout_bounds_sendall_and_reports_count(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            a.write_timeout = 0.2
            data = b"x" * (8 << 20)  # far more than the socket buffers hold
            with self.assertRaises(oxsock.TimedOut) as cm:
                a.sendall(data)
            sent = cm.exception.nbytes
            self.assertGreater(sent, 0)
            self.assertLess(sent, len(data))
            # The socket still works; the receiver sees exactly what was counted.
            got = 0
            b.read_timeout = 0.2
            while True:
                try:
                    got += len(b.recv(1 << 20))
                except oxsock.TimedOut:
                    break
            self.assertEqual(got, sent)

    def test_connect_timeout(self) -> None:
        srv, fillers = full_backlog_listener()
        try:
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
                s.connect_timeout = 0.3
                t0 = time.monotonic()
                with self.assertRaises(TimeoutError):
                    s.connect("127.0.0.1:%d" % srv.getsockname()[1])
                self.assertLess(time.monotonic() - t0, BOUND)
            t0 = time.monotonic()
            with self.assertRaises(oxsock.TimedOut):
                oxsock.dial("tcp://127.0.0.1:%d" % srv.getsockname()[1], timeout=0.3)
            self.assertLess(time.monotonic() - t0, BOUND)
        finally:
            for f in fillers:
                f.close()
            srv.close()


class Threads(unittest.TestCase):
    def test_one_reader_one_writer_on_one_socket(self) -> None:
        c, s = tcp_pair()
        with c, s:
            s.read_timeout = BOUND
            c.read_timeout = BOUND
            n = 2000

            def echo() -> None:
                for _ in range(n):
                    s.sendall(s.recv_exact(8))

            w = Worker(echo)
            w.start()
            reader = Worker(lambda: [c.recv_exact(8) for _ in range(n)])
            reader.start()
            for i in range(n):
                c.sendall(i.to_bytes(8, "little"))
            got = reader.result()
            w.result()
            self.assertEqual([int.from_bytes(b, "little") for b in got], list(range(n)))

    def test_close_wakes_blocked_accept(self) -> None:
        srv = oxsock.listen("tcp://127.0.0.1:0")
        w = Worker(srv.accept)
        w.start()
        time.sleep(0.2)
        srv.close()
        with self.assertRaises(oxsock.Closed):
            w.result()

    def test_concurrent_failures_keep_their_own_messages(self) -> None:
        errors = []

        def fail(i: int) -> None:
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as sock:
                for _ in range(100):
                    try:
                        sock.bind(f"bad-address-{i}")
                    except oxsock.AddressError as e:
                        if f"bad-address-{i}" not in e.message:
                            errors.append(e.message)

        ts = [threading.Thread(target=fail, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(BOUND)
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()


class HeaderDrift(unittest.TestCase):
    """Every function the checkout's include/oxsock.h declares has a ctypes prototype
    with as many arguments (skipped for an installed package without a checkout)."""

    def test_prototypes_match_the_header(self) -> None:
        import re

        from oxsock import _lib

        from .helpers import CHECKOUT

        header = os.path.join(CHECKOUT, "include", "oxsock.h")
        if not os.path.exists(header):
            self.skipTest("no include/oxsock.h (not a checkout)")
        with open(header, encoding="utf-8") as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        decls = dict(re.findall(r"\b(oxs_[a-z_0-9]+)\s*\(([^)]*)\)\s*;", text))
        self.assertTrue(decls, "no declarations found")
        self.assertEqual(sorted(decls), sorted(_lib._PROTOTYPES), "functions in the header vs the binding")
        for name, params in decls.items():
            params = params.strip()
            arity = 0 if params in ("", "void") else params.count(",") + 1
            self.assertEqual(arity, len(_lib._PROTOTYPES[name][1]), name)

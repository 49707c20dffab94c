"""Contract §11 "Messages" (§13 through the binding): writev, readv, send_fds,
recv_fds, send_batch, recv_batch (Datagram), sendfile as CPython's, setsockopt and
getsockopt; and interop with CPython's ``socket.send_fds`` / ``socket.recv_fds`` on the
other end of a socketpair, in both directions."""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
import unittest

import oxsock

from .helpers import BOUND, ScratchMixin, Worker


def _count_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _mixed_pair(kind: int = socket.SOCK_STREAM) -> "tuple[oxsock.Socket, socket.socket]":
    """An oxsock Socket and a CPython socket, connected (a Unix socketpair)."""
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    return oxsock.Socket.from_fd(a.detach()), b


class Gathered(unittest.TestCase):
    def test_writev_sends_every_buffer_in_order(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            big = os.urandom(3 << 20)
            w = Worker(b.recv_exact, 4 + len(big) + 3)
            w.start()
            a.writev([b"hdr:", memoryview(big), bytearray(b""), bytearray(b"end")])
            self.assertEqual(w.result(), b"hdr:" + big + b"end")

    def test_writev_more_than_1024_buffers(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            a.writev([bytes([i % 256]) for i in range(3000)])
            self.assertEqual(b.recv_exact(3000), bytes(i % 256 for i in range(3000)))

    def test_writev_timeout_carries_the_count(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            a.write_timeout = 0.2
            with self.assertRaises(TimeoutError) as cm:
                a.writev([bytes(8 << 20)])
            n = cm.exception.nbytes  # type: ignore[attr-defined]
            self.assertTrue(0 < n < 8 << 20)

    def test_readv_scatters_one_read(self) -> None:
        a, b = oxsock.socketpair(oxsock.DGRAM)
        with a, b:
            a.send(b"0123456789")
            x, y = bytearray(4), bytearray(10)
            self.assertEqual(b.readv([x, memoryview(y)]), 10)
            self.assertEqual((bytes(x), bytes(y[:6])), (b"0123", b"456789"))
            a.send(b"0123456789")
            with self.assertRaises(oxsock.Error) as cm:
                b.readv([bytearray(3), bytearray(3)])
            self.assertEqual(cm.exception.status, oxsock.Status.MESSAGE_TOO_LONG)

    def test_readv_rejects_bad_lists(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            with self.assertRaises(ValueError):
                b.readv([])
            with self.assertRaises(TypeError):
                b.readv([b"read-only"])


class Descriptors(unittest.TestCase):
    def test_send_and_receive_descriptors(self) -> None:
        for kind in (oxsock.STREAM, oxsock.SEQPACKET, oxsock.DGRAM):
            a, b = oxsock.socketpair(kind)
            r, w = os.pipe()
            try:
                with a, b:
                    a.send_fds(b"pipe", [w, r])
                    data, fds = b.recv_fds(16, 4)
                    self.assertEqual(data, b"pipe")
                    self.assertEqual(len(fds), 2)
                    for fd in fds:
                        self.assertTrue(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
                    os.write(fds[0], b"!")
                    self.assertEqual(os.read(r, 1), b"!")
                    for fd in fds:
                        os.close(fd)
            finally:
                os.close(r)
                os.close(w)

    def test_too_many_descriptors_closes_them_and_keeps_the_bytes(self) -> None:
        a, b = oxsock.socketpair()
        r, w = os.pipe()
        try:
            with a, b:
                before = _count_fds()
                a.send_fds(b"data", [r, w, r])
                with self.assertRaises(oxsock.Error) as cm:
                    b.recv_fds(16, 2)
                self.assertEqual(cm.exception.status, oxsock.Status.BUFFER_TOO_SMALL)
                self.assertEqual(cm.exception.data, b"data")  # type: ignore[attr-defined]
                self.assertEqual(_count_fds(), before)
        finally:
            os.close(r)
            os.close(w)

    def test_send_fds_needs_data_and_unix(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            with self.assertRaises(ValueError):
                a.send_fds(b"", [0])
            a.send_fds(b"plain", [])  # no descriptors: a plain sendall
            self.assertEqual(b.recv_fds(16, 4), (b"plain", []))
        with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as u:
            with self.assertRaises(oxsock.Error) as cm:
                u.send_fds(b"x", [0])
            self.assertEqual(cm.exception.status, oxsock.Status.UNSUPPORTED)


class CPythonFdInterop(unittest.TestCase):
    """CPython's ``socket.send_fds``/``socket.recv_fds`` at the other end."""

    def test_oxsock_sends_cpython_receives(self) -> None:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
            ox, cp = _mixed_pair(kind)
            r, w = os.pipe()
            try:
                with ox, cp:
                    cp.settimeout(BOUND)
                    ox.send_fds(b"from oxsock", [w])
                    msg, fds, flags, _ = socket.recv_fds(cp, 64, 4)
                    self.assertEqual(msg, b"from oxsock")
                    self.assertEqual(len(fds), 1)
                    os.write(fds[0], b"x")
                    self.assertEqual(os.read(r, 1), b"x")
                    os.close(fds[0])
            finally:
                os.close(r)
                os.close(w)

    def test_cpython_sends_oxsock_receives(self) -> None:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
            ox, cp = _mixed_pair(kind)
            with tempfile.TemporaryFile() as f, ox, cp:
                ox.read_timeout = BOUND
                socket.send_fds(cp, [b"from cpython"], [f.fileno(), f.fileno()])
                data, fds = ox.recv_fds(64, 4)
                self.assertEqual(data, b"from cpython")
                self.assertEqual(len(fds), 2)
                os.write(fds[1], b"shared")
                self.assertEqual(f.tell(), 6)  # one open file: the offset is shared
                for fd in fds:
                    self.assertTrue(os.get_inheritable(fd) is False)
                    os.close(fd)


class Batches(unittest.TestCase):
    def test_send_batch_and_recv_batch(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as a, oxsock.Socket(oxsock.INET, oxsock.DGRAM) as b:
            a.bind("127.0.0.1:0")
            b.bind("127.0.0.1:0")
            b.read_timeout = BOUND
            to = b.local_addr
            self.assertEqual(a.send_batch([(b"one", to), (b"x" * 100, to), (b"", to)]), 3)
            got = []
            while len(got) < 3:
                got += b.recv_batch(64, 16)
            self.assertEqual([g.data for g in got], [b"one", b"x" * 16, b""])
            self.assertEqual([g.size for g in got], [3, 100, 0])
            self.assertTrue(all(g.address == a.local_addr for g in got))
            self.assertIsInstance(got[0], oxsock.Datagram)
            self.assertLess(len(got[1].data), got[1].size)  # cut

    def test_recv_batch_takes_what_is_queued(self) -> None:
        a, b = oxsock.socketpair(oxsock.DGRAM)
        with a, b:
            a.send_batch([b"a", b"b", b"c"])
            got = b.recv_batch(64)
            self.assertEqual([g.data for g in got], [b"a", b"b", b"c"])
            self.assertEqual(got[0].address, "(unnamed)")
            b.read_timeout = 0.1
            with self.assertRaises(TimeoutError):
                b.recv_batch()

    def test_recv_batch_ipv6_and_unix_senders(self) -> None:
        with oxsock.Socket(oxsock.INET6, oxsock.DGRAM) as a, oxsock.Socket(oxsock.INET6, oxsock.DGRAM) as b:
            a.bind("[::1]:0")
            b.bind("[::1]:0")
            b.read_timeout = BOUND
            a.send_batch([(b"v6-%d" % i, b.local_addr) for i in range(5)])
            got: "list[oxsock.Datagram]" = []
            while len(got) < 5:
                got += b.recv_batch(64, 3)
            self.assertEqual([g.address for g in got], [a.local_addr] * 5)
            self.assertEqual([(g.data, g.size) for g in got], [(b"v6-", 4)] * 5)
        tmp = tempfile.mkdtemp()
        try:
            with oxsock.Socket(oxsock.UNIX, oxsock.DGRAM) as r, oxsock.Socket(oxsock.UNIX, oxsock.DGRAM) as w:
                r.bind(os.path.join(tmp, "r.sock"))
                w.bind(os.path.join(tmp, "w.sock"))
                w.send_batch([(b"one", r.local_addr), (b"two", r.local_addr)])
                got = r.recv_batch()
                while len(got) < 2:
                    got += r.recv_batch()
                self.assertEqual([g.address for g in got], [w.local_addr] * 2)
        finally:
            for f in ("r.sock", "w.sock"):
                if os.path.exists(os.path.join(tmp, f)):
                    os.unlink(os.path.join(tmp, f))
            os.rmdir(tmp)

    def test_send_batch_failure_carries_the_count(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as a:
            with self.assertRaises(oxsock.Error) as cm:
                a.send_batch([(b"ok", "127.0.0.1:9"), (b"x" * 70000, "127.0.0.1:9")])
            self.assertEqual(cm.exception.status, oxsock.Status.MESSAGE_TOO_LONG)
            self.assertEqual(cm.exception.count, 1)  # type: ignore[attr-defined]

    def test_recv_batch_arguments(self) -> None:
        a, b = oxsock.socketpair(oxsock.DGRAM)
        with a, b:
            with self.assertRaises(ValueError):
                b.recv_batch(0)
            with self.assertRaises(ValueError):
                b.recv_batch(1025)
            with self.assertRaises(ValueError):
                b.recv_batch(4, -1)
        s, t = oxsock.socketpair(oxsock.STREAM)
        with s, t:
            with self.assertRaises(oxsock.Error) as cm:
                s.recv_batch()
            self.assertEqual(cm.exception.status, oxsock.Status.UNSUPPORTED)


class SendFile(ScratchMixin):
    def _file(self, size: int) -> "tuple[object, bytes]":
        data = os.urandom(size)
        path = os.path.join(self.tmp, "f.bin")
        with open(path, "wb") as f:
            f.write(data)
        return open(path, "rb"), data

    def test_as_cpython_sendfile(self) -> None:
        f, data = self._file(1 << 20)
        a, b = oxsock.socketpair()
        with f, a, b:  # type: ignore[attr-defined]
            w = Worker(b.recv_exact, len(data))
            w.start()
            self.assertEqual(a.sendfile(f), len(data))
            self.assertEqual(w.result(), data)
            self.assertEqual(f.tell(), len(data))  # type: ignore[attr-defined]
            self.assertEqual(a.sendfile(f, 100, 50), 50)
            self.assertEqual(b.recv_exact(50), data[100:150])
            self.assertEqual(f.tell(), 150)  # type: ignore[attr-defined]
            # a count past the end stops at the end, as CPython's does
            self.assertEqual(a.sendfile(f, len(data) - 10, 1000), 10)
            self.assertEqual(b.recv_exact(10), data[-10:])

    def test_against_cpython_peer(self) -> None:
        f, data = self._file(300000)
        ox, cp = _mixed_pair()
        with f, ox, cp:  # type: ignore[attr-defined]
            cp.settimeout(BOUND)
            w = Worker(lambda: b"".join(iter(lambda: cp.recv(65536), b"")))
            w.start()
            ox.sendfile(f)
            ox.shutdown(oxsock.SHUT_WRITE)
            self.assertEqual(w.result(), data)

    def test_arguments(self) -> None:
        f, _ = self._file(10)
        a, b = oxsock.socketpair()
        with f, a, b:  # type: ignore[attr-defined]
            with self.assertRaises(ValueError):
                a.sendfile(f, -1)
            with self.assertRaises(ValueError):
                a.sendfile(f, 0, 0)
            with open(os.path.join(self.tmp, "t.txt"), "w") as tf:
                with self.assertRaises(ValueError):
                    a.sendfile(tf)


class RawOptions(unittest.TestCase):
    def test_round_trips_and_refusals(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)
            self.assertEqual(s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS), 0x10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
            self.assertEqual(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0"), b"reno")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            self.assertEqual(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), 131072)
            for name in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
                with self.assertRaises(oxsock.Error) as cm:
                    s.setsockopt(socket.SOL_SOCKET, name, bytes(16))
                self.assertEqual(cm.exception.status, oxsock.Status.UNSUPPORTED)


if __name__ == "__main__":
    unittest.main()

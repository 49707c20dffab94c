"""Every buffer type in and out, and proof that no copy is made: the library is
handed the caller's own memory (checked by recording the pointer it receives)."""

from __future__ import annotations

import array
import ctypes
import mmap
import unittest

import oxsock
from oxsock import _socket as impl

from .helpers import BOUND


def address_of(buf) -> int:
    """The address of a writable buffer's first byte."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buf))


def _plain(v):
    """An argument as the library receives it: a pointer or size as an int (the hot
    paths pass ``c_void_p``/``c_size_t`` objects or ints), ``bytes`` itself."""
    if isinstance(v, (ctypes.c_void_p, ctypes.c_size_t)):
        return v.value
    return v


class Recorder:
    """Wraps a library function of ``oxsock._socket``, recording the buffer argument
    (read when the call is made, as ctypes reads it). The hot paths call the
    prototype-free ``_r_*`` functions (``oxsock._fast``): ``_send`` records both."""

    def __init__(self, test: unittest.TestCase, name: str) -> None:
        self.seen = []
        for n in (name, "_r" + name):
            real = getattr(impl, n, None)
            if real is None:
                continue
            setattr(impl, n, self.wrap(real))
            test.addCleanup(setattr, impl, n, real)

    def wrap(self, real):
        def call(h, p, n, *rest):
            self.seen.append((_plain(p), _plain(n)))
            return real(h, p, n, *rest)

        return call


class Buffers(unittest.TestCase):
    def setUp(self) -> None:
        self.a, self.b = oxsock.socketpair()
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)
        self.a.read_timeout = BOUND
        self.b.read_timeout = BOUND

    def roundtrip(self, data, expect: bytes) -> None:
        self.assertEqual(self.a.send(data), len(expect))
        self.assertEqual(self.b.recv_exact(len(expect)), expect)
        self.a.sendall(data)
        self.assertEqual(self.b.recv_exact(len(expect)), expect)

    def test_send_every_buffer_type(self) -> None:
        self.roundtrip(b"bytes", b"bytes")
        self.roundtrip(bytearray(b"bytearray"), b"bytearray")
        self.roundtrip(memoryview(bytearray(b"writable-mv")), b"writable-mv")
        self.roundtrip(memoryview(bytearray(b"0123456789"))[2:6], b"2345")
        self.roundtrip(memoryview(b"readonly-mv"), b"readonly-mv")
        self.roundtrip(memoryview(b"0123456789")[3:7], b"3456")
        arr = array.array("i", [1, 2, 3])
        self.roundtrip(arr, arr.tobytes())
        m = mmap.mmap(-1, 16)
        m.write(b"mmap-contents-16")
        self.roundtrip(m, b"mmap-contents-16")
        self.roundtrip(memoryview(bytearray(b"abcdefgh"))[::2], b"aceg")  # non-contiguous: copied

    def test_empty_sends(self) -> None:
        for empty in (b"", bytearray(), memoryview(b""), memoryview(bytearray(4))[2:2]):
            self.assertEqual(self.a.send(empty), 0)
            self.assertIsNone(self.a.sendall(empty))

    def test_send_rejects_str_and_non_buffers(self) -> None:
        for bad in ("text", 12, None, [1, 2], 1.5):
            with self.assertRaises(TypeError, msg=repr(bad)):
                self.a.send(bad)
            with self.assertRaises(TypeError, msg=repr(bad)):
                self.a.sendall(bad)
            with self.assertRaises(TypeError, msg=repr(bad)):
                self.a.sendto(bad, "/nonexistent")

    def test_bytes_passed_in_place(self) -> None:
        rec = Recorder(self, "_send")
        data = b"in place please"
        self.a.send(data)
        self.assertIs(rec.seen[0][0], data, "a bytes object goes to the library itself")
        self.assertEqual(self.b.recv(100), data)

    def test_bytearray_and_views_passed_in_place(self) -> None:
        rec = Recorder(self, "_send")
        ba = bytearray(b"0123456789")
        self.a.send(ba)
        self.assertEqual(rec.seen[-1], (address_of(ba), 10))
        mv = memoryview(ba)[4:9]
        self.a.send(mv)
        self.assertEqual(rec.seen[-1], (address_of(ba) + 4, 5))
        self.assertEqual(self.b.recv_exact(15), b"012345678945678")

    def test_sendall_passed_in_place(self) -> None:
        rec = Recorder(self, "_write_all")
        data = b"z" * 1000
        self.a.sendall(data)
        self.assertIs(rec.seen[0][0], data)
        ba = bytearray(b"y" * 100)
        self.a.sendall(memoryview(ba)[10:])
        self.assertEqual(rec.seen[-1], (address_of(ba) + 10, 90))
        self.assertEqual(self.b.recv_exact(1090), data + b"y" * 90)

    def test_recv_into_fills_callers_bytearray(self) -> None:
        rec = Recorder(self, "_recv")
        buf = bytearray(b"." * 16)
        self.a.sendall(b"hello")
        n = self.b.recv_into(buf)
        self.assertEqual(n, 5)
        self.assertEqual(buf, bytearray(b"hello" + b"." * 11))
        self.assertEqual(rec.seen[-1], (address_of(buf), 16))

    def test_recv_into_memoryview_slice(self) -> None:
        rec = Recorder(self, "_recv")
        buf = bytearray(b"#" * 20)
        view = memoryview(buf)[5:12]
        self.a.sendall(b"ABCDEFGHIJ")
        n = self.b.recv_into(view)
        self.assertEqual(n, 7)
        self.assertEqual(buf, bytearray(b"#####ABCDEFG########"))
        self.assertEqual(rec.seen[-1], (address_of(buf) + 5, 7))
        # nbytes limits the count; the rest of the buffer is untouched.
        n = self.b.recv_into(memoryview(buf)[0:10], 2)
        self.assertEqual(n, 2)
        self.assertEqual(buf[:3], bytearray(b"HI#"))
        self.assertEqual(rec.seen[-1], (address_of(buf), 2))

    def test_recv_into_other_writable_buffers(self) -> None:
        arr = array.array("b", [0] * 8)
        self.a.sendall(b"\x01\x02\x03")
        self.assertEqual(self.b.recv_into(arr), 3)
        self.assertEqual(list(arr[:4]), [1, 2, 3, 0])
        m = mmap.mmap(-1, 8)
        self.a.sendall(b"mm")
        self.assertEqual(self.b.recv_into(m), 2)
        self.assertEqual(m[:2], b"mm")
        wide = array.array("i", [0, 0])  # 8 bytes, 2 items: the byte size counts
        self.a.sendall(b"12345678")
        self.assertEqual(self.b.recv_into(wide), 8)
        self.assertEqual(wide.tobytes(), b"12345678")

    def test_recv_into_rejects_readonly_and_bad_sizes(self) -> None:
        for bad in (b"readonly", memoryview(b"readonly"), "str", 5, None):
            with self.assertRaises(TypeError, msg=repr(bad)):
                self.b.recv_into(bad)
        with self.assertRaises(TypeError):
            self.b.recv_into(memoryview(bytearray(8))[::2])  # not contiguous
        with self.assertRaises(ValueError):
            self.b.recv_into(bytearray(4), 5)  # larger than the buffer
        with self.assertRaises(ValueError):
            self.b.recv_into(bytearray(4), -1)
        with self.assertRaises(TypeError):
            self.b.recv_into(bytearray(4), 1.0)

    def test_recv_into_empty_buffer(self) -> None:
        self.a.sendall(b"x")
        self.assertEqual(self.b.recv_into(bytearray()), 0)
        self.assertEqual(self.b.recv(1), b"x", "a zero-length receive reads nothing")

    def test_recv_variants(self) -> None:
        self.a.sendall(b"abcdef")
        self.assertEqual(self.b.recv(2), b"ab")
        self.assertIsInstance(self.b.recv(0), bytes)
        self.assertEqual(self.b.recv(100), b"cdef")
        self.assertEqual(self.b.recv_exact(0), b"")
        for bad in (-1, -100):
            with self.assertRaises(ValueError):
                self.b.recv(bad)
            with self.assertRaises(ValueError):
                self.b.recv_exact(bad)
            with self.assertRaises(ValueError):
                self.b.recvfrom(bad)
        for bad in ("1", 1.0, None, b"1"):
            with self.assertRaises(TypeError):
                self.b.recv(bad)
            with self.assertRaises(TypeError):
                self.b.recv_exact(bad)

    def test_bytearray_is_not_resizable_during_a_call_only(self) -> None:
        # After recv_into returns, the buffer's export is released again.
        buf = bytearray(4)
        self.a.sendall(b"1234")
        self.b.recv_into(buf)
        buf.extend(b"more")
        self.assertEqual(buf, bytearray(b"1234more"))


if __name__ == "__main__":
    unittest.main()

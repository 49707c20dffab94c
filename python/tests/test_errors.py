"""The exception classes, their built-in bases, the library's message and errno, and
argument checking (TypeError / ValueError before the library is called)."""

from __future__ import annotations

import errno
import os
import pickle
import socket
import textwrap
import threading
import time
import unittest

import oxsock
from oxsock import Status

from .helpers import BOUND, ScratchMixin, Worker, run_python, tcp_pair

BUILTIN = {
    Status.CONNECTION_REFUSED: ConnectionRefusedError,
    Status.CONNECTION_RESET: ConnectionResetError,
    Status.CONNECTION_ABORTED: ConnectionAbortedError,
    Status.BROKEN_PIPE: BrokenPipeError,
    Status.TIMED_OUT: TimeoutError,
    Status.INTERRUPTED: InterruptedError,
    Status.PERMISSION_DENIED: PermissionError,
    Status.WOULD_BLOCK: BlockingIOError,
}

CONTRACT_STATUS = {
    "OK": 0, "INVALID_ARGUMENT": -1, "BAD_HANDLE": -2, "ADDRESS": -3, "RESOLVE": -4,
    "WOULD_BLOCK": -5, "TIMED_OUT": -6, "INTERRUPTED": -7, "CLOSED": -8, "UNEXPECTED_EOF": -9,
    "CONNECTION_REFUSED": -10, "CONNECTION_RESET": -11, "CONNECTION_ABORTED": -12,
    "NOT_CONNECTED": -13, "BROKEN_PIPE": -14, "ADDRESS_IN_USE": -15,
    "ADDRESS_NOT_AVAILABLE": -16, "PERMISSION_DENIED": -17, "HOST_UNREACHABLE": -18,
    "NETWORK_UNREACHABLE": -19, "UNSUPPORTED": -20, "BUFFER_TOO_SMALL": -21,
    "MESSAGE_TOO_LONG": -22, "TOO_MANY_OPEN": -23, "BUSY": -24, "TLS": -25, "CERTIFICATE": -26,
    "OS": -99, "PANIC": -100,
}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Classes(unittest.TestCase):
    def test_status_values_are_the_contracts(self) -> None:
        self.assertEqual({s.name: s.value for s in Status}, CONTRACT_STATUS)

    def test_one_class_per_error_status(self) -> None:
        seen = set()
        for st in Status:
            if st == Status.OK:
                continue
            e = oxsock.Error(st, "msg")
            cls = type(e)
            self.assertIsNot(cls, oxsock.Error, st)
            self.assertNotIn(cls, seen)
            seen.add(cls)
            self.assertIsInstance(e, oxsock.Error)
            self.assertIsInstance(e, OSError)
            self.assertIs(e.status, st)
            self.assertIsInstance(e.status, Status)
            self.assertIsNone(e.errno)
            self.assertEqual(e.message, "msg")
            self.assertIn("msg", str(e))
            self.assertIs(getattr(oxsock, cls.__name__), cls, "exported from oxsock")
            if st in BUILTIN:
                self.assertTrue(issubclass(cls, BUILTIN[st]), f"{cls} derives from {BUILTIN[st]}")
                with self.assertRaises(BUILTIN[st]):
                    raise e
            for other in set(BUILTIN.values()) - {BUILTIN.get(st)}:
                self.assertFalse(issubclass(cls, other), f"{cls} must not derive from {other}")

    def test_named_classes(self) -> None:
        self.assertTrue(issubclass(oxsock.TimedOut, TimeoutError))
        self.assertTrue(issubclass(oxsock.WouldBlock, BlockingIOError))
        self.assertTrue(issubclass(oxsock.ConnectionRefused, ConnectionRefusedError))
        self.assertTrue(issubclass(oxsock.ConnectionReset, ConnectionResetError))
        self.assertTrue(issubclass(oxsock.ConnectionAborted, ConnectionAbortedError))
        self.assertTrue(issubclass(oxsock.BrokenPipe, BrokenPipeError))
        self.assertTrue(issubclass(oxsock.Interrupted, InterruptedError))
        self.assertTrue(issubclass(oxsock.PermissionDenied, PermissionError))
        self.assertTrue(issubclass(oxsock.Error, OSError))

    def test_unknown_status_and_errno(self) -> None:
        e = oxsock.Error(-12345, "strange", 5)
        self.assertIs(type(e), oxsock.Error)
        self.assertEqual(e.status, -12345)
        self.assertNotIsInstance(e.status, Status)
        self.assertEqual(e.errno, 5)
        self.assertEqual(oxsock.describe(-12345), "unknown status")

    def test_pickle_roundtrip(self) -> None:
        e = oxsock.Error(Status.CONNECTION_RESET, "gone", errno.ECONNRESET)
        e2 = pickle.loads(pickle.dumps(e))
        self.assertIs(type(e2), oxsock.ConnectionReset)
        self.assertEqual((e2.status, e2.message, e2.errno), (e.status, e.message, e.errno))

    def test_describe(self) -> None:
        for st in Status:
            text = oxsock.describe(st)
            self.assertIsInstance(text, str)
            self.assertTrue(text)
            self.assertEqual(st.describe(), text)


class Raised(ScratchMixin):
    """Each error as a real call raises it."""

    def test_connection_refused_with_message_and_errno(self) -> None:
        port = closed_port()
        with self.assertRaises(ConnectionRefusedError) as cm:
            oxsock.dial(f"tcp://127.0.0.1:{port}", timeout=BOUND)
        e = cm.exception
        self.assertIsInstance(e, oxsock.ConnectionRefused)
        self.assertEqual(e.status, Status.CONNECTION_REFUSED)
        self.assertEqual(e.errno, errno.ECONNREFUSED)
        self.assertIn("oxs_dial", e.message)
        self.assertIn(f"127.0.0.1:{port}", e.message)

    def test_low_level_connect_refused(self) -> None:
        port = closed_port()
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            with self.assertRaises(oxsock.ConnectionRefused) as cm:
                s.connect(f"127.0.0.1:{port}")
            self.assertIn("connect", cm.exception.message)

    def test_unix_connect_to_nothing_is_refused(self) -> None:
        with self.assertRaises(oxsock.ConnectionRefused) as cm:
            oxsock.dial(f"unix://{self.tmp}/none.sock")
        self.assertEqual(cm.exception.errno, errno.ENOENT)

    def test_timed_out_is_timeouterror_and_socket_stays_usable(self) -> None:
        c, s = tcp_pair()
        with c, s:
            s.read_timeout = 0.1
            t0 = time.monotonic()
            with self.assertRaises(TimeoutError) as cm:
                s.recv(10)
            self.assertGreaterEqual(time.monotonic() - t0, 0.05)
            self.assertIsInstance(cm.exception, oxsock.TimedOut)
            self.assertIsNone(cm.exception.errno, "the handle's own timeout has no errno")
            c.sendall(b"later")
            self.assertEqual(s.recv(10), b"later")

    def test_would_block_is_blockingioerror(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            with self.assertRaises(BlockingIOError) as cm:
                a.recv(10, oxsock.MSG_DONTWAIT)
            self.assertEqual(cm.exception.status, Status.WOULD_BLOCK)
            self.assertTrue(cm.exception.message)
            a.setopt(oxsock.Option.NONBLOCKING, 1)
            with self.assertRaises(oxsock.WouldBlock):
                a.recv_into(bytearray(4))

    def test_broken_pipe(self) -> None:
        a, b = oxsock.socketpair()
        with a:
            b.close()
            with self.assertRaises(BrokenPipeError) as cm:
                for _ in range(3):
                    a.send(b"x")
            self.assertIsInstance(cm.exception, oxsock.BrokenPipe)
            self.assertEqual(cm.exception.errno, errno.EPIPE)

    def test_connection_reset(self) -> None:
        c, s = tcp_pair()
        with c:
            s.setopt(oxsock.Option.LINGER_S, 0)  # close sends a reset
            s.close()
            c.read_timeout = BOUND
            with self.assertRaises(ConnectionResetError) as cm:
                c.recv(10)
            self.assertIsInstance(cm.exception, oxsock.ConnectionReset)

    def test_unexpected_eof_carries_partial(self) -> None:
        a, b = oxsock.socketpair()
        with b:
            a.sendall(b"abc")
            a.close()
            with self.assertRaises(oxsock.UnexpectedEof) as cm:
                b.recv_exact(10)
            self.assertEqual(cm.exception.partial, b"abc")

    def test_address_errors(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            for bad in ("not an address", "1.2.3:80", "[::1]:80", "/unix/path", "127.0.0.1:99999"):
                with self.assertRaises(oxsock.AddressError, msg=bad):
                    s.bind(bad)
        with self.assertRaises(oxsock.AddressError):
            oxsock.dial("nonsense://x")
        with self.assertRaises(oxsock.AddressError):
            oxsock.listen("unix://" + "/x" * 60)  # longer than 107 bytes
        with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as u:
            with self.assertRaises(oxsock.AddressError):
                u.sendto(b"x", "localhost:80")  # sendto takes numeric text only

    def test_invalid_argument(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            for call in (lambda: s.shutdown(7),
                         lambda: s.recv(1, 0x4000_0000), lambda: s.setopt(oxsock.Option.READ_TIMEOUT_MS, -1)):
                with self.assertRaises(oxsock.InvalidArgument):
                    call()
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.Socket(99, oxsock.STREAM)
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.listen("tcp://127.0.0.1:0?nosuchkey=1")

    def test_unsupported(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            with self.assertRaises(oxsock.Unsupported):
                a.setopt(oxsock.Option.NODELAY, 1)
            with self.assertRaises(oxsock.Unsupported):
                a.setopt(oxsock.Option.DOMAIN, 1)  # read-only
        with self.assertRaises(oxsock.Unsupported):
            oxsock.Socket(oxsock.UNIX, oxsock.RAW)

    def test_not_connected_and_address_in_use(self) -> None:
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            with self.assertRaises(oxsock.NotConnected):
                _ = s.peer_addr
        with oxsock.listen("tcp://127.0.0.1:0") as srv:
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s2:
                with self.assertRaises(oxsock.AddressInUse):
                    s2.bind(srv.local_addr)
                    s2.listen()

    def test_message_too_long_consumes_the_datagram(self) -> None:
        with oxsock.listen("udp://127.0.0.1:0") as srv, oxsock.Socket(oxsock.INET, oxsock.DGRAM) as c:
            srv.read_timeout = BOUND
            c.sendto(b"0123456789", srv.local_addr)
            c.sendto(b"next", srv.local_addr)
            with self.assertRaises(oxsock.MessageTooLong) as cm:
                srv.recvfrom(4)
            self.assertEqual(cm.exception.status, Status.MESSAGE_TOO_LONG)
            self.assertEqual(srv.recv(100), b"next")
            c.sendto(b"0123456789", srv.local_addr)
            with self.assertRaises(oxsock.MessageTooLong):
                srv.recv(3)
            c.sendto(b"0123456789", srv.local_addr)
            with self.assertRaises(oxsock.MessageTooLong):
                srv.recv_into(bytearray(5))

    def test_closed_by_another_thread(self) -> None:
        a, b = oxsock.socketpair()
        with b:
            w = Worker(a.recv, 10)
            w.start()
            time.sleep(0.2)
            a.close()
            with self.assertRaises(oxsock.Closed):
                w.result()

    def test_busy_detach_while_blocked(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            w = Worker(a.recv, 10)
            w.start()
            time.sleep(0.2)
            with self.assertRaises(oxsock.Busy):
                a.detach()
            b.sendall(b"x")
            self.assertEqual(w.result(), b"x")
            self.assertFalse(a.closed, "a refused detach changes nothing")

    def test_permission_denied_raw_socket_without_capability(self) -> None:
        if os.geteuid() != 0:
            with self.assertRaises(PermissionError):
                oxsock.Socket(oxsock.INET, oxsock.RAW, 1)
            return
        code = textwrap.dedent("""
            import os, oxsock
            os.setgroups([]); os.setgid(65534); os.setuid(65534)
            try:
                oxsock.Socket(oxsock.INET, oxsock.RAW, 1)
                print("opened")
            except PermissionError as e:
                print("denied", type(e).__name__, e.status.name, e.errno)
        """)
        r = run_python(code)
        self.assertEqual(r.stdout.strip(), "denied PermissionDenied PERMISSION_DENIED 1", r.stderr)

    def test_too_many_open(self) -> None:
        code = textwrap.dedent("""
            import resource, oxsock
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
            socks = []
            try:
                for _ in range(200):
                    socks.append(oxsock.Socket(oxsock.INET, oxsock.DGRAM))
                print("no error")
            except oxsock.TooManyOpen as e:
                print("too many", e.status.name, e.errno, len(socks) > 10)
        """)
        r = run_python(code)
        self.assertEqual(r.stdout.strip(), "too many TOO_MANY_OPEN 24 True", r.stderr)

    def test_message_is_read_per_thread(self) -> None:
        # A failure in another thread does not change this thread's message.
        port = closed_port()
        with self.assertRaises(oxsock.Error) as cm:
            oxsock.dial(f"tcp://127.0.0.1:{port}")
        stop = threading.Event()

        def other() -> None:
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
                while not stop.is_set():
                    try:
                        s.bind("bad address")
                    except oxsock.AddressError:
                        pass

        t = threading.Thread(target=other, daemon=True)
        t.start()
        try:
            for _ in range(200):
                try:
                    oxsock.dial(f"tcp://127.0.0.1:{port}")
                except oxsock.ConnectionRefused as e:
                    self.assertIn("oxs_dial", e.message)
        finally:
            stop.set()
            t.join(BOUND)
        self.assertIn("oxs_dial", cm.exception.message)


class AsCPythonUsersExpect(ScratchMixin):
    """Contract §11, Errors as CPython users expect."""

    def test_enoent_is_file_not_found(self) -> None:
        missing = os.path.join(self.tmp, "no-such.sock")
        with oxsock.Socket(oxsock.UNIX, oxsock.STREAM) as s:
            with self.assertRaises(FileNotFoundError) as cm:
                s.connect(missing)
        e = cm.exception
        self.assertIsInstance(e, oxsock.Error)
        self.assertEqual(e.errno, errno.ENOENT)
        with self.assertRaises(FileNotFoundError):
            oxsock.dial("unix://" + missing)
        with oxsock.Socket(oxsock.UNIX, oxsock.DGRAM) as u:
            with self.assertRaises(FileNotFoundError):
                u.sendto(b"x", missing)
            with self.assertRaises(FileNotFoundError):
                u.bind(os.path.join(self.tmp, "no-dir", "x.sock"))
        # CPython raises the same class for the same mistake.
        with socket.socket(socket.AF_UNIX) as cp:
            with self.assertRaises(FileNotFoundError):
                cp.connect(missing)
        # An error with another errno is not a FileNotFoundError.
        with self.assertRaises(oxsock.Error) as cm2:
            oxsock.dial("tcp://127.0.0.1:%d" % _closed_port(), 5)
        self.assertNotIsInstance(cm2.exception, FileNotFoundError)

    def test_resolve_is_gaierror(self) -> None:
        with self.assertRaises(socket.gaierror) as cm:
            oxsock.dial("tcp://no-such-host.invalid:80", 5)
        e = cm.exception
        self.assertIsInstance(e, oxsock.ResolveError)
        self.assertEqual(e.status, Status.RESOLVE)
        self.assertIsNone(e.errno, "the library reports no EAI code")
        self.assertTrue(issubclass(oxsock.ResolveError, socket.gaierror))
        with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
            with self.assertRaises(socket.gaierror):
                s.connect("no-such-host.invalid:80")

    def test_messages_never_show_the_added_query_key(self) -> None:
        port = _closed_port()
        for endpoint in (f"tcp://127.0.0.1:{port}", f"tcp://127.0.0.1:{port}?nodelay=1",
                         "tcp://no-such-host.invalid:80", "nonsense://x", f"tcp://127.0.0.1:{port}?"):
            with self.assertRaises(oxsock.Error, msg=endpoint) as cm:
                oxsock.dial(endpoint, 5)
            for text in (str(cm.exception), cm.exception.message, cm.exception.strerror or ""):
                self.assertNotIn("interruptible", text, endpoint)
            if "nonsense" not in endpoint:
                self.assertIn(endpoint.rstrip("?"), cm.exception.message)
        # A key the caller wrote is the caller's: it stays.
        with self.assertRaises(oxsock.Error) as cm:
            oxsock.dial(f"tcp://127.0.0.1:{port}?interruptible=1", 5)
        self.assertIn("interruptible=1", cm.exception.message)

    def test_str_of_a_status_is_its_name(self) -> None:
        for st in Status:
            self.assertEqual(str(st), st.name)
            self.assertEqual(f"{st}", st.name)
            self.assertEqual(f"{st:d}", str(int(st)))
        self.assertEqual(str(Status.TIMED_OUT), "TIMED_OUT")
        e = oxsock.Error(Status.TIMED_OUT, "x")
        self.assertEqual(str(e.status), "TIMED_OUT")


def _closed_port() -> int:
    """A loopback port with nothing listening (bound by nobody once this returns)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ArgumentChecks(unittest.TestCase):
    def setUp(self) -> None:
        self.s = oxsock.Socket(oxsock.INET, oxsock.STREAM)
        self.addCleanup(self.s.close)

    def test_wrong_types(self) -> None:
        s = self.s
        calls = [
            lambda: s.bind(1234), lambda: s.connect(None), lambda: s.listen("5"),
            lambda: s.recv("10"), lambda: s.recv(2.5), lambda: s.send("text"),
            lambda: s.sendto(b"x", 5), lambda: s.setopt("NODELAY", 1),
            lambda: s.setopt(oxsock.Option.NODELAY, "1"), lambda: s.setopt(oxsock.Option.NODELAY, 1.0),
            lambda: s.getopt(None), lambda: s.shutdown("both"),
            lambda: s.setopt(999, 1), lambda: s.getopt(0), lambda: s.setopt(2**40, 1),
            lambda: s.setopt(socket.TCP_NODELAY, 1), lambda: s.getopt(socket.TCP_NODELAY),
            # flags of a wrong type are TypeErrors, never ctypes.ArgumentError
            lambda: s.recv(4, None), lambda: s.recv_into(bytearray(4), 0, None),
            lambda: s.send(b"x", None), lambda: s.recv(4, "0"), lambda: s.recv_into(bytearray(4), None),
            lambda: s.recvfrom_into(bytearray(4), 0, None), lambda: s.recvfrom_into(bytearray(4), None),
            lambda: s.recvfrom_into(None), lambda: s.recv_into(None), lambda: s.recvfrom(None),
            lambda: s.settimeout("1"), lambda: s.connect_ex(None), lambda: s.bind(("127.0.0.1", "80")),
            lambda: s.connect(("127.0.0.1",)), lambda: s.sendto(b"x", (1, 2)),
            lambda: setattr(s, "read_timeout", "1"), lambda: setattr(s, "write_timeout", [1]),
            lambda: oxsock.dial(b"tcp://127.0.0.1:1".decode(), timeout="1"),
            lambda: oxsock.dial(42), lambda: oxsock.listen(None),
            lambda: oxsock.Socket("INET", oxsock.STREAM), lambda: oxsock.Socket.from_fd("3"),
            lambda: oxsock.socketpair("stream"), lambda: oxsock.poll([(1, oxsock.POLL_IN)]),
            lambda: oxsock.poll([(s, "in")]), lambda: oxsock.poll(5),
        ]
        for i, call in enumerate(calls):
            with self.assertRaises(TypeError, msg=f"call #{i}"):
                call()

    def test_impossible_values(self) -> None:
        s = self.s
        calls = [
            lambda: s.recv(-1), lambda: s.recv_exact(-5), lambda: s.recvfrom(-1),
            lambda: s.recv_into(bytearray(2), -1),
            lambda: setattr(s, "read_timeout", 0), lambda: setattr(s, "read_timeout", -1),
            lambda: setattr(s, "write_timeout", 0.0), lambda: setattr(s, "connect_timeout", -0.5),
            lambda: setattr(s, "read_timeout", float("nan")),
            lambda: oxsock.dial("tcp://127.0.0.1:1", timeout=0), lambda: oxsock.dial("tcp://127.0.0.1:1", timeout=-1),
            lambda: oxsock.poll([], timeout=-1), lambda: s.bind("127.0.0.1:0\0x"),
            lambda: s.setopt(oxsock.Option.NODELAY, 2**64),
            lambda: oxsock.Socket.from_fd(-1),
        ]
        for i, call in enumerate(calls):
            with self.assertRaises(ValueError, msg=f"call #{i}"):
                call()

    def test_closed_socket_raises_bad_handle(self) -> None:
        s = oxsock.Socket(oxsock.INET, oxsock.DGRAM)
        s.close()
        s.close()  # a second close does nothing
        self.assertEqual(s.fileno(), -1)
        self.assertTrue(s.closed)
        calls = {
            "bind": lambda: s.bind("127.0.0.1:0"), "listen": lambda: s.listen(),
            "accept": s.accept, "connect": lambda: s.connect("127.0.0.1:9"),
            "recv": lambda: s.recv(1), "recv_into": lambda: s.recv_into(bytearray(1)),
            "recv_exact": lambda: s.recv_exact(1), "send": lambda: s.send(b"x"),
            "sendall": lambda: s.sendall(b"x"), "sendto": lambda: s.sendto(b"x", "127.0.0.1:9"),
            "recvfrom": lambda: s.recvfrom(1), "shutdown": lambda: s.shutdown(oxsock.SHUT_BOTH),
            "setopt": lambda: s.setopt(oxsock.Option.BROADCAST, 1),
            "getopt": lambda: s.getopt(oxsock.Option.BROADCAST), "detach": s.detach,
            "local_addr": lambda: s.local_addr, "peer_addr": lambda: s.peer_addr,
            "read_timeout": lambda: s.read_timeout, "write_timeout": lambda: s.write_timeout,
            "connect_timeout": lambda: s.connect_timeout,
            "set read_timeout": lambda: setattr(s, "read_timeout", 1),
            "join_multicast": lambda: s.join_multicast("239.1.2.3"),
            "getsockname": s.getsockname, "getpeername": s.getpeername,
            "settimeout": lambda: s.settimeout(1), "gettimeout": s.gettimeout,
            "setblocking": lambda: s.setblocking(False), "getblocking": s.getblocking,
            "family": lambda: s.family, "type": lambda: s.type, "proto": lambda: s.proto,
            "dup": s.dup,
            "recvfrom_into": lambda: s.recvfrom_into(bytearray(1)),
            "bind tuple": lambda: s.bind(("127.0.0.1", 0)),
        }
        for name, call in calls.items():
            with self.assertRaises(oxsock.Error, msg=name) as cm:
                call()
            self.assertEqual(cm.exception.status, Status.BAD_HANDLE, name)
            self.assertIsInstance(cm.exception, oxsock.BadHandle)
            # errno EBADF, as a closed CPython socket gives.
            self.assertEqual(cm.exception.errno, errno.EBADF, name)
        self.assertIn("closed", repr(s))
        # connect_ex returns the errno, as CPython's does on a closed socket.
        self.assertEqual(s.connect_ex("127.0.0.1:9"), errno.EBADF)
        with socket.socket() as cp:
            cp.close()
            with self.assertRaises(OSError) as ccm:
                cp.recv(1)
            self.assertEqual(ccm.exception.errno, errno.EBADF, "CPython's closed socket, for comparison")

    def test_no_ctypes_argument_error_anywhere(self) -> None:
        # Every parameter of every Socket method, given an object of no useful type:
        # TypeError (or ValueError), never ctypes.ArgumentError.
        import ctypes
        import inspect

        a, b = oxsock.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        skip = {"makefile", "close", "detach", "fileno", "dup", "settimeout"}
        bad = object()
        checked = 0
        for name, fn in inspect.getmembers(oxsock.Socket, inspect.isfunction):
            if name.startswith("_") or name in skip:
                continue
            params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
            for i in range(len(params)):
                args: list = []
                for j, p in enumerate(params):
                    if j == i:
                        args.append(bad)
                    elif p.default is not inspect.Parameter.empty:
                        args.append(p.default)
                    else:
                        args.append({"buffer": bytearray(4), "data": b"x", "address": "127.0.0.1:9",
                                     "option": oxsock.Option.NODELAY, "value": 1, "how": oxsock.SHUT_BOTH,
                                     "group": "239.1.2.3"}.get(p.name, 4))
                try:
                    getattr(a, name)(*args)
                except ctypes.ArgumentError as e:
                    self.fail(f"{name}({', '.join(map(repr, args))}): ctypes.ArgumentError {e}")
                except (TypeError, ValueError):
                    checked += 1
                except oxsock.Error:
                    checked += 1  # the value reached the library only where it is legal
        self.assertGreater(checked, 20)


if __name__ == "__main__":
    unittest.main()

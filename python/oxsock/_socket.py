"""The :class:`Socket` class and the calls that make sockets (contract §4-§8, §10, §11).

Hot-path notes: every library function is bound once to a module global; buffers
reach the library as addresses (``bytes`` directly, writable buffers through
``ctypes.c_char.from_buffer``) without a copy; out-parameters are fresh ``ctypes``
objects per call (a shared one would be overwritten by another thread while the GIL
is released); status codes are compared as plain ``int``.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import warnings
from operator import index as _index
from time import monotonic as _monotonic
from ctypes import addressof, byref as _byref, c_char, c_int32, c_int64, c_size_t, c_uint64
from ctypes import c_void_p
from enum import IntEnum
from typing import Any, Dict, Optional, Tuple, Union

from . import _errors
from ._compat import Address, Buffer, SocketCompat, to_oxs_addr
from ._errors import Status, error
from ._lib import ADDR_STRLEN, OxsAddr, lib
from . import _fast
from ._fast import BA_FAST as _BA_FAST, INT_ARG_MAX as _INT_ARG_MAX
from ._fast import OB_START as _OB_START, at as _at, local as _local, raw as _raw, take as _take

__all__ = [
    "Socket",
    "Option",
    "dial",
    "listen",
    "socketpair",
    "UNIX",
    "INET",
    "INET6",
    "STREAM",
    "DGRAM",
    "RAW",
    "SEQPACKET",
    "SHUT_READ",
    "SHUT_WRITE",
    "SHUT_BOTH",
    "MSG_OOB",
    "MSG_PEEK",
    "MSG_DONTWAIT",
    "MSG_WAITALL",
]

#: Address domains (``OXS_DOMAIN_*``).
UNIX = 1
INET = 2
INET6 = 3
#: Socket types (``OXS_TYPE_*``).
STREAM = 1
DGRAM = 2
RAW = 3
SEQPACKET = 4
#: ``shutdown`` directions (``OXS_SHUT_*``, Linux's values).
SHUT_READ = 0
SHUT_WRITE = 1
SHUT_BOTH = 2
#: Message flags (``OXS_MSG_*``, Linux's values).
MSG_OOB = 0x1
MSG_PEEK = 0x2
MSG_DONTWAIT = 0x40
MSG_WAITALL = 0x100


class Option(IntEnum):
    """Socket options (``OXS_OPT_*``, contract §7) for :meth:`Socket.setopt` and
    :meth:`Socket.getopt`."""

    REUSEADDR = 1
    REUSEPORT = 2
    NODELAY = 3
    KEEPALIVE = 4
    KEEPALIVE_IDLE_S = 5
    KEEPALIVE_INTERVAL_S = 6
    KEEPALIVE_COUNT = 7
    LINGER_S = 8
    RECV_BUFFER = 9
    SEND_BUFFER = 10
    READ_TIMEOUT_MS = 11
    WRITE_TIMEOUT_MS = 12
    CONNECT_TIMEOUT_MS = 13
    NONBLOCKING = 14
    BROADCAST = 15
    TTL = 16
    V6ONLY = 17
    MULTICAST_TTL = 18
    MULTICAST_LOOP = 19
    INTERRUPTIBLE = 20
    ERROR = 21
    DOMAIN = 22
    TYPE = 23
    PEER_UID = 24
    PEER_PID = 25
    HANDSHAKE_TIMEOUT_MS = 26
    TLS = 27
    TLS_WANTS = 28


# Library functions bound once.
_open = lib.oxs_socket_open
_bind = lib.oxs_bind
_bind_addr = lib.oxs_bind_addr
_connect_addr = lib.oxs_connect_addr
_listen = lib.oxs_listen
_accept = lib.oxs_accept
_connect = lib.oxs_connect
_close = lib.oxs_close
_send = lib.oxs_send
_recv = lib.oxs_recv
_send_to = lib.oxs_send_to
_recv_from = lib.oxs_recv_from
_write_all = lib.oxs_write_all
_read_exact = lib.oxs_read_exact
_shutdown = lib.oxs_shutdown
_socketpair = lib.oxs_socketpair
_setopt = lib.oxs_setopt
_getopt = lib.oxs_getopt
_dial = lib.oxs_dial
_listen_on = lib.oxs_listen_on
_fd = lib.oxs_fd
_from_fd = lib.oxs_from_fd
_into_fd = lib.oxs_into_fd
_addr_parse = lib.oxs_addr_parse
_addr_format = lib.oxs_addr_format
_local_addr = lib.oxs_local_addr
_peer_addr = lib.oxs_peer_addr
_join = lib.oxs_join_multicast
_leave = lib.oxs_leave_multicast
_tls_connect = lib.oxs_tls_connect
_tls_accept = lib.oxs_tls_accept
_tls_handshake = lib.oxs_tls_handshake
_tls_info = lib.oxs_tls_info
_dial_tls = lib.oxs_dial_tls
_listen_tls = lib.oxs_listen_tls
# The same functions without a prototype, for the hot paths (see _fast).
_r_send = _raw("oxs_send")
_r_recv = _raw("oxs_recv")
_r_write_all = _raw("oxs_write_all")
_r_accept = _raw("oxs_accept")
_r_close = _raw("oxs_close")
_r_dial = _raw("oxs_dial")
#: The handle argument of a closed Socket (the library answers BAD_HANDLE).
_NO_HANDLE = c_uint64(0)
_memoryview = memoryview
#: bytearray when _fast can read a bytearray's address, else a type no buffer has.
_BA: Any = bytearray if _BA_FAST else type("_NoFastPath", (), {})
_id = id
_BUFFER_TOO_SMALL = int(Status.BUFFER_TOO_SMALL)
_UNSUPPORTED = int(Status.UNSUPPORTED)
_NOT_CONNECTED = int(Status.NOT_CONNECTED)

_INTERRUPTED = int(Status.INTERRUPTED)
_WOULD_BLOCK = int(Status.WOULD_BLOCK)
_MESSAGE_TOO_LONG = int(Status.MESSAGE_TOO_LONG)
_OPT_INTERRUPTIBLE = 20
_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

_from_buffer = c_char.from_buffer

try:  # Run pending Python signal handlers now (raises what a handler raised).
    _check_signals = ctypes.pythonapi.PyErr_CheckSignals
    _check_signals.argtypes = []
    _check_signals.restype = ctypes.c_int
except (AttributeError, OSError):  # pragma: no cover - not CPython

    def _check_signals() -> int:  # type: ignore[misc]
        return 0


# ---------------------------------------------------------------------------------
# Argument conversion (TypeError / ValueError before the library is called)


def _text(value: Any, what: str = "address") -> bytes:
    """An address or endpoint as NUL-terminated UTF-8 for the library."""
    if type(value) is str:
        b = value.encode("utf-8", "surrogateescape")
    elif isinstance(value, (bytes, bytearray)):
        b = bytes(value)
    elif isinstance(value, os.PathLike):
        return _text(os.fspath(value), what)
    elif isinstance(value, str):
        b = str(value).encode("utf-8", "surrogateescape")
    else:
        raise TypeError(f"{what} must be str, not {type(value).__name__}")
    if b"\0" in b:
        raise ValueError(f"{what} contains a NUL byte")
    return b


def _size(n: Any, what: str = "size") -> int:
    if type(n) is not int:
        if isinstance(n, bool) or not hasattr(n, "__index__"):
            raise TypeError(f"{what} must be an integer, not {type(n).__name__}")
        n = _index(n)
    if n < 0:
        raise ValueError(f"negative {what}: {n}")
    r: int = n
    return r


def _int32(v: Any, what: str) -> int:
    if type(v) is not int:
        if not hasattr(v, "__index__"):
            raise TypeError(f"{what} must be an integer, not {type(v).__name__}")
        v = _index(v)
    if not _INT32_MIN <= v <= _INT32_MAX:
        raise ValueError(f"{what} out of range: {v}")
    r: int = v
    return r


def _flags(flags: Any) -> int:
    """Message flags: an int in int32's range (``TypeError``/``ValueError`` otherwise,
    never ctypes' ArgumentError)."""
    return _int32(flags, "flags")


def _wbuf(buffer: Any) -> Tuple[Any, int, int]:
    """(keep-alive, address, length) of a writable buffer, shared, never copied."""
    t = type(buffer)
    if t is bytearray:
        n = len(buffer)
    elif t is memoryview:
        n = buffer.nbytes
    else:
        try:
            n = memoryview(buffer).nbytes
        except TypeError:
            raise TypeError(
                f"a writable bytes-like object is required, not {type(buffer).__name__}"
            ) from None
    if n == 0:
        if memoryview(buffer).readonly:
            raise TypeError("a writable bytes-like object is required")
        return None, 0, 0
    try:
        c = _from_buffer(buffer)
    except (TypeError, ValueError) as e:
        raise TypeError(f"a writable, contiguous bytes-like object is required ({e})") from None
    return c, addressof(c), n


def _rbuf(data: Any) -> Tuple[Any, Any, int]:
    """(keep-alive, pointer argument, length) of a buffer to send. ``bytes`` and
    writable buffers are passed in place; other read-only buffers are copied."""
    if type(data) is bytes:
        return data, data, len(data)
    if isinstance(data, str):
        raise TypeError("a bytes-like object is required, not 'str'")
    try:
        m = data if type(data) is memoryview else memoryview(data)
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not {type(data).__name__}") from None
    n = m.nbytes
    if n == 0:
        return None, None, 0
    if not m.readonly and m.c_contiguous:
        c = _from_buffer(data)
        return c, addressof(c), n
    b = m.tobytes()
    return b, b, n


def _option(option: Any) -> int:
    if not isinstance(option, Option):
        raise TypeError(
            f"option must be an oxsock.Option, not {type(option).__name__} "
            "(a plain int could be another library's number: socket.TCP_NODELAY is 1, "
            "Option.REUSEADDR)"
        )
    return int(option)


def _timeout_ms(value: Any, what: str = "timeout") -> int:
    """Seconds (None = none) to whole milliseconds, rounded up; 0 or negative is an error."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, (str, bytes)) or not hasattr(type(value), "__float__"):
            raise TypeError(f"{what} must be a number of seconds or None, not {type(value).__name__}")
        value = float(value)
    if value != value:
        raise ValueError(f"{what} is NaN")
    if value <= 0:
        raise ValueError(f"{what} must be positive or None, not {value}")
    if value == math.inf:
        return 0
    ms = math.ceil(value * 1000)
    return ms if ms > 0 else 1


# ---------------------------------------------------------------------------------
# Addresses

_fmt_cache: Dict[bytes, str] = {}
_parse_cache: Dict[str, OxsAddr] = {}
_CACHE_MAX = 1024


#: An IPv4/IPv6 address without its port (family + the bytes after the port) -> the
#: text of its host part (``127.0.0.1``, ``[::1]``, ``[fe80::1%2]``): a peer's port
#: differs for every accepted connection, its host seldom.
_host_cache: Dict[bytes, str] = {}
_INET_FAMILIES = (2, 10)  # AF_INET, AF_INET6 (Linux)
_BYTEORDER = sys.byteorder


def _format(a: OxsAddr) -> str:
    """The text of an ``oxs_addr`` (cached by its bytes; IPv4/IPv6 by host, the port
    appended)."""
    n = a.len
    raw = bytes(a)
    if (n == 16 or n == 28) and int.from_bytes(raw[:2], _BYTEORDER) in _INET_FAMILIES:
        port = raw[2] << 8 | raw[3]  # sin_port / sin6_port, network order
        hk = raw[:2] + raw[4:n]
        host = _host_cache.get(hk)
        if host is not None:
            return f"{host}:{port}"
        s = _format_slow(a, raw[:n])
        tail = f":{port}"
        if s.endswith(tail):
            if len(_host_cache) >= _CACHE_MAX:
                _host_cache.clear()
            _host_cache[hk] = s[: -len(tail)]
        return s
    return _format_slow(a, raw[:n])


def _format_slow(a: OxsAddr, key: bytes) -> str:
    n = len(key)
    s = _fmt_cache.get(key)
    if s is not None:
        return s
    buf = ctypes.create_string_buffer(ADDR_STRLEN)
    ln = c_size_t()
    rc = _addr_format(a, buf, ADDR_STRLEN, ln)
    if rc:
        raise error(rc)
    s = buf.raw[: ln.value].decode("utf-8", "surrogateescape")
    if n and not s.startswith("("):  # "(unnamed)" varies under the same key; skip it
        if len(_fmt_cache) >= _CACHE_MAX:
            _fmt_cache.clear()
        _fmt_cache[key] = s
    return s


def _parse(address: Any) -> OxsAddr:
    """``oxs_addr_parse`` with a small cache (the result is only read by the library)."""
    a = _parse_cache.get(address) if type(address) is str else None
    if a is not None:
        return a
    a = OxsAddr()
    rc = _addr_parse(_text(address), a)
    if rc:
        raise error(rc)
    if type(address) is str:
        if len(_parse_cache) >= _CACHE_MAX:
            _parse_cache.clear()
        _parse_cache[address] = a
    return a


def _make_interruptible(h: int) -> None:
    rc = _setopt(h, _OPT_INTERRUPTIBLE, 1)
    if rc:
        e = error(rc)
        _close(h)
        raise e


# ---------------------------------------------------------------------------------


from ._messages import MessagesMixin  # noqa: E402 (it uses the helpers above)


class Socket(SocketCompat, MessagesMixin):
    """An oxsock socket handle.

    ``Socket(domain, type, protocol=0)`` opens a new socket (``oxs_socket_open``);
    :func:`dial`, :func:`listen`, :func:`socketpair`, :meth:`accept` and
    :meth:`from_fd` return connected or listening ones. Every socket the binding
    returns has ``Option.INTERRUPTIBLE`` set, so Ctrl-C interrupts a blocked call
    with ``KeyboardInterrupt``; a signal whose handler returns normally makes the call
    go on (PEP 475).

    A Socket is a context manager that closes it. Calls on a closed Socket raise
    :class:`oxsock.Error` with ``Status.BAD_HANDLE``. One Socket may be used by several
    threads at once; blocking calls release the GIL.
    """

    __slots__ = ("_h", "_hc", "_pollers", "_domain", "_uninterruptible", "__weakref__")

    _h: int
    #: _h as a c_uint64 (made once: the hot paths pass it without a prototype).
    _hc: Any
    #: The Pollers this Socket was added to (a WeakSet), or None: closing the Socket
    #: forgets its token there, as the library forgets the socket.
    _pollers: Any
    #: OXS_DOMAIN_* once asked (0 before), for CPython's address forms.
    _domain: int
    #: True once the caller set Option.INTERRUPTIBLE to 0: accept() must then set it on
    #: what it returns (an accepted socket inherits the listener's value).
    _uninterruptible: bool

    def __init__(self, domain: int, type: int, protocol: int = 0) -> None:
        self._h = 0
        self._hc = _NO_HANDLE
        self._pollers = None
        self._io_refs = 0
        self._closing = False
        self._domain = 0
        self._uninterruptible = False
        d = _int32(domain, "domain")
        t = _int32(type, "type")
        p = _int32(protocol, "protocol")
        h = c_uint64()
        rc = _open(d, t, p, h)
        if rc:
            raise error(rc)
        _make_interruptible(h.value)
        self._h = h.value
        self._hc = h

    @classmethod
    def _wrap(cls, h: int) -> "Socket":
        s = cls.__new__(cls)
        s._h = h
        s._hc = c_uint64(h)
        s._pollers = None
        s._io_refs = 0
        s._closing = False
        s._domain = 0
        s._uninterruptible = False
        return s

    @classmethod
    def from_fd(cls, fd: int) -> "Socket":
        """Adopts the open socket descriptor ``fd`` (``oxs_from_fd``). The Socket owns
        it from then on (it is not duplicated, unlike ``socket.fromfd``); on failure
        the caller still owns it, untouched."""
        fd = _int32(fd, "fd")
        if fd < 0:
            raise ValueError(f"negative file descriptor: {fd}")
        h = c_uint64()
        rc = _from_fd(fd, h)
        if rc:
            raise error(rc)
        _make_interruptible(h.value)
        return cls._wrap(h.value)

    # -- lifecycle ------------------------------------------------------------------

    @property
    def handle(self) -> int:
        """The library handle (``oxs_socket``), 0 once closed or detached."""
        return self._h

    @property
    def closed(self) -> bool:
        """True once :meth:`close` or :meth:`detach` was called."""
        return self._h == 0 or self._closing

    def close(self) -> None:
        """Closes the socket (``oxs_close``). A second close does nothing. Calls blocked
        on it in other threads fail with ``Status.CLOSED``. While files made by
        :meth:`makefile` are open, the close takes effect when the last one is closed
        (as CPython's)."""
        if self._io_refs > 0:
            self._closing = True
            return
        h = self._h
        if h:
            hc = self._hc
            self._h = 0
            self._hc = _NO_HANDLE
            if self._pollers:
                self._forget(h)
            rc = _r_close(hc)
            if rc:
                raise error(rc)

    def _forget(self, h: int) -> None:
        for p in list(self._pollers):
            p._tokens.pop(h, None)
        self._pollers = None

    def detach(self) -> int:
        """Ends the handle and returns its descriptor, which the caller then owns
        (``oxs_into_fd``). Raises ``Status.BUSY`` while calls are in flight."""
        fd = c_int32()
        h = self._h
        rc = _into_fd(h, fd)
        if rc:
            raise error(rc)
        self._h = 0
        self._hc = _NO_HANDLE
        if self._pollers:
            self._forget(h)
        return fd.value

    def fileno(self) -> int:
        """The descriptor (borrowed: do not close it or change its ``O_NONBLOCK``),
        or -1 once closed."""
        h = self._h
        if not h:
            return -1
        fd = c_int32()
        rc = _fd(h, fd)
        if rc:
            if rc == -2:
                return -1
            raise error(rc)
        return fd.value

    def __enter__(self) -> "Socket":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        h = getattr(self, "_h", 0)
        if h:
            try:
                warnings.warn(f"unclosed {self!r}", ResourceWarning, source=self, stacklevel=2)
            except Exception:
                pass
            self._h = 0
            self._hc = _NO_HANDLE
            try:
                _close(h)
            except Exception:
                pass

    def __repr__(self) -> str:
        h = self._h
        if not h:
            return "<oxsock.Socket [closed]>"
        parts = [f"<oxsock.Socket handle={h:#x}"]
        a = OxsAddr()
        try:
            if _local_addr(h, a) == 0:
                parts.append(f"local={_format(a)}")
            a = OxsAddr()
            if _peer_addr(h, a) == 0:
                parts.append(f"peer={_format(a)}")
        except Exception:
            pass
        return " ".join(parts) + ">"

    # -- the POSIX calls ---------------------------------------------------------------

    def _dom(self) -> int:
        d = self._domain
        if not d:
            d = self._domain = self.getopt(Option.DOMAIN)
        return d

    def _target(self, address: Any) -> Tuple[bool, Any]:
        """(is_oxs_addr, argument): the text of §4 for a ``str``, else CPython's form
        (a tuple; ``bytes`` on a Unix socket) as an ``oxs_addr``."""
        t = type(address)
        if t is str:
            return False, _text(address)
        if t is tuple or (isinstance(address, (bytes, bytearray, memoryview)) and self._dom() == UNIX):
            return True, to_oxs_addr(address, self._dom())
        return False, _text(address)

    def bind(self, address: Address) -> None:
        """Binds to ``address``: the text of contract §4 (``127.0.0.1:80``,
        ``[::1]:80``, a Unix path, ``@abstract``) or CPython's forms (``("127.0.0.1",
        80)``, ``("::1", 80, 0, 0)``, a ``bytes`` Unix path)."""
        is_addr, a = self._target(address)
        rc = _bind_addr(self._h, a) if is_addr else _bind(self._h, a)
        if rc:
            raise error(rc)

    def listen(self, backlog: int = 0) -> None:
        """Listens; ``backlog`` <= 0 means the system maximum."""
        rc = _listen(self._h, _int32(backlog, "backlog"))
        if rc:
            raise error(rc)

    def connect(self, address: Address) -> None:
        """Connects to ``address`` (text or CPython's forms, as :meth:`bind`); only
        ``connect_timeout`` bounds it. When a signal interrupts the connect and its
        handler returns, the attempt goes on: the binding waits for it to finish
        (within the connect timeout)."""
        is_addr, a = self._target(address)
        fn = _connect_addr if is_addr else _connect
        h = self._h
        deadline = None
        while True:
            rc = fn(h, a)
            if rc == 0:
                return
            if rc == _INTERRUPTED:
                _check_signals()
                if deadline is None:
                    ms = self.getopt(Option.CONNECT_TIMEOUT_MS)
                    deadline = _monotonic() + ms / 1000.0 if ms else 0.0
                continue
            if rc == _WOULD_BLOCK and deadline is not None:
                # The interrupted attempt goes on in the kernel: wait for it, then ask
                # again (a repeated connect answers OK once connected, or the error).
                self._wait_connected(deadline)
                continue
            raise error(rc)

    def _wait_connected(self, deadline: float) -> None:
        from ._poll import POLL_OUT, poll

        if deadline:
            left = deadline - _monotonic()
            if left <= 0:
                raise _errors.TimedOut(Status.TIMED_OUT, "connect: timed out")
            poll([(self, POLL_OUT)], left)
        else:
            poll([(self, POLL_OUT)], None)

    def accept(self) -> Tuple["Socket", str]:
        """Accepts a connection: ``(Socket, peer address text)``."""
        try:
            o = _local.free.pop()
        except (AttributeError, IndexError):
            o = _take()
        a = OxsAddr()
        pa = _byref(a)
        while True:
            rc = _r_accept(self._hc, o[3], pa)
            if rc == 0:
                h = o[2].value
                o[4].append(o)
                if self._uninterruptible:
                    _make_interruptible(h)
                return self.__class__._wrap(h), _format(a)
            if rc != _INTERRUPTED:
                raise error(rc)
            _check_signals()

    def recv(self, n: int, flags: int = 0) -> bytes:
        """Receives at most ``n`` bytes. ``b""`` is the end of the stream on a stream
        socket (an empty datagram on a datagram socket). A datagram longer than ``n``
        raises ``Status.MESSAGE_TOO_LONG`` (and is consumed)."""
        if type(n) is not int or n < 0:
            n = _size(n)
        if flags.__class__ is not int or flags:
            flags = _flags(flags)
        buf = bytearray(n)
        c: Any = _from_buffer(buf) if n else None
        p: Any = addressof(c) if n else None
        got = c_size_t()
        h = self._h
        while True:
            rc = _recv(h, p, n, flags, got)
            if rc == 0:
                k = got.value
                if k != n:
                    del c
                    del buf[k:]
                return bytes(buf)
            if rc != _INTERRUPTED:
                raise error(rc)
            _check_signals()

    def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        """Receives into ``buffer`` (a writable bytes-like object: ``bytearray``,
        writable ``memoryview`` or a slice of one), in place, at most ``nbytes`` bytes
        (0: the buffer's length). Returns the count."""
        c: Any
        p: Any
        if type(buffer) is _BA:
            size = len(buffer)  # type: ignore[arg-type]
            # c: the export that pins the data for the call; p reads its address.
            c = _memoryview(buffer) if size else None
            p = _at(_id(buffer) + _OB_START) if size else None
        else:
            c, p, size = _wbuf(buffer)
            if p is not None:
                p = c_void_p(p)
        if nbytes:
            if type(nbytes) is not int or nbytes < 0:
                nbytes = _size(nbytes, "nbytes")
            if nbytes > size:
                raise ValueError(f"nbytes ({nbytes}) is larger than the buffer ({size})")
            size = nbytes
        elif type(nbytes) is not int:
            _size(nbytes, "nbytes")
        if flags.__class__ is not int or flags:
            flags = _flags(flags)
        try:
            o = _local.free.pop()
        except (AttributeError, IndexError):
            o = _take()
        hc = self._hc
        ns: Any = size if size < _INT_ARG_MAX else c_size_t(size)
        while True:
            rc = _r_recv(hc, p, ns, flags, o[1])
            if rc == 0:
                k: int = o[0].value
                o[4].append(o)
                return k
            if rc != _INTERRUPTED:
                raise error(rc)
            _check_signals()

    def recv_exact(self, n: int) -> bytes:
        """Receives exactly ``n`` bytes (``oxs_read_exact``). When the stream ends
        first it raises ``Status.UNEXPECTED_EOF``, the bytes received in
        ``partial``."""
        if type(n) is not int or n < 0:
            n = _size(n)
        buf = bytearray(n)
        if n == 0:
            return b""
        c = _from_buffer(buf)
        base = addressof(c)
        got = c_size_t()
        h = self._h
        done = 0
        while True:
            rc = _read_exact(h, base + done, n - done, got)
            done += got.value
            if rc == 0:
                del c
                return bytes(buf)
            if rc != _INTERRUPTED:
                e = error(rc)
                e.partial = bytes(buf[:done])  # type: ignore[attr-defined]
                raise e
            _check_signals()

    def send(self, data: Buffer, flags: int = 0) -> int:
        """Sends what it can of ``data`` at once; returns the count."""
        keep: Any
        p: Any
        if type(data) is bytes:
            p = data
            n = len(data)
        elif type(data) is bytearray and data and _BA_FAST:
            n = len(data)
            keep = _memoryview(data)
            p = _at(_id(data) + _OB_START)
        else:
            keep, p, n = _rbuf(data)
            if type(p) is int:
                p = c_void_p(p)
        if flags.__class__ is not int or flags:
            flags = _flags(flags)
        try:
            o = _local.free.pop()
        except (AttributeError, IndexError):
            o = _take()
        hc = self._hc
        ns: Any = n if n < _INT_ARG_MAX else c_size_t(n)
        while True:
            rc = _r_send(hc, p, ns, flags, o[1])
            if rc == 0:
                k: int = o[0].value
                o[4].append(o)
                return k
            if rc != _INTERRUPTED:
                raise error(rc)
            _check_signals()

    def sendall(self, data: Buffer) -> None:
        """Sends all of ``data`` (``oxs_write_all``, one library call; the write
        timeout bounds the whole call). A failure carries the count sent in
        ``nbytes``."""
        # `keep` (a local, alive until return) holds the buffer and its export.
        keep: Any
        p: Any
        if type(data) is bytes:
            keep = p = data
            n = len(data)
        elif type(data) is _BA:  # the common buffer
            n = len(data)  # type: ignore[arg-type]
            if n == 0:
                return
            keep = _memoryview(data)  # pins the data for the call
            p = _at(_id(data) + _OB_START)
        else:
            keep, p, n = _rbuf(data)
            if type(p) is int:
                p = c_void_p(p)
        if n == 0:
            return
        try:
            o = _local.free.pop()
        except (AttributeError, IndexError):
            o = _take()
        hc = self._hc
        done = 0
        while True:
            left = n - done
            rc = _r_write_all(hc, p, left if left < _INT_ARG_MAX else c_size_t(left), o[1])
            if rc == 0:
                o[4].append(o)
                return
            k: int = o[0].value
            done += k
            if rc != _INTERRUPTED:
                e = error(rc)
                e.nbytes = done  # type: ignore[attr-defined]
                raise e
            _check_signals()
            q: Any = ctypes.cast(p, c_void_p) if type(p) is bytes else p  # type: ignore[arg-type]
            p = c_void_p(q.value + k)

    def sendto(self, data: Buffer, address: Address) -> int:
        """Sends a datagram to ``address`` (``127.0.0.1:5000``, ``[::1]:5000``, a Unix
        path or ``@name``, no host names; or CPython's forms, as :meth:`bind`).
        Returns the count."""
        if type(address) is str:
            a = _parse(address)
        else:
            is_addr, a = self._target(address)
            if not is_addr:
                a = _parse(address)
        if type(data) is bytes:
            p = data
            n = len(data)
        else:
            keep, p, n = _rbuf(data)
        sent = c_size_t()
        h = self._h
        while True:
            rc = _send_to(h, p, n, a, sent)
            if rc == 0:
                return sent.value
            if rc != _INTERRUPTED:
                raise error(rc)
            _check_signals()

    def recvfrom(self, n: int) -> Tuple[bytes, str]:
        """Receives a datagram of at most ``n`` bytes: ``(data, sender address)``. A
        longer datagram raises ``Status.MESSAGE_TOO_LONG`` (and is consumed)."""
        if type(n) is not int or n < 0:
            n = _size(n)
        buf = bytearray(n)
        c: Any = _from_buffer(buf) if n else None
        p: Any = addressof(c) if n else None
        got = c_size_t()
        a = OxsAddr()
        h = self._h
        while True:
            rc = _recv_from(h, p, n, got, a)
            if rc == 0:
                k = got.value
                if k != n:
                    del c
                    del buf[k:]
                return bytes(buf), _format(a)
            if rc != _INTERRUPTED:
                raise error(rc)
            _check_signals()

    def shutdown(self, how: int) -> None:
        """Shuts down reading (``SHUT_READ``), writing (``SHUT_WRITE``) or both."""
        rc = _shutdown(self._h, _int32(how, "how"))
        if rc:
            raise error(rc)

    # -- options ---------------------------------------------------------------------

    def setopt(self, option: "Option", value: int) -> None:
        """Sets an :class:`Option` (``oxs_setopt``); ``value`` is an integer. ``option``
        must be an :class:`Option`: a plain ``int`` raises ``TypeError``, so that
        ``socket.TCP_NODELAY`` (1) can never set ``Option.REUSEADDR``."""
        o = _option(option)
        if type(value) is not int:
            if not hasattr(value, "__index__"):
                raise TypeError(f"option value must be an integer, not {type(value).__name__}")
            value = _index(value)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueError(f"option value out of range: {value}")
        rc = _setopt(self._h, o, value)
        if rc:
            raise error(rc)
        if o == _OPT_INTERRUPTIBLE:
            self._uninterruptible = value == 0

    def getopt(self, option: "Option") -> int:
        """Reads an :class:`Option` (``oxs_getopt``); a plain ``int`` raises
        ``TypeError``."""
        v = c_int64()
        rc = _getopt(self._h, _option(option), v)
        if rc:
            raise error(rc)
        return v.value

    def _get_timeout(self, opt: "Option") -> Optional[float]:
        ms = self.getopt(opt)
        return ms / 1000.0 if ms else None

    def _set_timeout(self, opt: int, value: Optional[float], what: str) -> None:
        ms = _timeout_ms(value, what)
        if ms > _INT64_MAX:
            ms = 0
        rc = _setopt(self._h, opt, ms)
        if rc:
            raise error(rc)

    @property
    def read_timeout(self) -> Optional[float]:
        """Seconds that read, recv, recvfrom, recv_exact and accept may wait, or None
        (no limit). Setting 0 or a negative value raises ``ValueError``; a positive
        value is rounded up to whole milliseconds. Expiry raises
        :class:`oxsock.TimedOut` (a ``TimeoutError``) and leaves the socket usable."""
        return self._get_timeout(Option.READ_TIMEOUT_MS)

    @read_timeout.setter
    def read_timeout(self, value: Optional[float]) -> None:
        self._set_timeout(Option.READ_TIMEOUT_MS, value, "read_timeout")

    @property
    def write_timeout(self) -> Optional[float]:
        """Seconds that send, sendall and sendto may wait, or None (see
        :attr:`read_timeout`)."""
        return self._get_timeout(Option.WRITE_TIMEOUT_MS)

    @write_timeout.setter
    def write_timeout(self, value: Optional[float]) -> None:
        self._set_timeout(Option.WRITE_TIMEOUT_MS, value, "write_timeout")

    @property
    def connect_timeout(self) -> Optional[float]:
        """Seconds that connect may wait, or None (see :attr:`read_timeout`)."""
        return self._get_timeout(Option.CONNECT_TIMEOUT_MS)

    @connect_timeout.setter
    def connect_timeout(self, value: Optional[float]) -> None:
        self._set_timeout(Option.CONNECT_TIMEOUT_MS, value, "connect_timeout")

    @property
    def local_addr(self) -> str:
        """The local address as text (``127.0.0.1:5000``, ``/run/app.sock``,
        ``(unnamed)``)."""
        a = OxsAddr()
        rc = _local_addr(self._h, a)
        if rc:
            raise error(rc)
        return _format(a)

    @property
    def peer_addr(self) -> str:
        """The peer's address as text; raises ``Status.NOT_CONNECTED`` without one."""
        a = OxsAddr()
        rc = _peer_addr(self._h, a)
        if rc:
            raise error(rc)
        return _format(a)

    # -- TLS (contract §12) -----------------------------------------------------------

    def _drive(self, rc: int) -> None:
        """A TLS upgrade's status: on a signal, let Python run its handlers, then go
        on with the handshake (PEP 475)."""
        while rc == _INTERRUPTED:
            _check_signals()
            rc = _tls_handshake(self._h)
        if rc:
            raise error(rc)

    def start_tls(self, config: Any, server_name: Optional[str] = None) -> None:
        """Turns this connected stream socket into a TLS client with a snapshot of the
        client :class:`TLSConfig` ``config`` (``oxs_tls_connect``), verifying
        ``server_name`` (else the config's). A blocking socket completes the
        handshake; a non-blocking one raises ``BlockingIOError`` and goes on in
        :meth:`do_handshake`, reads and writes."""
        name = None if server_name is None else _text(server_name, "server_name")
        self._drive(_tls_connect(self._h, _config_handle(config), name))

    def accept_tls(self, config: Any) -> None:
        """Turns this connected stream socket into a TLS server with a snapshot of the
        server :class:`TLSConfig` ``config`` (``oxs_tls_accept``)."""
        self._drive(_tls_accept(self._h, _config_handle(config)))

    def do_handshake(self) -> None:
        """Drives a pending TLS handshake (``oxs_tls_handshake``): to its end when
        blocking; raises ``BlockingIOError`` until done when non-blocking."""
        self._drive(_tls_handshake(self._h))

    def _tls_info(self, what: int) -> Optional[bytes]:
        h = self._h
        n = c_size_t()
        buf = ctypes.create_string_buffer(512)
        rc = _tls_info(h, what, buf, 512, n)
        if rc == _BUFFER_TOO_SMALL:
            buf = ctypes.create_string_buffer(n.value + 1)
            rc = _tls_info(h, what, buf, n.value + 1, n)
        if rc in (_UNSUPPORTED, _NOT_CONNECTED):
            return None
        if rc:
            raise error(rc)
        return buf.raw[: n.value]

    def _tls_text(self, what: int) -> Optional[str]:
        b = self._tls_info(what)
        return b.decode("utf-8", "replace") if b else None

    @property
    def tls_version(self) -> Optional[str]:
        """``"TLSv1.2"`` or ``"TLSv1.3"``; None on a plain socket or before the handshake."""
        return self._tls_text(1)

    @property
    def tls_cipher(self) -> Optional[str]:
        """The cipher suite's IANA name (``"TLS_AES_128_GCM_SHA256"``), or None."""
        return self._tls_text(2)

    @property
    def alpn_protocol(self) -> Optional[str]:
        """The ALPN protocol agreed, or None."""
        return self._tls_text(3)

    @property
    def tls_server_name(self) -> Optional[str]:
        """The SNI name sent (client) or received (server), or None."""
        return self._tls_text(4)

    @property
    def peer_certificate(self) -> Optional[bytes]:
        """The peer's leaf certificate in DER, or None when it sent none."""
        return self._tls_info(5) or None

    def join_multicast(self, group: str, interface: Optional[str] = None) -> None:
        """Joins a multicast ``group`` on ``interface`` (a name, an index, or an IPv4
        local address; None: any)."""
        rc = _join(self._h, _text(group, "group"), None if interface is None else _text(interface, "interface"))
        if rc:
            raise error(rc)

    def leave_multicast(self, group: str, interface: Optional[str] = None) -> None:
        """Leaves a multicast ``group``."""
        rc = _leave(self._h, _text(group, "group"), None if interface is None else _text(interface, "interface"))
        if rc:
            raise error(rc)


# ---------------------------------------------------------------------------------
# One-call constructors


#: endpoint text -> (as given, with interruptible=1), for dial's hot path.
_ep_cache: Dict[str, Tuple[bytes, bytes]] = {}


def _with_interruptible(endpoint: bytes) -> bytes:
    """Adds ``interruptible=1`` to an endpoint's query unless the query names it."""
    base, sep, query = endpoint.partition(b"?")
    if sep:
        for pair in query.split(b"&"):
            if pair.partition(b"=")[0] == b"interruptible":
                return endpoint
        return endpoint + (b"&" if query else b"") + b"interruptible=1"
    return endpoint + b"?interruptible=1"


def _unadd(given: bytes, sent: bytes) -> Any:
    """A message rewriter that shows the endpoint as the caller wrote it, without the
    ``interruptible=1`` the binding added."""
    g = given.decode("utf-8", "surrogateescape")
    full = sent.decode("utf-8", "surrogateescape")

    def rewrite(message: str) -> str:
        message = message.replace(full, g)
        for added in ("?interruptible=1", "&interruptible=1"):
            message = message.replace(added, "")
        return message

    return rewrite


def _config_handle(config: Any) -> int:
    h = getattr(config, "handle", None)
    if type(h) is not int:
        raise TypeError(f"expected an oxsock.TLSConfig, not {type(config).__name__}")
    return h


def dial(endpoint: str, timeout: Optional[float] = None, tls: Any = None) -> Socket:
    """Connects to ``endpoint`` (``tcp://host:port``, ``udp://…``, ``unix:///path``,
    ``unix://@name``, ``unixgram://…``, ``unixpacket://…``), trying every resolved
    address (``oxs_dial``). ``timeout`` bounds the connecting, in seconds (None: no
    limit; 0 or negative raises ``ValueError``)."""
    t = _ep_cache.get(endpoint) if type(endpoint) is str else None
    if t is None:
        given = _text(endpoint, "endpoint")
        ep = _with_interruptible(given)
        if type(endpoint) is str:
            if len(_ep_cache) >= _CACHE_MAX:
                _ep_cache.clear()
            _ep_cache[endpoint] = (given, ep)
    else:
        given, ep = t
    ms = 0 if timeout is None else _timeout_ms(timeout)
    if ms > _INT32_MAX:
        ms = 0
    c = None if tls is None else _config_handle(tls)
    try:
        o = _local.free.pop()
    except (AttributeError, IndexError):
        o = _take()
    while True:
        if c is None:
            rc = _r_dial(ep, ms, o[3])
        else:
            rc = _dial_tls(ep, c, ms, o[2])
        if rc == 0:
            h = o[2].value
            o[4].append(o)
            return Socket._wrap(h)
        if rc != _INTERRUPTED:
            raise error(rc, None if ep is given else _unadd(given, ep))
        _check_signals()


def listen(endpoint: str, tls: Any = None) -> Socket:
    """Binds (and for stream types listens) on ``endpoint`` (``tcp://127.0.0.1:0``,
    ``tcp://*:8080``, ``udp://…``, ``unix:///path``, ``unix://@name`` …;
    ``oxs_listen_on``)."""
    h = c_uint64()
    if tls is None:
        rc = _listen_on(_text(endpoint, "endpoint"), h)
    else:
        rc = _listen_tls(_text(endpoint, "endpoint"), _config_handle(tls), h)
    if rc:
        raise error(rc)
    _make_interruptible(h.value)
    return Socket._wrap(h.value)


def socketpair(type: int = STREAM) -> Tuple[Socket, Socket]:
    """A connected pair of Unix sockets (``oxs_socketpair``)."""
    pair = (c_uint64 * 2)()
    rc = _socketpair(_int32(type, "type"), pair)
    if rc:
        raise error(rc)
    a, b = pair[0], pair[1]
    try:
        _make_interruptible(a)
    except BaseException:
        _close(b)
        raise
    try:
        _make_interruptible(b)
    except BaseException:
        _close(a)
        raise
    return Socket._wrap(a), Socket._wrap(b)



def _recvfrom_into(sock: Socket, buffer: Any, nbytes: Any, flags: Any) -> Tuple[int, str]:
    """Socket.recvfrom_into (see _compat): a datagram into the caller's buffer."""
    c: Any
    p: Any
    c, p, size = _wbuf(buffer)
    if type(nbytes) is not int or nbytes:
        nbytes = _size(nbytes, "nbytes")
        if nbytes > size:
            raise ValueError(f"nbytes ({nbytes}) is larger than the buffer ({size})")
        if nbytes:
            size = nbytes
    if _flags(flags) != 0:
        raise ValueError("recvfrom_into takes no flags (oxs_recv_from has none)")
    got = c_size_t()
    a = OxsAddr()
    h = sock._h
    while True:
        rc = _recv_from(h, p, size, got, a)
        if rc == 0:
            return got.value, _format(a)
        if rc != _INTERRUPTED:
            raise error(rc)
        _check_signals()

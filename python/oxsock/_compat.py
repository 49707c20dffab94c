"""What lets a :class:`~oxsock.Socket` stand in for a ``socket.socket`` (contract §11,
Behaving like socket.socket): CPython's address forms in and out, ``settimeout`` and
friends, ``family``/``type``/``proto``, ``makefile`` with CPython's deferred close,
``connect_ex``, ``recvfrom_into`` and ``dup``.

CPython's address forms are converted to and from the ``struct sockaddr`` bytes inside an
``oxs_addr`` (never through the address text, whose escapes a path could collide with):
``(host, port)`` and ``(host, port, flowinfo, scope_id)`` for IP, a ``bytes`` path for
Unix (``b"\\0name"`` in the abstract namespace). A ``str`` stays the address text of §4.
"""

from __future__ import annotations

import errno as _errno
import io
import math
import os
import socket as _socket
import struct
import sys
from ctypes import c_int32, c_int64
from typing import TYPE_CHECKING, Any, Optional, Tuple, Union

from ._errors import Error, Status, error
from ._lib import OxsAddr, lib

if TYPE_CHECKING:
    from ._socket import Socket

__all__ = ["Address", "SockAddr", "Buffer", "to_oxs_addr", "from_oxs_addr"]

# The type of a buffer parameter: collections.abc.Buffer (PEP 688) where Python has it;
# for type checkers on older Pythons, typing_extensions' (typeshed ships its stubs);
# at run time there, a plain alias (annotations are never evaluated by the binding).
if sys.version_info >= (3, 12):
    from collections.abc import Buffer
elif TYPE_CHECKING:
    from typing_extensions import Buffer
else:
    Buffer = Union[bytes, bytearray, memoryview]

#: An address a Socket takes: the text of §4/§5 (``"127.0.0.1:80"``, ``"/run/app.sock"``,
#: ``"@name"``), or CPython's forms: ``(host, port)``, ``(host, port, flowinfo,
#: scope_id)``, a ``bytes`` Unix path (``b"\0name"`` for the abstract namespace).
Address = Union[str, bytes, "os.PathLike[str]", Tuple[str, int], Tuple[str, int, int, int]]

#: What getsockname/getpeername return, as CPython's socket does.
SockAddr = Union[str, bytes, Tuple[str, int], Tuple[str, int, int, int]]

_OXS_UNIX, _OXS_INET, _OXS_INET6 = 1, 2, 3
_OPT_DOMAIN, _OPT_TYPE = 22, 23
_FAMILY = {
    _OXS_UNIX: _socket.AddressFamily.AF_UNIX,
    _OXS_INET: _socket.AddressFamily.AF_INET,
    _OXS_INET6: _socket.AddressFamily.AF_INET6,
}
_KIND = {
    1: _socket.SocketKind.SOCK_STREAM,
    2: _socket.SocketKind.SOCK_DGRAM,
    3: _socket.SocketKind.SOCK_RAW,
    4: _socket.SocketKind.SOCK_SEQPACKET,
}
_AF_UNIX = int(_socket.AF_UNIX)
_AF_INET = int(_socket.AF_INET)
_AF_INET6 = int(_socket.AF_INET6)
_UNIX_PATH_MAX = 108

_from_sockaddr = lib.oxs_addr_from_sockaddr
_setopt = lib.oxs_setopt
_getopt = lib.oxs_getopt


def _set(h: int, option: int, value: int) -> None:
    rc = _setopt(h, option, value)
    if rc:
        raise error(rc)


def _get(h: int, option: int) -> int:
    v = c_int64()
    rc = _getopt(h, option, v)
    if rc:
        raise error(rc)
    return v.value


def _sockaddr_to_oxs(raw: bytes) -> OxsAddr:
    a = OxsAddr()
    rc = _from_sockaddr(raw, len(raw), a)
    if rc:
        raise error(rc)
    return a


def _port(port: Any) -> int:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, not {type(port).__name__}")
    if not 0 <= port <= 65535:
        raise OverflowError("port must be 0-65535.")
    return port


def _ip_bytes(host: Any, family: int) -> Tuple[int, bytes, int]:
    """(family, packed address, scope id) of a host: numeric, '' (any), '<broadcast>',
    or a name resolved as CPython does (the first address of the family)."""
    if not isinstance(host, str):
        if isinstance(host, (bytes, bytearray)):
            host = bytes(host).decode("idna")
        else:
            raise TypeError(f"host must be str, not {type(host).__name__}")
    if host == "":
        return family, bytes(4 if family == _AF_INET else 16), 0
    if host == "<broadcast>" and family == _AF_INET:
        return family, b"\xff\xff\xff\xff", 0
    try:
        if family == _AF_INET:
            return family, _socket.inet_pton(_AF_INET, host), 0
        name, pct, scope = host.partition("%")
        try:
            packed = _socket.inet_pton(_AF_INET6, name)
        except OSError:
            # An IPv4 address on an IPv6 socket: its v4-mapped form.
            packed = b"\0" * 10 + b"\xff\xff" + _socket.inet_pton(_AF_INET, name)
        sid = 0
        if pct:
            sid = int(scope) if scope.isdigit() else _socket.if_nametoindex(scope)
        return family, packed, sid
    except OSError:
        pass
    infos = _socket.getaddrinfo(host, None, family, _socket.SOCK_STREAM)
    sa: Any = infos[0][4]
    if family == _AF_INET:
        return family, _socket.inet_pton(_AF_INET, sa[0]), 0
    return family, _socket.inet_pton(_AF_INET6, sa[0].partition("%")[0]), int(sa[3])


def to_oxs_addr(address: Any, domain: int) -> OxsAddr:
    """An ``oxs_addr`` from CPython's form of an address for a socket of ``domain``
    (``OXS_DOMAIN_*``): a tuple for IP, ``bytes`` for Unix."""
    if isinstance(address, tuple):
        if domain == _OXS_UNIX:
            raise TypeError("a Unix socket's address is a str or bytes path, not a tuple")
        if domain == _OXS_INET:
            if len(address) != 2:
                raise TypeError(f"AF_INET address must be a pair (host, port), not {len(address)} items")
            host, port = address
            fam, packed, _ = _ip_bytes(host, _AF_INET)
            raw = struct.pack("=H", fam) + struct.pack("!H", _port(port)) + packed + bytes(8)
            return _sockaddr_to_oxs(raw)
        if not 2 <= len(address) <= 4:
            raise TypeError(f"AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]]), not {len(address)} items")
        host, port = address[0], address[1]
        flowinfo = address[2] if len(address) > 2 else 0
        scope_id = address[3] if len(address) > 3 else 0
        for v, what in ((flowinfo, "flowinfo"), (scope_id, "scope_id")):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{what} must be an int, not {type(v).__name__}")
        if not 0 <= flowinfo <= 0xFFFFF:
            raise OverflowError("flowinfo must be 0-1048575.")
        fam, packed, sid = _ip_bytes(host, _AF_INET6)
        raw = (
            struct.pack("=H", fam)
            + struct.pack("!HI", _port(port), flowinfo)
            + packed
            + struct.pack("=I", scope_id or sid)
        )
        return _sockaddr_to_oxs(raw)
    if isinstance(address, (bytes, bytearray, memoryview)):
        if domain != _OXS_UNIX:
            raise TypeError("a bytes address is a Unix path; an IP address is a (host, port) tuple or text")
        path = bytes(address)
        if len(path) >= _UNIX_PATH_MAX and not path.startswith(b"\0"):
            raise OSError(36, "AF_UNIX path too long")
        return _sockaddr_to_oxs(struct.pack("=H", _AF_UNIX) + path)
    raise TypeError(f"an address must be str, bytes or a tuple, not {type(address).__name__}")


def from_oxs_addr(a: OxsAddr) -> SockAddr:
    """CPython's form of the address in ``a`` (as ``socket.getsockname`` returns it)."""
    n = a.len
    raw = bytes(a)[:n]
    if n < 2:
        return ""
    (family,) = struct.unpack_from("=H", raw)
    if family == _AF_INET:
        (port,) = struct.unpack_from("!H", raw, 2)
        return _socket.inet_ntop(_AF_INET, raw[4:8]), port
    if family == _AF_INET6:
        port, flowinfo = struct.unpack_from("!HI", raw, 2)
        (scope_id,) = struct.unpack_from("=I", raw, 24)
        host = _socket.inet_ntop(_AF_INET6, raw[8:24])
        return host, port, flowinfo, scope_id
    if family == _AF_UNIX:
        path = raw[2:]
        if not path:
            return ""
        if path[:1] == b"\0":
            return path  # the abstract namespace: bytes, as CPython gives it
        return os.fsdecode(path.split(b"\0", 1)[0])
    raise ValueError(f"unknown address family {family}")


# ---------------------------------------------------------------------------------


class SocketCompat:
    """The ``socket.socket`` methods of :class:`~oxsock.Socket` (mixed in)."""

    #: Files made by makefile() still open, and whether close() waits for them.
    __slots__ = ("_io_refs", "_closing")
    _io_refs: int
    _closing: bool

    if TYPE_CHECKING:
        _h: int

        def close(self) -> None: ...
        def fileno(self) -> int: ...
        def connect(self, address: Address) -> None: ...
        def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int: ...

    # -- addresses -------------------------------------------------------------------

    def getsockname(self) -> SockAddr:
        """The local address in CPython's form: ``(host, port)`` for INET,
        ``(host, port, flowinfo, scope_id)`` for INET6, a ``str`` path for Unix
        (``bytes`` for an abstract name, ``""`` when unnamed)."""
        a = OxsAddr()
        rc = lib.oxs_local_addr(self._h, a)
        if rc:
            raise error(rc)
        return from_oxs_addr(a)

    def getpeername(self) -> SockAddr:
        """The peer's address in CPython's form (see :meth:`getsockname`)."""
        a = OxsAddr()
        rc = lib.oxs_peer_addr(self._h, a)
        if rc:
            raise error(rc)
        return from_oxs_addr(a)

    # -- family, type, proto -------------------------------------------------------------

    @property
    def family(self) -> _socket.AddressFamily:
        """The domain as CPython's ``socket.AddressFamily`` (``AF_INET``, ``AF_INET6``,
        ``AF_UNIX``)."""
        return _FAMILY[_get(self._h, _OPT_DOMAIN)]

    @property
    def type(self) -> _socket.SocketKind:
        """The type as CPython's ``socket.SocketKind`` (``SOCK_STREAM`` ...)."""
        return _KIND[_get(self._h, _OPT_TYPE)]

    @property
    def proto(self) -> int:
        """The protocol number (``SO_PROTOCOL``, e.g. 6 for TCP, 17 for UDP, 0 for
        Unix)."""
        # CPython's socket reads SO_PROTOCOL when it adopts a descriptor: ask it, on a
        # duplicate that it closes.
        sock = _socket.socket(fileno=os.dup(self._fd_or_raise()))
        try:
            return sock.proto
        finally:
            sock.close()

    def _fd_or_raise(self) -> int:
        fd = c_int32()
        rc = lib.oxs_fd(self._h, fd)
        if rc:
            raise error(rc)
        return fd.value

    # -- timeouts and blocking ---------------------------------------------------------

    def settimeout(self, value: Optional[float]) -> None:
        """As CPython's: ``None`` blocks with no limit, ``0`` makes the socket
        non-blocking, ``t > 0`` sets the read, write and connect timeouts to ``t``
        seconds (rounded up to whole milliseconds) in blocking mode. A negative value
        raises ``ValueError``."""
        if value is None:
            ms = 0
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                if isinstance(value, (str, bytes)) or not hasattr(type(value), "__float__"):
                    raise TypeError(f"timeout must be a number or None, not {type(value).__name__}")
                value = float(value)
            if value != value:
                raise ValueError("Invalid value NaN (not a number)")
            if value < 0:
                raise ValueError("Timeout value out of range")
            if value == 0:
                # Through blocking first: the library sets O_NONBLOCK on a change of
                # mode, and a dup() may have cleared it on the shared descriptor
                # behind this handle's back. As in CPython, 0 replaces any timeout.
                h = self._h
                for opt in (_READ_MS, _WRITE_MS, _CONNECT_MS, _NONBLOCKING):
                    _set(h, opt, 0)
                _set(h, _NONBLOCKING, 1)
                return
            ms = 0 if value == math.inf else max(1, math.ceil(value * 1000))
        h = self._h
        for opt in (_READ_MS, _WRITE_MS, _CONNECT_MS):
            _set(h, opt, ms)
        _set(h, _NONBLOCKING, 0)

    def gettimeout(self) -> Optional[float]:
        """As CPython's: ``0.0`` when non-blocking, ``None`` when blocking with no read
        timeout, else the read timeout in seconds."""
        if _get(self._h, _NONBLOCKING):
            return 0.0
        ms = _get(self._h, _READ_MS)
        return ms / 1000.0 if ms else None

    def setblocking(self, flag: bool) -> None:
        """``setblocking(True)`` is ``settimeout(None)``, ``setblocking(False)`` is
        ``settimeout(0)``."""
        self.settimeout(None if flag else 0.0)

    def getblocking(self) -> bool:
        """False when non-blocking (``gettimeout() == 0``), else True."""
        return not _get(self._h, _NONBLOCKING)

    # -- connect_ex, recvfrom_into, dup ------------------------------------------------

    def connect_ex(self, address: Address) -> int:
        """:meth:`connect` that returns the errno instead of raising an OS error (0 on
        success, ``EINPROGRESS`` for a non-blocking connect under way). An error that
        has no errno (a bad address, a name that does not resolve) still raises."""
        try:
            self.connect(address)
        except Error as e:
            if e.errno:
                if e.status == Status.WOULD_BLOCK:
                    return _EINPROGRESS
                return int(e.errno)
            if e.status == Status.TIMED_OUT:
                return _EAGAIN
            raise
        return 0

    def recvfrom_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> Tuple[int, str]:
        """Receives a datagram into ``buffer`` (at most ``nbytes`` bytes, 0: the whole
        buffer): ``(count, sender address text)``. ``flags`` must be 0. A longer
        datagram raises ``Status.MESSAGE_TOO_LONG`` (and is consumed)."""
        from ._socket import _recvfrom_into

        return _recvfrom_into(self, buffer, nbytes, flags)  # type: ignore[arg-type]

    def dup(self) -> "Socket":
        """A new Socket on a duplicate of the descriptor (close-on-exec), with this one's
        blocking mode and timeouts. Each keeps its own mode and timeouts from then on;
        a blocking call that meets the shared descriptor non-blocking waits in poll(2)."""
        from ._socket import Socket

        fd = os.dup(self._fd_or_raise())
        try:
            new = Socket.from_fd(fd)
        except BaseException:
            os.close(fd)
            raise
        try:
            for opt in (_READ_MS, _WRITE_MS, _CONNECT_MS, _NONBLOCKING):
                _set(new._h, opt, _get(self._h, opt))
        except BaseException:
            new.close()
            raise
        return new

    # -- makefile ----------------------------------------------------------------------

    def makefile(
        self,
        mode: str = "r",
        buffering: Optional[int] = None,
        *,
        encoding: Optional[str] = None,
        errors: Optional[str] = None,
        newline: Optional[str] = None,
    ) -> Any:
        """A file object over the socket, as CPython's ``socket.makefile`` (the same
        arguments; ``"r"``, ``"w"``, ``"b"`` modes). As in CPython, :meth:`close` on the
        Socket takes effect when the last file made here is closed, so ``http.client``
        can close the connection while a response is still being read."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        binary = "b" in mode
        rawmode = ("r" if reading else "") + ("w" if writing else "")
        raw = _socket.SocketIO(self, rawmode)  # type: ignore[arg-type]
        self._io_refs += 1
        if buffering is None:
            buffering = -1
        if buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        buffer: Any
        if reading and writing:
            buffer = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffer = io.BufferedReader(raw, buffering)
        else:
            buffer = io.BufferedWriter(raw, buffering)
        if binary:
            return buffer
        text = io.TextIOWrapper(buffer, io.text_encoding(encoding), errors, newline)
        text.mode = mode  # type: ignore[misc]
        return text

    def _decref_socketios(self) -> None:
        # Called by socket.SocketIO.close(): the deferred close happens with the last file.
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closing:
            self.close()


_READ_MS, _WRITE_MS, _CONNECT_MS, _NONBLOCKING = 11, 12, 13, 14
_EINPROGRESS = _errno.EINPROGRESS
_EAGAIN = _errno.EAGAIN

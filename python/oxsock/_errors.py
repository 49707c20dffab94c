"""Status codes, the exception hierarchy, and the one function that turns a failed
call into an exception (contract §2 and §11)."""

from __future__ import annotations

import builtins
import errno as _errno
import socket as _socket
import ssl
from enum import IntEnum
from typing import Any, Callable, Dict, Optional, Tuple, Type, TypeVar, Union

from ._lib import lib

__all__ = [
    "Status",
    "Error",
    "InvalidArgument",
    "BadHandle",
    "AddressError",
    "ResolveError",
    "WouldBlock",
    "TimedOut",
    "Interrupted",
    "Closed",
    "UnexpectedEof",
    "ConnectionRefused",
    "ConnectionReset",
    "ConnectionAborted",
    "NotConnected",
    "BrokenPipe",
    "AddressInUse",
    "AddressNotAvailable",
    "PermissionDenied",
    "HostUnreachable",
    "NetworkUnreachable",
    "Unsupported",
    "BufferTooSmall",
    "MessageTooLong",
    "TooManyOpen",
    "Busy",
    "TLSError",
    "CertificateError",
    "OsError",
    "Panic",
]


class Status(IntEnum):
    """``oxs_status`` codes (contract §2), named like the C constants without ``OXS_``
    and ``ERR_``: ``Status.OK``, ``Status.TIMED_OUT``."""

    OK = 0
    INVALID_ARGUMENT = -1
    BAD_HANDLE = -2
    ADDRESS = -3
    RESOLVE = -4
    WOULD_BLOCK = -5
    TIMED_OUT = -6
    INTERRUPTED = -7
    CLOSED = -8
    UNEXPECTED_EOF = -9
    CONNECTION_REFUSED = -10
    CONNECTION_RESET = -11
    CONNECTION_ABORTED = -12
    NOT_CONNECTED = -13
    BROKEN_PIPE = -14
    ADDRESS_IN_USE = -15
    ADDRESS_NOT_AVAILABLE = -16
    PERMISSION_DENIED = -17
    HOST_UNREACHABLE = -18
    NETWORK_UNREACHABLE = -19
    UNSUPPORTED = -20
    BUFFER_TOO_SMALL = -21
    MESSAGE_TOO_LONG = -22
    TOO_MANY_OPEN = -23
    BUSY = -24
    TLS = -25
    CERTIFICATE = -26
    OS = -99
    PANIC = -100

    def describe(self) -> str:
        """The library's static text for this code (``oxs_strerror``)."""
        text: bytes = lib.oxs_strerror(self.value)
        return text.decode("utf-8", "replace")

    def __str__(self) -> str:
        """The name without prefix: ``str(Status.TIMED_OUT) == "TIMED_OUT"``."""
        return self.name

    def __format__(self, spec: str) -> str:
        # f"{status}" shows the name too; a format spec (f"{status:d}") formats the number.
        return self.name if not spec else int.__format__(int(self), spec)


class Error(OSError):
    """A failed oxsock call.

    ``status`` is a :class:`Status` (or a plain ``int`` for a code this binding does not
    know), ``errno`` the OS error (``None`` when the failure was not an OS error),
    ``message`` (also ``strerror``) the library's per-thread message, read right after
    the failing call, e.g. ``oxs_dial tcp://127.0.0.1:9: connection refused (os error 111)``.

    Each status has its own subclass (``oxsock.TimedOut``, ``oxsock.ConnectionRefused``
    ...), which also derives from the matching built-in exception where there is one
    (``TimeoutError``, ``ConnectionRefusedError`` ...), so code written against the
    ``socket`` module keeps working. ``Error(status, message, errno)`` builds the
    subclass for ``status``.
    """

    status: Union[Status, int]
    message: str

    def __new__(cls, status: int = Status.OS, message: str = "", errno: Optional[int] = None) -> "Error":
        if cls is Error:
            cls = _class_for(status, errno)
        # OSError reads (errno, strerror) in __new__ when a subclass overrides __new__.
        return OSError.__new__(cls, errno, message)

    def __init__(self, status: int = Status.OS, message: str = "", errno: Optional[int] = None) -> None:
        st = _STATUS.get(status)
        self.status = st if st is not None else status
        self.message = message

    def __str__(self) -> str:
        name = self.status.name if isinstance(self.status, Status) else str(self.status)
        text = self.message or describe(self.status)
        return f"{text} [{name}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status!r}, {self.message!r}, errno={self.errno!r})"

    def __reduce__(self) -> Tuple[Callable[..., "Error"], Tuple[Any, ...]]:
        return (Error, (int(self.status), self.message, self.errno))


_E = TypeVar("_E", bound=Type[Error])


def _register(status: Status) -> Callable[[_E], _E]:
    """Makes a class the one raised for ``status``."""

    def register(cls: _E) -> _E:
        cls.__module__ = "oxsock"
        _CLASSES[int(status)] = cls
        return cls

    return register


def _doc(status: Status) -> str:
    return f"``Status.{status.name}``: {_DOCS[status]}"


_CLASSES: Dict[int, Type[Error]] = {}


_DOCS = {
    Status.INVALID_ARGUMENT: "a value outside the documented set, or a length out of range.",
    Status.BAD_HANDLE: "not a live handle: closed, stale, or never issued.",
    Status.ADDRESS: "an address or endpoint that does not parse or does not fit the domain.",
    Status.RESOLVE: "a host name could not be resolved.",
    Status.WOULD_BLOCK: "a non-blocking call could not complete (a ``BlockingIOError``).",
    Status.TIMED_OUT: "the handle's timeout passed, or the kernel gave up (a ``TimeoutError``).",
    Status.INTERRUPTED: "a signal arrived (an ``InterruptedError``; the binding retries).",
    Status.CLOSED: "the socket was closed by another thread during the call.",
    Status.UNEXPECTED_EOF: "the peer closed before the requested bytes arrived.",
    Status.CONNECTION_REFUSED: "the connection was refused (a ``ConnectionRefusedError``).",
    Status.CONNECTION_RESET: "the connection was reset (a ``ConnectionResetError``).",
    Status.CONNECTION_ABORTED: "the connection was aborted (a ``ConnectionAbortedError``).",
    Status.NOT_CONNECTED: "the socket is not connected.",
    Status.BROKEN_PIPE: "the peer is gone (a ``BrokenPipeError``).",
    Status.ADDRESS_IN_USE: "the address is in use.",
    Status.ADDRESS_NOT_AVAILABLE: "the address is not available on this host.",
    Status.PERMISSION_DENIED: "EACCES or EPERM (a ``PermissionError``).",
    Status.HOST_UNREACHABLE: "the host is unreachable.",
    Status.NETWORK_UNREACHABLE: "the network is unreachable.",
    Status.UNSUPPORTED: "a documented value this socket or platform cannot do.",
    Status.BUFFER_TOO_SMALL: "an output buffer is too small.",
    Status.MESSAGE_TOO_LONG: "a datagram larger than the buffer (it was consumed).",
    Status.TOO_MANY_OPEN: "too many open descriptors or handles.",
    Status.BUSY: "the handle has calls in flight.",
    Status.TLS: "the TLS protocol failed, or a TLS configuration cannot work (an ``ssl.SSLError``).",
    Status.CERTIFICATE: "a certificate was rejected, the peer's or ours (an ``ssl.SSLCertVerificationError``).",
    Status.OS: "another OS error: see ``errno``.",
    Status.PANIC: "an internal bug was caught; the process goes on.",
}

@_register(Status.INVALID_ARGUMENT)
class InvalidArgument(Error):
    __doc__ = _doc(Status.INVALID_ARGUMENT)


@_register(Status.BAD_HANDLE)
class BadHandle(Error):
    __doc__ = _doc(Status.BAD_HANDLE)


@_register(Status.ADDRESS)
class AddressError(Error):
    __doc__ = _doc(Status.ADDRESS)


@_register(Status.RESOLVE)
class ResolveError(Error, _socket.gaierror):
    __doc__ = _doc(Status.RESOLVE)


@_register(Status.WOULD_BLOCK)
class WouldBlock(Error, builtins.BlockingIOError):
    __doc__ = _doc(Status.WOULD_BLOCK)


@_register(Status.TIMED_OUT)
class TimedOut(Error, builtins.TimeoutError):
    __doc__ = _doc(Status.TIMED_OUT)


@_register(Status.INTERRUPTED)
class Interrupted(Error, builtins.InterruptedError):
    __doc__ = _doc(Status.INTERRUPTED)


@_register(Status.CLOSED)
class Closed(Error):
    __doc__ = _doc(Status.CLOSED)


@_register(Status.UNEXPECTED_EOF)
class UnexpectedEof(Error):
    __doc__ = _doc(Status.UNEXPECTED_EOF)


@_register(Status.CONNECTION_REFUSED)
class ConnectionRefused(Error, builtins.ConnectionRefusedError):
    __doc__ = _doc(Status.CONNECTION_REFUSED)


@_register(Status.CONNECTION_RESET)
class ConnectionReset(Error, builtins.ConnectionResetError):
    __doc__ = _doc(Status.CONNECTION_RESET)


@_register(Status.CONNECTION_ABORTED)
class ConnectionAborted(Error, builtins.ConnectionAbortedError):
    __doc__ = _doc(Status.CONNECTION_ABORTED)


@_register(Status.NOT_CONNECTED)
class NotConnected(Error):
    __doc__ = _doc(Status.NOT_CONNECTED)


@_register(Status.BROKEN_PIPE)
class BrokenPipe(Error, builtins.BrokenPipeError):
    __doc__ = _doc(Status.BROKEN_PIPE)


@_register(Status.ADDRESS_IN_USE)
class AddressInUse(Error):
    __doc__ = _doc(Status.ADDRESS_IN_USE)


@_register(Status.ADDRESS_NOT_AVAILABLE)
class AddressNotAvailable(Error):
    __doc__ = _doc(Status.ADDRESS_NOT_AVAILABLE)


@_register(Status.PERMISSION_DENIED)
class PermissionDenied(Error, builtins.PermissionError):
    __doc__ = _doc(Status.PERMISSION_DENIED)


@_register(Status.HOST_UNREACHABLE)
class HostUnreachable(Error):
    __doc__ = _doc(Status.HOST_UNREACHABLE)


@_register(Status.NETWORK_UNREACHABLE)
class NetworkUnreachable(Error):
    __doc__ = _doc(Status.NETWORK_UNREACHABLE)


@_register(Status.UNSUPPORTED)
class Unsupported(Error):
    __doc__ = _doc(Status.UNSUPPORTED)


@_register(Status.BUFFER_TOO_SMALL)
class BufferTooSmall(Error):
    __doc__ = _doc(Status.BUFFER_TOO_SMALL)


@_register(Status.MESSAGE_TOO_LONG)
class MessageTooLong(Error):
    __doc__ = _doc(Status.MESSAGE_TOO_LONG)


@_register(Status.TOO_MANY_OPEN)
class TooManyOpen(Error):
    __doc__ = _doc(Status.TOO_MANY_OPEN)


@_register(Status.BUSY)
class Busy(Error):
    __doc__ = _doc(Status.BUSY)


@_register(Status.OS)
class OsError(Error):
    __doc__ = _doc(Status.OS)


@_register(Status.PANIC)
class Panic(Error):
    __doc__ = _doc(Status.PANIC)


@_register(Status.TLS)
class TLSError(Error, ssl.SSLError):
    __doc__ = _doc(Status.TLS)


@_register(Status.CERTIFICATE)
class CertificateError(Error, ssl.SSLCertVerificationError):
    __doc__ = _doc(Status.CERTIFICATE)


# Plain-int lookups, built once, so that the error path builds no enum.
_STATUS: Dict[int, Status] = {int(s): s for s in Status}

#: Built-in classes chosen by errno (as CPython's OSError does), for statuses whose class
#: does not already have one: an ENOENT (a Unix path that does not exist) is also a
#: FileNotFoundError.
_BY_ERRNO: Dict[int, Type[BaseException]] = {_errno.ENOENT: builtins.FileNotFoundError}
_MIXED: Dict[Tuple[int, int], Type[Error]] = {}


def _class_for(status: int, errno: Optional[int]) -> Type[Error]:
    """The class for ``status``, also deriving from the built-in its errno names."""
    cls = _CLASSES.get(status, Error)
    extra = _BY_ERRNO.get(errno) if errno else None
    if extra is None or issubclass(cls, extra):
        return cls
    key = (int(status), int(errno))  # type: ignore[arg-type]
    mixed = _MIXED.get(key)
    if mixed is None:
        mixed = type(cls.__name__, (cls, extra), {"__doc__": cls.__doc__, "__module__": "oxsock"})
        _MIXED[key] = mixed
    return mixed


_last_error = lib.oxs_last_error
_last_os_error = lib.oxs_last_os_error


def describe(status: int) -> str:
    """``oxs_strerror``: the library's static text for any status code."""
    text: bytes = lib.oxs_strerror(int(status))
    return text.decode("utf-8", "replace")


_BAD_HANDLE = int(Status.BAD_HANDLE)
_EBADF = _errno.EBADF


def error(status: int, rewrite: Optional[Callable[[str], str]] = None) -> Error:
    """The exception for a call that just returned ``status``, with this thread's
    message and errno. Call it right after the failing call, in the same thread.
    ``rewrite`` edits the message (to take out what the binding added, never the
    caller). A bad handle -- a call on a closed Socket -- carries errno EBADF, as
    CPython's closed socket does."""
    msg = _last_error()
    os_err = _last_os_error() or None
    if os_err is None and status == _BAD_HANDLE:
        os_err = _EBADF
    text = msg.decode("utf-8", "replace") if msg else ""
    if rewrite is not None:
        text = rewrite(text)
    return _class_for(status, os_err)(status, text, os_err)

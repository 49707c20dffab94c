"""Status codes, the exception hierarchy, and the one function that turns a failed
call into an exception (contract §2 and §11)."""

from __future__ import annotations

import builtins
import ssl
from enum import IntEnum
from typing import Dict, Optional, Type, Union

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
        return lib.oxs_strerror(self.value).decode("utf-8", "replace")


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

    def __new__(cls, status: int = Status.OS, message: str = "", errno: Optional[int] = None):
        if cls is Error:
            cls = _CLASSES.get(status, Error)
        # OSError reads (errno, strerror) in __new__ when a subclass overrides __new__.
        return OSError.__new__(cls, errno, message)

    def __init__(self, status: int = Status.OS, message: str = "", errno: Optional[int] = None):
        st = _STATUS.get(status)
        self.status = st if st is not None else status
        self.message = message

    def __str__(self) -> str:
        name = self.status.name if isinstance(self.status, Status) else str(self.status)
        text = self.message or describe(self.status)
        return f"{text} [{name}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status!r}, {self.message!r}, errno={self.errno!r})"

    def __reduce__(self):
        return (Error, (int(self.status), self.message, self.errno))


def _sub(name: str, status: Status, *bases: Type[BaseException]) -> Type[Error]:
    doc = f"``Status.{status.name}``: {_DOCS[status]}"
    cls = type(name, (Error,) + bases, {"__doc__": doc, "__module__": "oxsock"})
    _CLASSES[int(status)] = cls
    return cls


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

InvalidArgument = _sub("InvalidArgument", Status.INVALID_ARGUMENT)
BadHandle = _sub("BadHandle", Status.BAD_HANDLE)
AddressError = _sub("AddressError", Status.ADDRESS)
ResolveError = _sub("ResolveError", Status.RESOLVE)
WouldBlock = _sub("WouldBlock", Status.WOULD_BLOCK, builtins.BlockingIOError)
TimedOut = _sub("TimedOut", Status.TIMED_OUT, builtins.TimeoutError)
Interrupted = _sub("Interrupted", Status.INTERRUPTED, builtins.InterruptedError)
Closed = _sub("Closed", Status.CLOSED)
UnexpectedEof = _sub("UnexpectedEof", Status.UNEXPECTED_EOF)
ConnectionRefused = _sub(
    "ConnectionRefused", Status.CONNECTION_REFUSED, builtins.ConnectionRefusedError
)
ConnectionReset = _sub("ConnectionReset", Status.CONNECTION_RESET, builtins.ConnectionResetError)
ConnectionAborted = _sub(
    "ConnectionAborted", Status.CONNECTION_ABORTED, builtins.ConnectionAbortedError
)
NotConnected = _sub("NotConnected", Status.NOT_CONNECTED)
BrokenPipe = _sub("BrokenPipe", Status.BROKEN_PIPE, builtins.BrokenPipeError)
AddressInUse = _sub("AddressInUse", Status.ADDRESS_IN_USE)
AddressNotAvailable = _sub("AddressNotAvailable", Status.ADDRESS_NOT_AVAILABLE)
PermissionDenied = _sub("PermissionDenied", Status.PERMISSION_DENIED, builtins.PermissionError)
HostUnreachable = _sub("HostUnreachable", Status.HOST_UNREACHABLE)
NetworkUnreachable = _sub("NetworkUnreachable", Status.NETWORK_UNREACHABLE)
Unsupported = _sub("Unsupported", Status.UNSUPPORTED)
BufferTooSmall = _sub("BufferTooSmall", Status.BUFFER_TOO_SMALL)
MessageTooLong = _sub("MessageTooLong", Status.MESSAGE_TOO_LONG)
TooManyOpen = _sub("TooManyOpen", Status.TOO_MANY_OPEN)
Busy = _sub("Busy", Status.BUSY)
TLSError = _sub("TLSError", Status.TLS, ssl.SSLError)
CertificateError = _sub("CertificateError", Status.CERTIFICATE, ssl.SSLCertVerificationError)
OsError = _sub("OsError", Status.OS)
Panic = _sub("Panic", Status.PANIC)

# Plain-int lookups, built once, so that the error path builds no enum.
_STATUS: Dict[int, Status] = {int(s): s for s in Status}

_last_error = lib.oxs_last_error
_last_os_error = lib.oxs_last_os_error


def describe(status: int) -> str:
    """``oxs_strerror``: the library's static text for any status code."""
    return lib.oxs_strerror(int(status)).decode("utf-8", "replace")


def error(status: int) -> Error:
    """The exception for a call that just returned ``status``, with this thread's
    message and errno. Call it right after the failing call, in the same thread."""
    msg = _last_error()
    os_err = _last_os_error()
    cls = _CLASSES.get(status, Error)
    return cls(status, msg.decode("utf-8", "replace") if msg else "", os_err or None)

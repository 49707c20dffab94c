"""oxsock: the POSIX socket lifecycle through ``liboxsock``'s C ABI (ctypes, no
compiled part of its own).

>>> import oxsock
>>> with oxsock.listen("tcp://127.0.0.1:0") as srv:
...     with oxsock.dial(f"tcp://{srv.local_addr}") as c:
...         conn, peer = srv.accept()
...         c.sendall(b"hi")
...         conn.recv_exact(2)
...         conn.close()
b'hi'

The library is found at ``$OXSOCK_LIBRARY`` (only there, when set), else in the
checkout's ``target/release`` and ``target/debug``, else inside the package (where
``pip install`` puts it), else on the system library path; :data:`library_path` says
which file was loaded.
"""

from ._lib import lib as _cdll
from ._lib import path as library_path
from . import _errors
from ._errors import (
    AddressError,
    AddressInUse,
    AddressNotAvailable,
    BadHandle,
    BrokenPipe,
    BufferTooSmall,
    Busy,
    CertificateError,
    Closed,
    ConnectionAborted,
    ConnectionRefused,
    ConnectionReset,
    Error,
    HostUnreachable,
    Interrupted,
    InvalidArgument,
    MessageTooLong,
    NetworkUnreachable,
    NotConnected,
    OsError,
    Panic,
    PermissionDenied,
    ResolveError,
    Status,
    TLSError,
    TimedOut,
    TooManyOpen,
    UnexpectedEof,
    Unsupported,
    WouldBlock,
    describe,
)
from ._compat import Address, SockAddr
from ._socket import (
    DGRAM,
    INET,
    INET6,
    MSG_DONTWAIT,
    MSG_OOB,
    MSG_PEEK,
    MSG_WAITALL,
    RAW,
    SEQPACKET,
    SHUT_BOTH,
    SHUT_READ,
    SHUT_WRITE,
    STREAM,
    UNIX,
    Option,
    Socket,
    dial,
    listen,
    socketpair,
)
from ._messages import Datagram
from ._tls import TLS_CLIENT, TLS_SERVER, TLSConfig
from ._poll import POLL_ERR, POLL_HUP, POLL_IN, POLL_INVALID, POLL_OUT, Poller, poll
from ._ports import addr_host, addr_unmap, resolve

__version__ = "0.1.0"


def library_version() -> str:
    """The loaded library's version, ``"MAJOR.MINOR.PATCH"`` (``oxs_version``)."""
    text: bytes = _cdll.oxs_version()
    return text.decode("ascii", "replace")


for _cls in (Error, Status, Option, Socket, Poller, TLSConfig):
    _cls.__module__ = "oxsock"
del _cls

__all__ = [
    "__version__",
    "library_path",
    "library_version",
    "describe",
    # sockets
    "Socket",
    "dial",
    "listen",
    "socketpair",
    "poll",
    "Poller",
    # ports (§14)
    "resolve",
    "addr_host",
    "addr_unmap",
    "Datagram",
    "TLSConfig",
    "TLS_CLIENT",
    "TLS_SERVER",
    # constants
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
    "POLL_IN",
    "POLL_OUT",
    "POLL_ERR",
    "POLL_HUP",
    "POLL_INVALID",
    "Option",
    # types for annotations
    "Address",
    "SockAddr",
    # errors: Status, Error and one class per status
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

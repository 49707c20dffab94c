"""Waiting for many sockets: :func:`poll` and :class:`Poller` (contract §9, §11)."""

from __future__ import annotations

import math
import time
import warnings
import weakref
from ctypes import c_size_t, c_uint64
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ._errors import Status, error
from ._lib import OxsEvent, OxsPollItem, lib
from ._socket import Socket, _check_signals, _int32

__all__ = ["poll", "Poller", "POLL_IN", "POLL_OUT", "POLL_ERR", "POLL_HUP", "POLL_INVALID"]

#: Poll event bits (``OXS_POLL_*``, Linux's values).
POLL_IN = 0x1
POLL_OUT = 0x4
POLL_ERR = 0x8
POLL_HUP = 0x10
POLL_INVALID = 0x20

_INTERRUPTED = int(Status.INTERRUPTED)
_poll = lib.oxs_poll
_open = lib.oxs_poller_open
_add = lib.oxs_poller_add
_modify = lib.oxs_poller_modify
_remove = lib.oxs_poller_remove
_wait = lib.oxs_poller_wait
_wake = lib.oxs_poller_wake
_pclose = lib.oxs_poller_close
_add_fd = lib.oxs_poller_add_fd
_modify_fd = lib.oxs_poller_modify_fd
_remove_fd = lib.oxs_poller_remove_fd
_INT32_MAX = 2**31 - 1


def _wait_ms(timeout: Optional[float]) -> int:
    """A wait's timeout: None -> -1 (forever), 0 -> 0, positive -> ms rounded up."""
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        if isinstance(timeout, (str, bytes)) or not hasattr(type(timeout), "__float__"):
            raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
        timeout = float(timeout)
    if timeout != timeout:
        raise ValueError("timeout is NaN")
    if timeout < 0:
        raise ValueError(f"timeout must not be negative: {timeout}")
    if timeout == 0:
        return 0
    if timeout == math.inf:
        return -1
    ms = math.ceil(timeout * 1000)
    return min(ms, _INT32_MAX)


def _remaining(deadline: Optional[float]) -> int:
    if deadline is None:
        return -1
    left = deadline - time.monotonic()
    return max(0, min(math.ceil(left * 1000), _INT32_MAX))


def poll(items: Iterable[Tuple[Socket, int]], timeout: Optional[float] = None) -> List[Tuple[Socket, int]]:
    """Waits until one of ``items`` (``(Socket, events)`` pairs, events ``POLL_IN``
    and/or ``POLL_OUT``) is ready, or ``timeout`` seconds pass (None: forever, 0:
    return at once). Returns ``[(Socket, revents)]`` for the items with something to
    report, the same Socket objects; ``POLL_ERR`` and ``POLL_HUP`` are always reported,
    and a closed Socket reports ``POLL_INVALID``."""
    socks: List[Socket] = []
    evs: List[int] = []
    for item in items:
        try:
            sock, events = item
        except (TypeError, ValueError):
            raise TypeError("poll items must be (Socket, events) pairs") from None
        if not isinstance(sock, Socket):
            raise TypeError(f"poll items must be (Socket, events) pairs, not {type(sock).__name__}")
        socks.append(sock)
        evs.append(_int32(events, "events"))
    n = len(socks)
    arr = (OxsPollItem * (n or 1))()
    for i in range(n):
        it = arr[i]
        it.socket = socks[i]._h
        it.events = evs[i]
    ms = _wait_ms(timeout)
    deadline = None if ms <= 0 else time.monotonic() + ms / 1000.0
    ready = c_size_t()
    while True:
        rc = _poll(arr, n, ms, ready)
        if rc == 0:
            break
        if rc != _INTERRUPTED:
            raise error(rc)
        _check_signals()
        if ms > 0:
            ms = _remaining(deadline)
    out = []
    if ready.value:
        for i in range(n):
            r = arr[i].revents
            if r:
                out.append((socks[i], r))
    return out


def _fd(fd: Any) -> int:
    """A descriptor number from an ``int`` or an object with ``fileno()``."""
    if isinstance(fd, bool):
        raise TypeError("fd must be an int or have fileno(), not bool")
    if not isinstance(fd, int):
        fileno = getattr(fd, "fileno", None)
        if fileno is None:
            raise TypeError(f"fd must be an int or have fileno(), not {type(fd).__name__}")
        fd = fileno()
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise TypeError("fileno() must return an int")
    return _int32(fd, "fd")


class Poller:
    """A level-triggered readiness set (``oxs_poller_*``: epoll on Linux).

    ``add(sock, events, token=None)`` registers a Socket, ``add_fd(fd, events,
    token=None)`` any other descriptor (a pipe, stdin, a timerfd: §14); ``wait()`` returns
    ``[(token, events)]``, where a token of None stands for the Socket itself. Any
    Python object may be a token. ``wake()`` (from any thread) makes a wait return
    early. ``close()`` twice does nothing; other calls on a closed Poller raise
    :class:`oxsock.Error` with ``Status.BAD_HANDLE``. A Poller is a context manager.
    A Socket closed while registered leaves the poller by itself.
    """

    __slots__ = ("_h", "_tokens", "__weakref__")

    def __init__(self) -> None:
        self._h = 0
        self._tokens: Dict[int, Any] = {}
        h = c_uint64()
        rc = _open(h)
        if rc:
            raise error(rc)
        self._h = h.value

    @property
    def handle(self) -> int:
        """The library handle (``oxs_poller``), 0 once closed."""
        return self._h

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._h == 0

    def add(self, sock: Socket, events: int, token: Any = None) -> None:
        """Registers ``sock`` for ``events`` (``POLL_IN`` | ``POLL_OUT``). Adding a
        Socket twice raises ``Status.INVALID_ARGUMENT``."""
        if not isinstance(sock, Socket):
            raise TypeError(f"sock must be an oxsock.Socket, not {type(sock).__name__}")
        sh = sock._h
        rc = _add(self._h, sh, _int32(events, "events"), sh)
        if rc:
            raise error(rc)
        self._tokens[sh] = sock if token is None else token
        if sock._pollers is None:
            sock._pollers = weakref.WeakSet()
        sock._pollers.add(self)

    def modify(self, sock: Socket, events: int, token: Any = None) -> None:
        """Changes the events and token of a registered Socket."""
        if not isinstance(sock, Socket):
            raise TypeError(f"sock must be an oxsock.Socket, not {type(sock).__name__}")
        sh = sock._h
        rc = _modify(self._h, sh, _int32(events, "events"), sh)
        if rc:
            raise error(rc)
        self._tokens[sh] = sock if token is None else token

    def remove(self, sock: Socket) -> None:
        """Unregisters ``sock``."""
        if not isinstance(sock, Socket):
            raise TypeError(f"sock must be an oxsock.Socket, not {type(sock).__name__}")
        sh = sock._h
        rc = _remove(self._h, sh)
        if rc:
            raise error(rc)
        self._tokens.pop(sh, None)
        if sock._pollers is not None:
            sock._pollers.discard(self)

    # Foreign descriptors (§14). Their tokens are kept under the descriptor number: a
    # socket handle is at least 2**32, so the two never meet.

    def add_fd(self, fd: Any, events: int, token: Any = None) -> None:
        """Watches a descriptor that is not a Socket (a pipe, stdin, an eventfd, a
        timerfd, a socket other code owns): ``fd`` is an ``int`` or an object with
        ``fileno()``; a token of None means the fd. The descriptor stays the caller's:
        remove it before closing it. Not open, a Socket's own descriptor, or added twice:
        ``Status.INVALID_ARGUMENT``; a regular file: ``Status.UNSUPPORTED``."""
        n = _fd(fd)
        rc = _add_fd(self._h, n, _int32(events, "events"), n)
        if rc:
            raise error(rc)
        self._tokens[n] = n if token is None else token

    def modify_fd(self, fd: Any, events: int, token: Any = None) -> None:
        """Changes the events and token of a descriptor added with :meth:`add_fd`."""
        n = _fd(fd)
        rc = _modify_fd(self._h, n, _int32(events, "events"), n)
        if rc:
            raise error(rc)
        self._tokens[n] = n if token is None else token

    def remove_fd(self, fd: Any) -> None:
        """Stops watching a descriptor added with :meth:`add_fd` (also one that was
        closed meanwhile)."""
        n = _fd(fd)
        rc = _remove_fd(self._h, n)
        if rc:
            raise error(rc)
        self._tokens.pop(n, None)

    def wait(self, timeout: Optional[float] = None, max_events: int = 64) -> List[Tuple[Any, int]]:
        """Waits for readiness: ``[(token, events)]``, at most ``max_events`` of them;
        ``[]`` on timeout or after :meth:`wake`. ``timeout`` in seconds: None waits
        forever, 0 returns at once. Raises ``Status.CLOSED`` when another thread
        closes the Poller during the wait."""
        if type(max_events) is not int:
            if isinstance(max_events, bool) or not hasattr(max_events, "__index__"):
                raise TypeError("max_events must be an integer")
            max_events = max_events.__index__()
        if max_events <= 0:
            raise ValueError(f"max_events must be positive: {max_events}")
        ms = _wait_ms(timeout)
        deadline = None if ms <= 0 else time.monotonic() + ms / 1000.0
        evs = (OxsEvent * max_events)()
        n = c_size_t()
        while True:
            rc = _wait(self._h, evs, max_events, ms, n)
            if rc == 0:
                break
            if rc != _INTERRUPTED:
                raise error(rc)
            _check_signals()
            if ms > 0:
                ms = _remaining(deadline)
        tokens = self._tokens
        out = []
        for i in range(n.value):
            e = evs[i]
            t = e.token
            out.append((tokens.get(t, t), e.events))
        return out

    def wake(self) -> None:
        """Makes a blocked :meth:`wait` (in any thread) return early; kept until the
        next wait when none is in progress."""
        rc = _wake(self._h)
        if rc:
            raise error(rc)

    def close(self) -> None:
        """Closes the Poller; a second close does nothing."""
        h = self._h
        if h:
            self._h = 0
            self._tokens.clear()
            rc = _pclose(h)
            if rc:
                raise error(rc)

    def __enter__(self) -> "Poller":
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
            try:
                _pclose(h)
            except Exception:
                pass

    def __repr__(self) -> str:
        if not self._h:
            return "<oxsock.Poller [closed]>"
        return f"<oxsock.Poller handle={self._h:#x} sockets={len(self._tokens)}>"

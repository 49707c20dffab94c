"""Messages (contract §13, §11 "Messages"): gathered writes and scattered reads,
descriptor passing, datagram batches, sendfile, and raw socket options.

:class:`MessagesMixin` holds the methods; :class:`oxsock.Socket` inherits them. The
per-datagram work of :meth:`MessagesMixin.recv_batch` is kept to a few Python
operations (no library call per datagram, not even to format its sender): one library
call moves up to ``max_count`` datagrams.
"""

from __future__ import annotations

import ctypes
import struct
import threading
from itertools import repeat
from ctypes import addressof, c_char, c_int32, c_size_t, c_uint32
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import _socket
from ._errors import Status, error
from ._lib import OxsAddr, OxsDatagram, lib

__all__ = ["Datagram", "MessagesMixin"]

_writev = lib.oxs_writev
_readv = lib.oxs_readv
_send_fds = lib.oxs_send_fds
_recv_fds = lib.oxs_recv_fds
_send_batch = lib.oxs_send_batch
_recv_batch = lib.oxs_recv_batch
_sendfile = lib.oxs_sendfile
_setsockopt = lib.oxs_setsockopt
_getsockopt = lib.oxs_getsockopt

_INTERRUPTED = int(Status.INTERRUPTED)
_UNEXPECTED_EOF = int(Status.UNEXPECTED_EOF)
_from_buffer = c_char.from_buffer

#: The most buffers, datagrams (contract §13) and descriptors (SCM_MAX_FD) per call.
_MAX_ENTRIES = 1024
_MAX_FDS = 253

_IOV = struct.Struct("@PN")  # oxs_iovec: base, len
_IOV_SIZE = _IOV.size
_DG_SIZE = 168  # oxs_datagram
_DG = struct.Struct("@PNNii")  # buf, len, nbytes, status, reserved (then addr at 32)
_ADDR_OFF = 32  # oxs_datagram.addr
_ADDR_LEN_OFF = 32 + 128  # oxs_datagram.addr.len


class Datagram(NamedTuple):
    """One datagram of :meth:`Socket.recv_batch`: its bytes, its sender's address text,
    and its full size (``len(data) < size`` marks a datagram that was cut)."""

    data: bytes
    address: str
    size: int


_new_datagram = tuple.__new__


def _checked_signals() -> None:
    _socket._check_signals()


def _fail(rc: int, **attrs: Any) -> BaseException:
    e = error(rc)
    for k, v in attrs.items():
        setattr(e, k, v)
    return e


class _BatchRoom:
    """A thread's reusable room for ``recv_batch(max_count, bufsize)``: the datagram
    array and the buffers it points to (set up once; the library never changes
    ``buf`` or ``len``)."""

    __slots__ = ("dg", "dg_ptr", "q", "u32", "data", "mv", "keep")

    def __init__(self, n: int, bufsize: int) -> None:
        self.dg = bytearray(_DG_SIZE * n)
        self.data = bytearray(max(1, n * bufsize))
        keep_dg = _from_buffer(self.dg)
        keep_data = _from_buffer(self.data)
        base = addressof(keep_data)
        for i in range(n):
            _DG.pack_into(self.dg, i * _DG_SIZE, base + i * bufsize if bufsize else 0, bufsize, 0, 0, 0)
        self.keep = (keep_dg, keep_data)
        self.dg_ptr = addressof(keep_dg)
        mv = memoryview(self.dg)
        self.q = mv.cast("Q")  # 21 per entry: [2] nbytes, [4] addr.storage[0]
        self.u32 = mv.cast("I")  # 42 per entry: [40] addr.len
        self.mv = memoryview(self.data)


_rooms = threading.local()
_addr_text: Dict[Any, str] = {}
_ADDR_CACHE_MAX = 4096


def _room(n: int, bufsize: int) -> _BatchRoom:
    cache = getattr(_rooms, "rooms", None)
    if cache is None:
        cache = _rooms.rooms = {}
    r = cache.get((n, bufsize))
    if r is None:
        if len(cache) >= 4:
            cache.clear()
        r = cache[(n, bufsize)] = _BatchRoom(n, bufsize)
    return r


def _sender(room: _BatchRoom, i: int) -> str:
    """The sender of entry ``i`` as text, from a cache keyed by the address's bytes."""
    alen = room.u32[i * 42 + 40]
    if alen == 16:  # sockaddr_in: family, port and address are the first 8 bytes
        key: Any = room.q[i * 21 + 4]
    else:
        off = i * _DG_SIZE + _ADDR_OFF
        key = bytes(room.dg[off : off + alen])
    text = _addr_text.get(key)
    if text is None:
        a = OxsAddr.from_buffer_copy(room.dg, i * _DG_SIZE + _ADDR_OFF)
        text = _socket._format(a)
        if not text.startswith("("):  # "(unnamed)" is not one address
            if len(_addr_text) >= _ADDR_CACHE_MAX:
                _addr_text.clear()
            _addr_text[key] = text
    return text


def _iovecs(buffers: Sequence[Tuple[Any, Any, int]]) -> Tuple[bytearray, Any]:
    """An oxs_iovec array over (keep, pointer, length) triples."""
    arr = bytearray(_IOV_SIZE * max(1, len(buffers)))
    for i, (_, p, n) in enumerate(buffers):
        if n and type(p) is not int:
            p = ctypes.cast(p, ctypes.c_void_p).value
        _IOV.pack_into(arr, i * _IOV_SIZE, p or 0, n)
    return arr, _from_buffer(arr)


class MessagesMixin:
    """The §13 methods of :class:`oxsock.Socket`."""

    __slots__ = ()
    _h: int

    # -- gathered writes, scattered reads ---------------------------------------------

    def writev(self, buffers: Iterable[Any]) -> None:
        """Writes all of every buffer in ``buffers``, in order (``oxs_writev``: one
        system call when the kernel takes it all; the write timeout bounds the whole
        call). A failure carries the count written in ``nbytes``."""
        bufs = [_socket._rbuf(b) for b in buffers]
        bufs = [b for b in bufs if b[2]]
        done = 0
        h = self._h
        while bufs:
            chunk = bufs[:_MAX_ENTRIES]
            arr, keep = _iovecs(chunk)
            moved = c_size_t()
            rc = _writev(h, addressof(keep), len(chunk), moved)
            done += moved.value
            if rc == 0:
                bufs = bufs[len(chunk) :]
                continue
            if rc != _INTERRUPTED:
                raise _fail(rc, nbytes=done)
            _checked_signals()
            bufs = _advance(bufs, moved.value)
        del keep

    def readv(self, buffers: Sequence[Any]) -> int:
        """One read scattered over the writable ``buffers`` in order (``oxs_readv``);
        returns the count (0 at the end of a stream). 1 to 1024 buffers."""
        wb = [_socket._wbuf(b) for b in buffers]
        if not 1 <= len(wb) <= _MAX_ENTRIES:
            raise ValueError(f"readv takes 1 to {_MAX_ENTRIES} buffers, not {len(wb)}")
        arr, keep = _iovecs(wb)
        got = c_size_t()
        h = self._h
        while True:
            rc = _readv(h, addressof(keep), len(wb), got)
            if rc == 0:
                return got.value
            if rc != _INTERRUPTED:
                raise error(rc)
            _checked_signals()

    # -- descriptors --------------------------------------------------------------------

    def send_fds(self, data: Any, fds: Sequence[int]) -> None:
        """Sends all of ``data`` with the descriptors ``fds`` (``SCM_RIGHTS``, Unix
        sockets); the descriptors travel with the first byte, and stay the caller's. A
        failure carries the count sent in ``nbytes``."""
        keep, p, n = _socket._rbuf(data)
        fd_list = [_socket._int32(f, "fd") for f in fds]
        if not fd_list:
            _socket.Socket.sendall(self, data)  # type: ignore[arg-type]
            return
        if n == 0:
            raise ValueError("send_fds needs at least one byte of data to carry the descriptors")
        if len(fd_list) > _MAX_FDS:
            raise ValueError(f"at most {_MAX_FDS} descriptors per message, not {len(fd_list)}")
        arr = (c_int32 * len(fd_list))(*fd_list)
        sent = c_size_t()
        h = self._h
        while True:
            rc = _send_fds(h, p, n, arr, len(fd_list), sent)
            if rc == 0:
                return
            if rc != _INTERRUPTED:
                raise _fail(rc, nbytes=sent.value)
            _checked_signals()
            if sent.value:  # the descriptors went with the first bytes: send the rest
                try:
                    _socket.Socket.sendall(self, memoryview(data)[sent.value :])  # type: ignore[arg-type]
                except BaseException as e:
                    if hasattr(e, "nbytes"):
                        e.nbytes += sent.value
                    raise
                return

    def recv_fds(self, bufsize: int, maxfds: int) -> Tuple[bytes, List[int]]:
        """One receive of at most ``bufsize`` bytes with up to ``maxfds`` descriptors:
        ``(data, fds)``. The descriptors are new, close-on-exec and the caller's. When
        more arrived than ``maxfds`` (or a datagram was cut), every one that arrived is
        closed and the raised :class:`oxsock.Error` carries the bytes in ``.data``."""
        bufsize = _socket._size(bufsize, "bufsize")
        maxfds = _socket._size(maxfds, "maxfds")
        buf = bytearray(bufsize)
        c: Any = _from_buffer(buf) if bufsize else None
        p: Any = addressof(c) if bufsize else None
        fds = (c_int32 * max(1, maxfds))()
        got = c_size_t()
        nf = c_size_t()
        h = self._h
        while True:
            rc = _recv_fds(h, p, bufsize, got, fds, maxfds, nf)
            if rc == 0:
                return bytes(buf[: got.value]), list(fds[: nf.value])
            if rc != _INTERRUPTED:
                raise _fail(rc, data=bytes(buf[: min(got.value, bufsize)]))
            _checked_signals()

    # -- batches --------------------------------------------------------------------------

    def send_batch(self, items: Iterable[Any]) -> int:
        """Sends each item as one datagram, in order (``oxs_send_batch``): an item is
        ``data`` (to the connected peer) or ``(data, address)``. Returns how many were
        sent (all of them); a failure stops the batch and carries in ``.count`` how many
        were sent before the failing item."""
        entries: List[Tuple[Tuple[Any, Any, int], Optional[OxsAddr]]] = []
        for it in items:
            if isinstance(it, tuple):
                data, address = it
                entries.append((_socket._rbuf(data), _socket._parse(address)))
            else:
                entries.append((_socket._rbuf(it), None))
        done = 0
        h = self._h
        while done < len(entries):
            chunk = entries[done : done + _MAX_ENTRIES]
            arr = (OxsDatagram * len(chunk))()
            for i, ((keep, p, n), a) in enumerate(chunk):
                d = arr[i]
                if n and type(p) is not int:
                    p = ctypes.cast(p, ctypes.c_void_p).value
                d.buf = p or None
                d.len = n
                if a is not None:
                    d.addr = a
            sent = c_size_t()
            rc = _send_batch(h, addressof(arr), len(chunk), sent)
            done += sent.value
            if rc == 0:
                continue
            if rc != _INTERRUPTED:
                raise _fail(rc, count=done)
            _checked_signals()
        return done

    def recv_batch(self, max_count: int = 64, bufsize: int = 65536) -> List[Datagram]:
        """Waits for one datagram, then takes every one already queued, up to
        ``max_count`` (``oxs_recv_batch``): a list of :class:`Datagram` ``(data,
        address, size)``; ``len(data) < size`` marks a datagram cut to ``bufsize``."""
        if type(max_count) is not int or not 1 <= max_count <= _MAX_ENTRIES:
            max_count = _socket._size(max_count, "max_count")
            if not 1 <= max_count <= _MAX_ENTRIES:
                raise ValueError(f"max_count must be 1 to {_MAX_ENTRIES}, not {max_count}")
        if type(bufsize) is not int or bufsize < 0:
            bufsize = _socket._size(bufsize, "bufsize")
        room = _room(max_count, bufsize)
        got = c_size_t()
        h = self._h
        while True:
            rc = _recv_batch(h, room.dg_ptr, max_count, got)
            if rc == 0:
                break
            if rc != _INTERRUPTED:
                raise error(rc)
            _checked_signals()
        # Per datagram only C-level work: slices of the views, one list each.
        n = got.value
        q = room.q
        mv = room.mv
        sizes = q[2 : 21 * n : 21].tolist()  # nbytes of each entry
        offs = range(0, n * bufsize, bufsize)
        if max(sizes) <= bufsize:
            datas = [mv[o : o + k].tobytes() for o, k in zip(offs, sizes)]
        else:  # some were cut: each keeps what fitted
            datas = [mv[o : o + (k if k < bufsize else bufsize)].tobytes() for o, k in zip(offs, sizes)]
        if room.u32[40 : 42 * n : 42].tolist().count(16) == n:  # all IPv4: keyed by 8 bytes
            texts = list(map(_addr_text.get, q[4 : 21 * n : 21].tolist()))
            if None in texts:
                texts = [t if t is not None else _sender(room, i) for i, t in enumerate(texts)]
        else:
            texts = [_sender(room, i) for i in range(n)]
        return list(map(_new_datagram, repeat(Datagram, n), zip(datas, texts, sizes)))

    # -- files ----------------------------------------------------------------------------

    def sendfile(self, file: Any, offset: int = 0, count: Optional[int] = None) -> int:
        """Sends the file (opened in binary mode) from ``offset``, ``count`` bytes or to
        its end, with ``sendfile(2)`` (``oxs_sendfile``), as CPython's
        ``socket.sendfile``: returns the bytes sent, which stop early at the end of the
        file, and leaves the file's position after them."""
        if "b" not in getattr(file, "mode", "b"):
            raise ValueError("file should be opened in binary mode")
        offset = _socket._size(offset, "offset")
        if count is not None:
            if type(count) is not int:
                raise TypeError(f"count must be a positive integer (got {count!r})")
            if count <= 0:
                raise ValueError(f"count must be a positive integer (got {count!r})")
        fileno = getattr(file, "fileno", None)
        if fileno is None:
            raise TypeError(f"file must be a file object with fileno(), not {type(file).__name__}")
        fd = _socket._int32(fileno(), "file.fileno()")
        total = 0
        sent = c_size_t()
        h = self._h
        try:
            while True:
                want = 0 if count is None else count - total
                rc = _sendfile(h, fd, offset + total, want, sent)
                total += sent.value
                if rc == 0 or rc == _UNEXPECTED_EOF:
                    return total
                if rc != _INTERRUPTED:
                    raise _fail(rc, nbytes=total)
                _checked_signals()
        finally:
            if total > 0 and hasattr(file, "seek"):
                file.seek(offset + total)

    # -- raw options ------------------------------------------------------------------------

    def setsockopt(self, level: int, name: int, value: Union[int, bytes, Any]) -> None:
        """``setsockopt(2)`` with the platform's numbers (``oxs_setsockopt``): ``value``
        an ``int`` (a C int) or a bytes-like object. ``SO_RCVTIMEO``/``SO_SNDTIMEO``
        raise ``Status.UNSUPPORTED`` (use the timeouts)."""
        level = _socket._int32(level, "level")
        name = _socket._int32(name, "name")
        if isinstance(value, int) and not isinstance(value, bool):
            raw: Any = struct.pack("=i", _socket._int32(value, "value"))
        elif isinstance(value, bool):
            raw = struct.pack("=i", int(value))
        else:
            raw = bytes(memoryview(value))
        rc = _setsockopt(self._h, level, name, raw if raw else None, len(raw))
        if rc:
            raise error(rc)

    def getsockopt(self, level: int, name: int, buflen: int = 0) -> Union[int, bytes]:
        """``getsockopt(2)`` with the platform's numbers (``oxs_getsockopt``): an ``int``
        when ``buflen`` is 0, else at most ``buflen`` bytes."""
        level = _socket._int32(level, "level")
        name = _socket._int32(name, "name")
        buflen = _socket._size(buflen, "buflen")
        room = ctypes.create_string_buffer(buflen or 4)
        ln = c_uint32(buflen or 4)
        rc = _getsockopt(self._h, level, name, room, ln)
        if rc:
            raise error(rc)
        if buflen == 0:
            return int(struct.unpack("=i", room.raw[:4])[0])
        return room.raw[: ln.value]


def _advance(bufs: List[Tuple[Any, Any, int]], n: int) -> List[Tuple[Any, Any, int]]:
    """The buffers left after ``n`` bytes of them went out."""
    out = []
    for keep, p, ln in bufs:
        if n >= ln:
            n -= ln
            continue
        if n:
            if type(p) is not int:
                p = ctypes.cast(p, ctypes.c_void_p).value
            p += n
            ln -= n
            n = 0
        out.append((keep, p, ln))
    return out

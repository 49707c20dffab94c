"""The binding's hot paths' tools (issue 15, item 5): calls that cost less per call.

Measured with callgrind per 64-byte ``sendall`` + ``recv_into`` pair: a ctypes call
through a function with ``argtypes`` costs ~9,000 instructions, the same call without
``argtypes`` and with ready-made arguments ~4,600; ``c_char.from_buffer`` ~3,900;
a fresh ``c_size_t`` (an argument or an out-parameter with its ``byref``) ~1,100-1,700.
So the hot paths of :class:`oxsock.Socket` call these:

* ``raw(name)``: a second function object for the same symbol with no ``argtypes`` (the
  one in ``_lib`` keeps its prototype for every other caller). Its callers pass only
  what ctypes passes exactly without a prototype: ctypes objects (``c_uint64`` handles,
  ``byref`` out-parameters, ``c_void_p``), ``bytes``/``None`` as pointers, and Python
  ints in ``[0, 2**31)`` for ``size_t``/``int32_t`` parameters (ctypes passes an int as
  a C ``int``; libffi widens it to the full register by sign extension on the 64-bit
  ABIs, so a non-negative ``int`` arrives as the same ``size_t``). Larger sizes go as
  ``c_size_t``. The return is a C ``int`` (the ``oxs_status``).
* ``take()``: out-parameters (a ``c_size_t``, a ``c_uint64`` and their ``byref``) from
  this thread's free list, made once and reused. Never shared between threads (the GIL
  is released during the call, and another thread's call would overwrite a shared
  one), nor between nested calls of one thread (a signal handler).
* ``ba_addr(buf)``: the address of a ``bytearray``'s data as a ``c_void_p`` that points
  into the bytearray object (its ``ob_start`` field, read when ctypes converts the
  argument), instead of ``c_char.from_buffer``. The caller holds a ``memoryview`` of the
  bytearray across the call, so that the data cannot move or be freed (a resize raises
  ``BufferError`` meanwhile) — what ``from_buffer``'s export did. The field's offset is
  checked against ``from_buffer`` at import; ``BA_FAST`` is False (and callers use
  ``from_buffer``) when it does not match (not CPython, another layout).
"""

from __future__ import annotations

import threading
from ctypes import addressof, byref, c_char, c_size_t, c_uint64, c_void_p, sizeof
from typing import Any, Tuple

from ._lib import lib

#: Sizes below this go to the library as plain ints (see above).
INT_ARG_MAX = 2**31


def raw(name: str) -> Any:
    """A function object for ``name`` without a prototype (restype: C int)."""
    return lib._FuncPtr((name, lib))


local = _local = threading.local()

Outs = Tuple[Any, Any, Any, Any, Any]


def _new_outs() -> Outs:
    try:
        free = _local.free
    except AttributeError:
        # Two spare sets stay in the list, so that take/give back never resize it.
        free = _local.free = []
        free.append(_one(free))
        free.append(_one(free))
    return _one(free)


def _one(free: Any) -> Outs:
    n = c_size_t()
    h = c_uint64()
    return (n, byref(n), h, byref(h), free)


def take() -> Outs:
    """(c_size_t, its byref, c_uint64, its byref, free list) for one call of this
    thread; give it back with ``o[4].append(o)`` once its values were read. A set in
    use is never handed out again (a signal handler that runs between the call and the
    read, and calls the binding on this thread, gets another set)."""
    try:
        o: Outs = _local.free.pop()
        return o
    except (AttributeError, IndexError):
        return _new_outs()


# The offset of PyByteArrayObject.ob_start: PyObject_VAR_HEAD, ob_alloc, ob_bytes.
OB_START = _OB_START = 3 * sizeof(c_void_p) + 2 * sizeof(c_void_p)
at = _at = c_void_p.from_address


def _check_layout() -> bool:
    try:
        for size in (1, 64, 4096):
            b = bytearray(size)
            want = addressof(c_char.from_buffer(b))
            if _at(id(b) + _OB_START).value != want:
                return False
            del b[: size // 2]  # ob_start moves within the allocation: still read right?
            if _at(id(b) + _OB_START).value != addressof(c_char.from_buffer(b)):
                return False
        return True
    except Exception:  # pragma: no cover - not CPython
        return False


BA_FAST = _check_layout()


def ba_addr(buf: bytearray) -> Any:
    """A ``c_void_p`` that reads as the address of ``buf``'s data when passed (only
    while the caller holds a memoryview of ``buf``; ``buf`` not empty)."""
    return _at(id(buf) + _OB_START)

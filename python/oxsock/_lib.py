"""Finding and loading ``liboxsock``, and the ctypes prototype of every C function.

The library is looked for, in this order (contract §11):

1. ``$OXSOCK_LIBRARY`` -- and only there when the variable is set;
2. inside a checkout, its ``target/release/liboxsock.so``, then
   ``target/debug/liboxsock.so`` (the checkout is the nearest folder above this file
   holding oxsock's ``Cargo.toml``), so that a fresh build wins over a copy;
3. the package's own folder (``liboxsock.abi3.so``, put there by ``pip install``);
4. the system's library path (``ctypes.util.find_library("oxsock")``, then
   ``liboxsock.so`` as the dynamic loader finds it).

When none loads, ``import oxsock`` fails with an :class:`ImportError` that lists every
place tried and why each failed.

Everything here is internal: the public API is in :mod:`oxsock`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import (
    POINTER,
    Structure,
    c_char_p,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import List, Optional, Tuple

__all__ = ["lib", "path", "OxsAddr", "OxsPollItem", "OxsEvent", "OxsIovec", "OxsDatagram", "ADDR_STRLEN"]

_LIB_NAME = "liboxsock.so" if sys.platform != "darwin" else "liboxsock.dylib"


class OxsAddr(Structure):
    """``oxs_addr``: 136 bytes, a ``struct sockaddr_*`` of ``len`` bytes in ``storage``."""

    _fields_ = [("storage", c_uint64 * 16), ("len", c_uint32), ("reserved", c_uint32)]


class OxsPollItem(Structure):
    """``oxs_pollitem``: 16 bytes."""

    _fields_ = [("socket", c_uint64), ("events", c_int32), ("revents", c_int32)]


class OxsEvent(Structure):
    """``oxs_event``: 16 bytes."""

    _fields_ = [("token", c_uint64), ("events", c_int32), ("reserved", c_int32)]


class OxsIovec(Structure):
    """``oxs_iovec``: the layout of ``struct iovec``."""

    _fields_ = [("base", c_void_p), ("len", c_size_t)]


class OxsDatagram(Structure):
    """``oxs_datagram``: 168 bytes on 64-bit platforms (contract §13)."""

    _fields_ = [
        ("buf", c_void_p),
        ("len", c_size_t),
        ("nbytes", c_size_t),
        ("status", c_int32),
        ("reserved", c_int32),
        ("addr", OxsAddr),
    ]


assert ctypes.sizeof(OxsAddr) == 136
assert ctypes.sizeof(OxsPollItem) == 16
assert ctypes.sizeof(OxsEvent) == 16

#: ``OXS_ADDR_STRLEN``: enough for any formatted address, NUL included.
ADDR_STRLEN = 512


def _find_checkout(start: str) -> Optional[str]:
    """The nearest folder at or above ``start`` whose ``Cargo.toml`` is oxsock's."""
    here = os.path.abspath(start)
    while True:
        manifest = os.path.join(here, "Cargo.toml")
        try:
            with open(manifest, "r", encoding="utf-8", errors="replace") as f:
                text = f.read(65536)
        except OSError:
            text = ""
        if 'name = "oxsock"' in text:
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


#: The names the library has inside the package: what setup.py installs, then a plain copy.
_PACKAGED_NAMES = ("liboxsock.abi3.so", _LIB_NAME) if sys.platform != "darwin" else (_LIB_NAME,)


def _candidates() -> Tuple[bool, Optional[str], List[str]]:
    """(explicit, checkout, places): the places to try, in order. ``explicit`` is True
    when ``$OXSOCK_LIBRARY`` is set, and then it is the only place."""
    env = os.environ.get("OXSOCK_LIBRARY")
    if env is not None:
        return True, None, [env]
    places = []
    package = os.path.dirname(os.path.abspath(__file__))
    checkout = _find_checkout(package)
    if checkout is not None:
        places.append(os.path.join(checkout, "target", "release", _LIB_NAME))
        places.append(os.path.join(checkout, "target", "debug", _LIB_NAME))
    places.extend(os.path.join(package, name) for name in _PACKAGED_NAMES)
    found = ctypes.util.find_library("oxsock")
    if found:
        places.append(found)
    if _LIB_NAME not in places:
        places.append(_LIB_NAME)
    return False, checkout, places


def _load() -> Tuple[ctypes.CDLL, str]:
    explicit, checkout, places = _candidates()
    tried = []
    existing = []  # files that are there but did not load
    for place in places:
        if explicit and place == "":
            tried.append("$OXSOCK_LIBRARY is set but empty")
            continue
        # A path with a slash must exist as a file; a bare name goes to the dynamic
        # loader's own search (LD_LIBRARY_PATH, ld.so.cache, the default folders).
        if os.sep in place and not os.path.exists(place):
            tried.append(f"{place}: no such file")
            continue
        try:
            return ctypes.CDLL(place, use_errno=False), place
        except OSError as e:
            tried.append(f"{place}: {e}")
            if os.sep in place:
                existing.append(place)
    if explicit:
        raise ImportError(
            f"oxsock: $OXSOCK_LIBRARY={places[0]!r} names no loadable library "
            f"({tried[0]}); unset it to search the checkout, the package and the system path",
            path=places[0],
        )
    package = os.path.dirname(os.path.abspath(__file__))
    if checkout is None:
        tried.insert(0, f"no oxsock checkout (Cargo.toml) above {package}")
    # Advice that fits what was found: never "build it" to someone whose build is there.
    if existing:
        advice = (
            f"{', '.join(existing)} exist{'s' if len(existing) == 1 else ''} but did not load "
            "(see why below); rebuild it for this machine, or set $OXSOCK_LIBRARY to a "
            "library that loads"
        )
    elif checkout is not None:
        advice = (
            f"build it in {checkout} with `cargo build --release`, or set $OXSOCK_LIBRARY "
            "to its path"
        )
    else:
        advice = (
            "this copy of the package carries no library: install it with "
            "`pip install <checkout>/python` (which builds it), or set $OXSOCK_LIBRARY "
            "to its path"
        )
    raise ImportError(
        f"oxsock: cannot load liboxsock: {advice}. Tried:\n  " + "\n  ".join(tried),
        name="oxsock",
    )


lib, path = _load()

_S = c_int32  # oxs_status
_H = c_uint64  # oxs_socket / oxs_poller
_P_SIZE = POINTER(c_size_t)
_P_H = POINTER(c_uint64)
_P_ADDR = POINTER(OxsAddr)

# name: (restype, argtypes). Every function of the contract (API.md §2-§10, §13, §14).
_PROTOTYPES = {
    # §2 status and errors
    "oxs_strerror": (c_char_p, [c_int32]),
    "oxs_last_error": (c_char_p, []),
    "oxs_last_os_error": (c_int32, []),
    "oxs_version": (c_char_p, []),
    # §4 lifecycle
    "oxs_socket_open": (_S, [c_int32, c_int32, c_int32, _P_H]),
    "oxs_bind": (_S, [_H, c_char_p]),
    "oxs_listen": (_S, [_H, c_int32]),
    "oxs_accept": (_S, [_H, _P_H, _P_ADDR]),
    "oxs_connect": (_S, [_H, c_char_p]),
    "oxs_read": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_write": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_close": (_S, [_H]),
    # §5 addresses
    "oxs_addr_parse": (_S, [c_char_p, _P_ADDR]),
    "oxs_addr_format": (_S, [_P_ADDR, c_void_p, c_size_t, _P_SIZE]),
    "oxs_addr_domain": (c_int32, [_P_ADDR]),
    "oxs_addr_port": (c_int32, [_P_ADDR]),
    "oxs_addr_from_sockaddr": (_S, [c_void_p, c_uint32, _P_ADDR]),
    "oxs_resolve": (_S, [c_char_p, c_int32, _P_ADDR, c_size_t, _P_SIZE]),
    "oxs_bind_addr": (_S, [_H, _P_ADDR]),
    "oxs_connect_addr": (_S, [_H, _P_ADDR]),
    "oxs_local_addr": (_S, [_H, _P_ADDR]),
    "oxs_peer_addr": (_S, [_H, _P_ADDR]),
    # §6 data transfer
    "oxs_send": (_S, [_H, c_void_p, c_size_t, c_int32, _P_SIZE]),
    "oxs_recv": (_S, [_H, c_void_p, c_size_t, c_int32, _P_SIZE]),
    "oxs_send_to": (_S, [_H, c_void_p, c_size_t, _P_ADDR, _P_SIZE]),
    "oxs_recv_from": (_S, [_H, c_void_p, c_size_t, _P_SIZE, _P_ADDR]),
    "oxs_write_all": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_read_exact": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_shutdown": (_S, [_H, c_int32]),
    "oxs_socketpair": (_S, [c_int32, _P_H]),
    # §7 options
    "oxs_setopt": (_S, [_H, c_int32, c_int64]),
    "oxs_getopt": (_S, [_H, c_int32, POINTER(c_int64)]),
    "oxs_join_multicast": (_S, [_H, c_char_p, c_char_p]),
    "oxs_leave_multicast": (_S, [_H, c_char_p, c_char_p]),
    # §8 endpoints
    "oxs_dial": (_S, [c_char_p, c_int32, _P_H]),
    "oxs_listen_on": (_S, [c_char_p, _P_H]),
    # §9 waiting
    "oxs_poll": (_S, [POINTER(OxsPollItem), c_size_t, c_int32, _P_SIZE]),
    "oxs_poller_open": (_S, [_P_H]),
    "oxs_poller_add": (_S, [_H, _H, c_int32, c_uint64]),
    "oxs_poller_modify": (_S, [_H, _H, c_int32, c_uint64]),
    "oxs_poller_remove": (_S, [_H, _H]),
    "oxs_poller_wait": (_S, [_H, POINTER(OxsEvent), c_size_t, c_int32, _P_SIZE]),
    "oxs_poller_wake": (_S, [_H]),
    "oxs_poller_close": (_S, [_H]),
    # §10 descriptors
    "oxs_fd": (_S, [_H, POINTER(c_int32)]),
    "oxs_from_fd": (_S, [c_int32, _P_H]),
    "oxs_into_fd": (_S, [_H, POINTER(c_int32)]),
    # §14 ports
    "oxs_addr_host": (_S, [_P_ADDR, c_void_p, c_size_t, _P_SIZE]),
    "oxs_addr_unmap": (_S, [_P_ADDR, _P_ADDR]),
    "oxs_resolve_host": (_S, [c_char_p, c_char_p, c_int32, _P_ADDR, c_size_t, _P_SIZE]),
    "oxs_poller_add_fd": (_S, [_H, c_int32, c_int32, c_uint64]),
    "oxs_poller_modify_fd": (_S, [_H, c_int32, c_int32, c_uint64]),
    "oxs_poller_remove_fd": (_S, [_H, c_int32]),
    # §13 messages (arrays of oxs_iovec / oxs_datagram are passed by address)
    "oxs_writev": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_readv": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_send_fds": (_S, [_H, c_void_p, c_size_t, POINTER(c_int32), c_size_t, _P_SIZE]),
    "oxs_recv_fds": (_S, [_H, c_void_p, c_size_t, _P_SIZE, POINTER(c_int32), c_size_t, _P_SIZE]),
    "oxs_send_batch": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_recv_batch": (_S, [_H, c_void_p, c_size_t, _P_SIZE]),
    "oxs_sendfile": (_S, [_H, c_int32, c_int64, c_size_t, _P_SIZE]),
    "oxs_setsockopt": (_S, [_H, c_int32, c_int32, c_void_p, c_uint32]),
    "oxs_getsockopt": (_S, [_H, c_int32, c_int32, c_void_p, POINTER(c_uint32)]),
    # §12 TLS
    "oxs_tls_config_open": (_S, [c_int32, _P_H]),
    "oxs_tls_config_set": (_S, [_H, c_int32, c_char_p]),
    "oxs_tls_config_close": (_S, [_H]),
    "oxs_tls_connect": (_S, [_H, _H, c_char_p]),
    "oxs_tls_accept": (_S, [_H, _H]),
    "oxs_tls_handshake": (_S, [_H]),
    "oxs_dial_tls": (_S, [c_char_p, _H, c_int32, _P_H]),
    "oxs_listen_tls": (_S, [c_char_p, _H, _P_H]),
    "oxs_tls_info": (_S, [_H, c_int32, c_void_p, c_size_t, _P_SIZE]),
}


def _declare() -> None:
    missing = []
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise ImportError(
            f"oxsock: {path} lacks {', '.join(missing)}: it is not a complete liboxsock",
            path=path,
        )


_declare()

"""For code being ported (contract §14, §11 "Ports"): host text without the port,
v4-mapped addresses turned back into IPv4, and ``getaddrinfo(host, service)``."""

from __future__ import annotations

import ctypes
from ctypes import c_size_t
from typing import Any, List, Optional

from ._errors import Status, error
from ._lib import ADDR_STRLEN, OxsAddr, lib
from ._socket import _format, _int32, _parse, _text

__all__ = ["resolve", "addr_host", "addr_unmap"]

_resolve_host = lib.oxs_resolve_host
_addr_host = lib.oxs_addr_host
_addr_unmap = lib.oxs_addr_unmap
_TOO_SMALL = int(Status.BUFFER_TOO_SMALL)


def resolve(host: Optional[str], service: Any = None, domain: int = 0) -> List[str]:
    """``getaddrinfo(host, service)`` (``oxs_resolve_host``): the address texts, in the
    order to try them (``"127.0.0.1:80"``, ``"[::1]:80"``). ``host`` is bare (``"::1"``,
    ``"fe80::1%eth0"``, ``"example.org"``; brackets raise ``Status.ADDRESS``), or None
    for the wildcard addresses (for binding). ``service`` is a port (``int`` or decimal
    ``str``) or a service name (``"http"``); None is port 0. ``domain`` 0 (any),
    :data:`oxsock.INET` or :data:`oxsock.INET6` filters every result. An unknown name or
    service raises :class:`oxsock.ResolveError`."""
    h = None if host is None else _text(host, "host")
    if service is None:
        s = None
    elif type(service) is int:
        if not 0 <= service <= 65535:
            raise ValueError(f"port out of range: {service}")
        s = str(service).encode("ascii")
    elif isinstance(service, bool):
        raise TypeError("service must be str, int or None, not bool")
    else:
        s = _text(service, "service")
    d = _int32(domain, "domain")
    cap = 8
    for _ in range(4):  # a later lookup may find more; bounded
        out = (OxsAddr * cap)()
        n = c_size_t()
        rc = _resolve_host(h, s, d, out, cap, n)
        if rc == 0:
            return [_format(out[i]) for i in range(n.value)]
        if rc != _TOO_SMALL:
            raise error(rc)
        cap = max(cap * 2, n.value)
    raise error(_TOO_SMALL)


def addr_host(address: str) -> str:
    """The host of address text, as ``inet_ntop`` writes it, without port or brackets
    (``oxs_addr_host``): ``"[::1]:80"`` gives ``"::1"``, ``"127.0.0.1:80"`` gives
    ``"127.0.0.1"``; a Unix address gives its own text."""
    a = _parse(address)
    buf = ctypes.create_string_buffer(ADDR_STRLEN)
    ln = c_size_t()
    rc = _addr_host(a, buf, ADDR_STRLEN, ln)
    if rc:
        raise error(rc)
    return buf.raw[: ln.value].decode("utf-8", "surrogateescape")


def addr_unmap(address: str) -> str:
    """``"[::ffff:a.b.c.d]:port"`` (how a dual-stack listener sees an IPv4 peer) as
    ``"a.b.c.d:port"``; any other address unchanged (``oxs_addr_unmap``)."""
    a = _parse(address)
    out = OxsAddr()
    rc = _addr_unmap(a, out)
    if rc:
        raise error(rc)
    return _format(out)

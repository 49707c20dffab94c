"""TLS configurations (contract §12, §11's TLS bullet): :class:`TLSConfig`.

The TLS calls on sockets are :meth:`Socket.start_tls`, :meth:`Socket.accept_tls`,
:meth:`Socket.do_handshake`, the ``tls_*`` properties, and the ``tls=`` argument of
:func:`oxsock.dial` and :func:`oxsock.listen`.
"""

from __future__ import annotations

import warnings
from ctypes import c_uint64
from typing import Any, Iterable, Optional, Union

from ._errors import error
from ._lib import lib

__all__ = ["TLSConfig", "TLS_CLIENT", "TLS_SERVER"]

#: ``OXS_TLS_CLIENT`` / ``OXS_TLS_SERVER``: the values of ``Option.TLS``.
TLS_CLIENT = 1
TLS_SERVER = 2

_CA_FILE, _CA_PEM, _CERT_FILE, _CERT_PEM, _KEY_FILE, _KEY_PEM = 1, 2, 3, 4, 5, 6
_ALPN, _SERVER_NAME, _VERIFY, _MIN_VERSION, _KEYLOG_FILE = 7, 8, 9, 10, 11

_open = lib.oxs_tls_config_open
_set = lib.oxs_tls_config_set
_close = lib.oxs_tls_config_close


def _str(value: Any, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if hasattr(value, "__fspath__"):
        p = value.__fspath__()
        return p if isinstance(p, bytes) else p.encode("utf-8")
    raise TypeError(f"{what} must be str, bytes or a path, not {type(value).__name__}")


class TLSConfig:
    """One side's TLS settings (``oxs_tls_config``): ``side`` is ``"client"`` or
    ``"server"``.

    ``ca`` (a path or a list of paths) and ``ca_pem`` (PEM text) are trust anchors; a
    client with neither trusts the system's store. ``cert``/``key`` (paths) or
    ``cert_pem``/``key_pem`` (PEM text) are this side's certificate chain and key.
    ``alpn`` is a list of protocols in preference order, ``server_name`` (client) the
    name to verify and send, ``verify`` ``"peer"``/``"none"`` (client) or
    ``"none"``/``"optional"``/``"require"`` (server), ``min_version`` ``"1.2"`` or
    ``"1.3"``, ``keylog`` a file for NSS key-log lines. Errors raise
    :class:`oxsock.Error` (``InvalidArgument``, ``TLSError`` …) at once.

    A config may be shared by threads and connections; each connection takes a
    snapshot when it starts. :meth:`close` (or the context manager) frees it.
    """

    __slots__ = ("_h", "side")

    def __init__(
        self,
        side: str,
        *,
        ca: Union[str, Iterable[str], None] = None,
        ca_pem: Optional[str] = None,
        cert: Optional[str] = None,
        key: Optional[str] = None,
        cert_pem: Optional[str] = None,
        key_pem: Optional[str] = None,
        alpn: Optional[Iterable[str]] = None,
        server_name: Optional[str] = None,
        verify: Optional[str] = None,
        min_version: Optional[str] = None,
        keylog: Optional[str] = None,
    ) -> None:
        self._h = 0
        if side not in ("client", "server"):
            raise ValueError(f"side must be 'client' or 'server', not {side!r}")
        self.side = side
        h = c_uint64()
        rc = _open(TLS_CLIENT if side == "client" else TLS_SERVER, h)
        if rc:
            raise error(rc)
        self._h = h.value
        try:
            if ca is not None:
                for path in [ca] if isinstance(ca, (str, bytes)) or hasattr(ca, "__fspath__") else list(ca):
                    self._set(_CA_FILE, path, "ca")
            for k, v, what in (
                (_CA_PEM, ca_pem, "ca_pem"),
                (_CERT_FILE, cert, "cert"),
                (_KEY_FILE, key, "key"),
                (_CERT_PEM, cert_pem, "cert_pem"),
                (_KEY_PEM, key_pem, "key_pem"),
                (_SERVER_NAME, server_name, "server_name"),
                (_VERIFY, verify, "verify"),
                (_MIN_VERSION, min_version, "min_version"),
                (_KEYLOG_FILE, keylog, "keylog"),
            ):
                if v is not None:
                    self._set(k, v, what)
            if alpn is not None:
                if isinstance(alpn, (str, bytes)):
                    raise TypeError("alpn must be a list of protocol names, not a single string")
                self._set(_ALPN, ",".join(alpn), "alpn")
        except BaseException:
            self.close()
            raise

    def _set(self, key: int, value: Any, what: str) -> None:
        rc = _set(self._h, key, _str(value, what))
        if rc:
            raise error(rc)

    @property
    def handle(self) -> int:
        """The library handle (``oxs_tls_config``), 0 once closed."""
        return self._h

    def close(self) -> None:
        """Frees the config; connections and listeners made with it keep their
        snapshot. A second close does nothing."""
        h = self._h
        if h:
            self._h = 0
            rc = _close(h)
            if rc:
                raise error(rc)

    def __enter__(self) -> "TLSConfig":
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
                _close(h)
            except Exception:
                pass

    def __repr__(self) -> str:
        return f"<oxsock.TLSConfig {self.side}{'' if self._h else ' [closed]'}>"

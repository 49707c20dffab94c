#!/usr/bin/env python3
"""https_get.py URL [CA_FILE] -- fetches ``https://host[:port]/path`` with HTTP/1.0 over
``oxsock.dial(..., tls=TLSConfig)`` and prints the status line, the negotiated
version, cipher and ALPN protocol, and the body's size.

Without CA_FILE the system's trust store verifies the server; the host name is
verified and sent as SNI. A certificate problem raises ``oxsock.CertificateError``
(an ``ssl.SSLCertVerificationError``) saying why.
"""

import sys
from urllib.parse import urlsplit

import _path  # noqa: F401
import oxsock


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    url = urlsplit(sys.argv[1])
    if url.scheme != "https" or not url.hostname:
        print("https_get.py: the URL must be https://host[:port]/path", file=sys.stderr)
        return 2
    host, port = url.hostname, url.port or 443
    ca = sys.argv[2] if len(sys.argv) == 3 else None
    netloc = f"[{host}]" if ":" in host else host
    try:
        with oxsock.TLSConfig("client", ca=ca, alpn=["http/1.1"]) as config:
            with oxsock.dial(f"tls://{netloc}:{port}", timeout=10.0, tls=config) as s:
                s.read_timeout = 10.0
                path = url.path or "/"
                if url.query:
                    path += "?" + url.query
                s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                reply = bytearray()
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break  # close_notify
                        reply += chunk
                except oxsock.UnexpectedEof:
                    pass  # many servers end without close_notify
                head, _, body = bytes(reply).partition(b"\r\n\r\n")
                print(head.split(b"\r\n", 1)[0].decode("latin-1"))
                print(f"{s.tls_version} {s.tls_cipher} alpn={s.alpn_protocol}")
                print(f"{len(body)} bytes of body")
    except oxsock.Error as e:
        print(f"https_get.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

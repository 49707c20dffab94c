#!/usr/bin/env python3
"""http_get.py URL -- an HTTP/1.1 GET with ``http.client`` over an oxsock connection.

``http.client`` reads responses through ``Socket.makefile()`` and closes the socket
while a response is still being read, exactly as it does a ``socket.socket``: the close
takes effect when the response's file is closed. URL is ``http://HOST[:PORT]/PATH``;
the body goes to stdout, the status line and headers to stderr. Exit 0 for a 2xx
status, 1 otherwise.

    python3 -m http.server --bind 127.0.0.1 8000 &
    python3 http_get.py http://127.0.0.1:8000/
"""

import http.client
import sys
import urllib.parse

import _path  # noqa: F401
import oxsock


class OxsockHTTPConnection(http.client.HTTPConnection):
    """``http.client.HTTPConnection`` whose connection is made by ``oxsock.dial``."""

    def connect(self) -> None:
        host = f"[{self.host}]" if ":" in self.host else self.host
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        self.sock = oxsock.dial(f"tcp://{host}:{self.port}", timeout=timeout)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: http_get.py http://HOST[:PORT]/PATH", file=sys.stderr)
        return 2
    url = urllib.parse.urlsplit(sys.argv[1])
    if url.scheme != "http" or not url.hostname:
        print(f"http_get.py: not an http:// URL: {sys.argv[1]}", file=sys.stderr)
        return 2
    conn = OxsockHTTPConnection(url.hostname, url.port or 80, timeout=10)
    try:
        conn.request("GET", url.path or "/", headers={"Connection": "close"})
        resp = conn.getresponse()
        print(f"HTTP/{resp.version / 10:.1f} {resp.status} {resp.reason}", file=sys.stderr)
        for name, value in resp.getheaders():
            print(f"{name}: {value}", file=sys.stderr)
        body = resp.read()
    except (oxsock.Error, http.client.HTTPException) as e:
        print(f"http_get.py: {e}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    sys.stdout.buffer.write(body)
    sys.stdout.flush()
    return 0 if 200 <= resp.status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Shared helpers for the binding's tests: scratch folders, threads with a bound,
subprocesses with a bound, and connected pairs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Any, Callable, Optional, Tuple

import oxsock

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECKOUT = os.path.dirname(PYTHON_DIR)
EXAMPLES_DIR = os.path.join(CHECKOUT, "python-examples")

#: Generous bound for anything that should take milliseconds.
BOUND = 10.0


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class ScratchMixin(unittest.TestCase):
    """A fresh temporary folder per test, removed afterwards (``self.tmp``)."""

    def setUp(self) -> None:
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="oxsock-pytest-")
        self.addCleanup(shutil.rmtree, self.tmp, True)


class Worker(threading.Thread):
    """Runs ``fn`` in a thread and keeps its result or exception for ``result()``."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        super().__init__(daemon=True)
        self.fn, self.args = fn, args
        self.value: Any = None
        self.exc: Optional[BaseException] = None

    def run(self) -> None:
        try:
            self.value = self.fn(*self.args)
        except BaseException as e:  # handed to the test thread
            self.exc = e

    def result(self, timeout: float = BOUND) -> Any:
        self.join(timeout)
        if self.is_alive():
            raise AssertionError(f"{self.fn.__name__} still running after {timeout}s")
        if self.exc is not None:
            raise self.exc
        return self.value


def tcp_pair(host: str = "127.0.0.1") -> Tuple[oxsock.Socket, oxsock.Socket]:
    """(client, server side) of a loopback TCP connection made with oxsock."""
    fam = "tcp6" if ":" in host else "tcp"
    h = f"[{host}]" if ":" in host else host
    with oxsock.listen(f"{fam}://{h}:0") as srv:
        c = oxsock.dial(f"{fam}://{srv.local_addr}", timeout=BOUND)
        s, _ = srv.accept()
    return c, s


def run_python(code: str, env: Optional[dict] = None, timeout: float = 30.0,
               cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    """Runs ``python3 -c code`` with a time bound (killed and failed past it)."""
    e = dict(os.environ)
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
    return subprocess.run([sys.executable, "-c", code], env=e, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def recv_all_cpython(sock: socket.socket, n: int) -> bytes:
    """Reads exactly ``n`` bytes with CPython's socket (bounded by its timeout)."""
    chunks = []
    got = 0
    while got < n:
        b = sock.recv(min(1 << 20, n - got))
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def wait_until(pred: Callable[[], bool], timeout: float = BOUND) -> bool:
    """Polls ``pred`` every 10 ms until true or ``timeout``; returns its last value."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()

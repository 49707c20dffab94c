"""Signals and threads: Ctrl-C in a blocked call raises KeyboardInterrupt, a handler
that returns normally lets the call go on (PEP 475), and other threads run while one
is blocked (the GIL is released)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import oxsock

from .helpers import BOUND, Worker, tcp_pair, wait_until

# Each snippet sets up a blocked call; the parent sends SIGINT once "ready" is printed.
BLOCKERS = {
    "recv": "a, b = oxsock.socketpair(); call = lambda: a.recv(10)",
    "recv_into": "a, b = oxsock.socketpair(); call = lambda: a.recv_into(bytearray(10))",
    "recv_exact": "a, b = oxsock.socketpair(); b.sendall(b'x'); call = lambda: a.recv_exact(10)",
    "recv with timeout": "a, b = oxsock.socketpair(); a.read_timeout = 60; call = lambda: a.recv(10)",
    "recvfrom": "a = oxsock.listen('udp://127.0.0.1:0'); call = lambda: a.recvfrom(10)",
    "accept": "a = oxsock.listen('tcp://127.0.0.1:0'); call = a.accept",
    "sendall": "a, b = oxsock.socketpair(); call = lambda: a.sendall(b'x' * (64 << 20))",
    "poll": "a, b = oxsock.socketpair(); call = lambda: oxsock.poll([(a, oxsock.POLL_IN)])",
    "Poller.wait": "a, b = oxsock.socketpair(); p = oxsock.Poller(); p.add(a, oxsock.POLL_IN); call = p.wait",
}

CHILD = textwrap.dedent("""
    import sys, time, oxsock
    {setup}
    print("ready", flush=True)
    t0 = time.monotonic()
    try:
        call()
        print("returned")
    except KeyboardInterrupt:
        print("KeyboardInterrupt after %.1f s" % (time.monotonic() - t0))
""")


class CtrlC(unittest.TestCase):
    def run_interrupted(self, name: str, setup: str) -> None:
        proc = subprocess.Popen([sys.executable, "-c", CHILD.format(setup=setup)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            self.assertEqual(line.strip(), "ready", f"{name}: {proc.stderr.read() if not line else ''}")
            time.sleep(0.3)  # let it block
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=BOUND)
            except subprocess.TimeoutExpired:
                self.fail(f"{name}: still blocked {BOUND} s after SIGINT")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.assertTrue(out.startswith("KeyboardInterrupt after"), f"{name}: stdout={out!r} stderr={err!r}")
        self.assertEqual(proc.returncode, 0, f"{name}: {err}")

    def test_sigint_interrupts_every_blocking_call(self) -> None:
        for name, setup in BLOCKERS.items():
            with self.subTest(call=name):
                self.run_interrupted(name, setup)

    def test_sigint_interrupts_dial_connect(self) -> None:
        # A connect that hangs: the listener's accept queue is full, so the SYN is dropped.
        setup = textwrap.dedent("""
            import socket
            srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(0)
            fill = []
            for _ in range(4):
                f = socket.socket(); f.setblocking(False)
                try: f.connect(srv.getsockname())
                except BlockingIOError: pass
                fill.append(f)
            time.sleep(0.1)
            call = lambda: oxsock.dial("tcp://127.0.0.1:%d" % srv.getsockname()[1])
        """)
        self.run_interrupted("dial", setup)


class Handlers(unittest.TestCase):
    """In this process: the test runs in the main thread, where Python handlers run."""

    def setUp(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.skipTest("signal handlers need the main thread")
        self.count = 0

        def handler(signum, frame) -> None:
            self.count += 1

        old = signal.signal(signal.SIGUSR1, handler)
        self.addCleanup(signal.signal, signal.SIGUSR1, old)
        self.main = threading.get_ident()

    def signal_and_wait(self) -> None:
        """Sends SIGUSR1 to the main thread and waits (bounded) until its handler ran,
        so that two signals never merge into one."""
        before = self.count
        signal.pthread_kill(self.main, signal.SIGUSR1)
        wait_until(lambda: self.count > before)

    def poke(self, then=None, times: int = 1):
        """A thread that sends SIGUSR1 to the main thread ``times`` times (0.2 s apart),
        then calls ``then``."""

        def run() -> None:
            for _ in range(times):
                time.sleep(0.2)
                self.signal_and_wait()
            time.sleep(0.2)
            if then:
                then()

        w = Worker(run)
        w.start()
        return w

    def test_recv_resumes_after_handler(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            a.read_timeout = BOUND
            w = self.poke(lambda: b.sendall(b"data"), times=2)
            self.assertEqual(a.recv(10), b"data")
            w.result()
            self.assertEqual(self.count, 2)

    def test_recv_exact_resumes_from_the_count(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            a.read_timeout = BOUND

            def run() -> None:
                for part in (b"01234", b"56789"):
                    time.sleep(0.2)
                    b.sendall(part)
                    time.sleep(0.2)
                    self.signal_and_wait()
                time.sleep(0.2)
                b.sendall(b"AB")

            w = Worker(run)
            w.start()
            self.assertEqual(a.recv_exact(12), b"0123456789AB")
            w.result()
            self.assertEqual(self.count, 2)

    def test_sendall_resumes_from_the_count(self) -> None:
        a, b = oxsock.socketpair()
        data = os.urandom(4 << 20)
        with a, b:
            a.write_timeout = BOUND
            b.read_timeout = BOUND

            def drain() -> bytes:
                time.sleep(0.3)
                signal.pthread_kill(self.main, signal.SIGUSR1)
                time.sleep(0.3)
                return b.recv_exact(len(data))

            w = Worker(drain)
            w.start()
            a.sendall(data)
            got = w.result()
            self.assertTrue(got == data, "every byte exactly once, in order")
            self.assertEqual(self.count, 1)

    def test_accept_and_poll_resume(self) -> None:
        with oxsock.listen("tcp://127.0.0.1:0") as srv:
            srv.read_timeout = BOUND
            w = self.poke(lambda: oxsock.dial(f"tcp://{srv.local_addr}").close())
            conn, _ = srv.accept()
            conn.close()
            w.result()
            self.assertEqual(self.count, 1)
        a, b = oxsock.socketpair()
        with a, b:
            w = self.poke(lambda: b.sendall(b"x"))
            self.assertEqual(oxsock.poll([(a, oxsock.POLL_IN)], BOUND), [(a, oxsock.POLL_IN)])
            w.result()
            self.assertEqual(self.count, 2)
            with oxsock.Poller() as p:
                p.add(a, oxsock.POLL_IN)
                a.recv(1)
                w = self.poke(lambda: b.sendall(b"y"))
                self.assertEqual(p.wait(BOUND), [(a, oxsock.POLL_IN)])
                w.result()
                self.assertEqual(self.count, 3)

    def test_connect_goes_on_after_handler(self) -> None:
        from .test_socket_api import full_backlog_listener

        srv, fillers = full_backlog_listener()
        try:
            srv.settimeout(BOUND)
            port = srv.getsockname()[1]
            accepted = []
            connected = threading.Event()

            def make_room() -> None:
                # Accept whatever arrives (the fillers' retried SYNs included) until our
                # connect is through.
                srv.settimeout(0.2)
                end = time.monotonic() + BOUND
                while not connected.is_set() and time.monotonic() < end:
                    try:
                        accepted.append(srv.accept()[0])
                    except OSError:
                        pass

            room = Worker(make_room)
            with oxsock.Socket(oxsock.INET, oxsock.STREAM) as s:
                s.connect_timeout = BOUND
                w = self.poke(room.start)
                try:
                    s.connect(f"127.0.0.1:{port}")
                finally:
                    connected.set()
                self.assertEqual(s.peer_addr, f"127.0.0.1:{port}")
                w.result()
                room.result()
                self.assertEqual(self.count, 1)
        finally:
            for f in fillers + accepted:
                f.close()
            srv.close()

    def test_handler_exception_propagates(self) -> None:
        class Boom(Exception):
            pass

        def raiser(signum, frame) -> None:
            self.count += 1
            raise Boom()

        signal.signal(signal.SIGUSR1, raiser)
        a, b = oxsock.socketpair()
        with a, b:
            a.read_timeout = BOUND
            w = self.poke()
            t0 = time.monotonic()
            with self.assertRaises(Boom):
                a.recv(1)
            self.assertLess(time.monotonic() - t0, BOUND - 1)
            w.result()
            b.sendall(b"z")
            self.assertEqual(a.recv(1), b"z", "the socket still works")


class GilReleased(unittest.TestCase):
    def test_other_thread_runs_while_recv_blocks(self) -> None:
        c, s = tcp_pair()
        with c, s:
            s.read_timeout = BOUND
            progress = []

            def busy() -> None:
                # Pure-Python work: it only advances if the blocked thread released the GIL.
                end = time.monotonic() + 0.5
                n = 0
                while time.monotonic() < end:
                    n += 1
                progress.append(n)
                c.sendall(b"done")

            w = Worker(busy)
            w.start()
            self.assertEqual(s.recv(4), b"done")
            w.result()
            self.assertGreater(progress[0], 1000)

    def test_two_threads_blocked_at_once(self) -> None:
        a1, b1 = oxsock.socketpair()
        a2, b2 = oxsock.socketpair()
        with a1, b1, a2, b2:
            a1.read_timeout = BOUND
            a2.read_timeout = BOUND
            w1 = Worker(a1.recv, 5)
            w2 = Worker(a2.recv, 5)
            w1.start()
            w2.start()
            time.sleep(0.2)
            self.assertTrue(w1.is_alive() and w2.is_alive())
            b2.sendall(b"two")
            self.assertEqual(w2.result(), b"two")
            b1.sendall(b"one")
            self.assertEqual(w1.result(), b"one")


if __name__ == "__main__":
    unittest.main()

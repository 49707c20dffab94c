"""oxsock.poll and oxsock.Poller."""

from __future__ import annotations

import os
import time
import unittest

import oxsock
from oxsock import POLL_ERR, POLL_HUP, POLL_IN, POLL_INVALID, POLL_OUT

from .helpers import BOUND, Worker, tcp_pair


class Poll(unittest.TestCase):
    def setUp(self) -> None:
        self.a, self.b = oxsock.socketpair()
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)

    def test_nothing_ready_returns_empty(self) -> None:
        self.assertEqual(oxsock.poll([(self.a, POLL_IN)], 0), [])
        t0 = time.monotonic()
        self.assertEqual(oxsock.poll([(self.a, POLL_IN)], 0.05), [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.03)
        self.assertEqual(oxsock.poll([], 0), [])

    def test_returns_the_same_socket_objects(self) -> None:
        self.b.sendall(b"x")
        ready = oxsock.poll([(self.a, POLL_IN), (self.b, POLL_IN)], BOUND)
        self.assertEqual(len(ready), 1)
        self.assertIs(ready[0][0], self.a)
        self.assertEqual(ready[0][1], POLL_IN)
        ready = oxsock.poll([(self.a, POLL_OUT | POLL_IN), (self.b, POLL_OUT)], BOUND)
        self.assertEqual([(s is self.a, ev) for s, ev in ready], [(True, POLL_IN | POLL_OUT), (False, POLL_OUT)])

    def test_hangup_and_invalid(self) -> None:
        self.b.close()
        ready = oxsock.poll([(self.a, POLL_IN), (self.b, POLL_IN)], BOUND)
        self.assertEqual(len(ready), 2)
        self.assertIs(ready[0][0], self.a)
        self.assertTrue(ready[0][1] & POLL_HUP, ready)
        self.assertIs(ready[1][0], self.b)
        self.assertTrue(ready[1][1] & POLL_INVALID, ready)

    def test_tcp_peer_close_is_hup(self) -> None:
        c, s = tcp_pair()
        with c, s:
            c.close()
            ready = oxsock.poll([(s, POLL_IN)], BOUND)
            self.assertTrue(ready and ready[0][1] & POLL_HUP, ready)

    def test_wakes_when_data_arrives(self) -> None:
        def later() -> None:
            time.sleep(0.1)
            self.b.sendall(b"x")

        w = Worker(later)
        w.start()
        ready = oxsock.poll([(self.a, POLL_IN)], BOUND)
        w.result()
        self.assertEqual(ready, [(self.a, POLL_IN)])

    def test_bad_arguments(self) -> None:
        with self.assertRaises(ValueError):
            oxsock.poll([(self.a, POLL_IN)], -1)
        with self.assertRaises(TypeError):
            oxsock.poll([(self.a,)])
        with self.assertRaises(TypeError):
            oxsock.poll([self.a])
        with self.assertRaises(TypeError):
            oxsock.poll([(self.a, POLL_IN)], "1")
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.poll([(self.a, POLL_ERR)], 0)  # only IN and OUT may be asked for


class PollerTests(unittest.TestCase):
    def setUp(self) -> None:
        self.a, self.b = oxsock.socketpair()
        self.addCleanup(self.a.close)
        self.addCleanup(self.b.close)
        self.p = oxsock.Poller()
        self.addCleanup(self.p.close)

    def test_tokens(self) -> None:
        token = {"any": "object"}
        self.p.add(self.a, POLL_IN)
        self.p.add(self.b, POLL_IN, token)
        self.assertEqual(self.p.wait(0), [])
        self.b.sendall(b"1")
        ev = self.p.wait(BOUND)
        self.assertEqual(len(ev), 1)
        self.assertIs(ev[0][0], self.a, "a token of None stands for the Socket")
        self.assertEqual(ev[0][1], POLL_IN)
        self.a.sendall(b"2")
        self.assertEqual(self.a.recv(1), b"1")
        ev = self.p.wait(BOUND)
        self.assertEqual(len(ev), 1)
        self.assertIs(ev[0][0], token)

    def test_modify_and_remove(self) -> None:
        self.p.add(self.a, POLL_IN, "first")
        self.p.modify(self.a, POLL_OUT, "second")
        self.assertEqual(self.p.wait(BOUND), [("second", POLL_OUT)])
        self.p.modify(self.a, POLL_IN)
        self.assertEqual(self.p.wait(0), [])
        self.p.remove(self.a)
        self.b.sendall(b"x")
        self.assertEqual(self.p.wait(0), [])
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.remove(self.a)
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.modify(self.a, POLL_IN)
        self.p.add(self.a, POLL_IN)
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.add(self.a, POLL_IN)
        self.assertEqual(self.p.wait(0), [(self.a, POLL_IN)])

    def test_level_triggered_and_max_events(self) -> None:
        socks = [oxsock.socketpair() for _ in range(5)]
        try:
            for x, y in socks:
                self.p.add(x, POLL_IN)
                y.sendall(b"!")
            self.assertEqual(len(self.p.wait(BOUND, max_events=64)), 5)
            self.assertEqual(len(self.p.wait(BOUND, max_events=64)), 5, "level-triggered")
            self.assertEqual(len(self.p.wait(BOUND, max_events=2)), 2)
            with self.assertRaises(ValueError):
                self.p.wait(0, max_events=0)
            with self.assertRaises(TypeError):
                self.p.wait(0, max_events="3")
        finally:
            for x, y in socks:
                x.close()
                y.close()

    def test_closed_socket_leaves_the_poller(self) -> None:
        x, y = oxsock.socketpair()
        with y:
            self.p.add(x, POLL_IN)
            y.sendall(b"1")
            x.close()
            self.assertEqual(self.p.wait(0.05), [])
        # The binding forgets the tokens of closed (or detached) sockets too, so a
        # long-running server's Poller does not grow.
        for i in range(50):
            x, y = oxsock.socketpair()
            self.p.add(x, POLL_IN, ("token", i))
            y.close()
            if i % 2:
                x.close()
            else:
                os.close(x.detach())
        self.assertEqual(self.p._tokens, {})

    def test_wake_from_another_thread(self) -> None:
        self.p.add(self.a, POLL_IN)

        def wake() -> None:
            time.sleep(0.1)
            self.p.wake()

        w = Worker(wake)
        w.start()
        t0 = time.monotonic()
        self.assertEqual(self.p.wait(BOUND), [])
        self.assertLess(time.monotonic() - t0, BOUND - 1)
        w.result()
        self.p.wake()
        self.p.wake()
        self.assertEqual(self.p.wait(BOUND), [], "a wake is kept until the next wait")
        t0 = time.monotonic()
        self.assertEqual(self.p.wait(0.05), [], "several wakes count as one")
        self.assertGreaterEqual(time.monotonic() - t0, 0.03)

    def test_close_during_wait_raises_closed(self) -> None:
        w = Worker(self.p.wait, BOUND)
        w.start()
        time.sleep(0.2)
        self.p.close()
        with self.assertRaises(oxsock.Closed):
            w.result()

    def test_close_twice_and_calls_after_close(self) -> None:
        with oxsock.Poller() as p:
            p.add(self.a, POLL_IN)
            self.assertIn("oxsock.Poller", repr(p))
        self.assertTrue(p.closed)
        p.close()
        for call in (lambda: p.add(self.b, POLL_IN), lambda: p.modify(self.a, POLL_IN), lambda: p.remove(self.a),
                     lambda: p.wait(0), p.wake):
            with self.assertRaises(oxsock.Error) as cm:
                call()
            self.assertEqual(cm.exception.status, oxsock.Status.BAD_HANDLE)

    def test_bad_arguments(self) -> None:
        with self.assertRaises(TypeError):
            self.p.add("socket", POLL_IN)
        with self.assertRaises(TypeError):
            self.p.add(self.a, "in")
        with self.assertRaises(ValueError):
            self.p.wait(-0.5)
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.add(self.a, POLL_HUP)


if __name__ == "__main__":
    unittest.main()

"""§14 in Python: oxsock.resolve, addr_host, addr_unmap and Poller.add_fd/modify_fd/
remove_fd, with CPython's socket module as the independent peer and reference."""

from __future__ import annotations

import os
import socket
import tempfile
import unittest

import oxsock
from oxsock import POLL_HUP, POLL_IN, POLL_OUT, Status

from .helpers import BOUND, has_ipv6


def _cpython_order(host, service, family=0, flags=0):
    """CPython's getaddrinfo as oxsock address texts, one per address, in order."""
    out = []
    for fam, _, _, _, sa in socket.getaddrinfo(host, service, family, 0, 0, flags):
        text = f"{sa[0]}:{sa[1]}" if fam == socket.AF_INET else f"[{sa[0]}]:{sa[1]}"
        if text not in out:
            out.append(text)
    return out


class Resolve(unittest.TestCase):
    def test_numeric_hosts_and_ports(self) -> None:
        self.assertEqual(oxsock.resolve("127.0.0.1", 80), ["127.0.0.1:80"])
        self.assertEqual(oxsock.resolve("127.0.0.1", "80"), ["127.0.0.1:80"])
        self.assertEqual(oxsock.resolve("127.0.0.1"), ["127.0.0.1:0"])
        self.assertEqual(oxsock.resolve("::1", 443), ["[::1]:443"])
        self.assertEqual(oxsock.resolve("fe80::1%lo", 1), ["[fe80::1%lo]:1"])

    def test_service_names_as_getaddrinfo(self) -> None:
        self.assertEqual(oxsock.resolve("127.0.0.1", "http"), ["127.0.0.1:80"])
        self.assertEqual(oxsock.resolve("localhost", "http"), _cpython_order("localhost", "http"))
        self.assertEqual(oxsock.resolve("127.0.0.1", "syslog"), ["127.0.0.1:514"])  # UDP only

    def test_none_host_is_the_wildcard_in_getaddrinfo_order(self) -> None:
        want = _cpython_order(None, 8080, 0, socket.AI_PASSIVE)
        self.assertEqual(oxsock.resolve(None, 8080), want)
        self.assertEqual(oxsock.resolve(None, 8080, oxsock.INET), ["0.0.0.0:8080"])
        self.assertEqual(oxsock.resolve(None, None, oxsock.INET6), ["[::]:0"])
        with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as s:
            s.bind(oxsock.resolve(None, 0, oxsock.INET)[0])
            self.assertEqual(s.local_addr.split(":")[0], "0.0.0.0")

    def test_domain_filters_numeric_hosts_too(self) -> None:
        with self.assertRaises(oxsock.ResolveError) as cm:
            oxsock.resolve("127.0.0.1", 80, oxsock.INET6)
        self.assertEqual(cm.exception.status, Status.RESOLVE)
        with self.assertRaises(oxsock.ResolveError):
            oxsock.resolve("::1", 80, oxsock.INET)
        self.assertEqual(oxsock.resolve("127.0.0.1", 80, oxsock.INET), ["127.0.0.1:80"])

    def test_errors(self) -> None:
        with self.assertRaises(oxsock.AddressError):
            oxsock.resolve("[::1]", 80)
        with self.assertRaises(oxsock.AddressError):
            oxsock.resolve("", 80)
        with self.assertRaises(oxsock.ResolveError):
            oxsock.resolve("127.0.0.1", "no-such-service-oxs")
        with self.assertRaises(oxsock.ResolveError):
            oxsock.resolve("no-such-host.invalid", 80)
        with self.assertRaises(oxsock.AddressError):
            oxsock.resolve("127.0.0.1", "65536")
        with self.assertRaises(ValueError):
            oxsock.resolve("127.0.0.1", 65536)
        with self.assertRaises(TypeError):
            oxsock.resolve("127.0.0.1", True)
        with self.assertRaises(TypeError):
            oxsock.resolve(12, 80)  # type: ignore[arg-type]
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.resolve("127.0.0.1", 80, 99)
        with self.assertRaises(oxsock.Unsupported):
            oxsock.resolve("127.0.0.1", 80, oxsock.UNIX)


class HostText(unittest.TestCase):
    def test_addr_host_is_inet_ntop(self) -> None:
        for text, host in [
            ("127.0.0.1:80", "127.0.0.1"),
            ("[::1]:80", "::1"),
            ("[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1"),
            ("[::7f00:1]:80", "::127.0.0.1"),
            ("[2001:db8::1]:1", "2001:db8::1"),
        ]:
            self.assertEqual(oxsock.addr_host(text), host, text)
            fam = socket.AF_INET6 if text.startswith("[") else socket.AF_INET
            self.assertEqual(socket.inet_ntop(fam, socket.inet_pton(fam, host)), host)
        self.assertEqual(oxsock.addr_host("[fe80::1%lo]:80"), "fe80::1%lo")
        self.assertEqual(oxsock.addr_host("/run/x.sock"), "/run/x.sock")
        self.assertEqual(oxsock.addr_host("@abs"), "@abs")
        with self.assertRaises(oxsock.AddressError):
            oxsock.addr_host("example.org:80")

    def test_addr_unmap(self) -> None:
        self.assertEqual(oxsock.addr_unmap("[::ffff:127.0.0.1]:8080"), "127.0.0.1:8080")
        self.assertEqual(oxsock.addr_unmap("[::1]:80"), "[::1]:80")
        self.assertEqual(oxsock.addr_unmap("127.0.0.1:80"), "127.0.0.1:80")
        self.assertEqual(oxsock.addr_unmap("./x.sock"), "./x.sock")

    @unittest.skipUnless(has_ipv6(), "no IPv6 loopback")
    def test_dual_stack_peer_from_cpython(self) -> None:
        # A dual-stack listener on the v4-mapped loopback; CPython connects over IPv4.
        with oxsock.listen("tcp6://[::ffff:127.0.0.1]:0?v6only=0") as srv:
            port = int(srv.local_addr.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as c:
                conn, peer = srv.accept()
                with conn:
                    self.assertTrue(peer.startswith("[::ffff:127.0.0.1]:"), peer)
                    host, cport = c.getsockname()
                    self.assertEqual(oxsock.addr_unmap(peer), f"{host}:{cport}")
                    self.assertEqual(oxsock.addr_host(oxsock.addr_unmap(peer)), "127.0.0.1")
                    self.assertEqual(oxsock.addr_host(peer), "::ffff:127.0.0.1")


class ForeignDescriptors(unittest.TestCase):
    def setUp(self) -> None:
        self.p = oxsock.Poller()
        self.addCleanup(self.p.close)

    def pipe(self):
        r, w = os.pipe()
        self.addCleanup(_close_quietly, r)
        self.addCleanup(_close_quietly, w)
        return r, w

    def test_pipe_with_token_and_default_token(self) -> None:
        r, w = self.pipe()
        self.p.add_fd(r, POLL_IN)
        self.assertEqual(self.p.wait(0), [])
        os.write(w, b"x")
        self.assertEqual(self.p.wait(BOUND), [(r, POLL_IN)])  # token None: the fd
        self.assertEqual(self.p.wait(0), [(r, POLL_IN)])  # level-triggered
        self.p.modify_fd(r, POLL_IN, token="stdin-like")
        self.assertEqual(self.p.wait(BOUND), [("stdin-like", POLL_IN)])
        os.read(r, 1)
        self.assertEqual(self.p.wait(0), [])
        self.p.remove_fd(r)
        os.close(w)
        self.assertEqual(self.p.wait(0), [])

    def test_cpython_socket_next_to_an_oxsock_socket(self) -> None:
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        x, y = oxsock.socketpair()
        self.addCleanup(x.close)
        self.addCleanup(y.close)
        self.p.add_fd(a, POLL_IN, token="cpython")  # an object with fileno()
        self.p.add(x, POLL_IN, token="oxsock")
        b.sendall(b"1")
        y.sendall(b"2")
        seen = {}
        for _ in range(20):
            for tok, ev in self.p.wait(0.5):
                seen[tok] = ev
            if len(seen) == 2:
                break
        self.assertEqual(seen, {"cpython": POLL_IN, "oxsock": POLL_IN})
        b.close()
        self.assertTrue(dict(self.p.wait(BOUND)).get("cpython", 0) & POLL_HUP)
        self.p.remove_fd(a)

    def test_errors(self) -> None:
        r, w = self.pipe()
        dead = os.dup(r)
        os.close(dead)
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.add_fd(dead, POLL_IN)
        with oxsock.Socket(oxsock.INET, oxsock.DGRAM) as s:
            with self.assertRaises(oxsock.InvalidArgument):
                self.p.add_fd(s.fileno(), POLL_IN)  # owned by a live handle: use add()
        with tempfile.TemporaryFile() as f:
            with self.assertRaises(oxsock.Unsupported):
                self.p.add_fd(f, POLL_IN)
        self.p.add_fd(w, POLL_OUT)
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.add_fd(w, POLL_OUT)  # twice
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.modify_fd(r, POLL_IN)  # not there
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.remove_fd(r)
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.add_fd(r, 0x40)
        with self.assertRaises(TypeError):
            self.p.add_fd("3", POLL_IN)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            self.p.add_fd(True, POLL_IN)
        with self.assertRaises(ValueError):
            self.p.add_fd(2**40, POLL_IN)
        self.p.remove_fd(w)
        self.p.close()
        with self.assertRaises(oxsock.BadHandle):
            self.p.add_fd(r, POLL_IN)

    def test_removing_one_closed_while_registered(self) -> None:
        r, w = os.pipe()
        self.addCleanup(_close_quietly, w)
        self.p.add_fd(r, POLL_IN)
        os.write(w, b"x")
        os.close(r)
        self.assertEqual(self.p.wait(0), [(r, POLL_IN)])  # watched until removed
        self.p.remove_fd(r)  # still OXS_OK
        self.assertEqual(self.p.wait(0), [])
        with self.assertRaises(oxsock.InvalidArgument):
            self.p.remove_fd(r)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


if __name__ == "__main__":
    unittest.main()

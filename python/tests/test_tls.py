"""TLS through the binding (contract §11's TLS bullet, §12): TLSConfig, dial/listen
with ``tls=``, start_tls/accept_tls/do_handshake, the properties, TLSError and
CertificateError, against CPython's ``ssl`` module in both directions and against
oxsock itself. Certificates come from ``scripts/tls-test-certs.sh`` (OpenSSL CLI)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest
from typing import Optional

import oxsock

from .helpers import BOUND, CHECKOUT, Worker

CERTS: Optional[str] = None
_TMP: Optional[str] = None


def setUpModule() -> None:
    global CERTS, _TMP
    if shutil.which("openssl") is None:
        msg = "*** NOT TESTED: TLS tests need the openssl CLI ***"
        if os.environ.get("OXSOCK_REQUIRE_TOOLS") == "1":
            raise RuntimeError(msg)
        raise unittest.SkipTest(msg)
    _TMP = tempfile.mkdtemp(prefix="oxsock-tls-")
    CERTS = os.path.join(_TMP, "certs")
    subprocess.run(
        ["sh", os.path.join(CHECKOUT, "scripts", "tls-test-certs.sh"), CERTS], check=True, timeout=60
    )


def tearDownModule() -> None:
    if _TMP:
        shutil.rmtree(_TMP, True)


def c(name: str) -> str:
    assert CERTS is not None
    return os.path.join(CERTS, name)


class TLSConfigTests(unittest.TestCase):
    def test_errors_are_raised_at_once(self) -> None:
        with self.assertRaises(ValueError):
            oxsock.TLSConfig("both")
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.TLSConfig("client", verify="maybe")
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.TLSConfig("client", min_version="1.1")
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.TLSConfig("server", server_name="x.example")
        with self.assertRaises(oxsock.InvalidArgument):
            oxsock.TLSConfig("client", alpn=["h2", ""])
        with self.assertRaises(oxsock.TLSError) as cm:
            oxsock.TLSConfig("server", cert=c("garbage.pem"))
        self.assertIsInstance(cm.exception, ssl.SSLError)
        with self.assertRaises(oxsock.Error) as cm2:
            oxsock.TLSConfig("client", ca=c("missing.pem"))
        self.assertEqual(cm2.exception.errno, 2)
        with self.assertRaises(TypeError):
            oxsock.TLSConfig("client", alpn="h2")

    def test_close_twice_and_context_manager(self) -> None:
        with oxsock.TLSConfig("client", ca=[c("ca.pem"), c("other-ca.pem")]) as cfg:
            self.assertNotEqual(cfg.handle, 0)
        self.assertEqual(cfg.handle, 0)
        cfg.close()

    def test_key_mismatch_is_a_tls_error_when_used(self) -> None:
        with oxsock.TLSConfig("server", cert=c("server.pem"), key=c("rsa.key")) as cfg:
            with self.assertRaises(oxsock.TLSError):
                oxsock.listen("tls://127.0.0.1:0", tls=cfg)


class TLSWithCPython(unittest.TestCase):
    def test_oxsock_client_cpython_server(self) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(c("server.pem"), c("server.key"))
        ctx.set_alpn_protocols(["http/1.1"])
        srv = socket.create_server(("127.0.0.1", 0))
        port = srv.getsockname()[1]

        def serve() -> bytes:
            conn, _ = srv.accept()
            with ctx.wrap_socket(conn, server_side=True) as t:
                data = t.recv(100)
                t.sendall(data.upper())
                t.unwrap()
                return data

        w = Worker(serve)
        w.start()
        with oxsock.TLSConfig("client", ca=c("ca.pem"), alpn=["h2", "http/1.1"]) as cfg:
            with oxsock.dial(f"tls://localhost:{port}", timeout=BOUND, tls=cfg) as s:
                s.sendall(b"hello")
                self.assertEqual(s.recv_exact(5), b"HELLO")
                self.assertEqual(s.tls_version, "TLSv1.3")
                self.assertTrue(s.tls_cipher and s.tls_cipher.startswith("TLS_"))
                self.assertEqual(s.alpn_protocol, "http/1.1")
                self.assertEqual(s.tls_server_name, "localhost")
                der = s.peer_certificate
                self.assertIsNotNone(der)
                with open(c("server.pem")) as f:
                    self.assertEqual(der, ssl.PEM_cert_to_DER_cert(f.read()))
                self.assertEqual(s.getopt(oxsock.Option.TLS), oxsock.TLS_CLIENT)
                s.shutdown(oxsock.SHUT_WRITE)
                self.assertEqual(s.recv(10), b"")  # CPython's close_notify
        self.assertEqual(w.result(), b"hello")
        srv.close()

    def test_cpython_client_oxsock_server_with_client_certificate(self) -> None:
        with oxsock.TLSConfig(
            "server", cert=c("server.pem"), key=c("server.key"), ca=c("ca.pem"), verify="require"
        ) as cfg:
            lst = oxsock.listen("tls://127.0.0.1:0", tls=cfg)
        port = int(lst.local_addr.rsplit(":", 1)[1])

        def client() -> bytes:
            ctx = ssl.create_default_context(cafile=c("ca.pem"))
            ctx.load_cert_chain(c("client.pem"), c("client.key"))
            with socket.create_connection(("127.0.0.1", port), timeout=BOUND) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                    t.sendall(b"ping")
                    return t.recv(10)

        w = Worker(client)
        w.start()
        conn, _ = lst.accept()
        with conn:
            conn.read_timeout = BOUND
            self.assertIsNone(conn.tls_version)  # the handshake has not run yet
            self.assertEqual(conn.recv_exact(4), b"ping")
            self.assertEqual(conn.tls_server_name, "localhost")
            self.assertIsNotNone(conn.peer_certificate)
            conn.sendall(b"pong")
        self.assertEqual(w.result(), b"pong")
        lst.close()

    def test_certificate_errors(self) -> None:
        with oxsock.listen(f"tls://127.0.0.1:0?cert={c('expired.pem')}&key={c('expired.key')}") as lst:
            port = int(lst.local_addr.rsplit(":", 1)[1])
            def serve() -> None:
                conn, _ = lst.accept()
                with conn:
                    conn.read_timeout = BOUND
                    with self.assertRaises(oxsock.CertificateError):
                        conn.recv(10)  # the client's alert: it rejected our certificate

            w = Worker(serve)
            w.start()
            with oxsock.TLSConfig("client", ca=c("ca.pem")) as cfg:
                with self.assertRaises(oxsock.CertificateError) as cm:
                    oxsock.dial(f"tls://localhost:{port}", timeout=BOUND, tls=cfg)
            self.assertIsInstance(cm.exception, ssl.SSLCertVerificationError)
            self.assertIn("expired", str(cm.exception))
            w.result()


class TLSUpgrades(unittest.TestCase):
    def test_starttls_and_nonblocking_handshake(self) -> None:
        lst = oxsock.listen("tcp://127.0.0.1:0")
        scfg = oxsock.TLSConfig("server", cert=c("server.pem"), key=c("server.key"))

        def server() -> bytes:
            conn, _ = lst.accept()
            with conn:
                self.assertEqual(conn.recv_exact(9), b"STARTTLS\n")
                conn.sendall(b"OK\n")
                conn.accept_tls(scfg)
                data = conn.recv_exact(3)
                conn.sendall(data)
                return data

        w = Worker(server)
        w.start()
        with oxsock.TLSConfig("client", ca=c("ca.pem")) as cfg:
            with oxsock.dial(f"tcp://{lst.local_addr}", timeout=BOUND) as s:
                s.sendall(b"STARTTLS\n")
                self.assertEqual(s.recv_exact(3), b"OK\n")
                s.setopt(oxsock.Option.NONBLOCKING, 1)
                try:
                    s.start_tls(cfg, server_name="localhost")
                except BlockingIOError:
                    pass  # usual: the rest of the handshake comes in do_handshake
                for _ in range(200):
                    oxsock.poll([(s, oxsock.POLL_IN)], timeout=1.0)
                    try:
                        s.do_handshake()
                        break
                    except BlockingIOError:
                        continue
                self.assertEqual(s.tls_version, "TLSv1.3")
                s.setopt(oxsock.Option.NONBLOCKING, 0)
                s.sendall(b"abc")
                s.read_timeout = BOUND
                self.assertEqual(s.recv_exact(3), b"abc")
                with self.assertRaises(oxsock.Unsupported):
                    s.start_tls(cfg, server_name="localhost")
        self.assertEqual(w.result(), b"abc")
        scfg.close()
        lst.close()

    def test_plain_socket_properties_are_none(self) -> None:
        a, b = oxsock.socketpair()
        with a, b:
            self.assertIsNone(a.tls_version)
            self.assertIsNone(a.peer_certificate)
            self.assertEqual(a.getopt(oxsock.Option.TLS_WANTS), 0)
            with self.assertRaises(oxsock.Unsupported):
                a.do_handshake()


if __name__ == "__main__":
    unittest.main()

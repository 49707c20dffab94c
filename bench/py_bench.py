"""Contenders (c) and (d): the benchmark workloads in Python.

    python3 py_bench.py cpython|oxsock <workload> [secs|n] [extra]

prints "metric <name> <value> <unit>" lines, like the C programs. The code of each
workload is written once and runs over one of two small adapters, so that CPython's
`socket` module and the oxsock binding execute the same Python: the hot loops call the same
methods (`sendall`, `recv_into`, `send`, `recvfrom`, `sendto`, `accept`, `close`), which both
modules have with the same meaning; only the set-up (making a listener, connecting)
differs, and it is written as a careful programmer writes it for each module. Same process
structure as the C programs: fork, the child serves.
"""

import os
import resource
import sys
import time

MSG = 64
CHUNK = 256 * 1024
CHECK_EVERY = 64


def die(msg):
    sys.stderr.write(f"py_bench: {msg}\n")
    sys.exit(2)


class CPython:
    """Careful code for the standard library `socket` module."""

    def __init__(self):
        import socket

        self.m = socket
        self.blocking_error = BlockingIOError

    def tcp_listener(self, backlog, nodelay=False):
        s = self.m.socket(self.m.AF_INET, self.m.SOCK_STREAM)
        s.setsockopt(self.m.SOL_SOCKET, self.m.SO_REUSEADDR, 1)
        if nodelay:
            s.setsockopt(self.m.IPPROTO_TCP, self.m.TCP_NODELAY, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(backlog)
        return s, s.getsockname()[1]

    def tcp_connect(self, port, nodelay=False):
        s = self.m.socket(self.m.AF_INET, self.m.SOCK_STREAM)
        if nodelay:
            s.setsockopt(self.m.IPPROTO_TCP, self.m.TCP_NODELAY, 1)
        s.connect(("127.0.0.1", port))
        return s

    def setup_connector(self, port, by_addr):
        m, addr = self.m, ("127.0.0.1", port)

        def once():
            s = m.socket(m.AF_INET, m.SOCK_STREAM)
            s.connect(addr)
            s.close()

        return once

    def udp_server(self):
        u = self.m.socket(self.m.AF_INET, self.m.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        return u, u.getsockname()[1]

    def udp_client(self, port):
        s = self.m.socket(self.m.AF_INET, self.m.SOCK_DGRAM)
        s.connect(("127.0.0.1", port))
        return s

    def unix_listener(self, path):
        s = self.m.socket(self.m.AF_UNIX, self.m.SOCK_STREAM)
        s.bind(path)
        s.listen(16)
        return s

    def unix_connect(self, path):
        s = self.m.socket(self.m.AF_UNIX, self.m.SOCK_STREAM)
        s.connect(path)
        return s

    def unix_done(self, path):
        os.unlink(path)

    def shut_write(self, s):
        s.shutdown(self.m.SHUT_WR)

    def getopt_calls(self, s):
        m = self.m
        return (
            lambda: s.getsockopt(m.IPPROTO_TCP, m.TCP_NODELAY),
            lambda: s.getsockopt(m.SOL_SOCKET, m.SO_TYPE),
        )

    def dontwait(self):
        return self.m.MSG_DONTWAIT

    def new_socket(self):
        return self.m.socket(self.m.AF_INET, self.m.SOCK_STREAM)

    def many_server(self, expect):
        """Workload 6 server: one thread, select.epoll, non-blocking sockets."""
        import select

        lst, port = self.tcp_listener(4096)
        lst.setblocking(False)
        lfd = lst.fileno()
        ep = select.epoll()
        ep.register(lfd, select.EPOLLIN)
        conns = {}
        print(f"port {port}", flush=True)
        closed = 0
        while closed < expect:
            for fd, _ev in ep.poll(-1, 1024):
                if fd == lfd:
                    while True:
                        try:
                            c, _ = lst.accept()
                        except BlockingIOError:
                            break
                        c.setblocking(False)
                        buf = bytearray(MSG)
                        conns[c.fileno()] = [c, buf, memoryview(buf), 0]
                        ep.register(c.fileno(), select.EPOLLIN)
                    continue
                k = conns[fd]
                try:
                    n = k[0].recv_into(k[2][k[3] :])
                except BlockingIOError:
                    continue
                except OSError:
                    n = 0
                if n:
                    k[3] += n
                    if k[3] == MSG:
                        k[3] = 0
                        try:
                            if k[0].send(k[1]) == MSG:
                                continue
                        except OSError:
                            pass
                    else:
                        continue
                ep.unregister(fd)
                k[0].close()
                del conns[fd]
                closed += 1


class Oxsock:
    """Careful code for the oxsock binding (API.md section 11)."""

    def __init__(self):
        import oxsock

        self.m = oxsock
        self.blocking_error = BlockingIOError

    def tcp_listener(self, backlog, nodelay=False):
        q = f"?backlog={backlog}" + ("&nodelay=1" if nodelay else "")
        s = self.m.listen("tcp://127.0.0.1:0" + q)
        return s, int(s.local_addr.rsplit(":", 1)[1])

    def tcp_connect(self, port, nodelay=False):
        return self.m.dial(f"tcp://127.0.0.1:{port}" + ("?nodelay=1" if nodelay else ""))

    def setup_connector(self, port, by_addr):
        m = self.m
        if by_addr:
            addr, inet, stream, sock = f"127.0.0.1:{port}", m.INET, m.STREAM, m.Socket

            def once():
                s = sock(inet, stream)
                s.connect(addr)
                s.close()

        else:
            ep, dial = f"tcp://127.0.0.1:{port}", m.dial

            def once():
                dial(ep).close()

        return once

    def udp_server(self):
        u = self.m.listen("udp://127.0.0.1:0")
        return u, int(u.local_addr.rsplit(":", 1)[1])

    def udp_client(self, port):
        return self.m.dial(f"udp://127.0.0.1:{port}")

    def unix_listener(self, path):
        return self.m.listen("unix://" + path)

    def unix_connect(self, path):
        return self.m.dial("unix://" + path)

    def unix_done(self, path):
        pass  # closing the listener removed the file

    def shut_write(self, s):
        s.shutdown(self.m.SHUT_WRITE)

    def getopt_calls(self, s):
        o = self.m.Option
        nodelay, typ = o.NODELAY, o.TYPE
        return (lambda: s.getopt(nodelay), lambda: s.getopt(typ))

    def dontwait(self):
        return self.m.MSG_DONTWAIT

    def new_socket(self):
        return self.m.Socket(self.m.INET, self.m.STREAM)

    def many_server(self, expect):
        """Workload 6 server: one thread, oxsock.Poller; accepted sockets stay blocking
        and every call passes MSG_DONTWAIT (no extra system call)."""
        m = self.m
        lst, port = self.tcp_listener(4096)
        lst.setopt(m.Option.NONBLOCKING, 1)
        poller = m.Poller()
        poller.add(lst, m.POLL_IN, None)
        dontwait = m.MSG_DONTWAIT
        print(f"port {port}", flush=True)
        closed = 0
        while closed < expect:
            for tok, _ev in poller.wait(None, 1024):
                if tok is lst:
                    while True:
                        try:
                            c, _ = lst.accept()
                        except BlockingIOError:
                            break
                        buf = bytearray(MSG)
                        k = [c, buf, memoryview(buf), 0]
                        poller.add(c, m.POLL_IN, k)
                    continue
                k = tok
                try:
                    n = k[0].recv_into(k[2][k[3] :], 0, dontwait)
                except BlockingIOError:
                    continue
                except OSError:
                    n = 0
                if n:
                    k[3] += n
                    if k[3] == MSG:
                        k[3] = 0
                        try:
                            if k[0].send(k[1], dontwait) == MSG:
                                continue
                        except OSError:
                            pass
                    else:
                        continue
                k[0].close()  # also leaves the poller
                closed += 1


def cpu_self():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def cpu_children():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Meas:
    """One timed loop: wall time and the CPU time of client and server (as common.h)."""

    def __init__(self):
        # A launcher that exec'd this interpreter (pyenv's shim) may have had children.
        self.children0 = cpu_children()
        self.cpu0 = cpu_self()
        self.t0 = time.perf_counter()

    def elapsed(self):
        return time.perf_counter() - self.t0

    def end(self):
        self.t = time.perf_counter() - self.t0
        self.cpu = cpu_self() - self.cpu0

    def print(self, name, ops, scale, unit, cpu_div, cpu_unit):
        """After the server was reaped."""
        cpu = (self.cpu + cpu_children() - self.children0) * 1e9
        print(f"metric {name} {ops * scale / self.t:.6g} {unit}")
        print(f"metric {name}_cpu {cpu / ops / cpu_div:.6g} {cpu_unit}")
        print(f"metric {name}_ops {ops:.6g} ops")


def recv_exactly(s, view, n):
    """Fills view[:n] with recv_into; False on end of stream. The first call passes the
    whole bytearray (the usual case: the message arrives at once), later ones a slice."""
    got = s.recv_into(view.obj)
    if got == n:
        return True
    if got == 0:
        return False
    while got < n:
        k = s.recv_into(view[got:n])
        if k == 0:
            return False
        got += k
    return True


def fork_server(serve):
    """Forks; the child runs serve(send_line) and exits. Returns (pid, line)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:

            def send_line(text):
                os.write(w, text.encode())
                os.close(w)

            serve(send_line)
        except BaseException as e:  # noqa: BLE001 - report anything, then exit
            sys.stderr.write(f"py_bench server: {e!r}\n")
            code = 2
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 64)
        if not chunk:
            break
        data += chunk
    os.close(r)
    if not data:
        die("server did not start")
    return pid, data.decode().strip()


def reap(pid, kill=False):
    if kill:
        os.kill(pid, 9)
    _, st = os.waitpid(pid, 0)
    if not kill and st != 0:
        die(f"server exited with status {st}")


def echo_server(c):
    buf = bytearray(MSG)
    view = memoryview(buf)
    while recv_exactly(c, view, MSG):
        c.sendall(buf)
    c.close()


def pingpong_client(s, secs, m):
    buf = bytearray(b"x" * MSG)
    view = memoryview(buf)
    n = 0
    while True:
        for _ in range(CHECK_EVERY):
            s.sendall(buf)
            if not recv_exactly(s, view, MSG):
                die("server closed")
        n += CHECK_EVERY
        if m.elapsed() >= secs:
            break
    m.end()
    s.close()
    return n


def w_tcp_pingpong(a, secs):
    def serve(send_line):
        lst, port = a.tcp_listener(16, nodelay=True)
        send_line(f"{port}\n")
        c, _ = lst.accept()
        lst.close()
        echo_server(c)

    pid, line = fork_server(serve)
    s = a.tcp_connect(int(line), nodelay=True)
    m = Meas()
    n = pingpong_client(s, secs, m)
    reap(pid)
    m.print("tcp_pingpong", n, 1, "rt/s", 1, "ns/rt")


def w_bulk(a, secs):
    def serve(send_line):
        lst, port = a.tcp_listener(16)
        send_line(f"{port}\n")
        c, _ = lst.accept()
        lst.close()
        buf = bytearray(CHUNK)
        total = 0
        while True:
            n = c.recv_into(buf)
            if n == 0:
                break
            total += n
        c.sendall(total.to_bytes(8, "little"))
        c.close()

    pid, line = fork_server(serve)
    s = a.tcp_connect(int(line))
    data = b"b" * CHUNK
    sent = 0
    m = Meas()
    while True:
        s.sendall(data)
        sent += CHUNK
        if m.elapsed() >= secs:
            break
    a.shut_write(s)
    ack = bytearray(8)
    if not recv_exactly(s, memoryview(ack), 8) or int.from_bytes(ack, "little") != sent:
        die("bulk: receiver total differs")
    m.end()
    s.close()
    reap(pid)
    m.print("bulk", sent / 1048576, 1 / 1024, "GiB/s", 1000, "us/MiB")


def w_setup(a, secs, by_addr):
    def serve(send_line):
        lst, port = a.tcp_listener(4096)
        send_line(f"{port}\n")
        while True:
            c, _ = lst.accept()
            c.close()

    pid, line = fork_server(serve)
    once = a.setup_connector(int(line), by_addr)
    n = 0
    m = Meas()
    while True:
        for _ in range(16):
            once()
        n += 16
        if m.elapsed() >= secs:
            break
    m.end()
    reap(pid, kill=True)
    m.print("setup_addr" if by_addr else "setup", n, 1, "conn/s", 1, "ns/conn")


def w_udp(a, secs):
    def serve(send_line):
        u, port = a.udp_server()
        send_line(f"{port}\n")
        while True:
            data, addr = u.recvfrom(2048)
            if len(data) != MSG:
                break
            u.sendto(data, addr)
        u.close()

    pid, line = fork_server(serve)
    s = a.udp_client(int(line))
    buf = bytearray(b"u" * 2048)
    msg = bytes(MSG)
    n = 0
    m = Meas()
    while True:
        for _ in range(CHECK_EVERY):
            s.send(msg)
            if s.recv_into(buf) != MSG:
                die("udp: short datagram")
        n += CHECK_EVERY
        if m.elapsed() >= secs:
            break
    m.end()
    s.send(b"!")
    s.close()
    reap(pid)
    m.print("udp", n, 1, "rt/s", 1, "ns/rt")


def w_unix_pingpong(a, secs, path):
    if os.path.exists(path):
        os.unlink(path)

    def serve(send_line):
        lst = a.unix_listener(path)
        send_line("ready\n")
        c, _ = lst.accept()
        lst.close()
        a.unix_done(path)
        echo_server(c)

    pid, _ = fork_server(serve)
    s = a.unix_connect(path)
    m = Meas()
    n = pingpong_client(s, secs, m)
    reap(pid)
    m.print("unix_pingpong", n, 1, "rt/s", 1, "ns/rt")


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


def w_mem(a, n):
    raise_nofile()
    socks = [None] * n
    a.new_socket().close()
    r0 = rss_bytes()
    for i in range(n):
        socks[i] = a.new_socket()
    r1 = rss_bytes()
    for s in socks:
        s.close()
    print(f"metric mem_rss {(r1 - r0) / n:.6g} B/handle")


def w_getopt(a, iters):
    lst, port = a.tcp_listener(16)
    s = a.tcp_connect(port)
    c, _ = lst.accept()
    nodelay, typ = a.getopt_calls(s)
    buf = bytearray(MSG)
    flag = a.dontwait()
    clock = time.perf_counter_ns
    # Rounds of ROUND calls, the three probes interleaved; each figure is its fastest
    # round (round 0 warms up), as in the C programs.
    ROUND = 200
    best = [float("inf")] * 3

    def eagain():
        try:
            s.recv_into(buf, MSG, flag)
        except BlockingIOError:
            return
        die("recv should fail with BlockingIOError")

    probes = (nodelay, typ, eagain)
    loop = range(ROUND)
    for rnd in range(iters // ROUND + 1):
        for k, probe in enumerate(probes):
            t0 = clock()
            for _ in loop:
                probe()
            d = (clock() - t0) / ROUND
            if rnd and d < best[k]:
                best[k] = d
    print(f"metric getopt_nodelay {best[0]:.6g} ns/call")
    print(f"metric getopt_type {best[1]:.6g} ns/call")
    print(f"metric recv_eagain {best[2]:.6g} ns/call")
    c.close()
    s.close()
    lst.close()


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv):
    if len(argv) < 3:
        die("usage: py_bench.py cpython|oxsock <workload> [secs|n] [extra]")
    a = {"cpython": CPython, "oxsock": Oxsock}[argv[1]]()
    w = argv[2]
    num = float(argv[3]) if len(argv) > 3 else 1.0
    if w == "tcp_pingpong":
        w_tcp_pingpong(a, num)
    elif w == "bulk":
        w_bulk(a, num)
    elif w in ("setup", "setup_addr"):
        w_setup(a, num, w == "setup_addr")
    elif w == "udp":
        w_udp(a, num)
    elif w == "unix_pingpong":
        w_unix_pingpong(a, num, argv[4])
    elif w == "many_server":
        raise_nofile()
        a.many_server(int(num))
    elif w == "mem":
        w_mem(a, int(num))
    elif w == "getopt":
        w_getopt(a, int(num))
    elif w == "udp_recv":
        import py_bench_msg  # the §13 workloads (issue 14)

        py_bench_msg.w_udp_recv(a, argv[1], num, argv[4])
    elif w == "sendfile":
        import py_bench_msg

        py_bench_msg.w_sendfile(a, num, argv[4])
    else:
        die(f"unknown workload {w}")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)

"""The §13 workloads of py_bench.py (issue 14).

    udp_recv SECS POSIX  drain a full queue of 64-byte datagrams (filled by `POSIX
                         udp_blast`, the same for every contender), timed: CPython with
                         a `recvfrom` loop, oxsock with `recv_batch(64)`
    sendfile SECS FILE   `sendfile(file)` of the whole FILE, again and again, to a TCP
                         receiver (CPython's socket.sendfile and oxsock's Socket.sendfile)
"""

import os

import py_bench as pb

BATCH = 64
ROOM = 2048


SO_RCVBUFFORCE = 33  # Linux; CPython's socket module does not name it
QUEUE = 64 << 20


def w_udp_recv(a, impl, secs, posix):
    """Cycles for SECS: `posix udp_blast` fills the queue (40,000 datagrams), then the
    queue is drained, timed, until the socket would block: CPython with `recvfrom`, oxsock
    with `recv_batch(64)`, each touching every datagram's data, address and size."""
    import socket
    import subprocess

    u, port = a.udp_server()
    try:
        u.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, QUEUE)
    except OSError:
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, QUEUE)
    u.setblocking(False) if impl == "cpython" else u.setopt(a.m.Option.NONBLOCKING, 1)
    fill = [posix, "udp_blast", str(port), "40000"]
    n = 0
    t = cpu = 0.0
    start = pb.time.perf_counter()
    cycle = 0
    while pb.time.perf_counter() - start < secs or cycle < 4:
        cycle += 1
        subprocess.run(fill, check=True)
        c0, t0 = pb.cpu_self(), pb.time.perf_counter()
        if impl == "cpython":
            recvfrom = u.recvfrom
            try:
                while True:
                    data, addr = recvfrom(ROOM)
                    n += 1
            except BlockingIOError:
                pass
        else:
            recv_batch = u.recv_batch
            try:
                while True:
                    batch = recv_batch(BATCH, ROOM)
                    for data, addr, size in batch:  # what a server touches
                        pass
                    n += len(batch)
            except BlockingIOError:
                pass
        t += pb.time.perf_counter() - t0
        cpu += pb.cpu_self() - c0
    u.close()
    print(f"metric udp_recv {n / t:.6g} dgram/s")
    print(f"metric udp_recv_cpu {cpu * 1e9 / n:.6g} ns")
    print(f"metric udp_recv_ops {n:.6g} ops")


def w_sendfile(a, secs, path):
    def serve(send_line):
        lst, port = a.tcp_listener(4)
        send_line(f"{port}\n")
        c, _ = lst.accept()
        lst.close()
        buf = bytearray(pb.CHUNK)
        total = 0
        while True:
            k = c.recv_into(buf)
            if k == 0:
                break
            total += k
        c.sendall(total.to_bytes(8, "little"))
        c.close()

    pid, line = pb.fork_server(serve)
    s = a.tcp_connect(int(line))
    size = os.path.getsize(path)
    sent = 0
    with open(path, "rb") as f:
        m = pb.Meas()
        while True:
            if s.sendfile(f, 0) != size:
                pb.die("sendfile: short")
            sent += size
            if m.elapsed() >= secs:
                break
        a.shut_write(s)
        ack = bytearray(8)
        if not pb.recv_exactly(s, memoryview(ack), 8) or int.from_bytes(ack, "little") != sent:
            pb.die("sendfile: receiver total differs")
        m.end()
    s.close()
    pb.reap(pid)
    m.print("sendfile", sent / 1048576, 1, "MiB/s", 1000, "us/MiB")

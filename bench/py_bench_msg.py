"""The §13 workloads of py_bench.py (issue 14).

    udp_recv SECS        receive 64-byte datagrams for SECS: CPython with a `recvfrom`
                         loop, oxsock with `recv_batch(64)` (its data, address and size
                         per datagram, as `recvfrom` gives them); the source is
                         `posix udp_blast`, the same for every contender
    sendfile SECS FILE   `sendfile(file)` of the whole FILE, again and again, to a TCP
                         receiver (CPython's socket.sendfile and oxsock's Socket.sendfile)
"""

import os

import py_bench as pb

BATCH = 64
ROOM = 2048


def w_udp_recv(a, impl, secs):
    u, port = a.udp_server()
    if impl == "cpython":
        u.setsockopt(a.m.SOL_SOCKET, a.m.SO_RCVBUF, 4 << 20)
    else:
        u.setopt(a.m.Option.RECV_BUFFER, 4 << 20)
    print(f"port {port}", flush=True)
    n = 0
    if impl == "cpython":
        recvfrom = u.recvfrom
        recvfrom(ROOM)  # the source runs
        m = pb.Meas()
        while True:
            for _ in range(BATCH):
                data, addr = recvfrom(ROOM)
            n += BATCH
            if m.elapsed() >= secs:
                break
    else:
        recv_batch = u.recv_batch
        recv_batch(1, ROOM)  # the source runs
        m = pb.Meas()
        while True:
            batch = recv_batch(BATCH, ROOM)
            for data, addr, size in batch:  # what a server touches, as recvfrom gives it
                pass
            n += len(batch)
            if m.elapsed() >= secs:
                break
    m.end()
    u.close()
    m.print("udp_recv", n, 1, "dgram/s", 1, "ns")


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
